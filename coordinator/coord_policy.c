/* coordinator/coord_policy.c -- see coord_policy.h. */
#include "coordinator/coord_policy.h"
#include "common/snap_strv.h"

#include <ctype.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

/* ---- retention ----------------------------------------------------------- */

bool
coord_retention_any(const coord_retention *r)
{
    return r->keep_last > 0 || r->keep_hourly > 0 || r->keep_daily > 0 ||
           r->keep_weekly > 0 || r->keep_monthly > 0 || r->keep_yearly > 0;
}

static const char *const mark_names[COORD_PRUNE_MARK_LAST] = {
    [COORD_PRUNE_REMOVE] = "remove",
    [COORD_PRUNE_KEEP_LAST] = "keep-last",
    [COORD_PRUNE_KEEP_HOURLY] = "keep-hourly",
    [COORD_PRUNE_KEEP_DAILY] = "keep-daily",
    [COORD_PRUNE_KEEP_WEEKLY] = "keep-weekly",
    [COORD_PRUNE_KEEP_MONTHLY] = "keep-monthly",
    [COORD_PRUNE_KEEP_YEARLY] = "keep-yearly",
    [COORD_PRUNE_KEEP_ALL] = "keep-all",
    [COORD_PRUNE_KEEP_PARTIAL] = "keep-failed",
    [COORD_PRUNE_KEEP_BUSY] = "keep-busy",
};

const char *
coord_prune_mark_name(coord_prune_mark mark)
{
    if ((int)mark < 0 || mark >= COORD_PRUNE_MARK_LAST)
        return "?";
    return mark_names[mark];
}

bool
coord_prune_mark_keeps(coord_prune_mark mark)
{
    return mark != COORD_PRUNE_REMOVE;
}

void
coord_retention_format(const coord_retention *r, char *buf, size_t size)
{
    const struct {
        const char *name;
        int n;
    } rules[] = {
        {"keep-last", r->keep_last},       {"keep-hourly", r->keep_hourly},
        {"keep-daily", r->keep_daily},     {"keep-weekly", r->keep_weekly},
        {"keep-monthly", r->keep_monthly}, {"keep-yearly", r->keep_yearly},
    };
    size_t i, used = 0;

    if (size == 0)
        return;
    buf[0] = '\0';
    if (!coord_retention_any(r)) {
        snprintf(buf, size, "keep-all");
        return;
    }
    for (i = 0; i < sizeof(rules) / sizeof(rules[0]); i++) {
        int w;

        if (rules[i].n <= 0)
            continue;
        w = snprintf(buf + used, size - used, "%s%s=%d", used ? " " : "",
                     rules[i].name, rules[i].n);
        if (w < 0 || (size_t)w >= size - used)
            return; /* truncated: the buffer holds what fits */
        used += (size_t)w;
    }
}

/* The period of @time_ms for @mark's rule, as one number: two sets share a
 * period exactly when their keys are equal. Local time, like Proxmox. */
static int64_t
period_key(coord_prune_mark mark, int64_t time_ms, int64_t index)
{
    time_t t = (time_t)(time_ms / 1000);
    struct tm tm;
    char iso[16];
    int iso_year = 0, iso_week = 0;

    if (mark == COORD_PRUNE_KEEP_LAST)
        return index; /* every set is its own period */
    if (!localtime_r(&t, &tm))
        return index;
    switch (mark) {
    case COORD_PRUNE_KEEP_HOURLY:
        return (((int64_t)tm.tm_year * 400 + tm.tm_yday) * 24) + tm.tm_hour;
    case COORD_PRUNE_KEEP_DAILY:
        return (int64_t)tm.tm_year * 400 + tm.tm_yday;
    case COORD_PRUNE_KEEP_WEEKLY:
        /* ISO 8601 week-numbering year and week (%G, %V): the days of the
         * first days of January may belong to the last week of the year
         * before, and late December to week 1 of the next. */
        if (strftime(iso, sizeof(iso), "%G %V", &tm) == 0 ||
            sscanf(iso, "%d %d", &iso_year, &iso_week) != 2)
            return index;
        return (int64_t)iso_year * 100 + iso_week;
    case COORD_PRUNE_KEEP_MONTHLY:
        return (int64_t)tm.tm_year * 12 + tm.tm_mon;
    case COORD_PRUNE_KEEP_YEARLY:
        return tm.tm_year;
    default:
        return index;
    }
}

