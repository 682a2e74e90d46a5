/* coordinator/coord_catalog.c -- see coord_catalog.h. */
#include "coordinator/coord_catalog.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/file.h>
#include <unistd.h>

#include "common/snap_fs.h"
#include "common/snap_log.h"
#include "common/snap_time.h"

#define CATALOG_VERSION 1
#define CATALOG_MAX_DOC (4 * 1024 * 1024)

struct coord_catalog {
    char *dir;
    char *sets_dir;
    char *locks_dir;
};

coord_catalog *
coord_catalog_open(const char *dir, snap_error *err)
{
    coord_catalog *cat = calloc(1, sizeof(*cat));

    if (!cat) {
        snap_error_set(err, SNAP_E_NOMEM, "out of memory");
        return NULL;
    }
    cat->dir = strdup(dir);
    if (!cat->dir) {
        snap_error_set(err, SNAP_E_NOMEM, "out of memory");
        goto error;
    }
    cat->sets_dir = snap_path_join(dir, "sets", err);
    cat->locks_dir = snap_path_join(dir, "locks", err);
    if (!cat->sets_dir || !cat->locks_dir ||
        !snap_dir_make(cat->sets_dir, 0700, err) ||
        !snap_dir_make(cat->locks_dir, 0700, err))
        goto error;
    return cat;

error:
    coord_catalog_free(cat);
    return NULL;
}

void
coord_catalog_free(coord_catalog *cat)
{
    if (!cat)
        return;
    free(cat->dir);
    free(cat->sets_dir);
    free(cat->locks_dir);
    free(cat);
}

const char *
coord_catalog_dir(const coord_catalog *cat)
{
    return cat->dir;
}

char *
coord_catalog_set_dir(const coord_catalog *cat, const char *uuid,
                      snap_error *err)
{
    return snap_path_join(cat->sets_dir, uuid, err);
}

static char *
doc_path(const coord_catalog *cat, const char *uuid, snap_error *err)
{
    char name[SNAP_UUID_LEN + 8];

    snprintf(name, sizeof(name), "%s.json", uuid);
    return snap_path_join(cat->sets_dir, name, err);
}

/* ---- JSON ---------------------------------------------------------------- */

static int
add_str(json_t *obj, const char *key, const char *value)
{
    return json_object_set_new(obj, key,
                               value ? json_string(value) : json_null());
}

static int
add_time(json_t *obj, const char *key, int64_t wall_ms)
{
    char buf[40];

    if (wall_ms <= 0)
        return json_object_set_new(obj, key, json_null());
    return add_str(obj, key, snap_iso8601(wall_ms, buf, sizeof(buf)));
}

static json_t *
ms_or_null(int64_t ms)
{
    return ms >= 0 ? json_integer(ms) : json_null();
}

static json_t *
member_to_json(const coord_member *m)
{
    json_t *o = json_object();

    if (!o)
        return NULL;
    if (add_str(o, "target", m->target) || add_str(o, "serial", m->serial) ||
        add_str(o, "kind", coord_member_kind_name(m->kind)) ||
        add_str(o, "source_type", m->source_type) ||
        add_str(o, "source", m->source) || add_str(o, "format", m->format) ||
        add_str(o, "volume_id", m->volume_id) ||
        add_str(o, "location", m->location) ||
        add_str(o, "copy_format", m->copy_format) ||
        json_object_set_new(o, "size", json_integer((json_int_t)m->size)) ||
        add_str(o, "state", coord_member_state_name(m->state)) ||
        (m->protocol && add_str(o, "protocol", m->protocol))) {
        json_decref(o);
        return NULL;
    }
    if (m->kind == COORD_MEMBER_CINDER && m->snap_path &&
        (add_str(o, "snap_path", m->snap_path) ||
         add_str(o, "path_reason", m->path_reason) ||
         add_str(o, "rbd_image", m->rbd_image) ||
         add_str(o, "rbd_snap", m->rbd_snap))) {
        json_decref(o);
        return NULL;
    }
    if (m->kind == COORD_MEMBER_LOCAL &&
        (add_str(o, "mode", coord_copy_mode_name(m->mode)) ||
         add_str(o, "base", m->base) || add_str(o, "backing", m->backing) ||
         add_str(o, "full_reason", m->full_reason) ||
         json_object_set_new(o, "bytes_copied",
                             json_integer((json_int_t)m->bytes_copied)) ||
         json_object_set_new(o, "allocated",
                             json_integer((json_int_t)m->allocated)) ||
         add_str(o, "sha256", m->sha256[0] ? m->sha256 : NULL))) {
        json_decref(o);
        return NULL;
    }
    return o;
}

