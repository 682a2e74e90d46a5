/* cinder/snapshot.c -- Cinder snapshots: create (one or many at once),
 * show, delete, list by metadata, metadata updates, waits; see cinder.h. */
#include "cinder/cinder.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cinder/cinder_json.h"

void
cinder_snapshot_free(cinder_snapshot *snap)
{
    if (!snap)
        return;
    free(snap->id);
    free(snap->volume_id);
    free(snap->name);
    free(snap->description);
    free(snap->status);
    free(snap->created_at);
    free(snap->updated_at);
    free(snap->group_snapshot_id);
    free(snap->progress);
    cinder_kv_array_free(snap->metadata, snap->nmetadata);
    free(snap);
}

void
cinder_snapshots_free(cinder_snapshot **snaps, size_t n)
{
    size_t i;

    if (!snaps)
        return;
    for (i = 0; i < n; i++)
        cinder_snapshot_free(snaps[i]);
    free(snaps);
}

cinder_snapshot *
cinder_snapshot_from_json(json_t *obj, const char *what, snap_error *err)
{
    cinder_snapshot *snap = NULL, *ret = NULL;

    if (!json_is_object(obj)) {
        snap_error_set(err, SNAP_E_INVALID, "%s: malformed reply: no snapshot",
                       what);
        return NULL;
    }
    snap = calloc(1, sizeof(*snap));
    if (!snap) {
        snap_error_set(err, SNAP_E_NOMEM, "%s: out of memory", what);
        return NULL;
    }
    if (!cinder_json_string(obj, "id", true, &snap->id, what, err) ||
        !cinder_json_string(obj, "status", true, &snap->status, what, err) ||
        !cinder_json_string(obj, "volume_id", false, &snap->volume_id, what,
                            err) ||
        !cinder_json_string(obj, "name", false, &snap->name, what, err) ||
        !cinder_json_string(obj, "description", false, &snap->description, what,
                            err) ||
        !cinder_json_string(obj, "created_at", false, &snap->created_at, what,
                            err) ||
        !cinder_json_string(obj, "updated_at", false, &snap->updated_at, what,
                            err) ||
        !cinder_json_string(obj, "group_snapshot_id", false,
                            &snap->group_snapshot_id, what, err) ||
        !cinder_json_string(obj, "os-extended-snapshot-attributes:progress",
                            false, &snap->progress, what, err) ||
        !cinder_json_kv(json_object_get(obj, "metadata"), &snap->metadata,
                        &snap->nmetadata, what, err))
        goto cleanup;
    if (!cinder_id_valid(snap->id)) {
        snap_error_set(err, SNAP_E_INVALID,
                       "%s: malformed reply: bad snapshot id", what);
        goto cleanup;
    }
    snap->size_gb = cinder_json_int(obj, "size", 0);
    ret = snap;
    snap = NULL;

cleanup:
    cinder_snapshot_free(snap);
    return ret;
}

/* Builds the POST /snapshots body for @req. */
static json_t *
create_body(const cinder_client *c, const cinder_snapshot_req *req)
{
    json_t *snap = NULL, *meta = NULL;

    snap = json_pack("{s:s}", "volume_id", req->volume_id);
    if (!snap)
        return NULL;
    if (req->name &&
        json_object_set_new(snap, "name", json_string(req->name)) < 0)
        goto error;
    if (req->description &&
        json_object_set_new(snap, "description",
                            json_string(req->description)) < 0)
        goto error;
    if (req->nmetadata > 0) {
        meta = cinder_json_from_kv(req->metadata, req->nmetadata);
        if (!meta || json_object_set_new(snap, "metadata", meta) < 0)
            goto error;
    }
    /* Below 3.66 an in-use volume needs force; from 3.66 on force is
     * implied and "force": false is rejected with 400, so it is never
     * sent there. */
    if (c->mv < CINDER_MV(3, 66) &&
        json_object_set_new(snap, "force", json_true()) < 0)
        goto error;
    return json_pack("{s:o}", "snapshot", snap);

error:
    json_decref(snap);
    return NULL;
}

