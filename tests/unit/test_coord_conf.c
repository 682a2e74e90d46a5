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
    assert_true(c.frozen_timeout_ms <= 60000);
    coord_conf_release(&c);
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

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(defaults_are_safe),
        cmocka_unit_test(the_sample_configuration_is_valid),
        cmocka_unit_test(every_setting_is_read),
        cmocka_unit_test(bad_settings_name_the_line),
        cmocka_unit_test(a_missing_file_is_an_error),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
