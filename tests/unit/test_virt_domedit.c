/* tests/unit/test_virt_domedit.c -- the domain XML edits of spawn and
 * restore (virt/domedit.c), and the qcow2 backing-file reader
 * behind `delete`'s linked-clone check (virt/qimg.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libxml/parser.h>
#include <libxml/xpath.h>
#include <libxml/xpathInternals.h>

#include "common/snap_fs.h"
#include "virt/domedit.h"
#include "virt/qimg.h"

#define NEW_UUID "0b4510c1-59c4-4199-a478-808566f34a5e"

static char *
load_data(const char *name)
{
    char path[512];

    snprintf(path, sizeof(path), "%s/restore/%s", getenv("SNAP_TEST_DATA"),
             name);
    return snap_file_read(path, 1 << 20, NULL, NULL);
}

static virt_domedit *
load_edit(void)
{
    char *xml = load_data("live.xml");
    virt_domedit *d;

    assert_non_null(xml);
    d = virt_domedit_new(xml, NULL);
    free(xml);
    assert_non_null(d);
    return d;
}

/* The string value of XPath @expr over the edited document. */
static char *
xp(virt_domedit *d, const char *expr)
{
    char *xml = virt_domedit_xml(d, NULL);
    xmlDocPtr doc;
    xmlXPathContextPtr ctx;
    xmlXPathObjectPtr obj;
    char *s;

    assert_non_null(xml);
    doc = xmlReadMemory(xml, (int)strlen(xml), "x.xml", NULL, 0);
    assert_non_null(doc);
    ctx = xmlXPathNewContext(doc);
    xmlXPathRegisterNs(ctx, (const xmlChar *)"s",
                       (const xmlChar *)VIRT_DOMEDIT_NS);
    obj = xmlXPathEvalExpression((const xmlChar *)expr, ctx);
    assert_non_null(obj);
    s = strdup(obj->type == XPATH_STRING ? (const char *)obj->stringval : "");
    xmlXPathFreeObject(obj);
    xmlXPathFreeContext(ctx);
    xmlFreeDoc(doc);
    free(xml);
    return s;
}

static void
expect(virt_domedit *d, const char *expr, const char *want)
{
    char *got = xp(d, expr);

    if (strcmp(got, want) != 0)
        fail_msg("%s: got '%s', want '%s'", expr, got, want);
    free(got);
}

static void
a_new_identity_drops_what_ties_it_to_the_original(void **state)
{
    virt_domedit *d = load_edit();

    (void)state;
    assert_true(virt_domedit_identity(d, "web2", NEW_UUID, NULL));
    expect(d, "string(/domain/name)", "web2");
    expect(d, "string(/domain/uuid)", NEW_UUID);
    expect(d, "string(/domain/@id)", "");
    expect(d, "string(count(//alias))", "0");
    expect(d, "string(count(/domain/metadata))", "0");
    expect(d, "string(count(/domain/sysinfo))", "0");
    expect(d, "string(count(/domain/os/smbios))", "0");
    expect(d, "string(/domain/os/nvram)", "");
    expect(d, "string(/domain/os/nvram/@template)",
           "/usr/share/OVMF/OVMF_VARS.fd");
    expect(d, "string(count(//interface/mac))", "0");
    expect(d, "string(count(//interface/target))", "0");
    expect(d, "string(//interface/source/@network)", "default");
    expect(d, "string(//interface/source/@portid)", "");
    expect(d, "string(count(//disk/backingStore))", "0");
    expect(d, "string(//disk[target/@dev='vda']/source/@index)", "");
    expect(d, "string(//channel/source/@path)", "");
    expect(d, "string(//channel/target/@state)", "");
    expect(d, "string(//graphics/@port)", "");
    expect(d, "string(count(/domain/seclabel/label))", "0");
    expect(d, "string(/domain/seclabel/@model)", "dac");
    virt_domedit_free(d);
}

