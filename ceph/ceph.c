/* ceph/ceph.c -- see ceph.h. */
#include "ceph/ceph.h"

#include <errno.h>
#include <pthread.h>
#include <rados/librados.h>
#include <rbd/librbd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/snap_time.h"

struct ceph_cluster {
    pthread_mutex_t mu;
    int refs;
    rados_t rados;
    char user[64];
};

static ceph_cluster *
cluster_ref(ceph_cluster *c)
{
    pthread_mutex_lock(&c->mu);
    c->refs++;
    pthread_mutex_unlock(&c->mu);
    return c;
}

void
ceph_disconnect(ceph_cluster *c)
{
    int left;

    if (!c)
        return;
    pthread_mutex_lock(&c->mu);
    left = --c->refs;
    pthread_mutex_unlock(&c->mu);
    if (left > 0)
        return;
    rados_shutdown(c->rados);
    pthread_mutex_destroy(&c->mu);
    free(c);
}

/* librados takes its timeouts in whole seconds: rounded up, at least 1. */
static int
conf_secs(rados_t r, const char *option, int64_t ms)
{
    char buf[32];

    snprintf(buf, sizeof(buf), "%lld",
             (long long)(ms > 0 ? (ms + 999) / 1000 : 1));
    return rados_conf_set(r, option, buf);
}

ceph_cluster *
ceph_connect(const ceph_opts *o, snap_error *err)
{
    ceph_cluster *c;
    int r;

    if (!o || !o->user || !o->user[0] || strlen(o->user) >= 48) {
        snap_error_set(err, SNAP_E_INVALID, "ceph: no or bad client id");
        return NULL;
    }
    c = calloc(1, sizeof(*c));
    if (!c) {
        snap_error_set(err, SNAP_E_NOMEM, "out of memory");
        return NULL;
    }
    snprintf(c->user, sizeof(c->user), "client.%s", o->user);
    r = rados_create2(&c->rados, "ceph", c->user, 0);
    if (r < 0) {
        snap_error_set(err, SNAP_E_SYSTEM, "ceph: cannot create a client: %s",
                       strerror(-r));
        free(c);
        return NULL;
    }
    pthread_mutex_init(&c->mu, NULL);
    c->refs = 1;
    r = rados_conf_read_file(c->rados, o->conf);
    if (r < 0) {
        snap_error_set(err, SNAP_E_INVALID, "ceph: cannot read %s: %s",
                       o->conf ? o->conf : "the default ceph.conf",
                       strerror(-r));
        goto fail;
    }
    if (o->keyring && (r = rados_conf_set(c->rados, "keyring", o->keyring))) {
        snap_error_set(err, SNAP_E_INVALID, "ceph: bad keyring path '%s': %s",
                       o->keyring, strerror(-r));
        goto fail;
    }
    if (conf_secs(c->rados, "client_mount_timeout", o->connect_timeout_ms) ||
        conf_secs(c->rados, "rados_mon_op_timeout", o->op_timeout_ms) ||
        conf_secs(c->rados, "rados_osd_op_timeout", o->op_timeout_ms)) {
        snap_error_set(err, SNAP_E_INVALID, "ceph: cannot set the timeouts");
        goto fail;
    }
    r = rados_connect(c->rados);
    if (r < 0) {
        snap_error_set(err, r == -ETIMEDOUT ? SNAP_E_TIMEOUT : SNAP_E_SYSTEM,
                       "ceph: cannot connect as %s (conf %s): %s", c->user,
                       o->conf ? o->conf : "default", strerror(-r));
        goto fail;
    }
    return c;

fail:
    ceph_disconnect(c);
    return NULL;
}

bool
ceph_image_split(const char *spec, char *pool, size_t pool_size, char *image,
                 size_t image_size, snap_error *err)
{
    const char *slash = spec ? strchr(spec, '/') : NULL;
    size_t plen;

    if (!slash || slash == spec || !slash[1] || strchr(slash + 1, '/') ||
        strchr(spec, '@'))
        return snap_error_set(err, SNAP_E_INVALID,
                              "RBD image '%s' is not POOL/IMAGE",
                              spec ? spec : "");
    plen = (size_t)(slash - spec);
    if (plen >= pool_size || strlen(slash + 1) >= image_size)
        return snap_error_set(err, SNAP_E_INVALID, "RBD image '%s' too long",
                              spec);
    memcpy(pool, spec, plen);
    pool[plen] = '\0';
    snprintf(image, image_size, "%s", slash + 1);
    return true;
}

