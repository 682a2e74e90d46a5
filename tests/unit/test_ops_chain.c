/* tests/unit/test_ops_chain.c -- ops_chain_unlink() on a real chain: a
 * catalog in a temporary directory holding three sets of one domain, set 1
 * a full qcow2 copy, set 2 an overlay on it, set 3 an overlay on set 2
 * (qemu-img and qemu-io write them, as the backup job would), each with its
 * mode, base, backing and SHA-256 recorded. Each test deletes one set (marks
 * it DELETING and unlinks it) and checks what the sets stacking on it read
 * afterwards, byte for byte, and what their records say.
 *
 * The layers: set 1 holds 0x11 over [0, 256k); set 2 0x22 over
 * [256k, 384k); set 3 0x33 over [320k, 448k), hiding the second half of
 * set 2's. Set 3 reads 0x11, 0x22, 0x33 and zeros: its [256k, 320k) comes
 * from set 2 alone, so a rebase that lost set 2 would show there.
 *
 * qemu-img is reached through a wrapper first on PATH that logs every call,
 * so a test can tell whether a rebase ran. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/snap_fs.h"
#include "coordinator/coord_catalog.h"
#include "coordinator/coord_chain.h"
#include "coordinator/ops/chain.h"

#define DOM_UUID "0b7c3e52-9d4f-4a61-8e2b-5c1d7f3a9e04"
#define OTHER_DOM_UUID "5e2a9c17-3b8d-4f60-a1c4-7d9e0b2f6a38"
#define NSETS 3
#define NMAX 4
#define K 1024

typedef struct fixture {
    char root[64];
    char bin[96];
    char log[96];
    char *old_path;
    char set[NMAX][SNAP_UUID_LEN];
    char copy[NMAX][160];
    ops_ctx ctx;
} fixture;

static void
run(const char *cmd)
{
    assert_int_equal(system(cmd), 0);
}

/* Adds set @k of domain @dom: a qcow2 copy of disk vda of 1 MiB holding
 * @pattern over [@off, @off + @len); on set @base's copy (-1: a full copy),
 * and recorded as incremental on it. */
static void
add_set(fixture *fx, int k, const char *dom, int base, int pattern, int off,
        int len)
{
    coord_set *set;
    coord_member *m;
    char cmd[1024], back[200] = "";

    set = coord_set_new(NULL);
    assert_non_null(set);
    set->state = COORD_SET_AVAILABLE;
    set->created_ms = 1000 * (k + 1);
    assert_true(coord_str_set(&set->domain_name, "web", NULL));
    memcpy(set->domain_uuid, dom, SNAP_UUID_LEN);
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
    m->mode = COORD_COPY_FULL;
    if (base >= 0) {
        m->mode = COORD_COPY_INCREMENTAL;
        assert_true(coord_str_set(&m->base, fx->set[base], NULL));
        m->backing = coord_chain_backing(fx->set[base], fx->copy[base], NULL);
        assert_non_null(m->backing);
        snprintf(back, sizeof(back), "-b '%s' -F qcow2", m->backing);
    }
    snprintf(cmd, sizeof(cmd),
             "qemu-img create -q -f qcow2 %s '%s' 1M && "
             "qemu-io -f qcow2 -c 'write -q -P 0x%x %d %d' '%s' >/dev/null",
             back, fx->copy[k], pattern, off, len, fx->copy[k]);
    run(cmd);
    assert_true(ops_chain_digest(fx->copy[k], m->sha256, NULL));
    assert_true(coord_catalog_save(fx->ctx.catalog, set, NULL));
    memcpy(fx->set[k], set->uuid, SNAP_UUID_LEN);
    coord_set_free(set);
}

