/* coordinator/http/http_events.c -- see http_events.h. */
#include "coordinator/http/http_events.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "common/snap_time.h"
#include "coordinator/http/http_authz.h"
#include "coordinator/http/http_respond.h"

bool
http_events_query(const char *since, const char *domain, const char *kind,
                  const char *limit, int64_t now_ms, coord_events_filter *f,
                  char *why, size_t size)
{
    size_t n = 0, i;

    coord_events_filter_init(f);
    if (since && !coord_events_time_parse(since, now_ms, &f->since_ms)) {
        snprintf(why, size,
                 "bad since '%.64s': use an RFC 3339 time, milliseconds "
                 "since the epoch or an age (90s, 15m, 2h, 7d)",
                 since);
        return false;
    }
    if (kind && !coord_events_kind_valid(kind)) {
        snprintf(why, size,
                 "bad kind '%.64s': use set, copy, cinder-snapshot, volume, "
                 "domain, template, image, checkpoint, job or state",
                 kind);
        return false;
    }
    if (domain && (!domain[0] || strlen(domain) > HTTP_DOMAIN_ID_MAX)) {
        snprintf(why, size, "bad domain: use its name or UUID");
        return false;
    }
    if (limit) {
        for (i = 0; limit[i] >= '0' && limit[i] <= '9' && i < 6; i++)
            n = n * 10 + (size_t)(limit[i] - '0');
        if (i == 0 || limit[i] || n < 1 || n > COORD_EVENTS_LIMIT_MAX) {
            snprintf(why, size, "bad limit '%.64s': use 1 to %d", limit,
                     COORD_EVENTS_LIMIT_MAX);
            return false;
        }
        f->limit = n;
    }
    f->domain = domain;
    f->kind = kind;
    return true;
}

typedef struct event_query {
    char bad[64];
} event_query;

static enum MHD_Result
event_query_key(void *cls, enum MHD_ValueKind kind, const char *key,
                const char *value)
{
    event_query *q = cls;

    (void)kind;
    (void)value;
    if (strcmp(key, "since") != 0 && strcmp(key, "domain") != 0 &&
        strcmp(key, "kind") != 0 && strcmp(key, "limit") != 0) {
        snprintf(q->bad, sizeof(q->bad), "%s", key);
        return MHD_NO;
    }
    return MHD_YES;
}

typedef struct event_viewer {
    const http_api *api;
    const http_request *rq;
} event_viewer;

/* Whether the caller may see @e: its project owned what the event acted on
 * (the owner recorded in it), as a job's owner may see the job. */
static bool
may_see(void *cls, const json_t *e)
{
    const event_viewer *v = cls;
    http_owner o = {
        (char *)json_string_value(json_object_get(e, "owner_project")),
        (char *)json_string_value(json_object_get(e, "owner_project_name")),
        (char *)json_string_value(json_object_get(e, "owner_project_domain")),
    };

    return http_authz_allowed(http_authz_decide(&v->rq->id, HTTP_AUTHZ_OWNED,
                                                &o, &v->api->authz, NULL, 0));
}

enum MHD_Result
http_events_list(http_api *api, struct MHD_Connection *conn,
                 const http_request *rq)
{
    bool all = http_authz_decide(&rq->id, HTTP_AUTHZ_HOST, NULL, &api->authz,
                                 NULL, 0) == HTTP_AUTHZ_ALLOW_ROLE;
    event_viewer viewer = {api, rq};
    event_query q = {""};
    coord_events_filter f;
    coord_events_page page = {0};
    snap_error err = {0};
    char why[256];
    size_t i;
    json_t *doc;

    if (!api->backend->events_read)
        return http_respond_error(api, conn, 501, NULL,
                                  "this server keeps no audit log");
    (void)MHD_get_connection_values(conn, MHD_GET_ARGUMENT_KIND,
                                    event_query_key, &q);
    if (q.bad[0])
        return http_respond_error(api, conn, 400, NULL,
                                  "unknown query parameter '%s': use since, "
                                  "domain, kind or limit",
                                  q.bad);
    if (!http_events_query(
            MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "since"),
            MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "domain"),
            MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "kind"),
            MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "limit"),
            snap_wall_ms(), &f, why, sizeof(why)))
        return http_respond_error(api, conn, 400, NULL, "%s", why);
    if (!all) {
        f.accept = may_see;
        f.accept_cls = &viewer;
    }
    if (!api->backend->events_read(api->backend_impl, &f, &page, &err))
        return http_respond_snap_error(api, conn, &err);
    /* The owner decides who sees an event; it is not part of the view. */
    for (i = 0; i < json_array_size(page.events); i++) {
        json_t *e = json_array_get(page.events, i);

        (void)json_object_del(e, "owner_project"); /* absent is fine */
        (void)json_object_del(e, "owner_project_name");
        (void)json_object_del(e, "owner_project_domain");
    }
    doc = json_pack("{s:O, s:b}", "events", page.events, "more", page.more);
    coord_events_page_release(&page);
    return http_respond_json(api, conn, 200, doc, NULL);
}
