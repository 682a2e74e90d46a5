/* common/snap_fs.h -- small file-system helpers shared by every module. */
#ifndef SNAP_FS_H
#define SNAP_FS_H

#include <stdbool.h>
#include <stddef.h>

#include "common/snap_error.h"

/* Writes @len bytes to @path so that a reader sees the old content or the new
 * one, never a mix: a temporary file in the same directory, fsync, rename,
 * then fsync of the directory. On failure the old file is untouched and the
 * temporary is removed. */
bool snap_file_write_atomic(const char *path, const void *data, size_t len,
                            int mode, snap_error *err);

/* Reads the whole of @path (at most @max bytes; larger files are an error).
 * Returns a new NUL-terminated buffer (free()) and its length in *@len. */
char *snap_file_read(const char *path, size_t max, size_t *len,
                     snap_error *err);

/* Creates @path and its missing parents with @mode. */
bool snap_dir_make(const char *path, int mode, snap_error *err);

/* Removes @path if it exists (a file or an empty directory). */
bool snap_path_remove(const char *path, snap_error *err);

/* Removes the entries of directory @path, then the directory; a missing
 * directory is success. Never follows a symlink: @path itself must be a
 * directory, not a link to one (an error otherwise, and nothing is
 * removed); a symlink inside is removed as a link, its target stays.
 * Subdirectories are not descended into: a set's directory holds files
 * only, and a subdirectory there is an error (it and the directory stay). */
bool snap_dir_remove_files(const char *path, snap_error *err);

/* snap_dir_remove_files() for the entry @name of the directory open as
 * @dirfd (or AT_FDCWD), which must be a directory, not a symlink. */
bool snap_dir_remove_files_at(int dirfd, const char *name, snap_error *err);

/* Identity of a file: device and inode (both 0: unknown). */
typedef struct snap_file_id {
    unsigned long long dev;
    unsigned long long ino;
} snap_file_id;

/* Sets *@id to the identity of @path itself (a symlink is not followed). */
bool snap_file_id_get(const char *path, snap_file_id *id, snap_error *err);

/* Removes from directory @path only the regular files named in @names
 * (plain names: no '/', not "." or ".."), never following a symlink: @path
 * must be a directory itself, and an entry that is not a regular file (a
 * symlink planted under one of the names, a directory) is left alone and
 * counted in *@kept (may be NULL). With @id set (not all 0), @path must
 * still be that directory, or nothing is removed. With @remove_dir, the
 * directory is removed too when it is then empty (a directory still
 * holding other files stays, and that is success). A missing directory,
 * or a missing name, is success. */
bool snap_dir_remove_names(const char *path, const snap_file_id *id,
                           const char *const *names, size_t nnames,
                           bool remove_dir, size_t *kept, snap_error *err);

/* Removes @path only if it is a regular file (not a symlink) and, with @id
 * set (not all 0), still the file @id names; otherwise fails with
 * SNAP_E_STATE and removes nothing. A missing @path is success. */
bool snap_file_remove_ours(const char *path, const snap_file_id *id,
                           snap_error *err);

/* Returns a new string "@a/@b" (free()), or NULL with @err set. */
char *snap_path_join(const char *a, const char *b, snap_error *err);

/* True when @path exists (any type). */
bool snap_path_exists(const char *path);

/* Flushes @path (a file or block device) to stable storage. */
bool snap_path_sync(const char *path, snap_error *err);

/* Flushes the directory holding @path (after a rename or unlink in it). */
bool snap_path_sync_dir(const char *path, snap_error *err);

/* Returns a new string (free()): the directory part of @path ("." when it
 * has none). */
char *snap_path_dir(const char *path, snap_error *err);

#endif