static json_t *
set_to_json(const coord_set *set)
{
    json_t *o = json_object(), *dom = json_object(), *members = json_array();
    json_t *jr = json_object(), *timings, *meta = json_object();
    json_t *warnings = json_array();
    size_t i;

    timings = json_pack(
        "{s:o, s:o, s:o, s:o}", "freeze_ms", ms_or_null(set->t_freeze),
        "request_ms", ms_or_null(set->t_request), "wait_ms",
        ms_or_null(set->t_wait), "thaw_ms", ms_or_null(set->t_thaw));
    if (!o || !dom || !members || !jr || !timings || !meta || !warnings)
        goto error;
    for (i = 0; i < set->nwarnings; i++) {
        if (json_array_append_new(warnings, json_string(set->warnings[i])))
            goto error;
    }
    for (i = 0; i < set->nmetadata; i++) {
        if (json_object_set_new(meta, set->metadata[2 * i],
                                json_string(set->metadata[2 * i + 1])))
            goto error;
    }
    if (add_str(dom, "name", set->domain_name) ||
        add_str(dom, "uuid", set->domain_uuid[0] ? set->domain_uuid : NULL))
        goto error;
    for (i = 0; i < set->nmembers; i++) {
        if (json_array_append_new(members, member_to_json(&set->members[i])))
            goto error;
    }
    if (json_object_set_new(jr, "freeze_attempted",
                            json_boolean(set->journal.freeze_attempted)) ||
        json_object_set_new(jr, "thawed", json_boolean(set->journal.thawed)) ||
        json_object_set_new(jr, "pause_attempted",
                            json_boolean(set->journal.pause_attempted)) ||
        json_object_set_new(jr, "resumed",
                            json_boolean(set->journal.resumed)) ||
        json_object_set_new(jr, "memory_attempted",
                            json_boolean(set->journal.memory_attempted)) ||
        json_object_set_new(jr, "owner_pid",
                            json_integer(set->journal.owner_pid)) ||
        json_object_set_new(jr, "owner_start",
                            json_integer(set->journal.owner_start)))
        goto error;
    if (json_object_set_new(o, "version", json_integer(CATALOG_VERSION)) ||
        add_str(o, "uuid", set->uuid) || add_str(o, "name", set->name) ||
        json_object_set_new(o, "domain", dom) || add_str(o, "dir", set->dir) ||
        add_str(o, "backup_type", set->backup_type) ||
        json_object_set_new(o, "rotation", json_integer(set->rotation)) ||
        json_object_set_new(o, "metadata", meta) ||
        json_object_set_new(o, "warnings", warnings) ||
        add_time(o, "created", set->created_ms) ||
        add_time(o, "finished", set->finished_ms) ||
        add_str(o, "state", coord_set_state_name(set->state)) ||
        add_str(o, "consistency", coord_consistency_name(set->consistency)) ||
        add_str(o, "quiesce", coord_quiesce_name(set->quiesce)) ||
        json_object_set_new(o, "pause_requested",
                            json_boolean(set->pause_requested)) ||
        add_str(o, "error", set->error) ||
        add_str(o, "group_snapshot_id", set->group_snapshot_id) ||
        add_str(o, "memory", set->memory) ||
        add_str(o, "checkpoint", set->checkpoint) ||
        add_str(o, "checkpoint_from", set->checkpoint_from) ||
        json_object_set_new(o, "memory_save_ms",
                            set->t_memory >= 0 ? json_integer(set->t_memory)
                                               : json_null()) ||
        json_object_set_new(o, "freeze_window_ms",
                            set->freeze_ms >= 0 ? json_integer(set->freeze_ms)
                                                : json_null()) ||
        json_object_set_new(o, "pause_window_ms",
                            set->pause_ms >= 0 ? json_integer(set->pause_ms)
                                               : json_null()) ||
        json_object_set_new(o, "frozen_filesystems",
                            json_integer(set->frozen_count)) ||
        json_object_set_new(o, "timings", timings) ||
        json_object_set_new(o, "members", members) ||
        json_object_set_new(o, "journal", jr)) {
        dom = members = jr = timings = meta = warnings =
            NULL; /* owned by o now, or freed */
        goto error;
    }
    return o;

error:
    json_decref(warnings);
    json_decref(meta);
    json_decref(o);
    json_decref(dom);
    json_decref(members);
    json_decref(jr);
    json_decref(timings);
    return NULL;
}

