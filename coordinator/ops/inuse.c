/* coordinator/ops/inuse.c -- see inuse.h: whether a set (or template) is
 * still in use, and flatten. */
#include "coordinator/ops/inuse.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cinder/cinder.h"
#include "common/snap_fs.h"
#include "common/snap_log.h"
#include "coordinator/coord_domxml.h"
#include "coordinator/ops/domain.h"
#include "virt/qimg.h"

/* Bound on how deep a backing chain is followed. */
#define MAX_CHAIN 32

/* ---- sets in use --------------------------------------------------------- */

/* True when @path names @dir or something under it. */
static bool
under(const char *path, const char *dir)
{
    size_t n = strlen(dir);

    while (n > 1 && dir[n - 1] == '/')
        n--;
    return strncmp(path, dir, n) == 0 && (path[n] == '/' || path[n] == '\0');
}

/* True when the backing chain of image @path goes through a file under
 * @dir (or @rdir, the same with symbolic links resolved). Images that
 * cannot be read are not followed: they cannot hold a chain either. */
static bool
chain_under(const char *path, const char *dir, const char *rdir)
{
    char *cur = NULL, *next = NULL, real[PATH_MAX];
    snap_error e = {0};
    int depth;
    bool found = false;

    cur = strdup(path);
    for (depth = 0; cur && depth < MAX_CHAIN && !found; depth++) {
        if (!virt_qimg_backing(cur, &next, &e)) {
            snap_debug("cannot follow the chain of '%s': %s", cur, e.msg);
            break;
        }
        if (!next)
            break;
        found = under(next, dir) ||
                (rdir && realpath(next, real) && under(real, rdir));
        free(cur);
        cur = next;
        next = NULL;
    }
    free(cur);
    return found;
}

/* The file disks of @xml whose chain goes under @dir: the first one's
 * target in @target (size 64), or "" when none. */
static bool
xml_depends(const char *xml, const char *dir, const char *rdir, char *target,
            snap_error *err)
{
    coord_domain_info info = {0};
    coord_set *disks = coord_set_new(err);
    size_t i;

    target[0] = '\0';
    if (!disks)
        return false;
    if (!coord_domxml_parse(xml, &info, disks, err)) {
        coord_set_free(disks);
        return false;
    }
    for (i = 0; i < disks->nmembers && !target[0]; i++) {
        const coord_member *m = &disks->members[i];

        if (strcmp(m->source_type, "file") == 0 &&
            chain_under(m->source, dir, rdir))
            snprintf(target, 64, "%s", m->target);
    }
    coord_domain_info_release(&info);
    coord_set_free(disks);
    return true;
}

/* Cinder volumes made from the set's snapshots: with RBD they are clones
 * of the snapshot, which Cinder then refuses to delete. */
static bool
cinder_in_use(ops_ctx *ctx, const coord_set *set, char **what, snap_error *err)
{
    cinder_volume **vols = NULL;
    size_t n = 0, i, k;
    bool found = false;

    if (!ops_openstack(ctx, err) ||
        !cinder_volume_list(ctx->os.cinder, NULL, 0, &vols, &n, err))
        return false;
    for (i = 0; i < n && !found; i++) {
        for (k = 0; k < set->nmembers && !found; k++) {
            const coord_member *m = &set->members[k];
            char buf[300], uuid[SNAP_UUID_LEN], *dom = NULL;
            bool clone;

            if (m->kind != COORD_MEMBER_CINDER || !m->location ||
                m->state == COORD_MEMBER_DELETED)
                continue;
            /* A set's location is a snapshot, a template's a volume. */
            clone = vols[i]->source_volid &&
                    strcmp(vols[i]->source_volid, m->location) == 0;
            if (!clone && !(vols[i]->snapshot_id &&
                            strcmp(vols[i]->snapshot_id, m->location) == 0))
                continue;
            found = true;
            /* Its name when the attachment is a domain here. */
            if (vols[i]->nattachments && vols[i]->attachments[0].server_id)
                (void)ops_domain(ctx)->find(
                    ctx, vols[i]->attachments[0].server_id, uuid, &dom, NULL);
            snprintf(buf, sizeof(buf),
                     "%s%s%s%s (volume %s, made from the %s of disk '%s')",
                     dom ? "domain '" : "", dom ? dom : "", dom ? "'" : "",
                     dom ? "" : "Cinder", vols[i]->id,
                     clone ? "volume" : "snapshot", m->target);
            free(dom);
            *what = strdup(buf);
            if (!*what)
                found = snap_error_set(err, SNAP_E_NOMEM, "out of memory");
        }
    }
    cinder_volumes_free(vols, n);
    return found;
}

