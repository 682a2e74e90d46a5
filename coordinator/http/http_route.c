/* coordinator/http/http_route.c -- see http_route.h. */
#include "coordinator/http/http_route.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "coordinator/http/http_auth.h"
#include "coordinator/http/http_authz.h"
#include "coordinator/http/http_events.h"
#include "coordinator/http/http_jobs.h"
#include "coordinator/http/http_metrics.h"
#include "coordinator/http/http_respond.h"
#include "coordinator/http/http_sets.h"

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

http_route
http_route_match(const char *url, char *arg, size_t argsize, char *arg2,
                 size_t arg2size)
{
    const char *seg[5];
    size_t len[5], n = split_path(url, seg, len, 5);

    arg[0] = '\0';
    arg2[0] = '\0';
    if (n == 1 && seg_is(seg[0], len[0], "healthz"))
        return HTTP_ROUTE_HEALTHZ;
    if (n == 1 && seg_is(seg[0], len[0], "metrics"))
        return HTTP_ROUTE_METRICS;
    if (n < 2 || !seg_is(seg[0], len[0], "v1"))
        return HTTP_ROUTE_NONE;
    if (seg_is(seg[1], len[1], "sets")) {
        if (n == 2)
            return HTTP_ROUTE_SETS;
        if (len[2] >= argsize)
            return HTTP_ROUTE_NONE;
        memcpy(arg, seg[2], len[2]);
        arg[len[2]] = '\0';
        if (n == 3)
            return HTTP_ROUTE_SET;
        if (n == 4 && seg_is(seg[3], len[3], "export"))
            return HTTP_ROUTE_SET_EXPORT;
        if (n == 4 && seg_is(seg[3], len[3], "restore"))
            return HTTP_ROUTE_SET_RESTORE;
        if (n == 4 && seg_is(seg[3], len[3], "spawn"))
            return HTTP_ROUTE_SET_SPAWN;
        if (n == 4 && seg_is(seg[3], len[3], "volumes"))
            return HTTP_ROUTE_SET_VOLUMES;
        if (n == 4 && seg_is(seg[3], len[3], "template"))
            return HTTP_ROUTE_SET_TEMPLATE;
        return HTTP_ROUTE_NONE;
    }
    if (n == 2 && seg_is(seg[1], len[1], "events"))
        return HTTP_ROUTE_EVENTS; /* GET, HEAD: route_methods' default */
    if (seg_is(seg[1], len[1], "templates")) {
        if (n == 2)
            return HTTP_ROUTE_TEMPLATES;
        if (n > 4 || len[2] >= argsize)
            return HTTP_ROUTE_NONE;
        memcpy(arg, seg[2], len[2]);
        arg[len[2]] = '\0';
        if (n == 3)
            return HTTP_ROUTE_TEMPLATE;
        if (seg_is(seg[3], len[3], "spawn"))
            return HTTP_ROUTE_TEMPLATE_SPAWN;
        arg[0] = '\0';
        return HTTP_ROUTE_NONE;
    }
    if (seg_is(seg[1], len[1], "jobs")) {
        if (n == 2)
            return HTTP_ROUTE_JOBS;
        if (n > 3 || len[2] >= argsize)
            return HTTP_ROUTE_NONE;
        memcpy(arg, seg[2], len[2]);
        arg[len[2]] = '\0';
        return HTTP_ROUTE_JOB;
    }
    if (seg_is(seg[1], len[1], "servers") && (n == 4 || n == 5)) {
        if (len[2] >= argsize)
            return HTTP_ROUTE_NONE;
        memcpy(arg, seg[2], len[2]);
        arg[len[2]] = '\0';
        if (n == 4 && seg_is(seg[3], len[3], "action"))
            return HTTP_ROUTE_ACTION;
        if (n == 4 && seg_is(seg[3], len[3], "sets"))
            return HTTP_ROUTE_SERVER_SETS;
        if (n == 4 && seg_is(seg[3], len[3], "states"))
            return HTTP_ROUTE_STATES;
        if (n == 5 && seg_is(seg[3], len[3], "states")) {
            if (seg_is(seg[4], len[4], "apply"))
                return HTTP_ROUTE_STATE_APPLY;
            if (len[4] < arg2size) {
                memcpy(arg2, seg[4], len[4]);
                arg2[len[4]] = '\0';
                return HTTP_ROUTE_STATE;
            }
        }
        arg[0] = '\0';
    }
    return HTTP_ROUTE_NONE;
}

