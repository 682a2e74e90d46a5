/* coordinator/ops/rbd.h -- Cinder members on Ceph RBD whose point in time
 * snapset fixes itself (openstack.direct_rbd).
 *
 * Through Cinder's API a snapshot keeps the guest frozen while cinder-api,
 * the scheduler and cinder-volume do their bookkeeping; the point in time
 * of an RBD volume is fixed the moment its RBD snapshot exists. So for
 * these members snapset creates the RBD snapshots itself inside the
 * freeze (librbd, all at once, one deadline: ceph/ceph.h), and after the
 * thaw registers each with Cinder (POST /manageable_snapshots, which the
 * RBD driver turns into an ordinary snapshot: renamed, protected). From
 * then on the member is a Cinder snapshot like any other.
 *
 * The choice is made per member before the freeze (never inside it) and
 * recorded (coord_member.snap_path, path_reason): direct when the disk is
 * Cinder's RBD image of the volume (<source protocol='rbd'
 * name='POOL/volume-ID'>, and the attachment's connection_info, where
 * Cinder keeps one, says the same), the host's Ceph key opens it, Cinder
 * speaks 3.8 and the token carries a role of openstack.manage_roles; otherwise
 * the REST path of ops/openstack.c. The RBD snapshot's name,
 * "snapset-<set uuid>-<target>", is journaled before the freeze, so that
 * recover and delete find one that Cinder never took over. */
#ifndef OPS_RBD_H
#define OPS_RBD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ceph/ceph.h"
#include "cinder/cinder.h"
#include "cinder/keystone.h"
#include "common/snap_error.h"
#include "coordinator/coord_conf.h"
#include "coordinator/coord_set.h"

/* The direct path's state, one per OpenStack connection (ops_os). */
typedef struct ops_rbd {
    const coord_openstack_conf *conf; /* borrowed */
    cinder_session *session;          /* borrowed */
    cinder_client *cinder;            /* borrowed */
    int64_t delete_timeout_ms;
    ceph_cluster *ceph;    /* connected while a set needs it */
    ceph_batch *batch;     /* the set's snapshots being made */
    size_t *batch_members; /* member index of each */
    size_t nbatch;
} ops_rbd;

/* True when member @m takes (or took) the direct path. */
bool ops_rbd_member(const coord_member *m);

/* Decides the path of every Cinder member of @set, records it, and for
 * the direct ones opens their images. @attachments (optional) holds, per
 * member index, the id of the volume's attachment to domain @domain_uuid:
 * its connection_info, when Cinder keeps one, must say rbd and name the
 * disk's image (the domain's attachments are read in one request; a
 * direct member's path_reason says what confirmed it).
 * False with @err when the set
 * cannot be made as asked (openstack.direct_rbd = "always" and a member
 * cannot go direct, or a failure talking to Cinder or Ceph that is not
 * just a reason to take the REST path). */
bool ops_rbd_classify(ops_rbd *r, coord_set *set, const char *domain_uuid,
                      const char *const *attachments, snap_error *err);

/* Inside the freeze, once the local disks' points are fixed: starts
 * every RBD snapshot at once and waits until each exists, under
 * monotonic @deadline_ms. A member whose snapshot failed is marked
 * COORD_MEMBER_FAILED; one still being made stays REQUESTED (found by
 * name later). */
bool ops_rbd_wait(ops_rbd *r, coord_set *set, int64_t deadline_ms,
                  snap_error *err);

/* After the thaw: registers each direct member's snapshot with Cinder
 * (with the set's metadata and consistency) and waits until it is
 * available; member->location becomes the Cinder snapshot's id. In
 * rounds: every registration still to do is sent, then one wait covers
 * them all. One Cinder put in error is deleted and sent again, up to
 * openstack.manage_attempts rounds (never when it could not be deleted:
 * the member keeps that id for the rollback). A member given up on has
 * its RBD snapshot removed (unless Cinder holds it under an id), is
 * marked failed with the reason, and false is returned. */
bool ops_rbd_register(ops_rbd *r, coord_set *set, const size_t *idx, size_t n,
                      snap_error *err);

/* Removes the RBD snapshots of @set's direct members that Cinder never
 * took over, found by their recorded names (which must be the names this
 * set gives them: a record naming anything else is left alone). */
bool ops_rbd_sweep(ops_rbd *r, coord_set *set, snap_error *err);

/* Drops the set's open images and the cluster connection; waits (at most
 * openstack.ceph_timeout_ms) for creates still running. */
void ops_rbd_release(ops_rbd *r);

#endif