static bool
check_req(const cinder_snapshot_req *req, snap_error *err)
{
    if (!req)
        return snap_error_set(err, SNAP_E_INVALID, "no snapshot request");
    if (!cinder_check_id(req->volume_id, "volume", err))
        return false;
    if (req->nmetadata > 0 && !req->metadata)
        return snap_error_set(err, SNAP_E_INVALID, "snapshot metadata missing");
    return true;
}

/* What a failure of the request for @req says first: a create, or (with
 * @source) a registration of the backend's snapshot @source. */
static void
create_what(const cinder_snapshot_req *req, const char *source, char *buf,
            size_t size)
{
    const char *vol = req && req->volume_id ? req->volume_id : "(null)";

    if (source)
        snprintf(buf, size,
                 "cannot register snapshot '%.64s' of volume '%.64s' with "
                 "Cinder",
                 source, vol);
    else
        snprintf(buf, size, "cannot create snapshot of volume '%.64s'", vol);
}

/* The POST /manageable_snapshots body: a create's fields without "force",
 * plus the reference to the backend's snapshot @source. */
static json_t *
manage_body(const cinder_client *c, const cinder_snapshot_req *req,
            const char *source)
{
    json_t *body = create_body(c, req);
    json_t *inner = body ? json_object_get(body, "snapshot") : NULL;

    if (inner)
        (void)json_object_del(inner, "force");
    if (!inner ||
        json_object_set_new(inner, "ref",
                            json_pack("{s:s}", "source-name", source)) < 0) {
        json_decref(body);
        return NULL;
    }
    return body;
}

/* Turns the reply to a create into a record. */
static cinder_snapshot *
create_result(const cinder_http_response *resp, bool ok, const snap_error *terr,
              const char *what, snap_error *err)
{
    cinder_snapshot *snap = NULL;
    json_t *reply;

    reply = cinder_call_result(resp, ok, terr, what, err);
    if (!reply)
        return NULL;
    snap = cinder_snapshot_from_json(json_object_get(reply, "snapshot"), what,
                                     err);
    json_decref(reply);
    return snap;
}

cinder_snapshot *
cinder_snapshot_create(cinder_client *c, const cinder_snapshot_req *req,
                       snap_error *err)
{
    cinder_snapshot *snap = NULL;
    cinder_snapshot *one[1] = {NULL};

    if (!c) {
        snap_error_set(err, SNAP_E_INVALID, "no Cinder client");
        return NULL;
    }
    if (cinder_snapshots_create_many(c, req, 1, one, NULL, err))
        snap = one[0];
    return snap;
}

/* Sends the @n creates (@sources NULL) or registrations of @sources[i]
 * at once; see cinder_snapshots_create_many(). */
