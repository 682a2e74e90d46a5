/* glance/ovf.c -- the OVF 1.1 descriptor model and its writer (libxml2). */
#include "glance/glance.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libxml/encoding.h>
#include <libxml/xmlstring.h>
#include <libxml/xmlwriter.h>

#include "common/snap_time.h"
#include "common/snap_uuid.h"
#include "glance/glance_priv.h"

#define NS_OVF "http://schemas.dmtf.org/ovf/envelope/1"
#define NS_RASD                                                                \
    "http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/"                       \
    "CIM_ResourceAllocationSettingData"
#define NS_VSSD                                                                \
    "http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/"                       \
    "CIM_VirtualSystemSettingData"

#define PACKAGE_NAME_MAX 64

/* Longest rasd:Caption the CIM schema allows, in characters. */
#define CAPTION_MAX 64

/* CIM ResourceType values (CIM_ResourceAllocationSettingData). */
enum {
    RT_PROCESSOR = 3,
    RT_MEMORY = 4,
    RT_IDE = 5,
    RT_SCSI = 6,
    RT_ETHERNET = 10,
    RT_DISK = 17,
    RT_OTHER_STORAGE = 20, /* SATA (AHCI) by importers' convention */
};

typedef enum ctrl_kind {
    CTRL_IDE = 0,
    CTRL_SCSI,
    CTRL_SATA,
    CTRL_LAST
} ctrl_kind;

/* How each controller kind is written and how many disks it takes. The
 * limits are VMware's (the strictest importer): 2 IDE controllers of 2
 * devices; 4 SCSI controllers of 15 devices, unit 7 being the controller
 * itself; 4 SATA controllers of 30 devices. */
static const struct ctrl_info {
    int resource_type;
    const char *subtype; /* NULL: none written */
    const char *caption; /* + index, e.g. "scsiController0" */
    const char *label;   /* + index, e.g. "SCSI Controller 0" */
    const char *bus_name;
    unsigned max_disks;
    unsigned max_ctrls;
    int skip_unit; /* -1: none */
} ctrl_infos[CTRL_LAST] = {
    /* IDE: no subtype; VMware writes none and VirtualBox assumes PIIX4. */
    [CTRL_IDE] = {RT_IDE, NULL, "ideController", "IDE Controller", "IDE", 2, 2,
                  -1},
    /* SCSI: LSI Logic is the one SCSI controller that VMware (every
     * hardware version), VirtualBox and virt-v2v all know. */
    [CTRL_SCSI] = {RT_SCSI, "lsilogic", "scsiController", "SCSI Controller",
                   "SCSI", 15, 4, 7},
    /* SATA: VirtualBox accepts ResourceType 20 only with subtype "AHCI" and
     * a Caption starting with "sataController"; virt-v2v reads 20 as SATA. */
    [CTRL_SATA] = {RT_OTHER_STORAGE, "AHCI", "sataController",
                   "SATA Controller", "SATA", 30, 4, -1},
};

/* Where the disks of each domain bus go. virtio-blk has no OVF equivalent:
 * importers know IDE, SCSI and SATA only. We put virtio disks on the LSI
 * Logic SCSI controller because it is the one controller that every
 * importer maps (VMware since vmx-04, VirtualBox, virt-v2v, which converts
 * back to virtio anyway) and the one VMware picks by default; SATA would
 * need vmx-10 and a subtype VMware and VirtualBox spell differently. */
static const ctrl_kind bus_ctrl[GLANCE_BUS_LAST] = {
    [GLANCE_BUS_VIRTIO] = CTRL_SCSI,
    [GLANCE_BUS_SCSI] = CTRL_SCSI,
    [GLANCE_BUS_SATA] = CTRL_SATA,
    [GLANCE_BUS_IDE] = CTRL_IDE,
};

static const char *const bus_names[GLANCE_BUS_LAST] = {
    [GLANCE_BUS_VIRTIO] = "virtio",
    [GLANCE_BUS_SCSI] = "scsi",
    [GLANCE_BUS_SATA] = "sata",
    [GLANCE_BUS_IDE] = "ide",
};

static const char *const format_uris[GLANCE_DISK_FORMAT_LAST] = {
    [GLANCE_DISK_FORMAT_VMDK_STREAM] = GLANCE_FORMAT_URI_VMDK_STREAM,
    [GLANCE_DISK_FORMAT_QCOW2] = GLANCE_FORMAT_URI_QCOW2,
};

/* CIM_OperatingSystem OSType values (the ones VirtualBox and VMware map). */
static const struct os_info {
    const char *name;
    unsigned id32;
    unsigned id64;
} os_infos[] = {
    {"other", 1, 102},  /* Other, Other 64-Bit */
    {"linux", 36, 101}, /* LINUX, Linux 64-Bit */
    {"debian", 95, 96},
    {"ubuntu", 93, 94},
    {"rhel", 79, 80},    /* RedHat Enterprise Linux */
    {"centos", 36, 101}, /* no CentOS id in the CIM list importers know */
    {"sles", 84, 85},
    {"freebsd", 42, 78},
    /* WINNT: the NT family as a whole; the CIM list has no id for Windows
     * releases after Server 2008, and the importer's user can refine it. */
    {"windows", 18, 18},
};

