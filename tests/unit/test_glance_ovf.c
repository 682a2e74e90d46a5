/* tests/unit/test_glance_ovf.c -- the OVF descriptor, read back with libxml2
 * XPath; every descriptor a test writes validates against the OVF schemas
 * (glance/schemas). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xpath.h>
#include <libxml/xpathInternals.h>

#include "glance/glance.h"
#include "unit/test_glance_util.h"

#define NS_OVF "http://schemas.dmtf.org/ovf/envelope/1"
#define NS_RASD                                                                \
    "http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/"                       \
    "CIM_ResourceAllocationSettingData"
#define NS_VSSD                                                                \
    "http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/"                       \
    "CIM_VirtualSystemSettingData"

/* The set's facts: one Property of the set's ProductSection, or of the
 * section of member @n (1, 2, ...). */
#define SET_PROP(key)                                                          \
    "//ovf:VirtualSystem/ovf:ProductSection[@ovf:class='snapset.set']"         \
    "/ovf:Property[@ovf:key='" key "']/@ovf:value"
#define MEMBER_PROP(n, key)                                                    \
    "//ovf:VirtualSystem/ovf:ProductSection[@ovf:class='snapset.member']"      \
    "[@ovf:instance='" n "']/ovf:Property[@ovf:key='" key "']/@ovf:value"

/* A parsed descriptor and an XPath context with our prefixes. */
typedef struct doc {
    char *xml;
    size_t len;
    xmlDocPtr doc;
    xmlXPathContextPtr ctx;
} doc;

static void
doc_open(doc *d, const glance_ovf *ovf)
{
    snap_error err = {0};

    memset(d, 0, sizeof(*d));
    assert_true(glance_ovf_write(ovf, &d->xml, &d->len, &err));
    assert_int_equal(err.code, SNAP_OK);
    assert_int_equal(strlen(d->xml), d->len);
    if (!glance_ovf_validate(d->xml, d->len, tg_schema_dir(), &err))
        fail_msg("%s; the descriptor:\n%s", err.msg, d->xml);
    d->doc = xmlReadMemory(d->xml, (int)d->len, "t.ovf", NULL, XML_PARSE_NONET);
    assert_non_null(d->doc);
    d->ctx = xmlXPathNewContext(d->doc);
    xmlXPathRegisterNs(d->ctx, BAD_CAST "ovf", BAD_CAST NS_OVF);
    xmlXPathRegisterNs(d->ctx, BAD_CAST "rasd", BAD_CAST NS_RASD);
    xmlXPathRegisterNs(d->ctx, BAD_CAST "vssd", BAD_CAST NS_VSSD);
}

static void
doc_close(doc *d)
{
    xmlXPathFreeContext(d->ctx);
    xmlFreeDoc(d->doc);
    free(d->xml);
}

/* string(@expr), as a new string. */
static char *
xs(doc *d, const char *expr)
{
    char buf[512];
    xmlXPathObjectPtr r;
    char *s;

    snprintf(buf, sizeof(buf), "string(%s)", expr);
    r = xmlXPathEvalExpression(BAD_CAST buf, d->ctx);
    assert_non_null(r);
    s = strdup((const char *)r->stringval);
    xmlXPathFreeObject(r);
    return s;
}

static void
assert_xs(doc *d, const char *expr, const char *want)
{
    char *got = xs(d, expr);

    if (strcmp(got, want) != 0)
        fail_msg("%s: got '%s', want '%s'", expr, got, want);
    free(got);
}

static long
xcount(doc *d, const char *expr)
{
    char buf[512];
    xmlXPathObjectPtr r;
    long n;

    snprintf(buf, sizeof(buf), "count(%s)", expr);
    r = xmlXPathEvalExpression(BAD_CAST buf, d->ctx);
    assert_non_null(r);
    n = (long)r->floatval;
    xmlXPathFreeObject(r);
    return n;
}

#define ITEMS                                                                  \
    "/ovf:Envelope/ovf:VirtualSystem/ovf:VirtualHardwareSection/ovf:Item"

static glance_ovf *
bare_ovf(const char *name)
{
    snap_error err = {0};
    glance_ovf *ovf = glance_ovf_new(name, &err);

    assert_non_null(ovf);
    return ovf;
}

static void
add_disk(glance_ovf *ovf, const char *file, glance_bus bus)
{
    snap_error err = {0};
    glance_ovf_disk disk = {
        .file = file,
        .file_size = 1000,
        .capacity = 1 << 20,
        .format = GLANCE_DISK_FORMAT_VMDK_STREAM,
        .bus = bus,
    };

    assert_true(glance_ovf_disk_add(ovf, &disk, &err));
}

