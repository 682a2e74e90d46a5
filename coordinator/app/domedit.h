/* coordinator/app/domedit.h -- edits of a libvirt domain XML document
 * (libxml2) for spawn and restore: a new identity, new MAC addresses,
 * other vCPUs, memory or networks, and disks pointed elsewhere.
 *
 * Everything not edited is kept as it was. An edit that cannot be done
 * faithfully (--vcpus on a domain with NUMA cells) is an error naming what
 * is in the way, never a silent approximation.
 *
 * Threads: one app_domedit per thread.
 */
#ifndef APP_DOMEDIT_H
#define APP_DOMEDIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/snap_error.h"
#include "coordinator/app/os_attach.h"

/* The namespace of the <metadata> element spawn leaves in a new domain. */
#define APP_DOMEDIT_NS "https://snapset.dev/xmlns/spawn/1"

typedef struct app_domedit app_domedit;

/* Parses @xml. Returns a new document (app_domedit_free()) or NULL. */
app_domedit *app_domedit_new(const char *xml, snap_error *err);
void app_domedit_free(app_domedit *d);

/* Returns the document as a new string (free()). */
char *app_domedit_xml(app_domedit *d, snap_error *err);

/* A new domain from an old one's XML: name and UUID replaced; what ties
 * it to the original or to a run of it goes: the run's id, device aliases,
 * generated socket paths and tap names, backing chains, dynamic security
 * labels, assigned graphics ports, the MAC addresses (libvirt makes new
 * ones), <sysinfo> and the old <metadata> (Nova's instance data). */
bool app_domedit_identity(app_domedit *d, const char *name, const char *uuid,
                          snap_error *err);

/* Records in <metadata> where the domain came from: set, original domain,
 * and whether its disks are linked clones of the set's copies. */
bool app_domedit_origin(app_domedit *d, const char *set_uuid,
                        const char *origin_uuid, bool linked, snap_error *err);

/* Reads what app_domedit_origin() recorded; *@set_uuid is a new string
 * (free()) or NULL when the domain has no such record. */
bool app_domedit_origin_get(app_domedit *d, char **set_uuid, bool *linked,
                            snap_error *err);

/* File-backed serial and console devices and <log> files write to
 * "@dir/@name.console.log" instead of the original's file. */
bool app_domedit_console(app_domedit *d, const char *dir, const char *name,
                         snap_error *err);

bool app_domedit_vcpus(app_domedit *d, unsigned vcpus, snap_error *err);
bool app_domedit_memory(app_domedit *d, uint64_t kib, snap_error *err);

/* Replaces every <interface> by one per network in @networks (the model
 * of the first old interface, virtio when there was none). */
bool app_domedit_networks(app_domedit *d, const char *const *networks, size_t n,
                          snap_error *err);

/* The networks that the <interface type='network'> elements name:
 * *@names is a new array of new strings (free each, then the array). */
bool app_domedit_network_names(app_domedit *d, char ***names, size_t *n,
                               snap_error *err);

/* Points disk @target at the image @path of format @format. */
bool app_domedit_disk_file(app_domedit *d, const char *target, const char *path,
                           const char *format, snap_error *err);

/* Points disk @target at the RBD image of @conn, with <serial> @serial (a
 * Cinder volume id), the way Nova's LibvirtNetVolumeDriver writes it. */
bool app_domedit_disk_rbd(app_domedit *d, const char *target,
                          const app_osvol_conn *conn, const char *serial,
                          snap_error *err);

#endif
