/* coordinator/cli/cli_restore.c -- see cli_restore.h. */
#include "coordinator/cli/cli_restore.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/snap_text.h"
#include "common/snap_time.h"
#include "coordinator/cli/cli.h"
#include "coordinator/ops/restore.h"
#include "coordinator/ops/spawn.h"

int
cli_cmd_restore(ops_ctx *ctx, int argc, char **argv)
{
    static const struct option opts[] = {
        {"start", no_argument, NULL, 's'},
        {"no-start", no_argument, NULL, 'S'},
        {"shutdown-timeout", required_argument, NULL, 't'},
        {NULL, 0, NULL, 0},
    };
    ops_restore_opts o = {OPS_RESTORE_START_AS_BEFORE, -1};
    ops_restore_result res;
    snap_error err = {0};
    uint64_t v;
    size_t i;
    bool ok;
    int c;

    optind = 0; /* 0: GNU getopt reinitialises, permuting again */
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 's':
            o.start = OPS_RESTORE_START_YES;
            break;
        case 'S':
            o.start = OPS_RESTORE_START_NO;
            break;
        case 't':
            if (!cli_parse_u64(optarg, 0, 3600000, &v))
                return cli_usage_error(
                    "bad --shutdown-timeout '%s' (ms, at most "
                    "3600000)",
                    optarg);
            o.shutdown_timeout_ms = (int64_t)v;
            break;
        default:
            return cli_usage_error("bad option for 'restore'");
        }
    }
    if (optind != argc - 1)
        return cli_usage_error("'restore' takes one SET");
    ok = ops_restore(ctx, argv[optind], &o, &res, &err);
    if (ok) {
        printf("restored domain '%s' to set %s\n", res.domain, argv[optind]);
        for (i = 0; i < res.nlines; i++)
            printf("  %s\n", res.lines[i]);
        printf("timing: total %lld ms (copies made while running %lld, "
               "stop %lld%s, swap %lld, %s %lld)\n",
               (long long)res.total_ms, (long long)res.prepare_ms,
               (long long)res.stop_ms, res.forced_off ? " forced" : "",
               (long long)res.swap_ms,
               res.memory ? "RAM state loaded" : "start",
               (long long)res.start_ms);
        if (!res.started)
            printf("domain '%s' is shut off (use --start to start it)\n",
                   res.domain);
    }
    ops_restore_result_release(&res);
    return ok ? EXIT_SUCCESS : cli_fail(&err);
}

#define MAX_NETWORKS 16

