/* tests/unit/test_cinder_wait.c -- parallel snapshot creation and the one
 * poller: all POSTs in one batch, one deadline, one list request per round
 * (>= 3.22), per-id batches below it, error and timeout reporting. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cinder/cinder.h"
#include "cinder/cinder_priv.h"
#include "common/snap_time.h"
#include "fakes/fake_http.h"

#define PROJECT "0123456789abcdef0123456789abcdef"
#define ENDPOINT "http://cinder.test:8776/v3/" PROJECT
#define VOL_A "aaaaaaaa-0000-4000-8000-000000000001"
#define VOL_B "aaaaaaaa-0000-4000-8000-000000000002"
#define VOL_C "aaaaaaaa-0000-4000-8000-000000000003"
#define SNAP_A "5a5a5a5a-0000-4000-8000-00000000000a"
#define SNAP_B "5a5a5a5a-0000-4000-8000-00000000000b"
#define SNAP_C "5a5a5a5a-0000-4000-8000-00000000000c"
#define SET "c0c0c0c0-1111-4222-8333-444455556666"
#define GSNAP "9e9e9e9e-0000-4000-8000-000000000001"

static const char *const snap_ids[3] = {SNAP_A, SNAP_B, SNAP_C};
static const cinder_kv set_filter = {"snapset:set", SET};

typedef struct fixture {
    cinder_http *h;
    cinder_session *s;
    cinder_client *c;
    size_t base; /* requests made by the setup */
} fixture;

/* @frozen_max: the cap of the waits for snapshots being taken; 0 for the
 * client's default. */
static void
fixture_open_caps(fixture *f, const char *versions_file, int64_t poll_min,
                  int64_t poll_max, int64_t frozen_max)
{
    cinder_client_opts co;

    memset(&co, 0, sizeof(co));
    co.poll_min_ms = poll_min;
    co.poll_max_ms = poll_max;
    co.frozen_poll_max_ms = frozen_max;
    f->h = fake_http_new();
    f->c = fake_http_cinder(f->h, versions_file, &co, &f->s);
    f->base = fake_http_count(f->h);
}

static void
fixture_open(fixture *f, const char *versions_file, int64_t poll_min,
             int64_t poll_max)
{
    fixture_open_caps(f, versions_file, poll_min, poll_max, poll_max);
}

static void
fixture_close(fixture *f)
{
    fake_http_verify(f->h);
    cinder_client_free(f->c);
    cinder_session_free(f->s);
    cinder_http_free(f->h);
}

static void
three_requests(cinder_snapshot_req reqs[3], cinder_kv meta[3][1])
{
    static const char *const vols[3] = {VOL_A, VOL_B, VOL_C};
    size_t i;

    memset(reqs, 0, 3 * sizeof(*reqs));
    for (i = 0; i < 3; i++) {
        meta[i][0] = set_filter;
        reqs[i].volume_id = vols[i];
        reqs[i].name = "snapset";
        reqs[i].metadata = meta[i];
        reqs[i].nmetadata = 1;
    }
}

/* ---- parallel registration (manageable_snapshots) ------------------------ */

/* Three registrations go out in one batch of parallel POSTs, each with its
 * own reference; the one Cinder's policy refuses keeps its error, the
 * others their records. */
