/* glance/glance_priv.h -- internals shared by the glance/ sources and the unit
 * tests. Not for other modules. */
#ifndef GLANCE_PRIV_H
#define GLANCE_PRIV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "glance/glance.h"

struct archive;
struct archive_entry;
struct _xmlDoc;

/* Disks are read and written in chunks of this size: memory use does not
 * depend on disk size. */
#define GLANCE_CHUNK_SIZE (1024 * 1024)

/* Length of a SHA-256 digest in hex. */
#define GLANCE_SHA256_HEX_LEN 64

/* Longest member name that still fits the 100-byte ustar name field without a
 * pax header or a prefix split. */
#define GLANCE_MEMBER_NAME_MAX 99

/* True when @name may be a member of a package: 1 to GLANCE_MEMBER_NAME_MAX
 * characters from [A-Za-z0-9._+-], not starting with '.'. */
bool glance_member_name_valid(const char *name);

/* The file size the descriptor states for disk @i (< disk count). */
uint64_t glance_ovf_disk_file_size(const glance_ovf *ovf, size_t i);

/* Seconds since the epoch to stamp package members with: the set's time when
 * facts were given, else now. */
int64_t glance_ovf_mtime(const glance_ovf *ovf);

/* A libarchive writer set up as OVA members must be written: restricted pax,
 * i.e. ustar headers, plus a pax extended header only for what ustar cannot
 * hold (members of 8 GiB or more). Not opened yet. Returns NULL with @err set
 * on failure. Free with archive_write_free(). */
struct archive *glance_tar_writer_new(snap_error *err);

/* A regular-file entry @name of @size bytes, mode 0644, owner 0:0, stamped
 * @mtime. Free with archive_entry_free(). */
struct archive_entry *glance_tar_entry_new(const char *name, int64_t size,
                                           int64_t mtime, snap_error *err);

/* Parses the descriptor @xml (@len bytes) without network access or
 * entities, keeping line numbers past 65535. Returns a new document
 * (xmlFreeDoc()), or NULL with @err set: "descriptor is not well-formed XML
 * (line N: ...)". */
struct _xmlDoc *glance_ovf_doc_read(const char *xml, size_t len,
                                    snap_error *err);

/* glance_ovf_validate() of a parsed descriptor. */
bool glance_ovf_doc_validate(struct _xmlDoc *doc, const char *schema_dir,
                             snap_error *err);

/* One parsed manifest line. */
typedef struct glance_manifest_entry {
    char *name;
    char hex[GLANCE_SHA256_HEX_LEN + 1]; /* lower case */
} glance_manifest_entry;

/* Parses a manifest: every line must be exactly "SHA256(<name>)= <64 hex>"
 * ended by "\n" (a "\r\n" ending is accepted too); a name may not appear
 * twice. On success *@entries is a new array of *@n entries; free it with
 * glance_manifest_entries_free(). */
bool glance_manifest_parse(const char *text, size_t len,
                           glance_manifest_entry **entries, size_t *n,
                           snap_error *err);

void glance_manifest_entries_free(glance_manifest_entry *entries, size_t n);

#endif