/* A qemu-img first on PATH that logs its arguments and runs the real one. */
static void
wrap_qemu_img(fixture *fx)
{
    char real[PATH_MAX], path[160], *nl, *np;
    FILE *p, *f;

    p = popen("command -v qemu-img", "r");
    assert_non_null(p);
    assert_non_null(fgets(real, sizeof(real), p));
    assert_int_equal(pclose(p), 0);
    nl = strchr(real, '\n');
    if (nl)
        *nl = '\0';
    snprintf(fx->bin, sizeof(fx->bin), "%s/bin", fx->root);
    snprintf(fx->log, sizeof(fx->log), "%s/qemu-img.log", fx->root);
    assert_true(snap_dir_make(fx->bin, 0700, NULL));
    snprintf(path, sizeof(path), "%s/qemu-img", fx->bin);
    f = fopen(path, "w");
    assert_non_null(f);
    fprintf(f, "#!/bin/sh\nprintf '%%s\\n' \"$*\" >>'%s'\nexec '%s' \"$@\"\n",
            fx->log, real);
    assert_int_equal(fclose(f), 0);
    assert_int_equal(chmod(path, 0700), 0);
    fx->old_path = strdup(getenv("PATH"));
    assert_non_null(fx->old_path);
    np = malloc(strlen(fx->bin) + strlen(fx->old_path) + 2);
    assert_non_null(np);
    sprintf(np, "%s:%s", fx->bin, fx->old_path);
    assert_int_equal(setenv("PATH", np, 1), 0);
    free(np);
}

static int
setup(void **state)
{
    fixture *fx = calloc(1, sizeof(*fx));
    char cat[96];

    assert_non_null(fx);
    snprintf(fx->root, sizeof(fx->root), "/tmp/test_ops_chain.XXXXXX");
    assert_non_null(mkdtemp(fx->root));
    wrap_qemu_img(fx);
    snprintf(cat, sizeof(cat), "%s/cat", fx->root);
    assert_true(coord_conf_init(&fx->ctx.conf, NULL));
    assert_true(coord_str_set(&fx->ctx.conf.catalog_dir, cat, NULL));
    fx->ctx.conf.copy_timeout_ms = 30000;
    assert_true(ops_catalog(&fx->ctx, NULL));
    add_set(fx, 0, DOM_UUID, -1, 0x11, 0, 256 * K);
    add_set(fx, 1, DOM_UUID, 0, 0x22, 256 * K, 128 * K);
    add_set(fx, 2, DOM_UUID, 1, 0x33, 320 * K, 128 * K);
    *state = fx;
    return 0;
}

static int
teardown(void **state)
{
    fixture *fx = *state;
    char cmd[128];

    ops_ctx_release(&fx->ctx);
    assert_int_equal(setenv("PATH", fx->old_path, 1), 0);
    free(fx->old_path);
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", fx->root);
    run(cmd);
    free(fx);
    return 0;
}

/* ---- helpers ------------------------------------------------------------ */

static coord_set *
load(fixture *fx, int k)
{
    coord_set *set = coord_catalog_load(fx->ctx.catalog, fx->set[k], NULL);

    assert_non_null(set);
    assert_int_equal(set->nmembers, 1);
    return set;
}

/* Set @k in state @state, saved. */
static void
set_state(fixture *fx, int k, coord_set_state state)
{
    coord_set *set = load(fx, k);

    set->state = state;
    assert_true(coord_catalog_save(fx->ctx.catalog, set, NULL));
    coord_set_free(set);
}

/* Marks set @k DELETING and runs ops_chain_unlink() on it (no domain). */
static bool
unlink_set(fixture *fx, int k, snap_error *err)
{
    coord_set *set;
    bool ok;

    set_state(fx, k, COORD_SET_DELETING);
    set = load(fx, k);
    ok = ops_chain_unlink(&fx->ctx, NULL, set, err);
    coord_set_free(set);
    return ok;
}

static void
digest(const char *path, char hex[COORD_SHA256_HEX])
{
    assert_true(ops_chain_digest(path, hex, NULL));
}

/* What the chain of @path reads, converted to the raw file @out (under the
 * fixture's root). */
static void
raw_of(fixture *fx, const char *path, const char *name, char *out, size_t size)
{
    char cmd[512];

    snprintf(out, size, "%s/%s.raw", fx->root, name);
    snprintf(cmd, sizeof(cmd),
             "qemu-img convert -U -f qcow2 -O raw '%s' '%s' 2>/dev/null", path,
             out);
    run(cmd);
}

