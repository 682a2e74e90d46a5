/* coordinator/serve/backend.c -- see backend.h. */
#include "coordinator/serve/backend.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/snap_fs.h"
#include "common/snap_strv.h"
#include "common/snap_time.h"
#include "coordinator/ops/ctx.h"
#include "coordinator/ops/export.h"
#include "coordinator/ops/spawn.h"
#include "coordinator/serve/jobs.h"
#include "virt/host.h"

/* Errors of virt_host: libvirt out of reach (or failing) is the API's 503;
 * "no domain" and the rest keep their code. */
static bool
host_error(snap_error *err, const snap_error *e)
{
    if (e->code == SNAP_E_VIRT)
        return snap_error_set_http(err, 503, "%s", e->msg);
    return snap_error_set(err, e->code, "%s", e->msg);
}

static bool
be_domain_lookup(void *impl, const char *id, char **name,
                 char uuid[SNAP_UUID_LEN], snap_error *err)
{
    serve_state *st = impl;
    virt_host_domain *dom = NULL;
    snap_error e = {0};
    bool ok = false;

    pthread_mutex_lock(&st->virt_mu);
    dom = virt_host_domain_find(st->host, id, VIRT_HOST_FIND_NAME, &e);
    if (!dom) {
        host_error(err, &e);
        goto cleanup;
    }
    ok = virt_host_domain_ident(dom, name, uuid, err);

cleanup:
    virt_host_domain_free(dom);
    pthread_mutex_unlock(&st->virt_mu);
    return ok;
}

static bool
be_domain_owner(void *impl, const char *domain_uuid, http_owner *owner,
                snap_error *err)
{
    serve_state *st = impl;
    virt_host_domain *dom = NULL;
    snap_error e = {0};
    bool ok = false;

    memset(owner, 0, sizeof(*owner));
    pthread_mutex_lock(&st->virt_mu);
    dom = virt_host_domain_find(st->host, domain_uuid, 0, &e);
    if (!dom) {
        host_error(err, &e);
        goto cleanup;
    }
    ok = virt_host_domain_owner(dom, &owner->project, &owner->project_name,
                                &owner->project_domain, err);

cleanup:
    virt_host_domain_free(dom);
    pthread_mutex_unlock(&st->virt_mu);
    return ok;
}

/* Adds the owner of the domain to the set's metadata (HTTP_OWNER_KEY_*):
 * the set keeps it when the domain is gone. */
static bool
record_owner(json_t **metadata, const http_owner *o, snap_error *err)
{
    if (!o || (!o->project && !o->project_name))
        return true;
    if (!*metadata && !(*metadata = json_object()))
        return snap_error_set(err, SNAP_E_NOMEM, "out of memory");
    if ((o->project && json_object_set_new(*metadata, HTTP_OWNER_KEY_PROJECT,
                                           json_string(o->project))) ||
        (o->project_name &&
         json_object_set_new(*metadata, HTTP_OWNER_KEY_NAME,
                             json_string(o->project_name))) ||
        (o->project_domain &&
         json_object_set_new(*metadata, HTTP_OWNER_KEY_DOMAIN,
                             json_string(o->project_domain))))
        return snap_error_set(err, SNAP_E_NOMEM, "out of memory");
    return true;
}

/* Gives @j a record of @kind on its domain and set, owned by @o (may be
 * NULL); its id in @job_id. */
static bool
job_record(serve_job *j, const char *kind, const http_owner *o,
           char job_id[SNAP_UUID_LEN], snap_error *err)
{
    coord_jobrec *r = coord_jobrec_new(kind, err);

    if (!r)
        return false;
    j->rec = r;
    r->created_ms = j->accepted_ms;
    memcpy(r->domain_uuid, j->domain_uuid, SNAP_UUID_LEN);
    memcpy(r->set_uuid, j->set_uuid, SNAP_UUID_LEN);
    if (!coord_str_set(&r->domain_name, j->domain_name, err) ||
        (o &&
         (!coord_str_set(&r->owner_project, o->project, err) ||
          !coord_str_set(&r->owner_project_name, o->project_name, err) ||
          !coord_str_set(&r->owner_project_domain, o->project_domain, err))))
        return false;
    memcpy(job_id, r->id, SNAP_UUID_LEN);
    return true;
}

