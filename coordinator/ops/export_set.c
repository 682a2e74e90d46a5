/* coordinator/ops/export_set.c -- the set an export reads: loaded under
 * the domain's lock, its domain.xml (hardware, disk buses, the guest OS),
 * and whether every member can be read (see export_job.h). */
#include "coordinator/ops/export_job.h"

#include <errno.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/snap_fs.h"

/* ---- the set and its domain -------------------------------------------- */

/* The guest OS named by libosinfo metadata (virt-install writes it), as
 * glance_ovf_set_os() knows them. */
static const char *
os_from_libosinfo(const char *id)
{
    static const struct {
        const char *needle, *os;
    } map[] = {
        {"debian.org/debian", "debian"},  {"ubuntu.com/ubuntu", "ubuntu"},
        {"redhat.com/rhel", "rhel"},      {"centos.org/centos", "centos"},
        {"suse.com/sles", "sles"},        {"freebsd.org/freebsd", "freebsd"},
        {"microsoft.com/win", "windows"},
    };
    size_t i;

    for (i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
        if (strstr(id, map[i].needle))
            return map[i].os;
    }
    if (strstr(id, "fedoraproject.org") || strstr(id, "archlinux.org") ||
        strstr(id, "alpinelinux.org") || strstr(id, "opensuse.org") ||
        strstr(id, "almalinux.org") || strstr(id, "rockylinux.org"))
        return "linux";
    return NULL;
}

/* What coord_domxml_parse() does not give: each disk's <target bus> and
 * the libosinfo OS id. */
static bool
domxml_extras(ops_export_job *job, const char *xml, snap_error *err)
{
    xmlDocPtr doc;
    xmlNodePtr root, n, c, t;
    xmlChar *dev, *bus;
    size_t i;

    doc = xmlReadMemory(xml, (int)strlen(xml), "domain.xml", NULL,
                        XML_PARSE_NONET | XML_PARSE_NOERROR |
                            XML_PARSE_NOWARNING);
    if (!doc)
        return snap_error_set(err, SNAP_E_INVALID,
                              "cannot parse the set's domain.xml");
    root = xmlDocGetRootElement(doc);
    for (n = root ? root->children : NULL; n; n = n->next) {
        if (n->type != XML_ELEMENT_NODE)
            continue;
        if (strcmp((const char *)n->name, "metadata") == 0) {
            for (c = n->children; c; c = c->next) {
                if (c->type != XML_ELEMENT_NODE ||
                    strcmp((const char *)c->name, "libosinfo") != 0)
                    continue;
                for (t = c->children; t; t = t->next) {
                    xmlChar *id;

                    if (t->type != XML_ELEMENT_NODE ||
                        strcmp((const char *)t->name, "os") != 0)
                        continue;
                    id = xmlGetProp(t, (const xmlChar *)"id");
                    if (id && os_from_libosinfo((const char *)id)) {
                        free(job->os_type);
                        job->os_type =
                            strdup(os_from_libosinfo((const char *)id));
                    }
                    xmlFree(id);
                }
            }
        }
        if (strcmp((const char *)n->name, "devices") != 0)
            continue;
        for (c = n->children; c; c = c->next) {
            if (c->type != XML_ELEMENT_NODE ||
                strcmp((const char *)c->name, "disk") != 0)
                continue;
            for (t = c->children; t; t = t->next) {
                if (t->type == XML_ELEMENT_NODE &&
                    strcmp((const char *)t->name, "target") == 0)
                    break;
            }
            if (!t)
                continue;
            dev = xmlGetProp(t, (const xmlChar *)"dev");
            bus = xmlGetProp(t, (const xmlChar *)"bus");
            for (i = 0; dev && bus && i < job->set->nmembers; i++) {
                if (strcmp(job->set->members[i].target, (const char *)dev) ==
                        0 &&
                    !job->buses[i])
                    job->buses[i] = strdup((const char *)bus);
            }
            xmlFree(dev);
            xmlFree(bus);
        }
    }
    xmlFreeDoc(doc);
    return true;
}

glance_bus
ops_export_member_bus(const ops_export_job *job, size_t i)
{
    const char *t = job->set->members[i].target;

    if (job->buses[i])
        return glance_bus_from_name(job->buses[i]);
    if (strncmp(t, "vd", 2) == 0)
        return GLANCE_BUS_VIRTIO;
    if (strncmp(t, "sd", 2) == 0)
        return GLANCE_BUS_SCSI;
    if (strncmp(t, "hd", 2) == 0)
        return GLANCE_BUS_IDE;
    return GLANCE_BUS_LAST;
}

