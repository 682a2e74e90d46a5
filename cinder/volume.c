/* cinder/volume.c -- Cinder volumes, their attachments and absolute
 * limits; see cinder.h. */
#include "cinder/cinder.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cinder/cinder_json.h"
#include "common/snap_uuid.h"

static void
attachments_free(cinder_attachment *a, size_t n)
{
    size_t i;

    if (!a)
        return;
    for (i = 0; i < n; i++) {
        free(a[i].id);
        free(a[i].server_id);
        free(a[i].host_name);
        free(a[i].device);
    }
    free(a);
}

void
cinder_volume_free(cinder_volume *vol)
{
    if (!vol)
        return;
    free(vol->id);
    free(vol->name);
    free(vol->description);
    free(vol->status);
    free(vol->volume_type);
    free(vol->group_id);
    free(vol->availability_zone);
    free(vol->snapshot_id);
    free(vol->source_volid);
    free(vol->created_at);
    attachments_free(vol->attachments, vol->nattachments);
    cinder_kv_array_free(vol->metadata, vol->nmetadata);
    free(vol);
}

void
cinder_volumes_free(cinder_volume **vols, size_t n)
{
    size_t i;

    if (!vols)
        return;
    for (i = 0; i < n; i++)
        cinder_volume_free(vols[i]);
    free(vols);
}

static bool
parse_attachments(json_t *arr, cinder_volume *vol, const char *what,
                  snap_error *err)
{
    cinder_attachment *a;
    json_t *el;
    size_t i;

    if (!arr || json_is_null(arr))
        return true;
    if (!json_is_array(arr))
        return snap_error_set(err, SNAP_E_INVALID,
                              "%s: malformed reply: attachments is not a list",
                              what);
    if (json_array_size(arr) == 0)
        return true;
    vol->attachments = calloc(json_array_size(arr), sizeof(*vol->attachments));
    if (!vol->attachments)
        return snap_error_set(err, SNAP_E_NOMEM, "%s: out of memory", what);
    json_array_foreach(arr, i, el)
    {
        if (!json_is_object(el))
            continue;
        a = &vol->attachments[vol->nattachments++];
        if (!cinder_json_string(el, "attachment_id", false, &a->id, what,
                                err) ||
            !cinder_json_string(el, "server_id", false, &a->server_id, what,
                                err) ||
            !cinder_json_string(el, "host_name", false, &a->host_name, what,
                                err) ||
            !cinder_json_string(el, "device", false, &a->device, what, err))
            return false;
    }
    return true;
}

cinder_volume *
cinder_volume_from_json(json_t *obj, const char *what, snap_error *err)
{
    cinder_volume *vol = NULL, *ret = NULL;

    if (!json_is_object(obj)) {
        snap_error_set(err, SNAP_E_INVALID, "%s: malformed reply: no volume",
                       what);
        return NULL;
    }
    vol = calloc(1, sizeof(*vol));
    if (!vol) {
        snap_error_set(err, SNAP_E_NOMEM, "%s: out of memory", what);
        return NULL;
    }
    if (!cinder_json_string(obj, "id", true, &vol->id, what, err) ||
        !cinder_json_string(obj, "status", true, &vol->status, what, err) ||
        !cinder_json_string(obj, "name", false, &vol->name, what, err) ||
        !cinder_json_string(obj, "description", false, &vol->description, what,
                            err) ||
        !cinder_json_string(obj, "volume_type", false, &vol->volume_type, what,
                            err) ||
        !cinder_json_string(obj, "group_id", false, &vol->group_id, what,
                            err) ||
        !cinder_json_string(obj, "availability_zone", false,
                            &vol->availability_zone, what, err) ||
        !cinder_json_string(obj, "snapshot_id", false, &vol->snapshot_id, what,
                            err) ||
        !cinder_json_string(obj, "source_volid", false, &vol->source_volid,
                            what, err) ||
        !cinder_json_string(obj, "created_at", false, &vol->created_at, what,
                            err) ||
        !parse_attachments(json_object_get(obj, "attachments"), vol, what,
                           err) ||
        !cinder_json_kv(json_object_get(obj, "metadata"), &vol->metadata,
                        &vol->nmetadata, what, err))
        goto cleanup;
    if (!cinder_id_valid(vol->id)) {
        snap_error_set(err, SNAP_E_INVALID,
                       "%s: malformed reply: bad volume id", what);
        goto cleanup;
    }
    vol->size_gb = cinder_json_int(obj, "size", 0);
    /* Cinder sends "bootable" as the string "true"/"false". */
    vol->bootable = cinder_json_bool(obj, "bootable", false);
    vol->multiattach = cinder_json_bool(obj, "multiattach", false);
    ret = vol;
    vol = NULL;

cleanup:
    cinder_volume_free(vol);
    return ret;
}

