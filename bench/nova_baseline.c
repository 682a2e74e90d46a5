/* bench/nova_baseline.c -- the frozen window the way Nova makes it, timed.
 *
 *   nova_baseline [--uri URI] [--interval-ms MS] [--copy-dir DIR]
 *                 [--local-only] [--name NAME] DOMAIN
 *
 * What Nova does for a volume-backed snapshot (compute/api.py
 * snapshot_volume_backed, compute/manager.py quiesce_instance /
 * unquiesce_instance / _wait_for_snapshots_completion), on the same
 * libraries snapset uses:
 *
 *   1. virDomainFSFreeze(dom, NULL, 0, 0): every filesystem of the guest;
 *   2. one POST /snapshots after the other (create_snapshot_force), for
 *      every network disk whose <serial> is a volume id;
 *   3. the local disks (here: the root disk) fixed the way snapset fixes
 *      them: one libvirt backup job in push mode (virDomainBackupBegin),
 *      every other disk backup='no';
 *   4. for each snapshot in turn, GET /snapshots/{id} at once and then every
 *      INTERVAL ms (FixedIntervalLoopingCall(interval=0.5): the interval
 *      counts from the start of the previous call) until its status is not
 *      'creating';
 *   5. virDomainFSThaw. The thaw happens on every path, errors included.
 *
 * Outside the window (untimed): wait for the backup job, remove the copy,
 * delete the Cinder snapshots and wait until they are gone, so that the next
 * run starts from the same state.
 *
 * Prints one JSON object on stdout: the window and its parts in ms
 * (fractional), per snapshot when it was accepted and when a poll saw it
 * leave 'creating' (ms after the freeze call started), and the wall clock of
 * the freeze call's start (for the Cinder service logs). Exit status 0 when
 * every step worked, 1 otherwise (the JSON then has "error"), 2 for usage.
 *
 * Keystone/Cinder credentials come from the usual OS_* variables.
 */
#include <errno.h>
#include <getopt.h>
#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cinder/cinder.h"
#include "cinder/keystone.h"
#include "common/snap_error.h"
#include "common/snap_time.h"
#include "coordinator/coord_domxml.h"
#include "coordinator/coord_set.h"

#define BENCH_MAX_DISKS 32
#define BENCH_DELETE_TIMEOUT_MS 180000
#define BENCH_COPY_TIMEOUT_MS 600000

typedef struct bench_snap {
    const char *volume_id; /* borrowed from the set */
    const char *target;
    char *id; /* snapshot id, NULL until accepted */
    char status[32];
    double post_start_ms; /* offsets from the freeze call's start */
    double accepted_ms;
    double done_ms; /* the poll that saw it leave 'creating' */
    int polls;
} bench_snap;

typedef struct bench_run {
    const char *domain;
    const char *uri;
    const char *copy_dir;
    const char *name;
    int64_t interval_ms;
    bool local_only;

    int frozen; /* filesystems, -1: the freeze failed */
    double wall_start_ms;
    double freeze_ms, post_ms, backup_ms, request_ms, wait_ms, thaw_ms;
    double window_ms;
    int polls;
    int nlocal;
    char backup_dir[600];
    bench_snap snaps[BENCH_MAX_DISKS];
    size_t nsnaps;
    snap_error err;
} bench_run;

/* Monotonic time in ms with sub-ms resolution. */
static double
now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static double
wall_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static void
sleep_until(double t_ms)
{
    double left = t_ms - now_ms();
    struct timespec ts;

    if (left <= 0)
        return;
    ts.tv_sec = (time_t)(left / 1e3);
    ts.tv_nsec = (long)((left - (double)ts.tv_sec * 1e3) * 1e6);
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
}

static void
silent_error(void *opaque, virErrorPtr e)
{
    (void)opaque;
    (void)e; /* reported through snap_error */
}

static bool
virt_fail(snap_error *err, const char *what)
{
    virErrorPtr e = virGetLastError();

    return snap_error_set(err, SNAP_E_VIRT, "%s: %s", what,
                          e && e->message ? e->message : "unknown error");
}

