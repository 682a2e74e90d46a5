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
snap_file_write_atomic(const char *path, const void *data, size_t len, int mode,
                       snap_error *err)
{
    char tmp[PATH_MAX];
    int fd = -1;
    int saved;

    if (snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid()) >=
        (int)sizeof(tmp))
        return snap_error_set(err, SNAP_E_INVALID, "path too long: '%s'", path);
    /* O_NOFOLLOW: a symlink planted at the temporary name is not written
     * through (the directories are ours, but the cost is nothing). */
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, mode);
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

/* Opens directory @name (relative to @dirfd) without following a symlink
 * at its last component. -1 with errno set: ENOENT when it is missing,
 * ELOOP or ENOTDIR when it is a symlink or not a directory. */
static int
open_dir_nofollow(int dirfd, const char *name)
{
    return openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
}

static bool
not_a_dir_error(snap_error *err, int e, const char *path)
{
    if (e == ELOOP || e == ENOTDIR)
        return snap_error_set(err, SNAP_E_STATE,
                              "'%s' is not a directory (a symlink is never "
                              "followed): nothing removed",
                              path);
    return snap_error_set_errno(err, e, "cannot open '%s'", path);
}

bool
snap_dir_remove_files_at(int dirfd, const char *name, snap_error *err)
{
    struct dirent *de;
    struct stat st;
    DIR *d;
    int fd;
    bool ok = true;

    fd = open_dir_nofollow(dirfd, name);
    if (fd < 0) {
        if (errno == ENOENT)
            return true;
        return not_a_dir_error(err, errno, name);
    }
    d = fdopendir(fd);
    if (!d) {
        int saved = errno;

        close(fd);
        return snap_error_set_errno(err, saved, "cannot read '%s'", name);
    }
    while ((de = readdir(d))) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        if (fstatat(fd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
            if (errno == ENOENT)
                continue;
            ok = snap_error_set_errno(err, errno, "cannot remove '%s/%s'", name,
                                      de->d_name);
            continue;
        }
        if (S_ISDIR(st.st_mode)) {
            ok = snap_error_set(err, SNAP_E_STATE,
                                "'%s/%s' is a directory: not removed", name,
                                de->d_name);
            continue;
        }
        /* unlinkat() removes the name: a symlink goes, its target stays. */
        if (unlinkat(fd, de->d_name, 0) < 0 && errno != ENOENT)
            ok = snap_error_set_errno(err, errno, "cannot remove '%s/%s'", name,
                                      de->d_name);
    }
    closedir(d); /* closes fd */
    if (ok && unlinkat(dirfd, name, AT_REMOVEDIR) < 0 && errno != ENOENT)
        ok = snap_error_set_errno(err, errno, "cannot remove '%s'", name);
    return ok;
}

bool
snap_dir_remove_files(const char *path, snap_error *err)
{
    return snap_dir_remove_files_at(AT_FDCWD, path, err);
}

bool
snap_file_id_get(const char *path, snap_file_id *id, snap_error *err)
{
    struct stat st;

    if (lstat(path, &st) < 0)
        return snap_error_set_errno(err, errno, "cannot read '%s'", path);
    id->dev = (unsigned long long)st.st_dev;
    id->ino = (unsigned long long)st.st_ino;
    return true;
}

static bool
id_known(const snap_file_id *id)
{
    return id && (id->dev || id->ino);
}

static bool
id_matches(const snap_file_id *id, const struct stat *st)
{
    return id->dev == (unsigned long long)st->st_dev &&
           id->ino == (unsigned long long)st->st_ino;
}

/* Opens the directory holding @path and sets *@base to its last component
 * (in @buf, which holds a copy of @path). Returns the descriptor, or -1
 * with @err set. */