typedef struct prune_ctx {
    const coord_prune_item *items;
    size_t n;
    size_t *order;  /* indices, newest first */
    int *mark;      /* -1: undecided, else a coord_prune_mark */
    int64_t *seen;  /* scratch: period keys */
    int64_t *taken; /* scratch: period keys */
} prune_ctx;

static bool
key_in(const int64_t *keys, size_t n, int64_t key)
{
    size_t i;

    for (i = 0; i < n; i++) {
        if (keys[i] == key)
            return true;
    }
    return false;
}

static bool
is_rule_keep(int mark)
{
    return mark >= COORD_PRUNE_KEEP_LAST && mark <= COORD_PRUNE_KEEP_YEARLY;
}

/* One rule: keep the newest set of each of the @keep newest periods that
 * no earlier rule kept a set in (Proxmox's mark_selections). Older sets of
 * a period this rule kept are marked for removal at once, so a later rule
 * cannot pick them up either. */
static void
mark_rule(prune_ctx *c, coord_prune_mark rule, int keep)
{
    size_t i, nseen = 0, ntaken = 0;

    if (keep <= 0)
        return;
    for (i = 0; i < c->n; i++) {
        size_t k = c->order[i];

        if (is_rule_keep(c->mark[k]))
            c->seen[nseen++] =
                period_key(rule, c->items[k].time_ms, (int64_t)k);
    }
    for (i = 0; i < c->n; i++) {
        size_t k = c->order[i];
        int64_t key;

        if (c->mark[k] >= 0)
            continue;
        key = period_key(rule, c->items[k].time_ms, (int64_t)k);
        if (key_in(c->seen, nseen, key))
            continue; /* an earlier rule covers this period */
        if (!key_in(c->taken, ntaken, key)) {
            if (ntaken >= (size_t)keep)
                break;
            c->taken[ntaken++] = key;
            c->mark[k] = (int)rule;
        } else {
            c->mark[k] = COORD_PRUNE_REMOVE;
        }
    }
}

typedef struct by_time {
    int64_t time_ms;
    size_t index;
} by_time;

static int
newest_first(const void *a, const void *b)
{
    const by_time *x = a, *y = b;

    if (x->time_ms != y->time_ms)
        return x->time_ms > y->time_ms ? -1 : 1;
    /* equal times keep their input order */
    return x->index < y->index ? -1 : (x->index > y->index);
}

