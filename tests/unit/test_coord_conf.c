/* tests/unit/test_coord_conf.c -- snapset.conf: defaults, every setting,
 * and errors that name the file and line. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/snap_fs.h"
#include "coordinator/coord_conf.h"

static char path[] = "/tmp/snapset-conf-XXXXXX";

static void
write_conf(const char *text)
{
    assert_true(snap_file_write_atomic(path, text, strlen(text), 0600, NULL));
}

static int
setup(void **state)
{
    int fd = mkstemp(path);

    (void)state;
    assert_true(fd >= 0);
    close(fd);
    return 0;
}

static int
teardown(void **state)
{
    (void)state;
    unlink(path);
    return 0;
}

static void
defaults_are_safe(void **state)
{
    coord_conf c;

    (void)state;
    assert_true(coord_conf_init(&c, NULL));
    assert_string_equal(c.libvirt_uri, "qemu:///system");
    assert_int_equal(c.quiesce, COORD_QUIESCE_PREFERRED);
    assert_false(c.pause);
    assert_true(c.incremental);
    assert_true(c.frozen_timeout_ms <= 60000);
    /* the API: default deny (admins, else owners), short caches */
    assert_int_equal(c.http.nallowed_roles, 1);
    assert_string_equal(c.http.allowed_roles[0], "admin");
    assert_int_equal(c.http.nallowed_projects, 0);
    assert_true(c.http.token_cache_ms == 60000);
    assert_true(c.http.negative_cache_ms == 10000);
    assert_true(c.http.validate_timeout_ms == 5000);
    assert_true(c.http.request_timeout_ms == 30000);
    assert_int_equal(c.http.validators, 4);
    assert_int_equal(c.http.max_connections, 256);
    assert_int_equal(c.http.max_connections_per_ip, 16);
    coord_conf_release(&c);
}

static void
secrets_in_a_file_others_can_read_are_refused(void **state)
{
    static const char *texts[] = {
        "openstack = { password = \"s3cret\"; };\n",
        "openstack = { application_credential_secret = \"s3cret\"; };\n",
    };
    coord_conf c;
    snap_error err = {0};
    char want[512];
    size_t i;

    (void)state;
    for (i = 0; i < 2; i++) {
        write_conf(texts[i]);
        assert_int_equal(chmod(path, 0644), 0);
        assert_true(coord_conf_init(&c, NULL));
        assert_false(coord_conf_load(&c, path, &err));
        snprintf(want, sizeof(want),
                 "%s: holds %s and others can read it (mode 0644): "
                 "chmod o-r it, or pass --allow-insecure-config",
                 path,
                 i == 0 ? "a password"
                        : "an application credential "
                          "secret");
        assert_string_equal(err.msg, want);
        snap_error_clear(&err);
        coord_conf_release(&c);

        /* --allow-insecure-config: a warning */
        assert_true(coord_conf_init(&c, NULL));
        c.allow_insecure_file = true;
        if (!coord_conf_load(&c, path, &err))
            fail_msg("%s", err.msg);
        coord_conf_release(&c);

        /* 0640 and 0600 are fine */
        assert_int_equal(chmod(path, 0640), 0);
        assert_true(coord_conf_init(&c, NULL));
        if (!coord_conf_load(&c, path, &err))
            fail_msg("%s", err.msg);
        coord_conf_release(&c);
    }
    /* no secret: readable is fine */
    write_conf("http = { port = 1; };\n");
    assert_int_equal(chmod(path, 0644), 0);
    assert_true(coord_conf_init(&c, NULL));
    assert_true(coord_conf_load(&c, path, &err));
    coord_conf_release(&c);
}

