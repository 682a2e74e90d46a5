/* virt/qimg.c -- see qimg.h. */
#include "virt/qimg.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/snap_fs.h"
#include "common/snap_log.h"
#include "common/snap_proc.h"

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
    snap_proc_opts o = {
        .argv = argv,
        .what = what,
        .timeout_ms = timeout_ms,
        .out = stdout_fd >= 0 ? SNAP_PROC_STDOUT_FD : SNAP_PROC_STDOUT_DISCARD,
        .stdout_fd = stdout_fd,
    };

    return snap_proc_run(&o, NULL, err);
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
virt_qimg_overlay(const char *path, const char *backing,
                  const char *backing_fmt, snap_error *err)
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

bool
virt_qimg_create(const char *path, uint64_t size, const char *backing,
                 const char *backing_fmt, int64_t timeout_ms, snap_error *err)
{
    const char *argv[14];
    char what[PATH_MAX + 64], sz[32];
    size_t n = 0;

    snprintf(what, sizeof(what), "cannot create image '%s'", path);
    if (snap_path_exists(path))
        return snap_error_set(err, SNAP_E_STATE, "%s: it exists already", what);
    if (!size)
        return snap_error_set(err, SNAP_E_INVALID, "%s: its size is unknown",
                              what);
    snprintf(sz, sizeof(sz), "%llu", (unsigned long long)size);
    argv[n++] = "qemu-img";
    argv[n++] = "create";
    argv[n++] = "-q";
    argv[n++] = "-f";
    argv[n++] = "qcow2";
    if (backing) {
        argv[n++] = "-b";
        argv[n++] = backing;
        argv[n++] = "-F";
        argv[n++] = backing_fmt;
    }
    argv[n++] = path;
    argv[n++] = sz;
    argv[n] = NULL;
    return virt_qimg_run(argv, timeout_ms, what, err);
}

bool
virt_qimg_rebase(const char *path, const char *backing, const char *backing_fmt,
                 int64_t timeout_ms, snap_error *err)
{
    const char *argv[14];
    char what[PATH_MAX + 64];
    size_t n = 0;

    snprintf(what, sizeof(what), "cannot rebase '%s' onto '%s'", path,
             backing ? backing : "nothing");
    argv[n++] = "qemu-img";
    argv[n++] = "rebase";
    argv[n++] = "-q";
    argv[n++] = "-f";
    argv[n++] = "qcow2";
    argv[n++] = "-b";
    argv[n++] = backing ? backing : "";
    if (backing) {
        argv[n++] = "-F";
        argv[n++] = backing_fmt;
    }
    argv[n++] = path;
    argv[n] = NULL;
    if (!virt_qimg_run(argv, timeout_ms, what, err))
        return false;
    return snap_path_sync(path, err);
}

bool
virt_qimg_own_bytes(const char *path, int64_t timeout_ms, uint64_t *bytes,
                    snap_error *err)
{
    const char *argv[] = {"qemu-img", "map",           "-U", "-f",
                          "qcow2",    "--output=json", path, NULL};
    char what[PATH_MAX + 64];
    json_t *root = NULL, *e;
    json_error_t jerr;
    size_t i;
    FILE *tmp = tmpfile();
    bool ok = false;

    *bytes = 0;
    snprintf(what, sizeof(what), "cannot map image '%s'", path);
    if (!tmp)
        return snap_error_set_errno(err, errno, "%s: no temporary file", what);
    if (!virt_cmd_run(argv, timeout_ms, what, fileno(tmp), err))
        goto cleanup;
    if (lseek(fileno(tmp), 0, SEEK_SET) < 0) {
        snap_error_set_errno(err, errno, "%s: cannot read its map", what);
        goto cleanup;
    }
    root = json_loadfd(fileno(tmp), 0, &jerr);
    if (!json_is_array(root)) {
        snap_error_set(err, SNAP_E_SYSTEM, "%s: qemu-img map gave no list",
                       what);
        goto cleanup;
    }
    json_array_foreach(root, i, e)
    {
        json_t *depth = json_object_get(e, "depth");
        json_t *data = json_object_get(e, "data");
        json_t *length = json_object_get(e, "length");

        if (json_is_integer(depth) && json_integer_value(depth) == 0 &&
            json_is_true(data) && json_is_integer(length) &&
            json_integer_value(length) > 0)
            *bytes += (uint64_t)json_integer_value(length);
    }
    ok = true;

cleanup:
    json_decref(root);
    fclose(tmp);
    return ok;
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
