/* virt/virt.c -- see virt.h. */
#include "virt/virt.h"

#include <errno.h>
#include <pthread.h>
#include <libvirt/virterror.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xmlwriter.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/snap_fs.h"
#include "common/snap_log.h"
#include "common/snap_time.h"
#include "qga/qga_libvirt.h"
#include "virt/checkpoint.h"
#include "virt/qimg.h"

static void
silent_error(void *opaque, virErrorPtr e)
{
    (void)opaque;
    (void)e; /* reported through snap_error where it matters */
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

void
virt_close(virConnectPtr conn)
{
    if (conn)
        virConnectClose(conn);
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

virDomainPtr
virt_domain_by_uuid(virConnectPtr conn, const char *uuid)
{
    return virDomainLookupByUUIDString(conn, uuid);
}

void
virt_domain_release(virDomainPtr dom)
{
    if (dom)
        virDomainFree(dom);
}

bool
virt_domain_current(virDomainPtr dom, int *state, char **xml, snap_error *err)
{
    int reason = 0;

    *xml = NULL;
    if (virDomainGetState(dom, state, &reason, 0) < 0)
        return virt_error(err, SNAP_E_VIRT, "cannot read the domain's state");
    *xml = virDomainGetXMLDesc(dom, 0);
    if (!*xml)
        return virt_error(err, SNAP_E_VIRT, "cannot read the domain XML");
    return true;
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

/* ---- RAM state: a memory-only snapshot without metadata -------------------
 */

/* <domainsnapshot><name>snapset-UUID</name>
 *   <memory snapshot='external' file='SETDIR/memory.state'/>
 *   <disks><disk name='vda' snapshot='no'/>...</disks></domainsnapshot> */
static char *
memory_xml(const coord_set *set, snap_error *err)
{
    xmlBufferPtr buf = xmlBufferCreate();
    xmlTextWriterPtr w = buf ? xmlNewTextWriterMemory(buf, 0) : NULL;
    char *xml = NULL, name[64];
    size_t i;
    int rc = 0;

    if (!w) {
        snap_error_set(err, SNAP_E_NOMEM, "out of memory");
        goto cleanup;
    }
    snprintf(name, sizeof(name), "snapset-%s", set->uuid);
    rc |= xmlTextWriterStartElement(w, BAD_CAST "domainsnapshot") < 0;
    rc |= xmlTextWriterWriteElement(w, BAD_CAST "name", BAD_CAST name) < 0;
    rc |= xmlTextWriterStartElement(w, BAD_CAST "memory") < 0;
    rc |= xmlTextWriterWriteAttribute(w, BAD_CAST "snapshot",
                                      BAD_CAST "external") < 0;
    rc |= xmlTextWriterWriteAttribute(w, BAD_CAST "file",
                                      BAD_CAST set->memory) < 0;
    rc |= xmlTextWriterEndElement(w) < 0;
    rc |= xmlTextWriterStartElement(w, BAD_CAST "disks") < 0;
    for (i = 0; i < set->nmembers; i++) {
        rc |= xmlTextWriterStartElement(w, BAD_CAST "disk") < 0;
        rc |= xmlTextWriterWriteAttribute(w, BAD_CAST "name",
                                          BAD_CAST set->members[i].target) < 0;
        rc |= xmlTextWriterWriteAttribute(w, BAD_CAST "snapshot",
                                          BAD_CAST "no") < 0;
        rc |= xmlTextWriterEndElement(w) < 0;
    }
    rc |= xmlTextWriterEndDocument(w) < 0;
    if (rc) {
        snap_error_set(err, SNAP_E_NOMEM, "cannot write the snapshot XML");
        goto cleanup;
    }
    xmlFreeTextWriter(w);
    w = NULL;
    xml = strdup((const char *)xmlBufferContent(buf));
    if (!xml)
        snap_error_set(err, SNAP_E_NOMEM, "out of memory");

cleanup:
    xmlFreeTextWriter(w);
    xmlBufferFree(buf);
    return xml;
}

/* The save runs in a thread so this one can keep the deadline: libvirt's
 * call has no timeout of its own. */
typedef struct memory_call {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    virDomainPtr dom;
    char *xml;
    bool done, ok;
    snap_error err;
    int refs; /* the caller and the thread */
} memory_call;

static void
memory_call_unref(memory_call *c)
{
    bool last;

    pthread_mutex_lock(&c->lock);
    last = --c->refs == 0;
    pthread_mutex_unlock(&c->lock);
    if (!last)
        return;
    pthread_cond_destroy(&c->cond);
    pthread_mutex_destroy(&c->lock);
    virDomainFree(c->dom);
    free(c->xml);
    free(c);
}

static void *
memory_thread(void *arg)
{
    memory_call *c = arg;
    virDomainSnapshotPtr snap;
    snap_error e = {0};
    bool ok = false;

    snap = virDomainSnapshotCreateXML(c->dom, c->xml,
                                      VIR_DOMAIN_SNAPSHOT_CREATE_NO_METADATA);
    if (snap) {
        virDomainSnapshotFree(snap);
        ok = true;
    } else {
        virt_error(&e, SNAP_E_VIRT, "cannot save the memory state");
    }
    pthread_mutex_lock(&c->lock);
    c->ok = ok;
    c->err = e;
    c->done = true;
    pthread_cond_signal(&c->cond);
    pthread_mutex_unlock(&c->lock);
    memory_call_unref(c);
    return NULL;
}

/* Waits until the call is done or @deadline (monotonic ms) passes. */
static bool
memory_wait(memory_call *c, int64_t deadline)
{
    bool done;

    pthread_mutex_lock(&c->lock);
    while (!c->done && snap_ms_left(deadline) > 0) {
        struct timespec ts;
        int64_t left = snap_ms_left(deadline);

        clock_gettime(CLOCK_MONOTONIC, &ts);
        ts.tv_sec += left / 1000;
        ts.tv_nsec += (left % 1000) * 1000000L;
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&c->cond, &c->lock, &ts);
    }
    done = c->done;
    pthread_mutex_unlock(&c->lock);
    return done;
}

/* How long an aborted save may take to give up. */
#define MEMORY_ABORT_MS 10000

static bool
m_save(void *impl, coord_set *set, int64_t timeout_ms, snap_error *err)
{
    virt_memory *vm = impl;
    memory_call *c;
    pthread_condattr_t attr;
    pthread_t tid;
    int64_t t0 = snap_now_ms();
    bool ok = false;

    if (timeout_ms <= 0)
        return snap_error_set(err, SNAP_E_TIMEOUT,
                              "no time left in the paused window to save "
                              "the memory state");
    if (!snap_dir_make(set->dir, 0700, err))
        return false;
    c = calloc(1, sizeof(*c));
    if (!c)
        return snap_error_set(err, SNAP_E_NOMEM, "out of memory");
    pthread_mutex_init(&c->lock, NULL);
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&c->cond, &attr);
    pthread_condattr_destroy(&attr);
    c->refs = 1;
    c->xml = memory_xml(set, err);
    if (!c->xml || virDomainRef(vm->dom) < 0) {
        if (c->xml)
            virt_error(err, SNAP_E_VIRT, "cannot reference the domain");
        memory_call_unref(c);
        return false;
    }
    c->dom = vm->dom;
    snap_debug("memory snapshot XML: %s", c->xml);
    c->refs = 2;
    if (pthread_create(&tid, NULL, memory_thread, c) != 0) {
        c->refs = 1;
        memory_call_unref(c);
        return snap_error_set(err, SNAP_E_SYSTEM,
                              "cannot start the memory save thread");
    }
    pthread_detach(tid);
    if (!memory_wait(c, t0 + timeout_ms)) {
        /* Cancel the migration to file; the job then fails by itself. */
        if (virDomainAbortJob(vm->dom) < 0)
            snap_warn("domain: cannot abort the memory save: %s",
                      virGetLastErrorMessage());
        snap_error_set(err, SNAP_E_TIMEOUT,
                       "saving the memory state took more than %lld ms",
                       (long long)timeout_ms);
        if (!memory_wait(c, snap_now_ms() + MEMORY_ABORT_MS))
            snap_warn("the aborted memory save has not returned after %d "
                      "ms; going on",
                      MEMORY_ABORT_MS);
        goto cleanup;
    }
    ok = c->ok;
    if (!ok)
        *err = c->err;

cleanup:
    memory_call_unref(c);
    return ok;
}

static bool
m_remove(void *impl, coord_set *set, snap_error *err)
{
    (void)impl;
    if (!set->memory || unlink(set->memory) == 0 || errno == ENOENT)
        return true;
    return snap_error_set_errno(err, errno, "cannot remove '%s'", set->memory);
}

const coord_memory_ops virt_memory_ops = {
    .save = m_save,
    .remove = m_remove,
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
 *   <disk name='vdb' type='file' backupmode='incremental'
 *     incremental='snapset-PREVIOUS'>...</disk>   (an incremental member)
 *   <disk name='vdc' backup='no'/>   (every disk not ours, e.g. Cinder)
 * </disks></domainbackup>
 * A set with incremental members names each member's mode: full ones get
 * backupmode='full'. */
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
            if (m->mode == COORD_COPY_INCREMENTAL && set->checkpoint_from) {
                rc |= xmlTextWriterWriteAttribute(w, BAD_CAST "backupmode",
                                                  BAD_CAST "incremental") < 0;
                rc |= xmlTextWriterWriteAttribute(
                          w, BAD_CAST "incremental",
                          BAD_CAST set->checkpoint_from) < 0;
            } else if (set->checkpoint_from) {
                rc |= xmlTextWriterWriteAttribute(w, BAD_CAST "backupmode",
                                                  BAD_CAST "full") < 0;
            }
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

/* <domaincheckpoint><name>snapset-SET</name><disks>
 *   <disk name='vda' checkpoint='bitmap'/>   (every local qcow2 member)
 * </disks></domaincheckpoint>
 * Disks left out get checkpoint='no' from libvirt (Cinder volumes, raw
 * disks: QEMU keeps persistent bitmaps in qcow2 images only). */
static char *
checkpoint_xml(coord_set *set, const size_t *idx, size_t n, snap_error *err)
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
    rc |= xmlTextWriterStartElement(w, BAD_CAST "domaincheckpoint") < 0;
    rc |= xmlTextWriterWriteElement(w, BAD_CAST "name",
                                    BAD_CAST set->checkpoint) < 0;
    rc |= xmlTextWriterStartElement(w, BAD_CAST "disks") < 0;
    for (i = 0; i < n; i++) {
        coord_member *m = &set->members[idx[i]];

        if (!m->format || strcmp(m->format, "qcow2") != 0)
            continue;
        rc |= xmlTextWriterStartElement(w, BAD_CAST "disk") < 0;
        rc |= xmlTextWriterWriteAttribute(w, BAD_CAST "name",
                                          BAD_CAST m->target) < 0;
        rc |= xmlTextWriterWriteAttribute(w, BAD_CAST "checkpoint",
                                          BAD_CAST "bitmap") < 0;
        rc |= xmlTextWriterEndElement(w) < 0;
    }
    rc |= xmlTextWriterEndDocument(w) < 0;
    if (rc) {
        snap_error_set(err, SNAP_E_NOMEM, "cannot write the checkpoint XML");
        goto cleanup;
    }
    xmlFreeTextWriter(w);
    w = NULL;
    xml = strdup((const char *)xmlBufferContent(buf));
    if (!xml)
        snap_error_set(err, SNAP_E_NOMEM, "out of memory");

cleanup:
    xmlFreeTextWriter(w);
    xmlBufferFree(buf);
    return xml;
}

bool
virt_disk_capacity(virDomainPtr dom, const char *target, uint64_t *size,
                   snap_error *err)
{
    virDomainBlockInfo info;
    char what[128];

    if (virDomainGetBlockInfo(dom, target, &info, 0) < 0) {
        snprintf(what, sizeof(what), "cannot read the size of disk '%s'",
                 target);
        return virt_error(err, SNAP_E_VIRT, what);
    }
    *size = info.capacity;
    return true;
}

/* Names each copy ("SETDIR/vda.qcow2"). */
static bool
name_copies(virt_disks *d, coord_set *set, const size_t *idx, size_t n,
            snap_error *err)
{
    char name[128];
    size_t i;

    for (i = 0; i < n; i++) {
        coord_member *m = &set->members[idx[i]];

        snprintf(name, sizeof(name), "%s.%s", m->target, d->copy_format);
        free(m->location);
        m->location = snap_path_join(set->dir, name, err);
        if (!m->location ||
            !coord_str_set(&m->copy_format, d->copy_format, err))
            return false;
    }
    return true;
}

/* Before the freeze: the qcow2 targets, so that the job only writes into
 * them (creating them inside the window would lengthen it). A raw copy is
 * left to libvirt to create. The journal records the locations before
 * anything here is made (coord_job). */
static bool
d_prepare(void *impl, coord_set *set, const size_t *idx, size_t n,
          snap_error *err)
{
    virt_disks *d = impl;
    size_t i;

    if (!snap_dir_make(set->dir, 0700, err) ||
        !name_copies(d, set, idx, n, err))
        return false;
    /* A raw copy, or a set with RAM state: libvirt creates the targets
     * itself inside the job, as it always did. After the memory save the
     * disks are inactive in QEMU, and this is the one way of starting a
     * backup job on them that is known to work (such sets are full and
     * make no checkpoint: ops/chain.h). */
    if (strcmp(d->copy_format, "qcow2") != 0 || set->memory)
        return true;
    for (i = 0; i < n; i++) {
        coord_member *m = &set->members[idx[i]];
        bool incremental = m->mode == COORD_COPY_INCREMENTAL && m->backing;

        if (!m->size && !virt_disk_capacity(d->dom, m->target, &m->size, err))
            return false;
        if (!virt_qimg_create(m->location, m->size,
                              incremental ? m->backing : NULL, "qcow2",
                              d->image_timeout_ms, err))
            return false;
    }
    d->prepared = true;
    return true;
}

static bool
d_begin(void *impl, coord_set *set, const size_t *idx, size_t n,
        snap_error *err)
{
    virt_disks *d = impl;
    char *xml = NULL, *cpxml = NULL;
    bool ok = false;

    if (!d->prepared && (!snap_dir_make(set->dir, 0700, err) ||
                         !name_copies(d, set, idx, n, err)))
        return false;
    xml = backup_xml(set, idx, n, err);
    if (!xml ||
        (set->checkpoint && !(cpxml = checkpoint_xml(set, idx, n, err))))
        goto cleanup;
    snap_debug("backup XML: %s", xml);
    if (cpxml)
        snap_debug("checkpoint XML: %s", cpxml);
    if (virDomainBackupBegin(
            d->dom, xml, cpxml,
            d->prepared ? VIR_DOMAIN_BACKUP_BEGIN_REUSE_EXTERNAL : 0) < 0) {
        virt_error(err, SNAP_E_VIRT, "cannot start the backup job");
        goto cleanup;
    }
    d->job_started = true;
    ok = true;

cleanup:
    free(xml);
    free(cpxml);
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
    if (virTypedParamsGetInt(params, nparams, VIR_DOMAIN_JOB_OPERATION, &op) <
        1)
        op = 0;
    virTypedParamsFree(params, nparams);
    if (operation)
        *operation = op;
    return type;
}

/* Waits, bounded, until the backup job is gone, and reads from its
 * completed stats whether it succeeded. */
static bool
d_wait(void *impl, coord_set *set, const size_t *idx, size_t n,
       int64_t timeout_ms, snap_error *err)
{
    virt_disks *d = impl;
    virTypedParameterPtr params = NULL;
    int nparams = 0, type = 0, op = 0;
    int64_t deadline = snap_now_ms() + timeout_ms, pause = 5;
    const char *msg = NULL;
    bool ok = false;

    (void)idx;
    (void)n;
    if (d->copied)
        return true;
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
    d->copied = true;
    ok = true;

cleanup:
    virTypedParamsFree(params, nparams);
    return ok;
}

static bool
d_finish(void *impl, coord_set *set, const size_t *idx, size_t n,
         int64_t timeout_ms, snap_error *err)
{
    virt_disks *d = impl;
    virDomainBlockInfo info;
    struct stat st;
    size_t i;

    if (!d_wait(impl, set, idx, n, timeout_ms, err))
        return false;
    for (i = 0; i < n; i++) {
        coord_member *m = &set->members[idx[i]];

        if (stat(m->location, &st) < 0)
            return snap_error_set_errno(
                err, errno, "copy of disk '%s' is missing", m->target);
        /* The copy has the disk's virtual size; the catalog records it
         * (show, export and volume-from size from it). */
        if (virDomainGetBlockInfo(d->dom, m->target, &info, 0) == 0)
            m->size = info.capacity;
        else
            snap_warn("disk '%s': cannot read its virtual size: %s", m->target,
                      virGetLastErrorMessage());
        m->allocated = (uint64_t)st.st_blocks * 512;
        m->bytes_copied = (uint64_t)st.st_size;
        if (strcmp(m->copy_format, "qcow2") == 0 &&
            !virt_qimg_own_bytes(m->location, d->image_timeout_ms,
                                 &m->bytes_copied, err))
            return false;
        if (d->digest && !d->digest(m->location, m->sha256, err))
            return false;
    }
    return true;
}

static const char *
job_operation_name(int op)
{
    switch (op) {
    case VIR_DOMAIN_JOB_OPERATION_BACKUP:
        return "backup";
    case VIR_DOMAIN_JOB_OPERATION_SNAPSHOT:
        return "snapshot";
    case VIR_DOMAIN_JOB_OPERATION_SAVE:
        return "save";
    case VIR_DOMAIN_JOB_OPERATION_DUMP:
        return "dump";
    case VIR_DOMAIN_JOB_OPERATION_MIGRATION_OUT:
        return "migration";
    default:
        return "libvirt";
    }
}

bool
virt_domain_check_idle(virDomainPtr dom, const char *name, snap_error *err)
{
    int op = 0, type = job_type(dom, &op);

    if (type < 0)
        return virt_error(err, SNAP_E_VIRT, "cannot read the domain's job");
    if (type == VIR_DOMAIN_JOB_NONE)
        return true;
    return snap_error_set(err, SNAP_E_STATE,
                          "domain '%s' has a %s job running that is not "
                          "snapset's: the set's backup job cannot start "
                          "until it ends (virsh domjobinfo %s)",
                          name, job_operation_name(op), name);
}

bool
virt_backup_abort_into(virDomainPtr dom, const char *set_dir, snap_error *err)
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
    /* A failed set leaves no checkpoint behind: the next set would stack
     * on a copy that is gone. Not there (the job never began) is fine. */
    if (set->checkpoint && d->dom &&
        !virt_checkpoint_delete(d->dom, set->checkpoint, ok ? err : NULL))
        ok = false;
    return ok;
}

