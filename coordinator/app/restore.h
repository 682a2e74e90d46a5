/* coordinator/app/restore.h -- using a set: restore the VM to it, spawn a
 * new VM from it, make a volume (or image) of one of its disks, and know
 * which sets a spawned VM still depends on.
 *
 * Each action is a function the CLI and the HTTP API can call; each CLI
 * entry point parses its arguments and returns 0 (ok), 1 (failure) or 2
 * (usage). What each action does when it fails half-way is written next to
 * it; none leaves something behind without saying where.
 *
 * Threads: like app_ctx, one context per thread.
 */
#ifndef APP_RESTORE_H
#define APP_RESTORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/snap_error.h"
#include "coordinator/app/actions.h"

/* ---- restore ------------------------------------------------------------- */

typedef enum app_restore_start {
    APP_RESTORE_START_AS_BEFORE = 0, /* start it again if it was running */
    APP_RESTORE_START_YES,
    APP_RESTORE_START_NO,
} app_restore_start;

typedef struct app_restore_opts {
    app_restore_start start;
    /* How long the guest may take to power off after the agent's
     * guest-shutdown before it is forced off; < 0: the configuration's
     * timeouts.shutdown_ms. */
    int64_t shutdown_timeout_ms;
} app_restore_opts;

/* What a restore did, for the caller to print; strings owned, release
 * with app_restore_result_release(). */
typedef struct app_restore_result {
    char *domain;
    int64_t total_ms;   /* the whole restore */
    int64_t prepare_ms; /* copies made while the VM still ran */
    int64_t stop_ms;    /* shutting the VM down */
    int64_t swap_ms;    /* VM stopped: swaps, reverts, attaches */
    int64_t start_ms;   /* starting it again; -1 when not started */
    bool forced_off;    /* the guest did not power off in time */
    bool started;
    bool memory;        /* started from the set's RAM state */
    /* One line per member: "vda: local, copied back" ... */
    char **lines;
    size_t nlines;
} app_restore_result;

void app_restore_result_release(app_restore_result *r);

/* Puts domain @set->domain back to set @set_id: stops it (agent shutdown,
 * forced after the bound), puts every local disk back from the set's copy
 * (a new image next to the disk's file, swapped in by rename; a block
 * device is written in place after its content was saved), reverts each
 * Cinder member to its snapshot when Cinder allows it (microversion 3.40,
 * the set's snapshot is the volume's latest) or else swaps in a new volume
 * made from the snapshot, and starts the domain again as @o says. The set
 * itself is never changed: it can be restored again.
 *
 * Takes the domain's lock. A failure puts everything back as it was
 * (images, the domain's definition, Cinder attachments, its run state)
 * and says what failed; a Cinder revert is the one step that cannot be
 * undone, so reverts come last, after every other disk is in place, and a
 * revert that fails falls back to a new volume. */
bool app_restore(app_ctx *ctx, const char *set_id, const app_restore_opts *o,
                 app_restore_result *res, snap_error *err);

/* ---- spawn --------------------------------------------------------------- */

typedef struct app_spawn_opts {
    const char *name;            /* required: the new domain's name */
    unsigned vcpus;              /* 0: as the original */
    uint64_t memory_mib;         /* 0: as the original */
    const char *const *networks; /* replaces the NICs; none: as before */
    size_t nnetworks;
    bool full;       /* independent copies, not linked clones */
    bool start;      /* start it (default true) */
    const char *dir; /* where its images go; NULL: next to
                        the original's first file disk */
} app_spawn_opts;

void app_spawn_opts_init(app_spawn_opts *o);

/* Makes a new domain from set @set_id: the set's domain.xml with a new
 * name and UUID, new MACs, the chosen vCPUs, memory and networks; each
 * local member becomes a qcow2 overlay on the set's copy (a linked clone)
 * or, with @o->full, an independent copy; each Cinder member becomes a new
 * volume made from its snapshot, attached like Nova does. Everything is
 * validated before anything is made (name in use, networks, vCPUs and
 * memory against the host, the set's members); a failure at any later
 * step removes all that was made and the error names the step.
 * *@uuid (optional) receives the new domain's UUID. */
bool app_spawn(app_ctx *ctx, const char *set_id, const app_spawn_opts *o,
               char uuid[SNAP_UUID_LEN], snap_error *err);

/* ---- volume-from --------------------------------------------------------- */

typedef struct app_volume_from_opts {
    const char *name;   /* Cinder volume name, or the image's file name or
                           path; NULL: "<domain>-<disk>-<set prefix>" */
    const char *format; /* local images: "qcow2" (default) or "raw" */
    const char *dir;    /* local images: NULL = next to the disk's file */
} app_volume_from_opts;

/* Makes a new Cinder volume from the snapshot of Cinder member @disk
 * (target "vdb", or its serial) of set @set_id, or a new local image from
 * the copy of a local member. *@made receives the volume id or the image
 * path (new string, free()). A failure deletes what was made. */
bool app_volume_from(app_ctx *ctx, const char *set_id, const char *disk,
                     const app_volume_from_opts *o, char **made,
                     snap_error *err);

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
 *     if (app_set_in_use(ctx, set, NULL, err))
 *         goto cleanup; */
bool app_set_in_use(app_ctx *ctx, const coord_set *set, char **domain,
                    snap_error *err);

/* Makes every disk of @domain that is a linked clone of a set's copy
 * independent (a running domain: libvirt block pull; a stopped one:
 * qemu-img rebase onto nothing). *@nflattened counts the disks. */
bool app_flatten(app_ctx *ctx, const char *domain, int *nflattened,
                 snap_error *err);

/* ---- the command line ---------------------------------------------------- */

int app_cmd_restore(app_ctx *ctx, int argc, char **argv);
int app_cmd_spawn(app_ctx *ctx, int argc, char **argv);
int app_cmd_volume_from(app_ctx *ctx, int argc, char **argv);
int app_cmd_flatten(app_ctx *ctx, int argc, char **argv);

#endif
