/* coordinator/cli/cli_export.c -- see cli_export.h. */
#define _GNU_SOURCE /* getopt_long() */
#include "coordinator/cli/cli_export.h"

#include <getopt.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "coordinator/cli/cli.h"
#include "coordinator/ops/export.h"
#include "glance/glance.h"

static void
print_result(const ops_export_opts *opts, json_t *result)
{
    char size[32];
    json_t *v;

    if (opts->ui == OPS_EXPORT_UI_JSON) {
        char *text;

        json_object_set_new(result, "event", json_string("done"));
        text = json_dumps(result, JSON_COMPACT | JSON_PRESERVE_ORDER);
        if (text)
            printf("%s\n", text);
        free(text);
        return;
    }
    v = json_object_get(result, "size");
    ops_export_fmt_bytes(size, sizeof(size), (double)json_integer_value(v));
    printf("exported set %s (%s, %zu disks) in %.1f s\n",
           json_string_value(json_object_get(result, "set")),
           json_string_value(json_object_get(result, "domain")),
           json_array_size(json_object_get(result, "disks")),
           (double)json_integer_value(json_object_get(result, "elapsed_ms")) /
               1000.0);
    if (json_object_get(result, "image_id")) {
        printf("image:  %s (%s), active\n",
               json_string_value(json_object_get(result, "image_id")),
               json_string_value(json_object_get(result, "name")));
        printf("size:   %" PRId64 " bytes (%s)\n",
               (int64_t)json_integer_value(v), size);
        printf("sha512: %s\n",
               json_string_value(json_object_get(result, "sha512")));
    } else {
        printf("%s:    %s\n", opts->kind == OPS_EXPORT_OVA ? "ova" : "ovf",
               json_string_value(json_object_get(result, "path")));
        if (v)
            printf("size:   %" PRId64 " bytes (%s)\n",
                   (int64_t)json_integer_value(v), size);
    }
}

/* Parses the options into @opts, and runs `export --check` (*@done set).
 * Returns 0, or the exit status of a usage error or of --check. */
