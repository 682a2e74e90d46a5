/* coordinator/ops/export_stage.c -- converting an export's disks: the
 * staging root (checked, swept), qemu-img run through common/snap_proc.h,
 * and one disk converted into the staging directory (see export_job.h). */
#define _GNU_SOURCE /* mkdtemp() beside POSIX */
#include "coordinator/ops/export_job.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/snap_fs.h"
#include "common/snap_log.h"
#include "common/snap_proc.h"

#define MAX_CAPTURE (1 << 20) /* qemu-img's stdout we keep (JSON) */

/* ---- running qemu-img -------------------------------------------------- */

/* Progress of `qemu-img convert -p`: "    (12.34/100%)\r" on stdout. */
typedef struct convert_progress {
    ops_export_job *job;
    const char *file;
    uint64_t total;
    char line[64];
    size_t len;
} convert_progress;

/* snap_proc_opts.on_stdout for `convert -p`. */
static void
convert_feed(void *ctx, const char *buf, size_t n)
{
    convert_progress *cp = ctx;
    double pct;
    size_t i;

    for (i = 0; i < n; i++) {
        if (buf[i] == '\r' || buf[i] == '\n') {
            cp->line[cp->len] = '\0';
            if (sscanf(cp->line, " (%lf/100%%)", &pct) == 1 && pct >= 0 &&
                pct < 100)
                ops_export_progress(cp->job, "convert", cp->file,
                                    (uint64_t)((double)cp->total * pct / 100.0),
                                    cp->total, false);
            cp->len = 0;
        } else if (cp->len + 1 < sizeof(cp->line)) {
            cp->line[cp->len++] = buf[i];
        }
    }
}

/* qemu-img's reason, for messages: the last line it wrote on stderr,
 * without its "qemu-img: " prefix. */
static const char *
reason(const snap_proc_result *r)
{
    const char *p = r->err_tail;

    if (strncmp(p, "qemu-img: ", 10) == 0)
        p += 10;
    return *p ? p : "no message";
}

/* The runner behind ops_export_qemu_img(); with @cp, stdout feeds the
 * progress instead of being captured. The messages are the ones `export`
 * has always given, not snap_proc's own. */
static bool
qemu_img_run(const char *const *args, int64_t timeout_ms, char **out,
             convert_progress *cp, snap_error *err)
{
    snap_proc_opts o;
    snap_proc_result r;
    snap_error perr = {0};
    char what[64];
    bool ok = false;

    if (out)
        *out = NULL;
    memset(&o, 0, sizeof(o));
    /* snap_proc says "WHAT: cannot run qemu-img: ..." when it cannot start
     * it: the message export gave when its child's exec failed. */
    snprintf(what, sizeof(what), "qemu-img %s failed", args[1]);
    o.argv = args;
    o.what = what;
    o.timeout_ms = timeout_ms;
    o.cancelled = ops_export_cancelled;
    if (cp) {
        o.out = SNAP_PROC_STDOUT_CALLBACK;
        o.on_stdout = convert_feed;
        o.ctx = cp;
    } else if (out) {
        o.out = SNAP_PROC_STDOUT_CAPTURE;
        o.capture_max = MAX_CAPTURE; /* far more than any JSON we read */
    }
    if (snap_proc_run(&o, &r, &perr)) {
        ok = ops_export_check_interrupted(err);
    } else if (!ops_export_check_interrupted(err)) {
        /* cancelled by a signal: err says which */
    } else if (perr.code == SNAP_E_TIMEOUT) {
        snap_error_set(err, SNAP_E_TIMEOUT,
                       "qemu-img %s did not finish within %lld ms "
                       "(--timeout)",
                       args[1], (long long)timeout_ms);
    } else if (r.signal) {
        snap_error_set(err, SNAP_E_SYSTEM,
                       "qemu-img %s killed by signal %d: %s", args[1], r.signal,
                       reason(&r));
    } else if (r.exit_status > 0) {
        snap_error_set(err, SNAP_E_SYSTEM, "qemu-img %s failed: %s", args[1],
                       reason(&r));
    } else {
        snap_error_set(err, perr.code, "%s", perr.msg);
        if (err && perr.code == SNAP_E_SYSTEM)
            err->sys_errno = perr.sys_errno;
    }
    if (ok && out) {
        *out = r.out;
        r.out = NULL;
    }
    snap_proc_result_release(&r);
    return ok;
}

