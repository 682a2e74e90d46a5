/* coordinator/ops/verify.c -- see verify.h. */
#include "coordinator/ops/verify.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/snap_fs.h"
#include "common/snap_log.h"
#include "common/snap_proc.h"
#include "common/snap_strv.h"
#include "coordinator/coord_catalog.h"
#include "coordinator/coord_chain.h"
#include "coordinator/ops/chain.h"
#include "virt/qimg.h"

/* qemu-img check's exit statuses (qemu-img(1)). */
#define QIMG_CHECK_CORRUPT 2
#define QIMG_CHECK_LEAKS 3

/* A set's or a domain's uuid, kept beside each report entry. */
typedef char uuid_str[SNAP_UUID_LEN];

/* What one domain's pass knows of one set of the catalog listing. */
typedef struct work {
    bool needed;     /* asked for, or under a set asked for */
    bool checked;    /* its own copies were checked */
    char **problems; /* its own, not those of sets under it */
    size_t nproblems;
    char **notes;
    size_t nnotes;
    size_t nchecked;
} work;

typedef struct pass {
    ops_ctx *ctx;
    coord_set **sets; /* the catalog, listed under the domain's lock */
    size_t nsets;
    work *w; /* one per set */
} pass;

const char *
ops_verify_status_name(ops_verify_status status)
{
    static const char *const names[] = {"ok", "broken", "skipped"};

    if ((unsigned)status >= OPS_VERIFY_STATUS_LAST)
        return "unknown";
    return names[status];
}

/* Appends the formatted line to *@v (unless it is there already). */
static bool __attribute__((format(printf, 4, 5)))
line_add(char ***v, size_t *n, snap_error *err, const char *fmt, ...)
{
    va_list ap;
    char *s;
    int len;
    bool ok;

    va_start(ap, fmt);
    len = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (len < 0)
        return snap_error_set(err, SNAP_E_INVALID, "cannot format a line");
    s = malloc((size_t)len + 1);
    if (!s)
        return snap_error_set(err, SNAP_E_NOMEM, "out of memory");
    va_start(ap, fmt);
    vsnprintf(s, (size_t)len + 1, fmt, ap);
    va_end(ap);
    ok = snap_strv_contains(*v, *n, s, false) || snap_strv_append(v, n, s, err);
    free(s);
    return ok;
}

static ssize_t
set_index(const pass *p, const char *uuid)
{
    size_t i;

    for (i = 0; uuid && i < p->nsets; i++) {
        if (strcmp(p->sets[i]->uuid, uuid) == 0)
            return (ssize_t)i;
    }
    return -1;
}

/* Marks set @i and every set its copies stack on, through their chains,
 * as needed. A loop in the records ends where a set is marked already. */
static void
mark_needed(pass *p, size_t i)
{
    const coord_set *set = p->sets[i];
    size_t k;

    if (p->w[i].needed)
        return;
    p->w[i].needed = true;
    for (k = 0; k < set->nmembers; k++) {
        const coord_member *m = &set->members[k];
        ssize_t b;

        if (m->kind != COORD_MEMBER_LOCAL || !m->base)
            continue;
        b = set_index(p, m->base);
        if (b >= 0)
            mark_needed(p, (size_t)b);
    }
}

/* Checks @path with lstat: a regular file, never a link followed. False
 * with a problem line (about @what, e.g. "vda: copy") otherwise. */
static bool
regular_file(work *w, const char *what, const char *path, bool *is_file,
             snap_error *err)
{
    struct stat st;

    *is_file = false;
    if (lstat(path, &st) != 0) {
        if (errno == ENOENT)
            return line_add(&w->problems, &w->nproblems, err,
                            "%s '%s' is missing", what, path);
        return line_add(&w->problems, &w->nproblems, err,
                        "%s '%s' cannot be read: %s", what, path,
                        strerror(errno));
    }
    if (S_ISLNK(st.st_mode))
        return line_add(&w->problems, &w->nproblems, err,
                        "%s '%s' is a symbolic link (not followed)", what,
                        path);
    if (!S_ISREG(st.st_mode))
        return line_add(&w->problems, &w->nproblems, err,
                        "%s '%s' is not a regular file", what, path);
    *is_file = true;
    return true;
}

/* Sets *@yes when the qcow2 header of @path names a backing file at all;
 * virt_qimg_backing() reports a network or json: one as none. */