static void
test_envelope_is_ovf_1_with_one_file_per_disk(void **state)
{
    glance_ovf *ovf = tg_fixture_ovf(1234, 5678);
    doc d;

    (void)state;
    doc_open(&d, ovf);
    assert_xs(&d, "namespace-uri(/*)", NS_OVF);
    assert_xs(&d, "local-name(/*)", "Envelope");
    assert_int_equal(xcount(&d, "/ovf:Envelope/ovf:References/ovf:File"), 2);
    assert_xs(&d, "/ovf:Envelope/ovf:References/ovf:File[1]/@ovf:href",
              "disk-a.vmdk");
    assert_xs(&d, "/ovf:Envelope/ovf:References/ovf:File[1]/@ovf:size", "1234");
    assert_xs(&d, "/ovf:Envelope/ovf:References/ovf:File[2]/@ovf:href",
              "disk-b.qcow2");
    assert_xs(&d, "/ovf:Envelope/ovf:References/ovf:File[2]/@ovf:size", "5678");
    assert_int_equal(xcount(&d, "/ovf:Envelope/ovf:VirtualSystem"), 1);
    assert_xs(&d, "/ovf:Envelope/ovf:VirtualSystem/@ovf:id", "web01");
    assert_xs(&d, "/ovf:Envelope/ovf:VirtualSystem/ovf:Name", "web01");
    doc_close(&d);
    glance_ovf_free(ovf);
}

static void
test_disk_section_gives_bytes_and_format_uris(void **state)
{
    glance_ovf *ovf = tg_fixture_ovf(1234, 5678);
    doc d;

    (void)state;
    doc_open(&d, ovf);
    assert_int_equal(xcount(&d, "//ovf:DiskSection/ovf:Disk"), 2);
    assert_xs(&d, "//ovf:DiskSection/ovf:Disk[1]/@ovf:capacity", "10737418240");
    assert_xs(&d, "//ovf:DiskSection/ovf:Disk[1]/@ovf:capacityAllocationUnits",
              "byte");
    assert_xs(&d, "//ovf:DiskSection/ovf:Disk[1]/@ovf:populatedSize",
              "1073741824");
    assert_xs(&d, "//ovf:DiskSection/ovf:Disk[1]/@ovf:format",
              GLANCE_FORMAT_URI_VMDK_STREAM);
    assert_xs(&d, "//ovf:DiskSection/ovf:Disk[1]/@ovf:fileRef", "file1");
    assert_xs(&d, "/ovf:Envelope/ovf:References/ovf:File[1]/@ovf:id", "file1");
    /* populatedSize is left out when unknown. */
    assert_int_equal(
        xcount(&d, "//ovf:DiskSection/ovf:Disk[2]/@ovf:populatedSize"), 0);
    assert_xs(&d, "//ovf:DiskSection/ovf:Disk[2]/@ovf:format",
              GLANCE_FORMAT_URI_QCOW2);
    assert_xs(&d, "//ovf:DiskSection/ovf:Disk[2]/@ovf:fileRef", "file2");
    doc_close(&d);
    glance_ovf_free(ovf);
}

static void
test_cpu_is_type_3_and_memory_type_4_in_mib(void **state)
{
    glance_ovf *ovf = tg_fixture_ovf(1, 1);
    doc d;

    (void)state;
    doc_open(&d, ovf);
    assert_int_equal(xcount(&d, ITEMS "[rasd:ResourceType=3]"), 1);
    assert_xs(&d, ITEMS "[rasd:ResourceType=3]/rasd:VirtualQuantity", "2");
    assert_int_equal(xcount(&d, ITEMS "[rasd:ResourceType=4]"), 1);
    assert_xs(&d, ITEMS "[rasd:ResourceType=4]/rasd:VirtualQuantity", "2048");
    assert_xs(&d, ITEMS "[rasd:ResourceType=4]/rasd:AllocationUnits",
              "byte * 2^20");
    assert_xs(&d,
              "//ovf:VirtualHardwareSection/ovf:System/vssd:VirtualSystemType",
              "vmx-07");
    doc_close(&d);
    glance_ovf_free(ovf);
}

/* Every disk Item points at its DiskSection entry and at a controller. */
static void
test_disk_items_link_to_disks_and_controllers(void **state)
{
    glance_ovf *ovf = bare_ovf("links");
    char expr[256], *host, *parent, *type;
    long i, n;
    doc d;

    (void)state;
    add_disk(ovf, "a.vmdk", GLANCE_BUS_VIRTIO);
    add_disk(ovf, "b.vmdk", GLANCE_BUS_IDE);
    add_disk(ovf, "c.vmdk", GLANCE_BUS_SATA);
    add_disk(ovf, "d.vmdk", GLANCE_BUS_SCSI);
    doc_open(&d, ovf);
    n = xcount(&d, ITEMS "[rasd:ResourceType=17]");
    assert_int_equal(n, 4);
    for (i = 1; i <= n; i++) {
        snprintf(expr, sizeof(expr),
                 ITEMS "[rasd:ResourceType=17][%ld]/rasd:HostResource", i);
        host = xs(&d, expr);
        assert_true(strncmp(host, "ovf:/disk/", 10) == 0);
        snprintf(expr, sizeof(expr),
                 "//ovf:DiskSection/ovf:Disk[@ovf:diskId='%s']", host + 10);
        assert_int_equal(xcount(&d, expr), 1);
        snprintf(expr, sizeof(expr),
                 ITEMS "[rasd:ResourceType=17][%ld]/rasd:Parent", i);
        parent = xs(&d, expr);
        snprintf(expr, sizeof(expr),
                 ITEMS "[rasd:InstanceID='%s']/rasd:ResourceType", parent);
        type = xs(&d, expr);
        /* a: virtio -> SCSI, b: IDE, c: SATA, d: SCSI (same controller) */
        assert_string_equal(type, i == 2 ? "5" : i == 3 ? "20" : "6");
        free(host);
        free(parent);
        free(type);
    }
    /* One controller per bus kind, virtio and scsi share the SCSI one. */
    assert_int_equal(xcount(&d, ITEMS "[rasd:ResourceType=6]"), 1);
    assert_xs(&d, ITEMS "[rasd:ResourceType=6]/rasd:ResourceSubType",
              "lsilogic");
    assert_xs(&d, ITEMS "[rasd:ResourceType=20]/rasd:ResourceSubType", "AHCI");
    assert_xs(&d, ITEMS "[rasd:ResourceType=20]/rasd:Caption",
              "sataController0");
    assert_xs(&d, ITEMS "[rasd:ResourceType=17][4]/rasd:AddressOnParent", "1");
    /* SATA needs a newer VMware hardware version. */
    assert_xs(&d, "//ovf:System/vssd:VirtualSystemType", "vmx-10");
    doc_close(&d);
    glance_ovf_free(ovf);
}

