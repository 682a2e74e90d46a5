/* glance/ova.c -- writing a package: an OVA tar (libarchive) or a directory.
 *
 * Both writers read each converted disk exactly once, in GLANCE_CHUNK_SIZE
 * chunks, hashing it on the way. The OVA's manifest has to precede the disks
 * although their digests are known only after them: it is written with
 * placeholder digests of the same length, and those bytes are overwritten
 * in the finished temporary file (tar has no checksum over member data).
 */
#define _GNU_SOURCE /* mkostemp() beside POSIX */
#include "glance/glance.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>

#include "common/snap_fs.h"
#include "glance/glance_priv.h"

/* Everything both writers need, checked and opened before any output
 * exists. Digest 0 is the descriptor's, digest i + 1 is disk i's. */
typedef struct package {
    const glance_ovf *ovf;
    const char *const *paths;
    size_t ndisks;
    int *fds;
    char *xml;
    size_t xml_len;
    char ovf_name[GLANCE_MEMBER_NAME_MAX + 1];
    char mf_name[GLANCE_MEMBER_NAME_MAX + 1];
    char (*digests)[GLANCE_HASH_HEX_SIZE];
    const glance_progress *progress; /* may be NULL */
    const char *step;                /* "hash" or "write" */
    uint64_t done, total;            /* disk bytes of the step */
} package;

/* Tells the progress callback where we are; false (with @err set) when it
 * cancels. */
static bool
report(package *pkg, size_t i, uint64_t file_done, snap_error *err)
{
    glance_progress_info info;
    snap_error cerr = {0};

    if (!pkg->progress || !pkg->progress->fn)
        return true;
    info.step = pkg->step;
    info.file = glance_ovf_disk_file(pkg->ovf, i);
    info.index = i;
    info.file_done = file_done;
    info.file_size = glance_ovf_disk_file_size(pkg->ovf, i);
    info.done = pkg->done;
    info.total = pkg->total;
    if (pkg->progress->fn(pkg->progress->ctx, &info, &cerr))
        return true;
    if (!snap_error_isset(&cerr))
        snap_error_set(&cerr, SNAP_E_STATE, "cancelled");
    return snap_error_set(err, cerr.code, "%s", cerr.msg);
}

/* Where the bytes of a disk go while it is read. */
typedef bool (*sink_fn)(void *ctx, const void *buf, size_t len,
                        snap_error *err);

static void
package_release(package *pkg)
{
    size_t i;

    if (pkg->fds) {
        for (i = 0; i < pkg->ndisks; i++) {
            if (pkg->fds[i] >= 0)
                close(pkg->fds[i]);
        }
    }
    free(pkg->fds);
    free(pkg->xml);
    free(pkg->digests);
    memset(pkg, 0, sizeof(*pkg));
}

/* Checks the inputs, opens every disk (each must be a regular file of the
 * size the descriptor states), renders the descriptor and hashes it. */
static bool
package_prepare(package *pkg, const glance_ovf *ovf,
                const char *const *disk_paths, size_t ndisks,
                const glance_progress *progress, snap_error *err)
{
    const char *base = glance_ovf_package_name(ovf);
    const char *file;
    glance_hash *h = NULL;
    struct stat st;
    size_t i;
    bool ok = false;

    memset(pkg, 0, sizeof(*pkg));
    pkg->ovf = ovf;
    pkg->paths = disk_paths;
    pkg->progress = progress;
    pkg->step = "write";
    if (ndisks == 0 || glance_ovf_disk_count(ovf) == 0)
        return snap_error_set(err, SNAP_E_INVALID,
                              "cannot package '%s': no disks", base);
    if (ndisks != glance_ovf_disk_count(ovf))
        return snap_error_set(err, SNAP_E_INVALID,
                              "cannot package '%s': %zu disk files given for "
                              "%zu disks in the descriptor",
                              base, ndisks, glance_ovf_disk_count(ovf));
    snprintf(pkg->ovf_name, sizeof(pkg->ovf_name), "%s.ovf", base);
    snprintf(pkg->mf_name, sizeof(pkg->mf_name), "%s.mf", base);
    for (i = 0; i < ndisks; i++) {
        file = glance_ovf_disk_file(ovf, i);
        if (strcmp(file, pkg->ovf_name) == 0 || strcmp(file, pkg->mf_name) == 0)
            return snap_error_set(err, SNAP_E_INVALID,
                                  "disk file name '%s' is the name of the "
                                  "descriptor or manifest",
                                  file);
    }

    pkg->fds = malloc(ndisks * sizeof(*pkg->fds));
    pkg->digests = calloc(ndisks + 1, sizeof(*pkg->digests));
    if (!pkg->fds || !pkg->digests) {
        snap_error_set(err, SNAP_E_NOMEM, "out of memory");
        goto cleanup;
    }
    pkg->ndisks = ndisks;
    for (i = 0; i < ndisks; i++)
        pkg->fds[i] = -1;
    for (i = 0; i < ndisks; i++) {
        pkg->fds[i] = open(disk_paths[i], O_RDONLY | O_CLOEXEC);
        if (pkg->fds[i] < 0) {
            if (errno == ENOENT)
                snap_error_set(err, SNAP_E_NOTFOUND, "no such disk file: '%s'",
                               disk_paths[i]);
            else
                snap_error_set_errno(err, errno, "cannot open disk file '%s'",
                                     disk_paths[i]);
            goto cleanup;
        }
        if (fstat(pkg->fds[i], &st) < 0) {
            snap_error_set_errno(err, errno, "cannot stat disk file '%s'",
                                 disk_paths[i]);
            goto cleanup;
        }
        if (!S_ISREG(st.st_mode)) {
            snap_error_set(err, SNAP_E_INVALID,
                           "disk file '%s' is not a regular file",
                           disk_paths[i]);
            goto cleanup;
        }
        if ((uint64_t)st.st_size != glance_ovf_disk_file_size(ovf, i)) {
            snap_error_set(
                err, SNAP_E_INVALID,
                "disk file '%s' has %lld bytes but the descriptor "
                "says %llu",
                disk_paths[i], (long long)st.st_size,
                (unsigned long long)glance_ovf_disk_file_size(ovf, i));
            goto cleanup;
        }
        /* A hint only: the kernel may read ahead more aggressively. */
        (void)posix_fadvise(pkg->fds[i], 0, 0, POSIX_FADV_SEQUENTIAL);
        pkg->total += (uint64_t)st.st_size;
    }

    if (!glance_ovf_write(ovf, &pkg->xml, &pkg->xml_len, err))
        goto cleanup;
    h = glance_hash_new(GLANCE_HASH_SHA256, err);
    if (!h || !glance_hash_update(h, pkg->xml, pkg->xml_len, err) ||
        !glance_hash_final_hex(h, pkg->digests[0], GLANCE_HASH_HEX_SIZE, err))
        goto cleanup;
    ok = true;

cleanup:
    glance_hash_free(h);
    if (!ok)
        package_release(pkg);
    return ok;
}

