/* coordinator/serve/policy.c -- see policy.h. */
#include "coordinator/serve/policy.h"

#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/snap_time.h"
#include "coordinator/ops/actions.h"
#include "coordinator/ops/export.h"
#include "coordinator/ops/verify.h"
#include "coordinator/serve/state.h"
#include "virt/host.h"

/* Rotation waits this long (at least) for the domain lock between its
 * deletions: the set it just made released it a moment ago. */
#define ROTATION_LOCK_MS 30000

static const char *const vm_status_names[] = {"ok", "failed", "skipped"};

const char *
serve_vm_status_name(serve_vm_status s)
{
    return vm_status_names[s];
}

/* ---- domain selection ---------------------------------------------------- */

/* True when the domain's snapset metadata element lists @policy. */
static bool
metadata_names(const char *metadata, const char *policy)
{
    char *xml = metadata ? strdup(metadata) : NULL;
    char *p, *end, *tok, *save = NULL;
    bool found = false;

    if (!xml)
        return false; /* none set, or no memory to read it */
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

void
serve_targets_free(serve_target *t, size_t n)
{
    size_t i;

    for (i = 0; t && i < n; i++)
        free(t[i].name);
    free(t);
}

static int
target_cmp(const void *a, const void *b)
{
    return strcmp(((const serve_target *)a)->name,
                  ((const serve_target *)b)->name);
}

static bool
target_add(serve_target **t, size_t *n, const char *name, const char *uuid,
           bool active, bool missing, snap_error *err)
{
    serve_target *grown = realloc(*t, (*n + 1) * sizeof(*grown));

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

bool
serve_policy_select(const char *uri, const coord_policy *p, serve_target **out,
                    size_t *nout, snap_error *err)
{
    virt_host *host = NULL;
    virt_host_entry *doms = NULL;
    serve_target *t = NULL;
    size_t nd = 0, n = 0, i, k, d;
    bool ok = false;

    *out = NULL;
    *nout = 0;
    host = virt_host_new(uri, err);
    if (!host ||
        !virt_host_list(host, p->metadata ? SERVE_POLICY_METADATA_NS : NULL,
                        &doms, &nd, err))
        goto cleanup;
    for (d = 0; d < nd; d++) {
        const char *name = doms[d].name, *uuid = doms[d].uuid;
        bool sel;

        sel = coord_policy_selects(p, name, uuid) ||
              (p->metadata && !coord_policy_excludes(p, name, uuid) &&
               metadata_names(doms[d].metadata, p->name));
        if (sel && !target_add(&t, &n, name, uuid, doms[d].active, false, err))
            goto cleanup;
    }
    for (i = 0; i < p->ndomains; i++) {
        const char *e = p->domains[i];
        bool seen = false;

        if (is_glob(e))
            continue;
        for (d = 0; d < nd && !seen; d++)
            seen = strcmp(doms[d].name, e) == 0 ||
                   strcasecmp(doms[d].uuid, e) == 0;
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
    serve_targets_free(t, n);
    virt_host_list_free(doms, nd);
    virt_host_free(host);
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

typedef struct policy_run {
    const coord_conf *conf;
    const coord_policy *policy;
    serve_vm_result *results;
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
policy_export(ops_ctx *ctx, const coord_policy *p, serve_vm_result *r,
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

/* Reads the new set back (ops_verify): false, naming the first problem,
 * when it is broken. */
static bool
policy_verify(policy_run *run, ops_ctx *ctx, serve_vm_result *r,
              snap_error *err)
{
    const char *ids[1] = {r->set_uuid};
    ops_verify_report rep = {0};
    bool ok;

    ok = ops_verify(ctx, ids, 1, &rep, err);
    if (ok)
        http_api_observe_verify(run->api, snap_wall_ms(), rep.nsets,
                                rep.nbroken);
    if (ok && rep.nbroken) {
        const ops_verify_set *v = &rep.sets[0];

        ok = snap_error_set(err, SNAP_E_STATE, "set %s is broken: %s",
                            r->set_uuid,
                            v->nproblems ? v->problems[0] : "no reason");
    }
    ops_verify_report_release(&rep);
    return ok;
}

static void
run_one(policy_run *run, ops_ctx *ctx, serve_vm_result *r)
{
    const coord_policy *p = run->policy;
    ops_create_opts o;
    coord_set *set = NULL;
    snap_error err = {0};
    int64_t t0 = snap_now_ms();
    bool ok;

    r->freeze_ms = r->pause_ms = -1;
    if (r->t.missing) {
        r->status = SERVE_VM_FAILED;
        snprintf(r->error, sizeof(r->error), "no domain '%s'", r->t.name);
        return;
    }
    if (!r->t.active) {
        r->status = SERVE_VM_SKIPPED;
        snprintf(r->error, sizeof(r->error),
                 "not running: snapset snapshots running domains");
        return;
    }
    if (!serve_ctx_ready(ctx, &err)) {
        r->status = SERVE_VM_FAILED;
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
        r->status = SERVE_VM_FAILED;
        snprintf(r->error, sizeof(r->error), "%s", err.msg);
        return;
    }
    r->status = SERVE_VM_OK;
    if (p->verify && !policy_verify(run, ctx, r, &err)) {
        /* A set that cannot be read back is no backup: the older sets
         * stay (no export, no pruning). */
        r->status = SERVE_VM_FAILED;
        snprintf(r->error, sizeof(r->error), "set made, verify failed: %s",
                 err.msg);
        return;
    }
    if (p->export_kind != COORD_EXPORT_NONE &&
        !policy_export(ctx, p, r, &err)) {
        /* The set is good, its export is not: report it, and keep the
         * older sets (no pruning) until an export works again. */
        r->status = SERVE_VM_FAILED;
        snprintf(r->error, sizeof(r->error), "set made, export failed: %s",
                 err.msg);
        return;
    }
    /* Retention only after a good set: a failed one never prunes. */
    if (!prune_domain(ctx, p, r->t.uuid, &r->pruned, &err)) {
        r->status = SERVE_VM_FAILED;
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
    bool have_ctx = serve_ctx_init(&ctx, run->conf, &err);
    size_t i;

    for (;;) {
        serve_vm_result *r;

        pthread_mutex_lock(&run->mu);
        i = run->next++;
        pthread_mutex_unlock(&run->mu);
        if (i >= run->n)
            break;
        r = &run->results[i];
        r->freeze_ms = r->pause_ms = -1;
        if (run->stop && atomic_load(run->stop)) {
            r->status = SERVE_VM_FAILED;
            snprintf(r->error, sizeof(r->error),
                     "not started: snapset is stopping");
            continue;
        }
        if (!have_ctx) {
            r->status = SERVE_VM_FAILED;
            snprintf(r->error, sizeof(r->error), "%s", err.msg);
            continue;
        }
        run_one(run, &ctx, r);
    }
    if (have_ctx)
        ops_ctx_release(&ctx);
    return NULL;
}

bool
serve_policy_execute(const coord_conf *conf, const coord_policy *p,
                     http_api *api, const atomic_bool *stop,
                     serve_target **targets, serve_vm_result **results,
                     size_t *n, snap_error *err)
{
    policy_run run;
    pthread_t *threads = NULL;
    size_t i, nthreads, started = 0;
    bool ok = false;

    *targets = NULL;
    *results = NULL;
    *n = 0;
    if (!serve_policy_select(conf->libvirt_uri, p, targets, n, err))
        return false;
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
        serve_targets_free(*targets, *n);
        *targets = NULL;
        *n = 0;
    }
    return ok;
}

/* ---- pruning ------------------------------------------------------------- */

void
serve_prune_items_free(serve_prune_item *items, size_t n)
{
    size_t i;

    for (i = 0; items && i < n; i++)
        coord_set_free(items[i].set);
    free(items);
}

bool
serve_policy_prune(ops_ctx *ctx, const coord_policy *p, bool dry_run,
                   serve_prune_item **items, size_t *nitems, snap_error *first,
                   snap_error *err)
{
    coord_set **sets = NULL;
    coord_prune_mark *marks = NULL;
    serve_prune_item *it = NULL;
    size_t n = 0, i;

    *items = NULL;
    *nitems = 0;
    if (!ops_catalog(ctx, err) ||
        !prune_plan(ctx->catalog, p, NULL, &sets, &n, &marks, err))
        return false;
    it = calloc(n + 1, sizeof(*it));
    if (!it) {
        coord_catalog_list_free(sets, n);
        free(marks);
        return snap_error_set(err, SNAP_E_NOMEM, "out of memory");
    }
    for (i = 0; i < n; i++) {
        it[i].set = sets[i];
        sets[i] = NULL;
        it[i].mark = marks[i];
        it[i].keep = coord_prune_mark_keeps(marks[i]);
        if (!it[i].keep && !dry_run) {
            snap_error e = {0};

            it[i].deleted =
                ops_delete(ctx, it[i].set->uuid, OPS_DELETE_EXPORTS, &e);
            if (!it[i].deleted) {
                snap_error_set(first, e.code, "%s", e.msg);
                snprintf(it[i].error, sizeof(it[i].error), "%s", e.msg);
            }
        }
    }
    coord_catalog_list_free(sets, n); /* all entries were moved */
    free(marks);
    *items = it;
    *nitems = n;
    return true;
}

/* ---- rotation (the API's) ------------------------------------------------ */

void
serve_rotate(ops_ctx *ctx, http_api *api, const char *domain_uuid,
             const char *domain_name, const char *backup_type, int rotation)
{
    coord_set **sets = NULL;
    size_t n = 0, i, kept = 0, deleted = 0;
    snap_error err = {0};
    int64_t saved = ctx->conf.lock_timeout_ms, oldest_kept = -1;

    if (!coord_catalog_list(ctx->catalog, &sets, &n, &err)) {
        serve_log("rotation of '%s' (%s): %s", domain_name, backup_type,
                  err.msg);
        return;
    }
    /* The list is oldest first: walk it backwards. */
    for (i = n; i-- > 0;) {
        const coord_set *s = sets[i];

        if (strcmp(s->domain_uuid, domain_uuid) != 0 || !s->backup_type ||
            strcmp(s->backup_type, backup_type) != 0 ||
            s->state != COORD_SET_AVAILABLE)
            continue;
        if (kept < (size_t)rotation) {
            kept++;
            oldest_kept = s->created_ms;
        }
    }
    if (ctx->conf.lock_timeout_ms < ROTATION_LOCK_MS)
        ctx->conf.lock_timeout_ms = ROTATION_LOCK_MS;
    for (i = 0; i < n; i++) {
        const coord_set *s = sets[i];
        snap_error e = {0};

        if (strcmp(s->domain_uuid, domain_uuid) != 0 || !s->backup_type ||
            strcmp(s->backup_type, backup_type) != 0 ||
            (s->state != COORD_SET_AVAILABLE && s->state != COORD_SET_ERROR) ||
            s->created_ms >= oldest_kept)
            continue;
        if (ops_delete(ctx, s->uuid, OPS_DELETE_EXPORTS, &e)) {
            deleted++;
            http_api_observe_delete(api, true);
        } else {
            http_api_observe_delete(api, false);
            serve_log("rotation: cannot delete set %s: %s", s->uuid, e.msg);
        }
    }
    ctx->conf.lock_timeout_ms = saved;
    if (deleted)
        serve_log("rotation of '%s' (%s, keep %d): deleted %zu set%s",
                  domain_name, backup_type, rotation, deleted,
                  deleted == 1 ? "" : "s");
    coord_catalog_list_free(sets, n);
}
