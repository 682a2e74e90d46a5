/* coordinator/ops/rbd.c -- see rbd.h. */
#include "coordinator/ops/rbd.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/snap_fault.h"
#include "common/snap_log.h"
#include "common/snap_time.h"

#define WHY_SIZE 400

bool
ops_rbd_member(const coord_member *m)
{
    return m->kind == COORD_MEMBER_CINDER && m->snap_path &&
           strcmp(m->snap_path, "rbd") == 0;
}

static void
rbd_snap_name(const coord_set *set, const coord_member *m, char *buf,
              size_t size)
{
    snprintf(buf, size, "snapset-%s-%s", set->uuid, m->target);
}

/* True when @m's source is Cinder's RBD image of its volume: POOL/
 * volume-<id> (the RBD driver's volume_name_template). */
static bool
image_of_volume(const coord_member *m)
{
    const char *slash = m->source ? strchr(m->source, '/') : NULL;

    return slash && slash > m->source && m->volume_id &&
           !strchr(slash + 1, '/') && !strchr(m->source, '@') &&
           strncmp(slash + 1, "volume-", 7) == 0 &&
           strcmp(slash + 8, m->volume_id) == 0;
}

static bool
ceph_open(ops_rbd *r, snap_error *err)
{
    const coord_openstack_conf *c = r->conf;
    ceph_opts o;

    if (r->ceph)
        return true;
    memset(&o, 0, sizeof(o));
    o.conf = c->ceph_conf;
    o.user = c->ceph_user ? c->ceph_user : "cinder";
    o.keyring = c->ceph_keyring;
    o.connect_timeout_ms = c->ceph_timeout_ms;
    o.op_timeout_ms = c->ceph_timeout_ms;
    r->ceph = ceph_connect(&o, err);
    return r->ceph != NULL;
}

/* Whether the token carries a role Cinder's snapshot_manage policy grants
 * (openstack.manage_roles); @why says why not. */
static bool
token_may_manage(ops_rbd *r, char *why, size_t size)
{
    const coord_openstack_conf *c = r->conf;
    cinder_token_info info;
    snap_error e = {0};
    const char *tok;
    char *copy;
    size_t i, k;
    bool found = false;

    if (cinder_session_noauth(r->session))
        return true; /* no Keystone, no roles: Cinder does not check */
    tok = cinder_session_token(r->session, &e);
    copy = tok ? strdup(tok) : NULL;
    if (!copy) {
        snprintf(why, size, "cannot read the token's roles: %s",
                 e.msg[0] ? e.msg : "out of memory");
        return false;
    }
    if (!cinder_session_validate_token(r->session, copy, &info, &e)) {
        free(copy);
        snprintf(why, size, "cannot read the token's roles: %s", e.msg);
        return false;
    }
    free(copy);
    for (i = 0; i < info.nroles && !found; i++) {
        for (k = 0; k < c->nmanage_roles && !found; k++)
            found = strcasecmp(info.roles[i], c->manage_roles[k]) == 0;
    }
    cinder_token_info_release(&info);
    if (!found)
        snprintf(why, size,
                 "the token has none of the roles openstack.manage_roles "
                 "names, so Cinder's policy snapshot_extension:"
                 "snapshot_manage would refuse the registration");
    return found;
}

/* The reason shared by every member, once per set, that needs a request
 * (the token's roles) or Ceph: an empty @why when the direct path is
 * open. Asked only for a member that passed every check of its own. */
static void
common_reason(ops_rbd *r, char *why, size_t size)
{
    snap_error e = {0};

    if (!token_may_manage(r, why, size))
        return;
    if (!ceph_open(r, &e))
        snprintf(why, size, "no Ceph access from this host: %s", e.msg);
}

/* The domain's attachments as Cinder records them, read once per set
 * (one request for all the members) when the first member needs them. */
typedef struct att_cache {
    const char *domain_uuid;
    bool read;
    cinder_attachment_info *infos;
    size_t n;
    snap_error err; /* why they could not be read */
} att_cache;

/* Confirms from Cinder's own record that @m's disk is the RBD image
 * Cinder connected for @attachment (the volume's attachment to this
 * domain): Nova's attachments (the attachments API, since Queens) keep
 * the connection_info, whose driver_volume_type and name must be rbd and
 * the disk's source. A legacy attachment (os-attach) keeps none, and
 * Cinder below 3.27 shows none: the domain's disk then decides alone.
 * Sets @why when the member must take the REST path, else @how says what
 * confirmed it. */
