/* cinder/group.c -- generic volume groups, group types and group
 * snapshots; see cinder.h. */
#include "cinder/cinder.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cinder/cinder_json.h"
#include "common/snap_strv.h"

const char *
cinder_cg_support_name(cinder_cg_support cg)
{
    switch (cg) {
    case CINDER_CG_YES:
        return "yes";
    case CINDER_CG_NO:
        return "no";
    default:
        return "unknown";
    }
}

void
cinder_group_free(cinder_group *g)
{
    if (!g)
        return;
    free(g->id);
    free(g->name);
    free(g->status);
    free(g->group_type);
    free(g->availability_zone);
    snap_strv_free(g->volume_types, g->nvolume_types);
    snap_strv_free(g->volumes, g->nvolumes);
    free(g);
}

cinder_group *
cinder_group_show(cinder_client *c, const char *id, snap_error *err)
{
    cinder_group *g = NULL, *ret = NULL;
    json_t *reply = NULL, *obj;
    char what[128], path[320];

    if (!c) {
        snap_error_set(err, SNAP_E_INVALID, "no Cinder client");
        return NULL;
    }
    if (!cinder_check_id(id, "group", err))
        return NULL;
    snprintf(what, sizeof(what), "cannot show group '%s'", id);
    if (!cinder_require_mv(c, CINDER_MV(3, 13), what, err))
        return NULL;
    /* list_volume (3.25) adds the member volume ids to the reply. */
    snprintf(path, sizeof(path), "/groups/%s%s", id,
             c->mv >= CINDER_MV(3, 25) ? "?list_volume=True" : "");
    reply = cinder_call_one(c, CINDER_HTTP_GET, path, NULL, what, err);
    if (!reply)
        return NULL;
    obj = cinder_json_object(reply, "group", what, err);
    if (!obj)
        goto cleanup;
    g = calloc(1, sizeof(*g));
    if (!g) {
        snap_error_set(err, SNAP_E_NOMEM, "%s: out of memory", what);
        goto cleanup;
    }
    if (!cinder_json_string(obj, "id", true, &g->id, what, err) ||
        !cinder_json_string(obj, "status", true, &g->status, what, err) ||
        !cinder_json_string(obj, "name", false, &g->name, what, err) ||
        !cinder_json_string(obj, "group_type", false, &g->group_type, what,
                            err) ||
        !cinder_json_string(obj, "availability_zone", false,
                            &g->availability_zone, what, err) ||
        !cinder_json_strv(json_object_get(obj, "volume_types"),
                          &g->volume_types, &g->nvolume_types, what, err) ||
        !cinder_json_strv(json_object_get(obj, "volumes"), &g->volumes,
                          &g->nvolumes, what, err))
        goto cleanup;
    ret = g;
    g = NULL;

cleanup:
    cinder_group_free(g);
    json_decref(reply);
    return ret;
}

void
cinder_group_type_free(cinder_group_type *t)
{
    if (!t)
        return;
    free(t->id);
    free(t->name);
    cinder_kv_array_free(t->specs, t->nspecs);
    free(t);
}

/* Cinder's extra-spec booleans read "<is> True"; plain "True" is seen too. */
static bool
spec_true(const char *v)
{
    if (!v)
        return false;
    if (strncasecmp(v, "<is>", 4) == 0)
        v += 4;
    while (*v == ' ')
        v++;
    return strcasecmp(v, "true") == 0;
}

cinder_group_type *
cinder_group_type_show(cinder_client *c, const char *id, snap_error *err)
{
    cinder_group_type *t = NULL, *ret = NULL;
    json_t *reply = NULL, *obj, *specs;
    char what[128], path[320];
    const char *cg;

    if (!c) {
        snap_error_set(err, SNAP_E_INVALID, "no Cinder client");
        return NULL;
    }
    if (!cinder_check_id(id, "group type", err))
        return NULL;
    snprintf(what, sizeof(what), "cannot show group type '%s'", id);
    if (!cinder_require_mv(c, CINDER_MV(3, 11), what, err))
        return NULL;
    snprintf(path, sizeof(path), "/group_types/%s", id);
    reply = cinder_call_one(c, CINDER_HTTP_GET, path, NULL, what, err);
    if (!reply)
        return NULL;
    obj = cinder_json_object(reply, "group_type", what, err);
    if (!obj)
        goto cleanup;
    t = calloc(1, sizeof(*t));
    if (!t) {
        snap_error_set(err, SNAP_E_NOMEM, "%s: out of memory", what);
        goto cleanup;
    }
    specs = json_object_get(obj, "group_specs");
    if (!cinder_json_string(obj, "id", true, &t->id, what, err) ||
        !cinder_json_string(obj, "name", false, &t->name, what, err) ||
        !cinder_json_kv(specs, &t->specs, &t->nspecs, what, err))
        goto cleanup;
    /* Non-admins get no group_specs at all (policy), so absence says
     * nothing about consistency. */
    t->specs_visible = json_is_object(specs);
    if (!t->specs_visible) {
        t->consistent_snapshots = CINDER_CG_UNKNOWN;
    } else {
        cg = cinder_kv_get(t->specs, t->nspecs,
                           "consistent_group_snapshot_enabled");
        t->consistent_snapshots = spec_true(cg) ? CINDER_CG_YES : CINDER_CG_NO;
    }
    ret = t;
    t = NULL;

cleanup:
    cinder_group_type_free(t);
    json_decref(reply);
    return ret;
}