bool
ops_export_qemu_img(const char *const *args, int64_t timeout_ms, char **out,
                    snap_error *err)
{
    return qemu_img_run(args, timeout_ms, out, NULL, err);
}

/* `qemu-img info --output=json`: the virtual size of @image. */
static bool
image_virtual_size(ops_export_job *job, const char *format, const char *image,
                   const char *what, uint64_t *size, snap_error *err)
{
    const char *args[] = {"qemu-img", "info", "--output=json", "-f", format,
                          image,      NULL};
    char *out = NULL;
    json_t *doc = NULL, *v;
    bool ok = false;

    if (!qemu_img_run(args, job->timeout_ms, &out, NULL, err)) {
        snap_error_set(err, SNAP_E_SYSTEM, "cannot read %s", what);
        return false;
    }
    doc = json_loads(out ? out : "", 0, NULL);
    v = json_object_get(doc, "virtual-size");
    if (!json_is_integer(v) || json_integer_value(v) <= 0) {
        snap_error_set(err, SNAP_E_INVALID,
                       "qemu-img info of %s: no virtual size", what);
        goto cleanup;
    }
    *size = (uint64_t)json_integer_value(v);
    ok = true;

cleanup:
    json_decref(doc);
    free(out);
    return ok;
}

/* `qemu-img map --output=json`: bytes of @image that hold data. 0 when
 * unknown (the descriptor then leaves populatedSize out). */
static uint64_t
image_populated(ops_export_job *job, const char *format, const char *image)
{
    const char *args[] = {"qemu-img", "map", "--output=json", "-f", format,
                          image,      NULL};
    char *out = NULL;
    json_t *doc, *e;
    uint64_t sum = 0;
    size_t i;

    if (!qemu_img_run(args, job->timeout_ms, &out, NULL, NULL))
        return 0; /* only a hint for importers */
    doc = json_loads(out ? out : "", 0, NULL);
    json_array_foreach(doc, i, e)
    {
        if (json_is_true(json_object_get(e, "data")))
            sum += (uint64_t)json_integer_value(json_object_get(e, "length"));
    }
    json_decref(doc);
    free(out);
    return sum;
}

/* Appends @s to @buf (size @size) with qemu's escaping of the rbd: syntax:
 * ':' separates options, '\' escapes. */
static bool
rbd_escape(char *buf, size_t size, const char *s)
{
    size_t n = strlen(buf);

    for (; *s; s++) {
        if (*s == ':' || *s == '\\' || *s == '@') {
            if (n + 1 >= size)
                return false;
            buf[n++] = '\\';
        }
        if (n + 1 >= size)
            return false;
        buf[n++] = *s;
    }
    buf[n] = '\0';
    return true;
}

/* The qemu-img source of Cinder member @m: its RBD snapshot. Cinder's RBD
 * driver names the snapshot of snapshot id S "snapshot-S" on the volume's
 * image (member.source, "pool/volume-<id>"). */
static bool
rbd_uri(ops_export_job *job, const coord_member *m, char *buf, size_t size,
        snap_error *err)
{
    char snap[128];
    bool ok;

    snprintf(snap, sizeof(snap), "snapshot-%s", m->location);
    snprintf(buf, size, "rbd:");
    ok = rbd_escape(buf, size, m->source);
    if (ok && strlen(buf) + 2 < size)
        strcat(buf, "@");
    ok = ok && rbd_escape(buf, size, snap);
    if (ok && job->ceph_user) {
        ok = strlen(buf) + 5 < size;
        if (ok)
            strcat(buf, ":id=");
        ok = ok && rbd_escape(buf, size, job->ceph_user);
    }
    if (ok) {
        ok = strlen(buf) + 7 < size;
        if (ok)
            strcat(buf, ":conf=");
        ok = ok && rbd_escape(buf, size, job->ceph_conf);
    }
    if (!ok)
        return snap_error_set(err, SNAP_E_INVALID,
                              "RBD name of member %s is too long", m->target);
    return true;
}

