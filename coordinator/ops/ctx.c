/* coordinator/ops/ctx.c -- see ctx.h. */
#include "coordinator/ops/ctx.h"

#include <errno.h>
#include <signal.h>
#include <string.h>

#include "common/snap_proc.h"
#include "virt/virt.h"

bool
ops_catalog(ops_ctx *ctx, snap_error *err)
{
    if (!ctx->catalog)
        ctx->catalog = coord_catalog_open(ctx->conf.catalog_dir, err);
    return ctx->catalog != NULL;
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
