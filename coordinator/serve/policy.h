/* coordinator/serve/policy.h -- backup policies: which domains a policy
 * selects, a run over them (parallel, with the policy's export and
 * retention), pruning by retention, and the API's rotation. Shared by
 * `snapset policy` and the scheduler of `snapset serve`. */
#ifndef SERVE_POLICY_H
#define SERVE_POLICY_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/snap_error.h"
#include "common/snap_uuid.h"
#include "coordinator/coord_catalog.h"
#include "coordinator/coord_conf.h"
#include "coordinator/coord_policy.h"
#include "coordinator/http/http_api.h"
#include "coordinator/ops/ctx.h"

/* Libvirt metadata namespace that names the policies of a domain:
 *   virsh metadata DOM --uri urn:snapset:policy --key snapset \
 *         --set '<policies>nightly weekly</policies>' */
#define SERVE_POLICY_METADATA_NS "urn:snapset:policy"

/* A domain a policy selects. */
typedef struct serve_target {
    char *name;
    char uuid[SNAP_UUID_LEN];
    bool active;
    bool missing; /* a policy entry that names no domain */
} serve_target;

void serve_targets_free(serve_target *t, size_t n);

/* The domains @p selects on @uri's host, sorted by name, plus one
 * "missing" entry for each plain name (not a glob) that matches no domain
 * at all. *@out: serve_targets_free(). */
bool serve_policy_select(const char *uri, const coord_policy *p,
                         serve_target **out, size_t *nout, snap_error *err);

typedef enum serve_vm_status {
    SERVE_VM_OK = 0,
    SERVE_VM_FAILED,
    SERVE_VM_SKIPPED,
} serve_vm_status;

/* "ok", "failed", "skipped". */
const char *serve_vm_status_name(serve_vm_status s);

/* What a run did with one domain. */
typedef struct serve_vm_result {
    serve_target t; /* borrowed from the run's targets */
    serve_vm_status status;
    char set_uuid[SNAP_UUID_LEN]; /* "" when no set was recorded */
    coord_set_state state;
    coord_consistency consistency;
    int64_t freeze_ms; /* -1: unknown */
    int64_t pause_ms;  /* -1: unknown */
    int64_t elapsed_ms;
    int pruned;
    char exported[512]; /* the Glance image id or the OVA file */
    char error[320];    /* room for a snap_error message and a prefix */
} serve_vm_result;

/* Runs @p now: selects its domains and makes a set of each, @p->parallelism
 * at a time, each worker with an ops_ctx of its own (a copy of @conf).
 * After a good set the policy's export runs, then its retention prunes the
 * domain's older sets (never after a failed set or export). @api (may be
 * NULL) observes each set; @stop (may be NULL) set: domains not begun yet
 * fail as "not started: snapset is stopping". False only when the domains
 * could not be selected; a domain's failure is in its result.
 * *@results (free()) borrow from *@targets (serve_targets_free()). */
bool serve_policy_execute(const coord_conf *conf, const coord_policy *p,
                          http_api *api, const atomic_bool *stop,
                          serve_target **targets, serve_vm_result **results,
                          size_t *n, snap_error *err);

/* What serve_policy_prune() decided and did with one set. */
typedef struct serve_prune_item {
    coord_set *set;        /* owned */
    coord_prune_mark mark; /* the retention verdict */
    bool keep;
    bool deleted;
    char error[256]; /* why the deletion failed, or "" */
} serve_prune_item;

void serve_prune_items_free(serve_prune_item *items, size_t n);

/* Applies @p's retention to all its sets (oldest first, counted per
 * domain) and, unless @dry_run, deletes what it removes with their exports.
 * A failed deletion is recorded in its item, the first of them in @first
 * (SNAP_OK when none), and the others go on. False when the catalog cannot
 * be read. *@items: serve_prune_items_free(). */
bool serve_policy_prune(ops_ctx *ctx, const coord_policy *p, bool dry_run,
                        serve_prune_item **items, size_t *nitems,
                        snap_error *first, snap_error *err);

/* After a good backup made through the API: keeps the newest @rotation
 * available sets of @domain_uuid and @backup_type; older ones of that type,
 * available or failed, go (every member, Cinder snapshots and exports
 * included, through ops_delete()). What fails is logged, @api (may be
 * NULL) observes each deletion. */
void serve_rotate(ops_ctx *ctx, http_api *api, const char *domain_uuid,
                  const char *domain_name, const char *backup_type,
                  int rotation);

#endif