/* NIC models as VMware and VirtualBox spell them in ResourceSubType. */
static const struct nic_info {
    const char *model;
    const char *subtype;
} nic_infos[] = {
    {"e1000", "E1000"},
    {"e1000e", "E1000e"},
    {"vmxnet3", "VmxNet3"},
    {"pcnet", "PCNet32"},
};
/* Every other model (virtio, rtl8139, ...) is exported as E1000: VMware has
 * no virtio NIC, while E1000 is emulated by VMware, VirtualBox and QEMU
 * alike (and virt-v2v turns it back into virtio on import).
 * The original model stays in the item's Description. */
#define NIC_DEFAULT_SUBTYPE "E1000"

typedef struct ovf_ctrl {
    ctrl_kind kind;
    unsigned index; /* among controllers of its kind */
    unsigned ndisks;
} ovf_ctrl;

typedef struct ovf_disk {
    char *file;
    uint64_t file_size;
    uint64_t capacity;
    uint64_t populated_size;
    glance_disk_format format;
    glance_bus bus;
    char *target;
    size_t ctrl;   /* index into controllers */
    unsigned unit; /* AddressOnParent */
} ovf_disk;

typedef struct ovf_nic {
    char *name;
    char *network;
    char *model;
    char *mac;
} ovf_nic;

typedef struct ovf_member {
    char *target;
    char *kind;
    char *source;
    char *snapshot;
} ovf_member;

struct glance_ovf {
    char *name;
    char package[PACKAGE_NAME_MAX + 1];
    unsigned vcpus;
    uint64_t memory_mib;
    char *arch;
    char *os_type;
    bool has_facts;
    char *set_uuid;
    char *consistency;
    int64_t taken_ms;
    char *domain;
    char *domain_uuid;
    ovf_disk *disks;
    size_t ndisks;
    ovf_ctrl *controllers;
    size_t ncontrollers;
    ovf_nic *nics;
    size_t nnics;
    ovf_member *members;
    size_t nmembers;
};

/* ------------------------------------------------------------------------ */
/* Input checks                                                              */

/* Everything that reaches the descriptor is UTF-8 without control
 * characters: libxml2 escapes markup, but cannot make a C0 control character
 * legal XML 1.0, and an invalid UTF-8 byte would make the file unreadable. */
static bool
check_text(const char *s, const char *what, bool required, snap_error *err)
{
    const unsigned char *p;

    if (!s) {
        if (required)
            return snap_error_set(err, SNAP_E_INVALID, "%s is missing", what);
        return true;
    }
    if (required && !*s)
        return snap_error_set(err, SNAP_E_INVALID, "%s is empty", what);
    for (p = (const unsigned char *)s; *p; p++) {
        if (*p < 0x20 || *p == 0x7f)
            return snap_error_set(err, SNAP_E_INVALID,
                                  "%s contains a control character", what);
    }
    if (!xmlCheckUTF8((const xmlChar *)s))
        return snap_error_set(err, SNAP_E_INVALID, "%s is not valid UTF-8",
                              what);
    return true;
}

static bool
dup_text(char **dst, const char *s, const char *what, bool required,
         snap_error *err)
{
    *dst = NULL;
    if (!check_text(s, what, required, err))
        return false;
    if (!s)
        return true;
    *dst = strdup(s);
    if (!*dst)
        return snap_error_set(err, SNAP_E_NOMEM, "out of memory");
    return true;
}

/* Returns @array grown to hold @n + 1 elements of @size bytes, or NULL with
 * @err set (@array is then unchanged). */
static void *
grow(void *array, size_t n, size_t size, snap_error *err)
{
    void *p;

    p = realloc(array, (n + 1) * size);
    if (!p)
        snap_error_set(err, SNAP_E_NOMEM, "out of memory");
    return p;
}

bool
glance_member_name_valid(const char *name)
{
    size_t len;
    const char *p;

    if (!name)
        return false;
    len = strlen(name);
    if (len == 0 || len > GLANCE_MEMBER_NAME_MAX || name[0] == '.')
        return false;
    for (p = name; *p; p++) {
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
              (*p >= '0' && *p <= '9') || *p == '.' || *p == '_' || *p == '-' ||
              *p == '+'))
            return false;
    }
    return true;
}

static bool
arch_is_64bit(const char *arch)
{
    return strstr(arch, "64") != NULL || strcmp(arch, "s390x") == 0;
}

/* ------------------------------------------------------------------------ */
/* The model                                                                 */

glance_bus
glance_bus_from_name(const char *name)
{
    int i;

    if (!name)
        return GLANCE_BUS_LAST;
    for (i = 0; i < GLANCE_BUS_LAST; i++) {
        if (strcmp(name, bus_names[i]) == 0)
            return (glance_bus)i;
    }
    return GLANCE_BUS_LAST;
}

static void
make_package_name(glance_ovf *ovf)
{
    size_t i, n = 0;
    char c;

    for (i = 0; ovf->name[i] && n < PACKAGE_NAME_MAX; i++) {
        c = ovf->name[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-' ||
              c == '+'))
            c = '_';
        if (n == 0 && c == '.')
            c = '_'; /* no hidden files */
        ovf->package[n++] = c;
    }
    ovf->package[n] = '\0';
    if (n == 0)
        strcpy(ovf->package, "snapset");
}

