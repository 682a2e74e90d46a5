/* virt/watchdog.c -- see watchdog.h.
 *
 * Protocol on the two pipes, one byte each:
 *   watchdog -> us: 'R' ready (connected), 'K' released by us in time,
 *                   'F' it fired (deadline, or we vanished) and released
 *                   the guest itself, 'E' it could not start
 *   us -> watchdog: 'P' the vCPUs may be paused by us, 'D' done: we
 *                   resumed and thawed; EOF without 'D': we died
 */
#define _GNU_SOURCE /* pipe2(), closefrom() */
#include "virt/watchdog.h"

#include <errno.h>
#include <fcntl.h>
#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/snap_text.h"
#include "common/snap_time.h"

#define WATCHDOG_START_MS 10000 /* bound for the watchdog to connect */

void
virt_watchdog_init(virt_watchdog *w, const char *uri, const char *domain_uuid,
                   int64_t agent_timeout_ms)
{
    memset(w, 0, sizeof(*w));
    w->uri = uri;
    w->domain_uuid = domain_uuid;
    w->agent_timeout_ms = agent_timeout_ms;
    w->pid = -1;
    w->to_child = w->from_child = -1;
}

/* Reads one byte within @timeout_ms: the byte, 0 on EOF, -1 on timeout or
 * error. */
static int
read_byte(int fd, int64_t timeout_ms)
{
    struct pollfd p = {.fd = fd, .events = POLLIN};
    int64_t deadline = snap_now_ms() + timeout_ms;
    char c;
    ssize_t n;
    int r;

    for (;;) {
        r = poll(&p, 1, (int)snap_ms_left(deadline));
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return -1;
        n = read(fd, &c, 1);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -1;
        return n == 0 ? 0 : (unsigned char)c;
    }
}

static void
write_byte(int fd, char c)
{
    ssize_t n;

    do {
        n = write(fd, &c, 1);
    } while (n < 0 && errno == EINTR);
    /* A failed write means the peer is gone, which it reports by itself. */
}

static void
reap(virt_watchdog *w)
{
    int status, i;

    if (w->to_child >= 0)
        close(w->to_child);
    if (w->from_child >= 0)
        close(w->from_child);
    w->to_child = w->from_child = -1;
    if (w->pid <= 0)
        return;
    /* It exits right after our last word; don't wait for long. */
    for (i = 0; i < 100; i++) {
        if (waitpid(w->pid, &status, WNOHANG) != 0)
            break;
        snap_sleep_ms(10);
    }
    if (i == 100) {
        kill(w->pid, SIGKILL);
        waitpid(w->pid, &status, 0);
    }
    w->pid = -1;
}

static bool
wd_arm(void *impl, int64_t timeout_ms, snap_error *err)
{
    virt_watchdog *w = impl;
    int down[2] = {-1, -1}, up[2] = {-1, -1};
    char t[32], a[32];
    int c;

    if (pipe2(down, O_CLOEXEC) < 0 || pipe2(up, O_CLOEXEC) < 0) {
        snap_error_set_errno(err, errno, "cannot start the freeze watchdog");
        goto error;
    }
    snprintf(t, sizeof(t), "%lld", (long long)timeout_ms);
    snprintf(a, sizeof(a), "%lld", (long long)w->agent_timeout_ms);
    w->pid = fork();
    if (w->pid < 0) {
        snap_error_set_errno(err, errno, "cannot start the freeze watchdog");
        goto error;
    }
    if (w->pid == 0) {
        (void)setpgid(0, 0); /* not killed with our terminal's job */
        if (dup2(down[0], STDIN_FILENO) < 0 || dup2(up[1], STDOUT_FILENO) < 0)
            _exit(127);
        /* Its pipes and stderr only: none of our connections (curl's,
         * libvirt's) or catalog files, even one a library opened without
         * close-on-exec. It opens its own libvirt connection. */
        closefrom(STDERR_FILENO + 1);
        execl("/proc/self/exe", "snapset", "__watchdog", w->uri, w->domain_uuid,
              t, a, (char *)NULL);
        _exit(127);
    }
    close(down[0]);
    close(up[1]);
    w->to_child = down[1];
    w->from_child = up[0];
    c = read_byte(w->from_child, WATCHDOG_START_MS);
    if (c != 'R') {
        snap_error_set(
            err, SNAP_E_SYSTEM, "the freeze watchdog did not start (%s)",
            c == 'E' ? "cannot reach libvirt or the domain" : "no answer");
        reap(w);
        return false;
    }
    return true;

error:
    if (down[0] >= 0) {
        close(down[0]);
        close(down[1]);
    }
    if (up[0] >= 0) {
        close(up[0]);
        close(up[1]);
    }
    return false;
}

