/* coordinator/ops/spawn.c -- see spawn.h: spawn (from a set or a
 * template, one VM or several) and volume-from. */
#include "coordinator/ops/spawn.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/snap_fs.h"
#include "common/snap_log.h"
#include "common/snap_time.h"
#include "virt/domedit.h"
#include "cinder/attach.h"
#include "coordinator/ops/domain.h"
#include "coordinator/ops/images.h"
#include "coordinator/ops/template.h"
#include "coordinator/coord_domxml.h"

void
ops_spawn_opts_init(ops_spawn_opts *o)
{
    memset(o, 0, sizeof(*o));
    o->start = true;
}

/* ---- spawn --------------------------------------------------------------- */

typedef struct sdisk {
    const coord_member *m; /* borrowed from the set */
    char *path;            /* local: the new image */
    const char *format;    /* local: its format */
    bool made;
    snap_file_id id; /* local: what @path was made as */
    char *volume;    /* Cinder: the new volume */
    bool attached;
} sdisk;

typedef struct sjob {
    ops_ctx *ctx;
    const ops_domain_ops *d;
    const ops_spawn_opts *o;
    const char *name;   /* this VM's name: o->name, or "name-k" of count */
    char *ownname;      /* what @name points to when it is "name-k" */
    unsigned nvms;      /* how many the job makes (host checks count all) */
    bool from_template; /* @set is a template (ops/template.h) */
    coord_set *set;     /* borrowed */
    virt_domedit *edit;
    coord_domain_info info;
    char uuid[SNAP_UUID_LEN];
    char *dir;
    char *console; /* the console log QEMU will write */
    sdisk *disks;
    size_t ndisks;
    bool defined; /* the domain (j->uuid) is defined */
} sjob;

static bool
name_valid(const char *name)
{
    const unsigned char *p;

    if (!name[0] || strlen(name) > 200 || name[0] == '.')
        return false;
    for (p = (const unsigned char *)name; *p; p++) {
        if (*p < 0x20 || *p == '/' || *p == 0x7f)
            return false;
    }
    return true;
}

/* The host can run it: vCPUs, memory, the networks it will use. */
static bool
validate_host(sjob *j, snap_error *err)
{
    ops_ctx *ctx = j->ctx;
    const ops_spawn_opts *o = j->o;
    char **nets = NULL;
    snap_error e = {0};
    size_t i, nnets = 0;
    unsigned vcpus, host_cpus;
    uint64_t kib, host_kib;
    bool ok = false;

    if (!j->d->host_size(ctx, &host_cpus, &host_kib, &e)) {
        snap_error_set(err, e.code,
                       "cannot read the host's CPUs and memory: %s", e.msg);
        goto cleanup;
    }
    vcpus = o->vcpus ? o->vcpus : j->info.vcpus;
    if (vcpus > host_cpus) {
        snap_error_set(err, SNAP_E_INVALID,
                       "%u vCPUs asked for, but the host has %u CPUs", vcpus,
                       host_cpus);
        goto cleanup;
    }
    /* vCPUs are shared (one VM may not have more than the host has);
     * memory is not: all the job's VMs together must fit. */
    kib = o->memory_mib ? o->memory_mib * 1024 : j->info.memory_kib;
    if (kib > host_kib / j->nvms) {
        if (j->nvms > 1)
            snap_error_set(err, SNAP_E_INVALID,
                           "%u VMs of %llu MiB of memory asked for, but the "
                           "host has %llu MiB",
                           j->nvms, (unsigned long long)(kib / 1024),
                           (unsigned long long)(host_kib / 1024));
        else
            snap_error_set(err, SNAP_E_INVALID,
                           "%llu MiB of memory asked for, but the host has "
                           "%llu MiB",
                           (unsigned long long)(kib / 1024),
                           (unsigned long long)(host_kib / 1024));
        goto cleanup;
    }
    if (o->nnetworks) {
        for (i = 0; i < o->nnetworks; i++) {
            if (!j->d->network_check(ctx, o->networks[i], err))
                goto cleanup;
        }
    } else {
        if (!virt_domedit_network_names(j->edit, &nets, &nnets, err))
            goto cleanup;
        for (i = 0; i < nnets; i++) {
            snap_error_clear(&e);
            if (!j->d->network_check(ctx, nets[i], &e)) {
                snap_debug("%s", e.msg);
                snap_error_set(err, SNAP_E_STATE,
                               "the original's network '%s' is missing or "
                               "inactive: choose one with --network",
                               nets[i]);
                goto cleanup;
            }
        }
    }
    ok = true;

cleanup:
    for (i = 0; i < nnets; i++)
        free(nets[i]);
    free(nets);
    return ok;
}