static bool
post_many(cinder_client *c, const cinder_snapshot_req *reqs,
          const char *const *sources, size_t n, cinder_snapshot **out,
          snap_error *errs, snap_error *err)
{
    cinder_call *calls = NULL;
    cinder_http_request *hreqs = NULL;
    cinder_http_response *resps = NULL;
    snap_error *terrs = NULL, *rerrs = NULL;
    json_t *body;
    bool *oks = NULL;
    bool ret = false, all = true;
    char what[256];
    size_t i;

    if (!c || (n > 0 && (!reqs || !out)))
        return snap_error_set(err, SNAP_E_INVALID, "invalid snapshot requests");
    for (i = 0; i < n; i++)
        out[i] = NULL;
    if (n == 0)
        return true;
    /* Validate everything before sending anything: a bad request must not
     * leave a partial set behind. */
    for (i = 0; i < n; i++) {
        if (!check_req(&reqs[i], err))
            return false;
    }
    calls = calloc(n, sizeof(*calls));
    hreqs = calloc(n, sizeof(*hreqs));
    resps = calloc(n, sizeof(*resps));
    terrs = calloc(n, sizeof(*terrs));
    rerrs = calloc(n, sizeof(*rerrs));
    oks = calloc(n, sizeof(*oks));
    if (!calls || !hreqs || !resps || !terrs || !rerrs || !oks) {
        snap_error_set(err, SNAP_E_NOMEM, "out of memory");
        goto cleanup;
    }
    for (i = 0; i < n; i++) {
        const char *src = sources ? sources[i] : NULL;

        create_what(&reqs[i], src, what, sizeof(what));
        body = src ? manage_body(c, &reqs[i], src) : create_body(c, &reqs[i]);
        if (!body) {
            snap_error_set(err, SNAP_E_NOMEM, "%s: out of memory", what);
            goto cleanup;
        }
        if (!cinder_call_init(c, &calls[i], CINDER_HTTP_POST,
                              src ? "/manageable_snapshots" : "/snapshots",
                              body, 0, err)) {
            json_decref(body);
            goto cleanup;
        }
        json_decref(body);
        hreqs[i] = calls[i].req;
    }
    if (!cinder_session_request_many(c->session, hreqs, resps, terrs, oks, n,
                                     err))
        goto cleanup;
    for (i = 0; i < n; i++) {
        create_what(&reqs[i], sources ? sources[i] : NULL, what, sizeof(what));
        out[i] = create_result(&resps[i], oks[i], &terrs[i], what, &rerrs[i]);
        if (!out[i]) {
            if (all)
                cinder_error_propagate(err, &rerrs[i]);
            all = false;
        }
        if (errs)
            errs[i] = rerrs[i];
    }
    ret = all;

cleanup:
    if (calls) {
        for (i = 0; i < n; i++)
            cinder_call_release(&calls[i]);
    }
    if (resps) {
        for (i = 0; i < n; i++)
            cinder_http_response_release(&resps[i]);
    }
    free(calls);
    free(hreqs);
    free(resps);
    free(terrs);
    free(rerrs);
    free(oks);
    return ret;
}

bool
cinder_snapshots_create_many(cinder_client *c, const cinder_snapshot_req *reqs,
                             size_t n, cinder_snapshot **out, snap_error *errs,
                             snap_error *err)
{
    return post_many(c, reqs, NULL, n, out, errs, err);
}

bool
cinder_snapshots_manage_many(cinder_client *c, const cinder_snapshot_req *reqs,
                             const char *const *sources, size_t n,
                             cinder_snapshot **out, snap_error *errs,
                             snap_error *err)
{
    char what[256];
    size_t i;

    if (!c || (n > 0 && (!reqs || !sources || !out)))
        return snap_error_set(err, SNAP_E_INVALID,
                              "invalid snapshot registrations");
    for (i = 0; i < n; i++)
        out[i] = NULL;
    /* Nothing is sent unless everything is right: a registration refused
     * here leaves its RBD snapshot to the caller, not half to Cinder. */
    for (i = 0; i < n; i++) {
        create_what(&reqs[i], sources[i] ? sources[i] : "(null)", what,
                    sizeof(what));
        if (!sources[i] || !sources[i][0] || strlen(sources[i]) > 255)
            return snap_error_set(err, SNAP_E_INVALID, "%s: bad source name",
                                  what);
        if (i == 0 && !cinder_require_mv(c, CINDER_MV(3, 8), what, err))
            return false;
    }
    return post_many(c, reqs, sources, n, out, errs, err);
}

cinder_snapshot *
cinder_snapshot_manage(cinder_client *c, const cinder_snapshot_req *req,
                       const char *source_name, snap_error *err)
{
    cinder_snapshot *one[1] = {NULL};

    if (!c) {
        snap_error_set(err, SNAP_E_INVALID, "no Cinder client");
        return NULL;
    }
    if (!check_req(req, err))
        return NULL;
    return cinder_snapshots_manage_many(c, req, &source_name, 1, one, NULL, err)
               ? one[0]
               : NULL;
}