static bool
same_bytes(const char *a, const char *b)
{
    char cmd[512];

    snprintf(cmd, sizeof(cmd), "cmp -s '%s' '%s'", a, b);
    return system(cmd) == 0;
}

/* True when @path reads @pattern over [@off, @off + @len) (qemu-io exits
 * 1 when the pattern does not match). */
static bool
reads(const char *path, int pattern, int off, int len)
{
    char cmd[512];

    snprintf(cmd, sizeof(cmd),
             "qemu-io -r -U -f qcow2 -c 'read -q -P 0x%x %d %d' '%s' "
             ">/dev/null 2>&1",
             pattern, off, len, path);
    return system(cmd) == 0;
}

/* What set 3 read when it was made: 0x11, 0x22, 0x33, then zeros. */
static void
assert_reads_as_set3(const char *path)
{
    assert_true(reads(path, 0x11, 0, 256 * K));
    assert_true(reads(path, 0x22, 256 * K, 64 * K));
    assert_true(reads(path, 0x33, 320 * K, 128 * K));
    assert_true(reads(path, 0, 448 * K, 576 * K));
}

/* What set 2 read when it was made: 0x11, 0x22, then zeros. */
static void
assert_reads_as_set2(const char *path)
{
    assert_true(reads(path, 0x11, 0, 256 * K));
    assert_true(reads(path, 0x22, 256 * K, 128 * K));
    assert_true(reads(path, 0, 384 * K, 640 * K));
}

/* The backing file qcow2 image @path's header names, resolved (free()), or
 * NULL when it names none; from `qemu-img info`. */
static char *
header_backing(const char *path)
{
    char cmd[512], buf[16384], res[PATH_MAX];
    json_t *info, *full;
    json_error_t jerr;
    char *out = NULL;
    size_t n;
    FILE *p;

    snprintf(cmd, sizeof(cmd), "qemu-img info -U -f qcow2 --output=json '%s'",
             path);
    p = popen(cmd, "r");
    assert_non_null(p);
    n = fread(buf, 1, sizeof(buf) - 1, p);
    buf[n] = '\0';
    assert_int_equal(pclose(p), 0);
    info = json_loads(buf, 0, &jerr);
    assert_non_null(info);
    full = json_object_get(info, "full-backing-filename");
    if (full) {
        assert_non_null(realpath(json_string_value(full), res));
        out = strdup(res);
        assert_non_null(out);
    }
    json_decref(info);
    return out;
}

/* Asserts that @path's header names @want (resolved) as its backing file;
 * NULL: none. */
static void
assert_header_backing(const char *path, const char *want)
{
    char *got = header_backing(path), res[PATH_MAX];

    if (!want) {
        if (got)
            fail_msg("'%s' still names backing file '%s'", path, got);
        return;
    }
    assert_non_null(got);
    assert_non_null(realpath(want, res));
    assert_string_equal(got, res);
    free(got);
}

/* The number of `qemu-img rebase` calls so far. */
static int
rebases(fixture *fx)
{
    char line[1024];
    int n = 0;
    FILE *f = fopen(fx->log, "r");

    if (!f)
        return 0;
    while (fgets(line, sizeof(line), f)) {
        if (strncmp(line, "rebase ", 7) == 0)
            n++;
    }
    fclose(f);
    return n;
}

/* Set @k's catalog document, copied to "<root>/<name>.json". */
static void
save_doc(fixture *fx, int k, const char *name, char *out, size_t size)
{
    char cmd[512];

    snprintf(out, size, "%s/%s.json", fx->root, name);
    snprintf(cmd, sizeof(cmd), "cp '%s/cat/sets/%s.json' '%s'", fx->root,
             fx->set[k], out);
    run(cmd);
}

static bool
doc_same(fixture *fx, int k, const char *saved)
{
    char doc[256];

    snprintf(doc, sizeof(doc), "%s/cat/sets/%s.json", fx->root, fx->set[k]);
    return same_bytes(doc, saved);
}

