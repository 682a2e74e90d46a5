/* tests/unit/test_coord_policy.c -- policies: retention over synthetic set
 * times (keep-last/hourly/daily/weekly/monthly/yearly applied together,
 * like Proxmox's prune), schedules, and domain selection. The tests run in
 * UTC (TZ is set in main) so periods are the dates written here. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "coordinator/coord_policy.h"
#include "common/snap_strv.h"

/* Wall-clock ms of a UTC date. */
static int64_t
at(int y, int mo, int d, int h, int mi)
{
    struct tm tm;

    memset(&tm, 0, sizeof(tm));
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    return (int64_t)timegm(&tm) * 1000;
}

#define OK COORD_PRUNE_ITEM_OK
#define FAILED COORD_PRUNE_ITEM_FAILED
#define BUSY COORD_PRUNE_ITEM_BUSY
#define KEEP_LAST COORD_PRUNE_KEEP_LAST
#define KEEP_HOURLY COORD_PRUNE_KEEP_HOURLY
#define KEEP_DAILY COORD_PRUNE_KEEP_DAILY
#define KEEP_WEEKLY COORD_PRUNE_KEEP_WEEKLY
#define KEEP_MONTHLY COORD_PRUNE_KEEP_MONTHLY
#define KEEP_YEARLY COORD_PRUNE_KEEP_YEARLY
#define REMOVE COORD_PRUNE_REMOVE

static void
check_marks(const coord_retention *r, const coord_prune_item *items, size_t n,
            const coord_prune_mark *want)
{
    coord_prune_mark got[32];
    size_t i;
    snap_error err = {0};

    assert_true(n <= 32);
    assert_true(coord_retention_apply(r, items, n, got, &err));
    for (i = 0; i < n; i++) {
        if (got[i] != want[i])
            fail_msg("set %zu: want %s, got %s", i,
                     coord_prune_mark_name(want[i]),
                     coord_prune_mark_name(got[i]));
    }
}

static void
keep_last_keeps_the_newest_n(void **state)
{
    coord_retention r = {.keep_last = 2};
    coord_prune_item items[] = {
        {at(2026, 3, 1, 10, 0), OK}, {at(2026, 3, 2, 10, 0), OK},
        {at(2026, 3, 3, 10, 0), OK}, {at(2026, 3, 4, 10, 0), OK},
        {at(2026, 3, 5, 10, 0), OK},
    };
    coord_prune_mark want[] = {REMOVE, REMOVE, REMOVE, KEEP_LAST, KEEP_LAST};

    (void)state;
    check_marks(&r, items, 5, want);
}

static void
keep_daily_keeps_the_newest_set_of_each_of_the_last_days(void **state)
{
    coord_retention r = {.keep_daily = 3};
    /* day 1 twice, day 2 once, day 3 three times, no day 4, day 5 once */
    coord_prune_item items[] = {
        {at(2026, 3, 1, 10, 0), OK}, {at(2026, 3, 1, 22, 0), OK},
        {at(2026, 3, 2, 9, 0), OK},  {at(2026, 3, 3, 8, 0), OK},
        {at(2026, 3, 3, 12, 0), OK}, {at(2026, 3, 3, 18, 0), OK},
        {at(2026, 3, 5, 6, 0), OK},
    };
    coord_prune_mark want[] = {REMOVE, REMOVE,     KEEP_DAILY, REMOVE,
                               REMOVE, KEEP_DAILY, KEEP_DAILY};

    (void)state;
    check_marks(&r, items, 7, want);
}

static void
keep_hourly_counts_hours_not_sets(void **state)
{
    coord_retention r = {.keep_hourly = 2};
    coord_prune_item items[] = {
        {at(2026, 3, 1, 10, 5), OK},  {at(2026, 3, 1, 10, 50), OK},
        {at(2026, 3, 1, 11, 0), OK},  {at(2026, 3, 1, 11, 59), OK},
        {at(2026, 3, 1, 13, 30), OK},
    };
    coord_prune_mark want[] = {REMOVE, REMOVE, REMOVE, KEEP_HOURLY,
                               KEEP_HOURLY};

    (void)state;
    check_marks(&r, items, 5, want);
}

