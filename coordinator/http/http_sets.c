/* coordinator/http/http_sets.c -- see http_sets.h. */
#include "coordinator/http/http_sets.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "common/snap_log.h"
#include "common/snap_time.h"
#include "coordinator/coord_catalog.h"
#include "coordinator/http/http_authz.h"
#include "coordinator/http/http_body.h"
#include "coordinator/http/http_respond.h"

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
        if (!meta || json_object_set_new(o, "metadata", meta) ||
            json_object_set_new(o, "memory", json_boolean(s->memory))) {
            json_decref(o);
            o = NULL;
        }
    }
    return o;
}

/* ---- authorization ------------------------------------------------------- */

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
    const char *p = coord_set_metadata(s, HTTP_OWNER_KEY_PROJECT);
    const char *n = coord_set_metadata(s, HTTP_OWNER_KEY_NAME);
    const char *d = coord_set_metadata(s, HTTP_OWNER_KEY_DOMAIN);
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
    return snap_error_set_http(err, 503,
                               "cannot read the owner of the "
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
        return http_status_of(&e);
    }
    status = authorize(api, id, HTTP_AUTHZ_OWNED, &o, why, size);
    http_owner_release(&o);
    if (status == 403)
        snprintf(why, size, "set %s belongs to another project", s->uuid);
    return status;
}

/* ---- handlers ------------------------------------------------------------ */

/* The audit event of an API call that started job @job_id: who (the
 * token's user and project), what (the job's kind), on which domain, and
 * the owner the job records (so that project sees it too). */
static void
audit_job(http_api *api, const http_request *rq, const char *job_id)
{
    coord_jobrec *r;
    coord_event ev;
    snap_error err = {0};
    char actor[160];

    if (!api->backend->audit || !api->backend->job_get || !job_id[0])
        return;
    r = api->backend->job_get(api->backend_impl, job_id, &err);
    memset(&ev, 0, sizeof(ev));
    ev.actor = coord_events_actor_token(rq->id.user, rq->id.project, actor,
                                        sizeof(actor));
    ev.action = r ? r->kind : "api";
    ev.kind = "job";
    ev.id = job_id;
    ev.job = job_id;
    if (r) {
        ev.domain = r->domain_name;
        ev.domain_uuid = r->domain_uuid[0] ? r->domain_uuid : NULL;
        ev.owner_project = r->owner_project;
        ev.owner_project_name = r->owner_project_name;
        ev.owner_project_domain = r->owner_project_domain;
    }
    api->backend->audit(api->backend_impl, &ev);
    coord_jobrec_free(r);
}

/* Adds the job that carries out an accepted request to its answer:
 * "job_id" and "job" (its URL), and records the call in the audit log.
 * @o may be NULL (out of memory). */
static json_t *
with_job(http_api *api, const http_request *rq, json_t *o, const char *job_id)
{
    char url[64];

    audit_job(api, rq, job_id);
    if (!o || !job_id[0])
        return o;
    snprintf(url, sizeof(url), "/v1/jobs/%s", job_id);
    if (json_object_set_new(o, "job_id", json_string(job_id)) ||
        json_object_set_new(o, "job", json_string(url))) {
        json_decref(o);
        return NULL;
    }
    return o;
}

typedef struct query_check {
    bool no_domain; /* the path names the domain */
    char bad[64];
} query_check;

