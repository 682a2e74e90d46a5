/* glance/glance.h -- a snapshot set packaged as one OVF 1.1 package (an OVA
 * tar, or a directory), and the SHA-256 manifest that goes with it.
 *
 * The caller (the coordinator) converts every member disk first, e.g. with
 * `qemu-img convert -O vmdk -o subformat=streamOptimized` into a staging
 * directory, then describes the system and its disks in a glance_ovf model
 * and hands both to glance_ova_write() or glance_ovf_dir_write(). This module
 * never converts images and never holds a disk in memory: disks are streamed
 * in 1 MiB chunks.
 *
 * What the descriptor follows (DSP0243 1.1, and what VMware, VirtualBox and
 * virt-v2v import):
 *  - envelope namespace http://schemas.dmtf.org/ovf/envelope/1 (OVF 2.x is
 *    handled poorly by several importers);
 *  - one File per disk in References, one Disk per File in DiskSection
 *    (capacity in bytes), one VirtualSystem with Name, CPU (ResourceType 3),
 *    memory in MiB (ResourceType 4, "byte * 2^20"), disk controllers
 *    (IDE 5, SCSI 6, SATA 20), disks (17) and NICs (10);
 *  - the set's own facts in standard ProductSections of the VirtualSystem,
 *    one Property per fact: one of class GLANCE_OVF_CLASS_SET (keys uuid,
 *    consistency, time, domain, domain_uuid, architecture), then one of
 *    class GLANCE_OVF_CLASS_MEMBER per member, ovf:instance "1", "2", ...
 *    (keys target, kind, source, snapshot, disk_id), all marked
 *    ovf:required="false";
 *  - and it validates against DMTF's envelope schema DSP8023 and the CIM
 *    RASD/VSSD schemas it imports (glance_ovf_validate()), which have no
 *    extension point for a section of our own that importers would accept.
 *
 * Uploading a package to Glance is in glance/glance_upload.h.
 *
 * Threads: nothing here keeps global state; one object per thread.
 */
#ifndef GLANCE_H
#define GLANCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/snap_error.h"

/* The ovf:class of the ProductSections that hold the set's facts: the
 * full name of a property is "<class>.<key>[.<instance>]", e.g.
 * "snapset.set.uuid" or "snapset.member.target.2". */
#define GLANCE_OVF_CLASS_SET "snapset.set"
#define GLANCE_OVF_CLASS_MEMBER "snapset.member"

/* The environment variable that overrides where the OVF schemas are. */
#define GLANCE_OVF_SCHEMA_DIR_ENV "SNAPSET_OVF_SCHEMA_DIR"

/* Disk format URIs written in DiskSection/Disk/@ovf:format. */
#define GLANCE_FORMAT_URI_VMDK_STREAM                                          \
    "http://www.vmware.com/interfaces/specifications/"                         \
    "vmdk.html#streamOptimized"
#define GLANCE_FORMAT_URI_QCOW2                                                \
    "http://www.gnome.org/~markmc/qcow-image-format.html"

/* ------------------------------------------------------------------------ */
/* The descriptor model                                                      */

typedef struct glance_ovf glance_ovf; /* opaque */

/* The bus of a disk in the domain XML (<target bus='...'/>). */
typedef enum glance_bus {
    GLANCE_BUS_VIRTIO = 0, /* exported on a SCSI (LSI Logic) controller */
    GLANCE_BUS_SCSI,
    GLANCE_BUS_SATA,
    GLANCE_BUS_IDE,
    GLANCE_BUS_LAST
} glance_bus;

typedef enum glance_disk_format {
    GLANCE_DISK_FORMAT_VMDK_STREAM = 0, /* VMware, VirtualBox, virt-v2v */
    GLANCE_DISK_FORMAT_QCOW2,           /* virt-v2v and QEMU only */
    GLANCE_DISK_FORMAT_LAST
} glance_disk_format;

/* One converted disk. Every string is copied by glance_ovf_disk_add(). */
typedef struct glance_ovf_disk {
    /* Name of the file inside the package (References/File/@ovf:href), e.g.
     * "vda.vmdk": 1 to 99 characters from [A-Za-z0-9._+-], not starting
     * with '.', so that it needs no pax header and cannot escape a directory.
     */
    const char *file;
    uint64_t file_size;      /* bytes of the converted file; checked on write */
    uint64_t capacity;       /* virtual size in bytes (qemu-img info) */
    uint64_t populated_size; /* bytes in use, <= capacity; 0 leaves it out */
    glance_disk_format format;
    glance_bus bus;
    const char *target; /* the guest device, e.g. "vda"; may be NULL */
} glance_ovf_disk;