/* Asserts that set @k's record of vda says incremental on set @base. */
static void
assert_record_on(fixture *fx, int k, int base)
{
    coord_set *set = load(fx, k);
    const coord_member *m = &set->members[0];
    char *want = coord_chain_backing(fx->set[base], fx->copy[base], NULL);

    assert_non_null(want);
    assert_int_equal(m->mode, COORD_COPY_INCREMENTAL);
    assert_non_null(m->base);
    assert_string_equal(m->base, fx->set[base]);
    assert_non_null(m->backing);
    assert_string_equal(m->backing, want);
    free(want);
    coord_set_free(set);
}

/* ---- tests -------------------------------------------------------------- */

/* Deleting the middle set: set 3 is rebased onto set 1, reads the same
 * bytes, and its record says so; set 2's own file is not touched. */
static void
middle_set_deleted_top_rebased_onto_bottom(void **state)
{
    fixture *fx = *state;
    snap_error err = {0};
    char before[200], after[200], base[200], d1[COORD_SHA256_HEX],
        d2[COORD_SHA256_HEX], d3[COORD_SHA256_HEX], now[COORD_SHA256_HEX];
    coord_set *set;
    const coord_member *m;

    raw_of(fx, fx->copy[2], "set3-before", before, sizeof(before));
    raw_of(fx, fx->copy[0], "set1", base, sizeof(base));
    /* Negative control: the comparison tells set 3 from set 1. */
    assert_false(same_bytes(before, base));
    assert_reads_as_set3(fx->copy[2]);
    assert_false(reads(fx->copy[0], 0x22, 256 * K, 64 * K));
    digest(fx->copy[0], d1);
    digest(fx->copy[1], d2);
    digest(fx->copy[2], d3);

    assert_true(unlink_set(fx, 1, &err));
    assert_false(snap_error_isset(&err));
    assert_int_equal(rebases(fx), 1);
    /* Neither set 2's file nor set 1's was written. */
    digest(fx->copy[1], now);
    assert_string_equal(now, d2);
    digest(fx->copy[0], now);
    assert_string_equal(now, d1);
    assert_reads_as_set2(fx->copy[1]);

    raw_of(fx, fx->copy[2], "set3-after", after, sizeof(after));
    assert_true(same_bytes(before, after));
    assert_reads_as_set3(fx->copy[2]);
    assert_header_backing(fx->copy[2], fx->copy[0]);
    /* Without set 2 under it, set 3 still reads set 2's 0x22. */
    assert_int_equal(unlink(fx->copy[1]), 0);
    assert_reads_as_set3(fx->copy[2]);

    assert_record_on(fx, 2, 0);
    set = load(fx, 2);
    m = &set->members[0];
    digest(fx->copy[2], now);
    assert_string_equal(m->sha256, now);
    assert_string_not_equal(now, d3); /* the cluster from set 2 is in it */
    assert_true(m->allocated > 0);
    /* Its own clusters: 320k-448k, and 256k-320k taken from set 2. */
    assert_int_equal(m->bytes_copied, 192 * K);
    assert_null(m->full_reason);
    assert_int_equal(set->state, COORD_SET_AVAILABLE);
    coord_set_free(set);

    /* Set 2's record is as it was, but DELETING. */
    set = load(fx, 1);
    assert_int_equal(set->state, COORD_SET_DELETING);
    assert_string_equal(set->members[0].sha256, d2);
    coord_set_free(set);
}

/* Deleting the bottom set: set 2 becomes a full copy ("made whole"), with
 * no backing file, reading the same bytes; set 3 (on set 2) is left alone. */
