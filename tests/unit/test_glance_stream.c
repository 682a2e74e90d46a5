/* tests/unit/test_glance_stream.c -- the OVA produced on demand (for
 * uploads without a temporary file), and progress with cancellation of the
 * package writers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "glance/glance.h"
#include "glance/glance_priv.h"
#include "unit/test_glance_util.h"

/* disk-a spans several chunks and ends mid-chunk; disk-b is small. */
#define SIZE_A (3 * GLANCE_CHUNK_SIZE + 12345)
#define SIZE_B 100000

typedef struct fixture {
    char *top;
    char *paths[2];
    char *ova;
    char *out;
    glance_ovf *ovf;
} fixture;

static int
setup(void **state)
{
    fixture *f = calloc(1, sizeof(*f));

    f->top = tg_tmpdir();
    f->paths[0] = tg_make_file(f->top, "a.vmdk", SIZE_A, 1);
    f->paths[1] = tg_make_file(f->top, "b.qcow2", SIZE_B, 2);
    f->ova = malloc(strlen(f->top) + 16);
    sprintf(f->ova, "%s/web01.ova", f->top);
    f->out = malloc(strlen(f->top) + 16);
    sprintf(f->out, "%s/out", f->top);
    mkdir(f->out, 0755);
    f->ovf = tg_fixture_ovf(SIZE_A, SIZE_B);
    *state = f;
    return 0;
}

static int
teardown(void **state)
{
    fixture *f = *state;

    tg_rmtree(f->top);
    glance_ovf_free(f->ovf);
    free(f->top);
    free(f->paths[0]);
    free(f->paths[1]);
    free(f->ova);
    free(f->out);
    free(f);
    return 0;
}

/* Reads the whole stream with reads of @step bytes. */
static char *
drain(glance_ova_stream *s, size_t step, size_t *len)
{
    size_t cap = (size_t)glance_ova_stream_size(s) + 1, n = 0;
    char *buf = malloc(cap);
    snap_error err = {0};
    ssize_t r;

    assert_non_null(buf);
    for (;;) {
        r = glance_ova_stream_read(s, buf + n, step < cap - n ? step : cap - n,
                                   &err);
        if (r < 0)
            fail_msg("stream: %s", err.msg);
        if (r == 0)
            break;
        n += (size_t)r;
        assert_true(n < cap);
    }
    *len = n;
    return buf;
}

static void
test_the_stream_is_the_ova_file_byte_for_byte(void **state)
{
    fixture *f = *state;
    const char *paths[2] = {f->paths[0], f->paths[1]};
    glance_ova_stream *s;
    snap_error err = {0};
    char *file, *data;
    size_t flen, len;

    if (!glance_ova_write(f->ova, f->ovf, paths, 2, &err))
        fail_msg("write: %s", err.msg);
    file = tg_read_file(f->ova, &flen);
    s = glance_ova_stream_new(f->ovf, paths, 2, NULL, &err);
    if (!s)
        fail_msg("stream: %s", err.msg);
    /* The size is known before the first byte, and exact. */
    assert_int_equal(glance_ova_stream_size(s), flen);
    data = drain(s, 7777, &len); /* reads that straddle every boundary */
    assert_int_equal(len, flen);
    assert_memory_equal(data, file, flen);
    free(data);
    /* Sent twice (after a 401): the same bytes again. */
    assert_true(glance_ova_stream_rewind(s, &err));
    data = drain(s, 1 << 20, &len);
    assert_int_equal(len, flen);
    assert_memory_equal(data, file, flen);
    free(data);
    glance_ova_stream_free(s);
    free(file);
}

static void
test_a_disk_changed_after_hashing_fails_the_stream(void **state)
{
    fixture *f = *state;
    const char *paths[2] = {f->paths[0], f->paths[1]};
    glance_ova_stream *s;
    snap_error err = {0};
    char buf[65536];
    ssize_t r;
    int fd;

    s = glance_ova_stream_new(f->ovf, paths, 2, NULL, &err);
    assert_non_null(s);
    /* Same size, one byte different: the manifest already went out. */
    fd = open(f->paths[1], O_WRONLY);
    assert_true(fd >= 0);
    assert_int_equal(pwrite(fd, "X", 1, 500), 1);
    close(fd);
    do {
        r = glance_ova_stream_read(s, buf, sizeof(buf), &err);
    } while (r > 0);
    assert_int_equal(r, -1);
    assert_int_equal(err.code, SNAP_E_STATE);
    assert_non_null(strstr(err.msg, "changed while it was packaged"));
    /* Failed streams stay failed. */
    snap_error_clear(&err);
    assert_int_equal(glance_ova_stream_read(s, buf, sizeof(buf), &err), -1);
    glance_ova_stream_free(s);
}

/* Counts calls; cancels at call number @cancel_at (0: never). */
typedef struct tally {
    int calls, starts, cancel_at;
    uint64_t last_done, last_total;
    char steps[8];
    size_t nsteps;
} tally;