static const char *
route_methods(http_route r)
{
    switch (r) {
    case HTTP_ROUTE_SET:
    case HTTP_ROUTE_STATE:
    case HTTP_ROUTE_TEMPLATE:
        return "GET, HEAD, DELETE";
    case HTTP_ROUTE_STATES:
        return "GET, HEAD, POST";
    case HTTP_ROUTE_STATE_APPLY:
    case HTTP_ROUTE_SET_EXPORT:
    case HTTP_ROUTE_SET_RESTORE:
    case HTTP_ROUTE_SET_SPAWN:
    case HTTP_ROUTE_SET_VOLUMES:
    case HTTP_ROUTE_SET_TEMPLATE:
    case HTTP_ROUTE_TEMPLATE_SPAWN:
    case HTTP_ROUTE_ACTION:
        return "POST";
    default:
        return "GET, HEAD";
    }
}

static bool
method_allowed(http_route r, const char *method)
{
    bool get = strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0;

    switch (r) {
    case HTTP_ROUTE_SET:
    case HTTP_ROUTE_STATE:
    case HTTP_ROUTE_TEMPLATE:
        return get || strcmp(method, "DELETE") == 0;
    case HTTP_ROUTE_STATES:
        return get || strcmp(method, "POST") == 0;
    case HTTP_ROUTE_STATE_APPLY:
    case HTTP_ROUTE_SET_EXPORT:
    case HTTP_ROUTE_SET_RESTORE:
    case HTTP_ROUTE_SET_SPAWN:
    case HTTP_ROUTE_SET_VOLUMES:
    case HTTP_ROUTE_SET_TEMPLATE:
    case HTTP_ROUTE_TEMPLATE_SPAWN:
    case HTTP_ROUTE_ACTION:
        return strcmp(method, "POST") == 0;
    default:
        return get;
    }
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
    return http_respond_json(api, conn, 200, json_pack("{s:s}", "status", "ok"),
                             NULL);
}

static enum MHD_Result
handle_metrics(http_api *api, struct MHD_Connection *conn)
{
    char *text = NULL;
    size_t len = 0;

    if (!http_metrics_text(api->metrics, api->backend, api->backend_impl, &text,
                           &len))
        return http_respond_error(api, conn, 500, NULL, "out of memory");
    return http_respond(api, conn, 200,
                        "text/plain; version=0.0.4; charset=utf-8", text, len,
                        NULL);
}

/* ---- early refusal and dispatch ------------------------------------------ */

/* Checks the request's token: 0 with @id filled when it may go on (to
 * authorization), else the status to answer with @why. */
static unsigned
authenticate(http_api *api, struct MHD_Connection *conn, http_identity *id,
             char *why, size_t size)
{
    const char *token =
        MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "X-Auth-Token");

    return http_auth_check(api->auth, token, id, why, size);
}

