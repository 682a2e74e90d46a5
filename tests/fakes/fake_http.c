/* tests/fakes/fake_http.c -- see fake_http.h. */
#include "fakes/fake_http.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cmocka.h>

#include "common/snap_fs.h"

#ifndef FAKE_HTTP_DATA_DIR
#define FAKE_HTTP_DATA_DIR "tests/data"
#endif

typedef struct expectation {
    char *method;
    char *url_part;
    long status;
    char *body;
    cinder_http_header *headers;
    size_t nheaders;
    snap_code fail_code; /* SNAP_OK: reply normally */
    char *fail_msg;
    bool repeat;
    size_t used;
} expectation;

typedef struct fake_http {
    expectation *exps;
    size_t nexps;
    size_t next; /* first unconsumed expectation */
    fake_http_record *recs;
    size_t nrecs;
    size_t batches;
    size_t unexpected;
} fake_http;

static void *
xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size);

    assert_non_null(p);
    return p;
}

static char *
xstrdup(const char *s)
{
    char *p = strdup(s ? s : "");

    assert_non_null(p);
    return p;
}

char *
fake_http_data(const char *file)
{
    const char *dir = getenv("SNAP_TEST_DATA");
    char path[1024];
    snap_error err = {0};
    size_t len;
    char *data;

    snprintf(path, sizeof(path), "%s/cinder/%s",
             dir && dir[0] ? dir : FAKE_HTTP_DATA_DIR, file);
    data = snap_file_read(path, 1 << 20, &len, &err);
    if (!data)
        fail_msg("cannot read test data: %s", err.msg);
    return data;
}

static void
fake_free(void *impl)
{
    fake_http *f = impl;
    size_t i, j;

    if (!f)
        return;
    for (i = 0; i < f->nexps; i++) {
        free(f->exps[i].method);
        free(f->exps[i].url_part);
        free(f->exps[i].body);
        free(f->exps[i].fail_msg);
        for (j = 0; j < f->exps[i].nheaders; j++) {
            free(f->exps[i].headers[j].name);
            free(f->exps[i].headers[j].value);
        }
        free(f->exps[i].headers);
    }
    free(f->exps);
    for (i = 0; i < f->nrecs; i++) {
        free(f->recs[i].method);
        free(f->recs[i].url);
        free(f->recs[i].body);
        for (j = 0; j < f->recs[i].nheaders; j++)
            free(f->recs[i].headers[j]);
        free(f->recs[i].headers);
    }
    free(f->recs);
    free(f);
}

static fake_http *
impl_of(cinder_http *h)
{
    fake_http *f = cinder_http_impl(h);

    assert_non_null(f);
    return f;
}

static expectation *
add_expectation(cinder_http *h, const char *method, const char *url_part,
                long status)
{
    fake_http *f = impl_of(h);
    expectation *grown, *e;

    grown = realloc(f->exps, (f->nexps + 1) * sizeof(*grown));
    assert_non_null(grown);
    f->exps = grown;
    e = &f->exps[f->nexps++];
    memset(e, 0, sizeof(*e));
    e->method = xstrdup(method);
    e->url_part = xstrdup(url_part);
    e->status = status;
    return e;
}

void
fake_http_expect(cinder_http *h, const char *method, const char *url_part,
                 long status, const char *file)
{
    expectation *e = add_expectation(h, method, url_part, status);

    e->body = file ? fake_http_data(file) : xstrdup("");
}

void
fake_http_expect_body(cinder_http *h, const char *method, const char *url_part,
                      long status, const char *body)
{
    expectation *e = add_expectation(h, method, url_part, status);

    e->body = xstrdup(body);
}

void
fake_http_expect_fail(cinder_http *h, const char *method, const char *url_part,
                      snap_code code, const char *msg)
{
    expectation *e = add_expectation(h, method, url_part, 0);

    e->body = xstrdup("");
    e->fail_code = code;
    e->fail_msg = xstrdup(msg);
}

void
fake_http_expect_token(cinder_http *h, const char *file, const char *token)
{
    fake_http_expect(h, "POST", "/v3/auth/tokens", 201, file);
    fake_http_add_header(h, "X-Subject-Token", token);
}

