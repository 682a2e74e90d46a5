/* tests/fuzz/fuzz_http.c -- see fuzz_http.h. */
#include "fuzz_http.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define SEPARATOR "\n----\n"

typedef struct fuzz_http {
    char *script; /* NUL-terminated copy */
    size_t len;
    size_t pos; /* start of the next reply; > len when all are used */
} fuzz_http;

size_t
fuzz_script_op(const uint8_t *data, size_t len, char *op, size_t size)
{
    const uint8_t *nl = memchr(data, '\n', len);
    size_t n = nl ? (size_t)(nl - data) : len;

    if (size == 0)
        return 0;
    memcpy(op, data, n < size - 1 ? n : size - 1);
    op[n < size - 1 ? n : size - 1] = '\0';
    return nl ? len - n - 1 : 0;
}

/* Takes the next reply off the script: its status and its body. */
static bool
next_reply(fuzz_http *f, long *status, const char **body, size_t *body_len)
{
    const char *start, *end, *p;

    if (f->pos > f->len)
        return false;
    start = f->script + f->pos;
    end = strstr(start, SEPARATOR); /* the copy is NUL-terminated */
    if (!end || end > f->script + f->len)
        end = f->script + f->len;
    f->pos = (size_t)(end - f->script) + strlen(SEPARATOR);
    *status = 200;
    p = start;
    if (end - p >= 9 && memcmp(p, "HTTP ", 5) == 0 && p[5] >= '1' &&
        p[5] <= '9' && p[6] >= '0' && p[6] <= '9' && p[7] >= '0' &&
        p[7] <= '9' && p[8] == '\n') {
        *status = (p[5] - '0') * 100 + (p[6] - '0') * 10 + (p[7] - '0');
        p += 9;
    }
    *body = p;
    *body_len = (size_t)(end - p);
    return true;
}

/* Consumes a streamed upload as a server would, so that the sender's
 * counts and hashes come out as after a real transfer. */
static bool
drain_upload(const cinder_http_request *req, snap_error *err)
{
    char buf[4096];
    ssize_t n;

    if (!req->upload)
        return true;
    do {
        n = req->upload(req->upload_ctx, buf, sizeof(buf), err);
    } while (n > 0);
    return n == 0;
}

static bool
fuzz_perform(void *impl, const cinder_http_request *req,
             cinder_http_response *resp, snap_error *err)
{
    fuzz_http *f = impl;
    const char *body;
    size_t body_len;
    long status;

    if (!drain_upload(req, err))
        return false;
    if (!next_reply(f, &status, &body, &body_len))
        return snap_error_set(err, SNAP_E_HTTP,
                              "Failed to connect to %.120s: Connection "
                              "refused",
                              req->url);
    if (!cinder_http_response_add_header(resp, "X-Subject-Token",
                                         FUZZ_HTTP_TOKEN, err) ||
        !cinder_http_response_add_header(resp, "Content-Type",
                                         "application/json", err))
        return false;
    resp->status = status;
    if (req->download && status >= 200 && status <= 299) {
        resp->body = calloc(1, 1);
        if (!resp->body)
            return snap_error_set(err, SNAP_E_NOMEM, "out of memory");
        return req->download(req->download_ctx, body, body_len, err);
    }
    resp->body = malloc(body_len + 1);
    if (!resp->body)
        return snap_error_set(err, SNAP_E_NOMEM, "out of memory");
    memcpy(resp->body, body, body_len);
    resp->body[body_len] = '\0';
    resp->body_len = body_len;
    return true;
}

static bool
fuzz_perform_many(void *impl, const cinder_http_request *reqs,
                  cinder_http_response *resps, snap_error *errs, bool *oks,
                  size_t n, snap_error *err)
{
    size_t i;

    (void)err; /* the batch always runs; each request fails on its own */
    for (i = 0; i < n; i++)
        oks[i] = fuzz_perform(impl, &reqs[i], &resps[i], &errs[i]);
    return true;
}

static void
fuzz_free(void *impl)
{
    fuzz_http *f = impl;

    if (!f)
        return;
    free(f->script);
    free(f);
}

static const cinder_http_ops fuzz_ops = {
    .perform = fuzz_perform,
    .perform_many = fuzz_perform_many,
    .free = fuzz_free,
};

cinder_http *
fuzz_http_new(const uint8_t *script, size_t len)
{
    fuzz_http *f = calloc(1, sizeof(*f));

    if (!f)
        return NULL;
    f->script = malloc(len + 1);
    if (!f->script) {
        free(f);
        return NULL;
    }
    memcpy(f->script, script, len);
    f->script[len] = '\0';
    f->len = len;
    return cinder_http_new(&fuzz_ops, f, NULL);
}