static void
test_scsi_units_skip_7_and_overflow_to_a_second_controller(void **state)
{
    glance_ovf *ovf = bare_ovf("many");
    char name[32];
    int i;
    doc d;

    (void)state;
    for (i = 0; i < 16; i++) {
        snprintf(name, sizeof(name), "d%d.vmdk", i);
        add_disk(ovf, name, GLANCE_BUS_VIRTIO);
    }
    doc_open(&d, ovf);
    assert_int_equal(xcount(&d, ITEMS "[rasd:ResourceType=6]"), 2);
    assert_xs(&d, ITEMS "[rasd:ResourceType=17][7]/rasd:AddressOnParent", "6");
    assert_xs(&d, ITEMS "[rasd:ResourceType=17][8]/rasd:AddressOnParent", "8");
    assert_xs(&d, ITEMS "[rasd:ResourceType=17][15]/rasd:AddressOnParent",
              "15");
    assert_xs(&d, ITEMS "[rasd:ResourceType=17][16]/rasd:AddressOnParent", "0");
    assert_int_equal(
        xcount(&d, ITEMS "[rasd:ResourceType=17][rasd:AddressOnParent=7]"), 0);
    doc_close(&d);
    glance_ovf_free(ovf);
}

static void
test_a_fifth_ide_disk_is_refused(void **state)
{
    glance_ovf *ovf = bare_ovf("ide");
    glance_ovf_disk disk = {
        .file = "e.vmdk",
        .file_size = 1,
        .capacity = 1,
        .bus = GLANCE_BUS_IDE,
    };
    snap_error err = {0};

    (void)state;
    add_disk(ovf, "a.vmdk", GLANCE_BUS_IDE);
    add_disk(ovf, "b.vmdk", GLANCE_BUS_IDE);
    add_disk(ovf, "c.vmdk", GLANCE_BUS_IDE);
    add_disk(ovf, "d.vmdk", GLANCE_BUS_IDE);
    assert_false(glance_ovf_disk_add(ovf, &disk, &err));
    assert_int_equal(err.code, SNAP_E_INVALID);
    assert_string_equal(err.msg, "too many disks on the IDE bus (at most 4)");
    assert_int_equal(glance_ovf_disk_count(ovf), 4);
    glance_ovf_free(ovf);
}

static void
test_unknown_bus_is_refused(void **state)
{
    glance_ovf *ovf = bare_ovf("usb");
    glance_ovf_disk disk = {
        .file = "u.vmdk",
        .file_size = 1,
        .capacity = 1,
        .bus = glance_bus_from_name("usb"),
    };
    snap_error err = {0};

    (void)state;
    assert_int_equal(glance_bus_from_name("usb"), GLANCE_BUS_LAST);
    assert_int_equal(glance_bus_from_name("virtio"), GLANCE_BUS_VIRTIO);
    assert_int_equal(glance_bus_from_name("sata"), GLANCE_BUS_SATA);
    assert_false(glance_ovf_disk_add(ovf, &disk, &err));
    assert_int_equal(err.code, SNAP_E_INVALID);
    assert_non_null(strstr(err.msg, "unsupported bus for disk 'u.vmdk'"));
    glance_ovf_free(ovf);
}