static void
test_manage_many_sends_all_in_one_batch_and_keeps_each_outcome(void **state)
{
    static const char *const sources[3] = {"snapset-x-vdb", "snapset-x-vdc",
                                           "snapset-x-vdd"};
    cinder_snapshot_req reqs[3];
    cinder_kv meta[3][1];
    cinder_snapshot *out[3];
    snap_error err = {0}, errs[3];
    const fake_http_record *r;
    fixture f;
    size_t i;

    (void)state;
    memset(errs, 0, sizeof(errs));
    three_requests(reqs, meta);
    fixture_open(&f, "cinder_versions.json", 1, 5);
    fake_http_expect(f.h, "POST", ENDPOINT "/manageable_snapshots", 202,
                     "snapshot_a_create.json");
    fake_http_expect(f.h, "POST", ENDPOINT "/manageable_snapshots", 403,
                     "error_policy_manage.json");
    fake_http_expect(f.h, "POST", ENDPOINT "/manageable_snapshots", 202,
                     "snapshot_c_create.json");
    assert_false(
        cinder_snapshots_manage_many(f.c, reqs, sources, 3, out, errs, &err));
    assert_int_equal(err.http_status, 403);
    assert_non_null(
        strstr(err.msg, "cannot register snapshot 'snapset-x-vdc'"));
    for (i = 0; i < 3; i++) {
        r = fake_http_request(f.h, f.base + i);
        assert_int_equal(r->batch_size, 3);
        assert_non_null(strstr(r->body, sources[i]));
        assert_null(strstr(r->body, "force"));
    }
    assert_string_equal(out[0]->id, snap_ids[0]);
    assert_null(out[1]);
    assert_int_equal(errs[1].http_status, 403);
    assert_string_equal(out[2]->id, snap_ids[2]);
    assert_false(snap_error_isset(&errs[0]));
    cinder_snapshot_free(out[0]);
    cinder_snapshot_free(out[2]);
    fixture_close(&f);
}

/* A bad reference anywhere, or Cinder below 3.8, sends nothing. */
static void
test_manage_many_validates_everything_before_sending(void **state)
{
    const char *sources[3] = {"snapset-x-vdb", "", "snapset-x-vdd"};
    cinder_snapshot_req reqs[3];
    cinder_kv meta[3][1];
    cinder_snapshot *out[3];
    snap_error err = {0};
    fixture f;

    (void)state;
    three_requests(reqs, meta);
    fixture_open(&f, "cinder_versions.json", 1, 5);
    assert_false(
        cinder_snapshots_manage_many(f.c, reqs, sources, 3, out, NULL, &err));
    assert_int_equal(err.code, SNAP_E_INVALID);
    assert_non_null(strstr(err.msg, "bad source name"));
    sources[1] = NULL;
    memset(&err, 0, sizeof(err));
    assert_false(
        cinder_snapshots_manage_many(f.c, reqs, sources, 3, out, NULL, &err));
    assert_int_equal(err.code, SNAP_E_INVALID);
    assert_int_equal(fake_http_count(f.h), f.base);
    assert_null(out[0]);
    fixture_close(&f);

    sources[1] = "snapset-x-vdc";
    fixture_open(&f, "cinder_versions_no_mv.json", 1, 5);
    memset(&err, 0, sizeof(err));
    assert_false(
        cinder_snapshots_manage_many(f.c, reqs, sources, 3, out, NULL, &err));
    assert_int_equal(err.code, SNAP_E_STATE);
    assert_int_equal(fake_http_count(f.h), f.base);
    fixture_close(&f);
}

/* ---- parallel create --------------------------------------------------------
 */

static void
test_create_many_sends_all_posts_in_one_batch(void **state)
{
    cinder_snapshot_req reqs[3];
    cinder_kv meta[3][1];
    cinder_snapshot *out[3];
    snap_error err = {0}, errs[3];
    const fake_http_record *r;
    fixture f;
    size_t i;

    (void)state;
    memset(errs, 0, sizeof(errs));
    three_requests(reqs, meta);
    fixture_open(&f, "cinder_versions.json", 1, 5);
    fake_http_expect(f.h, "POST", ENDPOINT "/snapshots", 202,
                     "snapshot_a_create.json");
    fake_http_expect(f.h, "POST", ENDPOINT "/snapshots", 202,
                     "snapshot_b_create.json");
    fake_http_expect(f.h, "POST", ENDPOINT "/snapshots", 202,
                     "snapshot_c_create.json");
    assert_true(cinder_snapshots_create_many(f.c, reqs, 3, out, errs, &err));
    for (i = 0; i < 3; i++) {
        assert_non_null(out[i]);
        assert_string_equal(out[i]->id, snap_ids[i]);
        assert_string_equal(out[i]->status, "creating");
        assert_false(snap_error_isset(&errs[i]));
        r = fake_http_request(f.h, f.base + i);
        assert_int_equal(r->batch_size, 3);
        assert_int_equal(r->batch, fake_http_request(f.h, f.base)->batch);
        assert_non_null(strstr(r->body, reqs[i].volume_id));
    }
    cinder_snapshot_free(out[0]);
    cinder_snapshot_free(out[1]);
    cinder_snapshot_free(out[2]);
    fixture_close(&f);
}