static void
child_of_the_bottom_set_is_made_whole(void **state)
{
    fixture *fx = *state;
    snap_error err = {0};
    char before[200], after[200], doc3[200], d3[COORD_SHA256_HEX],
        now[COORD_SHA256_HEX];
    coord_set *set;
    const coord_member *m;

    raw_of(fx, fx->copy[1], "set2-before", before, sizeof(before));
    save_doc(fx, 2, "set3", doc3, sizeof(doc3));
    digest(fx->copy[2], d3);

    assert_true(unlink_set(fx, 0, &err));
    assert_false(snap_error_isset(&err));
    assert_int_equal(rebases(fx), 1);

    assert_header_backing(fx->copy[1], NULL);
    /* Set 1 gone, set 2 still reads what it did. */
    assert_int_equal(unlink(fx->copy[0]), 0);
    raw_of(fx, fx->copy[1], "set2-after", after, sizeof(after));
    assert_true(same_bytes(before, after));
    assert_reads_as_set2(fx->copy[1]);

    set = load(fx, 1);
    m = &set->members[0];
    assert_int_equal(m->mode, COORD_COPY_FULL);
    assert_null(m->base);
    assert_null(m->backing);
    assert_non_null(m->full_reason);
    assert_non_null(strstr(m->full_reason, "made whole"));
    assert_non_null(strstr(m->full_reason, fx->set[0]));
    digest(fx->copy[1], now);
    assert_string_equal(m->sha256, now);
    assert_true(m->allocated > 0);
    assert_int_equal(m->bytes_copied, 384 * K); /* all of its data now */
    coord_set_free(set);

    /* Set 3 stacks on set 2, not on set 1: not touched. */
    assert_true(doc_same(fx, 2, doc3));
    digest(fx->copy[2], now);
    assert_string_equal(now, d3);
    assert_reads_as_set3(fx->copy[2]);
}

/* A second unlink of the same set finds nothing to do: no rebase, the
 * child's file and record are byte for byte the same. */
static void
unlink_run_twice_is_harmless(void **state)
{
    fixture *fx = *state;
    snap_error err = {0};
    char doc3[200], d3[COORD_SHA256_HEX], now[COORD_SHA256_HEX];
    coord_set *set;

    assert_true(unlink_set(fx, 1, &err));
    assert_int_equal(rebases(fx), 1);
    digest(fx->copy[2], d3);
    save_doc(fx, 2, "set3", doc3, sizeof(doc3));

    set = load(fx, 1);
    assert_true(ops_chain_unlink(&fx->ctx, NULL, set, &err));
    coord_set_free(set);
    assert_false(snap_error_isset(&err));
    assert_int_equal(rebases(fx), 1);
    digest(fx->copy[2], now);
    assert_string_equal(now, d3);
    assert_true(doc_same(fx, 2, doc3));
    assert_record_on(fx, 2, 0);
    assert_reads_as_set3(fx->copy[2]);
}

/* A delete killed after the rebase but before the record: the unlink run
 * again records the child without rebasing it again. */
static void
rebased_but_unrecorded_child_is_recorded(void **state)
{
    fixture *fx = *state;
    snap_error err = {0};
    char cmd[512], before[200], after[200], d3[COORD_SHA256_HEX],
        now[COORD_SHA256_HEX];
    coord_set *set;
    int n;

    raw_of(fx, fx->copy[2], "set3-before", before, sizeof(before));
    snprintf(cmd, sizeof(cmd),
             "qemu-img rebase -q -f qcow2 -b '../%s/vda.qcow2' -F qcow2 '%s'",
             fx->set[0], fx->copy[2]);
    run(cmd);
    assert_header_backing(fx->copy[2], fx->copy[0]);
    digest(fx->copy[2], d3);
    set = load(fx, 2);
    assert_string_equal(set->members[0].base, fx->set[1]); /* stale */
    assert_string_not_equal(set->members[0].sha256, d3);
    coord_set_free(set);
    n = rebases(fx);

    assert_true(unlink_set(fx, 1, &err));
    assert_false(snap_error_isset(&err));
    assert_int_equal(rebases(fx), n); /* not rebased again */
    digest(fx->copy[2], now);
    assert_string_equal(now, d3);
    assert_record_on(fx, 2, 0);
    set = load(fx, 2);
    assert_string_equal(set->members[0].sha256, d3);
    assert_int_equal(set->members[0].bytes_copied, 192 * K);
    coord_set_free(set);
    raw_of(fx, fx->copy[2], "set3-after", after, sizeof(after));
    assert_true(same_bytes(before, after));
}

