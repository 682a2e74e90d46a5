/* virt/qimg.c -- see qimg.h. */
#define _GNU_SOURCE /* pipe2(), posix_spawn_file_actions_addclosefrom_np() */
#include "virt/qimg.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/snap_fs.h"
#include "common/snap_log.h"
#include "common/snap_time.h"

extern char **environ;

/* Keeps the last line of what a command wrote on stderr: qemu-img puts its
 * reason there, after any warnings. */
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

bool
virt_qimg_run(const char *const *argv, int64_t timeout_ms, const char *what,
             snap_error *err)
{
    return virt_cmd_run(argv, timeout_ms, what, -1, err);
}

bool
virt_cmd_run(const char *const *argv, int64_t timeout_ms, const char *what,
            int stdout_fd, snap_error *err)
{
    posix_spawn_file_actions_t fa;
    int fds[2] = {-1, -1}, status = 0, rc;
    pid_t pid = -1;
    char buf[4096], line[200];
    size_t len = 0;
    int64_t deadline = timeout_ms > 0 ? snap_now_ms() + timeout_ms : -1;
    bool fa_init = false, timed_out = false, ok = false;

    /* Both ends close-on-exec: the child gets its end as stderr through
     * the file actions (dup2 clears the flag on the copy), and a child
     * another thread starts meanwhile gets neither. */
    if (pipe2(fds, O_CLOEXEC) < 0)
        return snap_error_set_errno(err, errno, "%s: cannot make a pipe", what);
    if (posix_spawn_file_actions_init(&fa) != 0) {
        snap_error_set(err, SNAP_E_NOMEM, "%s: out of memory", what);
        goto cleanup;
    }
    fa_init = true;
    if (posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0) ||
        (stdout_fd >= 0
             ? posix_spawn_file_actions_adddup2(&fa, stdout_fd, 1)
             : posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY,
                                                0)) ||
        posix_spawn_file_actions_adddup2(&fa, fds[1], 2) ||
        /* Nothing but 0, 1 and 2 reaches the command, even a descriptor a
         * library opened without close-on-exec (curl's resolver makes a
         * socketpair without it while a lookup runs). */
        posix_spawn_file_actions_addclosefrom_np(&fa, 3)) {
        snap_error_set(err, SNAP_E_NOMEM, "%s: out of memory", what);
        goto cleanup;
    }
    if (snap_log_get_level() >= SNAP_LOG_DEBUG) {
        char cmd[1024];
        size_t i, off = 0;

        cmd[0] = '\0';
        for (i = 0; argv[i] && off < sizeof(cmd); i++)
            off += (size_t)snprintf(cmd + off, sizeof(cmd) - off, "%s%s",
                                    i ? " " : "", argv[i]);
        snap_debug("running: %s", cmd);
    }
    rc = posix_spawnp(&pid, argv[0], &fa, NULL, (char *const *)argv, environ);
    if (rc != 0) {
        pid = -1;
        snap_error_set_errno(err, rc, "%s: cannot run %s", what, argv[0]);
        goto cleanup;
    }
    close(fds[1]);
    fds[1] = -1;
    for (;;) {
        struct pollfd p = {.fd = fds[0], .events = POLLIN};
        int wait_ms = -1;
        ssize_t n;

        if (deadline >= 0) {
            wait_ms = (int)snap_ms_left(deadline);
            if (wait_ms == 0) {
                timed_out = true;
                break;
            }
        }
        rc = poll(&p, 1, wait_ms);
        if (rc < 0 && errno == EINTR)
            continue;
        if (rc == 0)
            continue; /* the deadline check above ends it */
        if (len == sizeof(buf)) {
            /* Keep the tail: the reason is at the end. */
            memmove(buf, buf + sizeof(buf) / 2, sizeof(buf) / 2);
            len = sizeof(buf) / 2;
        }
        n = read(fds[0], buf + len, sizeof(buf) - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break; /* EOF: the command is ending */
        len += (size_t)n;
    }
    if (!timed_out && deadline >= 0) {
        /* Stderr closed; the exit follows at once unless it detached it. */
        for (;;) {
            pid_t r = waitpid(pid, &status, WNOHANG);

            if (r == pid) {
                pid = -1;
                break;
            }
            if (r < 0 && errno != EINTR) {
                pid = -1; /* not ours any more: nothing to reap */
                break;
            }
            if (snap_ms_left(deadline) == 0) {
                timed_out = true;
                break;
            }
            snap_sleep_ms(10);
        }
    }
    if (pid > 0) {
        if (timed_out)
            (void)kill(pid, SIGKILL); /* bounded: it must not outlive us */
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
            ;
        pid = -1;
    }
    last_line(buf, len, line, sizeof(line));
    if (timed_out) {
        snap_error_set(err, SNAP_E_TIMEOUT,
                       "%s: %s did not finish within "
                       "%lld ms",
                       what, argv[0], (long long)timeout_ms);
    } else if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
        ok = true;
    } else if (WIFSIGNALED(status)) {
        snap_error_set(err, SNAP_E_SYSTEM, "%s: %s killed by signal %d%s%s",
                       what, argv[0], WTERMSIG(status), line[0] ? ": " : "",
                       line);
    } else {
        snap_error_set(err, SNAP_E_SYSTEM, "%s: %s", what,
                       line[0] ? line : "failed without saying why");
    }

 cleanup:
    if (pid > 0) {
        (void)kill(pid, SIGKILL);
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
            ;
    }
    if (fa_init)
        posix_spawn_file_actions_destroy(&fa);
    if (fds[0] >= 0)
        close(fds[0]);
    if (fds[1] >= 0)
        close(fds[1]);
    return ok;
}