static void
test_create_many_keeps_the_created_ones_when_one_fails(void **state)
{
    cinder_snapshot_req reqs[3];
    cinder_kv meta[3][1];
    cinder_snapshot *out[3];
    snap_error err = {0}, errs[3];
    fixture f;

    (void)state;
    memset(errs, 0, sizeof(errs));
    three_requests(reqs, meta);
    fixture_open(&f, "cinder_versions.json", 1, 5);
    fake_http_expect(f.h, "POST", "/snapshots", 202, "snapshot_a_create.json");
    fake_http_expect(f.h, "POST", "/snapshots", 413, "error_over_limit.json");
    fake_http_add_header(f.h, "Retry-After", "0");
    fake_http_expect(f.h, "POST", "/snapshots", 202, "snapshot_c_create.json");
    assert_false(cinder_snapshots_create_many(f.c, reqs, 3, out, errs, &err));
    assert_int_equal(err.code, SNAP_E_HTTP);
    assert_int_equal(err.http_status, 413);
    assert_string_equal(
        err.msg, "cannot create snapshot of volume '" VOL_B "': over limit "
                 "(HTTP 413, retry after 0 s): SnapshotLimitExceeded: "
                 "Maximum number of snapshots allowed (10) exceeded");
    /* The partial set is handed back so the caller can delete it. */
    assert_non_null(out[0]);
    assert_null(out[1]);
    assert_non_null(out[2]);
    assert_false(snap_error_isset(&errs[0]));
    assert_int_equal(errs[1].http_status, 413);
    cinder_snapshot_free(out[0]);
    cinder_snapshot_free(out[2]);
    fixture_close(&f);
}

static void
test_create_many_validates_everything_before_sending(void **state)
{
    cinder_snapshot_req reqs[3];
    cinder_kv meta[3][1];
    cinder_snapshot *out[3];
    snap_error err = {0};
    fixture f;

    (void)state;
    three_requests(reqs, meta);
    reqs[2].volume_id = "not/a/volume";
    fixture_open(&f, "cinder_versions.json", 1, 5);
    assert_false(cinder_snapshots_create_many(f.c, reqs, 3, out, NULL, &err));
    assert_int_equal(err.code, SNAP_E_INVALID);
    assert_int_equal(fake_http_count(f.h), f.base);
    assert_null(out[0]);
    fixture_close(&f);
}

/* ---- the poller -------------------------------------------------------------
 */

static void
test_wait_costs_one_list_request_per_round(void **state)
{
    cinder_wait_result res[3];
    snap_error err = {0};
    fixture f;
    size_t i;

    (void)state;
    fixture_open(&f, "cinder_versions.json", 1, 5);
    fake_http_expect(f.h, "GET", "/snapshots/detail?metadata=", 200,
                     "snapshots_detail_all_creating.json");
    fake_http_expect(f.h, "GET", "/snapshots/detail?metadata=", 200,
                     "snapshots_detail_b_creating.json");
    fake_http_expect(f.h, "GET", "/snapshots/detail?metadata=", 200,
                     "snapshots_detail_all_available.json");
    assert_true(cinder_snapshots_wait(f.c, snap_ids, 3, &set_filter,
                                      snap_now_ms() + 5000, res, &err));
    assert_int_equal(fake_http_count(f.h) - f.base, 3);
    for (i = 0; i < 3; i++) {
        assert_string_equal(res[i].status, "available");
        assert_true(res[i].done_ms > 0);
    }
    /* a and c left "creating" in round 2, b only in round 3. */
    assert_true(res[0].done_ms == res[2].done_ms);
    assert_true(res[1].done_ms > res[0].done_ms);
    assert_false(snap_error_isset(&err));
    fixture_close(&f);
}