static void
api_security_settings_are_read_and_checked(void **state)
{
    static const struct {
        const char *text;
        const char *suffix;
    } bad[] = {
        {"http = { token_cache_ms = 86400000; };\n",
         "1: http.token_cache_ms must be between 0 and 3600000"},
        {"http = { negative_cache_ms = -1; };\n",
         "1: http.negative_cache_ms must be between 0 and 600000"},
        {"http = { validate_timeout_ms = 10; };\n",
         "1: http.validate_timeout_ms must be between 100 and 120000"},
        {"http = { request_timeout_ms = 0; };\n",
         "1: http.request_timeout_ms must be between 1000 and 3600000"},
        {"http = { validators = 0; };\n",
         "1: http.validators must be between 1 and 64"},
        {"http = { max_connections = 0; };\n",
         "1: http.max_connections must be between 1 and 4096"},
        {"http = { max_connections_per_ip = 5000; };\n",
         "1: http.max_connections_per_ip must be between 1 and 4096"},
        {"http = { max_connections = 8; max_connections_per_ip = 9; };\n",
         "1: http.max_connections_per_ip (9) must not exceed "
         "http.max_connections (8)"},
    };
    coord_conf c;
    snap_error err = {0};
    char want[512];
    size_t i;

    (void)state;
    write_conf("http = { allowed_roles = []; negative_cache_ms = 0;\n"
               "  validate_timeout_ms = 2000; request_timeout_ms = 9000;\n"
               "  validators = 8; max_connections = 64;\n"
               "  max_connections_per_ip = 4; };\n");
    assert_true(coord_conf_init(&c, NULL));
    if (!coord_conf_load(&c, path, &err))
        fail_msg("%s", err.msg);
    assert_int_equal(c.http.nallowed_roles, 0); /* owners only */
    assert_true(c.http.negative_cache_ms == 0);
    assert_true(c.http.validate_timeout_ms == 2000);
    assert_true(c.http.request_timeout_ms == 9000);
    assert_int_equal(c.http.validators, 8);
    assert_int_equal(c.http.max_connections, 64);
    assert_int_equal(c.http.max_connections_per_ip, 4);
    coord_conf_release(&c);
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        write_conf(bad[i].text);
        assert_true(coord_conf_init(&c, NULL));
        assert_false(coord_conf_load(&c, path, &err));
        snprintf(want, sizeof(want), "%s:%s", path, bad[i].suffix);
        if (strcmp(err.msg, want) != 0)
            fail_msg("case %zu:\n got  '%s'\n want '%s'", i, err.msg, want);
        snap_error_clear(&err);
        coord_conf_release(&c);
    }
}

static void
the_sample_configuration_is_valid(void **state)
{
    char sample[512];
    coord_conf c;
    snap_error err = {0};

    (void)state;
    snprintf(sample, sizeof(sample), "%s/../../etc/snapset.conf",
             getenv("SNAP_TEST_DATA"));
    assert_true(coord_conf_init(&c, NULL));
    if (!coord_conf_load(&c, sample, &err))
        fail_msg("%s", err.msg);
    coord_conf_release(&c);
}

static void
every_setting_is_read(void **state)
{
    coord_conf c;
    snap_error err = {0};

    (void)state;
    write_conf("libvirt_uri = \"test:///default\";\n"
               "catalog_dir = \"/srv/snapset\";\n"
               "quiesce = \"required\";\n"
               "pause = true;\n"
               "app_hooks = true;\n"
               "incremental = false;\n"
               "copy_format = \"raw\";\n"
               "timeouts = { agent_ms = 2000; frozen_ms = 5000;\n"
               "  copy_ms = 60000; lock_ms = 100; shutdown_ms = 9000;\n"
               "  thaw_attempts = 5; };\n");
    assert_true(coord_conf_init(&c, NULL));
    if (!coord_conf_load(&c, path, &err))
        fail_msg("%s", err.msg);
    assert_string_equal(c.libvirt_uri, "test:///default");
    assert_string_equal(c.catalog_dir, "/srv/snapset");
    assert_int_equal(c.quiesce, COORD_QUIESCE_REQUIRED);
    assert_true(c.pause);
    assert_true(c.app_hooks);
    assert_false(c.incremental);
    assert_string_equal(c.copy_format, "raw");
    assert_int_equal(c.agent_timeout_ms, 2000);
    assert_int_equal(c.frozen_timeout_ms, 5000);
    assert_int_equal(c.copy_timeout_ms, 60000);
    assert_int_equal(c.lock_timeout_ms, 100);
    assert_int_equal(c.shutdown_timeout_ms, 9000);
    assert_int_equal(c.thaw_attempts, 5);
    coord_conf_release(&c);
}

