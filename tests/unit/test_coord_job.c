/* tests/unit/test_coord_job.c -- the snapshot-set state machine, driven
 * through every failure path with a fake guest, fake disks and fake Cinder.
 * In every case: the guest ends thawed and running, nothing made is left
 * behind unrecorded, and the first error is the one reported. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>
#include <string.h>

#include "fakes/fake_coord.h"

typedef struct fixture {
    fake_world w;
    coord_set *set;
    coord_job job;
    snap_error err;
} fixture;

static fixture *
setup_fixture(int nlocal, int ncinder)
{
    fixture *f = test_calloc(1, sizeof(*f));

    fake_world_init(&f->w);
    f->set = fake_set_new(nlocal, ncinder);
    fake_job_init(&f->job, &f->w, f->set);
    return f;
}

static int
setup_2_2(void **state)
{
    *state = setup_fixture(2, 2);
    return 0;
}

static int
setup_1_3(void **state)
{
    *state = setup_fixture(1, 3);
    return 0;
}

static int
teardown(void **state)
{
    fixture *f = *state;

    coord_set_free(f->set);
    fake_world_release(&f->w);
    test_free(f);
    return 0;
}

/* What must hold after any run, successful or not. */
static void
assert_guest_released(const fixture *f)
{
    assert_false(f->w.frozen);
    assert_false(f->w.paused);
    assert_false(f->w.job_running);
}

/* Every member is either available (success), or deleted, or recorded as
 * failed with what remains; the fake cloud holds nothing unrecorded. */
static void
assert_nothing_left_unrecorded(const fixture *f)
{
    size_t i;
    int recorded = 0;

    for (i = 0; i < f->set->nmembers; i++) {
        const coord_member *m = &f->set->members[i];

        if (m->kind == COORD_MEMBER_CINDER && m->location &&
            m->state == COORD_MEMBER_FAILED)
            recorded++;
        if (f->set->state == COORD_SET_ERROR)
            assert_int_not_equal(m->state, COORD_MEMBER_AVAILABLE);
    }
    if (f->set->state == COORD_SET_ERROR) {
        assert_int_equal(fake_live_snapshots(&f->w), recorded);
        assert_int_equal(f->w.local_copies, 0);
        assert_int_equal(f->w.last_state, COORD_SET_ERROR);
        assert_non_null(f->set->error);
    }
}

static void
the_happy_path_freezes_snapshots_everything_and_thaws(void **state)
{
    fixture *f = *state;

    assert_true(coord_job_run(&f->job, &f->err));
    assert_string_equal(f->w.log, "ping freeze request begin wait thaw "
                                  "status vfinish finish");
    assert_int_equal(f->set->state, COORD_SET_AVAILABLE);
    assert_int_equal(f->set->consistency, COORD_CONSISTENCY_FILESYSTEM);
    assert_int_equal(f->set->frozen_count, 3);
    assert_true(f->set->freeze_ms >= 0);
    assert_int_equal(f->set->pause_ms, -1);
    assert_int_equal(fake_live_snapshots(&f->w), 2);
    assert_int_equal(f->w.last_state, COORD_SET_AVAILABLE);
    assert_string_equal(f->w.consistency_recorded, "filesystem");
    assert_true(f->w.last_journal.thawed);
    assert_guest_released(f);
}

static void
pausing_happens_after_the_freeze_and_resume_before_the_thaw(void **state)
{
    fixture *f = *state;

    f->job.opts.pause = true;
    assert_true(coord_job_run(&f->job, &f->err));
    assert_string_equal(f->w.log, "ping freeze pause request begin wait "
                                  "resume thaw status vfinish finish");
    assert_true(f->set->pause_ms >= 0);
    assert_true(f->w.last_journal.resumed);
    assert_guest_released(f);
}

static void
an_absent_agent_fails_a_required_quiesce_without_touching_anything(void **state)
{
    fixture *f = *state;

    f->w.agent = false;
    f->job.opts.quiesce = COORD_QUIESCE_REQUIRED;
    assert_false(coord_job_run(&f->job, &f->err));
    assert_int_equal(f->err.code, SNAP_E_AGENT);
    assert_string_equal(f->w.log, "ping");
    assert_int_equal(f->set->state, COORD_SET_ERROR);
    assert_int_equal(fake_live_snapshots(&f->w), 0);
    assert_guest_released(f);
    assert_nothing_left_unrecorded(f);
}