/* Where each new image goes; none of them may exist yet. */
static bool
plan_disks(sjob *j, snap_error *err)
{
    ops_ctx *ctx = j->ctx;
    const ops_spawn_opts *o = j->o;
    struct stat st;
    size_t i;

    /* Where the images go: next to the original's first file disk. */
    if (o->dir) {
        j->dir = strdup(o->dir);
    } else {
        for (i = 0; i < j->set->nmembers && !j->dir; i++) {
            const coord_member *m = &j->set->members[i];

            if (m->kind == COORD_MEMBER_LOCAL && m->source_type &&
                strcmp(m->source_type, "file") == 0) {
                j->dir = snap_path_dir(m->source, err);
                if (!j->dir)
                    return false;
            }
        }
        if (!j->dir) {
            snap_error_set(err, SNAP_E_INVALID,
                           "the original has no file disk to put the new "
                           "images next to: give --dir");
            return false;
        }
    }
    if (!j->dir) {
        snap_error_set(err, SNAP_E_NOMEM, "out of memory");
        return false;
    }
    if (stat(j->dir, &st) < 0 || !S_ISDIR(st.st_mode)) {
        snap_error_set(err, SNAP_E_INVALID, "'%s' is not a directory", j->dir);
        return false;
    }
    j->disks = calloc(j->set->nmembers + 1, sizeof(*j->disks));
    if (!j->disks) {
        snap_error_set(err, SNAP_E_NOMEM, "out of memory");
        return false;
    }
    for (i = 0; i < j->set->nmembers; i++) {
        const coord_member *m = &j->set->members[i];
        sdisk *d = &j->disks[j->ndisks++];
        char name[NAME_MAX + 1];

        d->m = m;
        if (m->kind == COORD_MEMBER_CINDER) {
            /* A template's member is a volume of its own, not a snapshot. */
            if (!j->from_template && !ops_snapshot_usable(ctx, m, err))
                return false;
            continue;
        }
        /* A linked clone is a qcow2 overlay whatever the original was; a
         * full copy keeps the original's format. */
        d->format = "qcow2";
        if (o->full && m->format && strcmp(m->format, "raw") == 0)
            d->format = "raw";
        if ((size_t)snprintf(name, sizeof(name), "%s-%s.%s", j->name, m->target,
                             d->format) >= sizeof(name)) {
            snap_error_set(err, SNAP_E_INVALID, "domain name '%s' is too long",
                           j->name);
            return false;
        }
        d->path = snap_path_join(j->dir, name, err);
        if (!d->path)
            return false;
        if (snap_path_exists(d->path)) {
            snap_error_set(err, SNAP_E_STATE, "'%s' exists already", d->path);
            return false;
        }
    }
    return true;
}