static void
test_wait_times_out_naming_the_snapshot_stuck_in_creating(void **state)
{
    cinder_wait_result res[3];
    snap_error err = {0};
    int64_t start, elapsed;
    fixture f;

    (void)state;
    fixture_open(&f, "cinder_versions.json", 2, 10);
    fake_http_expect(f.h, "GET", "/snapshots/detail?metadata=", 200,
                     "snapshots_detail_b_creating.json");
    fake_http_repeat(f.h);
    start = snap_now_ms();
    assert_false(cinder_snapshots_wait(f.c, snap_ids, 3, &set_filter,
                                       start + 80, res, &err));
    elapsed = snap_now_ms() - start;
    assert_int_equal(err.code, SNAP_E_TIMEOUT);
    assert_non_null(strstr(
        err.msg,
        "waiting for 1 of 3 snapshots to leave 'creating' ('" SNAP_B "')"));
    assert_true(elapsed >= 80);
    assert_true(elapsed < 1000);
    assert_string_equal(res[0].status, "available");
    assert_true(res[0].done_ms > 0);
    assert_string_equal(res[1].status, "creating");
    assert_true(res[1].done_ms == 0);
    /* Several rounds, all of them list requests bounded by the deadline. */
    assert_true(fake_http_count(f.h) - f.base >= 3);
    assert_true(fake_http_request(f.h, f.base)->timeout_ms <= 80);
    assert_true(fake_http_request(f.h, f.base)->timeout_ms > 0);
    fixture_close(&f);
}

static void
test_wait_fails_naming_the_snapshot_in_error(void **state)
{
    cinder_wait_result res[3];
    snap_error err = {0};
    fixture f;

    (void)state;
    fixture_open(&f, "cinder_versions.json", 1, 5);
    fake_http_expect(f.h, "GET", "/snapshots/detail?metadata=", 200,
                     "snapshots_detail_b_error.json");
    assert_false(cinder_snapshots_wait(f.c, snap_ids, 3, &set_filter,
                                       snap_now_ms() + 5000, res, &err));
    assert_int_equal(err.code, SNAP_E_STATE);
    assert_string_equal(err.msg, "snapshot '" SNAP_B "' of volume '" VOL_B
                                 "' failed: status 'error'");
    /* It returned at once, with what it knew of the others. */
    assert_int_equal(fake_http_count(f.h) - f.base, 1);
    assert_string_equal(res[0].status, "available");
    assert_string_equal(res[1].status, "error");
    assert_string_equal(res[2].status, "creating");
    fixture_close(&f);
}

static void
test_wait_below_3_22_polls_each_id_in_one_batch(void **state)
{
    cinder_wait_result res[3];
    snap_error err = {0};
    const fake_http_record *r;
    fixture f;
    size_t i;

    (void)state;
    fixture_open(&f, "cinder_versions_3_21.json", 1, 5);
    fake_http_expect(f.h, "GET", "/snapshots/" SNAP_A, 200,
                     "snapshot_a_creating.json");
    fake_http_expect(f.h, "GET", "/snapshots/" SNAP_B, 200,
                     "snapshot_b_available.json");
    fake_http_expect(f.h, "GET", "/snapshots/" SNAP_C, 200,
                     "snapshot_c_creating.json");
    fake_http_expect(f.h, "GET", "/snapshots/" SNAP_A, 200,
                     "snapshot_a_available.json");
    fake_http_expect(f.h, "GET", "/snapshots/" SNAP_C, 200,
                     "snapshot_c_available.json");
    /* The filter is ignored: Cinder 3.21 would ignore it too. */
    assert_true(cinder_snapshots_wait(f.c, snap_ids, 3, &set_filter,
                                      snap_now_ms() + 5000, res, &err));
    assert_int_equal(fake_http_count(f.h) - f.base, 5);
    for (i = 0; i < 3; i++) {
        r = fake_http_request(f.h, f.base + i);
        assert_int_equal(r->batch_size, 3);
        assert_null(strstr(r->url, "metadata"));
    }
    assert_int_equal(fake_http_request(f.h, f.base + 3)->batch_size, 2);
    assert_true(res[1].done_ms < res[0].done_ms);
    fixture_close(&f);
}

