/* coordinator/http/http_api.c -- see http_api.h. */
#include "coordinator/http/http_api.h"
#include "coordinator/http/http_api_priv.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <microhttpd.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/snap_log.h"
#include "coordinator/http/http_authz.h"
#include "common/snap_time.h"
#include "coordinator/coord_catalog.h"
#include "coordinator/coord_policy.h"

#define TOKEN_CACHE_MAX 1024 /* positive answers */
#define NEGATIVE_CACHE_MAX 512 /* refused tokens */
#define FLIGHTS_MAX 64 /* distinct tokens waiting for Keystone */
#define REAPER_TICK_MS 100
#define TOKENS_FILE_MAX (1024 * 1024)
#define TOKEN_MIN_LEN 16
#define TOKEN_MAX_LEN 8192
#define LABEL_MAX 255 /* characters of a set name */
#define METADATA_MAX 64 /* pairs of a create action's metadata */
#define DOMAIN_ID_MAX 256
#define ROTATION_MAX 10000
#define STATUS_MAX 600

/* Window histograms, in seconds: the frozen window of a healthy guest is
 * tens to hundreds of ms; the top buckets catch the ones that go wrong. */
static const double window_le[] = {0.01, 0.025, 0.05, 0.1, 0.25, 0.5,
                                   1,    2.5,   5,    10,  30,   60};
#define NBUCKETS (sizeof(window_le) / sizeof(window_le[0]))

typedef struct histogram {
    uint64_t bucket[NBUCKETS]; /* not cumulative; summed when printed */
    uint64_t count;
    double sum;
} histogram;

/* The counters, copied out under the lock for one scrape. */
typedef struct metrics {
    uint64_t by_code[STATUS_MAX];
    uint64_t sets_made[COORD_SET_LAST][COORD_CONSISTENCY_LAST];
    histogram freeze_h;
    histogram pause_h;
    uint64_t deletes_ok;
    uint64_t deletes_failed;
} metrics;

typedef struct file_token {
    char *token;
    http_identity id;
} file_token;

typedef struct cached_token {
    char *token;
    http_identity id; /* empty in the negative cache */
    int64_t until_ms; /* wall clock */
    int64_t used_ms;  /* monotonic, for eviction */
} cached_token;

typedef struct token_cache {
    cached_token *e;
    size_t n, max;
} token_cache;

/* One validation of one token, shared by every request that carries it
 * while it runs (single flight). Freed by the last of the validator and
 * its waiters. */
typedef struct flight {
    char *token;
    int waiters;  /* requests waiting for it */
    bool started; /* a validator has it */
    bool done;
    unsigned status; /* 0, 401 or 503 */
    http_identity id;
    struct flight *next;
} flight;

/* An open connection, for the request deadline (MHD's socket context). */
typedef struct live_conn {
    int fd;
    int64_t start_ms; /* monotonic: its current request began */
    bool cut;
    struct live_conn *prev, *next;
} live_conn;

struct http_api {
    struct MHD_Daemon *mhd;
    int port;
    size_t max_body;
    char **roles;
    size_t nroles;
    char **projects;
    size_t nprojects;
    http_authz_conf authz; /* borrows roles and projects */
    const http_auth_ops *auth;
    void *auth_impl;
    int64_t token_cache_ms;
    int64_t negative_cache_ms;
    int64_t validate_timeout_ms;
    int64_t request_timeout_ms;
    const http_backend_ops *backend;
    void *backend_impl;
    coord_quiesce quiesce;
    bool pause;
    file_token *tokens;
    size_t ntokens;

    pthread_mutex_t cache_mu; /* guards the caches, flights, stopping */
    pthread_cond_t work_cv;   /* a flight was queued, or stopping */
    pthread_cond_t done_cv;   /* a flight is done (monotonic clock) */
    token_cache positive;
    token_cache negative;
    flight *flights; /* queued and running, newest first */
    size_t nflights;
    pthread_t *validators;
    size_t nvalidators;
    bool stopping;

    pthread_mutex_t conn_mu; /* guards conns, reaper_stop */
    pthread_cond_t reaper_cv;
    live_conn *conns;
    pthread_t reaper;
    bool have_reaper;
    bool reaper_stop;

    pthread_mutex_t metrics_mu;
    metrics m;
};

typedef enum route {
    ROUTE_NONE = 0,
    ROUTE_HEALTHZ,
    ROUTE_METRICS,
    ROUTE_SETS,
    ROUTE_SET,
    ROUTE_SET_EXPORT,
    ROUTE_ACTION,
} route;

/* One request, from its headers to its answer (MHD's con_cls). */
typedef struct request {
    route route;
    char arg[DOMAIN_ID_MAX + 2]; /* the {domain} or {id} of the path */
    char *body;
    size_t len;
    bool too_large;
    bool answered;
    http_identity id; /* the caller, once authenticated */
} request;

/* ---- small helpers ------------------------------------------------------- */


static bool
identity_copy(http_identity *dst, const http_identity *src)
{
    size_t i;

    memset(dst, 0, sizeof(*dst));
    dst->expires_ms = src->expires_ms;
    if ((src->user && !(dst->user = strdup(src->user))) ||
        (src->project && !(dst->project = strdup(src->project))) ||
        (src->project_name && !(dst->project_name = strdup(src->project_name))) ||
        (src->project_domain_id &&
         !(dst->project_domain_id = strdup(src->project_domain_id))) ||
        (src->project_domain_name &&
         !(dst->project_domain_name = strdup(src->project_domain_name))))
        goto nomem;
    if (src->nroles) {
        dst->roles = calloc(src->nroles, sizeof(*dst->roles));
        if (!dst->roles)
            goto nomem;
        for (i = 0; i < src->nroles; i++) {
            dst->roles[i] = strdup(src->roles[i]);
            if (!dst->roles[i])
                goto nomem;
            dst->nroles++;
        }
    }
    return true;

 nomem:
    http_identity_release(dst);
    return false;
}

/* Equality that takes the same time wherever the strings differ, so the
 * answer time does not tell a caller how much of a token it guessed. */
static bool
secret_equal(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b), i;
    unsigned char diff = la != lb;

    for (i = 0; i < la; i++)
        diff |= (unsigned char)(a[i] ^ b[lb ? i % lb : 0]);
    return diff == 0;
}

static char **
strv_copy(char *const *src, size_t n)
{
    char **out = calloc(n + 1, sizeof(*out));
    size_t i;

    if (!out)
        return NULL;
    for (i = 0; i < n; i++) {
        out[i] = strdup(src[i]);
        if (!out[i]) {
            while (i--)
                free(out[i]);
            free(out);
            return NULL;
        }
    }
    return out;
}

static void
strv_free(char **v, size_t n)
{
    size_t i;

    for (i = 0; v && i < n; i++)
        free(v[i]);
    free(v);
}

/* A growing text buffer for /metrics. */
typedef struct strbuf {
    char *s;
    size_t len, cap;
    bool failed;
} strbuf;

static void sb_printf(strbuf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
sb_printf(strbuf *b, const char *fmt, ...)
{
    va_list ap;
    int n;

    if (b->failed)
        return;
    for (;;) {
        size_t room = b->cap - b->len;

        va_start(ap, fmt);
        n = vsnprintf(b->s ? b->s + b->len : NULL, room, fmt, ap);
        va_end(ap);
        if (n < 0) {
            b->failed = true;
            return;
        }
        if ((size_t)n < room) {
            b->len += (size_t)n;
            return;
        }
        {
            size_t cap = b->cap ? b->cap * 2 : 4096;
            char *grown;

            while (cap - b->len <= (size_t)n)
                cap *= 2;
            grown = realloc(b->s, cap);
            if (!grown) {
                b->failed = true;
                return;
            }
            b->s = grown;
            b->cap = cap;
        }
    }
}

/* ---- responses ----------------------------------------------------------- */

static const char *
status_title(unsigned code)
{
    switch (code) {
    case 200:
        return "OK";
    case 202:
        return "Accepted";
    case 400:
        return "Bad Request";
    case 401:
        return "Unauthorized";
    case 403:
        return "Forbidden";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 409:
        return "Conflict";
    case 413:
        return "Payload Too Large";
    case 415:
        return "Unsupported Media Type";
    case 501:
        return "Not Implemented";
    case 503:
        return "Service Unavailable";
    case 504:
        return "Gateway Timeout";
    default:
        return code >= 500 ? "Internal Server Error" : "Error";
    }
}

static void
count_status(http_api *api, unsigned code)
{
    pthread_mutex_lock(&api->metrics_mu);
    if (code < STATUS_MAX)
        api->m.by_code[code]++;
    pthread_mutex_unlock(&api->metrics_mu);
}

typedef struct resp_headers {
    const char *location;
    const char *allow;
    bool www_authenticate;
} resp_headers;

/* Queues @body (malloc'd; taken in every case) with status @code. */
static enum MHD_Result
respond(http_api *api, struct MHD_Connection *conn, unsigned code,
        const char *ctype, char *body, size_t len, const resp_headers *h)
{
    struct MHD_Response *resp;
    enum MHD_Result ret;

    resp = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
    if (!resp) {
        free(body);
        return MHD_NO;
    }
    (void)MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, ctype);
    (void)MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL,
                                  "no-store");
    if (h && h->location)
        (void)MHD_add_response_header(resp, MHD_HTTP_HEADER_LOCATION,
                                      h->location);
    if (h && h->allow)
        (void)MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, h->allow);
    if (h && h->www_authenticate)
        (void)MHD_add_response_header(resp, MHD_HTTP_HEADER_WWW_AUTHENTICATE,
                                      "Token realm=\"snapset\"");
    ret = MHD_queue_response(conn, code, resp);
    MHD_destroy_response(resp);
    count_status(api, code);
    return ret;
}

