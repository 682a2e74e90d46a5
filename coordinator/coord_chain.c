/* coordinator/coord_chain.c -- see coord_chain.h. */
#include "coordinator/coord_chain.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void
coord_chain_cp_name(const char *uuid, char out[COORD_CHAIN_CP_LEN])
{
    snprintf(out, COORD_CHAIN_CP_LEN, "%s%s", COORD_CHAIN_CP_PREFIX, uuid);
}

/* True when @a was made after @b: creation time, then uuid (a total order,
 * so two sets made in the same millisecond still have a newest). */
static bool
newer(const coord_set *a, const coord_set *b)
{
    if (a->created_ms != b->created_ms)
        return a->created_ms > b->created_ms;
    return strcmp(a->uuid, b->uuid) > 0;
}

const coord_set *
coord_chain_last(coord_set *const *sets, size_t nsets, const char *domain_uuid,
                 const char *self)
{
    const coord_set *best = NULL;
    size_t i;

    for (i = 0; i < nsets; i++) {
        const coord_set *s = sets[i];

        if (strcmp(s->domain_uuid, domain_uuid) != 0 || !s->checkpoint ||
            s->state == COORD_SET_DELETING || s->state == COORD_SET_ERROR ||
            (self && strcmp(s->uuid, self) == 0))
            continue;
        if (!best || newer(s, best))
            best = s;
    }
    return best;
}

const coord_set *
coord_chain_find(coord_set *const *sets, size_t nsets, const char *uuid)
{
    size_t i;

    for (i = 0; uuid && i < nsets; i++) {
        if (strcmp(sets[i]->uuid, uuid) == 0)
            return sets[i];
    }
    return NULL;
}

coord_member *
coord_chain_member(const coord_set *set, const char *target)
{
    size_t i;

    for (i = 0; set && i < set->nmembers; i++) {
        if (strcmp(set->members[i].target, target) == 0)
            return &set->members[i];
    }
    return NULL;
}

bool
coord_chain_stacks_on(const coord_set *set, const char *uuid)
{
    size_t i;

    for (i = 0; i < set->nmembers; i++) {
        const coord_member *m = &set->members[i];

        if (m->kind == COORD_MEMBER_LOCAL && m->base &&
            strcmp(m->base, uuid) == 0)
            return true;
    }
    return false;
}

char *
coord_chain_backing(const char *uuid, const char *location, snap_error *err)
{
    const char *name = strrchr(location, '/');
    size_t n;
    char *s;

    name = name ? name + 1 : location;
    if (!name[0]) {
        snap_error_set(err, SNAP_E_INVALID, "copy '%s' has no file name",
                       location);
        return NULL;
    }
    n = strlen(uuid) + strlen(name) + 5;
    s = malloc(n);
    if (!s) {
        snap_error_set(err, SNAP_E_NOMEM, "out of memory");
        return NULL;
    }
    snprintf(s, n, "../%s/%s", uuid, name);
    return s;
}

static bool
listed(const char *const *names, size_t n, const char *name)
{
    size_t i;

    for (i = 0; name && i < n; i++) {
        if (strcmp(names[i], name) == 0)
            return true;
    }
    return false;
}