static void
attachment_check(ops_rbd *r, att_cache *ac, const coord_member *m,
                 const char *attachment, char *why, char *how, size_t size)
{
    const cinder_attachment_info *info = NULL;
    size_t i;

    if (!attachment || !ac->domain_uuid) {
        snprintf(how, size,
                 "the domain's RBD disk (Cinder names no attachment)");
        return;
    }
    if (cinder_client_microversion(r->cinder) < CINDER_MV(3, 27)) {
        snprintf(how, size,
                 "the domain's RBD disk (Cinder below microversion 3.27 "
                 "shows no attachment)");
        return;
    }
    if (!ac->read) {
        ac->read = true;
        (void)cinder_attachment_list(r->cinder, ac->domain_uuid, &ac->infos,
                                     &ac->n, &ac->err);
    }
    if (snap_error_isset(&ac->err)) {
        snprintf(why, size, "cannot read attachment %s: %s", attachment,
                 ac->err.msg);
        return;
    }
    for (i = 0; i < ac->n && !info; i++) {
        if (strcasecmp(ac->infos[i].id, attachment) == 0)
            info = &ac->infos[i];
    }
    if (!info)
        snprintf(why, size,
                 "attachment %s is not among the domain's attachments in "
                 "Cinder",
                 attachment);
    else if (!m->volume_id || strcasecmp(info->volume_id, m->volume_id) != 0)
        snprintf(why, size, "attachment %s is of volume %s, not this disk's",
                 attachment, info->volume_id);
    else if (!info->has_connection)
        snprintf(how, size,
                 "the domain's RBD disk (attachment %s is a legacy one: "
                 "Cinder keeps no connection_info)",
                 attachment);
    else if (!info->driver_volume_type ||
             strcmp(info->driver_volume_type, "rbd") != 0)
        snprintf(why, size,
                 "attachment %s's connection_info has driver_volume_type "
                 "'%s', not rbd",
                 attachment,
                 info->driver_volume_type ? info->driver_volume_type : "");
    else if (!info->name || strcmp(info->name, m->source) != 0)
        snprintf(why, size,
                 "attachment %s's connection_info names RBD image '%s', "
                 "the domain's disk '%s'",
                 attachment, info->name ? info->name : "", m->source);
    else
        snprintf(how, size, "attachment %s's connection_info (rbd %s)",
                 attachment, info->name);
}

/* Sets @m's path: with @why (not empty) the REST path, else direct,
 * confirmed as @how says. */
static bool
member_path(coord_set *set, coord_member *m, const char *why, const char *how,
            snap_error *err)
{
    char name[128];

    free(m->rbd_image);
    free(m->rbd_snap);
    free(m->path_reason);
    m->rbd_image = m->rbd_snap = m->path_reason = NULL;
    if (why[0])
        return coord_str_set(&m->snap_path, "cinder", err) &&
               coord_str_set(&m->path_reason, why, err);
    rbd_snap_name(set, m, name, sizeof(name));
    return coord_str_set(&m->snap_path, "rbd", err) &&
           coord_str_set(&m->rbd_image, m->source, err) &&
           coord_str_set(&m->rbd_snap, name, err) &&
           (!how[0] || coord_str_set(&m->path_reason, how, err));
}

/* Opens the images of the direct members: the last thing before the
 * freeze, so that inside it only the creates remain. */
static bool
batch_open(ops_rbd *r, coord_set *set, size_t ndirect, snap_error *err)
{
    const char **images = calloc(ndirect, sizeof(*images));
    const char **snaps = calloc(ndirect, sizeof(*snaps));
    size_t i, k = 0;
    bool ok = false;

    r->batch_members = calloc(ndirect, sizeof(*r->batch_members));
    if (!images || !snaps || !r->batch_members) {
        snap_error_set(err, SNAP_E_NOMEM, "out of memory");
        goto out;
    }
    for (i = 0; i < set->nmembers; i++) {
        if (!ops_rbd_member(&set->members[i]))
            continue;
        images[k] = set->members[i].rbd_image;
        snaps[k] = set->members[i].rbd_snap;
        r->batch_members[k++] = i;
    }
    r->nbatch = k;
    r->batch = ceph_batch_new(r->ceph, images, snaps, k, err);
    ok = r->batch != NULL;

out:
    free(images);
    free(snaps);
    return ok;
}

