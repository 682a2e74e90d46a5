/* common/snap_fs.c -- see snap_fs.h. */
#include "common/snap_fs.h"
#include "common/snap_fault.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static bool
write_all(int fd, const char *p, size_t len)
{
    ssize_t n;

    while (len > 0) {
        n = write(fd, p, len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return false;
        }
        p += n;
        len -= (size_t)n;
    }
    return true;
}

static bool
fsync_parent(const char *path, snap_error *err)
{
    char dir[PATH_MAX];
    char *slash;
    int fd;

    if (snprintf(dir, sizeof(dir), "%s", path) >= (int)sizeof(dir))
        return snap_error_set(err, SNAP_E_INVALID, "path too long: '%s'", path);
    slash = strrchr(dir, '/');
    if (!slash)
        strcpy(dir, ".");
    else if (slash == dir)
        dir[1] = '\0';
    else
        *slash = '\0';
    fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return snap_error_set_errno(err, errno, "cannot open directory '%s'",
                                    dir);
    if (fsync(fd) < 0 && errno != EINVAL) {
        int saved = errno;

        close(fd);
        return snap_error_set_errno(err, saved, "cannot sync directory '%s'",
                                    dir);
    }
    close(fd);
    return true;
}

bool
snap_file_write_atomic(const char *path, const void *data, size_t len,
                       int mode, snap_error *err)
{
    char tmp[PATH_MAX];
    int fd = -1;
    int saved;

    if (snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid()) >=
        (int)sizeof(tmp))
        return snap_error_set(err, SNAP_E_INVALID, "path too long: '%s'", path);
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
    if (fd < 0)
        return snap_error_set_errno(err, errno, "cannot create '%s'", tmp);
    if (!write_all(fd, data, len) || fsync(fd) < 0) {
        saved = errno;
        close(fd);
        unlink(tmp);
        return snap_error_set_errno(err, saved, "cannot write '%s'", tmp);
    }
    if (close(fd) < 0) {
        saved = errno;
        unlink(tmp);
        return snap_error_set_errno(err, saved, "cannot write '%s'", tmp);
    }
    snap_fault("during-catalog-write");
    if (rename(tmp, path) < 0) {
        saved = errno;
        unlink(tmp);
        return snap_error_set_errno(err, saved, "cannot rename '%s' to '%s'",
                                    tmp, path);
    }
    return fsync_parent(path, err);
}

char *
snap_file_read(const char *path, size_t max, size_t *len, snap_error *err)
{
    char *buf = NULL;
    size_t cap = 0, used = 0;
    ssize_t n;
    int fd;

    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT)
            snap_error_set(err, SNAP_E_NOTFOUND, "no such file: '%s'", path);
        else
            snap_error_set_errno(err, errno, "cannot open '%s'", path);
        return NULL;
    }
    for (;;) {
        if (used + 1 >= cap) {
            char *nbuf;

            cap = cap ? cap * 2 : 4096;
            nbuf = realloc(buf, cap);
            if (!nbuf) {
                snap_error_set(err, SNAP_E_NOMEM, "out of memory reading '%s'",
                               path);
                goto error;
            }
            buf = nbuf;
        }
        n = read(fd, buf + used, cap - used - 1);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            snap_error_set_errno(err, errno, "cannot read '%s'", path);
            goto error;
        }
        if (n == 0)
            break;
        used += (size_t)n;
        if (used > max) {
            snap_error_set(err, SNAP_E_INVALID, "file too large: '%s'", path);
            goto error;
        }
    }
    close(fd);
    buf[used] = '\0';
    if (len)
        *len = used;
    return buf;

 error:
    close(fd);
    free(buf);
    return NULL;
}

bool
snap_dir_make(const char *path, int mode, snap_error *err)
{
    char buf[PATH_MAX];
    char *p;

    if (snprintf(buf, sizeof(buf), "%s", path) >= (int)sizeof(buf))
        return snap_error_set(err, SNAP_E_INVALID, "path too long: '%s'", path);
    for (p = buf + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(buf, mode) < 0 && errno != EEXIST)
            return snap_error_set_errno(err, errno,
                                        "cannot create directory '%s'", buf);
        *p = '/';
    }
    if (mkdir(buf, mode) < 0 && errno != EEXIST)
        return snap_error_set_errno(err, errno, "cannot create directory '%s'",
                                    buf);
    return true;
}

bool
snap_path_remove(const char *path, snap_error *err)
{
    if (remove(path) < 0 && errno != ENOENT)
        return snap_error_set_errno(err, errno, "cannot remove '%s'", path);
    return true;
}

bool
snap_dir_remove_files(const char *path, snap_error *err)
{
    DIR *d = opendir(path);
    struct dirent *de;
    char *file;
    bool ok = true;

    if (!d) {
        if (errno == ENOENT)
            return true;
        return snap_error_set_errno(err, errno, "cannot open '%s'", path);
    }
    while ((de = readdir(d))) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        file = snap_path_join(path, de->d_name, err);
        if (!file || unlink(file) < 0) {
            if (file)
                snap_error_set_errno(err, errno, "cannot remove '%s'", file);
            ok = false;
        }
        free(file);
    }
    closedir(d);
    if (ok && rmdir(path) < 0 && errno != ENOENT)
        ok = snap_error_set_errno(err, errno, "cannot remove '%s'", path);
    return ok;
}

char *
snap_path_join(const char *a, const char *b, snap_error *err)
{
    size_t la = strlen(a), lb = strlen(b);
    char *s = malloc(la + lb + 2);

    if (!s) {
        snap_error_set(err, SNAP_E_NOMEM, "out of memory");
        return NULL;
    }
    memcpy(s, a, la);
    s[la] = '/';
    memcpy(s + la + 1, b, lb + 1);
    return s;
}