/* Everything that can be known before anything is made. */
static bool
spawn_validate(sjob *j, snap_error *err)
{
    ops_ctx *ctx = j->ctx;
    char *path = NULL, *xml = NULL, other[SNAP_UUID_LEN];
    snap_error e = {0};
    bool ok = false;

    if (!name_valid(j->name))
        return snap_error_set(err, SNAP_E_INVALID,
                              "'%s' is not a usable domain name", j->name);
    if (j->d->find(ctx, j->name, other, NULL, NULL))
        return snap_error_set(err, SNAP_E_STATE,
                              "a domain named '%s' exists already", j->name);
    path = snap_path_join(j->set->dir, "domain.xml", err);
    if (!path)
        goto cleanup;
    /* Why it cannot be read matters less than what it means: the cause
     * goes to the debug log, the message says what to do. */
    xml = snap_file_read(path, 16 << 20, NULL, &e);
    if (!xml) {
        snap_debug("cannot read '%s': %s", path, e.msg);
        snap_error_set(err, SNAP_E_STATE,
                       "set %s has no domain XML ('%s'): it was made before "
                       "snapset kept one, so it cannot be spawned",
                       j->set->uuid, path);
        goto cleanup;
    }
    j->edit = virt_domedit_new(xml, err);
    if (!j->edit || !coord_domxml_parse(xml, &j->info, NULL, err))
        goto cleanup;
    if (!validate_host(j, err) || !plan_disks(j, err))
        goto cleanup;
    ok = true;

cleanup:
    free(xml);
    free(path);
    return ok;
}

/* The edits of the definition that need nothing made yet. */
static bool
spawn_edit(sjob *j, snap_error *err)
{
    const ops_spawn_opts *o = j->o;
    bool linked = false;
    size_t i;

    for (i = 0; i < j->ndisks; i++) {
        if (j->disks[i].m->kind == COORD_MEMBER_LOCAL && !o->full)
            linked = true;
    }
    j->console = malloc(strlen(j->dir) + strlen(j->name) + 16);
    if (!j->console)
        return snap_error_set(err, SNAP_E_NOMEM, "out of memory");
    sprintf(j->console, "%s/%s.console.log", j->dir, j->name);
    if (!virt_domedit_identity(j->edit, j->name, j->uuid, err) ||
        !virt_domedit_origin(
            j->edit,
            j->from_template ? coord_set_metadata(j->set, OPS_TEMPLATE_KEY_SET)
                             : j->set->uuid,
            j->set->domain_uuid, linked, err) ||
        (j->from_template &&
         !virt_domedit_origin_template(j->edit, j->set->uuid, err)) ||
        !virt_domedit_console(j->edit, j->dir, j->name, err))
        return false;
    if (o->vcpus && !virt_domedit_vcpus(j->edit, o->vcpus, err))
        return false;
    if (o->memory_mib &&
        !virt_domedit_memory(j->edit, o->memory_mib * 1024, err))
        return false;
    if (o->nnetworks &&
        !virt_domedit_networks(j->edit, o->networks, o->nnetworks, err))
        return false;
    return true;
}

static bool
make_local(sjob *j, sdisk *d, snap_error *err)
{
    const char *fmt = d->m->copy_format ? d->m->copy_format : "qcow2";
    ops_image_file f;
    bool ok;

    /* Made exclusively and written through its descriptor: the directory
     * may be writable by others (see ops_image_file). */
    if (!ops_image_file_make(&f, d->path, false, 0644, err))
        return false;
    /* Made or partly made: ours to remove either way (it did not exist). */
    d->made = true;
    d->id = f.id;
    ops_event(j->ctx, "create", "copy", d->path, j->set, NULL);
    if (j->o->full)
        ok = ops_image_file_convert(&f, d->m->location, fmt, d->format,
                                    j->ctx->conf.copy_timeout_ms, err);
    else
        ok = ops_image_file_overlay(&f, d->m->location, fmt, err);
    ops_image_file_release(&f);
    return ok && virt_domedit_disk_file(j->edit, d->m->target, d->path,
                                        d->format, err);
}

static bool
attach_volume(sjob *j, sdisk *d, snap_error *err)
{
    cinder_connection conn;
    virt_rbd_source src;
    char mountpoint[64];
    bool ok = false;

    snprintf(mountpoint, sizeof(mountpoint), "/dev/%s", d->m->target);
    if (!cinder_volume_attach_all(j->ctx->os.cinder, d->volume, j->uuid,
                                  mountpoint, &conn,
                                  j->ctx->conf.copy_timeout_ms, err))
        return false;
    d->attached = true;
    if (conn.auth_enabled && !j->d->secret_exists(j->ctx, conn.secret_uuid)) {
        snap_error_set(err, SNAP_E_STATE,
                       "libvirt has no secret %s for Ceph user '%s' (the one "
                       "Cinder's connection names)",
                       conn.secret_uuid, conn.auth_username);
        goto cleanup;
    }
    ops_os_rbd_source(&conn, &src);
    ok = virt_domedit_disk_rbd(j->edit, d->m->target, &src, d->volume, err);

cleanup:
    cinder_connection_release(&conn);
    return ok;
}