static void
test_nics_are_type_10_on_networks_listed_once(void **state)
{
    glance_ovf *ovf = tg_fixture_ovf(1, 1);
    glance_ovf_nic n2 = {NULL, "default", "e1000", NULL};
    glance_ovf_nic n3 = {"backend", "storage-net", NULL, "52:54:00:aa:bb:cc"};
    snap_error err = {0};
    doc d;

    (void)state;
    assert_true(glance_ovf_nic_add(ovf, &n2, &err));
    assert_true(glance_ovf_nic_add(ovf, &n3, &err));
    doc_open(&d, ovf);
    assert_int_equal(xcount(&d, "/ovf:Envelope/ovf:NetworkSection/ovf:Network"),
                     2);
    assert_xs(&d, "/ovf:Envelope/ovf:NetworkSection/ovf:Network[1]/@ovf:name",
              "default");
    assert_xs(&d, "/ovf:Envelope/ovf:NetworkSection/ovf:Network[2]/@ovf:name",
              "storage-net");
    assert_int_equal(xcount(&d, ITEMS "[rasd:ResourceType=10]"), 3);
    /* virtio has no OVF equivalent: E1000, with the model kept. */
    assert_xs(&d, ITEMS "[rasd:ResourceType=10][1]/rasd:ResourceSubType",
              "E1000");
    assert_xs(&d, ITEMS "[rasd:ResourceType=10][1]/rasd:Description",
              "virtio network adapter");
    assert_xs(&d, ITEMS "[rasd:ResourceType=10][1]/rasd:Address",
              "52:54:00:12:34:56");
    assert_xs(&d, ITEMS "[rasd:ResourceType=10][1]/rasd:Connection", "default");
    assert_xs(&d, ITEMS "[rasd:ResourceType=10][3]/rasd:Connection",
              "storage-net");
    /* Every Connection names a listed network. */
    assert_int_equal(
        xcount(&d, ITEMS
               "[rasd:ResourceType=10][not(rasd:Connection = "
               "/ovf:Envelope/ovf:NetworkSection/ovf:Network/@ovf:name)]"),
        0);
    doc_close(&d);
    glance_ovf_free(ovf);
}

static void
test_no_nic_means_no_network_section(void **state)
{
    glance_ovf *ovf = bare_ovf("isolated");
    doc d;

    (void)state;
    add_disk(ovf, "a.vmdk", GLANCE_BUS_VIRTIO);
    doc_open(&d, ovf);
    assert_int_equal(xcount(&d, "//ovf:NetworkSection"), 0);
    assert_int_equal(xcount(&d, ITEMS "[rasd:ResourceType=10]"), 0);
    /* Neither facts nor members: no ProductSection either. */
    assert_int_equal(xcount(&d, "//ovf:ProductSection"), 0);
    doc_close(&d);
    glance_ovf_free(ovf);
}

/* The rasd elements of an Item are a sequence in alphabetical order in the
 * CIM schema; ovftool rejects another order. */
static void
test_item_elements_are_in_schema_order(void **state)
{
    glance_ovf *ovf = tg_fixture_ovf(1, 1);
    xmlXPathObjectPtr r;
    xmlNodePtr item, c;
    const xmlChar *prev;
    int i;
    doc d;

    (void)state;
    doc_open(&d, ovf);
    r = xmlXPathEvalExpression(BAD_CAST ITEMS, d.ctx);
    assert_non_null(r);
    assert_true(r->nodesetval->nodeNr >= 6);
    for (i = 0; i < r->nodesetval->nodeNr; i++) {
        item = r->nodesetval->nodeTab[i];
        prev = NULL;
        for (c = item->children; c; c = c->next) {
            if (c->type != XML_ELEMENT_NODE)
                continue;
            assert_string_equal((const char *)c->ns->href, NS_RASD);
            if (prev && xmlStrcmp(prev, c->name) >= 0)
                fail_msg("Item %d: %s after %s", i + 1, c->name, prev);
            prev = c->name;
        }
    }
    xmlXPathFreeObject(r);
    doc_close(&d);
    glance_ovf_free(ovf);
}

/* The facts are standard OVF: importers know a ProductSection, and one
 * that does not need them may skip it. */
static void
test_product_sections_are_optional_and_hold_the_facts(void **state)
{
    glance_ovf *ovf = tg_fixture_ovf(1, 1);
    doc d;

    (void)state;
    doc_open(&d, ovf);
    assert_int_equal(xcount(&d, "//ovf:ProductSection"), 3);
    assert_int_equal(
        xcount(&d, "//ovf:ProductSection[not(@ovf:required='false')]"), 0);
    /* Like every section each starts with an OVF Info. */
    assert_int_equal(
        xcount(&d, "//ovf:ProductSection[local-name(*[1])!='Info']"), 0);
    assert_xs(&d, "//ovf:ProductSection[@ovf:class='snapset.set']/ovf:Info",
              "The snapshot set this package was made from");
    assert_xs(&d, SET_PROP("uuid"), FIXTURE_SET_UUID);
    assert_xs(&d, SET_PROP("consistency"), "fs");
    assert_xs(&d, SET_PROP("time"), "2026-11-22T04:39:24.123Z");
    assert_xs(&d, SET_PROP("domain"), "web01");
    assert_xs(&d, SET_PROP("domain_uuid"),
              "0e1d2c3b-4a59-4867-9786-a5b4c3d2e1f0");
    assert_xs(&d, SET_PROP("architecture"), "x86_64");
    /* Facts, not questions for whoever imports the package. */
    assert_int_equal(
        xcount(&d, "//ovf:Property[not(@ovf:userConfigurable='false')]"), 0);
    assert_int_equal(xcount(&d, "//ovf:Property[not(@ovf:type='string')]"), 0);
    /* DSP0243: a key holds no '.' or ':' (class.key.instance). */
    assert_int_equal(xcount(&d, "//ovf:Property[contains(@ovf:key, '.') or "
                                "contains(@ovf:key, ':')]"),
                     0);
    /* One section per member, in order, told apart by instance. */
    assert_int_equal(
        xcount(&d, "//ovf:ProductSection[@ovf:class='snapset.member']"), 2);
    assert_xs(&d, MEMBER_PROP("1", "target"), "vda");
    assert_xs(&d, MEMBER_PROP("1", "kind"), "local");
    assert_xs(&d, MEMBER_PROP("1", "source"),
              "/var/lib/libvirt/images/web01.qcow2");
    assert_xs(&d, MEMBER_PROP("1", "snapshot"),
              "/var/lib/libvirt/images/web01.snap-1.qcow2");
    assert_xs(&d, MEMBER_PROP("1", "disk_id"), "vmdisk1");
    assert_xs(&d, MEMBER_PROP("2", "target"), "vdb");
    assert_xs(&d, MEMBER_PROP("2", "kind"), "cinder");
    assert_xs(&d, MEMBER_PROP("2", "source"),
              "5a3c0d3e-0f0e-4b55-9d1f-2a4b6c8d0e1f");
    assert_xs(&d, MEMBER_PROP("2", "snapshot"),
              "9b8a7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d");
    assert_xs(&d, MEMBER_PROP("2", "disk_id"), "vmdisk2");
    /* The annotation importers show as the description. */
    assert_non_null(strstr(d.xml, "snapset snapshot set " FIXTURE_SET_UUID));
    /* OS: linux on x86_64 is CIM "Linux 64-Bit". */
    assert_xs(&d, "//ovf:OperatingSystemSection/@ovf:id", "101");
    doc_close(&d);
    glance_ovf_free(ovf);
}

