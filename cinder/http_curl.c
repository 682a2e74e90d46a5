/* cinder/http_curl.c -- the libcurl transport behind cinder_http.h.
 *
 * Every request, single or batched, runs through one curl multi handle, so
 * they all draw on one connection cache: a poller that GETs the same Cinder
 * endpoint every 20 ms reuses its TCP (and TLS) connection, and a batch of N
 * snapshot POSTs opens at most N connections, which later batches reuse.
 * Easy handles are pooled and reset between uses (curl_easy_reset keeps the
 * handle's own caches); a share handle spreads DNS and TLS sessions over the
 * pool.
 *
 * No descriptor of ours may reach a child (qemu-img, the watchdog): every
 * socket curl opens is made with SOCK_CLOEXEC (CURLOPT_OPENSOCKETFUNCTION),
 * and the multi handle's wakeup socketpair, which libcurl 7.88 makes
 * without it and no option reaches, is marked close-on-exec right after
 * curl_multi_init() (multi_new()).
 */
#define _GNU_SOURCE /* SOCK_CLOEXEC */
#include "cinder/cinder_http.h"

#include <curl/curl.h>
#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#define DEFAULT_CONNECT_TIMEOUT_MS 5000
#define DEFAULT_TIMEOUT_MS 30000
#define DEFAULT_MAX_TIMEOUT_MS 600000
#define DEFAULT_STALL_TIMEOUT_MS 60000
#define DEFAULT_MAX_BODY ((size_t)64 << 20)
#define MAX_RESPONSE_HEADERS 200
#ifndef CINDER_VERSION
#define CINDER_VERSION "0"
#endif

typedef struct curl_transport {
    CURLM *multi;
    CURLSH *share;
    CURL **pool; /* idle easy handles */
    size_t npool;
    char *cacert;
    char *user_agent;
    bool insecure;
    int64_t connect_timeout_ms;
    int64_t timeout_ms;
    int64_t max_timeout_ms;
    int64_t stall_timeout_ms;
    size_t max_body;
} curl_transport;

/* One request in flight. */
typedef struct transfer {
    curl_transport *t;
    CURL *easy;
    const cinder_http_request *req;
    cinder_http_response *resp;
    snap_error *err;
    struct curl_slist *headers;
    size_t body_cap;
    int64_t timeout_ms;   /* the bound applied, for messages; -1 = none */
    bool callback_failed; /* a callback recorded its own error */
    bool too_big;
    bool nomem;
    bool done;
    CURLcode result;
    char errbuf[CURL_ERROR_SIZE];
} transfer;

static pthread_once_t global_once = PTHREAD_ONCE_INIT;
static CURLcode global_rc = CURLE_OK;

static void
global_init(void)
{
    /* Never cleaned up: curl_global_cleanup() is not safe while another
     * thread may use libcurl, and the process ends soon after anyway. */
    global_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

static int64_t
or_default(int64_t v, int64_t def)
{
    return v > 0 ? v : def;
}

static void
transport_free(void *impl)
{
    curl_transport *t = impl;
    size_t i;

    if (!t)
        return;
    for (i = 0; i < t->npool; i++)
        curl_easy_cleanup(t->pool[i]);
    free(t->pool);
    if (t->multi)
        curl_multi_cleanup(t->multi);
    if (t->share)
        curl_share_cleanup(t->share);
    free(t->cacert);
    free(t->user_agent);
    free(t);
}

/* Opens the sockets curl asks for close-on-exec, atomically: a child
 * started by another thread meanwhile must not inherit one. */
static curl_socket_t
open_socket(void *clientp, curlsocktype purpose, struct curl_sockaddr *addr)
{
    int fd;

    (void)clientp;
    (void)purpose;
    fd = socket(addr->family, addr->socktype | SOCK_CLOEXEC, addr->protocol);
    return fd < 0 ? CURL_SOCKET_BAD : fd;
}

/* The descriptors open now, ascending (new array, free()), or NULL. */
static int *
fds_open(size_t *n)
{
    DIR *d = opendir("/proc/self/fd"); /* glibc: O_CLOEXEC */
    struct dirent *de;
    int *fds = NULL, *grown, fd;
    size_t cap = 0;

    *n = 0;
    if (!d)
        return NULL;
    while ((de = readdir(d))) {
        if (de->d_name[0] < '0' || de->d_name[0] > '9')
            continue;
        fd = atoi(de->d_name);
        if (fd == dirfd(d))
            continue;
        if (*n == cap) {
            cap = cap ? 2 * cap : 64;
            grown = realloc(fds, cap * sizeof(*fds));
            if (!grown) {
                free(fds);
                closedir(d);
                *n = 0;
                return NULL;
            }
            fds = grown;
        }
        fds[(*n)++] = fd;
    }
    closedir(d);
    return fds;
}

static bool
fd_in(int fd, const int *fds, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++) {
        if (fds[i] == fd)
            return true;
    }
    return false;
}

