/* tests/fakes/fake_coord.c -- see fake_coord.h. */
#include "fakes/fake_coord.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void
note(fake_world *w, const char *what)
{
    size_t len = strlen(w->log);

    snprintf(w->log + len, sizeof(w->log) - len, "%s%s", len ? " " : "", what);
}

void
fake_world_init(fake_world *w)
{
    memset(w, 0, sizeof(*w));
    w->agent = true;
    w->nfs = 3;
}

void
fake_world_release(fake_world *w)
{
    int i;

    for (i = 0; i < FAKE_MAX_SNAPS; i++)
        free(w->snaps[i]);
    memset(w->snaps, 0, sizeof(w->snaps));
}

int
fake_live_snapshots(const fake_world *w)
{
    int i, n = 0;

    for (i = 0; i < FAKE_MAX_SNAPS; i++)
        n += w->snaps[i] != NULL;
    return n;
}

/* ---- guest ----------------------------------------------------------------
 */

static bool
not_running(fake_world *w, snap_error *err)
{
    (void)w;
    return snap_error_set(err, SNAP_E_STATE,
                          "Requested operation is not valid: domain is not "
                          "running");
}

static bool
f_ping(void *impl, int64_t timeout_ms, snap_error *err)
{
    fake_world *w = impl;

    (void)timeout_ms;
    note(w, "ping");
    if (w->paused)
        return not_running(w, err);
    if (!w->agent)
        return snap_error_set(err, SNAP_E_AGENT,
                              "QEMU guest agent is not connected");
    return true;
}

static int
f_freeze(void *impl, const char *const *mounts, size_t nmounts,
         int64_t timeout_ms, snap_error *err)
{
    fake_world *w = impl;

    (void)mounts;
    (void)timeout_ms;
    note(w, "freeze");
    if (w->paused) {
        not_running(w, err);
        return -1;
    }
    if (!w->agent || w->freeze_mode == FAKE_FREEZE_FAIL) {
        snap_error_set(err, SNAP_E_AGENT, "guest refused to freeze");
        return -1;
    }
    w->frozen = true;
    if (w->freeze_mode == FAKE_FREEZE_TIMEOUT) {
        snap_error_set(err, SNAP_E_TIMEOUT, "guest agent timed out");
        return -1;
    }
    return nmounts ? (int)nmounts : w->nfs;
}

static int
f_thaw(void *impl, int64_t timeout_ms, snap_error *err)
{
    fake_world *w = impl;
    int n;

    (void)timeout_ms;
    note(w, "thaw");
    if (w->paused) {
        not_running(w, err);
        return -1;
    }
    if (w->thaw_failures > 0) {
        w->thaw_failures--;
        snap_error_set(err, SNAP_E_AGENT, "guest agent failed to thaw");
        return -1;
    }
    n = w->frozen ? w->nfs : 0;
    w->frozen = false;
    return n;
}

static int
f_frozen(void *impl, int64_t timeout_ms, snap_error *err)
{
    fake_world *w = impl;

    (void)timeout_ms;
    note(w, "status");
    if (w->paused) {
        not_running(w, err);
        return -1;
    }
    if (w->status_lies) {
        w->status_lies = false;
        return 1;
    }
    return w->frozen ? 1 : 0;
}

static bool
f_pause(void *impl, snap_error *err)
{
    fake_world *w = impl;

    note(w, "pause");
    if (w->pause_fails)
        return snap_error_set(err, SNAP_E_VIRT, "cannot pause the domain");
    w->paused = true;
    return true;
}

static bool
f_resume(void *impl, snap_error *err)
{
    fake_world *w = impl;

    note(w, "resume");
    if (w->resume_failures > 0) {
        w->resume_failures--;
        return snap_error_set(err, SNAP_E_VIRT, "cannot resume the domain");
    }
    w->paused = false;
    return true;
}

const coord_guest_ops fake_guest_ops = {
    .ping = f_ping,
    .freeze = f_freeze,
    .thaw = f_thaw,
    .frozen = f_frozen,
    .pause = f_pause,
    .resume = f_resume,
};

/* ---- local disks ----------------------------------------------------------
 */

static bool
f_begin(void *impl, coord_set *set, const size_t *idx, size_t n,
        snap_error *err)
{
    fake_world *w = impl;
    size_t i;
    char buf[64];

    note(w, "begin");
    if (w->begin_fails)
        return snap_error_set(err, SNAP_E_VIRT, "cannot start the backup job");
    for (i = 0; i < n; i++) {
        snprintf(buf, sizeof(buf), "/sets/%s.qcow2",
                 set->members[idx[i]].target);
        coord_str_set(&set->members[idx[i]].location, buf, NULL);
    }
    w->job_running = true;
    w->local_copies = (int)n;
    return true;
}

static bool
f_finish(void *impl, coord_set *set, const size_t *idx, size_t n,
         int64_t timeout_ms, snap_error *err)
{
    fake_world *w = impl;

    (void)set;
    (void)idx;
    (void)n;
    (void)timeout_ms;
    note(w, "finish");
    w->job_running = false;
    if (w->finish_fails)
        return snap_error_set(err, SNAP_E_VIRT, "backup job failed: disk full");
    return true;
}

