/* coordinator/http/http_metrics.c -- see http_metrics.h. */
#include "coordinator/http/http_metrics.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/snap_log.h"
#include "coordinator/coord_catalog.h"

#define STATUS_MAX 600

/* Window histograms, in seconds: the frozen window of a healthy guest is
 * tens to hundreds of ms; the top buckets catch the ones that go wrong. */
static const double window_le[] = {0.01, 0.025, 0.05, 0.1, 0.25, 0.5,
                                   1,    2.5,   5,    10,  30,   60};
#define NBUCKETS (sizeof(window_le) / sizeof(window_le[0]))

typedef struct histogram {
    uint64_t bucket[NBUCKETS]; /* not cumulative; summed when printed */
    uint64_t count;
    double sum;
} histogram;

/* The counters, copied out under the lock for one scrape. */
typedef struct metrics {
    uint64_t by_code[STATUS_MAX];
    uint64_t sets_made[COORD_SET_LAST][COORD_CONSISTENCY_LAST];
    histogram freeze_h;
    histogram pause_h;
    uint64_t deletes_ok;
    uint64_t deletes_failed;
    uint64_t verifies_ok;     /* verify runs that found nothing broken */
    uint64_t verifies_broken; /* ... that found something broken */
    int64_t verify_last_ms;   /* wall clock of the last one, 0: none yet */
    uint64_t verify_checked;  /* sets the last one checked */
    uint64_t verify_broken;   /* ... and found broken */
} metrics;

struct http_metrics {
    pthread_mutex_t mu; /* guards m */
    metrics m;
};

/* A growing text buffer for /metrics. */
typedef struct strbuf {
    char *s;
    size_t len, cap;
    bool failed;
} strbuf;