char *
coord_set_to_json(const coord_set *set, snap_error *err)
{
    json_t *o = set_to_json(set);
    char *text;

    if (!o) {
        snap_error_set(err, SNAP_E_NOMEM, "out of memory");
        return NULL;
    }
    text = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    json_decref(o);
    if (!text)
        snap_error_set(err, SNAP_E_NOMEM, "out of memory");
    return text;
}

/* Reads an optional string member; a present non-string is an error. */
static bool
get_str(json_t *o, const char *key, char **out, bool required, snap_error *err)
{
    json_t *v = json_object_get(o, key);

    if (!v || json_is_null(v)) {
        if (required)
            return snap_error_set(err, SNAP_E_INVALID, "missing '%s'", key);
        return true;
    }
    if (!json_is_string(v))
        return snap_error_set(err, SNAP_E_INVALID, "'%s' is not a string", key);
    return coord_str_set(out, json_string_value(v), err);
}

static bool
get_int(json_t *o, const char *key, int64_t *out, int64_t dflt, snap_error *err)
{
    json_t *v = json_object_get(o, key);

    if (!v || json_is_null(v)) {
        *out = dflt;
        return true;
    }
    if (!json_is_integer(v))
        return snap_error_set(err, SNAP_E_INVALID, "'%s' is not an integer",
                              key);
    *out = json_integer_value(v);
    return true;
}

static bool
get_bool(json_t *o, const char *key, bool *out)
{
    json_t *v = json_object_get(o, key);

    *out = v && json_is_true(v);
    return true;
}

static bool
get_enum(json_t *o, const char *key, int (*parse)(const char *), int *out,
         snap_error *err)
{
    json_t *v = json_object_get(o, key);
    int r;

    if (!v || !json_is_string(v))
        return snap_error_set(err, SNAP_E_INVALID, "missing or bad '%s'", key);
    r = parse(json_string_value(v));
    if (r < 0)
        return snap_error_set(err, SNAP_E_INVALID, "unknown %s '%s'", key,
                              json_string_value(v));
    *out = r;
    return true;
}

static bool
get_time(json_t *o, const char *key, int64_t *out, snap_error *err)
{
    json_t *v = json_object_get(o, key);

    *out = 0;
    if (!v || json_is_null(v))
        return true;
    if (!json_is_string(v) ||
        (*out = snap_iso8601_parse(json_string_value(v))) < 0)
        return snap_error_set(err, SNAP_E_INVALID, "bad time in '%s'", key);
    return true;
}

/* A copy's backing file as the catalog records it: the previous set's
 * copy, "../UUID/NAME", and nothing else (the catalog is read as root:
 * no path it names may lead out of the catalog's set directories). */
static bool
backing_valid(const char *b)
{
    char uuid[SNAP_UUID_LEN];
    const char *name;

    if (strncmp(b, "../", 3) != 0 || strlen(b) < 3 + SNAP_UUID_LEN)
        return false;
    memcpy(uuid, b + 3, SNAP_UUID_LEN - 1);
    uuid[SNAP_UUID_LEN - 1] = '\0';
    name = b + 3 + SNAP_UUID_LEN - 1;
    return snap_uuid_valid(uuid) && name[0] == '/' && name[1] &&
           !strchr(name + 1, '/') && strcmp(name + 1, "..") != 0 &&
           strcmp(name + 1, ".") != 0;
}

static bool
sha256_valid(const char *h)
{
    size_t i;

    for (i = 0; h[i]; i++) {
        if (!((h[i] >= '0' && h[i] <= '9') || (h[i] >= 'a' && h[i] <= 'f')))
            return false;
    }
    return i == COORD_SHA256_HEX - 1;
}

/* The incremental-copy fields of a local member; all optional (sets made
 * before incremental sets are full copies). */