/* Whether domain @uuid has a file disk whose chain goes under @dir: in
 * its definition, or among its running disks (hot-plugged ones); the
 * disk's target in @target (size 64), "" when none. */
static bool
domain_depends(ops_ctx *ctx, const char *uuid, const char *dir,
               const char *rdir, char *target, snap_error *err)
{
    const ops_domain_ops *d = ops_domain(ctx);
    ops_domain_state state;
    char *xml;
    int pass;
    bool ok;

    target[0] = '\0';
    for (pass = 0; pass < 2 && !target[0]; pass++) {
        if (pass == 1 && !(d->state(ctx, uuid, &state, NULL) &&
                           state != OPS_DOMAIN_STATE_OFF))
            break;
        xml = d->xml(ctx, uuid, pass ? 0 : OPS_DOMAIN_XML_INACTIVE, NULL);
        if (!xml)
            continue; /* undefined meanwhile */
        ok = xml_depends(xml, dir, rdir, target, err);
        free(xml);
        if (!ok)
            return false;
    }
    return true;
}

static bool
in_use(ops_ctx *ctx, const coord_set *set, char **what, snap_error *err)
{
    const ops_domain_ops *d = ops_domain(ctx);
    char **uuids = NULL, *name = NULL, uuid[SNAP_UUID_LEN];
    char rdir[PATH_MAX], target[64];
    const char *nm;
    snap_error e = {0};
    bool have_rdir, found = false, cinder = false;
    size_t n = 0, i, k;

    for (k = 0; k < set->nmembers; k++) {
        if (set->members[k].kind == COORD_MEMBER_CINDER &&
            set->members[k].state != COORD_MEMBER_DELETED)
            cinder = true;
    }
    if (set->dir) {
        have_rdir = realpath(set->dir, rdir) != NULL;
        if (!d->list(ctx, &uuids, &n, &e))
            return snap_error_set(err, e.code, "cannot list the domains: %s",
                                  e.msg);
        for (i = 0; i < n && !found; i++) {
            if (!domain_depends(ctx, uuids[i], set->dir,
                                have_rdir ? rdir : NULL, target, err))
                goto cleanup;
            if (!target[0])
                continue;
            found = true;
            /* Undefined meanwhile: named by its UUID. */
            nm = d->find(ctx, uuids[i], uuid, &name, NULL) ? name : uuids[i];
            *what = malloc(strlen(nm) + 128);
            if (!*what) {
                snap_error_set(err, SNAP_E_NOMEM, "out of memory");
                goto cleanup;
            }
            sprintf(*what, "domain '%s' (disk '%s' is a linked clone)", nm,
                    target);
        }
    }
    if (!found && cinder && ctx->conf.openstack.enabled)
        found = cinder_in_use(ctx, set, what, err);

cleanup:
    free(name);
    for (i = 0; i < n; i++)
        free(uuids[i]);
    free(uuids);
    return found;
}

bool
ops_set_in_use(ops_ctx *ctx, const coord_set *set, char **domain,
               snap_error *err)
{
    snap_error e = {0};
    char *what = NULL;

    if (domain)
        *domain = NULL;
    if (!in_use(ctx, set, &what, &e)) {
        if (!snap_error_isset(&e))
            return false;
        return !snap_error_set(err, e.code,
                               "cannot tell whether set %s is in use: %s",
                               set->uuid, e.msg);
    }
    if (!what)
        return !snap_error_set(err, SNAP_E_NOMEM, "out of memory");
    snap_error_set(err, SNAP_E_STATE, "set %s is in use by %s: %s", set->uuid,
                   what,
                   strstr(what, "linked clone")
                       ? "flatten that domain first (snapset flatten) or "
                         "remove it"
                       : "delete that volume first (Cinder keeps a snapshot "
                         "that volumes were made from)");
    if (domain)
        *domain = what;
    else
        free(what);
    return true;
}