cinder_volume *
cinder_volume_show(cinder_client *c, const char *id, snap_error *err)
{
    cinder_volume *vol = NULL;
    json_t *reply;
    char what[128], path[300];

    if (!c) {
        snap_error_set(err, SNAP_E_INVALID, "no Cinder client");
        return NULL;
    }
    if (!cinder_check_id(id, "volume", err))
        return NULL;
    snprintf(what, sizeof(what), "cannot show volume '%s'", id);
    snprintf(path, sizeof(path), "/volumes/%s", id);
    reply = cinder_call_one(c, CINDER_HTTP_GET, path, NULL, what, err);
    if (!reply)
        return NULL;
    vol = cinder_volume_from_json(json_object_get(reply, "volume"), what, err);
    json_decref(reply);
    return vol;
}

void
cinder_attachment_info_release(cinder_attachment_info *info)
{
    if (!info)
        return;
    free(info->id);
    free(info->status);
    free(info->instance);
    free(info->volume_id);
    free(info->attach_mode);
    free(info->driver_volume_type);
    free(info->name);
    memset(info, 0, sizeof(*info));
}

/* Copies the member @key of connection_info @ci into *@out, NULL when
 * absent or null. Stricter than cinder_json_string(): these name the
 * backend a caller confirms, so a number is not converted. (A "\u0000"
 * that would cut the copy short never gets here: the reply parser refuses
 * it.) */
static bool
connection_string(json_t *ci, const char *key, char **out, const char *what,
                  snap_error *err)
{
    json_t *val = json_object_get(ci, key);

    *out = NULL;
    if (!val || json_is_null(val))
        return true;
    if (!json_is_string(val))
        return snap_error_set(err, SNAP_E_INVALID,
                              "%s: malformed reply: 'connection_info.%s' is "
                              "not a string",
                              what, key);
    *out = strdup(json_string_value(val));
    if (!*out)
        return snap_error_set(err, SNAP_E_NOMEM, "%s: out of memory", what);
    return true;
}

/* Fills @info from the "attachment" object @att of the reply for @id (or,
 * @id NULL, for one attachment of instance @instance). */
static bool
attachment_from_json(json_t *att, const char *id, const char *instance,
                     cinder_attachment_info *info, const char *what,
                     snap_error *err)
{
    json_t *ci;

    if (!att || json_is_null(att))
        return snap_error_set(err, SNAP_E_INVALID,
                              "%s: malformed reply: no attachment", what);
    if (!json_is_object(att))
        return snap_error_set(err, SNAP_E_INVALID,
                              "%s: malformed reply: 'attachment' is not an "
                              "object",
                              what);
    if (!cinder_json_string(att, "id", true, &info->id, what, err) ||
        !cinder_json_string(att, "status", true, &info->status, what, err) ||
        !cinder_json_string(att, "volume_id", true, &info->volume_id, what,
                            err) ||
        !cinder_json_string(att, "instance", false, &info->instance, what,
                            err) ||
        !cinder_json_string(att, "attach_mode", false, &info->attach_mode, what,
                            err))
        return false;
    /* The caller takes this record as the truth about @id: a reply about
     * another attachment (a proxy's cache, a confused server) must not
     * pass for it. UUIDs compare without regard to case. */
    if (id && strcasecmp(info->id, id) != 0)
        return snap_error_set(err, SNAP_E_INVALID,
                              "%s: malformed reply: it is attachment '%.64s'",
                              what, info->id);
    if (instance &&
        (!info->instance || strcasecmp(info->instance, instance) != 0))
        return snap_error_set(err, SNAP_E_INVALID,
                              "%s: malformed reply: attachment '%.64s' is "
                              "another instance's",
                              what, info->id);
    if (!snap_uuid_valid(info->id))
        return snap_error_set(err, SNAP_E_INVALID,
                              "%s: malformed reply: bad attachment id", what);
    if (!cinder_id_valid(info->volume_id))
        return snap_error_set(err, SNAP_E_INVALID,
                              "%s: malformed reply: bad volume id", what);
    /* Legacy os-attach attachments (and reserved ones) have none: null. */
    ci = json_object_get(att, "connection_info");
    if (!ci || json_is_null(ci))
        return true;
    if (!json_is_object(ci))
        return snap_error_set(err, SNAP_E_INVALID,
                              "%s: malformed reply: 'connection_info' is "
                              "neither an object nor null",
                              what);
    info->has_connection = true;
    return connection_string(ci, "driver_volume_type",
                             &info->driver_volume_type, what, err) &&
           connection_string(ci, "name", &info->name, what, err);
}

