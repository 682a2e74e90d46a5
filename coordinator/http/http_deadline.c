/* coordinator/http/http_deadline.c -- see http_deadline.h. */
#include "coordinator/http/http_deadline.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>

#include "common/snap_log.h"
#include "common/snap_time.h"

#define REAPER_TICK_MS 100

/* An open connection, for the request deadline (MHD's socket context). */
typedef struct live_conn {
    int fd;
    int64_t start_ms; /* monotonic: its current request began */
    bool cut;
    struct live_conn *prev, *next;
} live_conn;

struct http_deadline {
    int64_t request_timeout_ms;
    pthread_mutex_t conn_mu; /* guards conns, reaper_stop */
    pthread_cond_t reaper_cv;
    live_conn *conns;
    pthread_t reaper;
    bool have_reaper;
    bool reaper_stop;
};

/* MHD_OPTION_NOTIFY_CONNECTION: keeps the list of open connections. */
void
http_deadline_notify(void *cls, struct MHD_Connection *conn,
                     void **socket_context,
                     enum MHD_ConnectionNotificationCode code)
{
    http_deadline *d = cls;
    live_conn *lc = *socket_context;
    const union MHD_ConnectionInfo *info;

    if (code == MHD_CONNECTION_NOTIFY_STARTED) {
        info = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
        lc = calloc(1, sizeof(*lc));
        if (!lc || !info) {
            free(lc);
            return; /* not watched: the idle timeout still applies */
        }
        lc->fd = info->connect_fd;
        lc->start_ms = snap_now_ms();
        pthread_mutex_lock(&d->conn_mu);
        lc->next = d->conns;
        if (d->conns)
            d->conns->prev = lc;
        d->conns = lc;
        pthread_mutex_unlock(&d->conn_mu);
        *socket_context = lc;
        return;
    }
    if (!lc)
        return;
    /* Closed: unlinked before MHD closes the socket, so the reaper never
     * shuts down a descriptor that another file has taken. */
    pthread_mutex_lock(&d->conn_mu);
    if (lc->prev)
        lc->prev->next = lc->next;
    else
        d->conns = lc->next;
    if (lc->next)
        lc->next->prev = lc->prev;
    pthread_mutex_unlock(&d->conn_mu);
    free(lc);
    *socket_context = NULL;
}

void
http_deadline_restart(http_deadline *d, struct MHD_Connection *conn)
{
    const union MHD_ConnectionInfo *info =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    live_conn *lc = info ? info->socket_context : NULL;

    if (!lc)
        return;
    pthread_mutex_lock(&d->conn_mu);
    lc->start_ms = snap_now_ms();
    pthread_mutex_unlock(&d->conn_mu);
}

/* Cuts connections whose request runs past request_timeout_ms: a client
 * that sends a byte now and then is not idle for MHD, so its timeout
 * alone never ends it. */
static void *
reaper_main(void *arg)
{
    http_deadline *d = arg;
    struct timespec ts;
    live_conn *lc;
    int64_t now;

    pthread_mutex_lock(&d->conn_mu);
    while (!d->reaper_stop) {
        now = snap_now_ms();
        for (lc = d->conns; lc; lc = lc->next) {
            if (!lc->cut && now - lc->start_ms > d->request_timeout_ms) {
                lc->cut = true;
                snap_info("http: closing a connection whose request took "
                          "longer than %lld ms",
                          (long long)d->request_timeout_ms);
                (void)shutdown(lc->fd, SHUT_RDWR); /* MHD sees the end */
            }
        }
        clock_gettime(CLOCK_MONOTONIC, &ts);
        ts.tv_nsec += REAPER_TICK_MS * 1000000L;
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
        (void)pthread_cond_timedwait(&d->reaper_cv, &d->conn_mu, &ts);
    }
    pthread_mutex_unlock(&d->conn_mu);
    return NULL;
}

void
http_cond_init_monotonic(pthread_cond_t *cv)
{
    pthread_condattr_t attr;

    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(cv, &attr);
    pthread_condattr_destroy(&attr);
}

http_deadline *
http_deadline_new(int64_t request_timeout_ms, snap_error *err)
{
    http_deadline *d = calloc(1, sizeof(*d));

    if (!d) {
        snap_error_set(err, SNAP_E_NOMEM, "out of memory");
        return NULL;
    }
    d->request_timeout_ms = request_timeout_ms;
    pthread_mutex_init(&d->conn_mu, NULL);
    http_cond_init_monotonic(&d->reaper_cv);
    if (pthread_create(&d->reaper, NULL, reaper_main, d) != 0) {
        snap_error_set(err, SNAP_E_SYSTEM,
                       "cannot start the request "
                       "deadline thread");
        http_deadline_free(d);
        return NULL;
    }
    d->have_reaper = true;
    return d;
}

void
http_deadline_free(http_deadline *d)
{
    if (!d)
        return;
    if (d->have_reaper) {
        pthread_mutex_lock(&d->conn_mu);
        d->reaper_stop = true;
        pthread_cond_signal(&d->reaper_cv);
        pthread_mutex_unlock(&d->conn_mu);
        pthread_join(d->reaper, NULL);
    }
    pthread_mutex_destroy(&d->conn_mu);
    pthread_cond_destroy(&d->reaper_cv);
    free(d);
}
