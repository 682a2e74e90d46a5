/* coordinator/http/http_api.h -- the HTTP API of `snapset serve`: a
 * createBackup-style JSON API on libmicrohttpd, with tokens, error codes
 * and Prometheus metrics.
 *
 *   POST   /v1/servers/{domain}/action  {"createBackup": {...}} or
 *                                       {"createSnapshot": {...}}  -> 202
 *   GET    /v1/sets[?domain=&backup_type=&state=]                  -> 200
 *   GET    /v1/sets/{id}                                           -> 200
 *   DELETE /v1/sets/{id}[?with_exports=true]                       -> 202
 *   POST   /v1/sets/{id}/export   {"name": ..., "disk_format": ...}
 *                                 (OVA of the set into Glance)     -> 202
 *   POST   /v1/sets/{id}/restore  {"start", "shutdown_timeout_ms"} -> 202
 *   POST   /v1/sets/{id}/spawn    {"name", "vcpus", "memory_mib",
 *                                  "networks", "full", "start",
 *                                  "count"}                        -> 202
 *   POST   /v1/sets/{id}/volumes  {"disk", "name", "format"}       -> 202
 *   POST   /v1/sets/{id}/template {"name"}                         -> 202
 *   GET    /v1/templates[/{id}], DELETE /v1/templates/{id}     -> 200, 202
 *   POST   /v1/templates/{id}/spawn  (the body of .../spawn)       -> 202
 *   GET    /v1/servers/{domain}/sets                               -> 200
 *   GET    /v1/servers/{domain}/states[/{id}], POST, DELETE,
 *          POST .../states/apply {"uuid"}        (RAM states)      -> 202
 *   GET    /v1/jobs[?state=&domain=&kind=], /v1/jobs/{id}          -> 200
 *   GET    /v1/events[?since=&domain=&kind=&limit=]  (audit log)  -> 200
 *   GET    /healthz                        (no token)              -> 200
 *   GET    /metrics                        (Prometheus text)       -> 200
 *
 * Errors are JSON: {"error": {"code": 409, "title": "Conflict",
 * "message": "..."}}. 400 malformed JSON, wrong types, unknown action or
 * field, bad rotation; 401 no or unknown token; 403 project or role not
 * allowed; 404 unknown route, domain or set; 405 wrong method; 409 the
 * domain already has an operation in progress; 413 body too large; 415 not
 * application/json; 503 queue full, shutting down, Keystone unreachable.
 *
 * The server does the HTTP side only. What it acts on sits behind
 * http_backend_ops (app/serve.c wires the real actions, the unit tests a
 * fake), and token validation behind http_auth_ops (Keystone) or a tokens
 * file.
 *
 * Threads: the server answers on its own threads (a pool of
 * http_api_opts.threads); the backend and auth ops are called from them
 * concurrently and must be thread-safe.
 */
#ifndef HTTP_API_H
#define HTTP_API_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "common/snap_error.h"
#include "common/snap_uuid.h"
#include "coordinator/coord_events.h"
#include "coordinator/coord_jobrec.h"
#include "coordinator/coord_set.h"
#include "coordinator/http/http_authz.h"

typedef struct http_api http_api;

/* The set metadata keys that record the owner of a set when the API makes
 * it (a caller's metadata may not use the "snapset." prefix). */
#define HTTP_OWNER_KEY_PROJECT COORD_KEY_OWNER_PROJECT
#define HTTP_OWNER_KEY_NAME COORD_KEY_OWNER_NAME
#define HTTP_OWNER_KEY_DOMAIN COORD_KEY_OWNER_DOMAIN

/* What a create request asks for, validated. Borrowed strings. */
typedef struct http_create_req {
    const char *domain_name; /* as the backend resolved it */
    const char *domain_uuid;
    const char *name;        /* label; may be NULL */
    const char *backup_type; /* createBackup; NULL for createSnapshot */
    int rotation;            /* >= 1 for createBackup; 0 otherwise */
    coord_quiesce quiesce;
    bool pause;
    bool memory;             /* with RAM state (POST .../states) */
    const json_t *metadata;  /* object of strings, or NULL */
    const http_owner *owner; /* the domain's owner, to record in the set
                                (HTTP_OWNER_KEY_*); never NULL */
} http_create_req;

