/* tests/unit/test_ops_verify.c -- ops_verify() on a real chain: a catalog
 * in a temporary directory holding three sets of one domain, set 1 a full
 * qcow2 copy, set 2 an overlay on it, set 3 an overlay on set 2 (qemu-img
 * writes them, as the backup job would), each with its mode, base, backing
 * and SHA-256 recorded. Each test damages one thing and checks that the
 * set is reported broken, with the sets stacking on it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/snap_fs.h"
#include "coordinator/coord_catalog.h"
#include "coordinator/coord_chain.h"
#include "coordinator/ops/chain.h"
#include "coordinator/ops/verify.h"

#define DOM_UUID "0b7c3e52-9d4f-4a61-8e2b-5c1d7f3a9e04"
#define NSETS 3

typedef struct fixture {
    char root[64];
    char set[NSETS][SNAP_UUID_LEN];
    char copy[NSETS][160];
    ops_ctx ctx;
} fixture;

static void
run(const char *cmd)
{
    assert_int_equal(system(cmd), 0);
}

/* Set @k of the fixture: set 0 a full copy (0x11 over 256 KiB), set k > 0
 * an overlay on set k - 1's copy with one 64 KiB cluster of its own, and
 * recorded as incremental on it. */
static void
add_set(fixture *fx, int k, int64_t created_ms)
{
    coord_set *set;
    coord_member *m;
    char cmd[1024];

    set = coord_set_new(NULL);
    assert_non_null(set);
    set->state = COORD_SET_AVAILABLE;
    set->created_ms = created_ms;
    assert_true(coord_str_set(&set->domain_name, "web", NULL));
    memcpy(set->domain_uuid, DOM_UUID, SNAP_UUID_LEN);
    set->dir = coord_catalog_set_dir(fx->ctx.catalog, set->uuid, NULL);
    assert_non_null(set->dir);
    assert_true(snap_dir_make(set->dir, 0700, NULL));
    snprintf(fx->copy[k], sizeof(fx->copy[k]), "%s/vda.qcow2", set->dir);
    m = coord_set_add_member(set, NULL);
    assert_non_null(m);
    m->kind = COORD_MEMBER_LOCAL;
    m->state = COORD_MEMBER_AVAILABLE;
    m->size = 1 << 20;
    assert_true(coord_str_set(&m->target, "vda", NULL));
    assert_true(coord_str_set(&m->source_type, "file", NULL));
    assert_true(coord_str_set(&m->source, "/var/lib/web.qcow2", NULL));
    assert_true(coord_str_set(&m->format, "qcow2", NULL));
    assert_true(coord_str_set(&m->location, fx->copy[k], NULL));
    assert_true(coord_str_set(&m->copy_format, "qcow2", NULL));
    if (k == 0) {
        m->mode = COORD_COPY_FULL;
        snprintf(
            cmd, sizeof(cmd),
            "qemu-img create -q -f qcow2 '%s' 1M && "
            "qemu-io -f qcow2 -c 'write -q -P 0x11 0 256k' '%s' >/dev/null",
            fx->copy[k], fx->copy[k]);
    } else {
        m->mode = COORD_COPY_INCREMENTAL;
        assert_true(coord_str_set(&m->base, fx->set[k - 1], NULL));
        m->backing = coord_chain_backing(fx->set[k - 1], fx->copy[k - 1], NULL);
        assert_non_null(m->backing);
        snprintf(cmd, sizeof(cmd),
                 "qemu-img create -q -f qcow2 -b '%s' -F qcow2 '%s' && "
                 "qemu-io -f qcow2 -c 'write -q -P 0x%x %dk 64k' '%s' "
                 ">/dev/null",
                 m->backing, fx->copy[k], 0x11 * (k + 1), 64 * k, fx->copy[k]);
    }
    run(cmd);
    assert_true(ops_chain_digest(fx->copy[k], m->sha256, NULL));
    assert_true(coord_catalog_save(fx->ctx.catalog, set, NULL));
    memcpy(fx->set[k], set->uuid, SNAP_UUID_LEN);
    coord_set_free(set);
}

