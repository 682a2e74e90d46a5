/* coordinator/http/http_auth.h -- who a request's token belongs to
 * (authentication; what it may do is http_authz.h). Tokens come from a
 * tokens file read once at start, or from Keystone behind http_auth_ops:
 * its answers are cached (positive and negative answers apart, so a flood
 * of bad tokens cannot evict the good ones), one validation runs per token
 * at a time (single flight) on a pool of validator threads, and a request
 * waits for it a bounded time. Tokens are compared in constant time and
 * wiped from memory when dropped. */
#ifndef HTTP_AUTH_H
#define HTTP_AUTH_H

#include <stddef.h>

#include "common/snap_error.h"
#include "coordinator/http/http_api.h"
#include "coordinator/http/http_authz.h"

typedef struct http_auth http_auth;

/* Takes the token options of @o (auth, auth_impl, token_cache_ms,
 * negative_cache_ms, validate_timeout_ms, validators, tokens_file; checked
 * by the caller): with @o->auth starts the validators, else reads the
 * tokens file. Returns a new handle for http_auth_free(), or NULL with
 * @err set (SNAP_E_INVALID: no way to check tokens, a tokens file that
 * others may read or that is malformed; SNAP_E_SYSTEM, SNAP_E_NOMEM). */
http_auth *http_auth_new(const http_api_opts *o, snap_error *err);

/* Stops the validators (a validation under way is not waited for past
 * its answer) and frees everything; NULL is fine. No request may be in
 * http_auth_check() any more. */
void http_auth_free(http_auth *a);

/* Checks @token (the X-Auth-Token header; NULL when there is none).
 * Returns 0 with @id filled (release with http_identity_release()), or
 * the status to answer (401, 503) with the message in @why (at most @size
 * bytes). Waits at most validate_timeout_ms for Keystone. Thread-safe. */
unsigned http_auth_check(http_auth *a, const char *token, http_identity *id,
                         char *why, size_t size);

#endif
