/* tests/unit/test_snap_proc.c -- the one runner of child processes: exit
 * status, stderr's last line, stdout modes, deadline, cancel, and what the
 * child inherits. Children are /bin/sh scripts. */
#define _GNU_SOURCE /* pipe2() */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/snap_proc.h"
#include "common/snap_time.h"

static bool
run_sh(const char *script, snap_proc_opts *o, snap_proc_result *r,
       snap_error *err)
{
    const char *argv[] = {"sh", "-c", script, NULL};

    o->argv = argv;
    if (!o->what)
        o->what = "cannot test";
    return snap_proc_run(o, r, err);
}

static void
test_exit_zero_is_success(void **state)
{
    snap_proc_opts o = {0};
    snap_proc_result r;
    snap_error err = {0};

    (void)state;
    assert_true(run_sh("echo warning >&2; exit 0", &o, &r, &err));
    assert_int_equal(err.code, SNAP_OK);
    assert_int_equal(r.exit_status, 0);
    assert_string_equal(r.err_tail, "warning");
    snap_proc_result_release(&r);
}

static void
test_failure_names_the_last_stderr_line(void **state)
{
    snap_proc_opts o = {.what = "cannot convert 'a'"};
    snap_proc_result r;
    snap_error err = {0};

    (void)state;
    assert_false(run_sh("echo 'qemu-img: warning' >&2; "
                        "echo 'qemu-img: Could not open a' >&2; exit 1",
                        &o, &r, &err));
    assert_int_equal(err.code, SNAP_E_SYSTEM);
    assert_string_equal(err.msg,
                        "cannot convert 'a': qemu-img: Could not open a");
    assert_int_equal(r.exit_status, 1);
    snap_proc_result_release(&r);

    memset(&err, 0, sizeof(err));
    assert_false(run_sh("exit 3", &o, NULL, &err));
    assert_string_equal(err.msg, "cannot convert 'a': sh exited with status 3");
}

static void
test_missing_program(void **state)
{
    const char *argv[] = {"snapset-no-such-program", NULL};
    const char *abs[] = {"/nonexistent/prog", NULL};
    snap_proc_opts o = {.argv = argv, .what = "cannot check"};
    snap_error err = {0};

    (void)state;
    assert_false(snap_proc_run(&o, NULL, &err));
    assert_int_equal(err.code, SNAP_E_SYSTEM);
    assert_non_null(strstr(err.msg, "cannot run snapset-no-such-program"));
    memset(&err, 0, sizeof(err));
    o.argv = abs;
    assert_false(snap_proc_run(&o, NULL, &err));
    assert_non_null(strstr(err.msg, "cannot run /nonexistent/prog"));
}

static void
test_signal(void **state)
{
    snap_proc_opts o = {0};
    snap_proc_result r;
    snap_error err = {0};

    (void)state;
    assert_false(run_sh("echo dying >&2; kill -9 $$", &o, &r, &err));
    assert_int_equal(r.signal, 9);
    assert_string_equal(err.msg, "cannot test: sh killed by signal 9: dying");
    snap_proc_result_release(&r);
}

static void
test_capture_is_bounded(void **state)
{
    snap_proc_opts o = {.out = SNAP_PROC_STDOUT_CAPTURE, .capture_max = 10};
    snap_proc_result r;
    snap_error err = {0};

    (void)state;
    assert_true(run_sh("printf '[1,2]'", &o, &r, &err));
    assert_string_equal(r.out, "[1,2]");
    assert_false(r.out_truncated);
    snap_proc_result_release(&r);

    assert_true(run_sh("printf 'abcdefghijklmnop'", &o, &r, &err));
    assert_int_equal(r.out_len, 10);
    assert_string_equal(r.out, "abcdefghij");
    assert_true(r.out_truncated);
    snap_proc_result_release(&r);
}

static void
on_out(void *ctx, const char *buf, size_t len)
{
    size_t *total = ctx;

    (void)buf;
    *total += len;
}

static void
test_callback_and_fd(void **state)
{
    size_t total = 0;
    snap_proc_opts o = {
        .out = SNAP_PROC_STDOUT_CALLBACK, .on_stdout = on_out, .ctx = &total};
    snap_error err = {0};
    char path[] = "/tmp/test_snap_proc.XXXXXX", buf[32] = {0};
    int fd;

    (void)state;
    assert_true(run_sh("head -c 100000 /dev/zero", &o, NULL, &err));
    assert_int_equal(total, 100000);

    fd = mkostemp(path, O_CLOEXEC);
    assert_true(fd >= 0);
    unlink(path);
    memset(&o, 0, sizeof(o));
    o.out = SNAP_PROC_STDOUT_FD;
    o.stdout_fd = fd;
    assert_true(run_sh("printf 'to a file'", &o, NULL, &err));
    assert_int_equal(pread(fd, buf, sizeof(buf) - 1, 0), 9);
    assert_string_equal(buf, "to a file");
    close(fd);
}