static int
setup(void **state)
{
    fixture *fx = calloc(1, sizeof(*fx));
    char cat[96];
    int k;

    assert_non_null(fx);
    snprintf(fx->root, sizeof(fx->root), "/tmp/test_ops_verify.XXXXXX");
    assert_non_null(mkdtemp(fx->root));
    snprintf(cat, sizeof(cat), "%s/cat", fx->root);
    assert_true(coord_conf_init(&fx->ctx.conf, NULL));
    assert_true(coord_str_set(&fx->ctx.conf.catalog_dir, cat, NULL));
    fx->ctx.conf.copy_timeout_ms = 30000;
    assert_true(ops_catalog(&fx->ctx, NULL));
    for (k = 0; k < NSETS; k++)
        add_set(fx, k, 1000 * (k + 1));
    *state = fx;
    return 0;
}

static int
teardown(void **state)
{
    fixture *fx = *state;
    char cmd[128];

    ops_ctx_release(&fx->ctx);
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", fx->root);
    run(cmd);
    free(fx);
    return 0;
}

/* The report's entry for set @uuid. */
static const ops_verify_set *
entry(const ops_verify_report *r, const char *uuid)
{
    size_t i;

    for (i = 0; i < r->nsets; i++) {
        if (strcmp(r->sets[i].uuid, uuid) == 0)
            return &r->sets[i];
    }
    fail_msg("set %s is not in the report", uuid);
    return NULL;
}

/* True when one of @e's problems contains @part. */
static bool
has_problem(const ops_verify_set *e, const char *part)
{
    size_t i;

    for (i = 0; i < e->nproblems; i++) {
        if (strstr(e->problems[i], part))
            return true;
    }
    return false;
}

/* Verifies every set of the catalog, @n of them. */
static void
verify_n(fixture *fx, ops_verify_report *r, size_t n)
{
    snap_error err = {0};

    assert_true(ops_verify(&fx->ctx, NULL, 0, r, &err));
    assert_false(snap_error_isset(&err));
    assert_int_equal(r->nsets, n);
}

static void
verify_all(fixture *fx, ops_verify_report *r)
{
    verify_n(fx, r, NSETS);
}

static void
assert_ok(const ops_verify_report *r, const char *uuid)
{
    const ops_verify_set *e = entry(r, uuid);

    if (e->nproblems)
        fail_msg("set %s: %s", uuid, e->problems[0]);
    assert_int_equal(e->status, OPS_VERIFY_OK);
    assert_int_equal(e->nchecked, 1);
    assert_int_equal(e->ndependents, 0);
}

/* The member record of disk vda of set @k, changed by @change, saved. */
static void
rewrite_set(fixture *fx, int k, void (*change)(coord_set *set, void *arg),
            void *arg)
{
    coord_set *set = coord_catalog_load(fx->ctx.catalog, fx->set[k], NULL);

    assert_non_null(set);
    change(set, arg);
    assert_true(coord_catalog_save(fx->ctx.catalog, set, NULL));
    coord_set_free(set);
}

static void
change_digest(coord_set *set, void *arg)
{
    assert_true(ops_chain_digest(arg, set->members[0].sha256, NULL));
}

static void
change_state_error(coord_set *set, void *arg)
{
    (void)arg;
    set->state = COORD_SET_ERROR;
    assert_true(coord_str_set(&set->error, "copy failed", NULL));
}

/* The offset in @path of its first data cluster of its own (depth 0), from
 * `qemu-img map`. */
