/* coordinator/ops/actions.c -- see actions.h. */
#include "coordinator/ops/actions.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/snap_fs.h"
#include "common/snap_log.h"
#include "common/snap_proc.h"
#include "coordinator/ops/chain.h"
#include "coordinator/ops/export.h"
#include "coordinator/ops/spawn.h"
#include "virt/virt.h"
#include "virt/watchdog.h"
#include "coordinator/coord_domxml.h"

/* True when @set has a Cinder member that still exists, or may: one
 * requested, or failed, whose snapshot id never reached the journal
 * (Cinder may have made it anyway). */
static bool
has_cinder(const coord_set *set)
{
    size_t i;

    if (set->group_snapshot_id)
        return true;
    for (i = 0; i < set->nmembers; i++) {
        const coord_member *m = &set->members[i];

        if (m->kind == COORD_MEMBER_CINDER &&
            (m->location || m->state == COORD_MEMBER_REQUESTED ||
             m->state == COORD_MEMBER_FAILED) &&
            m->state != COORD_MEMBER_DELETED)
            return true;
    }
    return false;
}

/* True when @set has a Cinder member at all. */
static bool
any_cinder(const coord_set *set)
{
    size_t i;

    for (i = 0; i < set->nmembers; i++) {
        if (set->members[i].kind == COORD_MEMBER_CINDER)
            return true;
    }
    return false;
}

static bool
journal_save(void *impl, const coord_set *set, snap_error *err)
{
    return coord_catalog_save(impl, set, err);
}

static const coord_journal_ops catalog_journal_ops = {.save = journal_save};

static void
job_wire(ops_ctx *ctx, coord_job *job, coord_set *set, virt_guest *guest,
         virt_disks *disks)
{
    memset(job, 0, sizeof(*job));
    coord_job_opts_init(&job->opts);
    job->opts.quiesce = ctx->conf.quiesce;
    job->opts.pause = ctx->conf.pause;
    job->opts.agent_timeout_ms = ctx->conf.agent_timeout_ms;
    job->opts.frozen_timeout_ms = ctx->conf.frozen_timeout_ms;
    job->opts.copy_timeout_ms = ctx->conf.copy_timeout_ms;
    job->opts.thaw_attempts = ctx->conf.thaw_attempts;
    job->opts.app_hooks = ctx->conf.app_hooks;
    job->set = set;
    job->guest = guest ? &virt_guest_ops : NULL;
    job->guest_impl = guest;
    job->disks = &virt_disk_ops;
    job->disks_impl = disks;
    if (ctx->os_open) {
        job->volumes = &ops_os_volume_ops;
        job->volumes_impl = &ctx->os;
    }
    job->journal = &catalog_journal_ops;
    job->journal_impl = ctx->catalog;
}

/* A failed set whose journal says the guest may still be held: the job
 * could not thaw it (its agent did not answer) or resume it. */
static bool
guest_maybe_held(const coord_set *set)
{
    return set->state == COORD_SET_ERROR &&
           ((set->journal.freeze_attempted && !set->journal.thawed) ||
            (set->journal.pause_attempted && !set->journal.resumed));
}

/* A failed set with a Cinder request whose outcome is unknown (no id came
 * back: timed out, or refused): Cinder may still make the snapshot after
 * the job gave up. Recovery searches for it by the set's metadata once,
 * after the job (coord_job_recover marks the member deleted then). */
static bool
request_outcome_unknown(const coord_set *set)
{
    size_t i;

    if (set->state != COORD_SET_ERROR)
        return false;
    for (i = 0; i < set->nmembers; i++) {
        const coord_member *m = &set->members[i];

        if (m->kind == COORD_MEMBER_CINDER && !m->location &&
            m->state == COORD_MEMBER_FAILED)
            return true;
    }
    return false;
}

/* What `recover` finishes: a set left creating by a dead process, a failed
 * set that may have left its guest frozen or paused, or one that may have
 * a snapshot made after it failed. */
static bool
needs_recovery(const ops_ctx *ctx, const coord_set *set)
{
    if (set->state == COORD_SET_CREATING)
        return !ops_owner_alive(&set->journal);
    return guest_maybe_held(set) ||
           (ctx->conf.openstack.enabled && request_outcome_unknown(set));
}