bool
ops_rbd_classify(ops_rbd *r, coord_set *set, const char *domain_uuid,
                 const char *const *attachments, snap_error *err)
{
    const coord_openstack_conf *c = r->conf;
    const char *mode = c && c->direct_rbd ? c->direct_rbd : "never";
    char common[WHY_SIZE] = "", why[WHY_SIZE], how[WHY_SIZE];
    att_cache ac = {domain_uuid, false, NULL, 0, {0}};
    bool checked = false, ok = false;
    size_t i, ndirect = 0;

    ops_rbd_release(r);
    if (strcmp(mode, "never") == 0)
        snprintf(common, sizeof(common), "openstack.direct_rbd = never");
    for (i = 0; i < set->nmembers; i++) {
        coord_member *m = &set->members[i];
        snap_error e = {0};

        if (m->kind != COORD_MEMBER_CINDER)
            continue;
        why[0] = how[0] = '\0';
        if (common[0]) {
            snprintf(why, sizeof(why), "%s", common);
        } else if (!m->protocol || strcmp(m->protocol, "rbd") != 0) {
            snprintf(why, sizeof(why),
                     "not an RBD disk (source type %s, protocol %s)",
                     m->source_type ? m->source_type : "?",
                     m->protocol ? m->protocol : "none");
        } else if (!image_of_volume(m)) {
            snprintf(why, sizeof(why),
                     "RBD image '%s' is not Cinder's image of volume %s",
                     m->source ? m->source : "", m->volume_id);
        } else if (cinder_client_microversion(r->cinder) < CINDER_MV(3, 8)) {
            snprintf(why, sizeof(why),
                     "Cinder's API is below microversion 3.8 "
                     "(manageable_snapshots)");
        } else {
            attachment_check(r, &ac, m, attachments ? attachments[i] : NULL,
                             why, how, sizeof(why));
            if (!why[0] && !checked) {
                common_reason(r, common, sizeof(common));
                checked = true;
            }
            if (!why[0] && common[0])
                snprintf(why, sizeof(why), "%s", common);
            else if (!why[0] && !ceph_image_check(r->ceph, m->source, &e))
                snprintf(why, sizeof(why), "%s", e.msg);
        }
        if (why[0] && strcmp(mode, "always") == 0) {
            snap_error_set(err, SNAP_E_STATE,
                           "disk %s cannot take the direct RBD path "
                           "(openstack.direct_rbd = always): %s",
                           m->target, why);
            goto out;
        }
        if (!member_path(set, m, why, how, err))
            goto out;
        if (why[0]) {
            snap_info("disk %s: snapshot through Cinder's API: %s", m->target,
                      why);
        } else {
            snap_info("disk %s: direct RBD snapshot of %s, confirmed by %s",
                      m->target, m->source, how);
            ndirect++;
        }
    }
    if (ndirect == 0) {
        ops_rbd_release(r);
        ok = true;
        goto out;
    }
    ok = batch_open(r, set, ndirect, err);
out:
    cinder_attachment_infos_free(ac.infos, ac.n);
    return ok;
}

/* The creates start here, after the local disks' backup job has begun:
 * that job begins with a QMP transaction that drains every disk, and an
 * RBD disk does not drain while a snapshot of it is being made (librbd
 * holds its writes until the snapshot exists). Started first, a slow
 * snapshot (a monitor that does not answer) would hold QEMU's main loop,
 * and with it the agent that has to thaw the guest at the deadline. */
bool
ops_rbd_wait(ops_rbd *r, coord_set *set, int64_t deadline_ms, snap_error *err)
{
    size_t i;
    bool ok;

    if (!r->batch)
        return true;
    ok = ceph_batch_start(r->batch, err);
    ok = ceph_batch_wait(r->batch, deadline_ms, ok ? err : NULL) && ok;
    for (i = 0; i < r->nbatch; i++) {
        if (ceph_batch_result(r->batch, i) < 0)
            set->members[r->batch_members[i]].state = COORD_MEMBER_FAILED;
    }
    /* The snapshots exist, Cinder knows nothing yet: recovery finds them
     * by the names the journal holds. */
    snap_fault("after-rbd-snapshots");
    return ok;
}

/* A registration Cinder put in error (the reference was refused) is
 * deleted again, so that the next attempt starts clean. False when it
 * could not be: the member keeps its id (the rollback deletes it). */