glance_ovf *
glance_ovf_new(const char *name, snap_error *err)
{
    glance_ovf *ovf = NULL, *ret = NULL;

    ovf = calloc(1, sizeof(*ovf));
    if (!ovf) {
        snap_error_set(err, SNAP_E_NOMEM, "out of memory");
        goto cleanup;
    }
    if (!dup_text(&ovf->name, name, "system name", true, err))
        goto cleanup;
    ovf->vcpus = 1;
    ovf->memory_mib = 1024;
    ovf->arch = strdup("x86_64");
    ovf->os_type = strdup("other");
    if (!ovf->arch || !ovf->os_type) {
        snap_error_set(err, SNAP_E_NOMEM, "out of memory");
        goto cleanup;
    }
    make_package_name(ovf);
    ret = ovf;
    ovf = NULL;

cleanup:
    glance_ovf_free(ovf);
    return ret;
}

void
glance_ovf_free(glance_ovf *ovf)
{
    size_t i;

    if (!ovf)
        return;
    for (i = 0; i < ovf->ndisks; i++) {
        free(ovf->disks[i].file);
        free(ovf->disks[i].target);
    }
    for (i = 0; i < ovf->nnics; i++) {
        free(ovf->nics[i].name);
        free(ovf->nics[i].network);
        free(ovf->nics[i].model);
        free(ovf->nics[i].mac);
    }
    for (i = 0; i < ovf->nmembers; i++) {
        free(ovf->members[i].target);
        free(ovf->members[i].kind);
        free(ovf->members[i].source);
        free(ovf->members[i].snapshot);
    }
    free(ovf->disks);
    free(ovf->controllers);
    free(ovf->nics);
    free(ovf->members);
    free(ovf->name);
    free(ovf->arch);
    free(ovf->os_type);
    free(ovf->set_uuid);
    free(ovf->consistency);
    free(ovf->domain);
    free(ovf->domain_uuid);
    free(ovf);
}

bool
glance_ovf_set_hardware(glance_ovf *ovf, unsigned vcpus, uint64_t memory_mib,
                        const char *arch, snap_error *err)
{
    char *copy = NULL;

    if (vcpus == 0)
        return snap_error_set(err, SNAP_E_INVALID, "vCPU count is 0");
    if (memory_mib == 0)
        return snap_error_set(err, SNAP_E_INVALID, "memory size is 0");
    if (!dup_text(&copy, arch, "architecture", true, err))
        return false;
    free(ovf->arch);
    ovf->arch = copy;
    ovf->vcpus = vcpus;
    ovf->memory_mib = memory_mib;
    return true;
}

bool
glance_ovf_set_os(glance_ovf *ovf, const char *os_type, snap_error *err)
{
    char *copy = NULL;

    if (!dup_text(&copy, os_type, "OS type", true, err))
        return false;
    free(ovf->os_type);
    ovf->os_type = copy;
    return true;
}

bool
glance_ovf_set_facts(glance_ovf *ovf, const glance_ovf_facts *facts,
                     snap_error *err)
{
    glance_ovf tmp = {0};
    bool ok = false;

    if (!facts->set_uuid || !snap_uuid_valid(facts->set_uuid)) {
        snap_error_set(err, SNAP_E_INVALID, "set UUID '%s' is not a UUID",
                       facts->set_uuid ? facts->set_uuid : "");
        goto cleanup;
    }
    if (facts->taken_ms <= 0) {
        snap_error_set(err, SNAP_E_INVALID, "set time is missing");
        goto cleanup;
    }
    if (!dup_text(&tmp.set_uuid, facts->set_uuid, "set UUID", true, err) ||
        !dup_text(&tmp.consistency, facts->consistency, "consistency", true,
                  err) ||
        !dup_text(&tmp.domain, facts->domain, "source domain", true, err) ||
        !dup_text(&tmp.domain_uuid, facts->domain_uuid, "domain UUID", false,
                  err))
        goto cleanup;
    free(ovf->set_uuid);
    free(ovf->consistency);
    free(ovf->domain);
    free(ovf->domain_uuid);
    ovf->set_uuid = tmp.set_uuid;
    ovf->consistency = tmp.consistency;
    ovf->domain = tmp.domain;
    ovf->domain_uuid = tmp.domain_uuid;
    ovf->taken_ms = facts->taken_ms;
    ovf->has_facts = true;
    tmp.set_uuid = tmp.consistency = tmp.domain = tmp.domain_uuid = NULL;
    ok = true;

cleanup:
    free(tmp.set_uuid);
    free(tmp.consistency);
    free(tmp.domain);
    free(tmp.domain_uuid);
    return ok;
}

/* Finds a controller of @kind with a free unit, adding one if allowed.
 * Returns its index, or -1 with @err set. */
static long
controller_for(glance_ovf *ovf, ctrl_kind kind, snap_error *err)
{
    const struct ctrl_info *ci = &ctrl_infos[kind];
    unsigned count = 0;
    ovf_ctrl *p;
    size_t i;

    for (i = 0; i < ovf->ncontrollers; i++) {
        if (ovf->controllers[i].kind != kind)
            continue;
        count++;
        if (ovf->controllers[i].ndisks < ci->max_disks)
            return (long)i;
    }
    if (count >= ci->max_ctrls) {
        snap_error_set(err, SNAP_E_INVALID,
                       "too many disks on the %s bus (at most %u)",
                       ci->bus_name, ci->max_ctrls * ci->max_disks);
        return -1;
    }
    p = grow(ovf->controllers, ovf->ncontrollers, sizeof(ovf_ctrl), err);
    if (!p)
        return -1;
    ovf->controllers = p;
    ovf->controllers[ovf->ncontrollers].kind = kind;
    ovf->controllers[ovf->ncontrollers].index = count;
    ovf->controllers[ovf->ncontrollers].ndisks = 0;
    return (long)ovf->ncontrollers++;
}