/* Recovers one set left by a dead process, or releases the guest a failed
 * set may have left frozen; the caller holds the domain lock. */
static bool
recover_set(ops_ctx *ctx, coord_set *set, virDomainPtr dom, snap_error *err)
{
    coord_job job;
    virt_guest guest = {0};
    virt_disks disks = {0};
    char why[128];
    bool ok;

    if (guest_maybe_held(set))
        snprintf(why, sizeof(why), "failed with the guest perhaps still %s",
                 set->journal.freeze_attempted && !set->journal.thawed
                     ? "frozen"
                     : "paused");
    else if (set->state == COORD_SET_ERROR)
        snprintf(why, sizeof(why),
                 "failed; looking for a snapshot Cinder "
                 "made after the failure");
    else
        snprintf(why, sizeof(why),
                 "interrupted: snapset process %ld died while making the set",
                 set->journal.owner_pid);
    if (has_cinder(set) && !ops_openstack(ctx, err))
        return false;
    if (dom && !virt_guest_init(&guest, dom, err))
        return false;
    disks.dom = dom;
    disks.copy_format = ctx->conf.copy_format;
    job_wire(ctx, &job, set, dom ? &guest : NULL, &disks);
    /* A backup job of the dead process may still be copying into the set's
     * directory: stop it before its files are removed. */
    if (dom && set->dir && !virt_backup_abort_into(dom, set->dir, err)) {
        virt_guest_release(&guest);
        return false;
    }
    snap_warn("recovering set %s of domain '%s' (%s)", set->uuid,
              set->domain_name, why);
    ok = coord_job_recover(&job, why, err);
    virt_guest_release(&guest);
    return ok;
}

/* Recovers the dead sets of one domain; the caller holds its lock. */
static bool
recover_domain(ops_ctx *ctx, virDomainPtr dom, const char *domain_uuid, int *n,
               snap_error *err)
{
    coord_set **sets = NULL;
    size_t nsets = 0, i;
    bool ok = true;

    if (!coord_catalog_list(ctx->catalog, &sets, &nsets, err))
        return false;
    for (i = 0; i < nsets; i++) {
        coord_set *set = sets[i];

        /* A delete that died is not ours: `snapset delete` finishes it;
         * but the copies it was merging into are made right here, so
         * every set that is available reads as its record says. */
        if (strcmp(set->domain_uuid, domain_uuid) == 0 &&
            set->state == COORD_SET_DELETING &&
            !ops_chain_unlink(ctx, dom, set, err))
            ok = false;
        /* A failed set's guest can only be released if it still exists. */
        if (strcmp(set->domain_uuid, domain_uuid) != 0 ||
            !needs_recovery(ctx, set) || (guest_maybe_held(set) && !dom))
            continue;
        if (!recover_set(ctx, set, dom, err))
            ok = false;
        else if (n)
            (*n)++;
    }
    coord_catalog_list_free(sets, nsets);
    return ok;
}

bool
ops_recover(ops_ctx *ctx, const char *domain, int *nrecovered, snap_error *err)
{
    coord_set **sets = NULL;
    size_t nsets = 0, i, k;
    char(*done)[SNAP_UUID_LEN] = NULL;
    size_t ndone = 0;
    bool ok = true;

    if (nrecovered)
        *nrecovered = 0;
    if (!ops_catalog(ctx, err) || !ops_connect(ctx, err))
        return false;
    if (coord_catalog_sweep(ctx->catalog, err) < 0 ||
        !coord_catalog_list(ctx->catalog, &sets, &nsets, err))
        return false;
    done = calloc(nsets + 1, sizeof(*done));
    if (!done) {
        coord_catalog_list_free(sets, nsets);
        return snap_error_set(err, SNAP_E_NOMEM, "out of memory");
    }
    for (i = 0; i < nsets; i++) {
        coord_set *set = sets[i];
        virDomainPtr dom = NULL;
        int fd;

        if (!needs_recovery(ctx, set))
            continue;
        if (domain && strcmp(domain, set->domain_name) != 0 &&
            strcmp(domain, set->domain_uuid) != 0)
            continue;
        for (k = 0; k < ndone; k++) {
            if (strcmp(done[k], set->domain_uuid) == 0)
                break;
        }
        if (k < ndone)
            continue;
        memcpy(done[ndone++], set->domain_uuid, SNAP_UUID_LEN);
        fd = ops_lock(ctx, set->domain_uuid, err);
        if (fd < 0) {
            ok = false;
            continue;
        }
        dom = virt_domain_by_uuid(ctx->conn, set->domain_uuid);
        if (!recover_domain(ctx, dom, set->domain_uuid, nrecovered, err))
            ok = false;
        virt_domain_release(dom);
        coord_catalog_unlock(fd);
    }
    free(done);
    coord_catalog_list_free(sets, nsets);
    return ok;
}

