/* coordinator/serve/jobs.h -- the job queue of `snapset serve`: what the
 * API accepted (create, delete, export) waits here for a worker thread,
 * each worker with an ops_ctx of its own. */
#ifndef SERVE_JOBS_H
#define SERVE_JOBS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/snap_error.h"
#include "common/snap_uuid.h"
#include "coordinator/coord_job.h"
#include "coordinator/coord_jobrec.h"
#include "coordinator/serve/state.h"

typedef enum serve_job_kind {
    SERVE_JOB_CREATE = 0,
    SERVE_JOB_DELETE,
    SERVE_JOB_EXPORT,
    SERVE_JOB_RESTORE,
    SERVE_JOB_SPAWN,
    SERVE_JOB_VOLUME,
    SERVE_JOB_TEMPLATE,        /* make one of set_uuid, labelled name */
    SERVE_JOB_TEMPLATE_DELETE, /* template_id */
} serve_job_kind;

struct serve_job {
    serve_job_kind kind;
    char set_uuid[SNAP_UUID_LEN];
    char domain_uuid[SNAP_UUID_LEN];
    char *domain_name;
    char *name;
    char *backup_type;
    int rotation;
    coord_quiesce quiesce;
    bool pause;
    bool memory;                 /* SERVE_JOB_CREATE: with RAM state */
    bool with_exports;           /* SERVE_JOB_DELETE */
    int restore_start;           /* SERVE_JOB_RESTORE: 1, 0, -1 as before */
    int64_t shutdown_timeout_ms; /* SERVE_JOB_RESTORE; -1: the conf's */
    char *disk_format; /* SERVE_JOB_EXPORT; name is the image's name */
    /* SERVE_JOB_SPAWN: name is the new domain's (the stem with count > 1) */
    unsigned vcpus, count;
    uint64_t memory_mib;
    char **networks;
    size_t nnetworks;
    bool full, start, keep_failed;
    char *disk;   /* SERVE_JOB_VOLUME: the member; name is the volume's */
    char *format; /* SERVE_JOB_VOLUME: local members' */
    /* SERVE_JOB_SPAWN from a template, SERVE_JOB_TEMPLATE_DELETE: the
     * template (set_uuid is its id then) */
    char *template_id;
    json_t *metadata;    /* SERVE_JOB_CREATE: the caller's pairs, or NULL */
    int lock_fd;         /* the domain lock, held from acceptance */
    int64_t accepted_ms; /* wall clock */
    bool started;
    coord_jobrec *rec; /* its record (GET /v1/jobs/{id}), or NULL */
    serve_state *st;   /* while it runs: for its progress */
    struct serve_job *next;
};

/* Frees @j and releases its domain lock, if it holds one (NULL: nothing). */
void serve_job_free(serve_job *j);

/* Queues @j (taken in every case); false with 503 when the server is
 * stopping or the queue is full (http.max_queue). Its record, if it has
 * one, is written first (queued): a job the server accepted is on disk. */
bool serve_job_queue(serve_state *st, serve_job *j, snap_error *err);

/* Takes @domain_uuid's lock without waiting; SNAP_E_BUSY names the
 * domain (@domain_name). Returns the lock's fd, or -1 with @err set. */
int serve_job_lock_now(serve_state *st, const char *domain_uuid,
                       const char *domain_name, snap_error *err);

/* A create job that never got as far as a set document (ops_create failed
 * before recording anything, or the server stopped first) is recorded as
 * a failed set saying @why, so the Location the client got always answers.
 * Saved through @ctx's catalog, or @st's when @ctx is NULL; a failure to
 * record is logged. */
void serve_job_record_failed(serve_state *st, ops_ctx *ctx, const serve_job *j,
                             const char *why);

/* Records the end of @j, if it has a record: succeeded with @result
 * (taken; may be NULL), or failed saying @why. */
void serve_job_rec_finish(serve_state *st, serve_job *j, bool ok,
                          json_t *result, const char *why);

/* Starts worker thread @i (st->workers[i], with st->ctxs[i]). */
bool serve_job_start_worker(serve_state *st, size_t i, snap_error *err);

#endif
