/* coordinator/serve/serve.c -- `snapset serve` and `snapset policy`: the HTTP
 * API's backend (background jobs, rotation, Keystone tokens), the policy
 * runner (parallel, with retention), and the scheduler.
 *
 * Threads. ops_ctx is not thread-safe, so every thread that acts owns one,
 * with its own copy of the configuration and its own libvirt connection:
 * the API's job workers, each policy-run worker. The HTTP threads only
 * read the catalog (safe for distinct sets), take domain locks without
 * waiting, and look domains up through one shared connection under a
 * mutex. One operation per domain at a time holds across the API, policies
 * and the CLI because all of them take the same flock in the catalog.
 */
#include "coordinator/serve/serve.h"

#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <libvirt/virterror.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "cinder/keystone.h"
#include "common/snap_log.h"
#include "common/snap_time.h"
#include "coordinator/ops/export.h"
#include "coordinator/http/http_api.h"
#include "coordinator/ops/openstack.h"
#include "virt/virt.h"
#include "coordinator/coord_policy.h"

#define EXIT_USAGE 2

/* Libvirt metadata namespace that names the policies of a domain:
 *   virsh metadata DOM --uri urn:snapset:policy --key snapset \
 *         --set '<policies>nightly weekly</policies>' */
#define POLICY_METADATA_NS "urn:snapset:policy"

/* Rotation waits this long (at least) for the domain lock between its
 * deletions: the set it just made released it a moment ago. */
#define ROTATION_LOCK_MS 30000

static int serve_usage(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));

static int
serve_usage(const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "snapset: ");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\n(see 'snapset --help')\n");
    return EXIT_USAGE;
}

static int
serve_fail(const snap_error *err)
{
    fprintf(stderr, "snapset: %s\n", err->msg[0] ? err->msg : "failed");
    return EXIT_FAILURE;
}

/* What the server does, on stderr (the journal under systemd), whatever
 * the log level. */
static void serve_log(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));

static void
serve_log(const char *fmt, ...)
{
    va_list ap;

    flockfile(stderr);
    fprintf(stderr, "snapset: serve: ");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    funlockfile(stderr);
}

/* A context of its own for a thread: a copy of @conf, nothing opened. */
static bool
ctx_init(ops_ctx *ctx, const coord_conf *conf, snap_error *err)
{
    memset(ctx, 0, sizeof(*ctx));
    return coord_conf_copy(&ctx->conf, conf, err);
}

/* Opens the catalog and the libvirt connection (again, if libvirtd went
 * away). Done before ops_create(), which would otherwise return early
 * without releasing a lock handed to it. */
static bool
ctx_ready(ops_ctx *ctx, snap_error *err)
{
    if (ctx->conn && virConnectIsAlive(ctx->conn) != 1) {
        virConnectClose(ctx->conn);
        ctx->conn = NULL;
    }
    return ops_catalog(ctx, err) && ops_connect(ctx, err);
}

static const char *
dash(const char *s)
{
    return s && *s ? s : "-";
}

/* ---- domain selection ---------------------------------------------------- */

typedef struct target {
    char *name;
    char uuid[SNAP_UUID_LEN];
    bool active;
    bool missing; /* a policy entry that names no domain */
} target;

/* True when the domain's snapset metadata element lists @policy. */
static bool
metadata_names(virDomainPtr dom, const char *policy)
{
    char *xml =
        virDomainGetMetadata(dom, VIR_DOMAIN_METADATA_ELEMENT,
                             POLICY_METADATA_NS, VIR_DOMAIN_AFFECT_CURRENT);
    char *p, *end, *tok, *save = NULL;
    bool found = false;

    if (!xml)
        return false; /* none set (VIR_ERR_NO_DOMAIN_METADATA) */
    /* "<policies xmlns=...>a b</policies>": the text of the element. */
    p = strchr(xml, '>');
    if (p && p > xml && p[-1] != '/') {
        p++;
        end = strchr(p, '<');
        if (end)
            *end = '\0';
        for (tok = strtok_r(p, " \t\r\n,", &save); tok && !found;
             tok = strtok_r(NULL, " \t\r\n,", &save))
            found = strcmp(tok, policy) == 0;
    }
    free(xml);
    return found;
}

static bool
is_glob(const char *s)
{
    return strpbrk(s, "*?[") != NULL;
}

static void
targets_free(target *t, size_t n)
{
    size_t i;

    for (i = 0; t && i < n; i++)
        free(t[i].name);
    free(t);
}

static int
target_cmp(const void *a, const void *b)
{
    return strcmp(((const target *)a)->name, ((const target *)b)->name);
}

static bool
target_add(target **t, size_t *n, const char *name, const char *uuid,
           bool active, bool missing, snap_error *err)
{
    target *grown = realloc(*t, (*n + 1) * sizeof(*grown));

    if (!grown)
        return snap_error_set(err, SNAP_E_NOMEM, "out of memory");
    *t = grown;
    memset(&grown[*n], 0, sizeof(grown[*n]));
    grown[*n].name = strdup(name);
    if (!grown[*n].name)
        return snap_error_set(err, SNAP_E_NOMEM, "out of memory");
    snprintf(grown[*n].uuid, SNAP_UUID_LEN, "%s", uuid ? uuid : "");
    grown[*n].active = active;
    grown[*n].missing = missing;
    (*n)++;
    return true;
}

/* The domains @p selects, sorted by name, plus one "missing" entry for
 * each plain name (not a glob) that matches no domain at all. */
static bool
select_targets(virConnectPtr conn, const coord_policy *p, target **out,
               size_t *nout, snap_error *err)
{
    virDomainPtr *doms = NULL;
    char(*uuids)[SNAP_UUID_LEN] = NULL;
    target *t = NULL;
    size_t n = 0, i, k;
    int nd, d;
    bool ok = false;

    *out = NULL;
    *nout = 0;
    nd = virConnectListAllDomains(conn, &doms, 0);
    if (nd < 0)
        return virt_error(err, SNAP_E_VIRT, "cannot list domains");
    uuids = calloc((size_t)nd + 1, sizeof(*uuids));
    if (!uuids) {
        snap_error_set(err, SNAP_E_NOMEM, "out of memory");
        goto cleanup;
    }
    for (d = 0; d < nd; d++) {
        const char *name = virDomainGetName(doms[d]);
        bool sel;

        if (!name || virDomainGetUUIDString(doms[d], uuids[d]) < 0)
            continue;
        sel = coord_policy_selects(p, name, uuids[d]) ||
              (p->metadata && !coord_policy_excludes(p, name, uuids[d]) &&
               metadata_names(doms[d], p->name));
        if (sel && !target_add(&t, &n, name, uuids[d],
                               virDomainIsActive(doms[d]) == 1, false, err))
            goto cleanup;
    }
    for (i = 0; i < p->ndomains; i++) {
        const char *e = p->domains[i];
        bool seen = false;

        if (is_glob(e))
            continue;
        for (d = 0; d < nd && !seen; d++) {
            const char *name = virDomainGetName(doms[d]);

            seen =
                (name && strcmp(name, e) == 0) || strcasecmp(uuids[d], e) == 0;
        }
        for (k = 0; k < n && !seen; k++)
            seen = strcmp(t[k].name, e) == 0;
        if (!seen && !target_add(&t, &n, e, NULL, false, true, err))
            goto cleanup;
    }
    if (n > 1)
        qsort(t, n, sizeof(*t), target_cmp);
    *out = t;
    *nout = n;
    t = NULL;
    ok = true;

 cleanup:
    targets_free(t, n);
    for (d = 0; d < nd; d++)
        virDomainFree(doms[d]);
    free(doms);
    free(uuids);
    return ok;
}

/* ---- retention over the catalog ------------------------------------------ */

static coord_prune_item_state
item_state(const coord_set *s)
{
    switch (s->state) {
    case COORD_SET_AVAILABLE:
        return COORD_PRUNE_ITEM_OK;
    case COORD_SET_ERROR:
        return COORD_PRUNE_ITEM_FAILED;
    default:
        return COORD_PRUNE_ITEM_BUSY;
    }
}

/* The sets of @p's backup type (of one domain, or of all when
 * @domain_uuid is NULL), oldest first, and the retention verdict for each
 * (computed per domain). *@sets: coord_catalog_list_free(); *@marks:
 * free(). */
