/* coordinator/cli/cli_sets.c -- the commands on sets themselves: create,
 * list, show, delete, recover. */
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/snap_log.h"
#include "common/snap_text.h"
#include "common/snap_time.h"
#include "common/snap_uuid.h"
#include "coordinator/cli/cli.h"
#include "coordinator/cli/cli_sets.h"
#include "coordinator/coord_catalog.h"
#include "coordinator/coord_chain.h"
#include "coordinator/ops/actions.h"
#include "coordinator/ops/export.h"
#include "coordinator/ops/openstack.h"

#define MAX_MOUNTS 64

/* ---- output -------------------------------------------------------------- */

/* Text output shows strings that came from outside -- a guest agent's
 * error, names and metadata an API caller or a tenant wrote, what libvirt
 * and Cinder report -- so every one goes through snap_text (control
 * characters escaped, never sent raw to a terminal). JSON output needs
 * nothing: jansson escapes them. */

static bool
print_json(const coord_set *set, snap_error *err)
{
    char *text = coord_set_to_json(set, err);

    if (!text)
        return false;
    printf("%s\n", text);
    free(text);
    return true;
}

/* @bytes as "4.5M" (binary units, one decimal below 10). */
static const char *
fmt_size(char *buf, size_t size, uint64_t bytes)
{
    static const char units[] = "BKMGTP";
    double v = (double)bytes;
    int u = 0;

    while (v >= 1024 && u < 5) {
        v /= 1024;
        u++;
    }
    if (u == 0)
        snprintf(buf, size, "%lluB", (unsigned long long)bytes);
    else
        snprintf(buf, size, v < 10 ? "%.1f%c" : "%.0f%c", v, units[u]);
    return buf;
}

/* Each local copy: how it was made, what it cost, the chain it reads. */
static void
print_copies(const coord_set *set, coord_set *const *sets, size_t nsets)
{
    char a[16], b[16];
    size_t i, depth;
    bool any = false;

    for (i = 0; i < set->nmembers; i++) {
        const coord_member *m = &set->members[i], *c;

        if (m->kind != COORD_MEMBER_LOCAL || !m->location)
            continue;
        if (!any)
            printf("copies:\n");
        any = true;
        printf("  %-8s %s, copied %s, own file %s\n", cli_safe(m->target),
               coord_copy_mode_name(m->mode),
               fmt_size(a, sizeof(a), m->bytes_copied),
               fmt_size(b, sizeof(b), m->allocated));
        if (m->full_reason)
            cli_put_text("           full because:", m->full_reason);
        if (m->sha256[0])
            printf("           sha256: %s\n", m->sha256);
        printf("           chain: %s", cli_safe(set->uuid));
        for (c = m, depth = 0; c && c->base && depth < nsets; depth++) {
            const coord_set *bs = coord_chain_find(sets, nsets, c->base);

            printf(" <- %s", cli_safe(c->base));
            c = bs ? coord_chain_member(bs, c->target) : NULL;
            if (!c)
                printf(" (missing)");
        }
        putchar('\n');
    }
}