/* Opens image @spec; -errno with @err set on failure. */
static int
image_open(ceph_cluster *c, const char *spec, rados_ioctx_t *io,
           rbd_image_t *img, snap_error *err)
{
    char pool[128], name[256];
    int r;

    *io = NULL;
    *img = NULL;
    if (!ceph_image_split(spec, pool, sizeof(pool), name, sizeof(name), err))
        return -EINVAL;
    r = rados_ioctx_create(c->rados, pool, io);
    if (r < 0) {
        *io = NULL;
        snap_error_set(err, r == -ENOENT ? SNAP_E_NOTFOUND : SNAP_E_SYSTEM,
                       "ceph: no pool '%s' for %s: %s", pool, c->user,
                       strerror(-r));
        return r;
    }
    r = rbd_open(*io, name, img, NULL);
    if (r < 0) {
        *img = NULL;
        rados_ioctx_destroy(*io);
        *io = NULL;
        snap_error_set(err, r == -ENOENT ? SNAP_E_NOTFOUND : SNAP_E_SYSTEM,
                       "ceph: cannot open RBD image '%s' as %s: %s", spec,
                       c->user, strerror(-r));
    }
    return r;
}

static void
image_close(rados_ioctx_t io, rbd_image_t img)
{
    if (img)
        rbd_close(img);
    if (io)
        rados_ioctx_destroy(io);
}

bool
ceph_image_check(ceph_cluster *c, const char *spec, snap_error *err)
{
    rados_ioctx_t io;
    rbd_image_t img;

    if (image_open(c, spec, &io, &img, err) < 0)
        return false;
    image_close(io, img);
    return true;
}

/* ---- batches of creates ------------------------------------------------ */

typedef struct create_job {
    struct ceph_batch *b;
    char *spec;
    char *snap;
    rados_ioctx_t io;
    rbd_image_t img;
    int result; /* CEPH_PENDING until it ends */
} create_job;

struct ceph_batch {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int refs; /* the caller's, and one per running create */
    size_t n;
    size_t running;
    ceph_cluster *c;
    create_job *jobs;
    int64_t first_start, last_end;
};

static void
batch_unref(ceph_batch *b)
{
    size_t i;
    int left;

    pthread_mutex_lock(&b->mu);
    left = --b->refs;
    pthread_mutex_unlock(&b->mu);
    if (left > 0)
        return;
    for (i = 0; i < b->n; i++) {
        image_close(b->jobs[i].io, b->jobs[i].img);
        free(b->jobs[i].spec);
        free(b->jobs[i].snap);
    }
    free(b->jobs);
    ceph_disconnect(b->c);
    pthread_cond_destroy(&b->cv);
    pthread_mutex_destroy(&b->mu);
    free(b);
}

ceph_batch *
ceph_batch_new(ceph_cluster *c, const char *const *images,
               const char *const *snaps, size_t n, snap_error *err)
{
    ceph_batch *b = calloc(1, sizeof(*b));
    pthread_condattr_t ca;
    size_t i;

    if (!b || !(b->jobs = calloc(n ? n : 1, sizeof(*b->jobs)))) {
        free(b);
        snap_error_set(err, SNAP_E_NOMEM, "out of memory");
        return NULL;
    }
    pthread_mutex_init(&b->mu, NULL);
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&b->cv, &ca);
    pthread_condattr_destroy(&ca);
    b->refs = 1;
    b->n = n;
    b->c = cluster_ref(c);
    for (i = 0; i < n; i++) {
        create_job *j = &b->jobs[i];

        j->b = b;
        j->result = CEPH_PENDING;
        j->spec = strdup(images[i]);
        j->snap = strdup(snaps[i]);
        if (!j->spec || !j->snap) {
            snap_error_set(err, SNAP_E_NOMEM, "out of memory");
            goto fail;
        }
        if (image_open(c, j->spec, &j->io, &j->img, err) < 0)
            goto fail;
    }
    return b;

fail:
    batch_unref(b);
    return NULL;
}

static int
no_progress(uint64_t offset, uint64_t total, void *arg)
{
    (void)offset;
    (void)total;
    (void)arg;
    return 0;
}

static void *
create_main(void *arg)
{
    create_job *j = arg;
    ceph_batch *b = j->b;
    int r;

    /* No quiesce notification: the guest is frozen already, and QEMU
     * does not listen for one. */
    r = rbd_snap_create2(j->img, j->snap, RBD_SNAP_CREATE_SKIP_QUIESCE,
                         no_progress, NULL);
    pthread_mutex_lock(&b->mu);
    j->result = r < 0 ? r : 0;
    b->last_end = snap_now_ms();
    b->running--;
    pthread_cond_broadcast(&b->cv);
    pthread_mutex_unlock(&b->mu);
    batch_unref(b);
    return NULL;
}

