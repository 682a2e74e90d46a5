/* coordinator/serve/serve.c -- see serve.h: the daemon's wiring. The
 * threads and what they share are described in state.h. */
#include "coordinator/serve/serve.h"

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/snap_time.h"
#include "coordinator/ops/actions.h"
#include "coordinator/serve/auth.h"
#include "coordinator/serve/backend.h"
#include "coordinator/serve/jobs.h"
#include "coordinator/serve/scheduler.h"
#include "coordinator/serve/state.h"

void
serve_opts_init(serve_opts *o)
{
    memset(o, 0, sizeof(*o));
    o->port = -1;
}

/* Stops: no new job from now on, queued ones are recorded as cancelled,
 * running ones (and a scheduled run) are waited for, at most
 * http.shutdown_timeout_ms. False when some are still running then. */
static bool
stop_all(serve_state *st)
{
    serve_job *j, **pp;
    struct timespec ts;
    int64_t deadline = snap_wall_ms() + st->conf.http.shutdown_timeout_ms;
    bool done;

    pthread_mutex_lock(&st->mu);
    atomic_store(&st->stopping, true);
    pp = &st->jobs;
    while ((j = *pp)) {
        if (j->started) {
            pp = &j->next;
            continue;
        }
        *pp = j->next;
        st->queued--;
        pthread_mutex_unlock(&st->mu);
        if (j->kind == SERVE_JOB_CREATE) {
            serve_job_record_failed(
                st, NULL, j,
                "cancelled: snapset serve stopped before the set "
                "was begun");
            serve_log("set %s of '%s' cancelled (stopping)", j->set_uuid,
                      j->domain_name);
        } else {
            serve_log("%s of set %s cancelled (stopping)",
                      j->rec ? j->rec->kind : "job", j->set_uuid);
        }
        serve_job_rec_finish(st, j, false, NULL,
                             "cancelled: snapset serve stopped before the "
                             "job began");
        serve_job_free(j); /* releases the domain lock */
        pthread_mutex_lock(&st->mu);
        pp = &st->jobs;
    }
    pthread_cond_broadcast(&st->work_cv);
    pthread_cond_broadcast(&st->sched_cv);
    if (st->running || st->sched_running)
        serve_log("waiting for %zu running job%s%s", st->running,
                  st->running == 1 ? "" : "s",
                  st->sched_running ? " and a policy run" : "");
    while ((st->running || st->sched_running) && snap_wall_ms() < deadline) {
        ts.tv_sec = (time_t)(deadline / 1000);
        ts.tv_nsec = (long)(deadline % 1000) * 1000000L;
        pthread_cond_timedwait(&st->idle_cv, &st->mu, &ts);
    }
    done = st->running == 0 && !st->sched_running;
    pthread_mutex_unlock(&st->mu);
    return done;
}

/* The options of the API from the configuration. */
static void
api_opts(const serve_state *st, http_api_opts *ho)
{
    const coord_conf *c = &st->conf;

    http_api_opts_init(ho);
    ho->address = c->http.address;
    ho->port = c->http.port;
    ho->max_body_bytes = (size_t)c->http.max_body_bytes;
    ho->threads = (unsigned)c->http.threads;
    ho->max_connections = (unsigned)c->http.max_connections;
    ho->max_connections_per_ip = (unsigned)c->http.max_connections_per_ip;
    ho->connection_timeout_ms = c->http.connection_timeout_ms;
    ho->request_timeout_ms = c->http.request_timeout_ms;
    ho->allowed_roles = c->http.allowed_roles;
    ho->nallowed_roles = c->http.nallowed_roles;
    ho->allowed_projects = c->http.allowed_projects;
    ho->nallowed_projects = c->http.nallowed_projects;
    ho->token_cache_ms = c->http.token_cache_ms;
    ho->negative_cache_ms = c->http.negative_cache_ms;
    ho->validate_timeout_ms = c->http.validate_timeout_ms;
    ho->validators = (unsigned)c->http.validators;
    ho->quiesce = c->quiesce;
    ho->pause = c->pause;
}

/* Everything up to serving: the state with @o applied, recovery, the
 * catalog, the workers' contexts and the API. Every thread started from
 * here on inherits the signal mask set here: @sigs are taken by sigwait()
 * only. Flat sequence of steps, hence its length. */