static void
record_full(coord_set *set)
{
    coord_member *m = &set->members[0];

    m->mode = COORD_COPY_FULL;
    assert_true(coord_str_set(&m->base, NULL, NULL));
    assert_true(coord_str_set(&m->backing, NULL, NULL));
    assert_true(coord_str_set(&m->full_reason, "checkpoint missing", NULL));
}

/* A child whose record says full but whose header names set 2's copy is
 * found by its header and merged like any other. */
static void
child_found_by_its_header_is_merged(void **state)
{
    fixture *fx = *state;
    snap_error err = {0};
    char before[200], after[200], now[COORD_SHA256_HEX];
    coord_set *set;

    set = load(fx, 2);
    record_full(set);
    assert_true(coord_catalog_save(fx->ctx.catalog, set, NULL));
    coord_set_free(set);
    raw_of(fx, fx->copy[2], "set3-before", before, sizeof(before));

    assert_true(unlink_set(fx, 1, &err));
    assert_false(snap_error_isset(&err));
    assert_int_equal(rebases(fx), 1);
    assert_header_backing(fx->copy[2], fx->copy[0]);
    raw_of(fx, fx->copy[2], "set3-after", after, sizeof(after));
    assert_true(same_bytes(before, after));
    assert_record_on(fx, 2, 0);
    set = load(fx, 2);
    digest(fx->copy[2], now);
    assert_string_equal(set->members[0].sha256, now);
    /* An incremental copy has no reason to be full (`snapset show` prints
     * "full because:" for any member with one): merge() clears the one
     * its record had. */
    if (set->members[0].full_reason) {
        char stale[128];

        snprintf(stale, sizeof(stale), "%s", set->members[0].full_reason);
        coord_set_free(set);
        fail_msg("set 3 is incremental on set 1 but its record keeps "
                 "full_reason \"%s\"",
                 stale);
    }
    coord_set_free(set);
}

/* A child whose own delete did not finish stops the unlink: SNAP_E_STATE,
 * "delete set <child> first", and nothing is changed. */
static void
deleting_child_stops_the_unlink(void **state)
{
    fixture *fx = *state;
    snap_error err = {0};
    char want[128], doc3[200], d3[COORD_SHA256_HEX], now[COORD_SHA256_HEX];

    set_state(fx, 2, COORD_SET_DELETING);
    save_doc(fx, 2, "set3", doc3, sizeof(doc3));
    digest(fx->copy[2], d3);

    assert_false(unlink_set(fx, 1, &err));
    assert_int_equal(err.code, SNAP_E_STATE);
    snprintf(want, sizeof(want), "delete set %s first", fx->set[2]);
    assert_non_null(strstr(err.msg, want));
    assert_int_equal(rebases(fx), 0);
    digest(fx->copy[2], now);
    assert_string_equal(now, d3);
    assert_true(doc_same(fx, 2, doc3));
    assert_header_backing(fx->copy[2], fx->copy[1]);
}

/* Set 2's copy already gone while set 3 stacks on it: an error naming the
 * gone copy, and set 3's record is left as it was. */
static void
missing_copy_under_a_child_is_an_error(void **state)
{
    fixture *fx = *state;
    snap_error err = {0};
    char doc3[200], d3[COORD_SHA256_HEX], now[COORD_SHA256_HEX];

    save_doc(fx, 2, "set3", doc3, sizeof(doc3));
    digest(fx->copy[2], d3);
    assert_int_equal(unlink(fx->copy[1]), 0);

    assert_false(unlink_set(fx, 1, &err));
    assert_int_equal(err.code, SNAP_E_STATE);
    assert_non_null(strstr(err.msg, "disk 'vda'"));
    assert_non_null(strstr(err.msg, fx->set[1]));
    assert_non_null(strstr(err.msg, "gone"));
    assert_int_equal(rebases(fx), 0);
    assert_true(doc_same(fx, 2, doc3));
    digest(fx->copy[2], now);
    assert_string_equal(now, d3);
}

