/* coordinator/coord_set.c -- see coord_set.h. */
#include "coordinator/coord_set.h"

#include <stdlib.h>
#include <string.h>

#include "common/snap_strv.h"
#include "common/snap_time.h"

coord_set *
coord_set_new(snap_error *err)
{
    coord_set *set = calloc(1, sizeof(*set));

    if (!set) {
        snap_error_set(err, SNAP_E_NOMEM, "out of memory");
        return NULL;
    }
    snap_uuid_generate(set->uuid);
    set->created_ms = snap_wall_ms();
    set->state = COORD_SET_CREATING;
    set->freeze_ms = -1;
    set->pause_ms = -1;
    set->t_freeze = set->t_request = set->t_wait = set->t_thaw = -1;
    set->t_memory = -1;
    return set;
}

static void
member_release(coord_member *m)
{
    free(m->target);
    free(m->serial);
    free(m->source_type);
    free(m->source);
    free(m->format);
    free(m->volume_id);
    free(m->location);
    free(m->copy_format);
    free(m->base);
    free(m->backing);
    free(m->full_reason);
    free(m->protocol);
    free(m->snap_path);
    free(m->path_reason);
    free(m->rbd_image);
    free(m->rbd_snap);
}

void
coord_set_free(coord_set *set)
{
    size_t i;

    if (!set)
        return;
    for (i = 0; i < set->nmembers; i++)
        member_release(&set->members[i]);
    free(set->members);
    free(set->name);
    free(set->domain_name);
    free(set->dir);
    free(set->backup_type);
    free(set->error);
    free(set->group_snapshot_id);
    free(set->memory);
    free(set->checkpoint);
    free(set->checkpoint_from);
    for (i = 0; i < 2 * set->nmetadata; i++)
        free(set->metadata[i]);
    free(set->metadata);
    snap_strv_free(set->warnings, set->nwarnings);
    free(set);
}

const char *
coord_set_metadata(const coord_set *set, const char *key)
{
    size_t i;

    for (i = 0; i < set->nmetadata; i++) {
        if (strcmp(set->metadata[2 * i], key) == 0)
            return set->metadata[2 * i + 1];
    }
    return NULL;
}

bool
coord_set_add_metadata(coord_set *set, const char *key, const char *value,
                       snap_error *err)
{
    char **grown, *k = strdup(key), *v = strdup(value);

    grown = k && v ? realloc(set->metadata,
                             2 * (set->nmetadata + 1) * sizeof(*grown))
                   : NULL;
    if (!grown) {
        free(k);
        free(v);
        return snap_error_set(err, SNAP_E_NOMEM, "out of memory");
    }
    set->metadata = grown;
    set->metadata[2 * set->nmetadata] = k;
    set->metadata[2 * set->nmetadata + 1] = v;
    set->nmetadata++;
    return true;
}

bool
coord_set_add_warning(coord_set *set, const char *text, snap_error *err)
{
    return snap_strv_append(&set->warnings, &set->nwarnings, text, err);
}

coord_member *
coord_set_add_member(coord_set *set, snap_error *err)
{
    coord_member *members;

    members = realloc(set->members, (set->nmembers + 1) * sizeof(*members));
    if (!members) {
        snap_error_set(err, SNAP_E_NOMEM, "out of memory");
        return NULL;
    }
    set->members = members;
    memset(&members[set->nmembers], 0, sizeof(*members));
    return &members[set->nmembers++];
}

bool
coord_str_set(char **field, const char *value, snap_error *err)
{
    char *copy = NULL;

    if (value) {
        copy = strdup(value);
        if (!copy)
            return snap_error_set(err, SNAP_E_NOMEM, "out of memory");
    }
    free(*field);
    *field = copy;
    return true;
}

static int
name_parse(const char *const *names, int n, const char *s)
{
    int i;

    for (i = 0; s && i < n; i++) {
        if (strcmp(names[i], s) == 0)
            return i;
    }
    return -1;
}

static const char *const kind_names[] = {"local", "cinder"};
static const char *const member_state_names[] = {
    "pending", "requested", "taken", "available", "failed", "deleted"};
static const char *const consistency_names[] = {"none", "crash", "filesystem",
                                                "application"};
static const char *const set_state_names[] = {"creating", "available", "error",
                                              "deleting"};
static const char *const quiesce_names[] = {"required", "preferred", "off"};
static const char *const copy_mode_names[] = {"full", "incremental"};

#define NAME_FUNCS(fn_name, fn_parse, type, names, last)                       \
    const char *fn_name(type v)                                                \
    {                                                                          \
        return (int)v >= 0 && v < last ? names[v] : "unknown";                 \
    }                                                                          \
    int fn_parse(const char *s)                                                \
    {                                                                          \
        return name_parse(names, last, s);                                     \
    }

NAME_FUNCS(coord_member_kind_name, coord_member_kind_parse, coord_member_kind,
           kind_names, COORD_MEMBER_KIND_LAST)
NAME_FUNCS(coord_member_state_name, coord_member_state_parse,
           coord_member_state, member_state_names, COORD_MEMBER_STATE_LAST)
NAME_FUNCS(coord_consistency_name, coord_consistency_parse, coord_consistency,
           consistency_names, COORD_CONSISTENCY_LAST)
NAME_FUNCS(coord_set_state_name, coord_set_state_parse, coord_set_state,
           set_state_names, COORD_SET_LAST)
NAME_FUNCS(coord_quiesce_name, coord_quiesce_parse, coord_quiesce,
           quiesce_names, COORD_QUIESCE_LAST)
NAME_FUNCS(coord_copy_mode_name, coord_copy_mode_parse, coord_copy_mode,
           copy_mode_names, COORD_COPY_LAST)
