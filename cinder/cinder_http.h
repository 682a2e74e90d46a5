/* cinder/cinder_http.h -- the HTTP seam of the OpenStack clients.
 *
 * Keystone, Cinder and Glance calls go through one small table of functions,
 * like libvirt's driver tables (STYLE §6): cinder/http_curl.c implements it
 * with libcurl, tests/fakes/fake_http.c answers from a script. Callers never
 * see a curl or jansson type.
 *
 * A transport (cinder_http) performs requests; an HTTP error status is not a
 * transport failure: perform() returns true and the caller reads
 * resp->status. perform() fails only when no complete response arrived
 * (connection refused, TLS failure, timeout, a callback aborted, a reply over
 * the size bound).
 *
 * Threads: a transport is not thread-safe; use one per thread.
 */
#ifndef CINDER_HTTP_H
#define CINDER_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/snap_error.h"

typedef enum cinder_http_method {
    CINDER_HTTP_GET = 0,
    CINDER_HTTP_HEAD,
    CINDER_HTTP_POST,
    CINDER_HTTP_PUT,
    CINDER_HTTP_PATCH,
    CINDER_HTTP_DELETE,
    CINDER_HTTP_LAST
} cinder_http_method;

/* Streaming upload: fills @buf with up to @size bytes. Returns the number of
 * bytes written (> 0), 0 at end of data, or < 0 after setting @err, which
 * aborts the request and makes perform() fail with that error. */
typedef ssize_t (*cinder_http_read_fn)(void *ctx, char *buf, size_t size,
                                       snap_error *err);

/* Restarts a streaming upload from its first byte (needed when a request is
 * sent again, e.g. after re-authentication). Returns false with @err set when
 * the source cannot be rewound. */
typedef bool (*cinder_http_rewind_fn)(void *ctx, snap_error *err);

/* Streaming download: receives the next @len bytes of a 2xx response body.
 * Returns false after setting @err to abort the request. */
typedef bool (*cinder_http_write_fn)(void *ctx, const char *data, size_t len,
                                     snap_error *err);

/* One request. Every pointer is borrowed for the duration of the call. */
typedef struct cinder_http_request {
    cinder_http_method method;
    const char *url;            /* absolute http:// or https:// URL */
    const char *const *headers; /* "Name: value" lines */
    size_t nheaders;
    const char *body; /* in-memory body, or NULL */
    size_t body_len;
    /* Streaming upload instead of @body (PUT/POST). @upload_size is the
     * length in bytes, or -1 for chunked transfer encoding. */
    cinder_http_read_fn upload;
    cinder_http_rewind_fn upload_rewind; /* optional */
    void *upload_ctx;
    int64_t upload_size;
    /* Streaming download: a 2xx body goes to @download instead of
     * resp->body; error bodies are still kept in resp->body. */
    cinder_http_write_fn download;
    void *download_ctx;
    /* Total time allowed for this request: 0 uses the transport's default,
     * > 0 is capped by the transport's maximum, < 0 disables the total bound
     * and only aborts a transfer that stalls (long uploads). */
    int64_t timeout_ms;
} cinder_http_request;

typedef struct cinder_http_header {
    char *name;
    char *value;
} cinder_http_header;

/* One response; owned by the caller, who releases it with
 * cinder_http_response_release(). */
typedef struct cinder_http_response {
    long status; /* e.g. 200; 0 when nothing arrived */
    char *body;  /* NUL-terminated, never NULL after a
                    successful perform() */
    size_t body_len;
    cinder_http_header *headers; /* headers of the final response */
    size_t nheaders;
} cinder_http_response;

typedef struct cinder_http_ops {
    /* Performs @req and fills @resp (which the caller initialised with
     * cinder_http_response_init()). Returns false with @err set when no
     * complete response arrived; @resp then holds what arrived and must still
     * be released. */
    bool (*perform)(void *impl, const cinder_http_request *req,
                    cinder_http_response *resp, snap_error *err);
    /* Performs the @n requests at once (curl multi in the real transport) and
     * returns when all have finished. @resps[i] and @errs[i] receive the
     * outcome of @reqs[i], as perform() would; @oks[i] is perform()'s return
     * value. Returns false with @err set only when the batch could not be run
     * at all. */
    bool (*perform_many)(void *impl, const cinder_http_request *reqs,
                         cinder_http_response *resps, snap_error *errs,
                         bool *oks, size_t n, snap_error *err);
    /* Releases @impl; NULL is allowed. */
    void (*free)(void *impl);
} cinder_http_ops;

/* A transport: an ops table and its implementation. */
typedef struct cinder_http cinder_http;

/* Options of the libcurl transport. Zero/NULL fields take the defaults. */
typedef struct cinder_http_opts {
    const char *cacert;         /* CA bundle file; NULL = system store */
    bool insecure;              /* disables TLS peer and host checks */
    int64_t connect_timeout_ms; /* default 5000 */
    int64_t timeout_ms;         /* default per request, 30000 */
    int64_t max_timeout_ms;     /* cap on any request's bound, 600000 */
    int64_t stall_timeout_ms;   /* unbounded requests: abort after this long
                                   below 1 byte/s, default 60000 */
    size_t max_body;            /* bound on a buffered body, 64 MiB */
    const char *user_agent;     /* default "snapset/<version>" */
} cinder_http_opts;

/* Returns a new libcurl transport (the options are copied), or NULL with
 * @err set. Connections, DNS and TLS sessions are kept between requests;
 * only http and https are allowed; redirects are not followed. Free with
 * cinder_http_free(). */
cinder_http *cinder_http_curl_new(const cinder_http_opts *opts,
                                  snap_error *err);

/* Returns a new transport wrapping @ops and @impl, which it owns from now on
 * (ops->free(impl) runs in cinder_http_free()). Returns NULL with @err set,
 * after freeing @impl, on allocation failure. For fakes and adapters. */
cinder_http *cinder_http_new(const cinder_http_ops *ops, void *impl,
                             snap_error *err);

/* Releases @http and its implementation; NULL is allowed. */
void cinder_http_free(cinder_http *http);

/* Returns @http's implementation (borrowed). */
void *cinder_http_impl(cinder_http *http);

/* Performs one request; see cinder_http_ops.perform. */
bool cinder_http_perform(cinder_http *http, const cinder_http_request *req,
                         cinder_http_response *resp, snap_error *err);

/* Performs @n requests at once; see cinder_http_ops.perform_many. */
bool cinder_http_perform_many(cinder_http *http,
                              const cinder_http_request *reqs,
                              cinder_http_response *resps, snap_error *errs,
                              bool *oks, size_t n, snap_error *err);

/* Prepares @resp for use (all zero). */
void cinder_http_response_init(cinder_http_response *resp);

/* Frees what @resp holds and re-initialises it; NULL is allowed. */
void cinder_http_response_release(cinder_http_response *resp);

/* Returns the value of response header @name (case-insensitive), borrowed
 * from @resp, or NULL when absent. */
const char *cinder_http_response_header(const cinder_http_response *resp,
                                        const char *name);

/* Appends a header to @resp (both strings are copied). For transports. */
bool cinder_http_response_add_header(cinder_http_response *resp,
                                     const char *name, const char *value,
                                     snap_error *err);

/* Returns "GET", "POST", ... */
const char *cinder_http_method_name(cinder_http_method method);

#endif
