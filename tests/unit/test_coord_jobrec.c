/* tests/unit/test_coord_jobrec.c -- job records: round trip, newest first,
 * broken and planted records, stale jobs of a dead server. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/snap_fs.h"
#include "coordinator/coord_jobrec.h"

static char dir[] = "/tmp/snapset-jobrec-XXXXXX";

static int
setup(void **state)
{
    (void)state;
    strcpy(dir, "/tmp/snapset-jobrec-XXXXXX");
    assert_non_null(mkdtemp(dir));
    return 0;
}

static int
teardown(void **state)
{
    char cmd[600];

    (void)state;
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
    return 0;
}

static coord_jobrec *
sample(const char *kind, coord_jobrec_state state, int64_t created)
{
    coord_jobrec *r = coord_jobrec_new(kind, NULL);

    assert_non_null(r);
    r->state = state;
    r->created_ms = created;
    strcpy(r->domain_uuid, "6d2c3b0e-5f35-4a3b-9a62-2f1e0f7a1c11");
    r->domain_name = strdup("web1");
    r->owner_project = strdup("p-1234");
    return r;
}

static void
write_text(const char *name, const char *text)
{
    char path[600];

    snprintf(path, sizeof(path), "%s/jobs/%s", dir, name);
    assert_true(snap_file_write_atomic(path, text, strlen(text), 0600, NULL));
}

static void
a_record_reads_back_as_it_was_written(void **state)
{
    coord_jobrec *r = sample("create", COORD_JOBREC_SUCCEEDED, 1700000000000),
                 *b;
    snap_error err = {0};
    json_t *j;
    struct stat st;
    char path[600];

    strcpy(r->set_uuid, "aaaaaaaa-0000-4000-8000-000000000001");
    r->progress = 100;
    r->finished_ms = 1700000001000;
    r->result = json_pack("{s:s}", "location",
                          "/v1/sets/aaaaaaaa-0000-4000-8000-000000000001");
    (void)state;
    assert_true(coord_jobrec_save(dir, r, &err));
    snprintf(path, sizeof(path), "%s/jobs", dir);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0700);
    b = coord_jobrec_load(dir, r->id, &err);
    assert_non_null(b);
    assert_string_equal(b->kind, "create");
    assert_int_equal(b->state, COORD_JOBREC_SUCCEEDED);
    assert_string_equal(b->domain_name, "web1");
    assert_string_equal(b->domain_uuid, r->domain_uuid);
    assert_string_equal(b->set_uuid, r->set_uuid);
    assert_string_equal(b->owner_project, "p-1234");
    assert_int_equal(b->progress, 100);
    assert_int_equal(b->created_ms, 1700000000000);
    assert_int_equal(b->finished_ms, 1700000001000);
    assert_true(json_equal(b->result, r->result));
    assert_null(b->error);
    /* the API's view names no owner */
    j = coord_jobrec_to_json(b);
    assert_null(json_object_get(j, "owner_project"));
    assert_string_equal(json_string_value(json_object_get(j, "state")),
                        "succeeded");
    assert_true(json_is_null(json_object_get(j, "error")));
    json_decref(j);
    coord_jobrec_free(b);
    coord_jobrec_free(r);
}

static void
unknown_bad_and_broken_ids_are_told_apart(void **state)
{
    coord_jobrec *r = sample("delete", COORD_JOBREC_QUEUED, 1);
    snap_error err = {0};
    char name[64];

    (void)state;
    assert_null(coord_jobrec_load(dir, "../../etc/passwd", &err));
    assert_int_equal(err.code, SNAP_E_INVALID);
    memset(&err, 0, sizeof(err));
    assert_null(
        coord_jobrec_load(dir, "bbbbbbbb-0000-4000-8000-000000000002", &err));
    assert_int_equal(err.code, SNAP_E_NOTFOUND);
    assert_true(coord_jobrec_save(dir, r, NULL));
    /* a record under another job's name */
    snprintf(name, sizeof(name), "%s.json",
             "cccccccc-0000-4000-8000-000000000003");
    write_text(name, "{\"id\": \"dddddddd-0000-4000-8000-000000000004\", "
                     "\"kind\": \"create\", \"state\": \"queued\", "
                     "\"created\": 5}");
    memset(&err, 0, sizeof(err));
    assert_null(
        coord_jobrec_load(dir, "cccccccc-0000-4000-8000-000000000003", &err));
    assert_int_equal(err.code, SNAP_E_INVALID);
    assert_non_null(strstr(err.msg, "names another job"));
    /* not JSON, a bad state */
    write_text("eeeeeeee-0000-4000-8000-000000000005.json", "{\"id\": ");
    memset(&err, 0, sizeof(err));
    assert_null(
        coord_jobrec_load(dir, "eeeeeeee-0000-4000-8000-000000000005", &err));
    assert_non_null(strstr(err.msg, "is broken"));
    write_text("ffffffff-0000-4000-8000-000000000006.json",
               "{\"id\": \"ffffffff-0000-4000-8000-000000000006\", "
               "\"kind\": \"create\", \"state\": \"done\", \"created\": 5}");
    memset(&err, 0, sizeof(err));
    assert_null(
        coord_jobrec_load(dir, "ffffffff-0000-4000-8000-000000000006", &err));
    assert_non_null(strstr(err.msg, "no valid 'state'"));
    coord_jobrec_free(r);
}