bool
ceph_batch_start(ceph_batch *b, snap_error *err)
{
    pthread_attr_t attr;
    pthread_t th;
    size_t i;
    bool ok = true;
    int r;

    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    b->first_start = snap_now_ms();
    for (i = 0; i < b->n; i++) {
        pthread_mutex_lock(&b->mu);
        b->refs++;
        b->running++;
        pthread_mutex_unlock(&b->mu);
        r = pthread_create(&th, &attr, create_main, &b->jobs[i]);
        if (r != 0) {
            pthread_mutex_lock(&b->mu);
            b->refs--;
            b->running--;
            pthread_mutex_unlock(&b->mu);
            b->jobs[i].result = -r;
            ok = snap_error_set(err, SNAP_E_SYSTEM,
                                "cannot start the snapshot of '%s': %s",
                                b->jobs[i].spec, strerror(r));
            break;
        }
    }
    pthread_attr_destroy(&attr);
    return ok;
}

bool
ceph_batch_wait(ceph_batch *b, int64_t deadline_ms, snap_error *err)
{
    struct timespec ts;
    size_t i;
    bool ok = true;

    ts.tv_sec = (time_t)(deadline_ms / 1000);
    ts.tv_nsec = (long)(deadline_ms % 1000) * 1000000L;
    pthread_mutex_lock(&b->mu);
    while (b->running > 0 && snap_now_ms() < deadline_ms)
        (void)pthread_cond_timedwait(&b->cv, &b->mu, &ts);
    for (i = 0; i < b->n && ok; i++) {
        create_job *j = &b->jobs[i];

        if (j->result == CEPH_PENDING)
            ok = snap_error_set(err, SNAP_E_TIMEOUT,
                                "RBD snapshot '%s@%s' not made by the "
                                "deadline",
                                j->spec, j->snap);
        else if (j->result < 0)
            ok = snap_error_set(err, SNAP_E_SYSTEM,
                                "cannot create RBD snapshot '%s@%s': %s",
                                j->spec, j->snap, strerror(-j->result));
    }
    pthread_mutex_unlock(&b->mu);
    return ok;
}

int
ceph_batch_result(ceph_batch *b, size_t i)
{
    int r;

    pthread_mutex_lock(&b->mu);
    r = i < b->n ? b->jobs[i].result : -EINVAL;
    pthread_mutex_unlock(&b->mu);
    return r;
}

void
ceph_batch_times(ceph_batch *b, int64_t *first_start, int64_t *last_end)
{
    pthread_mutex_lock(&b->mu);
    *first_start = b->first_start;
    *last_end = b->running ? 0 : b->last_end;
    pthread_mutex_unlock(&b->mu);
}

void
ceph_batch_free(ceph_batch *b)
{
    if (b)
        batch_unref(b);
}

/* ---- finding and removing ---------------------------------------------- */

bool
ceph_snap_exists(ceph_cluster *c, const char *spec, const char *snap,
                 bool *exists, snap_error *err)
{
    rados_ioctx_t io;
    rbd_image_t img;
    snap_error e = {0};
    int r;

    *exists = false;
    r = image_open(c, spec, &io, &img, &e);
    if (r == -ENOENT)
        return true;
    if (r < 0)
        return snap_error_set(err, e.code, "%s", e.msg);
    r = rbd_snap_exists(img, snap, exists);
    image_close(io, img);
    if (r < 0)
        return snap_error_set(err, SNAP_E_SYSTEM,
                              "ceph: cannot list the snapshots of '%s': %s",
                              spec, strerror(-r));
    return true;
}

bool
ceph_snap_remove(ceph_cluster *c, const char *spec, const char *snap,
                 bool *removed, snap_error *err)
{
    rados_ioctx_t io;
    rbd_image_t img;
    snap_error e = {0};
    bool exists = false, ok = false;
    int prot = 0, r;

    if (removed)
        *removed = false;
    r = image_open(c, spec, &io, &img, &e);
    if (r == -ENOENT)
        return true;
    if (r < 0)
        return snap_error_set(err, e.code, "%s", e.msg);
    r = rbd_snap_exists(img, snap, &exists);
    if (r < 0) {
        snap_error_set(err, SNAP_E_SYSTEM,
                       "ceph: cannot list the snapshots of '%s': %s", spec,
                       strerror(-r));
        goto out;
    }
    if (!exists) {
        ok = true;
        goto out;
    }
    r = rbd_snap_is_protected(img, snap, &prot);
    if (r == 0 && prot)
        r = rbd_snap_unprotect(img, snap);
    if (r < 0) {
        snap_error_set(err, SNAP_E_SYSTEM,
                       "ceph: cannot unprotect RBD snapshot '%s@%s': %s", spec,
                       snap, strerror(-r));
        goto out;
    }
    r = rbd_snap_remove(img, snap);
    if (r < 0 && r != -ENOENT) {
        snap_error_set(err, SNAP_E_SYSTEM,
                       "ceph: cannot remove RBD snapshot '%s@%s': %s", spec,
                       snap, strerror(-r));
        goto out;
    }
    if (removed)
        *removed = r == 0;
    ok = true;

out:
    image_close(io, img);
    return ok;
}
