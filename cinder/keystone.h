/* cinder/keystone.h -- Keystone v3 sessions: tokens, the service catalog and
 * authenticated requests.
 *
 * A cinder_session holds one project-scoped token and the catalog that came
 * with it. It authenticates lazily (or on cinder_session_authenticate()),
 * re-authenticates a configurable margin before the token expires, and its
 * request helpers re-authenticate once and retry when a service answers 401
 * (a token revoked or expired early). The Cinder client (cinder.h) and the
 * Glance module build on it; the HTTP API server uses
 * cinder_session_validate_token() to check its callers' tokens.
 *
 * A noauth mode talks to services deployed with `auth_strategy = noauth`:
 * no Keystone, explicit endpoints, and the token "user:project".
 *
 * Threads: a session is not thread-safe (it may replace its token during any
 * call); use one per thread or serialise the calls.
 */
#ifndef CINDER_KEYSTONE_H
#define CINDER_KEYSTONE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cinder/cinder_http.h"
#include "common/snap_error.h"

typedef enum cinder_auth_type {
    CINDER_AUTH_AUTO = 0, /* application credential if its id is set,
                             else password */
    CINDER_AUTH_PASSWORD,
    CINDER_AUTH_APPLICATION_CREDENTIAL,
    CINDER_AUTH_NOAUTH,
    CINDER_AUTH_LAST
} cinder_auth_type;

typedef enum cinder_interface {
    CINDER_INTERFACE_PUBLIC = 0,
    CINDER_INTERFACE_INTERNAL,
    CINDER_INTERFACE_ADMIN,
    CINDER_INTERFACE_LAST
} cinder_interface;

/* How to authenticate. All strings are borrowed; cinder_session_new() copies
 * them. NULL/0 fields take the defaults noted. */
typedef struct cinder_auth_opts {
    cinder_auth_type auth_type;
    const char *auth_url; /* Keystone, e.g. http://h:5000/v3;
                             "/v3" is appended when missing */
    /* password auth, scoped to a project */
    const char *username; /* or user_id */
    const char *user_id;
    const char *password;
    const char *user_domain_name; /* default "Default" (or the id) */
    const char *user_domain_id;
    const char *project_name;        /* or project_id */
    const char *project_id;          /* also the project in noauth mode */
    const char *project_domain_name; /* default "Default" (or the id) */
    const char *project_domain_id;
    /* application-credential auth (the credential carries its scope) */
    const char *application_credential_id;
    const char *application_credential_secret;
    /* catalog selection */
    const char *region;         /* NULL = any region, but refused
                                   when the catalog has several */
    cinder_interface interface; /* default public */
    /* endpoint overrides: used instead of the catalog; "%(project_id)s" is
     * replaced. Noauth mode needs the ones it uses. */
    const char *volume_endpoint;
    const char *image_endpoint;
    /* re-authenticate this long before the token expires; default 120 s */
    int64_t reauth_margin_ms;
    /* transport (used by cinder_session_new() only) */
    const char *cacert;
    bool insecure;
    int64_t connect_timeout_ms; /* default 5 s */
    int64_t timeout_ms;         /* default 30 s per request */
    int64_t stall_timeout_ms;   /* a long transfer (an upload) below 1 byte/s
                                   this long is aborted; default 60 s */
} cinder_auth_opts;

/* What Keystone says about a token; owned by the caller, released with
 * cinder_token_info_release(). */
typedef struct cinder_token_info {
    char *user_id;
    char *user_name;
    char *project_id;
    char *project_name;
    char *project_domain_id; /* the project's domain; may be NULL */
    char *project_domain_name;
    char **roles; /* role names */
    size_t nroles;
    int64_t expires_ms; /* wall clock (ms since the epoch);
                           0 = never (noauth) */
} cinder_token_info;

/* Fills @opts from the usual variables: OS_AUTH_URL, OS_AUTH_TYPE
 * (password, v3password, v3applicationcredential, noauth), OS_USERNAME,
 * OS_USER_ID, OS_PASSWORD, OS_USER_DOMAIN_NAME, OS_USER_DOMAIN_ID,
 * OS_PROJECT_NAME (or OS_TENANT_NAME), OS_PROJECT_ID, OS_PROJECT_DOMAIN_NAME,
 * OS_PROJECT_DOMAIN_ID, OS_REGION_NAME, OS_INTERFACE (public, internal, admin,
 * or the *URL forms), OS_APPLICATION_CREDENTIAL_ID/SECRET, OS_CACERT,
 * OS_INSECURE (true/1/yes), and the endpoint overrides CINDER_ENDPOINT and
 * GLANCE_ENDPOINT. Fields whose variable is unset are zeroed. The strings
 * point into the environment: valid until those variables change.
 * Errors: SNAP_E_INVALID for an unknown OS_AUTH_TYPE or OS_INTERFACE, or
 * when neither OS_AUTH_URL nor noauth with CINDER_ENDPOINT is set. */
