/* coordinator/http/http_auth.c -- see http_auth.h. */
#include "coordinator/http/http_auth.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/snap_log.h"
#include "common/snap_time.h"
#include "coordinator/http/http_deadline.h"

#define TOKEN_CACHE_MAX 1024   /* positive answers */
#define NEGATIVE_CACHE_MAX 512 /* refused tokens */
#define FLIGHTS_MAX 64         /* distinct tokens waiting for Keystone */
#define TOKENS_FILE_MAX (1024 * 1024)
#define TOKEN_MIN_LEN 16
#define TOKEN_MAX_LEN 8192

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

struct http_auth {
    const http_auth_ops *ops; /* Keystone; NULL: the tokens file */
    void *impl;
    int64_t token_cache_ms;
    int64_t negative_cache_ms;
    int64_t validate_timeout_ms;
    file_token *tokens; /* the tokens file's */
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
};

/* ---- small helpers ------------------------------------------------------- */

static bool
identity_copy(http_identity *dst, const http_identity *src)
{
    size_t i;

    memset(dst, 0, sizeof(*dst));
    dst->expires_ms = src->expires_ms;
    if ((src->user && !(dst->user = strdup(src->user))) ||
        (src->project && !(dst->project = strdup(src->project))) ||
        (src->project_name &&
         !(dst->project_name = strdup(src->project_name))) ||
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
flight_unlink(http_auth *auth, flight *f)
{
    flight **pp;

    for (pp = &auth->flights; *pp && *pp != f; pp = &(*pp)->next)
        ;
    if (*pp) {
        *pp = f->next;
        auth->nflights--;
    }
}

/* A validator thread: takes the newest flight not started (under a flood
 * the newest callers are the ones still waiting), asks Keystone without
 * any lock held, records the answer in the caches and wakes those who
 * wait for it. Stops at once when the server stops: the flights left are
 * freed by http_auth_free(). */
static void *
validator_main(void *arg)
{
    http_auth *auth = arg;
    flight *f;

    pthread_mutex_lock(&auth->cache_mu);
    for (;;) {
        snap_error err = {0};
        http_identity got = {0};
        int64_t now, until;
        bool ok;

        if (auth->stopping)
            break;
        for (f = auth->flights; f && f->started; f = f->next)
            ;
        if (!f) {
            pthread_cond_wait(&auth->work_cv, &auth->cache_mu);
            continue;
        }
        f->started = true;
        pthread_mutex_unlock(&auth->cache_mu);

        ok = auth->ops->validate(auth->impl, f->token, &got, &err);
        now = snap_wall_ms();

        pthread_mutex_lock(&auth->cache_mu);
        if (ok && got.expires_ms > 0 && got.expires_ms <= now) {
            ok = false;
            snap_error_set(&err, SNAP_E_NOTFOUND, "the token has expired");
        }
        if (ok) {
            until = now + auth->token_cache_ms;
            if (got.expires_ms > 0 && got.expires_ms < until)
                until = got.expires_ms;
            cache_drop(&auth->negative, f->token);
            cache_put(&auth->positive, f->token, &got, until);
            f->status = 0;
            f->id = got;
            memset(&got, 0, sizeof(got));
        } else if (err.code == SNAP_E_NOTFOUND) {
            /* Revoked or unknown: forget what we knew, refuse for a while. */
            cache_drop(&auth->positive, f->token);
            cache_put(&auth->negative, f->token, NULL,
                      now + auth->negative_cache_ms);
            f->status = 401;
        } else {
            snap_warn("http: cannot validate a token: %s",
                      err.msg[0] ? err.msg : snap_strerror(err.code));
            f->status = 503;
        }
        http_identity_release(&got);
        f->done = true;
        flight_unlink(auth, f);
        if (f->waiters == 0)
            flight_free(f);
        pthread_cond_broadcast(&auth->done_cv);
    }
    pthread_mutex_unlock(&auth->cache_mu);
    return NULL;
}

/* Keystone's answer for @token: 0 with @id filled, or the status to answer
 * with (401, 503). Waits at most validate_timeout_ms. */
static unsigned
keystone_check(http_auth *auth, const char *token, http_identity *id, char *why,
               size_t size)
{
    int64_t now = snap_wall_ms(), deadline;
    cached_token *c;
    struct timespec ts;
    unsigned status;
    flight *f;

    pthread_mutex_lock(&auth->cache_mu);
    c = cache_find(&auth->positive, token, now);
    if (c) {
        status = identity_copy(id, &c->id) ? 0 : 503;
        pthread_mutex_unlock(&auth->cache_mu);
        if (status)
            snprintf(why, size, "out of memory");
        return status;
    }
    if (cache_find(&auth->negative, token, now)) {
        pthread_mutex_unlock(&auth->cache_mu);
        snprintf(why, size, "invalid token");
        return 401;
    }
    for (f = auth->flights; f && !secret_equal(f->token, token); f = f->next)
        ;
    if (!f) {
        if (auth->nflights >= FLIGHTS_MAX) {
            pthread_mutex_unlock(&auth->cache_mu);
            snap_warn("http: %d token validations already wait for "
                      "Keystone: refusing another",
                      FLIGHTS_MAX);
            snprintf(why, size, "authentication service unavailable");
            return 503;
        }
        f = calloc(1, sizeof(*f));
        if (!f || !(f->token = strdup(token))) {
            free(f);
            pthread_mutex_unlock(&auth->cache_mu);
            snprintf(why, size, "out of memory");
            return 503;
        }
        f->next = auth->flights;
        auth->flights = f;
        auth->nflights++;
        pthread_cond_signal(&auth->work_cv);
    }
    f->waiters++;
    deadline = snap_now_ms() + auth->validate_timeout_ms;
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
        (void)pthread_cond_timedwait(&auth->done_cv, &auth->cache_mu, &ts);
    }
    f->waiters--;
    if (!f->done) {
        status = 503;
        snap_warn("http: token validation took longer than %lld ms",
                  (long long)auth->validate_timeout_ms);
        if (f->waiters == 0 && !f->started) {
            /* Nobody wants it any more: do not ask. */
            flight_unlink(auth, f);
            flight_free(f);
        }
    } else {
        status = f->status;
        if (status == 0 && !identity_copy(id, &f->id))
            status = 503;
        if (f->waiters == 0)
            flight_free(f);
    }
    pthread_mutex_unlock(&auth->cache_mu);
    if (status == 401)
        snprintf(why, size, "invalid token");
    else if (status)
        snprintf(why, size, "authentication service unavailable");
    return status;
}

unsigned
http_auth_check(http_auth *auth, const char *token, http_identity *id,
                char *why, size_t size)
{
    size_t i;

    if (!token || !token[0]) {
        snprintf(why, size, "missing X-Auth-Token");
        return 401;
    }
    if (strlen(token) > TOKEN_MAX_LEN) {
        snprintf(why, size, "invalid token");
        return 401;
    }
    if (!auth->ops) {
        const file_token *match = NULL;

        /* Compare with every token, so the time does not depend on
         * which one (if any) matches. */
        for (i = 0; i < auth->ntokens; i++) {
            if (secret_equal(auth->tokens[i].token, token))
                match = &auth->tokens[i];
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
    return keystone_check(auth, token, id, why, size);
}

/* ---- the tokens file ----------------------------------------------------- */

/* Reads the whole tokens file into *@text (new and NUL-terminated, *@len
 * bytes: wipe them before free()). Refused unless it is a regular file
 * (not a symlink) owned by root or by us that neither its group nor
 * others may write and others may not read. */
static bool
tokens_read(const char *path, char **text, size_t *len, snap_error *err)
{
    struct stat st;
    char *buf = NULL;
    ssize_t n;
    size_t got = 0;
    int fd;
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
    buf = malloc((size_t)st.st_size + 1);
    if (!buf) {
        snap_error_set(err, SNAP_E_NOMEM, "out of memory");
        goto cleanup;
    }
    while (got < (size_t)st.st_size) {
        n = read(fd, buf + got, (size_t)st.st_size - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            snap_error_set_errno(err, errno, "cannot read tokens file '%s'",
                                 path);
            goto cleanup;
        }
        if (n == 0)
            break;
        got += (size_t)n;
    }
    buf[got] = '\0';
    *text = buf;
    *len = got;
    buf = NULL;
    ok = true;

cleanup:
    if (buf)
        memset(buf, 0, got); /* do not leave the tokens in freed memory */
    free(buf);
    close(fd);
    return ok;
}

/* Adds the token of @line (line @lineno of @path; '#' starts a comment, a
 * blank line is fine) to the tokens of @auth. */
static bool
tokens_parse_line(http_auth *auth, const char *path, int lineno, char *line,
                  snap_error *err)
{
    char *tok, *project, *roles, *rest = NULL, *r, *rsave = NULL;
    file_token *grown, *ft;

    if (strchr(line, '#'))
        *strchr(line, '#') = '\0';
    tok = strtok_r(line, " \t\r", &rest);
    if (!tok)
        return true;
    project = strtok_r(NULL, " \t\r", &rest);
    roles = strtok_r(NULL, " \t\r", &rest);
    if (!project || strtok_r(NULL, " \t\r", &rest))
        return snap_error_set(err, SNAP_E_INVALID,
                              "%s:%d: expected TOKEN PROJECT [ROLE,...]", path,
                              lineno);
    if (strlen(tok) < TOKEN_MIN_LEN || strlen(tok) > TOKEN_MAX_LEN)
        return snap_error_set(err, SNAP_E_INVALID,
                              "%s:%d: a token must have %d to %d characters",
                              path, lineno, TOKEN_MIN_LEN, TOKEN_MAX_LEN);
    grown = realloc(auth->tokens, (auth->ntokens + 1) * sizeof(*grown));
    if (!grown)
        return snap_error_set(err, SNAP_E_NOMEM, "out of memory");
    auth->tokens = grown;
    ft = &auth->tokens[auth->ntokens++];
    memset(ft, 0, sizeof(*ft));
    ft->token = strdup(tok);
    ft->id.project = strdup(project);
    if (!ft->token || !ft->id.project)
        return snap_error_set(err, SNAP_E_NOMEM, "out of memory");
    for (r = roles ? strtok_r(roles, ",", &rsave) : NULL; r;
         r = strtok_r(NULL, ",", &rsave)) {
        char **rg = realloc(ft->id.roles, (ft->id.nroles + 1) * sizeof(*rg));

        if (!rg)
            return snap_error_set(err, SNAP_E_NOMEM, "out of memory");
        ft->id.roles = rg;
        rg[ft->id.nroles] = strdup(r);
        if (!rg[ft->id.nroles])
            return snap_error_set(err, SNAP_E_NOMEM, "out of memory");
        ft->id.nroles++;
    }
    return true;
}

/* Reads the tokens file: "TOKEN PROJECT [ROLE,ROLE...]" a line, '#'
 * comments (tokens_read() says which files are refused). */
static bool
tokens_load(http_auth *auth, const char *path, snap_error *err)
{
    char *text = NULL, *line, *next = NULL;
    size_t len = 0;
    int lineno = 0;
    bool ok = false;

    if (!tokens_read(path, &text, &len, err))
        return false;
    for (line = text; line && *line; line = next) {
        lineno++;
        next = strchr(line, '\n');
        if (next)
            *next++ = '\0';
        if (!tokens_parse_line(auth, path, lineno, line, err))
            goto cleanup;
    }
    if (auth->ntokens == 0) {
        snap_error_set(err, SNAP_E_INVALID, "tokens file '%s' has no token",
                       path);
        goto cleanup;
    }
    ok = true;

cleanup:
    memset(text, 0, len); /* do not leave the tokens in freed memory */
    free(text);
    return ok;
}

/* ---- lifecycle ----------------------------------------------------------- */

static void
cache_release(token_cache *tc)
{
    size_t i;

    for (i = 0; i < tc->n; i++)
        cache_entry_clear(&tc->e[i]);
    free(tc->e);
    memset(tc, 0, sizeof(*tc));
}

http_auth *
http_auth_new(const http_api_opts *o, snap_error *err)
{
    http_auth *auth;
    size_t i;

    auth = calloc(1, sizeof(*auth));
    if (!auth) {
        snap_error_set(err, SNAP_E_NOMEM, "out of memory");
        return NULL;
    }
    pthread_mutex_init(&auth->cache_mu, NULL);
    pthread_cond_init(&auth->work_cv, NULL);
    http_cond_init_monotonic(&auth->done_cv);
    auth->ops = o->auth;
    auth->impl = o->auth_impl;
    auth->token_cache_ms = o->token_cache_ms;
    auth->negative_cache_ms = o->negative_cache_ms;
    auth->validate_timeout_ms = o->validate_timeout_ms;
    auth->positive.max = TOKEN_CACHE_MAX;
    auth->negative.max = NEGATIVE_CACHE_MAX;
    auth->positive.e = calloc(TOKEN_CACHE_MAX, sizeof(*auth->positive.e));
    auth->negative.e = calloc(NEGATIVE_CACHE_MAX, sizeof(*auth->negative.e));
    if (!auth->positive.e || !auth->negative.e) {
        snap_error_set(err, SNAP_E_NOMEM, "out of memory");
        goto error;
    }
    if (!o->auth) {
        if (!o->tokens_file) {
            snap_error_set(err, SNAP_E_INVALID,
                           "no way to check tokens: set http.tokens_file or "
                           "enable openstack (Keystone)");
            goto error;
        }
        if (!tokens_load(auth, o->tokens_file, err))
            goto error;
        return auth;
    }
    auth->validators = calloc(o->validators, sizeof(*auth->validators));
    if (!auth->validators) {
        snap_error_set(err, SNAP_E_NOMEM, "out of memory");
        goto error;
    }
    for (i = 0; i < o->validators; i++) {
        if (pthread_create(&auth->validators[i], NULL, validator_main, auth) !=
            0) {
            snap_error_set(err, SNAP_E_SYSTEM,
                           "cannot start a token validator thread");
            goto error;
        }
        auth->nvalidators++;
    }
    return auth;

error:
    http_auth_free(auth);
    return NULL;
}

void
http_auth_free(http_auth *auth)
{
    flight *f, *next;
    size_t i;

    if (!auth)
        return;
    pthread_mutex_lock(&auth->cache_mu);
    auth->stopping = true;
    pthread_cond_broadcast(&auth->work_cv);
    pthread_mutex_unlock(&auth->cache_mu);
    for (i = 0; i < auth->nvalidators; i++)
        pthread_join(auth->validators[i], NULL);
    free(auth->validators);
    for (f = auth->flights; f; f = next) {
        next = f->next;
        flight_free(f);
    }
    for (i = 0; i < auth->ntokens; i++) {
        free(auth->tokens[i].token);
        http_identity_release(&auth->tokens[i].id);
    }
    free(auth->tokens);
    cache_release(&auth->positive);
    cache_release(&auth->negative);
    pthread_mutex_destroy(&auth->cache_mu);
    pthread_cond_destroy(&auth->work_cv);
    pthread_cond_destroy(&auth->done_cv);
    free(auth);
}