/* One network interface. Strings are copied. */
typedef struct glance_ovf_nic {
    const char *name;    /* interface alias or device name; may be NULL */
    const char *network; /* logical network (libvirt network or bridge name) */
    const char *model;   /* libvirt model ("virtio", "e1000"...); may be NULL */
    const char *mac;     /* "52:54:00:..."; may be NULL */
} glance_ovf_nic;

/* One member of the snapshot set, recorded in snapset's own section only.
 * Strings are copied; all but target and kind may be NULL. */
typedef struct glance_ovf_member {
    const char *target;   /* guest device, e.g. "vdb" */
    const char *kind;     /* "local" or "cinder" */
    const char *source;   /* local image path or Cinder volume id */
    const char *snapshot; /* overlay path or Cinder snapshot id */
} glance_ovf_member;

/* The set's own facts. Strings are copied; domain_uuid may be NULL. */
typedef struct glance_ovf_facts {
    const char *set_uuid;    /* a UUID (snap_uuid_valid()) */
    const char *consistency; /* what was reached: "fs", "crash", ... */
    int64_t taken_ms;        /* wall-clock time of the set, snap_wall_ms() */
    const char *domain;      /* source domain name */
    const char *domain_uuid;
} glance_ovf_facts;

/* Maps a libvirt bus name ("virtio", "scsi", "sata", "ide") to a glance_bus.
 * Returns GLANCE_BUS_LAST for any other name (usb, fdc, xen, sd...), which
 * glance_ovf_disk_add() refuses. */
glance_bus glance_bus_from_name(const char *name);

/* Returns a new model for the system @name (the domain name: ovf:id, Name and
 * VirtualSystemIdentifier), or NULL with @err set. Any UTF-8 is accepted
 * (XML escaping is done on output); control characters are refused.
 * Defaults: 1 vCPU, 1024 MiB, arch "x86_64", os "other". Free with
 * glance_ovf_free(). */
glance_ovf *glance_ovf_new(const char *name, snap_error *err);

/* Releases @ovf and everything it copied. Accepts NULL. */
void glance_ovf_free(glance_ovf *ovf);

/* Sets the vCPU count (>= 1), memory in MiB (>= 1) and the architecture
 * ("x86_64", "i686", "aarch64", ...). */
bool glance_ovf_set_hardware(glance_ovf *ovf, unsigned vcpus,
                             uint64_t memory_mib, const char *arch,
                             snap_error *err);

/* Sets the guest OS, a short name: "linux", "debian", "ubuntu", "rhel",
 * "centos", "sles", "freebsd", "windows" or "other". It picks the CIM OS
 * type id of OperatingSystemSection (the 64-bit variant when the arch is
 * 64-bit); other names are kept as the section's Description with id "other".
 */
bool glance_ovf_set_os(glance_ovf *ovf, const char *os_type, snap_error *err);

/* Records the set's facts (set UUID, consistency, time, source domain). */
bool glance_ovf_set_facts(glance_ovf *ovf, const glance_ovf_facts *facts,
                          snap_error *err);

/* Appends a disk. Disks are packaged in the order they are added, and the
 * first disk added sits first on the first controller (the boot disk).
 * Controllers are made as needed, one kind per bus: IDE (2 per controller,
 * 2 controllers), SCSI (15 per controller, unit 7 skipped, 4 controllers),
 * SATA (30 per controller, 4 controllers). */
bool glance_ovf_disk_add(glance_ovf *ovf, const glance_ovf_disk *disk,
                         snap_error *err);

/* Appends a NIC; its network is listed once in NetworkSection. */
bool glance_ovf_nic_add(glance_ovf *ovf, const glance_ovf_nic *nic,
                        snap_error *err);

/* Appends a member of the set (snapset's own section). */
bool glance_ovf_member_add(glance_ovf *ovf, const glance_ovf_member *member,
                           snap_error *err);

/* Number of disks added so far. */
size_t glance_ovf_disk_count(const glance_ovf *ovf);

/* The href of disk @i (< glance_ovf_disk_count()). Borrowed; valid until
 * @ovf is freed. */
const char *glance_ovf_disk_file(const glance_ovf *ovf, size_t i);

/* The base name of the package files: "<base>.ovf" and "<base>.mf". It is the
 * system name with every character outside [A-Za-z0-9._+-] replaced by '_',
 * cut to 64 bytes ("snapset" when nothing is left). Borrowed. */
const char *glance_ovf_package_name(const glance_ovf *ovf);

/* Writes the descriptor. On success *@xml is a new NUL-terminated UTF-8
 * buffer (free()) of *@len bytes. Fails when no disk was added. */
