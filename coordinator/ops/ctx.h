/* coordinator/ops/ctx.h -- what every operation runs with: the
 * configuration, and the catalog, libvirt connection and OpenStack session,
 * each opened on first use. */
#ifndef OPS_CTX_H
#define OPS_CTX_H

#include <stdbool.h>

#include "common/snap_error.h"
#include "common/snap_uuid.h"
#include "coordinator/coord_catalog.h"
#include "coordinator/coord_conf.h"
#include "coordinator/ops/openstack.h"

struct ops_domain_ops;
struct _virConnect; /* libvirt's virConnectPtr: only virt/ looks inside */

typedef struct ops_ctx {
    coord_conf conf;
    coord_catalog *catalog;   /* opened on first use */
    coord_catalog *templates; /* CATALOG/templates (ops/template.h) */
    struct _virConnect *conn; /* opened on first use */
    ops_os os;                /* opened on first use, if enabled */
    bool os_open;
    /* The domains as restore, spawn and flatten see them (ops/domain.h);
     * NULL: libvirt over @conn. Tests set a fake. */
    const struct ops_domain_ops *domain;
    /* A domain lock the caller already holds (serve takes it when it
     * accepts a job, to answer 409 at once): ops_lock() of that domain
     * shares it instead of waiting for it. See ops_hold(). */
    bool held;
    int held_fd;
    char held_domain[SNAP_UUID_LEN];
    /* The audit log (coord_events.h), opened on first use; who acts
     * ("": the command line, "cli:UID") and for which job ("": none). */
    struct coord_events *events;
    char actor[128];
    char job[SNAP_UUID_LEN];
    /* Told how far the running operation is, 0-100, where it can tell
     * (spawn: per VM, template: per disk, delete: per member); NULL: no
     * one asks. serve records it in the job (GET /v1/jobs/{id}). */
    void (*progress)(void *cls, int percent);
    void *progress_cls;
} ops_ctx;

bool ops_catalog(ops_ctx *ctx, snap_error *err);

/* Takes the lock of domain @domain_uuid (waiting up to timeouts.lock_ms):
 * a descriptor for coord_catalog_unlock(), or -1 with @err set. While the
 * caller holds that lock through ops_hold(), a descriptor sharing it. */
int ops_lock(ops_ctx *ctx, const char *domain_uuid, snap_error *err);

/* Hands the lock @fd of @domain_uuid the caller holds to the operations
 * run next with @ctx (it stays the caller's: ops_unhold() before closing
 * it). So no other process can take the domain between the caller's
 * acceptance of a job and the operation. */
void ops_hold(ops_ctx *ctx, int fd, const char *domain_uuid);

/* Records in the audit log that @action on resource @kind @id ended: ok
 * when @err is NULL or unset, else failed saying why. @set (may be NULL)
 * gives the domain and the owner (its snapset.owner.* metadata), so the
 * API shows the event to that project. A failure to record is a warning:
 * the operation goes on. */
/* Reports @done of @total steps of the running operation to
 * ctx->progress, if set. */
void ops_progress(ops_ctx *ctx, size_t done, size_t total);

void ops_event(ops_ctx *ctx, const char *action, const char *kind,
               const char *id, const coord_set *set, const snap_error *err);
void ops_unhold(ops_ctx *ctx);
bool ops_connect(ops_ctx *ctx, snap_error *err);
void ops_ctx_release(ops_ctx *ctx);

/* Opens the OpenStack session and Cinder client (openstack.enabled must be
 * set). */
bool ops_openstack(ops_ctx *ctx, snap_error *err);

/* True when the process recorded in @j is still alive. */
bool ops_owner_alive(const coord_journal *j);

#endif
