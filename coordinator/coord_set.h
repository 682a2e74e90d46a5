/* coordinator/coord_set.h -- a snapshot set: what was taken, of what, how.
 *
 * A set is one point in time for every disk of a domain. Its members are the
 * disks; each is either a local disk (copied by libvirt into the set's
 * directory) or a Cinder volume (snapshotted by Cinder). While a set is being
 * made its catalog document doubles as its journal: every step that touches
 * the guest or creates something outside is recorded before it is done.
 *
 * Plain data, no external dependencies; the catalog (coord_catalog.h) turns
 * it into JSON and back.
 */
#ifndef COORD_SET_H
#define COORD_SET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/snap_error.h"
#include "common/snap_uuid.h"

typedef enum coord_member_kind {
    COORD_MEMBER_LOCAL = 0, /* a disk libvirt copies into the set directory */
    COORD_MEMBER_CINDER,    /* a Cinder volume, snapshotted by Cinder */
    COORD_MEMBER_KIND_LAST
} coord_member_kind;

typedef enum coord_member_state {
    COORD_MEMBER_PENDING = 0, /* nothing done yet */
    COORD_MEMBER_REQUESTED,   /* asked for; may exist outside */
    COORD_MEMBER_TAKEN,       /* its point in time is fixed */
    COORD_MEMBER_AVAILABLE,   /* complete and usable */
    COORD_MEMBER_FAILED,      /* failed; location says what may remain */
    COORD_MEMBER_DELETED,     /* removed again (rollback or delete) */
    COORD_MEMBER_STATE_LAST
} coord_member_state;

/* How a local member's copy was made: the whole disk, or only the blocks
 * changed since the previous set's checkpoint, into a qcow2 overlay whose
 * backing file is the previous set's copy of the same disk. */
typedef enum coord_copy_mode {
    COORD_COPY_FULL = 0,
    COORD_COPY_INCREMENTAL,
    COORD_COPY_LAST
} coord_copy_mode;

#define COORD_SHA256_HEX 65 /* 64 hex digits and a NUL */

typedef enum coord_consistency {
    COORD_CONSISTENCY_NONE = 0, /* not reached (failed set) */
    COORD_CONSISTENCY_CRASH,
    COORD_CONSISTENCY_FILESYSTEM,
    COORD_CONSISTENCY_APPLICATION,
    COORD_CONSISTENCY_LAST
} coord_consistency;

typedef enum coord_set_state {
    COORD_SET_CREATING = 0,
    COORD_SET_AVAILABLE,
    COORD_SET_ERROR,
    COORD_SET_DELETING,
    COORD_SET_LAST
} coord_set_state;

typedef enum coord_quiesce {
    COORD_QUIESCE_REQUIRED = 0, /* no agent: fail, leave nothing behind */
    COORD_QUIESCE_PREFERRED,    /* no agent: pause instead, record 'crash' */
    COORD_QUIESCE_OFF,          /* never freeze */
    COORD_QUIESCE_LAST
} coord_quiesce;

typedef struct coord_member {
    char *target; /* "vda" */
    char *serial; /* <serial>, or NULL */
    coord_member_kind kind;
    char *source_type; /* "file", "block", "network" */
    char *source;      /* path, device or network name ("pool/image") */
    char *protocol;    /* a network disk's protocol: "rbd", "nbd", ... */
    char *format;      /* driver type of the source: "qcow2", "raw" */
    char *volume_id;   /* Cinder volume id (COORD_MEMBER_CINDER) */
    char *location;    /* the copy's path, or the Cinder snapshot id */
    char *copy_format; /* format of the copy ("qcow2"), local only */
    uint64_t size;     /* virtual size in bytes, 0 when unknown */
    coord_member_state state;
    /* Local members only (coord_chain.h): how the copy was made, the set
     * whose copy of this disk it stacks on (NULL when full), the backing
     * file as written in the copy (relative to the copy's directory), why
     * it is full when an incremental was possible in principle, the bytes
     * of its own layer (what the copy cost), its own file's allocated
     * bytes, and the SHA-256 of its own file (hex; "" when not known). */
    coord_copy_mode mode;
    char *base;
    char *backing;
    char *full_reason;
    uint64_t bytes_copied;
    uint64_t allocated;
    char sha256[COORD_SHA256_HEX];
    /* Cinder members only: how the point in time is fixed ("cinder": a
     * snapshot request to Cinder's API inside the freeze; "rbd": an RBD
     * snapshot snapset makes itself, registered with Cinder after the
     * thaw; ops/openstack.c), why "cinder" when direct RBD was considered,
     * and for "rbd" the image and the snapshot's name on it, recorded
     * before the freeze so that recover and delete find it by name. */
    char *snap_path;
    char *path_reason;
    char *rbd_image; /* "pool/volume-<id>" */
    char *rbd_snap;  /* "snapset-<set uuid>-<target>" */
} coord_member;

/* The journal: facts a restarted process needs to undo or finish the job. */
typedef struct coord_journal {
    bool freeze_attempted; /* the guest may be frozen */
    bool thawed;           /* ... and was thawed again (confirmed) */
    bool pause_attempted;  /* the vCPUs may be paused by us */
    bool resumed;          /* ... and were resumed again */
    bool memory_attempted; /* the memory state file may exist */
    long owner_pid;        /* the process making the set */
    int64_t owner_start;   /* its start time (clock ticks since boot) */
} coord_journal;