/* The owner a job on @set records: the one the set records, else its
 * domain's now, else none (only the host's roles see the job). */
static bool
set_job_record(serve_state *st, serve_job *j, const char *kind,
               const coord_set *set, char job_id[SNAP_UUID_LEN],
               snap_error *err)
{
    http_owner o = {(char *)coord_set_metadata(set, HTTP_OWNER_KEY_PROJECT),
                    (char *)coord_set_metadata(set, HTTP_OWNER_KEY_NAME),
                    (char *)coord_set_metadata(set, HTTP_OWNER_KEY_DOMAIN)};
    http_owner now;
    snap_error e = {0};
    bool ok;

    if (o.project || o.project_name)
        return job_record(j, kind, &o, job_id, err);
    if (!be_domain_owner(st, set->domain_uuid, &now, &e)) {
        http_owner_release(&now);
        return job_record(j, kind, NULL, job_id, err);
    }
    ok = job_record(j, kind, &now, job_id, err);
    http_owner_release(&now);
    return ok;
}

static bool
be_create(void *impl, const http_create_req *req, char set_uuid[SNAP_UUID_LEN],
          char job_id[SNAP_UUID_LEN], snap_error *err)
{
    serve_state *st = impl;
    serve_job *j = calloc(1, sizeof(*j));

    if (!j)
        return snap_error_set(err, SNAP_E_NOMEM, "out of memory");
    j->lock_fd = -1;
    j->kind = SERVE_JOB_CREATE;
    j->rotation = req->rotation;
    j->quiesce = req->quiesce;
    j->pause = req->pause;
    j->memory = req->memory;
    j->accepted_ms = snap_wall_ms();
    snprintf(j->domain_uuid, SNAP_UUID_LEN, "%s", req->domain_uuid);
    if (!coord_str_set(&j->domain_name, req->domain_name, err) ||
        !coord_str_set(&j->name, req->name, err) ||
        !coord_str_set(&j->backup_type, req->backup_type, err) ||
        (req->metadata && !(j->metadata = json_deep_copy(req->metadata)) &&
         snap_error_set(err, SNAP_E_NOMEM, "out of memory")) ||
        !record_owner(&j->metadata, req->owner, err)) {
        serve_job_free(j);
        return false;
    }
    j->lock_fd = serve_job_lock_now(st, j->domain_uuid, j->domain_name, err);
    if (j->lock_fd < 0) {
        serve_job_free(j);
        return false;
    }
    snap_uuid_generate(j->set_uuid);
    if (!job_record(j, "create", req->owner, job_id, err)) {
        serve_job_free(j);
        return false;
    }
    memcpy(set_uuid, j->set_uuid, SNAP_UUID_LEN);
    return serve_job_queue(st, j, err);
}

/* A set accepted but not recorded yet, as the API shows it: creating. */
static coord_set *
pending_set(const serve_job *j, snap_error *err)
{
    coord_set *set = coord_set_new(err);

    if (!set)
        return NULL;
    memcpy(set->uuid, j->set_uuid, SNAP_UUID_LEN);
    memcpy(set->domain_uuid, j->domain_uuid, SNAP_UUID_LEN);
    set->created_ms = j->accepted_ms;
    set->rotation = j->rotation;
    set->quiesce = j->quiesce;
    set->pause_requested = j->pause;
    if (!coord_str_set(&set->domain_name, j->domain_name, err) ||
        !coord_str_set(&set->name, j->name, err) ||
        !coord_str_set(&set->backup_type, j->backup_type, err)) {
        coord_set_free(set);
        return NULL;
    }
    if (j->metadata) {
        const char *key;
        json_t *v;

        json_object_foreach(j->metadata, key, v)
        {
            if (!coord_set_add_metadata(set, key, json_string_value(v), err)) {
                coord_set_free(set);
                return NULL;
            }
        }
    }
    return set;
}