cinder_snapshot *
cinder_snapshot_show(cinder_client *c, const char *id, snap_error *err)
{
    cinder_snapshot *snap = NULL;
    json_t *reply = NULL;
    char what[128], path[300];

    if (!c) {
        snap_error_set(err, SNAP_E_INVALID, "no Cinder client");
        return NULL;
    }
    if (!cinder_check_id(id, "snapshot", err))
        return NULL;
    snprintf(what, sizeof(what), "cannot show snapshot '%s'", id);
    snprintf(path, sizeof(path), "/snapshots/%s", id);
    reply = cinder_call_one(c, CINDER_HTTP_GET, path, NULL, what, err);
    if (!reply)
        return NULL;
    snap = cinder_snapshot_from_json(json_object_get(reply, "snapshot"), what,
                                     err);
    json_decref(reply);
    return snap;
}

bool
cinder_snapshot_delete(cinder_client *c, const char *id, snap_error *err)
{
    json_t *reply;
    char what[128], path[300];

    if (!c)
        return snap_error_set(err, SNAP_E_INVALID, "no Cinder client");
    if (!cinder_check_id(id, "snapshot", err))
        return false;
    snprintf(what, sizeof(what), "cannot delete snapshot '%s'", id);
    snprintf(path, sizeof(path), "/snapshots/%s", id);
    reply = cinder_call_one(c, CINDER_HTTP_DELETE, path, NULL, what, err);
    json_decref(reply);
    return reply != NULL;
}

typedef struct snapshot_list {
    cinder_snapshot **snaps;
    size_t n;
    size_t cap;
    const char *what;
    const char *group_snapshot_id; /* keep only these members, or NULL */
} snapshot_list;

static bool
collect_snapshot(json_t *item, void *ctx, snap_error *err)
{
    snapshot_list *l = ctx;
    cinder_snapshot *snap, **grown;

    snap = cinder_snapshot_from_json(item, l->what, err);
    if (!snap)
        return false;
    if (l->group_snapshot_id &&
        (!snap->group_snapshot_id ||
         strcmp(snap->group_snapshot_id, l->group_snapshot_id) != 0)) {
        cinder_snapshot_free(snap);
        return true;
    }
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 16;
        grown = realloc(l->snaps, l->cap * sizeof(*grown));
        if (!grown) {
            cinder_snapshot_free(snap);
            return snap_error_set(err, SNAP_E_NOMEM, "%s: out of memory",
                                  l->what);
        }
        l->snaps = grown;
    }
    l->snaps[l->n++] = snap;
    return true;
}

/* Lists /snapshots/detail (with an optional metadata filter) into @l. */
static bool
list_snapshots(cinder_client *c, const cinder_kv *filter, size_t nfilter,
               snapshot_list *l, snap_error *err)
{
    char *path = NULL;
    bool ok;

    if (nfilter > 0) {
        path = cinder_metadata_query("/snapshots/detail", filter, nfilter, err);
        if (!path)
            return false;
    }
    ok = cinder_list_all(c, path ? path : "/snapshots/detail", "snapshots",
                         collect_snapshot, l, l->what, err);
    free(path);
    return ok;
}

bool
cinder_snapshot_list(cinder_client *c, const cinder_kv *filter, size_t nfilter,
                     cinder_snapshot ***snaps, size_t *nsnaps, snap_error *err)
{
    snapshot_list l = {0};

    if (!c || !snaps || !nsnaps || (nfilter > 0 && !filter))
        return snap_error_set(err, SNAP_E_INVALID,
                              "invalid snapshot list request");
    *snaps = NULL;
    *nsnaps = 0;
    l.what = "cannot list snapshots";
    /* Below 3.22 Cinder ignores the metadata filter without a word and
     * returns every snapshot of the project: refuse rather than let a
     * caller delete the wrong set. */
    if (nfilter > 0 &&
        !cinder_require_mv(c, CINDER_MV(3, 22),
                           "cannot list snapshots by metadata", err))
        return false;
    if (!list_snapshots(c, filter, nfilter, &l, err)) {
        cinder_snapshots_free(l.snaps, l.n);
        return false;
    }
    *snaps = l.snaps;
    *nsnaps = l.n;
    return true;
}

