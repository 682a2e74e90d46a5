/* common/snap_proc.c -- see snap_proc.h. */
#define _GNU_SOURCE /* pipe2(), close_range() */
#include "common/snap_proc.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/snap_log.h"
#include "common/snap_time.h"

extern char **environ;

#define POLL_MS 100        /* how often cancelled() is asked */
#define KILL_GRACE_MS 2000 /* SIGTERM to SIGKILL */
#define CAPTURE_DEFAULT (1024 * 1024)

void
snap_proc_result_release(snap_proc_result *r)
{
    if (!r)
        return;
    free(r->out);
    memset(r, 0, sizeof(*r));
    r->exit_status = -1;
}

static void
close_fd(int *fd)
{
    if (*fd >= 0) {
        (void)close(*fd);
        *fd = -1;
    }
}

/* The program execve() will run: @name itself when it holds a '/', else
 * the first executable "DIR/@name" of PATH, in @buf. Resolved before fork
 * so the child calls nothing but async-signal-safe functions. */
static const char *
resolve(const char *name, char *buf, size_t size)
{
    const char *path = getenv("PATH"), *p, *end;
    size_t dlen;

    if (strchr(name, '/'))
        return name;
    if (!path || !*path)
        path = "/usr/local/bin:/usr/bin:/bin";
    for (p = path; *p; p = *end ? end + 1 : end) {
        end = strchr(p, ':');
        if (!end)
            end = p + strlen(p);
        dlen = (size_t)(end - p);
        if (dlen == 0 || dlen + 1 + strlen(name) + 1 > size)
            continue;
        memcpy(buf, p, dlen);
        buf[dlen] = '/';
        strcpy(buf + dlen + 1, name);
        if (access(buf, X_OK) == 0)
            return buf;
    }
    return NULL;
}

/* Keeps the last non-empty line of @buf in @out. */
static void
last_line(const char *buf, size_t len, char *out, size_t size)
{
    size_t end = len, start;

    while (end > 0 && (buf[end - 1] == '\n' || buf[end - 1] == '\r'))
        end--;
    start = end;
    while (start > 0 && buf[start - 1] != '\n')
        start--;
    if (end - start >= size)
        start = end - (size - 1);
    memcpy(out, buf + start, end - start);
    out[end - start] = '\0';
}

/* The child, between fork and exec: only async-signal-safe calls. */
static void __attribute__((noreturn))
child(const char *prog, const char *const *argv, int in, int out, int errfd,
      int report, pid_t parent)
{
    sigset_t none;
    int sig, e;

    for (sig = 1; sig < NSIG; sig++)
        (void)signal(sig, SIG_DFL); /* EINVAL for KILL/STOP: fine */
    sigemptyset(&none);
    (void)sigprocmask(SIG_SETMASK, &none, NULL);
    (void)prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent)
        _exit(127); /* the parent died before prctl took hold */
    if (dup2(in, 0) < 0 || dup2(out, 1) < 0 || dup2(errfd, 2) < 0)
        goto fail;
    /* Nothing but 0, 1 and 2 reaches the command, even a descriptor a
     * library opened without close-on-exec (curl's resolver makes a
     * socketpair without it while a lookup runs); @report is close-on-exec
     * and stays open for exec's verdict. */
    if (report >= 3) {
        if (report > 3)
            (void)close_range(3, (unsigned)report - 1, 0);
        (void)close_range((unsigned)report + 1, ~0U, 0);
    } else {
        (void)close_range(3, ~0U, 0);
    }
    execve(prog, (char *const *)argv, environ);
fail:
    e = errno;
    (void)!write(report, &e, sizeof(e));
    _exit(127);
}

/* Stops @pid: SIGTERM, then SIGKILL after the grace time; reaps it. */
static void
stop_child(pid_t pid, int *status)
{
    int64_t deadline = snap_now_ms() + KILL_GRACE_MS;

    (void)kill(pid, SIGTERM);
    while (waitpid(pid, status, WNOHANG) == 0) {
        if (snap_ms_left(deadline) <= 0) {
            (void)kill(pid, SIGKILL);
            while (waitpid(pid, status, 0) < 0 && errno == EINTR)
                ;
            return;
        }
        snap_sleep_ms(20);
    }
}

/* Appends what stdout gave to the capture buffer, bounded. */
static bool
capture(snap_proc_result *r, size_t max, const char *buf, size_t n)
{
    char *p;

    if (r->out_len + n > max) {
        r->out_truncated = true;
        n = max - r->out_len;
        if (n == 0)
            return true;
    }
    p = realloc(r->out, r->out_len + n + 1);
    if (!p)
        return false;
    r->out = p;
    memcpy(r->out + r->out_len, buf, n);
    r->out_len += n;
    r->out[r->out_len] = '\0';
    return true;
}

