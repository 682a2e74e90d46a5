/* coordinator/ops/chain.c -- see chain.h. */
#include "coordinator/ops/chain.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/snap_fault.h"
#include "common/snap_fs.h"
#include "common/snap_log.h"
#include "common/snap_strv.h"
#include "coordinator/coord_catalog.h"
#include "coordinator/coord_chain.h"
#include "glance/glance.h"
#include "virt/checkpoint.h"
#include "virt/qimg.h"
#include "virt/virt.h"

static bool
file_exists(const char *path)
{
    return snap_path_exists(path);
}

bool
ops_chain_plan(ops_ctx *ctx, struct _virDomain *dom, coord_set *set,
               snap_error *err)
{
    coord_set **sets = NULL;
    const coord_set *prev;
    char **cps = NULL, **bitmaps = NULL, **known = NULL;
    size_t nsets = 0, ncps = 0, nbitmaps = 0, nknown = 0, i;
    coord_chain_facts f = {0};
    snap_error probe = {0};
    bool ok = false;

    if (!coord_catalog_list(ctx->catalog, &sets, &nsets, err))
        return false;
    prev = coord_chain_last(sets, nsets, set->domain_uuid, set->uuid);
    for (i = 0; i < nsets; i++) {
        if (sets[i]->checkpoint &&
            strcmp(sets[i]->domain_uuid, set->domain_uuid) == 0 &&
            !snap_strv_append(&known, &nknown, sets[i]->checkpoint, err))
            goto cleanup;
    }
    for (i = 0; i < set->nmembers; i++) {
        coord_member *m = &set->members[i];

        /* The size now, to compare with the previous copy's. */
        if (m->kind == COORD_MEMBER_LOCAL && !m->size)
            (void)virt_disk_capacity(dom, m->target, &m->size, NULL);
    }
    if (virt_checkpoint_list(dom, COORD_CHAIN_CP_PREFIX, &cps, &ncps, &probe) &&
        prev && snap_strv_contains(cps, ncps, prev->checkpoint, false))
        (void)virt_checkpoint_bitmaps(dom, prev->checkpoint, &bitmaps,
                                      &nbitmaps, &probe);
    f.checkpoints = (const char *const *)cps;
    f.ncheckpoints = ncps;
    f.known = (const char *const *)known;
    f.nknown = nknown;
    f.bitmap_disks = (const char *const *)bitmaps;
    f.nbitmap_disks = nbitmaps;
    f.probe_error = snap_error_isset(&probe) ? probe.msg : NULL;
    f.copy_format = ctx->conf.copy_format;
    f.off = !ctx->conf.incremental || set->memory;
    f.off_reason = set->memory ? OPS_CHAIN_MEMORY_REASON : NULL;
    f.exists = file_exists;
    ok = coord_chain_plan(set, prev, &f, err);
    for (i = 0; ok && i < set->nmembers; i++) {
        const coord_member *m = &set->members[i];

        if (m->kind != COORD_MEMBER_LOCAL)
            continue;
        if (m->mode == COORD_COPY_INCREMENTAL)
            snap_info("disk '%s': incremental on set %s", m->target, m->base);
        else
            snap_info("disk '%s': full copy (%s)", m->target,
                      m->full_reason ? m->full_reason : "no reason");
    }

cleanup:
    snap_strv_free(cps, ncps);
    snap_strv_free(bitmaps, nbitmaps);
    snap_strv_free(known, nknown);
    coord_catalog_list_free(sets, nsets);
    return ok;
}

void
ops_chain_trim(ops_ctx *ctx, struct _virDomain *dom, const coord_set *set)
{
    snap_error e = {0};

    /* A set that made no checkpoint leaves the older one, the newest
     * still, unless incremental copies are off: then none is kept. */
    if (!set->checkpoint && ctx->conf.incremental)
        return;
    snap_fault("before-checkpoint-trim");
    if (!virt_checkpoint_delete_all(dom, COORD_CHAIN_CP_PREFIX, set->checkpoint,
                                    &e))
        snap_warn("set %s: cannot delete older checkpoints (the next set "
                  "copies in full): %s",
                  set->uuid, e.msg);
}

bool
ops_chain_digest(const char *path, char hex[COORD_SHA256_HEX], snap_error *err)
{
    char full[GLANCE_HASH_HEX_SIZE];

    if (!glance_sha256_file(path, full, err))
        return false;
    memcpy(hex, full, COORD_SHA256_HEX - 1);
    hex[COORD_SHA256_HEX - 1] = '\0';
    return true;
}

/* True when the backing file qcow2 image @path names is the file @want
 * (NULL: it names none). */
static bool
backed_by(const char *path, const char *want, bool *same, snap_error *err)
{
    char *cur = NULL, a[PATH_MAX], b[PATH_MAX];

    *same = false;
    if (!virt_qimg_backing(path, &cur, err))
        return false;
    if (!cur || !want)
        *same = !cur && !want;
    else
        *same = realpath(cur, a) && realpath(want, b) && strcmp(a, b) == 0;
    free(cur);
    return true;
}