static bool
be_list(void *impl, coord_set ***sets, size_t *nsets, snap_error *err)
{
    serve_state *st = impl;
    coord_set **arr = NULL, **grown;
    size_t n = 0, i;
    const serve_job *j;
    bool ok = true;

    if (!coord_catalog_list(st->catalog, &arr, &n, err))
        return false;
    pthread_mutex_lock(&st->mu);
    for (j = st->jobs; j && ok; j = j->next) {
        coord_set *s;

        if (j->kind != SERVE_JOB_CREATE)
            continue;
        for (i = 0; i < n; i++) {
            if (strcmp(arr[i]->uuid, j->set_uuid) == 0)
                break;
        }
        if (i < n)
            continue; /* recorded already */
        s = pending_set(j, err);
        grown = s ? realloc(arr, (n + 1) * sizeof(*arr)) : NULL;
        if (!grown) {
            coord_set_free(s);
            snap_error_set(err, SNAP_E_NOMEM, "out of memory");
            ok = false;
            break;
        }
        arr = grown;
        arr[n++] = s;
    }
    pthread_mutex_unlock(&st->mu);
    if (!ok) {
        coord_catalog_list_free(arr, n);
        return false;
    }
    *sets = arr;
    *nsets = n;
    return true;
}

static coord_set *
be_get(void *impl, const char *id, snap_error *err)
{
    serve_state *st = impl;
    snap_error e = {0};
    coord_set *set = coord_catalog_load(st->catalog, id, &e);
    const serve_job *j;

    if (set || e.code != SNAP_E_NOTFOUND) {
        if (!set)
            snap_error_set(err, e.code, "%s", e.msg);
        return set;
    }
    pthread_mutex_lock(&st->mu);
    for (j = st->jobs; j; j = j->next) {
        if (j->kind == SERVE_JOB_CREATE &&
            strncmp(j->set_uuid, id, strlen(id)) == 0)
            break;
    }
    if (j)
        set = pending_set(j, err);
    else
        snap_error_set(err, SNAP_E_NOTFOUND, "%s", e.msg);
    pthread_mutex_unlock(&st->mu);
    return set;
}

/* A new job of @kind on existing set @set, holding no lock yet. */
static serve_job *
job_for_set(serve_job_kind kind, const coord_set *set, snap_error *err)
{
    serve_job *j = calloc(1, sizeof(*j));

    if (!j) {
        snap_error_set(err, SNAP_E_NOMEM, "out of memory");
        return NULL;
    }
    j->kind = kind;
    j->lock_fd = -1;
    j->accepted_ms = snap_wall_ms();
    memcpy(j->set_uuid, set->uuid, SNAP_UUID_LEN);
    memcpy(j->domain_uuid, set->domain_uuid, SNAP_UUID_LEN);
    if (!coord_str_set(&j->domain_name, set->domain_name, err)) {
        serve_job_free(j);
        return NULL;
    }
    return j;
}

static bool
be_remove(void *impl, const char *id, bool with_exports,
          char job_id[SNAP_UUID_LEN], snap_error *err)
{
    serve_state *st = impl;
    coord_set *set;
    serve_job *j = NULL;

    set = be_get(impl, id, err);
    if (!set)
        return false;
    if (set->state == COORD_SET_CREATING &&
        (set->journal.owner_pid == 0 || ops_owner_alive(&set->journal))) {
        snap_error_set(err, SNAP_E_STATE,
                       "set %s is still being made: delete it when it is "
                       "done",
                       set->uuid);
        goto error;
    }
    j = job_for_set(SERVE_JOB_DELETE, set, err);
    if (!j)
        goto error;
    j->with_exports = with_exports;
    j->lock_fd = serve_job_lock_now(st, j->domain_uuid, j->domain_name, err);
    if (j->lock_fd < 0 || !set_job_record(st, j, "delete", set, job_id, err))
        goto error;
    coord_set_free(set);
    return serve_job_queue(st, j, err);

error:
    serve_job_free(j);
    coord_set_free(set);
    return false;
}