bool
cinder_snapshot_claimed(const cinder_snapshot *snap,
                        const cinder_snapshot_claim *claims, size_t n)
{
    size_t i;

    if (!snap || !snap->id || !snap->volume_id)
        return false;
    for (i = 0; i < n; i++) {
        const cinder_snapshot_claim *cl = &claims[i];

        if (!cl->volume_id || strcmp(cl->volume_id, snap->volume_id) != 0)
            continue;
        if (!cl->snapshot_id || strcmp(cl->snapshot_id, snap->id) == 0)
            return true;
    }
    return false;
}

bool
cinder_snapshot_metadata_update(cinder_client *c, const char *id,
                                const cinder_kv *kv, size_t n, bool replace,
                                snap_error *err)
{
    json_t *meta = NULL, *body = NULL, *reply = NULL;
    char what[128], path[320];

    if (!c || (n > 0 && !kv))
        return snap_error_set(err, SNAP_E_INVALID, "invalid metadata update");
    if (!cinder_check_id(id, "snapshot", err))
        return false;
    snprintf(what, sizeof(what), "cannot update metadata of snapshot '%s'", id);
    snprintf(path, sizeof(path), "/snapshots/%s/metadata", id);
    meta = cinder_json_from_kv(kv, n);
    if (meta)
        body = json_pack("{s:o}", "metadata", meta);
    if (!body)
        return snap_error_set(err, SNAP_E_NOMEM, "%s: out of memory", what);
    reply = cinder_call_one(c, replace ? CINDER_HTTP_PUT : CINDER_HTTP_POST,
                            path, body, what, err);
    json_decref(body);
    json_decref(reply);
    return reply != NULL;
}

bool
cinder_snapshots_wait(cinder_client *c, const char *const *ids, size_t n,
                      const cinder_kv *filter, int64_t deadline_ms,
                      cinder_wait_result *results, snap_error *err)
{
    return cinder_poll(c, &cinder_poll_snapshot, ids, n, CINDER_POLL_LEAVE,
                       NULL, filter, deadline_ms, results, err);
}

bool
cinder_snapshots_wait_deleted(cinder_client *c, const char *const *ids,
                              size_t n, int64_t deadline_ms, snap_error *err)
{
    return cinder_poll(c, &cinder_poll_snapshot, ids, n, CINDER_POLL_GONE, NULL,
                       NULL, deadline_ms, NULL, err);
}

bool
cinder_group_snapshot_members(cinder_client *c, const char *id,
                              cinder_snapshot ***snaps, size_t *nsnaps,
                              snap_error *err)
{
    snapshot_list l = {0};
    char what[128];

    if (!c || !snaps || !nsnaps)
        return snap_error_set(err, SNAP_E_INVALID,
                              "invalid group snapshot request");
    *snaps = NULL;
    *nsnaps = 0;
    if (!cinder_check_id(id, "group snapshot", err))
        return false;
    snprintf(what, sizeof(what), "cannot list members of group snapshot '%s'",
             id);
    if (!cinder_require_mv(c, CINDER_MV(3, 14), what, err))
        return false;
    l.what = what;
    /* Members may not filter on group_snapshot_id (resource_filters.json),
     * so list and filter here. */
    l.group_snapshot_id = id;
    if (!list_snapshots(c, NULL, 0, &l, err)) {
        cinder_snapshots_free(l.snaps, l.n);
        return false;
    }
    *snaps = l.snaps;
    *nsnaps = l.n;
    return true;
}