static bool
register_undo(ops_rbd *r, coord_set *set, coord_member *m)
{
    const char *ids[1] = {m->location};
    snap_error e = {0};

    if (!cinder_snapshot_delete(r->cinder, m->location, &e) &&
        e.code == SNAP_E_NOTFOUND)
        snap_error_clear(&e);
    if (!snap_error_isset(&e) &&
        cinder_snapshots_wait_deleted(
            r->cinder, ids, 1, snap_now_ms() + r->delete_timeout_ms, &e)) {
        free(m->location);
        m->location = NULL;
        return true;
    }
    snap_warn("set %s: cannot delete the failed registration %s: %s", set->uuid,
              m->location, e.msg);
    return false;
}

/* A failure another attempt cannot change: Cinder refused the request
 * itself (policy, unknown volume, bad reference) or gave up waiting. */
static bool
final_failure(const snap_error *e)
{
    return e->code == SNAP_E_TIMEOUT || e->code == SNAP_E_INVALID ||
           (e->code == SNAP_E_HTTP && e->http_status >= 400 &&
            e->http_status < 500 && e->http_status != 409 &&
            e->http_status != 429);
}

/* After the last failed attempt: the RBD snapshot goes (unless Cinder has
 * it under an id, which rollback deletes), the member is failed. */
static void
give_up(ops_rbd *r, coord_set *set, coord_member *m, int attempts,
        const snap_error *why)
{
    char text[WHY_SIZE + 64];
    snap_error e = {0};
    bool removed = false;

    snprintf(text, sizeof(text),
             "registering with Cinder failed after %d "
             "attempt%s: %s",
             attempts, attempts == 1 ? "" : "s", why->msg);
    (void)coord_str_set(&m->path_reason, text, NULL);
    m->state = COORD_MEMBER_FAILED;
    if (m->location)
        return;
    if (ceph_open(r, &e) &&
        ceph_snap_remove(r->ceph, m->rbd_image, m->rbd_snap, &removed, &e)) {
        free(m->rbd_snap);
        m->rbd_snap = NULL;
        return;
    }
    snap_warn("set %s: cannot remove RBD snapshot %s@%s: %s", set->uuid,
              m->rbd_image, m->rbd_snap, e.msg);
}

/* What one registration is at: being tried, done, or given up (final
 * failure, or the last attempt spent). */
enum { REG_PENDING, REG_DONE, REG_FAILED };

typedef struct reg {
    size_t member;
    int state;
    int attempts; /* made so far */
    bool kept;    /* in error in Cinder and could not be deleted */
    snap_error err;
} reg;

/* The registrations of @regs[@which[0..@n-1]] as one batch of requests
 * sent at once. Each one Cinder accepted gives its member's location
 * (the new Cinder snapshot, status "creating"; the round's wait follows);
 * each refused one its reg's err. */
static void
register_post(ops_rbd *r, coord_set *set, reg *regs, const size_t *which,
              size_t n)
{
    cinder_snapshot_req *reqs = calloc(n, sizeof(*reqs));
    cinder_kv *md = calloc(4 * n, sizeof(*md));
    const char **sources = calloc(n, sizeof(*sources));
    cinder_snapshot **out = calloc(n, sizeof(*out));
    snap_error *errs = calloc(n, sizeof(*errs));
    char(*names)[96] = calloc(n, sizeof(*names));
    snap_error e = {0};
    size_t i;

    if (!reqs || !md || !sources || !out || !errs || !names) {
        for (i = 0; i < n; i++)
            snap_error_set(&regs[which[i]].err, SNAP_E_NOMEM, "out of memory");
        goto cleanup;
    }
    for (i = 0; i < n; i++) {
        coord_member *m = &set->members[regs[which[i]].member];

        snprintf(names[i], sizeof(names[i]), "snapset-%.8s-%s", set->uuid,
                 m->target);
        md[4 * i] = (cinder_kv){COORD_MD_SET, set->uuid};
        md[4 * i + 1] = (cinder_kv){COORD_MD_DOMAIN, set->domain_name};
        md[4 * i + 2] = (cinder_kv){COORD_MD_TARGET, m->target};
        md[4 * i + 3] = (cinder_kv){COORD_MD_CONSISTENCY,
                                    coord_consistency_name(set->consistency)};
        reqs[i].volume_id = m->volume_id;
        reqs[i].name = names[i];
        reqs[i].description =
            "snapset consistent snapshot set member (direct RBD)";
        reqs[i].metadata = &md[4 * i];
        reqs[i].nmetadata = 4;
        sources[i] = m->rbd_snap;
    }
    (void)cinder_snapshots_manage_many(r->cinder, reqs, sources, n, out, errs,
                                       &e);
    for (i = 0; i < n; i++) {
        reg *g = &regs[which[i]];
        coord_member *m = &set->members[g->member];

        if (!out[i]) {
            /* its own failure, or (refused before anything was sent) the
             * batch's */
            g->err = errs[i].code ? errs[i] : e;
            continue;
        }
        if (!coord_str_set(&m->location, out[i]->id, &g->err))
            continue;
        snap_fault("during-manage");
    }
cleanup:
    if (out)
        cinder_snapshots_free(out, n);
    free(reqs);
    free(md);
    free(sources);
    free(errs);
    free(names);
}