static bool
is_volume_id(const char *s)
{
    size_t len = s ? strlen(s) : 0;

    return len == 36 && strspn(s, "0123456789abcdef-") == len;
}

static bool
is_cinder_disk(const coord_member *m)
{
    return m->source_type && strcmp(m->source_type, "network") == 0 &&
           is_volume_id(m->serial);
}

/* <domainbackup mode='push'><disks>: every local disk into DIR/<target>.qcow2,
 * every network disk (the Cinder volumes) backup='no' -- the XML snapset's
 * virt.c writes. */
static char *
backup_xml(const coord_set *set, const char *dir, snap_error *err)
{
    size_t size = 4096, len = 0, i;
    char *xml = malloc(size);
    int n;

    if (!xml) {
        snap_error_set(err, SNAP_E_NOMEM, "out of memory");
        return NULL;
    }
    len += (size_t)snprintf(xml, size, "<domainbackup mode='push'><disks>");
    for (i = 0; i < set->nmembers; i++) {
        const coord_member *m = &set->members[i];

        if (m->source_type && strcmp(m->source_type, "network") == 0)
            n = snprintf(xml + len, size - len, "<disk name='%s' backup='no'/>",
                         m->target);
        else
            n = snprintf(xml + len, size - len,
                         "<disk name='%s' type='file'><driver type='qcow2'/>"
                         "<target file='%s/%s.qcow2'/></disk>",
                         m->target, dir, m->target);
        if (n < 0 || (size_t)n >= size - len) {
            free(xml);
            snap_error_set(err, SNAP_E_INVALID, "backup XML too long");
            return NULL;
        }
        len += (size_t)n;
    }
    n = snprintf(xml + len, size - len, "</disks></domainbackup>");
    if (n < 0 || (size_t)n >= size - len) {
        free(xml);
        snap_error_set(err, SNAP_E_INVALID, "backup XML too long");
        return NULL;
    }
    return xml;
}

/* Returns the domain's current job type, or -1. */
static int
job_type(virDomainPtr dom)
{
    virTypedParameterPtr params = NULL;
    int nparams = 0, type = 0;

    if (virDomainGetJobStats(dom, &type, &params, &nparams, 0) < 0)
        return -1;
    virTypedParamsFree(params, nparams);
    return type;
}

/* Waits for the backup job to end (untimed), then removes its copies. */
static bool
backup_finish(virDomainPtr dom, const coord_set *set, const char *dir,
              snap_error *err)
{
    double deadline = now_ms() + BENCH_COPY_TIMEOUT_MS;
    char path[1024];
    size_t i;
    int type;

    for (;;) {
        type = job_type(dom);
        if (type < 0)
            return virt_fail(err, "cannot read the backup job");
        if (type == VIR_DOMAIN_JOB_NONE)
            break;
        if (now_ms() > deadline) {
            if (virDomainAbortJob(dom) < 0)
                virt_fail(err, "cannot abort the backup job");
            return snap_error_set(err, SNAP_E_TIMEOUT,
                                  "the backup job did not finish");
        }
        snap_sleep_ms(20);
    }
    for (i = 0; i < set->nmembers; i++) {
        const coord_member *m = &set->members[i];

        if (m->source_type && strcmp(m->source_type, "network") == 0)
            continue;
        snprintf(path, sizeof(path), "%s/%s.qcow2", dir, m->target);
        if (unlink(path) < 0 && errno != ENOENT)
            snap_error_set_errno(err, errno, "cannot remove '%s'", path);
    }
    if (rmdir(dir) < 0)
        snap_error_set_errno(err, errno, "cannot remove '%s'", dir);
    return !snap_error_isset(err);
}

/* The window: freeze, sequential POSTs, backup job, per-snapshot fixed
 * interval polling, thaw. */
