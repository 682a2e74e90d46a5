/* coordinator/cli/cli_state.c -- see cli_state.h: RAM states, the
 * live-snapshot spec's saved states, as `nova` names them over the sets
 * made with RAM state (`create --memory`). */
#include "coordinator/cli/cli_state.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/snap_time.h"
#include "coordinator/cli/cli.h"
#include "coordinator/coord_catalog.h"
#include "coordinator/ops/actions.h"
#include "coordinator/ops/restore.h"

/* Whether @set is one of @domain's (its name or UUID). */
static bool
of_domain(const coord_set *set, const char *domain)
{
    return strcmp(set->domain_name, domain) == 0 ||
           strcmp(set->domain_uuid, domain) == 0;
}

/* The RAM state @id of @domain: a set with RAM state of that domain, new,
 * or NULL with @err naming what it is instead. */
static coord_set *
state_load(ops_ctx *ctx, const char *domain, const char *id, snap_error *err)
{
    coord_set *set;

    if (!ops_catalog(ctx, err))
        return NULL;
    set = coord_catalog_load(ctx->catalog, id, err);
    if (!set)
        return NULL;
    if (!of_domain(set, domain)) {
        snap_error_set(err, SNAP_E_NOTFOUND,
                       "set %s is of domain '%s', not '%s'", set->uuid,
                       cli_safe(set->domain_name), domain);
    } else if (!set->memory) {
        snap_error_set(err, SNAP_E_NOTFOUND,
                       "set %s has no RAM state (it was made without "
                       "--memory): use 'snapset restore' or 'delete'",
                       set->uuid);
    } else {
        return set;
    }
    coord_set_free(set);
    return NULL;
}

static int
state_save(ops_ctx *ctx, int argc, char **argv)
{
    ops_create_opts o;
    coord_set *set = NULL;
    snap_error err = {0};
    bool ok;

    if (argc != 4)
        return cli_usage_error("'state save' takes DOMAIN NAME");
    ops_create_opts_init(&o);
    /* As `create --memory`: paused, not frozen (a guest saved frozen
     * would come back frozen). */
    o.memory = true;
    o.pause = true;
    o.quiesce = COORD_QUIESCE_OFF;
    o.name = argv[3];
    ok = ops_create(ctx, argv[2], &o, &set, &err);
    if (ok && set)
        printf("saved state %s of '%s' ('%s'), paused %lld ms\n", set->uuid,
               cli_safe(set->domain_name), cli_safe(argv[3]),
               (long long)set->pause_ms);
    coord_set_free(set);
    return ok ? EXIT_SUCCESS : cli_fail(&err);
}

static int
state_load_cmd(ops_ctx *ctx, int argc, char **argv)
{
    ops_restore_opts o = {OPS_RESTORE_START_YES, -1};
    ops_restore_result res;
    snap_error err = {0};
    coord_set *set;
    char id[SNAP_UUID_LEN];
    bool ok;

    if (argc != 4)
        return cli_usage_error("'state load' takes DOMAIN STATE");
    set = state_load(ctx, argv[2], argv[3], &err);
    if (!set)
        return cli_fail(&err);
    memcpy(id, set->uuid, SNAP_UUID_LEN);
    coord_set_free(set);
    memset(&res, 0, sizeof(res));
    ok = ops_restore(ctx, id, &o, &res, &err);
    if (ok)
        printf("'%s' runs from state %s again (%lld ms)\n", cli_safe(argv[2]),
               id, (long long)res.total_ms);
    ops_restore_result_release(&res);
    return ok ? EXIT_SUCCESS : cli_fail(&err);
}

static int
state_list(ops_ctx *ctx, int argc, char **argv)
{
    static const struct option opts[] = {
        {"json", no_argument, NULL, 'j'},
        {NULL, 0, NULL, 0},
    };
    coord_set **sets = NULL;
    size_t nsets = 0, i, shown = 0;
    snap_error err = {0};
    bool json = false;
    int c;

    optind = 0; /* 0: GNU getopt reinitialises, permuting again */
    while ((c = getopt_long(argc - 1, argv + 1, "", opts, NULL)) != -1) {
        if (c != 'j')
            return cli_usage_error("bad option for 'state list'");
        json = true;
    }
    if (optind + 1 != argc - 1)
        return cli_usage_error("'state list' takes one DOMAIN");
    if (!ops_catalog(ctx, &err) ||
        !coord_catalog_list(ctx->catalog, &sets, &nsets, &err))
        return cli_fail(&err);
    if (json)
        printf("[");
    else
        printf("%-36s  %-24s  %-9s  %6s  %s\n", "STATE", "CREATED", "STATUS",
               "PAUSED", "NAME");
    for (i = 0; i < nsets; i++) {
        const coord_set *set = sets[i];
        char created[40], pw[24];

        if (!set->memory || !of_domain(set, argv[argc - 1]))
            continue;
        if (json) {
            char *text = coord_set_to_json(set, &err);

            if (!text)
                break;
            printf("%s%s", shown ? ",\n" : "\n", text);
            free(text);
        } else {
            snap_iso8601(set->created_ms, created, sizeof(created));
            cli_fmt_ms(pw, sizeof(pw), set->pause_ms);
            printf("%-36s  %-24s  %-9s  %6s  %s\n", set->uuid, created,
                   coord_set_state_name(set->state), pw,
                   cli_safe(set->name ? set->name : "-"));
        }
        shown++;
    }
    if (json)
        printf("%s]\n", shown ? "\n" : "");
    coord_catalog_list_free(sets, nsets);
    return snap_error_isset(&err) ? cli_fail(&err) : EXIT_SUCCESS;
}

/* Deletes each state named, as `nova state-delete` takes several: every
 * one is tried; the exit status says whether all went. */
static int
state_delete(ops_ctx *ctx, int argc, char **argv)
{
    coord_set *set;
    char id[SNAP_UUID_LEN];
    int i, failed = 0;

    if (argc < 4)
        return cli_usage_error("'state delete' takes DOMAIN STATE...");
    for (i = 3; i < argc; i++) {
        snap_error err = {0};

        set = state_load(ctx, argv[2], argv[i], &err);
        if (set) {
            memcpy(id, set->uuid, SNAP_UUID_LEN);
            coord_set_free(set);
            if (ops_delete(ctx, id, 0, &err)) {
                printf("deleted state %s\n", id);
                continue;
            }
        }
        cli_fail(&err);
        failed++;
    }
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

int
cli_cmd_state(ops_ctx *ctx, int argc, char **argv)
{
    const char *sub = argc > 1 ? argv[1] : NULL;

    if (!sub)
        return cli_usage_error("'state' needs save, load, list or delete");
    if (strcmp(sub, "save") == 0)
        return state_save(ctx, argc, argv);
    if (strcmp(sub, "load") == 0)
        return state_load_cmd(ctx, argc, argv);
    if (strcmp(sub, "list") == 0)
        return state_list(ctx, argc, argv);
    if (strcmp(sub, "delete") == 0)
        return state_delete(ctx, argc, argv);
    return cli_usage_error("unknown 'state' command '%s': use save, load, "
                           "list or delete",
                           sub);
}