static bool
f_wait_copied(void *impl, coord_set *set, const size_t *idx, size_t n,
              int64_t timeout_ms, snap_error *err)
{
    fake_world *w = impl;

    (void)set;
    (void)idx;
    (void)n;
    note(w, "copied");
    w->copy_saw_paused = w->paused;
    w->copy_timeout_seen = timeout_ms;
    if (w->copy_wait_fails)
        return snap_error_set(err, SNAP_E_TIMEOUT,
                              "local copies did not complete");
    w->job_running = false;
    return true;
}

static bool
f_cancel(void *impl, coord_set *set, const size_t *idx, size_t n,
         snap_error *err)
{
    fake_world *w = impl;

    (void)set;
    (void)idx;
    (void)n;
    note(w, "cancel");
    if (w->cancel_fails)
        return snap_error_set(err, SNAP_E_SYSTEM, "cannot remove copies");
    w->job_running = false;
    w->local_copies = 0;
    return true;
}

const coord_disk_ops fake_disk_ops = {
    .begin = f_begin,
    .finish = f_finish,
    .wait = f_wait_copied,
    .cancel = f_cancel,
};

/* Names the copies and makes their (empty) targets, as virt/ does for
 * qcow2 copies before the freeze. */
static bool
f_prepare(void *impl, coord_set *set, const size_t *idx, size_t n,
          snap_error *err)
{
    fake_world *w = impl;
    char buf[64];
    size_t i;

    note(w, "prepare");
    for (i = 0; i < n; i++) {
        snprintf(buf, sizeof(buf), "/sets/%s.qcow2",
                 set->members[idx[i]].target);
        coord_str_set(&set->members[idx[i]].location, buf, NULL);
        if (w->prepare_fails && i == n - 1)
            return snap_error_set(err, SNAP_E_SYSTEM,
                                  "cannot create image: disk full");
        w->local_copies++;
    }
    return true;
}

/* begin() into the prepared targets: they exist already. */
static bool
f_begin_prepared(void *impl, coord_set *set, const size_t *idx, size_t n,
                 snap_error *err)
{
    fake_world *w = impl;

    note(w, "begin");
    (void)set;
    (void)idx;
    if (w->begin_fails)
        return snap_error_set(err, SNAP_E_VIRT, "cannot start the backup job");
    w->job_running = true;
    w->local_copies = (int)n;
    return true;
}

const coord_disk_ops fake_disk_prepare_ops = {
    .prepare = f_prepare,
    .begin = f_begin_prepared,
    .finish = f_finish,
    .wait = f_wait_copied,
    .cancel = f_cancel,
};

/* ---- Cinder ---------------------------------------------------------------
 */

static bool
f_request(void *impl, coord_set *set, const size_t *idx, size_t n,
          snap_error *err)
{
    fake_world *w = impl;
    char id[32];
    size_t i;
    bool ok = true;

    note(w, "request");
    /* Like curl multi: every request goes out; some may fail. */
    for (i = 0; i < n; i++) {
        coord_member *m = &set->members[idx[i]];

        if ((int)i + 1 == w->request_fail_k) {
            m->state = COORD_MEMBER_FAILED;
            ok = snap_error_set_http(err, 500,
                                     "cannot create snapshot of volume '%s': "
                                     "HTTP 500",
                                     m->volume_id);
            continue;
        }
        snprintf(id, sizeof(id), "snap-%d", w->nsnaps_made);
        w->snaps[w->nsnaps_made++] = strdup(id);
        coord_str_set(&m->location, id, NULL);
    }
    return ok;
}

static bool
f_wait(void *impl, coord_set *set, const size_t *idx, size_t n,
       int64_t timeout_ms, snap_error *err)
{
    fake_world *w = impl;

    (void)set;
    (void)idx;
    (void)n;
    note(w, "wait");
    w->wait_timeout_seen = timeout_ms;
    if (w->wait_times_out)
        return snap_error_set(err, SNAP_E_TIMEOUT,
                              "snapshots still creating after %lld ms",
                              (long long)timeout_ms);
    if (w->wait_fails)
        return snap_error_set(err, SNAP_E_HTTP,
                              "snapshot 'snap-0' is in error");
    return true;
}

static bool
f_vfinish(void *impl, coord_set *set, const size_t *idx, size_t n,
          snap_error *err)
{
    fake_world *w = impl;

    (void)idx;
    (void)n;
    note(w, "vfinish");
    if (w->vfinish_fails)
        return snap_error_set_http(err, 500, "cannot update metadata");
    snprintf(w->consistency_recorded, sizeof(w->consistency_recorded), "%s",
             coord_consistency_name(set->consistency));
    return true;
}

