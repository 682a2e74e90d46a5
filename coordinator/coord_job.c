/* coordinator/coord_job.c -- see coord_job.h. */
#include "coordinator/coord_job.h"

#include <stdlib.h>
#include <string.h>

#include "common/snap_fault.h"
#include "common/snap_log.h"
#include "common/snap_time.h"

void
coord_job_opts_init(coord_job_opts *opts)
{
    memset(opts, 0, sizeof(*opts));
    opts->quiesce = COORD_QUIESCE_PREFERRED;
    opts->agent_timeout_ms = 10000;
    opts->frozen_timeout_ms = 60000;
    opts->copy_timeout_ms = 3600000;
    opts->thaw_attempts = 3;
}

static bool
journal_save(coord_job *job, snap_error *err)
{
    return job->journal->save(job->journal_impl, job->set, err);
}

static void
members_mark(coord_set *set, const size_t *idx, size_t n,
             coord_member_state from, coord_member_state to)
{
    size_t i;

    for (i = 0; i < n; i++) {
        coord_member *m = &set->members[idx[i]];

        if (m->state == from)
            m->state = to;
    }
}

/* Resumes the vCPUs if we paused them. A failed resume is retried: a guest
 * left paused is worse than a slow error path. */
static void
resume_guest(coord_job *job, int64_t pause_start, snap_error *err)
{
    coord_set *set = job->set;
    int attempt;

    for (attempt = 0; attempt < job->opts.thaw_attempts; attempt++) {
        if (job->guest->resume(job->guest_impl, err)) {
            set->journal.resumed = true;
            break;
        }
        snap_warn("domain '%s': resume attempt %d failed", set->domain_name,
                  attempt + 1);
    }
    if (!set->journal.resumed)
        snap_warn("domain '%s' may be left paused: `snapset recover` "
                  "resumes it",
                  set->domain_name);
    set->pause_ms = snap_now_ms() - pause_start;
}

/* Thaws and confirms with guest-fsfreeze-status. Thaw whenever a freeze
 * was attempted: a freeze that timed out may have frozen some filesystems,
 * and thawing a thawed guest is harmless (qga ignores FITHAW errors). If no
 * attempt is confirmed (the agent stopped answering inside the window), the
 * error says the guest may be left frozen, and the journal keeps
 * thawed = false for `snapset recover`. */
static void
thaw_guest(coord_job *job, int64_t freeze_start, snap_error *err)
{
    coord_set *set = job->set;
    int64_t t0 = snap_now_ms();
    snap_error te = {0};
    int attempt, state;

    for (attempt = 0; attempt < job->opts.thaw_attempts; attempt++) {
        if (job->guest->thaw(job->guest_impl, job->opts.agent_timeout_ms, &te) <
            0) {
            snap_warn("domain '%s': thaw attempt %d failed", set->domain_name,
                      attempt + 1);
            continue;
        }
        set->freeze_ms = snap_now_ms() - freeze_start;
        state = job->guest->frozen(job->guest_impl, job->opts.agent_timeout_ms,
                                   &te);
        if (state == 0) {
            set->journal.thawed = true;
            break;
        }
        if (state > 0)
            snap_error_set(&te, SNAP_E_AGENT,
                           "guest agent of domain '%s' still reports frozen "
                           "after thaw",
                           set->domain_name);
    }
    if (set->journal.thawed && snap_error_isset(&te)) {
        snap_error_set(err, te.code, "%s", te.msg); /* thawed, but say so */
    } else if (!set->journal.thawed) {
        /* An earlier error is the one reported: say it here too. */
        if (snap_error_isset(err))
            snap_warn("domain '%s' may be left frozen: `snapset recover` "
                      "thaws it once its guest agent answers",
                      set->domain_name);
        snap_error_set(err, te.code ? te.code : SNAP_E_AGENT,
                       "domain '%s' may be left frozen: %s", set->domain_name,
                       te.msg[0] ? te.msg : "thaw not confirmed");
    }
    if (set->freeze_ms < 0)
        set->freeze_ms = snap_now_ms() - freeze_start;
    set->t_thaw = snap_now_ms() - t0;
}