bool cinder_auth_opts_from_env(cinder_auth_opts *opts, snap_error *err);

typedef struct cinder_session cinder_session;

/* Returns a new session with its own libcurl transport (cacert, insecure
 * and timeouts from @opts), or NULL with @err set. No request is sent yet.
 * Errors: SNAP_E_INVALID for incomplete options (no auth_url, no
 * credentials, noauth without project_id), SNAP_E_NOMEM.
 * Free with cinder_session_free(). */
cinder_session *cinder_session_new(const cinder_auth_opts *opts,
                                   snap_error *err);

/* Like cinder_session_new() on the transport @http, which is borrowed and
 * must outlive the session (tests pass a fake). */
cinder_session *cinder_session_new_with_http(cinder_http *http,
                                             const cinder_auth_opts *opts,
                                             snap_error *err);

/* Releases @session (and its transport if it made one); the token is not
 * revoked. NULL is allowed. */
void cinder_session_free(cinder_session *session);

/* Authenticates now, replacing any token. Errors: SNAP_E_HTTP (Keystone
 * refused: http_status 401 for bad credentials, or unreachable),
 * SNAP_E_TIMEOUT, SNAP_E_INVALID (malformed reply). A no-op in noauth mode. */
bool cinder_session_authenticate(cinder_session *session, snap_error *err);

/* Returns a valid token, authenticating first when there is none or it
 * expires within the margin. Borrowed: valid until the next call on
 * @session. NULL with @err set as cinder_session_authenticate(). */
const char *cinder_session_token(cinder_session *session, snap_error *err);

/* Returns a new string (free()) with the URL of the @service_type endpoint
 * for the configured interface and region: an override from the options if
 * set, else the catalog of the current token (authenticating if needed).
 * "block-storage" also matches the catalog types "volumev3" and "volume", in
 * that order. Errors: SNAP_E_NOTFOUND naming type, interface and region when
 * the catalog has no such endpoint; SNAP_E_INVALID when no region is set
 * and endpoints of several regions match (Keystone's catalog order is not
 * stable, so "the first" would be random); those of
 * cinder_session_authenticate(). */
char *cinder_session_endpoint(cinder_session *session, const char *service_type,
                              snap_error *err);

/* The project id of the current token (noauth: of the options), borrowed
 * until the next call on @session; NULL before the first authentication. */
const char *cinder_session_project_id(const cinder_session *session);

/* True when @session talks to services deployed with noauth. */
bool cinder_session_noauth(const cinder_session *session);

/* Wall-clock expiry of the current token in ms since the epoch; 0 when
 * there is none or it never expires (noauth). */
int64_t cinder_session_expires_ms(const cinder_session *session);

/* The transport the session sends through (borrowed). */
cinder_http *cinder_session_http(cinder_session *session);

/* Performs @req with "X-Auth-Token" added. If the service answers 401 the
 * session re-authenticates once and sends the request again (a streaming
 * upload only if it has upload_rewind). An HTTP error status is not a
 * failure: check resp->status. @resp is initialised here; release it with
 * cinder_http_response_release() whatever the result.
 * Errors: those of cinder_session_token() and of the transport. */
bool cinder_session_request(cinder_session *session,
                            const cinder_http_request *req,
                            cinder_http_response *resp, snap_error *err);

/* Performs the @n requests at once, each with the token added; those
 * answered 401 are sent again (together) after one re-authentication. The
 * outcome of @reqs[i] is in @resps[i] (initialised here), @errs[i] (caller
 * zeroes it) and @oks[i]. Returns false with @err set only when the batch
 * could not run at all (no token, transport failure of the whole batch). */
bool cinder_session_request_many(cinder_session *session,
                                 const cinder_http_request *reqs,
                                 cinder_http_response *resps, snap_error *errs,
                                 bool *oks, size_t n, snap_error *err);

/* Asks Keystone about @subject_token (GET /v3/auth/tokens with
 * X-Subject-Token), authenticated with the session's own token, which needs
 * the right to validate others' tokens (admin or service role, by default
 * policy). Fills @info (release it with cinder_token_info_release()).
 * In noauth mode there is nothing to validate with: every token is
 * refused (SNAP_E_INVALID), so that noauth never lets a caller in.
 * Errors: SNAP_E_NOTFOUND when the token is invalid, expired or revoked;
 * SNAP_E_HTTP when Keystone fails or refuses us (http_status 401/403);
 * SNAP_E_TIMEOUT; SNAP_E_INVALID for a malformed reply. */
bool cinder_session_validate_token(cinder_session *session,
                                   const char *subject_token,
                                   cinder_token_info *info, snap_error *err);

/* Frees what @info holds and zeroes it; NULL is allowed. */
void cinder_token_info_release(cinder_token_info *info);

/* True when @info lists role @role (case-insensitive). */
bool cinder_token_info_has_role(const cinder_token_info *info,
                                const char *role);

/* "public", "internal" or "admin". */
const char *cinder_interface_name(cinder_interface interface);

#endif
