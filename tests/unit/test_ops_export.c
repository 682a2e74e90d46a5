/* tests/unit/test_ops_export.c -- pieces of `snapset export` that need no
 * VM: recording a written package (the first error wins), the exports.json
 * record, and qemu-img run through snap_proc (a fake qemu-img on PATH). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <sys/stat.h>
#include <unistd.h>

#include "common/snap_fs.h"
#include "common/snap_log.h"
#include "coordinator/ops/export_job.h"

typedef struct fixture {
    char root[64];
    char set_dir[128];
    char target[128];
    char bin[128];
    char *path_env;
    ops_ctx ctx;
    ops_export_job job;
} fixture;

static void
write_file(const char *path, const char *text, mode_t mode)
{
    FILE *f = fopen(path, "w");

    assert_non_null(f);
    assert_int_equal(fputs(text, f) >= 0, 1);
    assert_int_equal(fclose(f), 0);
    assert_int_equal(chmod(path, mode), 0);
}

static char *
read_text(const char *path)
{
    size_t len;

    return snap_file_read(path, 1 << 20, &len, NULL);
}

static int
setup(void **state)
{
    fixture *f = calloc(1, sizeof(*f));
    const char *path = getenv("PATH");
    size_t n;

    if (!f)
        return -1;
    snprintf(f->root, sizeof(f->root), "/tmp/test_ops_export.XXXXXX");
    if (!mkdtemp(f->root))
        return -1;
    snprintf(f->set_dir, sizeof(f->set_dir), "%s/set", f->root);
    snprintf(f->target, sizeof(f->target), "%s/out.ova", f->root);
    snprintf(f->bin, sizeof(f->bin), "%s/bin", f->root);
    if (mkdir(f->set_dir, 0700) < 0 || mkdir(f->bin, 0700) < 0)
        return -1;
    /* The fake qemu-img comes first on PATH. */
    n = strlen(f->bin) + strlen(path ? path : "") + 2;
    f->path_env = malloc(n);
    if (!f->path_env)
        return -1;
    snprintf(f->path_env, n, "%s:%s", f->bin, path ? path : "");
    setenv("PATH", f->path_env, 1);
    f->ctx.conf.lock_timeout_ms = 1000;
    f->job.ctx = &f->ctx;
    f->job.kind = OPS_EXPORT_OVA;
    f->job.target = f->target;
    f->job.format = GLANCE_DISK_FORMAT_VMDK_STREAM;
    f->job.set_dir = f->set_dir; /* borrowed: the job is not released */
    snprintf(f->job.export_id, sizeof(f->job.export_id),
             "00000000-0000-4000-8000-000000000001");
    snap_log_set_level(SNAP_LOG_WARN); /* a record that fails is said */
    *state = f;
    return 0;
}

static int
teardown(void **state)
{
    fixture *f = *state;
    char cmd[128];

    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->root);
    (void)system(cmd); /* the test's own temporary tree */
    free(f->path_env);
    free(f);
    return 0;
}

/* An exports.json that is not a record: every edit of it fails. */
static void
break_record(fixture *f)
{
    char path[192];

    snprintf(path, sizeof(path), "%s/%s", f->set_dir, OPS_EXPORTS_FILE);
    write_file(path, "not json", 0600);
}

/* ---- ops_export_record_file: the package is written already -------------- */

static void
a_failed_record_keeps_the_first_error(void **state)
{
    fixture *f = *state;
    snap_error err = {0};
    json_t *result = json_object();

    write_file(f->target, "an ova", 0644);
    break_record(f);
    snap_error_set(&err, SNAP_E_HTTP, "the first error");
    assert_true(ops_export_record_file(&f->job, result, false, &err));
    assert_int_equal(err.code, SNAP_E_HTTP);
    assert_string_equal(err.msg, "the first error");
    json_decref(result);
}

static void
a_failed_record_is_only_a_warning(void **state)
{
    fixture *f = *state;
    snap_error err = {0};
    json_t *result = json_object();

    write_file(f->target, "an ova", 0644);
    break_record(f);
    assert_true(ops_export_record_file(&f->job, result, false, &err));
    assert_false(snap_error_isset(&err));
    assert_non_null(json_string_value(json_object_get(result, "path")));
    assert_int_equal(json_integer_value(json_object_get(result, "size")), 6);
    json_decref(result);
}

static void
a_failed_record_needs_no_error_to_report_into(void **state)
{
    fixture *f = *state;
    json_t *result = json_object();

    write_file(f->target, "an ova", 0644);
    break_record(f);
    assert_true(ops_export_record_file(&f->job, result, false, NULL));
    json_decref(result);
}

static void
a_written_file_is_recorded_by_identity(void **state)
{
    fixture *f = *state;
    snap_error err = {0};
    json_t *result = json_object(), *list, *e;
    coord_set set;
    struct stat st;

    write_file(f->target, "an ova", 0644);
    assert_int_equal(stat(f->target, &st), 0);
    assert_true(ops_export_record_file(&f->job, result, false, &err));
    memset(&set, 0, sizeof(set));
    set.dir = f->set_dir;
    list = ops_exports_list(&set);
    assert_int_equal(json_array_size(list), 1);
    e = json_array_get(list, 0);
    assert_string_equal(json_string_value(json_object_get(e, "kind")), "ova");
    assert_string_equal(json_string_value(json_object_get(e, "state")),
                        "complete");
    assert_int_equal(json_integer_value(json_object_get(e, "ino")),
                     (json_int_t)st.st_ino);
    assert_int_equal(json_integer_value(json_object_get(e, "size")), 6);
    json_decref(list);
    json_decref(result);
}

/* ---- exports.json ---------------------------------------------------------
 */

