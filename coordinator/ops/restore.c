/* coordinator/ops/restore.c -- see restore.h. */
#define _GNU_SOURCE /* mkostemp() beside POSIX */
#include "coordinator/ops/restore.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/snap_fault.h"
#include "common/snap_fs.h"
#include "common/snap_log.h"
#include "common/snap_text.h"
#include "common/snap_time.h"
#include "virt/domedit.h"
#include "cinder/attach.h"
#include "virt/qimg.h"
#include "coordinator/ops/actions.h"
#include "coordinator/ops/domain.h"
#include "coordinator/ops/images.h"
#include "coordinator/coord_chain.h"
#include "coordinator/coord_domxml.h"

static char *str_printf(snap_error *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static char *
str_printf(snap_error *err, const char *fmt, ...)
{
    va_list ap;
    char *s = NULL;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n >= 0)
        s = malloc((size_t)n + 1);
    if (!s) {
        snap_error_set(err, SNAP_E_NOMEM, "out of memory");
        return NULL;
    }
    va_start(ap, fmt);
    vsnprintf(s, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return s;
}

/* ---- restore ------------------------------------------------------------- */

typedef enum rkind {
    RKIND_FILE = 0, /* a local image file: new file, swapped by rename */
    RKIND_BLOCK,    /* a local block device: saved, then written over */
    RKIND_REVERT,   /* a Cinder volume reverted to its snapshot */
    RKIND_SWAP,     /* a new Cinder volume from the snapshot swapped in */
} rkind;

typedef struct rmember {
    const coord_member *m; /* the set's member (borrowed) */
    rkind kind;
    char *source;        /* the disk's file or device now */
    char *format;        /* its format now */
    ops_image_file tmp;  /* FILE: the new image before the swap */
    char *old;           /* FILE: the old image, kept until the end */
    snap_file_id old_id; /* FILE: what @old names once made */
    char *saved;         /* BLOCK: the device's content before */
    bool swapped;        /* FILE renamed in / BLOCK written */
    bool linked;         /* FILE: @old is a hard link */
    char *cur_volume;    /* Cinder: the volume the disk uses now */
    char *new_volume;    /* SWAP: the volume made from the snapshot */
    bool detached;       /* cur_volume was detached in Cinder */
    bool reverted;       /* REVERT: done (cannot be undone) */
    bool attached;       /* the volume now in place is attached */
} rmember;

/* The steps of a restore, in order; the names are in the error message. */
typedef enum rstep {
    RSTEP_PREPARE = 0,
    RSTEP_STOP,
    RSTEP_LOCAL,
    RSTEP_DETACH,
    RSTEP_ATTACH,
    RSTEP_DEFINE,
    RSTEP_REVERT,
    RSTEP_MANAGED_SAVE,
    RSTEP_START, /* from here every disk is at the set's point */
    RSTEP_RAM,
} rstep;

static const char *const rstep_names[] = {
    [RSTEP_PREPARE] = "prepare the disks",
    [RSTEP_STOP] = "stop the domain",
    [RSTEP_LOCAL] = "put the local disks back",
    [RSTEP_DETACH] = "detach the Cinder volumes",
    [RSTEP_ATTACH] = "attach the new Cinder volumes",
    [RSTEP_DEFINE] = "define the domain with its new volumes",
    [RSTEP_REVERT] = "revert the Cinder volumes",
    [RSTEP_MANAGED_SAVE] = "discard the managed save image",
    [RSTEP_START] = "start the domain",
    [RSTEP_RAM] = "load the RAM state",
};

typedef struct rjob {
    ops_ctx *ctx;
    const ops_domain_ops *d; /* the domain, by j->set->domain_uuid */
    coord_set *set;
    char *old_xml;      /* the definition before (inactive, secure) */
    virt_domedit *edit; /* the definition being made */
    bool redefined;     /* the domain's definition was replaced */
    bool was_active;
    bool stopped;      /* we stopped it */
    bool start;        /* start it at the end */
    bool memory;       /* ... from the set's RAM state */
    rstep step;        /* the step running, or the one that failed */
    bool irreversible; /* a Cinder volume was reverted */
    rmember *rm;
    size_t n;
    char *restore_dir; /* CATALOG/restore: saved block devices */
    ops_restore_result *res;
} rjob;

void
ops_restore_result_release(ops_restore_result *r)
{
    size_t i;

    if (!r)
        return;
    for (i = 0; i < r->nlines; i++)
        free(r->lines[i]);
    free(r->lines);
    free(r->domain);
    memset(r, 0, sizeof(*r));
}

static void result_line(ops_restore_result *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
result_line(ops_restore_result *r, const char *fmt, ...)
{
    char buf[512], **v;
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    v = realloc(r->lines, (r->nlines + 1) * sizeof(*v));
    if (!v)
        return; /* only output is lost */
    r->lines = v;
    r->lines[r->nlines] = strdup(buf);
    if (r->lines[r->nlines])
        r->nlines++;
}

static void
rjob_release(rjob *j)
{
    size_t i;

    for (i = 0; i < j->n; i++) {
        rmember *r = &j->rm[i];

        free(r->source);
        free(r->format);
        ops_image_file_release(&r->tmp);
        free(r->old);
        free(r->saved);
        free(r->cur_volume);
        free(r->new_volume);
    }
    free(j->rm);
    free(j->old_xml);
    free(j->restore_dir);
    virt_domedit_free(j->edit);
    coord_set_free(j->set);
}

/* "DIR/.BASE.snapset-SUFFIX": hidden, next to @path (same file system, so
 * a rename swaps it in atomically). */
static char *
sibling(const char *path, const char *suffix, snap_error *err)
{
    const char *base = strrchr(path, '/');
    char *dir = snap_path_dir(path, err), *s;

    if (!dir)
        return NULL;
    base = base ? base + 1 : path;
    s = str_printf(err, "%s/.%s.snapset-%s", dir, base, suffix);
    free(dir);
    return s;
}

/* True when @snapshot_id is the newest snapshot of @volume_id that Cinder
 * knows: revert-to-snapshot accepts only that one. */
static bool
snapshot_is_latest(ops_ctx *ctx, const char *volume_id, const char *snapshot_id,
                   bool *latest, snap_error *err)
{
    cinder_snapshot **snaps = NULL, *mine = NULL;
    size_t n = 0, i;

    *latest = false;
    if (!cinder_snapshot_list(ctx->os.cinder, NULL, 0, &snaps, &n, err))
        return false;
    for (i = 0; i < n; i++) {
        if (strcmp(snaps[i]->id, snapshot_id) == 0)
            mine = snaps[i];
    }
    if (mine && mine->created_at && strcmp(mine->status, "available") == 0) {
        *latest = true;
        for (i = 0; i < n; i++) {
            /* The same ISO 8601 form for all: text order is time order. */
            if (snaps[i] != mine && snaps[i]->volume_id &&
                strcmp(snaps[i]->volume_id, volume_id) == 0 &&
                snaps[i]->created_at &&
                strcmp(snaps[i]->created_at, mine->created_at) > 0)
                *latest = false;
        }
    }
    cinder_snapshots_free(snaps, n);
    return true;
}

/* The volume in disk @target now must be attached to this domain (or to
 * nothing): restore detaches it, and never someone else's attachment. */
static bool
volume_detachable(rjob *j, const char *volume_id, const char *target,
                  snap_error *err)
{
    cinder_volume *vol = cinder_volume_show(j->ctx->os.cinder, volume_id, err);
    size_t i;
    bool ours = false, ok;

    if (!vol)
        return false;
    for (i = 0; i < vol->nattachments; i++) {
        if (vol->attachments[i].server_id &&
            strcmp(vol->attachments[i].server_id, j->set->domain_uuid) == 0)
            ours = true;
    }
    ok = ours || strcmp(vol->status, "available") == 0;
    if (!ok)
        snap_error_set(err, SNAP_E_STATE,
                       "volume %s of disk '%s' is '%s' and not attached to "
                       "domain '%s' in Cinder",
                       volume_id, target, vol->status, j->set->domain_name);
    cinder_volume_free(vol);
    return ok;
}

/* Decides, before anything is touched, how each member goes back. */
static bool
plan(rjob *j, snap_error *err)
{
    coord_set *cur = NULL;
    coord_domain_info info = {0};
    snap_error e = {0};
    size_t i, k;
    bool ok = false;

    j->old_xml = j->d->xml(j->ctx, j->set->domain_uuid,
                           OPS_DOMAIN_XML_INACTIVE | OPS_DOMAIN_XML_SECURE, &e);
    if (!j->old_xml)
        return snap_error_set(err, e.code, "cannot read the domain XML: %s",
                              e.msg);
    cur = coord_set_new(err);
    if (!cur || !coord_domxml_parse(j->old_xml, &info, cur, err))
        goto cleanup;
    j->edit = virt_domedit_new(j->old_xml, err);
    j->rm = calloc(j->set->nmembers + 1, sizeof(*j->rm));
    if (!j->edit || !j->rm) {
        snap_error_set(err, SNAP_E_NOMEM, "out of memory");
        goto cleanup;
    }
    for (i = 0; i < j->set->nmembers; i++) {
        const coord_member *m = &j->set->members[i];
        const coord_member *c = NULL;
        rmember *r = &j->rm[j->n++];

        r->m = m;
        for (k = 0; k < cur->nmembers; k++) {
            if (strcmp(cur->members[k].target, m->target) == 0)
                c = &cur->members[k];
        }
        if (!c) {
            snap_error_set(err, SNAP_E_STATE,
                           "domain '%s' has no disk '%s' any more: restore "
                           "puts disks back, it does not add them",
                           j->set->domain_name, m->target);
            goto cleanup;
        }
        if (m->kind == COORD_MEMBER_LOCAL) {
            if (strcmp(c->source_type, "file") == 0) {
                r->kind = RKIND_FILE;
            } else if (strcmp(c->source_type, "block") == 0) {
                r->kind = RKIND_BLOCK;
            } else {
                snap_error_set(err, SNAP_E_STATE,
                               "disk '%s' is a %s disk that Cinder does not "
                               "manage: snapset can restore files, block "
                               "devices and Cinder volumes",
                               m->target, c->source_type);
                goto cleanup;
            }
            r->source = strdup(c->source);
            r->format = strdup(c->format ? c->format : "raw");
            if (!r->source || !r->format) {
                snap_error_set(err, SNAP_E_NOMEM, "out of memory");
                goto cleanup;
            }
            if (r->kind == RKIND_FILE) {
                r->old = sibling(r->source, "restore.old", err);
                if (!r->old)
                    goto cleanup;
                if (snap_path_exists(r->old)) {
                    snap_error_set(err, SNAP_E_STATE,
                                   "'%s' exists: an earlier restore of disk "
                                   "'%s' did not finish; it holds the image "
                                   "from before that restore (move it back "
                                   "or remove it)",
                                   r->old, m->target);
                    goto cleanup;
                }
            }
            continue;
        }
        /* A Cinder member: the disk must still be a Cinder volume. */
        if (strcmp(c->source_type, "network") != 0 || !c->serial ||
            strlen(c->serial) != 36) {
            snap_error_set(err, SNAP_E_STATE,
                           "disk '%s' of domain '%s' is no longer a Cinder "
                           "volume",
                           m->target, j->set->domain_name);
            goto cleanup;
        }
        r->cur_volume = strdup(c->serial);
        if (!r->cur_volume) {
            snap_error_set(err, SNAP_E_NOMEM, "out of memory");
            goto cleanup;
        }
        r->kind = RKIND_SWAP;
        if (strcmp(r->cur_volume, m->volume_id) == 0 &&
            cinder_client_microversion(j->ctx->os.cinder) >= CINDER_MV(3, 40)) {
            bool latest;

            if (!snapshot_is_latest(j->ctx, m->volume_id, m->location, &latest,
                                    err))
                goto cleanup;
            if (latest)
                r->kind = RKIND_REVERT;
        }
        if (!ops_snapshot_usable(j->ctx, m, err) ||
            !volume_detachable(j, r->cur_volume, m->target, err))
            goto cleanup;
    }
    ok = true;

cleanup:
    coord_domain_info_release(&info);
    coord_set_free(cur);
    return ok;
}

/* FILE: the new image, beside the disk's file. The image directory may be
 * writable by others (nova, libvirt-qemu), so nothing is done by a name
 * they could have prepared: a new unpredictable name made exclusively,
 * qemu-img writing the open file, owner and mode set on the descriptor.
 * A run killed before the swap leaves its hidden file behind: snapset does
 * not remove files by pattern in a directory others can write. */
static bool
prepare_file(ops_ctx *ctx, rmember *r, snap_error *err)
{
    struct stat st;
    char *tmpl;
    bool ok;

    tmpl = sibling(r->source, "restore-XXXXXX", err);
    if (!tmpl)
        return false;
    ok = ops_image_file_make(&r->tmp, tmpl, true, 0600, err);
    free(tmpl);
    if (!ok)
        return false;
    if (!ops_image_file_convert(&r->tmp, r->m->location,
                                r->m->copy_format ? r->m->copy_format : "qcow2",
                                r->format, ctx->conf.copy_timeout_ms, err))
        return false;
    /* The new image gets the old one's owner and mode. */
    if (stat(r->source, &st) == 0) {
        if (fchown(r->tmp.fd, st.st_uid, st.st_gid) < 0)
            snap_warn("cannot give '%s' the owner of '%s': %s", r->tmp.path,
                      r->source, strerror(errno));
        (void)fchmod(r->tmp.fd, st.st_mode & 07777); /* as above */
    }
    return true;
}

/* Makes what can be made while the domain still runs: the local images
 * and the Cinder volumes that will be swapped in. */
static bool
prepare(rjob *j, snap_error *err)
{
    ops_ctx *ctx = j->ctx;
    size_t i;

    for (i = 0; i < j->n; i++) {
        rmember *r = &j->rm[i];
        char name[256];

        if (r->kind == RKIND_FILE) {
            if (!prepare_file(ctx, r, err))
                return false;
        } else if (r->kind == RKIND_SWAP) {
            snprintf(name, sizeof(name), "%.64s-%s-restore-%.8s",
                     j->set->domain_name, r->m->target, j->set->uuid);
            if (!ops_volume_from_snapshot(
                    ctx, r->m->location, name, j->set->uuid,
                    ctx->conf.copy_timeout_ms, &r->new_volume, err))
                return false;
        }
    }
    return true;
}

/* Stops the domain: the agent's guest-shutdown (ACPI when no agent
 * answers), forced off after @timeout_ms. */
static bool
stop_domain(rjob *j, int64_t timeout_ms, snap_error *err)
{
    const char *uuid = j->set->domain_uuid;
    ops_domain_state state;
    snap_error e = {0};
    bool agent = false;

    if (!j->d->state(j->ctx, uuid, &state, &e))
        return snap_error_set(err, e.code, "cannot read the domain's state: %s",
                              e.msg);
    if (state == OPS_DOMAIN_STATE_OFF)
        return true;
    j->stopped = true;
    if (state == OPS_DOMAIN_STATE_PAUSED) {
        /* A paused guest cannot answer its agent; its state is discarded
         * by the restore anyway. */
        snap_info("domain '%s' is paused: forcing it off", j->set->domain_name);
    } else {
        agent =
            j->d->agent_ping(j->ctx, uuid, j->ctx->conf.agent_timeout_ms, &e);
        snap_error_clear(&e); /* no agent: the ACPI button instead */
        if (agent && !j->d->shutdown(j->ctx, uuid, true, &e)) {
            snap_warn("agent shutdown of '%s' refused: %s", j->set->domain_name,
                      e.msg);
            agent = false;
        }
        snap_error_clear(&e);
        if (!agent && !j->d->shutdown(j->ctx, uuid, false, &e))
            snap_warn("ACPI shutdown of '%s' refused: %s", j->set->domain_name,
                      e.msg);
        snap_error_clear(&e);
        if (j->d->wait_off(j->ctx, uuid, timeout_ms))
            return true;
        snap_warn("domain '%s' did not power off within %lld ms: forcing it "
                  "off",
                  j->set->domain_name, (long long)timeout_ms);
    }
    j->res->forced_off = true;
    if (!j->d->destroy(j->ctx, uuid, &e))
        return snap_error_set(err, e.code, "cannot stop the domain: %s", e.msg);
    return true;
}

/* FILE: the new image takes the old one's name; the old one stays as a
 * hidden sibling until the restore succeeded. */
static bool
swap_file(rmember *r, snap_error *err)
{
    /* What is renamed in must be the image we wrote, not a symlink or a
     * file put under its name since. */
    if (!ops_image_file_named(&r->tmp))
        return snap_error_set(err, SNAP_E_STATE,
                              "'%s' is no longer the image restore wrote "
                              "(replaced or removed by someone else)",
                              r->tmp.path);
    if (link(r->source, r->old) == 0) {
        r->linked = true;
        (void)snap_file_id_get(r->old, &r->old_id, NULL); /* just made */
        if (rename(r->tmp.path, r->source) < 0) {
            int saved = errno;

            (void)unlink(r->old); /* the source is untouched */
            r->linked = false;
            return snap_error_set_errno(err, saved, "cannot move '%s' to '%s'",
                                        r->tmp.path, r->source);
        }
    } else if (errno == EEXIST) {
        /* Put there since the check: not ours, and not to be replaced. */
        return snap_error_set(err, SNAP_E_STATE,
                              "'%s' appeared during the restore: not "
                              "replacing it",
                              r->old);
    } else {
        /* No hard links here: two renames, with a short moment where the
         * name is free (the domain is stopped and we hold its lock). */
        if (rename(r->source, r->old) < 0)
            return snap_error_set_errno(err, errno, "cannot move '%s' aside",
                                        r->source);
        (void)snap_file_id_get(r->old, &r->old_id, NULL);
        if (rename(r->tmp.path, r->source) < 0) {
            int saved = errno;

            (void)rename(r->old, r->source); /* back as it was */
            return snap_error_set_errno(err, saved, "cannot move '%s' to '%s'",
                                        r->tmp.path, r->source);
        }
    }
    r->swapped = true;
    return snap_path_sync_dir(r->source, err);
}

/* BLOCK: the device's content is saved first, so that it can be put back. */
static bool
write_block(rjob *j, rmember *r, snap_error *err)
{
    int64_t t = j->ctx->conf.copy_timeout_ms;

    if (!j->restore_dir) {
        j->restore_dir =
            snap_path_join(coord_catalog_dir(j->ctx->catalog), "restore", err);
        if (!j->restore_dir || !snap_dir_make(j->restore_dir, 0700, err))
            return false;
    }
    r->saved = str_printf(err, "%s/%s.%s.before.qcow2", j->restore_dir,
                          j->set->domain_uuid, r->m->target);
    if (!r->saved)
        return false;
    if (snap_path_exists(r->saved) && unlink(r->saved) < 0)
        return snap_error_set_errno(err, errno, "cannot remove '%s'", r->saved);
    if (!virt_qimg_convert(r->source, "raw", r->saved, "qcow2", false, t, err))
        return false;
    r->swapped = true; /* from here the device may be partly written */
    return virt_qimg_convert(r->m->location,
                             r->m->copy_format ? r->m->copy_format : "qcow2",
                             r->source, "raw", true, t, err);
}

/* Cinder: the volume in the disk now is detached in Cinder (the domain is
 * stopped, so nothing uses it). */
static bool
detach_current(rjob *j, rmember *r, snap_error *err)
{
    if (!cinder_volume_detach(j->ctx->os.cinder, r->cur_volume,
                              j->set->domain_uuid, j->ctx->conf.copy_timeout_ms,
                              err))
        return false;
    r->detached = true;
    return true;
}

/* SWAP: @r->new_volume becomes the disk. */
static bool
swap_volume(rjob *j, rmember *r, snap_error *err)
{
    cinder_connection conn;
    virt_rbd_source src;
    char mountpoint[64];
    bool ok;

    snprintf(mountpoint, sizeof(mountpoint), "/dev/%s", r->m->target);
    if (!cinder_volume_attach_all(j->ctx->os.cinder, r->new_volume,
                                  j->set->domain_uuid, mountpoint, &conn,
                                  j->ctx->conf.copy_timeout_ms, err))
        return false;
    r->attached = true;
    ops_os_rbd_source(&conn, &src);
    ok = virt_domedit_disk_rbd(j->edit, r->m->target, &src, r->new_volume, err);
    cinder_connection_release(&conn);
    return ok;
}

static bool
redefine(rjob *j, snap_error *err)
{
    char *xml = virt_domedit_xml(j->edit, err);
    snap_error e = {0};
    bool ok;

    if (!xml)
        return false;
    ok = j->d->define(j->ctx, xml, NULL, &e);
    free(xml);
    if (!ok)
        return snap_error_set(err, e.code,
                              "cannot define the domain with its restored "
                              "disks: %s",
                              e.msg);
    j->redefined = true;
    return true;
}

/* REVERT: the one step that cannot be undone. */
static bool
revert_volume(rjob *j, rmember *r, snap_error *err)
{
    ops_ctx *ctx = j->ctx;
    cinder_connection conn;
    char mountpoint[64];

    if (!cinder_volume_revert(ctx->os.cinder, r->cur_volume, r->m->location,
                              err))
        return false;
    r->reverted = true;
    if (!cinder_volume_wait(ctx->os.cinder, r->cur_volume, "available",
                            snap_now_ms() + ctx->conf.copy_timeout_ms, err))
        return false;
    snprintf(mountpoint, sizeof(mountpoint), "/dev/%s", r->m->target);
    if (!cinder_volume_attach_all(ctx->os.cinder, r->cur_volume,
                                  j->set->domain_uuid, mountpoint, &conn,
                                  ctx->conf.copy_timeout_ms, err))
        return false;
    cinder_connection_release(&conn);
    r->attached = true;
    return true;
}

/* FILE: true when @r->old still names the old image (or its identity was
 * not read, then the name is all we have). */
static bool
old_named(const rmember *r)
{
    snap_file_id now;

    if (!r->old_id.dev && !r->old_id.ino)
        return true;
    return snap_file_id_get(r->old, &now, NULL) && now.dev == r->old_id.dev &&
           now.ino == r->old_id.ino;
}

/* FILE: removes @r->old, the old image (or a second name of it), if the
 * name still refers to it. */
static void
remove_old(rmember *r)
{
    snap_error e = {0};

    if (!snap_file_remove_ours(r->old, &r->old_id, &e))
        snap_warn("cannot remove the old image '%s': %s", r->old, e.msg);
}

/* FILE: the old image back under its name, or the new one removed. */
static void
rollback_file(rjob *j, rmember *r)
{
    (void)j;
    if (r->swapped && !old_named(r))
        snap_warn("cannot put '%s' back as '%s': it is no longer the old "
                  "image",
                  r->old, r->source);
    else if (r->swapped && rename(r->old, r->source) < 0)
        snap_warn("cannot put '%s' back as '%s': %s", r->old, r->source,
                  strerror(errno));
    else if (r->swapped)
        r->swapped = false;
    else if (r->linked)
        remove_old(r); /* a second name of the source */
    if (!r->swapped)
        ops_image_file_unlink(&r->tmp); /* never swapped in */
}

/* BLOCK: the saved content written back. */
static void
rollback_block(rjob *j, rmember *r)
{
    snap_error e = {0};

    if (r->swapped &&
        !virt_qimg_convert(r->saved, "qcow2", r->source, "raw", true,
                           j->ctx->conf.copy_timeout_ms, &e))
        snap_warn("cannot put device '%s' back from '%s': %s", r->source,
                  r->saved, e.msg);
    else if (r->saved)
        (void)unlink(r->saved);
}

/* SWAP and REVERT: the new volume goes, the old one is attached again. */
static void
rollback_volume(rjob *j, rmember *r)
{
    ops_ctx *ctx = j->ctx;
    snap_error e = {0};

    if (r->attached && r->new_volume &&
        !cinder_volume_detach(ctx->os.cinder, r->new_volume,
                              j->set->domain_uuid, ctx->conf.copy_timeout_ms,
                              &e))
        snap_warn("cannot detach volume %s: %s", r->new_volume, e.msg);
    if (r->new_volume) {
        snap_error_clear(&e);
        if (!ops_volume_remove(ctx, r->new_volume, &e))
            snap_warn("cannot delete volume %s: %s", r->new_volume, e.msg);
    }
    if (r->reverted) {
        snap_warn("volume %s of disk '%s' was reverted to snapshot %s; that "
                  "cannot be undone",
                  r->cur_volume, r->m->target, r->m->location);
    }
    if (r->detached && !(r->reverted && r->attached)) {
        cinder_connection conn;
        char mp[64];

        snap_error_clear(&e);
        snprintf(mp, sizeof(mp), "/dev/%s", r->m->target);
        if (cinder_volume_attach_all(ctx->os.cinder, r->cur_volume,
                                     j->set->domain_uuid, mp, &conn,
                                     ctx->conf.copy_timeout_ms, &e))
            cinder_connection_release(&conn);
        else
            snap_warn("cannot attach volume %s again: %s", r->cur_volume,
                      e.msg);
    }
}

static void commit_file(rjob *j, rmember *r);
static void commit_block(rjob *j, rmember *r);
static void commit_revert(rjob *j, rmember *r);
static void commit_swap(rjob *j, rmember *r);

/* What each kind of member does to be undone or kept. Each step records
 * what it did in the member (swapped, linked, detached, attached,
 * reverted, new_volume), and these read only that. */
static const struct {
    void (*rollback)(rjob *j, rmember *r);
    void (*commit)(rjob *j, rmember *r);
} rkinds[] = {
    [RKIND_FILE] = {rollback_file, commit_file},
    [RKIND_BLOCK] = {rollback_block, commit_block},
    [RKIND_REVERT] = {rollback_volume, commit_revert},
    [RKIND_SWAP] = {rollback_volume, commit_swap},
};

/* Puts back, newest first, everything that can be put back. Errors are
 * logged: the caller's error (the cause) is what the user sees first. */
static void
rollback(rjob *j)
{
    ops_domain_state state;
    snap_error e = {0};
    size_t i;

    for (i = j->n; i-- > 0;)
        rkinds[j->rm[i].kind].rollback(j, &j->rm[i]);
    if (j->redefined && !j->d->define(j->ctx, j->old_xml, NULL, &e))
        snap_warn("cannot define the domain as it was: %s", e.msg);
    snap_error_clear(&e);
    if (j->stopped && j->was_active &&
        !(j->d->state(j->ctx, j->set->domain_uuid, &state, NULL) &&
          state != OPS_DOMAIN_STATE_OFF) &&
        !j->d->start(j->ctx, j->set->domain_uuid, &e))
        snap_warn("cannot start domain '%s' again: %s", j->set->domain_name,
                  e.msg);
}

/* A volume swapped out by this restore goes too when an earlier restore
 * made it (snapset_from_set) and no snapshot depends on it: it holds only
 * the state the restore discards, like an old local image. The user's own
 * volumes are never deleted. True when it was deleted. */
static bool
drop_restored(rjob *j, const char *volume_id)
{
    ops_ctx *ctx = j->ctx;
    cinder_volume *vol;
    cinder_snapshot **snaps = NULL;
    snap_error e = {0};
    size_t n = 0, i;
    bool ours, used = false;

    vol = cinder_volume_show(ctx->os.cinder, volume_id, &e);
    if (!vol)
        return false;
    ours = cinder_kv_get(vol->metadata, vol->nmetadata, COORD_MD_FROM_SET) &&
           strcmp(vol->status, "available") == 0;
    cinder_volume_free(vol);
    if (!ours || !cinder_snapshot_list(ctx->os.cinder, NULL, 0, &snaps, &n, &e))
        return false;
    for (i = 0; i < n; i++) {
        if (snaps[i]->volume_id && strcmp(snaps[i]->volume_id, volume_id) == 0)
            used = true;
    }
    cinder_snapshots_free(snaps, n);
    if (used)
        return false;
    if (!ops_volume_remove(ctx, volume_id, &e)) {
        snap_warn("cannot delete volume %s: %s", volume_id, e.msg);
        return false;
    }
    return true;
}

static void
commit_file(rjob *j, rmember *r)
{
    remove_old(r);
    result_line(j->res, "%s: %s, copied back from the set", r->m->target,
                r->source);
}

static void
commit_block(rjob *j, rmember *r)
{
    if (unlink(r->saved) < 0)
        snap_warn("cannot remove '%s': %s", r->saved, strerror(errno));
    result_line(j->res, "%s: device %s, written back from the set",
                r->m->target, r->source);
    (void)rmdir(j->restore_dir); /* when it is empty, it goes */
}

static void
commit_revert(rjob *j, rmember *r)
{
    result_line(j->res, "%s: Cinder volume %s reverted to snapshot %s",
                r->m->target, r->cur_volume, r->m->location);
}

static void
commit_swap(rjob *j, rmember *r)
{
    result_line(
        j->res, "%s: new Cinder volume %s from snapshot %s; volume %s %s",
        r->m->target, r->new_volume, r->m->location, r->cur_volume,
        drop_restored(j, r->cur_volume) ? "(made by an earlier restore) deleted"
                                        : "detached and kept");
}

/* After success: the old images go; a swapped-out volume stays (its
 * snapshots, the set's among them, belong to it). */
static void
commit(rjob *j)
{
    snap_error e = {0};
    size_t i;

    for (i = 0; i < j->n; i++)
        rkinds[j->rm[i].kind].commit(j, &j->rm[i]);
    /* The disks are other images now: bitmaps counted from a set's point
     * describe nothing here any more, so the next set copies in full. */
    if (j->d->checkpoints_forget &&
        !j->d->checkpoints_forget(j->ctx, j->set->domain_uuid,
                                  COORD_CHAIN_CP_PREFIX, &e))
        snap_warn("domain '%s': cannot delete its checkpoints (the next set "
                  "copies in full all the same): %s",
                  j->set->domain_name, e.msg);
}

/* A revert that failed: the member falls back to a new volume. Returns
 * false when that fails too. */
static bool
revert_or_swap(rjob *j, rmember *r, snap_error *err)
{
    snap_error e = {0};
    char name[256];

    if (revert_volume(j, r, &e))
        return true;
    if (r->reverted && !r->attached) {
        /* Reverted but not attached again: attaching is what failed. */
        return snap_error_set(err, e.code, "%s", e.msg);
    }
    snap_warn("cannot revert volume %s of disk '%s' (%s): making a new "
              "volume from the snapshot instead",
              r->cur_volume, r->m->target, e.msg);
    r->kind = RKIND_SWAP;
    snprintf(name, sizeof(name), "%.64s-%s-restore-%.8s", j->set->domain_name,
             r->m->target, j->set->uuid);
    return ops_volume_from_snapshot(j->ctx, r->m->location, name, j->set->uuid,
                                    j->ctx->conf.copy_timeout_ms,
                                    &r->new_volume, err) &&
           swap_volume(j, r, err) && redefine(j, err);
}

/* Finds the set's domain, takes its lock, loads the set again under it
 * and plans each member; nothing is changed yet. */
static bool
restore_open(rjob *j, const char *set_id, int *lock, snap_error *err)
{
    ops_ctx *ctx = j->ctx;
    char uuid[SNAP_UUID_LEN];
    int persistent;

    j->set = ops_set_load_usable(ctx, set_id, err);
    if (!j->set)
        return false;
    j->res->domain = strdup(j->set->domain_name);
    if (!j->res->domain)
        return snap_error_set(err, SNAP_E_NOMEM, "out of memory");
    if (!j->d->find(ctx, j->set->domain_uuid, uuid, NULL, NULL))
        return snap_error_set(err, SNAP_E_NOTFOUND,
                              "domain '%s' (%s) of set %s does not exist any "
                              "more: spawn a new one from the set",
                              j->set->domain_name, j->set->domain_uuid,
                              j->set->uuid);
    persistent = j->d->persistent(ctx, j->set->domain_uuid, NULL);
    if (persistent != 1)
        return snap_error_set(err, SNAP_E_STATE,
                              "domain '%s' is transient: restore stops it, "
                              "which would remove it (define it with virsh "
                              "define first)",
                              j->set->domain_name);
    /* A set of this domain left CREATING by a dead process is finished
     * first, as every command touching a domain does. */
    if (!ops_recover(ctx, j->set->domain_uuid, NULL, err))
        return false;
    *lock = ops_lock(ctx, j->set->domain_uuid, err);
    if (*lock < 0)
        return false;
    /* Again under the lock: it may have been deleted meanwhile. */
    coord_set_free(j->set);
    j->set = ops_set_load_usable(ctx, set_id, err);
    return j->set && plan(j, err);
}

/* Whether it starts again at the end, and from the set's RAM state. */
static bool
restore_decide(rjob *j, const ops_restore_opts *o, snap_error *err)
{
    ops_domain_state state;
    snap_error e = {0};
    struct stat st;
    size_t i;

    if (!j->d->state(j->ctx, j->set->domain_uuid, &state, &e))
        return snap_error_set(err, e.code, "cannot read the domain's state: %s",
                              e.msg);
    j->was_active = state != OPS_DOMAIN_STATE_OFF;
    j->start = o->start == OPS_RESTORE_START_YES ||
               (o->start == OPS_RESTORE_START_AS_BEFORE && j->was_active);
    /* A set with RAM state comes back running, at its instant; with
     * --no-start only its disks are put back. */
    if (j->set->memory && o->start == OPS_RESTORE_START_AS_BEFORE)
        j->start = true;
    j->memory = j->set->memory && j->start;
    if (!j->memory)
        return true;
    if (stat(j->set->memory, &st) < 0)
        return snap_error_set_errno(err, errno,
                                    "RAM state of set %s is missing ('%s'); "
                                    "--no-start restores its disks only",
                                    j->set->uuid, j->set->memory);
    for (i = 0; i < j->n; i++) {
        if (j->rm[i].kind != RKIND_SWAP)
            continue;
        return snap_error_set(err, SNAP_E_STATE,
                              "set %s has RAM state, but Cinder cannot revert "
                              "volume %s of disk '%s' in place (its snapshot "
                              "is not the latest, or the microversion is "
                              "below 3.40), and the saved guest must find "
                              "the same volume; --no-start restores the "
                              "disks only",
                              j->set->uuid, j->rm[i].cur_volume,
                              j->rm[i].m->target);
    }
    return true;
}

/* The domain is stopped: every disk goes back, local ones first, Cinder
 * reverts last (they cannot be undone). A flat sequence of steps, each
 * recorded in j->step. */
static bool
restore_swap(rjob *j, snap_error *err)
{
    snap_error e = {0};
    size_t i;
    bool swaps = false;
    int saved;

    j->step = RSTEP_LOCAL;
    for (i = 0; i < j->n; i++) {
        if ((j->rm[i].kind == RKIND_FILE && !swap_file(&j->rm[i], err)) ||
            (j->rm[i].kind == RKIND_BLOCK && !write_block(j, &j->rm[i], err)))
            return false;
    }
    j->step = RSTEP_DETACH;
    for (i = 0; i < j->n; i++) {
        if ((j->rm[i].kind == RKIND_SWAP || j->rm[i].kind == RKIND_REVERT) &&
            !detach_current(j, &j->rm[i], err))
            return false;
    }
    j->step = RSTEP_ATTACH;
    for (i = 0; i < j->n; i++) {
        if (j->rm[i].kind != RKIND_SWAP)
            continue;
        swaps = true;
        if (!swap_volume(j, &j->rm[i], err))
            return false;
    }
    j->step = RSTEP_DEFINE;
    if (swaps && !redefine(j, err)) /* one definition holds every swap */
        return false;
    j->step = RSTEP_REVERT;
    for (i = 0; i < j->n; i++) {
        bool ok;

        if (j->rm[i].kind != RKIND_REVERT)
            continue;
        ok = revert_or_swap(j, &j->rm[i], err);
        /* Reverted is reverted, even when what follows failed. */
        if (j->rm[i].reverted)
            j->irreversible = true;
        if (!ok)
            return false;
    }
    /* A managed save holds memory of disks that are gone: starting from
     * it would corrupt them. */
    saved = j->d->managed_save(j->ctx, j->set->domain_uuid, NULL);
    if (saved == 1) {
        j->step = RSTEP_MANAGED_SAVE;
        if (!j->d->managed_save_remove(j->ctx, j->set->domain_uuid, &e))
            return snap_error_set(
                err, e.code, "cannot remove the managed save image: %s", e.msg);
        result_line(j->res, "managed save image discarded: its memory "
                            "belongs to disks that were replaced");
    }
    return true;
}

/* Starts the domain as decided: from the set's RAM state, or booted. */
static bool
restore_start(rjob *j, snap_error *err)
{
    ops_restore_result *res = j->res;
    snap_error e = {0};
    int64_t t;
    size_t i;

    j->step = RSTEP_START;
    if (!ops_fault("restore-swapped", err))
        return false;
    if (!j->start)
        return true;
    if (j->memory) {
        /* A revert that fell back to a new volume changed a disk the saved
         * guest knows: its RAM must not be loaded over it. */
        for (i = 0; i < j->n; i++) {
            if (j->rm[i].kind == RKIND_SWAP)
                return snap_error_set(err, SNAP_E_STATE,
                                      "disk '%s' is a new volume now: the RAM "
                                      "state cannot be loaded over it",
                                      j->rm[i].m->target);
        }
        j->step = RSTEP_RAM;
        t = snap_now_ms();
        if (!j->d->start_saved(j->ctx, j->set->memory, &e))
            return snap_error_set(err, e.code, "cannot load the RAM state: %s",
                                  e.msg);
        res->start_ms = snap_now_ms() - t;
        res->started = true;
        res->memory = true;
        result_line(res, "RAM state loaded: the guest continues from the "
                         "set's instant");
        return true;
    }
    t = snap_now_ms();
    if (!j->d->start(j->ctx, j->set->domain_uuid, &e))
        return snap_error_set(err, e.code, "cannot start the domain: %s",
                              e.msg);
    res->start_ms = snap_now_ms() - t;
    res->started = true;
    return true;
}

/* Prepares, stops, swaps and starts; on failure j->step says where. */
static bool
restore_run(rjob *j, int64_t shutdown_ms, snap_error *err)
{
    ops_restore_result *res = j->res;
    int64_t t;

    j->step = RSTEP_PREPARE;
    t = snap_now_ms();
    if (!prepare(j, err))
        return false;
    res->prepare_ms = snap_now_ms() - t;

    j->step = RSTEP_STOP;
    t = snap_now_ms();
    if (!stop_domain(j, shutdown_ms, err))
        return false;
    res->stop_ms = snap_now_ms() - t;

    t = snap_now_ms();
    if (!ops_fault("restore-stopped", err) || !restore_swap(j, err))
        return false;
    res->swap_ms = snap_now_ms() - t;
    return restore_start(j, err);
}

bool
ops_restore(ops_ctx *ctx, const char *set_id, const ops_restore_opts *o,
            ops_restore_result *res, snap_error *err)
{
    rjob j;
    snap_error e = {0};
    int lock = -1;
    int64_t t0 = snap_now_ms();
    int64_t shutdown_ms = o->shutdown_timeout_ms >= 0
                              ? o->shutdown_timeout_ms
                              : ctx->conf.shutdown_timeout_ms;
    bool ok = false;

    memset(&j, 0, sizeof(j));
    memset(res, 0, sizeof(*res));
    res->start_ms = -1;
    j.ctx = ctx;
    j.d = ops_domain(ctx);
    j.res = res;
    if (!ops_connect(ctx, err))
        return false;
    if (!restore_open(&j, set_id, &lock, err) || !restore_decide(&j, o, err))
        goto cleanup;
    if (restore_run(&j, shutdown_ms, &e)) {
        commit(&j);
        ok = true;
    } else if (j.irreversible && j.step >= RSTEP_START) {
        /* Every disk is at the set's point and a Cinder revert cannot be
         * undone: keep the restore rather than mix the two times. */
        commit(&j);
        snap_error_set(err, e.code,
                       "set %s restored, but the domain did not start: %s",
                       j.set->uuid, e.msg);
    } else {
        rollback(&j);
        snap_error_set(
            err, e.code,
            "restore of set %s failed at step '%s' and was "
            "undone%s: %s",
            j.set->uuid, rstep_names[j.step],
            j.irreversible ? " (except the Cinder reverts, see above)" : "",
            e.msg);
    }

cleanup:
    res->total_ms = snap_now_ms() - t0;
    if (j.set)
        ops_event(ctx, "restore", "domain", j.set->domain_name, j.set,
                  ok ? NULL : err);
    coord_catalog_unlock(lock);
    rjob_release(&j);
    return ok;
}