static void
an_absent_agent_gives_a_paused_crash_consistent_set_when_preferred(void **state)
{
    fixture *f = *state;

    f->w.agent = false;
    f->job.opts.quiesce = COORD_QUIESCE_PREFERRED;
    assert_true(coord_job_run(&f->job, &f->err));
    assert_string_equal(f->w.log, "ping pause request begin wait resume "
                                  "vfinish finish");
    assert_int_equal(f->set->consistency, COORD_CONSISTENCY_CRASH);
    assert_int_equal(f->set->freeze_ms, -1);
    assert_true(f->set->pause_ms >= 0);
    assert_guest_released(f);
}

static void
quiesce_off_never_asks_the_agent(void **state)
{
    fixture *f = *state;

    f->job.opts.quiesce = COORD_QUIESCE_OFF;
    assert_true(coord_job_run(&f->job, &f->err));
    assert_string_equal(f->w.log, "request begin wait vfinish finish");
    assert_int_equal(f->set->consistency, COORD_CONSISTENCY_CRASH);
}

static void
a_refused_freeze_is_thawed_anyway_and_reported(void **state)
{
    fixture *f = *state;

    f->w.freeze_mode = FAKE_FREEZE_FAIL;
    assert_false(coord_job_run(&f->job, &f->err));
    assert_int_equal(f->err.code, SNAP_E_AGENT);
    assert_string_equal(f->err.msg, "guest refused to freeze");
    assert_string_equal(f->w.log, "ping freeze thaw status");
    assert_guest_released(f);
    assert_nothing_left_unrecorded(f);
}

static void
a_freeze_that_times_out_but_froze_the_guest_is_thawed(void **state)
{
    fixture *f = *state;

    f->w.freeze_mode = FAKE_FREEZE_TIMEOUT;
    assert_false(coord_job_run(&f->job, &f->err));
    assert_int_equal(f->err.code, SNAP_E_TIMEOUT);
    assert_guest_released(f);
    assert_true(f->w.last_journal.thawed);
    assert_nothing_left_unrecorded(f);
}

static void
a_failed_pause_thaws_and_reports_the_pause(void **state)
{
    fixture *f = *state;

    f->job.opts.pause = true;
    f->w.pause_fails = true;
    assert_false(coord_job_run(&f->job, &f->err));
    assert_int_equal(f->err.code, SNAP_E_VIRT);
    assert_string_equal(f->err.msg, "cannot pause the domain");
    assert_guest_released(f);
    assert_nothing_left_unrecorded(f);
}

static void
the_kth_volume_failing_deletes_the_others_and_thaws(void **state)
{
    fixture *f = *state;

    f->job.opts.pause = true;
    f->w.request_fail_k = 2; /* of three Cinder members */
    assert_false(coord_job_run(&f->job, &f->err));
    assert_int_equal(f->err.code, SNAP_E_HTTP);
    assert_int_equal(f->err.http_status, 500);
    assert_string_equal(f->err.msg,
                        "cannot create snapshot of volume 'vol-2': HTTP 500");
    assert_int_equal(fake_live_snapshots(&f->w), 0);
    assert_guest_released(f);
    assert_nothing_left_unrecorded(f);
}

static void
a_failed_local_backup_start_deletes_the_volume_snapshots(void **state)
{
    fixture *f = *state;

    f->w.begin_fails = true;
    assert_false(coord_job_run(&f->job, &f->err));
    assert_string_equal(f->err.msg, "cannot start the backup job");
    assert_int_equal(fake_live_snapshots(&f->w), 0);
    assert_guest_released(f);
    assert_nothing_left_unrecorded(f);
}

static void
a_volume_wait_timeout_is_bounded_by_the_frozen_window(void **state)
{
    fixture *f = *state;

    f->job.opts.frozen_timeout_ms = 1500;
    f->w.wait_times_out = true;
    assert_false(coord_job_run(&f->job, &f->err));
    assert_int_equal(f->err.code, SNAP_E_TIMEOUT);
    assert_true(f->w.wait_timeout_seen <= 1500);
    assert_int_equal(fake_live_snapshots(&f->w), 0);
    assert_guest_released(f);
    assert_nothing_left_unrecorded(f);
}