static void
bad_settings_name_the_line(void **state)
{
    static const struct {
        const char *text;
        const char *suffix; /* after "<path>:" */
    } cases[] = {
        {"pause = true;\nqiesce = \"off\";\n",
         "2: qiesce is not a known setting"},
        {"quiesce = \"sometimes\";\n",
         "1: quiesce must be \"required\", \"preferred\" or \"off\""},
        {"pause = 1;\n", "1: pause must be true or false"},
        {"\n\ntimeouts = { agent_ms = 5; };\n",
         "3: timeouts.agent_ms must be between 100 and 3600000"},
        {"timeouts = { frozen = 5; };\n",
         "1: timeouts.frozen is not a known setting"},
        {"catalog_dir = \"relative/dir\";\n",
         "1: catalog_dir must be an absolute path"},
        {"libvirt_uri = \"\";\n", "1: libvirt_uri must not be empty"},
        {"pause = true\nquiesce = ;\n", "2: syntax error"},
        {"timeouts = { agent_ms = \"5s\"; };\n",
         "1: timeouts.agent_ms must be an integer (milliseconds)"},
        /* a count, not a duration: no "(milliseconds)" */
        {"timeouts = { thaw_attempts = \"3\"; };\n",
         "1: timeouts.thaw_attempts must be an integer"},
    };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        coord_conf c;
        snap_error err = {0};
        char want[512];

        write_conf(cases[i].text);
        assert_true(coord_conf_init(&c, NULL));
        assert_false(coord_conf_load(&c, path, &err));
        snprintf(want, sizeof(want), "%s:%s", path, cases[i].suffix);
        assert_string_equal(err.msg, want);
        coord_conf_release(&c);
    }
}

static void
openstack_polling_is_read_and_checked(void **state)
{
    coord_conf c;
    snap_error err = {0};
    char want[512];

    (void)state;
    assert_true(coord_conf_init(&c, NULL));
    assert_int_equal(c.openstack.poll_max_ms, 250);
    assert_int_equal(c.openstack.frozen_poll_max_ms, 20);
    assert_int_equal(c.openstack.stall_timeout_ms, 60000);
    write_conf("openstack = { enabled = true; poll_min_ms = 5;\n"
               "  poll_max_ms = 500; frozen_poll_max_ms = 40;\n"
               "  stall_timeout_ms = 5000;\n"
               "  group_snapshots = \"never\"; };\n");
    if (!coord_conf_load(&c, path, &err))
        fail_msg("%s", err.msg);
    assert_true(c.openstack.enabled);
    assert_int_equal(c.openstack.poll_min_ms, 5);
    assert_int_equal(c.openstack.poll_max_ms, 500);
    assert_int_equal(c.openstack.frozen_poll_max_ms, 40);
    assert_int_equal(c.openstack.stall_timeout_ms, 5000);
    assert_string_equal(c.openstack.group_snapshots, "never");
    coord_conf_release(&c);

    write_conf("openstack = { poll_min_ms = 30; };\n");
    assert_true(coord_conf_init(&c, NULL));
    assert_false(coord_conf_load(&c, path, &err));
    snprintf(want, sizeof(want),
             "%s:1: openstack has poll_min_ms above frozen_poll_max_ms", path);
    assert_string_equal(err.msg, want);
    coord_conf_release(&c);
}

static void
a_missing_file_is_an_error(void **state)
{
    coord_conf c;
    snap_error err = {0};

    (void)state;
    assert_true(coord_conf_init(&c, NULL));
    assert_false(coord_conf_load(&c, "/nonexistent/snapset.conf", &err));
    assert_string_equal(err.msg, "cannot read '/nonexistent/snapset.conf'");
    coord_conf_release(&c);
}

/* ---- the http group and policies (snapset serve, snapset policy) -------- */