static void
run_window(bench_run *r, virDomainPtr dom, cinder_client *cinder,
           const char *xml)
{
    double t0, t, next;
    size_t i;

    r->wall_start_ms = wall_ms();
    t0 = now_ms();
    r->frozen = virDomainFSFreeze(dom, NULL, 0, 0);
    r->freeze_ms = now_ms() - t0;
    if (r->frozen < 0) {
        virt_fail(&r->err, "cannot freeze the guest's filesystems");
        goto thaw; /* a freeze that failed may have frozen some */
    }

    /* 2. one request after the other */
    t = now_ms();
    for (i = 0; i < r->nsnaps; i++) {
        bench_snap *s = &r->snaps[i];
        cinder_snapshot_req req = {0};
        cinder_snapshot *snap;
        char name[128];

        snprintf(name, sizeof(name), "%s-%s", r->name, s->target);
        req.volume_id = s->volume_id;
        req.name = name;
        req.description = "nova-style baseline (snapset bench)";
        s->post_start_ms = now_ms() - t0;
        snap = cinder_snapshot_create(cinder, &req, &r->err);
        s->accepted_ms = now_ms() - t0;
        if (!snap)
            goto thaw;
        s->id = strdup(snap->id);
        snprintf(s->status, sizeof(s->status), "%s", snap->status);
        cinder_snapshot_free(snap);
        if (!s->id) {
            snap_error_set(&r->err, SNAP_E_NOMEM, "out of memory");
            goto thaw;
        }
    }
    r->post_ms = now_ms() - t;

    /* 3. the local disks, the way snapset fixes them */
    if (r->nlocal > 0) {
        t = now_ms();
        if (virDomainBackupBegin(dom, xml, NULL, 0) < 0) {
            virt_fail(&r->err, "cannot start the backup job");
            r->backup_ms = now_ms() - t;
            goto thaw;
        }
        r->backup_ms = now_ms() - t;
    }
    r->request_ms = r->post_ms + r->backup_ms;

    /* 4. _wait_for_snapshots_completion: one snapshot after the other */
    t = now_ms();
    for (i = 0; i < r->nsnaps; i++) {
        bench_snap *s = &r->snaps[i];

        for (;;) {
            cinder_snapshot *snap;
            double start = now_ms();

            s->polls++;
            r->polls++;
            snap = cinder_snapshot_show(cinder, s->id, &r->err);
            if (!snap)
                goto thaw;
            snprintf(s->status, sizeof(s->status), "%s", snap->status);
            cinder_snapshot_free(snap);
            if (strcmp(s->status, "creating") != 0) {
                s->done_ms = now_ms() - t0;
                break;
            }
            next = start + (double)r->interval_ms;
            sleep_until(next);
        }
    }
    r->wait_ms = now_ms() - t;
    for (i = 0; i < r->nsnaps; i++) {
        if (strcmp(r->snaps[i].status, "available") != 0)
            snap_error_set(
                &r->err, SNAP_E_STATE, "snapshot '%s' of volume '%s' is '%s'",
                r->snaps[i].id, r->snaps[i].volume_id, r->snaps[i].status);
    }

thaw:
    t = now_ms();
    if (virDomainFSThaw(dom, NULL, 0, 0) < 0) {
        /* Never leave a guest frozen: one more try, then tell. */
        if (virDomainFSThaw(dom, NULL, 0, 0) < 0)
            virt_fail(&r->err, "cannot thaw the guest's filesystems");
    }
    r->thaw_ms = now_ms() - t;
    r->window_ms = now_ms() - t0;
}

/* Prints @s as a JSON string. */
static void
print_str(const char *s)
{
    putchar('"');
    for (; *s; s++) {
        if (*s == '"' || *s == '\\')
            printf("\\%c", *s);
        else if ((unsigned char)*s < 0x20)
            printf("\\u%04x", (unsigned char)*s);
        else
            putchar(*s);
    }
    putchar('"');
}

