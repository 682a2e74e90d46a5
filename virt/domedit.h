/* virt/domedit.h -- edits of a libvirt domain XML document
 * (libxml2) for spawn and restore: a new identity, new MAC addresses,
 * other vCPUs, memory or networks, and disks pointed elsewhere.
 *
 * Everything not edited is kept as it was. An edit that cannot be done
 * faithfully (--vcpus on a domain with NUMA cells) is an error naming what
 * is in the way, never a silent approximation.
 *
 * Threads: one virt_domedit per thread.
 */
#ifndef VIRT_DOMEDIT_H
#define VIRT_DOMEDIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/snap_error.h"

/* The namespace of the <metadata> element spawn leaves in a new domain. */
#define VIRT_DOMEDIT_NS "https://snapset.dev/xmlns/spawn/1"

typedef struct virt_domedit virt_domedit;

/* An RBD image as a libvirt network disk: what a volume connection (e.g.
 * Cinder's os-initialize_connection) names. Strings borrowed. */
typedef struct virt_rbd_source {
    const char *name;         /* "pool/image" */
    const char *const *hosts; /* monitors */
    const char *const *ports;
    size_t nhosts;
    bool auth_enabled;
    const char *auth_username;
    const char *secret_type; /* NULL: "ceph" */
    const char *secret_uuid; /* the libvirt secret holding the key */
    bool discard;
} virt_rbd_source;

/* Parses @xml. Returns a new document (virt_domedit_free()) or NULL. */
virt_domedit *virt_domedit_new(const char *xml, snap_error *err);
void virt_domedit_free(virt_domedit *d);

/* Returns the document as a new string (free()). */
char *virt_domedit_xml(virt_domedit *d, snap_error *err);

/* A new domain from an old one's XML: name and UUID replaced; what ties
 * it to the original or to a run of it goes: the run's id, device aliases,
 * generated socket paths and tap names, backing chains, dynamic security
 * labels, assigned graphics ports, the MAC addresses (libvirt makes new
 * ones), <sysinfo> and the old <metadata> (Nova's instance data). */
bool virt_domedit_identity(virt_domedit *d, const char *name, const char *uuid,
                           snap_error *err);

/* Records in <metadata> where the domain came from: set, original domain,
 * and whether its disks are linked clones of the set's copies. */
bool virt_domedit_origin(virt_domedit *d, const char *set_uuid,
                         const char *origin_uuid, bool linked, snap_error *err);

/* Adds to the origin virt_domedit_origin() recorded the template the
 * domain was spawned from. */
bool virt_domedit_origin_template(virt_domedit *d, const char *template_uuid,
                                  snap_error *err);

/* Adds to the origin the domain's state ("error": a spawn that failed and
 * was kept for inspection) and why (may be NULL). */
bool virt_domedit_origin_state(virt_domedit *d, const char *state,
                               const char *why, snap_error *err);

/* Reads what virt_domedit_origin() recorded; *@set_uuid is a new string
 * (free()) or NULL when the domain has no such record. */
bool virt_domedit_origin_get(virt_domedit *d, char **set_uuid, bool *linked,
                             snap_error *err);

/* File-backed serial and console devices and <log> files write to
 * "@dir/@name.console.log" instead of the original's file. */
bool virt_domedit_console(virt_domedit *d, const char *dir, const char *name,
                          snap_error *err);

bool virt_domedit_vcpus(virt_domedit *d, unsigned vcpus, snap_error *err);
bool virt_domedit_memory(virt_domedit *d, uint64_t kib, snap_error *err);

/* Replaces every <interface> by one per network in @networks (the model
 * of the first old interface, virtio when there was none). */
bool virt_domedit_networks(virt_domedit *d, const char *const *networks,
                           size_t n, snap_error *err);

/* The networks that the <interface type='network'> elements name:
 * *@names is a new array of new strings (free each, then the array). */
bool virt_domedit_network_names(virt_domedit *d, char ***names, size_t *n,
                                snap_error *err);

/* Points disk @target at the image @path of format @format. */
bool virt_domedit_disk_file(virt_domedit *d, const char *target,
                            const char *path, const char *format,
                            snap_error *err);

/* Points disk @target at the RBD image of @conn, with <serial> @serial (a
 * Cinder volume id), the way Nova's LibvirtNetVolumeDriver writes it. */
bool virt_domedit_disk_rbd(virt_domedit *d, const char *target,
                           const virt_rbd_source *conn, const char *serial,
                           snap_error *err);

#endif