static void
wd_paused(void *impl)
{
    virt_watchdog *w = impl;

    write_byte(w->to_child, 'P');
}

static bool
wd_disarm(void *impl, bool *fired, snap_error *err)
{
    virt_watchdog *w = impl;
    int c;

    write_byte(w->to_child, 'D');
    c = read_byte(w->from_child, 2 * w->agent_timeout_ms + 5000);
    reap(w);
    *fired = c == 'F';
    if (c != 'K' && c != 'F')
        return snap_error_set(err, SNAP_E_SYSTEM,
                              "the freeze watchdog vanished");
    return true;
}

const coord_watchdog_ops virt_watchdog_ops = {
    .arm = wd_arm,
    .paused = wd_paused,
    .disarm = wd_disarm,
};

/* ---- the watchdog process ------------------------------------------------ */

static void
silent(void *opaque, virErrorPtr e)
{
    (void)opaque;
    (void)e;
}

/* libvirt's message may quote the guest agent: escaped (snap_text.h). */
static void
say_failed(const char *what)
{
    fprintf(stderr, "snapset: watchdog: cannot %s: ", what);
    snap_text_fputs(virGetLastErrorMessage(), stderr);
    fputc('\n', stderr);
}

static void
release_guest(virDomainPtr dom, bool paused, int agent_s, const char *why)
{
    int state = 0, reason = 0, i;

    fprintf(stderr, "snapset: watchdog: %s: releasing the guest\n", why);
    /* Resume first: a paused guest cannot answer its agent. */
    if (paused && virDomainGetState(dom, &state, &reason, 0) == 0 &&
        state == VIR_DOMAIN_PAUSED && virDomainResume(dom) < 0)
        say_failed("resume");
    (void)virDomainAgentSetResponseTimeout(dom, agent_s, 0);
    for (i = 0; i < 3; i++) {
        if (virDomainFSThaw(dom, NULL, 0, 0) >= 0)
            return;
    }
    say_failed("thaw");
}

int
virt_watchdog_main(int argc, char **argv)
{
    virConnectPtr conn;
    virDomainPtr dom;
    int64_t deadline, timeout_ms, agent_ms;
    bool paused = false;
    int c;

    if (argc != 5)
        return 2;
    signal(SIGPIPE, SIG_IGN);
    signal(SIGINT, SIG_IGN); /* only our parent's word, or its death, counts */
    timeout_ms = strtoll(argv[3], NULL, 10);
    agent_ms = strtoll(argv[4], NULL, 10);
    deadline = snap_now_ms() + timeout_ms;
    virSetErrorFunc(NULL, silent);
    conn = virConnectOpen(argv[1]);
    dom = conn ? virDomainLookupByUUIDString(conn, argv[2]) : NULL;
    if (!dom) {
        write_byte(STDOUT_FILENO, 'E');
        return 1;
    }
    write_byte(STDOUT_FILENO, 'R');
    for (;;) {
        c = read_byte(STDIN_FILENO, snap_ms_left(deadline));
        if (c == 'P') {
            paused = true;
        } else if (c == 'D') {
            write_byte(STDOUT_FILENO, 'K');
            break;
        } else {
            release_guest(dom, paused, (int)((agent_ms + 999) / 1000),
                          c == 0 ? "snapset died inside the frozen window"
                                 : "the frozen window passed its deadline");
            write_byte(STDOUT_FILENO, 'F');
            /* Stay until our parent has its answer (or is gone). */
            while ((c = read_byte(STDIN_FILENO, 3600000)) > 0 && c != 'D')
                ;
            break;
        }
    }
    virDomainFree(dom);
    virConnectClose(conn);
    return 0;
}