static void
test_wait_gets_by_id_what_the_list_misses(void **state)
{
    snap_error err = {0};
    fixture f;

    (void)state;
    fixture_open(&f, "cinder_versions.json", 1, 5);
    fake_http_expect(f.h, "GET", "/snapshots/detail?metadata=", 200,
                     "snapshots_detail_missing_c.json");
    fake_http_expect(f.h, "GET", "/snapshots/" SNAP_C, 200,
                     "snapshot_c_available.json");
    assert_true(cinder_snapshots_wait(f.c, snap_ids, 3, &set_filter,
                                      snap_now_ms() + 5000, NULL, &err));
    assert_int_equal(fake_http_count(f.h) - f.base, 2);
    fixture_close(&f);
}

static void
test_wait_retries_transient_failures_until_the_deadline(void **state)
{
    snap_error err = {0};
    fixture f;

    (void)state;
    fixture_open(&f, "cinder_versions.json", 1, 5);
    fake_http_expect(f.h, "GET", "/snapshots/detail", 500, "error_server.json");
    fake_http_expect_fail(f.h, "GET", "/snapshots/detail", SNAP_E_HTTP,
                          "GET 'x' failed: Connection reset by peer");
    fake_http_expect(f.h, "GET", "/snapshots/detail", 200,
                     "snapshots_detail_all_available.json");
    assert_true(cinder_snapshots_wait(f.c, snap_ids, 3, &set_filter,
                                      snap_now_ms() + 5000, NULL, &err));
    assert_false(snap_error_isset(&err));
    fixture_close(&f);

    /* Failing until the deadline: the timeout says what went wrong. */
    fixture_open(&f, "cinder_versions.json", 1, 5);
    fake_http_expect_fail(f.h, "GET", "/snapshots/detail", SNAP_E_HTTP,
                          "GET 'x' failed: Connection refused");
    fake_http_repeat(f.h);
    assert_false(cinder_snapshots_wait(f.c, snap_ids, 3, &set_filter,
                                       snap_now_ms() + 30, NULL, &err));
    assert_int_equal(err.code, SNAP_E_TIMEOUT);
    assert_non_null(strstr(err.msg, "waiting for 3 of 3 snapshots"));
    assert_non_null(strstr(err.msg,
                           "last error: cannot list snapshots while waiting: "
                           "GET 'x' failed: Connection refused"));
    fixture_close(&f);
}

static void
test_wait_stops_on_a_refused_request(void **state)
{
    snap_error err = {0};
    fixture f;

    (void)state;
    fixture_open(&f, "cinder_versions.json", 1, 5);
    fake_http_expect(f.h, "GET", "/snapshots/detail", 400, "error_in_use.json");
    assert_false(cinder_snapshots_wait(f.c, snap_ids, 3, &set_filter,
                                       snap_now_ms() + 5000, NULL, &err));
    assert_int_equal(err.code, SNAP_E_HTTP);
    assert_int_equal(err.http_status, 400);
    fixture_close(&f);
}