/* Queues the JSON document @doc (reference taken). */
static enum MHD_Result
respond_json(http_api *api, struct MHD_Connection *conn, unsigned code,
             json_t *doc, const resp_headers *h)
{
    char *text =
        doc ? json_dumps(doc, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    static const char oom[] = "{\"error\":{\"code\":500,\"title\":\"Internal "
                              "Server Error\",\"message\":\"out of "
                              "memory\"}}";

    json_decref(doc);
    if (!text) {
        text = strdup(oom);
        if (!text)
            return MHD_NO;
        code = 500;
    }
    return respond(api, conn, code, "application/json", text, strlen(text), h);
}

static enum MHD_Result respond_error(http_api *api, struct MHD_Connection *conn,
                                     unsigned code, const resp_headers *h,
                                     const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

static enum MHD_Result
respond_error(http_api *api, struct MHD_Connection *conn, unsigned code,
              const resp_headers *h, const char *fmt, ...)
{
    char msg[512];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    return respond_json(api, conn, code,
                        json_pack("{s:{s:i,s:s,s:s}}", "error", "code",
                                  (int)code, "title", status_title(code),
                                  "message", msg),
                        h);
}

/* The status for an error a backend reported. */
static unsigned
status_of(const snap_error *e)
{
    switch (e->code) {
    case SNAP_E_INVALID:
        return 400;
    case SNAP_E_NOTFOUND:
        return 404;
    case SNAP_E_BUSY:
    case SNAP_E_STATE:
        return 409;
    case SNAP_E_TIMEOUT:
        return 504;
    case SNAP_E_HTTP:
        if (e->http_status >= 400 && e->http_status <= 599)
            return (unsigned)e->http_status;
        return 502;
    default:
        return 500;
    }
}

static enum MHD_Result
respond_snap_error(http_api *api, struct MHD_Connection *conn,
                   const snap_error *e)
{
    return respond_error(api, conn, status_of(e), NULL, "%s",
                         e->msg[0] ? e->msg : snap_strerror(e->code));
}

/* ---- authentication ------------------------------------------------------ */

/* A cache of Keystone's answers: positive ones (an identity) and negative
 * ones (a refused token) live in two caches, so a flood of bad tokens
 * cannot evict the good ones. */
static void
cache_entry_clear(cached_token *c)
{
    if (c->token) {
        memset(c->token, 0, strlen(c->token));
        free(c->token);
    }
    http_identity_release(&c->id);
    memset(c, 0, sizeof(*c));
}

/* Under cache_mu. The entry of @token, or NULL. */
static cached_token *
cache_find(token_cache *tc, const char *token, int64_t now)
{
    cached_token *hit = NULL;
    size_t i;

    for (i = 0; i < tc->n; i++) {
        cached_token *c = &tc->e[i];

        if (c->until_ms > now && secret_equal(c->token, token))
            hit = c;
    }
    if (hit)
        hit->used_ms = snap_now_ms();
    return hit;
}

/* Under cache_mu. Drops @token's entry, if any. */
static void
cache_drop(token_cache *tc, const char *token)
{
    size_t i;

    for (i = 0; i < tc->n; i++) {
        if (secret_equal(tc->e[i].token, token)) {
            cache_entry_clear(&tc->e[i]);
            tc->e[i] = tc->e[--tc->n];
            memset(&tc->e[tc->n], 0, sizeof(tc->e[tc->n]));
            return;
        }
    }
}

/* Under cache_mu. Records @token (with @id, or refused when NULL) until
 * @until (wall clock). */
static void
cache_put(token_cache *tc, const char *token, const http_identity *id,
          int64_t until)
{
    int64_t now = snap_wall_ms();
    cached_token *slot;
    size_t i, victim = 0;

    if (until <= now || tc->max == 0)
        return;
    cache_drop(tc, token);
    if (tc->n < tc->max) {
        slot = &tc->e[tc->n];
    } else {
        /* Full: reuse an expired entry, else the least recently used. */
        for (i = 0; i < tc->n; i++) {
            if (tc->e[i].until_ms <= now) {
                victim = i;
                break;
            }
            if (tc->e[i].used_ms < tc->e[victim].used_ms)
                victim = i;
        }
        slot = &tc->e[victim];
        cache_entry_clear(slot);
    }
    slot->token = strdup(token);
    if (slot->token && (!id || identity_copy(&slot->id, id))) {
        slot->until_ms = until;
        slot->used_ms = snap_now_ms();
        if (slot == &tc->e[tc->n])
            tc->n++;
        return;
    }
    free(slot->token);
    slot->token = NULL;
    if (slot != &tc->e[tc->n]) {
        /* keep the array dense: move the last entry here */
        *slot = tc->e[--tc->n];
        memset(&tc->e[tc->n], 0, sizeof(*slot));
    }
}

static void
flight_free(flight *f)
{
    if (!f)
        return;
    if (f->token) {
        memset(f->token, 0, strlen(f->token));
        free(f->token);
    }
    http_identity_release(&f->id);
    free(f);
}

/* Under cache_mu: unlinks @f from the flights. */
static void
flight_unlink(http_api *api, flight *f)
{
    flight **pp;

    for (pp = &api->flights; *pp && *pp != f; pp = &(*pp)->next)
        ;
    if (*pp) {
        *pp = f->next;
        api->nflights--;
    }
}

/* A validator thread: takes the newest flight not started (under a flood
 * the newest callers are the ones still waiting), asks Keystone without
 * any lock held, records the answer in the caches and wakes those who
 * wait for it. Stops at once when the server stops: the flights left are
 * freed by http_api_free(). */
static void *
validator_main(void *arg)
{
    http_api *api = arg;
    flight *f;

    pthread_mutex_lock(&api->cache_mu);
    for (;;) {
        snap_error err = {0};
        http_identity got = {0};
        int64_t now, until;
        bool ok;

        if (api->stopping)
            break;
        for (f = api->flights; f && f->started; f = f->next)
            ;
        if (!f) {
            pthread_cond_wait(&api->work_cv, &api->cache_mu);
            continue;
        }
        f->started = true;
        pthread_mutex_unlock(&api->cache_mu);

        ok = api->auth->validate(api->auth_impl, f->token, &got, &err);
        now = snap_wall_ms();

        pthread_mutex_lock(&api->cache_mu);
        if (ok && got.expires_ms > 0 && got.expires_ms <= now) {
            ok = false;
            snap_error_set(&err, SNAP_E_NOTFOUND, "the token has expired");
        }
        if (ok) {
            until = now + api->token_cache_ms;
            if (got.expires_ms > 0 && got.expires_ms < until)
                until = got.expires_ms;
            cache_drop(&api->negative, f->token);
            cache_put(&api->positive, f->token, &got, until);
            f->status = 0;
            f->id = got;
            memset(&got, 0, sizeof(got));
        } else if (err.code == SNAP_E_NOTFOUND) {
            /* Revoked or unknown: forget what we knew, refuse for a while. */
            cache_drop(&api->positive, f->token);
            cache_put(&api->negative, f->token, NULL,
                      now + api->negative_cache_ms);
            f->status = 401;
        } else {
            snap_warn("http: cannot validate a token: %s",
                      err.msg[0] ? err.msg : snap_strerror(err.code));
            f->status = 503;
        }
        http_identity_release(&got);
        f->done = true;
        flight_unlink(api, f);
        if (f->waiters == 0)
            flight_free(f);
        pthread_cond_broadcast(&api->done_cv);
    }
    pthread_mutex_unlock(&api->cache_mu);
    return NULL;
}

/* Keystone's answer for @token: 0 with @id filled, or the status to answer
 * with (401, 503). Waits at most validate_timeout_ms. */
static unsigned
keystone_check(http_api *api, const char *token, http_identity *id,
               char *why, size_t size)
{
    int64_t now = snap_wall_ms(), deadline;
    cached_token *c;
    struct timespec ts;
    unsigned status;
    flight *f;

    pthread_mutex_lock(&api->cache_mu);
    c = cache_find(&api->positive, token, now);
    if (c) {
        status = identity_copy(id, &c->id) ? 0 : 503;
        pthread_mutex_unlock(&api->cache_mu);
        if (status)
            snprintf(why, size, "out of memory");
        return status;
    }
    if (cache_find(&api->negative, token, now)) {
        pthread_mutex_unlock(&api->cache_mu);
        snprintf(why, size, "invalid token");
        return 401;
    }
    for (f = api->flights; f && !secret_equal(f->token, token); f = f->next)
        ;
    if (!f) {
        if (api->nflights >= FLIGHTS_MAX) {
            pthread_mutex_unlock(&api->cache_mu);
            snap_warn("http: %d token validations already wait for "
                      "Keystone: refusing another",
                      FLIGHTS_MAX);
            snprintf(why, size, "authentication service unavailable");
            return 503;
        }
        f = calloc(1, sizeof(*f));
        if (!f || !(f->token = strdup(token))) {
            free(f);
            pthread_mutex_unlock(&api->cache_mu);
            snprintf(why, size, "out of memory");
            return 503;
        }
        f->next = api->flights;
        api->flights = f;
        api->nflights++;
        pthread_cond_signal(&api->work_cv);
    }
    f->waiters++;
    deadline = snap_now_ms() + api->validate_timeout_ms;
    while (!f->done) {
        int64_t left = deadline - snap_now_ms();

        if (left <= 0)
            break;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        ts.tv_sec += left / 1000;
        ts.tv_nsec += (left % 1000) * 1000000L;
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
        (void)pthread_cond_timedwait(&api->done_cv, &api->cache_mu, &ts);
    }
    f->waiters--;
    if (!f->done) {
        status = 503;
        snap_warn("http: token validation took longer than %lld ms",
                  (long long)api->validate_timeout_ms);
        if (f->waiters == 0 && !f->started) {
            /* Nobody wants it any more: do not ask. */
            flight_unlink(api, f);
            flight_free(f);
        }
    } else {
        status = f->status;
        if (status == 0 && !identity_copy(id, &f->id))
            status = 503;
        if (f->waiters == 0)
            flight_free(f);
    }
    pthread_mutex_unlock(&api->cache_mu);
    if (status == 401)
        snprintf(why, size, "invalid token");
    else if (status)
        snprintf(why, size, "authentication service unavailable");
    return status;
}

/* Checks the request's token: 0 with @id filled when it may go on (to
 * authorization), else the status to answer with @why. */
static unsigned
authenticate(http_api *api, struct MHD_Connection *conn, http_identity *id,
             char *why, size_t size)
{
    const char *token =
        MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "X-Auth-Token");
    size_t i;

    if (!token || !token[0]) {
        snprintf(why, size, "missing X-Auth-Token");
        return 401;
    }
    if (strlen(token) > TOKEN_MAX_LEN) {
        snprintf(why, size, "invalid token");
        return 401;
    }
    if (!api->auth) {
        const file_token *match = NULL;

        /* Compare with every token, so the time does not depend on
         * which one (if any) matches. */
        for (i = 0; i < api->ntokens; i++) {
            if (secret_equal(api->tokens[i].token, token))
                match = &api->tokens[i];
        }
        if (!match) {
            snprintf(why, size, "invalid token");
            return 401;
        }
        if (!identity_copy(id, &match->id)) {
            snprintf(why, size, "out of memory");
            return 503;
        }
        return 0;
    }
    return keystone_check(api, token, id, why, size);
}

/* ---- authorization ------------------------------------------------------- */


static const char *
set_metadata(const coord_set *s, const char *key)
{
    size_t i;

    for (i = 0; i < s->nmetadata; i++) {
        if (strcmp(s->metadata[2 * i], key) == 0)
            return s->metadata[2 * i + 1];
    }
    return NULL;
}

static bool
owner_dup(char **dst, const char *src)
{
    return !src || (*dst = strdup(src)) != NULL;
}

/* The owner of @s: recorded in it when the API made it, else its domain's
 * owner now; a domain that is gone has none (only the roles may act on
 * its sets). False (a 503 in @err) when the owner cannot be read. */
static bool
set_owner(http_api *api, const coord_set *s, http_owner *o, snap_error *err)
{
    const char *p = set_metadata(s, HTTP_OWNER_KEY_PROJECT);
    const char *n = set_metadata(s, HTTP_OWNER_KEY_NAME);
    const char *d = set_metadata(s, HTTP_OWNER_KEY_DOMAIN);
    snap_error e = {0};

    memset(o, 0, sizeof(*o));
    if (p || n) {
        if (!owner_dup(&o->project, p) || !owner_dup(&o->project_name, n) ||
            !owner_dup(&o->project_domain, d)) {
            http_owner_release(o);
            return snap_error_set(err, SNAP_E_NOMEM, "out of memory");
        }
        return true;
    }
    if (!api->backend->domain_owner)
        return true;
    if (api->backend->domain_owner(api->backend_impl, s->domain_uuid, o, &e))
        return true;
    http_owner_release(o);
    if (e.code == SNAP_E_NOTFOUND)
        return true;
    snap_warn("http: cannot read the owner of domain %s: %s", s->domain_uuid,
              e.msg);
    return snap_error_set_http(err, 503, "cannot read the owner of the "
                                         "domain");
}

/* 0 when @id may act on @owner's domain or set, else 401/403 with @why. */
static unsigned
authorize(const http_api *api, const http_identity *id, http_authz_scope scope,
          const http_owner *owner, char *why, size_t size)
{
    http_authz_verdict v =
        http_authz_decide(id, scope, owner, &api->authz, why, size);

    return http_authz_status(v);
}

/* 0 when @id may act on set @s, else the status with @why. */
static unsigned
authorize_set(http_api *api, const http_identity *id, const coord_set *s,
              char *why, size_t size)
{
    http_owner o;
    snap_error e = {0};
    unsigned status;

    if (!set_owner(api, s, &o, &e)) {
        snprintf(why, size, "%s", e.msg);
        return status_of(&e);
    }
    status = authorize(api, id, HTTP_AUTHZ_OWNED, &o, why, size);
    http_owner_release(&o);
    if (status == 403)
        snprintf(why, size, "set %s belongs to another project", s->uuid);
    return status;
}

/* Reads the tokens file: "TOKEN PROJECT [ROLE,ROLE...]" a line, '#'
 * comments. Refused unless it is a regular file (not a symlink) owned by
 * root or by us that neither its group nor others may write and others
 * may not read. */
static bool
tokens_load(http_api *api, const char *path, snap_error *err)
{
    struct stat st;
    char *text = NULL, *line, *next = NULL;
    ssize_t n;
    size_t len = 0;
    int fd, lineno = 0;
    bool ok = false;

    /* O_NOFOLLOW: a symlink could point at a file someone else
     * controls; O_NONBLOCK: a FIFO must not hang the start. */
    fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW | O_NONBLOCK);
    if (fd < 0 && errno == ELOOP)
        return snap_error_set(err, SNAP_E_INVALID,
                              "tokens file '%s' is a symlink: name the file "
                              "itself",
                              path);
    if (fd < 0)
        return snap_error_set_errno(err, errno, "cannot open tokens file '%s'",
                                    path);
    if (fstat(fd, &st) < 0) {
        snap_error_set_errno(err, errno, "cannot stat tokens file '%s'", path);
        goto cleanup;
    }
    if (!S_ISREG(st.st_mode)) {
        snap_error_set(err, SNAP_E_INVALID,
                       "tokens file '%s' is not a regular file", path);
        goto cleanup;
    }
    if (st.st_uid != 0 && st.st_uid != geteuid()) {
        snap_error_set(err, SNAP_E_INVALID,
                       "tokens file '%s' is owned by uid %u, not by root or "
                       "by us (uid %u): chown it",
                       path, (unsigned)st.st_uid, (unsigned)geteuid());
        goto cleanup;
    }
    if (st.st_mode & (S_IWGRP | S_IWOTH | S_IROTH)) {
        snap_error_set(err, SNAP_E_INVALID,
                       "tokens file '%s' can be %s (mode %04o): chmod "
                       "go-w,o-r it",
                       path,
                       st.st_mode & (S_IWGRP | S_IWOTH)
                           ? "written by its group or others"
                           : "read by others",
                       (unsigned)(st.st_mode & 07777));
        goto cleanup;
    }
    if (st.st_size > TOKENS_FILE_MAX) {
        snap_error_set(err, SNAP_E_INVALID, "tokens file '%s' is too large",
                       path);
        goto cleanup;
    }
    text = malloc((size_t)st.st_size + 1);
    if (!text) {
        snap_error_set(err, SNAP_E_NOMEM, "out of memory");
        goto cleanup;
    }
    while (len < (size_t)st.st_size) {
        n = read(fd, text + len, (size_t)st.st_size - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            snap_error_set_errno(err, errno, "cannot read tokens file '%s'",
                                 path);
            goto cleanup;
        }
        if (n == 0)
            break;
        len += (size_t)n;
    }
    text[len] = '\0';
    for (line = text; line && *line; line = next) {
        char *tok, *project, *roles, *rest = NULL, *r, *rsave = NULL;
        file_token *grown, *ft;

        lineno++;
        next = strchr(line, '\n');
        if (next)
            *next++ = '\0';
        if (strchr(line, '#'))
            *strchr(line, '#') = '\0';
        tok = strtok_r(line, " \t\r", &rest);
        if (!tok)
            continue;
        project = strtok_r(NULL, " \t\r", &rest);
        roles = strtok_r(NULL, " \t\r", &rest);
        if (!project || strtok_r(NULL, " \t\r", &rest)) {
            snap_error_set(err, SNAP_E_INVALID,
                           "%s:%d: expected TOKEN PROJECT [ROLE,...]", path,
                           lineno);
            goto cleanup;
        }
        if (strlen(tok) < TOKEN_MIN_LEN || strlen(tok) > TOKEN_MAX_LEN) {
            snap_error_set(err, SNAP_E_INVALID,
                           "%s:%d: a token must have %d to %d characters", path,
                           lineno, TOKEN_MIN_LEN, TOKEN_MAX_LEN);
            goto cleanup;
        }
        grown = realloc(api->tokens, (api->ntokens + 1) * sizeof(*grown));
        if (!grown) {
            snap_error_set(err, SNAP_E_NOMEM, "out of memory");
            goto cleanup;
        }
        api->tokens = grown;
        ft = &api->tokens[api->ntokens++];
        memset(ft, 0, sizeof(*ft));
        ft->token = strdup(tok);
        ft->id.project = strdup(project);
        if (!ft->token || !ft->id.project) {
            snap_error_set(err, SNAP_E_NOMEM, "out of memory");
            goto cleanup;
        }
        for (r = roles ? strtok_r(roles, ",", &rsave) : NULL; r;
             r = strtok_r(NULL, ",", &rsave)) {
            char **rg =
                realloc(ft->id.roles, (ft->id.nroles + 1) * sizeof(*rg));

            if (!rg) {
                snap_error_set(err, SNAP_E_NOMEM, "out of memory");
                goto cleanup;
            }
            ft->id.roles = rg;
            rg[ft->id.nroles] = strdup(r);
            if (!rg[ft->id.nroles]) {
                snap_error_set(err, SNAP_E_NOMEM, "out of memory");
                goto cleanup;
            }
            ft->id.nroles++;
        }
    }
    if (api->ntokens == 0) {
        snap_error_set(err, SNAP_E_INVALID, "tokens file '%s' has no token",
                       path);
        goto cleanup;
    }
    ok = true;

 cleanup:
    if (text)
        memset(text, 0, len); /* do not leave the tokens in freed memory */
    free(text);
    close(fd);
    return ok;
}

