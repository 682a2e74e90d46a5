/* coordinator/ops/domain.h -- the domains as restore, spawn and flatten see
 * them: a table of functions (ops_domain_ops), the way coord_job sees
 * coord_guest_ops. The real instance (ops_domain_libvirt) is virt/domain.c
 * over the context's libvirt connection; tests/fakes/fake_domain.c scripts
 * another, so every failure path can be driven without a VM.
 *
 * A domain is named by its UUID string between calls (no libvirt object
 * crosses this header). Every function gets the operation's context first
 * and, when it can fail, an error last; libvirt's failures carry libvirt's
 * own message (SNAP_E_VIRT), the caller says what it was doing. */
#ifndef OPS_DOMAIN_H
#define OPS_DOMAIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/snap_error.h"
#include "common/snap_uuid.h"
#include "coordinator/ops/ctx.h"

typedef enum ops_domain_state {
    OPS_DOMAIN_STATE_OFF = 0, /* not active */
    OPS_DOMAIN_STATE_RUNNING, /* active, not paused */
    OPS_DOMAIN_STATE_PAUSED,  /* active, its vCPUs paused */
} ops_domain_state;

#define OPS_DOMAIN_XML_INACTIVE 1u /* the persistent definition */
#define OPS_DOMAIN_XML_SECURE 2u   /* with passwords and secrets */

typedef struct ops_domain_ops {
    /* Domain @id (name, else UUID): its UUID, its name (optional, new
     * string). SNAP_E_NOTFOUND "no domain '<id>'" when there is none. */
    bool (*find)(ops_ctx *ctx, const char *id, char uuid[SNAP_UUID_LEN],
                 char **name, snap_error *err);
    /* 1 persistent, 0 transient, -1 error. */
    int (*persistent)(ops_ctx *ctx, const char *uuid, snap_error *err);
    bool (*state)(ops_ctx *ctx, const char *uuid, ops_domain_state *state,
                  snap_error *err);
    /* New string, OPS_DOMAIN_XML_* flags. */
    char *(*xml)(ops_ctx *ctx, const char *uuid, unsigned flags,
                 snap_error *err);
    /* Defines or redefines from @xml; *@uuid (optional) gets its UUID. */
    bool (*define)(ops_ctx *ctx, const char *xml, char uuid[SNAP_UUID_LEN],
                   snap_error *err);
    /* With managed save, snapshot and checkpoint metadata, NVRAM. */
    bool (*undefine)(ops_ctx *ctx, const char *uuid, snap_error *err);
    bool (*start)(ops_ctx *ctx, const char *uuid, snap_error *err);
    /* Starts, running, the domain a RAM state file @path holds. */
    bool (*start_saved)(ops_ctx *ctx, const char *path, snap_error *err);
    /* Asks the guest to power off (agent or ACPI); returns at once. */
    bool (*shutdown)(ops_ctx *ctx, const char *uuid, bool agent,
                     snap_error *err);
    /* Waits (bounded by @timeout_ms) until it is off; true when off. */
    bool (*wait_off)(ops_ctx *ctx, const char *uuid, int64_t timeout_ms);
    /* Forces it off; true when it is off afterwards. */
    bool (*destroy)(ops_ctx *ctx, const char *uuid, snap_error *err);
    bool (*agent_ping)(ops_ctx *ctx, const char *uuid, int64_t timeout_ms,
                       snap_error *err);
    /* 1 it has a managed save image, 0 not, -1 error. */
    int (*managed_save)(ops_ctx *ctx, const char *uuid, snap_error *err);
    bool (*managed_save_remove)(ops_ctx *ctx, const char *uuid,
                                snap_error *err);
    bool (*metadata_set)(ops_ctx *ctx, const char *uuid, const char *xml,
                         const char *key, const char *ns, bool live,
                         snap_error *err);
    /* Live block pull of disk @target, bounded; full messages. */
    bool (*block_pull)(ops_ctx *ctx, const char *uuid, const char *target,
                       int64_t timeout_ms, snap_error *err);
    /* Every domain's UUID: new array of new strings. */
    bool (*list)(ops_ctx *ctx, char ***uuids, size_t *n, snap_error *err);
    bool (*host_size)(ops_ctx *ctx, unsigned *cpus, uint64_t *memory_kib,
                      snap_error *err);
    /* Fails unless network @name exists and is active; full messages. */
    bool (*network_check)(ops_ctx *ctx, const char *name, snap_error *err);
    bool (*secret_exists)(ops_ctx *ctx, const char *uuid);
    /* Deletes the domain's checkpoints named @prefix*: after a restore
     * their bitmaps describe images that are gone (the next set is then
     * full). Only libvirt's record goes where the bitmaps are gone. May
     * be NULL (nothing to forget). */
    bool (*checkpoints_forget)(ops_ctx *ctx, const char *uuid,
                               const char *prefix, snap_error *err);
} ops_domain_ops;

/* libvirt, through virt/domain.c and ops_connect(). */
extern const ops_domain_ops ops_domain_libvirt;

/* The table @ctx uses: ctx->domain, or ops_domain_libvirt when unset. */
const ops_domain_ops *ops_domain(const ops_ctx *ctx);

#endif