static void
spawn_rollback(sjob *j)
{
    ops_ctx *ctx = j->ctx;
    ops_domain_state state;
    snap_error e = {0};
    size_t i;

    if (j->defined) {
        if (j->d->state(ctx, j->uuid, &state, NULL) &&
            state != OPS_DOMAIN_STATE_OFF && !j->d->destroy(ctx, j->uuid, &e))
            snap_warn("cannot stop domain '%s': %s", j->name, e.msg);
        snap_error_clear(&e);
        if (!j->d->undefine(ctx, j->uuid, &e))
            snap_warn("cannot undefine domain '%s': %s", j->name, e.msg);
        ops_event(ctx, "delete", "domain", j->name, j->set, &e);
    }
    for (i = j->ndisks; i-- > 0;) {
        sdisk *d = &j->disks[i];

        snap_error_clear(&e);
        if (d->attached &&
            !cinder_volume_detach(ctx->os.cinder, d->volume, j->uuid,
                                  ctx->conf.copy_timeout_ms, &e))
            snap_warn("cannot detach volume %s: %s", d->volume, e.msg);
        snap_error_clear(&e);
        if (d->volume && !ops_volume_remove(ctx, d->volume, &e))
            snap_warn("cannot delete volume %s: %s", d->volume, e.msg);
        if (d->volume)
            ops_event(ctx, "delete", "volume", d->volume, j->set, &e);
        snap_error_clear(&e);
        if (d->made && !snap_file_remove_ours(d->path, &d->id, &e))
            snap_warn("cannot remove '%s': %s", d->path, e.msg);
        if (d->made)
            ops_event(ctx, "delete", "copy", d->path, j->set, &e);
    }
    if (j->console && unlink(j->console) < 0 && errno != ENOENT)
        snap_warn("cannot remove '%s': %s", j->console, strerror(errno));
}

/* Makes VM @j (validated and edited): its disks, volumes, definition, and
 * starts it when asked. False with @e set and *@step naming the step that
 * failed; what it made is left for spawn_rollback(). */
static bool
spawn_make(sjob *j, unsigned k, const char **step, snap_error *e)
{
    ops_ctx *ctx = j->ctx;
    snap_error e2 = {0};
    char *xml = NULL, name[256], point[64];
    size_t i;
    bool ok = false;

    *step = "create the disk images";
    for (i = 0; i < j->ndisks; i++) {
        if (j->disks[i].m->kind == COORD_MEMBER_LOCAL &&
            !make_local(j, &j->disks[i], e))
            goto cleanup;
    }
    *step = "create the volumes from the snapshots";
    for (i = 0; i < j->ndisks; i++) {
        sdisk *d = &j->disks[i];

        if (d->m->kind != COORD_MEMBER_CINDER)
            continue;
        snprintf(name, sizeof(name), "%.128s-%s", j->name, d->m->target);
        if (j->from_template ? !ops_volume_from_volume(
                                   ctx, d->m->location, name, j->set->uuid,
                                   ctx->conf.copy_timeout_ms, &d->volume, e)
                             : !ops_volume_from_snapshot(
                                   ctx, d->m->location, name, j->set->uuid,
                                   ctx->conf.copy_timeout_ms, &d->volume, e))
            goto cleanup;
        ops_event(ctx, "create", "volume", d->volume, j->set, NULL);
    }
    *step = "attach the volumes";
    for (i = 0; i < j->ndisks; i++) {
        if (j->disks[i].m->kind == COORD_MEMBER_CINDER &&
            !attach_volume(j, &j->disks[i], e))
            goto cleanup;
    }
    *step = "define the domain";
    xml = virt_domedit_xml(j->edit, e);
    if (!xml)
        goto cleanup;
    snap_debug("spawn XML: %s", xml);
    if (!j->d->define(ctx, xml, NULL, &e2)) {
        snap_error_set(e, e2.code, "libvirt refused the definition: %s",
                       e2.msg);
        goto cleanup;
    }
    j->defined = true;
    ops_event(ctx, "create", "domain", j->name, j->set, NULL);
    /* "spawn-defined" fails every VM, "spawn-defined-K" the K-th (1-based)
     * of a job, so a test can fail a job after it made some. */
    snprintf(point, sizeof(point), "spawn-defined-%u", k + 1);
    if (!ops_fault("spawn-defined", e) || !ops_fault(point, e))
        goto cleanup;
    if (j->o->start) {
        *step = "start the domain";
        if (!j->d->start(ctx, j->uuid, &e2)) {
            snap_error_set(e, e2.code, "cannot start it: %s", e2.msg);
            goto cleanup;
        }
    }
    ok = true;

cleanup:
    free(xml);
    return ok;
}