/* ---- JSON of sets -------------------------------------------------------- */

static json_t *
str_or_null(const char *s)
{
    return s ? json_string(s) : json_null();
}

static json_t *
time_or_null(int64_t ms)
{
    char buf[40];

    if (ms <= 0)
        return json_null();
    return json_string(snap_iso8601(ms, buf, sizeof(buf)));
}

static json_t *
ms_or_null(int64_t ms)
{
    return ms < 0 ? json_null() : json_integer((json_int_t)ms);
}

/* The API's view of a set: the catalog document without the journal and
 * the internal directory. */
static json_t *
set_json(const coord_set *s)
{
    json_t *o, *members;
    size_t i;

    members = json_array();
    if (!members)
        return NULL;
    for (i = 0; i < s->nmembers; i++) {
        const coord_member *m = &s->members[i];

        if (json_array_append_new(
                members, json_pack("{s:o,s:s,s:s,s:o,s:o,s:o,s:o,s:I}",
                                   "target", str_or_null(m->target), "kind",
                                   coord_member_kind_name(m->kind), "state",
                                   coord_member_state_name(m->state), "serial",
                                   str_or_null(m->serial), "volume_id",
                                   str_or_null(m->volume_id), "location",
                                   str_or_null(m->location), "format",
                                   str_or_null(m->copy_format ? m->copy_format
                                                              : m->format),
                                   "size", (json_int_t)m->size)) < 0) {
            json_decref(members);
            return NULL;
        }
    }
    o = json_pack(
        "{s:s,s:o,s:{s:o,s:s},s:s,s:s,s:s,s:b,s:o,s:i,s:o,s:o,"
        "s:o,s:o,s:o,s:I,s:o}",
        "id", s->uuid, "name", str_or_null(s->name), "domain", "name",
        str_or_null(s->domain_name), "uuid", s->domain_uuid, "state",
        coord_set_state_name(s->state), "consistency",
        coord_consistency_name(s->consistency), "quiesce",
        coord_quiesce_name(s->quiesce), "pause_requested", s->pause_requested,
        "backup_type", str_or_null(s->backup_type), "rotation", s->rotation,
        "created", time_or_null(s->created_ms), "finished",
        time_or_null(s->finished_ms), "error", str_or_null(s->error),
        "freeze_window_ms", ms_or_null(s->freeze_ms), "pause_window_ms",
        ms_or_null(s->pause_ms), "frozen_filesystems",
        (json_int_t)s->frozen_count, "members", members);
    if (o) {
        json_t *meta = json_object();

        for (i = 0; meta && i < s->nmetadata; i++) {
            if (json_object_set_new(meta, s->metadata[2 * i],
                                    json_string(s->metadata[2 * i + 1]))) {
                json_decref(meta);
                meta = NULL;
            }
        }
        if (!meta || json_object_set_new(o, "metadata", meta)) {
            json_decref(o);
            o = NULL;
        }
    }
    return o;
}