const coord_disk_ops virt_disk_ops = {
    .prepare = d_prepare,
    .begin = d_begin,
    .finish = d_finish,
    .wait = d_wait,
    .cancel = d_cancel,
};

/* ---- the owner of a domain ----------------------------------------------- */

static xmlNodePtr
child_named(xmlNodePtr parent, const char *name)
{
    xmlNodePtr n;

    for (n = parent ? parent->children : NULL; n; n = n->next) {
        if (n->type == XML_ELEMENT_NODE &&
            xmlStrcmp(n->name, (const xmlChar *)name) == 0)
            return n;
    }
    return NULL;
}

/* The attribute @name of @n, as a new string, or NULL (also when it is
 * empty). */
static bool
attr_dup(xmlNodePtr n, const char *name, char **out, snap_error *err)
{
    xmlChar *v = n ? xmlGetProp(n, (const xmlChar *)name) : NULL;
    bool ok = true;

    *out = NULL;
    if (v && v[0] && !(*out = strdup((const char *)v)))
        ok = snap_error_set(err, SNAP_E_NOMEM, "out of memory");
    if (v)
        xmlFree(v);
    return ok;
}

/* The metadata element of @ns, parsed; NULL when there is none. */
static xmlDocPtr
metadata_doc(virDomainPtr dom, const char *ns, snap_error *err, bool *failed)
{
    char *xml = virDomainGetMetadata(dom, VIR_DOMAIN_METADATA_ELEMENT, ns,
                                     VIR_DOMAIN_AFFECT_CURRENT);
    virErrorPtr e;
    xmlDocPtr doc;

    *failed = false;
    if (!xml) {
        e = virGetLastError();
        if (e && e->code != VIR_ERR_NO_DOMAIN_METADATA) {
            *failed = true;
            virt_error(err,
                       e->code == VIR_ERR_NO_DOMAIN ? SNAP_E_NOTFOUND
                                                    : SNAP_E_VIRT,
                       "cannot read the domain's owner metadata");
        }
        return NULL;
    }
    doc = xmlReadMemory(xml, (int)strlen(xml), "metadata.xml", NULL,
                        XML_PARSE_NONET | XML_PARSE_NOERROR |
                            XML_PARSE_NOWARNING);
    free(xml);
    return doc; /* malformed: as if there were none */
}

