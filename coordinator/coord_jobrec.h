/* coordinator/coord_jobrec.h -- the record of a long operation the API
 * started (GET /v1/jobs/{id}): what it is, where it stands, what it made
 * or why it failed. One JSON document per job in <catalog>/jobs/<id>.json,
 * written atomically at every change of state, so a job outlives the
 * server that ran it: a record still queued or running when `serve`
 * starts again is marked failed with the reason (coord_jobrec_fail_stale).
 */
#ifndef COORD_JOBREC_H
#define COORD_JOBREC_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "common/snap_error.h"
#include "common/snap_uuid.h"

typedef enum coord_jobrec_state {
    COORD_JOBREC_QUEUED = 0,
    COORD_JOBREC_RUNNING,
    COORD_JOBREC_SUCCEEDED,
    COORD_JOBREC_FAILED,
} coord_jobrec_state;

typedef struct coord_jobrec {
    char id[SNAP_UUID_LEN];
    char *kind; /* "create", "delete", "export" */
    coord_jobrec_state state;
    char domain_uuid[SNAP_UUID_LEN]; /* "" when it acts on no domain */
    char *domain_name;
    char set_uuid[SNAP_UUID_LEN]; /* the set it makes or acts on, or "" */
    /* The owner of what it acts on, as the API authorizes it (NULL when
     * none is known: only the host's roles may see the job). */
    char *owner_project;
    char *owner_project_name;
    char *owner_project_domain;
    int progress;        /* 0-100, -1 when not known */
    int64_t created_ms;  /* wall clock, accepted */
    int64_t finished_ms; /* wall clock, or -1 */
    json_t *result;      /* ids and URLs of what it made, or NULL */
    char *error;         /* why it failed, or NULL */
} coord_jobrec;

/* A new record: a fresh id, queued, @kind; NULL with @err set. */
coord_jobrec *coord_jobrec_new(const char *kind, snap_error *err);
void coord_jobrec_free(coord_jobrec *r);

const char *coord_jobrec_state_name(coord_jobrec_state s);
/* -1 for a name that is none of them. */
int coord_jobrec_state_parse(const char *name);

/* The record as the API shows it (without the owner): a new object. */
json_t *coord_jobrec_to_json(const coord_jobrec *r);

/* Writes @r into @catalog_dir/jobs/ (made 0700 when missing). */
bool coord_jobrec_save(const char *catalog_dir, const coord_jobrec *r,
                       snap_error *err);

/* Reads the job @id (a full UUID): new, or NULL (SNAP_E_NOTFOUND when
 * there is none, SNAP_E_INVALID for a bad id or a broken record). */
coord_jobrec *coord_jobrec_load(const char *catalog_dir, const char *id,
                                snap_error *err);

/* Every readable record, newest first: a new array for
 * coord_jobrec_list_free(). A broken record is skipped with a warning. */
bool coord_jobrec_list(const char *catalog_dir, coord_jobrec ***out, size_t *n,
                       snap_error *err);
void coord_jobrec_list_free(coord_jobrec **v, size_t n);

/* Removes the records of jobs that ended (succeeded or failed) before
 * @before_ms (wall clock); how many in *@nremoved. A record that cannot
 * be read is left alone. */
bool coord_jobrec_prune(const char *catalog_dir, int64_t before_ms,
                        size_t *nremoved, snap_error *err);

/* Marks every record still queued or running as failed saying @why; how
 * many in *@nfailed. Run when the server starts, before it accepts work:
 * nothing of an earlier process runs any more. */
bool coord_jobrec_fail_stale(const char *catalog_dir, const char *why,
                             size_t *nfailed, snap_error *err);

#endif