bool
coord_retention_apply(const coord_retention *r, const coord_prune_item *items,
                      size_t n, coord_prune_mark *marks, snap_error *err)
{
    prune_ctx c = {items, n, NULL, NULL, NULL, NULL};
    by_time *sorted = NULL;
    bool seen_ok = false, kept_failed = false, ok = false;
    size_t i;

    if (n == 0)
        return true;
    if (!coord_retention_any(r)) {
        for (i = 0; i < n; i++)
            marks[i] = COORD_PRUNE_KEEP_ALL;
        return true;
    }
    c.order = calloc(n, sizeof(*c.order));
    c.mark = calloc(n, sizeof(*c.mark));
    c.seen = calloc(n, sizeof(*c.seen));
    c.taken = calloc(n, sizeof(*c.taken));
    sorted = calloc(n, sizeof(*sorted));
    if (!c.order || !c.mark || !c.seen || !c.taken || !sorted) {
        snap_error_set(err, SNAP_E_NOMEM, "out of memory");
        goto cleanup;
    }
    for (i = 0; i < n; i++) {
        sorted[i].time_ms = items[i].time_ms;
        sorted[i].index = i;
        c.mark[i] = -1;
    }
    qsort(sorted, n, sizeof(*sorted), newest_first);
    for (i = 0; i < n; i++)
        c.order[i] = sorted[i].index;

    /* Busy sets are never touched. Failed sets never count as backups: the
     * newest is kept while no good set is newer (Proxmox keeps its last
     * unfinished backup the same way), the others go. */
    for (i = 0; i < n; i++) {
        size_t k = c.order[i];

        switch (items[k].state) {
        case COORD_PRUNE_ITEM_BUSY:
            c.mark[k] = COORD_PRUNE_KEEP_BUSY;
            break;
        case COORD_PRUNE_ITEM_FAILED:
            if (!seen_ok && !kept_failed) {
                c.mark[k] = COORD_PRUNE_KEEP_PARTIAL;
                kept_failed = true;
            } else {
                c.mark[k] = COORD_PRUNE_REMOVE;
            }
            break;
        default:
            seen_ok = true;
            break;
        }
    }
    mark_rule(&c, COORD_PRUNE_KEEP_LAST, r->keep_last);
    mark_rule(&c, COORD_PRUNE_KEEP_HOURLY, r->keep_hourly);
    mark_rule(&c, COORD_PRUNE_KEEP_DAILY, r->keep_daily);
    mark_rule(&c, COORD_PRUNE_KEEP_WEEKLY, r->keep_weekly);
    mark_rule(&c, COORD_PRUNE_KEEP_MONTHLY, r->keep_monthly);
    mark_rule(&c, COORD_PRUNE_KEEP_YEARLY, r->keep_yearly);
    for (i = 0; i < n; i++)
        marks[i] =
            c.mark[i] < 0 ? COORD_PRUNE_REMOVE : (coord_prune_mark)c.mark[i];
    ok = true;

cleanup:
    free(c.order);
    free(c.mark);
    free(c.seen);
    free(c.taken);
    free(sorted);
    return ok;
}

/* ---- schedules ----------------------------------------------------------- */

static const char *const weekdays[7] = {"sun", "mon", "tue", "wed",
                                        "thu", "fri", "sat"};

/* Parses "HH:MM", "H:MM" or "*:MM" (all of @s) into hour (-1 for '*')
 * and minute. */
static bool
parse_clock(const char *s, int *hour, int *minute)
{
    int h = -1;

    if (s[0] == '*') {
        s++;
    } else if (isdigit((unsigned char)s[0])) {
        h = s[0] - '0';
        s++;
        if (isdigit((unsigned char)s[0])) {
            h = h * 10 + (s[0] - '0');
            s++;
        }
        if (h > 23)
            return false;
    } else {
        return false;
    }
    if (s[0] != ':' || !isdigit((unsigned char)s[1]) ||
        !isdigit((unsigned char)s[2]) || s[3] != '\0')
        return false;
    *minute = (s[1] - '0') * 10 + (s[2] - '0');
    *hour = h;
    return *minute <= 59;
}

bool
coord_schedule_parse(const char *text, coord_schedule *s, snap_error *err)
{
    coord_schedule out = {COORD_SCHEDULE_CALENDAR, 0, -1, 0, 0};
    const char *p = text;
    int i;

    if (!text)
        goto bad;
    if (strcmp(text, "hourly") == 0) {
        out.hour = -1;
    } else if (strcmp(text, "daily") == 0) {
        out.hour = 0;
    } else if (strcmp(text, "weekly") == 0) {
        out.hour = 0;
        out.weekday = 1;
    } else if (strncmp(text, "every ", 6) == 0) {
        char *end;
        long long v;
        int64_t unit;

        p = text + 6;
        if (!isdigit((unsigned char)*p))
            goto bad;
        v = strtoll(p, &end, 10);
        if (strcmp(end, "m") == 0)
            unit = 60000;
        else if (strcmp(end, "h") == 0)
            unit = 3600000;
        else if (strcmp(end, "d") == 0)
            unit = 86400000;
        else
            goto bad;
        if (v < 1 || v > 366LL * 86400000 / unit)
            goto bad;
        out.kind = COORD_SCHEDULE_INTERVAL;
        out.interval_ms = v * unit;
    } else {
        for (i = 0; i < 7; i++) {
            if (strncasecmp(p, weekdays[i], 3) == 0 && p[3] == ' ') {
                out.weekday = i;
                p += 4;
                break;
            }
        }
        if (!parse_clock(p, &out.hour, &out.minute))
            goto bad;
        if (out.weekday >= 0 && out.hour < 0)
            goto bad; /* "mon *:30" is not a form we offer */
    }
    *s = out;
    return true;

bad:
    return snap_error_set(err, SNAP_E_INVALID,
                          "bad schedule '%s': use \"every 30m\", \"HH:MM\", "
                          "\"*:MM\", \"mon HH:MM\", \"hourly\", \"daily\" or "
                          "\"weekly\"",
                          text ? text : "");
}

