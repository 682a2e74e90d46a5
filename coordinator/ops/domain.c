/* coordinator/ops/domain.c -- see domain.h: the real ops_domain_ops, each
 * entry virt/domain.c over the context's connection (opened on first
 * use). */
#include "coordinator/ops/domain.h"

#include "virt/checkpoint.h"
#include "virt/domain.h"
#include "virt/virt.h"

const ops_domain_ops *
ops_domain(const ops_ctx *ctx)
{
    return ctx->domain ? ctx->domain : &ops_domain_libvirt;
}

static bool
d_find(ops_ctx *ctx, const char *id, char uuid[SNAP_UUID_LEN], char **name,
       snap_error *err)
{
    if (name)
        *name = NULL;
    return ops_connect(ctx, err) &&
           virt_domain_find(ctx->conn, id, uuid, name, err);
}

static int
d_persistent(ops_ctx *ctx, const char *uuid, snap_error *err)
{
    if (!ops_connect(ctx, err))
        return -1;
    return virt_domain_persistent(ctx->conn, uuid, err);
}

static bool
d_state(ops_ctx *ctx, const char *uuid, ops_domain_state *state,
        snap_error *err)
{
    virt_domain_state s;

    if (!ops_connect(ctx, err) ||
        !virt_domain_state_get(ctx->conn, uuid, &s, err))
        return false;
    switch (s) {
    case VIRT_DOMAIN_STATE_PAUSED:
        *state = OPS_DOMAIN_STATE_PAUSED;
        break;
    case VIRT_DOMAIN_STATE_RUNNING:
        *state = OPS_DOMAIN_STATE_RUNNING;
        break;
    default:
        *state = OPS_DOMAIN_STATE_OFF;
        break;
    }
    return true;
}

static char *
d_xml(ops_ctx *ctx, const char *uuid, unsigned flags, snap_error *err)
{
    unsigned f = 0;

    if (!ops_connect(ctx, err))
        return NULL;
    if (flags & OPS_DOMAIN_XML_INACTIVE)
        f |= VIRT_DOMAIN_XML_INACTIVE;
    if (flags & OPS_DOMAIN_XML_SECURE)
        f |= VIRT_DOMAIN_XML_SECURE;
    return virt_domain_xml(ctx->conn, uuid, f, err);
}

static bool
d_define(ops_ctx *ctx, const char *xml, char uuid[SNAP_UUID_LEN],
         snap_error *err)
{
    return ops_connect(ctx, err) &&
           virt_domain_define(ctx->conn, xml, uuid, err);
}

static bool
d_undefine(ops_ctx *ctx, const char *uuid, snap_error *err)
{
    return ops_connect(ctx, err) && virt_domain_undefine(ctx->conn, uuid, err);
}

static bool
d_start(ops_ctx *ctx, const char *uuid, snap_error *err)
{
    return ops_connect(ctx, err) && virt_domain_start(ctx->conn, uuid, err);
}

static bool
d_start_saved(ops_ctx *ctx, const char *path, snap_error *err)
{
    return ops_connect(ctx, err) &&
           virt_domain_start_saved(ctx->conn, path, err);
}

static bool
d_shutdown(ops_ctx *ctx, const char *uuid, bool agent, snap_error *err)
{
    return ops_connect(ctx, err) &&
           virt_domain_shutdown(ctx->conn, uuid, agent, err);
}

static bool
d_wait_off(ops_ctx *ctx, const char *uuid, int64_t timeout_ms)
{
    return ops_connect(ctx, NULL) &&
           virt_domain_wait_off(ctx->conn, uuid, timeout_ms);
}

static bool
d_destroy(ops_ctx *ctx, const char *uuid, snap_error *err)
{
    return ops_connect(ctx, err) && virt_domain_destroy(ctx->conn, uuid, err);
}

static bool
d_agent_ping(ops_ctx *ctx, const char *uuid, int64_t timeout_ms,
             snap_error *err)
{
    return ops_connect(ctx, err) &&
           virt_domain_agent_ping(ctx->conn, uuid, timeout_ms, err);
}

static int
d_managed_save(ops_ctx *ctx, const char *uuid, snap_error *err)
{
    if (!ops_connect(ctx, err))
        return -1;
    return virt_domain_managed_save(ctx->conn, uuid, err);
}

static bool
d_managed_save_remove(ops_ctx *ctx, const char *uuid, snap_error *err)
{
    return ops_connect(ctx, err) &&
           virt_domain_managed_save_remove(ctx->conn, uuid, err);
}

static bool
d_metadata_set(ops_ctx *ctx, const char *uuid, const char *xml, const char *key,
               const char *ns, bool live, snap_error *err)
{
    return ops_connect(ctx, err) &&
           virt_domain_metadata_set(ctx->conn, uuid, xml, key, ns, live, err);
}

static bool
d_block_pull(ops_ctx *ctx, const char *uuid, const char *target,
             int64_t timeout_ms, snap_error *err)
{
    return ops_connect(ctx, err) &&
           virt_domain_block_pull(ctx->conn, uuid, target, timeout_ms, err);
}

static bool
d_list(ops_ctx *ctx, char ***uuids, size_t *n, snap_error *err)
{
    *uuids = NULL;
    *n = 0;
    return ops_connect(ctx, err) && virt_domain_list(ctx->conn, uuids, n, err);
}

static bool
d_host_size(ops_ctx *ctx, unsigned *cpus, uint64_t *memory_kib, snap_error *err)
{
    return ops_connect(ctx, err) &&
           virt_host_size(ctx->conn, cpus, memory_kib, err);
}

static bool
d_network_check(ops_ctx *ctx, const char *name, snap_error *err)
{
    return ops_connect(ctx, err) && virt_network_check(ctx->conn, name, err);
}

static bool
d_secret_exists(ops_ctx *ctx, const char *uuid)
{
    return ops_connect(ctx, NULL) && virt_secret_exists(ctx->conn, uuid);
}

static bool
d_checkpoints_forget(ops_ctx *ctx, const char *uuid, const char *prefix,
                     snap_error *err)
{
    virDomainPtr dom;
    bool ok;

    if (!ops_connect(ctx, err))
        return false;
    dom = virt_domain_lookup(ctx->conn, uuid, err);
    if (!dom)
        return false;
    ok = virt_checkpoint_delete_all(dom, prefix, NULL, err);
    virt_domain_release(dom);
    return ok;
}

const ops_domain_ops ops_domain_libvirt = {
    .find = d_find,
    .persistent = d_persistent,
    .state = d_state,
    .xml = d_xml,
    .define = d_define,
    .undefine = d_undefine,
    .start = d_start,
    .start_saved = d_start_saved,
    .shutdown = d_shutdown,
    .wait_off = d_wait_off,
    .destroy = d_destroy,
    .agent_ping = d_agent_ping,
    .managed_save = d_managed_save,
    .managed_save_remove = d_managed_save_remove,
    .metadata_set = d_metadata_set,
    .block_pull = d_block_pull,
    .list = d_list,
    .host_size = d_host_size,
    .network_check = d_network_check,
    .secret_exists = d_secret_exists,
    .checkpoints_forget = d_checkpoints_forget,
};