/* curl_multi_init(), then close-on-exec on what it opened: libcurl 7.88
 * makes its wakeup socketpair with plain socketpair() (newer versions
 * pass SOCK_CLOEXEC), and no option changes that. A descriptor another
 * thread opened meanwhile may be marked too, which is what every
 * descriptor of ours wants anyway. */
static CURLM *
multi_new(void)
{
    size_t nbefore = 0, nafter = 0, i;
    int *before = fds_open(&nbefore), *after, flags;
    CURLM *multi = curl_multi_init();

    /* Without a first listing (no /proc, no memory) nothing can be told
     * apart: then the socketpair stays as libcurl made it. */
    after = multi && before ? fds_open(&nafter) : NULL;
    for (i = 0; i < nafter; i++) {
        if (after[i] <= STDERR_FILENO || fd_in(after[i], before, nbefore))
            continue;
        flags = fcntl(after[i], F_GETFD);
        if (flags >= 0 && !(flags & FD_CLOEXEC))
            (void)fcntl(after[i], F_SETFD, flags | FD_CLOEXEC);
    }
    free(before);
    free(after);
    return multi;
}

static CURL *
easy_take(curl_transport *t)
{
    if (t->npool > 0)
        return t->pool[--t->npool];
    return curl_easy_init();
}

/* Returns @easy to the pool, reset, or frees it when the pool can't grow. */
static void
easy_give_back(curl_transport *t, CURL *easy)
{
    CURL **grown;

    if (!easy)
        return;
    curl_easy_reset(easy);
    grown = realloc(t->pool, (t->npool + 1) * sizeof(*grown));
    if (!grown) {
        curl_easy_cleanup(easy);
        return;
    }
    t->pool = grown;
    t->pool[t->npool++] = easy;
}

static bool
body_append(transfer *x, const char *data, size_t len)
{
    cinder_http_response *resp = x->resp;
    size_t cap;
    char *grown;

    if (resp->body_len + len > x->t->max_body) {
        x->too_big = true;
        return false;
    }
    if (resp->body_len + len + 1 > x->body_cap) {
        cap = x->body_cap ? x->body_cap : 4096;
        while (cap < resp->body_len + len + 1)
            cap *= 2;
        grown = realloc(resp->body, cap);
        if (!grown) {
            x->nomem = true;
            return false;
        }
        resp->body = grown;
        x->body_cap = cap;
    }
    memcpy(resp->body + resp->body_len, data, len);
    resp->body_len += len;
    resp->body[resp->body_len] = '\0';
    return true;
}

static size_t
write_cb(char *data, size_t size, size_t nmemb, void *userdata)
{
    transfer *x = userdata;
    size_t len = size * nmemb;
    long status = 0;

    if (x->req->download) {
        (void)curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &status);
        if (status >= 200 && status < 300) {
            if (!x->req->download(x->req->download_ctx, data, len, x->err)) {
                x->callback_failed = true;
                return 0; /* CURLE_WRITE_ERROR */
            }
            return len;
        }
    }
    return body_append(x, data, len) ? len : 0;
}

static void
headers_clear(cinder_http_response *resp)
{
    size_t i;

    for (i = 0; i < resp->nheaders; i++) {
        free(resp->headers[i].name);
        free(resp->headers[i].value);
    }
    free(resp->headers);
    resp->headers = NULL;
    resp->nheaders = 0;
}