/* ---- staging ----------------------------------------------------------- */

/* The staging root holds the directories that the sweep below removes, so
 * nobody but us may make entries in it: it must be a directory of our
 * euid that group and others cannot write. A shared directory such as
 * /tmp is refused (give a directory of its own, e.g. /var/tmp/snapset,
 * mode 0700); snapset creates it 0700 when it is missing. */
static bool
staging_root_check(const char *root, snap_error *err)
{
    struct stat st;

    if (stat(root, &st) < 0)
        return snap_error_set_errno(err, errno,
                                    "cannot use staging directory '%s'", root);
    if (!S_ISDIR(st.st_mode))
        return snap_error_set(err, SNAP_E_INVALID,
                              "staging directory '%s' is not a directory",
                              root);
    if (st.st_uid != geteuid())
        return snap_error_set(err, SNAP_E_INVALID,
                              "staging directory '%s' belongs to uid %ld, not "
                              "to snapset's (%ld)",
                              root, (long)st.st_uid, (long)geteuid());
    if (st.st_mode & (S_IWGRP | S_IWOTH))
        return snap_error_set(err, SNAP_E_INVALID,
                              "staging directory '%s' is writable by group or "
                              "others (mode %04o): give snapset a directory "
                              "of its own (mode 0700)",
                              root, (unsigned)(st.st_mode & 07777));
    return true;
}

/* Removes staging directories of exports whose process is gone (killed by
 * a second signal or SIGKILL). Best effort. Only what mkdtemp() in
 * staging_make() makes is swept: an entry named export-PID-START-XXXXXX
 * that is a directory (not a symlink) of our euid with mode 0700. Nothing
 * is followed: the entries are opened relative to the root's descriptor
 * with O_NOFOLLOW and their files unlinked relative to theirs. */