bool glance_ovf_write(const glance_ovf *ovf, char **xml, size_t *len,
                      snap_error *err);

/* ------------------------------------------------------------------------ */
/* Schema validation                                                         */

/* The directory holding the OVF schemas (ovf-all.xsd, which imports
 * DSP8023.xsd, the CIM schemas and xml.xsd from the same directory):
 * $SNAPSET_OVF_SCHEMA_DIR when set and not empty, else the data directory
 * they are installed to (<prefix>/share/snapset/ovf-schemas), unless they
 * are not installed there but the source tree this snapset was built from
 * has them (glance/schemas: a snapset run from its build tree). Borrowed:
 * valid until the environment changes. */
const char *glance_ovf_schema_dir(void);

/* Validates the descriptor @xml (@len bytes) against the schemas in
 * @schema_dir (NULL: glance_ovf_schema_dir()). Nothing is fetched from the
 * network. Fails with SNAP_E_INVALID naming the first violation, "descriptor
 * does not validate against the OVF schema (line N: <libxml2's message>)",
 * or when @xml is not well-formed; with SNAP_E_NOTFOUND naming the path when
 * the schemas are missing (never skipped), SNAP_E_INVALID when they do not
 * load. Loads the schemas on each call (a few milliseconds). */
bool glance_ovf_validate(const char *xml, size_t len, const char *schema_dir,
                         snap_error *err);

/* ------------------------------------------------------------------------ */
/* Progress and cancellation                                                 */

/* Where a long operation is. Counted in bytes of the disk files read, which
 * is nearly all of the work; the descriptor and manifest are not counted. */
typedef struct glance_progress_info {
    const char *step; /* "hash": disks read for their digests before a
                         stream; "write": the package being produced */
    const char *file; /* the member being read (borrowed) */
    size_t index;     /* its disk index */
    uint64_t file_done, file_size; /* bytes of this member */
    uint64_t done, total;          /* bytes of this step, all disks */
} glance_progress_info;

/* Called when a disk starts and after every chunk (GLANCE_CHUNK_SIZE) of
 * it. Returns true to go on; false, after setting @err (e.g. "interrupted"),
 * to cancel: the operation then fails with that error and leaves nothing
 * behind, as after any failure. Runs in the caller's thread. */
typedef bool (*glance_progress_fn)(void *ctx, const glance_progress_info *info,
                                   snap_error *err);

typedef struct glance_progress {
    glance_progress_fn fn;
    void *ctx;
} glance_progress;

/* ------------------------------------------------------------------------ */
/* Packages                                                                  */

/* Writes the OVA @path: a USTAR tar whose members are "<base>.ovf", then
 * "<base>.mf", then the disks in References order (the order they were
 * added). @disk_paths[i] is the converted file of disk i; there must be
 * exactly glance_ovf_disk_count() of them and each must be a regular file
 * of the size given in the model.
 *
 * Members up to 8 GiB get plain ustar headers; a larger one gets a pax
 * extended header (libarchive's restricted pax writer).
 *
 * Cost: each disk is read once. Its SHA-256 is computed while it is streamed
 * into the tar; the manifest, which precedes the disks, is first written
 * with placeholder digests of the same length and patched in place once the
 * disks are in (tar does not checksum member data, so the headers stay
 * valid). So writing an OVA costs one read of the disks and one write of the
 * OVA, plus an fsync.
 *
 * Atomic: the data goes to a temporary file in the same directory, which is
 * synced and renamed over @path; on failure it is removed and @path is left
 * as it was. The OVA is created mode 0600: it holds whole disks. */
bool glance_ova_write(const char *path, const glance_ovf *ovf,
                      const char *const *disk_paths, size_t ndisks,
                      snap_error *err);

/* Writes the same package unpacked into the directory @dir (created with its
 * parents if missing): "<base>.ovf", "<base>.mf" and the disks, copied with
 * their digests computed in the same pass. Refuses to replace any existing
 * file (several files cannot be replaced atomically). Files are written under
 * temporary names and linked into place only when all are complete; on
 * failure none of them is left. */
bool glance_ovf_dir_write(const char *dir, const glance_ovf *ovf,
                          const char *const *disk_paths, size_t ndisks,
                          snap_error *err);

/* glance_ova_write() and glance_ovf_dir_write() reporting to @progress (may
 * be NULL), which can cancel them. */
bool glance_ova_write_progress(const char *path, const glance_ovf *ovf,
                               const char *const *disk_paths, size_t ndisks,
                               const glance_progress *progress,
                               snap_error *err);
bool glance_ovf_dir_write_progress(const char *dir, const glance_ovf *ovf,
                                   const char *const *disk_paths, size_t ndisks,
                                   const glance_progress *progress,
                                   snap_error *err);

