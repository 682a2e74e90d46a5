/* coordinator/ops/export_set.c -- the set an export reads: loaded under
 * the domain's lock, its domain.xml (hardware, disk buses, the guest OS),
 * and whether every member can be read (see export_job.h). */
#include "coordinator/ops/export_job.h"

#include <errno.h>
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

glance_bus
ops_export_member_bus(const ops_export_job *job, size_t i)
{
    const char *t = job->set->members[i].target;
    const char *bus = coord_domain_info_bus(&job->info, t);

    if (bus)
        return glance_bus_from_name(bus);
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
    const char *os, *bus;
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
    free(job->os_type);
    job->os_type = NULL;
    os = job->info.os_id ? os_from_libosinfo(job->info.os_id) : NULL;
    if (os && !coord_str_set(&job->os_type, os, err))
        goto cleanup;
    for (i = 0; i < job->set->nmembers; i++) {
        bus = coord_domain_info_bus(&job->info, job->set->members[i].target);
        if (ops_export_member_bus(job, i) == GLANCE_BUS_LAST) {
            snap_error_set(err, SNAP_E_INVALID,
                           "disk %s is on bus '%s', which an OVF package "
                           "cannot describe (virtio, scsi, sata and ide can)",
                           job->set->members[i].target, bus ? bus : "?");
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
