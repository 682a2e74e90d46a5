/* coordinator/app/virt.c -- see virt.h. */
#include "coordinator/app/virt.h"

#include <errno.h>
#include <libvirt/virterror.h>
#include <libxml/xmlwriter.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/snap_fs.h"
#include "common/snap_log.h"
#include "common/snap_time.h"
#include "qga/qga_libvirt.h"

static void
silent_error(void *opaque, virErrorPtr e)
{
    (void)opaque;
    (void)e; /* reported through snap_error where it matters */
}

bool
virt_error(snap_error *err, snap_code code, const char *what)
{
    virErrorPtr e = virGetLastError();

    return snap_error_set(err, code, "%s: %s", what,
                          e && e->message ? e->message
                                          : "unknown libvirt error");
}

virConnectPtr
virt_open(const char *uri, snap_error *err)
{
    virConnectPtr conn;
    char what[300];

    virSetErrorFunc(NULL, silent_error);
    conn = virConnectOpen(uri);
    if (!conn) {
        snprintf(what, sizeof(what), "cannot connect to libvirt at '%s'", uri);
        virt_error(err, SNAP_E_VIRT, what);
    }
    return conn;
}

virDomainPtr
virt_domain_lookup(virConnectPtr conn, const char *id, snap_error *err)
{
    virDomainPtr dom = virDomainLookupByName(conn, id);

    if (!dom && strlen(id) == 36)
        dom = virDomainLookupByUUIDString(conn, id);
    if (!dom)
        snap_error_set(err, SNAP_E_NOTFOUND, "no domain '%s'", id);
    return dom;
}

/* ---- guest --------------------------------------------------------------- */

bool
virt_guest_init(virt_guest *g, virDomainPtr dom, snap_error *err)
{
    g->dom = dom;
    g->agent = qga_agent_new(&qga_libvirt_ops, dom, err);
    return g->agent != NULL;
}

void
virt_guest_release(virt_guest *g)
{
    qga_agent_free(g->agent);
    g->agent = NULL;
}

static bool
g_ping(void *impl, int64_t timeout_ms, snap_error *err)
{
    virt_guest *g = impl;

    return qga_agent_ping(g->agent, timeout_ms, err);
}

static int
g_freeze(void *impl, const char *const *mounts, size_t nmounts,
         int64_t timeout_ms, snap_error *err)
{
    virt_guest *g = impl;

    return qga_fs_freeze(g->agent, mounts, nmounts, timeout_ms, err);
}

static int
g_thaw(void *impl, int64_t timeout_ms, snap_error *err)
{
    virt_guest *g = impl;

    return qga_fs_thaw(g->agent, timeout_ms, err);
}

static int
g_frozen(void *impl, int64_t timeout_ms, snap_error *err)
{
    virt_guest *g = impl;

    return qga_fs_frozen(g->agent, timeout_ms, err);
}

static bool
g_pause(void *impl, snap_error *err)
{
    virt_guest *g = impl;

    if (virDomainSuspend(g->dom) < 0)
        return virt_error(err, SNAP_E_VIRT, "cannot pause the domain");
    return true;
}

/* Resuming a domain that is not paused is success: recovery calls this
 * without knowing whether the pause happened. */
static bool
g_resume(void *impl, snap_error *err)
{
    virt_guest *g = impl;
    int state = 0, reason = 0;

    if (virDomainGetState(g->dom, &state, &reason, 0) == 0 &&
        state != VIR_DOMAIN_PAUSED)
        return true;
    if (virDomainResume(g->dom) < 0)
        return virt_error(err, SNAP_E_VIRT, "cannot resume the domain");
    return true;
}

const coord_guest_ops virt_guest_ops = {
    .ping = g_ping,
    .freeze = g_freeze,
    .thaw = g_thaw,
    .frozen = g_frozen,
    .pause = g_pause,
    .resume = g_resume,
};

/* ---- local disks: libvirt backup job, push mode -------------------------- */

static bool
is_listed(const size_t *idx, size_t n, size_t i)
{
    size_t k;

    for (k = 0; k < n; k++) {
        if (idx[k] == i)
            return true;
    }
    return false;
}

/* <domainbackup mode='push'><disks>
 *   <disk name='vda' type='file'><driver type='qcow2'/>
 *     <target file='SETDIR/vda.qcow2'/></disk>
 *   <disk name='vdb' backup='no'/>   (every disk not ours, e.g. Cinder)
 * </disks></domainbackup> */
