/* coordinator/ops/ctx.c -- see ctx.h. */
#include "coordinator/ops/ctx.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "common/snap_log.h"
#include "common/snap_proc.h"
#include "coordinator/coord_events.h"
#include "virt/virt.h"

bool
ops_catalog(ops_ctx *ctx, snap_error *err)
{
    if (!ctx->catalog)
        ctx->catalog = coord_catalog_open(ctx->conf.catalog_dir, err);
    return ctx->catalog != NULL;
}

int
ops_lock(ops_ctx *ctx, const char *domain_uuid, snap_error *err)
{
    int fd;

    if (ctx->held && strcmp(ctx->held_domain, domain_uuid) == 0) {
        /* A duplicate shares the flock; closing it leaves the holder's. */
        fd = fcntl(ctx->held_fd, F_DUPFD_CLOEXEC, 0);
        if (fd < 0)
            snap_error_set_errno(err, errno,
                                 "cannot share the lock of "
                                 "domain '%s'",
                                 domain_uuid);
        return fd;
    }
    if (!ops_catalog(ctx, err))
        return -1;
    return coord_catalog_lock(ctx->catalog, domain_uuid,
                              ctx->conf.lock_timeout_ms, err);
}

void
ops_hold(ops_ctx *ctx, int fd, const char *domain_uuid)
{
    ctx->held = fd >= 0;
    ctx->held_fd = fd;
    snprintf(ctx->held_domain, sizeof(ctx->held_domain), "%s", domain_uuid);
}

void
ops_unhold(ops_ctx *ctx)
{
    ctx->held = false;
    ctx->held_fd = -1;
    ctx->held_domain[0] = '\0';
}

void
ops_progress(ops_ctx *ctx, size_t done, size_t total)
{
    if (ctx->progress && total > 0)
        ctx->progress(ctx->progress_cls,
                      (int)(done >= total ? 100 : done * 100 / total));
}

void
ops_event(ops_ctx *ctx, const char *action, const char *kind, const char *id,
          const coord_set *set, const snap_error *err)
{
    coord_event ev;
    snap_error e = {0};
    char cli[64];

    if (!ctx->events) {
        if (!ops_catalog(ctx, &e) ||
            !(ctx->events = coord_events_new(coord_catalog_dir(ctx->catalog),
                                             NULL, &e))) {
            snap_warn("audit log: %s", e.msg);
            return;
        }
    }
    memset(&ev, 0, sizeof(ev));
    ev.actor =
        ctx->actor[0] ? ctx->actor : coord_events_actor_cli(cli, sizeof(cli));
    ev.action = action;
    ev.kind = kind;
    ev.id = id;
    ev.job = ctx->job[0] ? ctx->job : NULL;
    ev.failed = err && snap_error_isset(err);
    ev.error = ev.failed ? err->msg : NULL;
    if (set) {
        ev.domain = set->domain_name;
        ev.domain_uuid = set->domain_uuid[0] ? set->domain_uuid : NULL;
        ev.owner_project = coord_set_metadata(set, COORD_KEY_OWNER_PROJECT);
        ev.owner_project_name = coord_set_metadata(set, COORD_KEY_OWNER_NAME);
        ev.owner_project_domain =
            coord_set_metadata(set, COORD_KEY_OWNER_DOMAIN);
    }
    if (!coord_events_emit(ctx->events, &ev, &e))
        snap_warn("audit log: %s", e.msg);
}

bool
ops_connect(ops_ctx *ctx, snap_error *err)
{
    if (!ctx->conn)
        ctx->conn = virt_open(ctx->conf.libvirt_uri, err);
    return ctx->conn != NULL;
}

bool
ops_openstack(ops_ctx *ctx, snap_error *err)
{
    if (ctx->os_open)
        return true;
    if (!ctx->conf.openstack.enabled)
        return snap_error_set(err, SNAP_E_STATE,
                              "OpenStack is not configured (openstack.enabled "
                              "in snapset.conf)");
    if (!ops_os_open(&ctx->os, &ctx->conf.openstack, err))
        return false;
    ctx->os_open = true;
    return true;
}

void
ops_ctx_release(ops_ctx *ctx)
{
    if (ctx->os_open)
        ops_os_close(&ctx->os);
    coord_catalog_free(ctx->catalog);
    coord_catalog_free(ctx->templates);
    coord_events_free(ctx->events);
    if (ctx->conn)
        virt_close(ctx->conn);
    coord_conf_release(&ctx->conf);
    memset(ctx, 0, sizeof(*ctx));
}

/* The pid and its start time name one process: a recycled pid has another
 * start time. */
bool
ops_owner_alive(const coord_journal *j)
{
    if (j->owner_pid <= 0)
        return false;
    if (kill((pid_t)j->owner_pid, 0) < 0 && errno == ESRCH)
        return false;
    return snap_proc_start_time((pid_t)j->owner_pid) == j->owner_start;
}