/* ---- routes -------------------------------------------------------------- */

/* Splits @url into at most 5 segments; false when a segment is empty
 * (a double or trailing slash) or too long. */
static size_t
split_path(const char *url, const char **seg, size_t *seglen, size_t max)
{
    size_t n = 0;
    const char *p = url, *q;

    if (*p != '/')
        return 0;
    while (*p == '/') {
        p++;
        q = strchr(p, '/');
        if (!q)
            q = p + strlen(p);
        if (q == p || n == max)
            return 0;
        seg[n] = p;
        seglen[n] = (size_t)(q - p);
        n++;
        p = q;
    }
    return n;
}

static bool
seg_is(const char *seg, size_t len, const char *word)
{
    return len == strlen(word) && strncmp(seg, word, len) == 0;
}

static route
route_match(const char *url, char *arg, size_t argsize)
{
    const char *seg[5];
    size_t len[5], n = split_path(url, seg, len, 5);

    arg[0] = '\0';
    if (n == 1 && seg_is(seg[0], len[0], "healthz"))
        return ROUTE_HEALTHZ;
    if (n == 1 && seg_is(seg[0], len[0], "metrics"))
        return ROUTE_METRICS;
    if (n < 2 || !seg_is(seg[0], len[0], "v1"))
        return ROUTE_NONE;
    if (seg_is(seg[1], len[1], "sets")) {
        if (n == 2)
            return ROUTE_SETS;
        if (len[2] >= argsize)
            return ROUTE_NONE;
        memcpy(arg, seg[2], len[2]);
        arg[len[2]] = '\0';
        if (n == 3)
            return ROUTE_SET;
        if (n == 4 && seg_is(seg[3], len[3], "export"))
            return ROUTE_SET_EXPORT;
        return ROUTE_NONE;
    }
    if (seg_is(seg[1], len[1], "servers") && n == 4 &&
        seg_is(seg[3], len[3], "action")) {
        if (len[2] >= argsize)
            return ROUTE_NONE;
        memcpy(arg, seg[2], len[2]);
        arg[len[2]] = '\0';
        return ROUTE_ACTION;
    }
    return ROUTE_NONE;
}

static const char *
route_methods(route r)
{
    switch (r) {
    case ROUTE_SET:
        return "GET, HEAD, DELETE";
    case ROUTE_SET_EXPORT:
    case ROUTE_ACTION:
        return "POST";
    default:
        return "GET, HEAD";
    }
}

static bool
method_allowed(route r, const char *method)
{
    bool get = strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0;

    switch (r) {
    case ROUTE_SET:
        return get || strcmp(method, "DELETE") == 0;
    case ROUTE_SET_EXPORT:
    case ROUTE_ACTION:
        return strcmp(method, "POST") == 0;
    default:
        return get;
    }
}