/* Whether the end of a wait concerns every snapshot in it. */
static bool
all_fail(const snap_error *e)
{
    return e->code != SNAP_E_STATE && e->code != SNAP_E_NOTFOUND;
}

/* Waits for the registrations of @regs posted in this round (location
 * set, still pending) under one deadline, one poller for all; marks each
 * done, or records why not. A wait that ends early on one snapshot's
 * error goes on for the others. */
static void
register_wait(ops_rbd *r, coord_set *set, reg *regs, size_t n,
              int64_t deadline_ms)
{
    const cinder_kv filter = {COORD_MD_SET, set->uuid};
    cinder_wait_result *res = calloc(n, sizeof(*res));
    const char **ids = calloc(n, sizeof(*ids));
    size_t *which = calloc(n, sizeof(*which));
    bool progress;
    size_t i, k;

    if (!res || !ids || !which) {
        for (i = 0; i < n; i++)
            if (regs[i].state == REG_PENDING)
                snap_error_set(&regs[i].err, SNAP_E_NOMEM, "out of memory");
        goto out;
    }
    for (;;) {
        snap_error e = {0};

        for (i = k = 0; i < n; i++) {
            coord_member *m = &set->members[regs[i].member];

            if (regs[i].state == REG_PENDING && m->location &&
                !snap_error_isset(&regs[i].err)) {
                ids[k] = m->location;
                which[k++] = i;
            }
        }
        if (k == 0)
            break;
        memset(res, 0, n * sizeof(*res));
        if (cinder_snapshots_wait(r->cinder, ids, k, &filter, deadline_ms, res,
                                  &e)) {
            for (i = 0; i < k; i++)
                regs[which[i]].state = REG_DONE;
            break;
        }
        for (i = 0, progress = false; i < k; i++) {
            reg *g = &regs[which[i]];
            const char *st = res[i].status;

            if (strcmp(st, "available") == 0) {
                g->state = REG_DONE;
            } else if (all_fail(&e) || strstr(e.msg, ids[i])) {
                /* one for all (the deadline, a refused poll), or the
                 * snapshot the wait stopped on */
                snap_error_set(&g->err, e.code, "%s", e.msg);
            } else if (st[0] && strcmp(st, "creating") != 0) {
                snap_error_set(&g->err, SNAP_E_STATE,
                               "Cinder snapshot '%s' is in '%s'", ids[i], st);
            } else {
                continue;
            }
            progress = true;
        }
        if (!progress) { /* a failure naming none of them: all share it */
            for (i = 0; i < k; i++)
                snap_error_set(&regs[which[i]].err, e.code, "%s", e.msg);
        }
    }
out:
    free(res);
    free(ids);
    free(which);
}

/* After the thaw: every direct member's RBD snapshot is registered with
 * Cinder. A round sends the registrations still to do, one request each,
 * request_concurrency at a time, then waits for all of them at once
 * (their time to available overlaps);
 * what failed and may succeed on another attempt goes into the next round,
 * up to manage_attempts. */