static void
http_and_policies_are_read(void **state)
{
    coord_conf c, copy;
    snap_error err = {0};
    const coord_policy *p;

    (void)state;
    write_conf(
        "http = { address = \"::1\"; port = 0;\n"
        "  tokens_file = \"/etc/snapset/tokens\";\n"
        "  allowed_roles = [\"admin\", \"backup\"];\n"
        "  allowed_projects = (\"ops\");\n"
        "  max_body_bytes = 4096; threads = 8; workers = 3;\n"
        "  max_queue = 10; connection_timeout_ms = 5000;\n"
        "  token_cache_ms = 0; shutdown_timeout_ms = 1000;\n"
        "  schedule = false; };\n"
        "policies = (\n"
        "  { name = \"nightly\"; domains = [\"web-*\", \"db1\"];\n"
        "    exclude = [\"web-test\"]; quiesce = \"required\";\n"
        "    pause = true; verify = true; keep_last = 2; keep_daily = 7;\n"
        "    keep_weekly = 4; keep_monthly = 6; keep_yearly = 1;\n"
        "    keep_hourly = 0; parallelism = 2; schedule = \"02:30\";\n"
        "    export = \"none\"; },\n"
        "  { name = \"tagged\"; metadata = true; backup_type = \"tg\";\n"
        "    export = \"ova:/srv/ova\"; schedule = \"every 30m\"; }\n"
        ");\n");
    assert_true(coord_conf_init(&c, NULL));
    assert_string_equal(c.http.address, "127.0.0.1");
    assert_int_equal(c.http.port, 8790);
    assert_true(c.http.schedule);
    if (!coord_conf_load(&c, path, &err))
        fail_msg("%s", err.msg);
    assert_string_equal(c.http.address, "::1");
    assert_int_equal(c.http.port, 0);
    assert_string_equal(c.http.tokens_file, "/etc/snapset/tokens");
    assert_int_equal(c.http.nallowed_roles, 2);
    assert_string_equal(c.http.allowed_roles[1], "backup");
    assert_int_equal(c.http.nallowed_projects, 1);
    assert_string_equal(c.http.allowed_projects[0], "ops");
    assert_int_equal(c.http.max_body_bytes, 4096);
    assert_int_equal(c.http.threads, 8);
    assert_int_equal(c.http.workers, 3);
    assert_int_equal(c.http.max_queue, 10);
    assert_int_equal(c.http.connection_timeout_ms, 5000);
    assert_int_equal(c.http.token_cache_ms, 0);
    assert_int_equal(c.http.shutdown_timeout_ms, 1000);
    assert_false(c.http.schedule);
    assert_int_equal(c.npolicies, 2);
    p = coord_policy_find(c.policies, c.npolicies, "nightly");
    assert_non_null(p);
    assert_int_equal(p->ndomains, 2);
    assert_string_equal(p->exclude[0], "web-test");
    assert_int_equal(p->quiesce, COORD_QUIESCE_REQUIRED);
    assert_true(p->pause);
    assert_true(p->verify);
    assert_int_equal(p->retention.keep_last, 2);
    assert_int_equal(p->retention.keep_daily, 7);
    assert_int_equal(p->retention.keep_weekly, 4);
    assert_int_equal(p->retention.keep_monthly, 6);
    assert_int_equal(p->retention.keep_yearly, 1);
    assert_int_equal(p->parallelism, 2);
    assert_int_equal(p->schedule.kind, COORD_SCHEDULE_CALENDAR);
    assert_int_equal(p->schedule.hour, 2);
    assert_string_equal(coord_policy_backup_type(p), "nightly");
    p = coord_policy_find(c.policies, c.npolicies, "tagged");
    assert_non_null(p);
    assert_true(p->metadata);
    assert_string_equal(coord_policy_backup_type(p), "tg");
    assert_int_equal(p->export_kind, COORD_EXPORT_OVA_DIR);
    assert_string_equal(p->export_dir, "/srv/ova");
    assert_int_equal(p->schedule.kind, COORD_SCHEDULE_INTERVAL);
    assert_int_equal(p->schedule.interval_ms, 30 * 60000);

    /* a copy shares nothing: release the original first */
    assert_true(coord_conf_copy(&copy, &c, &err));
    coord_conf_release(&c);
    assert_string_equal(copy.http.address, "::1");
    assert_string_equal(copy.http.allowed_roles[0], "admin");
    assert_string_equal(copy.policies[1].export_dir, "/srv/ova");
    assert_string_equal(copy.libvirt_uri, "qemu:///system");
    coord_conf_release(&copy);
}

