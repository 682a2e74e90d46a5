/* tests/unit/test_ops_openstack.c -- ops/openstack.c against a scripted
 * Cinder: which members become Cinder members, and that every way out of
 * ops_os_classify releases what it took (valgrind runs this test); the
 * credentials from the file and the OS_* variables; the warning about a
 * Cinder-looking disk copied while OpenStack is off. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cinder/cinder.h"
#include "cinder/keystone.h"
#include "coordinator/coord_catalog.h"
#include "coordinator/coord_conf.h"
#include "coordinator/coord_domxml.h"
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
    memset(f, 0, sizeof(*f));
    f->h = fake_http_new();
    f->os.cinder =
        fake_http_cinder(f->h, "cinder_versions.json", NULL, &f->os.session);
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

/* ---- the file and the OS_* variables ------------------------------------ */

/* Every variable cinder_auth_opts_from_env() reads: put aside before each
 * test that sets some (a developer's sourced openrc must neither leak in
 * nor be lost) and put back after it. */
static const char *const env_names[] = {
    "OS_AUTH_URL",
    "OS_AUTH_TYPE",
    "OS_USERNAME",
    "OS_USER_ID",
    "OS_PASSWORD",
    "OS_USER_DOMAIN_NAME",
    "OS_USER_DOMAIN_ID",
    "OS_PROJECT_NAME",
    "OS_TENANT_NAME",
    "OS_PROJECT_ID",
    "OS_TENANT_ID",
    "OS_PROJECT_DOMAIN_NAME",
    "OS_PROJECT_DOMAIN_ID",
    "OS_REGION_NAME",
    "OS_INTERFACE",
    "OS_APPLICATION_CREDENTIAL_ID",
    "OS_APPLICATION_CREDENTIAL_SECRET",
    "OS_CACERT",
    "OS_INSECURE",
    "CINDER_ENDPOINT",
    "GLANCE_ENDPOINT",
};
#define NENV (sizeof(env_names) / sizeof(env_names[0]))
static char *env_saved[NENV];
static bool env_had[NENV];

static int
env_setup(void **state)
{
    size_t i;

    (void)state;
    for (i = 0; i < NENV; i++) {
        const char *v = getenv(env_names[i]);

        env_had[i] = v != NULL;
        env_saved[i] = v ? strdup(v) : NULL;
        if ((v && !env_saved[i]) || unsetenv(env_names[i]) != 0)
            return -1;
    }
    return 0;
}

static int
env_teardown(void **state)
{
    size_t i;
    int rc = 0;

    (void)state;
    for (i = 0; i < NENV; i++) {
        if ((env_had[i] ? setenv(env_names[i], env_saved[i], 1)
                        : unsetenv(env_names[i])) != 0)
            rc = -1;
        free(env_saved[i]);
        env_saved[i] = NULL;
    }
    return rc;
}

static const ops_os_setting *
setting(const ops_os_setting *s, size_t n, const char *name)
{
    size_t i;

    for (i = 0; i < n; i++) {
        if (strcmp(s[i].name, name) == 0)
            return &s[i];
    }
    fail_msg("no setting %s", name);
    return NULL;
}

/* An openrc in the environment and a file that sets some of the same: the
 * file's values win, the variables fill the rest, and check-config's
 * listing says which came from where. */