static void
the_origin_is_recorded_and_read_back(void **state)
{
    virt_domedit *d = load_edit();
    char *set = NULL;
    bool linked = false;

    (void)state;
    assert_true(virt_domedit_origin_get(d, &set, &linked, NULL));
    assert_null(set); /* Nova's metadata is not ours */
    assert_true(virt_domedit_identity(d, "web2", NEW_UUID, NULL));
    assert_true(virt_domedit_origin(d, "11a62b72-274c-4e54-9db6-b46e55d5a0d9",
                                    "2bc04896-bccd-3de3-8988-3cdf95186976",
                                    true, NULL));
    expect(d, "string(/domain/metadata/s:spawn/@linked)", "yes");
    assert_true(virt_domedit_origin_get(d, &set, &linked, NULL));
    assert_string_equal(set, "11a62b72-274c-4e54-9db6-b46e55d5a0d9");
    assert_true(linked);
    free(set);
    virt_domedit_free(d);
}

static void
fewer_vcpus_fix_the_topology_and_drop_stale_pins(void **state)
{
    virt_domedit *d = load_edit();

    (void)state;
    assert_true(virt_domedit_vcpus(d, 3, NULL));
    expect(d, "string(/domain/vcpu)", "3");
    expect(d, "string(/domain/vcpu/@current)", "");
    expect(d, "string(count(//vcpupin))", "1");
    expect(d, "string(//vcpupin/@vcpu)", "0");
    expect(d, "string(//topology/@sockets)", "3");
    expect(d, "string(//topology/@cores)", "1");
    expect(d, "string(//topology/@threads)", "1");
    expect(d, "string(//topology/@dies)", "1");
    virt_domedit_free(d);
}

static void
a_matching_topology_is_kept(void **state)
{
    virt_domedit *d = load_edit();

    (void)state;
    assert_true(virt_domedit_vcpus(d, 4, NULL));
    expect(d, "string(//topology/@cores)", "2");
    expect(d, "string(//topology/@threads)", "2");
    virt_domedit_free(d);
}

static void
numa_cells_refuse_vcpus_and_memory(void **state)
{
    const char *xml = "<domain><name>n</name><cpu><numa><cell id='0' "
                      "cpus='0-1' memory='1024'/></numa></cpu></domain>";
    virt_domedit *d = virt_domedit_new(xml, NULL);
    snap_error err = {0};

    (void)state;
    assert_non_null(d);
    assert_false(virt_domedit_vcpus(d, 2, &err));
    assert_int_equal(err.code, SNAP_E_STATE);
    assert_non_null(strstr(err.msg, "NUMA"));
    snap_error_clear(&err);
    assert_false(virt_domedit_memory(d, 1024, &err));
    assert_non_null(strstr(err.msg, "NUMA"));
    virt_domedit_free(d);
}

static void
memory_sets_both_sizes_in_kib_and_respects_max_memory(void **state)
{
    virt_domedit *d = load_edit();
    virt_domedit *m;
    snap_error err = {0};

    (void)state;
    assert_true(virt_domedit_memory(d, 327680, NULL));
    expect(d, "string(/domain/memory)", "327680");
    expect(d, "string(/domain/currentMemory)", "327680");
    expect(d, "string(/domain/memory/@unit)", "KiB");
    virt_domedit_free(d);
    m = virt_domedit_new("<domain><maxMemory slots='4' unit='KiB'>524288"
                         "</maxMemory><memory>262144</memory></domain>",
                         NULL);
    assert_non_null(m);
    assert_false(virt_domedit_memory(m, 1048576, &err));
    assert_int_equal(err.code, SNAP_E_INVALID);
    virt_domedit_free(m);
}

static void
networks_replace_every_nic_keeping_the_model(void **state)
{
    virt_domedit *d = load_edit();
    const char *nets[] = {"front", "back"};
    char **names = NULL;
    size_t n = 0, i;

    (void)state;
    assert_true(virt_domedit_network_names(d, &names, &n, NULL));
    assert_int_equal(n, 1);
    assert_string_equal(names[0], "default");
    for (i = 0; i < n; i++)
        free(names[i]);
    free(names);
    assert_true(virt_domedit_networks(d, nets, 2, NULL));
    expect(d, "string(count(//interface))", "2");
    expect(d, "string(//interface[1]/source/@network)", "front");
    expect(d, "string(//interface[2]/source/@network)", "back");
    expect(d, "string(//interface[2]/model/@type)", "e1000");
    expect(d, "string(count(//interface/mac))", "0");
    virt_domedit_free(d);
}

