/* coordinator/ops/exports.c -- see exports.h. */
#define _GNU_SOURCE /* flock() beside POSIX */
#include "coordinator/ops/exports.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/snap_fs.h"
#include "common/snap_log.h"
#include "common/snap_time.h"
#include "glance/glance_upload.h"

#define EXPORTS_MAX (16 << 20)

/* ---- editing exports.json ---------------------------------------------- */

/* Edits the set's exports.json under an flock of the set's directory (two
 * exports of one set may finish together). The file is replaced
 * atomically; `delete` removes it with the set's other files. */
typedef bool (*exports_edit_fn)(json_t *list, void *arg, snap_error *err);

static bool
exports_update(ops_ctx *ctx, const char *set_dir, exports_edit_fn edit,
               void *arg, snap_error *err)
{
    char *path = NULL, *text = NULL, *out = NULL;
    int64_t deadline = snap_now_ms() + ctx->conf.lock_timeout_ms;
    json_t *doc = NULL, *list;
    size_t len;
    int fd;
    bool ok = false;

    fd = open(set_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return snap_error_set_errno(err, errno, "cannot open '%s'", set_dir);
    while (flock(fd, LOCK_EX | LOCK_NB) < 0) {
        if (errno != EWOULDBLOCK && errno != EINTR) {
            snap_error_set_errno(err, errno, "cannot lock '%s'", set_dir);
            goto cleanup;
        }
        if (snap_ms_left(deadline) <= 0) {
            snap_error_set(err, SNAP_E_BUSY,
                           "another export holds '%s' for too long", set_dir);
            goto cleanup;
        }
        snap_sleep_ms(20);
    }
    path = snap_path_join(set_dir, OPS_EXPORTS_FILE, err);
    if (!path)
        goto cleanup;
    if (access(path, F_OK) == 0) {
        text = snap_file_read(path, EXPORTS_MAX, &len, err);
        if (!text)
            goto cleanup;
        doc = json_loads(text, 0, NULL);
        if (!json_is_object(doc) ||
            !json_is_array(json_object_get(doc, "exports"))) {
            snap_error_set(err, SNAP_E_INVALID,
                           "'%s' is not an exports "
                           "record",
                           path);
            goto cleanup;
        }
    } else {
        doc = json_pack("{s:[]}", "exports");
        if (!doc) {
            snap_error_set(err, SNAP_E_NOMEM, "out of memory");
            goto cleanup;
        }
    }
    list = json_object_get(doc, "exports");
    if (!edit(list, arg, err))
        goto cleanup;
    out = json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    if (!out) {
        snap_error_set(err, SNAP_E_NOMEM, "out of memory");
        goto cleanup;
    }
    ok = snap_file_write_atomic(path, out, strlen(out), 0600, err);

cleanup:
    close(fd); /* releases the flock */
    json_decref(doc);
    free(path);
    free(text);
    free(out);
    return ok;
}

/* An exports.json entry: replaces the one with the same id. */
static bool
edit_put(json_t *list, void *arg, snap_error *err)
{
    json_t *entry = arg, *e;
    const char *id = json_string_value(json_object_get(entry, "id"));
    size_t i;

    json_array_foreach(list, i, e)
    {
        const char *eid = json_string_value(json_object_get(e, "id"));

        if (eid && id && strcmp(eid, id) == 0) {
            if (json_array_set(list, i, entry) != 0)
                return snap_error_set(err, SNAP_E_NOMEM, "out of memory");
            return true;
        }
    }
    if (json_array_append(list, entry) != 0)
        return snap_error_set(err, SNAP_E_NOMEM, "out of memory");
    return true;
}

static bool
edit_drop(json_t *list, void *arg, snap_error *err)
{
    const char *id = arg;
    json_t *e;
    size_t i;

    (void)err;
    json_array_foreach(list, i, e)
    {
        const char *eid = json_string_value(json_object_get(e, "id"));

        if (eid && strcmp(eid, id) == 0) {
            json_array_remove(list, i);
            return true;
        }
    }
    return true;
}

/* Deletes the images of uploads whose process died ("uploading" entries
 * whose owner is gone), and drops their entries. Best effort. */
typedef struct sweep_arg {
    ops_ctx *ctx;
    int removed;
} sweep_arg;

static bool
edit_sweep(json_t *list, void *arg, snap_error *err)
{
    sweep_arg *sa = arg;
    coord_journal j;
    snap_error e;
    json_t *x;
    size_t i = 0;

    (void)err;
    while (i < json_array_size(list)) {
        const char *state, *image;

        x = json_array_get(list, i);
        state = json_string_value(json_object_get(x, "state"));
        image = json_string_value(json_object_get(x, "image_id"));
        memset(&j, 0, sizeof(j));
        j.owner_pid = (long)json_integer_value(json_object_get(x, "owner_pid"));
        j.owner_start = json_integer_value(json_object_get(x, "owner_start"));
        if (!image || !state ||
            (strcmp(state, "uploading") != 0 &&
             strcmp(state, "left-behind") != 0) ||
            (strcmp(state, "uploading") == 0 && ops_owner_alive(&j))) {
            i++;
            continue;
        }
        memset(&e, 0, sizeof(e));
        if (glance_image_delete(sa->ctx->os.session, image, &e) ||
            e.code == SNAP_E_NOTFOUND) {
            snap_info("deleted image %s of an interrupted export", image);
            json_array_remove(list, i);
            sa->removed++;
            continue;
        }
        snap_warn("cannot delete image %s of an interrupted export: %s", image,
                  e.msg);
        i++;
    }
    return true;
}

bool
ops_exports_put(ops_ctx *ctx, const char *set_dir, json_t *entry,
                snap_error *err)
{
    return exports_update(ctx, set_dir, edit_put, entry, err);
}

bool
ops_exports_drop(ops_ctx *ctx, const char *set_dir, const char *id,
                 snap_error *err)
{
    return exports_update(ctx, set_dir, edit_drop, (void *)id, err);
}

void
ops_exports_sweep(ops_ctx *ctx, const char *set_dir)
{
    sweep_arg sa = {ctx, 0};

    /* Best effort: an export goes on when the record cannot be read. */
    (void)exports_update(ctx, set_dir, edit_sweep, &sa, NULL);
}

/* ---- the exports of a set that goes ------------------------------------ */

typedef struct drop_arg {
    ops_ctx *ctx;
    const coord_set *set; /* whose exports (the audit log's domain) */
    snap_error err;       /* the first artefact that could not be removed */
    int removed;
} drop_arg;

/* The identity recorded in entry @x (dev, ino), all 0 when it has none. */
static snap_file_id
entry_id(const json_t *x)
{
    snap_file_id id;

    id.dev = (unsigned long long)json_integer_value(json_object_get(x, "dev"));
    id.ino = (unsigned long long)json_integer_value(json_object_get(x, "ino"));
    return id;
}

/* What is not ours any more (@e: SNAP_E_STATE from snap_fs) is left where
 * it is, said, and its record dropped: it must not keep the set. */
static bool
kept_not_ours(const char *path, snap_error *e)
{
    if (e->code != SNAP_E_STATE)
        return false;
    printf("kept %s (export of this set): %s\n", path, e->msg);
    snap_warn("export '%s' left in place: %s", path, e->msg);
    snap_error_clear(e);
    return true;
}

/* An --ovf DIR export: only the files it wrote (recorded by name), in the
 * directory it wrote them to (recorded by identity), never following a
 * symlink; the directory goes only if the export made it and it is empty
 * then. A record from before file lists were kept proves nothing: its
 * directory is left as it is. */
static bool
remove_ovf(const json_t *x, const char *path, snap_error *e)
{
    json_t *files = json_object_get(x, "files"), *f;
    snap_file_id id = entry_id(x);
    const char **names = NULL;
    size_t n = 0, i, kept = 0;
    bool ok;

    if (!json_is_array(files)) {
        printf("kept %s (export of this set): its record does not list the "
               "files the export wrote (an older snapset); remove them by "
               "hand\n",
               path);
        return true;
    }
    names = calloc(json_array_size(files) + 1, sizeof(*names));
    if (!names)
        return snap_error_set(e, SNAP_E_NOMEM, "out of memory");
    json_array_foreach(files, i, f)
    {
        if (!json_is_string(f)) {
            free(names);
            return snap_error_set(e, SNAP_E_INVALID,
                                  "the record of export '%s' is damaged", path);
        }
        names[n++] = json_string_value(f);
    }
    ok = snap_dir_remove_names(path, &id, names, n,
                               json_is_true(json_object_get(x, "dir_created")),
                               &kept, e);
    free(names);
    if (!ok)
        return kept_not_ours(path, e);
    if (kept)
        printf("deleted the files of %s (export of this set); kept %zu "
               "entries under its names that it did not write\n",
               path, kept);
    else
        printf("deleted %s (export of this set)\n", path);
    return true;
}

/* An --ova FILE export: the file, if it is still the one written (by
 * identity; a record without one: a regular file of the recorded size),
 * never a symlink at its name. */
static bool
remove_ova(const json_t *x, const char *path, snap_error *e)
{
    snap_file_id id = entry_id(x);
    json_t *size = json_object_get(x, "size");
    struct stat st;

    if (!id.dev && !id.ino && json_is_integer(size) && lstat(path, &st) == 0 &&
        S_ISREG(st.st_mode) && st.st_size != (off_t)json_integer_value(size)) {
        snap_error_set(e, SNAP_E_STATE,
                       "'%s' is not the file that was written (its size "
                       "changed): not removed",
                       path);
        return kept_not_ours(path, e);
    }
    if (!snap_file_remove_ours(path, &id, e))
        return kept_not_ours(path, e);
    printf("deleted %s (export of this set)\n", path);
    return true;
}

/* Removes what each entry made: its Glance image (gone already is fine),
 * its OVA file or OVF directory. Entries go from the list as their
 * artefact goes, so the list written back is what is left. */
static bool
edit_remove_all(json_t *list, void *arg, snap_error *err)
{
    drop_arg *da = arg;
    coord_journal j;
    json_t *x;
    size_t i = 0;

    (void)err;
    while (i < json_array_size(list)) {
        const char *state, *image, *path, *kind;
        snap_error e = {0};
        bool gone;

        x = json_array_get(list, i);
        state = json_string_value(json_object_get(x, "state"));
        image = json_string_value(json_object_get(x, "image_id"));
        path = json_string_value(json_object_get(x, "path"));
        kind = json_string_value(json_object_get(x, "kind"));
        memset(&j, 0, sizeof(j));
        j.owner_pid = (long)json_integer_value(json_object_get(x, "owner_pid"));
        j.owner_start = json_integer_value(json_object_get(x, "owner_start"));
        if (state && strcmp(state, "uploading") == 0 && ops_owner_alive(&j)) {
            snap_error_set(&da->err, SNAP_E_BUSY,
                           "the set is being exported (process %ld): delete "
                           "it when the export is done",
                           j.owner_pid);
            return true;
        }
        if (image) {
            gone = ops_openstack(da->ctx, &e) &&
                   glance_image_delete(da->ctx->os.session, image, &e);
            if (gone) {
                printf("deleted Glance image %s (export of this set)\n", image);
                ops_event(da->ctx, "delete", "image", image, da->set, NULL);
            } else if (e.code == SNAP_E_NOTFOUND) {
                gone = true;
                printf("Glance image %s (export of this set) was already "
                       "gone\n",
                       image);
            }
        } else if (path && kind && strcmp(kind, "ovf") == 0) {
            gone = remove_ovf(x, path, &e);
        } else if (path) {
            gone = remove_ova(x, path, &e);
        } else {
            gone = true; /* nothing was made */
        }
        if (!gone) {
            snap_error_set(&da->err, e.code, "cannot delete the export %s: %s",
                           image ? image : path, e.msg);
            return true;
        }
        json_array_remove(list, i);
        da->removed++;
    }
    return true;
}

bool
ops_exports_delete(ops_ctx *ctx, const coord_set *set, snap_error *err)
{
    drop_arg da;
    char *path;
    bool exists;

    if (!set->dir)
        return true;
    path = snap_path_join(set->dir, OPS_EXPORTS_FILE, err);
    if (!path)
        return false;
    exists = access(path, F_OK) == 0;
    free(path);
    if (!exists)
        return true;
    memset(&da, 0, sizeof(da));
    da.ctx = ctx;
    da.set = set;
    if (!exports_update(ctx, set->dir, edit_remove_all, &da, err))
        return false;
    if (snap_error_isset(&da.err)) {
        snap_error_set(err, da.err.code, "%s", da.err.msg);
        return false;
    }
    return true;
}

void
ops_exports_note_kept(const coord_set *set)
{
    json_t *list = ops_exports_list(set), *x;
    size_t i;

    json_array_foreach(list, i, x)
    {
        const char *image = json_string_value(json_object_get(x, "image_id"));
        const char *file = json_string_value(json_object_get(x, "path"));

        if (image)
            printf("kept Glance image %s (export of this set; delete "
                   "--with-exports removes it)\n",
                   image);
        else if (file)
            printf("kept %s (export of this set)\n", file);
    }
    json_decref(list);
}

json_t *
ops_exports_list(const coord_set *set)
{
    char *path, *text;
    json_t *doc, *list;
    size_t len;

    if (!set->dir)
        return json_array();
    path = snap_path_join(set->dir, OPS_EXPORTS_FILE, NULL);
    text = path && access(path, F_OK) == 0
               ? snap_file_read(path, EXPORTS_MAX, &len, NULL)
               : NULL;
    doc = text ? json_loads(text, 0, NULL) : NULL;
    list = json_object_get(doc, "exports");
    list = json_is_array(list) ? json_incref(list) : json_array();
    json_decref(doc);
    free(text);
    free(path);
    return list;
}