static enum MHD_Result
query_key(void *cls, enum MHD_ValueKind kind, const char *key,
          const char *value)
{
    query_check *q = cls;

    (void)kind;
    (void)value;
    if ((q->no_domain || strcmp(key, "domain") != 0) &&
        strcmp(key, "backup_type") != 0 && strcmp(key, "state") != 0) {
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
list_may_see(http_api *api, const http_request *rq, const coord_set *s,
             owner_memo *memo, size_t *nmemo, size_t max)
{
    char why[256];
    size_t i;
    unsigned status;
    bool recorded = coord_set_metadata(s, HTTP_OWNER_KEY_PROJECT) ||
                    coord_set_metadata(s, HTTP_OWNER_KEY_NAME);

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

/* The sets the caller of @rq may see, filtered by the query (backup_type,
 * state and, unless @domain_uuid is given, domain) and by @domain_uuid. */
static enum MHD_Result
list_answer(http_api *api, struct MHD_Connection *conn, const http_request *rq,
            const char *domain_uuid, bool memory_only)
{
    owner_memo memo[64];
    size_t nmemo = 0;
    bool all = http_authz_decide(&rq->id, HTTP_AUTHZ_HOST, NULL, &api->authz,
                                 NULL, 0) == HTTP_AUTHZ_ALLOW_ROLE;
    const char *domain =
        domain_uuid ? NULL
                    : MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND,
                                                  "domain");
    const char *btype =
        MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "backup_type");
    const char *state_s =
        MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "state");
    query_check q = {domain_uuid != NULL, ""};
    coord_set **sets = NULL;
    size_t nsets = 0, i;
    snap_error err = {0};
    json_t *arr;
    int state = -1;

    (void)MHD_get_connection_values(conn, MHD_GET_ARGUMENT_KIND, query_key, &q);
    if (q.bad[0])
        return http_respond_error(api, conn, 400, NULL,
                                  "unknown query parameter '%s': use %s", q.bad,
                                  domain_uuid ? "backup_type or state"
                                              : "domain, backup_type or state");
    if (state_s) {
        state = coord_set_state_parse(state_s);
        if (state < 0)
            return http_respond_error(api, conn, 400, NULL,
                                      "bad state '%.64s': use creating, "
                                      "available, error or deleting",
                                      state_s);
    }
    if (!api->backend->list(api->backend_impl, &sets, &nsets, &err))
        return http_respond_snap_error(api, conn, &err);
    arr = json_array();
    for (i = 0; arr && i < nsets; i++) {
        const coord_set *s = sets[i];

        if (domain_uuid && strcasecmp(domain_uuid, s->domain_uuid) != 0)
            continue;
        if (domain &&
            (!s->domain_name || strcmp(domain, s->domain_name) != 0) &&
            strcasecmp(domain, s->domain_uuid) != 0)
            continue;
        if (btype && (!s->backup_type || strcmp(btype, s->backup_type) != 0))
            continue;
        if (state >= 0 && (int)s->state != state)
            continue;
        if (memory_only && !s->memory)
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
        return http_respond_error(api, conn, 500, NULL, "out of memory");
    return http_respond_json(
        api, conn, 200,
        json_pack("{s:o}", memory_only ? "states" : "sets", arr), NULL);
}

enum MHD_Result
http_sets_list(http_api *api, struct MHD_Connection *conn,
               const http_request *rq)
{
    return list_answer(api, conn, rq, NULL, false);
}

/* The domain @id names, in @name and @uuid, if the caller of @rq may act
 * on it; else false with the answer queued in *@ret (400, 404, 403, 503). */
static bool
domain_authorized(http_api *api, struct MHD_Connection *conn,
                  const http_request *rq, const char *id, char **name,
                  char uuid[SNAP_UUID_LEN], http_owner *owner,
                  enum MHD_Result *ret)
{
    snap_error err = {0};
    char why[256];
    unsigned status;

    memset(owner, 0, sizeof(*owner));
    *name = NULL;
    if (!id[0] || strlen(id) > HTTP_DOMAIN_ID_MAX || !http_text_clean(id)) {
        *ret = http_respond_error(api, conn, 400, NULL, "bad domain name");
        return false;
    }
    if (!api->backend->domain_lookup(api->backend_impl, id, name, uuid, &err)) {
        *ret = http_respond_snap_error(api, conn, &err);
        return false;
    }
    if (api->backend->domain_owner &&
        !api->backend->domain_owner(api->backend_impl, uuid, owner, &err)) {
        http_owner_release(owner);
        if (err.code == SNAP_E_NOTFOUND) {
            *ret =
                http_respond_error(api, conn, 404, NULL, "no domain '%s'", id);
        } else {
            snap_warn("http: cannot read the owner of domain '%s': %s", *name,
                      err.msg);
            *ret = http_respond_error(api, conn, 503, NULL,
                                      "cannot read the owner of the domain");
        }
        goto refused;
    }
    status = authorize(api, &rq->id, HTTP_AUTHZ_OWNED, owner, why, sizeof(why));
    if (status) {
        *ret =
            http_respond_error(api, conn, status, NULL,
                               "domain '%s' belongs to another project", *name);
        http_owner_release(owner);
        goto refused;
    }
    return true;

refused:
    free(*name);
    *name = NULL;
    return false;
}

/* The sets (or, @memory_only, the RAM states) of domain @rq->arg, for a
 * caller who may act on it. */
static enum MHD_Result
domain_list(http_api *api, struct MHD_Connection *conn, const http_request *rq,
            bool memory_only)
{
    char *name = NULL, uuid[SNAP_UUID_LEN] = "";
    http_owner owner;
    enum MHD_Result ret;

    if (!domain_authorized(api, conn, rq, rq->arg, &name, uuid, &owner, &ret))
        return ret;
    http_owner_release(&owner);
    free(name);
    return list_answer(api, conn, rq, uuid, memory_only);
}

enum MHD_Result
http_sets_server_list(http_api *api, struct MHD_Connection *conn,
                      const http_request *rq)
{
    return domain_list(api, conn, rq, false);
}

/* Hands the restore of set @id (domain @domain_name) to the backend and
 * answers 202 with the job (Location: /v1/jobs/{id}); @key names the set
 * in the answer ("set_id", or "state_id" for a RAM state). */
static enum MHD_Result
accept_restore(http_api *api, struct MHD_Connection *conn,
               const http_request *rq, const char *id, const char *domain_name,
               const http_restore_req *req, const char *key)
{
    char job_id[SNAP_UUID_LEN] = "", uuid[SNAP_UUID_LEN], location[64];
    http_resp_headers h = {location, NULL, false};
    snap_error err = {0};

    if (!api->backend->restore(api->backend_impl, id, req, uuid, job_id, &err))
        return http_respond_snap_error(api, conn, &err);
    snprintf(location, sizeof(location), "/v1/jobs/%s", job_id);
    return http_respond_json(
        api, conn, 202,
        with_job(api, rq,
                 json_pack("{s:s,s:s,s:s}", key, uuid, "domain", domain_name,
                           "state", "restoring"),
                 job_id),
        job_id[0] ? &h : NULL);
}

static coord_set *get_authorized(http_api *api, struct MHD_Connection *conn,
                                 const http_request *rq, char *id,
                                 enum MHD_Result *ret);

/* ---- RAM states: the sets with RAM state of one domain --------------------
 * (the live-snapshot spec's saved-state API over `create --memory` sets) */

enum MHD_Result
http_sets_states(http_api *api, struct MHD_Connection *conn,
                 const http_request *rq)
{
    return domain_list(api, conn, rq, true);
}

/* The RAM state @state_id of domain @rq->arg, if the caller may act on
 * both; else NULL with the answer queued (400, 403, 404). *@name is the
 * domain's name (free()). */
static coord_set *
state_authorized(http_api *api, struct MHD_Connection *conn,
                 const http_request *rq, const char *state_id, char **name,
                 enum MHD_Result *ret)
{
    char uuid[SNAP_UUID_LEN] = "", id[SNAP_UUID_LEN + 1];
    http_owner owner;
    coord_set *set;

    if (!domain_authorized(api, conn, rq, rq->arg, name, uuid, &owner, ret))
        return NULL;
    http_owner_release(&owner);
    snprintf(id, sizeof(id), "%s", state_id);
    set = get_authorized(api, conn, rq, id, ret);
    if (set && (strcasecmp(set->domain_uuid, uuid) != 0 || !set->memory)) {
        *ret = http_respond_error(api, conn, 404, NULL,
                                  "domain '%s' has no RAM state %s", *name,
                                  set->uuid);
        coord_set_free(set);
        set = NULL;
    }
    if (!set) {
        free(*name);
        *name = NULL;
    }
    return set;
}

enum MHD_Result
http_sets_state_get(http_api *api, struct MHD_Connection *conn,
                    http_request *rq)
{
    char *name = NULL;
    enum MHD_Result ret = MHD_NO;
    coord_set *set = state_authorized(api, conn, rq, rq->arg2, &name, &ret);
    json_t *o;

    if (!set)
        return ret;
    o = set_json(set);
    coord_set_free(set);
    free(name);
    return http_respond_json(api, conn, 200,
                             o ? json_pack("{s:o}", "state", o) : NULL, NULL);
}

enum MHD_Result
http_sets_state_delete(http_api *api, struct MHD_Connection *conn,
                       http_request *rq)
{
    char *name = NULL, job_id[SNAP_UUID_LEN] = "", id[SNAP_UUID_LEN];
    enum MHD_Result ret = MHD_NO;
    coord_set *set = state_authorized(api, conn, rq, rq->arg2, &name, &ret);
    snap_error err = {0};

    if (!set)
        return ret;
    memcpy(id, set->uuid, SNAP_UUID_LEN);
    coord_set_free(set);
    free(name);
    if (!api->backend->remove(api->backend_impl, id, false, job_id, &err))
        return http_respond_snap_error(api, conn, &err);
    return http_respond_json(
        api, conn, 202,
        with_job(api, rq,
                 json_pack("{s:s,s:s}", "state_id", id, "state", "deleting"),
                 job_id),
        NULL);
}

/* The body of @rq as JSON (NULL for an empty one); false with a 400
 * queued in *@ret. */
static bool
body_json(http_api *api, struct MHD_Connection *conn, const http_request *rq,
          json_t **root, enum MHD_Result *ret)
{
    json_error_t jerr;

    *root = NULL;
    if (rq->len == 0)
        return true;
    *root = json_loadb(rq->body, rq->len, JSON_REJECT_DUPLICATES, &jerr);
    if (*root)
        return true;
    *ret = http_respond_error(api, conn, 400, NULL,
                              "malformed JSON (line %d, column %d): %s",
                              jerr.line, jerr.column, jerr.text);
    return false;
}

enum MHD_Result
http_sets_state_save(http_api *api, struct MHD_Connection *conn,
                     http_request *rq)
{
    char *domain_name = NULL, domain_uuid[SNAP_UUID_LEN] = "";
    char job_id[SNAP_UUID_LEN] = "", uuid[SNAP_UUID_LEN], location[192];
    char why[256];
    http_resp_headers h = {location, NULL, false};
    http_owner owner = {NULL, NULL, NULL};
    http_create_req req;
    enum MHD_Result ret = MHD_NO;
    json_t *root;
    snap_error err = {0};
    const char *label = NULL;

    if (!body_json(api, conn, rq, &root, &ret))
        return ret;
    if (!http_state_save_parse(root, &label, why, sizeof(why))) {
        json_decref(root);
        return http_respond_error(api, conn, 400, NULL, "%s", why);
    }
    if (!domain_authorized(api, conn, rq, rq->arg, &domain_name, domain_uuid,
                           &owner, &ret)) {
        json_decref(root);
        return ret;
    }
    memset(&req, 0, sizeof(req));
    req.domain_name = domain_name;
    req.domain_uuid = domain_uuid;
    req.name = label;
    req.quiesce = COORD_QUIESCE_OFF; /* saved frozen, it would come back so */
    req.pause = true;
    req.memory = true;
    req.owner = &owner;
    if (!api->backend->create(api->backend_impl, &req, uuid, job_id, &err)) {
        ret = http_respond_snap_error(api, conn, &err);
    } else {
        snprintf(location, sizeof(location), "/v1/servers/%s/states/%s",
                 domain_name, uuid);
        ret = http_respond_json(
            api, conn, 202,
            with_job(api, rq,
                     json_pack("{s:s,s:s,s:s}", "state_id", uuid, "domain",
                               domain_name, "location", location),
                     job_id),
            &h);
    }
    http_owner_release(&owner);
    free(domain_name);
    json_decref(root); /* after: req's strings point into it */
    return ret;
}

enum MHD_Result
http_sets_state_apply(http_api *api, struct MHD_Connection *conn,
                      http_request *rq)
{
    char *name = NULL, id[SNAP_UUID_LEN], why[256];
    http_restore_req req = {1, -1}; /* a saved state runs on at once */
    enum MHD_Result ret = MHD_NO;
    const char *state_id = NULL;
    json_t *root;
    coord_set *set;

    if (!body_json(api, conn, rq, &root, &ret))
        return ret;
    if (!http_state_apply_parse(root, &state_id, why, sizeof(why))) {
        json_decref(root);
        return http_respond_error(api, conn, 400, NULL, "%s", why);
    }
    if (!api->backend->restore) {
        json_decref(root);
        return http_respond_error(api, conn, 501, NULL,
                                  "this server does not restore sets");
    }
    set = state_authorized(api, conn, rq, state_id, &name, &ret);
    json_decref(root);
    if (!set)
        return ret;
    memcpy(id, set->uuid, SNAP_UUID_LEN);
    coord_set_free(set);
    ret = accept_restore(api, conn, rq, id, name, &req, "state_id");
    free(name);
    return ret;
}

/* The set @id if the caller of @rq may act on it; else NULL with the
 * answer queued in *@ret (400, 404, 403). */
static coord_set *
get_authorized(http_api *api, struct MHD_Connection *conn,
               const http_request *rq, char *id, enum MHD_Result *ret)
{
    coord_set *set;
    snap_error err = {0};
    char why[256];
    unsigned status;

    if (!http_set_id_valid(id)) {
        *ret = http_respond_error(api, conn, 400, NULL,
                                  "bad set id: use its UUID or its first 8+ "
                                  "characters");
        return NULL;
    }
    set = api->backend->get(api->backend_impl, id, &err);
    if (!set) {
        *ret = http_respond_snap_error(api, conn, &err);
        return NULL;
    }
    status = authorize_set(api, &rq->id, set, why, sizeof(why));
    if (status) {
        coord_set_free(set);
        *ret = http_respond_error(api, conn, status, NULL, "%s", why);
        return NULL;
    }
    return set;
}

enum MHD_Result
http_sets_get(http_api *api, struct MHD_Connection *conn, http_request *rq)
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
        return http_respond_error(api, conn, 500, NULL, "out of memory");
    return http_respond_json(api, conn, 200, json_pack("{s:o}", "set", doc),
                             NULL);
}