/* Members without a disk of the package, or without source and snapshot,
 * still get their section; facts without members get theirs alone. */
static void
test_members_and_facts_are_written_independently(void **state)
{
    glance_ovf_member m = {"vdz", "cinder", NULL, NULL};
    glance_ovf_facts facts = {FIXTURE_SET_UUID, "crash", FIXTURE_TAKEN_MS,
                              "solo", NULL};
    snap_error err = {0};
    glance_ovf *ovf = bare_ovf("members");
    doc d;

    (void)state;
    add_disk(ovf, "a.vmdk", GLANCE_BUS_VIRTIO);
    assert_true(glance_ovf_member_add(ovf, &m, &err));
    doc_open(&d, ovf);
    assert_int_equal(
        xcount(&d, "//ovf:ProductSection[@ovf:class='snapset.set']"), 0);
    assert_xs(&d, MEMBER_PROP("1", "target"), "vdz");
    assert_int_equal(xcount(&d, "//ovf:ProductSection/ovf:Property"), 2);
    doc_close(&d);
    glance_ovf_free(ovf);

    ovf = bare_ovf("facts");
    add_disk(ovf, "a.vmdk", GLANCE_BUS_SATA);
    assert_true(glance_ovf_set_facts(ovf, &facts, &err));
    doc_open(&d, ovf);
    assert_xs(&d, SET_PROP("consistency"), "crash");
    /* No domain UUID given: none written. */
    assert_int_equal(xcount(&d, SET_PROP("domain_uuid")), 0);
    assert_int_equal(
        xcount(&d, "//ovf:ProductSection[@ovf:class='snapset.member']"), 0);
    doc_close(&d);
    glance_ovf_free(ovf);
}

/* rasd:Caption holds at most 64 characters: a longer interface name is cut
 * there (on a character, not a byte) and kept whole in the Description. */
static void
test_a_long_nic_name_is_cut_in_the_caption_and_kept(void **state)
{
    char name[200], want[256];
    glance_ovf_nic nic = {name, "default", "virtio", NULL};
    snap_error err = {0};
    glance_ovf *ovf = bare_ovf("longnic");
    char *caption;
    int i;
    doc d;

    (void)state;
    /* 70 two-byte characters. */
    for (i = 0; i < 70; i++)
        memcpy(name + 2 * i, "\xc3\xbc", 2);
    name[140] = '\0';
    add_disk(ovf, "a.vmdk", GLANCE_BUS_IDE);
    assert_true(glance_ovf_nic_add(ovf, &nic, &err));
    doc_open(&d, ovf);
    caption = xs(&d, ITEMS "[rasd:ResourceType=10]/rasd:Caption");
    assert_int_equal(strlen(caption), 128);
    assert_memory_equal(caption, name, 128);
    free(caption);
    snprintf(want, sizeof(want), "virtio network adapter %s", name);
    assert_xs(&d, ITEMS "[rasd:ResourceType=10]/rasd:Description", want);
    doc_close(&d);
    glance_ovf_free(ovf);
}