void
fake_http_add_header(cinder_http *h, const char *name, const char *value)
{
    fake_http *f = impl_of(h);
    cinder_http_header *grown;
    expectation *e;

    assert_true(f->nexps > 0);
    e = &f->exps[f->nexps - 1];
    grown = realloc(e->headers, (e->nheaders + 1) * sizeof(*grown));
    assert_non_null(grown);
    e->headers = grown;
    e->headers[e->nheaders].name = xstrdup(name);
    e->headers[e->nheaders].value = xstrdup(value);
    e->nheaders++;
}

void
fake_http_repeat(cinder_http *h)
{
    fake_http *f = impl_of(h);

    assert_true(f->nexps > 0);
    f->exps[f->nexps - 1].repeat = true;
}

static bool
matches(const expectation *e, const char *method, const char *url)
{
    return strcmp(e->method, method) == 0 && strstr(url, e->url_part) != NULL;
}

/* Finds the expectation for this request, consuming the script. */
static expectation *
find(fake_http *f, const char *method, const char *url)
{
    expectation *e;

    while (f->next < f->nexps) {
        e = &f->exps[f->next];
        if (matches(e, method, url)) {
            e->used++;
            if (!e->repeat)
                f->next++;
            return e;
        }
        /* A repeatable expectation that has served gives way. */
        if (e->repeat && e->used > 0) {
            f->next++;
            continue;
        }
        break;
    }
    return NULL;
}

static void
record(fake_http *f, const cinder_http_request *req, size_t batch,
       size_t batch_size)
{
    fake_http_record *grown, *r;
    snap_error err = {0};
    size_t i, cap = 0;
    char *grown_body;
    ssize_t n;

    grown = realloc(f->recs, (f->nrecs + 1) * sizeof(*grown));
    assert_non_null(grown);
    f->recs = grown;
    r = &f->recs[f->nrecs++];
    memset(r, 0, sizeof(*r));
    r->method = xstrdup(cinder_http_method_name(req->method));
    r->url = xstrdup(req->url);
    r->batch = batch;
    r->batch_size = batch_size;
    r->timeout_ms = req->timeout_ms;
    r->headers = xcalloc(req->nheaders, sizeof(*r->headers));
    for (i = 0; i < req->nheaders; i++)
        r->headers[i] = xstrdup(req->headers[i]);
    r->nheaders = req->nheaders;
    if (req->upload) {
        /* Drain a streaming body the way curl would. */
        r->body = xcalloc(1, 1);
        for (;;) {
            if (r->body_len + 4096 + 1 > cap) {
                cap = cap ? cap * 2 : 8192;
                grown_body = realloc(r->body, cap);
                assert_non_null(grown_body);
                r->body = grown_body;
            }
            n = req->upload(req->upload_ctx, r->body + r->body_len, 4096, &err);
            if (n <= 0)
                break;
            r->body_len += (size_t)n;
        }
        r->body[r->body_len] = '\0';
    } else {
        r->body = xcalloc(req->body_len + 1, 1);
        if (req->body_len)
            memcpy(r->body, req->body, req->body_len);
        r->body_len = req->body_len;
    }
}

static bool
answer(fake_http *f, const cinder_http_request *req, cinder_http_response *resp,
       snap_error *err)
{
    const char *method = cinder_http_method_name(req->method);
    expectation *e;
    size_t i;

    e = find(f, method, req->url);
    if (!e) {
        f->unexpected++;
        fprintf(stderr, "fake_http: unexpected %s %s (next expected: %s %s)\n",
                method, req->url,
                f->next < f->nexps ? f->exps[f->next].method : "nothing",
                f->next < f->nexps ? f->exps[f->next].url_part : "");
        resp->body = xstrdup("");
        return snap_error_set(err, SNAP_E_HTTP, "fake_http: unexpected %s",
                              method);
    }
    if (e->fail_code != SNAP_OK) {
        resp->body = xstrdup("");
        return snap_error_set(err, e->fail_code, "%s", e->fail_msg);
    }
    resp->status = e->status;
    for (i = 0; i < e->nheaders; i++)
        assert_true(cinder_http_response_add_header(resp, e->headers[i].name,
                                                    e->headers[i].value, NULL));
    if (req->download && e->status >= 200 && e->status < 300) {
        resp->body = xstrdup("");
        if (!req->download(req->download_ctx, e->body, strlen(e->body), err))
            return false;
        return true;
    }
    resp->body = xstrdup(e->body);
    resp->body_len = strlen(e->body);
    return true;
}

