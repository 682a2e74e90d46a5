/* coordinator/ops/ctx.h -- what every operation runs with: the
 * configuration, and the catalog, libvirt connection and OpenStack session,
 * each opened on first use. */
#ifndef OPS_CTX_H
#define OPS_CTX_H

#include <stdbool.h>

#include "common/snap_error.h"
#include "coordinator/coord_catalog.h"
#include "coordinator/coord_conf.h"
#include "coordinator/ops/openstack.h"

struct ops_domain_ops;
struct _virConnect; /* libvirt's virConnectPtr: only virt/ looks inside */

typedef struct ops_ctx {
    coord_conf conf;
    coord_catalog *catalog;   /* opened on first use */
    struct _virConnect *conn; /* opened on first use */
    ops_os os;                /* opened on first use, if enabled */
    bool os_open;
    /* The domains as restore, spawn and flatten see them (ops/domain.h);
     * NULL: libvirt over @conn. Tests set a fake. */
    const struct ops_domain_ops *domain;
} ops_ctx;

bool ops_catalog(ops_ctx *ctx, snap_error *err);
bool ops_connect(ops_ctx *ctx, snap_error *err);
void ops_ctx_release(ops_ctx *ctx);

/* Opens the OpenStack session and Cinder client (openstack.enabled must be
 * set). */
bool ops_openstack(ops_ctx *ctx, snap_error *err);

/* True when the process recorded in @j is still alive. */
bool ops_owner_alive(const coord_journal *j);

#endif