static void
test_os_ids_follow_the_architecture(void **state)
{
    snap_error err = {0};
    glance_ovf *ovf = bare_ovf("os");
    doc d;

    (void)state;
    add_disk(ovf, "a.vmdk", GLANCE_BUS_VIRTIO);
    assert_true(glance_ovf_set_hardware(ovf, 1, 512, "i686", &err));
    assert_true(glance_ovf_set_os(ovf, "debian", &err));
    doc_open(&d, ovf);
    assert_xs(&d, "//ovf:OperatingSystemSection/@ovf:id", "95");
    doc_close(&d);
    assert_true(glance_ovf_set_hardware(ovf, 1, 512, "aarch64", &err));
    assert_true(glance_ovf_set_os(ovf, "plan9", &err));
    doc_open(&d, ovf);
    assert_xs(&d, "//ovf:OperatingSystemSection/@ovf:id", "102");
    assert_xs(&d, "//ovf:OperatingSystemSection/ovf:Description", "plan9");
    doc_close(&d);
    glance_ovf_free(ovf);
}

/* Names come from the domain: markup characters and non-ASCII must come
 * back exactly, and the package file names must stay plain. */
static void
test_domain_names_are_escaped(void **state)
{
    const char *name = "web<&\"'>01 \xc3\xbcn\xc3\xaf"
                       "c\xc3\xb6"
                       "d\xe2\x82\xac";
    glance_ovf_nic nic = {"a<b", "net&\"'work", "virtio", NULL};
    glance_ovf_facts facts = {FIXTURE_SET_UUID, "fs", FIXTURE_TAKEN_MS,
                              "dom<&\"'>", NULL};
    glance_ovf_member m = {"vda", "local", "/images/<&\"'>.qcow2", NULL};
    snap_error err = {0};
    glance_ovf *ovf = bare_ovf(name);
    doc d;

    (void)state;
    add_disk(ovf, "a.vmdk", GLANCE_BUS_VIRTIO);
    assert_true(glance_ovf_nic_add(ovf, &nic, &err));
    assert_true(glance_ovf_set_facts(ovf, &facts, &err));
    assert_true(glance_ovf_member_add(ovf, &m, &err));
    doc_open(&d, ovf);
    assert_xs(&d, "/ovf:Envelope/ovf:VirtualSystem/@ovf:id", name);
    assert_xs(&d, "/ovf:Envelope/ovf:VirtualSystem/ovf:Name", name);
    assert_xs(&d, "//vssd:VirtualSystemIdentifier", name);
    assert_xs(&d, "//ovf:Network/@ovf:name", "net&\"'work");
    assert_xs(&d, ITEMS "[rasd:ResourceType=10]/rasd:Connection",
              "net&\"'work");
    assert_xs(&d, ITEMS "[rasd:ResourceType=10]/rasd:Caption", "a<b");
    assert_xs(&d, SET_PROP("domain"), "dom<&\"'>");
    assert_xs(&d, MEMBER_PROP("1", "source"), "/images/<&\"'>.qcow2");
    /* The raw text has no bare markup from the name. */
    assert_null(strstr(d.xml, "web<&"));
    assert_non_null(strstr(d.xml, "web&lt;&amp;"));
    assert_non_null(strstr(d.xml, "\xc3\xbcn\xc3\xaf"
                                  "c\xc3\xb6"
                                  "d\xe2\x82\xac"));
    doc_close(&d);
    /* Every byte outside [A-Za-z0-9._+-] becomes '_'. */
    assert_string_equal(glance_ovf_package_name(ovf),
                        "web_____01___n__c__d___");
    glance_ovf_free(ovf);
}

static void
test_control_characters_and_bad_utf8_are_refused(void **state)
{
    snap_error err = {0};
    glance_ovf_nic nic = {NULL, "bad\x01net", NULL, NULL};
    glance_ovf *ovf;

    (void)state;
    assert_null(glance_ovf_new("line\nbreak", &err));
    assert_int_equal(err.code, SNAP_E_INVALID);
    assert_string_equal(err.msg, "system name contains a control character");
    snap_error_clear(&err);
    assert_null(glance_ovf_new("bad\xc3(utf8", &err));
    assert_string_equal(err.msg, "system name is not valid UTF-8");
    snap_error_clear(&err);
    assert_null(glance_ovf_new("", &err));
    assert_string_equal(err.msg, "system name is empty");
    snap_error_clear(&err);
    ovf = bare_ovf("ok");
    assert_false(glance_ovf_nic_add(ovf, &nic, &err));
    assert_string_equal(err.msg, "NIC network contains a control character");
    glance_ovf_free(ovf);
}

static void
test_invalid_disk_file_names_are_refused(void **state)
{
    static const char *const bad[] = {
        "",
        "../etc/passwd",
        "a/b.vmdk",
        ".hidden",
        "sp ace.vmdk",
        "\xc3\xbc.vmdk",
        "0123456789012345678901234567890123456789012345678901234567890123456789"
        "012345678901234567890123456789", /* 100 characters */
    };
    glance_ovf *ovf = bare_ovf("names");
    glance_ovf_disk disk = {.file_size = 1, .capacity = 1};
    snap_error err = {0};
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        disk.file = bad[i];
        snap_error_clear(&err);
        assert_false(glance_ovf_disk_add(ovf, &disk, &err));
        assert_int_equal(err.code, SNAP_E_INVALID);
        assert_non_null(strstr(err.msg, "invalid disk file name"));
        assert_null(strchr(err.msg, '\n'));
    }
    add_disk(ovf, "twice.vmdk", GLANCE_BUS_VIRTIO);
    disk.file = "twice.vmdk";
    snap_error_clear(&err);
    assert_false(glance_ovf_disk_add(ovf, &disk, &err));
    assert_string_equal(err.msg, "disk file name 'twice.vmdk' is used twice");
    assert_int_equal(glance_ovf_disk_count(ovf), 1);
    glance_ovf_free(ovf);
}

