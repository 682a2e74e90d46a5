/* coordinator/ops/inuse.h -- the other side of delete: whether a set (or
 * a template, recorded as a set) is still in use by a domain or a volume,
 * and flatten, which makes a domain independent of the set. */
#ifndef OPS_INUSE_H
#define OPS_INUSE_H

#include <stdbool.h>

#include "common/snap_error.h"
#include "coordinator/coord_set.h"
#include "coordinator/ops/ctx.h"

/* ---- sets in use --------------------------------------------------------- */

/* Whether deleting @set would break something: a domain (running or not)
 * with a disk whose backing chain goes through one of the set's local
 * copies (a linked clone spawn made, not flattened), or a Cinder volume
 * made from one of its snapshots (with RBD a clone of it; Cinder refuses
 * to delete such a snapshot). Returns true, with @err set to a message
 * naming the domain or volume and what to do, when the set is in use;
 * also true, with @err set to the cause, when that cannot be told (so a
 * delete refuses rather than guesses). False, @err untouched, when nothing
 * depends on the set. *@domain (optional) receives what uses it, e.g.
 * "domain 'web2' (disk 'vda' is a linked clone)" (new string, free()).
 * For `delete` (and the rotation that calls it):
 *     if (ops_set_in_use(ctx, set, NULL, err))
 *         goto cleanup; */
bool ops_set_in_use(ops_ctx *ctx, const coord_set *set, char **domain,
                    snap_error *err);

/* Makes every disk of @domain that is a linked clone of a set's copy
 * independent (a running domain: libvirt block pull; a stopped one:
 * qemu-img rebase onto nothing). *@nflattened counts the disks. */
bool ops_flatten(ops_ctx *ctx, const char *domain, int *nflattened,
                 snap_error *err);

#endif