static void
put_replaces_the_entry_of_the_same_id_and_drop_removes_it(void **state)
{
    fixture *f = *state;
    snap_error err = {0};
    json_t *a = json_pack("{s:s, s:s}", "id", "a", "state", "uploading");
    json_t *a2 = json_pack("{s:s, s:s}", "id", "a", "state", "complete");
    json_t *b = json_pack("{s:s, s:s}", "id", "b", "state", "complete");
    json_t *list;
    coord_set set;

    memset(&set, 0, sizeof(set));
    set.dir = f->set_dir;
    assert_true(ops_exports_put(&f->ctx, f->set_dir, a, &err));
    assert_true(ops_exports_put(&f->ctx, f->set_dir, b, &err));
    assert_true(ops_exports_put(&f->ctx, f->set_dir, a2, &err));
    list = ops_exports_list(&set);
    assert_int_equal(json_array_size(list), 2);
    assert_string_equal(
        json_string_value(json_object_get(json_array_get(list, 0), "state")),
        "complete");
    json_decref(list);
    assert_true(ops_exports_drop(&f->ctx, f->set_dir, "a", &err));
    assert_true(ops_exports_drop(&f->ctx, f->set_dir, "gone", &err));
    list = ops_exports_list(&set);
    assert_int_equal(json_array_size(list), 1);
    assert_string_equal(
        json_string_value(json_object_get(json_array_get(list, 0), "id")), "b");
    assert_false(snap_error_isset(&err));
    json_decref(list);
    json_decref(a);
    json_decref(a2);
    json_decref(b);
}

static void
a_damaged_record_is_refused_and_kept(void **state)
{
    fixture *f = *state;
    snap_error err = {0};
    json_t *a = json_pack("{s:s}", "id", "a");
    char path[192], *text;

    break_record(f);
    assert_false(ops_exports_put(&f->ctx, f->set_dir, a, &err));
    assert_int_equal(err.code, SNAP_E_INVALID);
    assert_non_null(strstr(err.msg, "is not an exports record"));
    snprintf(path, sizeof(path), "%s/%s", f->set_dir, OPS_EXPORTS_FILE);
    text = read_text(path);
    assert_string_equal(text, "not json");
    free(text);
    json_decref(a);
}

/* ---- qemu-img through snap_proc --------------------------------------------
 */

static void
fake_qemu_img(fixture *f, const char *script)
{
    char path[192];

    snprintf(path, sizeof(path), "%s/qemu-img", f->bin);
    write_file(path, script, 0755);
}

static void
qemu_img_stdout_is_captured(void **state)
{
    fixture *f = *state;
    const char *args[] = {"qemu-img", "info", "--output=json", NULL};
    snap_error err = {0};
    char *out = NULL;

    fake_qemu_img(f, "#!/bin/sh\necho '{\"virtual-size\": 42}'\n");
    assert_true(ops_export_qemu_img(args, 10000, &out, &err));
    assert_non_null(out);
    assert_non_null(strstr(out, "\"virtual-size\": 42"));
    free(out);
}

static void
qemu_img_failure_says_its_last_line_without_prefix(void **state)
{
    fixture *f = *state;
    const char *args[] = {"qemu-img", "convert", NULL};
    snap_error err = {0};
    char *out = NULL;

    fake_qemu_img(f, "#!/bin/sh\necho 'a warning' >&2\n"
                     "echo 'qemu-img: Could not open x' >&2\nexit 1\n");
    assert_false(ops_export_qemu_img(args, 10000, &out, &err));
    assert_null(out);
    assert_int_equal(err.code, SNAP_E_SYSTEM);
    assert_string_equal(err.msg, "qemu-img convert failed: Could not open x");
}

static void
qemu_img_failure_without_a_word_says_so(void **state)
{
    fixture *f = *state;
    const char *args[] = {"qemu-img", "map", NULL};
    snap_error err = {0};

    fake_qemu_img(f, "#!/bin/sh\nexit 3\n");
    assert_false(ops_export_qemu_img(args, 10000, NULL, &err));
    assert_string_equal(err.msg, "qemu-img map failed: no message");
}

static void
qemu_img_past_its_deadline_is_stopped(void **state)
{
    fixture *f = *state;
    const char *args[] = {"qemu-img", "convert", NULL};
    snap_error err = {0};

    fake_qemu_img(f, "#!/bin/sh\nexec sleep 30\n");
    assert_false(ops_export_qemu_img(args, 300, NULL, &err));
    assert_int_equal(err.code, SNAP_E_TIMEOUT);
    assert_string_equal(err.msg, "qemu-img convert did not finish within "
                                 "300 ms (--timeout)");
}

static void
qemu_img_missing_says_it_cannot_run(void **state)
{
    fixture *f = *state;
    const char *args[] = {"/nonexistent/qemu-img", "info", NULL};
    snap_error err = {0};

    (void)f;
    assert_false(ops_export_qemu_img(args, 1000, NULL, &err));
    assert_non_null(strstr(err.msg, "qemu-img info failed: cannot run"));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(a_failed_record_keeps_the_first_error,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(a_failed_record_is_only_a_warning,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(
            a_failed_record_needs_no_error_to_report_into, setup, teardown),
        cmocka_unit_test_setup_teardown(a_written_file_is_recorded_by_identity,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(
            put_replaces_the_entry_of_the_same_id_and_drop_removes_it, setup,
            teardown),
        cmocka_unit_test_setup_teardown(a_damaged_record_is_refused_and_kept,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(qemu_img_stdout_is_captured, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(
            qemu_img_failure_says_its_last_line_without_prefix, setup,
            teardown),
        cmocka_unit_test_setup_teardown(qemu_img_failure_without_a_word_says_so,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(qemu_img_past_its_deadline_is_stopped,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(qemu_img_missing_says_it_cannot_run,
                                        setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
