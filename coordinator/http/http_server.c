/* coordinator/http/http_server.c -- see http_api.h. The server's life: its
 * options, MHD's daemon and callbacks; the other files of the module do
 * the rest (http_api_priv.h says which). */
#include "coordinator/http/http_api.h"
#include "coordinator/http/http_api_priv.h"

#include <errno.h>
#include <microhttpd.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "common/snap_log.h"
#include "common/snap_strv.h"
#include "coordinator/http/http_auth.h"
#include "coordinator/http/http_deadline.h"
#include "coordinator/http/http_metrics.h"
#include "coordinator/http/http_route.h"

/* ---- the MHD callbacks --------------------------------------------------- */

static enum MHD_Result
on_request(void *cls, struct MHD_Connection *conn, const char *url,
           const char *method, const char *version, const char *upload_data,
           size_t *upload_data_size, void **con_cls)
{
    http_api *api = cls;
    http_request *rq = *con_cls;
    bool answered;
    enum MHD_Result ret;

    (void)version;
    if (!rq) {
        rq = calloc(1, sizeof(*rq));
        if (!rq)
            return MHD_NO;
        *con_cls = rq;
        rq->route = http_route_match(url, rq->arg, sizeof(rq->arg), rq->arg2,
                                     sizeof(rq->arg2));
        ret = http_route_refuse_early(api, conn, method, rq, &answered);
        rq->answered = answered;
        return ret;
    }
    if (rq->answered) {
        *upload_data_size = 0; /* discard */
        return MHD_YES;
    }
    if (*upload_data_size) {
        size_t n = *upload_data_size;

        if (!rq->too_large && rq->len + n > api->max_body) {
            rq->too_large = true; /* no Content-Length (chunked) */
            free(rq->body);
            rq->body = NULL;
            rq->len = 0;
        }
        if (!rq->too_large) {
            char *grown = realloc(rq->body, rq->len + n + 1);

            if (!grown)
                return MHD_NO;
            memcpy(grown + rq->len, upload_data, n);
            rq->body = grown;
            rq->len += n;
            rq->body[rq->len] = '\0';
        }
        *upload_data_size = 0;
        return MHD_YES;
    }
    rq->answered = true;
    return http_route_answer(api, conn, method, rq);
}

static void
on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
             enum MHD_RequestTerminationCode toe)
{
    http_api *api = cls;
    http_request *rq = *con_cls;

    (void)toe;
    http_deadline_restart(api->deadline, conn);
    if (!rq)
        return;
    http_identity_release(&rq->id);
    free(rq->body);
    free(rq);
    *con_cls = NULL;
}