static void
file_settings_win_over_os_variables(void **state)
{
    coord_conf c;
    cinder_auth_opts o;
    ops_os_setting s[OPS_OS_NSETTINGS];
    snap_error err = {0};
    size_t n;

    (void)state;
    assert_int_equal(setenv("OS_AUTH_URL", "http://env.test:5000/v3", 1), 0);
    assert_int_equal(setenv("OS_USERNAME", "envuser", 1), 0);
    assert_int_equal(setenv("OS_PASSWORD", "envpass", 1), 0);
    assert_int_equal(setenv("OS_PROJECT_NAME", "envproject", 1), 0);
    assert_int_equal(setenv("OS_REGION_NAME", "RegionOne", 1), 0);
    assert_true(coord_conf_init(&c, NULL));
    assert_true(coord_str_set(&c.openstack.auth_url,
                              "https://file.test:5000/v3", &err));
    assert_true(coord_str_set(&c.openstack.username, "fileuser", &err));
    assert_true(ops_os_auth_opts(&c.openstack, &o, &err));
    assert_string_equal(o.auth_url, "https://file.test:5000/v3");
    assert_string_equal(o.username, "fileuser");
    assert_string_equal(o.password, "envpass");
    assert_string_equal(o.project_name, "envproject");
    assert_string_equal(o.region, "RegionOne");

    n = ops_os_settings(&c.openstack, s, &err);
    assert_int_equal(n, OPS_OS_NSETTINGS);
    assert_false(setting(s, n, "auth_url")->from_env);
    assert_string_equal(setting(s, n, "auth_url")->value,
                        "https://file.test:5000/v3");
    assert_false(setting(s, n, "username")->from_env);
    assert_true(setting(s, n, "password")->from_env);
    assert_true(setting(s, n, "password")->secret);
    assert_string_equal(setting(s, n, "password")->env, "OS_PASSWORD");
    assert_true(setting(s, n, "project_name")->from_env);
    assert_null(setting(s, n, "cacert")->value);
    assert_false(setting(s, n, "cacert")->from_env);

    /* use_env = false: only the file counts */
    c.openstack.use_env = false;
    assert_true(ops_os_auth_opts(&c.openstack, &o, &err));
    assert_string_equal(o.username, "fileuser");
    assert_null(o.password);
    assert_null(o.project_name);
    coord_conf_release(&c);
}

/* ---- a Cinder-looking disk while OpenStack is off ------------------------ */

/* What create reads: the domain XML's disks become local members. vdb is
 * a Cinder volume attached the way Nova does it (its serial the volume
 * id); vda's serial is a name; vdc's is 36 characters but no UUID. */
static const char domain_xml[] =
    "<domain type='kvm'><name>vm1</name>"
    "<uuid>" SERVER "</uuid><devices>"
    "<disk type='file' device='disk'><driver name='qemu' type='qcow2'/>"
    "<source file='/img/root.qcow2'/><target dev='vda' bus='virtio'/>"
    "<serial>root</serial></disk>"
    "<disk type='network' device='disk'><driver name='qemu' type='raw'/>"
    "<source protocol='rbd' name='volumes/volume-" VOL_A "'>"
    "<host name='127.0.0.1' port='6789'/></source>"
    "<target dev='vdb' bus='virtio'/><serial>" VOL_A "</serial></disk>"
    "<disk type='file' device='disk'><driver name='qemu' type='raw'/>"
    "<source file='/img/data.raw'/><target dev='vdc' bus='virtio'/>"
    "<serial>0123456789abcdef0123456789abcdef0123</serial></disk>"
    "</devices></domain>";

static coord_set *
set_of_domain(void)
{
    coord_domain_info info;
    snap_error err = {0};
    coord_set *set = coord_set_new(&err);

    assert_non_null(set);
    if (!coord_domxml_parse(domain_xml, &info, set, &err))
        fail_msg("coord_domxml_parse: %s", err.msg);
    coord_domain_info_release(&info);
    assert_int_equal(set->nmembers, 3);
    /* create's set_fill() names the domain: the record needs it */
    assert_true(coord_str_set(&set->domain_name, "vm1", &err));
    return set;
}

