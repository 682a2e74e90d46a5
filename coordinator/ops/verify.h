/* coordinator/ops/verify.h -- whether sets can really be read back: their
 * copies are there, sound, stacked on what the catalog says, and hold the
 * bytes that were written (a backup tool's verify).
 *
 * Checked, for every local member (with a location) of an available set:
 *  - the copy is a regular file (lstat: a symbolic link is a problem and is
 *    never followed);
 *  - the backing file its qcow2 header names is the one the catalog records
 *    (m->backing, relative to the copy's directory; none recorded: none
 *    allowed), and that is the copy of the same disk in the base set, which
 *    is in the catalog and available;
 *  - `qemu-img check` finds the image consistent (qcow2 copies; only run
 *    when the backing file is the recorded one, so qemu-img never opens a
 *    file a tampered header names);
 *  - its SHA-256 is the one recorded when the copy was made (when one is).
 * A memory state file, when the set has one, must be a regular file.
 * Cinder members are not checked (Cinder holds them). Sets that are not
 * available (creating, error, deleting) are skipped.
 *
 * An incremental copy reads the copies under it: a set is broken as well
 * when a set it stacks on (directly or through a chain) is, and the sets
 * it is checked for include those it stacks on. A broken set's entry lists
 * every set that stacks on it (they cannot be read either).
 *
 * Each domain's sets are checked under its catalog lock (waiting at most
 * lock_timeout_ms): a delete rebasing a copy never runs underneath.
 */
#ifndef OPS_VERIFY_H
#define OPS_VERIFY_H

#include <stdbool.h>
#include <stddef.h>

#include "common/snap_error.h"
#include "common/snap_uuid.h"
#include "coordinator/coord_set.h"
#include "coordinator/ops/ctx.h"

typedef enum ops_verify_status {
    OPS_VERIFY_OK = 0,
    OPS_VERIFY_BROKEN,
    OPS_VERIFY_SKIPPED, /* not available: nothing to read */
    OPS_VERIFY_STATUS_LAST
} ops_verify_status;

typedef struct ops_verify_set {
    char uuid[SNAP_UUID_LEN];
    ops_verify_status status;
    coord_set_state state; /* the set's state (why it was skipped) */
    /* What is wrong, one line each naming the disk ("vda: ..."), and
     * "stacks on broken set <uuid>" when a set under it is broken. */
    char **problems;
    size_t nproblems;
    /* Broken only: the sets that stack on this one (uuids, oldest first). */
    char **dependents;
    size_t ndependents;
    /* Members not checked (one line each, "vdb: not checked (Cinder)"). */
    char **notes;
    size_t nnotes;
    size_t nchecked; /* local copies checked */
} ops_verify_set;

typedef struct ops_verify_report {
    ops_verify_set *sets; /* in the order asked for; all sets: oldest first */
    size_t nsets;
    size_t nbroken;
} ops_verify_report;

/* Name of @status: "ok", "broken", "skipped". */
const char *ops_verify_status_name(ops_verify_status status);

/* Verifies the sets @ids (a UUID or a unique prefix each; duplicates count
 * once), or every set of the catalog when @nids is 0, and fills @out
 * (ops_verify_report_release(), also after a failure). A broken set is not
 * a failure: false only when a set is not in the catalog (SNAP_E_NOTFOUND,
 * before anything is checked), a domain's lock cannot be taken
 * (SNAP_E_BUSY), the catalog cannot be read or memory runs out. */
bool ops_verify(ops_ctx *ctx, const char *const *ids, size_t nids,
                ops_verify_report *out, snap_error *err);

void ops_verify_report_release(ops_verify_report *report);

#endif
