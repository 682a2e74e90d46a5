/* coordinator/cli/cli_template.c -- see cli_template.h. */
#include "coordinator/cli/cli_template.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/snap_time.h"
#include "coordinator/cli/cli.h"
#include "coordinator/coord_catalog.h"
#include "coordinator/ops/template.h"

static int
template_create(ops_ctx *ctx, int argc, char **argv)
{
    static const struct option opts[] = {
        {"name", required_argument, NULL, 'n'},
        {NULL, 0, NULL, 0},
    };
    const char *name = NULL;
    char uuid[SNAP_UUID_LEN];
    snap_error err = {0};
    int64_t t0;
    int c;

    optind = 0; /* 0: GNU getopt reinitialises, permuting again */
    while ((c = getopt_long(argc - 1, argv + 1, "", opts, NULL)) != -1) {
        if (c != 'n')
            return cli_usage_error("bad option for 'template create'");
        name = optarg;
    }
    if (optind != argc - 2)
        return cli_usage_error("'template create' takes one SET");
    t0 = snap_now_ms();
    if (!ops_template_create(ctx, argv[argc - 1], name, uuid, &err))
        return cli_fail(&err);
    printf("template %s made of set %s in %lld ms\n", uuid,
           cli_safe(argv[argc - 1]), (long long)(snap_now_ms() - t0));
    return EXIT_SUCCESS;
}

static int
template_list(ops_ctx *ctx, int argc, char **argv)
{
    static const struct option opts[] = {
        {"json", no_argument, NULL, 'j'},
        {NULL, 0, NULL, 0},
    };
    coord_set **ts = NULL;
    size_t n = 0, i;
    snap_error err = {0};
    bool json = false;
    int c;

    optind = 0;
    while ((c = getopt_long(argc - 1, argv + 1, "", opts, NULL)) != -1) {
        if (c != 'j')
            return cli_usage_error("bad option for 'template list'");
        json = true;
    }
    if (optind != argc - 1)
        return cli_usage_error("'template list' takes no arguments");
    if (!ops_template_list(ctx, &ts, &n, &err))
        return cli_fail(&err);
    if (json)
        printf("[");
    else
        printf("%-36s  %-16s  %-24s  %-9s  %-36s  %s\n", "TEMPLATE", "DOMAIN",
               "CREATED", "STATE", "SET", "NAME");
    for (i = 0; i < n; i++) {
        const coord_set *t = ts[i];
        char created[40];

        if (json) {
            char *text = coord_set_to_json(t, &err);

            if (!text)
                break;
            printf("%s%s", i ? ",\n" : "\n", text);
            free(text);
            continue;
        }
        snap_iso8601(t->created_ms, created, sizeof(created));
        printf("%-36s  %-16s  %-24s  %-9s  %-36s  %s\n", t->uuid,
               cli_safe(t->domain_name), created,
               coord_set_state_name(t->state),
               cli_safe(coord_set_metadata(t, OPS_TEMPLATE_KEY_SET)),
               cli_safe(t->name));
    }
    if (json)
        printf("%s]\n", n ? "\n" : "");
    coord_catalog_list_free(ts, n);
    return snap_error_isset(&err) ? cli_fail(&err) : EXIT_SUCCESS;
}

static int
template_delete(ops_ctx *ctx, int argc, char **argv)
{
    snap_error err = {0};

    if (argc != 3 || argv[2][0] == '-')
        return cli_usage_error("'template delete' takes one ID");
    if (!ops_template_delete(ctx, argv[2], &err))
        return cli_fail(&err);
    printf("deleted template %s\n", cli_safe(argv[2]));
    return EXIT_SUCCESS;
}

int
cli_cmd_template(ops_ctx *ctx, int argc, char **argv)
{
    const char *sub = argc > 1 ? argv[1] : NULL;

    if (!sub)
        return cli_usage_error("'template' needs create, list or delete");
    if (strcmp(sub, "create") == 0)
        return template_create(ctx, argc, argv);
    if (strcmp(sub, "list") == 0)
        return template_list(ctx, argc, argv);
    if (strcmp(sub, "delete") == 0)
        return template_delete(ctx, argc, argv);
    return cli_usage_error("unknown 'template' command '%s': use create, list "
                           "or delete",
                           sub);
}