static bool
names_backing(const char *path, bool *yes, snap_error *err)
{
    unsigned char hdr[20];
    ssize_t n;
    int fd, i;

    *yes = false;
    fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return snap_error_set_errno(err, errno, "cannot open image '%s'", path);
    n = pread(fd, hdr, sizeof(hdr), 0);
    close(fd);
    if (n < (ssize_t)sizeof(hdr) || memcmp(hdr, "QFI\xfb", 4) != 0)
        return true;
    /* backing_file_offset (u64 at 8) and backing_file_size (u32 at 16). */
    for (i = 8; i < 16 && !*yes; i++)
        *yes = hdr[i] != 0;
    *yes = *yes && (hdr[16] | hdr[17] | hdr[18] | hdr[19]) != 0;
    return true;
}

/* The recorded backing of @m, resolved against its copy's directory. */
static char *
recorded_backing(const coord_member *m, snap_error *err)
{
    char *dir, *abs;

    dir = snap_path_dir(m->location, err);
    if (!dir)
        return NULL;
    abs = m->backing[0] == '/' ? strdup(m->backing)
                               : snap_path_join(dir, m->backing, err);
    free(dir);
    if (!abs)
        snap_error_set(err, SNAP_E_NOMEM, "out of memory");
    return abs;
}

/* The base set of @m (of @set): in the catalog, available, with a copy of
 * the same disk, and that copy is the file @want (the recorded backing,
 * resolved; NULL when it is missing). */
static bool
check_base(pass *p, work *w, const coord_member *m, const char *want,
           snap_error *err)
{
    const coord_set *base;
    const coord_member *bm;
    char a[PATH_MAX], b[PATH_MAX];

    base = coord_chain_find(p->sets, p->nsets, m->base);
    if (!base)
        return line_add(&w->problems, &w->nproblems, err,
                        "%s: base set %s is not in the catalog", m->target,
                        m->base);
    if (base->state != COORD_SET_AVAILABLE)
        return line_add(&w->problems, &w->nproblems, err,
                        "%s: base set %s is %s", m->target, m->base,
                        coord_set_state_name(base->state));
    bm = coord_chain_member(base, m->target);
    if (!bm || bm->kind != COORD_MEMBER_LOCAL || !bm->location)
        return line_add(&w->problems, &w->nproblems, err,
                        "%s: base set %s has no copy of disk %s", m->target,
                        m->base, m->target);
    if (want &&
        (!realpath(bm->location, a) || !realpath(want, b) || strcmp(a, b) != 0))
        return line_add(&w->problems, &w->nproblems, err,
                        "%s: recorded backing file '%s' is not base set %s's "
                        "copy '%s'",
                        m->target, m->backing, m->base, bm->location);
    return true;
}

/* Whether the backing file @m's image names is the recorded one (and the
 * base set's copy); *@same false with a problem line when not. */
static bool
check_backing(pass *p, work *w, const coord_member *m, bool *same,
              snap_error *err)
{
    char *named = NULL, *want = NULL;
    char a[PATH_MAX], b[PATH_MAX];
    bool any = false, ok = false;
    snap_error e = {0};

    *same = false;
    if (m->base && !m->backing)
        return line_add(&w->problems, &w->nproblems, err,
                        "%s: base set %s is recorded without a backing file",
                        m->target, m->base);
    if (!m->base && m->mode == COORD_COPY_INCREMENTAL)
        return line_add(&w->problems, &w->nproblems, err,
                        "%s: incremental copy without a base set recorded",
                        m->target);
    if (!virt_qimg_backing(m->location, &named, &e) ||
        (!named && !names_backing(m->location, &any, &e))) {
        ok = line_add(&w->problems, &w->nproblems, err, "%s: %s", m->target,
                      e.msg);
        goto cleanup;
    }
    if (!m->backing) {
        if (named || any)
            ok = line_add(&w->problems, &w->nproblems, err,
                          "%s: the image names backing file '%s', the catalog "
                          "records none",
                          m->target, named ? named : "(not a local file)");
        else
            ok = *same = true;
        goto cleanup;
    }
    want = recorded_backing(m, err);
    if (!want)
        goto cleanup;
    if (!realpath(want, b)) {
        ok = line_add(&w->problems, &w->nproblems, err,
                      "%s: recorded backing file '%s' cannot be resolved: %s",
                      m->target, m->backing, strerror(errno));
        if (ok && m->base)
            ok = check_base(p, w, m, NULL, err);
        goto cleanup;
    }
    if (!named)
        ok = line_add(&w->problems, &w->nproblems, err,
                      "%s: the image names %s, the catalog records backing "
                      "file '%s'",
                      m->target,
                      any ? "a backing file that is not local"
                          : "no backing file",
                      m->backing);
    else if (!realpath(named, a) || strcmp(a, b) != 0)
        ok = line_add(&w->problems, &w->nproblems, err,
                      "%s: the image names backing file '%s', the catalog "
                      "records '%s'",
                      m->target, named, m->backing);
    else
        ok = *same = true;
    if (ok && m->base)
        ok = check_base(p, w, m, want, err);

cleanup:
    free(named);
    free(want);
    return ok;
}