bool
cinder_attachment_show(cinder_client *c, const char *attachment_id,
                       cinder_attachment_info *out, snap_error *err)
{
    json_t *reply = NULL;
    char what[128], path[300];
    bool ok = false;

    if (!out)
        return snap_error_set(err, SNAP_E_INVALID,
                              "invalid attachment request");
    memset(out, 0, sizeof(*out));
    if (!c)
        return snap_error_set(err, SNAP_E_INVALID, "no Cinder client");
    /* Stricter than cinder_check_id(): Cinder's attachment ids are UUIDs,
     * and the id goes into the URL path. */
    if (!snap_uuid_valid(attachment_id))
        return snap_error_set(err, SNAP_E_INVALID,
                              "invalid attachment id '%.64s'",
                              attachment_id ? attachment_id : "(null)");
    snprintf(what, sizeof(what), "cannot show attachment '%s'", attachment_id);
    if (!cinder_require_mv(c, CINDER_MV(3, 27), what, err))
        return false;
    snprintf(path, sizeof(path), "/attachments/%s", attachment_id);
    reply = cinder_call_one(c, CINDER_HTTP_GET, path, NULL, what, err);
    if (!reply)
        goto cleanup;
    if (!attachment_from_json(json_object_get(reply, "attachment"),
                              attachment_id, NULL, out, what, err))
        goto cleanup;
    ok = true;

cleanup:
    if (!ok)
        cinder_attachment_info_release(out);
    json_decref(reply);
    return ok;
}

void
cinder_attachment_infos_free(cinder_attachment_info *infos, size_t n)
{
    size_t i;

    for (i = 0; infos && i < n; i++)
        cinder_attachment_info_release(&infos[i]);
    free(infos);
}

bool
cinder_attachment_list(cinder_client *c, const char *instance_id,
                       cinder_attachment_info **out, size_t *nout,
                       snap_error *err)
{
    cinder_attachment_info *infos = NULL;
    json_t *reply = NULL, *arr;
    char what[128], path[300];
    size_t i, n = 0;
    bool ok = false;

    if (!out || !nout)
        return snap_error_set(err, SNAP_E_INVALID,
                              "invalid attachment list request");
    *out = NULL;
    *nout = 0;
    if (!c)
        return snap_error_set(err, SNAP_E_INVALID, "no Cinder client");
    if (!snap_uuid_valid(instance_id))
        return snap_error_set(err, SNAP_E_INVALID,
                              "invalid instance id '%.64s'",
                              instance_id ? instance_id : "(null)");
    snprintf(what, sizeof(what), "cannot list the attachments of '%s'",
             instance_id);
    if (!cinder_require_mv(c, CINDER_MV(3, 27), what, err))
        return false;
    snprintf(path, sizeof(path), "/attachments/detail?instance_id=%s",
             instance_id);
    reply = cinder_call_one(c, CINDER_HTTP_GET, path, NULL, what, err);
    if (!reply)
        goto cleanup;
    arr = json_object_get(reply, "attachments");
    if (!json_is_array(arr)) {
        snap_error_set(err, SNAP_E_INVALID,
                       "%s: malformed reply: no attachments array", what);
        goto cleanup;
    }
    infos =
        calloc(json_array_size(arr) ? json_array_size(arr) : 1, sizeof(*infos));
    if (!infos) {
        snap_error_set(err, SNAP_E_NOMEM, "%s: out of memory", what);
        goto cleanup;
    }
    for (i = 0; i < json_array_size(arr); i++, n++) {
        if (!attachment_from_json(json_array_get(arr, i), NULL, instance_id,
                                  &infos[i], what, err))
            goto cleanup;
    }
    ok = true;

cleanup:
    if (ok) {
        *out = infos;
        *nout = n;
    } else {
        cinder_attachment_infos_free(infos, n + 1);
    }
    json_decref(reply);
    return ok;
}