static char *
backup_xml(coord_set *set, const size_t *idx, size_t n, snap_error *err)
{
    xmlBufferPtr buf = xmlBufferCreate();
    xmlTextWriterPtr w = buf ? xmlNewTextWriterMemory(buf, 0) : NULL;
    char *xml = NULL;
    size_t i;
    int rc = 0;

    if (!w) {
        snap_error_set(err, SNAP_E_NOMEM, "out of memory");
        goto cleanup;
    }
    rc |= xmlTextWriterStartElement(w, BAD_CAST "domainbackup") < 0;
    rc |= xmlTextWriterWriteAttribute(w, BAD_CAST "mode", BAD_CAST "push") < 0;
    rc |= xmlTextWriterStartElement(w, BAD_CAST "disks") < 0;
    for (i = 0; i < set->nmembers; i++) {
        coord_member *m = &set->members[i];

        rc |= xmlTextWriterStartElement(w, BAD_CAST "disk") < 0;
        rc |= xmlTextWriterWriteAttribute(w, BAD_CAST "name",
                                          BAD_CAST m->target) < 0;
        if (!is_listed(idx, n, i)) {
            rc |= xmlTextWriterWriteAttribute(w, BAD_CAST "backup",
                                              BAD_CAST "no") < 0;
        } else {
            rc |= xmlTextWriterWriteAttribute(w, BAD_CAST "type",
                                              BAD_CAST "file") < 0;
            rc |= xmlTextWriterStartElement(w, BAD_CAST "driver") < 0;
            rc |= xmlTextWriterWriteAttribute(w, BAD_CAST "type",
                                              BAD_CAST m->copy_format) < 0;
            rc |= xmlTextWriterEndElement(w) < 0;
            rc |= xmlTextWriterStartElement(w, BAD_CAST "target") < 0;
            rc |= xmlTextWriterWriteAttribute(w, BAD_CAST "file",
                                              BAD_CAST m->location) < 0;
            rc |= xmlTextWriterEndElement(w) < 0;
        }
        rc |= xmlTextWriterEndElement(w) < 0;
    }
    rc |= xmlTextWriterEndDocument(w) < 0;
    if (rc) {
        snap_error_set(err, SNAP_E_NOMEM, "cannot write the backup XML");
        goto cleanup;
    }
    xmlFreeTextWriter(w); /* flushes into buf */
    w = NULL;
    xml = strdup((const char *)xmlBufferContent(buf));
    if (!xml)
        snap_error_set(err, SNAP_E_NOMEM, "out of memory");

 cleanup:
    xmlFreeTextWriter(w);
    xmlBufferFree(buf);
    return xml;
}

static bool
d_begin(void *impl, coord_set *set, const size_t *idx, size_t n,
        snap_error *err)
{
    virt_disks *d = impl;
    char *xml = NULL, name[128];
    size_t i;
    bool ok = false;

    if (!snap_dir_make(set->dir, 0700, err))
        return false;
    for (i = 0; i < n; i++) {
        coord_member *m = &set->members[idx[i]];

        snprintf(name, sizeof(name), "%s.%s", m->target, d->copy_format);
        free(m->location);
        m->location = snap_path_join(set->dir, name, err);
        if (!m->location || !coord_str_set(&m->copy_format, d->copy_format,
                                           err))
            goto cleanup;
    }
    xml = backup_xml(set, idx, n, err);
    if (!xml)
        goto cleanup;
    snap_debug("backup XML: %s", xml);
    if (virDomainBackupBegin(d->dom, xml, NULL, 0) < 0) {
        virt_error(err, SNAP_E_VIRT, "cannot start the backup job");
        goto cleanup;
    }
    d->job_started = true;
    ok = true;

 cleanup:
    free(xml);
    return ok;
}

/* Reads the domain's current job: returns its type (VIR_DOMAIN_JOB_NONE
 * when there is none) or -1. */
static int
job_type(virDomainPtr dom, int *operation)
{
    virTypedParameterPtr params = NULL;
    int nparams = 0, type = 0, op = 0;

    if (virDomainGetJobStats(dom, &type, &params, &nparams, 0) < 0)
        return -1;
    if (virTypedParamsGetInt(params, nparams, VIR_DOMAIN_JOB_OPERATION, &op) < 1)
        op = 0;
    virTypedParamsFree(params, nparams);
    if (operation)
        *operation = op;
    return type;
}