static void
a_disk_points_at_a_new_file(void **state)
{
    virt_domedit *d = load_edit();
    snap_error err = {0};

    (void)state;
    assert_true(
        virt_domedit_disk_file(d, "vdb", "/img/web2-vdb.qcow2", "qcow2", NULL));
    expect(d, "string(//disk[target/@dev='vdb']/@type)", "file");
    expect(d, "string(//disk[target/@dev='vdb']/source/@file)",
           "/img/web2-vdb.qcow2");
    expect(d, "string(//disk[target/@dev='vdb']/source/@protocol)", "");
    expect(d, "string(count(//disk[target/@dev='vdb']/source/host))", "0");
    expect(d, "string(count(//disk[target/@dev='vdb']/auth))", "0");
    expect(d, "string(//disk[target/@dev='vdb']/driver/@type)", "qcow2");
    expect(d, "string(//disk[target/@dev='vdb']/driver/@cache)", "none");
    assert_false(virt_domedit_disk_file(d, "vdz", "/x", "raw", &err));
    assert_int_equal(err.code, SNAP_E_NOTFOUND);
    virt_domedit_free(d);
}

static void
a_disk_points_at_a_cinder_rbd_volume(void **state)
{
    virt_domedit *d = load_edit();
    const char *hosts[] = {"10.0.0.1", "10.0.0.2"}, *ports[] = {"6789", "3300"};
    virt_rbd_source c;

    (void)state;
    memset(&c, 0, sizeof(c));
    c.name = "volumes/volume-7ab53937-34b6-49e6-b783-3a4cbd25c612";
    c.hosts = hosts;
    c.ports = ports;
    c.nhosts = 2;
    c.auth_enabled = true;
    c.auth_username = "cinder";
    c.secret_type = "ceph";
    c.secret_uuid = "e4bb1c60-cbbd-4b56-87ad-c1b82443b0a6";
    c.discard = true;
    assert_true(virt_domedit_disk_rbd(
        d, "vda", &c, "7ab53937-34b6-49e6-b783-3a4cbd25c612", NULL));
    expect(d, "string(//disk[target/@dev='vda']/@type)", "network");
    expect(d, "string(//disk[target/@dev='vda']/source/@protocol)", "rbd");
    expect(d, "string(//disk[target/@dev='vda']/source/@name)", c.name);
    expect(d, "string(//disk[target/@dev='vda']/source/host[2]/@port)", "3300");
    expect(d, "string(//disk[target/@dev='vda']/source/@file)", "");
    expect(d, "string(//disk[target/@dev='vda']/driver/@type)", "raw");
    expect(d, "string(//disk[target/@dev='vda']/driver/@discard)", "unmap");
    expect(d, "string(//disk[target/@dev='vda']/auth/@username)", "cinder");
    expect(d, "string(//disk[target/@dev='vda']/auth/secret/@uuid)",
           c.secret_uuid);
    expect(d, "string(//disk[target/@dev='vda']/serial)",
           "7ab53937-34b6-49e6-b783-3a4cbd25c612");
    expect(d, "string(count(//disk[target/@dev='vda']/backingStore))", "0");
    virt_domedit_free(d);
}

static void
console_files_become_the_new_domains_own(void **state)
{
    virt_domedit *d = load_edit();

    (void)state;
    assert_true(virt_domedit_console(d, "/img", "web2", NULL));
    expect(d, "string(//serial/source/@path)", "/img/web2.console.log");
    expect(d, "string(//console/source/@path)", "/img/web2.console.log");
    virt_domedit_free(d);
}

static void
garbage_is_refused(void **state)
{
    snap_error err = {0};

    (void)state;
    assert_null(virt_domedit_new("<notadomain/>", &err));
    assert_int_equal(err.code, SNAP_E_INVALID);
    snap_error_clear(&err);
    assert_null(virt_domedit_new("<domain><name>", &err));
    assert_int_equal(err.code, SNAP_E_INVALID);
}