static long
data_offset(const char *path)
{
    char cmd[256], buf[8192];
    json_t *map, *e;
    json_error_t jerr;
    long off = -1;
    size_t n, i;
    FILE *p;

    snprintf(cmd, sizeof(cmd), "qemu-img map -f qcow2 --output=json '%s'",
             path);
    p = popen(cmd, "r");
    assert_non_null(p);
    n = fread(buf, 1, sizeof(buf) - 1, p);
    buf[n] = '\0';
    assert_int_equal(pclose(p), 0);
    map = json_loads(buf, 0, &jerr);
    assert_non_null(map);
    json_array_foreach(map, i, e)
    {
        if (off < 0 && json_integer_value(json_object_get(e, "depth")) == 0 &&
            json_is_true(json_object_get(e, "data")) &&
            json_object_get(e, "offset"))
            off = (long)json_integer_value(json_object_get(e, "offset"));
    }
    json_decref(map);
    assert_true(off > 0);
    return off;
}

static void
flip_byte(const char *path, long off)
{
    unsigned char c;
    int fd = open(path, O_RDWR);

    assert_true(fd >= 0);
    assert_int_equal(pread(fd, &c, 1, off), 1);
    c ^= 0xff;
    assert_int_equal(pwrite(fd, &c, 1, off), 1);
    assert_int_equal(close(fd), 0);
}

static void
sound_chain_is_ok_in_every_set(void **state)
{
    fixture *fx = *state;
    ops_verify_report r;
    int k;

    verify_all(fx, &r);
    assert_int_equal(r.nbroken, 0);
    for (k = 0; k < NSETS; k++) {
        assert_string_equal(r.sets[k].uuid, fx->set[k]); /* oldest first */
        assert_ok(&r, fx->set[k]);
    }
    ops_verify_report_release(&r);
}

static void
flipped_byte_breaks_the_set_and_the_set_on_it(void **state)
{
    fixture *fx = *state;
    ops_verify_report r;
    const ops_verify_set *e;
    snap_error err = {0};
    const char *ids[1];
    char want[128];
    long off = data_offset(fx->copy[1]) + 4096;

    /* Negative control: the same verify passes before the flip. */
    verify_all(fx, &r);
    assert_int_equal(r.nbroken, 0);
    ops_verify_report_release(&r);

    flip_byte(fx->copy[1], off);
    verify_all(fx, &r);
    assert_int_equal(r.nbroken, 2);
    assert_ok(&r, fx->set[0]);
    e = entry(&r, fx->set[1]);
    assert_int_equal(e->status, OPS_VERIFY_BROKEN);
    assert_int_equal(e->nproblems, 1);
    assert_non_null(strstr(e->problems[0], "vda: sha256 mismatch"));
    assert_int_equal(e->ndependents, 1);
    assert_string_equal(e->dependents[0], fx->set[2]);
    e = entry(&r, fx->set[2]);
    assert_int_equal(e->status, OPS_VERIFY_BROKEN);
    assert_int_equal(e->nproblems, 1);
    snprintf(want, sizeof(want), "vda: stacks on broken set %s", fx->set[1]);
    assert_string_equal(e->problems[0], want);
    assert_int_equal(e->ndependents, 0);
    ops_verify_report_release(&r);

    /* Asked for the top set alone, the sets under it are checked too. */
    ids[0] = fx->set[2];
    assert_true(ops_verify(&fx->ctx, ids, 1, &r, &err));
    assert_int_equal(r.nsets, 1);
    assert_int_equal(r.nbroken, 1);
    assert_string_equal(r.sets[0].problems[0], want);
    ops_verify_report_release(&r);
}

static void
flipped_byte_in_the_base_breaks_the_whole_chain(void **state)
{
    fixture *fx = *state;
    ops_verify_report r;
    const ops_verify_set *e;
    char want[128];

    flip_byte(fx->copy[0], data_offset(fx->copy[0]) + 100);
    verify_all(fx, &r);
    assert_int_equal(r.nbroken, 3);
    e = entry(&r, fx->set[0]);
    assert_true(has_problem(e, "sha256 mismatch"));
    assert_int_equal(e->ndependents, 2);
    assert_string_equal(e->dependents[0], fx->set[1]);
    assert_string_equal(e->dependents[1], fx->set[2]);
    snprintf(want, sizeof(want), "vda: stacks on broken set %s", fx->set[0]);
    assert_string_equal(entry(&r, fx->set[1])->problems[0], want);
    assert_string_equal(entry(&r, fx->set[2])->problems[0], want);
    ops_verify_report_release(&r);
}

