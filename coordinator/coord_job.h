/* coordinator/coord_job.h -- the snapshot-set state machine.
 *
 * The job sees the outside world only through the tables below: the guest
 * (agent freeze/thaw, vCPU pause/resume), local disks (libvirt backup job),
 * Cinder volumes, and the journal. ops/actions.c wires the real ones
 * (virt/, ops/openstack.c, the catalog); the unit tests script fakes, so
 * every failure path can be driven.
 *
 * Order of operations (a paused guest cannot answer its agent):
 *   journal intent -> freeze -> pause -> [save RAM state] ->
 *   request every snapshot at once ->
 *   wait until every backend has fixed its point (one deadline) ->
 *   [RAM state: wait until the local copies are complete] ->
 *   resume -> thaw -> confirm thawed -> finish local copies -> record.
 * Every path out of FREEZING/FROZEN resumes and thaws; the first error wins.
 */
#ifndef COORD_JOB_H
#define COORD_JOB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/snap_error.h"
#include "coordinator/coord_set.h"

typedef struct coord_guest_ops {
    /* True when the guest agent answers (guest-ping) within @timeout_ms. */
    bool (*ping)(void *impl, int64_t timeout_ms, snap_error *err);
    /* Freezes the guest's filesystems (all when @nmounts is 0) within
     * @timeout_ms. Returns how many were frozen, or -1. After -1 some
     * filesystems may still be frozen: the caller thaws anyway. */
    int (*freeze)(void *impl, const char *const *mounts, size_t nmounts,
                  int64_t timeout_ms, snap_error *err);
    /* Thaws every frozen filesystem. Returns how many, or -1. */
    int (*thaw)(void *impl, int64_t timeout_ms, snap_error *err);
    /* 1 when the agent reports frozen, 0 when thawed, -1 on error. */
    int (*frozen)(void *impl, int64_t timeout_ms, snap_error *err);
    bool (*pause)(void *impl, snap_error *err);
    bool (*resume)(void *impl, snap_error *err);
} coord_guest_ops;

/* Local disks. prepare() (may be NULL) names the copies (member->location)
 * and makes what can be made before the guest is touched; the journal
 * records it. begin() fixes the point in time of every listed member at
 * once and returns; the copies complete afterwards, outside the frozen
 * window, in finish(). wait() (may be NULL) only waits, under @timeout_ms,
 * until the copies are complete, leaving the recording to finish(): a set
 * with RAM state calls it before the guest resumes, because the memory save
 * leaves QEMU's disks inactive and resuming reactivates them under a running
 * backup job (QEMU 7.2 crashed there). cancel() stops an unfinished copy and
 * removes what prepare() and begin() created; it is safe after a failed
 * prepare() or begin(). */
typedef struct coord_disk_ops {
    bool (*prepare)(void *impl, coord_set *set, const size_t *idx, size_t n,
                    snap_error *err);
    bool (*begin)(void *impl, coord_set *set, const size_t *idx, size_t n,
                  snap_error *err);
    bool (*finish)(void *impl, coord_set *set, const size_t *idx, size_t n,
                   int64_t timeout_ms, snap_error *err);
    bool (*wait)(void *impl, coord_set *set, const size_t *idx, size_t n,
                 int64_t timeout_ms, snap_error *err);
    bool (*cancel)(void *impl, coord_set *set, const size_t *idx, size_t n,
                   snap_error *err);
} coord_disk_ops;

/* Cinder volumes. request() sends every snapshot request at once and
 * stores each snapshot id in member->location as soon as it is known (also
 * when another request fails, so nothing is forgotten); a member whose
 * request failed is marked COORD_MEMBER_FAILED. wait_taken() waits, under
 * one deadline, until every requested snapshot has left 'creating'.
 * finish() runs after the thaw, once the set's consistency is known (it
 * records it with the snapshots); may be NULL.
 * remove() deletes one member's snapshot (rollback, delete).
 * cleanup() removes what belongs to the set as a whole (a group snapshot)
 * after the members' removal; may be NULL. */