/* What an export request asks for, validated. Borrowed strings. */
typedef struct http_export_req {
    const char *name;        /* the image's name; NULL: a default */
    const char *disk_format; /* "vmdk" or "qcow2"; NULL: vmdk */
} http_export_req;

/* What a restore request asks for, validated. */
typedef struct http_restore_req {
    int start;                   /* 1 start, 0 leave shut off, -1 as before */
    int64_t shutdown_timeout_ms; /* -1: the configuration's */
} http_restore_req;

#define HTTP_SHUTDOWN_TIMEOUT_MAX_MS 3600000

#define HTTP_SPAWN_MAX_NETWORKS 8
#define HTTP_SPAWN_MAX_COUNT 32

/* What a spawn request asks for, validated. Borrowed strings. */
typedef struct http_spawn_req {
    const char *name;    /* the new domain's, or with @count > 1 the stem of
                            "name-1" ... "name-N" */
    unsigned vcpus;      /* 0: as the original */
    uint64_t memory_mib; /* 0: as the original */
    const char *networks[HTTP_SPAWN_MAX_NETWORKS]; /* none: as the original */
    size_t nnetworks;
    bool full;               /* independent copies, not linked clones */
    bool start;              /* default true */
    unsigned count;          /* 1 to HTTP_SPAWN_MAX_COUNT */
    bool keep_failed;        /* a VM that fails once defined stays, marked */
    const char *template_id; /* POST /v1/templates/{id}/spawn: the
                                template; the id given is its, not a set's */
} http_spawn_req;

/* What a volume request asks for, validated. Borrowed strings. */
typedef struct http_volume_req {
    const char *disk;   /* the member: target ("vdb") or serial */
    const char *name;   /* the volume's or image file's name; NULL: a
                           default */
    const char *format; /* local members: "qcow2" or "raw"; NULL: qcow2 */
} http_volume_req;

/* Counters the backend keeps, for /metrics. */
typedef struct http_backend_stats {
    int64_t queued;  /* accepted jobs not yet started */
    int64_t running; /* jobs running */
} http_backend_stats;

/* Errors map to status codes: SNAP_E_INVALID 400, SNAP_E_NOTFOUND 404,
 * SNAP_E_BUSY and SNAP_E_STATE 409, SNAP_E_TIMEOUT 504, SNAP_E_HTTP its
 * http_status when it is 4xx/5xx (503 for a full queue or a server
 * shutting down), anything else 500. The message is shown to the client. */