/* keep_failed: VM @j, defined, failed with @why: shut off and defined
 * again with its origin marked state="error" and the reason, its disks
 * and volumes kept. False (nothing kept: roll it back) when that fails. */
static bool
spawn_keep(sjob *j, const snap_error *why)
{
    ops_ctx *ctx = j->ctx;
    ops_domain_state state;
    snap_error e = {0};
    char *xml = NULL;
    bool ok;

    if (j->d->state(ctx, j->uuid, &state, NULL) &&
        state != OPS_DOMAIN_STATE_OFF && !j->d->destroy(ctx, j->uuid, &e)) {
        snap_warn("cannot stop domain '%s' to keep it: %s", j->name, e.msg);
        return false;
    }
    ok = virt_domedit_origin_state(j->edit, "error", why->msg, &e) &&
         (xml = virt_domedit_xml(j->edit, &e)) != NULL &&
         j->d->define(ctx, xml, NULL, &e);
    free(xml);
    if (!ok)
        snap_warn("cannot mark domain '%s' as failed: %s", j->name, e.msg);
    else
        ops_event(ctx, "keep", "domain", j->name, j->set, why);
    return ok;
}

static void
sjob_release(sjob *j)
{
    size_t i;

    for (i = 0; i < j->ndisks; i++) {
        free(j->disks[i].path);
        free(j->disks[i].volume);
    }
    free(j->disks);
    free(j->dir);
    free(j->console);
    free(j->ownname);
    coord_domain_info_release(&j->info);
    virt_domedit_free(j->edit);
}

void
ops_spawned_release(ops_spawned *s)
{
    size_t i;

    for (i = 0; i < s->n; i++)
        free(s->names[i]);
    free(s->names);
    free(s->uuids);
    memset(s, 0, sizeof(*s));
}

