/* virt/checkpoint.h -- the domain's libvirt checkpoints, for incremental
 * sets (coordinator/coord_chain.h): which exist, whether QEMU still has
 * their bitmaps, and deleting them.
 *
 * A checkpoint is libvirt's record plus a persistent dirty bitmap in each
 * qcow2 image it covers. The two can drift: a restore or a replaced image
 * drops the bitmap while libvirt keeps the record. Libvirt shows which
 * bitmaps QEMU really has: with VIR_DOMAIN_CHECKPOINT_XML_SIZE each disk
 * whose bitmap exists gets a size attribute, a disk whose bitmap is gone
 * gets none (measured on libvirt 9.0 / QEMU 7.2 by removing a bitmap over
 * QMP). That needs a running domain.
 */
#ifndef VIRT_CHECKPOINT_H
#define VIRT_CHECKPOINT_H

#include <libvirt/libvirt.h>
#include <stdbool.h>
#include <stddef.h>

#include "common/snap_error.h"

/* Sets *@names / *@n (snap_strv_free()) to the names of the domain's
 * checkpoints that start with @prefix. */
bool virt_checkpoint_list(virDomainPtr dom, const char *prefix, char ***names,
                          size_t *n, snap_error *err);

/* Sets *@disks / *@n (snap_strv_free()) to the disks (targets) of
 * checkpoint @name whose bitmap QEMU still has. Fails when the checkpoint
 * is missing or the domain is not running. */
bool virt_checkpoint_bitmaps(virDomainPtr dom, const char *name, char ***disks,
                             size_t *n, snap_error *err);

/* Deletes checkpoint @name with its bitmaps. A checkpoint that is not
 * there is not an error. When libvirt cannot delete it because its
 * bitmaps are gone from the images (a restore replaced them), only
 * libvirt's record goes (VIR_DOMAIN_CHECKPOINT_DELETE_METADATA_ONLY). */
bool virt_checkpoint_delete(virDomainPtr dom, const char *name,
                            snap_error *err);

/* Deletes every checkpoint whose name starts with @prefix, except @keep
 * (NULL: none kept). Goes on after a failure; the first error is kept. */
bool virt_checkpoint_delete_all(virDomainPtr dom, const char *prefix,
                                const char *keep, snap_error *err);

#endif