static bool
str_eq(const char *a, const char *b)
{
    return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

/* True when @location is a file right in the directory of set @uuid, the
 * sibling of @dir (the new set's directory): only then does the relative
 * backing path name it. */
static bool
in_sibling_dir(const char *dir, const char *uuid, const char *location)
{
    const char *slash = strrchr(dir, '/'), *name = strrchr(location, '/');
    size_t parent, ulen = strlen(uuid);

    if (!slash || !name)
        return false;
    parent = (size_t)(slash - dir) + 1; /* with its '/' */
    return strncmp(location, dir, parent) == 0 &&
           strncmp(location + parent, uuid, ulen) == 0 &&
           location + parent + ulen == name && name[1] != '\0';
}

static bool reason_set(coord_member *m, snap_error *err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static bool
reason_set(coord_member *m, snap_error *err, const char *fmt, ...)
{
    char buf[512];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    return coord_str_set(&m->full_reason, buf, err);
}

/* Why no member of @set may stack on @prev, or "" when some may. */
static void
set_reason(const coord_set *prev, const coord_chain_facts *f, char *buf,
           size_t size)
{
    size_t i;

    buf[0] = '\0';
    if (f->off) {
        snprintf(buf, size, "%s",
                 f->off_reason
                     ? f->off_reason
                     : "incremental copies are off (incremental = false)");
    } else if (f->probe_error) {
        snprintf(buf, size, "cannot read the domain's checkpoints: %s",
                 f->probe_error);
    } else if (!prev || !prev->checkpoint) {
        snprintf(buf, size, "no earlier set of this domain has a checkpoint");
    } else if (prev->state != COORD_SET_AVAILABLE) {
        snprintf(buf, size, "the previous set %s is %s", prev->uuid,
                 coord_set_state_name(prev->state));
    } else if (!listed(f->checkpoints, f->ncheckpoints, prev->checkpoint)) {
        snprintf(buf, size,
                 "checkpoint %s of the previous set is not on the domain",
                 prev->checkpoint);
    } else if (!f->copy_format || strcmp(f->copy_format, "qcow2") != 0) {
        snprintf(buf, size,
                 "copies are %s: an incremental copy needs a qcow2 overlay",
                 f->copy_format ? f->copy_format : "of no format");
    } else {
        for (i = 0; i < f->ncheckpoints; i++) {
            if (strcmp(f->checkpoints[i], prev->checkpoint) != 0 &&
                !listed(f->known, f->nknown, f->checkpoints[i])) {
                snprintf(buf, size,
                         "the domain has checkpoint %s, which the catalog "
                         "does not expect",
                         f->checkpoints[i]);
                break;
            }
        }
    }
}

/* One member that may carry a bitmap and the set-wide checks passed:
 * incremental on @prev's copy, or full with the reason. */
static bool
plan_member(coord_set *set, coord_member *m, const coord_set *prev,
            const coord_chain_facts *f, bool *incremental, snap_error *err)
{
    const coord_member *pm = coord_chain_member(prev, m->target);

    *incremental = false;
    if (!pm || pm->kind != COORD_MEMBER_LOCAL ||
        pm->state != COORD_MEMBER_AVAILABLE || !pm->location)
        return reason_set(m, err, "the previous set %s has no copy of it",
                          prev->uuid);
    if (!str_eq(pm->source_type, m->source_type) ||
        !str_eq(pm->source, m->source) || !str_eq(pm->format, m->format))
        return reason_set(m, err, "its source changed since set %s",
                          prev->uuid);
    if (m->size && pm->size && m->size != pm->size)
        return reason_set(m, err, "its size changed since set %s", prev->uuid);
    if (!listed(f->bitmap_disks, f->nbitmap_disks, m->target))
        return reason_set(m, err, "the bitmap of checkpoint %s is missing",
                          prev->checkpoint);
    if (!str_eq(pm->copy_format, "qcow2"))
        return reason_set(m, err, "the previous copy is not qcow2");
    if (!set->dir || !in_sibling_dir(set->dir, prev->uuid, pm->location))
        return reason_set(m, err,
                          "the previous copy %s is not in the catalog's "
                          "directory of set %s",
                          pm->location, prev->uuid);
    if (f->exists && !f->exists(pm->location))
        return reason_set(m, err, "the previous copy %s is gone", pm->location);
    m->backing = coord_chain_backing(prev->uuid, pm->location, err);
    if (!m->backing || !coord_str_set(&m->base, prev->uuid, err))
        return false;
    m->mode = COORD_COPY_INCREMENTAL;
    *incremental = true;
    return true;
}

bool
coord_chain_plan(coord_set *set, const coord_set *prev,
                 const coord_chain_facts *f, snap_error *err)
{
    char why[512], cp[COORD_CHAIN_CP_LEN];
    bool any_bitmap = false, any_incremental = false, incremental;
    size_t i;

    set_reason(prev, f, why, sizeof(why));
    free(set->checkpoint);
    free(set->checkpoint_from);
    set->checkpoint = set->checkpoint_from = NULL;
    for (i = 0; i < set->nmembers; i++) {
        coord_member *m = &set->members[i];

        if (m->kind != COORD_MEMBER_LOCAL)
            continue;
        m->mode = COORD_COPY_FULL;
        free(m->base);
        free(m->backing);
        free(m->full_reason);
        m->base = m->backing = m->full_reason = NULL;
        if (!str_eq(m->format, "qcow2")) {
            /* QEMU keeps persistent bitmaps in qcow2 images only. */
            if (!reason_set(m, err,
                            "a %s disk has no persistent bitmap: it is "
                            "copied in full every time",
                            m->format ? m->format : "raw"))
                return false;
            continue;
        }
        any_bitmap = true;
        if (why[0]) {
            if (!coord_str_set(&m->full_reason, why, err))
                return false;
            continue;
        }
        if (!plan_member(set, m, prev, f, &incremental, err))
            return false;
        any_incremental |= incremental;
    }
    coord_chain_cp_name(set->uuid, cp);
    if (any_bitmap && !f->off && !coord_str_set(&set->checkpoint, cp, err))
        return false;
    if (any_incremental &&
        !coord_str_set(&set->checkpoint_from, prev->checkpoint, err))
        return false;
    return true;
}

void
coord_chain_sizes(const coord_set *set, coord_set *const *sets, size_t nsets,
                  uint64_t *own, uint64_t *total)
{
    size_t i, depth;

    *own = *total = 0;
    for (i = 0; i < set->nmembers; i++) {
        const coord_member *m = &set->members[i];

        if (m->kind != COORD_MEMBER_LOCAL)
            continue;
        *own += m->allocated;
        *total += m->allocated;
        /* Down the chain; a chain is never longer than the catalog. */
        for (depth = 0; m->base && depth < nsets; depth++) {
            const coord_set *b = coord_chain_find(sets, nsets, m->base);

            m = b ? coord_chain_member(b, m->target) : NULL;
            if (!m)
                break;
            *total += m->allocated;
        }
    }
}