static bool
prune_plan(coord_catalog *cat, const coord_policy *p, const char *domain_uuid,
           coord_set ***sets, size_t *nsets, coord_prune_mark **marks,
           snap_error *err)
{
    coord_set **all = NULL, **mine = NULL;
    coord_prune_item *items = NULL;
    coord_prune_mark *m = NULL, *part = NULL;
    size_t nall = 0, n = 0, i, k, j, *idx = NULL;
    const char *btype = coord_policy_backup_type(p);
    bool ok = false;

    *sets = NULL;
    *nsets = 0;
    *marks = NULL;
    if (!coord_catalog_list(cat, &all, &nall, err))
        return false;
    mine = calloc(nall + 1, sizeof(*mine));
    m = calloc(nall + 1, sizeof(*m));
    items = calloc(nall + 1, sizeof(*items));
    part = calloc(nall + 1, sizeof(*part));
    idx = calloc(nall + 1, sizeof(*idx));
    if (!mine || !m || !items || !part || !idx) {
        snap_error_set(err, SNAP_E_NOMEM, "out of memory");
        goto cleanup;
    }
    for (i = 0; i < nall; i++) {
        if (all[i]->backup_type && strcmp(all[i]->backup_type, btype) == 0 &&
            (!domain_uuid || strcmp(all[i]->domain_uuid, domain_uuid) == 0)) {
            mine[n++] = all[i];
            all[i] = NULL;
        }
    }
    /* One domain at a time: retention counts the sets of each domain. */
    for (i = 0; i < n; i++) {
        size_t cnt = 0;

        for (k = 0; k < i; k++) {
            if (strcmp(mine[k]->domain_uuid, mine[i]->domain_uuid) == 0)
                break;
        }
        if (k < i)
            continue; /* that domain is done */
        for (k = i; k < n; k++) {
            if (strcmp(mine[k]->domain_uuid, mine[i]->domain_uuid) != 0)
                continue;
            items[cnt].time_ms = mine[k]->created_ms;
            items[cnt].state = item_state(mine[k]);
            idx[cnt++] = k;
        }
        if (!coord_retention_apply(&p->retention, items, cnt, part, err))
            goto cleanup;
        for (j = 0; j < cnt; j++)
            m[idx[j]] = part[j];
    }
    *sets = mine;
    *nsets = n;
    *marks = m;
    mine = NULL;
    n = 0;
    m = NULL;
    ok = true;

 cleanup:
    coord_catalog_list_free(all, nall); /* NULL entries were moved */
    coord_catalog_list_free(mine, n);
    free(m);
    free(items);
    free(part);
    free(idx);
    return ok;
}

/* Deletes what retention removes among @p's sets of @domain_uuid. */
static bool
prune_domain(ops_ctx *ctx, const coord_policy *p, const char *domain_uuid,
             int *pruned, snap_error *err)
{
    coord_set **sets = NULL;
    coord_prune_mark *marks = NULL;
    size_t n = 0, i;
    bool ok = true;

    *pruned = 0;
    if (!coord_retention_any(&p->retention))
        return true;
    if (!prune_plan(ctx->catalog, p, domain_uuid, &sets, &n, &marks, err))
        return false;
    for (i = 0; i < n; i++) {
        if (coord_prune_mark_keeps(marks[i]))
            continue;
        if (ops_delete(ctx, sets[i]->uuid, OPS_DELETE_EXPORTS, err))
            (*pruned)++;
        else
            ok = false; /* err keeps the first failure; go on with the rest */
    }
    coord_catalog_list_free(sets, n);
    free(marks);
    return ok;
}

/* ---- policy runs --------------------------------------------------------- */

typedef enum vm_status {
    VM_OK = 0,
    VM_FAILED,
    VM_SKIPPED,
} vm_status;

static const char *const vm_status_names[] = {"ok", "failed", "skipped"};

typedef struct vm_result {
    target t; /* borrowed from the run's targets */
    vm_status status;
    char set_uuid[SNAP_UUID_LEN]; /* "" when no set was recorded */
    coord_set_state state;
    coord_consistency consistency;
    int64_t freeze_ms;
    int64_t pause_ms;
    int64_t elapsed_ms;
    int pruned;
    char exported[512]; /* the Glance image id or the OVA file */
    char error[320]; /* room for a snap_error message and a prefix */
} vm_result;

typedef struct policy_run {
    const coord_conf *conf;
    const coord_policy *policy;
    vm_result *results;
    size_t n;
    size_t next;
    pthread_mutex_t mu;
    http_api *api;           /* metrics; NULL from the CLI */
    const atomic_bool *stop; /* NULL from the CLI */
} policy_run;

/* Exports the set just made as the policy says: an OVA file per set in
 * export_dir, or an OVA image in Glance. Runs `snapset export` in a child
 * process, each conversion bounded by timeouts.copy_ms. */
static bool
policy_export(ops_ctx *ctx, const coord_policy *p, vm_result *r,
              snap_error *err)
{
    ops_export_req req;
    char file[512];
    json_t *result = NULL;
    const char *got;

    memset(&req, 0, sizeof(req));
    req.timeout_ms = ctx->conf.copy_timeout_ms;
    if (p->export_kind == COORD_EXPORT_GLANCE) {
        req.kind = "glance";
    } else {
        if (snprintf(file, sizeof(file), "%s/%s-%s.ova", p->export_dir,
                     r->t.name, r->set_uuid) >= (int)sizeof(file))
            return snap_error_set(err, SNAP_E_INVALID,
                                  "export path too long in '%s'",
                                  p->export_dir);
        req.kind = "ova";
        req.target = file;
    }
    if (!ops_export_child(ctx, r->set_uuid, &req, &result, err))
        return false;
    got = json_string_value(json_object_get(result, "image_id"));
    if (!got)
        got = json_string_value(json_object_get(result, "path"));
    snprintf(r->exported, sizeof(r->exported), "%s", got ? got : "");
    json_decref(result);
    return true;
}

static void
run_one(policy_run *run, ops_ctx *ctx, vm_result *r)
{
    const coord_policy *p = run->policy;
    ops_create_opts o;
    coord_set *set = NULL;
    snap_error err = {0};
    int64_t t0 = snap_now_ms();
    bool ok;

    r->freeze_ms = r->pause_ms = -1;
    if (r->t.missing) {
        r->status = VM_FAILED;
        snprintf(r->error, sizeof(r->error), "no domain '%s'", r->t.name);
        return;
    }
    if (!r->t.active) {
        r->status = VM_SKIPPED;
        snprintf(r->error, sizeof(r->error),
                 "not running: snapset snapshots running domains");
        return;
    }
    if (!ctx_ready(ctx, &err)) {
        r->status = VM_FAILED;
        snprintf(r->error, sizeof(r->error), "%s", err.msg);
        return;
    }
    ops_create_opts_init(&o);
    o.quiesce = p->quiesce;
    o.pause = p->pause;
    o.name = p->name;
    o.backup_type = coord_policy_backup_type(p);
    ok = ops_create(ctx, r->t.uuid, &o, &set, &err);
    r->elapsed_ms = snap_now_ms() - t0;
    if (set) {
        memcpy(r->set_uuid, set->uuid, SNAP_UUID_LEN);
        r->state = set->state;
        r->consistency = set->consistency;
        r->freeze_ms = set->freeze_ms;
        r->pause_ms = set->pause_ms;
        http_api_observe_set(run->api, set);
        coord_set_free(set);
    }
    if (!ok) {
        r->status = VM_FAILED;
        snprintf(r->error, sizeof(r->error), "%s", err.msg);
        return;
    }
    r->status = VM_OK;
    if (p->export_kind != COORD_EXPORT_NONE &&
        !policy_export(ctx, p, r, &err)) {
        /* The set is good, its export is not: report it, and keep the
         * older sets (no pruning) until an export works again. */
        r->status = VM_FAILED;
        snprintf(r->error, sizeof(r->error), "set made, export failed: %s",
                 err.msg);
        return;
    }
    /* Retention only after a good set: a failed one never prunes. */
    if (!prune_domain(ctx, p, r->t.uuid, &r->pruned, &err)) {
        r->status = VM_FAILED;
        snprintf(r->error, sizeof(r->error), "set made, pruning failed: %s",
                 err.msg);
    }
}

static void *
run_worker(void *arg)
{
    policy_run *run = arg;
    ops_ctx ctx;
    snap_error err = {0};
    bool have_ctx = ctx_init(&ctx, run->conf, &err);
    size_t i;

    for (;;) {
        vm_result *r;

        pthread_mutex_lock(&run->mu);
        i = run->next++;
        pthread_mutex_unlock(&run->mu);
        if (i >= run->n)
            break;
        r = &run->results[i];
        r->freeze_ms = r->pause_ms = -1;
        if (run->stop && atomic_load(run->stop)) {
            r->status = VM_FAILED;
            snprintf(r->error, sizeof(r->error),
                     "not started: snapset is stopping");
            continue;
        }
        if (!have_ctx) {
            r->status = VM_FAILED;
            snprintf(r->error, sizeof(r->error), "%s", err.msg);
            continue;
        }
        run_one(run, &ctx, r);
    }
    if (have_ctx)
        ops_ctx_release(&ctx);
    return NULL;
}

/* Runs @p now: selects its domains and makes a set of each, @p->parallelism
 * at a time. *@results (free()) borrow from *@targets (targets_free()). */
static bool
policy_execute(const coord_conf *conf, const coord_policy *p, http_api *api,
               const atomic_bool *stop, target **targets, vm_result **results,
               size_t *n, snap_error *err)
{
    policy_run run;
    ops_ctx lookup;
    pthread_t *threads = NULL;
    size_t i, nthreads, started = 0;
    bool ok = false;

    *targets = NULL;
    *results = NULL;
    *n = 0;
    if (!ctx_init(&lookup, conf, err))
        return false;
    if (!ops_connect(&lookup, err) ||
        !select_targets(lookup.conn, p, targets, n, err)) {
        ops_ctx_release(&lookup);
        return false;
    }
    ops_ctx_release(&lookup);
    memset(&run, 0, sizeof(run));
    run.conf = conf;
    run.policy = p;
    run.n = *n;
    run.api = api;
    run.stop = stop;
    run.results = calloc(*n + 1, sizeof(*run.results));
    nthreads = (size_t)p->parallelism < *n ? (size_t)p->parallelism : *n;
    threads = calloc(nthreads + 1, sizeof(*threads));
    if (!run.results || !threads) {
        snap_error_set(err, SNAP_E_NOMEM, "out of memory");
        goto cleanup;
    }
    for (i = 0; i < *n; i++)
        run.results[i].t = (*targets)[i];
    pthread_mutex_init(&run.mu, NULL);
    for (i = 0; i < nthreads; i++) {
        if (pthread_create(&threads[i], NULL, run_worker, &run) != 0)
            break;
        started++;
    }
    if (started == 0 && *n > 0)
        run_worker(&run); /* no thread could start: do it here */
    for (i = 0; i < started; i++)
        pthread_join(threads[i], NULL);
    pthread_mutex_destroy(&run.mu);
    *results = run.results;
    run.results = NULL;
    ok = true;

 cleanup:
    free(run.results);
    free(threads);
    if (!ok) {
        targets_free(*targets, *n);
        *targets = NULL;
        *n = 0;
    }
    return ok;
}

