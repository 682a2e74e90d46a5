/* tests/unit/test_coord_domxml.c -- reading disks and hardware from a
 * libvirt domain XML document. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/snap_fs.h"
#include "coordinator/coord_domxml.h"

static char *
load_data(const char *name)
{
    char path[512];

    snprintf(path, sizeof(path), "%s/coordinator/%s", getenv("SNAP_TEST_DATA"),
             name);
    return snap_file_read(path, 1 << 20, NULL, NULL);
}

static void
every_kind_of_disk_is_found_and_cdroms_are_skipped(void **state)
{
    char *xml = load_data("domain.xml");
    coord_domain_info info;
    coord_set *set = coord_set_new(NULL);
    snap_error err = {0};

    (void)state;
    assert_non_null(xml);
    assert_true(coord_domxml_parse(xml, &info, set, &err));
    assert_string_equal(info.name, "web & \"db\" <prod>");
    assert_string_equal(info.uuid, "6d2c3b0e-5f35-4a3b-9a62-2f1e0f7a1c11");
    assert_int_equal(info.vcpus, 2);
    assert_int_equal(info.memory_kib, 262144);
    assert_string_equal(info.arch, "x86_64");
    assert_int_equal(info.nnics, 1);
    assert_string_equal(info.nics[0].mac, "52:54:00:12:34:56");
    assert_string_equal(info.nics[0].source, "default");

    assert_int_equal(set->nmembers, 3);
    assert_string_equal(set->members[0].target, "vda");
    assert_string_equal(set->members[0].source_type, "file");
    assert_string_equal(set->members[0].source, "/var/lib/images/root.qcow2");
    assert_string_equal(set->members[0].format, "qcow2");
    assert_string_equal(set->members[0].serial, "root");
    assert_string_equal(set->members[1].source_type, "block");
    assert_string_equal(set->members[1].source, "/dev/loop3");
    assert_null(set->members[1].serial);
    assert_string_equal(set->members[2].source_type, "network");
    assert_string_equal(set->members[2].source,
                        "volumes/volume-44fdc8b9-1f7c-41f5-b317-e30f243b4505");
    assert_string_equal(set->members[2].serial,
                        "44fdc8b9-1f7c-41f5-b317-e30f243b4505");
    /* What an export describes: each disk's bus (the cdrom's too) and the
     * OS virt-install recorded. */
    assert_string_equal(coord_domain_info_bus(&info, "vda"), "virtio");
    assert_string_equal(coord_domain_info_bus(&info, "hdc"), "ide");
    assert_null(coord_domain_info_bus(&info, "sda"));
    assert_string_equal(info.os_id, "http://debian.org/debian/12");
    coord_domain_info_release(&info);
    coord_set_free(set);
    free(xml);
}

static void
bad_documents_get_one_line_errors(void **state)
{
    static const struct {
        const char *xml;
        const char *msg;
    } cases[] = {
        {"<domain><name>x</name", "cannot parse the domain XML"},
        {"<network/>", "domain XML has no <domain> root"},
        {"<domain><name>x</name></domain>",
         "domain XML lacks a <name> or a valid <uuid>"},
        {"<domain><name>x</name><uuid>6d2c3b0e-5f35-4a3b-9a62-2f1e0f7a1c11"
         "</uuid><devices><disk type='volume' device='disk'><source "
         "pool='p' volume='v'/><target dev='vda'/></disk></devices></domain>",
         "disk 'vda' has source type 'volume', which snapset cannot "
         "snapshot"},
        {"<domain><name>x</name><uuid>6d2c3b0e-5f35-4a3b-9a62-2f1e0f7a1c11"
         "</uuid><devices><disk type='file' device='disk'><target "
         "dev='vda'/></disk></devices></domain>",
         "disk 'vda' has no source"},
    };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        coord_domain_info info;
        coord_set *set = coord_set_new(NULL);
        snap_error err = {0};

        assert_false(coord_domxml_parse(cases[i].xml, &info, set, &err));
        assert_string_equal(err.msg, cases[i].msg);
        coord_set_free(set);
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_kind_of_disk_is_found_and_cdroms_are_skipped),
        cmocka_unit_test(bad_documents_get_one_line_errors),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
