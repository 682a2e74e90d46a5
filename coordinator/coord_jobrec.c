/* coordinator/coord_jobrec.c -- see coord_jobrec.h. */
#include "coordinator/coord_jobrec.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/snap_fs.h"
#include "common/snap_log.h"
#include "common/snap_time.h"
#include "coordinator/coord_set.h"

#define JOBREC_MAX_BYTES (256 * 1024)

static const char *const state_names[] = {"queued", "running", "succeeded",
                                          "failed"};

const char *
coord_jobrec_state_name(coord_jobrec_state s)
{
    return (unsigned)s < sizeof(state_names) / sizeof(state_names[0])
               ? state_names[s]
               : "unknown";
}

int
coord_jobrec_state_parse(const char *name)
{
    size_t i;

    for (i = 0; name && i < sizeof(state_names) / sizeof(state_names[0]); i++)
        if (strcmp(name, state_names[i]) == 0)
            return (int)i;
    return -1;
}

coord_jobrec *
coord_jobrec_new(const char *kind, snap_error *err)
{
    coord_jobrec *r = calloc(1, sizeof(*r));

    if (!r || !(r->kind = strdup(kind))) {
        free(r);
        snap_error_set(err, SNAP_E_NOMEM, "out of memory");
        return NULL;
    }
    snap_uuid_generate(r->id);
    r->state = COORD_JOBREC_QUEUED;
    r->progress = -1;
    r->created_ms = snap_wall_ms();
    r->finished_ms = -1;
    return r;
}

void
coord_jobrec_free(coord_jobrec *r)
{
    if (!r)
        return;
    free(r->kind);
    free(r->domain_name);
    free(r->owner_project);
    free(r->owner_project_name);
    free(r->owner_project_domain);
    json_decref(r->result);
    free(r->error);
    free(r);
}

/* Adds @key: @value when @value is set; false when out of memory. */
static bool
put_str(json_t *o, const char *key, const char *value)
{
    return !value || !value[0] ||
           json_object_set_new(o, key, json_string(value)) == 0;
}

static json_t *
record_json(const coord_jobrec *r, bool with_owner)
{
    json_t *o = json_object();
    bool ok = o != NULL;

    ok = ok && put_str(o, "id", r->id) && put_str(o, "kind", r->kind) &&
         put_str(o, "state", coord_jobrec_state_name(r->state)) &&
         put_str(o, "domain", r->domain_name) &&
         put_str(o, "domain_uuid", r->domain_uuid) &&
         put_str(o, "set_id", r->set_uuid) &&
         json_object_set_new(o, "created", json_integer(r->created_ms)) == 0 &&
         json_object_set_new(o, "progress",
                             r->progress >= 0 ? json_integer(r->progress)
                                              : json_null()) == 0 &&
         json_object_set_new(o, "finished",
                             r->finished_ms >= 0 ? json_integer(r->finished_ms)
                                                 : json_null()) == 0 &&
         json_object_set_new(o, "result",
                             r->result ? json_deep_copy(r->result)
                                       : json_null()) == 0 &&
         json_object_set_new(
             o, "error", r->error ? json_string(r->error) : json_null()) == 0;
    if (ok && with_owner)
        ok = put_str(o, "owner_project", r->owner_project) &&
             put_str(o, "owner_project_name", r->owner_project_name) &&
             put_str(o, "owner_project_domain", r->owner_project_domain);
    if (!ok) {
        json_decref(o);
        return NULL;
    }
    return o;
}

json_t *
coord_jobrec_to_json(const coord_jobrec *r)
{
    return record_json(r, false);
}

static char *
jobs_dir(const char *catalog_dir, snap_error *err)
{
    return snap_path_join(catalog_dir, "jobs", err);
}

static char *
record_path(const char *catalog_dir, const char *id, snap_error *err)
{
    char name[SNAP_UUID_LEN + 8], *dir = jobs_dir(catalog_dir, err), *path;

    if (!dir)
        return NULL;
    snprintf(name, sizeof(name), "%s.json", id);
    path = snap_path_join(dir, name, err);
    free(dir);
    return path;
}

bool
coord_jobrec_save(const char *catalog_dir, const coord_jobrec *r,
                  snap_error *err)
{
    json_t *o = record_json(r, true);
    char *text = o ? json_dumps(o, JSON_INDENT(2) | JSON_SORT_KEYS) : NULL;
    char *dir = NULL, *path = NULL;
    bool ok = false;

    json_decref(o);
    if (!text) {
        snap_error_set(err, SNAP_E_NOMEM, "out of memory");
        goto cleanup;
    }
    dir = jobs_dir(catalog_dir, err);
    path = dir ? record_path(catalog_dir, r->id, err) : NULL;
    ok = path && snap_dir_make(dir, 0700, err) &&
         snap_file_write_atomic(path, text, strlen(text), 0600, err);

cleanup:
    free(text);
    free(dir);
    free(path);
    return ok;
}