/* The rules together: each looks only at periods no earlier rule kept a
 * set in, and only at sets no earlier rule decided. */
static void
rules_apply_together_in_order(void **state)
{
    coord_retention r = {
        .keep_last = 2, .keep_daily = 2, .keep_weekly = 2, .keep_monthly = 2};
    coord_prune_item items[] = {
        {at(2026, 1, 10, 12, 0), OK}, /* S1 Sat, ISO week 2 */
        {at(2026, 2, 14, 12, 0), OK}, /* S2 Sat, week 7 */
        {at(2026, 3, 2, 12, 0), OK},  /* S3 Mon, week 10 */
        {at(2026, 3, 5, 12, 0), OK},  /* S4 Thu, week 10 */
        {at(2026, 3, 9, 12, 0), OK},  /* S5 Mon, week 11 */
        {at(2026, 3, 10, 8, 0), OK},  /* S6 Tue, week 11 */
        {at(2026, 3, 10, 20, 0), OK}, /* S7 Tue, week 11 */
        {at(2026, 3, 11, 9, 0), OK},  /* S8 Wed, week 11 */
    };
    /* last: S8 S7. daily: 03-10 is covered (S7), so S5 and S4. weekly:
     * weeks 11 and 10 are covered, so S2 and S1. monthly: every month is
     * covered by now. S6 and S3 go. */
    coord_prune_mark want[] = {KEEP_WEEKLY, KEEP_WEEKLY, REMOVE,    KEEP_DAILY,
                               KEEP_DAILY,  REMOVE,      KEEP_LAST, KEEP_LAST};

    (void)state;
    check_marks(&r, items, 8, want);
}

static void
weeks_are_iso_weeks_across_the_new_year(void **state)
{
    coord_retention weekly = {.keep_weekly = 5};
    coord_retention monthly = {.keep_monthly = 5};
    coord_retention yearly = {.keep_yearly = 5};
    coord_prune_item items[] = {
        {at(2025, 12, 27, 10, 0), OK}, /* Sat: 2025-W52 */
        {at(2025, 12, 29, 10, 0), OK}, /* Mon: 2026-W01 */
        {at(2026, 1, 2, 10, 0), OK},   /* Fri: 2026-W01 */
    };
    coord_prune_mark want_w[] = {KEEP_WEEKLY, REMOVE, KEEP_WEEKLY};
    coord_prune_mark want_m[] = {REMOVE, KEEP_MONTHLY, KEEP_MONTHLY};
    coord_prune_mark want_y[] = {REMOVE, KEEP_YEARLY, KEEP_YEARLY};

    (void)state;
    check_marks(&weekly, items, 3, want_w);
    check_marks(&monthly, items, 3, want_m);
    check_marks(&yearly, items, 3, want_y);
}

static void
keep_monthly_keeps_a_year_of_months(void **state)
{
    coord_retention r = {.keep_last = 1, .keep_monthly = 3};
    coord_prune_item items[8];
    coord_prune_mark want[8];
    int i;

    (void)state;
    /* the 1st and the 15th of Jan..Apr */
    for (i = 0; i < 8; i++) {
        items[i].time_ms = at(2026, 1 + i / 2, i % 2 ? 15 : 1, 3, 0);
        items[i].state = OK;
        want[i] = REMOVE;
    }
    want[7] = KEEP_LAST;    /* Apr 15 */
    want[5] = KEEP_MONTHLY; /* Mar 15 (April is covered) */
    want[3] = KEEP_MONTHLY; /* Feb 15 */
    want[1] = KEEP_MONTHLY; /* Jan 15 */
    check_marks(&r, items, 8, want);
}