enum MHD_Result
http_sets_delete(http_api *api, struct MHD_Connection *conn, http_request *rq)
{
    snap_error err = {0};
    const char *we = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND,
                                                 "with_exports");
    char *id = rq->arg, job_id[SNAP_UUID_LEN] = "";
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
            return http_respond_error(api, conn, 400, NULL,
                                      "with_exports must be true or false");
    }
    if (!api->backend->remove(api->backend_impl, id, with_exports, job_id,
                              &err))
        return http_respond_snap_error(api, conn, &err);
    return http_respond_json(
        api, conn, 202,
        with_job(api, rq,
                 json_pack("{s:s,s:s}", "set_id", id, "state", "deleting"),
                 job_id),
        NULL);
}

/* The caller must be allowed both the set and the domain it puts back:
 * a set recorded as one project's, of a domain another project now has,
 * is not restored by either alone. */
enum MHD_Result
http_sets_restore(http_api *api, struct MHD_Connection *conn, http_request *rq)
{
    char *id = rq->arg, set_domain[SNAP_UUID_LEN], domain_uuid[SNAP_UUID_LEN];
    char *domain_name = NULL, why[256];
    enum MHD_Result ret = MHD_NO;
    json_t *root = NULL;
    http_restore_req req;
    http_owner owner;
    coord_set *set;

    if (!body_json(api, conn, rq, &root, &ret))
        return ret;
    if (!http_restore_req_parse(root, &req, why, sizeof(why))) {
        json_decref(root);
        return http_respond_error(api, conn, 400, NULL, "%s", why);
    }
    json_decref(root);
    if (!api->backend->restore)
        return http_respond_error(api, conn, 501, NULL,
                                  "this server does not restore sets");
    set = get_authorized(api, conn, rq, id, &ret);
    if (!set)
        return ret;
    snprintf(set_domain, sizeof(set_domain), "%s", set->domain_uuid);
    coord_set_free(set);
    if (!domain_authorized(api, conn, rq, set_domain, &domain_name, domain_uuid,
                           &owner, &ret))
        return ret;
    http_owner_release(&owner);
    ret = accept_restore(api, conn, rq, id, domain_name, &req, "set_id");
    free(domain_name);
    return ret;
}

