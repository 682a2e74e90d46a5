/* coordinator/ops/template.c -- see template.h. */
#include "coordinator/ops/template.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/snap_fs.h"
#include "common/snap_log.h"
#include "common/snap_time.h"
#include "coordinator/ops/images.h"
#include "coordinator/ops/inuse.h"

coord_catalog *
ops_templates(ops_ctx *ctx, snap_error *err)
{
    char *dir;

    if (ctx->templates)
        return ctx->templates;
    dir = snap_path_join(ctx->conf.catalog_dir, "templates", err);
    if (!dir)
        return NULL;
    ctx->templates = coord_catalog_open(dir, err);
    free(dir);
    return ctx->templates;
}

/* Copies what spawn reads of member @m of the set into template member
 * @t; its location is filled in when made. */
static bool
member_copy(coord_member *t, const coord_member *m, snap_error *err)
{
    t->kind = m->kind;
    t->state = COORD_MEMBER_PENDING;
    return coord_str_set(&t->target, m->target, err) &&
           coord_str_set(&t->serial, m->serial, err) &&
           coord_str_set(&t->source_type, m->source_type, err) &&
           coord_str_set(&t->source, m->source, err) &&
           coord_str_set(&t->format, m->format, err);
}

/* Removes what template @t made: its copies (only files of ours under its
 * directory, never a link planted there), its volumes, its directory and
 * its record. Failures are warnings (and false): the record stays then,
 * so `template delete` can try again. */
static bool
template_remove(ops_ctx *ctx, coord_catalog *tcat, coord_set *t)
{
    snap_error e = {0};
    bool ok = true;
    size_t i;

    for (i = 0; i < t->nmembers; i++) {
        coord_member *m = &t->members[i];

        if (!m->location)
            continue;
        snap_error_clear(&e);
        if (m->kind == COORD_MEMBER_CINDER) {
            if (!ops_volume_remove(ctx, m->location, &e)) {
                snap_warn("cannot delete volume %s of template %s: %s",
                          m->location, t->uuid, e.msg);
                ok = false;
            }
        }
    }
    snap_error_clear(&e);
    if (t->dir && !snap_dir_remove_files(t->dir, &e)) {
        snap_warn("cannot remove '%s': %s", t->dir, e.msg);
        ok = false;
    }
    snap_error_clear(&e);
    if (ok && !coord_catalog_remove(tcat, t->uuid, &e)) {
        snap_warn("cannot remove the record of template %s: %s", t->uuid,
                  e.msg);
        ok = false;
    }
    return ok;
}

/* Makes member @i of template @t from member @m of @set. */
static bool
template_member(ops_ctx *ctx, coord_set *t, coord_member *tm,
                const coord_member *m, snap_error *err)
{
    char name[NAME_MAX + 1], *path, *vol = NULL;
    ops_image_file f;
    bool ok;

    if (m->kind == COORD_MEMBER_CINDER) {
        snprintf(name, sizeof(name), "snapset-template-%.8s-%s", t->uuid,
                 m->target);
        if (!ops_volume_from_snapshot(ctx, m->location, name, t->uuid,
                                      ctx->conf.copy_timeout_ms, &vol, err))
            return false;
        tm->location = vol;
        ok = coord_str_set(&tm->volume_id, vol, err);
    } else {
        snprintf(name, sizeof(name), "%s.qcow2", m->target);
        path = snap_path_join(t->dir, name, err);
        if (!path)
            return false;
        ok = ops_image_file_make(&f, path, false, 0600, err);
        free(path);
        if (!ok)
            return false;
        /* Recorded before it is written: a failure removes it. */
        ok = coord_str_set(&tm->location, f.path, err) &&
             coord_str_set(&tm->copy_format, "qcow2", err) &&
             ops_image_file_convert(&f, m->location,
                                    m->copy_format ? m->copy_format : "qcow2",
                                    "qcow2", ctx->conf.copy_timeout_ms, err);
        ops_image_file_release(&f);
    }
    if (ok)
        tm->state = COORD_MEMBER_AVAILABLE;
    return ok;
}