static void
failed_sets_never_count_and_busy_sets_stay(void **state)
{
    coord_retention r = {.keep_last = 1};
    coord_prune_item items[] = {
        {at(2026, 3, 1, 0, 0), OK},     {at(2026, 3, 2, 0, 0), FAILED},
        {at(2026, 3, 3, 0, 0), OK},     {at(2026, 3, 4, 0, 0), FAILED},
        {at(2026, 3, 5, 0, 0), FAILED}, {at(2026, 3, 6, 0, 0), BUSY},
    };
    /* The newest failure (newer than every good set) stays visible; the
     * other failures go; keep-last counts good sets only. */
    coord_prune_mark want[] = {REMOVE,
                               REMOVE,
                               KEEP_LAST,
                               REMOVE,
                               COORD_PRUNE_KEEP_PARTIAL,
                               COORD_PRUNE_KEEP_BUSY};

    (void)state;
    check_marks(&r, items, 6, want);
}

static void
a_failure_older_than_a_good_set_goes(void **state)
{
    coord_retention r = {.keep_daily = 7};
    coord_prune_item items[] = {
        {at(2026, 3, 1, 0, 0), FAILED},
        {at(2026, 3, 2, 0, 0), OK},
    };
    coord_prune_mark want[] = {REMOVE, KEEP_DAILY};

    (void)state;
    check_marks(&r, items, 2, want);
}

static void
no_rule_keeps_everything(void **state)
{
    coord_retention r = {0};
    coord_prune_item items[] = {
        {at(2026, 3, 1, 0, 0), OK},
        {at(2026, 3, 2, 0, 0), FAILED},
        {at(2026, 3, 3, 0, 0), BUSY},
    };
    coord_prune_mark want[] = {COORD_PRUNE_KEEP_ALL, COORD_PRUNE_KEEP_ALL,
                               COORD_PRUNE_KEEP_ALL};
    char buf[64];

    (void)state;
    check_marks(&r, items, 3, want);
    assert_true(coord_retention_apply(&r, NULL, 0, NULL, NULL));
    coord_retention_format(&r, buf, sizeof(buf));
    assert_string_equal(buf, "keep-all");
}

static void
the_order_of_the_input_does_not_matter(void **state)
{
    coord_retention r = {.keep_last = 1, .keep_daily = 2};
    coord_prune_item items[] = {
        {at(2026, 3, 3, 9, 0), OK},  /* 0 */
        {at(2026, 3, 1, 9, 0), OK},  /* 1 */
        {at(2026, 3, 3, 18, 0), OK}, /* 2: newest */
        {at(2026, 3, 2, 9, 0), OK},  /* 3 */
        {at(2026, 3, 2, 7, 0), OK},  /* 4 */
        {at(2026, 3, 3, 18, 0), OK}, /* 5: same time as 2, after it */
    };
    coord_prune_mark want[] = {REMOVE,     KEEP_DAILY, KEEP_LAST,
                               KEEP_DAILY, REMOVE,     REMOVE};
    char buf[64];

    (void)state;
    /* Newest first: 2 (last), 5 (day 3 covered), 0 (covered), 3 (day 2),
     * 4 (day 2 taken), 1 (day 1: the second daily). */
    check_marks(&r, items, 6, want);
    coord_retention_format(&r, buf, sizeof(buf));
    assert_string_equal(buf, "keep-last=1 keep-daily=2");
}

/* ---- schedules ----------------------------------------------------------- */