/* `qemu-img check` on the qcow2 copy @m: corruption is a problem, leaked
 * clusters (space only, the data reads right) a note. */
static bool
check_image(pass *p, work *w, const coord_member *m, snap_error *err)
{
    const char *argv[] = {"qemu-img", "check",     "-q", "-f",
                          "qcow2",    m->location, NULL};
    snap_proc_opts o = {
        .argv = argv,
        .what = "qemu-img check",
        .timeout_ms = p->ctx->conf.copy_timeout_ms,
    };
    snap_proc_result r = {0};
    snap_error e = {0};
    bool ok = true;

    if (!snap_proc_run(&o, &r, &e)) {
        if (r.exit_status == QIMG_CHECK_LEAKS)
            ok = line_add(&w->notes, &w->nnotes, err,
                          "%s: qemu-img check found leaked clusters (wasted "
                          "space only)",
                          m->target);
        else if (r.exit_status == QIMG_CHECK_CORRUPT)
            ok = line_add(&w->problems, &w->nproblems, err,
                          "%s: qemu-img check found the image corrupt%s%s",
                          m->target, r.err_tail[0] ? ": " : "", r.err_tail);
        else
            ok = line_add(&w->problems, &w->nproblems, err, "%s: %s", m->target,
                          e.msg);
    }
    snap_proc_result_release(&r);
    return ok;
}

static bool
check_digest(work *w, const coord_member *m, snap_error *err)
{
    char hex[COORD_SHA256_HEX];
    snap_error e = {0};

    if (!ops_chain_digest(m->location, hex, &e))
        return line_add(&w->problems, &w->nproblems, err,
                        "%s: cannot compute the SHA-256 of '%s': %s", m->target,
                        m->location, e.msg);
    if (strcasecmp(hex, m->sha256) != 0)
        return line_add(&w->problems, &w->nproblems, err,
                        "%s: sha256 mismatch: the copy has %s, the catalog "
                        "records %s",
                        m->target, hex, m->sha256);
    return true;
}

static bool
check_member(pass *p, work *w, const coord_member *m, snap_error *err)
{
    char what[64];
    bool is_file, same = true;
    bool qcow2 = m->copy_format && strcmp(m->copy_format, "qcow2") == 0;

    snprintf(what, sizeof(what), "%s: copy", m->target);
    if (!regular_file(w, what, m->location, &is_file, err))
        return false;
    if (!is_file)
        return true;
    w->nchecked++;
    if (qcow2 && !check_backing(p, w, m, &same, err))
        return false;
    if (!qcow2 && m->backing &&
        !line_add(&w->problems, &w->nproblems, err,
                  "%s: a %s copy records backing file '%s'", m->target,
                  m->copy_format ? m->copy_format : "raw", m->backing))
        return false;
    /* Only an image stacked on what the catalog says is opened by
     * qemu-img: it would follow whatever a changed header names. */
    if (qcow2 && same && !check_image(p, w, m, err))
        return false;
    if (m->sha256[0] && !check_digest(w, m, err))
        return false;
    return true;
}

/* The own checks of available set @i (verify.h). */
static bool
check_set(pass *p, size_t i, snap_error *err)
{
    const coord_set *set = p->sets[i];
    work *w = &p->w[i];
    size_t k;
    bool is_file;

    w->checked = true;
    snap_info("verifying set %s", set->uuid);
    for (k = 0; k < set->nmembers; k++) {
        const coord_member *m = &set->members[k];

        if (m->kind == COORD_MEMBER_CINDER) {
            if (!line_add(&w->notes, &w->nnotes, err,
                          "%s: not checked (Cinder)", m->target))
                return false;
        } else if (!m->location) {
            if (!line_add(&w->notes, &w->nnotes, err,
                          "%s: no copy recorded (%s)", m->target,
                          coord_member_state_name(m->state)))
                return false;
        } else if (!check_member(p, w, m, err)) {
            return false;
        }
    }
    if (set->memory &&
        !regular_file(w, "memory state file", set->memory, &is_file, err))
        return false;
    return true;
}

/* Adds "stacks on broken set X" to @e for every local copy of set @i whose
 * chain reaches a set with problems of its own. */
