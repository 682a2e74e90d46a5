/* coordinator/coord_policy.h -- backup policies: which domains, how to
 * snapshot them, how many sets to keep, and when to run.
 *
 * Plain data and pure functions (no external dependency): the configuration
 * (coord_conf.c) fills the structs, app/serve.c runs them against libvirt
 * and the catalog, and the unit tests drive the selection and retention
 * rules over synthetic names and times.
 *
 * Retention works like Proxmox Backup Server's prune: keep-last, then
 * keep-hourly, -daily, -weekly, -monthly and -yearly, applied together in
 * that order. Each rule keeps the newest set of each of its last N periods
 * (hours, days, ISO weeks, months, years) that hold a set, skipping periods
 * an earlier rule already kept a set in; within a period only the newest set
 * counts. Whatever no rule keeps is removed. No rule at all keeps
 * everything. Periods are in local time (TZ), as in Proxmox.
 */
#ifndef COORD_POLICY_H
#define COORD_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/snap_error.h"
#include "coordinator/coord_set.h"

#define COORD_POLICY_NAME_MAX 64 /* characters of a policy name */
#define COORD_POLICY_PARALLELISM_MAX 64

/* ---- retention ----------------------------------------------------------- */

typedef struct coord_retention {
    int keep_last; /* 0: rule not used */
    int keep_hourly;
    int keep_daily;
    int keep_weekly; /* ISO weeks, Monday to Sunday */
    int keep_monthly;
    int keep_yearly;
} coord_retention;

/* What a set is, as far as retention cares. */
typedef enum coord_prune_item_state {
    COORD_PRUNE_ITEM_OK = 0, /* available: a backup */
    COORD_PRUNE_ITEM_FAILED, /* error: never counts as a backup */
    COORD_PRUNE_ITEM_BUSY,   /* being made or deleted: never touched */
    COORD_PRUNE_ITEM_STATE_LAST
} coord_prune_item_state;

typedef struct coord_prune_item {
    int64_t time_ms; /* wall clock, ms since the epoch (created) */
    coord_prune_item_state state;
} coord_prune_item;

/* The verdict for one set, with the rule that decided it. */
typedef enum coord_prune_mark {
    COORD_PRUNE_REMOVE = 0,
    COORD_PRUNE_KEEP_LAST,
    COORD_PRUNE_KEEP_HOURLY,
    COORD_PRUNE_KEEP_DAILY,
    COORD_PRUNE_KEEP_WEEKLY,
    COORD_PRUNE_KEEP_MONTHLY,
    COORD_PRUNE_KEEP_YEARLY,
    COORD_PRUNE_KEEP_ALL,     /* no rule is set: nothing is pruned */
    COORD_PRUNE_KEEP_PARTIAL, /* the newest failed set, newer than every
                                 good one: kept so the failure stays seen */
    COORD_PRUNE_KEEP_BUSY,    /* being made or deleted */
    COORD_PRUNE_MARK_LAST
} coord_prune_mark;

/* True when at least one keep_* rule is set. */
bool coord_retention_any(const coord_retention *r);

/* Decides, for each of the @n sets of one domain and backup type in
 * @items (any order), whether retention keeps it: @marks[i] is the verdict
 * for @items[i]. Failed sets never count towards a rule; all of them but
 * the newest one, when it is newer than every good set, are removed. Busy
 * sets are always kept. Times are bucketed in local time.
 * Errors: SNAP_E_NOMEM. */
bool coord_retention_apply(const coord_retention *r,
                           const coord_prune_item *items, size_t n,
                           coord_prune_mark *marks, snap_error *err);

/* True for the KEEP_* marks. */
bool coord_prune_mark_keeps(coord_prune_mark mark);

/* "remove", "keep-last", "keep-daily", ... */
const char *coord_prune_mark_name(coord_prune_mark mark);

/* Writes "keep-last=3 keep-daily=7" (or "keep-all") into @buf. */
void coord_retention_format(const coord_retention *r, char *buf, size_t size);

/* ---- schedules ----------------------------------------------------------- */

typedef enum coord_schedule_kind {
    COORD_SCHEDULE_NONE = 0,
    COORD_SCHEDULE_INTERVAL, /* "every 15m": at multiples of the interval */
    COORD_SCHEDULE_CALENDAR, /* "02:30", "*:15", "mon 03:00", "daily" */
    COORD_SCHEDULE_KIND_LAST
} coord_schedule_kind;

