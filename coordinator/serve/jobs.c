/* coordinator/serve/jobs.c -- see jobs.h. */
#include "coordinator/serve/jobs.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/snap_time.h"
#include "coordinator/ops/actions.h"
#include "coordinator/ops/export.h"
#include "common/snap_strv.h"
#include "coordinator/ops/restore.h"
#include "coordinator/ops/spawn.h"
#include "coordinator/ops/template.h"
#include "coordinator/serve/policy.h"

void
serve_job_free(serve_job *j)
{
    if (!j)
        return;
    coord_catalog_unlock(j->lock_fd); /* -1 is fine */
    free(j->domain_name);
    free(j->name);
    free(j->backup_type);
    free(j->disk_format);
    snap_strv_free(j->networks, j->nnetworks);
    free(j->disk);
    free(j->format);
    free(j->template_id);
    json_decref(j->metadata);
    coord_jobrec_free(j->rec);
    free(j);
}

/* Writes @j's record as it stands now; a failure is logged (the job runs
 * on: its set and the server's log still tell what happened). */
static void
rec_save(serve_state *st, serve_job *j)
{
    snap_error err = {0};

    if (j->rec &&
        !coord_jobrec_save(coord_catalog_dir(st->catalog), j->rec, &err))
        serve_log("cannot record job %s: %s", j->rec->id, err.msg);
}

void
serve_job_rec_finish(serve_state *st, serve_job *j, bool ok, json_t *result,
                     const char *why)
{
    if (!j->rec) {
        json_decref(result);
        return;
    }
    j->rec->state = ok ? COORD_JOBREC_SUCCEEDED : COORD_JOBREC_FAILED;
    j->rec->finished_ms = snap_wall_ms();
    if (ok)
        j->rec->progress = 100;
    json_decref(j->rec->result);
    j->rec->result = result;
    if (!ok)
        (void)coord_str_set(&j->rec->error, why && why[0] ? why : "failed",
                            NULL);
    rec_save(st, j);
}

/* {"set_id": ID, "location": "/v1/sets/ID"}, or NULL. */
static json_t *
set_result(const char *set_uuid)
{
    char location[64];

    snprintf(location, sizeof(location), "/v1/sets/%s", set_uuid);
    return json_pack("{s:s,s:s}", "set_id", set_uuid, "location", location);
}

void
serve_job_record_failed(serve_state *st, ops_ctx *ctx, const serve_job *j,
                        const char *why)
{
    coord_set *set = NULL;
    snap_error err = {0};

    set = coord_set_new(&err);
    if (!set)
        goto cleanup;
    memcpy(set->uuid, j->set_uuid, SNAP_UUID_LEN);
    memcpy(set->domain_uuid, j->domain_uuid, SNAP_UUID_LEN);
    set->state = COORD_SET_ERROR;
    set->created_ms = j->accepted_ms;
    set->finished_ms = snap_wall_ms();
    set->quiesce = j->quiesce;
    set->pause_requested = j->pause;
    set->rotation = j->rotation;
    if (!coord_str_set(&set->domain_name, j->domain_name, &err) ||
        !coord_str_set(&set->name, j->name, &err) ||
        !coord_str_set(&set->backup_type, j->backup_type, &err) ||
        !coord_str_set(&set->error, why, &err))
        goto cleanup;
    if (!coord_catalog_save(ctx ? ctx->catalog : st->catalog, set, &err))
        goto cleanup;
    http_api_observe_set(st->api, set);

cleanup:
    if (snap_error_isset(&err))
        serve_log("cannot record failed set %s: %s", j->set_uuid, err.msg);
    coord_set_free(set);
}