static bool
add_inherited(pass *p, size_t i, ops_verify_set *e, snap_error *err)
{
    const coord_set *set = p->sets[i];
    size_t k, steps;

    for (k = 0; k < set->nmembers; k++) {
        const coord_member *m = &set->members[k];
        const char *base;

        if (m->kind != COORD_MEMBER_LOCAL)
            continue;
        base = m->base;
        /* At most one step per set: a loop in the records ends. */
        for (steps = 0; base && steps < p->nsets; steps++) {
            ssize_t b = set_index(p, base);
            const coord_member *bm;

            if (b < 0 || p->sets[b]->state != COORD_SET_AVAILABLE)
                break; /* a problem of the set above, already said */
            if (p->w[b].nproblems) {
                if (!line_add(&e->problems, &e->nproblems, err,
                              "%s: stacks on broken set %s", m->target, base))
                    return false;
                break;
            }
            bm = coord_chain_member(p->sets[b], m->target);
            base = bm && bm->kind == COORD_MEMBER_LOCAL ? bm->base : NULL;
        }
    }
    return true;
}

/* Every set stacking on set @i, directly or through a chain (not those
 * being deleted), oldest first. */
static bool
add_dependents(pass *p, size_t i, ops_verify_set *e, snap_error *err)
{
    bool *in = calloc(p->nsets, sizeof(*in));
    bool grew = true, ok = true;
    size_t j, k;

    if (!in)
        return snap_error_set(err, SNAP_E_NOMEM, "out of memory");
    in[i] = true;
    while (grew) {
        grew = false;
        for (j = 0; j < p->nsets; j++) {
            if (in[j] || p->sets[j]->state == COORD_SET_DELETING)
                continue;
            for (k = 0; k < p->nsets && !in[j]; k++)
                in[j] = in[k] &&
                        coord_chain_stacks_on(p->sets[j], p->sets[k]->uuid);
            grew = grew || in[j];
        }
    }
    for (j = 0; ok && j < p->nsets; j++) {
        if (in[j] && j != i)
            ok = snap_strv_append(&e->dependents, &e->ndependents,
                                  p->sets[j]->uuid, err);
    }
    free(in);
    return ok;
}

/* The report's entry @e for set @e->uuid from the pass. */
static bool
fill_entry(pass *p, ops_verify_set *e, snap_error *err)
{
    ssize_t i = set_index(p, e->uuid);
    work *w;

    if (i < 0) {
        /* Deleted while the lock was waited for. */
        e->status = OPS_VERIFY_SKIPPED;
        e->state = COORD_SET_DELETING;
        return snap_strv_append(&e->notes, &e->nnotes,
                                "no longer in the catalog", err);
    }
    w = &p->w[i];
    e->state = p->sets[i]->state;
    if (e->state != COORD_SET_AVAILABLE) {
        e->status = OPS_VERIFY_SKIPPED;
        return true;
    }
    e->nchecked = w->nchecked;
    if (!snap_strv_copy(&e->problems, &e->nproblems, w->problems, w->nproblems,
                        err) ||
        !snap_strv_copy(&e->notes, &e->nnotes, w->notes, w->nnotes, err) ||
        !add_inherited(p, (size_t)i, e, err))
        return false;
    e->status = e->nproblems ? OPS_VERIFY_BROKEN : OPS_VERIFY_OK;
    return e->status == OPS_VERIFY_OK || add_dependents(p, (size_t)i, e, err);
}

static void
pass_release(pass *p)
{
    size_t i;

    for (i = 0; p->w && i < p->nsets; i++) {
        snap_strv_free(p->w[i].problems, p->w[i].nproblems);
        snap_strv_free(p->w[i].notes, p->w[i].nnotes);
    }
    free(p->w);
    coord_catalog_list_free(p->sets, p->nsets);
}

/* Verifies the entries of @out whose set belongs to domain @domain_uuid
 * (@doms[i] is each entry's domain), under the domain's lock. */