static bool
on_progress(void *ctx, const glance_progress_info *info, snap_error *err)
{
    tally *t = ctx;

    t->calls++;
    if (info->file_done == 0)
        t->starts++;
    assert_true(info->file_done <= info->file_size);
    assert_true(info->done <= info->total);
    assert_int_equal(info->total, SIZE_A + SIZE_B);
    if (t->nsteps == 0 || t->steps[t->nsteps - 1] != info->step[0]) {
        if (t->nsteps < sizeof(t->steps))
            t->steps[t->nsteps++] = info->step[0];
    }
    t->last_done = info->done;
    t->last_total = info->total;
    if (t->cancel_at && t->calls == t->cancel_at)
        return snap_error_set(err, SNAP_E_STATE, "interrupted by SIGINT");
    return true;
}

static void
test_progress_covers_every_disk_of_a_write(void **state)
{
    fixture *f = *state;
    const char *paths[2] = {f->paths[0], f->paths[1]};
    tally t = {0};
    glance_progress p = {on_progress, &t};
    snap_error err = {0};
    glance_ova_stream *s;
    char *data;
    size_t len;

    assert_true(glance_ova_write_progress(f->ova, f->ovf, paths, 2, &p, &err));
    assert_int_equal(t.starts, 2);
    assert_int_equal(t.last_done, t.last_total);
    assert_true(t.calls >= 2 + 4 + 1); /* starts, then one per chunk */

    /* A stream reports its hashing pass, then its writing pass. */
    memset(&t, 0, sizeof(t));
    s = glance_ova_stream_new(f->ovf, paths, 2, &p, &err);
    assert_non_null(s);
    assert_int_equal(t.last_done, SIZE_A + SIZE_B);
    data = drain(s, 1 << 20, &len);
    assert_int_equal(t.nsteps, 2);
    assert_memory_equal(t.steps, "hw", 2);
    assert_int_equal(t.starts, 4);
    assert_int_equal(t.last_done, SIZE_A + SIZE_B);
    free(data);
    glance_ova_stream_free(s);
}

static void
test_a_cancelled_write_leaves_nothing_and_says_why(void **state)
{
    fixture *f = *state;
    const char *paths[2] = {f->paths[0], f->paths[1]};
    tally t = {0};
    glance_progress p = {on_progress, &t};
    snap_error err = {0};
    char dir[512];
    glance_ova_stream *s;
    char buf[65536];
    ssize_t r;

    /* Cancelled inside the first disk: no OVA, no temporary file. */
    t.cancel_at = 3;
    assert_false(glance_ova_write_progress(f->ova, f->ovf, paths, 2, &p, &err));
    assert_string_equal(err.msg, "interrupted by SIGINT");
    assert_int_equal(access(f->ova, F_OK), -1);
    assert_int_equal(tg_dir_count(f->top), 3); /* the disks and out/ */

    /* The directory writer too. */
    snap_error_clear(&err);
    memset(&t, 0, sizeof(t));
    t.cancel_at = 5;
    snprintf(dir, sizeof(dir), "%s/pkg", f->out);
    assert_false(
        glance_ovf_dir_write_progress(dir, f->ovf, paths, 2, &p, &err));
    assert_string_equal(err.msg, "interrupted by SIGINT");
    assert_int_equal(tg_dir_count(f->out), 0);

    /* A callback without a message still fails with one. */
    snap_error_clear(&err);
    memset(&t, 0, sizeof(t));
    t.cancel_at = 1;
    assert_null(glance_ova_stream_new(f->ovf, paths, 2, &p, &err));
    assert_int_equal(err.code, SNAP_E_STATE);

    /* And the stream, in its second pass. */
    snap_error_clear(&err);
    memset(&t, 0, sizeof(t));
    t.cancel_at = 9;
    s = glance_ova_stream_new(f->ovf, paths, 2, &p, &err);
    assert_non_null(s);
    do {
        r = glance_ova_stream_read(s, buf, sizeof(buf), &err);
    } while (r > 0);
    assert_int_equal(r, -1);
    assert_string_equal(err.msg, "interrupted by SIGINT");
    glance_ova_stream_free(s);
}

static void
test_a_stream_needs_the_disks_it_describes(void **state)
{
    fixture *f = *state;
    const char *paths[2] = {f->paths[0], "/nonexistent/b.qcow2"};
    snap_error err = {0};

    assert_null(glance_ova_stream_new(f->ovf, paths, 2, NULL, &err));
    assert_int_equal(err.code, SNAP_E_NOTFOUND);
    snap_error_clear(&err);
    assert_null(glance_ova_stream_new(f->ovf, paths, 1, NULL, &err));
    assert_int_equal(err.code, SNAP_E_INVALID);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(
            test_the_stream_is_the_ova_file_byte_for_byte, setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_a_disk_changed_after_hashing_fails_the_stream, setup,
            teardown),
        cmocka_unit_test_setup_teardown(
            test_progress_covers_every_disk_of_a_write, setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_a_cancelled_write_leaves_nothing_and_says_why, setup,
            teardown),
        cmocka_unit_test_setup_teardown(
            test_a_stream_needs_the_disks_it_describes, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