static void
print_set(const coord_set *set)
{
    char created[40], finished[40], fw[24], pw[24];
    size_t i;

    snap_iso8601(set->created_ms, created, sizeof(created));
    if (set->finished_ms > 0)
        snap_iso8601(set->finished_ms, finished, sizeof(finished));
    else
        snprintf(finished, sizeof(finished), "-");
    cli_fmt_ms(fw, sizeof(fw), set->freeze_ms);
    cli_fmt_ms(pw, sizeof(pw), set->pause_ms);
    printf("set:           %s\n", cli_safe(set->uuid));
    if (set->name)
        cli_put_text("name:", set->name);
    printf("domain:        %s (%s)\n", cli_safe(set->domain_name),
           cli_safe(set->domain_uuid));
    printf("state:         %s\n", coord_set_state_name(set->state));
    if (set->error)
        cli_put_text("error:", set->error);
    printf("consistency:   %s\n", coord_consistency_name(set->consistency));
    printf("quiesce:       %s%s\n", coord_quiesce_name(set->quiesce),
           set->pause_requested ? ", paused" : "");
    printf("created:       %s\n", created);
    printf("finished:      %s\n", finished);
    printf("freeze window: %s ms (%lld filesystems)\n", fw,
           (long long)set->frozen_count);
    printf("pause window:  %s ms\n", pw);
    if (set->memory) {
        char mt[24];

        cli_fmt_ms(mt, sizeof(mt), set->t_memory);
        printf("RAM state:     %s (saved in %s ms, inside the pause)\n",
               cli_safe(set->memory), mt);
    }
    for (i = 0; i < set->nmetadata; i++) {
        printf("%-14s ", i == 0 ? "metadata:" : "");
        snap_text_fputs(set->metadata[2 * i], stdout);
        fputs(" = ", stdout);
        snap_text_fputs(set->metadata[2 * i + 1], stdout);
        putchar('\n');
    }
    if (set->freeze_ms >= 0 || set->pause_ms >= 0) {
        char t[4][24];

        cli_fmt_ms(t[0], sizeof(t[0]), set->t_freeze);
        cli_fmt_ms(t[1], sizeof(t[1]), set->t_request);
        cli_fmt_ms(t[2], sizeof(t[2]), set->t_wait);
        cli_fmt_ms(t[3], sizeof(t[3]), set->t_thaw);
        printf("inside:        freeze %s, requests %s, backend wait %s, "
               "thaw %s (ms)\n",
               t[0], t[1], t[2], t[3]);
    }
    if (set->backup_type)
        printf("backup type:   %s (rotation %d)\n", cli_safe(set->backup_type),
               set->rotation);
    for (i = 0; i < set->nwarnings; i++)
        cli_put_text(i == 0 ? "warnings:" : "", set->warnings[i]);
    printf("members:\n");
    printf("  %-8s %-7s %-10s %-12s %s\n", "TARGET", "KIND", "STATE", "SERIAL",
           "LOCATION");
    for (i = 0; i < set->nmembers; i++) {
        const coord_member *m = &set->members[i];

        printf("  %-8s %-7s %-10s %-12s %s\n", cli_safe(m->target),
               coord_member_kind_name(m->kind),
               coord_member_state_name(m->state), cli_safe(m->serial),
               cli_safe(m->location));
    }
    if (set->checkpoint)
        printf("checkpoint:    %s%s%s\n", cli_safe(set->checkpoint),
               set->checkpoint_from ? ", copied changes since " : "",
               set->checkpoint_from ? cli_safe(set->checkpoint_from) : "");
}

/* ---- commands ------------------------------------------------------------ */

int
cli_cmd_create(ops_ctx *ctx, int argc, char **argv)
{
    static const struct option opts[] = {
        {"quiesce", required_argument, NULL, 'q'},
        {"pause", no_argument, NULL, 'p'},
        {"no-pause", no_argument, NULL, 'P'},
        {"mountpoint", required_argument, NULL, 'm'},
        {"name", required_argument, NULL, 'n'},
        {"json", no_argument, NULL, 'j'},
        {"memory", no_argument, NULL, 'M'},
        {NULL, 0, NULL, 0},
    };
    const char *mounts[MAX_MOUNTS];
    ops_create_opts o;
    coord_set *set = NULL;
    snap_error err = {0};
    bool json = false, quiesce_given = false, ok;
    int c, q;

    ops_create_opts_init(&o);
    o.quiesce = ctx->conf.quiesce;
    o.pause = ctx->conf.pause;
    o.mounts = mounts;
    optind = 0; /* 0: GNU getopt reinitialises, permuting again */
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'q':
            q = coord_quiesce_parse(optarg);
            if (q < 0)
                return cli_usage_error("bad --quiesce '%s': use required, "
                                       "preferred or off",
                                       optarg);
            o.quiesce = q;
            quiesce_given = true;
            break;
        case 'M':
            o.memory = true;
            break;
        case 'p':
            o.pause = true;
            break;
        case 'P':
            o.pause = false;
            break;
        case 'm':
            if (o.nmounts == MAX_MOUNTS)
                return cli_usage_error("too many --mountpoint options");
            if (optarg[0] != '/')
                return cli_usage_error(
                    "--mountpoint '%s' is not an absolute path", optarg);
            mounts[o.nmounts++] = optarg;
            break;
        case 'n':
            o.name = optarg;
            break;
        case 'j':
            json = true;
            break;
        default:
            return cli_usage_error("bad option for 'create'");
        }
    }
    if (optind != argc - 1)
        return cli_usage_error("'create' takes one DOMAIN");
    if (o.memory) {
        /* Saved frozen, the guest would come back frozen: a set with RAM
         * state is taken paused, not quiesced (as VMware does). */
        if (quiesce_given && o.quiesce != COORD_QUIESCE_OFF)
            return cli_usage_error("--memory cannot be combined with "
                                   "--quiesce=%s: a guest saved frozen would "
                                   "come back frozen",
                                   coord_quiesce_name(o.quiesce));
        if (o.nmounts)
            return cli_usage_error("--memory cannot be combined with "
                                   "--mountpoint (nothing is frozen)");
        o.quiesce = COORD_QUIESCE_OFF;
        o.pause = true;
    }
    ok = ops_create(ctx, argv[optind], &o, &set, &err);
    if (set) {
        if (json)
            print_json(set, NULL);
        else
            print_set(set);
    }
    coord_set_free(set);
    return ok ? EXIT_SUCCESS : cli_fail(&err);
}