static void
fmt_ms(char *buf, size_t size, int64_t ms)
{
    if (ms < 0)
        snprintf(buf, size, "-");
    else
        snprintf(buf, size, "%lld", (long long)ms);
}

static json_t *
ms_json(int64_t ms)
{
    return ms < 0 ? json_null() : json_integer((json_int_t)ms);
}

static void
print_run(const coord_policy *p, const vm_result *r, size_t n,
          int64_t elapsed_ms, bool json)
{
    size_t i, nok = 0, nfail = 0, nskip = 0;

    for (i = 0; i < n; i++) {
        nok += r[i].status == VM_OK;
        nfail += r[i].status == VM_FAILED;
        nskip += r[i].status == VM_SKIPPED;
    }
    if (json) {
        json_t *doms = json_array(), *doc;
        char *text;

        for (i = 0; doms && i < n; i++) {
            json_array_append_new(
                doms,
                json_pack(
                    "{s:s,s:o,s:s,s:o,s:o,s:o,s:o,s:o,s:I,s:i,s:o,s:o}",
                    "domain",
                    r[i].t.name, "uuid",
                    r[i].t.uuid[0] ? json_string(r[i].t.uuid) : json_null(),
                    "result", vm_status_names[r[i].status], "set_id",
                    r[i].set_uuid[0] ? json_string(r[i].set_uuid) : json_null(),
                    "state",
                    r[i].set_uuid[0]
                        ? json_string(coord_set_state_name(r[i].state))
                        : json_null(),
                    "consistency",
                    r[i].set_uuid[0]
                        ? json_string(coord_consistency_name(r[i].consistency))
                        : json_null(),
                    "freeze_window_ms", ms_json(r[i].freeze_ms),
                    "pause_window_ms", ms_json(r[i].pause_ms), "elapsed_ms",
                    (json_int_t)r[i].elapsed_ms, "pruned", r[i].pruned,
                    "export",
                    r[i].exported[0] ? json_string(r[i].exported) : json_null(),
                    "error",
                    r[i].error[0] ? json_string(r[i].error) : json_null()));
        }
        doc = json_pack("{s:s,s:b,s:i,s:I,s:i,s:i,s:i,s:o}", "policy", p->name,
                        "ok", nfail == 0, "parallelism", p->parallelism,
                        "elapsed_ms", (json_int_t)elapsed_ms, "succeeded",
                        (int)nok, "failed", (int)nfail, "skipped", (int)nskip,
                        "domains", doms ? doms : json_array());
        text =
            doc ? json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;
        if (text)
            printf("%s\n", text);
        free(text);
        json_decref(doc);
        return;
    }
    printf("%-16s  %-7s  %-36s  %-11s  %9s  %9s  %6s  %s\n", "DOMAIN", "RESULT",
           "SET", "CONSISTENCY", "FROZEN_MS", "PAUSED_MS", "PRUNED", "ERROR");
    for (i = 0; i < n; i++) {
        char fw[24], pw[24];

        fmt_ms(fw, sizeof(fw), r[i].freeze_ms);
        fmt_ms(pw, sizeof(pw), r[i].pause_ms);
        printf("%-16s  %-7s  %-36s  %-11s  %9s  %9s  %6d  %s\n", r[i].t.name,
               vm_status_names[r[i].status], dash(r[i].set_uuid),
               r[i].set_uuid[0] ? coord_consistency_name(r[i].consistency)
                                : "-",
               fw, pw, r[i].pruned, dash(r[i].error));
    }
    for (i = 0; i < n; i++) {
        if (r[i].exported[0])
            printf("%s: exported to %s\n", r[i].t.name, r[i].exported);
    }
    printf("policy %s: %zu ok, %zu failed, %zu skipped in %.1f s "
           "(parallelism %d)\n",
           p->name, nok, nfail, nskip, (double)elapsed_ms / 1000.0,
           p->parallelism);
}

/* ---- snapset policy ------------------------------------------------------ */

static const coord_policy *
find_policy(const ops_ctx *ctx, const char *name, snap_error *err)
{
    const coord_policy *p =
        coord_policy_find(ctx->conf.policies, ctx->conf.npolicies, name);

    if (!p)
        snap_error_set(err, SNAP_E_NOTFOUND,
                       "no policy '%s' in the configuration", name);
    return p;
}

static int
policy_list(ops_ctx *ctx, bool json)
{
    size_t i, k;
    char ret[128], doms[256];

    if (json) {
        json_t *arr = json_array();
        char *text;

        for (i = 0; arr && i < ctx->conf.npolicies; i++) {
            const coord_policy *p = &ctx->conf.policies[i];
            json_t *d = json_array(), *x = json_array();
            const coord_retention *r = &p->retention;

            for (k = 0; d && k < p->ndomains; k++)
                json_array_append_new(d, json_string(p->domains[k]));
            for (k = 0; x && k < p->nexclude; k++)
                json_array_append_new(x, json_string(p->exclude[k]));
            json_array_append_new(
                arr,
                json_pack(
                    "{s:s,s:o,s:o,s:b,s:s,s:b,s:s,s:{s:i,s:i,s:i,s:i,"
                    "s:i,s:i},s:s,s:o,s:i,s:o}",
                    "name", p->name, "domains", d ? d : json_array(), "exclude",
                    x ? x : json_array(), "metadata", p->metadata, "quiesce",
                    coord_quiesce_name(p->quiesce), "pause", p->pause,
                    "backup_type", coord_policy_backup_type(p), "retention",
                    "keep_last", r->keep_last, "keep_hourly", r->keep_hourly,
                    "keep_daily", r->keep_daily, "keep_weekly", r->keep_weekly,
                    "keep_monthly", r->keep_monthly, "keep_yearly",
                    r->keep_yearly, "export",
                    coord_export_kind_name(p->export_kind), "export_dir",
                    p->export_dir ? json_string(p->export_dir) : json_null(),
                    "parallelism", p->parallelism, "schedule",
                    p->schedule_text ? json_string(p->schedule_text)
                                     : json_null()));
        }
        text =
            arr ? json_dumps(arr, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;
        json_decref(arr);
        if (!text) {
            fprintf(stderr, "snapset: out of memory\n");
            return EXIT_FAILURE;
        }
        printf("%s\n", text);
        free(text);
        return EXIT_SUCCESS;
    }
    printf("%-16s  %-28s  %-12s  %-11s  %-8s  %s\n", "POLICY", "DOMAINS",
           "SCHEDULE", "PARALLELISM", "EXPORT", "RETENTION");
    for (i = 0; i < ctx->conf.npolicies; i++) {
        const coord_policy *p = &ctx->conf.policies[i];
        size_t used = 0;

        doms[0] = '\0';
        for (k = 0; k < p->ndomains && used < sizeof(doms); k++)
            used += (size_t)snprintf(doms + used, sizeof(doms) - used, "%s%s",
                                     k ? "," : "", p->domains[k]);
        if (p->metadata && used < sizeof(doms))
            snprintf(doms + used, sizeof(doms) - used, "%s(metadata)",
                     used ? "," : "");
        coord_retention_format(&p->retention, ret, sizeof(ret));
        printf("%-16s  %-28s  %-12s  %-11d  %-8s  %s\n", p->name, doms,
               dash(p->schedule_text), p->parallelism,
               coord_export_kind_name(p->export_kind), ret);
    }
    return EXIT_SUCCESS;
}

static int
policy_run_cmd(ops_ctx *ctx, const coord_policy *p, bool json)
{
    target *targets = NULL;
    vm_result *results = NULL;
    size_t n = 0, i;
    snap_error err = {0};
    int64_t t0 = snap_now_ms();
    bool failed = false;

    if (!policy_execute(&ctx->conf, p, NULL, NULL, &targets, &results, &n,
                        &err))
        return serve_fail(&err);
    print_run(p, results, n, snap_now_ms() - t0, json);
    for (i = 0; i < n; i++)
        failed |= results[i].status == VM_FAILED;
    if (n == 0)
        fprintf(stderr, "snapset: policy '%s' selects no domain\n", p->name);
    free(results);
    targets_free(targets, n);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

static int
policy_prune_cmd(ops_ctx *ctx, const coord_policy *p, bool dry_run, bool json)
{
    coord_set **sets = NULL;
    coord_prune_mark *marks = NULL;
    size_t n = 0, i, removed = 0, kept = 0;
    snap_error err = {0}, first = {0};
    json_t *arr = NULL;
    bool failed = false;

    if (!ops_catalog(ctx, &err) ||
        !prune_plan(ctx->catalog, p, NULL, &sets, &n, &marks, &err))
        return serve_fail(&err);
    if (json)
        arr = json_array();
    else
        printf("%-36s  %-16s  %-24s  %-9s  %s\n", "SET", "DOMAIN", "CREATED",
               "STATE", "VERDICT");
    for (i = 0; i < n; i++) {
        const coord_set *s = sets[i];
        const char *verdict = coord_prune_mark_name(marks[i]);
        char created[40];
        bool keep = coord_prune_mark_keeps(marks[i]);
        bool gone = false;

        if (!keep && !dry_run) {
            snap_error e = {0};

            gone = ops_delete(ctx, s->uuid, OPS_DELETE_EXPORTS, &e);
            if (!gone) {
                failed = true;
                snap_error_set(&first, e.code, "%s", e.msg);
                fprintf(stderr, "snapset: cannot delete set %s: %s\n", s->uuid,
                        e.msg);
            }
        }
        removed += !keep;
        kept += keep;
        snap_iso8601(s->created_ms, created, sizeof(created));
        if (arr)
            json_array_append_new(
                arr,
                json_pack("{s:s,s:s,s:s,s:s,s:s,s:b,s:b}", "set_id", s->uuid,
                          "domain", dash(s->domain_name), "created", created,
                          "state", coord_set_state_name(s->state), "verdict",
                          verdict, "keep", keep, "deleted", gone));
        else
            printf("%-36s  %-16s  %-24s  %-9s  %s%s\n", s->uuid,
                   dash(s->domain_name), created,
                   coord_set_state_name(s->state), verdict,
                   !keep && !dry_run ? (gone ? " (deleted)" : " (FAILED)")
                                     : "");
    }
    if (arr) {
        json_t *doc = json_pack("{s:s,s:s,s:b,s:i,s:i,s:o}", "policy", p->name,
                                "backup_type", coord_policy_backup_type(p),
                                "dry_run", dry_run, "keep", (int)kept, "remove",
                                (int)removed, "sets", arr);
        char *text =
            doc ? json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;

        if (text)
            printf("%s\n", text);
        free(text);
        json_decref(doc);
    } else {
        printf("policy %s: %zu kept, %zu %s\n", p->name, kept, removed,
               dry_run ? "would be removed (dry run)" : "removed");
    }
    coord_catalog_list_free(sets, n);
    free(marks);
    return failed ? serve_fail(&first) : EXIT_SUCCESS;
}

int
serve_cmd_policy(ops_ctx *ctx, int argc, char **argv)
{
    static const struct option opts[] = {
        {"json", no_argument, NULL, 'j'},
        {"dry-run", no_argument, NULL, 'n'},
        {NULL, 0, NULL, 0},
    };
    const coord_policy *p;
    snap_error err = {0};
    const char *sub;
    bool json = false, dry_run = false;
    int c;

    if (argc < 2 || argv[1][0] == '-')
        return serve_usage("'policy' needs list, run NAME or prune NAME");
    sub = argv[1];
    argc--;
    argv++;
    optind = 0; /* 0: GNU getopt reinitialises, permuting again */
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'j':
            json = true;
            break;
        case 'n':
            dry_run = true;
            break;
        default:
            return serve_usage("bad option for 'policy %s'", sub);
        }
    }
    if (strcmp(sub, "list") == 0) {
        if (optind != argc || dry_run)
            return serve_usage("'policy list' takes only --json");
        return policy_list(ctx, json);
    }
    if (strcmp(sub, "run") != 0 && strcmp(sub, "prune") != 0)
        return serve_usage("unknown policy command '%s': use list, run or "
                           "prune",
                           sub);
    if (optind != argc - 1)
        return serve_usage("'policy %s' takes one policy NAME", sub);
    if (strcmp(sub, "run") == 0 && dry_run)
        return serve_usage("'policy run' has no --dry-run (see 'policy "
                           "prune')");
    p = find_policy(ctx, argv[optind], &err);
    if (!p)
        return serve_fail(&err);
    if (strcmp(sub, "run") == 0)
        return policy_run_cmd(ctx, p, json);
    return policy_prune_cmd(ctx, p, dry_run, json);
}