/* Undoes what a failed job made; what cannot be removed stays recorded in
 * the set (state FAILED with its location) so it is never forgotten.
 * Returns whether the search for snapshots the journal never recorded
 * (volumes->cleanup) ran and succeeded. */
static bool
rollback(coord_job *job, const size_t *local, size_t nlocal,
         const size_t *cinder, size_t ncinder, bool local_begun)
{
    coord_set *set = job->set;
    snap_error e = {0};
    bool swept = false;
    size_t i;

    if (local_begun) {
        if (job->disks->cancel(job->disks_impl, set, local, nlocal, &e)) {
            for (i = 0; i < nlocal; i++)
                set->members[local[i]].state = COORD_MEMBER_DELETED;
        } else {
            snap_warn("set %s: cannot remove local copies: %s", set->uuid,
                      e.msg);
            members_mark(set, local, nlocal, COORD_MEMBER_REQUESTED,
                         COORD_MEMBER_FAILED);
            members_mark(set, local, nlocal, COORD_MEMBER_TAKEN,
                         COORD_MEMBER_FAILED);
        }
    }
    for (i = 0; i < ncinder; i++) {
        coord_member *m = &set->members[cinder[i]];

        if (!m->location) {
            if (m->state != COORD_MEMBER_PENDING)
                m->state = COORD_MEMBER_FAILED;
            continue;
        }
        snap_error_clear(&e);
        if (job->volumes->remove(job->volumes_impl, set, m, &e)) {
            m->state = COORD_MEMBER_DELETED;
        } else {
            snap_warn("set %s: cannot delete snapshot '%s' of volume '%s': %s",
                      set->uuid, m->location, m->volume_id, e.msg);
            m->state = COORD_MEMBER_FAILED;
        }
    }
    snap_error_clear(&e);
    if (ncinder && job->volumes->cleanup) {
        swept = job->volumes->cleanup(job->volumes_impl, set, &e);
        if (!swept)
            snap_warn("set %s: %s", set->uuid, e.msg); /* stays recorded */
    }
    if (set->memory && set->journal.memory_attempted && job->memory) {
        snap_error_clear(&e);
        if (job->memory->remove(job->memory_impl, set, &e)) {
            free(set->memory);
            set->memory = NULL;
            set->journal.memory_attempted = false;
            set->t_memory = -1;
        } else {
            /* Stays recorded with its path. */
            snap_warn("set %s: cannot remove the RAM state '%s': %s", set->uuid,
                      set->memory, e.msg);
        }
    }
    return swept;
}

/* Sorts the members into @local and @cinder (index lists) and refuses a
 * job that cannot run: nothing is touched yet. With a RAM state the guest
 * is paused, not quiesced (a guest saved frozen would come back frozen). */
static bool
job_prepare(coord_job *job, size_t *local, size_t *nlocal, size_t *cinder,
            size_t *ncinder, snap_error *err)
{
    coord_set *set = job->set;
    size_t i;

    for (i = 0; i < set->nmembers; i++) {
        if (set->members[i].kind == COORD_MEMBER_CINDER)
            cinder[(*ncinder)++] = i;
        else
            local[(*nlocal)++] = i;
    }
    if (set->nmembers == 0)
        return snap_error_set(err, SNAP_E_INVALID,
                              "domain '%s' has no disk to snapshot",
                              set->domain_name);
    if ((*nlocal && !job->disks) || (*ncinder && !job->volumes))
        return snap_error_set(
            err, SNAP_E_INVALID,
            "domain '%s' has %s disks but no %s is configured",
            set->domain_name, *nlocal && !job->disks ? "local" : "Cinder",
            *nlocal && !job->disks ? "local disk backend" : "Cinder client");
    if (job->opts.memory && !job->memory)
        return snap_error_set(err, SNAP_E_INVALID,
                              "domain '%s': RAM state asked for but no memory "
                              "backend is configured",
                              set->domain_name);
    if (job->opts.memory && job->opts.quiesce == COORD_QUIESCE_REQUIRED)
        return snap_error_set(
            err, SNAP_E_INVALID,
            "a set with RAM state cannot be quiesced: a guest "
            "saved frozen would come back frozen");
    if (job->opts.memory && !set->memory)
        return snap_error_set(err, SNAP_E_INVALID,
                              "domain '%s': no file named for the RAM state",
                              set->domain_name);
    if (job->opts.memory) {
        /* The saved guest resumes exactly where it was: frozen, if it was.
         * Its disks are taken at the memory's instant instead. */
        job->opts.quiesce = COORD_QUIESCE_OFF;
        job->opts.pause = true;
    }
    return true;
}