static bool
fake_perform(void *impl, const cinder_http_request *req,
             cinder_http_response *resp, snap_error *err)
{
    fake_http *f = impl;

    f->batches++;
    record(f, req, f->batches, 1);
    return answer(f, req, resp, err);
}

static bool
fake_perform_many(void *impl, const cinder_http_request *reqs,
                  cinder_http_response *resps, snap_error *errs, bool *oks,
                  size_t n, snap_error *err)
{
    fake_http *f = impl;
    size_t i;

    (void)err;
    f->batches++;
    for (i = 0; i < n; i++) {
        record(f, &reqs[i], f->batches, n);
        oks[i] = answer(f, &reqs[i], &resps[i], &errs[i]);
    }
    return true;
}

static const cinder_http_ops fake_ops = {
    .perform = fake_perform,
    .perform_many = fake_perform_many,
    .free = fake_free,
};

cinder_http *
fake_http_new(void)
{
    fake_http *f = xcalloc(1, sizeof(*f));
    cinder_http *h;

    h = cinder_http_new(&fake_ops, f, NULL);
    assert_non_null(h);
    return h;
}

size_t
fake_http_count(cinder_http *h)
{
    return impl_of(h)->nrecs;
}

const fake_http_record *
fake_http_request(cinder_http *h, size_t i)
{
    fake_http *f = impl_of(h);

    assert_true(i < f->nrecs);
    return &f->recs[i];
}

const char *
fake_http_record_header(const fake_http_record *r, const char *name)
{
    size_t i, len = strlen(name);
    const char *v;

    for (i = 0; i < r->nheaders; i++) {
        if (strncasecmp(r->headers[i], name, len) == 0 &&
            r->headers[i][len] == ':') {
            v = r->headers[i] + len + 1;
            while (*v == ' ')
                v++;
            return v;
        }
    }
    return NULL;
}

size_t
fake_http_count_matching(cinder_http *h, const char *method,
                         const char *url_part)
{
    fake_http *f = impl_of(h);
    size_t i, count = 0;

    for (i = 0; i < f->nrecs; i++) {
        if (strcmp(f->recs[i].method, method) == 0 &&
            strstr(f->recs[i].url, url_part))
            count++;
    }
    return count;
}

void
fake_http_verify(cinder_http *h)
{
    fake_http *f = impl_of(h);
    size_t i;

    assert_int_equal(f->unexpected, 0);
    for (i = 0; i < f->nexps; i++) {
        if (f->exps[i].used == 0)
            fail_msg("fake_http: expected %s %s was never requested",
                     f->exps[i].method, f->exps[i].url_part);
    }
}

cinder_client *
fake_http_cinder(cinder_http *h, const char *versions_file,
                 const cinder_client_opts *co, cinder_session **session)
{
    cinder_auth_opts o;
    snap_error err = {0};
    cinder_client *c;

    memset(&o, 0, sizeof(o));
    o.auth_url = "http://keystone.test:5000/v3";
    o.username = "demo";
    o.password = "demopass";
    o.project_name = "demo";
    fake_http_expect_token(h, "keystone_token_password.json", "tok");
    fake_http_expect(h, "GET", "http://cinder.test:8776/v3/", 200,
                     versions_file);
    *session = cinder_session_new_with_http(h, &o, &err);
    if (!*session)
        fail_msg("cinder_session_new_with_http: %s", err.msg);
    c = cinder_client_new(*session, co, &err);
    if (!c)
        fail_msg("cinder_client_new: %s", err.msg);
    return c;
}