static void
staging_sweep(const char *root)
{
    struct dirent *e;
    struct stat st;
    coord_journal j;
    DIR *d;
    long pid;
    long long start;
    int rootfd, n;

    rootfd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (rootfd < 0)
        return;
    d = fdopendir(rootfd);
    if (!d) {
        close(rootfd);
        return;
    }
    for (e = readdir(d); e; e = readdir(d)) {
        n = -1;
        if (sscanf(e->d_name, "export-%ld-%lld-%n", &pid, &start, &n) != 2 ||
            n < 0 || strlen(e->d_name + n) != 6)
            continue;
        memset(&j, 0, sizeof(j));
        j.owner_pid = pid;
        j.owner_start = start;
        if (ops_owner_alive(&j))
            continue;
        if (fstatat(rootfd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
            continue;
        if (!S_ISDIR(st.st_mode) || st.st_uid != geteuid() ||
            (st.st_mode & 07777) != 0700) {
            snap_warn("not sweeping '%s/%s': not a staging directory of "
                      "snapset's (a directory of uid %ld, mode 0700)",
                      root, e->d_name, (long)geteuid());
            continue;
        }
        if (snap_dir_remove_files_at(rootfd, e->d_name, NULL))
            snap_info("removed the staging directory of a dead export: %s/%s",
                      root, e->d_name);
    }
    closedir(d); /* closes rootfd */
}

bool
ops_export_staging_make(ops_export_job *job, snap_error *err)
{
    char *root = NULL, *tmpl = NULL;
    size_t len;
    bool ok = false;

    if (job->staging_root)
        root = strdup(job->staging_root);
    else
        root = snap_path_join(coord_catalog_dir(job->ctx->catalog), "staging",
                              err);
    if (!root) {
        snap_error_set(err, SNAP_E_NOMEM, "out of memory");
        goto cleanup;
    }
    if (!snap_dir_make(root, 0700, err) || !staging_root_check(root, err))
        goto cleanup;
    staging_sweep(root);
    len = strlen(root) + 64;
    tmpl = malloc(len);
    if (!tmpl) {
        snap_error_set(err, SNAP_E_NOMEM, "out of memory");
        goto cleanup;
    }
    snprintf(tmpl, len, "%s/export-%ld-%lld-XXXXXX", root, (long)getpid(),
             (long long)snap_proc_start_time(getpid()));
    if (!mkdtemp(tmpl)) {
        snap_error_set_errno(err, errno,
                             "cannot create a staging directory "
                             "in '%s'",
                             root);
        goto cleanup;
    }
    job->staging = tmpl;
    tmpl = NULL;
    ok = true;

cleanup:
    free(root);
    free(tmpl);
    return ok;
}

bool
ops_export_stage_disk(ops_export_job *job, size_t i, snap_error *err)
{
    const coord_member *m = &job->set->members[i];
    ops_export_disk *d = &job->disks[i];
    const char *ext =
        job->format == GLANCE_DISK_FORMAT_QCOW2 ? "qcow2" : "vmdk";
    const char *in_format, *out_format;
    char src[4096], what[128];
    const char *args[16];
    convert_progress cp;
    uint64_t out_size = 0;
    struct stat st;
    size_t n = 0;

    d->m = m;
    d->bus = ops_export_member_bus(job, i);
    snprintf(d->file, sizeof(d->file), "%s.%s", m->target, ext);
    d->staged = snap_path_join(job->staging, d->file, err);
    if (!d->staged)
        return false;
    if (m->kind == COORD_MEMBER_CINDER) {
        if (!rbd_uri(job, m, src, sizeof(src), err))
            return false;
        in_format = "raw";
        snprintf(what, sizeof(what), "the RBD snapshot of %s", m->target);
    } else {
        snprintf(src, sizeof(src), "%s", m->location);
        in_format = m->copy_format ? m->copy_format : "qcow2";
        snprintf(what, sizeof(what), "the copy of %s", m->target);
    }
    if (!image_virtual_size(job, in_format, src, what, &d->capacity, err))
        return false;

    args[n++] = "qemu-img";
    args[n++] = "convert";
    args[n++] = "-p";
    args[n++] = "-f";
    args[n++] = in_format;
    args[n++] = "-O";
    if (job->format == GLANCE_DISK_FORMAT_QCOW2) {
        out_format = "qcow2";
        args[n++] = out_format;
    } else {
        out_format = "vmdk";
        args[n++] = out_format;
        args[n++] = "-o";
        args[n++] = "subformat=streamOptimized";
    }
    args[n++] = src;
    args[n++] = d->staged;
    args[n] = NULL;
    memset(&cp, 0, sizeof(cp));
    cp.job = job;
    cp.file = m->target;
    cp.total = d->capacity;
    ops_export_progress(job, "convert", m->target, 0, d->capacity, false);
    if (!qemu_img_run(args, job->timeout_ms, NULL, &cp, err)) {
        snap_error_set(err, SNAP_E_SYSTEM, "cannot convert %s", what);
        return false;
    }
    ops_export_progress(job, "convert", m->target, d->capacity, d->capacity,
                        true);

    /* The package states both sizes; check that the conversion kept the
     * capacity (vmdk rounds up to whole sectors only). */
    if (!image_virtual_size(job, out_format, d->staged, "the converted disk",
                            &out_size, err))
        return false;
    if (out_size != d->capacity)
        return snap_error_set(err, SNAP_E_STATE,
                              "converted %s has %" PRIu64 " bytes of "
                              "capacity, its source %" PRIu64,
                              m->target, out_size, d->capacity);
    d->populated = image_populated(job, out_format, d->staged);
    if (d->populated > d->capacity)
        d->populated = 0;
    if (stat(d->staged, &st) < 0)
        return snap_error_set_errno(err, errno, "cannot stat '%s'", d->staged);
    d->file_size = (uint64_t)st.st_size;
    return ops_export_check_interrupted(err);
}