static void
bad_http_and_policy_settings_name_the_line(void **state)
{
    static const struct {
        const char *text;
        const char *suffix; /* after "<path>:" */
    } cases[] = {
        {"http = { port = 70000; };\n",
         "1: http.port must be between 0 and 65535"},
        {"http = {\n  tokens_file = \"tokens\"; };\n",
         "2: http.tokens_file must be an absolute path"},
        {"http = { allowed_roles = \"admin\"; };\n",
         "1: http.allowed_roles must be a list of strings [\"...\", ...]"},
        {"http = { allowed_roles = [1]; };\n",
         "1: http.allowed_roles must be a list of strings [\"...\", ...]"},
        {"http = { workers = 0; };\n",
         "1: http.workers must be between 1 and 256"},
        {"http = { max_body_bytes = 10; };\n",
         "1: http.max_body_bytes must be between 256 and 16777216"},
        {"http = { listen = \"x\"; };\n",
         "1: http.listen is not a known setting"},
        {"policies = { name = \"a\"; };\n",
         "1: policies must be a list ( { name = \"...\"; ... }, ... )"},
        {"policies = ( { domains = [\"a\"]; } );\n",
         "1: a policy needs a name"},
        {"policies = ( { name = \"a b\"; domains = [\"a\"]; } );\n",
         "1: policy 'a b': name must be letters, digits, '-', '_' and '.'"},
        {"policies = ( { name = \"a\"; } );\n",
         "1: policy 'a' selects no domain: set domains or metadata = true"},
        {"policies = (\n { name = \"a\"; domains = [\"x\"];\n"
         "   keep_daily = -1; } );\n",
         "3: keep_daily must be between 0 and 100000"},
        {"policies = ( { name = \"a\"; domains = [\"x\"];\n"
         "   schedule = \"25:00\"; } );\n",
         "2: policy 'a': schedule bad schedule '25:00': use \"every 30m\", "
         "\"HH:MM\", \"*:MM\", \"mon HH:MM\", \"hourly\", \"daily\" or "
         "\"weekly\""},
        {"policies = ( { name = \"a\"; domains = [\"x\"]; export = \"s3\"; } "
         ");\n",
         "1: policy 'a': export must be \"none\", \"glance\" or \"ova:/DIR\""},
        {"policies = ( { name = \"a\"; domains = [\"x\"]; colour = 1; } );\n",
         "1: policy 'a': colour is not a known setting"},
        {"policies = ( { name = \"a\"; domains = [\"x\"]; },\n"
         "  { name = \"a\"; domains = [\"y\"]; } );\n",
         "2: policy 'a' is defined twice"},
        {"policies = ( { name = \"a\"; domains = [\"x\"]; },\n"
         "  { name = \"b\"; backup_type = \"a\"; domains = [\"y\"]; } );\n",
         "2: policy 'b' has the backup type 'a' of policy 'a'"},
        {"policies = ( { name = \"a\"; domains = [\"x\"]; parallelism = 0; } "
         ");\n",
         "1: parallelism must be between 1 and 64"},
        {"policies = ( { name = \"a\"; domains = [\"x\"];\n"
         "   quiesce = \"never\"; } );\n",
         "2: policy 'a': quiesce must be \"required\", \"preferred\" or "
         "\"off\""},
    };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        coord_conf c;
        snap_error err = {0};
        char want[512];

        write_conf(cases[i].text);
        assert_true(coord_conf_init(&c, NULL));
        assert_false(coord_conf_load(&c, path, &err));
        snprintf(want, sizeof(want), "%s:%s", path, cases[i].suffix);
        if (strcmp(err.msg, want) != 0)
            fail_msg("case %zu:\n got  '%s'\n want '%s'", i, err.msg, want);
        coord_conf_release(&c);
    }
}

/* ---- OpenStack from the usual environment -------------------------------- */

/* The tests below set OS_AUTH_URL; a developer's own (a sourced openrc) is
 * put aside before each and back after it, so it neither leaks in nor is
 * lost. */
static char *saved_auth_url;
static bool had_auth_url;

static int
env_setup(void **state)
{
    const char *v = getenv("OS_AUTH_URL");

    (void)state;
    had_auth_url = v != NULL;
    saved_auth_url = v ? strdup(v) : NULL;
    if (v && !saved_auth_url)
        return -1;
    return unsetenv("OS_AUTH_URL");
}

static int
env_teardown(void **state)
{
    int rc;

    (void)state;
    rc = had_auth_url ? setenv("OS_AUTH_URL", saved_auth_url, 1)
                      : unsetenv("OS_AUTH_URL");
    free(saved_auth_url);
    saved_auth_url = NULL;
    return rc;
}

/* init, the file when @text is not NULL, then the environment: main's
 * order. */
static void
load_with_env(coord_conf *c, const char *text)
{
    snap_error err = {0};

    assert_true(coord_conf_init(c, NULL));
    if (text) {
        write_conf(text);
        if (!coord_conf_load(c, path, &err))
            fail_msg("%s", err.msg);
    }
    coord_conf_apply_env(c);
}