static void
test_deadline_kills_and_says_so(void **state)
{
    snap_proc_opts o = {.timeout_ms = 300, .what = "cannot wait"};
    snap_error err = {0};
    int64_t start = snap_now_ms(), took;

    (void)state;
    /* the shell ignores SIGTERM: the runner must go on to SIGKILL */
    assert_false(run_sh("trap '' TERM; sleep 30 & wait", &o, NULL, &err));
    took = snap_now_ms() - start;
    assert_int_equal(err.code, SNAP_E_TIMEOUT);
    assert_string_equal(err.msg,
                        "cannot wait: sh did not finish within 300 ms");
    /* bounded: the deadline plus the SIGTERM grace, not the 30 s sleep */
    assert_true(took < 10000);
}

static int cancel_calls;

static bool
cancel_after_two(void *ctx)
{
    (void)ctx;
    return ++cancel_calls > 2;
}

static void
test_cancel(void **state)
{
    snap_proc_opts o = {.cancelled = cancel_after_two, .what = "cannot export"};
    snap_error err = {0};

    (void)state;
    cancel_calls = 0;
    assert_false(run_sh("sleep 30", &o, NULL, &err));
    assert_int_equal(err.code, SNAP_E_STATE);
    assert_string_equal(err.msg, "cannot export: cancelled");
}

static void
child_fds(char *out, size_t size)
{
    snap_proc_opts o = {.out = SNAP_PROC_STDOUT_CAPTURE};
    snap_proc_result r;
    snap_error err = {0};

    /* ls opens the directory it lists: that is the lowest free fd, 3 */
    assert_true(
        run_sh("ls /proc/self/fd | sort -n | tr '\\n' ' '", &o, &r, &err));
    snprintf(out, size, "%s", r.out);
    snap_proc_result_release(&r);
}

/* True when this process has a descriptor >= 3 without FD_CLOEXEC. */
static bool
has_inheritable(void)
{
    int fd, flags;

    for (fd = 3; fd < 1024; fd++) {
        flags = fcntl(fd, F_GETFD);
        if (flags >= 0 && !(flags & FD_CLOEXEC))
            return true;
    }
    return false;
}

static void
test_child_sees_only_stdio(void **state)
{
    char got[512];
    int cloexec[2], leak[2];

    (void)state;
    /* Only 0, 1, 2 (and ls's own, 3) reach the child: not a close-on-exec
     * descriptor, not the runner's pipes, and not one a library opened
     * without O_CLOEXEC (this pipe, and whatever the test inherited from
     * whoever started it). */
    assert_int_equal(pipe2(cloexec, O_CLOEXEC), 0);
    assert_int_equal(pipe(leak), 0);
    assert_true(has_inheritable()); /* the case being tested is there */
    child_fds(got, sizeof(got));
    assert_string_equal(got, "0 1 2 3 ");
    close(leak[0]);
    close(leak[1]);
    close(cloexec[0]);
    close(cloexec[1]);
}

static void
test_child_has_default_signals(void **state)
{
    snap_proc_opts o = {.out = SNAP_PROC_STDOUT_CAPTURE};
    snap_proc_result r;
    snap_error err = {0};

    (void)state;
    signal(SIGPIPE, SIG_IGN);
    assert_true(
        run_sh("grep -E '^Sig(Ign|Blk)' /proc/self/status", &o, &r, &err));
    assert_non_null(strstr(r.out, "SigBlk:\t0000000000000000"));
    assert_non_null(strstr(r.out, "SigIgn:\t0000000000000000"));
    snap_proc_result_release(&r);
    signal(SIGPIPE, SIG_DFL);
}

static void
test_proc_start_time(void **state)
{
    (void)state;
    assert_true(snap_proc_start_time(getpid()) > 0);
    assert_int_equal(snap_proc_start_time(1), snap_proc_start_time(1));
    assert_int_equal(snap_proc_start_time(0x7ffffff0), -1);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_exit_zero_is_success),
        cmocka_unit_test(test_failure_names_the_last_stderr_line),
        cmocka_unit_test(test_missing_program),
        cmocka_unit_test(test_signal),
        cmocka_unit_test(test_capture_is_bounded),
        cmocka_unit_test(test_callback_and_fd),
        cmocka_unit_test(test_deadline_kills_and_says_so),
        cmocka_unit_test(test_cancel),
        cmocka_unit_test(test_child_sees_only_stdio),
        cmocka_unit_test(test_child_has_default_signals),
        cmocka_unit_test(test_proc_start_time),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