/* The catalog's record of set @uuid, when it has one; NULL otherwise. The
 * uuid is tenant-written metadata: only a whole one is looked up (the
 * catalog takes prefixes too). */
static coord_set *
catalog_record(ops_ctx *ctx, const char *uuid)
{
    snap_error e = {0};

    if (!ctx->catalog || !snap_uuid_valid(uuid))
        return NULL;
    return coord_catalog_load(ctx->catalog, uuid, &e); /* absent: NULL */
}

/* Rebuilds sets from Cinder's snapshot metadata alone: a lost catalog is
 * not a lost backup. That metadata is written by anyone in the project:
 * when the catalog still knows a set, a tagged snapshot that is not one of
 * its members' is shown marked ("member": false, ":foreign"), and `delete`
 * never touches it (it deletes what the catalog records). */
static int
list_from_cinder(ops_ctx *ctx, const char *domain, bool json)
{
    cinder_snapshot **snaps = NULL;
    size_t nsnaps = 0, i, k;
    snap_error err = {0}, cat_err = {0};
    json_t *out = json_array();
    bool *done = NULL;
    int rc = EXIT_FAILURE;

    if (!ops_openstack(ctx, &err) ||
        !cinder_snapshot_list(ctx->os.cinder, NULL, 0, &snaps, &nsnaps, &err))
        goto cleanup;
    /* Without a catalog the sets are shown unverified; a missing one is
     * not made here (opening it would create its directories). */
    if (ctx->conf.catalog_dir && access(ctx->conf.catalog_dir, F_OK) == 0)
        (void)ops_catalog(ctx, &cat_err);
    done = calloc(nsnaps + 1, sizeof(*done));
    if (!done || !out) {
        snap_error_set(&err, SNAP_E_NOMEM, "out of memory");
        goto cleanup;
    }
    for (i = 0; i < nsnaps; i++) {
        const cinder_kv *md = snaps[i]->metadata;
        size_t nmd = snaps[i]->nmetadata;
        const char *set = cinder_kv_get(md, nmd, COORD_MD_SET);
        const char *dom = cinder_kv_get(md, nmd, COORD_MD_DOMAIN);
        const char *cons = cinder_kv_get(md, nmd, COORD_MD_CONSISTENCY);
        coord_set *known = NULL;
        json_t *members;

        if (done[i] || !set)
            continue;
        known = catalog_record(ctx, set);
        if (known) {
            dom = known->domain_name;
            cons = coord_consistency_name(known->consistency);
        }
        if (domain && (!dom || strcmp(domain, dom) != 0)) {
            coord_set_free(known);
            continue;
        }
        members = json_array();
        for (k = i; k < nsnaps; k++) {
            const char *s2 = cinder_kv_get(snaps[k]->metadata,
                                           snaps[k]->nmetadata, COORD_MD_SET);
            const char *tgt = cinder_kv_get(
                snaps[k]->metadata, snaps[k]->nmetadata, COORD_MD_TARGET);
            json_t *m;

            if (!s2 || strcmp(s2, set) != 0)
                continue;
            done[k] = true;
            m = json_pack("{s:s?, s:s, s:s?, s:s?}", "target", tgt, "id",
                          snaps[k]->id, "volume_id", snaps[k]->volume_id,
                          "status", snaps[k]->status);
            if (m && known) {
                bool member = ops_os_snapshot_of_set(known, snaps[k]);

                json_object_set_new(m, "member", json_boolean(member));
                if (!member)
                    snap_warn("set %s: snapshot %s of volume %s carries the "
                              "set's metadata but is not one of its "
                              "members' snapshots",
                              set, snaps[k]->id,
                              snaps[k]->volume_id ? snaps[k]->volume_id : "?");
            }
            json_array_append_new(members, m);
        }
        json_array_append_new(
            out,
            json_pack("{s:s, s:s?, s:s, s:s?, s:b, s:o}", "set", set, "domain",
                      dom, "consistency", cons ? cons : "unknown", "created",
                      snaps[i]->created_at, "in_catalog", known != NULL,
                      "snapshots", members));
        coord_set_free(known);
    }
    if (json) {
        char *text = json_dumps(out, JSON_INDENT(2) | JSON_PRESERVE_ORDER);

        printf("%s\n", text ? text : "[]");
        free(text);
    } else {
        json_t *e, *m;

        printf("%-36s  %-16s  %-11s  %-26s  %s\n", "SET", "DOMAIN",
               "CONSISTENCY", "CREATED",
               "SNAPSHOTS (target:id:status[:foreign])");
        json_array_foreach(out, i, e)
        {
            printf(
                "%-36s  %-16s  %-11s  %-26s ",
                cli_safe(json_string_value(json_object_get(e, "set"))),
                cli_safe(json_string_value(json_object_get(e, "domain"))),
                cli_safe(json_string_value(json_object_get(e, "consistency"))),
                cli_safe(json_string_value(json_object_get(e, "created"))));
            json_array_foreach(json_object_get(e, "snapshots"), k, m) printf(
                " %s:%s:%s%s",
                cli_safe(json_string_value(json_object_get(m, "target"))),
                cli_safe(json_string_value(json_object_get(m, "id"))),
                cli_safe(json_string_value(json_object_get(m, "status"))),
                json_is_false(json_object_get(m, "member")) ? ":foreign" : "");
            printf("\n");
        }
    }
    rc = EXIT_SUCCESS;

cleanup:
    free(done);
    json_decref(out);
    cinder_snapshots_free(snaps, nsnaps);
    return rc == EXIT_SUCCESS ? rc : cli_fail(&err);
}

