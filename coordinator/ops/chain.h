/* coordinator/ops/chain.h -- incremental sets in the operations: planning
 * a new set's copies against its domain (coordinator/coord_chain.h decides,
 * virt/checkpoint.h reads the facts), keeping one checkpoint per domain,
 * and deleting a set that later copies stack on.
 *
 * Deleting set D when set C's copy of a disk stacks on D's: C's copy is
 * rebased, in qemu-img's safe mode, onto what D's copy stacked on (D's base,
 * or nothing), which copies into C every cluster C read from D; then C's
 * record says so; only then do D's files go. Rebase rather than commit
 * (D into C): rebase writes only the clusters C does not have, leaves D
 * intact until the end, so a kill at any point leaves every set that was
 * available readable (C's file reads the same before and after), and it
 * can simply be run again. Each step is journaled: D is `deleting` first,
 * C's record is rewritten after its rebase, and a delete run again (or
 * `recover`) finishes what a dead one left: a child is found by its
 * record and by the backing file its image really names.
 *
 * Callers hold the domain's catalog lock.
 */
#ifndef OPS_CHAIN_H
#define OPS_CHAIN_H

#include <stdbool.h>

#include "common/snap_error.h"
#include "coordinator/coord_set.h"
#include "coordinator/ops/ctx.h"

struct _virDomain;

/* Plans @set (members from the domain XML, set->dir and set->memory
 * known) against the catalog's sets of its domain and the domain's
 * checkpoints: which local copies are incremental, on which set, and why
 * the others are full (coord_chain_plan). A set with RAM state is all full
 * and makes no checkpoint (OPS_CHAIN_MEMORY_REASON). Reading the domain
 * may fail: then every copy is full with that reason; only running out of
 * memory fails. */
bool ops_chain_plan(ops_ctx *ctx, struct _virDomain *dom, coord_set *set,
                    snap_error *err);

/* Why a set with RAM state copies in full and makes no checkpoint: after
 * the memory save (a migration to file) QEMU's block nodes are inactive,
 * and a backup job that creates or reads bitmaps on them kills QEMU
 * (seen on QEMU 7.2: the monitor connection reset, the guest gone). */
#define OPS_CHAIN_MEMORY_REASON                                                \
    "a set with RAM state copies in full and makes no checkpoint (the "        \
    "disks are inactive in QEMU after the memory save)"

/* After @set became available: every other "snapset-" checkpoint of the
 * domain goes, so bitmaps never pile up in its images (all of them with
 * `incremental = false`). A failure is logged; the next set copies in
 * full if the one left is not its base. */
void ops_chain_trim(ops_ctx *ctx, struct _virDomain *dom, const coord_set *set);

/* The SHA-256 of file @path (for virt_disks.digest). */
bool ops_chain_digest(const char *path, char hex[COORD_SHA256_HEX],
                      snap_error *err);

/* Makes every copy that stacks on a local copy of @set (state DELETING,
 * saved) independent of it, as the top of this file says. @dom (NULL:
 * the domain is gone) is needed only to delete @set's own checkpoint. */
bool ops_chain_unlink(ops_ctx *ctx, struct _virDomain *dom, coord_set *set,
                      snap_error *err);

#endif