static serve_state *
start(ops_ctx *ctx, const serve_opts *o, sigset_t *sigs, snap_error *err)
{
    serve_state *st = NULL;
    http_api_opts ho;
    snap_error e = {0};
    size_t i;
    int recovered = 0;
    size_t stale = 0;

    st = serve_state_new(&ctx->conf, err);
    if (!st)
        return NULL;
    if ((o->address &&
         !coord_str_set(&st->conf.http.address, o->address, err)) ||
        (o->tokens_file &&
         !coord_str_set(&st->conf.http.tokens_file, o->tokens_file, err)))
        goto error;
    if (o->port >= 0)
        st->conf.http.port = o->port;
    if (o->no_schedule)
        st->conf.http.schedule = false;

    /* Finish what a dead snapset left (a guest frozen by a crashed serve
     * is thawed here, before anything else). */
    if (!ops_recover(ctx, NULL, &recovered, err))
        goto error;
    if (recovered)
        serve_log("recovered %d set%s left by a dead snapset process",
                  recovered, recovered == 1 ? "" : "s");
    st->catalog = coord_catalog_open(st->conf.catalog_dir, err);
    st->host = st->catalog ? virt_host_new(st->conf.libvirt_uri, err) : NULL;
    if (!st->host)
        goto error;
    /* Jobs an earlier server accepted and never finished: their sets were
     * recovered just now; their records say what became of them. */
    if (!coord_jobrec_fail_stale(coord_catalog_dir(st->catalog),
                                 "snapset serve stopped before the job "
                                 "finished (its set, if any, was recovered)",
                                 &stale, err))
        goto error;
    if (stale)
        serve_log("%zu job%s of an earlier server marked failed", stale,
                  stale == 1 ? "" : "s");
    if (st->conf.http.job_retention_days > 0) {
        size_t pruned = 0;
        snap_error pe = {0};

        /* A failure here is no reason not to serve: said, and tried again
         * at the next start. */
        if (!coord_jobrec_prune(coord_catalog_dir(st->catalog),
                                snap_wall_ms() -
                                    (int64_t)st->conf.http.job_retention_days *
                                        86400000,
                                &pruned, &pe))
            serve_log("cannot remove old job records: %s", pe.msg);
        else if (pruned)
            serve_log("%zu job record%s older than %d days removed", pruned,
                      pruned == 1 ? "" : "s", st->conf.http.job_retention_days);
    }

    sigemptyset(sigs);
    sigaddset(sigs, SIGTERM);
    sigaddset(sigs, SIGINT);
    sigaddset(sigs, SIGHUP);
    pthread_sigmask(SIG_BLOCK, sigs, NULL);
    signal(SIGPIPE, SIG_IGN);

    st->ctxs = calloc((size_t)st->conf.http.workers, sizeof(*st->ctxs));
    st->workers = calloc((size_t)st->conf.http.workers, sizeof(*st->workers));
    if (!st->ctxs || !st->workers) {
        snap_error_set(err, SNAP_E_NOMEM, "out of memory");
        goto error;
    }
    for (i = 0; i < (size_t)st->conf.http.workers; i++) {
        if (!serve_ctx_init(&st->ctxs[i], &st->conf, err))
            goto error;
        st->nworkers = i + 1;
    }

    api_opts(st, &ho);
    if (serve_auth_keystone(&st->conf)) {
        if (!serve_state_add_ks(st, (size_t)st->conf.http.validators, err))
            goto error;
        ho.auth = &serve_keystone_auth_ops;
        ho.auth_impl = st;
    } else {
        /* noauth is Cinder's setting, never the API's: its tokens come
         * from the tokens file only. */
        ho.tokens_file = st->conf.http.tokens_file;
    }
    ho.backend = &serve_backend_ops;
    ho.backend_impl = st;
    st->api = http_api_new(&ho, &e);
    if (!st->api) {
        if (st->conf.openstack.enabled && !ho.auth)
            snap_error_set(err, e.code,
                           "openstack.auth_type is noauth, so the API takes "
                           "its tokens from http.tokens_file only: %s",
                           e.msg);
        else
            snap_error_set(err, e.code, "%s", e.msg);
        goto error;
    }
    return st;

error:
    serve_state_free(st);
    return NULL;
}

bool
serve_run(ops_ctx *ctx, const serve_opts *o, snap_error *err)
{
    serve_state *st = NULL;
    sigset_t sigs;
    pthread_t sched;
    size_t i, nworkers;
    bool have_sched = false, any_schedule = false, ok = false;
    int sig = 0;

    st = start(ctx, o, &sigs, err);
    if (!st)
        return false;
    nworkers = st->nworkers;
    st->nworkers = 0; /* now: how many threads run */
    for (i = 0; i < nworkers; i++) {
        if (!serve_job_start_worker(st, i, err))
            break;
        st->nworkers = i + 1;
    }
    if (st->nworkers < nworkers)
        goto stop;
    for (i = 0; i < st->conf.npolicies; i++)
        any_schedule |=
            st->conf.policies[i].schedule.kind != COORD_SCHEDULE_NONE;
    if (st->conf.http.schedule && any_schedule) {
        if (pthread_create(&sched, NULL, serve_scheduler_main, st) == 0)
            have_sched = true;
        else
            serve_log("cannot start the scheduler: no policy will run on "
                      "its schedule");
    }

    printf("snapset: serving on http://%s%s%s:%d (%s, %zu workers)\n",
           strchr(st->conf.http.address, ':') ? "[" : "", st->conf.http.address,
           strchr(st->conf.http.address, ':') ? "]" : "",
           http_api_port(st->api),
           serve_auth_keystone(&st->conf) ? "Keystone tokens" : "tokens file",
           st->nworkers);
    fflush(stdout);

    for (;;) {
        if (sigwait(&sigs, &sig) != 0)
            continue;
        if (sig == SIGHUP) {
            serve_log("SIGHUP: reloading is not supported; restart to read "
                      "a changed configuration");
            continue;
        }
        break;
    }
    serve_log("%s: stopping", sig == SIGINT ? "SIGINT" : "SIGTERM");
    ok = true;

stop:
    if (!stop_all(st)) {
        /* Jobs still run past the bound: exit without waiting. Their
         * journals name this process; the next `serve` (or any create,
         * delete or recover on those domains) finishes them. The threads
         * still use the state, so it is not freed. */
        serve_log("jobs still running after %lld ms: exiting anyway; the "
                  "next start recovers them",
                  (long long)st->conf.http.shutdown_timeout_ms);
        fflush(NULL);
        return false;
    }
    for (i = 0; i < st->nworkers; i++)
        pthread_join(st->workers[i], NULL);
    if (have_sched)
        pthread_join(sched, NULL);
    serve_log("stopped");
    /* The workers' contexts are released with the state, all of them:
     * those whose thread never started too. */
    st->nworkers = nworkers;
    serve_state_free(st);
    return ok;
}