static void on_mhd_log(void *cls, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

static void
on_mhd_log(void *cls, const char *fmt, va_list ap)
{
    char msg[512];

    (void)cls;
    vsnprintf(msg, sizeof(msg), fmt, ap);
    msg[strcspn(msg, "\n")] = '\0';
    snap_info("http: %s", msg);
}

/* ---- lifecycle ----------------------------------------------------------- */

void
http_api_opts_init(http_api_opts *o)
{
    static char *const admin[] = {"admin"};

    memset(o, 0, sizeof(*o));
    o->address = "127.0.0.1";
    o->max_body_bytes = 65536;
    o->threads = 4;
    o->max_connections = 256;
    o->max_connections_per_ip = 16;
    o->connection_timeout_ms = 30000;
    o->request_timeout_ms = 30000;
    o->allowed_roles = admin;
    o->nallowed_roles = 1;
    o->token_cache_ms = 60000;
    o->negative_cache_ms = 10000;
    o->validate_timeout_ms = 5000;
    o->validators = 4;
    o->quiesce = COORD_QUIESCE_PREFERRED;
}

int
http_api_port(const http_api *api)
{
    return api->port;
}

void
http_api_observe_set(http_api *api, const coord_set *set)
{
    if (!api)
        return;
    http_metrics_observe_set(api->metrics, set);
}

void
http_api_observe_delete(http_api *api, bool ok)
{
    if (!api)
        return;
    http_metrics_observe_delete(api->metrics, ok);
}

void
http_api_observe_verify(http_api *api, int64_t wall_ms, size_t checked,
                        size_t broken)
{
    if (!api)
        return;
    http_metrics_observe_verify(api->metrics, wall_ms, checked, broken);
}

void
http_api_free(http_api *api)
{
    if (!api)
        return;
    if (api->mhd)
        MHD_stop_daemon(api->mhd); /* no request waits any more */
    http_auth_free(api->auth);
    http_deadline_free(api->deadline);
    snap_strv_free(api->roles, api->nroles);
    snap_strv_free(api->projects, api->nprojects);
    http_metrics_free(api->metrics);
    free(api);
}

static bool
opts_check(const http_api_opts *o, snap_error *err)
{
    if (!o->backend || !o->backend->domain_lookup || !o->backend->create ||
        !o->backend->list || !o->backend->get || !o->backend->remove)
        return snap_error_set(err, SNAP_E_INVALID,
                              "http api: incomplete backend");
    if (o->threads < 1 || o->port < 0 || o->port > 65535 ||
        o->max_body_bytes < 2 || o->max_connections < 1 ||
        o->max_connections_per_ip < 1 || o->request_timeout_ms < 1 ||
        o->connection_timeout_ms < 1 ||
        (o->auth && (o->validators < 1 || o->validate_timeout_ms < 1 ||
                     o->token_cache_ms < 0 || o->negative_cache_ms < 0)))
        return snap_error_set(err, SNAP_E_INVALID, "http api: bad options");
    return true;
}

/* Binds @o->address and @o->port and starts MHD's threads; api->port is
 * the port bound. */
static bool
api_listen(http_api *api, const http_api_opts *o, snap_error *err)
{
    struct addrinfo hints, *ai = NULL;
    struct sockaddr_storage addr;
    socklen_t alen = sizeof(addr);
    const union MHD_DaemonInfo *info;
    unsigned flags = MHD_USE_THREAD_PER_CONNECTION |
                     MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL |
                     MHD_USE_ERROR_LOG;
    char port[16];
    int rc;

    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | AI_PASSIVE;
    snprintf(port, sizeof(port), "%d", o->port);
    rc = getaddrinfo(o->address, port, &hints, &ai);
    if (rc != 0 || !ai || ai->ai_addrlen > sizeof(addr)) {
        if (ai)
            freeaddrinfo(ai);
        return snap_error_set(err, SNAP_E_INVALID,
                              "bad listen address '%s': use a numeric IPv4 "
                              "or IPv6 address",
                              o->address ? o->address : "");
    }
    memcpy(&addr, ai->ai_addr, ai->ai_addrlen);
    if (ai->ai_family == AF_INET6)
        flags |= MHD_USE_IPv6;
    freeaddrinfo(ai);

    api->mhd = MHD_start_daemon(
        flags, 0, NULL, NULL, on_request, api, MHD_OPTION_SOCK_ADDR,
        (struct sockaddr *)&addr, MHD_OPTION_CONNECTION_TIMEOUT,
        (unsigned)((o->connection_timeout_ms + 999) / 1000),
        MHD_OPTION_CONNECTION_LIMIT, o->max_connections,
        MHD_OPTION_PER_IP_CONNECTION_LIMIT, o->max_connections_per_ip,
        MHD_OPTION_NOTIFY_CONNECTION, http_deadline_notify, api->deadline,
        MHD_OPTION_NOTIFY_COMPLETED, on_completed, api,
        MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, api, MHD_OPTION_END);
    if (!api->mhd)
        return snap_error_set(err, SNAP_E_SYSTEM,
                              "cannot listen on %s port %d (in use, or not "
                              "an address of this host)",
                              o->address, o->port);
    info = MHD_get_daemon_info(api->mhd, MHD_DAEMON_INFO_LISTEN_FD);
    if (!info ||
        getsockname(info->listen_fd, (struct sockaddr *)&addr, &alen) < 0)
        return snap_error_set_errno(err, errno,
                                    "cannot read the listening port");
    api->port = addr.ss_family == AF_INET6
                    ? ntohs(((struct sockaddr_in6 *)&addr)->sin6_port)
                    : ntohs(((struct sockaddr_in *)&addr)->sin_port);
    return true;
}

http_api *
http_api_new(const http_api_opts *o, snap_error *err)
{
    http_api *api = NULL;

    if (!opts_check(o, err))
        return NULL;
    api = calloc(1, sizeof(*api));
    if (!api) {
        snap_error_set(err, SNAP_E_NOMEM, "out of memory");
        return NULL;
    }
    api->max_body = o->max_body_bytes;
    api->backend = o->backend;
    api->backend_impl = o->backend_impl;
    api->quiesce = o->quiesce;
    api->pause = o->pause;
    if (!snap_strv_copy(&api->roles, &api->nroles, o->allowed_roles,
                        o->nallowed_roles, err) ||
        !snap_strv_copy(&api->projects, &api->nprojects, o->allowed_projects,
                        o->nallowed_projects, err))
        goto error;
    api->metrics = http_metrics_new();
    if (!api->metrics) {
        snap_error_set(err, SNAP_E_NOMEM, "out of memory");
        goto error;
    }
    api->authz.roles = api->roles;
    api->authz.nroles = api->nroles;
    api->authz.projects = api->projects;
    api->authz.nprojects = api->nprojects;
    api->auth = http_auth_new(o, err);
    if (!api->auth)
        goto error;
    api->deadline = http_deadline_new(o->request_timeout_ms, err);
    if (!api->deadline)
        goto error;
    if (!api_listen(api, o, err))
        goto error;
    return api;

error:
    http_api_free(api);
    return NULL;
}
