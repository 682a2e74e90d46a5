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

/* Removes the files in directory @path, then the directory; a missing
 * directory is success. Subdirectories are not descended into: a set's
 * directory holds files only, and anything else there is an error. */
bool snap_dir_remove_files(const char *path, snap_error *err);

/* Returns a new string "@a/@b" (free()), or NULL with @err set. */
char *snap_path_join(const char *a, const char *b, snap_error *err);

#endif