static bool
copy_from_json(json_t *o, coord_member *m, snap_error *err)
{
    json_t *v = json_object_get(o, "mode");
    char *sha = NULL;
    int64_t copied = 0, alloc = 0;
    int mode = COORD_COPY_FULL;

    if (v && !json_is_null(v) &&
        !get_enum(o, "mode", coord_copy_mode_parse, &mode, err))
        return false;
    m->mode = mode;
    if (!get_str(o, "base", &m->base, false, err) ||
        !get_str(o, "backing", &m->backing, false, err) ||
        !get_str(o, "full_reason", &m->full_reason, false, err) ||
        !get_int(o, "bytes_copied", &copied, 0, err) ||
        !get_int(o, "allocated", &alloc, 0, err) ||
        !get_str(o, "sha256", &sha, false, err)) {
        free(sha);
        return false;
    }
    m->bytes_copied = copied > 0 ? (uint64_t)copied : 0;
    m->allocated = alloc > 0 ? (uint64_t)alloc : 0;
    if (sha && !sha256_valid(sha)) {
        free(sha);
        return snap_error_set(err, SNAP_E_INVALID, "bad 'sha256' of disk '%s'",
                              m->target);
    }
    if (sha)
        memcpy(m->sha256, sha, COORD_SHA256_HEX);
    free(sha);
    if (m->base && !snap_uuid_valid(m->base))
        return snap_error_set(err, SNAP_E_INVALID, "bad 'base' of disk '%s'",
                              m->target);
    if (m->backing && !backing_valid(m->backing))
        return snap_error_set(err, SNAP_E_INVALID,
                              "bad 'backing' of disk '%s': '%s' is not "
                              "\"../SET/FILE\"",
                              m->target, m->backing);
    if (m->mode == COORD_COPY_INCREMENTAL && (!m->base || !m->backing))
        return snap_error_set(err, SNAP_E_INVALID,
                              "incremental copy of disk '%s' names no base",
                              m->target);
    if (m->backing &&
        (!m->base || strncmp(m->backing + 3, m->base, SNAP_UUID_LEN - 1) != 0))
        return snap_error_set(err, SNAP_E_INVALID,
                              "'backing' of disk '%s' is not in its base set",
                              m->target);
    return true;
}

static bool
member_from_json(json_t *o, coord_member *m, snap_error *err)
{
    int kind, state;
    int64_t size;

    if (!json_is_object(o))
        return snap_error_set(err, SNAP_E_INVALID, "member is not an object");
    if (!get_str(o, "target", &m->target, true, err) ||
        !get_str(o, "serial", &m->serial, false, err) ||
        !get_enum(o, "kind", coord_member_kind_parse, &kind, err) ||
        !get_str(o, "source_type", &m->source_type, false, err) ||
        !get_str(o, "source", &m->source, false, err) ||
        !get_str(o, "format", &m->format, false, err) ||
        !get_str(o, "volume_id", &m->volume_id, false, err) ||
        !get_str(o, "location", &m->location, false, err) ||
        !get_str(o, "copy_format", &m->copy_format, false, err) ||
        !get_str(o, "protocol", &m->protocol, false, err) ||
        !get_str(o, "snap_path", &m->snap_path, false, err) ||
        !get_str(o, "path_reason", &m->path_reason, false, err) ||
        !get_str(o, "rbd_image", &m->rbd_image, false, err) ||
        !get_str(o, "rbd_snap", &m->rbd_snap, false, err) ||
        !get_int(o, "size", &size, 0, err) ||
        !get_enum(o, "state", coord_member_state_parse, &state, err))
        return false;
    m->kind = kind;
    m->state = state;
    m->size = size > 0 ? (uint64_t)size : 0;
    return kind != COORD_MEMBER_LOCAL || copy_from_json(o, m, err);
}