typedef struct volume_list {
    cinder_volume **vols;
    size_t n;
    size_t cap;
    const char *what;
} volume_list;

static bool
collect_volume(json_t *item, void *ctx, snap_error *err)
{
    volume_list *l = ctx;
    cinder_volume *vol, **grown;

    vol = cinder_volume_from_json(item, l->what, err);
    if (!vol)
        return false;
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 16;
        grown = realloc(l->vols, l->cap * sizeof(*grown));
        if (!grown) {
            cinder_volume_free(vol);
            return snap_error_set(err, SNAP_E_NOMEM, "%s: out of memory",
                                  l->what);
        }
        l->vols = grown;
    }
    l->vols[l->n++] = vol;
    return true;
}

bool
cinder_volume_list(cinder_client *c, const cinder_kv *filter, size_t nfilter,
                   cinder_volume ***vols, size_t *nvols, snap_error *err)
{
    volume_list l = {0};
    char *path = NULL;
    bool ok;

    if (!c || !vols || !nvols || (nfilter > 0 && !filter))
        return snap_error_set(err, SNAP_E_INVALID,
                              "invalid volume list request");
    *vols = NULL;
    *nvols = 0;
    l.what = "cannot list volumes";
    if (nfilter > 0) {
        /* Same trap as snapshots: below 3.22 the filter is ignored. */
        if (!cinder_require_mv(c, CINDER_MV(3, 22),
                               "cannot list volumes by metadata", err))
            return false;
        path = cinder_metadata_query("/volumes/detail", filter, nfilter, err);
        if (!path)
            return false;
    }
    ok = cinder_list_all(c, path ? path : "/volumes/detail", "volumes",
                         collect_volume, &l, l.what, err);
    free(path);
    if (!ok) {
        cinder_volumes_free(l.vols, l.n);
        return false;
    }
    *vols = l.vols;
    *nvols = l.n;
    return true;
}

cinder_volume *
cinder_volume_create(cinder_client *c, const cinder_volume_req *req,
                     snap_error *err)
{
    cinder_volume *vol = NULL;
    json_t *v = NULL, *body = NULL, *reply = NULL, *meta;
    char what[160];

    if (!c || !req) {
        snap_error_set(err, SNAP_E_INVALID, "invalid volume request");
        return NULL;
    }
    if (req->snapshot_id)
        snprintf(what, sizeof(what),
                 "cannot create volume from snapshot '%.64s'",
                 req->snapshot_id);
    else if (req->source_volid)
        snprintf(what, sizeof(what), "cannot create volume from volume '%.64s'",
                 req->source_volid);
    else
        snprintf(what, sizeof(what), "cannot create volume '%.64s'",
                 req->name ? req->name : "");
    if (req->snapshot_id && !cinder_check_id(req->snapshot_id, "snapshot", err))
        return NULL;
    if (req->source_volid &&
        (req->snapshot_id ||
         !cinder_check_id(req->source_volid, "volume", err))) {
        snap_error_set(err, SNAP_E_INVALID,
                       "%s: from a snapshot or a volume, not both", what);
        return NULL;
    }
    if (!req->snapshot_id && !req->source_volid && req->size_gb <= 0) {
        snap_error_set(err, SNAP_E_INVALID, "%s: no size", what);
        return NULL;
    }
    v = json_object();
    if (!v)
        goto nomem;
    if (req->size_gb > 0 &&
        json_object_set_new(v, "size", json_integer(req->size_gb)) < 0)
        goto nomem;
    if (req->name && json_object_set_new(v, "name", json_string(req->name)) < 0)
        goto nomem;
    if (req->description &&
        json_object_set_new(v, "description", json_string(req->description)) <
            0)
        goto nomem;
    if (req->snapshot_id &&
        json_object_set_new(v, "snapshot_id", json_string(req->snapshot_id)) <
            0)
        goto nomem;
    if (req->source_volid &&
        json_object_set_new(v, "source_volid", json_string(req->source_volid)) <
            0)
        goto nomem;
    if (req->volume_type &&
        json_object_set_new(v, "volume_type", json_string(req->volume_type)) <
            0)
        goto nomem;
    if (req->availability_zone &&
        json_object_set_new(v, "availability_zone",
                            json_string(req->availability_zone)) < 0)
        goto nomem;
    if (req->nmetadata > 0) {
        meta = cinder_json_from_kv(req->metadata, req->nmetadata);
        if (!meta || json_object_set_new(v, "metadata", meta) < 0)
            goto nomem;
    }
    body = json_pack("{s:o}", "volume", v);
    v = NULL;
    if (!body)
        goto nomem;
    reply = cinder_call_one(c, CINDER_HTTP_POST, "/volumes", body, what, err);
    if (reply)
        vol = cinder_volume_from_json(json_object_get(reply, "volume"), what,
                                      err);
    json_decref(reply);
    json_decref(body);
    return vol;

nomem:
    json_decref(v);
    snap_error_set(err, SNAP_E_NOMEM, "%s: out of memory", what);
    return NULL;
}