static int
open_parent(const char *path, char *buf, size_t size, const char **base,
            snap_error *err)
{
    char *slash;
    size_t len;
    int fd;

    if (snprintf(buf, size, "%s", path) >= (int)size) {
        snap_error_set(err, SNAP_E_INVALID, "path too long: '%s'", path);
        return -1;
    }
    len = strlen(buf);
    while (len > 1 && buf[len - 1] == '/')
        buf[--len] = '\0';
    slash = strrchr(buf, '/');
    if (!slash) {
        *base = buf;
        fd = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    } else if (slash == buf) {
        *base = buf + 1;
        fd = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    } else {
        *slash = '\0';
        *base = slash + 1;
        fd = open(buf, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    }
    if (fd < 0)
        snap_error_set_errno(err, errno, "cannot open the directory of '%s'",
                             path);
    if (!**base) {
        if (fd >= 0)
            close(fd);
        snap_error_set(err, SNAP_E_INVALID, "bad path '%s'", path);
        return -1;
    }
    return fd;
}

static bool
plain_name(const char *name)
{
    return name && *name && !strchr(name, '/') && strcmp(name, ".") != 0 &&
           strcmp(name, "..") != 0;
}

/* Removes the directory @path, open as @fd, when it is empty and its name
 * still refers to it. Not empty is success: it holds files not ours. */
static bool
remove_dir_if_empty(const char *path, int fd, snap_error *err)
{
    char buf[PATH_MAX];
    struct stat mine, now;
    const char *base;
    int pfd;
    bool ok = true;

    if (fstat(fd, &mine) < 0)
        return snap_error_set_errno(err, errno, "cannot read '%s'", path);
    pfd = open_parent(path, buf, sizeof(buf), &base, err);
    if (pfd < 0)
        return false;
    if (fstatat(pfd, base, &now, AT_SYMLINK_NOFOLLOW) < 0) {
        if (errno != ENOENT)
            ok = snap_error_set_errno(err, errno, "cannot read '%s'", path);
    } else if (!S_ISDIR(now.st_mode) || now.st_dev != mine.st_dev ||
               now.st_ino != mine.st_ino) {
        /* Renamed or swapped meanwhile: what has the name is not ours. */
    } else if (unlinkat(pfd, base, AT_REMOVEDIR) < 0 && errno != ENOENT &&
               errno != ENOTEMPTY && errno != EEXIST) {
        ok = snap_error_set_errno(err, errno, "cannot remove '%s'", path);
    }
    close(pfd);
    return ok;
}

bool
snap_dir_remove_names(const char *path, const snap_file_id *id,
                      const char *const *names, size_t nnames, bool remove_dir,
                      size_t *kept, snap_error *err)
{
    struct stat st;
    size_t i, nkept = 0;
    int fd;
    bool ok = true;

    if (kept)
        *kept = 0;
    for (i = 0; i < nnames; i++) {
        if (!plain_name(names[i]))
            return snap_error_set(err, SNAP_E_INVALID,
                                  "bad file name '%s' for '%s': nothing "
                                  "removed",
                                  names[i] ? names[i] : "(null)", path);
    }
    fd = open_dir_nofollow(AT_FDCWD, path);
    if (fd < 0) {
        if (errno == ENOENT)
            return true;
        return not_a_dir_error(err, errno, path);
    }
    if (fstat(fd, &st) < 0) {
        ok = snap_error_set_errno(err, errno, "cannot read '%s'", path);
        goto cleanup;
    }
    if (id_known(id) && !id_matches(id, &st)) {
        ok = snap_error_set(err, SNAP_E_STATE,
                            "'%s' is not the directory that was written "
                            "(replaced since): nothing removed",
                            path);
        goto cleanup;
    }
    for (i = 0; i < nnames; i++) {
        if (fstatat(fd, names[i], &st, AT_SYMLINK_NOFOLLOW) < 0) {
            if (errno != ENOENT)
                ok = snap_error_set_errno(err, errno, "cannot remove '%s/%s'",
                                          path, names[i]);
            continue;
        }
        if (!S_ISREG(st.st_mode)) {
            nkept++; /* not what we wrote: a link or a directory */
            continue;
        }
        if (unlinkat(fd, names[i], 0) < 0 && errno != ENOENT)
            ok = snap_error_set_errno(err, errno, "cannot remove '%s/%s'", path,
                                      names[i]);
    }
    if (ok && remove_dir)
        ok = remove_dir_if_empty(path, fd, err);

cleanup:
    close(fd);
    if (kept)
        *kept = nkept;
    return ok;
}

bool
snap_file_remove_ours(const char *path, const snap_file_id *id, snap_error *err)
{
    char buf[PATH_MAX];
    const char *base;
    struct stat st;
    int pfd;
    bool ok = true;

    pfd = open_parent(path, buf, sizeof(buf), &base, err);
    if (pfd < 0)
        return false;
    if (fstatat(pfd, base, &st, AT_SYMLINK_NOFOLLOW) < 0) {
        if (errno != ENOENT)
            ok = snap_error_set_errno(err, errno, "cannot read '%s'", path);
    } else if (!S_ISREG(st.st_mode)) {
        ok = snap_error_set(err, SNAP_E_STATE,
                            "'%s' is not a regular file (a symlink is never "
                            "followed): not removed",
                            path);
    } else if (id_known(id) && !id_matches(id, &st)) {
        ok = snap_error_set(err, SNAP_E_STATE,
                            "'%s' is not the file that was written (replaced "
                            "since): not removed",
                            path);
    } else if (unlinkat(pfd, base, 0) < 0 && errno != ENOENT) {
        ok = snap_error_set_errno(err, errno, "cannot remove '%s'", path);
    }
    close(pfd);
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

bool
snap_path_exists(const char *path)
{
    struct stat st;

    return lstat(path, &st) == 0;
}

bool
snap_path_sync(const char *path, snap_error *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);

    if (fd < 0)
        return snap_error_set_errno(err, errno, "cannot open '%s'", path);
    if (fsync(fd) < 0 && errno != EINVAL) {
        int saved = errno;

        close(fd);
        return snap_error_set_errno(err, saved, "cannot sync '%s'", path);
    }
    close(fd);
    return true;
}

char *
snap_path_dir(const char *path, snap_error *err)
{
    const char *slash = strrchr(path, '/');
    char *dir;

    if (!slash)
        dir = strdup(".");
    else if (slash == path)
        dir = strdup("/");
    else
        dir = strndup(path, (size_t)(slash - path));
    if (!dir)
        snap_error_set(err, SNAP_E_NOMEM, "out of memory");
    return dir;
}

bool
snap_path_sync_dir(const char *path, snap_error *err)
{
    char *dir = snap_path_dir(path, err);
    bool ok;

    if (!dir)
        return false;
    ok = snap_path_sync(dir, err);
    free(dir);
    return ok;
}