static void
debug_command(const char *const *argv)
{
    char cmd[1024];
    size_t i, off = 0;

    if (snap_log_get_level() < SNAP_LOG_DEBUG)
        return;
    cmd[0] = '\0';
    for (i = 0; argv[i] && off < sizeof(cmd); i++)
        off += (size_t)snprintf(cmd + off, sizeof(cmd) - off, "%s%s",
                                i ? " " : "", argv[i]);
    snap_debug("running: %s", cmd);
}

static bool
timed_out(const snap_proc_opts *o, snap_error *err)
{
    return snap_error_set(err, SNAP_E_TIMEOUT,
                          "%s: %s did not finish within %lld ms", o->what,
                          o->argv[0], (long long)o->timeout_ms);
}

/* The loop that reads the child's stdout and stderr until both close, the
 * deadline passes or the caller cancels. Returns false with @err set on
 * timeout, cancel or a failure of our own; *@stopped says the child was
 * stopped (and reaped into *@status). */
static bool
watch(const snap_proc_opts *o, snap_proc_result *r, pid_t pid, int64_t deadline,
      int *outfd, int *errfd, int *status, bool *stopped, snap_error *err)
{
    size_t max = o->capture_max ? o->capture_max : CAPTURE_DEFAULT;
    char buf[8192], tail[4096];
    size_t tail_len = 0;
    bool ok = true;

    while (*outfd >= 0 || *errfd >= 0) {
        struct pollfd pfd[2];
        int nfds = 0, rc, i, wait_ms = POLL_MS;

        if (o->cancelled && o->cancelled(o->ctx)) {
            ok = snap_error_set(err, SNAP_E_STATE, "%s: cancelled", o->what);
            break;
        }
        if (deadline >= 0) {
            int64_t left = snap_ms_left(deadline);

            if (left <= 0) {
                ok = timed_out(o, err);
                break;
            }
            if (left < wait_ms)
                wait_ms = (int)left;
        }
        if (*outfd >= 0) {
            pfd[nfds].fd = *outfd;
            pfd[nfds++].events = POLLIN;
        }
        if (*errfd >= 0) {
            pfd[nfds].fd = *errfd;
            pfd[nfds++].events = POLLIN;
        }
        rc = poll(pfd, (nfds_t)nfds, wait_ms);
        if (rc < 0 && errno == EINTR)
            continue;
        if (rc < 0) {
            ok = snap_error_set_errno(err, errno, "%s: cannot watch %s",
                                      o->what, o->argv[0]);
            break;
        }
        for (i = 0; i < nfds; i++) {
            bool is_err = pfd[i].fd == *errfd;
            ssize_t n;

            if (!pfd[i].revents)
                continue;
            n = read(pfd[i].fd, buf, sizeof(buf));
            if (n < 0 && (errno == EINTR || errno == EAGAIN))
                continue;
            if (n <= 0) {
                close_fd(is_err ? errfd : outfd);
                continue;
            }
            if (is_err) {
                if (tail_len + (size_t)n > sizeof(tail)) {
                    /* keep the end: the reason comes last */
                    size_t keep = sizeof(tail) / 2;

                    if ((size_t)n >= keep) {
                        memcpy(tail, buf + n - (ssize_t)keep, keep);
                        tail_len = keep;
                        continue;
                    }
                    memmove(tail, tail + tail_len - keep, keep);
                    tail_len = keep;
                }
                memcpy(tail + tail_len, buf, (size_t)n);
                tail_len += (size_t)n;
            } else if (o->out == SNAP_PROC_STDOUT_CALLBACK && o->on_stdout) {
                o->on_stdout(o->ctx, buf, (size_t)n);
            } else if (o->out == SNAP_PROC_STDOUT_CAPTURE &&
                       !capture(r, max, buf, (size_t)n)) {
                ok = snap_error_set(err, SNAP_E_NOMEM, "out of memory");
                break;
            }
        }
        if (!ok)
            break;
    }
    last_line(tail, tail_len, r->err_tail, sizeof(r->err_tail));
    if (!ok) {
        stop_child(pid, status);
        *stopped = true;
    }
    return ok;
}

/* A flat sequence: pipes, fork, exec's verdict, the watch loop, the wait,
 * the verdict; one cleanup for every way out. */