static bool
d_finish(void *impl, coord_set *set, const size_t *idx, size_t n,
         int64_t timeout_ms, snap_error *err)
{
    virt_disks *d = impl;
    virTypedParameterPtr params = NULL;
    int nparams = 0, type = 0, op = 0;
    int64_t deadline = snap_now_ms() + timeout_ms, pause = 5;
    const char *msg = NULL;
    struct stat st;
    size_t i;
    bool ok = false;

    for (;;) {
        type = job_type(d->dom, &op);
        if (type < 0)
            return virt_error(err, SNAP_E_VIRT,
                              "cannot read the backup job's progress");
        if (type == VIR_DOMAIN_JOB_NONE ||
            op != VIR_DOMAIN_JOB_OPERATION_BACKUP)
            break;
        if (snap_now_ms() >= deadline) {
            return snap_error_set(err, SNAP_E_TIMEOUT,
                                  "local copies of set %s did not complete "
                                  "within %lld ms",
                                  set->uuid, (long long)timeout_ms);
        }
        snap_sleep_ms(pause);
        if (pause < 200)
            pause *= 2; /* short at first: small disks finish at once */
    }
    d->job_started = false;
    /* The job is gone; its completed stats say whether it succeeded. */
    if (virDomainGetJobStats(d->dom, &type, &params, &nparams,
                             VIR_DOMAIN_JOB_STATS_COMPLETED) < 0)
        return virt_error(err, SNAP_E_VIRT,
                          "cannot read the backup job's result");
    if (type != VIR_DOMAIN_JOB_COMPLETED) {
        if (virTypedParamsGetString(params, nparams, VIR_DOMAIN_JOB_ERRMSG,
                                    &msg) < 1)
            msg = "no reason given";
        snap_error_set(err, SNAP_E_VIRT, "backup job of set %s failed: %s",
                       set->uuid, msg);
        goto cleanup;
    }
    for (i = 0; i < n; i++) {
        coord_member *m = &set->members[idx[i]];

        if (stat(m->location, &st) < 0) {
            snap_error_set_errno(err, errno, "copy of disk '%s' is missing",
                                 m->target);
            goto cleanup;
        }
    }
    ok = true;

 cleanup:
    virTypedParamsFree(params, nparams);
    return ok;
}

bool
virt_backup_abort_into(virDomainPtr dom, const char *set_dir,
                       snap_error *err)
{
    char *xml;
    bool ours;
    int op = 0, type, tries;

    type = job_type(dom, &op);
    if (type <= VIR_DOMAIN_JOB_NONE || op != VIR_DOMAIN_JOB_OPERATION_BACKUP)
        return true;
    xml = virDomainBackupGetXMLDesc(dom, 0);
    ours = xml && strstr(xml, set_dir) != NULL;
    free(xml);
    if (!ours)
        return true; /* someone else's backup job: not ours to stop */
    if (virDomainAbortJob(dom) < 0)
        return virt_error(err, SNAP_E_VIRT, "cannot abort the backup job");
    for (tries = 0; tries < 100; tries++) {
        type = job_type(dom, &op);
        if (type <= VIR_DOMAIN_JOB_NONE ||
            op != VIR_DOMAIN_JOB_OPERATION_BACKUP)
            return true;
        snap_sleep_ms(50);
    }
    return snap_error_set(err, SNAP_E_TIMEOUT,
                          "the backup job did not stop after abort");
}

static bool
d_cancel(void *impl, coord_set *set, const size_t *idx, size_t n,
         snap_error *err)
{
    virt_disks *d = impl;
    size_t i;
    bool ok = true;

    if (d->job_started) {
        if (!virt_backup_abort_into(d->dom, set->dir, err))
            return false; /* files in use by a running job: keep them */
        d->job_started = false;
    }
    for (i = 0; i < n; i++) {
        coord_member *m = &set->members[idx[i]];

        if (m->location && !snap_path_remove(m->location, err))
            ok = false;
    }
    /* The directory is the set's alone: a copy a crash left unrecorded
     * (killed between the job's start and the journal write) goes too. */
    if (ok && set->dir && !snap_dir_remove_files(set->dir, err))
        ok = false;
    return ok;
}

const coord_disk_ops virt_disk_ops = {
    .begin = d_begin,
    .finish = d_finish,
    .cancel = d_cancel,
};
