/* tests/fakes/fake_coord.h -- a scripted guest, local disks, Cinder and
 * journal behind the coordinator's ops tables.
 *
 * The fake guest behaves like QEMU + qemu-ga where it matters: a paused
 * guest cannot answer its agent (freeze/thaw/status fail with "domain is
 * not running"), a timed-out freeze may leave the guest frozen, and thawing
 * a thawed guest is harmless. Every call is appended to a log so tests can
 * check the order of operations.
 */
#ifndef FAKE_COORD_H
#define FAKE_COORD_H

#include <stdbool.h>
#include <stddef.h>

#include "coordinator/coord_job.h"

#define FAKE_MAX_SNAPS 16

typedef enum fake_freeze_mode {
    FAKE_FREEZE_OK = 0,
    FAKE_FREEZE_FAIL,    /* the agent refuses; nothing frozen */
    FAKE_FREEZE_TIMEOUT, /* no answer in time, but the guest froze */
} fake_freeze_mode;

typedef struct fake_world {
    /* the guest */
    bool agent; /* qemu-ga answers */
    bool frozen;
    bool paused;
    int nfs; /* filesystems the guest has */
    fake_freeze_mode freeze_mode;
    bool pause_fails;
    int resume_failures; /* that many resume calls fail first */
    int thaw_failures;   /* that many thaw calls fail first */
    bool status_lies;    /* status reports frozen once after a thaw */
    /* local disks (one backup job) */
    bool prepare_fails; /* the last target cannot be made */
    bool begin_fails;
    bool finish_fails;
    bool cancel_fails;
    bool copy_wait_fails; /* wait() times out */
    bool copy_saw_paused; /* the vCPUs were paused during wait() */
    int64_t copy_timeout_seen;
    bool job_running;
    int local_copies; /* copies that exist */
    /* Cinder */
    int request_fail_k; /* the k-th requested snapshot fails (1-based) */
    int unrecorded;     /* snapshots made with no id returned (late) */
    bool sweep_fails;   /* the search by metadata fails */
    bool wait_fails;
    bool wait_times_out;
    bool remove_fails;
    bool vfinish_fails; /* recording the consistency fails */
    char consistency_recorded[32];
    int64_t wait_timeout_seen;
    char *snaps[FAKE_MAX_SNAPS]; /* live snapshot ids */
    int nsnaps_made;
    /* watchdog */
    bool watchdog_fires; /* the deadline passes: it resumes and thaws */
    bool watchdog_armed;
    /* RAM state */
    bool memory_fails; /* the save fails after writing part of the file */
    bool memory_remove_fails;
    bool memory_exists;     /* the state file exists */
    bool memory_saw_paused; /* the vCPUs were paused during the save */
    bool memory_saw_frozen; /* the filesystems were frozen during it */
    int64_t memory_timeout_seen;
    /* journal */
    int saves;
    int fail_save_at; /* the n-th save fails (1-based), 0: never */
    coord_journal last_journal;
    coord_set_state last_state;
    /* what happened, "ping freeze pause request ..." */
    char log[2048];
} fake_world;

extern const coord_guest_ops fake_guest_ops;
extern const coord_disk_ops fake_disk_ops;
extern const coord_disk_ops fake_disk_prepare_ops; /* with .prepare */
extern const coord_volume_ops fake_volume_ops;
extern const coord_volume_ops fake_volume_sweep_ops; /* with .cleanup */
extern const coord_journal_ops fake_journal_ops;
extern const coord_watchdog_ops fake_watchdog_ops;
extern const coord_memory_ops fake_memory_ops;

void fake_world_init(fake_world *w);
void fake_world_release(fake_world *w);

/* Live Cinder snapshots in the fake cloud. */
int fake_live_snapshots(const fake_world *w);

/* A set of @nlocal local disks and @ncinder Cinder volumes. */
coord_set *fake_set_new(int nlocal, int ncinder);

/* A job on @w for @set with default options. */
void fake_job_init(coord_job *job, fake_world *w, coord_set *set);

#endif