bool
ops_spawn_many(ops_ctx *ctx, const char *set_id, const ops_spawn_opts *o,
               ops_spawned *out, snap_error *err)
{
    sjob *jobs = NULL;
    coord_set *set = NULL;
    snap_error e = {0};
    const char *step = NULL;
    unsigned n = o->count > 1 ? o->count : 1, k, made = 0;
    int lock = -1;
    bool ok = false, kept = false;

    memset(out, 0, sizeof(*out));
    if (!o->name)
        return snap_error_set(err, SNAP_E_INVALID, "spawn needs a name");
    if (n > OPS_SPAWN_MAX_COUNT)
        return snap_error_set(err, SNAP_E_INVALID,
                              "at most %d VMs at once, not %u",
                              OPS_SPAWN_MAX_COUNT, n);
    if (!ops_connect(ctx, err))
        return false;
    jobs = calloc(n, sizeof(*jobs));
    out->names = calloc(n, sizeof(*out->names));
    out->uuids = calloc(n, sizeof(*out->uuids));
    if (!jobs || !out->names || !out->uuids) {
        snap_error_set(err, SNAP_E_NOMEM, "out of memory");
        goto cleanup;
    }
    if (o->template_id)
        set = ops_template_load_locked(ctx, o->template_id, &lock, err);
    else
        set = ops_set_load_locked(ctx, set_id, &lock, err);
    if (!set)
        goto cleanup;
    /* All of them are checked before the first is made. */
    for (k = 0; k < n; k++) {
        sjob *j = &jobs[k];

        j->ctx = ctx;
        j->d = ops_domain(ctx);
        j->o = o;
        j->set = set;
        j->nvms = n;
        j->from_template = o->template_id != NULL;
        if (n > 1) {
            char buf[256];

            if ((size_t)snprintf(buf, sizeof(buf), "%s-%u", o->name, k + 1) >=
                    sizeof(buf) ||
                !(j->ownname = strdup(buf))) {
                snap_error_set(err, SNAP_E_INVALID,
                               "domain name '%.64s...' is too long", o->name);
                goto cleanup;
            }
            j->name = j->ownname;
        } else {
            j->name = o->name;
        }
        if (!spawn_validate(j, &e)) {
            snap_error_set(err, e.code, "cannot spawn '%s': %s", j->name,
                           e.msg);
            goto cleanup;
        }
        snap_uuid_generate(j->uuid);
        if (!spawn_edit(j, err))
            goto cleanup;
    }
    for (k = 0; k < n; k++, made++) {
        if (!spawn_make(&jobs[k], k, &step, &e))
            break;
        ops_progress(ctx, k + 1, n);
    }
    if (made < n) {
        /* All or nothing: the one that failed and every one before it;
         * with keep_failed the one that failed stays, if it was defined. */
        kept =
            o->keep_failed && jobs[made].defined && spawn_keep(&jobs[made], &e);
        for (k = made + 1; k-- > 0;) {
            if (!(kept && k == made))
                spawn_rollback(&jobs[k]);
        }
        if (n > 1 && kept)
            snap_error_set(err, e.code,
                           "spawn of '%s' (%u of %u) failed at step '%s' "
                           "(kept for inspection: shut off, marked "
                           "state=\"error\" in its snapset metadata; the %u "
                           "VMs before it were removed): %s",
                           jobs[made].name, made + 1, n, step, made, e.msg);
        else if (n > 1)
            snap_error_set(err, e.code,
                           "spawn of '%s' (%u of %u) failed at step '%s' "
                           "(everything the job made, %u VMs before it "
                           "included, was removed): %s",
                           jobs[made].name, made + 1, n, step, made, e.msg);
        else if (kept)
            snap_error_set(err, e.code,
                           "spawn of '%s' failed at step '%s' (kept for "
                           "inspection: shut off, marked state=\"error\" in "
                           "its snapset metadata): %s",
                           jobs[made].name, step, e.msg);
        else
            snap_error_set(err, e.code,
                           "spawn of '%s' failed at step '%s' (everything it "
                           "made was removed): %s",
                           jobs[made].name, step, e.msg);
        goto cleanup;
    }
    for (k = 0; k < n; k++) {
        out->names[k] = strdup(jobs[k].name);
        memcpy(out->uuids[k], jobs[k].uuid, SNAP_UUID_LEN);
        if (!out->names[k]) {
            /* Made: they stay; only the answer is short. */
            snap_warn("out of memory naming spawned domain %s", jobs[k].uuid);
            out->names[k] = NULL;
        }
        out->n++;
    }
    ok = true;

cleanup:
    if (jobs) {
        for (k = 0; k < n; k++)
            sjob_release(&jobs[k]);
    }
    free(jobs);
    coord_set_free(set);
    coord_catalog_unlock(lock);
    if (!ok)
        ops_spawned_release(out);
    return ok;
}