enum MHD_Result
http_route_refuse_early(http_api *api, struct MHD_Connection *conn,
                        const char *method, http_request *rq, bool *answered)
{
    http_resp_headers h = {NULL, NULL, false};
    const char *cl;
    char why[300];
    unsigned status;

    *answered = true;
    if (rq->route == HTTP_ROUTE_HEALTHZ && method_allowed(rq->route, method)) {
        *answered = false; /* no token needed */
        return MHD_YES;
    }
    status = authenticate(api, conn, &rq->id, why, sizeof(why));
    if (!status)
        status = http_authz_status(http_authz_decide(
            &rq->id,
            rq->route == HTTP_ROUTE_METRICS ? HTTP_AUTHZ_HOST : HTTP_AUTHZ_ANY,
            NULL, &api->authz, why, sizeof(why)));
    if (status) {
        h.www_authenticate = status == 401;
        return http_respond_error(api, conn, status, &h, "%s", why);
    }
    if (rq->route == HTTP_ROUTE_NONE)
        return http_respond_error(api, conn, 404, NULL, "no such resource");
    if (!method_allowed(rq->route, method)) {
        h.allow = route_methods(rq->route);
        return http_respond_error(api, conn, 405, &h,
                                  "method %.16s not allowed here (use %s)",
                                  method, h.allow);
    }
    cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
                                     MHD_HTTP_HEADER_CONTENT_LENGTH);
    if (cl && strtoull(cl, NULL, 10) > api->max_body)
        return http_respond_error(api, conn, 413, NULL,
                                  "the body is larger than %zu bytes",
                                  api->max_body);
    if ((rq->route == HTTP_ROUTE_ACTION ||
         rq->route == HTTP_ROUTE_STATE_APPLY ||
         rq->route == HTTP_ROUTE_SET_SPAWN ||
         rq->route == HTTP_ROUTE_SET_VOLUMES ||
         rq->route == HTTP_ROUTE_TEMPLATE_SPAWN ||
         (rq->route == HTTP_ROUTE_STATES && strcmp(method, "POST") == 0) ||
         ((rq->route == HTTP_ROUTE_SET_EXPORT ||
           rq->route == HTTP_ROUTE_SET_TEMPLATE ||
           rq->route == HTTP_ROUTE_SET_RESTORE) &&
          cl && strtoull(cl, NULL, 10) > 0)) &&
        !json_content_type(conn))
        return http_respond_error(api, conn, 415, NULL,
                                  "the body must be application/json");
    *answered = false;
    return MHD_YES;
}

enum MHD_Result
http_route_answer(http_api *api, struct MHD_Connection *conn,
                  const char *method, http_request *rq)
{
    if (rq->too_large)
        return http_respond_error(api, conn, 413, NULL,
                                  "the body is larger than %zu bytes",
                                  api->max_body);
    switch (rq->route) {
    case HTTP_ROUTE_HEALTHZ:
        return handle_healthz(api, conn);
    case HTTP_ROUTE_METRICS:
        return handle_metrics(api, conn);
    case HTTP_ROUTE_SETS:
        return http_sets_list(api, conn, rq);
    case HTTP_ROUTE_SET:
        if (strcmp(method, "DELETE") == 0)
            return http_sets_delete(api, conn, rq);
        return http_sets_get(api, conn, rq);
    case HTTP_ROUTE_SET_EXPORT:
        return http_sets_export(api, conn, rq);
    case HTTP_ROUTE_SET_RESTORE:
        return http_sets_restore(api, conn, rq);
    case HTTP_ROUTE_SET_SPAWN:
        return http_sets_spawn(api, conn, rq);
    case HTTP_ROUTE_SET_VOLUMES:
        return http_sets_volume(api, conn, rq);
    case HTTP_ROUTE_SET_TEMPLATE:
        return http_sets_template_create(api, conn, rq);
    case HTTP_ROUTE_TEMPLATES:
        return http_sets_templates(api, conn, rq);
    case HTTP_ROUTE_TEMPLATE:
        if (strcmp(method, "DELETE") == 0)
            return http_sets_template_delete(api, conn, rq);
        return http_sets_template_get(api, conn, rq);
    case HTTP_ROUTE_TEMPLATE_SPAWN:
        return http_sets_spawn(api, conn, rq);
    case HTTP_ROUTE_ACTION:
        return http_sets_create(api, conn, rq);
    case HTTP_ROUTE_SERVER_SETS:
        return http_sets_server_list(api, conn, rq);
    case HTTP_ROUTE_STATES:
        if (strcmp(method, "POST") == 0)
            return http_sets_state_save(api, conn, rq);
        return http_sets_states(api, conn, rq);
    case HTTP_ROUTE_STATE:
        if (strcmp(method, "DELETE") == 0)
            return http_sets_state_delete(api, conn, rq);
        return http_sets_state_get(api, conn, rq);
    case HTTP_ROUTE_STATE_APPLY:
        return http_sets_state_apply(api, conn, rq);
    case HTTP_ROUTE_JOBS:
        return http_jobs_list(api, conn, rq);
    case HTTP_ROUTE_JOB:
        return http_jobs_get(api, conn, rq);
    case HTTP_ROUTE_EVENTS:
        return http_events_list(api, conn, rq);
    default:
        return http_respond_error(api, conn, 404, NULL, "no such resource");
    }
}