/* A set id: 8 to 36 characters of a UUID, lower-cased in place. */
static bool
set_id_valid(char *id)
{
    size_t i, len = strlen(id);

    if (len < 8 || len > 36)
        return false;
    for (i = 0; i < len; i++) {
        char ch = id[i];

        if (ch >= 'A' && ch <= 'F')
            id[i] = (char)(ch - 'A' + 'a');
        else if (!((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f') ||
                   ch == '-'))
            return false;
    }
    return true;
}

/* A printable string without control characters (jansson has checked the
 * UTF-8). */
static bool
text_clean(const char *s)
{
    for (; *s; s++) {
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            return false;
    }
    return true;
}

static bool
json_content_type(struct MHD_Connection *conn)
{
    const char *ct = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
                                                 MHD_HTTP_HEADER_CONTENT_TYPE);
    size_t n = strlen("application/json");

    if (!ct)
        return false;
    while (*ct == ' ')
        ct++;
    return strncasecmp(ct, "application/json", n) == 0 &&
           (ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ');
}

/* ---- handlers ------------------------------------------------------------ */

static enum MHD_Result
handle_healthz(http_api *api, struct MHD_Connection *conn)
{
    return respond_json(api, conn, 200, json_pack("{s:s}", "status", "ok"),
                        NULL);
}

static void
observe(histogram *h, int64_t ms)
{
    double v = (double)ms / 1000.0;
    size_t i;

    for (i = 0; i < NBUCKETS; i++) {
        if (v <= window_le[i]) {
            h->bucket[i]++;
            break;
        }
    }
    h->count++;
    h->sum += v;
}

void
http_api_observe_set(http_api *api, const coord_set *set)
{
    if (!api || !set)
        return;
    pthread_mutex_lock(&api->metrics_mu);
    if (set->state < COORD_SET_LAST &&
        set->consistency < COORD_CONSISTENCY_LAST)
        api->m.sets_made[set->state][set->consistency]++;
    if (set->freeze_ms >= 0)
        observe(&api->m.freeze_h, set->freeze_ms);
    if (set->pause_ms >= 0)
        observe(&api->m.pause_h, set->pause_ms);
    pthread_mutex_unlock(&api->metrics_mu);
}

void
http_api_observe_delete(http_api *api, bool ok)
{
    if (!api)
        return;
    pthread_mutex_lock(&api->metrics_mu);
    if (ok)
        api->m.deletes_ok++;
    else
        api->m.deletes_failed++;
    pthread_mutex_unlock(&api->metrics_mu);
}

static void
print_histogram(strbuf *b, const char *name, const char *help,
                const histogram *h)
{
    uint64_t cum = 0;
    size_t i;

    sb_printf(b, "# HELP %s %s\n# TYPE %s histogram\n", name, help, name);
    for (i = 0; i < NBUCKETS; i++) {
        cum += h->bucket[i];
        sb_printf(b, "%s_bucket{le=\"%g\"} %llu\n", name, window_le[i],
                  (unsigned long long)cum);
    }
    sb_printf(b, "%s_bucket{le=\"+Inf\"} %llu\n", name,
              (unsigned long long)h->count);
    sb_printf(b, "%s_sum %.3f\n%s_count %llu\n", name, h->sum, name,
              (unsigned long long)h->count);
}

static enum MHD_Result
handle_metrics(http_api *api, struct MHD_Connection *conn)
{
    coord_set **sets = NULL;
    size_t nsets = 0, i, k, frozen = 0;
    uint64_t by_state[COORD_SET_LAST] = {0};
    http_backend_stats stats = {0, 0};
    snap_error err = {0};
    strbuf b = {NULL, 0, 0, false};
    metrics copy;
    bool listed;

    /* The catalog holds what every snapset process (CLI, policies, this
     * server) is doing: a set being made whose journal says a freeze was
     * attempted and not yet confirmed thawed is a guest frozen now. */
    listed = api->backend->list(api->backend_impl, &sets, &nsets, &err);
    for (i = 0; listed && i < nsets; i++) {
        const coord_set *s = sets[i];

        if (s->state < COORD_SET_LAST)
            by_state[s->state]++;
        if (s->state == COORD_SET_CREATING && s->journal.freeze_attempted &&
            !s->journal.thawed) {
            /* count domains, not sets */
            for (k = 0; k < i; k++) {
                if (sets[k]->state == COORD_SET_CREATING &&
                    sets[k]->journal.freeze_attempted &&
                    !sets[k]->journal.thawed &&
                    strcmp(sets[k]->domain_uuid, s->domain_uuid) == 0)
                    break;
            }
            if (k == i)
                frozen++;
        }
    }
    if (listed)
        coord_catalog_list_free(sets, nsets);
    if (api->backend->stats)
        api->backend->stats(api->backend_impl, &stats);

    pthread_mutex_lock(&api->metrics_mu);
    copy = api->m;
    pthread_mutex_unlock(&api->metrics_mu);

    sb_printf(&b, "# HELP snapset_http_requests_total API requests answered, "
                  "by status code.\n"
                  "# TYPE snapset_http_requests_total counter\n");
    for (i = 100; i < STATUS_MAX; i++) {
        if (copy.by_code[i])
            sb_printf(&b, "snapset_http_requests_total{code=\"%zu\"} %llu\n", i,
                      (unsigned long long)copy.by_code[i]);
    }
    sb_printf(&b, "# HELP snapset_sets_made_total Sets this server made "
                  "(API and scheduled policies), by result and "
                  "consistency.\n"
                  "# TYPE snapset_sets_made_total counter\n");
    for (i = 0; i < COORD_SET_LAST; i++) {
        for (k = 0; k < COORD_CONSISTENCY_LAST; k++) {
            if (copy.sets_made[i][k] ||
                (i == COORD_SET_AVAILABLE && k != COORD_CONSISTENCY_NONE) ||
                (i == COORD_SET_ERROR && k == COORD_CONSISTENCY_NONE))
                sb_printf(&b,
                          "snapset_sets_made_total{result=\"%s\","
                          "consistency=\"%s\"} %llu\n",
                          coord_set_state_name((coord_set_state)i),
                          coord_consistency_name((coord_consistency)k),
                          (unsigned long long)copy.sets_made[i][k]);
        }
    }
    print_histogram(&b, "snapset_freeze_window_seconds",
                    "Frozen window of the sets this server made.",
                    &copy.freeze_h);
    print_histogram(&b, "snapset_pause_window_seconds",
                    "Paused window of the sets this server made.",
                    &copy.pause_h);
    sb_printf(&b,
              "# HELP snapset_set_deletions_total Deletions this server "
              "did (API and rotation), by result.\n"
              "# TYPE snapset_set_deletions_total counter\n"
              "snapset_set_deletions_total{result=\"ok\"} %llu\n"
              "snapset_set_deletions_total{result=\"failed\"} %llu\n",
              (unsigned long long)copy.deletes_ok,
              (unsigned long long)copy.deletes_failed);
    if (listed) {
        sb_printf(&b,
                  "# HELP snapset_guests_frozen Guests frozen by a "
                  "snapset process right now (catalog journals).\n"
                  "# TYPE snapset_guests_frozen gauge\n"
                  "snapset_guests_frozen %zu\n",
                  frozen);
        sb_printf(&b, "# HELP snapset_sets Sets in the catalog, by state.\n"
                      "# TYPE snapset_sets gauge\n");
        for (i = 0; i < COORD_SET_LAST; i++)
            sb_printf(&b, "snapset_sets{state=\"%s\"} %llu\n",
                      coord_set_state_name((coord_set_state)i),
                      (unsigned long long)by_state[i]);
    } else {
        snap_warn("metrics: cannot list the catalog: %s", err.msg);
    }
    if (api->backend->stats)
        sb_printf(&b,
                  "# HELP snapset_jobs Background jobs, by state.\n"
                  "# TYPE snapset_jobs gauge\n"
                  "snapset_jobs{state=\"queued\"} %lld\n"
                  "snapset_jobs{state=\"running\"} %lld\n",
                  (long long)stats.queued, (long long)stats.running);
    if (b.failed) {
        free(b.s);
        return respond_error(api, conn, 500, NULL, "out of memory");
    }
    return respond(api, conn, 200, "text/plain; version=0.0.4; charset=utf-8",
                   b.s, b.len, NULL);
}

typedef struct query_check {
    char bad[64];
} query_check;

static enum MHD_Result
query_key(void *cls, enum MHD_ValueKind kind, const char *key,
          const char *value)
{
    query_check *q = cls;

    (void)kind;
    (void)value;
    if (strcmp(key, "domain") != 0 && strcmp(key, "backup_type") != 0 &&
        strcmp(key, "state") != 0) {
        snprintf(q->bad, sizeof(q->bad), "%s", key);
        return MHD_NO;
    }
    return MHD_YES;
}

/* The decisions of one listing for the sets that record no owner, by
 * domain: one owner lookup per domain. */
typedef struct owner_memo {
    char uuid[SNAP_UUID_LEN];
    unsigned status;
} owner_memo;

/* May the caller of @rq see @s? */
static bool
list_may_see(http_api *api, const request *rq, const coord_set *s,
             owner_memo *memo, size_t *nmemo, size_t max)
{
    char why[256];
    size_t i;
    unsigned status;
    bool recorded = set_metadata(s, HTTP_OWNER_KEY_PROJECT) ||
                    set_metadata(s, HTTP_OWNER_KEY_NAME);

    if (!recorded) {
        for (i = 0; i < *nmemo; i++) {
            if (strcmp(memo[i].uuid, s->domain_uuid) == 0)
                return memo[i].status == 0;
        }
    }
    status = authorize_set(api, &rq->id, s, why, sizeof(why));
    if (!recorded && *nmemo < max) {
        memcpy(memo[*nmemo].uuid, s->domain_uuid, SNAP_UUID_LEN);
        memo[*nmemo].status = status;
        (*nmemo)++;
    }
    return status == 0;
}

static enum MHD_Result
handle_list(http_api *api, struct MHD_Connection *conn, const request *rq)
{
    owner_memo memo[64];
    size_t nmemo = 0;
    bool all = http_authz_decide(&rq->id, HTTP_AUTHZ_HOST, NULL, &api->authz,
                                 NULL, 0) == HTTP_AUTHZ_ALLOW_ROLE;
    const char *domain =
        MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "domain");
    const char *btype =
        MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "backup_type");
    const char *state_s =
        MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "state");
    query_check q = {""};
    coord_set **sets = NULL;
    size_t nsets = 0, i;
    snap_error err = {0};
    json_t *arr;
    int state = -1;

    (void)MHD_get_connection_values(conn, MHD_GET_ARGUMENT_KIND, query_key, &q);
    if (q.bad[0])
        return respond_error(api, conn, 400, NULL,
                             "unknown query parameter '%s': use domain, "
                             "backup_type or state",
                             q.bad);
    if (state_s) {
        state = coord_set_state_parse(state_s);
        if (state < 0)
            return respond_error(api, conn, 400, NULL,
                                 "bad state '%.64s': use creating, "
                                 "available, error or deleting",
                                 state_s);
    }
    if (!api->backend->list(api->backend_impl, &sets, &nsets, &err))
        return respond_snap_error(api, conn, &err);
    arr = json_array();
    for (i = 0; arr && i < nsets; i++) {
        const coord_set *s = sets[i];

        if (domain &&
            (!s->domain_name || strcmp(domain, s->domain_name) != 0) &&
            strcasecmp(domain, s->domain_uuid) != 0)
            continue;
        if (btype && (!s->backup_type || strcmp(btype, s->backup_type) != 0))
            continue;
        if (state >= 0 && (int)s->state != state)
            continue;
        if (!all && !list_may_see(api, rq, s, memo, &nmemo,
                                  sizeof(memo) / sizeof(memo[0])))
            continue; /* another project's */
        if (json_array_append_new(arr, set_json(s)) < 0) {
            json_decref(arr);
            arr = NULL;
        }
    }
    coord_catalog_list_free(sets, nsets);
    if (!arr)
        return respond_error(api, conn, 500, NULL, "out of memory");
    return respond_json(api, conn, 200, json_pack("{s:o}", "sets", arr), NULL);
}

/* The set @id if the caller of @rq may act on it; else NULL with the
 * answer queued in *@ret (400, 404, 403). */
static coord_set *
get_authorized(http_api *api, struct MHD_Connection *conn, const request *rq,
               char *id, enum MHD_Result *ret)
{
    coord_set *set;
    snap_error err = {0};
    char why[256];
    unsigned status;

    if (!set_id_valid(id)) {
        *ret = respond_error(api, conn, 400, NULL,
                             "bad set id: use its UUID or its first 8+ "
                             "characters");
        return NULL;
    }
    set = api->backend->get(api->backend_impl, id, &err);
    if (!set) {
        *ret = respond_snap_error(api, conn, &err);
        return NULL;
    }
    status = authorize_set(api, &rq->id, set, why, sizeof(why));
    if (status) {
        coord_set_free(set);
        *ret = respond_error(api, conn, status, NULL, "%s", why);
        return NULL;
    }
    return set;
}

static enum MHD_Result
handle_get(http_api *api, struct MHD_Connection *conn, request *rq)
{
    coord_set *set;
    json_t *doc;
    enum MHD_Result ret = MHD_NO;

    set = get_authorized(api, conn, rq, rq->arg, &ret);
    if (!set)
        return ret;
    doc = set_json(set);
    if (doc && api->backend->exports) {
        json_t *ex = api->backend->exports(api->backend_impl, set);

        if (!ex || json_object_set_new(doc, "exports", ex) != 0) {
            json_decref(doc);
            doc = NULL;
        }
    }
    coord_set_free(set);
    if (!doc)
        return respond_error(api, conn, 500, NULL, "out of memory");
    return respond_json(api, conn, 200, json_pack("{s:o}", "set", doc), NULL);
}