static void
test_wait_reports_a_snapshot_that_vanished(void **state)
{
    const char *ids[1] = {SNAP_A};
    snap_error err = {0};
    fixture f;

    (void)state;
    fixture_open(&f, "cinder_versions.json", 1, 5);
    fake_http_expect(f.h, "GET", "/snapshots/" SNAP_A, 404,
                     "error_item_not_found.json");
    assert_false(cinder_snapshots_wait(f.c, ids, 1, NULL, snap_now_ms() + 5000,
                                       NULL, &err));
    assert_int_equal(err.code, SNAP_E_NOTFOUND);
    assert_string_equal(err.msg,
                        "snapshot '" SNAP_A "' vanished while being created");
    fixture_close(&f);
}

static void
test_group_snapshots_wait_under_one_deadline(void **state)
{
    const char *ids[1] = {GSNAP};
    cinder_wait_result res[1];
    snap_error err = {0};
    fixture f;

    (void)state;
    fixture_open(&f, "cinder_versions.json", 1, 5);
    fake_http_expect(f.h, "GET", "/group_snapshots/" GSNAP, 200,
                     "group_snapshot_creating.json");
    fake_http_expect(f.h, "GET", "/group_snapshots/" GSNAP, 200,
                     "group_snapshot_available.json");
    assert_true(cinder_group_snapshots_wait(f.c, ids, 1, snap_now_ms() + 5000,
                                            res, &err));
    assert_string_equal(res[0].status, "available");
    fixture_close(&f);

    fixture_open(&f, "cinder_versions.json", 1, 5);
    fake_http_expect(f.h, "GET", "/group_snapshots/" GSNAP, 200,
                     "group_snapshot_creating.json");
    fake_http_repeat(f.h);
    assert_false(cinder_group_snapshots_wait(f.c, ids, 1, snap_now_ms() + 20,
                                             res, &err));
    assert_int_equal(err.code, SNAP_E_TIMEOUT);
    assert_non_null(
        strstr(err.msg, "1 of 1 group snapshot to leave 'creating'"));
    fixture_close(&f);
}

static void
test_wait_deleted_and_volume_wait(void **state)
{
    const char *ids[2] = {SNAP_A, SNAP_B};
    snap_error err = {0};
    fixture f;

    (void)state;
    fixture_open(&f, "cinder_versions.json", 1, 5);
    fake_http_expect(f.h, "GET", "/snapshots/" SNAP_A, 200,
                     "snapshot_a_available.json");
    fake_http_expect(f.h, "GET", "/snapshots/" SNAP_B, 404,
                     "error_item_not_found.json");
    fake_http_expect(f.h, "GET", "/snapshots/" SNAP_A, 404,
                     "error_item_not_found.json");
    assert_true(
        cinder_snapshots_wait_deleted(f.c, ids, 2, snap_now_ms() + 5000, &err));

    fake_http_expect(f.h, "GET", "/volumes/" VOL_C, 200, "volume_create.json");
    fake_http_expect(f.h, "GET", "/volumes/" VOL_C, 200,
                     "volume_c_available.json");
    assert_true(cinder_volume_wait(f.c, VOL_C, "available",
                                   snap_now_ms() + 5000, &err));

    fake_http_expect(f.h, "GET", "/volumes/" VOL_C, 200, "volume_error.json");
    assert_false(cinder_volume_wait(f.c, VOL_C, "available",
                                    snap_now_ms() + 5000, &err));
    assert_int_equal(err.code, SNAP_E_STATE);
    assert_string_equal(err.msg, "volume '" VOL_C "' failed: status 'error'");
    snap_error_clear(&err);

    fake_http_expect(f.h, "GET", "/volumes/" VOL_C, 404, NULL);
    assert_true(
        cinder_volume_wait(f.c, VOL_C, NULL, snap_now_ms() + 5000, &err));
    fixture_close(&f);
}