typedef struct http_backend_ops {
    /* Resolves a libvirt domain name or UUID: *@name is new (free()). */
    bool (*domain_lookup)(void *impl, const char *id, char **name,
                          char uuid[SNAP_UUID_LEN], snap_error *err);
    /* Accepts a set to be made in the background: takes the domain's lock
     * without waiting (SNAP_E_BUSY when another operation holds it) and
     * names the set in @set_uuid before it returns. Every accepted job
     * names its record in @job_id ("" when the backend keeps none). */
    bool (*create)(void *impl, const http_create_req *req,
                   char set_uuid[SNAP_UUID_LEN], char job_id[SNAP_UUID_LEN],
                   snap_error *err);
    /* Every set, also those accepted and not begun yet: a new array for
     * coord_catalog_list_free(). */
    bool (*list)(void *impl, coord_set ***sets, size_t *nsets, snap_error *err);
    /* One set by UUID (or unique 8+ character prefix): new, or NULL. */
    coord_set *(*get)(void *impl, const char *id, snap_error *err);
    /* Accepts the deletion of a set in the background (SNAP_E_NOTFOUND,
     * SNAP_E_BUSY/SNAP_E_STATE when it or its domain is busy); with
     * @with_exports its Glance images and OVA files go too. */
    bool (*remove)(void *impl, const char *id, bool with_exports,
                   char job_id[SNAP_UUID_LEN], snap_error *err);
    /* Optional (NULL: 501). Accepts an export of the set into Glance in
     * the background and names the set in @set_uuid (SNAP_E_NOTFOUND,
     * SNAP_E_STATE when it is not available, SNAP_E_INVALID when Glance
     * is not configured). */
    bool (*export_set)(void *impl, const char *id, const http_export_req *req,
                       char set_uuid[SNAP_UUID_LEN], char job_id[SNAP_UUID_LEN],
                       snap_error *err);
    /* Optional (NULL: 501). Accepts putting the set's domain back to the
     * set in the background: takes the domain's lock without waiting
     * (SNAP_E_BUSY), SNAP_E_STATE when the set is not available. */
    bool (*restore)(void *impl, const char *id, const http_restore_req *req,
                    char set_uuid[SNAP_UUID_LEN], char job_id[SNAP_UUID_LEN],
                    snap_error *err);
    /* Optional (NULL: 501). Accepts making new domains from the set in the
     * background (the set's domain is locked while it runs: SNAP_E_BUSY);
     * SNAP_E_STATE when the set is not available. */
    bool (*spawn)(void *impl, const char *id, const http_spawn_req *req,
                  char set_uuid[SNAP_UUID_LEN], char job_id[SNAP_UUID_LEN],
                  snap_error *err);
    /* Optional (NULL: 501). Accepts making a new Cinder volume (a Cinder
     * member) or local image (a local member) from one member of the set
     * in the background; SNAP_E_NOTFOUND when the set has no such disk. */
    bool (*volume)(void *impl, const char *id, const http_volume_req *req,
                   char set_uuid[SNAP_UUID_LEN], char job_id[SNAP_UUID_LEN],
                   snap_error *err);
    /* Optional (NULL: 501). Templates (ops/template.h), each recorded as a
     * set document of its own: accepts making one of available set @id in
     * the background (its domain is locked meanwhile: SNAP_E_BUSY), named
     * @name (NULL: a default); every template (a new array for
     * coord_catalog_list_free()); one by id (new, or NULL with
     * SNAP_E_NOTFOUND); accepts deleting one in the background (the job
     * fails, naming the domain, while one is a clone of it). */
    bool (*template_create)(void *impl, const char *id, const char *name,
                            char set_uuid[SNAP_UUID_LEN],
                            char job_id[SNAP_UUID_LEN], snap_error *err);
    bool (*template_list)(void *impl, coord_set ***templates, size_t *n,
                          snap_error *err);
    coord_set *(*template_get)(void *impl, const char *id, snap_error *err);
    bool (*template_remove)(void *impl, const char *id,
                            char job_id[SNAP_UUID_LEN], snap_error *err);
    /* Optional (NULL: not shown). The exports recorded for @set, shown by
     * GET /v1/sets/{id}: a new JSON array. */
    json_t *(*exports)(void *impl, const coord_set *set);
    /* Optional (NULL: not shown). */
    void (*stats)(void *impl, http_backend_stats *stats);
    /* Optional (NULL: no domain has an owner: only allowed_roles act).
     * Fills @owner (all NULL when the domain has no owner metadata);
     * SNAP_E_NOTFOUND when there is no domain @domain_uuid any more. */
    bool (*domain_owner)(void *impl, const char *domain_uuid, http_owner *owner,
                         snap_error *err);
    /* Optional (NULL: 501). One job's record by its UUID: new, or NULL
     * (SNAP_E_NOTFOUND, SNAP_E_INVALID). */
    coord_jobrec *(*job_get)(void *impl, const char *id, snap_error *err);
    /* Optional (NULL: 501). Every job's record, newest first: a new array
     * for coord_jobrec_list_free(). */
    bool (*job_list)(void *impl, coord_jobrec ***jobs, size_t *n,
                     snap_error *err);
    /* Optional (NULL: 501). The audit log's events under @f (GET
     * /v1/events): coord_events_read() of the catalog. */
    bool (*events_read)(void *impl, const coord_events_filter *f,
                        coord_events_page *page, snap_error *err);
    /* Optional (NULL: not recorded). Appends @ev to the audit log (every
     * API call that started a job); a failure is the backend's to log. */
    void (*audit)(void *impl, const coord_event *ev);
} http_backend_ops;