static enum MHD_Result
handle_delete(http_api *api, struct MHD_Connection *conn, request *rq)
{
    snap_error err = {0};
    const char *we = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND,
                                                 "with_exports");
    char *id = rq->arg;
    coord_set *set;
    enum MHD_Result ret = MHD_NO;
    bool with_exports = false;

    set = get_authorized(api, conn, rq, id, &ret);
    if (!set)
        return ret;
    coord_set_free(set);
    if (we) {
        if (strcmp(we, "true") == 0 || strcmp(we, "1") == 0)
            with_exports = true;
        else if (strcmp(we, "false") != 0 && strcmp(we, "0") != 0)
            return respond_error(api, conn, 400, NULL,
                                 "with_exports must be true or false");
    }
    if (!api->backend->remove(api->backend_impl, id, with_exports, &err))
        return respond_snap_error(api, conn, &err);
    return respond_json(
        api, conn, 202,
        json_pack("{s:s,s:s}", "set_id", id, "state", "deleting"), NULL);
}

bool
http_export_req_parse(const json_t *root, http_export_req *req, char *why,
                      size_t size)
{
    const char *key;
    json_t *v;

    memset(req, 0, sizeof(*req));
    if (!root)
        return true;
    if (!json_is_object(root)) {
        snprintf(why, size, "the body must be a JSON object");
        return false;
    }
    json_object_foreach((json_t *)root, key, v)
    {
        if (strcmp(key, "name") == 0) {
            if (!json_is_string(v) || json_string_length(v) == 0 ||
                json_string_length(v) > LABEL_MAX ||
                !text_clean(json_string_value(v))) {
                snprintf(why, size,
                         "name must be a string of 1 to %d printable "
                         "characters",
                         LABEL_MAX);
                return false;
            }
            req->name = json_string_value(v);
        } else if (strcmp(key, "disk_format") == 0) {
            if (!json_is_string(v) ||
                (strcmp(json_string_value(v), "vmdk") != 0 &&
                 strcmp(json_string_value(v), "qcow2") != 0)) {
                snprintf(why, size, "disk_format must be \"vmdk\" or "
                                    "\"qcow2\"");
                return false;
            }
            req->disk_format = json_string_value(v);
        } else {
            snprintf(why, size, "unknown field '%.64s': use name or "
                                "disk_format",
                     key);
            return false;
        }
    }
    return true;
}

static enum MHD_Result
handle_export(http_api *api, struct MHD_Connection *conn, request *rq)
{
    char *id = rq->arg;
    json_t *root = NULL;
    json_error_t jerr;
    http_export_req req;
    snap_error err = {0};
    char why[256], uuid[SNAP_UUID_LEN], location[64];
    resp_headers h = {location, NULL, false};
    enum MHD_Result ret = MHD_NO;
    coord_set *set;

    set = get_authorized(api, conn, rq, id, &ret);
    if (!set)
        return ret;
    coord_set_free(set);
    if (rq->len > 0) {
        root = json_loadb(rq->body, rq->len, JSON_REJECT_DUPLICATES, &jerr);
        if (!root)
            return respond_error(api, conn, 400, NULL,
                                 "malformed JSON (line %d, column %d): %s",
                                 jerr.line, jerr.column, jerr.text);
    }
    if (!http_export_req_parse(root, &req, why, sizeof(why))) {
        json_decref(root);
        return respond_error(api, conn, 400, NULL, "%s", why);
    }
    if (!api->backend->export_set) {
        json_decref(root);
        return respond_error(api, conn, 501, NULL,
                             "this server does not export sets");
    }
    if (!api->backend->export_set(api->backend_impl, id, &req, uuid, &err)) {
        ret = respond_snap_error(api, conn, &err);
    } else {
        snprintf(location, sizeof(location), "/v1/sets/%s", uuid);
        ret = respond_json(api, conn, 202,
                           json_pack("{s:s,s:s,s:s,s:s}", "set_id", uuid,
                                     "export", "glance", "state", "exporting",
                                     "location", location),
                           &h);
    }
    json_decref(root); /* after: req's strings point into it */
    return ret;
}

bool
http_create_req_parse(json_t *root, coord_quiesce quiesce, bool pause,
                      http_create_req *req, unsigned *status, char *why,
                      size_t size)
{
    const char *action, *key;
    json_t *args, *v;
    bool backup;

    *status = 400;
    if (!json_is_object(root)) {
        snprintf(why, size, "the body must be a JSON object");
        return false;
    }
    if (json_object_size(root) != 1) {
        snprintf(why, size,
                 "the body must hold exactly one action: "
                 "createBackup or createSnapshot");
        return false;
    }
    action = json_object_iter_key(json_object_iter(root));
    args = json_object_iter_value(json_object_iter(root));
    if (strcmp(action, "createBackup") == 0) {
        backup = true;
    } else if (strcmp(action, "createSnapshot") == 0) {
        backup = false;
    } else {
        snprintf(why, size,
                 "unknown action '%.64s': use createBackup or createSnapshot",
                 action);
        return false;
    }
    if (!json_is_object(args)) {
        snprintf(why, size, "%s must be an object", action);
        return false;
    }
    memset(req, 0, sizeof(*req));
    req->quiesce = quiesce;
    req->pause = pause;
    json_object_foreach(args, key, v)
    {
        if (strcmp(key, "name") == 0) {
            if (!json_is_string(v) || json_string_length(v) == 0 ||
                json_string_length(v) > LABEL_MAX ||
                !text_clean(json_string_value(v))) {
                snprintf(why, size,
                         "%s.name must be a string of 1 to %d printable "
                         "characters",
                         action, LABEL_MAX);
                return false;
            }
            req->name = json_string_value(v);
        } else if (backup && strcmp(key, "backup_type") == 0) {
            if (!json_is_string(v) ||
                !coord_policy_name_valid(json_string_value(v))) {
                snprintf(why, size,
                         "createBackup.backup_type must be a string of "
                         "letters, digits, '-', '_' and '.' (\"daily\")");
                return false;
            }
            req->backup_type = json_string_value(v);
        } else if (backup && strcmp(key, "rotation") == 0) {
            if (!json_is_integer(v)) {
                snprintf(why, size, "createBackup.rotation must be an integer");
                return false;
            }
            if (json_integer_value(v) < 1 ||
                json_integer_value(v) > ROTATION_MAX) {
                snprintf(why, size,
                         "createBackup.rotation must be between 1 and %d "
                         "(0 would delete the new backup too)",
                         ROTATION_MAX);
                return false;
            }
            req->rotation = (int)json_integer_value(v);
        } else if (strcmp(key, "metadata") == 0) {
            const char *mk;
            json_t *mv;

            if (!json_is_object(v) || json_object_size(v) > METADATA_MAX) {
                snprintf(why, size,
                         "%s.metadata must be an object of at most %d "
                         "pairs",
                         action, METADATA_MAX);
                return false;
            }
            json_object_foreach(v, mk, mv)
            {
                if (!json_is_string(mv) || !mk[0] || strlen(mk) > 255 ||
                    json_string_length(mv) > 255 || !text_clean(mk) ||
                    !text_clean(json_string_value(mv))) {
                    snprintf(why, size,
                             "%s.metadata must map keys to strings (at "
                             "most 255 printable characters each)",
                             action);
                    return false;
                }
                if (strncmp(mk, "snapset.", 8) == 0) {
                    snprintf(why, size,
                             "%s.metadata key '%.64s': the prefix "
                             "\"snapset.\" is snapset's own",
                             action, mk);
                    return false;
                }
            }
            req->metadata = v;
        } else if (strcmp(key, "quiesce") == 0) {
            int q = json_is_string(v)
                        ? coord_quiesce_parse(json_string_value(v))
                        : -1;

            if (q < 0) {
                snprintf(why, size,
                         "%s.quiesce must be \"required\", \"preferred\" "
                         "or \"off\"",
                         action);
                return false;
            }
            req->quiesce = q;
        } else if (strcmp(key, "pause") == 0) {
            if (!json_is_boolean(v)) {
                snprintf(why, size, "%s.pause must be true or false", action);
                return false;
            }
            req->pause = json_is_true(v);
        } else {
            snprintf(why, size, "unknown field '%.64s' in %s", key, action);
            return false;
        }
    }
    if (!req->name) {
        snprintf(why, size, "%s.name is required", action);
        return false;
    }
    if (backup && !req->backup_type) {
        snprintf(why, size, "createBackup.backup_type is required");
        return false;
    }
    if (backup && req->rotation == 0) {
        snprintf(why, size, "createBackup.rotation is required");
        return false;
    }
    return true;
}