/* ---- serve: background jobs ---------------------------------------------- */

typedef enum job_kind {
    JOB_CREATE = 0,
    JOB_DELETE,
    JOB_EXPORT,
} job_kind;

typedef struct job {
    job_kind kind;
    char set_uuid[SNAP_UUID_LEN];
    char domain_uuid[SNAP_UUID_LEN];
    char *domain_name;
    char *name;
    char *backup_type;
    int rotation;
    coord_quiesce quiesce;
    bool pause;
    bool with_exports;   /* JOB_DELETE */
    char *disk_format;   /* JOB_EXPORT; name is the image's name */
    json_t *metadata;    /* JOB_CREATE: the caller's pairs, or NULL */
    int lock_fd;         /* the domain lock, held from acceptance */
    int64_t accepted_ms; /* wall clock */
    bool started;
    struct job *next;
} job;

/* One Keystone session of the token validators: each validator thread of
 * the API takes a free one, so no validation waits for another's I/O. */
typedef struct ks_slot {
    pthread_mutex_t mu; /* held by the validation using it */
    ops_os os;
    bool open;
} ks_slot;

typedef struct serve_state {
    coord_conf conf;         /* what each thread copies */
    coord_catalog *catalog;  /* shared by the HTTP threads: reads, locks */
    pthread_mutex_t virt_mu; /* guards conn */
    virConnectPtr conn;      /* domain lookups of the HTTP threads */
    ks_slot *ks;             /* Keystone sessions for token validation: */
    size_t nks;              /* one per validator thread of the API */

    pthread_mutex_t mu;      /* guards the fields below */
    pthread_cond_t work_cv;  /* a job was queued, or stopping */
    pthread_cond_t idle_cv;  /* a worker finished a job */
    pthread_cond_t sched_cv; /* wakes the scheduler on stop */
    job *jobs;               /* queued and running, oldest first */
    size_t queued;
    size_t running;
    bool sched_running; /* a scheduled policy run is in progress */
    atomic_bool stopping;

    http_api *api;
    ops_ctx *ctxs; /* one per worker */
    pthread_t *workers;
    size_t nworkers;
} serve_state;

static void
job_free(job *j)
{
    if (!j)
        return;
    coord_catalog_unlock(j->lock_fd); /* -1 is fine */
    free(j->domain_name);
    free(j->name);
    free(j->backup_type);
    free(j->disk_format);
    json_decref(j->metadata);
    free(j);
}

/* A job that never got as far as a set document (ops_create failed
 * before recording anything, or the server stopped first) is recorded as
 * a failed set, so the Location the client got always answers. */
static void
record_failed(serve_state *st, ops_ctx *ctx, const job *j, const char *why)
{
    coord_set *set = NULL;
    snap_error err = {0};

    set = coord_set_new(&err);
    if (!set)
        goto cleanup;
    memcpy(set->uuid, j->set_uuid, SNAP_UUID_LEN);
    memcpy(set->domain_uuid, j->domain_uuid, SNAP_UUID_LEN);
    set->state = COORD_SET_ERROR;
    set->created_ms = j->accepted_ms;
    set->finished_ms = snap_wall_ms();
    set->quiesce = j->quiesce;
    set->pause_requested = j->pause;
    set->rotation = j->rotation;
    if (!coord_str_set(&set->domain_name, j->domain_name, &err) ||
        !coord_str_set(&set->name, j->name, &err) ||
        !coord_str_set(&set->backup_type, j->backup_type, &err) ||
        !coord_str_set(&set->error, why, &err))
        goto cleanup;
    if (!coord_catalog_save(ctx ? ctx->catalog : st->catalog, set, &err))
        goto cleanup;
    http_api_observe_set(st->api, set);

 cleanup:
    if (snap_error_isset(&err))
        serve_log("cannot record failed set %s: %s", j->set_uuid, err.msg);
    coord_set_free(set);
}

/* After a good backup: keep the newest @rotation available sets of the
 * domain and backup type; older ones of that type, available or failed,
 * go (every member, Cinder snapshots and exports included, through
 * ops_delete()). */
static void
rotate(serve_state *st, ops_ctx *ctx, const job *j)
{
    coord_set **sets = NULL;
    size_t n = 0, i, kept = 0, deleted = 0;
    snap_error err = {0};
    int64_t saved = ctx->conf.lock_timeout_ms, oldest_kept = -1;

    if (!coord_catalog_list(ctx->catalog, &sets, &n, &err)) {
        serve_log("rotation of '%s' (%s): %s", j->domain_name, j->backup_type,
                  err.msg);
        return;
    }
    /* The list is oldest first: walk it backwards. */
    for (i = n; i-- > 0;) {
        const coord_set *s = sets[i];

        if (strcmp(s->domain_uuid, j->domain_uuid) != 0 || !s->backup_type ||
            strcmp(s->backup_type, j->backup_type) != 0 ||
            s->state != COORD_SET_AVAILABLE)
            continue;
        if (kept < (size_t)j->rotation) {
            kept++;
            oldest_kept = s->created_ms;
        }
    }
    if (ctx->conf.lock_timeout_ms < ROTATION_LOCK_MS)
        ctx->conf.lock_timeout_ms = ROTATION_LOCK_MS;
    for (i = 0; i < n; i++) {
        const coord_set *s = sets[i];
        snap_error e = {0};

        if (strcmp(s->domain_uuid, j->domain_uuid) != 0 || !s->backup_type ||
            strcmp(s->backup_type, j->backup_type) != 0 ||
            (s->state != COORD_SET_AVAILABLE && s->state != COORD_SET_ERROR) ||
            s->created_ms >= oldest_kept)
            continue;
        if (ops_delete(ctx, s->uuid, OPS_DELETE_EXPORTS, &e)) {
            deleted++;
            http_api_observe_delete(st->api, true);
        } else {
            http_api_observe_delete(st->api, false);
            serve_log("rotation: cannot delete set %s: %s", s->uuid, e.msg);
        }
    }
    ctx->conf.lock_timeout_ms = saved;
    if (deleted)
        serve_log("rotation of '%s' (%s, keep %d): deleted %zu set%s",
                  j->domain_name, j->backup_type, j->rotation, deleted,
                  deleted == 1 ? "" : "s");
    coord_catalog_list_free(sets, n);
}