int
cli_cmd_list(ops_ctx *ctx, int argc, char **argv)
{
    static const struct option opts[] = {
        {"json", no_argument, NULL, 'j'},
        {"source", required_argument, NULL, 's'},
        {NULL, 0, NULL, 0},
    };
    bool from_cinder = false;
    coord_set **sets = NULL;
    size_t nsets = 0, i, shown = 0;
    const char *domain = NULL;
    snap_error err = {0};
    bool json = false;
    int c;

    optind = 0; /* 0: GNU getopt reinitialises, permuting again */
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (c == 'j') {
            json = true;
        } else if (c == 's' && strcmp(optarg, "cinder") == 0) {
            from_cinder = true;
        } else if (c == 's' && strcmp(optarg, "catalog") == 0) {
            from_cinder = false;
        } else if (c == 's') {
            return cli_usage_error("bad --source '%s': use catalog or cinder",
                                   optarg);
        } else {
            return cli_usage_error("bad option for 'list'");
        }
    }
    if (argc - optind > 1)
        return cli_usage_error("'list' takes at most one DOMAIN");
    if (optind < argc)
        domain = argv[optind];
    if (from_cinder)
        return list_from_cinder(ctx, domain, json);
    if (!ops_catalog(ctx, &err) ||
        !coord_catalog_list(ctx->catalog, &sets, &nsets, &err))
        return cli_fail(&err);
    if (json)
        printf("[");
    else
        printf("%-36s  %-16s  %-24s  %-9s  %-11s  %7s  %6s  %6s  %6s  %s\n",
               "SET", "DOMAIN", "CREATED", "STATE", "CONSISTENCY", "MEMBERS",
               "FROZEN", "OWN", "TOTAL", "RAM");
    for (i = 0; i < nsets; i++) {
        const coord_set *set = sets[i];
        char created[40], fw[24];

        if (domain && strcmp(domain, set->domain_name) != 0 &&
            strcmp(domain, set->domain_uuid) != 0)
            continue;
        if (json) {
            char *text = coord_set_to_json(set, &err);

            if (!text)
                break;
            printf("%s%s", shown ? ",\n" : "\n", text);
            free(text);
        } else {
            uint64_t own, total;
            char o[16], t[16];

            snap_iso8601(set->created_ms, created, sizeof(created));
            cli_fmt_ms(fw, sizeof(fw), set->freeze_ms);
            coord_chain_sizes(set, sets, nsets, &own, &total);
            printf("%-36s  %-16s  %-24s  %-9s  %-11s  %7zu  %6s  %6s  %6s  "
                   "%s\n",
                   cli_safe(set->uuid), cli_safe(set->domain_name), created,
                   coord_set_state_name(set->state),
                   coord_consistency_name(set->consistency), set->nmembers, fw,
                   fmt_size(o, sizeof(o), own), fmt_size(t, sizeof(t), total),
                   set->memory ? "yes" : "-");
        }
        shown++;
    }
    if (json)
        printf("%s]\n", shown ? "\n" : "");
    coord_catalog_list_free(sets, nsets);
    return snap_error_isset(&err) ? cli_fail(&err) : EXIT_SUCCESS;
}