static void
os_auth_url_without_an_enabled_line_turns_openstack_on(void **state)
{
    static const char *texts[] = {
        NULL, /* no file at all */
        "quiesce = \"off\";\n",
        "openstack = { request_timeout_ms = 5000; };\n",
    };
    coord_conf c;
    size_t i;

    (void)state;
    assert_int_equal(setenv("OS_AUTH_URL", "http://keystone.test:5000/v3", 1),
                     0);
    for (i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
        load_with_env(&c, texts[i]);
        assert_true(c.openstack.enabled);
        assert_true(c.openstack.enabled_by_env);
        assert_false(c.openstack.enabled_given);
        coord_conf_release(&c);
    }
}

static void
enabled_false_in_the_file_wins_over_os_auth_url(void **state)
{
    static const char *texts[] = {
        "openstack = { enabled = false; };\n",
        /* the environment kept out: nothing turns it on */
        "openstack = { use_env = false; };\n",
    };
    coord_conf c;
    size_t i;

    (void)state;
    assert_int_equal(setenv("OS_AUTH_URL", "http://keystone.test:5000/v3", 1),
                     0);
    for (i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
        load_with_env(&c, texts[i]);
        assert_false(c.openstack.enabled);
        assert_false(c.openstack.enabled_by_env);
        coord_conf_release(&c);
    }
    load_with_env(&c, texts[0]);
    assert_true(c.openstack.enabled_given);
    coord_conf_release(&c);
}

static void
without_os_auth_url_or_enabled_openstack_is_off(void **state)
{
    coord_conf c;

    (void)state;
    load_with_env(&c, NULL);
    assert_false(c.openstack.enabled);
    assert_false(c.openstack.enabled_by_env);
    coord_conf_release(&c);
    /* an empty variable (OS_AUTH_URL= in a half-edited openrc) is unset */
    assert_int_equal(setenv("OS_AUTH_URL", "", 1), 0);
    load_with_env(&c, "quiesce = \"off\";\n");
    assert_false(c.openstack.enabled);
    coord_conf_release(&c);
}

static void
file_settings_stay_beside_the_environment(void **state)
{
    coord_conf c;

    (void)state;
    /* enabled = true needs no variable */
    load_with_env(&c, "openstack = { enabled = true; "
                      "auth_url = \"https://file.test:5000/v3\"; };\n");
    assert_true(c.openstack.enabled);
    assert_true(c.openstack.enabled_given);
    assert_false(c.openstack.enabled_by_env);
    coord_conf_release(&c);
    /* with the variable set too, the file's values are what it holds
     * (ops_os_auth_opts() lets them win: test_ops_openstack) */
    assert_int_equal(setenv("OS_AUTH_URL", "http://env.test:5000/v3", 1), 0);
    load_with_env(&c, "openstack = { auth_url = \"https://file.test:5000/v3\"; "
                      "username = \"fileuser\"; };\n");
    assert_true(c.openstack.enabled);
    assert_true(c.openstack.enabled_by_env);
    assert_string_equal(c.openstack.auth_url, "https://file.test:5000/v3");
    assert_string_equal(c.openstack.username, "fileuser");
    coord_conf_release(&c);
}

