/* virt/virt.h -- libvirt behind the coordinator's ops tables. */
#ifndef VIRT_H
#define VIRT_H

#include <libvirt/libvirt.h>
#include <stdbool.h>

#include "common/snap_error.h"
#include "coordinator/coord_job.h"
#include "qga/qga.h"
#include "virt/error.h"

/* Opens @uri; libvirt's default error printing is silenced (errors are
 * reported through snap_error). */
virConnectPtr virt_open(const char *uri, snap_error *err);

/* Closes a connection virt_open() opened (NULL: nothing). */
void virt_close(virConnectPtr conn);

/* Looks a domain up by name or UUID. */
virDomainPtr virt_domain_lookup(virConnectPtr conn, const char *id,
                                snap_error *err);

/* The domain with UUID @uuid, or NULL when there is none (not an error:
 * recovery works on sets whose domain is gone). */
virDomainPtr virt_domain_by_uuid(virConnectPtr conn, const char *uuid);

/* Lets go of a domain virt_domain_lookup() or virt_domain_by_uuid() gave
 * (NULL: nothing). */
void virt_domain_release(virDomainPtr dom);

/* Its libvirt state (VIR_DOMAIN_RUNNING, ...) and its live XML (a new
 * string), for create. */
bool virt_domain_current(virDomainPtr dom, int *state, char **xml,
                         snap_error *err);

/* Who owns a domain, from its metadata: snapset's own element first
 *   virsh metadata DOM --uri urn:snapset:owner --key snapset \
 *         --set '<owner project="PROJECT_ID"/>'
 * (or project_name="NAME" project_domain="DOMAIN" instead of the id), else
 * Nova's <nova:instance><nova:owner><nova:project uuid="PROJECT_ID">
 * (namespace VIRT_NOVA_NS). Fills the new strings *@project,
 * *@project_name and *@project_domain (NULL when unset; all NULL: no
 * owner). */
#define VIRT_OWNER_NS "urn:snapset:owner"
#define VIRT_NOVA_NS "http://openstack.org/xmlns/libvirt/nova/1.1"
bool virt_domain_owner(virDomainPtr dom, char **project, char **project_name,
                       char **project_domain, snap_error *err);

/* The guest ops (agent through qga/, pause/resume through libvirt). */
typedef struct virt_guest {
    virDomainPtr dom; /* borrowed */
    qga_agent *agent; /* owned */
} virt_guest;

extern const coord_guest_ops virt_guest_ops;
bool virt_guest_init(virt_guest *g, virDomainPtr dom, snap_error *err);
void virt_guest_release(virt_guest *g);

/* Local disks through libvirt's backup job (push mode). When the copies
 * are qcow2, prepare() creates every target before the frozen window (an
 * incremental one as an overlay on member->backing, coord_chain.h) and the
 * job writes into them (VIR_DOMAIN_BACKUP_BEGIN_REUSE_EXTERNAL). The job
 * also creates set->checkpoint, if set, with a bitmap in every qcow2 disk,
 * in the same QMP transaction as the point in time; cancel() deletes it.
 * wait() returns once the job has ended well; finish() waits too, then
 * records each copy's allocated bytes, the bytes of its own layer and,
 * with @digest, its SHA-256. */
typedef struct virt_disks {
    virDomainPtr dom; /* borrowed */
    const char *copy_format;
    int64_t image_timeout_ms; /* each qemu-img call (create, map) */
    bool (*digest)(const char *path, char hex[COORD_SHA256_HEX],
                   snap_error *err); /* NULL: no digest */
    bool prepared;
    bool job_started;
    bool copied; /* the job has ended well */
} virt_disks;

extern const coord_disk_ops virt_disk_ops;

/* RAM and device state through libvirt: a snapshot without metadata whose
 * memory is external (set->memory, libvirt's save-image format, the same
 * one virDomainRestore reads) and whose disks are all snapshot='no'. The
 * vCPUs are paused by the job beforehand, so libvirt saves without
 * resuming them, and the disks' points (backup job, Cinder) are taken at
 * that same instant right after. Bounded: past the deadline the save is
 * aborted (virDomainAbortJob). */
typedef struct virt_memory {
    virDomainPtr dom; /* borrowed */
} virt_memory;

extern const coord_memory_ops virt_memory_ops;

/* Fails (SNAP_E_STATE, naming the operation) if the domain has a libvirt
 * job running, e.g. someone else's backup job: the backup job of a set
 * would wait for libvirt's job lock inside the frozen window (30 s) and
 * fail. Checked before the guest is touched. */
bool virt_domain_check_idle(virDomainPtr dom, const char *name,
                            snap_error *err);

/* The virtual size of disk @target of the domain, in bytes. */
bool virt_disk_capacity(virDomainPtr dom, const char *target, uint64_t *size,
                        snap_error *err);

/* Aborts the domain's backup job if it writes into @set_dir (used by
 * recovery and delete); true when no such job remains. */
bool virt_backup_abort_into(virDomainPtr dom, const char *set_dir,
                            snap_error *err);

#endif
