/* coordinator/serve/state.h -- what the threads of `snapset serve` share:
 * the configuration, the catalog, the job queue and its counters, the
 * Keystone sessions of the token validators, the API; plus the server's
 * log line and the per-thread ops_ctx helpers.
 *
 * Threads. ops_ctx is not thread-safe, so every thread that acts owns one,
 * with its own copy of the configuration and its own libvirt connection:
 * the API's job workers, each policy-run worker. The HTTP threads only
 * read the catalog (safe for distinct sets), take domain locks without
 * waiting, and look domains up through one shared connection under a
 * mutex. One operation per domain at a time holds across the API, policies
 * and the CLI because all of them take the same flock in the catalog. */
#ifndef SERVE_STATE_H
#define SERVE_STATE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

#include "common/snap_error.h"
#include "coordinator/coord_catalog.h"
#include "coordinator/coord_conf.h"
#include "coordinator/http/http_api.h"
#include "coordinator/ops/ctx.h"
#include "coordinator/ops/openstack.h"
#include "virt/host.h"

typedef struct serve_job serve_job; /* coordinator/serve/jobs.h */

/* One Keystone session of the token validators: each validator thread of
 * the API takes a free one, so no validation waits for another's I/O. */
typedef struct serve_ks_slot {
    pthread_mutex_t mu; /* held by the validation using it */
    ops_os os;
    bool open;
} serve_ks_slot;

typedef struct serve_state {
    coord_conf conf;             /* what each thread copies */
    coord_catalog *catalog;      /* shared by the HTTP threads: reads, locks */
    struct coord_events *events; /* the audit log of the API's calls */
    coord_catalog *templates;    /* CATALOG/templates, opened on first use
                                    (under mu) */
    pthread_mutex_t virt_mu;     /* guards host */
    virt_host *host;             /* domain lookups of the HTTP threads */
    serve_ks_slot *ks;           /* Keystone sessions for token validation: */
    size_t nks;                  /* one per validator thread of the API */

    pthread_mutex_t mu;      /* guards the fields below */
    pthread_cond_t work_cv;  /* a job was queued, or stopping */
    pthread_cond_t idle_cv;  /* a worker finished a job */
    pthread_cond_t sched_cv; /* wakes the scheduler on stop */
    serve_job *jobs;         /* queued and running, oldest first */
    size_t queued;
    size_t reserved; /* places kept for jobs whose records are written */
    size_t running;
    bool sched_running; /* a scheduled policy run is in progress */
    atomic_bool stopping;

    http_api *api;
    ops_ctx *ctxs; /* one per worker */
    pthread_t *workers;
    size_t nworkers;
} serve_state;

/* Returns a new state with a copy of @conf (its mutexes and conditions
 * initialised, nothing opened: catalog, api, workers and Keystone slots
 * are the caller's to add), or NULL with @err set. Free with
 * serve_state_free(). */
serve_state *serve_state_new(const coord_conf *conf, snap_error *err);

/* Releases all @st holds (NULL: nothing). No thread may use it any more. */
void serve_state_free(serve_state *st);

/* Gives @st @n Keystone slots, none opened yet. */
bool serve_state_add_ks(serve_state *st, size_t n, snap_error *err);

/* What the server does, on stderr (the journal under systemd), whatever
 * the log level: "snapset: serve: <message>". */
void serve_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* A context of its own for a thread: a copy of @conf, nothing opened. */
bool serve_ctx_init(ops_ctx *ctx, const coord_conf *conf, snap_error *err);

/* Opens the catalog and the libvirt connection (again, if libvirtd went
 * away). Done before ops_create(), which would otherwise return early
 * without releasing a lock handed to it. */
bool serve_ctx_ready(ops_ctx *ctx, snap_error *err);

#endif