bool
glance_ovf_disk_add(glance_ovf *ovf, const glance_ovf_disk *disk,
                    snap_error *err)
{
    ovf_disk d = {0}, *p;
    ovf_ctrl *ctrl;
    long c;
    size_t i;
    bool ok = false;

    if (!glance_member_name_valid(disk->file)) {
        snap_error_set(err, SNAP_E_INVALID,
                       "invalid disk file name '%s': use 1 to %d characters "
                       "from [A-Za-z0-9._+-], not starting with '.'",
                       disk->file ? disk->file : "", GLANCE_MEMBER_NAME_MAX);
        goto cleanup;
    }
    for (i = 0; i < ovf->ndisks; i++) {
        if (strcmp(ovf->disks[i].file, disk->file) == 0) {
            snap_error_set(err, SNAP_E_INVALID,
                           "disk file name '%s' is used twice", disk->file);
            goto cleanup;
        }
    }
    if ((unsigned)disk->format >= GLANCE_DISK_FORMAT_LAST) {
        snap_error_set(err, SNAP_E_INVALID, "unknown format for disk '%s'",
                       disk->file);
        goto cleanup;
    }
    if ((unsigned)disk->bus >= GLANCE_BUS_LAST) {
        snap_error_set(err, SNAP_E_INVALID,
                       "unsupported bus for disk '%s': only virtio, scsi, "
                       "sata and ide disks can be exported",
                       disk->file);
        goto cleanup;
    }
    if (disk->capacity == 0) {
        snap_error_set(err, SNAP_E_INVALID, "capacity of disk '%s' is 0",
                       disk->file);
        goto cleanup;
    }
    if (disk->populated_size > disk->capacity) {
        snap_error_set(err, SNAP_E_INVALID,
                       "populated size of disk '%s' exceeds its capacity",
                       disk->file);
        goto cleanup;
    }
    if (!dup_text(&d.file, disk->file, "disk file name", true, err) ||
        !dup_text(&d.target, disk->target, "disk target", false, err))
        goto cleanup;
    p = grow(ovf->disks, ovf->ndisks, sizeof(ovf_disk), err);
    if (!p)
        goto cleanup;
    ovf->disks = p;
    c = controller_for(ovf, bus_ctrl[disk->bus], err);
    if (c < 0)
        goto cleanup;
    ctrl = &ovf->controllers[c];
    d.file_size = disk->file_size;
    d.capacity = disk->capacity;
    d.populated_size = disk->populated_size;
    d.format = disk->format;
    d.bus = disk->bus;
    d.ctrl = (size_t)c;
    d.unit = ctrl->ndisks;
    if (ctrl_infos[ctrl->kind].skip_unit >= 0 &&
        d.unit >= (unsigned)ctrl_infos[ctrl->kind].skip_unit)
        d.unit++;
    ctrl->ndisks++;
    ovf->disks[ovf->ndisks++] = d;
    d.file = d.target = NULL;
    ok = true;

cleanup:
    free(d.file);
    free(d.target);
    return ok;
}

bool
glance_ovf_nic_add(glance_ovf *ovf, const glance_ovf_nic *nic, snap_error *err)
{
    ovf_nic n = {0}, *p;
    bool ok = false;

    if (!dup_text(&n.name, nic->name, "NIC name", false, err) ||
        !dup_text(&n.network, nic->network, "NIC network", true, err) ||
        !dup_text(&n.model, nic->model, "NIC model", false, err) ||
        !dup_text(&n.mac, nic->mac, "NIC MAC address", false, err))
        goto cleanup;
    p = grow(ovf->nics, ovf->nnics, sizeof(ovf_nic), err);
    if (!p)
        goto cleanup;
    ovf->nics = p;
    ovf->nics[ovf->nnics++] = n;
    memset(&n, 0, sizeof(n));
    ok = true;

cleanup:
    free(n.name);
    free(n.network);
    free(n.model);
    free(n.mac);
    return ok;
}

bool
glance_ovf_member_add(glance_ovf *ovf, const glance_ovf_member *member,
                      snap_error *err)
{
    ovf_member m = {0}, *p;
    bool ok = false;

    if (!dup_text(&m.target, member->target, "member target", true, err) ||
        !dup_text(&m.kind, member->kind, "member kind", true, err) ||
        !dup_text(&m.source, member->source, "member source", false, err) ||
        !dup_text(&m.snapshot, member->snapshot, "member snapshot", false, err))
        goto cleanup;
    p = grow(ovf->members, ovf->nmembers, sizeof(ovf_member), err);
    if (!p)
        goto cleanup;
    ovf->members = p;
    ovf->members[ovf->nmembers++] = m;
    memset(&m, 0, sizeof(m));
    ok = true;

cleanup:
    free(m.target);
    free(m.kind);
    free(m.source);
    free(m.snapshot);
    return ok;
}