/* An OVA produced on demand, for uploads that must not write it to disk
 * first: the same bytes glance_ova_write() would write for the same model
 * and disks (same members, order, headers, manifest and end padding).
 *
 * The manifest precedes the disks, so their digests must be known before
 * the first byte: glance_ova_stream_new() reads every disk once to hash it
 * (progress step "hash"); the stream then reads them a second time (step
 * "write"), hashing again, and fails if a disk changed in between. The
 * exact length is known up front (glance_ova_stream_size()), so an upload
 * can announce it. Memory use is a few MiB whatever the disk sizes. */
typedef struct glance_ova_stream glance_ova_stream; /* opaque */

/* Returns a new stream of the package of @ovf with the converted disks
 * @disk_paths (as glance_ova_write()), after hashing them, or NULL with @err
 * set. @progress (may be NULL) is borrowed and must outlive the stream.
 * Free with glance_ova_stream_free(). */
glance_ova_stream *glance_ova_stream_new(const glance_ovf *ovf,
                                         const char *const *disk_paths,
                                         size_t ndisks,
                                         const glance_progress *progress,
                                         snap_error *err);

/* The exact length of the package in bytes. */
uint64_t glance_ova_stream_size(const glance_ova_stream *s);

/* Copies the next bytes of the package into @buf (at most @size). Returns
 * how many (> 0), 0 at the end, or -1 with @err set (a read error, a disk
 * that changed since it was hashed, a cancellation by the progress
 * callback). After an error only glance_ova_stream_rewind() or _free()
 * may be called. */
ssize_t glance_ova_stream_read(glance_ova_stream *s, char *buf, size_t size,
                               snap_error *err);

/* Starts the package again from its first byte (an upload sent twice). */
bool glance_ova_stream_rewind(glance_ova_stream *s, snap_error *err);

/* Releases @s and closes its disks. Accepts NULL. */
void glance_ova_stream_free(glance_ova_stream *s);

/* Reads the OVA @path back and checks that:
 *  - the first member is a ".ovf", the second a ".mf", then the files of
 *    References in their order, and nothing else;
 *  - every member is a regular file with a plain name;
 *  - the manifest has exactly one well-formed "SHA256(name)= hex" line per
 *    other member, and every digest and References size matches;
 *  - the descriptor parses, its namespace is OVF 1.x, its links hold
 *    (Disk/@fileRef to File/@id, HostResource to a Disk, Parent to an Item)
 *    and it validates against the schemas in glance_ovf_schema_dir() (see
 *    glance_ovf_validate(); missing schemas fail the check);
 *  - it has at least one disk with a file (a package without one fails).
 * Reads every byte once. Fails with SNAP_E_INVALID naming the first problem. */
bool glance_ova_verify(const char *path, snap_error *err);

/* ------------------------------------------------------------------------ */
/* Digests and the manifest                                                  */

typedef enum glance_hash_algo {
    GLANCE_HASH_SHA256 = 0, /* the OVF manifest */
    GLANCE_HASH_SHA512,     /* Glance's os_hash_value */
    GLANCE_HASH_LAST
} glance_hash_algo;

/* Big enough for the hex digest of any algorithm and its NUL. */
#define GLANCE_HASH_HEX_SIZE 129

typedef struct glance_hash glance_hash; /* opaque; wraps OpenSSL EVP */

/* Returns a new running digest, or NULL with @err set. Free with
 * glance_hash_free(). */
glance_hash *glance_hash_new(glance_hash_algo algo, snap_error *err);

/* Feeds @len bytes. */
bool glance_hash_update(glance_hash *h, const void *data, size_t len,
                        snap_error *err);

/* Finishes the digest and writes it in lower-case hex into @hex (@size >=
 * 2 * digest length + 1). The object cannot be updated afterwards. */
bool glance_hash_final_hex(glance_hash *h, char *hex, size_t size,
                           snap_error *err);

/* Releases @h. Accepts NULL. */
void glance_hash_free(glance_hash *h);

/* Computes the SHA-256 of the whole file @path (read in 1 MiB chunks). */
bool glance_sha256_file(const char *path, char hex[GLANCE_HASH_HEX_SIZE],
                        snap_error *err);

/* Formats a manifest: one line "SHA256(<name>)= <hex>\n" per entry, in the
 * given order. Returns a new NUL-terminated buffer (free()) and its length in
 * *@len, or NULL with @err set (an empty name, a name with a control character
 * or a parenthesis, or a digest that is not 64 hex characters). */
char *glance_manifest_format(const char *const *names, const char *const *hexes,
                             size_t n, size_t *len, snap_error *err);

#endif