static void
copy_replaced_by_a_symlink_is_broken_and_not_followed(void **state)
{
    fixture *fx = *state;
    ops_verify_report r;
    const ops_verify_set *e;
    char cmd[1024], moved[128];

    /* The link leads to the very same bytes: following it would pass. */
    snprintf(moved, sizeof(moved), "%s/moved.qcow2", fx->root);
    snprintf(cmd, sizeof(cmd), "mv '%s' '%s' && ln -s '%s' '%s'", fx->copy[1],
             moved, moved, fx->copy[1]);
    run(cmd);
    verify_all(fx, &r);
    assert_ok(&r, fx->set[0]);
    e = entry(&r, fx->set[1]);
    assert_int_equal(e->status, OPS_VERIFY_BROKEN);
    assert_int_equal(e->nproblems, 1);
    assert_non_null(
        strstr(e->problems[0], "is a symbolic link (not followed)"));
    assert_int_equal(e->nchecked, 0);
    assert_int_equal(e->ndependents, 1);
    assert_int_equal(entry(&r, fx->set[2])->status, OPS_VERIFY_BROKEN);
    ops_verify_report_release(&r);
}

static void
backing_file_pointing_elsewhere_is_broken(void **state)
{
    fixture *fx = *state;
    ops_verify_report r;
    const ops_verify_set *e;
    char cmd[1024], other[128];

    snprintf(other, sizeof(other), "%s/other.qcow2", fx->root);
    snprintf(cmd, sizeof(cmd),
             "cp '%s' '%s' && qemu-img rebase -u -f qcow2 -b '%s' -F qcow2 "
             "'%s'",
             fx->copy[1], other, other, fx->copy[2]);
    run(cmd);
    /* The digest recorded again: only the backing file gives it away. */
    rewrite_set(fx, 2, change_digest, fx->copy[2]);
    verify_all(fx, &r);
    assert_int_equal(r.nbroken, 1);
    assert_ok(&r, fx->set[0]);
    assert_ok(&r, fx->set[1]);
    e = entry(&r, fx->set[2]);
    assert_int_equal(e->status, OPS_VERIFY_BROKEN);
    assert_int_equal(e->nproblems, 1);
    assert_non_null(strstr(e->problems[0], "names backing file"));
    assert_non_null(strstr(e->problems[0], other));
    ops_verify_report_release(&r);
}

static void
base_set_missing_from_the_catalog_is_broken(void **state)
{
    fixture *fx = *state;
    ops_verify_report r;
    const ops_verify_set *e;
    char doc[160], want[128];

    snprintf(doc, sizeof(doc), "%s/cat/sets/%s.json", fx->root, fx->set[0]);
    assert_int_equal(unlink(doc), 0);
    verify_n(fx, &r, 2); /* the two left */
    assert_int_equal(r.nbroken, 2);
    e = entry(&r, fx->set[1]);
    snprintf(want, sizeof(want), "vda: base set %s is not in the catalog",
             fx->set[0]);
    assert_int_equal(e->nproblems, 1);
    assert_string_equal(e->problems[0], want);
    assert_int_equal(e->ndependents, 1);
    snprintf(want, sizeof(want), "vda: stacks on broken set %s", fx->set[1]);
    assert_string_equal(entry(&r, fx->set[2])->problems[0], want);
    ops_verify_report_release(&r);
}