static int
parse_args(int argc, char **argv, ops_export_opts *opts, bool *json, bool *done)
{
    static const struct option longopts[] = {
        {"ova", required_argument, NULL, 'o'},
        {"ovf", required_argument, NULL, 'd'},
        {"glance", no_argument, NULL, 'g'},
        {"name", required_argument, NULL, 'n'},
        {"disk-format", required_argument, NULL, 'f'},
        {"json", no_argument, NULL, 'j'},
        {"timeout", required_argument, NULL, 't'},
        {"cleanup-timeout", required_argument, NULL, 'T'},
        {"ceph-conf", required_argument, NULL, 'c'},
        {"ceph-user", required_argument, NULL, 'u'},
        {"staging-dir", required_argument, NULL, 's'},
        {"force", no_argument, NULL, 'F'},
        {"check", required_argument, NULL, 'C'},
        {NULL, 0, NULL, 0},
    };
    const char *check = NULL;
    snap_error err = {0};
    int c, nkinds = 0;

    ops_export_opts_init(opts); /* with SNAPSET_CEPH_CONF, _USER */
    optind = 0; /* 0: GNU getopt reinitialises, permuting again */
    while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        switch (c) {
        case 'o':
        case 'd':
            opts->kind = c == 'o' ? OPS_EXPORT_OVA : OPS_EXPORT_OVF;
            opts->target = optarg;
            nkinds++;
            break;
        case 'g':
            opts->kind = OPS_EXPORT_GLANCE;
            nkinds++;
            break;
        case 'n':
            opts->name = optarg;
            break;
        case 'f':
            if (strcmp(optarg, "vmdk") == 0)
                opts->format = GLANCE_DISK_FORMAT_VMDK_STREAM;
            else if (strcmp(optarg, "qcow2") == 0)
                opts->format = GLANCE_DISK_FORMAT_QCOW2;
            else
                return cli_usage_error("bad --disk-format '%s': use vmdk or "
                                       "qcow2",
                                       optarg);
            break;
        case 'j':
            *json = true;
            break;
        case 't':
            if (!cli_parse_ms(optarg, 1000, &opts->timeout_ms))
                return cli_usage_error("bad --timeout '%s' (ms, >= 1000)",
                                       optarg);
            break;
        case 'T':
            if (!cli_parse_ms(optarg, 0, &opts->cleanup_ms))
                return cli_usage_error("bad --cleanup-timeout '%s' (ms)",
                                       optarg);
            break;
        case 'c':
            opts->ceph_conf = optarg;
            break;
        case 'u':
            opts->ceph_user = optarg;
            break;
        case 's':
            if (optarg[0] != '/')
                return cli_usage_error("--staging-dir '%s' is not an absolute "
                                       "path",
                                       optarg);
            opts->staging_root = optarg;
            break;
        case 'F':
            opts->force = true;
            break;
        case 'C':
            check = optarg;
            break;
        default:
            return cli_usage_error("bad option for 'export'");
        }
    }
    if (check) {
        /* `export --check FILE.ova`: reads a package back (ours, or one
         * downloaded from Glance) and checks order, manifest, digests,
         * descriptor links and the descriptor against the OVF schemas
         * (DSP8023, CIM RASD/VSSD), as glance_ova_verify() does. Missing
         * schemas fail the check, naming where they were looked for. */
        if (optind != argc || nkinds)
            return cli_usage_error("'export --check FILE' takes nothing else");
        *done = true;
        if (!glance_ova_verify(check, &err))
            return cli_fail(&err);
        printf("%s: OVA verified (order, manifest, every digest, "
               "descriptor links, OVF schema)\n",
               check);
        return EXIT_SUCCESS;
    }
    if (optind != argc - 1)
        return cli_usage_error("'export' takes one SET");
    if (nkinds != 1)
        return cli_usage_error("'export' needs one of --ova FILE, --ovf DIR or "
                               "--glance");
    if (opts->name && opts->kind != OPS_EXPORT_GLANCE)
        return cli_usage_error("--name names a Glance image: use it with "
                               "--glance");
    if (opts->target && !*opts->target)
        return cli_usage_error("empty --ova or --ovf path");
    /* An empty --ceph-conf or --ceph-user means the default. */
    if (!opts->ceph_conf || !*opts->ceph_conf)
        opts->ceph_conf = OPS_EXPORT_DEFAULT_CEPH_CONF;
    if (opts->ceph_user && !*opts->ceph_user)
        opts->ceph_user = NULL;
    opts->ui = isatty(STDERR_FILENO) ? OPS_EXPORT_UI_TTY : OPS_EXPORT_UI_PLAIN;
    if (*json)
        opts->ui = OPS_EXPORT_UI_JSON;
    return 0;
}

int
cli_cmd_export(ops_ctx *ctx, int argc, char **argv)
{
    ops_export_opts opts;
    json_t *result = NULL;
    snap_error err = {0};
    bool json = false, done = false;
    int rc;

    rc = parse_args(argc, argv, &opts, &json, &done);
    if (rc != 0 || done)
        return rc;
    result = json_object();
    if (!result) {
        fprintf(stderr, "snapset: out of memory\n");
        return EXIT_FAILURE;
    }
    if (ops_export_run(ctx, argv[optind], &opts, result, &err)) {
        print_result(&opts, result);
        rc = EXIT_SUCCESS;
    } else {
        rc = cli_fail(&err);
        if (json) {
            json_t *ev =
                json_pack("{s:s, s:s}", "event", "error", "message", err.msg);
            char *text =
                ev ? json_dumps(ev, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;

            if (text)
                printf("%s\n", text);
            free(text);
            json_decref(ev);
        }
    }
    json_decref(result);
    return rc;
}