static size_t
header_cb(char *buf, size_t size, size_t nitems, void *userdata)
{
    transfer *x = userdata;
    size_t len = size * nitems;
    char *line = NULL, *colon, *value, *end;

    /* A status line starts a new response (after 100 Continue or a 401 that
     * curl retries): keep only the headers of the last one. */
    if (len >= 5 && strncmp(buf, "HTTP/", 5) == 0) {
        headers_clear(x->resp);
        return len;
    }
    if (x->resp->nheaders >= MAX_RESPONSE_HEADERS)
        return len; /* ignore the excess rather than fail the request */
    line = strndup(buf, len);
    if (!line) {
        x->nomem = true;
        return 0;
    }
    colon = strchr(line, ':');
    if (colon) {
        *colon = '\0';
        value = colon + 1;
        while (*value == ' ' || *value == '\t')
            value++;
        end = value + strlen(value);
        while (end > value && (end[-1] == '\r' || end[-1] == '\n' ||
                               end[-1] == ' ' || end[-1] == '\t'))
            *--end = '\0';
        if (!cinder_http_response_add_header(x->resp, line, value, NULL)) {
            x->nomem = true;
            free(line);
            return 0;
        }
    }
    free(line);
    return len;
}

static size_t
read_cb(char *buf, size_t size, size_t nitems, void *userdata)
{
    transfer *x = userdata;
    ssize_t n;

    n = x->req->upload(x->req->upload_ctx, buf, size * nitems, x->err);
    if (n < 0) {
        x->callback_failed = true;
        return CURL_READFUNC_ABORT;
    }
    return (size_t)n;
}

static int
seek_cb(void *userdata, curl_off_t offset, int origin)
{
    transfer *x = userdata;

    if (offset != 0 || origin != SEEK_SET || !x->req->upload_rewind)
        return CURL_SEEKFUNC_CANTSEEK;
    if (!x->req->upload_rewind(x->req->upload_ctx, x->err)) {
        x->callback_failed = true;
        return CURL_SEEKFUNC_FAIL;
    }
    return CURL_SEEKFUNC_OK;
}

/* Sets the method and body options of @x. */
static CURLcode
setup_method(transfer *x)
{
    const cinder_http_request *req = x->req;
    CURL *e = x->easy;
    CURLcode rc = CURLE_OK;
    bool streaming = req->upload != NULL;

    switch (req->method) {
    case CINDER_HTTP_GET:
        return curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
    case CINDER_HTTP_HEAD:
        return curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
    case CINDER_HTTP_PUT:
        if (streaming) {
            rc = curl_easy_setopt(e, CURLOPT_UPLOAD, 1L);
            if (rc == CURLE_OK && req->upload_size >= 0)
                rc = curl_easy_setopt(e, CURLOPT_INFILESIZE_LARGE,
                                      (curl_off_t)req->upload_size);
            return rc;
        }
        rc = curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, "PUT");
        break;
    case CINDER_HTTP_POST:
        if (streaming) {
            rc = curl_easy_setopt(e, CURLOPT_POST, 1L);
            if (rc == CURLE_OK)
                rc = curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE,
                                      (curl_off_t)req->upload_size);
            return rc;
        }
        rc = curl_easy_setopt(e, CURLOPT_POST, 1L);
        break;
    case CINDER_HTTP_PATCH:
        rc = curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, "PATCH");
        break;
    case CINDER_HTTP_DELETE:
        rc = curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, "DELETE");
        if (rc == CURLE_OK && !req->body)
            return rc; /* no body at all */
        break;
    default:
        return CURLE_UNSUPPORTED_PROTOCOL;
    }
    if (rc != CURLE_OK)
        return rc;
    /* In-memory body (possibly empty); curl sends it without copying. */
    rc = curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE,
                          (curl_off_t)(req->body ? req->body_len : 0));
    if (rc == CURLE_OK)
        rc =
            curl_easy_setopt(e, CURLOPT_POSTFIELDS, req->body ? req->body : "");
    return rc;
}