bool
ops_template_create(ops_ctx *ctx, const char *set_id, const char *name,
                    char uuid[SNAP_UUID_LEN], snap_error *err)
{
    coord_catalog *tcat;
    coord_set *set = NULL, *t = NULL;
    char *src = NULL, *dst = NULL, *xml = NULL;
    snap_error e = {0};
    size_t i, len = 0;
    int lock = -1;
    bool ok = false, recorded = false;

    tcat = ops_templates(ctx, err);
    if (!tcat)
        return false;
    set = ops_set_load_locked(ctx, set_id, &lock, err);
    if (!set)
        return false;
    t = coord_set_new(err);
    if (!t || !coord_str_set(&t->name, name ? name : set->domain_name, err) ||
        !coord_str_set(&t->domain_name, set->domain_name, err))
        goto cleanup;
    memcpy(t->domain_uuid, set->domain_uuid, SNAP_UUID_LEN);
    t->created_ms = snap_wall_ms();
    t->state = COORD_SET_CREATING;
    t->consistency = set->consistency;
    /* The set's pairs (its owner among them), and where it came from. */
    for (i = 0; i + 1 < set->nmetadata * 2; i += 2) {
        if (!coord_set_add_metadata(t, set->metadata[i], set->metadata[i + 1],
                                    err))
            goto cleanup;
    }
    if (!coord_set_add_metadata(t, OPS_TEMPLATE_KEY_SET, set->uuid, err))
        goto cleanup;
    t->dir = coord_catalog_set_dir(tcat, t->uuid, err);
    src = snap_path_join(set->dir, "domain.xml", err);
    if (!t->dir || !src)
        goto cleanup;
    xml = snap_file_read(src, 16 << 20, &len, &e);
    if (!xml) {
        snap_error_set(err, SNAP_E_STATE,
                       "set %s has no domain XML, so no template can be made "
                       "of it: %s",
                       set->uuid, e.msg);
        goto cleanup;
    }
    for (i = 0; i < set->nmembers; i++) {
        coord_member *tm = coord_set_add_member(t, err);

        if (!tm || !member_copy(tm, &set->members[i], err))
            goto cleanup;
    }
    /* The record first: whatever is made after it is named there. */
    if (!snap_dir_make(t->dir, 0700, err))
        goto cleanup;
    if (!coord_catalog_save(tcat, t, err)) {
        (void)snap_dir_remove_files(t->dir, NULL); /* made just now, empty */
        goto cleanup;
    }
    recorded = true;
    dst = snap_path_join(t->dir, "domain.xml", err);
    if (!dst || !snap_file_write_atomic(dst, xml, len, 0600, err))
        goto fail;
    for (i = 0; i < set->nmembers; i++) {
        ops_progress(ctx, i, set->nmembers);
        if (!template_member(ctx, t, &t->members[i], &set->members[i], &e) ||
            !coord_catalog_save(tcat, t, &e)) {
            snap_error_set(err, e.code,
                           "cannot make the template's copy of disk '%s' "
                           "(everything made was removed): %s",
                           set->members[i].target, e.msg);
            goto fail;
        }
    }
    t->state = COORD_SET_AVAILABLE;
    t->finished_ms = snap_wall_ms();
    if (!ops_fault("template-made", err) || !coord_catalog_save(tcat, t, err))
        goto fail;
    memcpy(uuid, t->uuid, SNAP_UUID_LEN);
    ok = true;
    goto cleanup;

fail:
    (void)template_remove(ctx, tcat, t);
    recorded = false;

cleanup:
    if (t && set)
        ops_event(ctx, "create", "template", t->uuid, set, ok ? NULL : err);
    if (!ok && recorded)
        (void)template_remove(ctx, tcat, t);
    free(src);
    free(dst);
    free(xml);
    coord_set_free(t);
    coord_set_free(set);
    coord_catalog_unlock(lock);
    return ok;
}

bool
ops_template_list(ops_ctx *ctx, coord_set ***out, size_t *n, snap_error *err)
{
    coord_catalog *tcat = ops_templates(ctx, err);

    *out = NULL;
    *n = 0;
    return tcat && coord_catalog_list(tcat, out, n, err);
}

/* Template @id, with its lock held; @usable: complete (every copy there). */
static coord_set *
load_locked(ops_ctx *ctx, const char *id, bool usable, int *lock,
            snap_error *err)
{
    coord_catalog *tcat = ops_templates(ctx, err);
    coord_set *t;
    char uuid[SNAP_UUID_LEN];
    size_t i;

    *lock = -1;
    if (!tcat)
        return NULL;
    t = coord_catalog_load(tcat, id, err);
    if (!t) {
        if (err->code == SNAP_E_NOTFOUND) {
            snap_error_clear(err);
            snap_error_set(err, SNAP_E_NOTFOUND, "no template '%s'", id);
        }
        return NULL;
    }
    memcpy(uuid, t->uuid, SNAP_UUID_LEN);
    coord_set_free(t);
    *lock = coord_catalog_lock(tcat, uuid, ctx->conf.lock_timeout_ms, err);
    if (*lock < 0)
        return NULL;
    t = coord_catalog_load(tcat, uuid, err);
    if (t && usable && t->state != COORD_SET_AVAILABLE) {
        snap_error_set(err, SNAP_E_STATE,
                       "template %s is '%s': it was never completed (delete "
                       "it)",
                       t->uuid, coord_set_state_name(t->state));
        coord_set_free(t);
        t = NULL;
    }
    for (i = 0; t && usable && i < t->nmembers; i++) {
        if (t->members[i].kind == COORD_MEMBER_CINDER &&
            !ops_openstack(ctx, err)) {
            coord_set_free(t);
            t = NULL;
        }
    }
    if (!t) {
        coord_catalog_unlock(*lock);
        *lock = -1;
    }
    return t;
}

coord_set *
ops_template_load_locked(ops_ctx *ctx, const char *id, int *lock,
                         snap_error *err)
{
    return load_locked(ctx, id, true, lock, err);
}

bool
ops_template_delete(ops_ctx *ctx, const char *id, snap_error *err)
{
    coord_set *t;
    char *what = NULL;
    snap_error e = {0};
    int lock = -1;
    bool ok = false;

    if (!ops_connect(ctx, err))
        return false;
    t = load_locked(ctx, id, false, &lock, err);
    if (!t)
        return false;
    if (ops_set_in_use(ctx, t, &what, &e)) {
        if (what)
            snap_error_set(err, SNAP_E_STATE, "template %s is in use by %s: %s",
                           t->uuid, what,
                           strstr(what, "linked clone")
                               ? "flatten that domain first (snapset "
                                 "flatten) or remove it"
                               : "delete that volume first");
        else
            snap_error_set(err, e.code, "%s", e.msg);
        goto cleanup;
    }
    if (!template_remove(ctx, ctx->templates, t)) {
        snap_error_set(err, SNAP_E_SYSTEM,
                       "template %s was not removed completely (see the "
                       "warnings): try again",
                       t->uuid);
        goto cleanup;
    }
    ok = true;

cleanup:
    ops_event(ctx, "delete", "template", t->uuid, t, ok ? NULL : err);
    free(what);
    coord_set_free(t);
    coord_catalog_unlock(lock);
    return ok;
}