size_t
glance_ovf_disk_count(const glance_ovf *ovf)
{
    return ovf->ndisks;
}

const char *
glance_ovf_disk_file(const glance_ovf *ovf, size_t i)
{
    return i < ovf->ndisks ? ovf->disks[i].file : NULL;
}

uint64_t
glance_ovf_disk_file_size(const glance_ovf *ovf, size_t i)
{
    return i < ovf->ndisks ? ovf->disks[i].file_size : 0;
}

const char *
glance_ovf_package_name(const glance_ovf *ovf)
{
    return ovf->package;
}

int64_t
glance_ovf_mtime(const glance_ovf *ovf)
{
    if (ovf->has_facts)
        return ovf->taken_ms / 1000;
    return (int64_t)time(NULL);
}

/* ------------------------------------------------------------------------ */
/* The writer                                                                */

/* libxml2's writer calls each return < 0 on failure (only out of memory
 * for a memory buffer). Rather than test every call, the first failure is
 * latched and the following calls do nothing. */
typedef struct xw {
    xmlTextWriterPtr w;
    bool failed;
} xw;

static void
x_start(xw *x, const char *name)
{
    if (!x->failed && xmlTextWriterStartElement(x->w, BAD_CAST name) < 0)
        x->failed = true;
}

static void
x_end(xw *x)
{
    if (!x->failed && xmlTextWriterEndElement(x->w) < 0)
        x->failed = true;
}

static void
x_attr(xw *x, const char *name, const char *value)
{
    if (!x->failed &&
        xmlTextWriterWriteAttribute(x->w, BAD_CAST name, BAD_CAST value) < 0)
        x->failed = true;
}

static void
x_attr_u64(xw *x, const char *name, uint64_t value)
{
    char buf[32];

    snprintf(buf, sizeof(buf), "%" PRIu64, value);
    x_attr(x, name, buf);
}

static void
x_elem(xw *x, const char *name, const char *text)
{
    if (!x->failed &&
        xmlTextWriterWriteElement(x->w, BAD_CAST name, BAD_CAST text) < 0)
        x->failed = true;
}

/* Returns a new formatted string (free()), or NULL and latches a failure.
 * Sized exactly: truncating could cut a UTF-8 sequence of a name in two. */
static char *__attribute__((format(printf, 2, 0)))
x_vprintf(xw *x, const char *fmt, va_list ap)
{
    va_list copy;
    char *s;
    int n;

    if (x->failed)
        return NULL;
    va_copy(copy, ap);
    n = vsnprintf(NULL, 0, fmt, copy);
    va_end(copy);
    s = n < 0 ? NULL : malloc((size_t)n + 1);
    if (!s) {
        x->failed = true;
        return NULL;
    }
    vsnprintf(s, (size_t)n + 1, fmt, ap);
    return s;
}

static char *__attribute__((format(printf, 2, 3)))
x_printf(xw *x, const char *fmt, ...)
{
    va_list ap;
    char *s;

    va_start(ap, fmt);
    s = x_vprintf(x, fmt, ap);
    va_end(ap);
    return s;
}

static void __attribute__((format(printf, 3, 4)))
x_elemf(xw *x, const char *name, const char *fmt, ...)
{
    va_list ap;
    char *s;

    va_start(ap, fmt);
    s = x_vprintf(x, fmt, ap);
    va_end(ap);
    if (s)
        x_elem(x, name, s);
    free(s);
}

/* One VirtualHardwareSection Item. The CIM schema declares the rasd
 * elements as a sequence in alphabetical order, and strict readers (VMware's
 * ovftool) reject another order, so write_item() emits them in that order. */
typedef struct item {
    const char *address;
    long address_on_parent; /* < 0: none */
    const char *allocation_units;
    bool automatic_allocation;
    const char *caption;
    const char *connection;
    const char *description;
    const char *element_name;
    const char *host_resource;
    unsigned instance_id;
    unsigned parent; /* 0: none */
    const char *resource_subtype;
    int resource_type;
    uint64_t virtual_quantity; /* 0: none */
} item;

static void
write_item(xw *x, const item *it)
{
    x_start(x, "Item");
    if (it->address)
        x_elem(x, "rasd:Address", it->address);
    if (it->address_on_parent >= 0)
        x_elemf(x, "rasd:AddressOnParent", "%ld", it->address_on_parent);
    if (it->allocation_units)
        x_elem(x, "rasd:AllocationUnits", it->allocation_units);
    if (it->automatic_allocation)
        x_elem(x, "rasd:AutomaticAllocation", "true");
    if (it->caption)
        x_elem(x, "rasd:Caption", it->caption);
    if (it->connection)
        x_elem(x, "rasd:Connection", it->connection);
    if (it->description)
        x_elem(x, "rasd:Description", it->description);
    x_elem(x, "rasd:ElementName", it->element_name);
    if (it->host_resource)
        x_elem(x, "rasd:HostResource", it->host_resource);
    x_elemf(x, "rasd:InstanceID", "%u", it->instance_id);
    if (it->parent)
        x_elemf(x, "rasd:Parent", "%u", it->parent);
    if (it->resource_subtype)
        x_elem(x, "rasd:ResourceSubType", it->resource_subtype);
    x_elemf(x, "rasd:ResourceType", "%d", it->resource_type);
    if (it->virtual_quantity)
        x_elemf(x, "rasd:VirtualQuantity", "%" PRIu64, it->virtual_quantity);
    x_end(x);
}