bool
ops_spawn(ops_ctx *ctx, const char *set_id, const ops_spawn_opts *o,
          char uuid[SNAP_UUID_LEN], snap_error *err)
{
    ops_spawned s;

    if (o->count > 1)
        return snap_error_set(err, SNAP_E_INVALID,
                              "ops_spawn() makes one VM: use ops_spawn_many()");
    if (!ops_spawn_many(ctx, set_id, o, &s, err))
        return false;
    if (uuid)
        memcpy(uuid, s.uuids[0], SNAP_UUID_LEN);
    ops_spawned_release(&s);
    return true;
}

/* ---- volume-from --------------------------------------------------------- */

bool
ops_volume_from(ops_ctx *ctx, const char *set_id, const char *disk,
                const ops_volume_from_opts *o, char **made, snap_error *err)
{
    coord_set *set;
    const coord_member *m = NULL;
    const char *fmt = o->format ? o->format : "qcow2";
    char name[NAME_MAX + 1], *dir = NULL, *path = NULL;
    ops_image_file f = {NULL, -1, {0, 0}};
    int lock = -1;
    bool ok = false;

    *made = NULL;
    set = ops_set_load_locked(ctx, set_id, &lock, err);
    if (!set)
        return false;
    m = ops_set_member(set, disk);
    if (!m) {
        snap_error_set(err, SNAP_E_NOTFOUND,
                       "set %s has no disk '%s' (a target such as 'vdb', or "
                       "a serial)",
                       set->uuid, disk);
        goto cleanup;
    }
    if (m->kind == COORD_MEMBER_CINDER) {
        if (o->format || o->dir) {
            snap_error_set(err, SNAP_E_INVALID,
                           "--format and --dir are for local disks; '%s' is a "
                           "Cinder volume",
                           m->target);
            goto cleanup;
        }
        snprintf(name, sizeof(name), "%.128s-%s-%.8s", set->domain_name,
                 m->target, set->uuid);
        ok = ops_volume_from_snapshot(ctx, m->location,
                                      o->name ? o->name : name, set->uuid,
                                      ctx->conf.copy_timeout_ms, made, err);
        goto cleanup;
    }
    if (o->name && strchr(o->name, '/')) {
        if (o->name[0] != '/' || o->dir) {
            snap_error_set(err, SNAP_E_INVALID,
                           "--name '%s': give a file name, or an absolute "
                           "path without --dir",
                           o->name);
            goto cleanup;
        }
        path = strdup(o->name);
    } else {
        if (o->dir)
            dir = strdup(o->dir);
        else if (m->source_type && strcmp(m->source_type, "file") == 0)
            dir = snap_path_dir(m->source, err);
        if (!dir) {
            snap_error_set(err, SNAP_E_INVALID,
                           "disk '%s' is not a file: give --dir", m->target);
            goto cleanup;
        }
        if (o->name)
            snprintf(name, sizeof(name), "%s", o->name);
        else
            snprintf(name, sizeof(name), "%.128s-%s-%.8s.%s", set->domain_name,
                     m->target, set->uuid, fmt);
        path = snap_path_join(dir, name, err);
    }
    if (!path) {
        snap_error_set(err, SNAP_E_NOMEM, "out of memory");
        goto cleanup;
    }
    if (snap_path_exists(path)) {
        snap_error_set(err, SNAP_E_STATE, "'%s' exists already", path);
        goto cleanup;
    }
    if (!ops_image_file_make(&f, path, false, 0644, err))
        goto cleanup;
    if (!ops_image_file_convert(&f, m->location,
                                m->copy_format ? m->copy_format : "qcow2", fmt,
                                ctx->conf.copy_timeout_ms, err)) {
        ops_image_file_unlink(&f); /* partly written by us: it did not exist */
        goto cleanup;
    }
    *made = path;
    path = NULL;
    ok = true;

cleanup:
    if (m)
        ops_event(ctx, "create",
                  m->kind == COORD_MEMBER_CINDER ? "volume" : "copy",
                  ok ? *made : m->target, set, ok ? NULL : err);
    ops_image_file_release(&f);
    free(dir);
    free(path);
    coord_set_free(set);
    coord_catalog_unlock(lock);
    return ok;
}
