/* coordinator/coord_events.h -- the audit log: who did what to which
 * resource, and how it ended. One JSON object a line, appended to
 * <catalog>/events.jsonl by every snapset process of the host (serve, the
 * CLI, policies):
 *
 *   {"time": "2026-11-22T04:39:24.123Z", "actor": "u-42@p-1234",
 *    "action": "create", "kind": "set", "id": "6d2c...", "domain": "web1",
 *    "domain_uuid": "...", "result": "failed", "error": "...",
 *    "job": "...", "owner_project": "p-1234"}
 *
 * (one line in the file; the optional members are left out when unset).
 * "time" is RFC 3339 UTC with milliseconds, taken under the log's lock,
 * so the lines of the files are in time order as long as the wall clock
 * does not go back. The owner_* members are the owner of what the event
 * acts on, as the API authorized it: GET /v1/events shows an event to that
 * project and to the host's roles only, and does not show the members.
 *
 * Each append holds an flock of <catalog>/events.lock (a bounded wait),
 * opens events.jsonl with O_APPEND | O_NOFOLLOW (0600 when it is made),
 * writes the whole line with one write() and fsyncs it: two processes
 * appending at once neither lose nor interleave lines. A file past
 * max_bytes is rotated first, under the same lock: events.jsonl.K-1
 * becomes .K (the oldest, .keep, goes), events.jsonl becomes .1. The
 * catalog directory is trusted; the files in it are not followed: a
 * symlink (or anything but a regular file with one link) at events.jsonl,
 * events.lock or a rotated name fails the append, and nothing is written
 * through it.
 *
 * Each event also goes to syslog (also when the append fails: it is the
 * other copy) as one line, facility LOG_AUTHPRIV,
 * priority LOG_INFO: "snapset audit {...}" with the same JSON in ASCII
 * (jansson's \uXXXX for the rest, control characters escaped). AUTHPRIV
 * because it says who acted with which rights, and syslog daemons keep
 * that facility in a file only root reads (/var/log/auth.log, secure).
 *
 * A failed append is reported (false, @err) but an operation that emits
 * an event should go on: callers log it as a warning.
 *
 * Threads: a coord_events handle may be used by several threads at once
 * (each append takes its own flock); reading needs no handle.
 */
#ifndef COORD_EVENTS_H
#define COORD_EVENTS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/snap_error.h"

#define COORD_EVENTS_FILE "events.jsonl"
#define COORD_EVENTS_LOCK "events.lock"
#define COORD_EVENTS_MAX_BYTES_DEFAULT (16 * 1024 * 1024)
#define COORD_EVENTS_KEEP_DEFAULT 4
#define COORD_EVENTS_KEEP_MAX 99
#define COORD_EVENTS_LOCK_TIMEOUT_DEFAULT 5000 /* ms */
#define COORD_EVENTS_LIMIT_DEFAULT 1000
#define COORD_EVENTS_LIMIT_MAX 10000
/* A line longer than this is not one of ours: readers skip it. Emitted
 * lines stay far below it (an error text is cut at 1024 bytes, the other
 * members at 256). */
#define COORD_EVENTS_LINE_MAX (16 * 1024)

typedef struct coord_events_opts {
    uint64_t max_bytes;      /* rotate before a line would take the file past
                                it (a file is never empty after rotation) */
    unsigned keep;           /* rotated files kept, 1..COORD_EVENTS_KEEP_MAX */
    int64_t lock_timeout_ms; /* the wait for events.lock; then SNAP_E_BUSY */
    bool syslog;             /* also to syslog(LOG_AUTHPRIV | LOG_INFO) */
} coord_events_opts;

/* Fills the defaults: 16 MiB, 4 old files, 5 s, syslog on. */
void coord_events_opts_init(coord_events_opts *o);

/* One event, as a caller writes it: borrowed strings, NULL (or "") for an
 * optional member that is not known. */
typedef struct coord_event {
    int64_t time_ms; /* wall clock; 0: now (taken under the lock) */
    /* Who: "USER@PROJECT" for an API token (coord_events_actor_token()),
     * "cli:UID" for the command line (coord_events_actor_cli()),
     * "policy:NAME" for a scheduled policy, "serve" for the server on its
     * own. NULL: "unknown". A string, not a struct: the callers' kinds of
     * actor have little in common. */
    const char *actor;
    const char *action; /* required: "create", "delete", "restore",
                           "spawn", "export", "api", ... ([a-z0-9-], <= 32) */
    const char *kind;   /* required: coord_events_kind_valid() */
    const char *id;     /* the resource's id */
    const char *domain; /* the libvirt domain's name */
    const char *domain_uuid;
    bool failed;       /* "result": "failed" (else "ok") */
    const char *error; /* why it failed (only with @failed) */
    const char *job;   /* the job's id (coord_jobrec) */
    /* The owner of what it acts on, as the API authorized it (all NULL:
     * only the host's roles see the event through the API). */
    const char *owner_project;
    const char *owner_project_name;
    const char *owner_project_domain;
} coord_event;