#define SETOPT(opt, val)                                                       \
    do {                                                                       \
        if (rc == CURLE_OK)                                                    \
            rc = curl_easy_setopt(e, opt, val);                                \
    } while (0)

/* Prepares @x for its request. On failure @x->err is set. */
static bool
transfer_setup(transfer *x)
{
    curl_transport *t = x->t;
    const cinder_http_request *req = x->req;
    struct curl_slist *grown;
    CURLcode rc = CURLE_OK;
    CURL *e;
    int64_t total, connect;
    size_t i;

    x->easy = easy_take(t);
    if (!x->easy)
        return snap_error_set(x->err, SNAP_E_NOMEM,
                              "cannot allocate curl handle");
    e = x->easy;
    for (i = 0; i < req->nheaders; i++) {
        grown = curl_slist_append(x->headers, req->headers[i]);
        if (!grown)
            return snap_error_set(x->err, SNAP_E_NOMEM,
                                  "cannot build HTTP headers");
        x->headers = grown;
    }
    if (!req->upload) {
        /* No 100-continue round trip for small in-memory bodies. */
        grown = curl_slist_append(x->headers, "Expect:");
        if (!grown)
            return snap_error_set(x->err, SNAP_E_NOMEM,
                                  "cannot build HTTP headers");
        x->headers = grown;
    }

    if (req->timeout_ms < 0) {
        total = 0; /* no total bound: stall detection only */
        x->timeout_ms = -1;
    } else {
        total = req->timeout_ms > 0 ? req->timeout_ms : t->timeout_ms;
        if (total > t->max_timeout_ms)
            total = t->max_timeout_ms;
        x->timeout_ms = total;
    }
    connect = t->connect_timeout_ms;
    if (total > 0 && connect > total)
        connect = total;

    SETOPT(CURLOPT_URL, req->url);
    SETOPT(CURLOPT_PROTOCOLS_STR, "http,https");
    SETOPT(CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    SETOPT(CURLOPT_FOLLOWLOCATION, 0L);
    SETOPT(CURLOPT_NOSIGNAL, 1L);
    SETOPT(CURLOPT_OPENSOCKETFUNCTION, open_socket);
    SETOPT(CURLOPT_TCP_KEEPALIVE, 1L);
    SETOPT(CURLOPT_SHARE, t->share);
    SETOPT(CURLOPT_ERRORBUFFER, x->errbuf);
    SETOPT(CURLOPT_PRIVATE, x);
    SETOPT(CURLOPT_USERAGENT, t->user_agent);
    SETOPT(CURLOPT_HTTPHEADER, x->headers);
    SETOPT(CURLOPT_CONNECTTIMEOUT_MS, (long)connect);
    SETOPT(CURLOPT_TIMEOUT_MS, (long)total);
    if (total == 0) {
        SETOPT(CURLOPT_LOW_SPEED_LIMIT, 1L);
        SETOPT(CURLOPT_LOW_SPEED_TIME, (long)(t->stall_timeout_ms / 1000 > 0
                                                  ? t->stall_timeout_ms / 1000
                                                  : 1));
    }
    SETOPT(CURLOPT_SSL_VERIFYPEER, t->insecure ? 0L : 1L);
    SETOPT(CURLOPT_SSL_VERIFYHOST, t->insecure ? 0L : 2L);
    if (t->cacert)
        SETOPT(CURLOPT_CAINFO, t->cacert);
    SETOPT(CURLOPT_WRITEFUNCTION, write_cb);
    SETOPT(CURLOPT_WRITEDATA, x);
    SETOPT(CURLOPT_HEADERFUNCTION, header_cb);
    SETOPT(CURLOPT_HEADERDATA, x);
    if (req->upload) {
        SETOPT(CURLOPT_READFUNCTION, read_cb);
        SETOPT(CURLOPT_READDATA, x);
        SETOPT(CURLOPT_SEEKFUNCTION, seek_cb);
        SETOPT(CURLOPT_SEEKDATA, x);
    }
    if (rc == CURLE_OK)
        rc = setup_method(x);
    if (rc != CURLE_OK)
        return snap_error_set(x->err, SNAP_E_HTTP,
                              "cannot set up %s '%.120s': %s",
                              cinder_http_method_name(req->method), req->url,
                              curl_easy_strerror(rc));
    return true;
}

#undef SETOPT

/* Turns the outcome of @x into perform()'s result. */
static bool
transfer_finish(transfer *x)
{
    const cinder_http_request *req = x->req;
    const char *what = cinder_http_method_name(req->method);
    long status = 0;

    if (x->easy)
        (void)curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &status);
    x->resp->status = status;
    if (!x->resp->body && !x->nomem) {
        x->resp->body = strdup("");
        if (!x->resp->body)
            x->nomem = true;
    }
    if (x->callback_failed)
        return snap_error_set(x->err, SNAP_E_SYSTEM,
                              "%s '%.120s' aborted by its callback", what,
                              req->url); /* the callback's error wins */
    if (x->nomem)
        return snap_error_set(x->err, SNAP_E_NOMEM,
                              "out of memory reading reply to %s '%.120s'",
                              what, req->url);
    if (x->too_big)
        return snap_error_set(x->err, SNAP_E_HTTP,
                              "reply to %s '%.120s' exceeds %zu bytes", what,
                              req->url, x->t->max_body);
    if (!x->done)
        return snap_error_set(x->err, SNAP_E_HTTP, "%s '%.120s' did not finish",
                              what, req->url);
    switch (x->result) {
    case CURLE_OK:
        return true;
    case CURLE_OPERATION_TIMEDOUT:
        if (x->timeout_ms < 0)
            return snap_error_set(
                x->err, SNAP_E_TIMEOUT, "%s '%.120s' stalled for %lld s", what,
                req->url, (long long)(x->t->stall_timeout_ms / 1000));
        return snap_error_set(x->err, SNAP_E_TIMEOUT,
                              "%s '%.120s' timed out after %lld ms", what,
                              req->url, (long long)x->timeout_ms);
    default:
        return snap_error_set(
            x->err, SNAP_E_HTTP, "%s '%.120s' failed: %s", what, req->url,
            x->errbuf[0] ? x->errbuf : curl_easy_strerror(x->result));
    }
}

