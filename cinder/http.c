/* cinder/http.c -- the transport handle and response helpers; see
 * cinder_http.h. */
#include "cinder/cinder_http.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct cinder_http {
    const cinder_http_ops *ops;
    void *impl;
};

cinder_http *
cinder_http_new(const cinder_http_ops *ops, void *impl, snap_error *err)
{
    cinder_http *http = NULL;

    http = calloc(1, sizeof(*http));
    if (!http) {
        if (ops && ops->free)
            ops->free(impl);
        snap_error_set(err, SNAP_E_NOMEM, "cannot allocate HTTP transport");
        return NULL;
    }
    http->ops = ops;
    http->impl = impl;
    return http;
}

void
cinder_http_free(cinder_http *http)
{
    if (!http)
        return;
    if (http->ops && http->ops->free)
        http->ops->free(http->impl);
    free(http);
}

void *
cinder_http_impl(cinder_http *http)
{
    return http ? http->impl : NULL;
}

bool
cinder_http_perform(cinder_http *http, const cinder_http_request *req,
                    cinder_http_response *resp, snap_error *err)
{
    if (!http || !req || !resp || !req->url)
        return snap_error_set(err, SNAP_E_INVALID, "invalid HTTP request");
    return http->ops->perform(http->impl, req, resp, err);
}

bool
cinder_http_perform_many(cinder_http *http, const cinder_http_request *reqs,
                         cinder_http_response *resps, snap_error *errs,
                         bool *oks, size_t n, snap_error *err)
{
    size_t i;

    if (!http || (n > 0 && (!reqs || !resps || !errs || !oks)))
        return snap_error_set(err, SNAP_E_INVALID, "invalid HTTP request");
    if (n == 0)
        return true;
    for (i = 0; i < n; i++) {
        if (!reqs[i].url)
            return snap_error_set(err, SNAP_E_INVALID, "invalid HTTP request");
    }
    return http->ops->perform_many(http->impl, reqs, resps, errs, oks, n, err);
}

void
cinder_http_response_init(cinder_http_response *resp)
{
    memset(resp, 0, sizeof(*resp));
}

void
cinder_http_response_release(cinder_http_response *resp)
{
    size_t i;

    if (!resp)
        return;
    for (i = 0; i < resp->nheaders; i++) {
        free(resp->headers[i].name);
        free(resp->headers[i].value);
    }
    free(resp->headers);
    free(resp->body);
    cinder_http_response_init(resp);
}

const char *
cinder_http_response_header(const cinder_http_response *resp, const char *name)
{
    size_t i;

    if (!resp || !name)
        return NULL;
    for (i = 0; i < resp->nheaders; i++) {
        if (strcasecmp(resp->headers[i].name, name) == 0)
            return resp->headers[i].value;
    }
    return NULL;
}

bool
cinder_http_response_add_header(cinder_http_response *resp, const char *name,
                                const char *value, snap_error *err)
{
    cinder_http_header *grown = NULL;
    char *n = NULL, *v = NULL;

    grown = realloc(resp->headers, (resp->nheaders + 1) * sizeof(*grown));
    if (!grown)
        return snap_error_set(err, SNAP_E_NOMEM, "cannot store HTTP header");
    resp->headers = grown;
    n = strdup(name);
    v = strdup(value);
    if (!n || !v) {
        free(n);
        free(v);
        return snap_error_set(err, SNAP_E_NOMEM, "cannot store HTTP header");
    }
    resp->headers[resp->nheaders].name = n;
    resp->headers[resp->nheaders].value = v;
    resp->nheaders++;
    return true;
}

const char *
cinder_http_method_name(cinder_http_method method)
{
    static const char *const names[CINDER_HTTP_LAST] = {
        [CINDER_HTTP_GET] = "GET",     [CINDER_HTTP_HEAD] = "HEAD",
        [CINDER_HTTP_POST] = "POST",   [CINDER_HTTP_PUT] = "PUT",
        [CINDER_HTTP_PATCH] = "PATCH", [CINDER_HTTP_DELETE] = "DELETE",
    };

    if ((int)method < 0 || method >= CINDER_HTTP_LAST)
        return "GET";
    return names[method];
}