/* A flat sequence: one field after the other, each checked. */
coord_set *
coord_set_from_json(const char *text, snap_error *err)
{
    json_error_t jerr;
    json_t *root = NULL, *dom, *members, *jr, *v;
    coord_set *set = NULL, *ret = NULL;
    char *uuid = NULL, *duuid = NULL;
    int64_t version = -1, rotation = 0, pid = 0, start = 0, frozen = 0;
    int state, consistency, quiesce;
    size_t i;

    root = json_loads(text, JSON_REJECT_DUPLICATES, &jerr);
    if (!root) {
        snap_error_set(err, SNAP_E_INVALID, "line %d: %s", jerr.line,
                       jerr.text);
        goto cleanup;
    }
    if (!json_is_object(root)) {
        snap_error_set(err, SNAP_E_INVALID, "not a JSON object");
        goto cleanup;
    }
    if (!get_int(root, "version", &version, -1, err))
        goto cleanup;
    if (version != CATALOG_VERSION) {
        snap_error_set(err, SNAP_E_INVALID, "unsupported catalog version %lld",
                       (long long)version);
        goto cleanup;
    }
    set = coord_set_new(err);
    if (!set)
        goto cleanup;
    if (!get_str(root, "uuid", &uuid, true, err))
        goto cleanup;
    if (!snap_uuid_valid(uuid)) {
        snap_error_set(err, SNAP_E_INVALID, "bad set uuid '%s'", uuid);
        goto cleanup;
    }
    memcpy(set->uuid, uuid, SNAP_UUID_LEN);
    dom = json_object_get(root, "domain");
    if (!json_is_object(dom)) {
        snap_error_set(err, SNAP_E_INVALID, "missing 'domain'");
        goto cleanup;
    }
    if (!get_str(dom, "name", &set->domain_name, true, err) ||
        !get_str(dom, "uuid", &duuid, false, err))
        goto cleanup;
    if (duuid) {
        if (!snap_uuid_valid(duuid)) {
            snap_error_set(err, SNAP_E_INVALID, "bad domain uuid '%s'", duuid);
            goto cleanup;
        }
        memcpy(set->domain_uuid, duuid, SNAP_UUID_LEN);
    }
    if (!get_str(root, "name", &set->name, false, err) ||
        !get_str(root, "dir", &set->dir, false, err) ||
        !get_str(root, "backup_type", &set->backup_type, false, err) ||
        !get_int(root, "rotation", &rotation, 0, err) ||
        !get_time(root, "created", &set->created_ms, err) ||
        !get_time(root, "finished", &set->finished_ms, err) ||
        !get_enum(root, "state", coord_set_state_parse, &state, err) ||
        !get_enum(root, "consistency", coord_consistency_parse, &consistency,
                  err) ||
        !get_enum(root, "quiesce", coord_quiesce_parse, &quiesce, err) ||
        !get_bool(root, "pause_requested", &set->pause_requested) ||
        !get_str(root, "error", &set->error, false, err) ||
        !get_str(root, "group_snapshot_id", &set->group_snapshot_id, false,
                 err) ||
        !get_str(root, "memory", &set->memory, false, err) ||
        !get_str(root, "checkpoint", &set->checkpoint, false, err) ||
        !get_str(root, "checkpoint_from", &set->checkpoint_from, false, err) ||
        !get_int(root, "memory_save_ms", &set->t_memory, -1, err) ||
        !get_int(root, "freeze_window_ms", &set->freeze_ms, -1, err) ||
        !get_int(root, "pause_window_ms", &set->pause_ms, -1, err) ||
        !get_int(root, "frozen_filesystems", &frozen, 0, err))
        goto cleanup;
    set->rotation = (int)rotation;
    set->state = state;
    set->consistency = consistency;
    set->quiesce = quiesce;
    set->frozen_count = frozen;

    v = json_object_get(root, "metadata");
    if (v && !json_is_null(v)) {
        const char *mk;
        json_t *mv;

        if (!json_is_object(v)) {
            snap_error_set(err, SNAP_E_INVALID, "'metadata' is not an object");
            goto cleanup;
        }
        json_object_foreach(v, mk, mv)
        {
            if (!json_is_string(mv)) {
                snap_error_set(err, SNAP_E_INVALID,
                               "metadata '%s' is not a string", mk);
                goto cleanup;
            }
            if (!coord_set_add_metadata(set, mk, json_string_value(mv), err))
                goto cleanup;
        }
    }
    v = json_object_get(root, "warnings");
    if (v && !json_is_null(v)) {
        json_t *w;

        if (!json_is_array(v)) {
            snap_error_set(err, SNAP_E_INVALID, "'warnings' is not an array");
            goto cleanup;
        }
        json_array_foreach(v, i, w)
        {
            if (!json_is_string(w)) {
                snap_error_set(err, SNAP_E_INVALID,
                               "warning %zu is not a string", i);
                goto cleanup;
            }
            if (!coord_set_add_warning(set, json_string_value(w), err))
                goto cleanup;
        }
    }
    members = json_object_get(root, "members");
    if (!json_is_array(members)) {
        snap_error_set(err, SNAP_E_INVALID, "missing 'members'");
        goto cleanup;
    }
    json_array_foreach(members, i, v)
    {
        coord_member *m = coord_set_add_member(set, err);

        if (!m || !member_from_json(v, m, err))
            goto cleanup;
    }
    v = json_object_get(root, "timings");
    if (json_is_object(v) &&
        (!get_int(v, "freeze_ms", &set->t_freeze, -1, err) ||
         !get_int(v, "request_ms", &set->t_request, -1, err) ||
         !get_int(v, "wait_ms", &set->t_wait, -1, err) ||
         !get_int(v, "thaw_ms", &set->t_thaw, -1, err)))
        goto cleanup;
    jr = json_object_get(root, "journal");
    if (json_is_object(jr)) {
        get_bool(jr, "freeze_attempted", &set->journal.freeze_attempted);
        get_bool(jr, "thawed", &set->journal.thawed);
        get_bool(jr, "pause_attempted", &set->journal.pause_attempted);
        get_bool(jr, "resumed", &set->journal.resumed);
        get_bool(jr, "memory_attempted", &set->journal.memory_attempted);
        if (!get_int(jr, "owner_pid", &pid, 0, err) ||
            !get_int(jr, "owner_start", &start, 0, err))
            goto cleanup;
        set->journal.owner_pid = (long)pid;
        set->journal.owner_start = start;
    }
    ret = set;
    set = NULL;

cleanup:
    coord_set_free(set);
    free(uuid);
    free(duuid);
    json_decref(root);
    return ret;
}