bool
virt_qimg_convert(const char *src, const char *src_fmt, const char *dst,
                 const char *dst_fmt, bool existing, int64_t timeout_ms,
                 snap_error *err)
{
    const char *argv[16];
    char what[PATH_MAX + 64];
    size_t n = 0;

    snprintf(what, sizeof(what), "cannot copy '%s' to '%s'", src, dst);
    if (!existing && snap_path_exists(dst))
        return snap_error_set(err, SNAP_E_STATE, "%s: it exists already", what);
    argv[n++] = "qemu-img";
    argv[n++] = "convert";
    argv[n++] = "-q";
    argv[n++] = "-f";
    argv[n++] = src_fmt;
    argv[n++] = "-O";
    argv[n++] = dst_fmt;
    if (existing)
        argv[n++] = "-n"; /* write into it; keep the device or file */
    argv[n++] = src;
    argv[n++] = dst;
    argv[n] = NULL;
    if (!virt_qimg_run(argv, timeout_ms, what, err))
        return false;
    return snap_path_sync(dst, err);
}

bool
virt_qimg_overlay(const char *path, const char *backing, const char *backing_fmt,
                 snap_error *err)
{
    const char *argv[12];
    char what[PATH_MAX + 64];

    snprintf(what, sizeof(what), "cannot create overlay '%s'", path);
    if (snap_path_exists(path))
        return snap_error_set(err, SNAP_E_STATE, "%s: it exists already", what);
    argv[0] = "qemu-img";
    argv[1] = "create";
    argv[2] = "-q";
    argv[3] = "-f";
    argv[4] = "qcow2";
    argv[5] = "-b";
    argv[6] = backing;
    argv[7] = "-F";
    argv[8] = backing_fmt;
    argv[9] = path;
    argv[10] = NULL;
    if (!virt_qimg_run(argv, 60000, what, err))
        return false;
    return snap_path_sync(path, err);
}

static uint64_t
be64(const unsigned char *p)
{
    uint64_t v = 0;
    int i;

    for (i = 0; i < 8; i++)
        v = (v << 8) | p[i];
    return v;
}

static uint32_t
be32(const unsigned char *p)
{
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) |
           ((uint32_t)p[2] << 8) | p[3];
}

bool
virt_qimg_backing(const char *path, char **backing, snap_error *err)
{
    unsigned char hdr[20];
    char name[1024], *dir = NULL;
    uint64_t off;
    uint32_t size;
    ssize_t n;
    int fd;
    bool ok = false;

    *backing = NULL;
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return snap_error_set_errno(err, errno, "cannot open image '%s'", path);
    n = pread(fd, hdr, sizeof(hdr), 0);
    /* QCOW2 header: magic "QFI\xfb", version, backing_file_offset (u64),
     * backing_file_size (u32), all big-endian. */
    if (n < (ssize_t)sizeof(hdr) || memcmp(hdr, "QFI\xfb", 4) != 0) {
        ok = true; /* not qcow2: no backing file we can follow */
        goto cleanup;
    }
    off = be64(hdr + 8);
    size = be32(hdr + 16);
    if (off == 0 || size == 0) {
        ok = true;
        goto cleanup;
    }
    if (size >= sizeof(name)) {
        snap_error_set(err, SNAP_E_INVALID,
                       "image '%s' names a backing file of %u bytes", path,
                       size);
        goto cleanup;
    }
    n = pread(fd, name, size, (off_t)off);
    if (n != (ssize_t)size) {
        snap_error_set(err, SNAP_E_INVALID,
                       "cannot read the backing file name of image '%s'", path);
        goto cleanup;
    }
    name[size] = '\0';
    if (strncmp(name, "json:", 5) == 0 || strstr(name, "://")) {
        ok = true; /* a network backing file: never a set's copy */
        goto cleanup;
    }
    if (name[0] == '/') {
        *backing = strdup(name);
    } else {
        size_t len;

        dir = snap_path_dir(path, err);
        if (!dir)
            goto cleanup;
        len = strlen(dir) + strlen(name) + 2;
        *backing = malloc(len);
        if (*backing)
            snprintf(*backing, len, "%s/%s", dir, name);
    }
    if (!*backing) {
        snap_error_set(err, SNAP_E_NOMEM, "out of memory");
        goto cleanup;
    }
    ok = true;

 cleanup:
    free(dir);
    close(fd);
    return ok;
}