static void
a_snapshot_in_error_fails_the_set(void **state)
{
    fixture *f = *state;

    f->w.wait_fails = true;
    assert_false(coord_job_run(&f->job, &f->err));
    assert_int_equal(f->err.code, SNAP_E_HTTP);
    assert_guest_released(f);
    assert_nothing_left_unrecorded(f);
}

static void
a_failed_resume_is_retried_and_reported_first(void **state)
{
    fixture *f = *state;

    f->job.opts.pause = true;
    f->w.resume_failures = 1;
    assert_false(coord_job_run(&f->job, &f->err));
    assert_string_equal(f->err.msg, "cannot resume the domain");
    assert_string_equal(f->w.log,
                        "ping freeze pause request begin wait "
                        "resume resume thaw status cancel remove remove "
                        "remove");
    assert_guest_released(f);
    assert_nothing_left_unrecorded(f);
}

static void
a_failed_thaw_is_retried_and_reported(void **state)
{
    fixture *f = *state;

    f->w.thaw_failures = 1;
    assert_false(coord_job_run(&f->job, &f->err));
    assert_string_equal(f->err.msg, "guest agent failed to thaw");
    assert_guest_released(f);
    assert_true(f->w.last_journal.thawed);
    assert_nothing_left_unrecorded(f);
}

static void
a_thaw_that_never_works_is_left_in_the_journal_for_recovery(void **state)
{
    fixture *f = *state;

    f->w.thaw_failures = 100;
    assert_false(coord_job_run(&f->job, &f->err));
    /* The one line the user sees says what matters most. */
    assert_int_equal(f->err.code, SNAP_E_AGENT);
    assert_string_equal(f->err.msg, "domain 'testvm' may be left frozen: "
                                    "guest agent failed to thaw");
    assert_int_equal(f->set->state, COORD_SET_ERROR);
    assert_string_equal(f->set->error, f->err.msg);
    assert_true(f->w.frozen);
    assert_true(f->w.last_journal.freeze_attempted);
    assert_false(f->w.last_journal.thawed);
    assert_nothing_left_unrecorded(f);
    /* `snapset recover` later, when the agent works again. */
    f->w.thaw_failures = 0;
    snap_error_clear(&f->err);
    assert_true(coord_job_recover(&f->job, "interrupted", &f->err));
    assert_false(f->w.frozen);
}

/* The agent stops answering inside the window (qemu-ga SIGSTOPped after
 * the freeze) and a snapshot fails too: the first error stays the one
 * reported, the set is recorded as error with the journal saying the guest
 * may be frozen, and recovering that failed set (what `snapset recover`
 * does for it) thaws the guest and is idempotent. */
static void
a_failed_set_left_frozen_is_thawed_by_recovery_and_keeps_its_error(void **state)
{
    fixture *f = *state;

    f->w.wait_fails = true;
    f->w.thaw_failures = 100;
    assert_false(coord_job_run(&f->job, &f->err));
    assert_int_equal(f->err.code, SNAP_E_HTTP);
    assert_int_equal(f->set->state, COORD_SET_ERROR);
    assert_true(f->w.frozen);
    assert_false(f->w.paused);
    assert_true(f->w.last_journal.freeze_attempted);
    assert_false(f->w.last_journal.thawed);
    assert_nothing_left_unrecorded(f);
    f->w.thaw_failures = 0;
    memset(f->w.log, 0, sizeof(f->w.log));
    snap_error_clear(&f->err);
    assert_true(coord_job_recover(&f->job, "failed", &f->err));
    assert_string_equal(f->w.log, "thaw status");
    assert_guest_released(f);
    assert_true(f->w.last_journal.thawed);
    assert_int_equal(f->set->state, COORD_SET_ERROR);
    assert_string_not_equal(f->set->error, "failed"); /* the cause stays */
    assert_nothing_left_unrecorded(f);
    memset(f->w.log, 0, sizeof(f->w.log));
    assert_true(coord_job_recover(&f->job, "failed", &f->err));
    assert_string_equal(f->w.log, "");
}