bool
ops_rbd_register(ops_rbd *r, coord_set *set, const size_t *idx, size_t n,
                 snap_error *err)
{
    int attempts = r->conf->manage_attempts > 0 ? r->conf->manage_attempts : 1;
    reg *regs = calloc(n ? n : 1, sizeof(*regs));
    size_t *which = calloc(n ? n : 1, sizeof(*which));
    size_t i, k, batch, nregs = 0, again;
    bool ok = true;
    int round;

    if (!regs || !which) {
        free(regs);
        free(which);
        ops_rbd_release(r);
        return snap_error_set(err, SNAP_E_NOMEM, "out of memory");
    }
    for (i = 0; i < n; i++) {
        if (ops_rbd_member(&set->members[idx[i]]) &&
            set->members[idx[i]].rbd_snap)
            regs[nregs++].member = idx[i];
    }
    for (round = 1, again = nregs; again > 0 && round <= attempts; round++) {
        if (round > 1)
            snap_sleep_ms(250 * (round - 1));
        /* K at a time (openstack.request_concurrency, 0: all), as the
         * REST path's creates go. */
        for (i = k = 0; i < nregs; i++) {
            reg *g = &regs[i];

            if (g->state != REG_PENDING)
                continue;
            snap_error_clear(&g->err);
            g->attempts = round;
            which[k++] = i;
        }
        for (i = 0; i < k; i += batch) {
            batch = r->conf->request_concurrency > 0 &&
                            (size_t)r->conf->request_concurrency < k - i
                        ? (size_t)r->conf->request_concurrency
                        : k - i;
            register_post(r, set, regs, which + i, batch);
        }
        register_wait(r, set, regs, nregs,
                      snap_now_ms() + r->conf->manage_timeout_ms);
        for (i = 0, again = 0; i < nregs; i++) {
            reg *g = &regs[i];
            coord_member *m = &set->members[g->member];

            if (g->state != REG_PENDING)
                continue;
            snap_warn("set %s: disk %s: registration %d of %d: %s", set->uuid,
                      m->target, round, attempts, g->err.msg);
            if (final_failure(&g->err) || round == attempts) {
                g->state = REG_FAILED;
                continue;
            }
            if (m->location && !register_undo(r, set, m)) {
                g->state = REG_FAILED; /* in error, and still there */
                g->kept = true;
                continue;
            }
            again++; /* sent again next round */
        }
    }
    for (i = 0; i < nregs; i++) {
        reg *g = &regs[i];
        coord_member *m = &set->members[g->member];

        if (g->state == REG_DONE) {
            /* Cinder renamed it to its own name: nothing of ours left. */
            free(m->rbd_snap);
            m->rbd_snap = NULL;
            continue;
        }
        if (m->location && !g->kept && g->err.code != SNAP_E_TIMEOUT)
            (void)register_undo(r, set, m);
        give_up(r, set, m, g->attempts, &g->err);
        if (ok)
            ok = snap_error_set(err, g->err.code,
                                "disk %s: cannot register its RBD snapshot "
                                "with Cinder: %s",
                                m->target, g->err.msg);
    }
    free(regs);
    free(which);
    ops_rbd_release(r);
    return ok;
}

bool
ops_rbd_sweep(ops_rbd *r, coord_set *set, snap_error *err)
{
    char name[128];
    bool ok = true;
    size_t i;

    for (i = 0; i < set->nmembers; i++) {
        coord_member *m = &set->members[i];
        snap_error e = {0};
        bool removed = false;

        if (!ops_rbd_member(m) || !m->rbd_snap)
            continue;
        rbd_snap_name(set, m, name, sizeof(name));
        if (strcmp(m->rbd_snap, name) != 0 || !m->rbd_image || !m->source ||
            strcmp(m->rbd_image, m->source) != 0 || !image_of_volume(m)) {
            snap_warn("set %s: leaving RBD snapshot %s@%s alone: it is not "
                      "a name this set gives its disk %s",
                      set->uuid, m->rbd_image ? m->rbd_image : "?", m->rbd_snap,
                      m->target);
            continue;
        }
        if (!ceph_open(r, &e) || !ceph_snap_remove(r->ceph, m->rbd_image,
                                                   m->rbd_snap, &removed, &e)) {
            if (ok)
                ok = snap_error_set(err, e.code,
                                    "cannot remove RBD snapshot %s@%s: %s",
                                    m->rbd_image, m->rbd_snap, e.msg);
            continue;
        }
        if (!removed)
            continue; /* not there (yet: a create cut short by its deadline
                         may still be carried out): the name stays */
        snap_warn("set %s: removed RBD snapshot %s@%s, which Cinder never "
                  "took over",
                  set->uuid, m->rbd_image, m->rbd_snap);
        free(m->rbd_snap);
        m->rbd_snap = NULL;
    }
    ops_rbd_release(r);
    return ok;
}

void
ops_rbd_release(ops_rbd *r)
{
    if (r->batch) {
        /* A create still running would outlive the process's exit. */
        (void)ceph_batch_wait(
            r->batch,
            snap_now_ms() + (r->conf ? r->conf->ceph_timeout_ms : 10000), NULL);
        ceph_batch_free(r->batch);
        r->batch = NULL;
    }
    free(r->batch_members);
    r->batch_members = NULL;
    r->nbatch = 0;
    ceph_disconnect(r->ceph);
    r->ceph = NULL;
}
