/* tests/unit/test_ops_openstack.c -- ops/openstack.c against a scripted
 * Cinder: which members become Cinder members, and that every way out of
 * ops_os_classify releases what it took (valgrind runs this test). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cinder/cinder.h"
#include "cinder/keystone.h"
#include "coordinator/coord_set.h"
#include "coordinator/ops/openstack.h"
#include "fakes/fake_http.h"

#define VOL_A "aaaaaaaa-0000-4000-8000-000000000001"
#define VOL_B "bbbbbbbb-0000-4000-8000-000000000002"
#define SERVER "5e5e5e5e-0000-4000-8000-000000000001"

typedef struct fixture {
    cinder_http *h;
    ops_os os;
} fixture;

static void
fixture_open(fixture *f)
{
    cinder_auth_opts o;
    cinder_client_opts co;
    snap_error err = {0};

    memset(f, 0, sizeof(*f));
    memset(&o, 0, sizeof(o));
    memset(&co, 0, sizeof(co));
    o.auth_url = "http://keystone.test:5000/v3";
    o.username = "demo";
    o.password = "demopass";
    o.project_name = "demo";
    f->h = fake_http_new();
    fake_http_expect_token(f->h, "keystone_token_password.json", "tok");
    fake_http_expect(f->h, "GET", "http://cinder.test:8776/v3/", 200,
                     "cinder_versions.json");
    f->os.session = cinder_session_new_with_http(f->h, &o, &err);
    assert_non_null(f->os.session);
    f->os.cinder = cinder_client_new(f->os.session, &co, &err);
    if (!f->os.cinder)
        fail_msg("cinder_client_new: %s", err.msg);
    strcpy(f->os.group_mode, "auto");
}

static void
fixture_close(fixture *f)
{
    fake_http_verify(f->h);
    free(f->os.group_id);
    cinder_client_free(f->os.cinder);
    cinder_session_free(f->os.session);
    cinder_http_free(f->h);
}

/* A set of two disks whose serials are the volume ids, as Nova sets them. */
static coord_set *
two_volume_set(void)
{
    snap_error err = {0};
    coord_set *set = coord_set_new(&err);
    const char *serials[] = {VOL_A, VOL_B}, *targets[] = {"vdb", "vdc"};
    size_t i;

    assert_non_null(set);
    for (i = 0; i < 2; i++) {
        coord_member *m = coord_set_add_member(set, &err);

        assert_non_null(m);
        assert_true(coord_str_set(&m->target, targets[i], &err));
        assert_true(coord_str_set(&m->serial, serials[i], &err));
    }
    return set;
}

/* The first volume is in a group; Cinder then fails on the second: the
 * error is Cinder's, and the group id taken from the first is released
 * (it leaked on this path). */
static void
a_failure_after_a_grouped_volume_releases_the_group(void **state)
{
    fixture f;
    coord_set *set = two_volume_set();
    snap_error err = {0};

    (void)state;
    fixture_open(&f);
    fake_http_expect(f.h, "GET", "/volumes/" VOL_A, 200,
                     "volume_a_in_use.json");
    fake_http_expect(f.h, "GET", "/volumes/" VOL_B, 500, "error_server.json");
    assert_false(ops_os_classify(&f.os, set, SERVER, &err));
    assert_true(snap_error_isset(&err));
    assert_null(f.os.group_id);
    /* What was learnt before the failure stays on the member. */
    assert_int_equal(set->members[0].kind, COORD_MEMBER_CINDER);
    assert_string_equal(set->members[0].volume_id, VOL_A);
    fixture_close(&f);
    coord_set_free(set);
}

/* Same start, and the quota check fails: released too. */
static void
a_quota_failure_releases_the_group(void **state)
{
    fixture f;
    coord_set *set = two_volume_set();
    snap_error err = {0};

    (void)state;
    fixture_open(&f);
    strcpy(f.os.group_mode, "never");
    fake_http_expect(f.h, "GET", "/volumes/" VOL_A, 200,
                     "volume_a_in_use.json");
    fake_http_expect(f.h, "GET", "/volumes/" VOL_B, 404,
                     "error_item_not_found.json");
    fake_http_expect(f.h, "GET", "/limits", 500, "error_server.json");
    assert_false(ops_os_classify(&f.os, set, SERVER, &err));
    assert_true(snap_error_isset(&err));
    /* A serial that only looks like an id stays a local disk. */
    assert_int_equal(set->members[1].kind, COORD_MEMBER_LOCAL);
    fixture_close(&f);
    coord_set_free(set);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_failure_after_a_grouped_volume_releases_the_group),
        cmocka_unit_test(a_quota_failure_releases_the_group),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