static void
run_create(serve_state *st, ops_ctx *ctx, job *j)
{
    ops_create_opts o;
    coord_set *set = NULL;
    snap_error err = {0};
    const char **pairs = NULL, *key;
    json_t *v;
    size_t n = 0;
    bool ok;

    if (j->metadata && json_object_size(j->metadata) > 0) {
        pairs = calloc(2 * json_object_size(j->metadata), sizeof(*pairs));
        if (!pairs) {
            snap_error_set(&err, SNAP_E_NOMEM, "out of memory");
            coord_catalog_unlock(j->lock_fd);
            j->lock_fd = -1;
            record_failed(st, NULL, j, err.msg);
            return;
        }
        json_object_foreach(j->metadata, key, v) {
            pairs[2 * n] = key;
            pairs[2 * n + 1] = json_string_value(v);
            n++;
        }
    }
    if (!ctx_ready(ctx, &err)) {
        coord_catalog_unlock(j->lock_fd);
        j->lock_fd = -1;
        serve_log("set %s of '%s' failed: %s", j->set_uuid, j->domain_name,
                  err.msg);
        record_failed(st, NULL, j, err.msg);
        free(pairs);
        return;
    }
    ops_create_opts_init(&o);
    o.quiesce = j->quiesce;
    o.pause = j->pause;
    o.name = j->name;
    o.backup_type = j->backup_type;
    o.rotation = j->rotation;
    o.set_uuid = j->set_uuid;
    o.lock_fd = j->lock_fd;
    o.metadata = pairs;
    o.nmetadata = n;
    j->lock_fd = -1; /* ops_create() releases it */
    ok = ops_create(ctx, j->domain_uuid, &o, &set, &err);
    free(pairs);
    if (!set) {
        serve_log("set %s of '%s' failed: %s", j->set_uuid, j->domain_name,
                  err.msg);
        record_failed(st, ctx, j, err.msg);
        return;
    }
    http_api_observe_set(st->api, set);
    if (ok)
        serve_log("set %s of '%s': %s, %s, frozen %lld ms", set->uuid,
                  j->domain_name, coord_set_state_name(set->state),
                  coord_consistency_name(set->consistency),
                  (long long)set->freeze_ms);
    else
        serve_log("set %s of '%s' failed: %s", set->uuid, j->domain_name,
                  err.msg);
    coord_set_free(set);
    /* A failed backup never rotates. */
    if (ok && j->backup_type && j->rotation >= 1)
        rotate(st, ctx, j);
}

static void
run_delete(serve_state *st, ops_ctx *ctx, job *j)
{
    snap_error err = {0};
    bool ok;

    /* ops_delete() takes the lock itself: hand it over with as small a gap
     * as possible (it waits up to timeouts.lock_ms for it). */
    coord_catalog_unlock(j->lock_fd);
    j->lock_fd = -1;
    ok = ctx_ready(ctx, &err) &&
         ops_delete(ctx, j->set_uuid, j->with_exports ? OPS_DELETE_EXPORTS : 0,
                    &err);
    http_api_observe_delete(st->api, ok);
    if (ok)
        serve_log("deleted set %s", j->set_uuid);
    else
        serve_log("cannot delete set %s: %s", j->set_uuid, err.msg);
}

/* An OVA of the set into Glance, by `snapset export` in a child process;
 * the outcome is recorded in the set's exports.json (GET /v1/sets/{id}). */
static void
run_export(serve_state *st, ops_ctx *ctx, job *j)
{
    ops_export_req req;
    json_t *result = NULL;
    snap_error err = {0};

    (void)st;
    memset(&req, 0, sizeof(req));
    req.kind = "glance";
    req.name = j->name;
    req.disk_format = j->disk_format;
    req.timeout_ms = ctx->conf.copy_timeout_ms;
    if (ops_export_child(ctx, j->set_uuid, &req, &result, &err))
        serve_log("exported set %s into Glance: image %s", j->set_uuid,
                  json_string_value(json_object_get(result, "image_id")));
    else
        serve_log("cannot export set %s: %s", j->set_uuid, err.msg);
    json_decref(result);
}

typedef struct worker_arg {
    serve_state *st;
    ops_ctx *ctx;
} worker_arg;

static void *
worker_main(void *arg)
{
    worker_arg *wa = arg;
    serve_state *st = wa->st;
    ops_ctx *ctx = wa->ctx;
    job *j, **pp;

    free(wa);
    for (;;) {
        pthread_mutex_lock(&st->mu);
        for (;;) {
            for (j = st->jobs; j && j->started; j = j->next)
                ;
            if (j || atomic_load(&st->stopping))
                break;
            pthread_cond_wait(&st->work_cv, &st->mu);
        }
        if (!j) {
            pthread_mutex_unlock(&st->mu);
            break;
        }
        j->started = true;
        st->queued--;
        st->running++;
        pthread_mutex_unlock(&st->mu);

        if (j->kind == JOB_CREATE)
            run_create(st, ctx, j);
        else if (j->kind == JOB_EXPORT)
            run_export(st, ctx, j);
        else
            run_delete(st, ctx, j);

        pthread_mutex_lock(&st->mu);
        for (pp = &st->jobs; *pp != j; pp = &(*pp)->next)
            ;
        *pp = j->next;
        st->running--;
        pthread_cond_broadcast(&st->idle_cv);
        pthread_mutex_unlock(&st->mu);
        job_free(j);
    }
    return NULL;
}

/* Queues @j (taken in every case); false with 503 when the server is
 * stopping or the queue is full. */
static bool
job_queue(serve_state *st, job *j, snap_error *err)
{
    job **pp;

    pthread_mutex_lock(&st->mu);
    if (atomic_load(&st->stopping)) {
        pthread_mutex_unlock(&st->mu);
        job_free(j);
        return snap_error_set_http(err, 503, "snapset is shutting down");
    }
    if (st->queued >= (size_t)st->conf.http.max_queue) {
        pthread_mutex_unlock(&st->mu);
        job_free(j);
        return snap_error_set_http(err, 503,
                                   "too many jobs waiting (%d): try again "
                                   "later",
                                   st->conf.http.max_queue);
    }
    for (pp = &st->jobs; *pp; pp = &(*pp)->next)
        ;
    *pp = j;
    st->queued++;
    pthread_cond_signal(&st->work_cv);
    pthread_mutex_unlock(&st->mu);
    return true;
}

/* Takes @domain_uuid's lock without waiting; SNAP_E_BUSY names the
 * domain. */
static int
lock_now(serve_state *st, const char *domain_uuid, const char *domain_name,
         snap_error *err)
{
    snap_error e = {0};
    int fd = coord_catalog_lock(st->catalog, domain_uuid, 0, &e);

    if (fd >= 0)
        return fd;
    if (e.code == SNAP_E_BUSY)
        snap_error_set(err, SNAP_E_BUSY,
                       "domain '%s' already has a snapset operation in "
                       "progress",
                       domain_name);
    else
        snap_error_set(err, e.code, "%s", e.msg);
    return -1;
}

/* ---- serve: the backend ops ---------------------------------------------- */

static bool
be_domain_lookup(void *impl, const char *id, char **name,
                 char uuid[SNAP_UUID_LEN], snap_error *err)
{
    serve_state *st = impl;
    virDomainPtr dom = NULL;
    snap_error e = {0};
    virErrorPtr verr;
    bool ok = false;

    pthread_mutex_lock(&st->virt_mu);
    if (st->conn && virConnectIsAlive(st->conn) != 1) {
        virConnectClose(st->conn);
        st->conn = NULL;
    }
    if (!st->conn)
        st->conn = virt_open(st->conf.libvirt_uri, &e);
    if (!st->conn) {
        snap_error_set_http(err, 503, "%s", e.msg);
        goto cleanup;
    }
    dom = virDomainLookupByName(st->conn, id);
    if (!dom && strlen(id) == 36)
        dom = virDomainLookupByUUIDString(st->conn, id);
    if (!dom) {
        verr = virGetLastError();
        if (!verr || verr->code == VIR_ERR_NO_DOMAIN ||
            verr->code == VIR_ERR_INVALID_ARG)
            snap_error_set(err, SNAP_E_NOTFOUND, "no domain '%s'", id);
        else
            snap_error_set_http(err, 503, "libvirt: %s",
                                verr->message ? verr->message : "failed");
        goto cleanup;
    }
    if (virDomainGetUUIDString(dom, uuid) < 0 ||
        !(*name = strdup(virDomainGetName(dom)))) {
        snap_error_set(err, SNAP_E_NOMEM, "cannot read domain '%s'", id);
        goto cleanup;
    }
    ok = true;

 cleanup:
    if (dom)
        virDomainFree(dom);
    pthread_mutex_unlock(&st->virt_mu);
    return ok;
}