static coord_set *template_authorized(http_api *api,
                                      struct MHD_Connection *conn,
                                      const http_request *rq, char *id,
                                      enum MHD_Result *ret);

/* Reads the JSON body of a POST on set (or, with @template, template)
 * @rq->arg, checks the caller may use it and that the backend has the
 * operation: the shared front of spawn, volumes and template. False with
 * *@ret answered. */
static bool
use_front(http_api *api, struct MHD_Connection *conn, http_request *rq,
          bool have_op, const char *what, bool template, json_t **root,
          enum MHD_Result *ret)
{
    coord_set *set;

    if (!body_json(api, conn, rq, root, ret))
        return false;
    if (!have_op) {
        *ret = http_respond_error(api, conn, 501, NULL,
                                  "this server does not %s", what);
        goto fail;
    }
    set = template ? template_authorized(api, conn, rq, rq->arg, ret)
                   : get_authorized(api, conn, rq, rq->arg, ret);
    if (!set)
        goto fail;
    coord_set_free(set);
    return true;

fail:
    json_decref(*root);
    *root = NULL;
    return false;
}

/* 202 with the job (Location: /v1/jobs/{id}); @o taken. */
static enum MHD_Result
accepted_job(http_api *api, struct MHD_Connection *conn, const http_request *rq,
             json_t *o, const char *job_id)
{
    char location[64];
    http_resp_headers h = {location, NULL, false};

    snprintf(location, sizeof(location), "/v1/jobs/%s", job_id);
    return http_respond_json(api, conn, 202, with_job(api, rq, o, job_id),
                             job_id[0] ? &h : NULL);
}

