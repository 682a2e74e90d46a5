/* coordinator/cli/main.c -- the snapset command line. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "common/snap_log.h"
#include "coordinator/cli/cli.h"
#include "coordinator/cli/cli_sets.h"
#include "coordinator/cli/cli_state.h"
#include "coordinator/cli/cli_template.h"
#include "coordinator/cli/cli_restore.h"
#include "coordinator/cli/cli_export.h"
#include "coordinator/cli/cli_serve.h"
#include "coordinator/cli/cli_verify.h"
#include "coordinator/cli/cli_events.h"
#include "virt/watchdog.h"

static const char usage_text[] =
    "usage: snapset [-v] [-c FILE] [--allow-insecure-config] [--uri URI]\n"
    "               [--catalog-dir DIR] COMMAND ...\n"
    "\n"
    "commands:\n"
    "  create DOMAIN [--quiesce=required|preferred|off] [--pause|--no-pause]\n"
    "                [--memory]   RAM state too (paused, not quiesced)\n"
    "         [--mountpoint PATH]... [--name NAME] [--json]\n"
    "  list [DOMAIN] [--source catalog|cinder] [--json]\n"
    "  show SET [--json]\n"
    "  delete SET [--with-exports]  (exports: its Glance images, OVA files)\n"
    "  recover [DOMAIN]\n"
    "  verify SET... | --all [--json]  the copies read back as recorded\n"
    "  export SET --ova FILE | --ovf DIR | --glance [--name NAME]\n"
    "         [--disk-format vmdk|qcow2] [--json] [--timeout MS] [--force]\n"
    "         [--ceph-conf FILE] [--ceph-user NAME] [--staging-dir DIR]\n"
    "         [--cleanup-timeout MS]\n"
    "  export --check FILE.ova     verifies a package (order, digests,\n"
    "                              OVF schema)\n"
    "  restore SET [--start|--no-start] [--shutdown-timeout MS]\n"
    "  spawn SET --name NEW [--vcpus N] [--memory MiB] [--network NET]...\n"
    "        [--full] [--no-start] [--dir DIR] [--count N] [--keep-failed]\n"
    "                              N VMs NEW-1..NEW-N, all or none\n"
    "  spawn --template ID --name NEW [...]   linked clones of a template\n"
    "  template create SET [--name NAME]   full copies kept for spawning\n"
    "  template list [--json]\n"
    "  template delete ID           refused while a domain uses it\n"
    "  volume-from SET DISK [--name NAME] [--format qcow2|raw] [--dir DIR]\n"
    "  flatten DOMAIN\n"
    "  events [--since TIME] [--domain D] [--kind K] [--limit N] [--json]\n"
    "         [--follow]    the audit log (TIME: RFC 3339, ms, or an age:\n"
    "                       15m, 2h, 7d); --follow until interrupted\n"
    "  check-config\n"
    "  serve [--address ADDR] [--port N] [--tokens-file FILE] [--no-schedule]\n"
    "  state save DOMAIN NAME       a new RAM state (a set with RAM state)\n"
    "  state load DOMAIN STATE      the domain back to it, running\n"
    "  state list DOMAIN [--json]\n"
    "  state delete DOMAIN STATE...\n"
    "  policy list [--json]\n"
    "  policy run NAME [--json]\n"
    "  policy prune NAME [--dry-run] [--json]\n"
    "\n"
    "global options:\n"
    "  -c, --config FILE      configuration (default "
    "/etc/snapset/snapset.conf\n"
    "                         when it exists, or $SNAPSET_CONF)\n"
    "      --allow-insecure-config  a configuration file holding a secret\n"
    "                         that others may read is a warning, not an error\n"
    "      --uri URI          libvirt URI (libvirt_uri)\n"
    "      --catalog-dir DIR  catalog directory (catalog_dir)\n"
    "      --agent-timeout MS, --frozen-timeout MS, --copy-timeout MS,\n"
    "      --lock-timeout MS  override timeouts.*\n"
    "  -v, --verbose          more output (twice: debug)\n"
    "  -h, --help             this text\n"
    "\n"
    "exit status: 0 ok, 1 failure, 2 usage error\n";

/* True when @url is plain http (case does not matter in a scheme). */
static bool
is_http(const char *url)
{
    return url && strncasecmp(url, "http://", 7) == 0;
}

/* What `check-config` warns about, one line each: settings that work but
 * send credentials and tokens where anyone on the path can read or change
 * them. Warnings only: the exit status stays 0. */