static void
schedules_parse_and_fire_at_the_next_time(void **state)
{
    const struct {
        const char *text;
        int64_t after;
        int64_t want;
    } cases[] = {
        {"02:30", at(2026, 3, 10, 1, 0), at(2026, 3, 10, 2, 30)},
        {"02:30", at(2026, 3, 10, 2, 30), at(2026, 3, 11, 2, 30)},
        {"2:30", at(2026, 3, 10, 3, 0), at(2026, 3, 11, 2, 30)},
        {"*:15", at(2026, 3, 10, 10, 15), at(2026, 3, 10, 11, 15)},
        {"*:15", at(2026, 3, 10, 10, 14), at(2026, 3, 10, 10, 15)},
        {"mon 03:00", at(2026, 3, 10, 0, 0), at(2026, 3, 16, 3, 0)},
        {"sun 23:59", at(2026, 3, 10, 0, 0), at(2026, 3, 15, 23, 59)},
        {"hourly", at(2026, 3, 10, 10, 1), at(2026, 3, 10, 11, 0)},
        {"daily", at(2026, 3, 10, 10, 1), at(2026, 3, 11, 0, 0)},
        {"weekly", at(2026, 3, 10, 10, 1), at(2026, 3, 16, 0, 0)},
        {"every 15m", at(2026, 3, 10, 10, 7), at(2026, 3, 10, 10, 15)},
        {"every 15m", at(2026, 3, 10, 10, 15), at(2026, 3, 10, 10, 30)},
        {"every 6h", at(2026, 3, 10, 10, 7), at(2026, 3, 10, 12, 0)},
        {"every 1d", at(2026, 3, 10, 10, 7), at(2026, 3, 11, 0, 0)},
    };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        coord_schedule s;
        snap_error err = {0};
        int64_t got;

        if (!coord_schedule_parse(cases[i].text, &s, &err))
            fail_msg("'%s': %s", cases[i].text, err.msg);
        got = coord_schedule_next(&s, cases[i].after);
        if (got != cases[i].want)
            fail_msg("'%s': want %lld, got %lld", cases[i].text,
                     (long long)cases[i].want, (long long)got);
    }
}

static void
bad_schedules_are_refused(void **state)
{
    const char *bad[] = {"",          "25:00",      "12:60", "12:5",
                         "every 0m",  "every 5s",   "every", "every m",
                         "sun",       "mon *:30",   "noon",  "12:30 ",
                         "xyz 12:00", "every 400d", "1230",  "-1:30"};
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        coord_schedule s;
        snap_error err = {0};

        if (coord_schedule_parse(bad[i], &s, &err))
            fail_msg("'%s' was accepted", bad[i]);
        assert_int_equal(err.code, SNAP_E_INVALID);
        assert_non_null(strstr(err.msg, "bad schedule"));
    }
    {
        coord_schedule none = {COORD_SCHEDULE_NONE, 0, -1, -1, 0};

        assert_int_equal(coord_schedule_next(&none, 0), -1);
    }
}

/* ---- selection and checks ------------------------------------------------ */

static void
domains_are_selected_by_name_glob_and_uuid(void **state)
{
    coord_policy p;
    snap_error err = {0};

    (void)state;
    coord_policy_init(&p);
    assert_true(coord_str_set(&p.name, "nightly", &err));
    assert_true(snap_strv_append(&p.domains, &p.ndomains, "web-*", &err));
    assert_true(snap_strv_append(&p.domains, &p.ndomains, "db1", &err));
    assert_true(snap_strv_append(&p.domains, &p.ndomains,
                                 "6F1A0000-0000-4000-8000-000000000001", &err));
    assert_true(snap_strv_append(&p.exclude, &p.nexclude, "web-test", &err));
    assert_true(snap_strv_append(&p.exclude, &p.nexclude,
                                 "6f1a0000-0000-4000-8000-000000000002", &err));
    assert_true(coord_policy_selects(&p, "web-1", NULL));
    assert_true(coord_policy_selects(&p, "web-frontend", "x"));
    assert_false(coord_policy_selects(&p, "web-test", NULL));
    assert_true(coord_policy_selects(&p, "db1", NULL));
    assert_false(coord_policy_selects(&p, "db10", NULL));
    assert_false(coord_policy_selects(&p, "db2", NULL));
    assert_true(coord_policy_selects(&p, "anything",
                                     "6f1a0000-0000-4000-8000-000000000001"));
    assert_false(coord_policy_selects(&p, "web-2",
                                      "6f1a0000-0000-4000-8000-000000000002"));
    assert_true(coord_policy_excludes(&p, "web-test", NULL));
    assert_string_equal(coord_policy_backup_type(&p), "nightly");
    assert_true(coord_policy_check(&p, &err));
    coord_policy_release(&p);
}

