/* coordinator/coord_chain.h -- incremental sets: which local member of a
 * new set may copy only what changed, and on which earlier copy it stacks.
 *
 * A set's backup job also creates a libvirt checkpoint, "snapset-<set>",
 * with a persistent dirty bitmap in every local qcow2 disk. The next set of
 * the domain copies, for each such disk, only the clusters that bitmap
 * marks, into a qcow2 overlay whose backing file is the previous set's
 * copy of that disk ("../<previous set>/vdb.qcow2", relative, so the
 * catalog can move). Only the newest checkpoint stays on the domain.
 *
 * An incremental copy is only as right as the chain under it, so a member
 * is copied in full (and the set says why) whenever the chain cannot be
 * trusted: coord_chain_plan() decides that, from the catalog and from facts
 * the caller read off the domain (ops/chain.c reads them through virt/).
 *
 * Pure code over coord_set: no I/O, no libvirt. Not thread-safe per set.
 */
#ifndef COORD_CHAIN_H
#define COORD_CHAIN_H

#include <stdbool.h>
#include <stddef.h>

#include "common/snap_error.h"
#include "coordinator/coord_set.h"

#define COORD_CHAIN_CP_PREFIX "snapset-"
#define COORD_CHAIN_CP_LEN (sizeof(COORD_CHAIN_CP_PREFIX) - 1 + SNAP_UUID_LEN)

/* The checkpoint name of set @uuid: "snapset-<uuid>". */
void coord_chain_cp_name(const char *uuid, char out[COORD_CHAIN_CP_LEN]);

/* The set a new set of domain @domain_uuid would build on: the newest
 * (created_ms, then uuid) of @sets that belongs to that domain, recorded a
 * checkpoint, and neither failed nor is being deleted; @self (a uuid, or
 * NULL) is skipped. NULL when there is none. Borrowed from @sets.
 * A failed set is skipped: its checkpoint was rolled back with it, so the
 * newest checkpoint on the domain is the last available set's, and its
 * bitmaps hold every write since (if the rollback left the failed set's
 * checkpoint behind, coord_chain_plan sees a checkpoint it does not
 * expect and copies in full). */
const coord_set *coord_chain_last(coord_set *const *sets, size_t nsets,
                                  const char *domain_uuid, const char *self);

/* What the caller read off the domain and the host before planning. */
typedef struct coord_chain_facts {
    /* The domain's checkpoints whose name starts with "snapset-". */
    const char *const *checkpoints;
    size_t ncheckpoints;
    /* The checkpoints the catalog's sets of the domain recorded: one of
     * them left on the domain (a trim that did not run) is harmless; any
     * other "snapset-" checkpoint means someone else makes sets of this
     * domain, and the next copies are full. */
    const char *const *known;
    size_t nknown;
    /* The disks (targets) for which QEMU still has the bitmap of the
     * previous set's checkpoint (libvirt reports its size). */
    const char *const *bitmap_disks;
    size_t nbitmap_disks;
    /* Non-NULL: the checkpoints could not be read; every member is full,
     * with this as the reason. */
    const char *probe_error;
    /* Incremental copies are switched off: every member is full and the
     * set makes no checkpoint. @off_reason says why (NULL: the setting,
     * `incremental = false`). */
    bool off;
    const char *off_reason;
    /* The copies' format ("qcow2"; anything else: no incremental). */
    const char *copy_format;
    /* Whether a previous copy's file is still there (NULL: assumed). */
    bool (*exists)(const char *path);
} coord_chain_facts;

/* Decides, for every local member of @set (filled from the domain XML; its
 * size, when known, is the disk's current virtual size), whether its copy
 * is full or incremental on @prev (coord_chain_last(); NULL: none), and
 * sets mode, base, backing and full_reason on each, set->checkpoint (when
 * any member can carry a bitmap) and set->checkpoint_from (when any member
 * is incremental). Clears whatever an earlier plan set. Cinder members are
 * left alone. Fails only when memory runs out. */
bool coord_chain_plan(coord_set *set, const coord_set *prev,
                      const coord_chain_facts *facts, snap_error *err);

/* True when some local member of @set stacks on set @uuid. */
bool coord_chain_stacks_on(const coord_set *set, const char *uuid);

/* The member of @set copying disk @target, or NULL. */
coord_member *coord_chain_member(const coord_set *set, const char *target);

/* The backing path, relative to a set directory, of the copy @location of
 * set @uuid: "../<uuid>/<file name>". NULL (with @err) when @location has
 * no file name. */
char *coord_chain_backing(const char *uuid, const char *location,
                          snap_error *err);

/* What a set's local copies cost and hold: the sum of their own layers'
 * allocated bytes (@own), and of every file their chains read (@total,
 * each copy's own plus the chain below it, from @sets). */
void coord_chain_sizes(const coord_set *set, coord_set *const *sets,
                       size_t nsets, uint64_t *own, uint64_t *total);

/* The set with uuid @uuid among @sets, or NULL. */
const coord_set *coord_chain_find(coord_set *const *sets, size_t nsets,
                                  const char *uuid);

#endif