/* @want's backing @rel resolved from the directory of @path. */
static char *
resolve(const char *path, const char *rel, snap_error *err)
{
    char *dir, *abs;

    if (!rel)
        return NULL;
    dir = snap_path_dir(path, err);
    if (!dir)
        return NULL;
    abs = snap_path_join(dir, rel, err);
    free(dir);
    return abs;
}

/* Child copy @cm (of set @child) stops stacking on @pm (of the set being
 * deleted, @set): rebased onto what @pm stacks on, then recorded. */
static bool
merge(ops_ctx *ctx, coord_set *child, coord_member *cm, const coord_set *set,
      const coord_member *pm, snap_error *err)
{
    char *want = NULL, why[160];
    struct stat st;
    bool done, ok = false;

    if (pm->backing && !(want = resolve(cm->location, pm->backing, err)))
        return false;
    if (!backed_by(cm->location, want, &done, err))
        goto cleanup;
    if (!done) {
        snap_fault("delete-before-merge");
        snap_info("set %s, disk '%s': merging what it needs of set %s",
                  child->uuid, cm->target, set->uuid);
        if (!virt_qimg_rebase(cm->location, pm->backing, "qcow2",
                              ctx->conf.copy_timeout_ms, err))
            goto cleanup;
        snap_fault("merge-after-rebase");
    }
    if (!coord_str_set(&cm->base, pm->base, err) ||
        !coord_str_set(&cm->backing, pm->backing, err))
        goto cleanup;
    cm->mode = pm->backing ? COORD_COPY_INCREMENTAL : COORD_COPY_FULL;
    snprintf(why, sizeof(why),
             "made whole when set %s, which it stacked on, "
             "was deleted",
             set->uuid);
    if (!coord_str_set(&cm->full_reason, pm->backing ? NULL : why, err))
        goto cleanup;
    if (stat(cm->location, &st) < 0) {
        snap_error_set_errno(err, errno, "copy '%s' is missing", cm->location);
        goto cleanup;
    }
    cm->allocated = (uint64_t)st.st_blocks * 512;
    if (!virt_qimg_own_bytes(cm->location, ctx->conf.copy_timeout_ms,
                             &cm->bytes_copied, err) ||
        !ops_chain_digest(cm->location, cm->sha256, err) ||
        !coord_catalog_save(ctx->catalog, child, err))
        goto cleanup;
    snap_fault("merge-after-record");
    ok = true;

cleanup:
    free(want);
    return ok;
}

/* Whether @cm stacks on @pm: by its record, or by what its image names
 * (a rebase a dead delete did before recording it). */
static bool
stacks_on(const coord_member *cm, const coord_set *set, const coord_member *pm,
          bool *yes, snap_error *err)
{
    *yes = cm->base && strcmp(cm->base, set->uuid) == 0;
    if (*yes || !cm->location || !pm->location || !cm->copy_format ||
        strcmp(cm->copy_format, "qcow2") != 0 ||
        !snap_path_exists(cm->location) || !snap_path_exists(pm->location))
        return true;
    return backed_by(cm->location, pm->location, yes, err);
}

bool
ops_chain_unlink(ops_ctx *ctx, struct _virDomain *dom, coord_set *set,
                 snap_error *err)
{
    coord_set **sets = NULL;
    size_t nsets = 0, i, k;
    bool ok = false, yes;

    if (!coord_catalog_list(ctx->catalog, &sets, &nsets, err))
        return false;
    for (i = 0; i < nsets; i++) {
        coord_set *child = sets[i];

        if (strcmp(child->uuid, set->uuid) == 0 ||
            strcmp(child->domain_uuid, set->domain_uuid) != 0)
            continue;
        for (k = 0; k < child->nmembers; k++) {
            coord_member *cm = &child->members[k];
            const coord_member *pm = coord_chain_member(set, cm->target);

            if (cm->kind != COORD_MEMBER_LOCAL || !pm ||
                pm->kind != COORD_MEMBER_LOCAL ||
                cm->state == COORD_MEMBER_DELETED)
                continue;
            if (!stacks_on(cm, set, pm, &yes, err))
                goto cleanup;
            if (!yes)
                continue;
            if (child->state == COORD_SET_DELETING) {
                snap_error_set(err, SNAP_E_STATE,
                               "set %s stacks on set %s and its delete did "
                               "not finish: delete set %s first",
                               child->uuid, set->uuid, child->uuid);
                goto cleanup;
            }
            if (pm->state == COORD_MEMBER_DELETED || !pm->location ||
                !snap_path_exists(pm->location)) {
                snap_error_set(err, SNAP_E_STATE,
                               "the copy of disk '%s' in set %s stacks on set "
                               "%s's, which is gone: set %s cannot be read "
                               "(snapset verify)",
                               cm->target, child->uuid, set->uuid, child->uuid);
                goto cleanup;
            }
            if (!merge(ctx, child, cm, set, pm, err))
                goto cleanup;
        }
    }
    /* Its bitmaps count from its point: no later set may start there. */
    if (dom && set->checkpoint &&
        !virt_checkpoint_delete(dom, set->checkpoint, err))
        goto cleanup;
    ok = true;

cleanup:
    coord_catalog_list_free(sets, nsets);
    return ok;
}