bool
cinder_volume_delete(cinder_client *c, const char *id, bool cascade,
                     snap_error *err)
{
    json_t *reply;
    char what[128], path[320];

    if (!c)
        return snap_error_set(err, SNAP_E_INVALID, "no Cinder client");
    if (!cinder_check_id(id, "volume", err))
        return false;
    snprintf(what, sizeof(what), "cannot delete volume '%s'", id);
    snprintf(path, sizeof(path), "/volumes/%s%s", id,
             cascade ? "?cascade=true" : "");
    reply = cinder_call_one(c, CINDER_HTTP_DELETE, path, NULL, what, err);
    json_decref(reply);
    return reply != NULL;
}

bool
cinder_volume_revert(cinder_client *c, const char *volume_id,
                     const char *snapshot_id, snap_error *err)
{
    json_t *body, *reply;
    char what[200], path[320];

    if (!c)
        return snap_error_set(err, SNAP_E_INVALID, "no Cinder client");
    if (!cinder_check_id(volume_id, "volume", err) ||
        !cinder_check_id(snapshot_id, "snapshot", err))
        return false;
    snprintf(what, sizeof(what), "cannot revert volume '%s' to snapshot '%s'",
             volume_id, snapshot_id);
    if (!cinder_require_mv(c, CINDER_MV(3, 40), what, err))
        return false;
    snprintf(path, sizeof(path), "/volumes/%s/action", volume_id);
    body = json_pack("{s:{s:s}}", "revert", "snapshot_id", snapshot_id);
    if (!body)
        return snap_error_set(err, SNAP_E_NOMEM, "%s: out of memory", what);
    reply = cinder_call_one(c, CINDER_HTTP_POST, path, body, what, err);
    json_decref(body);
    json_decref(reply);
    return reply != NULL;
}

bool
cinder_volume_wait(cinder_client *c, const char *id, const char *status,
                   int64_t deadline_ms, snap_error *err)
{
    const char *ids[1] = {id};

    return cinder_poll(c, &cinder_poll_volume, ids, 1,
                       status ? CINDER_POLL_REACH : CINDER_POLL_GONE, status,
                       NULL, deadline_ms, NULL, err);
}

bool
cinder_limits_show(cinder_client *c, cinder_limits *limits, snap_error *err)
{
    const char *what = "cannot read Cinder limits";
    json_t *reply = NULL, *lim, *abs;
    bool ok = false;

    if (!c || !limits)
        return snap_error_set(err, SNAP_E_INVALID, "no Cinder client");
    reply = cinder_call_one(c, CINDER_HTTP_GET, "/limits", NULL, what, err);
    if (!reply)
        return false;
    lim = cinder_json_object(reply, "limits", what, err);
    abs = lim ? cinder_json_object(lim, "absolute", what, err) : NULL;
    if (!abs)
        goto cleanup;
    /* Absent values are unknown: treat them as unlimited, like Nova's
     * pre-check does. */
    limits->max_total_snapshots = cinder_json_int(abs, "maxTotalSnapshots", -1);
    limits->total_snapshots_used =
        cinder_json_int(abs, "totalSnapshotsUsed", 0);
    limits->max_total_volumes = cinder_json_int(abs, "maxTotalVolumes", -1);
    limits->total_volumes_used = cinder_json_int(abs, "totalVolumesUsed", 0);
    limits->max_total_volume_gigabytes =
        cinder_json_int(abs, "maxTotalVolumeGigabytes", -1);
    limits->total_gigabytes_used =
        cinder_json_int(abs, "totalGigabytesUsed", 0);
    ok = true;

cleanup:
    json_decref(reply);
    return ok;
}