int64_t
coord_schedule_next(const coord_schedule *s, int64_t after_ms)
{
    time_t t;
    struct tm tm;
    int i;

    switch (s->kind) {
    case COORD_SCHEDULE_INTERVAL:
        if (s->interval_ms <= 0)
            return -1;
        return (after_ms / s->interval_ms + 1) * s->interval_ms;
    case COORD_SCHEDULE_CALENDAR:
        break;
    default:
        return -1;
    }
    /* Walk whole minutes from the one after @after_ms: at most 8 days of
     * them. Plain and correct across DST changes (a local time skipped by
     * the clock change never fires that day; one repeated fires twice),
     * and it runs once per scheduled run. */
    t = (time_t)(after_ms / 60000 + 1) * 60;
    for (i = 0; i < 8 * 24 * 60 + 120; i++, t += 60) {
        if (!localtime_r(&t, &tm))
            return -1;
        if (tm.tm_min != s->minute)
            continue;
        if (s->hour >= 0 && tm.tm_hour != s->hour)
            continue;
        if (s->weekday >= 0 && tm.tm_wday != s->weekday)
            continue;
        return (int64_t)t * 1000;
    }
    return -1;
}

/* ---- policies ------------------------------------------------------------ */

void
coord_policy_init(coord_policy *p)
{
    memset(p, 0, sizeof(*p));
    p->quiesce = COORD_QUIESCE_PREFERRED;
    p->parallelism = 1;
}

void
coord_policy_release(coord_policy *p)
{
    if (!p)
        return;
    free(p->name);
    snap_strv_free(p->domains, p->ndomains);
    snap_strv_free(p->exclude, p->nexclude);
    free(p->backup_type);
    free(p->export_dir);
    free(p->schedule_text);
    memset(p, 0, sizeof(*p));
}

void
coord_policies_free(coord_policy *ps, size_t n)
{
    size_t i;

    for (i = 0; ps && i < n; i++)
        coord_policy_release(&ps[i]);
    free(ps);
}

bool
coord_policy_copy(coord_policy *dst, const coord_policy *src, snap_error *err)
{
    size_t i;

    coord_policy_init(dst);
    dst->metadata = src->metadata;
    dst->quiesce = src->quiesce;
    dst->pause = src->pause;
    dst->retention = src->retention;
    dst->export_kind = src->export_kind;
    dst->parallelism = src->parallelism;
    dst->schedule = src->schedule;
    if (!coord_str_set(&dst->name, src->name, err) ||
        !coord_str_set(&dst->backup_type, src->backup_type, err) ||
        !coord_str_set(&dst->export_dir, src->export_dir, err) ||
        !coord_str_set(&dst->schedule_text, src->schedule_text, err))
        goto error;
    for (i = 0; i < src->ndomains; i++) {
        if (!snap_strv_append(&dst->domains, &dst->ndomains, src->domains[i],
                              err))
            goto error;
    }
    for (i = 0; i < src->nexclude; i++) {
        if (!snap_strv_append(&dst->exclude, &dst->nexclude, src->exclude[i],
                              err))
            goto error;
    }
    return true;

error:
    coord_policy_release(dst);
    return false;
}