static bool
perform_many(void *impl, const cinder_http_request *reqs,
             cinder_http_response *resps, snap_error *errs, bool *oks, size_t n,
             snap_error *err)
{
    curl_transport *t = impl;
    transfer *xs = NULL;
    CURLMcode mrc;
    CURLMsg *msg;
    transfer *x;
    char *priv;
    int running = 0, left;
    bool ret = false;
    size_t i, added = 0;

    xs = calloc(n, sizeof(*xs));
    if (!xs)
        return snap_error_set(err, SNAP_E_NOMEM,
                              "cannot allocate %zu transfers", n);
    for (i = 0; i < n; i++) {
        xs[i].t = t;
        xs[i].req = &reqs[i];
        xs[i].resp = &resps[i];
        xs[i].err = &errs[i];
        oks[i] = false;
    }
    for (i = 0; i < n; i++) {
        if (!transfer_setup(&xs[i]))
            continue;
        mrc = curl_multi_add_handle(t->multi, xs[i].easy);
        if (mrc != CURLM_OK) {
            snap_error_set(&errs[i], SNAP_E_HTTP,
                           "cannot start %s '%.120s': %s",
                           cinder_http_method_name(reqs[i].method), reqs[i].url,
                           curl_multi_strerror(mrc));
            continue;
        }
        added++;
    }

    while (added > 0) {
        mrc = curl_multi_perform(t->multi, &running);
        if (mrc != CURLM_OK) {
            snap_error_set(err, SNAP_E_HTTP, "HTTP transfer failed: %s",
                           curl_multi_strerror(mrc));
            goto cleanup;
        }
        for (;;) {
            msg = curl_multi_info_read(t->multi, &left);
            if (!msg)
                break;
            if (msg->msg != CURLMSG_DONE)
                continue;
            priv = NULL;
            (void)curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &priv);
            x = (transfer *)priv;
            if (x) {
                x->done = true;
                x->result = msg->data.result;
            }
        }
        if (running == 0)
            break;
        /* Every transfer carries its own timeout, so this wait is bounded. */
        mrc = curl_multi_poll(t->multi, NULL, 0, 1000, NULL);
        if (mrc != CURLM_OK) {
            snap_error_set(err, SNAP_E_HTTP, "HTTP transfer failed: %s",
                           curl_multi_strerror(mrc));
            goto cleanup;
        }
    }
    for (i = 0; i < n; i++) {
        if (snap_error_isset(&errs[i]) && !xs[i].callback_failed)
            continue; /* setup failed, already reported */
        oks[i] = transfer_finish(&xs[i]);
    }
    ret = true;

