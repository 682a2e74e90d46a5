/* coordinator/ops/template.h -- templates: a full, independent copy of a
 * set's disks kept for spawning (the deploy-from-snapshot spec's "prepare
 * a template"). Any number of spawns from a template are linked clones of
 * its copies, so the set it came from can be deleted while they live.
 *
 * A template is recorded as a set document (coord_set) in a catalog of its
 * own, CATALOG/templates/ (its copies in CATALOG/templates/sets/<id>/):
 * every local member's location is the template's full copy, every Cinder
 * member's location and volume_id the template's own volume, made from the
 * set's snapshot. Its metadata names the set it came from
 * (OPS_TEMPLATE_KEY_SET) and keeps the set's owner.
 *
 * With Ceph RBD, Cinder makes a volume from a snapshot as a clone of it
 * unless the backend flattens (rbd_flatten_volume_from_snapshot): then
 * the set's Cinder snapshots stay in use while the template lives, and
 * `delete` of the set refuses, naming the template's volume. */
#ifndef OPS_TEMPLATE_H
#define OPS_TEMPLATE_H

#include <stdbool.h>
#include <stddef.h>

#include "common/snap_error.h"
#include "common/snap_uuid.h"
#include "coordinator/coord_set.h"
#include "coordinator/ops/ctx.h"

#define OPS_TEMPLATE_KEY_SET COORD_KEY_TEMPLATE_SET

/* The templates' catalog (CATALOG/templates), opened on first use. */
coord_catalog *ops_templates(ops_ctx *ctx, snap_error *err);

/* Makes a template of available set @set_id, labelled @name (NULL: the
 * set's domain name): full copies of its local members, new volumes from
 * its Cinder snapshots, its domain.xml. All or nothing: a failure removes
 * what it made. *@uuid receives the template's id. Holds the set's domain
 * lock while it copies. */
bool ops_template_create(ops_ctx *ctx, const char *set_id, const char *name,
                         char uuid[SNAP_UUID_LEN], snap_error *err);

/* Every template: a new array for coord_catalog_list_free(). */
bool ops_template_list(ops_ctx *ctx, coord_set ***out, size_t *n,
                       snap_error *err);

/* Template @id (a UUID or unique 8+ character prefix), complete and
 * usable, with its lock held in *@lock (coord_catalog_unlock()). */
coord_set *ops_template_load_locked(ops_ctx *ctx, const char *id, int *lock,
                                    snap_error *err);

/* Deletes template @id: refuses (SNAP_E_STATE, naming the domain or
 * volume) while a domain's disk is a linked clone of one of its copies or
 * a volume was made from one of its volumes; otherwise removes its copies,
 * its volumes and its record. */
bool ops_template_delete(ops_ctx *ctx, const char *id, snap_error *err);

#endif