/* A flat sequence on purpose: the order of the steps is the protocol (the
 * top of coord_job.h), and every exit goes through the same unfreeze and
 * record labels, so it stays one function. */
bool
coord_job_run(coord_job *job, snap_error *err)
{
    coord_set *set = job->set;
    size_t *local = NULL, *cinder = NULL;
    size_t nlocal = 0, ncinder = 0;
    bool want_freeze, want_pause, froze = false;
    bool local_begun = false, fixed = false, ok = false, armed = false;
    int64_t freeze_start = -1, pause_start = -1, deadline, t0;
    snap_error ping_err = {0}, own_err = {0};
    int n;

    if (!err)
        err = &own_err; /* the job itself needs to know what failed */
    set->t_freeze = set->t_request = set->t_wait = set->t_thaw = -1;
    local = calloc(set->nmembers + 1, sizeof(*local));
    cinder = calloc(set->nmembers + 1, sizeof(*cinder));
    if (!local || !cinder) {
        snap_error_set(err, SNAP_E_NOMEM, "out of memory");
        goto cleanup;
    }
    if (!job_prepare(job, local, &nlocal, cinder, &ncinder, err))
        goto cleanup;
    set->quiesce = job->opts.quiesce;
    set->pause_requested = job->opts.pause;

    /* The intent, durable before the guest is touched. */
    if (!journal_save(job, err))
        goto cleanup;
    snap_fault("after-journal");
    if (nlocal && job->disks->prepare) {
        local_begun = true; /* what prepare() made is cancelled on failure */
        if (!job->disks->prepare(job->disks_impl, set, local, nlocal, err) ||
            !journal_save(job, err))
            goto record;
        snap_fault("after-prepare");
    }

    want_freeze = job->opts.quiesce != COORD_QUIESCE_OFF;
    want_pause = job->opts.pause;
    if (want_freeze &&
        !job->guest->ping(job->guest_impl, job->opts.agent_timeout_ms,
                          &ping_err)) {
        if (job->opts.quiesce == COORD_QUIESCE_REQUIRED) {
            snap_error_set(err, ping_err.code ? ping_err.code : SNAP_E_AGENT,
                           "quiesce required but the guest agent of domain "
                           "'%s' does not answer: %s",
                           set->domain_name, ping_err.msg);
            goto record;
        }
        /* Without an agent the best point is a crash-consistent one, and
         * pausing makes every disk's point the same instant. */
        snap_warn("domain '%s': guest agent does not answer (%s); taking a "
                  "crash-consistent set with the vCPUs paused",
                  set->domain_name, ping_err.msg);
        want_freeze = false;
        want_pause = true;
    }

    if ((want_freeze || want_pause) && job->watchdog) {
        if (!job->watchdog->arm(job->watchdog_impl, job->opts.frozen_timeout_ms,
                                err))
            goto record;
        armed = true;
    }
    if (want_freeze) {
        set->journal.freeze_attempted = true;
        if (!journal_save(job, err)) {
            set->journal.freeze_attempted = false;
            goto record;
        }
        freeze_start = snap_now_ms();
        n = job->guest->freeze(job->guest_impl, job->opts.mounts,
                               job->opts.nmounts, job->opts.agent_timeout_ms,
                               err);
        set->t_freeze = snap_now_ms() - freeze_start;
        if (n < 0)
            goto unfreeze;
        /* Our own deadline, also when libvirt's timeout did not fire. */
        if (set->t_freeze > job->opts.agent_timeout_ms) {
            snap_error_set(err, SNAP_E_TIMEOUT,
                           "guest agent of domain '%s' took %lld ms to freeze "
                           "(limit %lld ms)",
                           set->domain_name, (long long)set->t_freeze,
                           (long long)job->opts.agent_timeout_ms);
            goto unfreeze;
        }
        set->frozen_count = n;
        froze = n > 0;
        snap_fault("after-freeze");
    }
    deadline = (freeze_start >= 0 ? freeze_start : snap_now_ms()) +
               job->opts.frozen_timeout_ms;

    if (want_pause) {
        set->journal.pause_attempted = true;
        if (!journal_save(job, err)) {
            set->journal.pause_attempted = false;
            goto unfreeze;
        }
        pause_start = snap_now_ms();
        if (armed)
            job->watchdog->paused(job->watchdog_impl);
        if (!job->guest->pause(job->guest_impl, err))
            goto unfreeze;
        snap_fault("after-pause");
    }
    if (job->opts.memory) {
        set->journal.memory_attempted = true;
        if (!journal_save(job, err))
            goto unfreeze;
        t0 = snap_now_ms();
        if (!job->memory->save(job->memory_impl, set, snap_ms_left(deadline),
                               err))
            goto unfreeze;
        set->t_memory = snap_now_ms() - t0;
        snap_fault("after-memory");
    }

    /* Fix every point in time: all requests first, then one wait. */
    t0 = snap_now_ms();
    members_mark(set, cinder, ncinder, COORD_MEMBER_PENDING,
                 COORD_MEMBER_REQUESTED);
    members_mark(set, local, nlocal, COORD_MEMBER_PENDING,
                 COORD_MEMBER_REQUESTED);
    if (!journal_save(job, err))
        goto unfreeze;
    if (ncinder) {
        bool requested =
            job->volumes->request(job->volumes_impl, set, cinder, ncinder, err);

        /* Cinder has the snapshots, the journal not their ids yet:
         * recovery finds them by the set's metadata. */
        snap_fault("before-request-journal");
        /* Record the snapshot ids made so far, even on failure. */
        if (!journal_save(job, err) || !requested)
            goto unfreeze;
        snap_fault("after-request");
    }
    if (nlocal) {
        local_begun = true;
        if (!job->disks->begin(job->disks_impl, set, local, nlocal, err))
            goto unfreeze;
        members_mark(set, local, nlocal, COORD_MEMBER_REQUESTED,
                     COORD_MEMBER_TAKEN);
        snap_fault("after-backup-begin");
    }
    set->t_request = snap_now_ms() - t0;
    if (ncinder) {
        t0 = snap_now_ms();
        snap_fault("during-wait");
        if (!job->volumes->wait_taken(job->volumes_impl, set, cinder, ncinder,
                                      snap_ms_left(deadline), err))
            goto unfreeze;
        members_mark(set, cinder, ncinder, COORD_MEMBER_REQUESTED,
                     COORD_MEMBER_TAKEN);
        set->t_wait = snap_now_ms() - t0;
    }
    if (job->opts.memory && nlocal && job->disks->wait) {
        /* After the memory save QEMU's disks are inactive; resuming
         * reactivates them, which must not happen under the backup job. */
        if (!job->disks->wait(job->disks_impl, set, local, nlocal,
                              snap_ms_left(deadline), err))
            goto unfreeze;
        snap_fault("after-copy-paused");
    }
    fixed = true;

unfreeze:
    /* Resume first, thaw last: a paused guest cannot answer its agent. */
    if (set->journal.pause_attempted) {
        resume_guest(job, pause_start, err);
        snap_fault("after-resume");
    }
    if (set->journal.freeze_attempted) {
        thaw_guest(job, freeze_start, err);
        snap_fault("after-thaw");
    }
    if (armed) {
        bool fired = false;

        if (job->watchdog->disarm(job->watchdog_impl, &fired, err) && fired)
            snap_error_set(err, SNAP_E_TIMEOUT,
                           "the freeze watchdog fired after %lld ms and "
                           "released the guest",
                           (long long)job->opts.frozen_timeout_ms);
    }
    if (!fixed || snap_error_isset(err))
        goto record;

    /* The guest runs again; now the copies may take their time. The
     * volumes are finished first (their consistency recorded, snapshots
     * made by the host registered with their backend), so that their
     * backend's work overlaps the local copies instead of following them;
     * a copy that fails afterwards still rolls them back. */
    if (!froze)
        set->consistency = COORD_CONSISTENCY_CRASH;
    else if (job->opts.app_hooks)
        set->consistency = COORD_CONSISTENCY_APPLICATION;
    else
        set->consistency = COORD_CONSISTENCY_FILESYSTEM;
    members_mark(set, cinder, ncinder, COORD_MEMBER_TAKEN,
                 COORD_MEMBER_AVAILABLE);
    if (ncinder && job->volumes->finish &&
        !job->volumes->finish(job->volumes_impl, set, cinder, ncinder, err))
        goto record;
    if (nlocal && !job->disks->finish(job->disks_impl, set, local, nlocal,
                                      job->opts.copy_timeout_ms, err))
        goto record;
    members_mark(set, local, nlocal, COORD_MEMBER_TAKEN,
                 COORD_MEMBER_AVAILABLE);
    set->state = COORD_SET_AVAILABLE;
    set->finished_ms = snap_wall_ms();
    if (journal_save(job, err)) {
        ok = true;
        goto cleanup;
    }

record:
    /* Unrecorded snapshots made too late for this search are found by
     * `snapset recover`, which searches again (coord_job_recover). */
    (void)rollback(job, local, nlocal, cinder, ncinder, local_begun);
    set->state = COORD_SET_ERROR;
    set->consistency = COORD_CONSISTENCY_NONE;
    set->finished_ms = snap_wall_ms();
    (void)coord_str_set(&set->error,
                        err && err->msg[0] ? err->msg : "unknown error", NULL);
    /* Best effort: the first error is what the caller must see. */
    (void)journal_save(job, NULL);

cleanup:
    free(local);
    free(cinder);
    return ok;
}