bool
coord_policy_name_valid(const char *name)
{
    size_t i, len;

    if (!name)
        return false;
    len = strlen(name);
    if (len == 0 || len > COORD_POLICY_NAME_MAX || name[0] == '.' ||
        name[0] == '-')
        return false;
    for (i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)name[i];

        if (!isalnum(ch) && ch != '-' && ch != '_' && ch != '.')
            return false;
    }
    return true;
}

const char *
coord_policy_backup_type(const coord_policy *p)
{
    return p->backup_type ? p->backup_type : p->name;
}

/* One entry matches a domain: its UUID exactly, or its name as a glob
 * (a plain name is a glob that matches itself). */
static bool
entry_matches(const char *entry, const char *name, const char *uuid)
{
    if (uuid && strcasecmp(entry, uuid) == 0)
        return true;
    return name && fnmatch(entry, name, 0) == 0;
}

bool
coord_policy_excludes(const coord_policy *p, const char *name, const char *uuid)
{
    size_t i;

    for (i = 0; i < p->nexclude; i++) {
        if (entry_matches(p->exclude[i], name, uuid))
            return true;
    }
    return false;
}

bool
coord_policy_selects(const coord_policy *p, const char *name, const char *uuid)
{
    size_t i;

    if (coord_policy_excludes(p, name, uuid))
        return false;
    for (i = 0; i < p->ndomains; i++) {
        if (entry_matches(p->domains[i], name, uuid))
            return true;
    }
    return false;
}

bool
coord_policy_check(const coord_policy *p, snap_error *err)
{
    const char *name = p->name ? p->name : "";

    if (!coord_policy_name_valid(p->name))
        return snap_error_set(err, SNAP_E_INVALID,
                              "bad policy name '%s': use letters, digits, "
                              "'-', '_' and '.' (at most %d)",
                              name, COORD_POLICY_NAME_MAX);
    if (p->backup_type && !coord_policy_name_valid(p->backup_type))
        return snap_error_set(err, SNAP_E_INVALID,
                              "policy '%s': bad backup_type '%s'", name,
                              p->backup_type);
    if (p->ndomains == 0 && !p->metadata)
        return snap_error_set(err, SNAP_E_INVALID,
                              "policy '%s' selects no domain: set domains or "
                              "metadata",
                              name);
    if (p->parallelism < 1 || p->parallelism > COORD_POLICY_PARALLELISM_MAX)
        return snap_error_set(err, SNAP_E_INVALID,
                              "policy '%s': parallelism must be between 1 "
                              "and %d",
                              name, COORD_POLICY_PARALLELISM_MAX);
    if (p->export_kind == COORD_EXPORT_OVA_DIR &&
        (!p->export_dir || p->export_dir[0] != '/'))
        return snap_error_set(err, SNAP_E_INVALID,
                              "policy '%s': an OVA export needs an absolute "
                              "directory",
                              name);
    if (p->retention.keep_last < 0 || p->retention.keep_hourly < 0 ||
        p->retention.keep_daily < 0 || p->retention.keep_weekly < 0 ||
        p->retention.keep_monthly < 0 || p->retention.keep_yearly < 0)
        return snap_error_set(err, SNAP_E_INVALID,
                              "policy '%s': keep_* must not be negative", name);
    return true;
}

const coord_policy *
coord_policy_find(const coord_policy *ps, size_t n, const char *name)
{
    size_t i;

    for (i = 0; name && i < n; i++) {
        if (ps[i].name && strcmp(ps[i].name, name) == 0)
            return &ps[i];
    }
    return NULL;
}

const char *
coord_export_kind_name(coord_export_kind k)
{
    switch (k) {
    case COORD_EXPORT_NONE:
        return "none";
    case COORD_EXPORT_OVA_DIR:
        return "ova";
    case COORD_EXPORT_GLANCE:
        return "glance";
    default:
        return "?";
    }
}
