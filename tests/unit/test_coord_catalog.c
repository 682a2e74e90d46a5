/* tests/unit/test_coord_catalog.c -- set documents: round trip, lookup by
 * prefix, corrupt documents, atomic replacement and the domain lock. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/snap_fs.h"
#include "coordinator/coord_catalog.h"

static char dir[] = "/tmp/snapset-catalog-XXXXXX";

static int
setup(void **state)
{
    (void)state;
    strcpy(dir, "/tmp/snapset-catalog-XXXXXX");
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

static coord_set *
sample_set(void)
{
    coord_set *set = coord_set_new(NULL);
    coord_member *m;

    coord_str_set(&set->domain_name, "web \"1\"", NULL);
    strcpy(set->domain_uuid, "6d2c3b0e-5f35-4a3b-9a62-2f1e0f7a1c11");
    coord_str_set(&set->backup_type, "daily", NULL);
    set->rotation = 7;
    set->state = COORD_SET_AVAILABLE;
    set->consistency = COORD_CONSISTENCY_FILESYSTEM;
    set->freeze_ms = 123;
    set->frozen_count = 3;
    set->journal.freeze_attempted = true;
    set->journal.thawed = true;
    set->journal.owner_pid = 42;
    m = coord_set_add_member(set, NULL);
    coord_str_set(&m->target, "vda", NULL);
    coord_str_set(&m->serial, "root", NULL);
    coord_str_set(&m->location, "/x/vda.qcow2", NULL);
    m->size = 1ULL << 40;
    m->state = COORD_MEMBER_AVAILABLE;
    m = coord_set_add_member(set, NULL);
    coord_str_set(&m->target, "vdb", NULL);
    m->kind = COORD_MEMBER_CINDER;
    coord_str_set(&m->volume_id, "44fdc8b9-1f7c-41f5-b317-e30f243b4505", NULL);
    m->state = COORD_MEMBER_FAILED;
    coord_set_add_metadata(set, "ticket", "OPS-1234", NULL);
    coord_set_add_metadata(set, "owner", "db \"team\"", NULL);
    return set;
}

static void
a_saved_set_loads_back_identical(void **state)
{
    coord_catalog *cat = coord_catalog_open(dir, NULL);
    coord_set *set = sample_set(), *back;
    char *a, *b, prefix[9];
    snap_error err = {0};

    (void)state;
    assert_non_null(cat);
    assert_true(coord_catalog_save(cat, set, &err));
    snprintf(prefix, sizeof(prefix), "%.8s", set->uuid);
    back = coord_catalog_load(cat, prefix, &err);
    assert_non_null(back);
    a = coord_set_to_json(set, NULL);
    b = coord_set_to_json(back, NULL);
    assert_string_equal(a, b);
    assert_int_equal(back->members[0].size, 1ULL << 40);
    assert_int_equal(back->members[1].kind, COORD_MEMBER_CINDER);
    assert_true(back->journal.thawed);
    assert_int_equal(back->nmetadata, 2);
    assert_string_equal(back->metadata[0], "ticket");
    assert_string_equal(back->metadata[3], "db \"team\"");
    free(a);
    free(b);
    coord_set_free(back);
    coord_set_free(set);
    coord_catalog_free(cat);
}

static void
ids_must_be_long_enough_and_unique(void **state)
{
    coord_catalog *cat = coord_catalog_open(dir, NULL);
    coord_set *a = sample_set(), *b = sample_set();
    snap_error err = {0};

    (void)state;
    memcpy(a->uuid, "aaaaaaaa-0000-4000-8000-000000000001", SNAP_UUID_LEN);
    memcpy(b->uuid, "aaaaaaaa-0000-4000-8000-000000000002", SNAP_UUID_LEN);
    assert_true(coord_catalog_save(cat, a, NULL));
    assert_true(coord_catalog_save(cat, b, NULL));
    assert_null(coord_catalog_load(cat, "aaaaaaaa", &err));
    assert_string_equal(err.msg,
                        "set id 'aaaaaaaa' is ambiguous: give more characters");
    snap_error_clear(&err);
    assert_null(coord_catalog_load(cat, "aaaa", &err));
    assert_int_equal(err.code, SNAP_E_INVALID);
    snap_error_clear(&err);
    assert_null(coord_catalog_load(cat, "../../etc/passwd", &err));
    assert_int_equal(err.code, SNAP_E_INVALID);
    snap_error_clear(&err);
    assert_null(coord_catalog_load(cat, "bbbbbbbb", &err));
    assert_int_equal(err.code, SNAP_E_NOTFOUND);
    coord_set_free(a);
    coord_set_free(b);
    coord_catalog_free(cat);
}

static void
a_corrupt_document_is_named_and_never_hides_the_others(void **state)
{
    coord_catalog *cat = coord_catalog_open(dir, NULL);
    coord_set *set = sample_set(), **sets = NULL, *bad;
    char path[600];
    size_t n = 0;
    snap_error err = {0};

    (void)state;
    assert_true(coord_catalog_save(cat, set, NULL));
    snprintf(path, sizeof(path),
             "%s/sets/bbbbbbbb-0000-4000-8000-000000000001.json", dir);
    assert_true(snap_file_write_atomic(path, "{\"version\": 1, \"uuid\": ", 22,
                                       0600, NULL));
    assert_true(coord_catalog_list(cat, &sets, &n, &err));
    assert_int_equal(n, 1);
    assert_string_equal(sets[0]->uuid, set->uuid);
    coord_catalog_list_free(sets, n);
    bad = coord_catalog_load(cat, "bbbbbbbb", &err);
    assert_null(bad);
    assert_non_null(
        strstr(err.msg, "bbbbbbbb-0000-4000-8000-000000000001.json"));
    coord_set_free(set);
    coord_catalog_free(cat);
}

static void
documents_with_wrong_types_are_refused(void **state)
{
    static const char *const docs[] = {
        "[]",
        "{\"version\": 2}",
        "{\"version\": 1, \"uuid\": \"x\"}",
        "{\"version\": 1, \"uuid\": \"6d2c3b0e-5f35-4a3b-9a62-2f1e0f7a1c11\","
        " \"domain\": {\"name\": 5}}",
        "{\"version\": 1, \"uuid\": \"6d2c3b0e-5f35-4a3b-9a62-2f1e0f7a1c11\","
        " \"domain\": {\"name\": \"d\"}, \"state\": \"bogus\"}",
        "{\"version\": 1, \"version\": 1}",
    };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(docs) / sizeof(docs[0]); i++) {
        snap_error err = {0};

        assert_null(coord_set_from_json(docs[i], &err));
        assert_int_equal(err.code, SNAP_E_INVALID);
        assert_true(err.msg[0] != '\0');
    }
}

static void
saving_replaces_atomically_and_leaves_no_temporary(void **state)
{
    coord_catalog *cat = coord_catalog_open(dir, NULL);
    coord_set *set = sample_set();
    char sets_dir[600];
    struct dirent *de;
    DIR *d;
    int files = 0;

    (void)state;
    assert_true(coord_catalog_save(cat, set, NULL));
    set->state = COORD_SET_ERROR;
    assert_true(coord_catalog_save(cat, set, NULL));
    snprintf(sets_dir, sizeof(sets_dir), "%s/sets", dir);
    d = opendir(sets_dir);
    assert_non_null(d);
    while ((de = readdir(d))) {
        if (de->d_name[0] != '.') {
            files++;
            assert_null(strstr(de->d_name, ".tmp"));
        }
    }
    closedir(d);
    assert_int_equal(files, 1);
    coord_set_free(set);
    coord_catalog_free(cat);
}

static void
temporaries_of_dead_writers_are_swept_and_live_ones_kept(void **state)
{
    coord_catalog *cat = coord_catalog_open(dir, NULL);
    char dead[600], live[600];
    pid_t child;
    int status;

    (void)state;
    child = fork();
    assert_true(child >= 0);
    if (child == 0)
        _exit(0);
    assert_int_equal(waitpid(child, &status, 0), child);
    snprintf(dead, sizeof(dead),
             "%s/sets/aaaaaaaa-0000-4000-8000-000000000001.json.tmp.%ld", dir,
             (long)child);
    snprintf(live, sizeof(live),
             "%s/sets/aaaaaaaa-0000-4000-8000-000000000002.json.tmp.%ld", dir,
             (long)getpid());
    assert_true(snap_file_write_atomic(dead, "{", 1, 0600, NULL));
    assert_true(snap_file_write_atomic(live, "{", 1, 0600, NULL));
    assert_int_equal(coord_catalog_sweep(cat, NULL), 1);
    assert_int_equal(access(dead, F_OK), -1);
    assert_int_equal(access(live, F_OK), 0);
    coord_catalog_free(cat);
}

static void
one_operation_per_domain_at_a_time(void **state)
{
    coord_catalog *cat = coord_catalog_open(dir, NULL);
    const char *dom = "6d2c3b0e-5f35-4a3b-9a62-2f1e0f7a1c11";
    snap_error err = {0};
    int a, b;

    (void)state;
    a = coord_catalog_lock(cat, dom, 0, &err);
    assert_true(a >= 0);
    b = coord_catalog_lock(cat, dom, 100, &err);
    assert_int_equal(b, -1);
    assert_int_equal(err.code, SNAP_E_BUSY);
    coord_catalog_unlock(a);
    snap_error_clear(&err);
    b = coord_catalog_lock(cat, dom, 0, &err);
    assert_true(b >= 0);
    coord_catalog_unlock(b);
    coord_catalog_free(cat);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(a_saved_set_loads_back_identical, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(ids_must_be_long_enough_and_unique,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(
            a_corrupt_document_is_named_and_never_hides_the_others, setup,
            teardown),
        cmocka_unit_test(documents_with_wrong_types_are_refused),
        cmocka_unit_test_setup_teardown(
            saving_replaces_atomically_and_leaves_no_temporary, setup,
            teardown),
        cmocka_unit_test_setup_teardown(
            temporaries_of_dead_writers_are_swept_and_live_ones_kept, setup,
            teardown),
        cmocka_unit_test_setup_teardown(one_operation_per_domain_at_a_time,
                                        setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