/* ---- qcow2 backing files ------------------------------------------------- */

/* Writes a qcow2 header (version 3) naming @backing at offset 512. */
static void
write_qcow2(const char *path, const char *backing)
{
    unsigned char h[1024];
    size_t n = backing ? strlen(backing) : 0;
    FILE *f = fopen(path, "wb");

    assert_non_null(f);
    memset(h, 0, sizeof(h));
    memcpy(h, "QFI\xfb", 4);
    h[7] = 3;
    if (n) {
        h[14] = 2; /* backing_file_offset = 512, big-endian u64 at 8 */
        h[19] = (unsigned char)n; /* backing_file_size, u32 at 16 */
        memcpy(h + 512, backing, n);
    }
    assert_int_equal(fwrite(h, 1, sizeof(h), f), sizeof(h));
    fclose(f);
}

static void
the_backing_file_of_a_qcow2_image_is_read_from_its_header(void **state)
{
    char dir[] = "/tmp/test_virt_domedit.XXXXXX", path[128], *b = NULL;

    (void)state;
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/a.qcow2", dir);

    write_qcow2(path, "/sets/x/vda.qcow2");
    assert_true(virt_qimg_backing(path, &b, NULL));
    assert_string_equal(b, "/sets/x/vda.qcow2");
    free(b);

    write_qcow2(path, "base.qcow2"); /* relative to the image */
    assert_true(virt_qimg_backing(path, &b, NULL));
    assert_non_null(b);
    assert_non_null(strstr(b, "/base.qcow2"));
    assert_int_equal(strncmp(b, dir, strlen(dir)), 0);
    free(b);

    write_qcow2(path, "json:{\"file\":{}}"); /* not a file to follow */
    assert_true(virt_qimg_backing(path, &b, NULL));
    assert_null(b);

    write_qcow2(path, NULL);
    assert_true(virt_qimg_backing(path, &b, NULL));
    assert_null(b);

    assert_true(snap_file_write_atomic(path, "raw data", 8, 0600, NULL));
    assert_true(virt_qimg_backing(path, &b, NULL)); /* raw: no chain */
    assert_null(b);
    unlink(path);
    assert_false(virt_qimg_backing(path, &b, NULL));
    rmdir(dir);
}

static void
a_command_that_fails_reports_its_last_line(void **state)
{
    const char *ok_argv[] = {"true", NULL};
    const char *bad_argv[] = {"sh", "-c",
                              "echo warn >&2; echo the reason >&2; "
                              "exit 3",
                              NULL};
    const char *slow_argv[] = {"sleep", "5", NULL};
    snap_error err = {0};

    (void)state;
    assert_true(virt_qimg_run(ok_argv, 1000, "run true", &err));
    assert_false(virt_qimg_run(bad_argv, 1000, "run sh", &err));
    assert_string_equal(err.msg, "run sh: the reason");
    snap_error_clear(&err);
    assert_false(virt_qimg_run(slow_argv, 200, "run sleep", &err));
    assert_int_equal(err.code, SNAP_E_TIMEOUT);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_new_identity_drops_what_ties_it_to_the_original),
        cmocka_unit_test(the_origin_is_recorded_and_read_back),
        cmocka_unit_test(fewer_vcpus_fix_the_topology_and_drop_stale_pins),
        cmocka_unit_test(a_matching_topology_is_kept),
        cmocka_unit_test(numa_cells_refuse_vcpus_and_memory),
        cmocka_unit_test(memory_sets_both_sizes_in_kib_and_respects_max_memory),
        cmocka_unit_test(networks_replace_every_nic_keeping_the_model),
        cmocka_unit_test(a_disk_points_at_a_new_file),
        cmocka_unit_test(a_disk_points_at_a_cinder_rbd_volume),
        cmocka_unit_test(console_files_become_the_new_domains_own),
        cmocka_unit_test(garbage_is_refused),
        cmocka_unit_test(
            the_backing_file_of_a_qcow2_image_is_read_from_its_header),
        cmocka_unit_test(a_command_that_fails_reports_its_last_line),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