static void
run_create(serve_state *st, ops_ctx *ctx, serve_job *j)
{
    ops_create_opts o;
    coord_set *set = NULL;
    snap_error err = {0};
    const char **pairs = NULL, *key;
    json_t *v;
    size_t n = 0;
    bool ok;

    if (j->metadata && json_object_size(j->metadata) > 0) {
        pairs = calloc(2 * json_object_size(j->metadata), sizeof(*pairs));
        if (!pairs) {
            snap_error_set(&err, SNAP_E_NOMEM, "out of memory");
            coord_catalog_unlock(j->lock_fd);
            j->lock_fd = -1;
            serve_job_record_failed(st, NULL, j, err.msg);
            serve_job_rec_finish(st, j, false, NULL, err.msg);
            return;
        }
        json_object_foreach(j->metadata, key, v)
        {
            pairs[2 * n] = key;
            pairs[2 * n + 1] = json_string_value(v);
            n++;
        }
    }
    if (!serve_ctx_ready(ctx, &err)) {
        coord_catalog_unlock(j->lock_fd);
        j->lock_fd = -1;
        serve_log("set %s of '%s' failed: %s", j->set_uuid, j->domain_name,
                  err.msg);
        serve_job_record_failed(st, NULL, j, err.msg);
        serve_job_rec_finish(st, j, false, NULL, err.msg);
        free(pairs);
        return;
    }
    ops_create_opts_init(&o);
    o.quiesce = j->quiesce;
    o.pause = j->pause;
    o.memory = j->memory;
    o.name = j->name;
    o.backup_type = j->backup_type;
    o.rotation = j->rotation;
    o.set_uuid = j->set_uuid;
    o.lock_fd = j->lock_fd;
    o.metadata = pairs;
    o.nmetadata = n;
    j->lock_fd = -1; /* ops_create() releases it */
    ok = ops_create(ctx, j->domain_uuid, &o, &set, &err);
    free(pairs);
    if (!set) {
        serve_log("set %s of '%s' failed: %s", j->set_uuid, j->domain_name,
                  err.msg);
        serve_job_record_failed(st, ctx, j, err.msg);
        serve_job_rec_finish(st, j, false, NULL, err.msg);
        return;
    }
    http_api_observe_set(st->api, set);
    serve_job_rec_finish(st, j, ok, ok ? set_result(set->uuid) : NULL,
                         set->error ? set->error : err.msg);
    if (ok)
        serve_log("set %s of '%s': %s, %s, frozen %lld ms", set->uuid,
                  j->domain_name, coord_set_state_name(set->state),
                  coord_consistency_name(set->consistency),
                  (long long)set->freeze_ms);
    else
        serve_log("set %s of '%s' failed: %s", set->uuid, j->domain_name,
                  err.msg);
    coord_set_free(set);
    /* A failed backup never rotates. */
    if (ok && j->backup_type && j->rotation >= 1)
        serve_rotate(ctx, st->api, j->domain_uuid, j->domain_name,
                     j->backup_type, j->rotation);
}

static void
run_delete(serve_state *st, ops_ctx *ctx, serve_job *j)
{
    snap_error err = {0};
    bool ok;

    /* The lock taken at acceptance is handed to ops_delete() (ops_hold):
     * no other process can take the domain in between. */
    ops_hold(ctx, j->lock_fd, j->domain_uuid);
    ok = serve_ctx_ready(ctx, &err) &&
         ops_delete(ctx, j->set_uuid, j->with_exports ? OPS_DELETE_EXPORTS : 0,
                    &err);
    ops_unhold(ctx);
    http_api_observe_delete(st->api, ok);
    serve_job_rec_finish(
        st, j, ok,
        ok ? json_pack("{s:s}", "deleted_set_id", j->set_uuid) : NULL, err.msg);
    if (ok)
        serve_log("deleted set %s", j->set_uuid);
    else
        serve_log("cannot delete set %s: %s", j->set_uuid, err.msg);
}

/* An OVA of the set into Glance, by `snapset export` in a child process;
 * the outcome is recorded in the set's exports.json (GET /v1/sets/{id}). */
static void
run_export(serve_state *st, ops_ctx *ctx, serve_job *j)
{
    ops_export_req req;
    json_t *result = NULL;
    snap_error err = {0};

    memset(&req, 0, sizeof(req));
    req.kind = "glance";
    req.name = j->name;
    req.disk_format = j->disk_format;
    req.timeout_ms = ctx->conf.copy_timeout_ms;
    if (ops_export_child(ctx, j->set_uuid, &req, &result, &err)) {
        serve_log("exported set %s into Glance: image %s", j->set_uuid,
                  json_string_value(json_object_get(result, "image_id")));
        serve_job_rec_finish(
            st, j, true, json_is_object(result) ? json_incref(result) : NULL,
            NULL);
    } else {
        serve_log("cannot export set %s: %s", j->set_uuid, err.msg);
        serve_job_rec_finish(st, j, false, NULL, err.msg);
    }
    json_decref(result);
}