/* A copy of the string @key of @o, or NULL; false when it is there and not
 * a string, or out of memory. */
static bool
get_str(json_t *o, const char *key, char **out, snap_error *err)
{
    json_t *v = json_object_get(o, key);

    *out = NULL;
    if (!v || json_is_null(v))
        return true;
    if (!json_is_string(v))
        return snap_error_set(err, SNAP_E_INVALID, "'%s' is not a string", key);
    return coord_str_set(out, json_string_value(v), err);
}

static bool
get_uuid(json_t *o, const char *key, char out[SNAP_UUID_LEN], bool required,
         snap_error *err)
{
    const char *v = json_string_value(json_object_get(o, key));

    out[0] = '\0';
    if (!v)
        return !required || snap_error_set(err, SNAP_E_INVALID, "no '%s'", key);
    if (!snap_uuid_valid(v))
        return snap_error_set(err, SNAP_E_INVALID, "'%s' is not a UUID", key);
    memcpy(out, v, SNAP_UUID_LEN);
    return true;
}

static coord_jobrec *
record_parse(const char *text, size_t len, snap_error *err)
{
    json_error_t jerr;
    json_t *o = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr), *v;
    coord_jobrec *r = calloc(1, sizeof(*r));
    int state;
    bool ok = false;

    if (!r) {
        snap_error_set(err, SNAP_E_NOMEM, "out of memory");
        goto cleanup;
    }
    r->progress = -1;
    r->finished_ms = -1;
    if (!json_is_object(o)) {
        snap_error_set(err, SNAP_E_INVALID, "not a JSON object%s%s",
                       o ? "" : ": ", o ? "" : jerr.text);
        goto cleanup;
    }
    state = coord_jobrec_state_parse(
        json_string_value(json_object_get(o, "state")));
    if (state < 0) {
        snap_error_set(err, SNAP_E_INVALID, "no valid 'state'");
        goto cleanup;
    }
    r->state = (coord_jobrec_state)state;
    if (!get_uuid(o, "id", r->id, true, err) ||
        !get_uuid(o, "domain_uuid", r->domain_uuid, false, err) ||
        !get_uuid(o, "set_id", r->set_uuid, false, err) ||
        !get_str(o, "kind", &r->kind, err) ||
        !get_str(o, "domain", &r->domain_name, err) ||
        !get_str(o, "error", &r->error, err) ||
        !get_str(o, "owner_project", &r->owner_project, err) ||
        !get_str(o, "owner_project_name", &r->owner_project_name, err) ||
        !get_str(o, "owner_project_domain", &r->owner_project_domain, err))
        goto cleanup;
    if (!r->kind) {
        snap_error_set(err, SNAP_E_INVALID, "no 'kind'");
        goto cleanup;
    }
    v = json_object_get(o, "created");
    if (!json_is_integer(v)) {
        snap_error_set(err, SNAP_E_INVALID, "no 'created' time");
        goto cleanup;
    }
    r->created_ms = json_integer_value(v);
    v = json_object_get(o, "finished");
    if (json_is_integer(v))
        r->finished_ms = json_integer_value(v);
    v = json_object_get(o, "progress");
    if (json_is_integer(v) && json_integer_value(v) >= 0 &&
        json_integer_value(v) <= 100)
        r->progress = (int)json_integer_value(v);
    v = json_object_get(o, "result");
    if (json_is_object(v))
        r->result = json_incref(v);
    ok = true;

cleanup:
    json_decref(o);
    if (!ok) {
        coord_jobrec_free(r);
        r = NULL;
    }
    return r;
}

coord_jobrec *
coord_jobrec_load(const char *catalog_dir, const char *id, snap_error *err)
{
    char *path, *text;
    size_t len = 0;
    coord_jobrec *r;
    snap_error e = {0};

    if (!snap_uuid_valid(id)) {
        snap_error_set(err, SNAP_E_INVALID, "bad job id: use its UUID");
        return NULL;
    }
    path = record_path(catalog_dir, id, err);
    if (!path)
        return NULL;
    text = snap_file_read(path, JOBREC_MAX_BYTES, &len, &e);
    if (!text) {
        if (e.code == SNAP_E_NOTFOUND)
            snap_error_set(err, SNAP_E_NOTFOUND, "no job %s", id);
        else
            snap_error_set(err, e.code, "%s", e.msg);
        free(path);
        return NULL;
    }
    r = record_parse(text, len, &e);
    if (!r)
        snap_error_set(err, e.code, "job record '%s' is broken: %s", path,
                       e.msg);
    else if (strcmp(r->id, id) != 0) {
        snap_error_set(err, SNAP_E_INVALID,
                       "job record '%s' names another job (%s)", path, r->id);
        coord_jobrec_free(r);
        r = NULL;
    }
    free(text);
    free(path);
    return r;
}

