/* virt/domain.h -- a domain's life through libvirt: looked up, defined and
 * undefined, started and stopped (every wait bounded), its state, XML and
 * metadata, a live block pull; the host's size, its networks and secrets.
 * What coordinator/ops/domain.c adapts into the ops_domain_ops table that
 * restore, spawn and flatten are given.
 *
 * A domain is named by its UUID string (36 characters) between calls: each
 * function looks it up, acts and lets go, so no libvirt object crosses this
 * header. Errors carry libvirt's own message (SNAP_E_VIRT) unless written
 * otherwise; callers say what they were doing. Threads: one connection per
 * thread, as libvirt's. */
#ifndef VIRT_DOMAIN_H
#define VIRT_DOMAIN_H

#include <libvirt/libvirt.h>
#include <stdbool.h>
#include <stdint.h>

#include "common/snap_error.h"
#include "common/snap_uuid.h"

typedef enum virt_domain_state {
    VIRT_DOMAIN_STATE_OFF = 0, /* not active */
    VIRT_DOMAIN_STATE_RUNNING, /* active, not paused */
    VIRT_DOMAIN_STATE_PAUSED,  /* active, its vCPUs paused */
} virt_domain_state;

/* XML flags of virt_domain_xml(). */
#define VIRT_DOMAIN_XML_INACTIVE 1u /* the persistent definition */
#define VIRT_DOMAIN_XML_SECURE 2u   /* with passwords and secrets */

/* Finds domain @id (a name, else a UUID): its UUID into @uuid, its name
 * into *@name (optional, new string). SNAP_E_NOTFOUND "no domain '%s'". */
bool virt_domain_find(virConnectPtr conn, const char *id,
                      char uuid[SNAP_UUID_LEN], char **name, snap_error *err);

/* 1 persistent, 0 transient, -1 error (@err set). */
int virt_domain_persistent(virConnectPtr conn, const char *uuid,
                           snap_error *err);

bool virt_domain_state_get(virConnectPtr conn, const char *uuid,
                           virt_domain_state *state, snap_error *err);

/* Its XML (new string, free()), VIRT_DOMAIN_XML_* @flags. */
char *virt_domain_xml(virConnectPtr conn, const char *uuid, unsigned flags,
                      snap_error *err);

/* Defines (or redefines) a domain from @xml; *@uuid (optional) receives
 * its UUID. */
bool virt_domain_define(virConnectPtr conn, const char *xml,
                        char uuid[SNAP_UUID_LEN], snap_error *err);

/* Undefines it, with its managed save, snapshot and checkpoint metadata
 * and NVRAM. */
bool virt_domain_undefine(virConnectPtr conn, const char *uuid,
                          snap_error *err);

/* Starts it (virDomainCreate: from its managed save when it has one). */
bool virt_domain_start(virConnectPtr conn, const char *uuid, snap_error *err);

/* Starts a domain from a RAM state file @path (virDomainRestore), running. */
bool virt_domain_start_saved(virConnectPtr conn, const char *path,
                             snap_error *err);

/* Asks the guest to power off: through its agent (@agent) or the ACPI
 * power button. Returns at once. */
bool virt_domain_shutdown(virConnectPtr conn, const char *uuid, bool agent,
                          snap_error *err);

/* Waits up to @timeout_ms until it is not active; true when it is off. */
bool virt_domain_wait_off(virConnectPtr conn, const char *uuid,
                          int64_t timeout_ms);

/* Forces it off; true when it is off afterwards. */
bool virt_domain_destroy(virConnectPtr conn, const char *uuid, snap_error *err);

/* True when its guest agent answers within @timeout_ms. */
bool virt_domain_agent_ping(virConnectPtr conn, const char *uuid,
                            int64_t timeout_ms, snap_error *err);

/* 1 when it has a managed save image, 0 when not, -1 error. */
int virt_domain_managed_save(virConnectPtr conn, const char *uuid,
                             snap_error *err);
bool virt_domain_managed_save_remove(virConnectPtr conn, const char *uuid,
                                     snap_error *err);

/* Sets metadata element @xml (key @key, namespace @ns) in its
 * definition, and in the running domain too with @live. */
bool virt_domain_metadata_set(virConnectPtr conn, const char *uuid,
                              const char *xml, const char *key, const char *ns,
                              bool live, snap_error *err);

/* Pulls the backing chain of disk @target into it while the domain runs
 * (virDomainBlockPull), waiting up to @timeout_ms; past it the job is
 * aborted and SNAP_E_TIMEOUT returned. Errors are full messages. */
bool virt_domain_block_pull(virConnectPtr conn, const char *uuid,
                            const char *target, int64_t timeout_ms,
                            snap_error *err);

/* Every domain's UUID: *@uuids new array of new strings (free each, then
 * the array), *@n entries. */
bool virt_domain_list(virConnectPtr conn, char ***uuids, size_t *n,
                      snap_error *err);

/* The host's CPUs and memory (KiB). */
bool virt_host_size(virConnectPtr conn, unsigned *cpus, uint64_t *memory_kib,
                    snap_error *err);

/* Fails when network @name does not exist (SNAP_E_NOTFOUND) or is not
 * active (SNAP_E_STATE); full messages. */
bool virt_network_check(virConnectPtr conn, const char *name, snap_error *err);

/* True when libvirt has secret @uuid. */
bool virt_secret_exists(virConnectPtr conn, const char *uuid);

#endif