/* A snapshot request that timed out (cinder-api stuck on its database) is
 * carried out by Cinder after the job gave up: the failed set stays a
 * candidate for recovery, whose search by metadata finds and deletes it;
 * then the member is settled and a failing search leaves it for later. */
static void
a_request_carried_out_after_the_failure_is_found_by_recovery(void **state)
{
    fixture *f = *state;
    size_t i;

    f->job.volumes = &fake_volume_sweep_ops;
    f->w.request_fail_k = 1;
    assert_false(coord_job_run(&f->job, &f->err));
    assert_int_equal(f->set->state, COORD_SET_ERROR);
    assert_guest_released(f);
    for (i = 0; i < f->set->nmembers; i++) {
        if (f->set->members[i].kind == COORD_MEMBER_CINDER &&
            !f->set->members[i].location)
            break;
    }
    assert_true(i < f->set->nmembers);
    /* Still unsettled after the job: the search ran too early. */
    assert_int_equal(f->set->members[i].state, COORD_MEMBER_FAILED);
    f->w.unrecorded = 1; /* Cinder made it now */
    f->w.sweep_fails = true;
    snap_error_clear(&f->err);
    (void)coord_job_recover(&f->job, "failed", &f->err);
    assert_int_equal(f->w.unrecorded, 1);
    assert_int_equal(f->set->members[i].state, COORD_MEMBER_FAILED);
    f->w.sweep_fails = false;
    memset(f->w.log, 0, sizeof(f->w.log));
    snap_error_clear(&f->err);
    assert_true(coord_job_recover(&f->job, "failed", &f->err));
    assert_string_equal(f->w.log, "sweep");
    assert_int_equal(f->w.unrecorded, 0);
    assert_int_equal(f->set->members[i].state, COORD_MEMBER_DELETED);
    assert_int_equal(f->set->state, COORD_SET_ERROR);
    assert_nothing_left_unrecorded(f);
}

static void
a_status_still_frozen_after_thaw_thaws_again(void **state)
{
    fixture *f = *state;

    f->w.status_lies = true;
    assert_false(coord_job_run(&f->job, &f->err));
    assert_int_equal(f->err.code, SNAP_E_AGENT);
    assert_string_equal(f->w.log, "ping freeze request begin wait thaw status "
                                  "thaw status cancel remove remove");
    assert_guest_released(f);
    assert_nothing_left_unrecorded(f);
}

static void
a_journal_that_cannot_be_written_stops_before_the_guest_is_touched(void **state)
{
    fixture *f = *state;

    f->w.fail_save_at = 1;
    assert_false(coord_job_run(&f->job, &f->err));
    assert_int_equal(f->err.code, SNAP_E_SYSTEM);
    assert_string_equal(f->w.log, "");
}

static void
a_journal_failure_before_the_freeze_leaves_the_guest_untouched(void **state)
{
    fixture *f = *state;

    f->w.fail_save_at = 2; /* the "freeze attempted" record */
    assert_false(coord_job_run(&f->job, &f->err));
    assert_string_equal(f->w.log, "ping");
    assert_guest_released(f);
}

static void
a_journal_failure_inside_the_freeze_thaws(void **state)
{
    fixture *f = *state;

    f->w.fail_save_at = 3; /* the "requested" record */
    assert_false(coord_job_run(&f->job, &f->err));
    assert_string_equal(f->err.msg, "no space left on device");
    assert_string_equal(f->w.log, "ping freeze thaw status");
    assert_guest_released(f);
}

static void
an_undeletable_snapshot_stays_recorded_with_its_id(void **state)
{
    fixture *f = *state;

    f->w.wait_fails = true;
    f->w.remove_fails = true;
    assert_false(coord_job_run(&f->job, &f->err));
    assert_int_equal(f->err.code, SNAP_E_HTTP);
    assert_int_equal(fake_live_snapshots(&f->w), 3);
    assert_int_equal(f->set->members[1].state, COORD_MEMBER_FAILED);
    assert_string_equal(f->set->members[1].location, "snap-0");
    assert_guest_released(f);
    assert_nothing_left_unrecorded(f);
}

static void
a_copy_failing_after_the_thaw_rolls_everything_back(void **state)
{
    fixture *f = *state;

    f->w.finish_fails = true;
    assert_false(coord_job_run(&f->job, &f->err));
    assert_string_equal(f->err.msg, "backup job failed: disk full");
    assert_int_equal(fake_live_snapshots(&f->w), 0);
    assert_guest_released(f);
    assert_nothing_left_unrecorded(f);
}