static void
a_cinder_looking_disk_without_openstack_is_recorded(void **state)
{
    coord_conf c;
    coord_set *set = set_of_domain(), *back;
    snap_error err = {0};
    char *text;

    (void)state;
    assert_true(coord_conf_init(&c, NULL));
    c.openstack.enabled_given = true; /* `enabled = false` in the file */
    assert_true(ops_os_warn_local(&c.openstack, set, &err));
    assert_int_equal(set->nwarnings, 1);
    assert_non_null(strstr(set->warnings[0],
                           "disk vdb (serial " VOL_A ") looks like a Cinder "
                           "volume, but OpenStack is not in use "
                           "(openstack.enabled = false): it is copied as a "
                           "local disk"));
    assert_non_null(strstr(set->warnings[0], "set OS_AUTH_URL or "
                                             "openstack.enabled = true"));
    /* nothing else changed: every disk is still copied */
    assert_int_equal(set->members[1].kind, COORD_MEMBER_LOCAL);
    assert_null(set->members[1].volume_id);
    /* ... and the set's record keeps it */
    text = coord_set_to_json(set, &err);
    assert_non_null(text);
    back = coord_set_from_json(text, &err);
    if (!back)
        fail_msg("coord_set_from_json: %s", err.msg);
    assert_int_equal(back->nwarnings, 1);
    assert_string_equal(back->warnings[0], set->warnings[0]);
    coord_set_free(back);
    free(text);
    coord_set_free(set);

    /* no file said anything and no openrc: the reason says so */
    set = set_of_domain();
    c.openstack.enabled_given = false;
    assert_true(ops_os_warn_local(&c.openstack, set, &err));
    assert_int_equal(set->nwarnings, 1);
    assert_non_null(strstr(set->warnings[0],
                           "(neither openstack.enabled nor OS_AUTH_URL is "
                           "set)"));
    coord_set_free(set);
    coord_conf_release(&c);
}

/* A set without such a serial gets no warning. */
static void
ordinary_serials_raise_no_warning(void **state)
{
    coord_conf c;
    coord_set *set = set_of_domain();
    snap_error err = {0};

    (void)state;
    assert_true(coord_conf_init(&c, NULL));
    assert_true(coord_str_set(&set->members[1].serial, "data", &err));
    assert_true(ops_os_warn_local(&c.openstack, set, &err));
    assert_int_equal(set->nwarnings, 0);
    assert_null(set->warnings);
    coord_set_free(set);
    coord_conf_release(&c);
}

/* openstack.request_concurrency: the snapshot POSTs go in batches of that
 * many (a single cinder-api worker takes parallel ones one at a time). */
static void
snapshot_requests_go_in_batches_of_request_concurrency(void **state)
{
    fixture f;
    coord_set *set = two_volume_set();
    coord_member *m;
    snap_error err = {0};
    size_t idx[3] = {0, 1, 2}, i, sizes[3], nposts = 0;
    const fake_http_record *r;

    (void)state;
    fixture_open(&f);
    f.os.request_concurrency = 2;
    m = coord_set_add_member(set, &err);
    assert_non_null(m);
    assert_true(coord_str_set(&m->target, "vdd", &err));
    for (i = 0; i < 3; i++) {
        assert_true(coord_str_set(&set->members[i].volume_id,
                                  i == 1 ? VOL_B : VOL_A, &err));
        fake_http_expect(f.h, "POST", "/snapshots", 202,
                         i == 1 ? "snapshot_b_create.json"
                                : "snapshot_a_create.json");
    }
    assert_true(ops_os_volume_ops.request(&f.os, set, idx, 3, &err));
    for (i = 0; i < fake_http_count(f.h); i++) {
        r = fake_http_request(f.h, i);
        if (strcmp(r->method, "POST") == 0 && strstr(r->url, "/snapshots") &&
            nposts < 3)
            sizes[nposts++] = r->batch_size;
    }
    assert_int_equal(nposts, 3);
    assert_int_equal(sizes[0], 2);
    assert_int_equal(sizes[1], 2);
    assert_int_equal(sizes[2], 1);
    for (i = 0; i < 3; i++)
        assert_non_null(set->members[i].location);
    coord_set_free(set);
    fixture_close(&f);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_failure_after_a_grouped_volume_releases_the_group),
        cmocka_unit_test(
            snapshot_requests_go_in_batches_of_request_concurrency),
        cmocka_unit_test(a_quota_failure_releases_the_group),
        cmocka_unit_test_setup_teardown(file_settings_win_over_os_variables,
                                        env_setup, env_teardown),
        cmocka_unit_test(a_cinder_looking_disk_without_openstack_is_recorded),
        cmocka_unit_test(ordinary_serials_raise_no_warning),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
