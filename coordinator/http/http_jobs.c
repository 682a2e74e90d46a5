/* coordinator/http/http_jobs.c -- see http_jobs.h. */
#include "coordinator/http/http_jobs.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "coordinator/http/http_authz.h"
#include "coordinator/http/http_respond.h"

/* 0 when the caller of @rq may see @r, else 403 (or 401) with @why. */
static unsigned
authorize_job(const http_api *api, const http_request *rq,
              const coord_jobrec *r, char *why, size_t size)
{
    http_owner o = {r->owner_project, r->owner_project_name,
                    r->owner_project_domain};
    unsigned status = http_authz_status(http_authz_decide(
        &rq->id, HTTP_AUTHZ_OWNED, &o, &api->authz, why, size));

    if (status == 403)
        snprintf(why, size, "job %s belongs to another project", r->id);
    return status;
}

typedef struct job_query {
    char bad[64];
} job_query;

static enum MHD_Result
job_query_key(void *cls, enum MHD_ValueKind kind, const char *key,
              const char *value)
{
    job_query *q = cls;

    (void)kind;
    (void)value;
    if (strcmp(key, "state") != 0 && strcmp(key, "domain") != 0 &&
        strcmp(key, "kind") != 0) {
        snprintf(q->bad, sizeof(q->bad), "%s", key);
        return MHD_NO;
    }
    return MHD_YES;
}

enum MHD_Result
http_jobs_list(http_api *api, struct MHD_Connection *conn,
               const http_request *rq)
{
    const char *state_s =
        MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "state");
    const char *domain =
        MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "domain");
    const char *kind =
        MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "kind");
    bool all = http_authz_decide(&rq->id, HTTP_AUTHZ_HOST, NULL, &api->authz,
                                 NULL, 0) == HTTP_AUTHZ_ALLOW_ROLE;
    job_query q = {""};
    coord_jobrec **v = NULL;
    size_t n = 0, i;
    snap_error err = {0};
    char why[256];
    json_t *arr;
    int state = -1;

    if (!api->backend->job_list)
        return http_respond_error(api, conn, 501, NULL,
                                  "this server keeps no jobs");
    (void)MHD_get_connection_values(conn, MHD_GET_ARGUMENT_KIND, job_query_key,
                                    &q);
    if (q.bad[0])
        return http_respond_error(api, conn, 400, NULL,
                                  "unknown query parameter '%s': use state, "
                                  "domain or kind",
                                  q.bad);
    if (state_s && (state = coord_jobrec_state_parse(state_s)) < 0)
        return http_respond_error(api, conn, 400, NULL,
                                  "bad state '%.64s': use queued, running, "
                                  "succeeded or failed",
                                  state_s);
    if (!api->backend->job_list(api->backend_impl, &v, &n, &err))
        return http_respond_snap_error(api, conn, &err);
    arr = json_array();
    for (i = 0; arr && i < n; i++) {
        const coord_jobrec *r = v[i];

        if (state >= 0 && (int)r->state != state)
            continue;
        if (kind && strcmp(kind, r->kind) != 0)
            continue;
        if (domain &&
            (!r->domain_name || strcmp(domain, r->domain_name) != 0) &&
            strcasecmp(domain, r->domain_uuid) != 0)
            continue;
        if (!all && authorize_job(api, rq, r, why, sizeof(why)))
            continue;
        if (json_array_append_new(arr, coord_jobrec_to_json(r)) < 0) {
            json_decref(arr);
            arr = NULL;
        }
    }
    coord_jobrec_list_free(v, n);
    if (!arr)
        return http_respond_error(api, conn, 500, NULL, "out of memory");
    return http_respond_json(api, conn, 200, json_pack("{s:o}", "jobs", arr),
                             NULL);
}

enum MHD_Result
http_jobs_get(http_api *api, struct MHD_Connection *conn,
              const http_request *rq)
{
    coord_jobrec *r;
    snap_error err = {0};
    char why[256];
    unsigned status;
    json_t *doc;

    if (!api->backend->job_get)
        return http_respond_error(api, conn, 501, NULL,
                                  "this server keeps no jobs");
    if (!snap_uuid_valid(rq->arg))
        return http_respond_error(api, conn, 400, NULL,
                                  "bad job id: use its UUID");
    r = api->backend->job_get(api->backend_impl, rq->arg, &err);
    if (!r)
        return http_respond_snap_error(api, conn, &err);
    status = authorize_job(api, rq, r, why, sizeof(why));
    if (status) {
        coord_jobrec_free(r);
        return http_respond_error(api, conn, status, NULL, "%s", why);
    }
    doc = json_pack("{s:o}", "job", coord_jobrec_to_json(r));
    coord_jobrec_free(r);
    return http_respond_json(api, conn, 200, doc, NULL);
}
