/* tests/unit/test_serve_backend.c -- the API's backend of `snapset serve`
 * (coordinator/serve/backend.c, jobs.c) on a catalog in a temporary
 * directory and libvirt's test driver (test:///default: one running domain
 * "test"), with no worker started: what it refuses, and that a refused job
 * never keeps its domain lock. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/snap_fs.h"
#include "coordinator/serve/backend.h"
#include "coordinator/coord_jobrec.h"
#include "coordinator/serve/jobs.h"
#include "coordinator/serve/state.h"

#define DOM_UUID "6695eb01-f6a4-8304-79aa-97f2502e193f" /* test:///default */

typedef struct fixture {
    char dir[64];
    serve_state *st;
} fixture;

static serve_state *
state_for(const char *dir, const char *uri)
{
    coord_conf conf;
    snap_error err = {0};
    serve_state *st;

    assert_true(coord_conf_init(&conf, &err));
    assert_true(coord_str_set(&conf.catalog_dir, dir, &err));
    assert_true(coord_str_set(&conf.libvirt_uri, uri, &err));
    conf.http.max_queue = 2;
    st = serve_state_new(&conf, &err);
    coord_conf_release(&conf);
    assert_non_null(st);
    st->catalog = coord_catalog_open(dir, &err);
    assert_non_null(st->catalog);
    st->host = virt_host_new(uri, &err);
    assert_non_null(st->host);
    return st;
}

