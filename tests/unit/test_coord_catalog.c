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

#define BASE_UUID "11111111-1111-4111-8111-111111111111"
#define CP "snapset-22222222-2222-4222-8222-222222222222"
#define SHA "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

/* sample_set() with an incremental local copy stacked on BASE_UUID and a
 * checkpointed set. */
static coord_set *
incremental_set(void)
{
    coord_set *set = sample_set();
    coord_member *m = &set->members[0];

    m->mode = COORD_COPY_INCREMENTAL;
    coord_str_set(&m->base, BASE_UUID, NULL);
    coord_str_set(&m->backing, "../" BASE_UUID "/vda.qcow2", NULL);
    m->bytes_copied = 5ULL << 32;
    m->allocated = 6ULL << 32;
    memcpy(m->sha256, SHA, sizeof(SHA));
    coord_str_set(&set->checkpoint, CP, NULL);
    coord_str_set(&set->checkpoint_from, "snapset-" BASE_UUID, NULL);
    return set;
}

/* Serialises @set, parses it back and expects a refusal whose message
 * contains @what. */
static void
assert_refused(const coord_set *set, const char *what)
{
    snap_error err = {0};
    char *text = coord_set_to_json(set, NULL);
    coord_set *back;

    assert_non_null(text);
    back = coord_set_from_json(text, &err);
    free(text);
    if (back) {
        coord_set_free(back);
        fail_msg("a document with bad '%s' was accepted", what);
    }
    assert_int_equal(err.code, SNAP_E_INVALID);
    if (!strstr(err.msg, what))
        fail_msg("'%s' does not name '%s'", err.msg, what);
}

/* The incremental-copy fields of local members and the set's checkpoints
 * survive a save and a load. */
static void
incremental_fields_round_trip(void **state)
{
    coord_catalog *cat = coord_catalog_open(dir, NULL);
    coord_set *set = incremental_set(), *back;
    coord_member *m;
    char *a, *b;
    snap_error err = {0};

    (void)state;
    m = coord_set_add_member(set, NULL);
    coord_str_set(&m->target, "vdc", NULL);
    coord_str_set(&m->format, "raw", NULL);
    coord_str_set(&m->full_reason, "a raw disk has no persistent bitmap", NULL);
    m->state = COORD_MEMBER_AVAILABLE;
    assert_true(coord_catalog_save(cat, set, &err));
    back = coord_catalog_load(cat, set->uuid, &err);
    assert_non_null(back);
    a = coord_set_to_json(set, NULL);
    b = coord_set_to_json(back, NULL);
    assert_string_equal(a, b);
    m = &back->members[0];
    assert_int_equal(m->mode, COORD_COPY_INCREMENTAL);
    assert_string_equal(m->base, BASE_UUID);
    assert_string_equal(m->backing, "../" BASE_UUID "/vda.qcow2");
    assert_null(m->full_reason);
    assert_int_equal(m->bytes_copied, 5ULL << 32);
    assert_int_equal(m->allocated, 6ULL << 32);
    assert_string_equal(m->sha256, SHA);
    m = &back->members[2];
    assert_int_equal(m->mode, COORD_COPY_FULL);
    assert_null(m->base);
    assert_null(m->backing);
    assert_string_equal(m->full_reason, "a raw disk has no persistent bitmap");
    assert_string_equal(m->sha256, "");
    assert_int_equal(back->members[1].kind, COORD_MEMBER_CINDER);
    assert_int_equal(back->members[1].mode, COORD_COPY_FULL);
    assert_string_equal(back->checkpoint, CP);
    assert_string_equal(back->checkpoint_from, "snapset-" BASE_UUID);
    /* Cinder members carry none of the copy fields (the next "target" is
     * the following member's). */
    {
        const char *c = strstr(a, "\"kind\": \"cinder\"");

        assert_non_null(c);
        assert_true(strstr(c, "\"mode\"") > strstr(c, "\"target\""));
        assert_non_null(strstr(c, "\"target\""));
    }
    free(a);
    free(b);
    coord_set_free(back);
    coord_set_free(set);
    coord_catalog_free(cat);
}

/* A direct-RBD member keeps the path it took and the names recover and
 * delete look for; a REST member records why it was not direct. */