/* The set's domain put back to it (ops_restore: stopped, disks back,
 * started as asked); what it did is the job's result. */
static void
run_restore(serve_state *st, ops_ctx *ctx, serve_job *j)
{
    ops_restore_opts o = {OPS_RESTORE_START_AS_BEFORE, j->shutdown_timeout_ms};
    ops_restore_result res;
    snap_error err = {0};
    json_t *result = NULL, *lines;
    size_t i;
    bool ok;

    memset(&res, 0, sizeof(res));
    if (j->restore_start == 1)
        o.start = OPS_RESTORE_START_YES;
    else if (j->restore_start == 0)
        o.start = OPS_RESTORE_START_NO;
    /* Under the lock taken at acceptance, as ops_delete(). */
    ops_hold(ctx, j->lock_fd, j->domain_uuid);
    ok = serve_ctx_ready(ctx, &err) &&
         ops_restore(ctx, j->set_uuid, &o, &res, &err);
    ops_unhold(ctx);
    if (ok) {
        lines = json_array();
        for (i = 0; lines && i < res.nlines; i++)
            json_array_append_new(lines, json_string(res.lines[i]));
        result =
            json_pack("{s:s,s:s,s:b,s:b,s:I,s:o*}", "set_id", j->set_uuid,
                      "domain", res.domain ? res.domain : j->domain_name,
                      "started", res.started, "memory", res.memory, "total_ms",
                      (json_int_t)res.total_ms, "disks", lines);
        serve_log("restored '%s' to set %s in %lld ms", j->domain_name,
                  j->set_uuid, (long long)res.total_ms);
    } else {
        serve_log("cannot restore '%s' to set %s: %s", j->domain_name,
                  j->set_uuid, err.msg);
    }
    ops_restore_result_release(&res);
    serve_job_rec_finish(st, j, ok, result, err.msg);
}

/* New domains from the set (ops_spawn_many: all or none); their names and
 * UUIDs are the job's result. */
static void
run_spawn(serve_state *st, ops_ctx *ctx, serve_job *j)
{
    ops_spawn_opts o;
    ops_spawned made;
    snap_error err = {0};
    json_t *result = NULL, *servers;
    size_t i;
    bool ok;

    ops_spawn_opts_init(&o);
    o.name = j->name;
    o.vcpus = j->vcpus;
    o.memory_mib = j->memory_mib;
    o.networks = (const char *const *)j->networks;
    o.nnetworks = j->nnetworks;
    o.full = j->full;
    o.start = j->start;
    o.count = j->count;
    o.template_id = j->template_id;
    o.keep_failed = j->keep_failed;
    /* Under the lock taken at acceptance, as ops_delete(). */
    ops_hold(ctx, j->lock_fd, j->domain_uuid);
    ok = serve_ctx_ready(ctx, &err) &&
         ops_spawn_many(ctx, j->template_id ? NULL : j->set_uuid, &o, &made,
                        &err);
    ops_unhold(ctx);
    if (ok) {
        servers = json_array();
        for (i = 0; servers && i < made.n; i++)
            json_array_append_new(servers,
                                  json_pack("{s:s?,s:s}", "name", made.names[i],
                                            "uuid", made.uuids[i]));
        result = json_pack("{s:s,s:o*,s:b}",
                           j->template_id ? "template_id" : "set_id",
                           j->set_uuid, "servers", servers, "linked", !j->full);
        serve_log("spawned %zu domain(s) '%s' from set %s", made.n, j->name,
                  j->set_uuid);
        ops_spawned_release(&made);
    } else {
        serve_log("cannot spawn '%s' from set %s: %s", j->name, j->set_uuid,
                  err.msg);
    }
    serve_job_rec_finish(st, j, ok, result, err.msg);
}

