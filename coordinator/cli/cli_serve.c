/* coordinator/cli/cli_serve.c -- see cli_serve.h. */
#include "coordinator/cli/cli_serve.h"

#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/snap_text.h"
#include "common/snap_time.h"
#include "coordinator/cli/cli.h"
#include "coordinator/coord_policy.h"
#include "coordinator/serve/policy.h"
#include "coordinator/serve/serve.h"

/* A table cell: "-" for NULL or empty, escaped otherwise. */
static const char *
dash(const char *s)
{
    return cli_safe(s && *s ? s : NULL);
}

/* Config values need no escaping (the administrator wrote them). */
static const char *
dash_conf(const char *s)
{
    return s && *s ? s : "-";
}

/* ---- snapset serve ------------------------------------------------------- */

int
cli_cmd_serve(ops_ctx *ctx, int argc, char **argv)
{
    static const struct option opts[] = {
        {"address", required_argument, NULL, 'a'},
        {"port", required_argument, NULL, 'p'},
        {"tokens-file", required_argument, NULL, 't'},
        {"no-schedule", no_argument, NULL, 'S'},
        {NULL, 0, NULL, 0},
    };
    serve_opts o;
    snap_error err = {0};
    uint64_t port;
    int c;

    serve_opts_init(&o);
    optind = 0; /* 0: GNU getopt reinitialises, permuting again */
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'a':
            o.address = optarg;
            break;
        case 'p':
            if (!cli_parse_u64(optarg, 0, 65535, &port))
                return cli_usage_error("bad --port '%s'", optarg);
            o.port = (int)port;
            break;
        case 't':
            if (optarg[0] != '/')
                return cli_usage_error("--tokens-file '%s' is not an "
                                       "absolute path",
                                       optarg);
            o.tokens_file = optarg;
            break;
        case 'S':
            o.no_schedule = true;
            break;
        default:
            return cli_usage_error("bad option for 'serve'");
        }
    }
    if (optind != argc)
        return cli_usage_error("'serve' takes no argument");
    if (serve_run(ctx, &o, &err))
        return EXIT_SUCCESS;
    /* Untouched: jobs outlived the shutdown bound, which serve logged. */
    return snap_error_isset(&err) ? cli_fail(&err) : EXIT_FAILURE;
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
                    "{s:s,s:o,s:o,s:b,s:s,s:b,s:b,s:s,s:{s:i,s:i,s:i,s:i,"
                    "s:i,s:i},s:s,s:o,s:i,s:o}",
                    "name", p->name, "domains", d ? d : json_array(), "exclude",
                    x ? x : json_array(), "metadata", p->metadata, "quiesce",
                    coord_quiesce_name(p->quiesce), "pause", p->pause, "verify",
                    p->verify, "backup_type", coord_policy_backup_type(p),
                    "retention", "keep_last", r->keep_last, "keep_hourly",
                    r->keep_hourly, "keep_daily", r->keep_daily, "keep_weekly",
                    r->keep_weekly, "keep_monthly", r->keep_monthly,
                    "keep_yearly", r->keep_yearly, "export",
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
               dash_conf(p->schedule_text), p->parallelism,
               coord_export_kind_name(p->export_kind), ret);
    }
    return EXIT_SUCCESS;
}

static json_t *
ms_json(int64_t ms)
{
    return ms < 0 ? json_null() : json_integer((json_int_t)ms);
}