/* ---- documents ----------------------------------------------------------- */

bool
coord_catalog_save(coord_catalog *cat, const coord_set *set, snap_error *err)
{
    char *path = NULL, *text = NULL;
    bool ok = false;

    path = doc_path(cat, set->uuid, err);
    if (!path)
        goto cleanup;
    text = coord_set_to_json(set, err);
    if (!text)
        goto cleanup;
    ok = snap_file_write_atomic(path, text, strlen(text), 0600, err);

cleanup:
    free(text);
    free(path);
    return ok;
}

static coord_set *
load_path(const char *path, snap_error *err)
{
    char *text;
    coord_set *set;
    snap_error e = {0};

    text = snap_file_read(path, CATALOG_MAX_DOC, NULL, err);
    if (!text)
        return NULL;
    set = coord_set_from_json(text, &e);
    free(text);
    if (!set)
        snap_error_set(err, SNAP_E_INVALID, "catalog document '%s': %s", path,
                       e.msg);
    return set;
}

static bool
is_doc_name(const char *name)
{
    size_t len = strlen(name);

    return len == 36 + 5 && strcmp(name + 36, ".json") == 0;
}

coord_set *
coord_catalog_load(coord_catalog *cat, const char *id, snap_error *err)
{
    DIR *d = NULL;
    struct dirent *de;
    char match[SNAP_UUID_LEN] = "";
    char *path = NULL;
    coord_set *set = NULL;
    size_t len = strlen(id);
    int found = 0;

    if (len < 8 || len > 36 || strspn(id, "0123456789abcdef-") != len) {
        snap_error_set(err, SNAP_E_INVALID,
                       "bad set id '%s': give the set UUID or at least its "
                       "first 8 characters",
                       id);
        return NULL;
    }
    d = opendir(cat->sets_dir);
    if (!d) {
        snap_error_set_errno(err, errno, "cannot read catalog '%s'",
                             cat->sets_dir);
        return NULL;
    }
    while ((de = readdir(d))) {
        if (!is_doc_name(de->d_name) || strncmp(de->d_name, id, len) != 0)
            continue;
        if (found++ == 0)
            snprintf(match, sizeof(match), "%.36s", de->d_name);
    }
    closedir(d);
    if (found == 0) {
        snap_error_set(err, SNAP_E_NOTFOUND, "no set '%s' in the catalog", id);
        return NULL;
    }
    if (found > 1) {
        snap_error_set(err, SNAP_E_INVALID,
                       "set id '%s' is ambiguous: give more characters", id);
        return NULL;
    }
    path = doc_path(cat, match, err);
    if (path)
        set = load_path(path, err);
    free(path);
    return set;
}

static int
cmp_created(const void *a, const void *b)
{
    const coord_set *x = *(coord_set *const *)a;
    const coord_set *y = *(coord_set *const *)b;

    if (x->created_ms != y->created_ms)
        return x->created_ms < y->created_ms ? -1 : 1;
    return strcmp(x->uuid, y->uuid);
}