static bool
be_domain_owner(void *impl, const char *domain_uuid, http_owner *owner,
                snap_error *err)
{
    serve_state *st = impl;
    virDomainPtr dom = NULL;
    snap_error e = {0};
    virErrorPtr verr;
    bool ok = false;

    memset(owner, 0, sizeof(*owner));
    pthread_mutex_lock(&st->virt_mu);
    if (st->conn && virConnectIsAlive(st->conn) != 1) {
        virConnectClose(st->conn);
        st->conn = NULL;
    }
    if (!st->conn)
        st->conn = virt_open(st->conf.libvirt_uri, &e);
    if (!st->conn) {
        snap_error_set_http(err, 503, "%s", e.msg);
        goto cleanup;
    }
    dom = virDomainLookupByUUIDString(st->conn, domain_uuid);
    if (!dom) {
        verr = virGetLastError();
        if (!verr || verr->code == VIR_ERR_NO_DOMAIN ||
            verr->code == VIR_ERR_INVALID_ARG)
            snap_error_set(err, SNAP_E_NOTFOUND, "no domain '%s'",
                           domain_uuid);
        else
            snap_error_set_http(err, 503, "libvirt: %s",
                                verr->message ? verr->message : "failed");
        goto cleanup;
    }
    ok = virt_domain_owner(dom, &owner->project, &owner->project_name,
                           &owner->project_domain, err);

 cleanup:
    if (dom)
        virDomainFree(dom);
    pthread_mutex_unlock(&st->virt_mu);
    return ok;
}

/* Adds the owner of the domain to the set's metadata (HTTP_OWNER_KEY_*):
 * the set keeps it when the domain is gone. */
static bool
record_owner(json_t **metadata, const http_owner *o, snap_error *err)
{
    if (!o || (!o->project && !o->project_name))
        return true;
    if (!*metadata && !(*metadata = json_object()))
        return snap_error_set(err, SNAP_E_NOMEM, "out of memory");
    if ((o->project && json_object_set_new(*metadata, HTTP_OWNER_KEY_PROJECT,
                                           json_string(o->project))) ||
        (o->project_name &&
         json_object_set_new(*metadata, HTTP_OWNER_KEY_NAME,
                             json_string(o->project_name))) ||
        (o->project_domain &&
         json_object_set_new(*metadata, HTTP_OWNER_KEY_DOMAIN,
                             json_string(o->project_domain))))
        return snap_error_set(err, SNAP_E_NOMEM, "out of memory");
    return true;
}

static bool
be_create(void *impl, const http_create_req *req, char set_uuid[SNAP_UUID_LEN],
          snap_error *err)
{
    serve_state *st = impl;
    job *j = calloc(1, sizeof(*j));

    if (!j)
        return snap_error_set(err, SNAP_E_NOMEM, "out of memory");
    j->lock_fd = -1;
    j->kind = JOB_CREATE;
    j->rotation = req->rotation;
    j->quiesce = req->quiesce;
    j->pause = req->pause;
    j->accepted_ms = snap_wall_ms();
    snprintf(j->domain_uuid, SNAP_UUID_LEN, "%s", req->domain_uuid);
    if (!coord_str_set(&j->domain_name, req->domain_name, err) ||
        !coord_str_set(&j->name, req->name, err) ||
        !coord_str_set(&j->backup_type, req->backup_type, err) ||
        (req->metadata &&
         !(j->metadata = json_deep_copy(req->metadata)) &&
         snap_error_set(err, SNAP_E_NOMEM, "out of memory")) ||
        !record_owner(&j->metadata, req->owner, err)) {
        job_free(j);
        return false;
    }
    j->lock_fd = lock_now(st, j->domain_uuid, j->domain_name, err);
    if (j->lock_fd < 0) {
        job_free(j);
        return false;
    }
    snap_uuid_generate(j->set_uuid);
    memcpy(set_uuid, j->set_uuid, SNAP_UUID_LEN);
    return job_queue(st, j, err);
}

/* A set accepted but not recorded yet, as the API shows it: creating. */
static coord_set *
pending_set(const job *j, snap_error *err)
{
    coord_set *set = coord_set_new(err);

    if (!set)
        return NULL;
    memcpy(set->uuid, j->set_uuid, SNAP_UUID_LEN);
    memcpy(set->domain_uuid, j->domain_uuid, SNAP_UUID_LEN);
    set->created_ms = j->accepted_ms;
    set->rotation = j->rotation;
    set->quiesce = j->quiesce;
    set->pause_requested = j->pause;
    if (!coord_str_set(&set->domain_name, j->domain_name, err) ||
        !coord_str_set(&set->name, j->name, err) ||
        !coord_str_set(&set->backup_type, j->backup_type, err)) {
        coord_set_free(set);
        return NULL;
    }
    if (j->metadata) {
        const char *key;
        json_t *v;

        json_object_foreach(j->metadata, key, v) {
            if (!coord_set_add_metadata(set, key, json_string_value(v), err)) {
                coord_set_free(set);
                return NULL;
            }
        }
    }
    return set;
}

static bool
be_list(void *impl, coord_set ***sets, size_t *nsets, snap_error *err)
{
    serve_state *st = impl;
    coord_set **arr = NULL, **grown;
    size_t n = 0, i;
    const job *j;
    bool ok = true;

    if (!coord_catalog_list(st->catalog, &arr, &n, err))
        return false;
    pthread_mutex_lock(&st->mu);
    for (j = st->jobs; j && ok; j = j->next) {
        coord_set *s;

        if (j->kind != JOB_CREATE)
            continue;
        for (i = 0; i < n; i++) {
            if (strcmp(arr[i]->uuid, j->set_uuid) == 0)
                break;
        }
        if (i < n)
            continue; /* recorded already */
        s = pending_set(j, err);
        grown = s ? realloc(arr, (n + 1) * sizeof(*arr)) : NULL;
        if (!grown) {
            coord_set_free(s);
            snap_error_set(err, SNAP_E_NOMEM, "out of memory");
            ok = false;
            break;
        }
        arr = grown;
        arr[n++] = s;
    }
    pthread_mutex_unlock(&st->mu);
    if (!ok) {
        coord_catalog_list_free(arr, n);
        return false;
    }
    *sets = arr;
    *nsets = n;
    return true;
}

static coord_set *
be_get(void *impl, const char *id, snap_error *err)
{
    serve_state *st = impl;
    snap_error e = {0};
    coord_set *set = coord_catalog_load(st->catalog, id, &e);
    const job *j;

    if (set || e.code != SNAP_E_NOTFOUND) {
        if (!set)
            snap_error_set(err, e.code, "%s", e.msg);
        return set;
    }
    pthread_mutex_lock(&st->mu);
    for (j = st->jobs; j; j = j->next) {
        if (j->kind == JOB_CREATE && strncmp(j->set_uuid, id, strlen(id)) == 0)
            break;
    }
    if (j)
        set = pending_set(j, err);
    else
        snap_error_set(err, SNAP_E_NOTFOUND, "%s", e.msg);
    pthread_mutex_unlock(&st->mu);
    return set;
}

/* A new job of @kind on existing set @set, holding no lock yet. */
static job *
job_for_set(job_kind kind, const coord_set *set, snap_error *err)
{
    job *j = calloc(1, sizeof(*j));

    if (!j) {
        snap_error_set(err, SNAP_E_NOMEM, "out of memory");
        return NULL;
    }
    j->kind = kind;
    j->lock_fd = -1;
    j->accepted_ms = snap_wall_ms();
    memcpy(j->set_uuid, set->uuid, SNAP_UUID_LEN);
    memcpy(j->domain_uuid, set->domain_uuid, SNAP_UUID_LEN);
    if (!coord_str_set(&j->domain_name, set->domain_name, err)) {
        job_free(j);
        return NULL;
    }
    return j;
}

static bool
be_remove(void *impl, const char *id, bool with_exports, snap_error *err)
{
    serve_state *st = impl;
    coord_set *set;
    job *j = NULL;

    set = be_get(impl, id, err);
    if (!set)
        return false;
    if (set->state == COORD_SET_CREATING &&
        (set->journal.owner_pid == 0 || ops_owner_alive(&set->journal))) {
        snap_error_set(err, SNAP_E_STATE,
                       "set %s is still being made: delete it when it is "
                       "done",
                       set->uuid);
        goto error;
    }
    j = job_for_set(JOB_DELETE, set, err);
    if (!j)
        goto error;
    j->with_exports = with_exports;
    j->lock_fd = lock_now(st, j->domain_uuid, j->domain_name, err);
    if (j->lock_fd < 0)
        goto error;
    coord_set_free(set);
    return job_queue(st, j, err);

 error:
    job_free(j);
    coord_set_free(set);
    return false;
}

static bool
be_export(void *impl, const char *id, const http_export_req *req,
          char set_uuid[SNAP_UUID_LEN], snap_error *err)
{
    serve_state *st = impl;
    coord_set *set;
    job *j = NULL;

    if (!st->conf.openstack.enabled)
        return snap_error_set(err, SNAP_E_INVALID,
                              "Glance is not configured (openstack.enabled "
                              "is false): use `snapset export SET --ova "
                              "FILE` on the host");
    set = be_get(impl, id, err);
    if (!set)
        return false;
    if (set->state != COORD_SET_AVAILABLE) {
        snap_error_set(err, SNAP_E_STATE, "set %s is %s: only an available "
                       "set can be exported",
                       set->uuid, coord_set_state_name(set->state));
        goto error;
    }
    /* No lock_fd: the export takes the domain lock while it reads. */
    j = job_for_set(JOB_EXPORT, set, err);
    if (!j || !coord_str_set(&j->name, req->name, err) ||
        !coord_str_set(&j->disk_format, req->disk_format, err))
        goto error;
    memcpy(set_uuid, set->uuid, SNAP_UUID_LEN);
    coord_set_free(set);
    return job_queue(st, j, err);

 error:
    job_free(j);
    coord_set_free(set);
    return false;
}