enum MHD_Result
http_sets_spawn(http_api *api, struct MHD_Connection *conn, http_request *rq)
{
    char job_id[SNAP_UUID_LEN] = "", uuid[SNAP_UUID_LEN], why[256], buf[128];
    enum MHD_Result ret = MHD_NO;
    json_t *root = NULL, *names;
    http_spawn_req req;
    snap_error err = {0};
    bool from_template = rq->route == HTTP_ROUTE_TEMPLATE_SPAWN;
    unsigned k;

    if (!use_front(api, conn, rq, api->backend->spawn != NULL, "spawn sets",
                   from_template, &root, &ret))
        return ret;
    if (!http_spawn_req_parse(root, &req, why, sizeof(why))) {
        json_decref(root);
        return http_respond_error(api, conn, 400, NULL, "%s", why);
    }
    if (from_template)
        req.template_id = rq->arg;
    if (!api->backend->spawn(api->backend_impl, rq->arg, &req, uuid, job_id,
                             &err)) {
        ret = http_respond_snap_error(api, conn, &err);
    } else {
        names = json_array();
        for (k = 0; names && k < req.count; k++) {
            if (req.count > 1)
                snprintf(buf, sizeof(buf), "%s-%u", req.name, k + 1);
            json_array_append_new(names,
                                  json_string(req.count > 1 ? buf : req.name));
        }
        ret =
            accepted_job(api, conn, rq,
                         json_pack("{s:s,s:o*,s:s}",
                                   from_template ? "template_id" : "set_id",
                                   uuid, "servers", names, "state", "spawning"),
                         job_id);
    }
    json_decref(root); /* after: req's strings point into it */
    return ret;
}

