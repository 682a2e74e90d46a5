/* coordinator/ops/images.c -- see images.h. */
#define _GNU_SOURCE /* mkostemp() beside POSIX */
#include "coordinator/ops/images.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/snap_fault.h"
#include "common/snap_log.h"
#include "common/snap_time.h"
#include "virt/qimg.h"

coord_set *
ops_set_load_usable(ops_ctx *ctx, const char *set_id, snap_error *err)
{
    coord_set *set;
    struct stat st;
    size_t i;
    bool cinder = false;

    if (!ops_catalog(ctx, err))
        return NULL;
    set = coord_catalog_load(ctx->catalog, set_id, err);
    if (!set)
        return NULL;
    if (set->state != COORD_SET_AVAILABLE) {
        snap_error_set(err, SNAP_E_STATE, "set %s is '%s', not available",
                       set->uuid, coord_set_state_name(set->state));
        goto fail;
    }
    for (i = 0; i < set->nmembers; i++) {
        const coord_member *m = &set->members[i];

        if (m->state != COORD_MEMBER_AVAILABLE || !m->location) {
            snap_error_set(err, SNAP_E_STATE,
                           "member '%s' of set %s is '%s', not available",
                           m->target, set->uuid,
                           coord_member_state_name(m->state));
            goto fail;
        }
        if (m->kind == COORD_MEMBER_CINDER) {
            cinder = true;
            if (!m->volume_id) {
                snap_error_set(err, SNAP_E_INVALID,
                               "Cinder member '%s' of set %s has no volume id",
                               m->target, set->uuid);
                goto fail;
            }
        } else if (stat(m->location, &st) < 0) {
            snap_error_set_errno(err, errno,
                                 "copy of disk '%s' of set %s is missing "
                                 "('%s')",
                                 m->target, set->uuid, m->location);
            goto fail;
        }
    }
    if (cinder && !ops_openstack(ctx, err))
        goto fail;
    return set;

fail:
    coord_set_free(set);
    return NULL;
}

coord_set *
ops_set_load_locked(ops_ctx *ctx, const char *set_id, int *lock,
                    snap_error *err)
{
    coord_set *set = ops_set_load_usable(ctx, set_id, err);

    *lock = -1;
    if (!set)
        return NULL;
    *lock = ops_lock(ctx, set->domain_uuid, err);
    coord_set_free(set);
    if (*lock < 0)
        return NULL;
    set = ops_set_load_usable(ctx, set_id, err);
    if (!set) {
        coord_catalog_unlock(*lock);
        *lock = -1;
    }
    return set;
}

bool
ops_fault(const char *point, snap_error *err)
{
#ifdef SNAP_FAULTS
    const char *spec = getenv("SNAPSET_FAULT");
    size_t len = strlen(point);

    snap_fault(point);
    if (spec && strncmp(spec, point, len) == 0 &&
        strcmp(spec + len, ":fail") == 0) {
        return snap_error_set(err, SNAP_E_SYSTEM, "fault injected at '%s'",
                              point);
    }
#else
    (void)point;
    (void)err;
#endif
    return true;
}

const coord_member *
ops_set_member(const coord_set *set, const char *disk)
{
    size_t i;

    for (i = 0; i < set->nmembers; i++) {
        if (strcmp(set->members[i].target, disk) == 0)
            return &set->members[i];
    }
    for (i = 0; i < set->nmembers; i++) {
        if (set->members[i].serial && strcmp(set->members[i].serial, disk) == 0)
            return &set->members[i];
    }
    return NULL;
}

/* ---- image files in directories others may write ---------------------- */