/* The CIM schema caps rasd:Caption at 64 characters (not bytes). Returns
 * the length in bytes of the first @max characters of the UTF-8 @s (all of
 * it when shorter). */
static size_t
utf8_prefix_len(const char *s, size_t max)
{
    size_t n = 0, chars = 0;

    while (s[n] && chars < max) {
        n++;
        while (((unsigned char)s[n] & 0xc0) == 0x80)
            n++; /* continuation bytes of the same character */
        chars++;
    }
    return n;
}

static const struct os_info *
os_lookup(const char *os_type)
{
    size_t i;

    for (i = 0; i < sizeof(os_infos) / sizeof(os_infos[0]); i++) {
        if (strcmp(os_infos[i].name, os_type) == 0)
            return &os_infos[i];
    }
    return &os_infos[0]; /* "other" */
}

static const char *
nic_subtype(const char *model)
{
    size_t i;

    if (!model)
        return NIC_DEFAULT_SUBTYPE;
    for (i = 0; i < sizeof(nic_infos) / sizeof(nic_infos[0]); i++) {
        if (strcmp(nic_infos[i].model, model) == 0)
            return nic_infos[i].subtype;
    }
    return NIC_DEFAULT_SUBTYPE;
}

static void
write_references(xw *x, const glance_ovf *ovf)
{
    char id[32];
    size_t i;

    x_start(x, "References");
    for (i = 0; i < ovf->ndisks; i++) {
        snprintf(id, sizeof(id), "file%zu", i + 1);
        x_start(x, "File");
        x_attr(x, "ovf:href", ovf->disks[i].file);
        x_attr(x, "ovf:id", id);
        x_attr_u64(x, "ovf:size", ovf->disks[i].file_size);
        x_end(x);
    }
    x_end(x);
}

static void
write_disk_section(xw *x, const glance_ovf *ovf)
{
    char id[32];
    size_t i;
    const ovf_disk *d;

    x_start(x, "DiskSection");
    x_elem(x, "Info", "Virtual disks of the snapshot set");
    for (i = 0; i < ovf->ndisks; i++) {
        d = &ovf->disks[i];
        x_start(x, "Disk");
        x_attr_u64(x, "ovf:capacity", d->capacity);
        x_attr(x, "ovf:capacityAllocationUnits", "byte");
        snprintf(id, sizeof(id), "vmdisk%zu", i + 1);
        x_attr(x, "ovf:diskId", id);
        snprintf(id, sizeof(id), "file%zu", i + 1);
        x_attr(x, "ovf:fileRef", id);
        x_attr(x, "ovf:format", format_uris[d->format]);
        if (d->populated_size)
            x_attr_u64(x, "ovf:populatedSize", d->populated_size);
        x_end(x);
    }
    x_end(x);
}

/* True when nic @i is the first one on its network. */
static bool
first_on_network(const glance_ovf *ovf, size_t i)
{
    size_t j;

    for (j = 0; j < i; j++) {
        if (strcmp(ovf->nics[j].network, ovf->nics[i].network) == 0)
            return false;
    }
    return true;
}

static void
write_network_section(xw *x, const glance_ovf *ovf)
{
    size_t i;

    if (ovf->nnics == 0)
        return;
    x_start(x, "NetworkSection");
    x_elem(x, "Info", "Logical networks the system is connected to");
    for (i = 0; i < ovf->nnics; i++) {
        if (!first_on_network(ovf, i))
            continue;
        x_start(x, "Network");
        x_attr(x, "ovf:name", ovf->nics[i].network);
        x_elemf(x, "Description", "The %s network", ovf->nics[i].network);
        x_end(x);
    }
    x_end(x);
}

static void
write_annotation(xw *x, const glance_ovf *ovf)
{
    char when[40];

    if (!ovf->has_facts)
        return;
    snap_iso8601(ovf->taken_ms, when, sizeof(when));
    x_start(x, "AnnotationSection");
    x_elem(x, "Info", "A human-readable annotation");
    x_elemf(x, "Annotation",
            "snapset snapshot set %s of domain '%s', taken %s "
            "(consistency: %s)",
            ovf->set_uuid, ovf->domain, when, ovf->consistency);
    x_end(x);
}

static void
write_os_section(xw *x, const glance_ovf *ovf)
{
    const struct os_info *os = os_lookup(ovf->os_type);
    unsigned id = arch_is_64bit(ovf->arch) ? os->id64 : os->id32;
    char buf[16];

    snprintf(buf, sizeof(buf), "%u", id);
    x_start(x, "OperatingSystemSection");
    x_attr(x, "ovf:id", buf);
    x_elem(x, "Info", "The guest operating system");
    x_elem(x, "Description", ovf->os_type);
    x_end(x);
}