typedef struct coord_set {
    char uuid[SNAP_UUID_LEN];
    char *name; /* optional label */
    char *domain_name;
    char domain_uuid[SNAP_UUID_LEN];
    char *dir;           /* directory holding the local copies */
    char *backup_type;   /* "daily", ... (API/policies), or NULL */
    int rotation;        /* 0: no rotation */
    int64_t created_ms;  /* wall clock */
    int64_t finished_ms; /* wall clock, 0 while creating */
    coord_set_state state;
    coord_consistency consistency;
    coord_quiesce quiesce;
    bool pause_requested;
    char *error;             /* why it failed, for COORD_SET_ERROR */
    char *group_snapshot_id; /* Cinder group snapshot holding the Cinder
                                members, or NULL (one snapshot each) */
    int64_t freeze_ms;       /* frozen window, -1 when never frozen */
    int64_t pause_ms;        /* paused window, -1 when never paused */
    int64_t frozen_count;    /* filesystems frozen */
    /* Where the frozen window went, ms (-1: the step did not happen): the
     * agent's freeze call, sending every snapshot request until the last
     * was accepted (and the backup job started), waiting until every
     * backend had taken its point, the thaw (with its confirmation). */
    int64_t t_freeze, t_request, t_wait, t_thaw;
    /* A set with RAM state (`create --memory`): the file holding the
     * guest's memory and device state, saved while the vCPUs were paused
     * at the same instant as the disks' point (libvirt's save-image
     * format), and how long saving it took (-1: not saved). NULL: a set of
     * disks only. */
    char *memory;
    int64_t t_memory;
    /* The libvirt checkpoint the set's backup job created (NULL: none),
     * and the one its incremental copies start from (NULL: all full). */
    char *checkpoint;
    char *checkpoint_from;
    /* The caller's own key/value pairs (the HTTP API's createBackup
     * "metadata"): key metadata[2i], value metadata[2i + 1]; owned. */
    char **metadata;
    size_t nmetadata;
    /* What the set's maker warned about and the reader should know (a
     * disk that looks like a Cinder volume copied as a local disk), one
     * sentence each; owned. */
    char **warnings;
    size_t nwarnings;
    coord_member *members;
    size_t nmembers;
    coord_journal journal;
} coord_set;

/* Returns a new, empty set with a fresh UUID, state CREATING and no windows.
 * Free with coord_set_free(). */
coord_set *coord_set_new(snap_error *err);

/* Releases @set and everything it owns; NULL is fine. */
void coord_set_free(coord_set *set);

/* Appends a copy of @key = @value to @set's metadata. */
bool coord_set_add_metadata(coord_set *set, const char *key, const char *value,
                            snap_error *err);

/* The value of @key in @set's metadata (borrowed), or NULL. */
const char *coord_set_metadata(const coord_set *set, const char *key);

/* Appends a copy of @text to @set's warnings. */
bool coord_set_add_warning(coord_set *set, const char *text, snap_error *err);

/* Appends a zeroed member and returns it (owned by @set), or NULL. */

coord_member *coord_set_add_member(coord_set *set, snap_error *err);

/* Replaces *@field by a copy of @value (NULL clears it). */
bool coord_str_set(char **field, const char *value, snap_error *err);

/* Names, for output and the catalog; *_parse return -1 on unknown names. */
const char *coord_member_kind_name(coord_member_kind kind);
int coord_member_kind_parse(const char *s);
const char *coord_member_state_name(coord_member_state state);
int coord_member_state_parse(const char *s);
const char *coord_consistency_name(coord_consistency c);
int coord_consistency_parse(const char *s);
const char *coord_set_state_name(coord_set_state state);
int coord_set_state_parse(const char *s);
const char *coord_quiesce_name(coord_quiesce q);
int coord_quiesce_parse(const char *s);
const char *coord_copy_mode_name(coord_copy_mode mode);
int coord_copy_mode_parse(const char *s);

/* The metadata keys snapset writes on what it makes outside (Cinder
 * snapshots and volumes, Glance images) and reads back: one spelling. */
#define COORD_MD_SET "snapset_set"                 /* the set's uuid */
#define COORD_MD_DOMAIN "snapset_domain"           /* its domain's name */
#define COORD_MD_TARGET "snapset_target"           /* the member's disk */
#define COORD_MD_CONSISTENCY "snapset_consistency" /* as coord_set records */
#define COORD_MD_FROM_SET "snapset_from_set"       /* a volume made from one */

/* A template's set document (ops/template.h) names the set it was made of
 * under this key of its own metadata. */
#define COORD_KEY_TEMPLATE_SET "snapset.template.set"

/* The owner of a set the API made (http_api.h's HTTP_OWNER_KEY_*). */
#define COORD_KEY_OWNER_PROJECT "snapset.owner.project"
#define COORD_KEY_OWNER_NAME "snapset.owner.project_name"
#define COORD_KEY_OWNER_DOMAIN "snapset.owner.project_domain"

#endif