int
cli_cmd_spawn(ops_ctx *ctx, int argc, char **argv)
{
    static const struct option opts[] = {
        {"name", required_argument, NULL, 'n'},
        {"vcpus", required_argument, NULL, 'c'},
        {"memory", required_argument, NULL, 'm'},
        {"network", required_argument, NULL, 'N'},
        {"full", no_argument, NULL, 'f'},
        {"no-start", no_argument, NULL, 'S'},
        {"dir", required_argument, NULL, 'd'},
        {"count", required_argument, NULL, 'k'},
        {"keep-failed", no_argument, NULL, 'K'},
        {"template", required_argument, NULL, 'T'},
        {NULL, 0, NULL, 0},
    };
    const char *nets[MAX_NETWORKS];
    ops_spawned made;
    ops_spawn_opts o;
    const char *from;
    size_t i;
    snap_error err = {0};
    int64_t t0;
    uint64_t v;
    int c;

    ops_spawn_opts_init(&o);
    o.networks = nets;
    optind = 0; /* 0: GNU getopt reinitialises, permuting again */
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'n':
            o.name = optarg;
            break;
        case 'c':
            if (!cli_parse_u64(optarg, 1, 4096, &v))
                return cli_usage_error("bad --vcpus '%s'", optarg);
            o.vcpus = (unsigned)v;
            break;
        case 'm':
            if (!cli_parse_u64(optarg, 16, 16ULL * 1024 * 1024, &v))
                return cli_usage_error("bad --memory '%s' (MiB, at least 16)",
                                       optarg);
            o.memory_mib = v;
            break;
        case 'N':
            if (o.nnetworks == MAX_NETWORKS)
                return cli_usage_error("too many --network options");
            nets[o.nnetworks++] = optarg;
            break;
        case 'f':
            o.full = true;
            break;
        case 'S':
            o.start = false;
            break;
        case 'd':
            if (optarg[0] != '/')
                return cli_usage_error("--dir '%s' is not an absolute path",
                                       optarg);
            o.dir = optarg;
            break;
        case 'k':
            if (!cli_parse_u64(optarg, 1, OPS_SPAWN_MAX_COUNT, &v))
                return cli_usage_error("bad --count '%s' (1 to %d)", optarg,
                                       OPS_SPAWN_MAX_COUNT);
            o.count = (unsigned)v;
            break;
        case 'T':
            o.template_id = optarg;
            break;
        case 'K':
            o.keep_failed = true;
            break;
        default:
            return cli_usage_error("bad option for 'spawn'");
        }
    }
    if (!o.template_id && optind != argc - 1)
        return cli_usage_error("'spawn' takes one SET (or --template ID)");
    if (o.template_id && optind != argc)
        return cli_usage_error("'spawn --template ID' takes no SET");
    if (!o.name)
        return cli_usage_error("'spawn' needs --name NEW");
    t0 = snap_now_ms();
    from = o.template_id ? o.template_id : argv[optind];
    if (!ops_spawn_many(ctx, o.template_id ? NULL : from, &o, &made, &err))
        return cli_fail(&err);
    for (i = 0; i < made.n; i++) {
        printf("spawned domain '%s' (%s) from %s %s%s", cli_safe(made.names[i]),
               made.uuids[i], o.template_id ? "template" : "set",
               cli_safe(from), o.full ? ", full copies" : ", linked clones");
        if (made.n > 1)
            putchar('\n');
    }
    if (made.n > 1)
        printf("%zu domains in %lld ms\n", made.n,
               (long long)(snap_now_ms() - t0));
    else
        printf(" in %lld ms\n", (long long)(snap_now_ms() - t0));
    ops_spawned_release(&made);
    return EXIT_SUCCESS;
}

int
cli_cmd_volume_from(ops_ctx *ctx, int argc, char **argv)
{
    static const struct option opts[] = {
        {"name", required_argument, NULL, 'n'},
        {"format", required_argument, NULL, 'f'},
        {"dir", required_argument, NULL, 'd'},
        {NULL, 0, NULL, 0},
    };
    ops_volume_from_opts o = {NULL, NULL, NULL};
    snap_error err = {0};
    char *made = NULL;
    int c;

    optind = 0; /* 0: GNU getopt reinitialises, permuting again */
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'n':
            o.name = optarg;
            break;
        case 'f':
            if (strcmp(optarg, "qcow2") != 0 && strcmp(optarg, "raw") != 0)
                return cli_usage_error("bad --format '%s': use qcow2 or raw",
                                       optarg);
            o.format = optarg;
            break;
        case 'd':
            if (optarg[0] != '/')
                return cli_usage_error("--dir '%s' is not an absolute path",
                                       optarg);
            o.dir = optarg;
            break;
        default:
            return cli_usage_error("bad option for 'volume-from'");
        }
    }
    if (optind != argc - 2)
        return cli_usage_error("'volume-from' takes SET and DISK");
    if (!ops_volume_from(ctx, argv[optind], argv[optind + 1], &o, &made, &err))
        return cli_fail(&err);
    snap_text_fputs(made, stdout); /* a path or name the caller chose */
    putchar('\n');
    free(made);
    return EXIT_SUCCESS;
}

int
cli_cmd_flatten(ops_ctx *ctx, int argc, char **argv)
{
    snap_error err = {0};
    int n = 0;

    if (argc != 2 || argv[1][0] == '-')
        return cli_usage_error("'flatten' takes one DOMAIN");
    if (!ops_flatten(ctx, argv[1], &n, &err))
        return cli_fail(&err);
    printf("flattened %d disk%s of domain '%s'\n", n, n == 1 ? "" : "s",
           argv[1]);
    return EXIT_SUCCESS;
}