static void
test_poll_interval_grows_from_min_to_max(void **state)
{
    const char *ids[1] = {SNAP_A};
    snap_error err = {0};
    size_t rounds;
    fixture f;

    (void)state;
    /* 10, 16, 25, 38, 50, 50, ... ms: about 9 rounds in 300 ms (fewer
     * when the machine is slow, e.g. under valgrind). */
    fixture_open(&f, "cinder_versions.json", 10, 50);
    fake_http_expect(f.h, "GET", "/snapshots/" SNAP_A, 200,
                     "snapshot_a_creating.json");
    fake_http_repeat(f.h);
    assert_false(cinder_snapshots_wait(f.c, ids, 1, NULL, snap_now_ms() + 300,
                                       NULL, &err));
    assert_int_equal(err.code, SNAP_E_TIMEOUT);
    rounds = fake_http_count(f.h) - f.base;
    assert_true(rounds >= 3);
    assert_true(rounds <= 12);
    fixture_close(&f);
}

/* Rounds of a wait on one snapshot that never changes, for @ms. */
static size_t
rounds_of(bool taken, int64_t frozen_cap, int64_t ms)
{
    const char *ids[1] = {SNAP_A};
    snap_error err = {0};
    size_t rounds;
    fixture f;

    fixture_open_caps(&f, "cinder_versions.json", 10, 250, frozen_cap);
    fake_http_expect(f.h, "GET", "/snapshots/" SNAP_A, 200,
                     "snapshot_a_creating.json");
    fake_http_repeat(f.h);
    if (taken)
        assert_false(cinder_snapshots_wait(f.c, ids, 1, NULL,
                                           snap_now_ms() + ms, NULL, &err));
    else
        assert_false(cinder_snapshots_wait_deleted(f.c, ids, 1,
                                                   snap_now_ms() + ms, &err));
    assert_int_equal(err.code, SNAP_E_TIMEOUT);
    rounds = fake_http_count(f.h) - f.base;
    fixture_close(&f);
    return rounds;
}

static void
test_frozen_waits_poll_with_their_own_cap(void **state)
{
    size_t taken, deleted;

    (void)state;
    /* Waiting for snapshots to be taken (the guest is frozen meanwhile):
     * 10, 16, 20, 20, ... ms, about 30 rounds in 600 ms. Waiting for a
     * deletion backs off to 250: 10, 16, 25, 38, 58, 88, 133, 200: 8. */
    taken = rounds_of(true, 0, 600); /* 0: the default, 20 ms */
    deleted = rounds_of(false, 0, 600);
    assert_true(taken >= 14);
    assert_true(deleted <= 10);
    assert_true(taken > deleted);
    /* frozen_poll_max_ms is the knob: at 250 both back off alike. */
    assert_true(rounds_of(true, 250, 600) <= 10);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(
            test_manage_many_sends_all_in_one_batch_and_keeps_each_outcome),
        cmocka_unit_test(test_manage_many_validates_everything_before_sending),
        cmocka_unit_test(test_create_many_sends_all_posts_in_one_batch),
        cmocka_unit_test(
            test_create_many_keeps_the_created_ones_when_one_fails),
        cmocka_unit_test(test_create_many_validates_everything_before_sending),
        cmocka_unit_test(test_wait_costs_one_list_request_per_round),
        cmocka_unit_test(
            test_wait_times_out_naming_the_snapshot_stuck_in_creating),
        cmocka_unit_test(test_wait_fails_naming_the_snapshot_in_error),
        cmocka_unit_test(test_wait_below_3_22_polls_each_id_in_one_batch),
        cmocka_unit_test(test_wait_gets_by_id_what_the_list_misses),
        cmocka_unit_test(
            test_wait_retries_transient_failures_until_the_deadline),
        cmocka_unit_test(test_wait_stops_on_a_refused_request),
        cmocka_unit_test(test_wait_reports_a_snapshot_that_vanished),
        cmocka_unit_test(test_group_snapshots_wait_under_one_deadline),
        cmocka_unit_test(test_wait_deleted_and_volume_wait),
        cmocka_unit_test(test_poll_interval_grows_from_min_to_max),
        cmocka_unit_test(test_frozen_waits_poll_with_their_own_cap),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