static void
write_hardware_section(xw *x, const glance_ovf *ovf)
{
    char name[64], caption[64], label[64], addr[16], host[64];
    unsigned next_id = 1, ctrl_base;
    bool sata = false;
    item it;
    size_t i;

    for (i = 0; i < ovf->ncontrollers; i++)
        sata = sata || ovf->controllers[i].kind == CTRL_SATA;

    x_start(x, "VirtualHardwareSection");
    x_elem(x, "Info", "Virtual hardware requirements");
    x_start(x, "System");
    x_elem(x, "vssd:ElementName", "Virtual Hardware Family");
    x_elem(x, "vssd:InstanceID", "0");
    x_elem(x, "vssd:VirtualSystemIdentifier", ovf->name);
    /* VMware deploys only the hardware versions it knows; vmx-07 has the LSI
     * Logic and IDE controllers and is accepted by every ESXi since 4.0,
     * SATA needs vmx-10. VirtualBox and virt-v2v ignore the value. */
    x_elem(x, "vssd:VirtualSystemType", sata ? "vmx-10" : "vmx-07");
    x_end(x);

    memset(&it, 0, sizeof(it));
    it.address_on_parent = -1;
    it.allocation_units = "hertz * 10^6";
    it.description = "Number of virtual CPUs";
    snprintf(name, sizeof(name), "%u virtual CPU(s)", ovf->vcpus);
    it.element_name = name;
    it.instance_id = next_id++;
    it.resource_type = RT_PROCESSOR;
    it.virtual_quantity = ovf->vcpus;
    write_item(x, &it);

    memset(&it, 0, sizeof(it));
    it.address_on_parent = -1;
    it.allocation_units = "byte * 2^20";
    it.description = "Memory size";
    snprintf(name, sizeof(name), "%" PRIu64 " MB of memory", ovf->memory_mib);
    it.element_name = name;
    it.instance_id = next_id++;
    it.resource_type = RT_MEMORY;
    it.virtual_quantity = ovf->memory_mib;
    write_item(x, &it);

    ctrl_base = next_id;
    for (i = 0; i < ovf->ncontrollers; i++) {
        const ovf_ctrl *c = &ovf->controllers[i];
        const struct ctrl_info *ci = &ctrl_infos[c->kind];

        memset(&it, 0, sizeof(it));
        snprintf(addr, sizeof(addr), "%u", c->index);
        snprintf(caption, sizeof(caption), "%s%u", ci->caption, c->index);
        snprintf(label, sizeof(label), "%s %u", ci->label, c->index);
        it.address = addr;
        it.address_on_parent = -1;
        it.caption = caption;
        it.description = ci->label;
        it.element_name = label;
        it.instance_id = next_id++;
        it.resource_subtype = ci->subtype;
        it.resource_type = ci->resource_type;
        write_item(x, &it);
    }

    for (i = 0; i < ovf->ndisks; i++) {
        const ovf_disk *d = &ovf->disks[i];

        char *desc;

        memset(&it, 0, sizeof(it));
        snprintf(name, sizeof(name), "Hard disk %zu", i + 1);
        if (d->target)
            desc = x_printf(x, "%s disk %s of the source domain",
                            bus_names[d->bus], d->target);
        else
            desc =
                x_printf(x, "%s disk of the source domain", bus_names[d->bus]);
        snprintf(host, sizeof(host), "ovf:/disk/vmdisk%zu", i + 1);
        it.address_on_parent = d->unit;
        it.description = desc ? desc : "";
        it.element_name = name;
        it.host_resource = host;
        it.instance_id = next_id++;
        it.parent = ctrl_base + (unsigned)d->ctrl;
        it.resource_type = RT_DISK;
        write_item(x, &it);
        free(desc);
    }

    for (i = 0; i < ovf->nnics; i++) {
        const ovf_nic *n = &ovf->nics[i];
        const char *model = n->model ? n->model : "default";
        char *desc, *cut = NULL;
        size_t clen;

        memset(&it, 0, sizeof(it));
        snprintf(name, sizeof(name), "Ethernet adapter %zu", i + 1);
        clen = n->name ? utf8_prefix_len(n->name, CAPTION_MAX) : 0;
        if (n->name && n->name[clen]) {
            /* Too long for a Caption: the whole name goes into the
             * Description, so that nothing is lost. */
            cut = x_printf(x, "%.*s", (int)clen, n->name);
            desc = x_printf(x, "%s network adapter %s", model, n->name);
        } else {
            desc = x_printf(x, "%s network adapter", model);
        }
        it.address = n->mac;
        it.address_on_parent = -1;
        it.automatic_allocation = true;
        it.caption = cut ? cut : n->name;
        it.connection = n->network;
        it.description = desc ? desc : "";
        it.element_name = name;
        it.instance_id = next_id++;
        it.resource_subtype = nic_subtype(n->model);
        it.resource_type = RT_ETHERNET;
        write_item(x, &it);
        free(desc);
        free(cut);
    }
    x_end(x);
}

/* One Property of a ProductSection: a fact, never asked for on import. */
static void
write_property(xw *x, const char *key, const char *value)
{
    x_start(x, "Property");
    x_attr(x, "ovf:key", key);
    x_attr(x, "ovf:type", "string");
    x_attr(x, "ovf:userConfigurable", "false");
    x_attr(x, "ovf:value", value);
    x_end(x);
}