bool
coord_catalog_list(coord_catalog *cat, coord_set ***sets, size_t *nsets,
                   snap_error *err)
{
    DIR *d;
    struct dirent *de;
    coord_set **arr = NULL, **narr;
    size_t n = 0;

    *sets = NULL;
    *nsets = 0;
    d = opendir(cat->sets_dir);
    if (!d)
        return snap_error_set_errno(err, errno, "cannot read catalog '%s'",
                                    cat->sets_dir);
    while ((de = readdir(d))) {
        char *path;
        coord_set *set;
        snap_error e = {0};

        if (!is_doc_name(de->d_name))
            continue;
        path = snap_path_join(cat->sets_dir, de->d_name, err);
        if (!path)
            goto error;
        set = load_path(path, &e);
        free(path);
        if (!set) {
            if (e.code == SNAP_E_NOTFOUND)
                continue; /* deleted while we listed */
            snap_warn("skipping %s", e.msg);
            continue;
        }
        narr = realloc(arr, (n + 1) * sizeof(*arr));
        if (!narr) {
            coord_set_free(set);
            snap_error_set(err, SNAP_E_NOMEM, "out of memory");
            goto error;
        }
        arr = narr;
        arr[n++] = set;
    }
    closedir(d);
    if (n)
        qsort(arr, n, sizeof(*arr), cmp_created);
    *sets = arr;
    *nsets = n;
    return true;

error:
    closedir(d);
    coord_catalog_list_free(arr, n);
    return false;
}

void
coord_catalog_list_free(coord_set **sets, size_t nsets)
{
    size_t i;

    for (i = 0; i < nsets; i++)
        coord_set_free(sets[i]);
    free(sets);
}

bool
coord_catalog_remove(coord_catalog *cat, const char *uuid, snap_error *err)
{
    char *path = doc_path(cat, uuid, err);
    bool ok;

    if (!path)
        return false;
    ok = snap_path_remove(path, err);
    free(path);
    return ok;
}

int
coord_catalog_sweep(coord_catalog *cat, snap_error *err)
{
    DIR *d;
    struct dirent *de;
    int n = 0;

    d = opendir(cat->sets_dir);
    if (!d) {
        snap_error_set_errno(err, errno, "cannot read catalog '%s'",
                             cat->sets_dir);
        return -1;
    }
    while ((de = readdir(d))) {
        const char *tmp = strstr(de->d_name, ".json.tmp.");
        char *end, *path;
        long pid;

        if (!tmp || tmp - de->d_name != 36)
            continue;
        pid = strtol(tmp + 10, &end, 10);
        if (*end || pid <= 0 || (kill((pid_t)pid, 0) == 0 || errno != ESRCH))
            continue; /* its writer may still be at work */
        path = snap_path_join(cat->sets_dir, de->d_name, err);
        if (!path || !snap_path_remove(path, err)) {
            free(path);
            closedir(d);
            return -1;
        }
        free(path);
        n++;
    }
    closedir(d);
    return n;
}

/* ---- the per-domain lock ------------------------------------------------- */

int
coord_catalog_lock(coord_catalog *cat, const char *domain_uuid, long timeout_ms,
                   snap_error *err)
{
    char name[SNAP_UUID_LEN + 8];
    char *path;
    int fd;
    int64_t deadline = snap_now_ms() + timeout_ms;

    snprintf(name, sizeof(name), "%s.lock", domain_uuid);
    path = snap_path_join(cat->locks_dir, name, err);
    if (!path)
        return -1;
    fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) {
        snap_error_set_errno(err, errno, "cannot open lock '%s'", path);
        free(path);
        return -1;
    }
    free(path);
    for (;;) {
        if (flock(fd, LOCK_EX | LOCK_NB) == 0)
            return fd;
        if (errno != EWOULDBLOCK && errno != EINTR) {
            snap_error_set_errno(err, errno, "cannot lock domain '%s'",
                                 domain_uuid);
            break;
        }
        if (snap_now_ms() >= deadline) {
            snap_error_set(err, SNAP_E_BUSY,
                           "domain '%s' already has a snapset operation in "
                           "progress",
                           domain_uuid);
            break;
        }
        snap_sleep_ms(50);
    }
    close(fd);
    return -1;
}

void
coord_catalog_unlock(int fd)
{
    if (fd >= 0)
        close(fd); /* closing the descriptor drops the flock */
}