/* A rebase that fails (the new backing, set 1's copy, is not a qcow2
 * image): false, and set 3's file and record are as they were. */
static void
failed_rebase_changes_nothing(void **state)
{
    fixture *fx = *state;
    snap_error err = {0};
    char cmd[1024], saved[200], before[200], after[200], doc3[200],
        d3[COORD_SHA256_HEX], now[COORD_SHA256_HEX];

    raw_of(fx, fx->copy[2], "set3-before", before, sizeof(before));
    save_doc(fx, 2, "set3", doc3, sizeof(doc3));
    digest(fx->copy[2], d3);
    snprintf(saved, sizeof(saved), "%s/set1.qcow2", fx->root);
    snprintf(cmd, sizeof(cmd),
             "cp '%s' '%s' && head -c 65536 /dev/urandom >'%s'", fx->copy[0],
             saved, fx->copy[0]);
    run(cmd);

    assert_false(unlink_set(fx, 1, &err));
    assert_true(snap_error_isset(&err));
    assert_non_null(strstr(err.msg, "cannot rebase"));
    assert_int_equal(rebases(fx), 1); /* it was tried */
    assert_true(doc_same(fx, 2, doc3));
    digest(fx->copy[2], now);
    assert_string_equal(now, d3);
    assert_header_backing(fx->copy[2], fx->copy[1]);

    /* Set 1 back: set 3 reads what it did. */
    snprintf(cmd, sizeof(cmd), "cp '%s' '%s'", saved, fx->copy[0]);
    run(cmd);
    raw_of(fx, fx->copy[2], "set3-after", after, sizeof(after));
    assert_true(same_bytes(before, after));
}

/* A set of another domain with the same disk target, whose record even
 * names set 2 as its base, is not touched: only the domain's own sets are
 * children. */
static void
other_domain_is_ignored(void **state)
{
    fixture *fx = *state;
    snap_error err = {0};
    char doc4[200], d4[COORD_SHA256_HEX], now[COORD_SHA256_HEX];
    coord_set *set;
    coord_member *m;

    add_set(fx, 3, OTHER_DOM_UUID, -1, 0x44, 0, 64 * K);
    set = load(fx, 3);
    m = &set->members[0];
    m->mode = COORD_COPY_INCREMENTAL;
    assert_true(coord_str_set(&m->base, fx->set[1], NULL));
    m->backing = coord_chain_backing(fx->set[1], fx->copy[1], NULL);
    assert_non_null(m->backing);
    assert_true(coord_catalog_save(fx->ctx.catalog, set, NULL));
    coord_set_free(set);
    save_doc(fx, 3, "set4", doc4, sizeof(doc4));
    digest(fx->copy[3], d4);

    assert_true(unlink_set(fx, 1, &err));
    assert_false(snap_error_isset(&err));
    assert_int_equal(rebases(fx), 1); /* set 3 alone */
    assert_record_on(fx, 2, 0);
    assert_true(doc_same(fx, 3, doc4));
    digest(fx->copy[3], now);
    assert_string_equal(now, d4);
    assert_header_backing(fx->copy[3], NULL);
    assert_true(reads(fx->copy[3], 0x44, 0, 64 * K));
    assert_true(reads(fx->copy[3], 0, 64 * K, 960 * K));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(
            middle_set_deleted_top_rebased_onto_bottom, setup, teardown),
        cmocka_unit_test_setup_teardown(child_of_the_bottom_set_is_made_whole,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(unlink_run_twice_is_harmless, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(
            rebased_but_unrecorded_child_is_recorded, setup, teardown),
        cmocka_unit_test_setup_teardown(child_found_by_its_header_is_merged,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(deleting_child_stops_the_unlink, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(missing_copy_under_a_child_is_an_error,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(failed_rebase_changes_nothing, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(other_domain_is_ignored, setup,
                                        teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