/* The set @id, if it is available: what export and restore act on.
 * NULL with @err (SNAP_E_NOTFOUND, SNAP_E_STATE naming @what). */
static coord_set *
available_set(void *impl, const char *id, const char *what, snap_error *err)
{
    coord_set *set = be_get(impl, id, err);

    if (set && set->state != COORD_SET_AVAILABLE) {
        snap_error_set(err, SNAP_E_STATE,
                       "set %s is %s: only an available set can be %s",
                       set->uuid, coord_set_state_name(set->state), what);
        coord_set_free(set);
        set = NULL;
    }
    return set;
}

static bool
be_export(void *impl, const char *id, const http_export_req *req,
          char set_uuid[SNAP_UUID_LEN], char job_id[SNAP_UUID_LEN],
          snap_error *err)
{
    serve_state *st = impl;
    coord_set *set;
    serve_job *j = NULL;

    if (!st->conf.openstack.enabled)
        return snap_error_set(err, SNAP_E_INVALID,
                              "Glance is not configured (openstack.enabled "
                              "is false): use `snapset export SET --ova "
                              "FILE` on the host");
    set = available_set(impl, id, "exported", err);
    if (!set)
        return false;
    /* No lock_fd: the export takes the domain lock while it reads. */
    j = job_for_set(SERVE_JOB_EXPORT, set, err);
    if (!j || !coord_str_set(&j->name, req->name, err) ||
        !coord_str_set(&j->disk_format, req->disk_format, err) ||
        !set_job_record(st, j, "export", set, job_id, err))
        goto error;
    memcpy(set_uuid, set->uuid, SNAP_UUID_LEN);
    coord_set_free(set);
    return serve_job_queue(st, j, err);

error:
    serve_job_free(j);
    coord_set_free(set);
    return false;
}

static bool
be_restore(void *impl, const char *id, const http_restore_req *req,
           char set_uuid[SNAP_UUID_LEN], char job_id[SNAP_UUID_LEN],
           snap_error *err)
{
    serve_state *st = impl;
    coord_set *set;
    serve_job *j = NULL;

    set = available_set(impl, id, "restored", err);
    if (!set)
        return false;
    j = job_for_set(SERVE_JOB_RESTORE, set, err);
    if (!j)
        goto error;
    j->restore_start = req->start;
    j->shutdown_timeout_ms = req->shutdown_timeout_ms;
    j->lock_fd = serve_job_lock_now(st, j->domain_uuid, j->domain_name, err);
    if (j->lock_fd < 0 || !set_job_record(st, j, "restore", set, job_id, err))
        goto error;
    memcpy(set_uuid, set->uuid, SNAP_UUID_LEN);
    coord_set_free(set);
    return serve_job_queue(st, j, err);

error:
    serve_job_free(j);
    coord_set_free(set);
    return false;
}

/* A job of @kind on available set @id, holding its domain's lock (409
 * while another operation has it) and recorded as @what: the front of
 * spawn and volume. */
static serve_job *
use_job(serve_state *st, const char *id, serve_job_kind kind, const char *what,
        const char *past, char set_uuid[SNAP_UUID_LEN],
        char job_id[SNAP_UUID_LEN], snap_error *err)
{
    coord_set *set = available_set(st, id, past, err);
    serve_job *j;

    if (!set)
        return NULL;
    j = job_for_set(kind, set, err);
    if (j) {
        j->lock_fd =
            serve_job_lock_now(st, j->domain_uuid, j->domain_name, err);
        if (j->lock_fd < 0 || !set_job_record(st, j, what, set, job_id, err)) {
            serve_job_free(j);
            j = NULL;
        }
    }
    if (j)
        memcpy(set_uuid, set->uuid, SNAP_UUID_LEN);
    coord_set_free(set);
    return j;
}