static json_t *
be_exports(void *impl, const coord_set *set)
{
    (void)impl;
    return ops_exports_list(set);
}

static void
be_stats(void *impl, http_backend_stats *stats)
{
    serve_state *st = impl;

    pthread_mutex_lock(&st->mu);
    stats->queued = (int64_t)st->queued;
    stats->running = (int64_t)st->running;
    pthread_mutex_unlock(&st->mu);
}

static const http_backend_ops serve_backend_ops = {
    .domain_lookup = be_domain_lookup,
    .create = be_create,
    .list = be_list,
    .get = be_get,
    .remove = be_remove,
    .export_set = be_export,
    .exports = be_exports,
    .stats = be_stats,
    .domain_owner = be_domain_owner,
};

/* Keystone: validated with a session of snapset's own credentials (it
 * needs the right to validate others' tokens), one session per validator
 * thread of the API and no lock shared between them; http_api caches the
 * answers and runs one validation per token at a time. */
static bool
ks_validate(void *impl, const char *token, http_identity *id, snap_error *err)
{
    serve_state *st = impl;
    cinder_token_info info = {0};
    ks_slot *slot;
    size_t i;
    bool ok = false;

    /* As many slots as validator threads: one is free unless the API
     * runs more validations than it has threads; then wait for slot 0. */
    for (i = 0; i < st->nks && pthread_mutex_trylock(&st->ks[i].mu) != 0; i++)
        ;
    if (i == st->nks) {
        i = 0;
        pthread_mutex_lock(&st->ks[0].mu);
    }
    slot = &st->ks[i];
    if (!slot->open) {
        snap_error e = {0};

        if (!ops_os_open(&slot->os, &st->conf.openstack, &e)) {
            snap_error_set_http(err, 503, "%s", e.msg);
            pthread_mutex_unlock(&slot->mu);
            return false;
        }
        slot->open = true;
    }
    ok = cinder_session_validate_token(slot->os.session, token, &info, err);
    pthread_mutex_unlock(&slot->mu);
    if (!ok)
        goto cleanup;
    ok = false;
    memset(id, 0, sizeof(*id));
    id->expires_ms = info.expires_ms;
    if ((info.user_name && !(id->user = strdup(info.user_name))) ||
        (info.project_id && !(id->project = strdup(info.project_id))) ||
        (info.project_name && !(id->project_name = strdup(info.project_name))) ||
        (info.project_domain_id &&
         !(id->project_domain_id = strdup(info.project_domain_id))) ||
        (info.project_domain_name &&
         !(id->project_domain_name = strdup(info.project_domain_name))))
        goto nomem;
    if (info.nroles) {
        id->roles = calloc(info.nroles, sizeof(*id->roles));
        if (!id->roles)
            goto nomem;
        for (i = 0; i < info.nroles; i++) {
            id->roles[i] = strdup(info.roles[i]);
            if (!id->roles[i])
                goto nomem;
            id->nroles++;
        }
    }
    ok = true;
    goto cleanup;

 nomem:
    snap_error_set(err, SNAP_E_NOMEM, "out of memory");
    http_identity_release(id);
 cleanup:
    cinder_token_info_release(&info);
    return ok;
}

static const http_auth_ops keystone_auth_ops = {.validate = ks_validate};

static bool
auth_is_noauth(const coord_conf *conf)
{
    const char *type = conf->openstack.auth_type;

    if (!type && conf->openstack.use_env)
        type = getenv("OS_AUTH_TYPE");
    return type && strcmp(type, "noauth") == 0;
}

/* The API checks tokens with Keystone when OpenStack is on and is not
 * noauth (which has no Keystone: a tokens file then). */
static bool
keystone_for_api(const coord_conf *conf)
{
    return conf->openstack.enabled && !auth_is_noauth(conf);
}

/* ---- serve: the scheduler ------------------------------------------------ */

/* Runs the policies that have a schedule, one run at a time, until the
 * server stops. A run that is due while another runs starts after it. */
static void *
scheduler_main(void *arg)
{
    serve_state *st = arg;
    const coord_conf *conf = &st->conf;
    int64_t *next = calloc(conf->npolicies + 1, sizeof(*next));
    size_t i;

    if (!next) {
        serve_log("scheduler: out of memory: no policy will be scheduled");
        return NULL;
    }
    for (i = 0; i < conf->npolicies; i++) {
        next[i] =
            coord_schedule_next(&conf->policies[i].schedule, snap_wall_ms());
        if (next[i] > 0) {
            char when[40];

            serve_log("policy %s: next run %s", conf->policies[i].name,
                      snap_iso8601(next[i], when, sizeof(when)));
        }
    }
    pthread_mutex_lock(&st->mu);
    while (!atomic_load(&st->stopping)) {
        int64_t soonest = -1, now = snap_wall_ms();
        size_t due = conf->npolicies;
        struct timespec ts;

        for (i = 0; i < conf->npolicies; i++) {
            if (next[i] > 0 && (soonest < 0 || next[i] < soonest)) {
                soonest = next[i];
                due = i;
            }
        }
        if (soonest < 0)
            break; /* nothing to schedule */
        if (soonest > now) {
            ts.tv_sec = (time_t)(soonest / 1000);
            ts.tv_nsec = (long)(soonest % 1000) * 1000000L;
            pthread_cond_timedwait(&st->sched_cv, &st->mu, &ts);
            continue;
        }
        st->sched_running = true;
        pthread_mutex_unlock(&st->mu);
        {
            const coord_policy *p = &conf->policies[due];
            target *targets = NULL;
            vm_result *results = NULL;
            size_t n = 0, k, nfail = 0;
            snap_error err = {0};

            serve_log("policy %s: scheduled run starts", p->name);
            if (!policy_execute(conf, p, st->api, &st->stopping, &targets,
                                &results, &n, &err)) {
                serve_log("policy %s: %s", p->name, err.msg);
            } else {
                for (k = 0; k < n; k++) {
                    nfail += results[k].status == VM_FAILED;
                    serve_log(
                        "policy %s: %s: %s%s%s%s%s", p->name, results[k].t.name,
                        vm_status_names[results[k].status],
                        results[k].set_uuid[0] ? " set " : "",
                        results[k].set_uuid, results[k].error[0] ? ": " : "",
                        results[k].error);
                }
                serve_log("policy %s: %zu domain%s, %zu failed", p->name, n,
                          n == 1 ? "" : "s", nfail);
            }
            free(results);
            targets_free(targets, n);
            next[due] = coord_schedule_next(&p->schedule, snap_wall_ms());
        }
        pthread_mutex_lock(&st->mu);
        st->sched_running = false;
        pthread_cond_broadcast(&st->idle_cv);
    }
    pthread_mutex_unlock(&st->mu);
    free(next);
    return NULL;
}

/* ---- serve --------------------------------------------------------------- */

static void
state_release(serve_state *st)
{
    size_t i;

    http_api_free(st->api);
    for (i = 0; st->ctxs && i < st->nworkers; i++)
        ops_ctx_release(&st->ctxs[i]);
    free(st->ctxs);
    free(st->workers);
    for (i = 0; st->ks && i < st->nks; i++) {
        if (st->ks[i].open)
            ops_os_close(&st->ks[i].os);
        pthread_mutex_destroy(&st->ks[i].mu);
    }
    free(st->ks);
    if (st->conn)
        virConnectClose(st->conn);
    coord_catalog_free(st->catalog);
    coord_conf_release(&st->conf);
    pthread_mutex_destroy(&st->virt_mu);
    pthread_mutex_destroy(&st->mu);
    pthread_cond_destroy(&st->work_cv);
    pthread_cond_destroy(&st->idle_cv);
    pthread_cond_destroy(&st->sched_cv);
}

/* Stops: no new job from now on, queued ones are recorded as cancelled,
 * running ones (and a scheduled run) are waited for, at most
 * http.shutdown_timeout_ms. False when some are still running then. */
static bool
serve_stop(serve_state *st)
{
    job *j, **pp;
    struct timespec ts;
    int64_t deadline = snap_wall_ms() + st->conf.http.shutdown_timeout_ms;
    bool done;

    pthread_mutex_lock(&st->mu);
    atomic_store(&st->stopping, true);
    pp = &st->jobs;
    while ((j = *pp)) {
        if (j->started) {
            pp = &j->next;
            continue;
        }
        *pp = j->next;
        st->queued--;
        pthread_mutex_unlock(&st->mu);
        if (j->kind == JOB_CREATE) {
            record_failed(st, NULL, j,
                          "cancelled: snapset serve stopped before the set "
                          "was begun");
            serve_log("set %s of '%s' cancelled (stopping)", j->set_uuid,
                      j->domain_name);
        } else {
            serve_log("deletion of set %s cancelled (stopping)", j->set_uuid);
        }
        job_free(j); /* releases the domain lock */
        pthread_mutex_lock(&st->mu);
        pp = &st->jobs;
    }
    pthread_cond_broadcast(&st->work_cv);
    pthread_cond_broadcast(&st->sched_cv);
    if (st->running || st->sched_running)
        serve_log("waiting for %zu running job%s%s", st->running,
                  st->running == 1 ? "" : "s",
                  st->sched_running ? " and a policy run" : "");
    while ((st->running || st->sched_running) && snap_wall_ms() < deadline) {
        ts.tv_sec = (time_t)(deadline / 1000);
        ts.tv_nsec = (long)(deadline % 1000) * 1000000L;
        pthread_cond_timedwait(&st->idle_cv, &st->mu, &ts);
    }
    done = st->running == 0 && !st->sched_running;
    pthread_mutex_unlock(&st->mu);
    return done;
}