/* The manifest of @pkg; with @placeholder, every disk digest is zeros (same
 * length as the real one). Returns a new buffer (free()). */
static char *
package_manifest(const package *pkg, bool placeholder, size_t *len,
                 snap_error *err)
{
    static const char zeros[GLANCE_SHA256_HEX_LEN + 1] =
        "0000000000000000000000000000000000000000000000000000000000000000";
    const char **names = NULL, **hexes = NULL;
    char *text = NULL;
    size_t i;

    names = calloc(pkg->ndisks + 1, sizeof(*names));
    hexes = calloc(pkg->ndisks + 1, sizeof(*hexes));
    if (!names || !hexes) {
        snap_error_set(err, SNAP_E_NOMEM, "out of memory");
        goto cleanup;
    }
    names[0] = pkg->ovf_name;
    hexes[0] = pkg->digests[0];
    for (i = 0; i < pkg->ndisks; i++) {
        names[i + 1] = glance_ovf_disk_file(pkg->ovf, i);
        hexes[i + 1] = placeholder ? zeros : pkg->digests[i + 1];
    }
    text = glance_manifest_format(names, hexes, pkg->ndisks + 1, len, err);

cleanup:
    free(names);
    free(hexes);
    return text;
}

/* Reads exactly @size bytes of disk @i into @sink (NULL: nowhere), hashing
 * them, then checks that the file did not grow: the descriptor states its
 * size. */
static bool
stream_disk(package *pkg, size_t i, char *buf, sink_fn sink, void *ctx,
            snap_error *err)
{
    const char *path = pkg->paths[i];
    uint64_t left = glance_ovf_disk_file_size(pkg->ovf, i);
    glance_hash *h = NULL;
    size_t want;
    ssize_t n;
    bool ok = false;

    h = glance_hash_new(GLANCE_HASH_SHA256, err);
    if (!h || !report(pkg, i, 0, err))
        goto cleanup;
    while (left > 0) {
        want = left < GLANCE_CHUNK_SIZE ? (size_t)left : GLANCE_CHUNK_SIZE;
        n = read(pkg->fds[i], buf, want);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            snap_error_set_errno(err, errno, "cannot read disk file '%s'",
                                 path);
            goto cleanup;
        }
        if (n == 0) {
            snap_error_set(err, SNAP_E_STATE,
                           "disk file '%s' shrank while it was packaged", path);
            goto cleanup;
        }
        if (!glance_hash_update(h, buf, (size_t)n, err) ||
            (sink && !sink(ctx, buf, (size_t)n, err)))
            goto cleanup;
        left -= (uint64_t)n;
        pkg->done += (uint64_t)n;
        if (!report(pkg, i, glance_ovf_disk_file_size(pkg->ovf, i) - left, err))
            goto cleanup;
    }
    do {
        n = read(pkg->fds[i], buf, 1);
    } while (n < 0 && errno == EINTR);
    if (n != 0) {
        snap_error_set(err, SNAP_E_STATE,
                       "disk file '%s' grew while it was packaged", path);
        goto cleanup;
    }
    ok = glance_hash_final_hex(h, pkg->digests[i + 1], GLANCE_HASH_HEX_SIZE,
                               err);