static void
policies_copy_deeply(void **state)
{
    coord_policy p, q;
    snap_error err = {0};

    (void)state;
    coord_policy_init(&p);
    assert_true(coord_str_set(&p.name, "weekly", &err));
    assert_true(coord_str_set(&p.backup_type, "wk", &err));
    assert_true(coord_str_set(&p.schedule_text, "mon 03:00", &err));
    assert_true(coord_schedule_parse(p.schedule_text, &p.schedule, &err));
    assert_true(snap_strv_append(&p.domains, &p.ndomains, "a*", &err));
    p.retention.keep_weekly = 4;
    p.parallelism = 3;
    assert_true(coord_policy_copy(&q, &p, &err));
    coord_policy_release(&p);
    assert_string_equal(q.name, "weekly");
    assert_string_equal(coord_policy_backup_type(&q), "wk");
    assert_string_equal(q.domains[0], "a*");
    assert_int_equal(q.retention.keep_weekly, 4);
    assert_int_equal(q.parallelism, 3);
    assert_int_equal(q.schedule.kind, COORD_SCHEDULE_CALENDAR);
    assert_int_equal(q.schedule.weekday, 1);
    assert_non_null(coord_policy_find(&q, 1, "weekly"));
    assert_null(coord_policy_find(&q, 1, "daily"));
    coord_policy_release(&q);
    coord_policy_release(NULL);
}

static void
bad_policies_are_refused(void **state)
{
    const struct {
        const char *name;
        const char *domain;
        int parallelism;
        coord_export_kind export_kind;
        const char *want;
    } cases[] = {
        {"", "a", 1, COORD_EXPORT_NONE, "bad policy name"},
        {".hidden", "a", 1, COORD_EXPORT_NONE, "bad policy name"},
        {"a/b", "a", 1, COORD_EXPORT_NONE, "bad policy name"},
        {"ok", NULL, 1, COORD_EXPORT_NONE, "selects no domain"},
        {"ok", "a", 0, COORD_EXPORT_NONE, "parallelism"},
        {"ok", "a", 65, COORD_EXPORT_NONE, "parallelism"},
        {"ok", "a", 1, COORD_EXPORT_OVA_DIR, "absolute directory"},
    };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        coord_policy p;
        snap_error err = {0};

        coord_policy_init(&p);
        if (cases[i].name[0])
            coord_str_set(&p.name, cases[i].name, NULL);
        if (cases[i].domain)
            snap_strv_append(&p.domains, &p.ndomains, cases[i].domain, NULL);
        p.parallelism = cases[i].parallelism;
        p.export_kind = cases[i].export_kind;
        assert_false(coord_policy_check(&p, &err));
        if (!strstr(err.msg, cases[i].want))
            fail_msg("case %zu: '%s' lacks '%s'", i, err.msg, cases[i].want);
        coord_policy_release(&p);
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(keep_last_keeps_the_newest_n),
        cmocka_unit_test(
            keep_daily_keeps_the_newest_set_of_each_of_the_last_days),
        cmocka_unit_test(keep_hourly_counts_hours_not_sets),
        cmocka_unit_test(rules_apply_together_in_order),
        cmocka_unit_test(weeks_are_iso_weeks_across_the_new_year),
        cmocka_unit_test(keep_monthly_keeps_a_year_of_months),
        cmocka_unit_test(failed_sets_never_count_and_busy_sets_stay),
        cmocka_unit_test(a_failure_older_than_a_good_set_goes),
        cmocka_unit_test(no_rule_keeps_everything),
        cmocka_unit_test(the_order_of_the_input_does_not_matter),
        cmocka_unit_test(schedules_parse_and_fire_at_the_next_time),
        cmocka_unit_test(bad_schedules_are_refused),
        cmocka_unit_test(domains_are_selected_by_name_glob_and_uuid),
        cmocka_unit_test(policies_copy_deeply),
        cmocka_unit_test(bad_policies_are_refused),
    };

    /* Retention buckets and calendar schedules use local time. */
    setenv("TZ", "UTC", 1);
    tzset();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