cleanup:
    for (i = 0; i < n; i++) {
        if (xs[i].easy) {
            (void)curl_multi_remove_handle(t->multi, xs[i].easy);
            easy_give_back(t, xs[i].easy);
        }
        curl_slist_free_all(xs[i].headers);
    }
    free(xs);
    return ret;
}

static bool
perform_one(void *impl, const cinder_http_request *req,
            cinder_http_response *resp, snap_error *err)
{
    snap_error one = {0};
    bool ok = false;

    if (!perform_many(impl, req, resp, &one, &ok, 1, err))
        return false;
    if (!ok && err && !snap_error_isset(err))
        *err = one;
    return ok;
}

static const cinder_http_ops curl_ops = {
    .perform = perform_one,
    .perform_many = perform_many,
    .free = transport_free,
};

cinder_http *
cinder_http_curl_new(const cinder_http_opts *opts, snap_error *err)
{
    cinder_http_opts defaults = {0};
    curl_transport *t = NULL;
    char ua[64];

    if (!opts)
        opts = &defaults;
    (void)pthread_once(&global_once, global_init); /* cannot fail here */
    if (global_rc != CURLE_OK) {
        snap_error_set(err, SNAP_E_HTTP, "cannot initialise libcurl: %s",
                       curl_easy_strerror(global_rc));
        return NULL;
    }
    t = calloc(1, sizeof(*t));
    if (!t)
        goto nomem;
    t->insecure = opts->insecure;
    t->connect_timeout_ms =
        or_default(opts->connect_timeout_ms, DEFAULT_CONNECT_TIMEOUT_MS);
    t->timeout_ms = or_default(opts->timeout_ms, DEFAULT_TIMEOUT_MS);
    t->max_timeout_ms =
        or_default(opts->max_timeout_ms, DEFAULT_MAX_TIMEOUT_MS);
    if (t->timeout_ms > t->max_timeout_ms)
        t->timeout_ms = t->max_timeout_ms;
    t->stall_timeout_ms =
        or_default(opts->stall_timeout_ms, DEFAULT_STALL_TIMEOUT_MS);
    t->max_body = opts->max_body > 0 ? opts->max_body : DEFAULT_MAX_BODY;
    if (opts->cacert) {
        t->cacert = strdup(opts->cacert);
        if (!t->cacert)
            goto nomem;
    }
    snprintf(ua, sizeof(ua), "snapset/%s", CINDER_VERSION);
    t->user_agent = strdup(opts->user_agent ? opts->user_agent : ua);
    if (!t->user_agent)
        goto nomem;
    t->multi = multi_new();
    t->share = curl_share_init();
    if (!t->multi || !t->share)
        goto nomem;
    if (curl_share_setopt(t->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS) !=
            CURLSHE_OK ||
        curl_share_setopt(t->share, CURLSHOPT_SHARE,
                          CURL_LOCK_DATA_SSL_SESSION) != CURLSHE_OK) {
        transport_free(t);
        snap_error_set(err, SNAP_E_HTTP, "cannot set up the curl share handle");
        return NULL;
    }
    return cinder_http_new(&curl_ops, t, err);

nomem:
    transport_free(t);
    snap_error_set(err, SNAP_E_NOMEM, "cannot allocate HTTP transport");
    return NULL;
}