bool
snap_proc_run(const snap_proc_opts *o, snap_proc_result *res, snap_error *err)
{
    snap_proc_result local;
    snap_proc_result *r = res ? res : &local;
    int outp[2] = {-1, -1}, errp[2] = {-1, -1}, rep[2] = {-1, -1};
    int devnull = -1, out_child, status = 0, child_errno = 0;
    char progbuf[PATH_MAX];
    const char *prog;
    bool stopped = false, ok = false;
    pid_t pid, parent = getpid();
    int64_t deadline =
        o && o->timeout_ms > 0 ? snap_now_ms() + o->timeout_ms : -1;
    ssize_t n;

    memset(r, 0, sizeof(*r));
    r->exit_status = -1;
    if (!o || !o->argv || !o->argv[0] || !o->what)
        return snap_error_set(err, SNAP_E_INVALID, "no command to run");
    if (o->out == SNAP_PROC_STDOUT_FD && o->stdout_fd < 0)
        return snap_error_set(err, SNAP_E_INVALID, "%s: no stdout descriptor",
                              o->what);
    prog = resolve(o->argv[0], progbuf, sizeof(progbuf));
    if (!prog)
        return snap_error_set_errno(err, ENOENT, "%s: cannot run %s", o->what,
                                    o->argv[0]);
    if (pipe2(errp, O_CLOEXEC) < 0 || pipe2(rep, O_CLOEXEC) < 0 ||
        ((o->out == SNAP_PROC_STDOUT_CAPTURE ||
          o->out == SNAP_PROC_STDOUT_CALLBACK) &&
         pipe2(outp, O_CLOEXEC) < 0)) {
        snap_error_set_errno(err, errno, "%s: cannot make a pipe", o->what);
        goto cleanup;
    }
    devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
    if (devnull < 0) {
        snap_error_set_errno(err, errno, "%s: cannot open /dev/null", o->what);
        goto cleanup;
    }
    out_child = o->out == SNAP_PROC_STDOUT_FD ? o->stdout_fd
                : outp[1] >= 0                ? outp[1]
                                              : devnull;
    debug_command(o->argv);
    fflush(NULL); /* nothing buffered is written twice */
    pid = fork();
    if (pid < 0) {
        snap_error_set_errno(err, errno, "%s: cannot run %s", o->what,
                             o->argv[0]);
        goto cleanup;
    }
    if (pid == 0)
        child(prog, o->argv, devnull, out_child, errp[1], rep[1], parent);
    close_fd(&outp[1]);
    close_fd(&errp[1]);
    close_fd(&rep[1]);

    /* exec's verdict: EOF when it worked (the pipe is close-on-exec). */
    do
        n = read(rep[0], &child_errno, sizeof(child_errno));
    while (n < 0 && errno == EINTR);
    if (n == (ssize_t)sizeof(child_errno)) {
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
            ;
        snap_error_set_errno(err, child_errno, "%s: cannot run %s", o->what,
                             o->argv[0]);
        goto cleanup;
    }
    if (!watch(o, r, pid, deadline, &outp[0], &errp[0], &status, &stopped, err))
        goto done;
    /* Both pipes closed: the child is exiting; a child that handed its
     * stderr to a detached grandchild is still bounded by the deadline. */
    for (;;) {
        pid_t w = waitpid(pid, &status, WNOHANG);
        bool late = deadline >= 0 && snap_ms_left(deadline) <= 0;

        if (w == pid)
            break;
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0) {
            snap_error_set_errno(err, errno, "%s: cannot wait for %s", o->what,
                                 o->argv[0]);
            goto cleanup;
        }
        if (late || (o->cancelled && o->cancelled(o->ctx))) {
            if (late)
                timed_out(o, err);
            else
                snap_error_set(err, SNAP_E_STATE, "%s: cancelled", o->what);
            stop_child(pid, &status);
            stopped = true;
            goto done;
        }
        snap_sleep_ms(10);
    }
done:
    if (WIFEXITED(status))
        r->exit_status = WEXITSTATUS(status);
    else if (WIFSIGNALED(status))
        r->signal = WTERMSIG(status);
    if (stopped) {
        /* @err says why already */
    } else if (r->exit_status == 0) {
        ok = true;
    } else if (r->signal) {
        snap_error_set(err, SNAP_E_SYSTEM, "%s: %s killed by signal %d%s%s",
                       o->what, o->argv[0], r->signal,
                       r->err_tail[0] ? ": " : "", r->err_tail);
    } else if (r->err_tail[0]) {
        snap_error_set(err, SNAP_E_SYSTEM, "%s: %s", o->what, r->err_tail);
    } else {
        snap_error_set(err, SNAP_E_SYSTEM, "%s: %s exited with status %d",
                       o->what, o->argv[0], r->exit_status);
    }

cleanup:
    close_fd(&outp[0]);
    close_fd(&outp[1]);
    close_fd(&errp[0]);
    close_fd(&errp[1]);
    close_fd(&rep[0]);
    close_fd(&rep[1]);
    close_fd(&devnull);
    if (!res)
        snap_proc_result_release(&local);
    return ok;
}

int64_t
snap_proc_start_time(pid_t pid)
{
    char path[64], buf[1024], *p;
    unsigned long long start = 0;
    FILE *f;
    int field;
    size_t n;

    snprintf(path, sizeof(path), "/proc/%ld/stat", (long)pid);
    f = fopen(path, "re");
    if (!f)
        return -1;
    n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = '\0';
    p = strrchr(buf, ')'); /* the command name may hold spaces */
    if (!p)
        return -1;
    for (field = 2; field < 22 && p; field++)
        p = strchr(p + 1, ' ');
    if (!p || sscanf(p + 1, "%llu", &start) != 1)
        return -1;
    return (int64_t)start;
}