void
ops_create_opts_init(ops_create_opts *o)
{
    memset(o, 0, sizeof(*o));
    o->lock_fd = -1;
}

/* What create records of the set before the job starts: its domain, name,
 * backup type, metadata, rotation, directory, and the owner process (so
 * recovery can tell a dead maker from a live one). */
static bool
set_fill(ops_ctx *ctx, coord_set *set, const coord_domain_info *info,
         const ops_create_opts *o, snap_error *err)
{
    size_t i;

    if (!coord_str_set(&set->domain_name, info->name, err) ||
        !coord_str_set(&set->name, o->name, err) ||
        !coord_str_set(&set->backup_type, o->backup_type, err))
        return false;
    for (i = 0; i < o->nmetadata; i++) {
        if (!coord_set_add_metadata(set, o->metadata[2 * i],
                                    o->metadata[2 * i + 1], err))
            return false;
    }
    memcpy(set->domain_uuid, info->uuid, SNAP_UUID_LEN);
    set->rotation = o->rotation;
    set->dir = coord_catalog_set_dir(ctx->catalog, set->uuid, err);
    if (!set->dir)
        return false;
    set->journal.owner_pid = (long)getpid();
    set->journal.owner_start = snap_proc_start_time(getpid());
    return true;
}

/* The domain as it was: what export and spawn describe and rebuild.
 * Written after the set, outside any window; a failure here leaves a
 * complete set (export will say). */
static void
keep_domain_xml(const coord_set *set, const char *xml)
{
    snap_error e = {0};
    char *path = snap_path_join(set->dir, "domain.xml", &e);

    if (!path || !snap_dir_make(set->dir, 0700, &e) ||
        !snap_file_write_atomic(path, xml, strlen(xml), 0600, &e))
        snap_warn("set %s: cannot keep the domain XML: %s", set->uuid, e.msg);
    free(path);
}

/* The audit log's kind of member @m. */
static const char *
member_kind(const coord_member *m)
{
    return m->kind == COORD_MEMBER_CINDER ? "cinder-snapshot" : "copy";
}

/* The audit events of a set made (or failed, @err): the set, each member
 * that has a location, its checkpoint. */
static void
emit_made(ops_ctx *ctx, const coord_set *set, const snap_error *err)
{
    size_t i;

    ops_event(ctx, "create", "set", set->uuid, set, err);
    for (i = 0; i < set->nmembers; i++) {
        const coord_member *m = &set->members[i];

        if (m->location && m->state == COORD_MEMBER_AVAILABLE)
            ops_event(ctx, "create", member_kind(m), m->location, set, NULL);
    }
    if (set->checkpoint)
        ops_event(ctx, "create", "checkpoint", set->checkpoint, set, NULL);
}