enum MHD_Result
http_sets_volume(http_api *api, struct MHD_Connection *conn, http_request *rq)
{
    char job_id[SNAP_UUID_LEN] = "", uuid[SNAP_UUID_LEN], why[256];
    enum MHD_Result ret = MHD_NO;
    json_t *root = NULL;
    http_volume_req req;
    snap_error err = {0};

    if (!use_front(api, conn, rq, api->backend->volume != NULL,
                   "make volumes from sets", false, &root, &ret))
        return ret;
    if (!http_volume_req_parse(root, &req, why, sizeof(why))) {
        json_decref(root);
        return http_respond_error(api, conn, 400, NULL, "%s", why);
    }
    if (!api->backend->volume(api->backend_impl, rq->arg, &req, uuid, job_id,
                              &err))
        ret = http_respond_snap_error(api, conn, &err);
    else
        ret = accepted_job(api, conn, rq,
                           json_pack("{s:s,s:s,s:s}", "set_id", uuid, "disk",
                                     req.disk, "state", "making"),
                           job_id);
    json_decref(root);
    return ret;
}

/* ---- templates (ops/template.h) ----------------------------------------- */

/* A template as the API shows it: a set's view, and the set it was made
 * of. */
static json_t *
template_json(const coord_set *t)
{
    json_t *o = set_json(t);
    const char *from = coord_set_metadata(t, COORD_KEY_TEMPLATE_SET);

    if (o && json_object_set_new(o, "set_id", str_or_null(from))) {
        json_decref(o);
        o = NULL;
    }
    return o;
}

/* Template @id, if the caller may use it (as its set's owner may); NULL
 * with *@ret answered. */