static void
a_consistency_that_cannot_be_recorded_fails_the_set(void **state)
{
    fixture *f = *state;

    f->w.vfinish_fails = true;
    assert_false(coord_job_run(&f->job, &f->err));
    assert_string_equal(f->err.msg, "cannot update metadata");
    assert_int_equal(fake_live_snapshots(&f->w), 0);
    assert_guest_released(f);
    assert_nothing_left_unrecorded(f);
}

static void
the_watchdog_is_armed_before_the_freeze_and_disarmed_after_the_thaw(
    void **state)
{
    fixture *f = *state;

    f->job.watchdog = &fake_watchdog_ops;
    f->job.watchdog_impl = &f->w;
    f->job.opts.pause = true;
    assert_true(coord_job_run(&f->job, &f->err));
    assert_string_equal(f->w.log, "ping arm freeze wpause pause request begin "
                                  "wait resume thaw status disarm vfinish "
                                  "finish");
    assert_false(f->w.watchdog_armed);
}

static void
a_fired_watchdog_fails_the_set(void **state)
{
    fixture *f = *state;

    f->job.watchdog = &fake_watchdog_ops;
    f->job.watchdog_impl = &f->w;
    f->w.watchdog_fires = true;
    assert_false(coord_job_run(&f->job, &f->err));
    assert_int_equal(f->err.code, SNAP_E_TIMEOUT);
    assert_non_null(strstr(f->err.msg, "freeze watchdog fired"));
    assert_int_equal(fake_live_snapshots(&f->w), 0);
    assert_guest_released(f);
    assert_nothing_left_unrecorded(f);
}

static void
recovery_resumes_and_thaws_a_guest_left_by_a_dead_process(void **state)
{
    fixture *f = *state;
    size_t i;

    /* What a process killed inside the frozen, paused window leaves. */
    f->w.frozen = true;
    f->w.paused = true;
    f->set->journal.freeze_attempted = true;
    f->set->journal.pause_attempted = true;
    for (i = 0; i < f->set->nmembers; i++)
        f->set->members[i].state = COORD_MEMBER_REQUESTED;
    f->w.snaps[0] = strdup("snap-x");
    coord_str_set(&f->set->members[2].location, "snap-x", NULL);
    assert_true(coord_job_recover(&f->job, "interrupted", &f->err));
    assert_string_equal(f->w.log, "resume thaw status cancel remove");
    assert_guest_released(f);
    assert_int_equal(f->set->state, COORD_SET_ERROR);
    assert_string_equal(f->set->error, "interrupted");
    assert_nothing_left_unrecorded(f);
    /* Idempotent: a second run finds nothing to do. */
    memset(f->w.log, 0, sizeof(f->w.log));
    assert_true(coord_job_recover(&f->job, "interrupted", &f->err));
    assert_guest_released(f);
}

/* RAM state: never frozen (it would come back frozen), saved while the
 * vCPUs are paused and before any disk's point is fixed, so the memory and
 * every disk are the same instant. */
static void
a_memory_set_pauses_saves_ram_then_fixes_the_disks(void **state)
{
    fixture *f = *state;

    f->job.opts.memory = true;
    coord_str_set(&f->set->memory, "/sets/x/memory.state", NULL);
    assert_true(coord_job_run(&f->job, &f->err));
    assert_string_equal(f->w.log, "pause memory request begin wait copied "
                                  "resume vfinish finish");
    assert_true(f->w.copy_saw_paused);
    assert_true(f->w.copy_timeout_seen <= f->job.opts.frozen_timeout_ms);
    assert_true(f->w.memory_saw_paused);
    assert_false(f->w.memory_saw_frozen);
    assert_true(f->w.memory_exists);
    assert_true(f->w.memory_timeout_seen > 0);
    assert_true(f->w.memory_timeout_seen <= f->job.opts.frozen_timeout_ms);
    assert_int_equal(f->set->consistency, COORD_CONSISTENCY_CRASH);
    assert_int_equal(f->set->quiesce, COORD_QUIESCE_OFF);
    assert_true(f->set->pause_requested);
    assert_true(f->set->t_memory >= 0);
    assert_true(f->set->pause_ms >= 0);
    assert_int_equal(f->set->freeze_ms, -1);
    assert_true(f->w.last_journal.memory_attempted);
    assert_guest_released(f);
}