typedef struct coord_volume_ops {
    bool (*request)(void *impl, coord_set *set, const size_t *idx, size_t n,
                    snap_error *err);
    bool (*wait_taken)(void *impl, coord_set *set, const size_t *idx, size_t n,
                       int64_t timeout_ms, snap_error *err);
    bool (*finish)(void *impl, coord_set *set, const size_t *idx, size_t n,
                   snap_error *err);
    bool (*remove)(void *impl, coord_set *set, coord_member *member,
                   snap_error *err);
    bool (*cleanup)(void *impl, coord_set *set, snap_error *err);
} coord_volume_ops;

/* The guest's RAM and device state (`create --memory`). save() runs with
 * the vCPUs paused, before any disk's point is fixed, and writes
 * set->memory (chosen by the caller) within @timeout_ms, leaving the vCPUs
 * paused: nothing the guest does can fall between the memory's instant and
 * the disks'. remove() deletes what save() made (rollback, recovery). */
typedef struct coord_memory_ops {
    bool (*save)(void *impl, coord_set *set, int64_t timeout_ms,
                 snap_error *err);
    bool (*remove)(void *impl, coord_set *set, snap_error *err);
} coord_memory_ops;

/* Durable record of the set: called before every step that changes the
 * guest or creates something outside, and after it. */
typedef struct coord_journal_ops {
    bool (*save)(void *impl, const coord_set *set, snap_error *err);
} coord_journal_ops;

/* A watchdog that cannot be blocked by a stuck call of this process: armed
 * before the freeze with the frozen window's deadline, told when the vCPUs
 * may be paused, and disarmed after the thaw. If the deadline passes, or
 * this process dies, it resumes and thaws the guest by itself. disarm()
 * reports whether it fired; the set then fails. */
typedef struct coord_watchdog_ops {
    bool (*arm)(void *impl, int64_t timeout_ms, snap_error *err);
    void (*paused)(void *impl);
    bool (*disarm)(void *impl, bool *fired, snap_error *err);
} coord_watchdog_ops;

typedef struct coord_job_opts {
    coord_quiesce quiesce;
    bool pause;                /* pause the vCPUs inside the freeze */
    const char *const *mounts; /* freeze only these (NULL: all) */
    size_t nmounts;
    int64_t agent_timeout_ms;  /* each agent call */
    int64_t frozen_timeout_ms; /* the whole frozen/paused window */
    int64_t copy_timeout_ms;   /* local copies, after the thaw */
    int thaw_attempts;         /* >= 1 */
    bool app_hooks;            /* the guest's fsfreeze hooks quiesce apps */
    bool memory;               /* save RAM state too: implies pause and no
                                  freeze (a guest saved frozen would come
                                  back frozen) */
} coord_job_opts;

typedef struct coord_job {
    coord_set *set; /* borrowed; filled in by the job */
    coord_job_opts opts;
    const coord_guest_ops *guest;
    void *guest_impl;
    const coord_disk_ops *disks; /* may be NULL when there are none */
    void *disks_impl;
    const coord_volume_ops *volumes; /* may be NULL when there are none */
    void *volumes_impl;
    const coord_journal_ops *journal;
    void *journal_impl;
    const coord_watchdog_ops *watchdog; /* may be NULL */
    void *watchdog_impl;
    const coord_memory_ops *memory; /* needed when opts.memory */
    void *memory_impl;
} coord_job;

/* Sets @opts to the defaults (quiesce preferred, no pause, 10 s agent,
 * 60 s frozen, 1 h copy, 3 thaw attempts). */
void coord_job_opts_init(coord_job_opts *opts);

/* Makes the set described by job->set (members filled in, state CREATING).
 * On success the set is AVAILABLE with its consistency and windows; on
 * failure it is ERROR with the reason, everything made on the way has been
 * removed (or is recorded with what remains), and @err holds the first
 * error. In both cases the guest has been resumed and thawed, unless that
 * failed too, which the journal then records for `snapset recover`. */
bool coord_job_run(coord_job *job, snap_error *err);

/* Finishes what a dead process left of job->set (state CREATING or
 * DELETING is not required; the journal says what may be left): resumes
 * the guest if it may be paused by us, thaws it if it may be frozen, then
 * removes every member that was made and marks the set ERROR with @why.
 * Idempotent. job->guest may be NULL when the domain is gone. */
bool coord_job_recover(coord_job *job, const char *why, snap_error *err);

#endif