bool
ops_create(ops_ctx *ctx, const char *domain, const ops_create_opts *o,
           coord_set **out, snap_error *err)
{
    virDomainPtr dom = NULL;
    coord_domain_info info = {0};
    coord_set *set = NULL;
    coord_job job;
    virt_guest guest = {0};
    virt_disks disks = {0};
    virt_memory memory = {0};
    virt_watchdog wd;
    char *xml = NULL;
    int state = 0, lock = o->lock_fd;
    size_t i;
    bool ok = false;

    *out = NULL;
    if (!ops_catalog(ctx, err) || !ops_connect(ctx, err))
        return false;
    dom = virt_domain_lookup(ctx->conn, domain, err);
    if (!dom)
        goto cleanup;
    if (!virt_domain_current(dom, &state, &xml, err))
        goto cleanup;
    set = coord_set_new(err);
    if (!set || !coord_domxml_parse(xml, &info, set, err))
        goto cleanup;
    if (lock < 0)
        lock = coord_catalog_lock(ctx->catalog, info.uuid,
                                  ctx->conf.lock_timeout_ms, err);
    if (lock < 0)
        goto cleanup;
    if (o->set_uuid) {
        if (!snap_uuid_valid(o->set_uuid)) {
            snap_error_set(err, SNAP_E_INVALID, "bad set uuid '%s'",
                           o->set_uuid);
            goto cleanup;
        }
        memcpy(set->uuid, o->set_uuid, SNAP_UUID_LEN);
    }
    if (!recover_domain(ctx, dom, info.uuid, NULL, err))
        goto cleanup;
    if (state != VIR_DOMAIN_RUNNING) {
        snap_error_set(err, SNAP_E_STATE,
                       "domain '%s' is not running (state %d): snapset "
                       "snapshots running domains",
                       info.name, state);
        goto cleanup;
    }
    if (ctx->conf.openstack.enabled &&
        (!ops_openstack(ctx, err) ||
         !ops_os_classify(&ctx->os, set, info.uuid, err)))
        goto cleanup;
    /* Without OpenStack a Cinder volume is copied in full like a local
     * disk: say so before copying, and in the set's record. */
    if (!ctx->conf.openstack.enabled &&
        !ops_os_warn_local(&ctx->conf.openstack, set, err))
        goto cleanup;
    if (!set_fill(ctx, set, &info, o, err))
        goto cleanup;

    for (i = 0; i < set->nmembers; i++) {
        if (set->members[i].kind != COORD_MEMBER_CINDER)
            break;
    }
    /* Local members need a backup job of ours: refuse now rather than
     * wait for libvirt's job lock with the guest frozen. */
    if (i < set->nmembers && !virt_domain_check_idle(dom, info.name, err))
        goto cleanup;
    if (!virt_guest_init(&guest, dom, err))
        goto cleanup;
    disks.dom = dom;
    disks.copy_format = ctx->conf.copy_format;
    disks.image_timeout_ms = ctx->conf.copy_timeout_ms;
    disks.digest = ops_chain_digest;
    job_wire(ctx, &job, set, &guest, &disks);
    job.opts.quiesce = o->quiesce;
    job.opts.pause = o->pause;
    job.opts.mounts = o->mounts;
    job.opts.nmounts = o->nmounts;
    if (o->memory) {
        job.opts.memory = true;
        set->memory = snap_path_join(set->dir, "memory.state", err);
        if (!set->memory)
            goto cleanup;
        memory.dom = dom;
        job.memory = &virt_memory_ops;
        job.memory_impl = &memory;
    }
    /* Which copies may be incremental: decided before the guest is
     * touched, from the catalog and the domain's checkpoints (a set with
     * RAM state is full: ops/chain.h). */
    if (i < set->nmembers && !ops_chain_plan(ctx, dom, set, err))
        goto cleanup;
    virt_watchdog_init(&wd, ctx->conf.libvirt_uri, info.uuid,
                       ctx->conf.agent_timeout_ms);
    job.watchdog = &virt_watchdog_ops;
    job.watchdog_impl = &wd;
    ok = coord_job_run(&job, err);
    if (ok) {
        keep_domain_xml(set, xml);
        ops_chain_trim(ctx, dom, set);
    }
    snap_info("set %s: freeze %lld ms, requests %lld ms, wait %lld ms, thaw "
              "%lld ms",
              set->uuid, (long long)set->t_freeze, (long long)set->t_request,
              (long long)set->t_wait, (long long)set->t_thaw);
    emit_made(ctx, set, ok ? NULL : err);
    if (ok || set->state != COORD_SET_CREATING) {
        *out = set; /* recorded: the caller may show it */
        set = NULL;
    }

cleanup:
    virt_guest_release(&guest);
    coord_catalog_unlock(lock);
    coord_set_free(set);
    coord_domain_info_release(&info);
    free(xml);
    virt_domain_release(dom);
    return ok;
}