typedef struct coord_schedule {
    coord_schedule_kind kind;
    int64_t interval_ms; /* INTERVAL */
    int weekday;         /* CALENDAR: 0 Sunday .. 6 Saturday, -1 any */
    int hour;            /* CALENDAR: 0..23, -1 every hour */
    int minute;          /* CALENDAR: 0..59 */
} coord_schedule;

/* Parses a schedule:
 *   "every N{m,h,d}"       every N minutes/hours/days, at multiples of the
 *                          interval since the epoch (UTC), N*unit >= 1 min
 *   "HH:MM"                every day at that local time
 *   "*:MM"                 every hour at that minute
 *   "DAY HH:MM"            every week (DAY: mon, tue, ..., sun)
 *   "hourly", "daily", "weekly" (= "*:00", "00:00", "mon 00:00")
 * Errors: SNAP_E_INVALID naming the text. */
bool coord_schedule_parse(const char *text, coord_schedule *s, snap_error *err);

/* The first time strictly after @after_ms (wall clock, ms) at which @s
 * fires, or -1 for COORD_SCHEDULE_NONE. Calendar times are local. */
int64_t coord_schedule_next(const coord_schedule *s, int64_t after_ms);

/* ---- policies ------------------------------------------------------------ */

typedef enum coord_export_kind {
    COORD_EXPORT_NONE = 0,
    COORD_EXPORT_OVA_DIR, /* an OVA package per set into export_dir */
    COORD_EXPORT_GLANCE,  /* an OVA image uploaded to Glance */
    COORD_EXPORT_KIND_LAST
} coord_export_kind;

typedef struct coord_policy {
    char *name;
    char **domains; /* names, UUIDs or fnmatch(3) globs on names */
    size_t ndomains;
    char **exclude; /* the same, removed from the selection */
    size_t nexclude;
    bool metadata; /* also domains whose libvirt metadata names the
                      policy (see app/serve.c) */
    coord_quiesce quiesce;
    bool pause;
    bool verify;       /* each new set is verified (ops/verify.h) */
    char *backup_type; /* recorded on its sets; the policy name if unset */
    coord_retention retention;
    coord_export_kind export_kind;
    char *export_dir;    /* COORD_EXPORT_OVA_DIR */
    int parallelism;     /* domains snapshotted at once, >= 1 */
    char *schedule_text; /* as written, or NULL */
    coord_schedule schedule;
} coord_policy;

/* Sets the defaults: quiesce preferred, no pause, parallelism 1, no
 * retention rule, no export, no schedule. */
void coord_policy_init(coord_policy *p);

/* Frees what @p holds and zeroes it; NULL is fine. */
void coord_policy_release(coord_policy *p);

/* Deep copy of @src into @dst (which is overwritten). */
bool coord_policy_copy(coord_policy *dst, const coord_policy *src,
                       snap_error *err);

/* Releases @n policies and the array. */
void coord_policies_free(coord_policy *ps, size_t n);

/* Letters, digits, '-', '_' and '.', not starting with '.' or '-', at most
 * COORD_POLICY_NAME_MAX characters. Also used for backup types. */
bool coord_policy_name_valid(const char *name);

/* The backup type the policy's sets carry (never NULL). */
const char *coord_policy_backup_type(const coord_policy *p);

/* True when the domain named @name with UUID @uuid (may be NULL) matches an
 * entry of domains and none of exclude. */
bool coord_policy_selects(const coord_policy *p, const char *name,
                          const char *uuid);

/* True when @name is excluded (even if libvirt metadata names the policy). */
bool coord_policy_excludes(const coord_policy *p, const char *name,
                           const char *uuid);

/* Checks a whole policy: a valid name, some way to select domains, a
 * parallelism within bounds, an export directory for OVA exports.
 * Errors: SNAP_E_INVALID naming the policy and the problem. */
bool coord_policy_check(const coord_policy *p, snap_error *err);

/* The policy named @name in @ps, or NULL. Borrowed. */
const coord_policy *coord_policy_find(const coord_policy *ps, size_t n,
                                      const char *name);

const char *coord_export_kind_name(coord_export_kind k);

#endif