bool
coord_job_recover(coord_job *job, const char *why, snap_error *err)
{
    coord_set *set = job->set;
    size_t *local = NULL, *cinder = NULL, nlocal = 0, ncinder = 0, i;
    bool local_begun = false, ok = false, swept;
    snap_error own_err = {0};

    if (!err)
        err = &own_err;
    local = calloc(set->nmembers + 1, sizeof(*local));
    cinder = calloc(set->nmembers + 1, sizeof(*cinder));
    if (!local || !cinder) {
        snap_error_set(err, SNAP_E_NOMEM, "out of memory");
        goto cleanup;
    }
    if (job->guest) {
        /* Keep the windows the dead process measured, if any. */
        int64_t freeze_ms = set->freeze_ms, pause_ms = set->pause_ms;

        if (set->journal.pause_attempted && !set->journal.resumed)
            resume_guest(job, snap_now_ms(), err);
        if (set->journal.freeze_attempted && !set->journal.thawed)
            thaw_guest(job, snap_now_ms(), err);
        set->freeze_ms = freeze_ms;
        set->pause_ms = pause_ms;
    }
    for (i = 0; i < set->nmembers; i++) {
        coord_member *m = &set->members[i];

        /* A pending local member: prepare() may have made its target
         * before the process died, even before the journal named it, and
         * cancel() clears the set's directory. */
        if ((m->state == COORD_MEMBER_PENDING &&
             m->kind != COORD_MEMBER_LOCAL) ||
            m->state == COORD_MEMBER_DELETED)
            continue;
        if (m->kind == COORD_MEMBER_CINDER) {
            if (job->volumes)
                cinder[ncinder++] = i;
        } else if (job->disks) {
            local[nlocal++] = i;
            local_begun = true;
        }
    }
    swept = rollback(job, local, nlocal, cinder, ncinder, local_begun);
    /* A request whose answer never came (timed out: cinder-api stuck on its
     * database) may still be carried out after the job gave up; the set
     * stays a candidate for recovery until a search by its metadata has
     * run here, after the job. */
    for (i = 0; swept && i < ncinder; i++) {
        coord_member *m = &set->members[cinder[i]];

        if (m->state == COORD_MEMBER_FAILED && !m->location)
            m->state = COORD_MEMBER_DELETED;
    }
    set->state = COORD_SET_ERROR;
    set->consistency = COORD_CONSISTENCY_NONE;
    if (!set->error)
        (void)coord_str_set(&set->error, why, NULL);
    set->finished_ms = snap_wall_ms();
    ok = journal_save(job, err) && !snap_error_isset(err);

cleanup:
    free(local);
    free(cinder);
    return ok;
}