static void
test_a_system_without_disks_has_no_descriptor(void **state)
{
    glance_ovf *ovf = bare_ovf("empty");
    snap_error err = {0};
    char *xml = NULL;
    size_t len = 0;

    (void)state;
    assert_false(glance_ovf_write(ovf, &xml, &len, &err));
    assert_null(xml);
    assert_int_equal(err.code, SNAP_E_INVALID);
    assert_string_equal(err.msg,
                        "cannot describe system 'empty': it has no disks");
    glance_ovf_free(ovf);
}

static void
test_bad_facts_are_refused(void **state)
{
    glance_ovf *ovf = bare_ovf("facts");
    glance_ovf_facts facts = {"not-a-uuid", "fs", FIXTURE_TAKEN_MS, "d", NULL};
    snap_error err = {0};

    (void)state;
    assert_false(glance_ovf_set_facts(ovf, &facts, &err));
    assert_string_equal(err.msg, "set UUID 'not-a-uuid' is not a UUID");
    facts.set_uuid = FIXTURE_SET_UUID;
    facts.consistency = NULL;
    snap_error_clear(&err);
    assert_false(glance_ovf_set_facts(ovf, &facts, &err));
    assert_string_equal(err.msg, "consistency is missing");
    glance_ovf_free(ovf);
}

/* The whole descriptor of the fixture, byte for byte: a reviewer reads
 * tests/data/glance/web01.ovf to see what importers get. */
static void
test_fixture_descriptor_matches_the_reference_file(void **state)
{
    const char *data = getenv("SNAP_TEST_DATA");
    glance_ovf *ovf = tg_fixture_ovf(1234, 5678);
    snap_error err = {0};
    char path[4096], *want, *xml = NULL;
    size_t len = 0, wlen = 0;

    (void)state;
    assert_non_null(data);
    snprintf(path, sizeof(path), "%s/glance/web01.ovf", data);
    assert_true(glance_ovf_write(ovf, &xml, &len, &err));
    want = tg_read_file(path, &wlen);
    if (wlen != len || memcmp(want, xml, len) != 0)
        fail_msg("descriptor differs from %s; got:\n%s", path, xml);
    free(want);
    free(xml);
    glance_ovf_free(ovf);
}

/* Returns @xml with @text inserted before the first @before, and in *@line
 * the line @text starts on. */
static char *
insert_before(const char *xml, const char *before, const char *text, int *line)
{
    const char *p = strstr(xml, before), *q;
    size_t head;
    char *out;

    assert_non_null(p);
    head = (size_t)(p - xml);
    *line = 1;
    for (q = xml; q < p; q++)
        *line += *q == '\n';
    out = malloc(strlen(xml) + strlen(text) + 1);
    assert_non_null(out);
    memcpy(out, xml, head);
    strcpy(out + head, text);
    strcat(out, p);
    return out;
}

/* The negative control: what snapset wrote before, its own section where
 * DSP8023 allows only members of the ovf:Section substitution group, fails
 * with the line and the element named; so does an Item whose rasd elements
 * leave the schema's order. */
static void
test_an_element_in_the_wrong_place_fails_validation(void **state)
{
    static const char section[] =
        "    <snapset:SnapshotSetSection xmlns:snapset=\"urn:snapset:ovf:1\" "
        "ovf:required=\"false\">\n"
        "      <Info>The snapshot set this package was made from</Info>\n"
        "      <snapset:SetUUID>" FIXTURE_SET_UUID "</snapset:SetUUID>\n"
        "    </snapset:SnapshotSetSection>\n";
    glance_ovf *ovf = tg_fixture_ovf(1, 1);
    snap_error err = {0};
    char *xml = NULL, *bad, want[256];
    size_t len;
    int line;

    (void)state;
    assert_true(glance_ovf_write(ovf, &xml, &len, &err));
    assert_true(glance_ovf_validate(xml, len, tg_schema_dir(), &err));

    bad = insert_before(xml, "  </VirtualSystem>", section, &line);
    assert_false(glance_ovf_validate(bad, strlen(bad), tg_schema_dir(), &err));
    assert_int_equal(err.code, SNAP_E_INVALID);
    assert_null(strchr(err.msg, '\n'));
    snprintf(want, sizeof(want),
             "descriptor does not validate against the OVF schema (line %d: "
             "Element '{urn:snapset:ovf:1}SnapshotSetSection': This element "
             "is not expected.",
             line);
    if (strncmp(err.msg, want, strlen(want)) != 0)
        fail_msg("got '%s', want '%s...'", err.msg, want);
    free(bad);

    /* Description after ElementName: out of the CIM sequence. */
    snap_error_clear(&err);
    bad = insert_before(xml, "        <rasd:InstanceID>1<",
                        "        <rasd:Description>late</rasd:Description>\n",
                        &line);
    assert_false(glance_ovf_validate(bad, strlen(bad), tg_schema_dir(), &err));
    snprintf(want, sizeof(want),
             "(line %d: Element "
             "'{http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/"
             "CIM_ResourceAllocationSettingData}Description': This element "
             "is not expected.",
             line);
    if (!strstr(err.msg, want))
        fail_msg("got '%s', want '%s'", err.msg, want);
    free(bad);

    snap_error_clear(&err);
    assert_false(glance_ovf_validate("<Envelope>", 10, tg_schema_dir(), &err));
    assert_int_equal(err.code, SNAP_E_INVALID);
    assert_non_null(strstr(err.msg, "descriptor is not well-formed XML (line"));
    free(xml);
    glance_ovf_free(ovf);
}