/* True when @kind is one of: set, copy, cinder-snapshot, volume, domain,
 * template, image, checkpoint, job, state. */
bool coord_events_kind_valid(const char *kind);

/* "@user@@project" into @buf (either "-" when NULL); returns @buf. */
const char *coord_events_actor_token(const char *user, const char *project,
                                     char *buf, size_t size);
/* "cli:UID" of the calling process (its real uid) into @buf. */
const char *coord_events_actor_cli(char *buf, size_t size);

typedef struct coord_events coord_events;

/* A log in @catalog_dir (it must exist; nothing is opened yet). @o NULL:
 * the defaults. Returns a new handle (copies), NULL with @err set
 * (SNAP_E_INVALID for bad options). Free with coord_events_free(). */
coord_events *coord_events_new(const char *catalog_dir,
                               const coord_events_opts *o, snap_error *err);
void coord_events_free(coord_events *log);

/* Appends @ev (and sends it to syslog when the options say so). Errors:
 * SNAP_E_INVALID (no action, an unknown kind), SNAP_E_BUSY (the lock was
 * held past lock_timeout_ms), SNAP_E_STATE (a symlink or another planted
 * file at one of the log's names), SNAP_E_SYSTEM. Nothing is written on
 * failure (a short write is cut off again). */
bool coord_events_emit(coord_events *log, const coord_event *ev,
                       snap_error *err);

/* Parses a time for a filter into *@ms (wall clock): RFC 3339
 * ("2026-11-22T04:39:24.123Z", "2026-11-22T05:39:24+01:00", fraction
 * optional), milliseconds since the epoch ("1763786364123"), or a time
 * before @now_ms ("90s", "15m", "2h", "7d"). False on anything else. */
bool coord_events_time_parse(const char *s, int64_t now_ms, int64_t *ms);

/* Which events to read. Zeroed = all, the newest COORD_EVENTS_LIMIT_DEFAULT
 * (since_ms is then 0: set it to -1, or use coord_events_filter_init()). */
typedef struct coord_events_filter {
    /* With since_ms >= 0: the first @limit events at or after it (oldest
     * kept), so a client pages forward with since = the last time it got
     * (the events of that millisecond come again: drop the ones it has).
     * -1: the newest @limit events. Either way oldest first. */
    int64_t since_ms;
    const char *domain; /* its name or UUID (any case); NULL: any */
    const char *kind;   /* NULL: any */
    size_t limit;       /* 0: COORD_EVENTS_LIMIT_DEFAULT; at most _MAX */
    /* NULL: every event that matches the above. Else called for each of
     * them (the object is borrowed): false leaves it out, and it does not
     * count against @limit (the API's authorization). */
    bool (*accept)(void *cls, const json_t *event);
    void *accept_cls;
} coord_events_filter;

/* since_ms -1, nothing else set. */
void coord_events_filter_init(coord_events_filter *f);

typedef struct coord_events_page {
    json_t *events; /* new array of the events, oldest first */
    size_t nbad;    /* lines skipped: not a JSON object with a valid "time"
                       (or longer than COORD_EVENTS_LINE_MAX) */
    bool more;      /* @limit left matching events out: newer ones with
                       since_ms, older ones without */
} coord_events_page;

void coord_events_page_release(coord_events_page *p);

/* Reads the events of @catalog_dir under @f (NULL: all): the rotated files
 * oldest first, then events.jsonl. A missing log is empty. Bad lines are
 * skipped and counted; the line being appended (no newline yet) is not
 * read. Memory is bounded by @limit events. *@out is filled on success
 * (release it with coord_events_page_release()). Errors: SNAP_E_STATE (a
 * symlink or another planted file at one of the names), SNAP_E_SYSTEM,
 * SNAP_E_NOMEM. */
bool coord_events_read(const char *catalog_dir, const coord_events_filter *f,
                       coord_events_page *out, snap_error *err);

/* Following the log as it grows (snapset events --follow). */
typedef struct coord_events_tail coord_events_tail;

/* Reads what the log holds now under @f into *@history (as
 * coord_events_read()) and returns a tail positioned right after it: the
 * first poll returns what came next, nothing twice, nothing missed. Free
 * with coord_events_tail_free(). */
coord_events_tail *coord_events_tail_new(const char *catalog_dir,
                                         const coord_events_filter *f,
                                         coord_events_page *history,
                                         snap_error *err);
void coord_events_tail_free(coord_events_tail *t);

/* The events appended since the last call that match @f (its since_ms and
 * limit are not used), oldest first, into *@out. At most about 1 MiB of
 * the log is read per call: out->more then says to call again at once.
 * Follows a rotation (it drains the old file first); when more than one
 * rotation happened between two calls the files in between are missed. */
bool coord_events_tail_poll(coord_events_tail *t, const coord_events_filter *f,
                            coord_events_page *out, snap_error *err);

#endif