bool
virt_domain_owner(virDomainPtr dom, char **project, char **project_name,
                  char **project_domain, snap_error *err)
{
    xmlDocPtr doc;
    xmlNodePtr root, n;
    bool failed, ok = true;

    *project = *project_name = *project_domain = NULL;
    doc = metadata_doc(dom, VIRT_OWNER_NS, err, &failed);
    if (failed)
        return false;
    root = doc ? xmlDocGetRootElement(doc) : NULL;
    if (root && xmlStrcmp(root->name, (const xmlChar *)"owner") == 0) {
        ok = attr_dup(root, "project", project, err) &&
             attr_dup(root, "project_name", project_name, err) &&
             attr_dup(root, "project_domain", project_domain, err);
        if (ok && (*project || (*project_name && *project_domain))) {
            xmlFreeDoc(doc);
            return true;
        }
    }
    if (doc)
        xmlFreeDoc(doc);
    free(*project);
    free(*project_name);
    free(*project_domain);
    *project = *project_name = *project_domain = NULL;
    if (!ok)
        return false;

    doc = metadata_doc(dom, VIRT_NOVA_NS, err, &failed);
    if (failed)
        return false;
    root = doc ? xmlDocGetRootElement(doc) : NULL;
    if (root && xmlStrcmp(root->name, (const xmlChar *)"instance") == 0) {
        n = child_named(child_named(root, "owner"), "project");
        ok = attr_dup(n, "uuid", project, err);
    }
    if (doc)
        xmlFreeDoc(doc);
    return ok;
}