static void
print_json(const bench_run *r)
{
    size_t i;

    printf("{\"tool\":\"nova-baseline\",\"domain\":\"%s\","
           "\"interval_ms\":%lld,\"n_volumes\":%zu,\"n_local\":%d,"
           "\"frozen_filesystems\":%d,\"wall_start_ms\":%.1f,"
           "\"window_ms\":%.2f,\"freeze_ms\":%.2f,\"post_ms\":%.2f,"
           "\"backup_begin_ms\":%.2f,\"request_ms\":%.2f,\"wait_ms\":%.2f,"
           "\"thaw_ms\":%.2f,\"polls\":%d,\"snapshots\":[",
           r->domain, (long long)r->interval_ms, r->nsnaps, r->nlocal,
           r->frozen, r->wall_start_ms, r->window_ms, r->freeze_ms, r->post_ms,
           r->backup_ms, r->request_ms, r->wait_ms, r->thaw_ms, r->polls);
    for (i = 0; i < r->nsnaps; i++) {
        const bench_snap *s = &r->snaps[i];

        printf("%s{\"volume_id\":\"%s\",\"target\":\"%s\",\"id\":%s%s%s,"
               "\"status\":\"%s\",\"post_start_ms\":%.2f,"
               "\"accepted_ms\":%.2f,\"done_ms\":%.2f,\"polls\":%d}",
               i ? "," : "", s->volume_id, s->target, s->id ? "\"" : "",
               s->id ? s->id : "null", s->id ? "\"" : "", s->status,
               s->post_start_ms, s->accepted_ms, s->done_ms, s->polls);
    }
    printf("]");
    if (snap_error_isset(&r->err)) {
        printf(",\"error\":");
        print_str(r->err.msg);
    }
    printf("}\n");
}

static void
usage(FILE *f)
{
    fprintf(f, "usage: nova_baseline [--uri URI] [--interval-ms MS] "
               "[--copy-dir DIR] [--local-only] [--name NAME] DOMAIN\n");
}

/* A flat sequence: options, then one round of the baseline as Nova does it
 * (freeze, snapshot each disk, thaw), timed step by step. */
