/* cinder/cinder_json.h -- jansson helpers and the request plumbing shared
 * by the .c files of cinder/. Internal: includes jansson, so never include
 * it outside cinder/ (callers must not see jansson or curl).
 */
#ifndef CINDER_JSON_H
#define CINDER_JSON_H

#include <jansson.h>

#include "cinder/cinder_priv.h"

/* Parses the body of @resp, which must be a JSON object. Returns a new
 * reference, or NULL with SNAP_E_INVALID "<what>: malformed reply: ...". */
json_t *cinder_json_reply(const cinder_http_response *resp, const char *what,
                          snap_error *err);

/* Returns the object member @key of @obj (borrowed), or NULL with
 * SNAP_E_INVALID "<what>: malformed reply: no object '<key>'". */
json_t *cinder_json_object(json_t *obj, const char *key, const char *what,
                           snap_error *err);

/* Copies string member @key of @obj into *@out (NULL when absent or null).
 * A number or boolean is converted to text. Fails (SNAP_E_INVALID) on other
 * types and, with @required, when absent; SNAP_E_NOMEM. */
bool cinder_json_string(json_t *obj, const char *key, bool required, char **out,
                        const char *what, snap_error *err);

/* The integer member @key of @obj (a JSON integer or a numeric string), or
 * @def when absent or not a number. */
int64_t cinder_json_int(json_t *obj, const char *key, int64_t def);

/* A boolean member: JSON true/false or the strings "true"/"false"
 * (Cinder's "bootable"); @def otherwise. */
bool cinder_json_bool(json_t *obj, const char *key, bool def);

/* Copies the object @obj (string values; others converted to text) into a
 * new array *@kv of *@n owned pairs. NULL or JSON null gives 0 pairs. */
bool cinder_json_kv(json_t *obj, cinder_kv **kv, size_t *n, const char *what,
                    snap_error *err);

/* Copies the array of strings @arr (NULL gives 0) into *@v, *@n. Array
 * elements that are objects contribute their "id" member. */
bool cinder_json_strv(json_t *arr, char ***v, size_t *n, const char *what,
                      snap_error *err);

/* Returns a new JSON object of the @n pairs of @kv, or NULL (no memory). */
json_t *cinder_json_from_kv(const cinder_kv *kv, size_t n);

/* One prepared Cinder request: URL, headers and serialised body live here
 * until cinder_call_release(). */
typedef struct cinder_call {
    char *url;
    char *body;
    const char *headers[4];
    cinder_http_request req;
} cinder_call;

/* Prepares @call: @path is relative to the endpoint ("/snapshots/x") or an
 * absolute URL; @body (borrowed, may be NULL) is serialised. Requests carry
 * the microversion header and JSON content type; the session adds the
 * token. @timeout_ms: 0 = the client's default. */
bool cinder_call_init(cinder_client *c, cinder_call *call,
                      cinder_http_method method, const char *path, json_t *body,
                      int64_t timeout_ms, snap_error *err);

void cinder_call_release(cinder_call *call);

/* Interprets a finished request: a 2xx reply gives its parsed body (a new
 * reference; an empty body gives an empty object); anything else gives NULL
 * with @err set, prefixed by @what. @ok/@transport_err are the transport's
 * outcome. */
json_t *cinder_call_result(const cinder_http_response *resp, bool ok,
                           const snap_error *transport_err, const char *what,
                           snap_error *err);

/* Sends one request and interprets it; see the two above. */
json_t *cinder_call_one(cinder_client *c, cinder_http_method method,
                        const char *path, json_t *body, const char *what,
                        snap_error *err);

/* Refuses (SNAP_E_STATE "<what>: needs microversion X, the server ...")
 * when the negotiated microversion is below @mv. */
bool cinder_require_mv(cinder_client *c, int mv, const char *what,
                       snap_error *err);

/* Checks @id with cinder_id_valid(); SNAP_E_INVALID "invalid <noun> id". */
bool cinder_check_id(const char *id, const char *noun, snap_error *err);

/* Lists a collection with details, following pagination: GET @path (which
 * may carry a query) and then the "next" links of @list_key "_links",
 * re-rooted on our endpoint. Calls @each for every element of @list_key.
 * At most 1000 pages. */
bool cinder_list_all(cinder_client *c, const char *path, const char *list_key,
                     bool (*each)(json_t *item, void *ctx, snap_error *err),
                     void *ctx, const char *what, snap_error *err);

/* Returns a new string (free()): "?metadata=<url-encoded JSON>" for the
 * pairs of @filter, appended to @path; NULL with @err set. */
char *cinder_metadata_query(const char *path, const cinder_kv *filter,
                            size_t nfilter, snap_error *err);

/* Record parsers (snapshot.c, volume.c). NULL with @err set on failure. */
cinder_snapshot *cinder_snapshot_from_json(json_t *obj, const char *what,
                                           snap_error *err);
cinder_volume *cinder_volume_from_json(json_t *obj, const char *what,
                                       snap_error *err);

/* Polling engine (poll.c). */
typedef enum cinder_poll_mode {
    CINDER_POLL_LEAVE = 0, /* until not "creating"; success = "available" */
    CINDER_POLL_REACH,     /* until status == target */
    CINDER_POLL_GONE,      /* until 404 */
} cinder_poll_mode;

typedef struct cinder_poll_kind {
    const char *noun;       /* "snapshot" for messages */
    const char *collection; /* "snapshots" in URLs */
    const char *key;        /* "snapshot" in replies */
} cinder_poll_kind;

extern const cinder_poll_kind cinder_poll_snapshot;
extern const cinder_poll_kind cinder_poll_group_snapshot;
extern const cinder_poll_kind cinder_poll_volume;

/* Polls the @n objects @ids of @kind until @mode is satisfied for all,
 * under @deadline_ms; @target for CINDER_POLL_REACH; @filter (snapshots
 * only) enables one list request per round. See cinder_snapshots_wait(). */
bool cinder_poll(cinder_client *c, const cinder_poll_kind *kind,
                 const char *const *ids, size_t n, cinder_poll_mode mode,
                 const char *target, const cinder_kv *filter,
                 int64_t deadline_ms, cinder_wait_result *results,
                 snap_error *err);

#endif