static void
set_in_error_is_skipped_and_breaks_the_set_on_it(void **state)
{
    fixture *fx = *state;
    ops_verify_report r;
    const ops_verify_set *e;
    snap_error err = {0};
    const char *ids[1];
    char want[128];

    rewrite_set(fx, 1, change_state_error, NULL);
    verify_all(fx, &r);
    assert_int_equal(r.nbroken, 1);
    assert_ok(&r, fx->set[0]);
    e = entry(&r, fx->set[1]);
    assert_int_equal(e->status, OPS_VERIFY_SKIPPED);
    assert_int_equal(e->state, COORD_SET_ERROR);
    assert_int_equal(e->nproblems, 0);
    e = entry(&r, fx->set[2]);
    snprintf(want, sizeof(want), "vda: base set %s is error", fx->set[1]);
    assert_int_equal(e->nproblems, 1);
    assert_string_equal(e->problems[0], want);
    ops_verify_report_release(&r);

    ids[0] = fx->set[1];
    assert_true(ops_verify(&fx->ctx, ids, 1, &r, &err));
    assert_int_equal(r.nsets, 1);
    assert_int_equal(r.nbroken, 0);
    assert_int_equal(r.sets[0].status, OPS_VERIFY_SKIPPED);
    ops_verify_report_release(&r);
}

static void
missing_copy_is_broken(void **state)
{
    fixture *fx = *state;
    ops_verify_report r;
    const ops_verify_set *e;

    assert_int_equal(unlink(fx->copy[2]), 0);
    verify_all(fx, &r);
    assert_int_equal(r.nbroken, 1);
    e = entry(&r, fx->set[2]);
    assert_int_equal(e->nproblems, 1);
    assert_non_null(strstr(e->problems[0], "is missing"));
    ops_verify_report_release(&r);
}

static void
ids_are_prefixes_and_count_once(void **state)
{
    fixture *fx = *state;
    ops_verify_report r;
    snap_error err = {0};
    char prefix[9];
    const char *ids[3];

    snprintf(prefix, sizeof(prefix), "%.8s", fx->set[1]);
    ids[0] = prefix;
    ids[1] = fx->set[1];
    ids[2] = fx->set[0];
    assert_true(ops_verify(&fx->ctx, ids, 3, &r, &err));
    assert_int_equal(r.nsets, 2);
    assert_string_equal(r.sets[0].uuid, fx->set[1]); /* as asked */
    assert_string_equal(r.sets[1].uuid, fx->set[0]);
    assert_int_equal(r.nbroken, 0);
    ops_verify_report_release(&r);
}

static void
unknown_set_is_not_found(void **state)
{
    fixture *fx = *state;
    ops_verify_report r;
    snap_error err = {0};
    const char *ids[2];

    ids[0] = fx->set[0];
    ids[1] = "ffffffff-0000-4000-8000-000000000000";
    assert_false(ops_verify(&fx->ctx, ids, 2, &r, &err));
    assert_int_equal(err.code, SNAP_E_NOTFOUND);
    assert_non_null(strstr(err.msg, "ffffffff"));
    ops_verify_report_release(&r);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(sound_chain_is_ok_in_every_set, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(
            flipped_byte_breaks_the_set_and_the_set_on_it, setup, teardown),
        cmocka_unit_test_setup_teardown(
            flipped_byte_in_the_base_breaks_the_whole_chain, setup, teardown),
        cmocka_unit_test_setup_teardown(
            copy_replaced_by_a_symlink_is_broken_and_not_followed, setup,
            teardown),
        cmocka_unit_test_setup_teardown(
            backing_file_pointing_elsewhere_is_broken, setup, teardown),
        cmocka_unit_test_setup_teardown(
            base_set_missing_from_the_catalog_is_broken, setup, teardown),
        cmocka_unit_test_setup_teardown(
            set_in_error_is_skipped_and_breaks_the_set_on_it, setup, teardown),
        cmocka_unit_test_setup_teardown(missing_copy_is_broken, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(ids_are_prefixes_and_count_once, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(unknown_set_is_not_found, setup,
                                        teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