static enum MHD_Result
handle_action(http_api *api, struct MHD_Connection *conn, request *rq)
{
    json_t *root = NULL;
    json_error_t jerr;
    http_create_req req;
    snap_error err = {0};
    char why[256], uuid[SNAP_UUID_LEN], location[64];
    char domain_uuid[SNAP_UUID_LEN] = "";
    char *domain_name = NULL;
    http_owner owner = {NULL, NULL, NULL};
    unsigned status;
    enum MHD_Result ret;
    resp_headers h = {location, NULL, false};

    if (!rq->arg[0] || strlen(rq->arg) > DOMAIN_ID_MAX || !text_clean(rq->arg))
        return respond_error(api, conn, 400, NULL, "bad domain name");
    root = json_loadb(rq->body ? rq->body : "", rq->len, JSON_REJECT_DUPLICATES,
                      &jerr);
    if (!root)
        return respond_error(api, conn, 400, NULL,
                             "malformed JSON (line %d, column %d): %s",
                             jerr.line, jerr.column, jerr.text);
    if (!http_create_req_parse(root, api->quiesce, api->pause, &req, &status,
                               why, sizeof(why))) {
        json_decref(root);
        return respond_error(api, conn, status, NULL, "%s", why);
    }
    if (!api->backend->domain_lookup(api->backend_impl, rq->arg, &domain_name,
                                     domain_uuid, &err)) {
        json_decref(root);
        return respond_snap_error(api, conn, &err);
    }
    if (api->backend->domain_owner &&
        !api->backend->domain_owner(api->backend_impl, domain_uuid, &owner,
                                    &err)) {
        http_owner_release(&owner);
        if (err.code == SNAP_E_NOTFOUND) {
            ret = respond_error(api, conn, 404, NULL, "no domain '%s'",
                                rq->arg);
        } else {
            snap_warn("http: cannot read the owner of domain '%s': %s",
                      domain_name, err.msg);
            ret = respond_error(api, conn, 503, NULL,
                                "cannot read the owner of the domain");
        }
        goto cleanup;
    }
    status = authorize(api, &rq->id, HTTP_AUTHZ_OWNED, &owner, why,
                       sizeof(why));
    if (status) {
        ret = respond_error(api, conn, status, NULL,
                            "domain '%s' belongs to another project",
                            domain_name);
        goto cleanup;
    }
    req.domain_name = domain_name;
    req.domain_uuid = domain_uuid;
    req.owner = &owner;
    if (!api->backend->create(api->backend_impl, &req, uuid, &err)) {
        ret = respond_snap_error(api, conn, &err);
    } else {
        snprintf(location, sizeof(location), "/v1/sets/%s", uuid);
        ret = respond_json(api, conn, 202,
                           json_pack("{s:s,s:s,s:s}", "set_id", uuid, "domain",
                                     domain_name, "location", location),
                           &h);
    }
 cleanup:
    http_owner_release(&owner);
    free(domain_name);
    json_decref(root); /* after: req's strings point into it */
    return ret;
}

/* ---- the MHD callbacks --------------------------------------------------- */

/* What can be decided from the request line and headers alone: a request
 * refused here is answered before its body is read (and its connection
 * closed). *@answered tells whether a response was queued. */
static enum MHD_Result
refuse_early(http_api *api, struct MHD_Connection *conn, const char *method,
             request *rq, bool *answered)
{
    resp_headers h = {NULL, NULL, false};
    const char *cl;
    char why[300];
    unsigned status;

    *answered = true;
    if (rq->route == ROUTE_HEALTHZ && method_allowed(rq->route, method)) {
        *answered = false; /* no token needed */
        return MHD_YES;
    }
    status = authenticate(api, conn, &rq->id, why, sizeof(why));
    if (!status)
        status = authorize(api, &rq->id,
                           rq->route == ROUTE_METRICS ? HTTP_AUTHZ_HOST
                                                      : HTTP_AUTHZ_ANY,
                           NULL, why, sizeof(why));
    if (status) {
        h.www_authenticate = status == 401;
        return respond_error(api, conn, status, &h, "%s", why);
    }
    if (rq->route == ROUTE_NONE)
        return respond_error(api, conn, 404, NULL, "no such resource");
    if (!method_allowed(rq->route, method)) {
        h.allow = route_methods(rq->route);
        return respond_error(api, conn, 405, &h,
                             "method %.16s not allowed here (use %s)", method,
                             h.allow);
    }
    cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
                                     MHD_HTTP_HEADER_CONTENT_LENGTH);
    if (cl && strtoull(cl, NULL, 10) > api->max_body)
        return respond_error(api, conn, 413, NULL,
                             "the body is larger than %zu bytes",
                             api->max_body);
    if ((rq->route == ROUTE_ACTION ||
         (rq->route == ROUTE_SET_EXPORT && cl && strtoull(cl, NULL, 10) > 0)) &&
        !json_content_type(conn))
        return respond_error(api, conn, 415, NULL,
                             "the body must be application/json");
    *answered = false;
    return MHD_YES;
}

/* The whole request is here: answer it. */
static enum MHD_Result
answer(http_api *api, struct MHD_Connection *conn, const char *method,
       request *rq)
{
    if (rq->too_large)
        return respond_error(api, conn, 413, NULL,
                             "the body is larger than %zu bytes",
                             api->max_body);
    switch (rq->route) {
    case ROUTE_HEALTHZ:
        return handle_healthz(api, conn);
    case ROUTE_METRICS:
        return handle_metrics(api, conn);
    case ROUTE_SETS:
        return handle_list(api, conn, rq);
    case ROUTE_SET:
        if (strcmp(method, "DELETE") == 0)
            return handle_delete(api, conn, rq);
        return handle_get(api, conn, rq);
    case ROUTE_SET_EXPORT:
        return handle_export(api, conn, rq);
    case ROUTE_ACTION:
        return handle_action(api, conn, rq);
    default:
        return respond_error(api, conn, 404, NULL, "no such resource");
    }
}

static enum MHD_Result
on_request(void *cls, struct MHD_Connection *conn, const char *url,
           const char *method, const char *version, const char *upload_data,
           size_t *upload_data_size, void **con_cls)
{
    http_api *api = cls;
    request *rq = *con_cls;
    bool answered;
    enum MHD_Result ret;

    (void)version;
    if (!rq) {
        rq = calloc(1, sizeof(*rq));
        if (!rq)
            return MHD_NO;
        *con_cls = rq;
        rq->route = route_match(url, rq->arg, sizeof(rq->arg));
        ret = refuse_early(api, conn, method, rq, &answered);
        rq->answered = answered;
        return ret;
    }
    if (rq->answered) {
        *upload_data_size = 0; /* discard */
        return MHD_YES;
    }
    if (*upload_data_size) {
        size_t n = *upload_data_size;

        if (!rq->too_large && rq->len + n > api->max_body) {
            rq->too_large = true; /* no Content-Length (chunked) */
            free(rq->body);
            rq->body = NULL;
            rq->len = 0;
        }
        if (!rq->too_large) {
            char *grown = realloc(rq->body, rq->len + n + 1);

            if (!grown)
                return MHD_NO;
            memcpy(grown + rq->len, upload_data, n);
            rq->body = grown;
            rq->len += n;
            rq->body[rq->len] = '\0';
        }
        *upload_data_size = 0;
        return MHD_YES;
    }
    rq->answered = true;
    return answer(api, conn, method, rq);
}

static void conn_restart(http_api *api, struct MHD_Connection *conn);

static void
on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
             enum MHD_RequestTerminationCode toe)
{
    request *rq = *con_cls;

    (void)toe;
    conn_restart(cls, conn);
    if (!rq)
        return;
    http_identity_release(&rq->id);
    free(rq->body);
    free(rq);
    *con_cls = NULL;
}

static void on_mhd_log(void *cls, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

static void
on_mhd_log(void *cls, const char *fmt, va_list ap)
{
    char msg[512];

    (void)cls;
    vsnprintf(msg, sizeof(msg), fmt, ap);
    msg[strcspn(msg, "\n")] = '\0';
    snap_info("http: %s", msg);
}

/* ---- the request deadline ------------------------------------------------ */

/* MHD_OPTION_NOTIFY_CONNECTION: keeps the list of open connections. */
static void
on_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
              enum MHD_ConnectionNotificationCode code)
{
    http_api *api = cls;
    live_conn *lc = *socket_context;
    const union MHD_ConnectionInfo *info;

    if (code == MHD_CONNECTION_NOTIFY_STARTED) {
        info = MHD_get_connection_info(conn,
                                       MHD_CONNECTION_INFO_CONNECTION_FD);
        lc = calloc(1, sizeof(*lc));
        if (!lc || !info) {
            free(lc);
            return; /* not watched: the idle timeout still applies */
        }
        lc->fd = info->connect_fd;
        lc->start_ms = snap_now_ms();
        pthread_mutex_lock(&api->conn_mu);
        lc->next = api->conns;
        if (api->conns)
            api->conns->prev = lc;
        api->conns = lc;
        pthread_mutex_unlock(&api->conn_mu);
        *socket_context = lc;
        return;
    }
    if (!lc)
        return;
    /* Closed: unlinked before MHD closes the socket, so the reaper never
     * shuts down a descriptor that another file has taken. */
    pthread_mutex_lock(&api->conn_mu);
    if (lc->prev)
        lc->prev->next = lc->next;
    else
        api->conns = lc->next;
    if (lc->next)
        lc->next->prev = lc->prev;
    pthread_mutex_unlock(&api->conn_mu);
    free(lc);
    *socket_context = NULL;
}

/* The connection's next request starts now (keep-alive). */
static void
conn_restart(http_api *api, struct MHD_Connection *conn)
{
    const union MHD_ConnectionInfo *info =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    live_conn *lc = info ? info->socket_context : NULL;

    if (!lc)
        return;
    pthread_mutex_lock(&api->conn_mu);
    lc->start_ms = snap_now_ms();
    pthread_mutex_unlock(&api->conn_mu);
}

/* Cuts connections whose request runs past request_timeout_ms: a client
 * that sends a byte now and then is not idle for MHD, so its timeout
 * alone never ends it. */
static void *
reaper_main(void *arg)
{
    http_api *api = arg;
    struct timespec ts;
    live_conn *lc;
    int64_t now;

    pthread_mutex_lock(&api->conn_mu);
    while (!api->reaper_stop) {
        now = snap_now_ms();
        for (lc = api->conns; lc; lc = lc->next) {
            if (!lc->cut && now - lc->start_ms > api->request_timeout_ms) {
                lc->cut = true;
                snap_info("http: closing a connection whose request took "
                          "longer than %lld ms",
                          (long long)api->request_timeout_ms);
                (void)shutdown(lc->fd, SHUT_RDWR); /* MHD sees the end */
            }
        }
        clock_gettime(CLOCK_MONOTONIC, &ts);
        ts.tv_nsec += REAPER_TICK_MS * 1000000L;
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
        (void)pthread_cond_timedwait(&api->reaper_cv, &api->conn_mu, &ts);
    }
    pthread_mutex_unlock(&api->conn_mu);
    return NULL;
}