void
cinder_group_snapshot_free(cinder_group_snapshot *gs)
{
    if (!gs)
        return;
    free(gs->id);
    free(gs->group_id);
    free(gs->group_type_id);
    free(gs->name);
    free(gs->description);
    free(gs->status);
    free(gs->created_at);
    free(gs);
}

static cinder_group_snapshot *
group_snapshot_from_json(json_t *reply, const char *what, snap_error *err)
{
    cinder_group_snapshot *gs = NULL, *ret = NULL;
    json_t *obj;

    obj = cinder_json_object(reply, "group_snapshot", what, err);
    if (!obj)
        return NULL;
    gs = calloc(1, sizeof(*gs));
    if (!gs) {
        snap_error_set(err, SNAP_E_NOMEM, "%s: out of memory", what);
        return NULL;
    }
    /* The create reply carries only id, name and group_type_id. */
    if (!cinder_json_string(obj, "id", true, &gs->id, what, err) ||
        !cinder_json_string(obj, "group_id", false, &gs->group_id, what, err) ||
        !cinder_json_string(obj, "group_type_id", false, &gs->group_type_id,
                            what, err) ||
        !cinder_json_string(obj, "name", false, &gs->name, what, err) ||
        !cinder_json_string(obj, "description", false, &gs->description, what,
                            err) ||
        !cinder_json_string(obj, "status", false, &gs->status, what, err) ||
        !cinder_json_string(obj, "created_at", false, &gs->created_at, what,
                            err))
        goto cleanup;
    if (!cinder_id_valid(gs->id)) {
        snap_error_set(err, SNAP_E_INVALID, "%s: malformed reply: bad id",
                       what);
        goto cleanup;
    }
    ret = gs;
    gs = NULL;

cleanup:
    cinder_group_snapshot_free(gs);
    return ret;
}

cinder_group_snapshot *
cinder_group_snapshot_create(cinder_client *c, const char *group_id,
                             const char *name, const char *description,
                             snap_error *err)
{
    cinder_group_snapshot *gs = NULL;
    json_t *inner = NULL, *body = NULL, *reply = NULL;
    char what[128];

    if (!c) {
        snap_error_set(err, SNAP_E_INVALID, "no Cinder client");
        return NULL;
    }
    if (!cinder_check_id(group_id, "group", err))
        return NULL;
    snprintf(what, sizeof(what), "cannot create snapshot of group '%s'",
             group_id);
    if (!cinder_require_mv(c, CINDER_MV(3, 14), what, err))
        return NULL;
    inner = json_pack("{s:s}", "group_id", group_id);
    if (inner && name &&
        json_object_set_new(inner, "name", json_string(name)) < 0)
        goto nomem;
    if (inner && description &&
        json_object_set_new(inner, "description", json_string(description)) < 0)
        goto nomem;
    if (!inner)
        goto nomem;
    body = json_pack("{s:o}", "group_snapshot", inner);
    inner = NULL;
    if (!body)
        goto nomem;
    reply = cinder_call_one(c, CINDER_HTTP_POST, "/group_snapshots", body, what,
                            err);
    if (reply) {
        gs = group_snapshot_from_json(reply, what, err);
        if (gs && !gs->group_id)
            gs->group_id = strdup(group_id); /* best effort; NULL is allowed */
    }
    json_decref(reply);
    json_decref(body);
    return gs;

nomem:
    json_decref(inner);
    snap_error_set(err, SNAP_E_NOMEM, "%s: out of memory", what);
    return NULL;
}

cinder_group_snapshot *
cinder_group_snapshot_show(cinder_client *c, const char *id, snap_error *err)
{
    cinder_group_snapshot *gs;
    json_t *reply;
    char what[128], path[320];

    if (!c) {
        snap_error_set(err, SNAP_E_INVALID, "no Cinder client");
        return NULL;
    }
    if (!cinder_check_id(id, "group snapshot", err))
        return NULL;
    snprintf(what, sizeof(what), "cannot show group snapshot '%s'", id);
    if (!cinder_require_mv(c, CINDER_MV(3, 14), what, err))
        return NULL;
    snprintf(path, sizeof(path), "/group_snapshots/%s", id);
    reply = cinder_call_one(c, CINDER_HTTP_GET, path, NULL, what, err);
    if (!reply)
        return NULL;
    gs = group_snapshot_from_json(reply, what, err);
    json_decref(reply);
    return gs;
}

bool
cinder_group_snapshot_delete(cinder_client *c, const char *id, snap_error *err)
{
    json_t *reply;
    char what[128], path[320];

    if (!c)
        return snap_error_set(err, SNAP_E_INVALID, "no Cinder client");
    if (!cinder_check_id(id, "group snapshot", err))
        return false;
    snprintf(what, sizeof(what), "cannot delete group snapshot '%s'", id);
    if (!cinder_require_mv(c, CINDER_MV(3, 14), what, err))
        return false;
    snprintf(path, sizeof(path), "/group_snapshots/%s", id);
    reply = cinder_call_one(c, CINDER_HTTP_DELETE, path, NULL, what, err);
    json_decref(reply);
    return reply != NULL;
}

bool
cinder_group_snapshots_wait(cinder_client *c, const char *const *ids, size_t n,
                            int64_t deadline_ms, cinder_wait_result *results,
                            snap_error *err)
{
    if (c && !cinder_require_mv(c, CINDER_MV(3, 14),
                                "cannot wait for group snapshots", err))
        return false;
    return cinder_poll(c, &cinder_poll_group_snapshot, ids, n,
                       CINDER_POLL_LEAVE, NULL, NULL, deadline_ms, results,
                       err);
}