int
main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"uri", required_argument, NULL, 'u'},
        {"interval-ms", required_argument, NULL, 'i'},
        {"copy-dir", required_argument, NULL, 'd'},
        {"local-only", no_argument, NULL, 'l'},
        {"name", required_argument, NULL, 'n'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    bench_run r;
    virConnectPtr conn = NULL;
    virDomainPtr dom = NULL;
    cinder_session *session = NULL;
    cinder_client *cinder = NULL;
    coord_set *set = NULL;
    coord_domain_info info;
    cinder_auth_opts auth;
    char *dxml = NULL, *bxml = NULL, tmpl[600];
    const char *ids[BENCH_MAX_DISKS];
    size_t i, nids = 0;
    snap_error cleanup_err = {0};
    int c, rc = 1;

    memset(&r, 0, sizeof(r));
    memset(&info, 0, sizeof(info));
    r.uri = "qemu:///system";
    r.copy_dir = "/tmp";
    r.name = "nova-baseline";
    r.interval_ms = 500;
    r.frozen = -1;
    while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        switch (c) {
        case 'u':
            r.uri = optarg;
            break;
        case 'i':
            r.interval_ms = strtoll(optarg, NULL, 10);
            break;
        case 'd':
            r.copy_dir = optarg;
            break;
        case 'l':
            r.local_only = true;
            break;
        case 'n':
            r.name = optarg;
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (optind != argc - 1 || r.interval_ms < 1) {
        usage(stderr);
        return 2;
    }
    r.domain = argv[optind];

    /* Everything Nova has before the quiesce: a connection, the domain's
     * disks, a token and the Cinder endpoint. */
    virSetErrorFunc(NULL, silent_error);
    conn = virConnectOpen(r.uri);
    if (!conn) {
        virt_fail(&r.err, "cannot connect to libvirt");
        goto out;
    }
    dom = virDomainLookupByName(conn, r.domain);
    if (!dom) {
        snap_error_set(&r.err, SNAP_E_NOTFOUND, "no domain '%s'", r.domain);
        goto out;
    }
    dxml = virDomainGetXMLDesc(dom, 0);
    set = dxml ? coord_set_new(&r.err) : NULL;
    if (!dxml || !set || !coord_domxml_parse(dxml, &info, set, &r.err)) {
        if (!dxml)
            virt_fail(&r.err, "cannot read the domain XML");
        goto out;
    }
    for (i = 0; i < set->nmembers; i++) {
        const coord_member *m = &set->members[i];

        if (is_cinder_disk(m)) {
            if (r.local_only)
                continue;
            if (r.nsnaps == BENCH_MAX_DISKS) {
                snap_error_set(&r.err, SNAP_E_INVALID, "too many disks");
                goto out;
            }
            r.snaps[r.nsnaps].volume_id = m->serial;
            r.snaps[r.nsnaps].target = m->target;
            r.nsnaps++;
        } else if (!m->source_type || strcmp(m->source_type, "network") != 0) {
            r.nlocal++;
        }
    }
    if (r.nlocal > 0) {
        snprintf(tmpl, sizeof(tmpl), "%s/nova-baseline.XXXXXX", r.copy_dir);
        if (!mkdtemp(tmpl)) {
            snap_error_set_errno(&r.err, errno,
                                 "cannot make a directory "
                                 "in '%s'",
                                 r.copy_dir);
            goto out;
        }
        snprintf(r.backup_dir, sizeof(r.backup_dir), "%s", tmpl);
        bxml = backup_xml(set, r.backup_dir, &r.err);
        if (!bxml)
            goto out;
    }
    if (r.nsnaps > 0) {
        if (!cinder_auth_opts_from_env(&auth, &r.err))
            goto out;
        session = cinder_session_new(&auth, &r.err);
        if (!session || !cinder_session_authenticate(session, &r.err))
            goto out;
        cinder = cinder_client_new(session, NULL, &r.err);
        if (!cinder)
            goto out;
    }

    run_window(&r, dom, cinder, bxml);

    /* Untimed: leave nothing behind. */
    if (r.nlocal > 0 && r.backup_ms > 0)
        (void)backup_finish(dom, set, r.backup_dir, &cleanup_err);
    for (i = 0; i < r.nsnaps; i++) {
        snap_error e = {0};

        if (!r.snaps[i].id)
            continue;
        if (!cinder_snapshot_delete(cinder, r.snaps[i].id, &e)) {
            /* still creating after a failure: let it settle first */
            const char *one[1] = {r.snaps[i].id};

            snap_error_clear(&e);
            (void)cinder_snapshots_wait(cinder, one, 1, NULL,
                                        snap_now_ms() + 60000, NULL, &e);
            snap_error_clear(&e);
            if (!cinder_snapshot_delete(cinder, r.snaps[i].id, &e)) {
                snap_error_set(&cleanup_err, e.code, "%s", e.msg);
                continue;
            }
        }
        ids[nids++] = r.snaps[i].id;
    }
    if (nids > 0)
        (void)cinder_snapshots_wait_deleted(
            cinder, ids, nids, snap_now_ms() + BENCH_DELETE_TIMEOUT_MS,
            &cleanup_err);
    if (snap_error_isset(&cleanup_err))
        fprintf(stderr, "nova_baseline: cleanup: %s\n", cleanup_err.msg);
    rc = snap_error_isset(&r.err) ? 1 : 0;

out:
    if (r.backup_dir[0])
        (void)rmdir(r.backup_dir); /* gone already, or never used */
    print_json(&r);
    if (snap_error_isset(&r.err))
        fprintf(stderr, "nova_baseline: %s\n", r.err.msg);
    for (i = 0; i < r.nsnaps; i++)
        free(r.snaps[i].id);
    cinder_client_free(cinder);
    cinder_session_free(session);
    coord_domain_info_release(&info);
    coord_set_free(set);
    free(bxml);
    free(dxml);
    if (dom)
        virDomainFree(dom);
    if (conn)
        virConnectClose(conn);
    return rc;
}