static int
setup(void **state)
{
    fixture *f = calloc(1, sizeof(*f));

    assert_non_null(f);
    snprintf(f->dir, sizeof(f->dir), "/tmp/test_serve_backend.XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    f->st = state_for(f->dir, "test:///default");
    *state = f;
    return 0;
}

static int
teardown(void **state)
{
    fixture *f = *state;
    serve_job *j;
    char cmd[128];

    while ((j = f->st->jobs)) {
        f->st->jobs = j->next;
        serve_job_free(j);
    }
    serve_state_free(f->st);
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
    assert_int_equal(system(cmd), 0);
    free(f);
    return 0;
}

static const http_owner no_owner = {0};

static bool
create(serve_state *st, const char *uuid, char set_uuid[SNAP_UUID_LEN],
       snap_error *err)
{
    http_create_req req;
    char job_id[SNAP_UUID_LEN];

    memset(&req, 0, sizeof(req));
    req.domain_name = "test";
    req.domain_uuid = uuid;
    req.backup_type = "daily";
    req.rotation = 2;
    req.owner = &no_owner;
    return serve_backend_ops.create(st, &req, set_uuid, job_id, err);
}

/* True when nobody holds @uuid's domain lock. */
static bool
lock_free(serve_state *st, const char *uuid)
{
    snap_error err = {0};
    int fd = coord_catalog_lock(st->catalog, uuid, 0, &err);

    coord_catalog_unlock(fd);
    return fd >= 0;
}

static void
test_an_accepted_create_is_listed_as_creating_before_it_is_recorded(
    void **state)
{
    fixture *f = *state;
    char set_uuid[SNAP_UUID_LEN], prefix[9];
    snap_error err = {0};
    coord_set **sets = NULL, *set;
    size_t n = 0;
    http_backend_stats stats;

    assert_true(create(f->st, DOM_UUID, set_uuid, &err));
    assert_false(lock_free(f->st, DOM_UUID)); /* held from acceptance */
    assert_true(serve_backend_ops.list(f->st, &sets, &n, &err));
    assert_int_equal(n, 1);
    assert_string_equal(sets[0]->uuid, set_uuid);
    assert_int_equal(sets[0]->state, COORD_SET_CREATING);
    assert_string_equal(sets[0]->backup_type, "daily");
    coord_catalog_list_free(sets, n);
    snprintf(prefix, sizeof(prefix), "%.8s", set_uuid);
    set = serve_backend_ops.get(f->st, prefix, &err);
    assert_non_null(set);
    assert_string_equal(set->uuid, set_uuid);
    coord_set_free(set);
    serve_backend_ops.stats(f->st, &stats);
    assert_int_equal(stats.queued, 1);
    assert_int_equal(stats.running, 0);
}

static void
test_a_second_create_on_a_busy_domain_is_refused_with_its_name(void **state)
{
    fixture *f = *state;
    char a[SNAP_UUID_LEN], b[SNAP_UUID_LEN];
    snap_error err = {0};

    assert_true(create(f->st, DOM_UUID, a, &err));
    assert_false(create(f->st, DOM_UUID, b, &err));
    assert_int_equal(err.code, SNAP_E_BUSY);
    assert_string_equal(err.msg, "domain 'test' already has a snapset "
                                 "operation in progress");
    assert_int_equal(f->st->queued, 1);
}

static void
test_a_full_queue_refuses_with_503_and_releases_the_lock(void **state)
{
    fixture *f = *state;
    char s[SNAP_UUID_LEN];
    snap_error err = {0};
    const char *third = "00000000-0000-0000-0000-000000000003";

    assert_true(create(f->st, "00000000-0000-0000-0000-000000000001", s, &err));
    assert_true(create(f->st, "00000000-0000-0000-0000-000000000002", s, &err));
    assert_false(create(f->st, third, s, &err));
    assert_int_equal(err.code, SNAP_E_HTTP);
    assert_int_equal(err.http_status, 503);
    assert_string_equal(err.msg, "too many jobs waiting (2): try again later");
    assert_true(lock_free(f->st, third));
    assert_int_equal(f->st->queued, 2);
}

static void
test_a_stopping_server_refuses_with_503_and_releases_the_lock(void **state)
{
    fixture *f = *state;
    char s[SNAP_UUID_LEN];
    snap_error err = {0};

    atomic_store(&f->st->stopping, true);
    assert_false(create(f->st, DOM_UUID, s, &err));
    assert_int_equal(err.http_status, 503);
    assert_string_equal(err.msg, "snapset is shutting down");
    assert_true(lock_free(f->st, DOM_UUID));
    assert_null(f->st->jobs);
}

static void
test_a_set_still_being_made_cannot_be_deleted(void **state)
{
    fixture *f = *state;
    char s[SNAP_UUID_LEN], want[128], job[SNAP_UUID_LEN];
    snap_error err = {0};

    assert_true(create(f->st, DOM_UUID, s, &err));
    assert_false(serve_backend_ops.remove(f->st, s, false, job, &err));
    assert_int_equal(err.code, SNAP_E_STATE);
    snprintf(want, sizeof(want),
             "set %s is still being made: delete it when it is done", s);
    assert_string_equal(err.msg, want);
    assert_int_equal(f->st->queued, 1); /* no delete job */
}

static void
test_an_export_without_glance_is_refused(void **state)
{
    fixture *f = *state;
    char s[SNAP_UUID_LEN], job[SNAP_UUID_LEN];
    http_export_req req = {0};
    snap_error err = {0};

    assert_false(
        serve_backend_ops.export_set(f->st, "00000000", &req, s, job, &err));
    assert_int_equal(err.code, SNAP_E_INVALID);
    assert_non_null(strstr(err.msg, "Glance is not configured"));
}

/* What a job cancelled at shutdown leaves: a failed set, not a Location
 * that answers 404. */
static void
test_a_cancelled_create_is_recorded_as_a_failed_set(void **state)
{
    fixture *f = *state;
    char s[SNAP_UUID_LEN];
    snap_error err = {0};
    serve_job *j;
    coord_set *set;

    assert_true(create(f->st, DOM_UUID, s, &err));
    j = f->st->jobs;
    f->st->jobs = NULL;
    f->st->queued = 0;
    serve_job_record_failed(f->st, NULL, j, "cancelled: test");
    serve_job_free(j);
    assert_true(lock_free(f->st, DOM_UUID));
    set = serve_backend_ops.get(f->st, s, &err);
    assert_non_null(set);
    assert_int_equal(set->state, COORD_SET_ERROR);
    assert_string_equal(set->error, "cancelled: test");
    assert_string_equal(set->domain_name, "test");
    assert_int_equal(set->rotation, 2);
    coord_set_free(set);
}

static void
test_domains_are_found_by_name_or_uuid_and_unknown_ones_are_404(void **state)
{
    fixture *f = *state;
    char uuid[SNAP_UUID_LEN], *name = NULL;
    snap_error err = {0};
    http_owner owner;

    assert_true(
        serve_backend_ops.domain_lookup(f->st, "test", &name, uuid, &err));
    assert_string_equal(name, "test");
    assert_string_equal(uuid, DOM_UUID);
    free(name);
    name = NULL;
    assert_true(
        serve_backend_ops.domain_lookup(f->st, DOM_UUID, &name, uuid, &err));
    assert_string_equal(name, "test");
    free(name);
    name = NULL;
    assert_false(
        serve_backend_ops.domain_lookup(f->st, "nosuch", &name, uuid, &err));
    assert_int_equal(err.code, SNAP_E_NOTFOUND);
    assert_string_equal(err.msg, "no domain 'nosuch'");
    err = (snap_error){0};
    /* By UUID only: a name is no UUID. */
    assert_false(serve_backend_ops.domain_owner(f->st, "test", &owner, &err));
    assert_int_equal(err.code, SNAP_E_NOTFOUND);
    err = (snap_error){0};
    assert_true(serve_backend_ops.domain_owner(f->st, DOM_UUID, &owner, &err));
    assert_null(owner.project);
    assert_null(owner.project_name);
}

static void
test_libvirt_out_of_reach_is_503(void **state)
{
    fixture *f = *state;
    serve_state *st = state_for(f->dir, "test:///nonexistent/snapset.xml");
    char uuid[SNAP_UUID_LEN], *name = NULL;
    snap_error err = {0};
    http_owner owner;

    assert_false(
        serve_backend_ops.domain_lookup(st, "test", &name, uuid, &err));
    assert_int_equal(err.code, SNAP_E_HTTP);
    assert_int_equal(err.http_status, 503);
    assert_non_null(strstr(err.msg, "cannot connect to libvirt at "
                                    "'test:///nonexistent/snapset.xml'"));
    err = (snap_error){0};
    assert_false(serve_backend_ops.domain_owner(st, DOM_UUID, &owner, &err));
    assert_int_equal(err.http_status, 503);
    serve_state_free(st);
}

/* An accepted create is on disk as a queued job before the answer, with
 * the owner the API authorized; a job that cannot be recorded is refused
 * and its lock released. */
static void
test_an_accepted_create_is_recorded_as_a_queued_job(void **state)
{
    fixture *f = *state;
    static const http_owner owner = {"p-1234", NULL, NULL};
    http_create_req req;
    char set_uuid[SNAP_UUID_LEN], job_id[SNAP_UUID_LEN], path[160];
    snap_error err = {0};
    coord_jobrec *r;
    coord_jobrec **v = NULL;
    size_t n = 0;

    memset(&req, 0, sizeof(req));
    req.domain_name = "test";
    req.domain_uuid = DOM_UUID;
    req.owner = &owner;
    assert_true(serve_backend_ops.create(f->st, &req, set_uuid, job_id, &err));
    r = serve_backend_ops.job_get(f->st, job_id, &err);
    assert_non_null(r);
    assert_int_equal(r->state, COORD_JOBREC_QUEUED);
    assert_string_equal(r->kind, "create");
    assert_string_equal(r->set_uuid, set_uuid);
    assert_string_equal(r->domain_uuid, DOM_UUID);
    assert_string_equal(r->domain_name, "test");
    assert_string_equal(r->owner_project, "p-1234");
    coord_jobrec_free(r);
    assert_true(serve_backend_ops.job_list(f->st, &v, &n, &err));
    assert_int_equal(n, 1);
    coord_jobrec_list_free(v, n);

    /* jobs/ cannot be written: refused, nothing queued, the lock free */
    while (f->st->jobs) {
        serve_job *j = f->st->jobs;

        f->st->jobs = j->next;
        f->st->queued--;
        serve_job_free(j);
    }
    snprintf(path, sizeof(path), "rm -rf '%s/jobs' && touch '%s/jobs'", f->dir,
             f->dir);
    assert_int_equal(system(path), 0);
    memset(&err, 0, sizeof(err));
    assert_false(serve_backend_ops.create(f->st, &req, set_uuid, job_id, &err));
    assert_true(snap_error_isset(&err));
    assert_int_equal(f->st->queued, 0);
    assert_true(lock_free(f->st, DOM_UUID));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
        T(test_an_accepted_create_is_listed_as_creating_before_it_is_recorded),
        T(test_a_second_create_on_a_busy_domain_is_refused_with_its_name),
        T(test_a_full_queue_refuses_with_503_and_releases_the_lock),
        T(test_a_stopping_server_refuses_with_503_and_releases_the_lock),
        T(test_a_set_still_being_made_cannot_be_deleted),
        T(test_an_export_without_glance_is_refused),
        T(test_a_cancelled_create_is_recorded_as_a_failed_set),
        T(test_domains_are_found_by_name_or_uuid_and_unknown_ones_are_404),
        T(test_libvirt_out_of_reach_is_503),
        T(test_an_accepted_create_is_recorded_as_a_queued_job),
#undef T
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