/* A new Cinder volume or local image from one member of the set. */
static void
run_volume(serve_state *st, ops_ctx *ctx, serve_job *j)
{
    ops_volume_from_opts o = {j->name, j->format, NULL};
    snap_error err = {0};
    char *made = NULL;
    json_t *result = NULL;
    bool ok;

    ops_hold(ctx, j->lock_fd, j->domain_uuid);
    ok = serve_ctx_ready(ctx, &err) &&
         ops_volume_from(ctx, j->set_uuid, j->disk, &o, &made, &err);
    ops_unhold(ctx);
    if (ok) {
        /* A Cinder member gives a volume id, a local one a file's path. */
        result =
            json_pack("{s:s,s:s,s:s}", "set_id", j->set_uuid, "disk", j->disk,
                      made[0] == '/' ? "image" : "volume_id", made);
        serve_log("made %s from disk '%s' of set %s", made, j->disk,
                  j->set_uuid);
    } else {
        serve_log("cannot make a volume from disk '%s' of set %s: %s", j->disk,
                  j->set_uuid, err.msg);
    }
    free(made);
    serve_job_rec_finish(st, j, ok, result, err.msg);
}

/* A template of the set (ops_template_create: full copies, all or
 * nothing); its id and URL are the job's result. */
static void
run_template(serve_state *st, ops_ctx *ctx, serve_job *j)
{
    char uuid[SNAP_UUID_LEN], url[64];
    snap_error err = {0};
    json_t *result = NULL;
    bool ok;

    ops_hold(ctx, j->lock_fd, j->domain_uuid);
    ok = serve_ctx_ready(ctx, &err) &&
         ops_template_create(ctx, j->set_uuid, j->name, uuid, &err);
    ops_unhold(ctx);
    if (ok) {
        snprintf(url, sizeof(url), "/v1/templates/%s", uuid);
        result = json_pack("{s:s,s:s,s:s}", "template_id", uuid, "set_id",
                           j->set_uuid, "template", url);
        serve_log("template %s made of set %s", uuid, j->set_uuid);
    } else {
        serve_log("cannot make a template of set %s: %s", j->set_uuid, err.msg);
    }
    serve_job_rec_finish(st, j, ok, result, err.msg);
}

static void
run_template_delete(serve_state *st, ops_ctx *ctx, serve_job *j)
{
    snap_error err = {0};
    bool ok;

    ok = serve_ctx_ready(ctx, &err) &&
         ops_template_delete(ctx, j->template_id, &err);
    if (ok)
        serve_log("deleted template %s", j->template_id);
    else
        serve_log("cannot delete template %s: %s", j->template_id, err.msg);
    serve_job_rec_finish(
        st, j, ok,
        ok ? json_pack("{s:s}", "deleted_template_id", j->template_id) : NULL,
        err.msg);
}

/* ops_ctx.progress of a job: its record says how far it is (written only
 * when the number changes). */
static void
job_progress(void *cls, int percent)
{
    serve_job *j = cls;

    if (!j->rec || j->rec->progress == percent)
        return;
    j->rec->progress = percent;
    rec_save(j->st, j);
}

typedef struct worker_arg {
    serve_state *st;
    ops_ctx *ctx;
} worker_arg;