/* ---- flatten ------------------------------------------------------------- */

bool
ops_flatten(ops_ctx *ctx, const char *domain, int *nflattened, snap_error *err)
{
    const ops_domain_ops *d = ops_domain(ctx);
    ops_domain_state state;
    coord_domain_info info = {0};
    coord_set *disks = NULL;
    char *xml = NULL, *sets = NULL, *md = NULL, rdir[PATH_MAX];
    char *set_uuid = NULL, uuid[SNAP_UUID_LEN];
    virt_domedit *edit = NULL;
    snap_error e = {0};
    bool active, linked, have_rdir, ok = false;
    size_t i;

    *nflattened = 0;
    if (!ops_catalog(ctx, err) || !ops_connect(ctx, err))
        return false;
    if (!d->find(ctx, domain, uuid, NULL, err))
        return false;
    sets = snap_path_join(coord_catalog_dir(ctx->catalog), "sets", err);
    if (!sets)
        goto cleanup;
    have_rdir = realpath(sets, rdir) != NULL;
    active = d->state(ctx, uuid, &state, NULL) && state != OPS_DOMAIN_STATE_OFF;
    xml = d->xml(ctx, uuid, active ? 0 : OPS_DOMAIN_XML_INACTIVE, &e);
    if (!xml) {
        snap_error_set(err, e.code, "cannot read the domain XML: %s", e.msg);
        goto cleanup;
    }
    disks = coord_set_new(err);
    if (!disks || !coord_domxml_parse(xml, &info, disks, err))
        goto cleanup;
    for (i = 0; i < disks->nmembers; i++) {
        const coord_member *m = &disks->members[i];
        const char *argv[] = {"qemu-img", "rebase", "-q",      "-f", "qcow2",
                              "-b",       "",       m->source, NULL};
        char what[PATH_MAX + 64];

        if (strcmp(m->source_type, "file") != 0 ||
            !chain_under(m->source, sets, have_rdir ? rdir : NULL))
            continue;
        snap_info("flattening disk '%s' of '%s' (%s)", m->target, domain,
                  active ? "block pull" : "qemu-img rebase");
        if (active) {
            if (!d->block_pull(ctx, uuid, m->target, ctx->conf.copy_timeout_ms,
                               err))
                goto cleanup;
        } else {
            /* Safe mode: the data of the whole chain is copied in. */
            snprintf(what, sizeof(what), "cannot flatten '%s'", m->source);
            if (!virt_qimg_run(argv, ctx->conf.copy_timeout_ms, what, err))
                goto cleanup;
        }
        (*nflattened)++;
    }
    /* Say so in the metadata spawn left, when there is one. */
    edit = virt_domedit_new(xml, err);
    if (!edit || !virt_domedit_origin_get(edit, &set_uuid, &linked, err))
        goto cleanup;
    if (set_uuid && linked) {
        size_t len = strlen(set_uuid) + 128;

        md = malloc(len);
        if (!md) {
            snap_error_set(err, SNAP_E_NOMEM, "out of memory");
            goto cleanup;
        }
        snprintf(md, len, "<spawn set='%s' linked='no'/>", set_uuid);
        snap_error_clear(&e);
        if (!d->metadata_set(ctx, uuid, md, "snapset", VIRT_DOMEDIT_NS, active,
                             &e))
            snap_warn("cannot update the spawn metadata of '%s': %s", domain,
                      e.msg);
    }
    ok = true;

cleanup:
    free(set_uuid);
    free(md);
    virt_domedit_free(edit);
    coord_domain_info_release(&info);
    coord_set_free(disks);
    free(xml);
    free(sets);
    return ok;
}