/* ---- lifecycle ----------------------------------------------------------- */

void
http_api_opts_init(http_api_opts *o)
{
    static char *const admin[] = {"admin"};

    memset(o, 0, sizeof(*o));
    o->address = "127.0.0.1";
    o->max_body_bytes = 65536;
    o->threads = 4;
    o->max_connections = 256;
    o->max_connections_per_ip = 16;
    o->connection_timeout_ms = 30000;
    o->request_timeout_ms = 30000;
    o->allowed_roles = admin;
    o->nallowed_roles = 1;
    o->token_cache_ms = 60000;
    o->negative_cache_ms = 10000;
    o->validate_timeout_ms = 5000;
    o->validators = 4;
    o->quiesce = COORD_QUIESCE_PREFERRED;
}

int
http_api_port(const http_api *api)
{
    return api->port;
}

static void
cache_release(token_cache *tc)
{
    size_t i;

    for (i = 0; i < tc->n; i++)
        cache_entry_clear(&tc->e[i]);
    free(tc->e);
    memset(tc, 0, sizeof(*tc));
}

void
http_api_free(http_api *api)
{
    flight *f, *next;
    size_t i;

    if (!api)
        return;
    if (api->mhd)
        MHD_stop_daemon(api->mhd); /* no request waits any more */
    pthread_mutex_lock(&api->cache_mu);
    api->stopping = true;
    pthread_cond_broadcast(&api->work_cv);
    pthread_mutex_unlock(&api->cache_mu);
    for (i = 0; i < api->nvalidators; i++)
        pthread_join(api->validators[i], NULL);
    free(api->validators);
    for (f = api->flights; f; f = next) {
        next = f->next;
        flight_free(f);
    }
    if (api->have_reaper) {
        pthread_mutex_lock(&api->conn_mu);
        api->reaper_stop = true;
        pthread_cond_signal(&api->reaper_cv);
        pthread_mutex_unlock(&api->conn_mu);
        pthread_join(api->reaper, NULL);
    }
    for (i = 0; i < api->ntokens; i++) {
        free(api->tokens[i].token);
        http_identity_release(&api->tokens[i].id);
    }
    free(api->tokens);
    cache_release(&api->positive);
    cache_release(&api->negative);
    strv_free(api->roles, api->nroles);
    strv_free(api->projects, api->nprojects);
    pthread_mutex_destroy(&api->cache_mu);
    pthread_cond_destroy(&api->work_cv);
    pthread_cond_destroy(&api->done_cv);
    pthread_mutex_destroy(&api->conn_mu);
    pthread_cond_destroy(&api->reaper_cv);
    pthread_mutex_destroy(&api->metrics_mu);
    free(api);
}

static void
cond_init_monotonic(pthread_cond_t *cv)
{
    pthread_condattr_t attr;

    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(cv, &attr);
    pthread_condattr_destroy(&attr);
}

http_api *
http_api_new(const http_api_opts *o, snap_error *err)
{
    http_api *api = NULL;
    struct addrinfo hints, *ai = NULL;
    struct sockaddr_storage addr;
    socklen_t alen = sizeof(addr);
    const union MHD_DaemonInfo *info;
    unsigned flags = MHD_USE_THREAD_PER_CONNECTION |
                     MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL |
                     MHD_USE_ERROR_LOG;
    char port[16];
    size_t i;
    int rc;

    if (!o->backend || !o->backend->domain_lookup || !o->backend->create ||
        !o->backend->list || !o->backend->get || !o->backend->remove) {
        snap_error_set(err, SNAP_E_INVALID, "http api: incomplete backend");
        return NULL;
    }
    if (o->threads < 1 || o->port < 0 || o->port > 65535 ||
        o->max_body_bytes < 2 || o->max_connections < 1 ||
        o->max_connections_per_ip < 1 || o->request_timeout_ms < 1 ||
        o->connection_timeout_ms < 1 ||
        (o->auth && (o->validators < 1 || o->validate_timeout_ms < 1 ||
                     o->token_cache_ms < 0 || o->negative_cache_ms < 0))) {
        snap_error_set(err, SNAP_E_INVALID, "http api: bad options");
        return NULL;
    }
    api = calloc(1, sizeof(*api));
    if (!api) {
        snap_error_set(err, SNAP_E_NOMEM, "out of memory");
        return NULL;
    }
    pthread_mutex_init(&api->cache_mu, NULL);
    pthread_cond_init(&api->work_cv, NULL);
    cond_init_monotonic(&api->done_cv);
    pthread_mutex_init(&api->conn_mu, NULL);
    cond_init_monotonic(&api->reaper_cv);
    pthread_mutex_init(&api->metrics_mu, NULL);
    api->max_body = o->max_body_bytes;
    api->auth = o->auth;
    api->auth_impl = o->auth_impl;
    api->token_cache_ms = o->token_cache_ms;
    api->negative_cache_ms = o->negative_cache_ms;
    api->validate_timeout_ms = o->validate_timeout_ms;
    api->request_timeout_ms = o->request_timeout_ms;
    api->backend = o->backend;
    api->backend_impl = o->backend_impl;
    api->quiesce = o->quiesce;
    api->pause = o->pause;
    api->roles = strv_copy(o->allowed_roles, o->nallowed_roles);
    api->projects = strv_copy(o->allowed_projects, o->nallowed_projects);
    api->positive.max = TOKEN_CACHE_MAX;
    api->negative.max = NEGATIVE_CACHE_MAX;
    api->positive.e = calloc(TOKEN_CACHE_MAX, sizeof(*api->positive.e));
    api->negative.e = calloc(NEGATIVE_CACHE_MAX, sizeof(*api->negative.e));
    if (!api->roles || !api->projects || !api->positive.e ||
        !api->negative.e) {
        snap_error_set(err, SNAP_E_NOMEM, "out of memory");
        goto error;
    }
    api->nroles = o->nallowed_roles;
    api->nprojects = o->nallowed_projects;
    api->authz.roles = api->roles;
    api->authz.nroles = api->nroles;
    api->authz.projects = api->projects;
    api->authz.nprojects = api->nprojects;
    if (!o->auth) {
        if (!o->tokens_file) {
            snap_error_set(err, SNAP_E_INVALID,
                           "no way to check tokens: set http.tokens_file or "
                           "enable openstack (Keystone)");
            goto error;
        }
        if (!tokens_load(api, o->tokens_file, err))
            goto error;
    } else {
        api->validators = calloc(o->validators, sizeof(*api->validators));
        if (!api->validators) {
            snap_error_set(err, SNAP_E_NOMEM, "out of memory");
            goto error;
        }
        for (i = 0; i < o->validators; i++) {
            if (pthread_create(&api->validators[i], NULL, validator_main,
                               api) != 0) {
                snap_error_set(err, SNAP_E_SYSTEM,
                               "cannot start a token validator thread");
                goto error;
            }
            api->nvalidators++;
        }
    }
    if (pthread_create(&api->reaper, NULL, reaper_main, api) != 0) {
        snap_error_set(err, SNAP_E_SYSTEM, "cannot start the request "
                                           "deadline thread");
        goto error;
    }
    api->have_reaper = true;

    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | AI_PASSIVE;
    snprintf(port, sizeof(port), "%d", o->port);
    rc = getaddrinfo(o->address, port, &hints, &ai);
    if (rc != 0 || !ai || ai->ai_addrlen > sizeof(addr)) {
        snap_error_set(err, SNAP_E_INVALID,
                       "bad listen address '%s': use a numeric IPv4 or "
                       "IPv6 address",
                       o->address ? o->address : "");
        goto error;
    }
    memcpy(&addr, ai->ai_addr, ai->ai_addrlen);
    if (ai->ai_family == AF_INET6)
        flags |= MHD_USE_IPv6;
    freeaddrinfo(ai);
    ai = NULL;

    api->mhd = MHD_start_daemon(
        flags, 0, NULL, NULL, on_request, api, MHD_OPTION_SOCK_ADDR,
        (struct sockaddr *)&addr, MHD_OPTION_CONNECTION_TIMEOUT,
        (unsigned)((o->connection_timeout_ms + 999) / 1000),
        MHD_OPTION_CONNECTION_LIMIT, o->max_connections,
        MHD_OPTION_PER_IP_CONNECTION_LIMIT, o->max_connections_per_ip,
        MHD_OPTION_NOTIFY_CONNECTION, on_connection, api,
        MHD_OPTION_NOTIFY_COMPLETED, on_completed, api,
        MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, api, MHD_OPTION_END);
    if (!api->mhd) {
        snap_error_set(err, SNAP_E_SYSTEM,
                       "cannot listen on %s port %d (in use, or not an "
                       "address of this host)",
                       o->address, o->port);
        goto error;
    }
    info = MHD_get_daemon_info(api->mhd, MHD_DAEMON_INFO_LISTEN_FD);
    if (!info ||
        getsockname(info->listen_fd, (struct sockaddr *)&addr, &alen) < 0) {
        snap_error_set_errno(err, errno, "cannot read the listening port");
        goto error;
    }
    api->port = addr.ss_family == AF_INET6
                    ? ntohs(((struct sockaddr_in6 *)&addr)->sin6_port)
                    : ntohs(((struct sockaddr_in *)&addr)->sin_port);
    return api;

 error:
    if (ai)
        freeaddrinfo(ai);
    http_api_free(api);
    return NULL;
}