static void
the_list_is_newest_first_and_skips_what_is_broken(void **state)
{
    coord_jobrec *a = sample("create", COORD_JOBREC_SUCCEEDED, 100),
                 *b = sample("export", COORD_JOBREC_RUNNING, 300),
                 *c = sample("delete", COORD_JOBREC_FAILED, 200), **v = NULL;
    size_t n = 0;

    (void)state;
    assert_true(coord_jobrec_list(dir, &v, &n, NULL)); /* no jobs/ yet */
    assert_int_equal(n, 0);
    assert_true(coord_jobrec_save(dir, a, NULL));
    assert_true(coord_jobrec_save(dir, b, NULL));
    assert_true(coord_jobrec_save(dir, c, NULL));
    write_text("eeeeeeee-0000-4000-8000-000000000005.json", "broken");
    write_text("notes.txt", "not a job");
    assert_true(coord_jobrec_list(dir, &v, &n, NULL));
    assert_int_equal(n, 3);
    assert_string_equal(v[0]->id, b->id);
    assert_string_equal(v[1]->id, c->id);
    assert_string_equal(v[2]->id, a->id);
    coord_jobrec_list_free(v, n);
    coord_jobrec_free(a);
    coord_jobrec_free(b);
    coord_jobrec_free(c);
}

static void
jobs_a_dead_server_left_unfinished_are_failed(void **state)
{
    coord_jobrec *q = sample("create", COORD_JOBREC_QUEUED, 1),
                 *r = sample("export", COORD_JOBREC_RUNNING, 2),
                 *s = sample("delete", COORD_JOBREC_SUCCEEDED, 3), *b;
    size_t n = 0;

    (void)state;
    s->finished_ms = 4;
    assert_true(coord_jobrec_save(dir, q, NULL));
    assert_true(coord_jobrec_save(dir, r, NULL));
    assert_true(coord_jobrec_save(dir, s, NULL));
    assert_true(
        coord_jobrec_fail_stale(dir, "snapset serve stopped", &n, NULL));
    assert_int_equal(n, 2);
    b = coord_jobrec_load(dir, q->id, NULL);
    assert_int_equal(b->state, COORD_JOBREC_FAILED);
    assert_string_equal(b->error, "snapset serve stopped");
    assert_true(b->finished_ms > 0);
    coord_jobrec_free(b);
    b = coord_jobrec_load(dir, r->id, NULL);
    assert_int_equal(b->state, COORD_JOBREC_FAILED);
    coord_jobrec_free(b);
    b = coord_jobrec_load(dir, s->id, NULL);
    assert_int_equal(b->state, COORD_JOBREC_SUCCEEDED);
    assert_null(b->error);
    assert_int_equal(b->finished_ms, 4);
    coord_jobrec_free(b);
    /* again: nothing left to do */
    assert_true(coord_jobrec_fail_stale(dir, "again", &n, NULL));
    assert_int_equal(n, 0);
    coord_jobrec_free(q);
    coord_jobrec_free(r);
    coord_jobrec_free(s);
}

static void
ended_jobs_older_than_the_bound_are_pruned(void **state)
{
    coord_jobrec *old_ok = sample("create", COORD_JOBREC_SUCCEEDED, 1),
                 *old_bad = sample("delete", COORD_JOBREC_FAILED, 2),
                 *old_running = sample("export", COORD_JOBREC_RUNNING, 3),
                 *recent = sample("spawn", COORD_JOBREC_SUCCEEDED, 4), *b;
    snap_error err = {0};
    size_t n = 0;

    (void)state;
    old_ok->finished_ms = 1000;
    old_bad->finished_ms = 2000;
    old_running->finished_ms = -1;
    recent->finished_ms = 9000;
    assert_true(coord_jobrec_save(dir, old_ok, NULL));
    assert_true(coord_jobrec_save(dir, old_bad, NULL));
    assert_true(coord_jobrec_save(dir, old_running, NULL));
    assert_true(coord_jobrec_save(dir, recent, NULL));
    assert_true(coord_jobrec_prune(dir, 5000, &n, &err));
    assert_int_equal(n, 2);
    assert_null(coord_jobrec_load(dir, old_ok->id, &err));
    assert_int_equal(err.code, SNAP_E_NOTFOUND);
    snap_error_clear(&err);
    assert_null(coord_jobrec_load(dir, old_bad->id, &err));
    b = coord_jobrec_load(dir, old_running->id, NULL);
    assert_non_null(b); /* still running: never pruned */
    coord_jobrec_free(b);
    b = coord_jobrec_load(dir, recent->id, NULL);
    assert_non_null(b);
    coord_jobrec_free(b);
    assert_true(coord_jobrec_prune(dir, 5000, &n, &err));
    assert_int_equal(n, 0);
    coord_jobrec_free(old_ok);
    coord_jobrec_free(old_bad);
    coord_jobrec_free(old_running);
    coord_jobrec_free(recent);
}

static void
state_names_parse_back(void **state)
{
    int i;

    (void)state;
    for (i = COORD_JOBREC_QUEUED; i <= COORD_JOBREC_FAILED; i++)
        assert_int_equal(coord_jobrec_state_parse(coord_jobrec_state_name(i)),
                         i);
    assert_int_equal(coord_jobrec_state_parse("done"), -1);
    assert_int_equal(coord_jobrec_state_parse(NULL), -1);
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int
main(void)
{
    const struct CMUnitTest tests[] = {
        T(a_record_reads_back_as_it_was_written),
        T(unknown_bad_and_broken_ids_are_told_apart),
        T(the_list_is_newest_first_and_skips_what_is_broken),
        T(jobs_a_dead_server_left_unfinished_are_failed),
        T(ended_jobs_older_than_the_bound_are_pruned),
        T(state_names_parse_back),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