static void
a_failed_memory_save_resumes_and_removes_the_partial_file(void **state)
{
    fixture *f = *state;

    f->job.opts.memory = true;
    f->w.memory_fails = true;
    coord_str_set(&f->set->memory, "/sets/x/memory.state", NULL);
    assert_false(coord_job_run(&f->job, &f->err));
    assert_string_equal(f->err.msg, "cannot save the memory");
    assert_string_equal(f->w.log, "pause memory resume mremove");
    assert_false(f->w.memory_exists);
    assert_null(f->set->memory);
    assert_int_equal(f->set->state, COORD_SET_ERROR);
    assert_guest_released(f);
    assert_nothing_left_unrecorded(f);
}

static void
a_failure_after_the_memory_save_removes_it_with_the_rest(void **state)
{
    fixture *f = *state;

    f->job.opts.memory = true;
    f->w.begin_fails = true;
    coord_str_set(&f->set->memory, "/sets/x/memory.state", NULL);
    assert_false(coord_job_run(&f->job, &f->err));
    assert_false(f->w.memory_exists);
    assert_null(f->set->memory);
    assert_int_equal(fake_live_snapshots(&f->w), 0);
    assert_guest_released(f);
    assert_nothing_left_unrecorded(f);
}

/* The copies of a RAM set end before the guest runs; when they cannot
 * within the paused window, the guest resumes and nothing is kept. */
static void
a_memory_set_whose_copies_outlast_the_pause_is_undone(void **state)
{
    fixture *f = *state;

    f->job.opts.memory = true;
    f->w.copy_wait_fails = true;
    coord_str_set(&f->set->memory, "/sets/x/memory.state", NULL);
    assert_false(coord_job_run(&f->job, &f->err));
    assert_string_equal(f->err.msg, "local copies did not complete");
    assert_string_equal(f->w.log, "pause memory request begin wait copied "
                                  "resume cancel remove remove mremove");
    assert_false(f->w.memory_exists);
    assert_int_equal(f->w.local_copies, 0);
    assert_int_equal(fake_live_snapshots(&f->w), 0);
    assert_int_equal(f->set->state, COORD_SET_ERROR);
    assert_guest_released(f);
    assert_nothing_left_unrecorded(f);
}

/* Without a memory save the guest resumes before the copies end. */
static void
a_set_without_memory_resumes_before_its_copies_end(void **state)
{
    fixture *f = *state;

    f->job.opts.pause = true;
    assert_true(coord_job_run(&f->job, &f->err));
    assert_null(strstr(f->w.log, "copied"));
    assert_true(strstr(f->w.log, "resume") < strstr(f->w.log, "finish"));
}

static void
an_unremovable_memory_file_stays_recorded(void **state)
{
    fixture *f = *state;

    f->job.opts.memory = true;
    f->w.memory_fails = true;
    f->w.memory_remove_fails = true;
    coord_str_set(&f->set->memory, "/sets/x/memory.state", NULL);
    assert_false(coord_job_run(&f->job, &f->err));
    assert_string_equal(f->err.msg, "cannot save the memory");
    assert_true(f->w.memory_exists);
    assert_string_equal(f->set->memory, "/sets/x/memory.state");
    assert_true(f->w.last_journal.memory_attempted);
    assert_guest_released(f);
}

static void
a_memory_set_cannot_require_quiesce(void **state)
{
    fixture *f = *state;

    f->job.opts.memory = true;
    f->job.opts.quiesce = COORD_QUIESCE_REQUIRED;
    coord_str_set(&f->set->memory, "/sets/x/memory.state", NULL);
    assert_false(coord_job_run(&f->job, &f->err));
    assert_int_equal(f->err.code, SNAP_E_INVALID);
    assert_non_null(strstr(f->err.msg, "would come back frozen"));
    assert_string_equal(f->w.log, "");
}

