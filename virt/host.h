/* virt/host.h -- the host's domains as plain data, for the layers that see
 * no libvirt type (coordinator/serve/): a connection that reopens itself
 * when libvirtd went away, domain lookup, the list of domains with their
 * state and one metadata element, and who owns a domain. */
#ifndef VIRT_HOST_H
#define VIRT_HOST_H

#include <stdbool.h>
#include <stddef.h>

#include "common/snap_error.h"
#include "common/snap_uuid.h"

/* A libvirt connection, opened on first use and reopened when it died.
 * Not thread-safe: one thread at a time (the caller holds a lock). */
typedef struct virt_host virt_host;

/* Returns a new handle (@uri is copied; NULL: libvirt's default), nothing
 * opened yet, or NULL with @err set. Free with virt_host_free(). */
virt_host *virt_host_new(const char *uri, snap_error *err);

/* Closes the connection and frees @h (NULL: nothing). */
void virt_host_free(virt_host *h);

/* One domain found by virt_host_domain_find(): owned by the caller, free
 * with virt_host_domain_free(); valid while its virt_host is. */
typedef struct virt_host_domain virt_host_domain;

/* virt_host_domain_find() flags. */
#define VIRT_HOST_FIND_NAME 1u /* by name first, then by UUID */

/* Looks @id up: by UUID, or by name then UUID with VIRT_HOST_FIND_NAME.
 * Opens (or reopens) the connection first. Errors: SNAP_E_NOTFOUND "no
 * domain '@id'"; SNAP_E_VIRT when libvirt cannot be reached (virt_open()'s
 * message) or fails otherwise ("libvirt: <its message>"). */
virt_host_domain *virt_host_domain_find(virt_host *h, const char *id,
                                        unsigned flags, snap_error *err);

void virt_host_domain_free(virt_host_domain *d);

/* The domain's name (a new string into *@name) and its UUID into @uuid.
 * False with SNAP_E_NOMEM "cannot read domain '<id>'" (the id it was found
 * by) when libvirt cannot say. */
bool virt_host_domain_ident(const virt_host_domain *d, char **name,
                            char uuid[SNAP_UUID_LEN], snap_error *err);

/* Who owns the domain: see virt_domain_owner() in virt/virt.h (new strings,
 * NULL when unset). */
bool virt_host_domain_owner(virt_host_domain *d, char **project,
                            char **project_name, char **project_domain,
                            snap_error *err);

/* One domain of virt_host_list(). */
typedef struct virt_host_entry {
    char *name;
    char uuid[SNAP_UUID_LEN];
    bool active;
    char *metadata; /* the element of the namespace asked for, or NULL */
} virt_host_entry;

/* Every domain of the host (those whose name or UUID libvirt cannot read
 * are left out), in libvirt's order. With @metadata_ns, each entry's
 * metadata element of that namespace as XML text (NULL when it has none);
 * NULL: none read. *@out: virt_host_list_free(). Opens (or reopens) the
 * connection first; SNAP_E_VIRT when listing fails. */
bool virt_host_list(virt_host *h, const char *metadata_ns,
                    virt_host_entry **out, size_t *nout, snap_error *err);

void virt_host_list_free(virt_host_entry *e, size_t n);

/* For a connection that is not a virt_host (ops_ctx's): closes *@conn and
 * sets it to NULL when libvirtd went away, so the next ops_connect() opens
 * a new one. The type is libvirt's virConnectPtr, declared as libvirt
 * declares it so that this header needs no libvirt header. */
struct _virConnect;
void virt_conn_drop_dead(struct _virConnect **conn);

#endif