static coord_set *
template_authorized(http_api *api, struct MHD_Connection *conn,
                    const http_request *rq, char *id, enum MHD_Result *ret)
{
    coord_set *t;
    snap_error err = {0};
    char why[256];
    unsigned status;

    if (!api->backend->template_get) {
        *ret = http_respond_error(api, conn, 501, NULL,
                                  "this server keeps no templates");
        return NULL;
    }
    if (!http_set_id_valid(id)) {
        *ret = http_respond_error(api, conn, 400, NULL,
                                  "bad template id: use its UUID or its first "
                                  "8+ characters");
        return NULL;
    }
    t = api->backend->template_get(api->backend_impl, id, &err);
    if (!t) {
        *ret = http_respond_snap_error(api, conn, &err);
        return NULL;
    }
    status = authorize_set(api, &rq->id, t, why, sizeof(why));
    if (status) {
        coord_set_free(t);
        if (status == 403)
            snprintf(why, sizeof(why),
                     "template %.36s belongs to another project", id);
        *ret = http_respond_error(api, conn, status, NULL, "%s", why);
        return NULL;
    }
    return t;
}

enum MHD_Result
http_sets_template_create(http_api *api, struct MHD_Connection *conn,
                          http_request *rq)
{
    char job_id[SNAP_UUID_LEN] = "", uuid[SNAP_UUID_LEN], why[256];
    enum MHD_Result ret = MHD_NO;
    json_t *root = NULL;
    const char *name;
    snap_error err = {0};

    if (!use_front(api, conn, rq, api->backend->template_create != NULL,
                   "keep templates", false, &root, &ret))
        return ret;
    if (!http_state_save_parse(root, &name, why, sizeof(why))) {
        json_decref(root);
        return http_respond_error(api, conn, 400, NULL, "%s", why);
    }
    if (!api->backend->template_create(api->backend_impl, rq->arg, name, uuid,
                                       job_id, &err))
        ret = http_respond_snap_error(api, conn, &err);
    else
        ret = accepted_job(
            api, conn, rq,
            json_pack("{s:s,s:s}", "set_id", uuid, "state", "making template"),
            job_id);
    json_decref(root);
    return ret;
}

enum MHD_Result
http_sets_templates(http_api *api, struct MHD_Connection *conn,
                    const http_request *rq)
{
    owner_memo memo[64];
    size_t nmemo = 0, n = 0, i;
    bool all = http_authz_decide(&rq->id, HTTP_AUTHZ_HOST, NULL, &api->authz,
                                 NULL, 0) == HTTP_AUTHZ_ALLOW_ROLE;
    coord_set **ts = NULL;
    snap_error err = {0};
    json_t *arr;

    if (!api->backend->template_list)
        return http_respond_error(api, conn, 501, NULL,
                                  "this server keeps no templates");
    if (!api->backend->template_list(api->backend_impl, &ts, &n, &err))
        return http_respond_snap_error(api, conn, &err);
    arr = json_array();
    for (i = 0; arr && i < n; i++) {
        if (!all && !list_may_see(api, rq, ts[i], memo, &nmemo,
                                  sizeof(memo) / sizeof(memo[0])))
            continue; /* another project's */
        if (json_array_append_new(arr, template_json(ts[i])) < 0) {
            json_decref(arr);
            arr = NULL;
        }
    }
    coord_catalog_list_free(ts, n);
    if (!arr)
        return http_respond_error(api, conn, 500, NULL, "out of memory");
    return http_respond_json(api, conn, 200,
                             json_pack("{s:o}", "templates", arr), NULL);
}

enum MHD_Result
http_sets_template_get(http_api *api, struct MHD_Connection *conn,
                       http_request *rq)
{
    enum MHD_Result ret = MHD_NO;
    coord_set *t = template_authorized(api, conn, rq, rq->arg, &ret);
    json_t *o;

    if (!t)
        return ret;
    o = template_json(t);
    coord_set_free(t);
    if (!o)
        return http_respond_error(api, conn, 500, NULL, "out of memory");
    return http_respond_json(api, conn, 200, json_pack("{s:o}", "template", o),
                             NULL);
}

enum MHD_Result
http_sets_template_delete(http_api *api, struct MHD_Connection *conn,
                          http_request *rq)
{
    char job_id[SNAP_UUID_LEN] = "", id[SNAP_UUID_LEN];
    enum MHD_Result ret = MHD_NO;
    coord_set *t = template_authorized(api, conn, rq, rq->arg, &ret);
    snap_error err = {0};

    if (!t)
        return ret;
    memcpy(id, t->uuid, SNAP_UUID_LEN);
    coord_set_free(t);
    if (!api->backend->template_remove)
        return http_respond_error(api, conn, 501, NULL,
                                  "this server does not delete templates");
    if (!api->backend->template_remove(api->backend_impl, id, job_id, &err))
        return http_respond_snap_error(api, conn, &err);
    return accepted_job(
        api, conn, rq,
        json_pack("{s:s,s:s}", "template_id", id, "state", "deleting"), job_id);
}