static void
print_run(const coord_policy *p, const serve_vm_result *r, size_t n,
          int64_t elapsed_ms, bool json)
{
    size_t i, nok = 0, nfail = 0, nskip = 0;

    for (i = 0; i < n; i++) {
        nok += r[i].status == SERVE_VM_OK;
        nfail += r[i].status == SERVE_VM_FAILED;
        nskip += r[i].status == SERVE_VM_SKIPPED;
    }
    if (json) {
        json_t *doms = json_array(), *doc;
        char *text;

        for (i = 0; doms && i < n; i++) {
            json_array_append_new(
                doms,
                json_pack(
                    "{s:s,s:o,s:s,s:o,s:o,s:o,s:o,s:o,s:I,s:i,s:o,s:o}",
                    "domain", r[i].t.name, "uuid",
                    r[i].t.uuid[0] ? json_string(r[i].t.uuid) : json_null(),
                    "result", serve_vm_status_name(r[i].status), "set_id",
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

        cli_fmt_ms(fw, sizeof(fw), r[i].freeze_ms);
        cli_fmt_ms(pw, sizeof(pw), r[i].pause_ms);
        printf("%-16s  %-7s  %-36s  %-11s  %9s  %9s  %6d  %s\n",
               cli_safe(r[i].t.name), serve_vm_status_name(r[i].status),
               dash(r[i].set_uuid),
               r[i].set_uuid[0] ? coord_consistency_name(r[i].consistency)
                                : "-",
               fw, pw, r[i].pruned, dash(r[i].error));
    }
    for (i = 0; i < n; i++) {
        if (r[i].exported[0])
            printf("%s: exported to %s\n", cli_safe(r[i].t.name),
                   cli_safe(r[i].exported));
    }
    printf("policy %s: %zu ok, %zu failed, %zu skipped in %.1f s "
           "(parallelism %d)\n",
           p->name, nok, nfail, nskip, (double)elapsed_ms / 1000.0,
           p->parallelism);
}

static int
policy_run_cmd(ops_ctx *ctx, const coord_policy *p, bool json)
{
    serve_target *targets = NULL;
    serve_vm_result *results = NULL;
    size_t n = 0, i;
    snap_error err = {0};
    int64_t t0 = snap_now_ms();
    bool failed = false;

    if (!serve_policy_execute(&ctx->conf, p, NULL, NULL, &targets, &results, &n,
                              &err))
        return cli_fail(&err);
    print_run(p, results, n, snap_now_ms() - t0, json);
    for (i = 0; i < n; i++)
        failed |= results[i].status == SERVE_VM_FAILED;
    if (n == 0)
        fprintf(stderr, "snapset: policy '%s' selects no domain\n", p->name);
    free(results);
    serve_targets_free(targets, n);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

static int
policy_prune_cmd(ops_ctx *ctx, const coord_policy *p, bool dry_run, bool json)
{
    serve_prune_item *items = NULL;
    size_t n = 0, i, removed = 0, kept = 0;
    snap_error err = {0}, first = {0};
    json_t *arr = NULL;

    if (!serve_policy_prune(ctx, p, dry_run, &items, &n, &first, &err))
        return cli_fail(&err);
    if (json)
        arr = json_array();
    else
        printf("%-36s  %-16s  %-24s  %-9s  %s\n", "SET", "DOMAIN", "CREATED",
               "STATE", "VERDICT");
    for (i = 0; i < n; i++) {
        const coord_set *s = items[i].set;
        const char *verdict = coord_prune_mark_name(items[i].mark);
        char created[40];
        bool keep = items[i].keep, gone = items[i].deleted;

        if (!keep && !dry_run && !gone) {
            fprintf(stderr, "snapset: cannot delete set %s: ", s->uuid);
            snap_text_fputs(items[i].error, stderr);
            fputc('\n', stderr);
        }
        removed += !keep;
        kept += keep;
        snap_iso8601(s->created_ms, created, sizeof(created));
        if (arr)
            json_array_append_new(
                arr,
                json_pack(
                    "{s:s,s:s,s:s,s:s,s:s,s:b,s:b}", "set_id", s->uuid,
                    "domain",
                    s->domain_name && *s->domain_name ? s->domain_name : "-",
                    "created", created, "state", coord_set_state_name(s->state),
                    "verdict", verdict, "keep", keep, "deleted", gone));
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
    serve_prune_items_free(items, n);
    return snap_error_isset(&first) ? cli_fail(&first) : EXIT_SUCCESS;
}

int
cli_cmd_policy(ops_ctx *ctx, int argc, char **argv)
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
        return cli_usage_error("'policy' needs list, run NAME or prune NAME");
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
            return cli_usage_error("bad option for 'policy %s'", sub);
        }
    }
    if (strcmp(sub, "list") == 0) {
        if (optind != argc || dry_run)
            return cli_usage_error("'policy list' takes only --json");
        return policy_list(ctx, json);
    }
    if (strcmp(sub, "run") != 0 && strcmp(sub, "prune") != 0)
        return cli_usage_error("unknown policy command '%s': use list, run or "
                               "prune",
                               sub);
    if (optind != argc - 1)
        return cli_usage_error("'policy %s' takes one policy NAME", sub);
    if (strcmp(sub, "run") == 0 && dry_run)
        return cli_usage_error("'policy run' has no --dry-run (see 'policy "
                               "prune')");
    p = find_policy(ctx, argv[optind], &err);
    if (!p)
        return cli_fail(&err);
    if (strcmp(sub, "run") == 0)
        return policy_run_cmd(ctx, p, json);
    return policy_prune_cmd(ctx, p, dry_run, json);
}