static void
direct_rbd_settings_are_read_and_checked(void **state)
{
    static const struct {
        const char *text;
        const char *suffix; /* after "<path>:" */
    } bad[] = {
        {"openstack = { direct_rbd = \"yes\"; };\n",
         "1: openstack.direct_rbd must be \"auto\", \"always\" or \"never\""},
        {"openstack = { ceph_user = \"client.cinder\"; };\n",
         "1: openstack.ceph_user must be a Ceph client id such as \"cinder\" "
         "(without \"client.\")"},
        {"openstack = { ceph_user = \"\"; };\n",
         "1: openstack.ceph_user must not be empty"},
        {"openstack = { ceph_timeout_ms = 5; };\n",
         "1: openstack.ceph_timeout_ms must be between 100 and 600000"},
        {"openstack = { manage_timeout_ms = 10; };\n",
         "1: openstack.manage_timeout_ms must be between 1000 and 86400000"},
        {"openstack = { manage_attempts = 0; };\n",
         "1: openstack.manage_attempts must be between 1 and 10"},
        {"openstack = { manage_roles = \"admin\"; };\n",
         "1: openstack.manage_roles must be a list of strings [\"...\", ...]"},
    };
    coord_conf c, copy;
    snap_error err = {0};
    char want[512];
    size_t i;

    (void)state;
    /* defaults: auto, the compute node's usual client and file */
    assert_true(coord_conf_init(&c, NULL));
    assert_string_equal(c.openstack.direct_rbd, "auto");
    assert_string_equal(c.openstack.ceph_conf, "/etc/ceph/ceph.conf");
    assert_string_equal(c.openstack.ceph_user, "cinder");
    assert_null(c.openstack.ceph_keyring);
    assert_int_equal(c.openstack.nmanage_roles, 1);
    assert_string_equal(c.openstack.manage_roles[0], "admin");
    assert_int_equal(c.openstack.ceph_timeout_ms, 10000);
    assert_int_equal(c.openstack.manage_timeout_ms, 120000);
    assert_int_equal(c.openstack.manage_attempts, 3);
    coord_conf_release(&c);

    write_conf(
        "openstack = { direct_rbd = \"always\";\n"
        "  ceph_conf = \"/srv/ceph/ceph.conf\"; ceph_user = \"snapset\";\n"
        "  ceph_keyring = \"/srv/ceph/k\";\n"
        "  manage_roles = [ \"snapset-backup\", \"admin\" ];\n"
        "  ceph_timeout_ms = 3000; manage_timeout_ms = 9000;\n"
        "  manage_attempts = 2; };\n");
    assert_true(coord_conf_init(&c, NULL));
    if (!coord_conf_load(&c, path, &err))
        fail_msg("%s", err.msg);
    assert_string_equal(c.openstack.direct_rbd, "always");
    assert_string_equal(c.openstack.ceph_conf, "/srv/ceph/ceph.conf");
    assert_string_equal(c.openstack.ceph_user, "snapset");
    assert_string_equal(c.openstack.ceph_keyring, "/srv/ceph/k");
    assert_int_equal(c.openstack.nmanage_roles, 2);
    assert_string_equal(c.openstack.manage_roles[0], "snapset-backup");
    assert_string_equal(c.openstack.manage_roles[1], "admin");
    assert_int_equal(c.openstack.ceph_timeout_ms, 3000);
    assert_int_equal(c.openstack.manage_timeout_ms, 9000);
    assert_int_equal(c.openstack.manage_attempts, 2);
    /* a copy owns its own strings */
    if (!coord_conf_copy(&copy, &c, &err))
        fail_msg("%s", err.msg);
    coord_conf_release(&c);
    assert_string_equal(copy.openstack.manage_roles[0], "snapset-backup");
    assert_string_equal(copy.openstack.ceph_keyring, "/srv/ceph/k");
    assert_string_equal(copy.openstack.direct_rbd, "always");
    coord_conf_release(&copy);

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        snap_error_clear(&err);
        write_conf(bad[i].text);
        assert_true(coord_conf_init(&c, NULL));
        assert_false(coord_conf_load(&c, path, &err));
        snprintf(want, sizeof(want), "%s:%s", path, bad[i].suffix);
        assert_string_equal(err.msg, want);
        coord_conf_release(&c);
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(defaults_are_safe),
        cmocka_unit_test(the_sample_configuration_is_valid),
        cmocka_unit_test(every_setting_is_read),
        cmocka_unit_test(openstack_polling_is_read_and_checked),
        cmocka_unit_test(direct_rbd_settings_are_read_and_checked),
        cmocka_unit_test(bad_settings_name_the_line),
        cmocka_unit_test(a_missing_file_is_an_error),
        cmocka_unit_test(http_and_policies_are_read),
        cmocka_unit_test(bad_http_and_policy_settings_name_the_line),
        cmocka_unit_test(secrets_in_a_file_others_can_read_are_refused),
        cmocka_unit_test(api_security_settings_are_read_and_checked),
        cmocka_unit_test_setup_teardown(
            os_auth_url_without_an_enabled_line_turns_openstack_on, env_setup,
            env_teardown),
        cmocka_unit_test_setup_teardown(
            enabled_false_in_the_file_wins_over_os_auth_url, env_setup,
            env_teardown),
        cmocka_unit_test_setup_teardown(
            without_os_auth_url_or_enabled_openstack_is_off, env_setup,
            env_teardown),
        cmocka_unit_test_setup_teardown(
            file_settings_stay_beside_the_environment, env_setup, env_teardown),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