int
cli_cmd_show(ops_ctx *ctx, int argc, char **argv)
{
    static const struct option opts[] = {
        {"json", no_argument, NULL, 'j'},
        {NULL, 0, NULL, 0},
    };
    coord_set *set;
    snap_error err = {0};
    bool json = false;
    int c;

    optind = 0; /* 0: GNU getopt reinitialises, permuting again */
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (c != 'j')
            return cli_usage_error("bad option for 'show'");
        json = true;
    }
    if (optind != argc - 1)
        return cli_usage_error("'show' takes one SET");
    if (!ops_catalog(ctx, &err))
        return cli_fail(&err);
    set = coord_catalog_load(ctx->catalog, argv[optind], &err);
    if (!set)
        return cli_fail(&err);
    if (json)
        print_json(set, &err);
    else
        print_set(set);
    if (!json) {
        coord_set **sets = NULL;
        size_t nsets = 0;

        /* The chain below each copy is in the other sets' records. */
        if (coord_catalog_list(ctx->catalog, &sets, &nsets, &err))
            print_copies(set, sets, nsets);
        coord_catalog_list_free(sets, nsets);
    }
    coord_set_free(set);
    return snap_error_isset(&err) ? cli_fail(&err) : EXIT_SUCCESS;
}

int
cli_cmd_delete(ops_ctx *ctx, int argc, char **argv)
{
    snap_error err = {0};
    const char *id = NULL;
    unsigned flags = 0;
    int i;

    for (i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--with-exports") == 0)
            flags |= OPS_DELETE_EXPORTS;
        else if (argv[i][0] == '-')
            return cli_usage_error("bad option '%s' for 'delete'", argv[i]);
        else if (id)
            return cli_usage_error("'delete' takes one SET");
        else
            id = argv[i];
    }
    if (!id)
        return cli_usage_error("'delete' takes one SET");
    if (!ops_delete(ctx, id, flags, &err))
        return cli_fail(&err);
    printf("deleted set %s\n", cli_safe(id));
    return EXIT_SUCCESS;
}

int
cli_cmd_recover(ops_ctx *ctx, int argc, char **argv)
{
    snap_error err = {0};
    int n = 0;

    if (argc > 2 || (argc == 2 && argv[1][0] == '-'))
        return cli_usage_error("'recover' takes at most one DOMAIN");
    if (!ops_recover(ctx, argc == 2 ? argv[1] : NULL, &n, &err))
        return cli_fail(&err);
    printf("recovered %d set%s\n", n, n == 1 ? "" : "s");
    return EXIT_SUCCESS;
}