int
serve_cmd_serve(ops_ctx *ctx, int argc, char **argv)
{
    static const struct option opts[] = {
        {"address", required_argument, NULL, 'a'},
        {"port", required_argument, NULL, 'p'},
        {"tokens-file", required_argument, NULL, 't'},
        {"no-schedule", no_argument, NULL, 'S'},
        {NULL, 0, NULL, 0},
    };
    serve_state *st = NULL;
    http_api_opts ho;
    snap_error err = {0};
    sigset_t sigs;
    pthread_t sched;
    size_t i;
    bool have_sched = false, stopped_clean = true, any_schedule = false;
    int c, sig = 0, recovered = 0, rc = EXIT_FAILURE;
    char *end;
    long v;

    st = calloc(1, sizeof(*st));
    if (!st) {
        fprintf(stderr, "snapset: out of memory\n");
        return EXIT_FAILURE;
    }
    pthread_mutex_init(&st->virt_mu, NULL);
    pthread_mutex_init(&st->mu, NULL);
    pthread_cond_init(&st->work_cv, NULL);
    pthread_cond_init(&st->idle_cv, NULL);
    pthread_cond_init(&st->sched_cv, NULL);
    atomic_init(&st->stopping, false);
    if (!coord_conf_copy(&st->conf, &ctx->conf, &err)) {
        rc = serve_fail(&err);
        goto out;
    }
    optind = 0; /* 0: GNU getopt reinitialises, permuting again */
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'a':
            if (!coord_str_set(&st->conf.http.address, optarg, &err)) {
                rc = serve_fail(&err);
                goto out;
            }
            break;
        case 'p':
            errno = 0;
            v = strtol(optarg, &end, 10);
            if (errno || *end || v < 0 || v > 65535) {
                rc = serve_usage("bad --port '%s'", optarg);
                goto out;
            }
            st->conf.http.port = (int)v;
            break;
        case 't':
            if (optarg[0] != '/') {
                rc = serve_usage("--tokens-file '%s' is not an absolute path",
                                 optarg);
                goto out;
            }
            if (!coord_str_set(&st->conf.http.tokens_file, optarg, &err)) {
                rc = serve_fail(&err);
                goto out;
            }
            break;
        case 'S':
            st->conf.http.schedule = false;
            break;
        default:
            rc = serve_usage("bad option for 'serve'");
            goto out;
        }
    }
    if (optind != argc) {
        rc = serve_usage("'serve' takes no argument");
        goto out;
    }

    /* Finish what a dead snapset left (a guest frozen by a crashed serve
     * is thawed here, before anything else). */
    if (!ops_recover(ctx, NULL, &recovered, &err)) {
        rc = serve_fail(&err);
        goto out;
    }
    if (recovered)
        serve_log("recovered %d set%s left by a dead snapset process",
                  recovered, recovered == 1 ? "" : "s");
    st->catalog = coord_catalog_open(st->conf.catalog_dir, &err);
    if (!st->catalog) {
        rc = serve_fail(&err);
        goto out;
    }

    /* Every thread started from here on inherits this mask: the signals
     * are taken by sigwait() below only. */
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGTERM);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);
    signal(SIGPIPE, SIG_IGN);

    st->nworkers = (size_t)st->conf.http.workers;
    st->ctxs = calloc(st->nworkers, sizeof(*st->ctxs));
    st->workers = calloc(st->nworkers, sizeof(*st->workers));
    if (!st->ctxs || !st->workers) {
        fprintf(stderr, "snapset: out of memory\n");
        st->nworkers = 0;
        goto out;
    }
    for (i = 0; i < st->nworkers; i++) {
        if (!ctx_init(&st->ctxs[i], &st->conf, &err)) {
            st->nworkers = i;
            rc = serve_fail(&err);
            goto out;
        }
    }

    http_api_opts_init(&ho);
    ho.address = st->conf.http.address;
    ho.port = st->conf.http.port;
    ho.max_body_bytes = (size_t)st->conf.http.max_body_bytes;
    ho.threads = (unsigned)st->conf.http.threads;
    ho.max_connections = (unsigned)st->conf.http.max_connections;
    ho.max_connections_per_ip = (unsigned)st->conf.http.max_connections_per_ip;
    ho.connection_timeout_ms = st->conf.http.connection_timeout_ms;
    ho.request_timeout_ms = st->conf.http.request_timeout_ms;
    ho.allowed_roles = st->conf.http.allowed_roles;
    ho.nallowed_roles = st->conf.http.nallowed_roles;
    ho.allowed_projects = st->conf.http.allowed_projects;
    ho.nallowed_projects = st->conf.http.nallowed_projects;
    ho.token_cache_ms = st->conf.http.token_cache_ms;
    ho.negative_cache_ms = st->conf.http.negative_cache_ms;
    ho.validate_timeout_ms = st->conf.http.validate_timeout_ms;
    ho.validators = (unsigned)st->conf.http.validators;
    if (keystone_for_api(&st->conf)) {
        st->nks = (size_t)st->conf.http.validators;
        st->ks = calloc(st->nks, sizeof(*st->ks));
        if (!st->ks) {
            st->nks = 0;
            fprintf(stderr, "snapset: out of memory\n");
            goto out;
        }
        for (i = 0; i < st->nks; i++)
            pthread_mutex_init(&st->ks[i].mu, NULL);
        ho.auth = &keystone_auth_ops;
        ho.auth_impl = st;
    } else {
        /* noauth is Cinder's setting, never the API's: its tokens come
         * from the tokens file only. */
        ho.tokens_file = st->conf.http.tokens_file;
    }
    ho.backend = &serve_backend_ops;
    ho.backend_impl = st;
    ho.quiesce = st->conf.quiesce;
    ho.pause = st->conf.pause;
    st->api = http_api_new(&ho, &err);
    if (!st->api && st->conf.openstack.enabled && !ho.auth) {
        snap_error e = {0};

        snap_error_set(&e, err.code,
                       "openstack.auth_type is noauth, so the API takes its "
                       "tokens from http.tokens_file only: %s",
                       err.msg);
        err = e;
    }
    if (!st->api) {
        rc = serve_fail(&err);
        goto out;
    }

    for (i = 0; i < st->nworkers; i++) {
        worker_arg *wa = malloc(sizeof(*wa));

        if (!wa) {
            fprintf(stderr, "snapset: out of memory\n");
            st->nworkers = i;
            goto stop;
        }
        wa->st = st;
        wa->ctx = &st->ctxs[i];
        if (pthread_create(&st->workers[i], NULL, worker_main, wa) != 0) {
            free(wa);
            fprintf(stderr, "snapset: cannot start a worker thread\n");
            st->nworkers = i;
            goto stop;
        }
    }
    for (i = 0; i < st->conf.npolicies; i++)
        any_schedule |=
            st->conf.policies[i].schedule.kind != COORD_SCHEDULE_NONE;
    if (st->conf.http.schedule && any_schedule) {
        if (pthread_create(&sched, NULL, scheduler_main, st) == 0)
            have_sched = true;
        else
            serve_log("cannot start the scheduler: no policy will run on "
                      "its schedule");
    }

    printf("snapset: serving on http://%s%s%s:%d (%s, %zu workers)\n",
           strchr(st->conf.http.address, ':') ? "[" : "", st->conf.http.address,
           strchr(st->conf.http.address, ':') ? "]" : "",
           http_api_port(st->api),
           keystone_for_api(&st->conf) ? "Keystone tokens" : "tokens file",
           st->nworkers);
    fflush(stdout);

    for (;;) {
        if (sigwait(&sigs, &sig) != 0)
            continue;
        if (sig == SIGHUP) {
            serve_log("SIGHUP: reloading is not supported; restart to read "
                      "a changed configuration");
            continue;
        }
        break;
    }
    serve_log("%s: stopping", sig == SIGINT ? "SIGINT" : "SIGTERM");
    rc = EXIT_SUCCESS;

 stop:
    stopped_clean = serve_stop(st);
    if (!stopped_clean) {
        /* Jobs still run past the bound: exit without waiting. Their
         * journals name this process; the next `serve` (or any create,
         * delete or recover on those domains) finishes them. The threads
         * still use the state, so it is not freed. */
        serve_log("jobs still running after %lld ms: exiting anyway; the "
                  "next start recovers them",
                  (long long)st->conf.http.shutdown_timeout_ms);
        fflush(NULL);
        return EXIT_FAILURE;
    }
    for (i = 0; i < st->nworkers; i++)
        pthread_join(st->workers[i], NULL);
    if (have_sched)
        pthread_join(sched, NULL);
    serve_log("stopped");

 out:
    state_release(st);
    free(st);
    return rc;
}