static void sb_printf(strbuf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
sb_printf(strbuf *b, const char *fmt, ...)
{
    va_list ap;
    int n;

    if (b->failed)
        return;
    for (;;) {
        size_t room = b->cap - b->len;

        va_start(ap, fmt);
        n = vsnprintf(b->s ? b->s + b->len : NULL, room, fmt, ap);
        va_end(ap);
        if (n < 0) {
            b->failed = true;
            return;
        }
        if ((size_t)n < room) {
            b->len += (size_t)n;
            return;
        }
        {
            size_t cap = b->cap ? b->cap * 2 : 4096;
            char *grown;

            while (cap - b->len <= (size_t)n)
                cap *= 2;
            grown = realloc(b->s, cap);
            if (!grown) {
                b->failed = true;
                return;
            }
            b->s = grown;
            b->cap = cap;
        }
    }
}

http_metrics *
http_metrics_new(void)
{
    http_metrics *m = calloc(1, sizeof(*m));

    if (!m)
        return NULL;
    pthread_mutex_init(&m->mu, NULL);
    return m;
}

void
http_metrics_free(http_metrics *m)
{
    if (!m)
        return;
    pthread_mutex_destroy(&m->mu);
    free(m);
}

void
http_metrics_count(http_metrics *m, unsigned code)
{
    pthread_mutex_lock(&m->mu);
    if (code < STATUS_MAX)
        m->m.by_code[code]++;
    pthread_mutex_unlock(&m->mu);
}

static void
observe(histogram *h, int64_t ms)
{
    double v = (double)ms / 1000.0;
    size_t i;

    for (i = 0; i < NBUCKETS; i++) {
        if (v <= window_le[i]) {
            h->bucket[i]++;
            break;
        }
    }
    h->count++;
    h->sum += v;
}

void
http_metrics_observe_set(http_metrics *m, const coord_set *set)
{
    if (!m || !set)
        return;
    pthread_mutex_lock(&m->mu);
    if (set->state < COORD_SET_LAST &&
        set->consistency < COORD_CONSISTENCY_LAST)
        m->m.sets_made[set->state][set->consistency]++;
    if (set->freeze_ms >= 0)
        observe(&m->m.freeze_h, set->freeze_ms);
    if (set->pause_ms >= 0)
        observe(&m->m.pause_h, set->pause_ms);
    pthread_mutex_unlock(&m->mu);
}

void
http_metrics_observe_delete(http_metrics *m, bool ok)
{
    if (!m)
        return;
    pthread_mutex_lock(&m->mu);
    if (ok)
        m->m.deletes_ok++;
    else
        m->m.deletes_failed++;
    pthread_mutex_unlock(&m->mu);
}

static void
print_histogram(strbuf *b, const char *name, const char *help,
                const histogram *h)
{
    uint64_t cum = 0;
    size_t i;

    sb_printf(b, "# HELP %s %s\n# TYPE %s histogram\n", name, help, name);
    for (i = 0; i < NBUCKETS; i++) {
        cum += h->bucket[i];
        sb_printf(b, "%s_bucket{le=\"%g\"} %llu\n", name, window_le[i],
                  (unsigned long long)cum);
    }
    sb_printf(b, "%s_bucket{le=\"+Inf\"} %llu\n", name,
              (unsigned long long)h->count);
    sb_printf(b, "%s_sum %.3f\n%s_count %llu\n", name, h->sum, name,
              (unsigned long long)h->count);
}

/* What the catalog says now, for the gauges. */
typedef struct catalog_counts {
    uint64_t by_state[COORD_SET_LAST];
    size_t frozen; /* domains, not sets */
} catalog_counts;

/* Counts @sets by state, and the guests frozen now. The catalog holds what
 * every snapset process (CLI, policies, this server) is doing: a set being
 * made whose journal says a freeze was attempted and not yet confirmed
 * thawed is a guest frozen now. */
static void
count_catalog(coord_set *const *sets, size_t nsets, catalog_counts *c)
{
    size_t i, k;

    memset(c, 0, sizeof(*c));
    for (i = 0; i < nsets; i++) {
        const coord_set *s = sets[i];

        if (s->state < COORD_SET_LAST)
            c->by_state[s->state]++;
        if (s->state == COORD_SET_CREATING && s->journal.freeze_attempted &&
            !s->journal.thawed) {
            /* count domains, not sets */
            for (k = 0; k < i; k++) {
                if (sets[k]->state == COORD_SET_CREATING &&
                    sets[k]->journal.freeze_attempted &&
                    !sets[k]->journal.thawed &&
                    strcmp(sets[k]->domain_uuid, s->domain_uuid) == 0)
                    break;
            }
            if (k == i)
                c->frozen++;
        }
    }
}

/* The counters this server keeps (a copy taken under the lock). */
static void
print_counters(strbuf *b, const metrics *copy)
{
    size_t i, k;

    sb_printf(b, "# HELP snapset_http_requests_total API requests answered, "
                 "by status code.\n"
                 "# TYPE snapset_http_requests_total counter\n");
    for (i = 100; i < STATUS_MAX; i++) {
        if (copy->by_code[i])
            sb_printf(b, "snapset_http_requests_total{code=\"%zu\"} %llu\n", i,
                      (unsigned long long)copy->by_code[i]);
    }
    sb_printf(b, "# HELP snapset_sets_made_total Sets this server made "
                 "(API and scheduled policies), by result and "
                 "consistency.\n"
                 "# TYPE snapset_sets_made_total counter\n");
    for (i = 0; i < COORD_SET_LAST; i++) {
        for (k = 0; k < COORD_CONSISTENCY_LAST; k++) {
            if (copy->sets_made[i][k] ||
                (i == COORD_SET_AVAILABLE && k != COORD_CONSISTENCY_NONE) ||
                (i == COORD_SET_ERROR && k == COORD_CONSISTENCY_NONE))
                sb_printf(b,
                          "snapset_sets_made_total{result=\"%s\","
                          "consistency=\"%s\"} %llu\n",
                          coord_set_state_name((coord_set_state)i),
                          coord_consistency_name((coord_consistency)k),
                          (unsigned long long)copy->sets_made[i][k]);
        }
    }
    print_histogram(b, "snapset_freeze_window_seconds",
                    "Frozen window of the sets this server made.",
                    &copy->freeze_h);
    print_histogram(b, "snapset_pause_window_seconds",
                    "Paused window of the sets this server made.",
                    &copy->pause_h);
    sb_printf(b,
              "# HELP snapset_set_deletions_total Deletions this server "
              "did (API and rotation), by result.\n"
              "# TYPE snapset_set_deletions_total counter\n"
              "snapset_set_deletions_total{result=\"ok\"} %llu\n"
              "snapset_set_deletions_total{result=\"failed\"} %llu\n",
              (unsigned long long)copy->deletes_ok,
              (unsigned long long)copy->deletes_failed);
}

void
http_metrics_observe_verify(http_metrics *m, int64_t wall_ms, size_t checked,
                            size_t broken)
{
    if (!m)
        return;
    pthread_mutex_lock(&m->mu);
    if (broken)
        m->m.verifies_broken++;
    else
        m->m.verifies_ok++;
    m->m.verify_last_ms = wall_ms;
    m->m.verify_checked = checked;
    m->m.verify_broken = broken;
    pthread_mutex_unlock(&m->mu);
}

static void
print_verify(strbuf *b, const metrics *copy)
{
    sb_printf(b,
              "# HELP snapset_verify_runs_total Verify runs this server did "
              "(policies with verify = true), by result.\n"
              "# TYPE snapset_verify_runs_total counter\n"
              "snapset_verify_runs_total{result=\"ok\"} %llu\n"
              "snapset_verify_runs_total{result=\"broken\"} %llu\n",
              (unsigned long long)copy->verifies_ok,
              (unsigned long long)copy->verifies_broken);
    if (!copy->verify_last_ms)
        return; /* no last result to show yet */
    sb_printf(b,
              "# HELP snapset_verify_last_timestamp_seconds When the last "
              "verify ran.\n"
              "# TYPE snapset_verify_last_timestamp_seconds gauge\n"
              "snapset_verify_last_timestamp_seconds %.3f\n"
              "# HELP snapset_verify_last_sets Sets the last verify read, "
              "and how many of them were broken.\n"
              "# TYPE snapset_verify_last_sets gauge\n"
              "snapset_verify_last_sets{result=\"checked\"} %llu\n"
              "snapset_verify_last_sets{result=\"broken\"} %llu\n",
              (double)copy->verify_last_ms / 1000.0,
              (unsigned long long)copy->verify_checked,
              (unsigned long long)copy->verify_broken);
}

static void
print_catalog(strbuf *b, const catalog_counts *c)
{
    size_t i;

    sb_printf(b,
              "# HELP snapset_guests_frozen Guests frozen by a "
              "snapset process right now (catalog journals).\n"
              "# TYPE snapset_guests_frozen gauge\n"
              "snapset_guests_frozen %zu\n",
              c->frozen);
    sb_printf(b, "# HELP snapset_sets Sets in the catalog, by state.\n"
                 "# TYPE snapset_sets gauge\n");
    for (i = 0; i < COORD_SET_LAST; i++)
        sb_printf(b, "snapset_sets{state=\"%s\"} %llu\n",
                  coord_set_state_name((coord_set_state)i),
                  (unsigned long long)c->by_state[i]);
}

bool
http_metrics_text(http_metrics *m, const http_backend_ops *backend, void *impl,
                  char **text, size_t *len)
{
    coord_set **sets = NULL;
    size_t nsets = 0;
    catalog_counts counts;
    http_backend_stats stats = {0, 0};
    snap_error err = {0};
    strbuf b = {NULL, 0, 0, false};
    metrics copy;
    bool listed;

    listed = backend->list(impl, &sets, &nsets, &err);
    if (listed) {
        count_catalog(sets, nsets, &counts);
        coord_catalog_list_free(sets, nsets);
    }
    if (backend->stats)
        backend->stats(impl, &stats);

    pthread_mutex_lock(&m->mu);
    copy = m->m;
    pthread_mutex_unlock(&m->mu);

    print_counters(&b, &copy);
    print_verify(&b, &copy);
    if (listed)
        print_catalog(&b, &counts);
    else
        snap_warn("metrics: cannot list the catalog: %s", err.msg);
    if (backend->stats)
        sb_printf(&b,
                  "# HELP snapset_jobs Background jobs, by state.\n"
                  "# TYPE snapset_jobs gauge\n"
                  "snapset_jobs{state=\"queued\"} %lld\n"
                  "snapset_jobs{state=\"running\"} %lld\n",
                  (long long)stats.queued, (long long)stats.running);
    if (b.failed) {
        free(b.s);
        return false;
    }
    *text = b.s;
    *len = b.len;
    return true;
}