static void
recovery_removes_the_memory_of_a_dead_process(void **state)
{
    fixture *f = *state;

    f->w.paused = true;
    f->w.memory_exists = true;
    f->set->journal.pause_attempted = true;
    f->set->journal.memory_attempted = true;
    coord_str_set(&f->set->memory, "/sets/x/memory.state", NULL);
    assert_true(coord_job_recover(&f->job, "interrupted", &f->err));
    assert_string_equal(f->w.log, "resume cancel mremove");
    assert_false(f->w.memory_exists);
    assert_null(f->set->memory);
    assert_guest_released(f);
}

static void
a_set_without_disks_is_refused(void **state)
{
    fake_world w;
    coord_set *set = fake_set_new(0, 0);
    coord_job job;
    snap_error err = {0};

    (void)state;
    fake_world_init(&w);
    fake_job_init(&job, &w, set);
    assert_false(coord_job_run(&job, &err));
    assert_int_equal(err.code, SNAP_E_INVALID);
    assert_string_equal(w.log, "");
    coord_set_free(set);
}

/* The copies' targets are made after the intent is journaled and before
 * the guest is touched, and the journal records where they are before the
 * freeze: the frozen window only starts the job. */
static void
targets_are_prepared_and_journaled_before_the_freeze(void **state)
{
    fixture *f = *state;

    f->job.disks = &fake_disk_prepare_ops;
    assert_true(coord_job_run(&f->job, &f->err));
    assert_string_equal(f->w.log, "prepare ping freeze request begin wait "
                                  "thaw status vfinish finish");
    assert_int_equal(f->set->state, COORD_SET_AVAILABLE);
    assert_string_equal(f->set->members[0].location, "/sets/vda.qcow2");
    assert_guest_released(f);
}

/* A target that cannot be made fails the set before the guest is
 * touched, and what was made goes again. */
static void
a_failed_prepare_removes_the_targets_and_never_freezes(void **state)
{
    fixture *f = *state;

    f->job.disks = &fake_disk_prepare_ops;
    f->w.prepare_fails = true;
    assert_false(coord_job_run(&f->job, &f->err));
    assert_string_equal(f->err.msg, "cannot create image: disk full");
    assert_string_equal(f->w.log, "prepare cancel");
    assert_int_equal(f->set->state, COORD_SET_ERROR);
    assert_nothing_left_unrecorded(f);
    assert_guest_released(f);
}

/* A journal that cannot record the targets fails the set before the
 * guest is touched: nothing unrecorded is left. */
static void
a_journal_failure_after_prepare_removes_the_targets(void **state)
{
    fixture *f = *state;

    f->job.disks = &fake_disk_prepare_ops;
    f->w.fail_save_at = 2; /* the record of the prepared targets */
    assert_false(coord_job_run(&f->job, &f->err));
    assert_string_equal(f->w.log, "prepare cancel");
    assert_int_equal(f->w.local_copies, 0);
    assert_guest_released(f);
}

/* A process that died after making the targets (members still pending,
 * with their locations journaled) is cleaned up by recovery. */
static void
recovery_removes_targets_a_dead_process_prepared(void **state)
{
    fixture *f = *state;
    size_t i;

    f->job.disks = &fake_disk_prepare_ops;
    assert_true(fake_disk_prepare_ops.prepare(&f->w, f->set, (size_t[]){0, 1},
                                              2, &f->err));
    assert_int_equal(f->w.local_copies, 2);
    assert_true(coord_job_recover(&f->job, "interrupted", &f->err));
    assert_non_null(strstr(f->w.log, "cancel"));
    assert_int_equal(f->w.local_copies, 0);
    for (i = 0; i < 2; i++)
        assert_int_equal(f->set->members[i].state, COORD_MEMBER_DELETED);
    assert_int_equal(f->set->state, COORD_SET_ERROR);
}

/* Killed inside prepare(): the targets exist, the journal has no names
 * for them yet; the set's directory is cleared all the same. */
static void
recovery_removes_targets_the_journal_never_named(void **state)
{
    fixture *f = *state;
    size_t i;

    f->job.disks = &fake_disk_prepare_ops;
    assert_true(fake_disk_prepare_ops.prepare(&f->w, f->set, (size_t[]){0, 1},
                                              2, &f->err));
    for (i = 0; i < 2; i++) {
        free(f->set->members[i].location);
        f->set->members[i].location = NULL;
    }
    assert_true(coord_job_recover(&f->job, "interrupted", &f->err));
    assert_non_null(strstr(f->w.log, "cancel"));
    assert_int_equal(f->w.local_copies, 0);
    for (i = 0; i < 2; i++)
        assert_int_equal(f->set->members[i].state, COORD_MEMBER_DELETED);
    assert_int_equal(f->set->state, COORD_SET_ERROR);
}