static void
check_config_warn(const coord_conf *conf)
{
    const coord_openstack_conf *o = &conf->openstack;
    bool env = o->enabled && o->use_env; /* OS_* are read only then */
    const char *v;
    struct {
        const char *name, *env, *value;
    } urls[] = {
        {"openstack.auth_url", "OS_AUTH_URL", o->auth_url},
        {"openstack.volume_endpoint", "CINDER_ENDPOINT", o->volume_endpoint},
        {"openstack.image_endpoint", "GLANCE_ENDPOINT", o->image_endpoint},
    };
    size_t i;

    if (o->insecure)
        snap_warn("openstack.insecure = true: TLS certificates and host "
                  "names are not checked");
    else if (env && (v = getenv("OS_INSECURE")) &&
             (strcasecmp(v, "true") == 0 || strcmp(v, "1") == 0 ||
              strcasecmp(v, "yes") == 0))
        snap_warn("OS_INSECURE=%s: TLS certificates and host names are not "
                  "checked",
                  v);
    for (i = 0; i < sizeof(urls) / sizeof(urls[0]); i++) {
        if (urls[i].value) {
            if (is_http(urls[i].value))
                snap_warn("%s '%s' is plain http: credentials and tokens "
                          "travel unencrypted",
                          urls[i].name, urls[i].value);
        } else if (env && is_http(getenv(urls[i].env))) {
            snap_warn("%s '%s' is plain http: credentials and tokens travel "
                      "unencrypted",
                      urls[i].env, getenv(urls[i].env));
        }
    }
}

/* What `check-config` says about OpenStack: whether it is in use and why,
 * then each credential and endpoint setting with where it comes from (the
 * file wins over the OS_* variable where both give one). Secrets are never
 * printed. */
static bool
check_config_openstack(const coord_conf *conf, snap_error *err)
{
    const coord_openstack_conf *o = &conf->openstack;
    ops_os_setting settings[OPS_OS_NSETTINGS];
    size_t i, n;

    if (o->enabled_by_env)
        printf("openstack: in use: OS_AUTH_URL is set and the file does not "
               "set openstack.enabled\n");
    else if (o->enabled)
        printf("openstack: in use: openstack.enabled = true\n");
    else if (o->enabled_given)
        printf("openstack: not in use: openstack.enabled = false\n");
    else if (!o->use_env)
        printf("openstack: not in use: openstack.enabled is not set and "
               "openstack.use_env = false\n");
    else
        printf("openstack: not in use: neither openstack.enabled nor "
               "OS_AUTH_URL is set\n");
    if (!o->enabled)
        return true;
    n = ops_os_settings(o, settings, err);
    if (n == 0)
        return false;
    for (i = 0; i < n; i++) {
        const ops_os_setting *st = &settings[i];

        if (!st->value)
            continue;
        printf("  openstack.%s = %s (from %s)\n", st->name,
               st->secret ? "(hidden)" : cli_safe(st->value),
               st->from_env ? st->env : "the file");
    }
    return true;
}

static int
cmd_check_config(ops_ctx *ctx, int argc, char **argv)
{
    snap_error err = {0};

    (void)argv;
    if (argc != 1)
        return cli_usage_error("'check-config' takes no argument");
    check_config_warn(&ctx->conf);
    if (!check_config_openstack(&ctx->conf, &err))
        return cli_fail(&err);
    printf("configuration OK\n");
    return EXIT_SUCCESS;
}

/* The commands, as git has them: a name and the function that runs it with
 * the command's own arguments (argv[0] is its name). */
static const struct {
    const char *name;
    int (*run)(ops_ctx *ctx, int argc, char **argv);
} commands[] = {
    {"create", cli_cmd_create},
    {"list", cli_cmd_list},
    {"show", cli_cmd_show},
    {"delete", cli_cmd_delete},
    {"recover", cli_cmd_recover},
    {"verify", cli_cmd_verify}, /* reads every copy back */
    {"serve", cli_cmd_serve},
    {"policy", cli_cmd_policy},
    {"state", cli_cmd_state},
    {"template", cli_cmd_template},
    {"export", cli_cmd_export},
    {"restore", cli_cmd_restore},
    {"spawn", cli_cmd_spawn},
    {"volume-from", cli_cmd_volume_from},
    {"flatten", cli_cmd_flatten},
    {"events", cli_cmd_events}, /* the audit log */
    {"check-config", cmd_check_config},
};

/* A flat sequence: global options, the configuration, the overrides, then
 * the command. */