bool
ops_delete(ops_ctx *ctx, const char *set_id, unsigned flags, snap_error *err)
{
    coord_set *set = NULL;
    virDomainPtr dom = NULL;
    int lock = -1;
    size_t i;
    bool ok = false;

    if (!ops_catalog(ctx, err))
        return false;
    set = coord_catalog_load(ctx->catalog, set_id, err);
    if (!set)
        return false;
    lock = ops_lock(ctx, set->domain_uuid, err);
    if (lock < 0)
        goto cleanup;
    /* Reload under the lock: the set may have changed meanwhile. */
    coord_set_free(set);
    set = coord_catalog_load(ctx->catalog, set_id, err);
    if (!set)
        goto cleanup;
    if (set->state == COORD_SET_CREATING) {
        /* We hold the lock, so its maker is gone: recover it first. */
        if (!ops_connect(ctx, err))
            goto cleanup;
        dom = virt_domain_by_uuid(ctx->conn, set->domain_uuid);
        if (!recover_set(ctx, set, dom, err))
            goto cleanup;
    }
    /* A linked clone or a volume made from the set would break (or make
     * Cinder refuse half-way): refuse before touching anything. */
    if (ops_set_in_use(ctx, set, NULL, err))
        goto cleanup;
    /* Exports first: one that cannot go (Glance down, an upload still
     * running) stops the delete with the set whole and its record right. */
    if (flags & OPS_DELETE_EXPORTS) {
        if (!ops_exports_delete(ctx, set, err))
            goto cleanup;
    } else {
        ops_exports_note_kept(set);
    }
    set->state = COORD_SET_DELETING;
    if (!coord_catalog_save(ctx->catalog, set, err))
        goto cleanup;
    /* Later copies that stack on this set's get what they need of it
     * first; its files go only after that (ops/chain.h). */
    if (set->checkpoint && !dom && ops_connect(ctx, NULL))
        dom = virt_domain_by_uuid(ctx->conn, set->domain_uuid);
    if (!ops_chain_unlink(ctx, dom, set, err))
        goto cleanup;
    for (i = 0; i < set->nmembers; i++) {
        coord_member *m = &set->members[i];

        if (m->state == COORD_MEMBER_DELETED || !m->location)
            continue;
        if (m->kind == COORD_MEMBER_CINDER && set->group_snapshot_id) {
            continue; /* removed with the group snapshot below */
        } else if (m->kind == COORD_MEMBER_CINDER) {
            if (!ops_openstack(ctx, err) ||
                !ops_os_snapshot_remove(&ctx->os, m->location, err))
                goto cleanup;
        } else if (!snap_path_remove(m->location, err)) {
            goto cleanup;
        }
        m->state = COORD_MEMBER_DELETED;
        ops_event(ctx, "delete", member_kind(m), m->location, set, NULL);
        ops_progress(ctx, i + 1, set->nmembers + 1);
    }
    if (set->group_snapshot_id) {
        if (!ops_openstack(ctx, err) ||
            !ops_os_group_snapshot_remove(&ctx->os, set->group_snapshot_id,
                                          err))
            goto cleanup;
        for (i = 0; i < set->nmembers; i++) {
            if (set->members[i].kind != COORD_MEMBER_CINDER)
                continue;
            set->members[i].state = COORD_MEMBER_DELETED;
            ops_event(ctx, "delete", "cinder-snapshot",
                      set->members[i].location, set, NULL);
        }
        free(set->group_snapshot_id);
        set->group_snapshot_id = NULL;
    }
    /* Snapshots Cinder made for the set whose ids were never recorded (a
     * request that timed out and was carried out late): found by the
     * set's metadata. */
    if (any_cinder(set) && ctx->conf.openstack.enabled &&
        (!ops_openstack(ctx, err) ||
         !ops_os_volume_ops.cleanup(&ctx->os, set, err)))
        goto cleanup;
    if (set->dir && !snap_dir_remove_files(set->dir, err))
        goto cleanup; /* what is left: domain.xml */
    if (!coord_catalog_remove(ctx->catalog, set->uuid, err))
        goto cleanup;
    ok = true;

cleanup:
    if (set)
        ops_event(ctx, "delete", "set", set->uuid, set, ok ? NULL : err);
    if (!ok && set && set->state == COORD_SET_DELETING)
        (void)coord_catalog_save(ctx->catalog, set, NULL); /* what is left */
    virt_domain_release(dom);
    coord_catalog_unlock(lock);
    coord_set_free(set);
    return ok;
}
