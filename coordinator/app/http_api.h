/* coordinator/app/http_api.h -- the HTTP API of `snapset serve`: a
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
#ifndef APP_HTTP_API_H
#define APP_HTTP_API_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "common/snap_error.h"
#include "common/snap_uuid.h"
#include "coordinator/coord_set.h"

typedef struct http_api http_api;

/* What a create request asks for, validated. Borrowed strings. */
typedef struct http_create_req {
    const char *domain_name; /* as the backend resolved it */
    const char *domain_uuid;
    const char *name;        /* label; may be NULL */
    const char *backup_type; /* createBackup; NULL for createSnapshot */
    int rotation;            /* >= 1 for createBackup; 0 otherwise */
    coord_quiesce quiesce;
    bool pause;
    const json_t *metadata;  /* object of strings, or NULL */
} http_create_req;

/* What an export request asks for, validated. Borrowed strings. */
typedef struct http_export_req {
    const char *name;        /* the image's name; NULL: a default */
    const char *disk_format; /* "vmdk" or "qcow2"; NULL: vmdk */
} http_export_req;

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
     * names the set in @set_uuid before it returns. */
    bool (*create)(void *impl, const http_create_req *req,
                   char set_uuid[SNAP_UUID_LEN], snap_error *err);
    /* Every set, also those accepted and not begun yet: a new array for
     * coord_catalog_list_free(). */
    bool (*list)(void *impl, coord_set ***sets, size_t *nsets, snap_error *err);
    /* One set by UUID (or unique 8+ character prefix): new, or NULL. */
    coord_set *(*get)(void *impl, const char *id, snap_error *err);
    /* Accepts the deletion of a set in the background (SNAP_E_NOTFOUND,
     * SNAP_E_BUSY/SNAP_E_STATE when it or its domain is busy); with
     * @with_exports its Glance images and OVA files go too. */
    bool (*remove)(void *impl, const char *id, bool with_exports,
                   snap_error *err);
    /* Optional (NULL: 501). Accepts an export of the set into Glance in
     * the background and names the set in @set_uuid (SNAP_E_NOTFOUND,
     * SNAP_E_STATE when it is not available, SNAP_E_INVALID when Glance
     * is not configured). */
    bool (*export_set)(void *impl, const char *id, const http_export_req *req,
                       char set_uuid[SNAP_UUID_LEN], snap_error *err);
    /* Optional (NULL: not shown). The exports recorded for @set, shown by
     * GET /v1/sets/{id}: a new JSON array. */
    json_t *(*exports)(void *impl, const coord_set *set);
    /* Optional (NULL: not shown). */
    void (*stats)(void *impl, http_backend_stats *stats);
} http_backend_ops;

/* Who a token belongs to. */
typedef struct http_identity {
    char *user;         /* may be NULL */
    char *project;      /* project id (or the tokens file's project) */
    char *project_name; /* may be NULL */
    char **roles;
    size_t nroles;
    int64_t expires_ms; /* wall clock; 0: no expiry known */
} http_identity;

void http_identity_release(http_identity *id);

typedef struct http_auth_ops {
    /* Validates @token and fills @id. SNAP_E_NOTFOUND: the token is not
     * valid (401); any other error: the validator failed (503). */
    bool (*validate)(void *impl, const char *token, http_identity *id,
                     snap_error *err);
} http_auth_ops;

typedef struct http_api_opts {
    const char *address; /* numeric IPv4 or IPv6; "127.0.0.1" */
    int port;            /* 0: any free port (http_api_port()) */
    size_t max_body_bytes;
    unsigned threads; /* connection threads, >= 1 */
    int64_t connection_timeout_ms;
    char *const *allowed_roles; /* none: any role */
    size_t nallowed_roles;
    char *const *allowed_projects; /* ids or names; none: any project */
    size_t nallowed_projects;
    /* Tokens come from @auth (Keystone) when it is set, with answers cached
     * up to @token_cache_ms and never past the token's expiry; otherwise
     * from @tokens_file, read once at start: "TOKEN PROJECT ROLE[,ROLE]"
     * lines, refused when others may read or write the file. */
    const http_auth_ops *auth;
    void *auth_impl;
    int64_t token_cache_ms;
    const char *tokens_file;
    const http_backend_ops *backend;
    void *backend_impl;
    coord_quiesce quiesce; /* defaults for requests that do not say */
    bool pause;
} http_api_opts;

/* Zeroes @o and fills the defaults (127.0.0.1, port 0, 64 KiB bodies, 4
 * threads, 30 s connection timeout, 5 min token cache, quiesce
 * preferred). */
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

#endif