static void
direct_rbd_fields_round_trip(void **state)
{
    coord_catalog *cat = coord_catalog_open(dir, NULL);
    coord_set *set = sample_set(), *back;
    coord_member *m;
    char *a, *b;
    snap_error err = {0};

    (void)state;
    assert_non_null(cat);
    m = &set->members[1];
    m->state = COORD_MEMBER_AVAILABLE;
    coord_str_set(&m->protocol, "rbd", NULL);
    coord_str_set(&m->snap_path, "rbd", NULL);
    coord_str_set(&m->rbd_image,
                  "volumes/volume-44fdc8b9-1f7c-41f5-b317-e30f243b4505", NULL);
    coord_str_set(&m->rbd_snap, "snapset-x-vdb", NULL);
    m = coord_set_add_member(set, NULL);
    coord_str_set(&m->target, "vdc", NULL);
    m->kind = COORD_MEMBER_CINDER;
    coord_str_set(&m->volume_id, "55fdc8b9-1f7c-41f5-b317-e30f243b4505", NULL);
    coord_str_set(&m->snap_path, "cinder", NULL);
    coord_str_set(&m->path_reason, "no Ceph key for pool 'volumes'", NULL);
    m->state = COORD_MEMBER_AVAILABLE;
    assert_true(coord_catalog_save(cat, set, &err));
    back = coord_catalog_load(cat, set->uuid, &err);
    if (!back)
        fail_msg("%s", err.msg);
    a = coord_set_to_json(set, NULL);
    b = coord_set_to_json(back, NULL);
    assert_string_equal(a, b);
    m = &back->members[1];
    assert_string_equal(m->protocol, "rbd");
    assert_string_equal(m->snap_path, "rbd");
    assert_null(m->path_reason);
    assert_string_equal(m->rbd_image,
                        "volumes/volume-44fdc8b9-1f7c-41f5-b317-e30f243b4505");
    assert_string_equal(m->rbd_snap, "snapset-x-vdb");
    m = &back->members[2];
    assert_string_equal(m->snap_path, "cinder");
    assert_string_equal(m->path_reason, "no Ceph key for pool 'volumes'");
    assert_null(m->rbd_snap);
    /* local members carry none of them */
    assert_null(back->members[0].snap_path);
    assert_true(strstr(a, "\"snap_path\"") > strstr(a, "\"kind\": \"cinder\""));
    free(a);
    free(b);
    coord_set_free(back);
    coord_set_free(set);
    coord_catalog_free(cat);
}

/* The catalog is read as root: a backing path leading anywhere but to a
 * file of a sibling set directory is refused. */
static void
a_backing_path_out_of_the_catalog_is_refused(void **state)
{
    static const char *const bad[] = {
        "/etc/passwd",
        "../x/../../y",
        "../" BASE_UUID "/../../etc/passwd",
        "../" BASE_UUID "/..",
        "../" BASE_UUID "/.",
        "../" BASE_UUID "/",
        "../" BASE_UUID,
        "../" BASE_UUID "/a/b",
        "../" BASE_UUID "x/a",
        "../11111111-1111-4111-8111-11111111111/a/b",
        "./" BASE_UUID "/vda.qcow2",
        "",
    };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        coord_set *set = incremental_set();

        coord_str_set(&set->members[0].backing, bad[i], NULL);
        assert_refused(set, "'backing'");
        coord_set_free(set);
    }
}

/* A sha256 must be 64 lower-case hex digits. */
static void
a_bad_sha256_is_refused(void **state)
{
    static const char *const bad[] = {
        "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcde",
        "0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef",
        "0123456789abcdefg123456789abcdef0123456789abcdef0123456789abcdef",
        "0123456789abcdef0123456789abcdef 123456789abcdef0123456789abcdef",
    };
    size_t i;
    snap_error err = {0};
    coord_set *back;
    char *text;

    (void)state;
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        coord_set *set = incremental_set();

        snprintf(set->members[0].sha256, COORD_SHA256_HEX, "%s", bad[i]);
        assert_refused(set, "'sha256'");
        coord_set_free(set);
    }
    /* 65 digits (too long for the struct: edit the document). */
    {
        coord_set *set = incremental_set();
        char *at, *longer;
        size_t head;

        text = coord_set_to_json(set, NULL);
        at = strstr(text, SHA);
        assert_non_null(at);
        head = (size_t)(at - text) + sizeof(SHA) - 1;
        longer = malloc(strlen(text) + 2);
        assert_non_null(longer);
        sprintf(longer, "%.*s0%s", (int)head, text, text + head);
        free(text);
        back = coord_set_from_json(longer, &err);
        free(longer);
        assert_null(back);
        assert_non_null(strstr(err.msg, "'sha256'"));
        coord_set_free(set);
    }
}

/* An incremental copy must say what it stacks on; a base must be a uuid;
 * the mode must be known. */
static void
an_incremental_copy_without_base_is_refused(void **state)
{
    coord_set *set;
    snap_error err = {0};
    coord_set *back;
    char *text, *at;

    (void)state;
    set = incremental_set();
    coord_str_set(&set->members[0].base, NULL, NULL);
    assert_refused(set, "names no base");
    coord_set_free(set);
    set = incremental_set();
    coord_str_set(&set->members[0].backing, NULL, NULL);
    assert_refused(set, "names no base");
    coord_set_free(set);
    set = incremental_set();
    coord_str_set(&set->members[0].base, "../../etc", NULL);
    assert_refused(set, "'base'");
    coord_set_free(set);
    set = incremental_set();
    text = coord_set_to_json(set, NULL);
    at = strstr(text, "\"incremental\"");
    assert_non_null(at);
    memcpy(at, "\"incrementaX\"", 13);
    back = coord_set_from_json(text, &err);
    free(text);
    assert_null(back);
    assert_non_null(strstr(err.msg, "mode"));
    coord_set_free(set);
}