static bool
f_remove(void *impl, coord_set *set, coord_member *m, snap_error *err)
{
    fake_world *w = impl;
    int i;

    (void)set;
    note(w, "remove");
    if (w->remove_fails)
        return snap_error_set_http(err, 503, "cinder unavailable");
    for (i = 0; i < FAKE_MAX_SNAPS; i++) {
        if (w->snaps[i] && strcmp(w->snaps[i], m->location) == 0) {
            free(w->snaps[i]);
            w->snaps[i] = NULL;
            return true;
        }
    }
    return snap_error_set(err, SNAP_E_NOTFOUND, "no snapshot '%s'",
                          m->location);
}

const coord_volume_ops fake_volume_ops = {
    .request = f_request,
    .wait_taken = f_wait,
    .finish = f_vfinish,
    .remove = f_remove,
};

/* The search by the set's metadata for snapshots whose ids never came back
 * (fake_volume_sweep_ops only, so other tests' logs stay as they are). */
static bool
f_cleanup(void *impl, coord_set *set, snap_error *err)
{
    fake_world *w = impl;

    (void)set;
    note(w, "sweep");
    if (w->sweep_fails)
        return snap_error_set_http(err, 503, "cinder unavailable");
    w->unrecorded = 0;
    return true;
}

const coord_volume_ops fake_volume_sweep_ops = {
    .request = f_request,
    .wait_taken = f_wait,
    .finish = f_vfinish,
    .remove = f_remove,
    .cleanup = f_cleanup,
};

/* ---- journal --------------------------------------------------------------
 */

static bool
f_save(void *impl, const coord_set *set, snap_error *err)
{
    fake_world *w = impl;

    w->saves++;
    if (w->fail_save_at && w->saves == w->fail_save_at)
        return snap_error_set(err, SNAP_E_SYSTEM, "no space left on device");
    w->last_journal = set->journal;
    w->last_state = set->state;
    return true;
}

const coord_journal_ops fake_journal_ops = {.save = f_save};

/* ---- watchdog -------------------------------------------------------------
 */

static bool
f_arm(void *impl, int64_t timeout_ms, snap_error *err)
{
    fake_world *w = impl;

    (void)timeout_ms;
    (void)err;
    note(w, "arm");
    w->watchdog_armed = true;
    return true;
}

static void
f_wpaused(void *impl)
{
    note(impl, "wpause");
}

static bool
f_disarm(void *impl, bool *fired, snap_error *err)
{
    fake_world *w = impl;

    (void)err;
    note(w, "disarm");
    w->watchdog_armed = false;
    *fired = w->watchdog_fires;
    return true;
}

const coord_watchdog_ops fake_watchdog_ops = {
    .arm = f_arm,
    .paused = f_wpaused,
    .disarm = f_disarm,
};

/* ---- RAM state ------------------------------------------------------------
 */

static bool
f_msave(void *impl, coord_set *set, int64_t timeout_ms, snap_error *err)
{
    fake_world *w = impl;

    (void)set;
    note(w, "memory");
    w->memory_timeout_seen = timeout_ms;
    w->memory_saw_paused = w->paused;
    w->memory_saw_frozen = w->frozen;
    w->memory_exists = true; /* also a failed save may leave a partial file */
    if (w->memory_fails)
        return snap_error_set(err, SNAP_E_VIRT, "cannot save the memory");
    return true;
}

static bool
f_mremove(void *impl, coord_set *set, snap_error *err)
{
    fake_world *w = impl;

    (void)set;
    note(w, "mremove");
    if (w->memory_remove_fails)
        return snap_error_set(err, SNAP_E_SYSTEM, "cannot remove the memory");
    w->memory_exists = false;
    return true;
}

const coord_memory_ops fake_memory_ops = {
    .save = f_msave,
    .remove = f_mremove,
};

/* ---- helpers --------------------------------------------------------------
 */

coord_set *
fake_set_new(int nlocal, int ncinder)
{
    coord_set *set = coord_set_new(NULL);
    char buf[32];
    int i;

    coord_str_set(&set->domain_name, "testvm", NULL);
    for (i = 0; i < nlocal + ncinder; i++) {
        coord_member *m = coord_set_add_member(set, NULL);

        snprintf(buf, sizeof(buf), "vd%c", 'a' + i);
        coord_str_set(&m->target, buf, NULL);
        if (i >= nlocal) {
            m->kind = COORD_MEMBER_CINDER;
            snprintf(buf, sizeof(buf), "vol-%d", i);
            coord_str_set(&m->volume_id, buf, NULL);
        }
    }
    return set;
}

void
fake_job_init(coord_job *job, fake_world *w, coord_set *set)
{
    memset(job, 0, sizeof(*job));
    coord_job_opts_init(&job->opts);
    job->set = set;
    job->guest = &fake_guest_ops;
    job->guest_impl = w;
    job->disks = &fake_disk_ops;
    job->disks_impl = w;
    job->volumes = &fake_volume_ops;
    job->volumes_impl = w;
    job->journal = &fake_journal_ops;
    job->journal_impl = w;
    job->memory = &fake_memory_ops;
    job->memory_impl = w;
}