/* The set's own facts. DSP8023 has no extension point inside VirtualSystem
 * but the ovf:Section substitution group, and a section of our own would
 * join it only in a schema of our own, which importers do not have: one
 * that validates against DSP8023 would reject the package. So the facts go into
 * standard ProductSections, one Property per fact: every importer knows the
 * section (VMware shows the properties as vApp options), and ovf:required
 * is "false" all the same, since nothing needs them to run the system.
 * Keys hold no '.' or ':' (DSP0243 9.5: "class.key.instance" is the full
 * name); each member gets a section of its own, told apart by
 * ovf:instance, so that its facts keep plain keys. */
static void
write_set_sections(xw *x, const glance_ovf *ovf)
{
    char when[40], id[32], instance[32], *info;
    size_t i, j;

    if (ovf->has_facts) {
        snap_iso8601(ovf->taken_ms, when, sizeof(when));
        x_start(x, "ProductSection");
        x_attr(x, "ovf:class", GLANCE_OVF_CLASS_SET);
        x_attr(x, "ovf:required", "false");
        x_elem(x, "Info", "The snapshot set this package was made from");
        write_property(x, "uuid", ovf->set_uuid);
        write_property(x, "consistency", ovf->consistency);
        write_property(x, "time", when);
        write_property(x, "domain", ovf->domain);
        if (ovf->domain_uuid)
            write_property(x, "domain_uuid", ovf->domain_uuid);
        write_property(x, "architecture", ovf->arch);
        x_end(x);
    }
    for (i = 0; i < ovf->nmembers; i++) {
        const ovf_member *m = &ovf->members[i];

        snprintf(instance, sizeof(instance), "%zu", i + 1);
        x_start(x, "ProductSection");
        x_attr(x, "ovf:class", GLANCE_OVF_CLASS_MEMBER);
        x_attr(x, "ovf:instance", instance);
        x_attr(x, "ovf:required", "false");
        info = x_printf(x, "Member %s of the snapshot set", m->target);
        if (info)
            x_elem(x, "Info", info);
        free(info);
        write_property(x, "target", m->target);
        write_property(x, "kind", m->kind);
        if (m->source)
            write_property(x, "source", m->source);
        if (m->snapshot)
            write_property(x, "snapshot", m->snapshot);
        for (j = 0; j < ovf->ndisks; j++) {
            if (ovf->disks[j].target &&
                strcmp(ovf->disks[j].target, m->target) == 0) {
                snprintf(id, sizeof(id), "vmdisk%zu", j + 1);
                write_property(x, "disk_id", id);
                break;
            }
        }
        x_end(x);
    }
}

bool
glance_ovf_write(const glance_ovf *ovf, char **xml, size_t *len,
                 snap_error *err)
{
    xmlBufferPtr buf = NULL;
    xw x = {NULL, false};
    char *out = NULL;
    size_t n;
    bool ok = false;

    if (ovf->ndisks == 0)
        return snap_error_set(err, SNAP_E_INVALID,
                              "cannot describe system '%s': it has no disks",
                              ovf->name);
    buf = xmlBufferCreate();
    if (!buf) {
        snap_error_set(err, SNAP_E_NOMEM, "out of memory");
        goto cleanup;
    }
    x.w = xmlNewTextWriterMemory(buf, 0);
    if (!x.w) {
        snap_error_set(err, SNAP_E_NOMEM, "out of memory");
        goto cleanup;
    }
    if (xmlTextWriterSetIndent(x.w, 1) < 0 ||
        xmlTextWriterSetIndentString(x.w, BAD_CAST "  ") < 0 ||
        xmlTextWriterStartDocument(x.w, "1.0", "UTF-8", NULL) < 0)
        x.failed = true;

    x_start(&x, "Envelope");
    x_attr(&x, "xmlns", NS_OVF);
    x_attr(&x, "xmlns:ovf", NS_OVF);
    x_attr(&x, "xmlns:rasd", NS_RASD);
    x_attr(&x, "xmlns:vssd", NS_VSSD);
    x_attr(&x, "xml:lang", "en-US");
    write_references(&x, ovf);
    write_disk_section(&x, ovf);
    write_network_section(&x, ovf);

    x_start(&x, "VirtualSystem");
    x_attr(&x, "ovf:id", ovf->name);
    x_elem(&x, "Info", "A virtual machine");
    /* virt-v2v refuses a VirtualSystem without Name. */
    x_elem(&x, "Name", ovf->name);
    write_annotation(&x, ovf);
    write_os_section(&x, ovf);
    write_hardware_section(&x, ovf);
    write_set_sections(&x, ovf);
    x_end(&x); /* VirtualSystem */
    x_end(&x); /* Envelope */
    if (!x.failed && xmlTextWriterEndDocument(x.w) < 0)
        x.failed = true;
    if (x.failed) {
        snap_error_set(err, SNAP_E_NOMEM,
                       "cannot write descriptor of system '%s'", ovf->name);
        goto cleanup;
    }
    xmlFreeTextWriter(x.w); /* flushes into buf */
    x.w = NULL;

    n = (size_t)xmlBufferLength(buf);
    out = malloc(n + 1);
    if (!out) {
        snap_error_set(err, SNAP_E_NOMEM, "out of memory");
        goto cleanup;
    }
    memcpy(out, xmlBufferContent(buf), n);
    out[n] = '\0';
    *xml = out;
    *len = n;
    out = NULL;
    ok = true;

cleanup:
    if (x.w)
        xmlFreeTextWriter(x.w);
    xmlBufferFree(buf);
    free(out);
    return ok;
}