/* The templates' catalog, opened on first use. */
static coord_catalog *
templates_of(serve_state *st, snap_error *err)
{
    coord_catalog *c;
    char *dir;

    pthread_mutex_lock(&st->mu);
    if (!st->templates) {
        dir = snap_path_join(coord_catalog_dir(st->catalog), "templates", err);
        if (dir)
            st->templates = coord_catalog_open(dir, err);
        free(dir);
    }
    c = st->templates;
    pthread_mutex_unlock(&st->mu);
    return c;
}

static coord_set *
be_template_get(void *impl, const char *id, snap_error *err)
{
    coord_catalog *tc = templates_of(impl, err);
    coord_set *t = tc ? coord_catalog_load(tc, id, err) : NULL;

    if (!t && err->code == SNAP_E_NOTFOUND) {
        snap_error_clear(err);
        snap_error_set(err, SNAP_E_NOTFOUND, "no template '%s'", id);
    }
    return t;
}

static bool
be_template_list(void *impl, coord_set ***ts, size_t *n, snap_error *err)
{
    coord_catalog *tc = templates_of(impl, err);

    *ts = NULL;
    *n = 0;
    return tc && coord_catalog_list(tc, ts, n, err);
}

/* A job of @kind on template @id, recorded as @what (no domain lock: the
 * operation locks the template itself). */
static serve_job *
template_job(serve_state *st, serve_job_kind kind, const char *what,
             const char *id, char job_id[SNAP_UUID_LEN], snap_error *err)
{
    coord_set *t = be_template_get(st, id, err);
    serve_job *j;

    if (!t)
        return NULL;
    if (t->state != COORD_SET_AVAILABLE && kind == SERVE_JOB_SPAWN) {
        snap_error_set(err, SNAP_E_STATE, "template %s is %s, not available",
                       t->uuid, coord_set_state_name(t->state));
        coord_set_free(t);
        return NULL;
    }
    j = job_for_set(kind, t, err);
    if (j && (!coord_str_set(&j->template_id, t->uuid, err) ||
              !set_job_record(st, j, what, t, job_id, err))) {
        serve_job_free(j);
        j = NULL;
    }
    coord_set_free(t);
    return j;
}

static bool
be_template_create(void *impl, const char *id, const char *name,
                   char set_uuid[SNAP_UUID_LEN], char job_id[SNAP_UUID_LEN],
                   snap_error *err)
{
    serve_state *st = impl;
    serve_job *j;

    j = use_job(st, id, SERVE_JOB_TEMPLATE, "template", "made a template of",
                set_uuid, job_id, err);
    if (!j)
        return false;
    if (!coord_str_set(&j->name, name, err)) {
        serve_job_free(j);
        return false;
    }
    return serve_job_queue(st, j, err);
}

static bool
be_template_remove(void *impl, const char *id, char job_id[SNAP_UUID_LEN],
                   snap_error *err)
{
    serve_state *st = impl;
    serve_job *j = template_job(st, SERVE_JOB_TEMPLATE_DELETE,
                                "template-delete", id, job_id, err);

    return j && serve_job_queue(st, j, err);
}