bool
ops_export_load_set(ops_export_job *job, const char *id, snap_error *err)
{
    char *path = NULL, *xml = NULL;
    size_t i, len;
    bool ok = false;

    coord_set_free(job->set);
    job->set = coord_catalog_load(job->ctx->catalog, id, err);
    if (!job->set)
        return false;
    if (job->set->state != COORD_SET_AVAILABLE) {
        snap_error_set(err, SNAP_E_STATE,
                       "set %s is '%s': only an available set can be exported",
                       job->set->uuid, coord_set_state_name(job->set->state));
        goto cleanup;
    }
    if (job->set->nmembers == 0) {
        snap_error_set(err, SNAP_E_STATE, "set %s has no members",
                       job->set->uuid);
        goto cleanup;
    }
    for (i = 0; i < job->set->nmembers; i++) {
        const coord_member *m = &job->set->members[i];

        if (m->state != COORD_MEMBER_AVAILABLE || !m->location) {
            snap_error_set(
                err, SNAP_E_STATE, "member %s of set %s is '%s', not available",
                m->target, job->set->uuid, coord_member_state_name(m->state));
            goto cleanup;
        }
    }
    free(job->set_dir);
    job->set_dir = job->set->dir ? strdup(job->set->dir)
                                 : coord_catalog_set_dir(job->ctx->catalog,
                                                         job->set->uuid, err);
    if (!job->set_dir) {
        snap_error_set(err, SNAP_E_NOMEM, "out of memory");
        goto cleanup;
    }
    path = snap_path_join(job->set_dir, "domain.xml", err);
    if (!path)
        goto cleanup;
    xml = snap_file_read(path, 16 << 20, &len, err);
    if (!xml) {
        snap_error_set(err, SNAP_E_NOTFOUND,
                       "set %s has no domain.xml (made by an older snapset?): "
                       "cannot describe its hardware",
                       job->set->uuid);
        goto cleanup;
    }
    if (job->have_info)
        coord_domain_info_release(&job->info);
    job->have_info = false;
    if (!coord_domxml_parse(xml, &job->info, NULL, err))
        goto cleanup;
    job->have_info = true;
    free(job->buses);
    job->buses = calloc(job->set->nmembers, sizeof(*job->buses));
    if (!job->buses) {
        snap_error_set(err, SNAP_E_NOMEM, "out of memory");
        goto cleanup;
    }
    if (!domxml_extras(job, xml, err))
        goto cleanup;
    for (i = 0; i < job->set->nmembers; i++) {
        if (ops_export_member_bus(job, i) == GLANCE_BUS_LAST) {
            snap_error_set(err, SNAP_E_INVALID,
                           "disk %s is on bus '%s', which an OVF package "
                           "cannot describe (virtio, scsi, sata and ide can)",
                           job->set->members[i].target,
                           job->buses[i] ? job->buses[i] : "?");
            goto cleanup;
        }
    }
    ok = true;

 cleanup:
    free(path);
    free(xml);
    return ok;
}

/* Why this host cannot read Cinder member @m from RBD, or NULL when it can
 * try. */
static const char *
rbd_unreadable(ops_export_job *job, const coord_member *m, char *why,
               size_t size)
{
    static bool probed, have_rbd;
    const char *args[] = {"qemu-img", "--help", NULL};
    char *out = NULL;

    if (!m->source_type || strcmp(m->source_type, "network") != 0 ||
        !m->source || !strchr(m->source, '/')) {
        snprintf(why, size, "volume %s is not attached as an RBD image",
                 m->volume_id ? m->volume_id : "?");
        return why;
    }
    if (access(job->ceph_conf, R_OK) != 0) {
        snprintf(why, size, "'%s' (--ceph-conf) is not readable: %s",
                 job->ceph_conf, strerror(errno));
        return why;
    }
    if (!probed) {
        probed = true;
        /* qemu-img lists its block drivers in its help text; rbd comes
         * from Debian's qemu-block-extra. */
        if (ops_export_qemu_img(args, 30000, &out, NULL)) {
            have_rbd = out && strstr(out, " rbd") != NULL;
            free(out);
        }
    }
    if (!have_rbd) {
        snprintf(why, size,
                 "qemu-img has no rbd driver (Debian package "
                 "qemu-block-extra)");
        return why;
    }
    return NULL;
}

bool
ops_export_check_readable(ops_export_job *job, snap_error *err)
{
    char why[512];
    struct stat st;
    size_t i;

    for (i = 0; i < job->set->nmembers; i++) {
        const coord_member *m = &job->set->members[i];

        if (m->kind == COORD_MEMBER_CINDER) {
            if (rbd_unreadable(job, m, why, sizeof(why)))
                return snap_error_set(
                    err, SNAP_E_STATE,
                    "cannot export Cinder member %s: reading snapshots "
                    "through Cinder's API is not implemented, and this host "
                    "cannot read RBD: %s",
                    m->target, why);
        } else if (stat(m->location, &st) < 0) {
            return snap_error_set_errno(err, errno,
                                        "cannot read the copy of %s '%s'",
                                        m->target, m->location);
        }
    }
    return true;
}