bool
ops_image_file_make(ops_image_file *f, const char *path, bool unique, int mode,
                    snap_error *err)
{
    struct stat st;
    char *p;
    int fd;

    memset(f, 0, sizeof(*f));
    p = strdup(path);
    if (!p)
        return snap_error_set(err, SNAP_E_NOMEM, "out of memory");
    /* O_EXCL: whatever is at the name already (a symlink, a hard link to
     * someone's file) makes this fail instead of being opened. */
    if (unique)
        fd = mkostemp(p, O_CLOEXEC);
    else
        fd = open(p, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
    if (fd < 0) {
        int saved = errno;

        free(p);
        if (saved == EEXIST)
            return snap_error_set(err, SNAP_E_STATE, "'%s' exists already",
                                  path);
        return snap_error_set_errno(err, saved, "cannot create '%s'", path);
    }
    if (fstat(fd, &st) < 0) {
        int saved = errno;

        (void)unlink(p); /* just made, exclusively: ours */
        close(fd);
        free(p);
        return snap_error_set_errno(err, saved, "cannot read '%s'", path);
    }
    f->path = p;
    f->fd = fd;
    f->id.dev = (unsigned long long)st.st_dev;
    f->id.ino = (unsigned long long)st.st_ino;
    return true;
}

/* qemu-img writes the file we hold open, never a name that can be swapped:
 * /proc/<our pid>/fd/<fd> reopens that very file (root may open another
 * root process's descriptors; the child needs no inherited descriptor). */
static void
image_fd_path(const ops_image_file *f, char *buf, size_t size)
{
    snprintf(buf, size, "/proc/%ld/fd/%d", (long)getpid(), f->fd);
}

static bool
image_sync(ops_image_file *f, snap_error *err)
{
    if (fsync(f->fd) < 0)
        return snap_error_set_errno(err, errno, "cannot sync '%s'", f->path);
    return true;
}

bool
ops_image_file_convert(ops_image_file *f, const char *src, const char *src_fmt,
                       const char *dst_fmt, int64_t timeout_ms, snap_error *err)
{
    const char *argv[12];
    char what[PATH_MAX + 64], dst[64];
    size_t n = 0;

    /* The destination only: the message must keep room for qemu-img's
     * own line (the source is the set's copy, named by the caller). */
    snprintf(what, sizeof(what), "cannot write '%s'", f->path);
    image_fd_path(f, dst, sizeof(dst));
    snap_debug("writing %s through %s", f->path, dst);
    argv[n++] = "qemu-img";
    argv[n++] = "convert";
    argv[n++] = "-q";
    argv[n++] = "-f";
    argv[n++] = src_fmt;
    argv[n++] = "-O";
    argv[n++] = dst_fmt;
    argv[n++] = src;
    argv[n++] = dst;
    argv[n] = NULL;
    return virt_qimg_run(argv, timeout_ms, what, err) && image_sync(f, err);
}

bool
ops_image_file_overlay(ops_image_file *f, const char *backing,
                       const char *backing_fmt, snap_error *err)
{
    const char *argv[12];
    char what[PATH_MAX + 64], dst[64];

    snprintf(what, sizeof(what), "cannot create overlay '%s'", f->path);
    image_fd_path(f, dst, sizeof(dst));
    argv[0] = "qemu-img";
    argv[1] = "create";
    argv[2] = "-q";
    argv[3] = "-f";
    argv[4] = "qcow2";
    argv[5] = "-b";
    argv[6] = backing;
    argv[7] = "-F";
    argv[8] = backing_fmt;
    argv[9] = dst;
    argv[10] = NULL;
    return virt_qimg_run(argv, 60000, what, err) && image_sync(f, err);
}

bool
ops_image_file_named(const ops_image_file *f)
{
    struct stat st;

    return f->path && lstat(f->path, &st) == 0 && S_ISREG(st.st_mode) &&
           (unsigned long long)st.st_dev == f->id.dev &&
           (unsigned long long)st.st_ino == f->id.ino;
}

void
ops_image_file_unlink(ops_image_file *f)
{
    /* The check and the unlink are two steps, but unlink() removes a name
     * only (never follows it): at worst a name in a directory that the
     * other party could write anyway. */
    if (ops_image_file_named(f))
        (void)unlink(f->path);
}

void
ops_image_file_release(ops_image_file *f)
{
    if (f->path && f->fd >= 0)
        close(f->fd);
    free(f->path);
    memset(f, 0, sizeof(*f));
}

bool
ops_snapshot_usable(ops_ctx *ctx, const coord_member *m, snap_error *err)
{
    cinder_snapshot *s = cinder_snapshot_show(ctx->os.cinder, m->location, err);
    bool ok;

    if (!s)
        return false;
    ok = strcmp(s->status, "available") == 0;
    if (!ok)
        snap_error_set(err, SNAP_E_STATE, "snapshot '%s' of disk '%s' is '%s'",
                       m->location, m->target, s->status);
    cinder_snapshot_free(s);
    return ok;
}

bool
ops_volume_remove(ops_ctx *ctx, const char *id, snap_error *err)
{
    snap_error e = {0};

    if (!cinder_volume_delete(ctx->os.cinder, id, false, &e)) {
        if (e.code == SNAP_E_NOTFOUND)
            return true;
        return snap_error_set(err, e.code, "%s", e.msg);
    }
    return cinder_volume_wait(ctx->os.cinder, id, NULL,
                              snap_now_ms() + ctx->os.delete_timeout_ms, err);
}

/* A new volume from snapshot @snapshot_id or as a clone of volume
 * @source_volid: ops_volume_from_snapshot(), ops_volume_from_volume(). */
static bool
volume_make(ops_ctx *ctx, const char *snapshot_id, const char *source_volid,
            const char *name, const char *set_uuid, int64_t timeout_ms,
            char **volume_id, snap_error *err)
{
    cinder_kv md[1] = {{COORD_MD_FROM_SET, set_uuid}};
    cinder_volume_req req;
    cinder_volume *vol;
    char *id;

    *volume_id = NULL;
    memset(&req, 0, sizeof(req));
    req.snapshot_id = snapshot_id;
    req.source_volid = source_volid;
    req.name = name;
    req.description = "made by snapset from a snapshot set";
    req.metadata = md;
    req.nmetadata = 1;
    vol = cinder_volume_create(ctx->os.cinder, &req, err);
    if (!vol)
        return false;
    id = strdup(vol->id);
    cinder_volume_free(vol);
    if (!id)
        return snap_error_set(err, SNAP_E_NOMEM, "out of memory");
    if (!cinder_volume_wait(ctx->os.cinder, id, "available",
                            snap_now_ms() + timeout_ms, err)) {
        /* Best effort; the first error says why it failed. */
        (void)ops_volume_remove(ctx, id, NULL);
        free(id);
        return false;
    }
    *volume_id = id;
    return true;
}

bool
ops_volume_from_snapshot(ops_ctx *ctx, const char *snapshot_id,
                         const char *name, const char *set_uuid,
                         int64_t timeout_ms, char **volume_id, snap_error *err)
{
    return volume_make(ctx, snapshot_id, NULL, name, set_uuid, timeout_ms,
                       volume_id, err);
}

bool
ops_volume_from_volume(ops_ctx *ctx, const char *source_volid, const char *name,
                       const char *set_uuid, int64_t timeout_ms,
                       char **volume_id, snap_error *err)
{
    return volume_make(ctx, NULL, source_volid, name, set_uuid, timeout_ms,
                       volume_id, err);
}