/* A worker: runs queued jobs, oldest first, until the server stops. */
static void *
worker_main(void *arg)
{
    worker_arg *wa = arg;
    serve_state *st = wa->st;
    ops_ctx *ctx = wa->ctx;
    serve_job *j, **pp;

    free(wa);
    for (;;) {
        pthread_mutex_lock(&st->mu);
        for (;;) {
            for (j = st->jobs; j && j->started; j = j->next)
                ;
            if (j || atomic_load(&st->stopping))
                break;
            pthread_cond_wait(&st->work_cv, &st->mu);
        }
        if (!j) {
            pthread_mutex_unlock(&st->mu);
            break;
        }
        j->started = true;
        st->queued--;
        st->running++;
        pthread_mutex_unlock(&st->mu);
        if (j->rec) {
            j->rec->state = COORD_JOBREC_RUNNING;
            rec_save(st, j);
        }
        snprintf(ctx->job, sizeof(ctx->job), "%s", j->rec ? j->rec->id : "");
        j->st = st;
        ctx->progress = job_progress;
        ctx->progress_cls = j;

        if (j->kind == SERVE_JOB_CREATE)
            run_create(st, ctx, j);
        else if (j->kind == SERVE_JOB_EXPORT)
            run_export(st, ctx, j);
        else if (j->kind == SERVE_JOB_RESTORE)
            run_restore(st, ctx, j);
        else if (j->kind == SERVE_JOB_SPAWN)
            run_spawn(st, ctx, j);
        else if (j->kind == SERVE_JOB_VOLUME)
            run_volume(st, ctx, j);
        else if (j->kind == SERVE_JOB_TEMPLATE)
            run_template(st, ctx, j);
        else if (j->kind == SERVE_JOB_TEMPLATE_DELETE)
            run_template_delete(st, ctx, j);
        else
            run_delete(st, ctx, j);
        ctx->job[0] = '\0';
        ctx->progress = NULL;
        ctx->progress_cls = NULL;

        pthread_mutex_lock(&st->mu);
        for (pp = &st->jobs; *pp != j; pp = &(*pp)->next)
            ;
        *pp = j->next;
        st->running--;
        pthread_cond_broadcast(&st->idle_cv);
        pthread_mutex_unlock(&st->mu);
        serve_job_free(j);
    }
    return NULL;
}

bool
serve_job_queue(serve_state *st, serve_job *j, snap_error *err)
{
    serve_job **pp;
    bool ok;

    pthread_mutex_lock(&st->mu);
    if (atomic_load(&st->stopping)) {
        pthread_mutex_unlock(&st->mu);
        serve_job_free(j);
        return snap_error_set_http(err, 503, "snapset is shutting down");
    }
    if (st->queued + st->reserved >= (size_t)st->conf.http.max_queue) {
        pthread_mutex_unlock(&st->mu);
        serve_job_free(j);
        return snap_error_set_http(err, 503,
                                   "too many jobs waiting (%d): try again "
                                   "later",
                                   st->conf.http.max_queue);
    }
    /* Its place is kept while its record is written (and fsync'd) without
     * the lock, which every HTTP thread and worker takes. */
    st->reserved++;
    pthread_mutex_unlock(&st->mu);
    ok = !j->rec ||
         coord_jobrec_save(coord_catalog_dir(st->catalog), j->rec, err);
    pthread_mutex_lock(&st->mu);
    st->reserved--;
    if (ok && atomic_load(&st->stopping)) {
        /* stop_all() ran meanwhile: cancelled as it cancels the queue */
        pthread_mutex_unlock(&st->mu);
        serve_job_rec_finish(st, j, false, NULL,
                             "cancelled: snapset serve stopped before the "
                             "job began");
        serve_job_free(j);
        return snap_error_set_http(err, 503, "snapset is shutting down");
    }
    if (!ok) {
        pthread_mutex_unlock(&st->mu);
        serve_job_free(j);
        return false;
    }
    for (pp = &st->jobs; *pp; pp = &(*pp)->next)
        ;
    *pp = j;
    st->queued++;
    pthread_cond_signal(&st->work_cv);
    pthread_mutex_unlock(&st->mu);
    return true;
}

int
serve_job_lock_now(serve_state *st, const char *domain_uuid,
                   const char *domain_name, snap_error *err)
{
    snap_error e = {0};
    int fd = coord_catalog_lock(st->catalog, domain_uuid, 0, &e);

    if (fd >= 0)
        return fd;
    if (e.code == SNAP_E_BUSY)
        snap_error_set(err, SNAP_E_BUSY,
                       "domain '%s' already has a snapset operation in "
                       "progress",
                       domain_name);
    else
        snap_error_set(err, e.code, "%s", e.msg);
    return -1;
}

bool
serve_job_start_worker(serve_state *st, size_t i, snap_error *err)
{
    worker_arg *wa = malloc(sizeof(*wa));

    if (!wa)
        return snap_error_set(err, SNAP_E_NOMEM, "out of memory");
    wa->st = st;
    wa->ctx = &st->ctxs[i];
    if (pthread_create(&st->workers[i], NULL, worker_main, wa) != 0) {
        free(wa);
        return snap_error_set(err, SNAP_E_SYSTEM,
                              "cannot start a worker thread");
    }
    return true;
}