static bool
be_spawn(void *impl, const char *id, const http_spawn_req *req,
         char set_uuid[SNAP_UUID_LEN], char job_id[SNAP_UUID_LEN],
         snap_error *err)
{
    serve_state *st = impl;
    serve_job *j;

    if (req->count > OPS_SPAWN_MAX_COUNT)
        return snap_error_set(err, SNAP_E_INVALID,
                              "count: at most %d VMs at once",
                              OPS_SPAWN_MAX_COUNT);
    if (req->template_id) {
        j = template_job(st, SERVE_JOB_SPAWN, "spawn", req->template_id, job_id,
                         err);
        if (j)
            memcpy(set_uuid, j->set_uuid, SNAP_UUID_LEN);
    } else {
        j = use_job(st, id, SERVE_JOB_SPAWN, "spawn", "spawned", set_uuid,
                    job_id, err);
    }
    if (!j)
        return false;
    j->vcpus = req->vcpus;
    j->memory_mib = req->memory_mib;
    j->full = req->full;
    j->start = req->start;
    j->count = req->count;
    j->keep_failed = req->keep_failed;
    if (!coord_str_set(&j->name, req->name, err) ||
        !snap_strv_copy(&j->networks, &j->nnetworks,
                        (char *const *)req->networks, req->nnetworks, err)) {
        serve_job_free(j);
        return false;
    }
    return serve_job_queue(st, j, err);
}

static bool
be_volume(void *impl, const char *id, const http_volume_req *req,
          char set_uuid[SNAP_UUID_LEN], char job_id[SNAP_UUID_LEN],
          snap_error *err)
{
    serve_state *st = impl;
    serve_job *j;

    j = use_job(st, id, SERVE_JOB_VOLUME, "volume", "used", set_uuid, job_id,
                err);
    if (!j)
        return false;
    if (!coord_str_set(&j->name, req->name, err) ||
        !coord_str_set(&j->disk, req->disk, err) ||
        !coord_str_set(&j->format, req->format, err)) {
        serve_job_free(j);
        return false;
    }
    return serve_job_queue(st, j, err);
}

static json_t *
be_exports(void *impl, const coord_set *set)
{
    (void)impl;
    return ops_exports_list(set);
}

static void
be_stats(void *impl, http_backend_stats *stats)
{
    serve_state *st = impl;

    pthread_mutex_lock(&st->mu);
    stats->queued = (int64_t)st->queued;
    stats->running = (int64_t)st->running;
    pthread_mutex_unlock(&st->mu);
}

static coord_jobrec *
be_job_get(void *impl, const char *id, snap_error *err)
{
    serve_state *st = impl;

    return coord_jobrec_load(coord_catalog_dir(st->catalog), id, err);
}

static bool
be_job_list(void *impl, coord_jobrec ***jobs, size_t *n, snap_error *err)
{
    serve_state *st = impl;

    return coord_jobrec_list(coord_catalog_dir(st->catalog), jobs, n, err);
}

static bool
be_events_read(void *impl, const coord_events_filter *f, coord_events_page *p,
               snap_error *err)
{
    serve_state *st = impl;

    return coord_events_read(coord_catalog_dir(st->catalog), f, p, err);
}

static void
be_audit(void *impl, const coord_event *ev)
{
    serve_state *st = impl;
    snap_error err = {0};

    pthread_mutex_lock(&st->mu);
    if (!st->events)
        st->events =
            coord_events_new(coord_catalog_dir(st->catalog), NULL, &err);
    pthread_mutex_unlock(&st->mu);
    /* coord_events is thread-safe: each append takes its own flock. */
    if (!st->events || !coord_events_emit(st->events, ev, &err))
        serve_log("audit log: %s", err.msg);
}

const http_backend_ops serve_backend_ops = {
    .domain_lookup = be_domain_lookup,
    .create = be_create,
    .list = be_list,
    .get = be_get,
    .remove = be_remove,
    .export_set = be_export,
    .restore = be_restore,
    .spawn = be_spawn,
    .volume = be_volume,
    .template_create = be_template_create,
    .template_list = be_template_list,
    .template_get = be_template_get,
    .template_remove = be_template_remove,
    .events_read = be_events_read,
    .audit = be_audit,
    .exports = be_exports,
    .stats = be_stats,
    .domain_owner = be_domain_owner,
    .job_get = be_job_get,
    .job_list = be_job_list,
};