int
main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"config", required_argument, NULL, 'c'},
        {"allow-insecure-config", no_argument, NULL, 'I'},
        {"uri", required_argument, NULL, 'U'},
        {"catalog-dir", required_argument, NULL, 'C'},
        {"agent-timeout", required_argument, NULL, 'A'},
        {"frozen-timeout", required_argument, NULL, 'F'},
        {"copy-timeout", required_argument, NULL, 'Y'},
        {"lock-timeout", required_argument, NULL, 'L'},
        {"verbose", no_argument, NULL, 'v'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *config = getenv("SNAPSET_CONF");
    const char *uri = NULL, *catalog = NULL;
    int64_t agent = -1, frozen = -1, copy = -1, lock = -1;
    ops_ctx ctx;
    snap_error err = {0};
    const char *cmd;
    bool allow_insecure = false;
    int c, rc, verbose = 0;
    size_t i;

    memset(&ctx, 0, sizeof(ctx));
    /* A peer that went away (the watchdog) is an error return, not death. */
    signal(SIGPIPE, SIG_IGN);
    if (argc > 1 && strcmp(argv[1], "__watchdog") == 0)
        return virt_watchdog_main(argc - 1, argv + 1);
    while ((c = getopt_long(argc, argv, "+c:vh", opts, NULL)) != -1) {
        switch (c) {
        case 'c':
            config = optarg;
            break;
        case 'I':
            allow_insecure = true;
            break;
        case 'U':
            uri = optarg;
            break;
        case 'C':
            if (optarg[0] != '/')
                return cli_usage_error("--catalog-dir '%s' is not an absolute "
                                       "path",
                                       optarg);
            catalog = optarg;
            break;
        case 'A':
            if (!cli_parse_ms(optarg, 100, &agent))
                return cli_usage_error("bad --agent-timeout '%s'", optarg);
            break;
        case 'F':
            if (!cli_parse_ms(optarg, 100, &frozen))
                return cli_usage_error("bad --frozen-timeout '%s'", optarg);
            break;
        case 'Y':
            if (!cli_parse_ms(optarg, 1000, &copy))
                return cli_usage_error("bad --copy-timeout '%s'", optarg);
            break;
        case 'L':
            if (!cli_parse_ms(optarg, 0, &lock))
                return cli_usage_error("bad --lock-timeout '%s'", optarg);
            break;
        case 'v':
            verbose++;
            break;
        case 'h':
            fputs(usage_text, stdout);
            return EXIT_SUCCESS;
        default:
            return cli_usage_error("unknown option");
        }
    }
    if (optind >= argc)
        return cli_usage_error("no command given");
    cmd = argv[optind];
    snap_log_set_level(verbose >= 2   ? SNAP_LOG_DEBUG
                       : verbose == 1 ? SNAP_LOG_INFO
                                      : SNAP_LOG_WARN);

    if (!coord_conf_init(&ctx.conf, &err))
        return cli_fail(&err);
    ctx.conf.allow_insecure_file = allow_insecure;
    if (!config && access("/etc/snapset/snapset.conf", F_OK) == 0)
        config = "/etc/snapset/snapset.conf";
    if (config && !coord_conf_load(&ctx.conf, config, &err)) {
        rc = cli_fail(&err);
        goto out;
    }
    /* An openrc in the environment means OpenStack unless the file says
     * otherwise. */
    coord_conf_apply_env(&ctx.conf);
    /* What snapset runs of itself (an export for serve or a policy) reads
     * the same file. */
    if (config && setenv("SNAPSET_CONF", config, 1) != 0) {
        snap_error_set_errno(&err, errno, "cannot set SNAPSET_CONF");
        rc = cli_fail(&err);
        goto out;
    }
    if ((uri && !coord_str_set(&ctx.conf.libvirt_uri, uri, &err)) ||
        (catalog && !coord_str_set(&ctx.conf.catalog_dir, catalog, &err))) {
        rc = cli_fail(&err);
        goto out;
    }
    if (agent >= 0)
        ctx.conf.agent_timeout_ms = agent;
    if (frozen >= 0)
        ctx.conf.frozen_timeout_ms = frozen;
    if (copy >= 0)
        ctx.conf.copy_timeout_ms = copy;
    if (lock >= 0)
        ctx.conf.lock_timeout_ms = lock;

    argc -= optind;
    argv += optind;
    rc = CLI_EXIT_USAGE;
    for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
        if (strcmp(cmd, commands[i].name) == 0)
            break;
    }
    if (i == sizeof(commands) / sizeof(commands[0]))
        rc = cli_usage_error("unknown command '%s'", cmd);
    else
        rc = commands[i].run(&ctx, argc, argv);

out:
    ops_ctx_release(&ctx);
    return rc;
}
