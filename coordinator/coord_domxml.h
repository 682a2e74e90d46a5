/* coordinator/coord_domxml.h -- what snapset needs from a libvirt domain
 * XML document (libxml2): identity, disks, and the hardware an export
 * describes. */
#ifndef COORD_DOMXML_H
#define COORD_DOMXML_H

#include <stdbool.h>
#include <stdint.h>

#include "common/snap_error.h"
#include "coordinator/coord_set.h"

typedef struct coord_nic {
    char *type;   /* "network", "bridge", ... */
    char *source; /* network or bridge name */
    char *model;  /* "virtio" */
    char *mac;
} coord_nic;

/* A disk's <target dev bus>, for every <disk> that names both. */
typedef struct coord_disk_bus {
    char *target; /* "vda" */
    char *bus;    /* "virtio", "sata", "scsi", "ide" */
} coord_disk_bus;

typedef struct coord_domain_info {
    char *name;
    char uuid[SNAP_UUID_LEN];
    char *virt_type; /* "kvm", "qemu" */
    char *arch;      /* "x86_64" */
    char *machine;
    unsigned vcpus;
    uint64_t memory_kib;
    coord_nic *nics;
    size_t nnics;
    coord_disk_bus *buses;
    size_t nbuses;
    char *os_id; /* libosinfo <os id> (virt-install writes it) */
} coord_domain_info;

/* Parses @xml (virDomainGetXMLDesc output). Fills @info (release with
 * coord_domain_info_release()) and, when @set is not NULL, appends one
 * member per snapshottable disk: device='disk' that is neither read-only
 * nor transient. A disk whose source snapset cannot read (no source, an
 * unknown type) is an error naming the disk. Every disk is a local member
 * here; the caller turns Cinder volumes into Cinder members. */
bool coord_domxml_parse(const char *xml, coord_domain_info *info,
                        coord_set *set, snap_error *err);

void coord_domain_info_release(coord_domain_info *info);

/* The bus of disk @target as the XML gave it, or NULL. */
const char *coord_domain_info_bus(const coord_domain_info *info,
                                  const char *target);

#endif