typedef struct http_auth_ops {
    /* Validates @token and fills @id. SNAP_E_NOTFOUND: the token is not
     * valid (401); any other error: the validator failed (503: the
     * message is logged, not shown). Called from the validator threads,
     * at most http_api_opts.validators at once. */
    bool (*validate)(void *impl, const char *token, http_identity *id,
                     snap_error *err);
} http_auth_ops;

typedef struct http_api_opts {
    const char *address; /* numeric IPv4 or IPv6; "127.0.0.1" */
    int port;            /* 0: any free port (http_api_port()) */
    size_t max_body_bytes;
    /* Each connection has its own thread (a request waiting for Keystone
     * never holds up another), up to @max_connections, at most
     * @max_connections_per_ip of them from one address. @threads is kept
     * for old configurations and not used. */
    unsigned threads;
    unsigned max_connections;
    unsigned max_connections_per_ip;
    int64_t connection_timeout_ms; /* an idle connection */
    int64_t request_timeout_ms;    /* one request, first byte to answer:
                                      past it the connection is cut */
    /* Authorization (http_authz.h): a token with one of @allowed_roles
     * acts on every domain, any other only on the domains its project
     * owns; none: owners only. Tokens whose project is not in
     * @allowed_projects (ids or "NAME@DOMAIN"; none: any project) are
     * refused. */
    char *const *allowed_roles;
    size_t nallowed_roles;
    char *const *allowed_projects;
    size_t nallowed_projects;
    /* Tokens come from @auth (Keystone) when it is set; otherwise from
     * @tokens_file, read once at start: "TOKEN PROJECT ROLE[,ROLE]" lines,
     * a regular file (not a symlink) owned by root or by us, that neither
     * group nor others may write and others may not read. Keystone's
     * answers are cached up to @token_cache_ms (never past the token's
     * expiry), its refusals up to @negative_cache_ms; one validation runs
     * per token at a time (callers of the same token share it) on a pool
     * of @validators threads, and a request waits at most
     * @validate_timeout_ms for it (then 503). */
    const http_auth_ops *auth;
    void *auth_impl;
    int64_t token_cache_ms;
    int64_t negative_cache_ms;
    int64_t validate_timeout_ms;
    unsigned validators;
    const char *tokens_file;
    const http_backend_ops *backend;
    void *backend_impl;
    coord_quiesce quiesce; /* defaults for requests that do not say */
    bool pause;
} http_api_opts;

/* Zeroes @o and fills the defaults (127.0.0.1, port 0, 64 KiB bodies, 256
 * connections, 16 per address, 30 s idle and 30 s request timeouts,
 * allowed_roles "admin", 60 s token cache, 10 s negative cache, 4
 * validators waited for 5 s, quiesce preferred). */
void http_api_opts_init(http_api_opts *o);

/* Reads the tokens file and binds; the server answers from its own threads
 * until http_api_free(). Errors: SNAP_E_INVALID (bad options, a tokens
 * file readable by others or malformed), SNAP_E_SYSTEM (cannot bind).
 * Options are copied. */
http_api *http_api_new(const http_api_opts *o, snap_error *err);

/* Stops answering (waits for the requests being answered) and frees
 * everything; NULL is fine. */
void http_api_free(http_api *api);

/* The port the server listens on. */
int http_api_port(const http_api *api);

/* Records a set made by this server (API or scheduled policy) for
 * /metrics: result and consistency, freeze and pause windows.
 * Thread-safe. */
void http_api_observe_set(http_api *api, const coord_set *set);

/* Records a deletion done by the server (API or rotation). Thread-safe. */
void http_api_observe_delete(http_api *api, bool ok);

/* Records the result of a verify the server ran (a policy's `verify`):
 * when (wall clock), how many sets it checked and how many were broken;
 * /metrics shows the last one. Thread-safe. */
void http_api_observe_verify(http_api *api, int64_t wall_ms, size_t checked,
                             size_t broken);

#endif