void
coord_jobrec_list_free(coord_jobrec **v, size_t n)
{
    size_t i;

    for (i = 0; v && i < n; i++)
        coord_jobrec_free(v[i]);
    free(v);
}

static int
newest_first(const void *a, const void *b)
{
    const coord_jobrec *x = *(coord_jobrec *const *)a;
    const coord_jobrec *y = *(coord_jobrec *const *)b;

    if (x->created_ms != y->created_ms)
        return x->created_ms > y->created_ms ? -1 : 1;
    return strcmp(x->id, y->id);
}

bool
coord_jobrec_list(const char *catalog_dir, coord_jobrec ***out, size_t *n,
                  snap_error *err)
{
    char *dir = NULL, id[SNAP_UUID_LEN];
    DIR *d;
    struct dirent *de;
    coord_jobrec **v = NULL, **nv, *r;
    size_t cap = 0, len;
    snap_error e;

    *out = NULL;
    *n = 0;
    dir = jobs_dir(catalog_dir, err);
    if (!dir)
        return false;
    d = opendir(dir);
    if (!d) {
        bool missing = errno == ENOENT;

        if (!missing)
            snap_error_set_errno(err, errno, "cannot read '%s'", dir);
        free(dir);
        return missing;
    }
    while ((de = readdir(d))) {
        len = strlen(de->d_name);
        if (len != SNAP_UUID_LEN - 1 + 5 ||
            strcmp(de->d_name + SNAP_UUID_LEN - 1, ".json") != 0)
            continue;
        memcpy(id, de->d_name, SNAP_UUID_LEN - 1);
        id[SNAP_UUID_LEN - 1] = '\0';
        memset(&e, 0, sizeof(e));
        r = coord_jobrec_load(catalog_dir, id, &e);
        if (!r) {
            if (e.code != SNAP_E_NOTFOUND) /* removed meanwhile: fine */
                snap_warn("%s", e.msg);
            continue;
        }
        if (*n == cap) {
            cap = cap ? 2 * cap : 16;
            nv = realloc(v, cap * sizeof(*v));
            if (!nv) {
                coord_jobrec_free(r);
                coord_jobrec_list_free(v, *n);
                closedir(d);
                free(dir);
                *n = 0;
                return snap_error_set(err, SNAP_E_NOMEM, "out of memory");
            }
            v = nv;
        }
        v[(*n)++] = r;
    }
    closedir(d);
    free(dir);
    if (*n > 1)
        qsort(v, *n, sizeof(*v), newest_first);
    *out = v;
    return true;
}

bool
coord_jobrec_prune(const char *catalog_dir, int64_t before_ms, size_t *nremoved,
                   snap_error *err)
{
    coord_jobrec **v = NULL;
    size_t n = 0, i;
    char *path;
    bool ok = true;

    *nremoved = 0;
    if (!coord_jobrec_list(catalog_dir, &v, &n, err))
        return false;
    for (i = 0; i < n && ok; i++) {
        const coord_jobrec *r = v[i];

        if ((r->state != COORD_JOBREC_SUCCEEDED &&
             r->state != COORD_JOBREC_FAILED) ||
            r->finished_ms <= 0 || r->finished_ms >= before_ms)
            continue;
        path = record_path(catalog_dir, r->id, err);
        ok = path && snap_path_remove(path, err);
        free(path);
        if (ok)
            (*nremoved)++;
    }
    coord_jobrec_list_free(v, n);
    return ok;
}

bool
coord_jobrec_fail_stale(const char *catalog_dir, const char *why,
                        size_t *nfailed, snap_error *err)
{
    coord_jobrec **v = NULL;
    size_t n = 0, i;
    bool ok;

    *nfailed = 0;
    if (!coord_jobrec_list(catalog_dir, &v, &n, err))
        return false;
    ok = true;
    for (i = 0; i < n; i++) {
        coord_jobrec *r = v[i];

        if (r->state != COORD_JOBREC_QUEUED && r->state != COORD_JOBREC_RUNNING)
            continue;
        r->state = COORD_JOBREC_FAILED;
        r->finished_ms = snap_wall_ms();
        if (!coord_str_set(&r->error, why, err) ||
            !coord_jobrec_save(catalog_dir, r, err)) {
            ok = false;
            break;
        }
        (*nfailed)++;
    }
    coord_jobrec_list_free(v, n);
    return ok;
}