static bool
verify_domain(ops_ctx *ctx, const char *domain_uuid, uuid_str *doms,
              ops_verify_report *out, snap_error *err)
{
    pass p = {.ctx = ctx};
    size_t i;
    ssize_t k;
    bool ok = false;
    int lock;

    lock = ops_lock(ctx, domain_uuid, err);
    if (lock < 0)
        return false;
    if (!coord_catalog_list(ctx->catalog, &p.sets, &p.nsets, err))
        goto cleanup;
    p.w = calloc(p.nsets ? p.nsets : 1, sizeof(*p.w));
    if (!p.w) {
        snap_error_set(err, SNAP_E_NOMEM, "out of memory");
        goto cleanup;
    }
    for (i = 0; i < out->nsets; i++) {
        if (strcmp(doms[i], domain_uuid) != 0)
            continue;
        k = set_index(&p, out->sets[i].uuid);
        if (k >= 0)
            mark_needed(&p, (size_t)k);
    }
    for (i = 0; i < p.nsets; i++) {
        if (p.w[i].needed && p.sets[i]->state == COORD_SET_AVAILABLE &&
            !check_set(&p, i, err))
            goto cleanup;
    }
    for (i = 0; i < out->nsets; i++) {
        if (strcmp(doms[i], domain_uuid) == 0 &&
            !fill_entry(&p, &out->sets[i], err))
            goto cleanup;
    }
    ok = true;

cleanup:
    pass_release(&p);
    coord_catalog_unlock(lock);
    return ok;
}

/* Appends set @uuid of domain @domain to @out (once). */
static bool
entry_add(ops_verify_report *out, uuid_str **doms, const char *uuid,
          const char *domain, snap_error *err)
{
    ops_verify_set *sets;
    uuid_str *d;
    size_t i;

    for (i = 0; i < out->nsets; i++) {
        if (strcmp(out->sets[i].uuid, uuid) == 0)
            return true;
    }
    sets = realloc(out->sets, (out->nsets + 1) * sizeof(*sets));
    if (!sets)
        return snap_error_set(err, SNAP_E_NOMEM, "out of memory");
    out->sets = sets;
    d = realloc(*doms, (out->nsets + 1) * sizeof(**doms));
    if (!d)
        return snap_error_set(err, SNAP_E_NOMEM, "out of memory");
    *doms = d;
    memset(&sets[out->nsets], 0, sizeof(*sets));
    snprintf(sets[out->nsets].uuid, SNAP_UUID_LEN, "%s", uuid);
    snprintf(d[out->nsets], SNAP_UUID_LEN, "%s", domain);
    out->nsets++;
    return true;
}

/* The sets asked for, each with its domain: every id must name a set. */
static bool
resolve(ops_ctx *ctx, const char *const *ids, size_t nids,
        ops_verify_report *out, uuid_str **doms, snap_error *err)
{
    coord_set **sets = NULL;
    size_t nsets = 0, i;
    bool ok = true;

    if (nids == 0) {
        if (!coord_catalog_list(ctx->catalog, &sets, &nsets, err))
            return false;
        for (i = 0; ok && i < nsets; i++)
            ok = entry_add(out, doms, sets[i]->uuid, sets[i]->domain_uuid, err);
        coord_catalog_list_free(sets, nsets);
        return ok;
    }
    for (i = 0; ok && i < nids; i++) {
        coord_set *set = coord_catalog_load(ctx->catalog, ids[i], err);

        ok = set && entry_add(out, doms, set->uuid, set->domain_uuid, err);
        coord_set_free(set);
    }
    return ok;
}

/* True when one of the first @i entries has the domain of entry @i. */
static bool
domain_seen(uuid_str *doms, size_t i)
{
    size_t j;

    for (j = 0; j < i; j++) {
        if (strcmp(doms[j], doms[i]) == 0)
            return true;
    }
    return false;
}

bool
ops_verify(ops_ctx *ctx, const char *const *ids, size_t nids,
           ops_verify_report *out, snap_error *err)
{
    uuid_str *doms = NULL;
    size_t i;
    bool ok = false;

    memset(out, 0, sizeof(*out));
    if (!ops_catalog(ctx, err) || !resolve(ctx, ids, nids, out, &doms, err))
        goto cleanup;
    /* One pass per domain, in the order its first set comes. */
    for (i = 0; i < out->nsets; i++) {
        if (!domain_seen(doms, i) &&
            !verify_domain(ctx, doms[i], doms, out, err))
            goto cleanup;
    }
    for (i = 0; i < out->nsets; i++) {
        if (out->sets[i].status == OPS_VERIFY_BROKEN)
            out->nbroken++;
    }
    ok = true;

cleanup:
    free(doms);
    return ok;
}

void
ops_verify_report_release(ops_verify_report *report)
{
    size_t i;

    for (i = 0; i < report->nsets; i++) {
        ops_verify_set *e = &report->sets[i];

        snap_strv_free(e->problems, e->nproblems);
        snap_strv_free(e->dependents, e->ndependents);
        snap_strv_free(e->notes, e->nnotes);
    }
    free(report->sets);
    memset(report, 0, sizeof(*report));
}