/* A document written before incremental sets loads as full copies. */
static void
an_old_document_loads_as_full_copies(void **state)
{
    static const char doc[] =
        "{\"version\": 1, \"uuid\": \"6d2c3b0e-5f35-4a3b-9a62-2f1e0f7a1c11\","
        " \"domain\": {\"name\": \"d\"}, \"state\": \"available\","
        " \"consistency\": \"crash\", \"quiesce\": \"off\","
        " \"members\": [{\"target\": \"vda\", \"kind\": \"local\","
        " \"format\": \"qcow2\", \"location\": \"/x/vda.qcow2\","
        " \"copy_format\": \"qcow2\", \"size\": 4096,"
        " \"state\": \"available\"}]}";
    snap_error err = {0};
    coord_set *set = coord_set_from_json(doc, &err);
    const coord_member *m;

    (void)state;
    assert_non_null(set);
    assert_int_equal(set->nmembers, 1);
    m = &set->members[0];
    assert_int_equal(m->mode, COORD_COPY_FULL);
    assert_null(m->base);
    assert_null(m->backing);
    assert_null(m->full_reason);
    assert_int_equal(m->bytes_copied, 0);
    assert_int_equal(m->allocated, 0);
    assert_string_equal(m->sha256, "");
    assert_null(set->checkpoint);
    assert_null(set->checkpoint_from);
    coord_set_free(set);
}

/* The set's warnings are part of its record: written, read back in
 * order, an old document without them has none, and anything but an array
 * of strings is refused. */
static void
warnings_round_trip_and_are_checked(void **state)
{
    static const char head[] =
        "{\"version\": 1, \"uuid\": \"6d2c3b0e-5f35-4a3b-9a62-2f1e0f7a1c11\","
        " \"domain\": {\"name\": \"d\"}, \"state\": \"available\","
        " \"consistency\": \"crash\", \"quiesce\": \"off\", \"members\": []";
    static const char *const bad[] = {", \"warnings\": \"one\"}",
                                      ", \"warnings\": [\"a\", 5]}",
                                      ", \"warnings\": {}}"};
    coord_set *set = sample_set(), *back;
    snap_error err = {0};
    char *a, *b, doc[512];
    size_t i;

    (void)state;
    assert_true(coord_set_add_warning(set,
                                      "disk vdb (serial x) looks like a "
                                      "Cinder volume",
                                      &err));
    assert_true(coord_set_add_warning(set, "second \"quoted\"", &err));
    a = coord_set_to_json(set, &err);
    assert_non_null(a);
    back = coord_set_from_json(a, &err);
    assert_non_null(back);
    assert_int_equal(back->nwarnings, 2);
    assert_string_equal(back->warnings[0],
                        "disk vdb (serial x) looks like a Cinder volume");
    assert_string_equal(back->warnings[1], "second \"quoted\"");
    b = coord_set_to_json(back, &err);
    assert_string_equal(a, b);
    free(a);
    free(b);
    coord_set_free(back);
    coord_set_free(set);

    snprintf(doc, sizeof(doc), "%s}", head);
    back = coord_set_from_json(doc, &err);
    assert_non_null(back);
    assert_int_equal(back->nwarnings, 0);
    assert_null(back->warnings);
    coord_set_free(back);
    snprintf(doc, sizeof(doc), "%s, \"warnings\": null}", head);
    back = coord_set_from_json(doc, &err);
    assert_non_null(back);
    assert_int_equal(back->nwarnings, 0);
    coord_set_free(back);
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        snap_error e = {0};

        snprintf(doc, sizeof(doc), "%s%s", head, bad[i]);
        assert_null(coord_set_from_json(doc, &e));
        assert_int_equal(e.code, SNAP_E_INVALID);
        assert_non_null(strstr(e.msg, "warning"));
    }
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
        cmocka_unit_test_setup_teardown(direct_rbd_fields_round_trip, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(incremental_fields_round_trip, setup,
                                        teardown),
        cmocka_unit_test(a_backing_path_out_of_the_catalog_is_refused),
        cmocka_unit_test(a_bad_sha256_is_refused),
        cmocka_unit_test(an_incremental_copy_without_base_is_refused),
        cmocka_unit_test(an_old_document_loads_as_full_copies),
        cmocka_unit_test(warnings_round_trip_and_are_checked),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