cleanup:
    glance_hash_free(h);
    return ok;
}

static bool
write_all(int fd, const void *data, size_t len)
{
    const char *p = data;
    ssize_t n;

    while (len > 0) {
        n = write(fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return false;
        p += n;
        len -= (size_t)n;
    }
    return true;
}

/* fsync() of directory @dir, so that a rename or link in it is durable. */
static bool
sync_dir(const char *dir, snap_error *err)
{
    int fd;

    fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return snap_error_set_errno(err, errno, "cannot open directory '%s'",
                                    dir);
    /* Some file systems cannot sync a directory (EINVAL): nothing to do. */
    if (fsync(fd) < 0 && errno != EINVAL) {
        int saved = errno;

        close(fd);
        return snap_error_set_errno(err, saved, "cannot sync directory '%s'",
                                    dir);
    }
    close(fd);
    return true;
}

/* A new temporary file "@dir/.@prefix.XXXXXX", in the directory of its final
 * name so that rename() and link() stay on one file system. Returns its
 * descriptor and its path in *@tmp (free()), or -1 with @err set. */
static int
make_temp(const char *dir, const char *prefix, char **tmp, snap_error *err)
{
    char *path = NULL;
    size_t len;
    int fd;

    len = strlen(dir) + strlen(prefix) + 16;
    path = malloc(len);
    if (!path) {
        snap_error_set(err, SNAP_E_NOMEM, "out of memory");
        return -1;
    }
    snprintf(path, len, "%s/.%s.XXXXXX", dir, prefix);
    /* O_EXCL (mkostemp): a name planted in the directory is never opened;
     * O_CLOEXEC at once: a thread's child elsewhere inherits nothing. */
    fd = mkostemp(path, O_CLOEXEC);
    if (fd < 0) {
        snap_error_set_errno(err, errno, "cannot create a file in '%s'", dir);
        free(path);
        return -1;
    }
    *tmp = path;
    return fd;
}

/* ------------------------------------------------------------------------ */
/* OVA                                                                       */

struct archive *
glance_tar_writer_new(snap_error *err)
{
    struct archive *a;

    a = archive_write_new();
    if (!a) {
        snap_error_set(err, SNAP_E_NOMEM, "out of memory");
        return NULL;
    }
    /* "Restricted pax" is ustar plus, only for a member that ustar cannot
     * describe, a pax extended header before it. With our plain ASCII names
     * under 100 bytes, owner 0 and sane times, that happens only for members
     * of 8 GiB or more; libarchive then also puts the size in the ustar
     * header as 12 octal digits, which readers without pax support read up
     * to 64 GiB. Importers want ustar (VMware, VirtualBox). */
    if (archive_write_set_format_pax_restricted(a) != ARCHIVE_OK) {
        snap_error_set(err, SNAP_E_SYSTEM, "cannot set up the tar writer: %s",
                       archive_error_string(a));
        archive_write_free(a);
        return NULL;
    }
    return a;
}

struct archive_entry *
glance_tar_entry_new(const char *name, int64_t size, int64_t mtime,
                     snap_error *err)
{
    struct archive_entry *e;

    e = archive_entry_new();
    if (!e) {
        snap_error_set(err, SNAP_E_NOMEM, "out of memory");
        return NULL;
    }
    archive_entry_set_pathname(e, name);
    archive_entry_set_filetype(e, AE_IFREG);
    archive_entry_set_perm(e, 0644);
    archive_entry_set_size(e, size);
    archive_entry_set_uid(e, 0);
    archive_entry_set_gid(e, 0);
    archive_entry_set_mtime(e, (time_t)mtime, 0);
    return e;
}

typedef struct tar_out {
    struct archive *a;
    int fd;
    bool abandoned;   /* refuse every further write */
    const char *path; /* for messages */
} tar_out;

/* libarchive's output callback. Once the package is abandoned it refuses
 * to write, so that archive_write_free() does not pad the member being
 * written (up to its full size) nor add a trailer. archive_write_fail()
 * would do the same but leaks the output buffer in libarchive 3.6. */
static la_ssize_t
tar_output(struct archive *a, void *ctx, const void *buf, size_t len)
{
    tar_out *t = ctx;

    if (t->abandoned) {
        archive_set_error(a, ECANCELED, "package abandoned");
        return -1;
    }
    if (!write_all(t->fd, buf, len)) {
        archive_set_error(a, errno, "write error");
        return -1;
    }
    return (la_ssize_t)len;
}

static bool
tar_fail(tar_out *t, snap_error *err)
{
    const char *why = archive_error_string(t->a);
    int errnum = archive_errno(t->a);

    if (!why)
        why = "unknown libarchive error";
    /* libarchive keeps the errno of a failed write(), or a negative code of
     * its own. */
    if (errnum > 0)
        return snap_error_set_errno(err, errnum, "cannot write '%s': %s",
                                    t->path, why);
    return snap_error_set(err, SNAP_E_SYSTEM, "cannot write '%s': %s", t->path,
                          why);
}

static bool
tar_sink(void *ctx, const void *buf, size_t len, snap_error *err)
{
    tar_out *t = ctx;
    const char *p = buf;
    la_ssize_t n;

    while (len > 0) {
        n = archive_write_data(t->a, p, len);
        if (n <= 0)
            return tar_fail(t, err);
        p += n;
        len -= (size_t)n;
    }
    return true;
}

static bool
tar_member(tar_out *t, const char *name, uint64_t size, int64_t mtime,
           snap_error *err)
{
    struct archive_entry *e;
    int rc;

    e = glance_tar_entry_new(name, (int64_t)size, mtime, err);
    if (!e)
        return false;
    rc = archive_write_header(t->a, e);
    archive_entry_free(e);
    if (rc != ARCHIVE_OK)
        return tar_fail(t, err);
    return true;
}

/* Overwrites the placeholder manifest at @offset of @fd with @text, after
 * checking that the placeholder is really there. */
static bool
patch_manifest(int fd, const char *tmp, off_t offset, const char *placeholder,
               const char *text, size_t len, snap_error *err)
{
    char *check = NULL;
    ssize_t n;
    bool ok = false;

    check = malloc(len);
    if (!check) {
        snap_error_set(err, SNAP_E_NOMEM, "out of memory");
        goto cleanup;
    }
    n = pread(fd, check, len, offset);
    if (n < 0) {
        snap_error_set_errno(err, errno, "cannot read back '%s'", tmp);
        goto cleanup;
    }
    if ((size_t)n != len || memcmp(check, placeholder, len) != 0) {
        snap_error_set(err, SNAP_E_STATE,
                       "manifest of '%s' is not at the expected offset %lld",
                       tmp, (long long)offset);
        goto cleanup;
    }
    n = pwrite(fd, text, len, offset);
    if (n < 0 || (size_t)n != len) {
        snap_error_set_errno(err, n < 0 ? errno : EIO, "cannot write '%s'",
                             tmp);
        goto cleanup;
    }
    ok = true;

cleanup:
    free(check);
    return ok;
}

bool
glance_ova_write(const char *path, const glance_ovf *ovf,
                 const char *const *disk_paths, size_t ndisks, snap_error *err)
{
    return glance_ova_write_progress(path, ovf, disk_paths, ndisks, NULL, err);
}

bool
glance_ova_write_progress(const char *path, const glance_ovf *ovf,
                          const char *const *disk_paths, size_t ndisks,
                          const glance_progress *progress, snap_error *err)
{
    package pkg = {0};
    tar_out t = {NULL, -1, false, path};
    char *dir = NULL, *tmp = NULL, *buf = NULL;
    char *placeholder = NULL, *manifest = NULL;
    size_t mf_len = 0, real_len = 0, i;
    int64_t mtime, mf_offset;
    int fd = -1;
    bool ok = false;

    if (!package_prepare(&pkg, ovf, disk_paths, ndisks, progress, err))
        goto cleanup;
    placeholder = package_manifest(&pkg, true, &mf_len, err);
    if (!placeholder)
        goto cleanup;
    buf = malloc(GLANCE_CHUNK_SIZE);
    if (!buf) {
        snap_error_set(err, SNAP_E_NOMEM, "out of memory");
        goto cleanup;
    }
    dir = snap_path_dir(path, err);
    if (!dir)
        goto cleanup;
    fd = make_temp(dir, pkg.ovf_name, &tmp, err);
    if (fd < 0)
        goto cleanup;

    t.a = glance_tar_writer_new(err);
    if (!t.a)
        goto cleanup;
    t.fd = fd;
    if (archive_write_open2(t.a, &t, NULL, tar_output, NULL, NULL) !=
        ARCHIVE_OK) {
        tar_fail(&t, err);
        goto cleanup;
    }
    mtime = glance_ovf_mtime(ovf);

    /* 1. The descriptor, so that readers find it without a scan. */
    if (!tar_member(&t, pkg.ovf_name, pkg.xml_len, mtime, err) ||
        !tar_sink(&t, pkg.xml, pkg.xml_len, err))
        goto cleanup;
    /* 2. The manifest, with placeholders for now. Nothing is buffered in
     * the formatter, so the bytes handed to the output so far are the
     * offset of its data. */
    if (!tar_member(&t, pkg.mf_name, mf_len, mtime, err))
        goto cleanup;
    mf_offset = archive_filter_bytes(t.a, -1);
    if (mf_offset < 0) {
        tar_fail(&t, err);
        goto cleanup;
    }
    if (!tar_sink(&t, placeholder, mf_len, err))
        goto cleanup;
    /* 3. The disks in References order, hashed as they stream by. */
    for (i = 0; i < pkg.ndisks; i++) {
        if (!tar_member(&t, glance_ovf_disk_file(ovf, i),
                        glance_ovf_disk_file_size(ovf, i), mtime, err) ||
            !stream_disk(&pkg, i, buf, tar_sink, &t, err))
            goto cleanup;
    }
    if (archive_write_close(t.a) != ARCHIVE_OK) {
        tar_fail(&t, err);
        goto cleanup;
    }

    manifest = package_manifest(&pkg, false, &real_len, err);
    if (!manifest)
        goto cleanup;
    if (real_len != mf_len) { /* digests are fixed-length: cannot happen */
        snap_error_set(err, SNAP_E_STATE, "manifest of '%s' changed size",
                       path);
        goto cleanup;
    }
    if (!patch_manifest(fd, tmp, (off_t)mf_offset, placeholder, manifest,
                        mf_len, err))
        goto cleanup;
    if (fsync(fd) < 0) {
        snap_error_set_errno(err, errno, "cannot sync '%s'", tmp);
        goto cleanup;
    }
    if (close(fd) < 0) {
        fd = -1;
        snap_error_set_errno(err, errno, "cannot write '%s'", tmp);
        goto cleanup;
    }
    fd = -1;
    if (rename(tmp, path) < 0) {
        snap_error_set_errno(err, errno, "cannot rename '%s' to '%s'", tmp,
                             path);
        goto cleanup;
    }
    free(tmp);
    tmp = NULL; /* it is @path now */
    if (!sync_dir(dir, err))
        goto cleanup;
    ok = true;

cleanup:
    if (t.a) {
        t.abandoned = !ok;
        (void)archive_write_free(t.a); /* closed already when ok */
    }
    if (fd >= 0)
        close(fd);
    if (tmp)
        (void)unlink(tmp); /* never leave a partial package behind */
    free(tmp);
    free(dir);
    free(buf);
    free(placeholder);
    free(manifest);
    package_release(&pkg);
    return ok;
}

/* ------------------------------------------------------------------------ */
/* Directory                                                                 */

typedef struct dir_out {
    int fd;
    const char *path; /* for messages */
} dir_out;

static bool
dir_sink(void *ctx, const void *buf, size_t len, snap_error *err)
{
    dir_out *d = ctx;

    if (!write_all(d->fd, buf, len))
        return snap_error_set_errno(err, errno, "cannot write '%s'", d->path);
    return true;
}

static bool
finish_file(int fd, const char *path, snap_error *err)
{
    if (fsync(fd) < 0) {
        int saved = errno;

        close(fd);
        return snap_error_set_errno(err, saved, "cannot sync '%s'", path);
    }
    if (close(fd) < 0)
        return snap_error_set_errno(err, errno, "cannot write '%s'", path);
    return true;
}

/* Moves @tmp to @final without replacing anything: link() fails with EEXIST
 * where rename() would silently replace. File systems without hard links get
 * rename(), after the existence check done at the start. */
static bool
place_file(const char *tmp, const char *final, snap_error *err)
{
    if (link(tmp, final) == 0) {
        (void)unlink(tmp); /* the name stays; a leftover would be harmless */
        return true;
    }
    if (errno == EEXIST)
        return snap_error_set(err, SNAP_E_STATE, "'%s' already exists", final);
    if (errno != EPERM && errno != EOPNOTSUPP && errno != ENOSYS)
        return snap_error_set_errno(err, errno, "cannot create '%s'", final);
    if (rename(tmp, final) < 0)
        return snap_error_set_errno(err, errno, "cannot rename '%s' to '%s'",
                                    tmp, final);
    return true;
}

bool
glance_ovf_dir_write(const char *dir, const glance_ovf *ovf,
                     const char *const *disk_paths, size_t ndisks,
                     snap_error *err)
{
    return glance_ovf_dir_write_progress(dir, ovf, disk_paths, ndisks, NULL,
                                         err);
}

bool
glance_ovf_dir_write_progress(const char *dir, const glance_ovf *ovf,
                              const char *const *disk_paths, size_t ndisks,
                              const glance_progress *progress, snap_error *err)
{
    package pkg = {0};
    char **finals = NULL, **tmps = NULL, *buf = NULL, *manifest = NULL;
    const char *name;
    size_t nfiles = 0, nplaced = 0, mf_len = 0, i;
    struct stat st;
    dir_out d = {-1, NULL};
    bool made_dir = false, ok = false;

    if (!package_prepare(&pkg, ovf, disk_paths, ndisks, progress, err))
        goto cleanup;
    /* Files, in this order: the descriptor, the disks, the manifest. */
    nfiles = pkg.ndisks + 2;
    finals = calloc(nfiles, sizeof(*finals));
    tmps = calloc(nfiles, sizeof(*tmps));
    buf = malloc(GLANCE_CHUNK_SIZE);
    if (!finals || !tmps || !buf) {
        snap_error_set(err, SNAP_E_NOMEM, "out of memory");
        goto cleanup;
    }
    made_dir = lstat(dir, &st) < 0;
    if (!snap_dir_make(dir, 0755, err))
        goto cleanup;
    for (i = 0; i < nfiles; i++) {
        if (i == 0)
            name = pkg.ovf_name;
        else if (i == nfiles - 1)
            name = pkg.mf_name;
        else
            name = glance_ovf_disk_file(ovf, i - 1);
        finals[i] = snap_path_join(dir, name, err);
        if (!finals[i])
            goto cleanup;
        if (lstat(finals[i], &st) == 0) {
            snap_error_set(err, SNAP_E_STATE, "'%s' already exists", finals[i]);
            goto cleanup;
        }
    }

    for (i = 0; i < nfiles; i++) {
        d.fd = make_temp(dir, pkg.ovf_name, &tmps[i], err);
        if (d.fd < 0)
            goto cleanup;
        d.path = tmps[i];
        if (i == 0) {
            if (!dir_sink(&d, pkg.xml, pkg.xml_len, err))
                goto cleanup;
        } else if (i == nfiles - 1) {
            manifest = package_manifest(&pkg, false, &mf_len, err);
            if (!manifest || !dir_sink(&d, manifest, mf_len, err))
                goto cleanup;
        } else if (!stream_disk(&pkg, i - 1, buf, dir_sink, &d, err)) {
            goto cleanup;
        }
        if (!finish_file(d.fd, tmps[i], err)) {
            d.fd = -1;
            goto cleanup;
        }
        d.fd = -1;
    }
    for (nplaced = 0; nplaced < nfiles; nplaced++) {
        if (!place_file(tmps[nplaced], finals[nplaced], err))
            goto cleanup;
    }
    if (!sync_dir(dir, err))
        goto cleanup;
    ok = true;

cleanup:
    if (d.fd >= 0)
        close(d.fd);
    for (i = 0; tmps && finals && i < nfiles; i++) {
        if (tmps[i])
            (void)unlink(tmps[i]); /* gone already when placed */
        if (!ok && i < nplaced)
            (void)unlink(finals[i]); /* no partial package */
        free(tmps[i]);
        free(finals[i]);
    }
    if (!ok && made_dir)
        (void)rmdir(dir); /* ours and empty again; parents may stay */
    free(tmps);
    free(finals);
    free(buf);
    free(manifest);
    package_release(&pkg);
    return ok;
}

/* ------------------------------------------------------------------------ */
/* OVA stream                                                                */

struct glance_ova_stream {
    package pkg;    /* pkg.digests: the digests of the hashing pass */
    char *manifest; /* the real manifest, known before the disks */
    size_t mf_len;
    uint64_t size;     /* exact length of the package */
    uint64_t produced; /* bytes handed out so far */
    struct archive *a;
    bool abandoned; /* the writer refuses output (see tar_output) */
    char *out;      /* bytes produced by libarchive, not handed out */
    size_t out_len, out_off, out_cap;
    char *chunk;      /* one chunk of a disk */
    size_t member;    /* 0: descriptor, 1: manifest, 2 + i: disk i */
    bool header_done; /* the current member's header is written */
    uint64_t left;    /* data of the current member still to read */
    glance_hash *h;   /* the current disk's second digest */
    bool finished;    /* the archive is closed */
    bool failed;
};

static la_ssize_t
stream_output(struct archive *a, void *ctx, const void *buf, size_t len)
{
    glance_ova_stream *s = ctx;
    size_t need = s->out_len + len;
    char *p;

    if (s->abandoned) {
        archive_set_error(a, ECANCELED, "package abandoned");
        return -1;
    }
    if (need > s->out_cap) {
        p = realloc(s->out, need);
        if (!p) {
            archive_set_error(a, ENOMEM, "out of memory");
            return -1;
        }
        s->out = p;
        s->out_cap = need;
    }
    memcpy(s->out + s->out_len, buf, len);
    s->out_len += len;
    return (la_ssize_t)len;
}

static bool
stream_fail(glance_ova_stream *s, snap_error *err)
{
    const char *why = archive_error_string(s->a);

    return snap_error_set(err, SNAP_E_SYSTEM, "cannot produce the OVA: %s",
                          why ? why : "unknown libarchive error");
}

/* Bytes counted by header_size(). */
typedef struct counter {
    uint64_t n;
    bool closed;
} counter;

static la_ssize_t
count_output(struct archive *a, void *ctx, const void *buf, size_t len)
{
    counter *c = ctx;

    (void)buf;
    if (c->closed) {
        archive_set_error(a, ECANCELED, "closed");
        return -1;
    }
    c->n += len;
    return (la_ssize_t)len;
}

/* The bytes of the header(s) the OVA writer puts before member @name of
 * @size bytes: 512 for plain ustar, more when a pax header is needed. Found
 * by letting libarchive write the header alone, unblocked. */
static bool
header_size(const char *name, uint64_t size, int64_t mtime, uint64_t *out,
            snap_error *err)
{
    struct archive *a = NULL;
    struct archive_entry *e = NULL;
    counter c = {0, false};
    bool ok = false;

    a = glance_tar_writer_new(err);
    if (!a)
        return false;
    if (archive_write_set_bytes_per_block(a, 0) != ARCHIVE_OK ||
        archive_write_open2(a, &c, NULL, count_output, NULL, NULL) !=
            ARCHIVE_OK) {
        snap_error_set(err, SNAP_E_SYSTEM, "cannot size the OVA: %s",
                       archive_error_string(a));
        goto cleanup;
    }
    e = glance_tar_entry_new(name, (int64_t)size, mtime, err);
    if (!e)
        goto cleanup;
    if (archive_write_header(a, e) != ARCHIVE_OK) {
        snap_error_set(err, SNAP_E_SYSTEM, "cannot size the OVA: %s",
                       archive_error_string(a));
        goto cleanup;
    }
    *out = c.n;
    ok = true;

cleanup:
    c.closed = true; /* no padding of the member's data on free */
    archive_entry_free(e);
    archive_write_free(a);
    return ok;
}

/* The exact length of the OVA: every member's headers and data padded to
 * 512 bytes, the 1024-byte end marker, all padded to the writer's block
 * size as libarchive does on close. */
static bool
stream_compute_size(glance_ova_stream *s, snap_error *err)
{
    const glance_ovf *ovf = s->pkg.ovf;
    int64_t mtime = glance_ovf_mtime(ovf);
    struct archive *a;
    uint64_t total = 0, hdr, block;
    size_t i;
    int bpb;

    if (!header_size(s->pkg.ovf_name, s->pkg.xml_len, mtime, &hdr, err))
        return false;
    total += hdr + ((s->pkg.xml_len + 511) / 512) * 512;
    if (!header_size(s->pkg.mf_name, s->mf_len, mtime, &hdr, err))
        return false;
    total += hdr + ((s->mf_len + 511) / 512) * 512;
    for (i = 0; i < s->pkg.ndisks; i++) {
        uint64_t size = glance_ovf_disk_file_size(ovf, i);

        if (!header_size(glance_ovf_disk_file(ovf, i), size, mtime, &hdr, err))
            return false;
        total += hdr + ((size + 511) / 512) * 512;
    }
    total += 1024;
    a = glance_tar_writer_new(err);
    if (!a)
        return false;
    bpb = archive_write_get_bytes_per_block(a);
    archive_write_free(a);
    block = bpb > 0 ? (uint64_t)bpb : 1;
    s->size = ((total + block - 1) / block) * block;
    return true;
}

/* (Re)starts producing the package from its first byte. */
static bool
stream_start(glance_ova_stream *s, snap_error *err)
{
    size_t i;

    if (s->a) {
        s->abandoned = true;
        (void)archive_write_free(s->a);
        s->a = NULL;
    }
    glance_hash_free(s->h);
    s->h = NULL;
    for (i = 0; i < s->pkg.ndisks; i++) {
        if (lseek(s->pkg.fds[i], 0, SEEK_SET) < 0)
            return snap_error_set_errno(err, errno, "cannot rewind '%s'",
                                        s->pkg.paths[i]);
    }
    s->abandoned = false;
    s->failed = false;
    s->finished = false;
    s->out_len = s->out_off = 0;
    s->produced = 0;
    s->member = 0;
    s->header_done = false;
    s->left = 0;
    s->pkg.step = "write";
    s->pkg.done = 0;
    s->a = glance_tar_writer_new(err);
    if (!s->a)
        return false;
    if (archive_write_open2(s->a, s, NULL, stream_output, NULL, NULL) !=
        ARCHIVE_OK)
        return stream_fail(s, err);
    return true;
}

glance_ova_stream *
glance_ova_stream_new(const glance_ovf *ovf, const char *const *disk_paths,
                      size_t ndisks, const glance_progress *progress,
                      snap_error *err)
{
    glance_ova_stream *s = NULL, *ret = NULL;
    size_t i;

    s = calloc(1, sizeof(*s));
    if (!s) {
        snap_error_set(err, SNAP_E_NOMEM, "out of memory");
        return NULL;
    }
    if (!package_prepare(&s->pkg, ovf, disk_paths, ndisks, progress, err))
        goto cleanup;
    s->chunk = malloc(GLANCE_CHUNK_SIZE);
    if (!s->chunk) {
        snap_error_set(err, SNAP_E_NOMEM, "out of memory");
        goto cleanup;
    }
    /* The hashing pass: the manifest needs every digest before the first
     * disk byte goes out. */
    s->pkg.step = "hash";
    for (i = 0; i < s->pkg.ndisks; i++) {
        if (!stream_disk(&s->pkg, i, s->chunk, NULL, NULL, err))
            goto cleanup;
    }
    s->manifest = package_manifest(&s->pkg, false, &s->mf_len, err);
    if (!s->manifest || !stream_compute_size(s, err) || !stream_start(s, err))
        goto cleanup;
    ret = s;
    s = NULL;

cleanup:
    glance_ova_stream_free(s);
    return ret;
}

uint64_t
glance_ova_stream_size(const glance_ova_stream *s)
{
    return s->size;
}

/* Writes @len bytes of member data through libarchive into s->out. */
static bool
stream_data(glance_ova_stream *s, const char *buf, size_t len, snap_error *err)
{
    la_ssize_t n;

    while (len > 0) {
        n = archive_write_data(s->a, buf, len);
        if (n <= 0)
            return stream_fail(s, err);
        buf += n;
        len -= (size_t)n;
    }
    return true;
}

/* Produces the next piece of the package into s->out: a header, the
 * descriptor, the manifest, one chunk of a disk, or the end of the tar. */
static bool
stream_step(glance_ova_stream *s, snap_error *err)
{
    const glance_ovf *ovf = s->pkg.ovf;
    struct archive_entry *e;
    char hex[GLANCE_HASH_HEX_SIZE];
    const char *name;
    size_t i, want;
    uint64_t size;
    ssize_t n;
    int rc;

    if (s->member == s->pkg.ndisks + 2) {
        if (archive_write_close(s->a) != ARCHIVE_OK)
            return stream_fail(s, err);
        s->finished = true;
        return true;
    }
    i = s->member - 2; /* meaningful for disks only */
    if (!s->header_done) {
        if (s->member == 0) {
            name = s->pkg.ovf_name;
            size = s->pkg.xml_len;
        } else if (s->member == 1) {
            name = s->pkg.mf_name;
            size = s->mf_len;
        } else {
            name = glance_ovf_disk_file(ovf, i);
            size = glance_ovf_disk_file_size(ovf, i);
            s->h = glance_hash_new(GLANCE_HASH_SHA256, err);
            if (!s->h || !report(&s->pkg, i, 0, err))
                return false;
        }
        e = glance_tar_entry_new(name, (int64_t)size, glance_ovf_mtime(ovf),
                                 err);
        if (!e)
            return false;
        rc = archive_write_header(s->a, e);
        archive_entry_free(e);
        if (rc != ARCHIVE_OK)
            return stream_fail(s, err);
        s->header_done = true;
        s->left = size;
        return true;
    }
    if (s->member == 0) {
        if (!stream_data(s, s->pkg.xml, s->pkg.xml_len, err))
            return false;
    } else if (s->member == 1) {
        if (!stream_data(s, s->manifest, s->mf_len, err))
            return false;
    } else if (s->left > 0) {
        want =
            s->left < GLANCE_CHUNK_SIZE ? (size_t)s->left : GLANCE_CHUNK_SIZE;
        do {
            n = read(s->pkg.fds[i], s->chunk, want);
        } while (n < 0 && errno == EINTR);
        if (n < 0)
            return snap_error_set_errno(
                err, errno, "cannot read disk file '%s'", s->pkg.paths[i]);
        if (n == 0)
            return snap_error_set(err, SNAP_E_STATE,
                                  "disk file '%s' shrank while it was "
                                  "packaged",
                                  s->pkg.paths[i]);
        if (!glance_hash_update(s->h, s->chunk, (size_t)n, err) ||
            !stream_data(s, s->chunk, (size_t)n, err))
            return false;
        s->left -= (uint64_t)n;
        s->pkg.done += (uint64_t)n;
        return report(&s->pkg, i, glance_ovf_disk_file_size(ovf, i) - s->left,
                      err);
    } else {
        do {
            n = read(s->pkg.fds[i], s->chunk, 1);
        } while (n < 0 && errno == EINTR);
        if (n != 0)
            return snap_error_set(err, SNAP_E_STATE,
                                  "disk file '%s' grew while it was packaged",
                                  s->pkg.paths[i]);
        if (!glance_hash_final_hex(s->h, hex, sizeof(hex), err))
            return false;
        glance_hash_free(s->h);
        s->h = NULL;
        /* The manifest already went out with the first pass's digest. */
        if (strcmp(hex, s->pkg.digests[i + 1]) != 0)
            return snap_error_set(err, SNAP_E_STATE,
                                  "disk file '%s' changed while it was "
                                  "packaged",
                                  s->pkg.paths[i]);
    }
    s->member++;
    s->header_done = false;
    return true;
}

ssize_t
glance_ova_stream_read(glance_ova_stream *s, char *buf, size_t size,
                       snap_error *err)
{
    size_t n;

    if (s->failed) {
        snap_error_set(err, SNAP_E_STATE, "the OVA stream failed before");
        return -1;
    }
    while (s->out_off == s->out_len && !s->finished) {
        s->out_off = s->out_len = 0;
        if (!stream_step(s, err)) {
            s->failed = true;
            return -1;
        }
    }
    n = s->out_len - s->out_off;
    if (n > size)
        n = size;
    if (n == 0 && s->produced != s->size) {
        s->failed = true;
        snap_error_set(
            err, SNAP_E_STATE, "the OVA has %llu bytes, %llu were announced",
            (unsigned long long)s->produced, (unsigned long long)s->size);
        return -1;
    }
    if (s->produced + n > s->size) {
        s->failed = true;
        snap_error_set(err, SNAP_E_STATE,
                       "the OVA is longer than the %llu bytes announced",
                       (unsigned long long)s->size);
        return -1;
    }
    memcpy(buf, s->out + s->out_off, n);
    s->out_off += n;
    s->produced += n;
    return (ssize_t)n;
}

bool
glance_ova_stream_rewind(glance_ova_stream *s, snap_error *err)
{
    if (!stream_start(s, err)) {
        s->failed = true;
        return false;
    }
    return true;
}

void
glance_ova_stream_free(glance_ova_stream *s)
{
    if (!s)
        return;
    if (s->a) {
        s->abandoned = true; /* no padding nor trailer on free */
        (void)archive_write_free(s->a);
    }
    glance_hash_free(s->h);
    free(s->manifest);
    free(s->out);
    free(s->chunk);
    package_release(&s->pkg);
    free(s);
}