#define T(name, setup) cmocka_unit_test_setup_teardown(name, setup, teardown)

int
main(void)
{
    const struct CMUnitTest tests[] = {
        T(the_happy_path_freezes_snapshots_everything_and_thaws, setup_2_2),
        T(pausing_happens_after_the_freeze_and_resume_before_the_thaw,
          setup_2_2),
        T(an_absent_agent_fails_a_required_quiesce_without_touching_anything,
          setup_2_2),
        T(an_absent_agent_gives_a_paused_crash_consistent_set_when_preferred,
          setup_2_2),
        T(quiesce_off_never_asks_the_agent, setup_2_2),
        T(a_refused_freeze_is_thawed_anyway_and_reported, setup_2_2),
        T(a_freeze_that_times_out_but_froze_the_guest_is_thawed, setup_2_2),
        T(a_failed_pause_thaws_and_reports_the_pause, setup_2_2),
        T(the_kth_volume_failing_deletes_the_others_and_thaws, setup_1_3),
        T(a_failed_local_backup_start_deletes_the_volume_snapshots, setup_2_2),
        T(a_volume_wait_timeout_is_bounded_by_the_frozen_window, setup_2_2),
        T(a_snapshot_in_error_fails_the_set, setup_2_2),
        T(a_failed_resume_is_retried_and_reported_first, setup_1_3),
        T(a_failed_thaw_is_retried_and_reported, setup_2_2),
        T(a_thaw_that_never_works_is_left_in_the_journal_for_recovery,
          setup_2_2),
        T(a_failed_set_left_frozen_is_thawed_by_recovery_and_keeps_its_error,
          setup_2_2),
        T(a_request_carried_out_after_the_failure_is_found_by_recovery,
          setup_2_2),
        T(a_status_still_frozen_after_thaw_thaws_again, setup_2_2),
        T(a_journal_that_cannot_be_written_stops_before_the_guest_is_touched,
          setup_2_2),
        T(a_journal_failure_before_the_freeze_leaves_the_guest_untouched,
          setup_2_2),
        T(a_journal_failure_inside_the_freeze_thaws, setup_2_2),
        T(an_undeletable_snapshot_stays_recorded_with_its_id, setup_1_3),
        T(a_copy_failing_after_the_thaw_rolls_everything_back, setup_2_2),
        T(a_consistency_that_cannot_be_recorded_fails_the_set, setup_2_2),
        T(the_watchdog_is_armed_before_the_freeze_and_disarmed_after_the_thaw,
          setup_2_2),
        T(a_fired_watchdog_fails_the_set, setup_2_2),
        T(recovery_resumes_and_thaws_a_guest_left_by_a_dead_process, setup_2_2),
        T(a_memory_set_pauses_saves_ram_then_fixes_the_disks, setup_2_2),
        T(a_failed_memory_save_resumes_and_removes_the_partial_file, setup_2_2),
        T(a_memory_set_whose_copies_outlast_the_pause_is_undone, setup_2_2),
        T(a_set_without_memory_resumes_before_its_copies_end, setup_2_2),
        T(a_failure_after_the_memory_save_removes_it_with_the_rest, setup_2_2),
        T(an_unremovable_memory_file_stays_recorded, setup_2_2),
        T(a_memory_set_cannot_require_quiesce, setup_2_2),
        T(recovery_removes_the_memory_of_a_dead_process, setup_2_2),
        T(targets_are_prepared_and_journaled_before_the_freeze, setup_2_2),
        T(a_failed_prepare_removes_the_targets_and_never_freezes, setup_2_2),
        T(a_journal_failure_after_prepare_removes_the_targets, setup_2_2),
        T(recovery_removes_targets_a_dead_process_prepared, setup_2_2),
        T(recovery_removes_targets_the_journal_never_named, setup_2_2),
        cmocka_unit_test(a_set_without_disks_is_refused),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