enum MHD_Result
http_sets_export(http_api *api, struct MHD_Connection *conn, http_request *rq)
{
    char *id = rq->arg, job_id[SNAP_UUID_LEN] = "";
    json_t *root = NULL;
    json_error_t jerr;
    http_export_req req;
    snap_error err = {0};
    char why[256], uuid[SNAP_UUID_LEN], location[64];
    http_resp_headers h = {location, NULL, false};
    enum MHD_Result ret = MHD_NO;
    coord_set *set;

    set = get_authorized(api, conn, rq, id, &ret);
    if (!set)
        return ret;
    coord_set_free(set);
    if (rq->len > 0) {
        root = json_loadb(rq->body, rq->len, JSON_REJECT_DUPLICATES, &jerr);
        if (!root)
            return http_respond_error(api, conn, 400, NULL,
                                      "malformed JSON (line %d, column %d): %s",
                                      jerr.line, jerr.column, jerr.text);
    }
    if (!http_export_req_parse(root, &req, why, sizeof(why))) {
        json_decref(root);
        return http_respond_error(api, conn, 400, NULL, "%s", why);
    }
    if (!api->backend->export_set) {
        json_decref(root);
        return http_respond_error(api, conn, 501, NULL,
                                  "this server does not export sets");
    }
    if (!api->backend->export_set(api->backend_impl, id, &req, uuid, job_id,
                                  &err)) {
        ret = http_respond_snap_error(api, conn, &err);
    } else {
        snprintf(location, sizeof(location), "/v1/sets/%s", uuid);
        ret = http_respond_json(
            api, conn, 202,
            with_job(api, rq,
                     json_pack("{s:s,s:s,s:s,s:s}", "set_id", uuid, "export",
                               "glance", "state", "exporting", "location",
                               location),
                     job_id),
            &h);
    }
    json_decref(root); /* after: req's strings point into it */
    return ret;
}

enum MHD_Result
http_sets_create(http_api *api, struct MHD_Connection *conn, http_request *rq)
{
    json_t *root = NULL;
    json_error_t jerr;
    http_create_req req;
    snap_error err = {0};
    char why[256], uuid[SNAP_UUID_LEN], location[64];
    char domain_uuid[SNAP_UUID_LEN] = "", job_id[SNAP_UUID_LEN] = "";
    char *domain_name = NULL;
    http_owner owner = {NULL, NULL, NULL};
    unsigned status;
    enum MHD_Result ret;
    http_resp_headers h = {location, NULL, false};

    root = json_loadb(rq->body ? rq->body : "", rq->len, JSON_REJECT_DUPLICATES,
                      &jerr);
    if (!root)
        return http_respond_error(api, conn, 400, NULL,
                                  "malformed JSON (line %d, column %d): %s",
                                  jerr.line, jerr.column, jerr.text);
    if (!http_create_req_parse(root, api->quiesce, api->pause, &req, &status,
                               why, sizeof(why))) {
        json_decref(root);
        return http_respond_error(api, conn, status, NULL, "%s", why);
    }
    if (!domain_authorized(api, conn, rq, rq->arg, &domain_name, domain_uuid,
                           &owner, &ret)) {
        json_decref(root);
        return ret;
    }
    req.domain_name = domain_name;
    req.domain_uuid = domain_uuid;
    req.owner = &owner;
    if (!api->backend->create(api->backend_impl, &req, uuid, job_id, &err)) {
        ret = http_respond_snap_error(api, conn, &err);
    } else {
        snprintf(location, sizeof(location), "/v1/sets/%s", uuid);
        ret = http_respond_json(
            api, conn, 202,
            with_job(api, rq,
                     json_pack("{s:s,s:s,s:s}", "set_id", uuid, "domain",
                               domain_name, "location", location),
                     job_id),
            &h);
    }
    http_owner_release(&owner);
    free(domain_name);
    json_decref(root); /* after: req's strings point into it */
    return ret;
}
