/* coordinator/serve/state.c -- see state.h. */
#include "coordinator/serve/state.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "coordinator/coord_events.h"

serve_state *
serve_state_new(const coord_conf *conf, snap_error *err)
{
    serve_state *st = calloc(1, sizeof(*st));

    if (!st) {
        snap_error_set(err, SNAP_E_NOMEM, "out of memory");
        return NULL;
    }
    pthread_mutex_init(&st->virt_mu, NULL);
    pthread_mutex_init(&st->mu, NULL);
    pthread_cond_init(&st->work_cv, NULL);
    pthread_cond_init(&st->idle_cv, NULL);
    pthread_cond_init(&st->sched_cv, NULL);
    atomic_init(&st->stopping, false);
    if (!coord_conf_copy(&st->conf, conf, err)) {
        serve_state_free(st);
        return NULL;
    }
    return st;
}

bool
serve_state_add_ks(serve_state *st, size_t n, snap_error *err)
{
    size_t i;

    st->ks = calloc(n, sizeof(*st->ks));
    if (!st->ks)
        return snap_error_set(err, SNAP_E_NOMEM, "out of memory");
    st->nks = n;
    for (i = 0; i < st->nks; i++)
        pthread_mutex_init(&st->ks[i].mu, NULL);
    return true;
}

void
serve_state_free(serve_state *st)
{
    size_t i;

    if (!st)
        return;
    http_api_free(st->api);
    for (i = 0; st->ctxs && i < st->nworkers; i++)
        ops_ctx_release(&st->ctxs[i]);
    free(st->ctxs);
    free(st->workers);
    for (i = 0; st->ks && i < st->nks; i++) {
        if (st->ks[i].open)
            ops_os_close(&st->ks[i].os);
        pthread_mutex_destroy(&st->ks[i].mu);
    }
    free(st->ks);
    virt_host_free(st->host);
    coord_catalog_free(st->catalog);
    coord_catalog_free(st->templates);
    coord_events_free(st->events);
    coord_conf_release(&st->conf);
    pthread_mutex_destroy(&st->virt_mu);
    pthread_mutex_destroy(&st->mu);
    pthread_cond_destroy(&st->work_cv);
    pthread_cond_destroy(&st->idle_cv);
    pthread_cond_destroy(&st->sched_cv);
    free(st);
}

void
serve_log(const char *fmt, ...)
{
    va_list ap;

    flockfile(stderr);
    fprintf(stderr, "snapset: serve: ");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    funlockfile(stderr);
}

bool
serve_ctx_init(ops_ctx *ctx, const coord_conf *conf, snap_error *err)
{
    memset(ctx, 0, sizeof(*ctx));
    /* The audit log's actor of what the server does; an API call's own
     * event names the token's user (http_sets.c). */
    snprintf(ctx->actor, sizeof(ctx->actor), "serve");
    return coord_conf_copy(&ctx->conf, conf, err);
}

bool
serve_ctx_ready(ops_ctx *ctx, snap_error *err)
{
    virt_conn_drop_dead(&ctx->conn);
    return ops_catalog(ctx, err) && ops_connect(ctx, err);
}