/* The reference file reviewers read is itself valid. */
static void
test_the_reference_descriptor_validates(void **state)
{
    const char *data = getenv("SNAP_TEST_DATA");
    snap_error err = {0};
    char path[4096], *xml;
    size_t len = 0;

    (void)state;
    assert_non_null(data);
    snprintf(path, sizeof(path), "%s/glance/web01.ovf", data);
    xml = tg_read_file(path, &len);
    if (!glance_ovf_validate(xml, len, tg_schema_dir(), &err))
        fail_msg("%s: %s", path, err.msg);
    free(xml);
}

/* Missing schemas are an error naming the path, never a skipped check; the
 * environment variable picks the directory when none is passed. */
static void
test_missing_schemas_fail_and_name_the_path(void **state)
{
    glance_ovf *ovf = tg_fixture_ovf(1, 1);
    char *saved = strdup(tg_schema_dir()), *dir = tg_tmpdir(), *xml = NULL;
    snap_error err = {0};
    char want[512];
    size_t len;

    (void)state;
    assert_non_null(saved);
    assert_true(glance_ovf_write(ovf, &xml, &len, &err));
    assert_false(glance_ovf_validate(xml, len, dir, &err));
    assert_int_equal(err.code, SNAP_E_NOTFOUND);
    snprintf(want, sizeof(want),
             "OVF schema '%s/ovf-all.xsd' is missing (set "
             "SNAPSET_OVF_SCHEMA_DIR to the directory of ovf-all.xsd)",
             dir);
    assert_string_equal(err.msg, want);

    /* NULL: the environment's directory. */
    assert_int_equal(setenv(GLANCE_OVF_SCHEMA_DIR_ENV, dir, 1), 0);
    assert_string_equal(glance_ovf_schema_dir(), dir);
    snap_error_clear(&err);
    assert_false(glance_ovf_validate(xml, len, NULL, &err));
    assert_string_equal(err.msg, want);
    assert_int_equal(setenv(GLANCE_OVF_SCHEMA_DIR_ENV, saved, 1), 0);
    snap_error_clear(&err);
    assert_true(glance_ovf_validate(xml, len, NULL, &err));

    /* An empty value means the default, the installed directory. */
    assert_int_equal(setenv(GLANCE_OVF_SCHEMA_DIR_ENV, "", 1), 0);
    assert_string_not_equal(glance_ovf_schema_dir(), "");
    assert_int_equal(setenv(GLANCE_OVF_SCHEMA_DIR_ENV, saved, 1), 0);
    tg_rmtree(dir);
    free(dir);
    free(saved);
    free(xml);
    glance_ovf_free(ovf);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_envelope_is_ovf_1_with_one_file_per_disk),
        cmocka_unit_test(test_disk_section_gives_bytes_and_format_uris),
        cmocka_unit_test(test_cpu_is_type_3_and_memory_type_4_in_mib),
        cmocka_unit_test(test_disk_items_link_to_disks_and_controllers),
        cmocka_unit_test(
            test_scsi_units_skip_7_and_overflow_to_a_second_controller),
        cmocka_unit_test(test_a_fifth_ide_disk_is_refused),
        cmocka_unit_test(test_unknown_bus_is_refused),
        cmocka_unit_test(test_nics_are_type_10_on_networks_listed_once),
        cmocka_unit_test(test_no_nic_means_no_network_section),
        cmocka_unit_test(test_item_elements_are_in_schema_order),
        cmocka_unit_test(test_product_sections_are_optional_and_hold_the_facts),
        cmocka_unit_test(test_members_and_facts_are_written_independently),
        cmocka_unit_test(test_a_long_nic_name_is_cut_in_the_caption_and_kept),
        cmocka_unit_test(test_os_ids_follow_the_architecture),
        cmocka_unit_test(test_domain_names_are_escaped),
        cmocka_unit_test(test_control_characters_and_bad_utf8_are_refused),
        cmocka_unit_test(test_invalid_disk_file_names_are_refused),
        cmocka_unit_test(test_a_system_without_disks_has_no_descriptor),
        cmocka_unit_test(test_bad_facts_are_refused),
        cmocka_unit_test(test_fixture_descriptor_matches_the_reference_file),
        cmocka_unit_test(test_an_element_in_the_wrong_place_fails_validation),
        cmocka_unit_test(test_the_reference_descriptor_validates),
        cmocka_unit_test(test_missing_schemas_fail_and_name_the_path),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
