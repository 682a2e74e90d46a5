/* virt/qimg.h -- disk images on the host for restore, spawn and
 * volume-from: running qemu-img (bounded, its error captured), reading a
 * qcow2 image's backing file without a subprocess, and small file helpers.
 *
 * Threads: every function may be called from any thread; virt_qimg_run()
 * forks, so call it with no lock held that the child could need.
 */
#ifndef VIRT_QIMG_H
#define VIRT_QIMG_H

#include <stdbool.h>
#include <stdint.h>

#include "common/snap_error.h"

/* Runs the NULL-terminated @argv (argv[0] looked up in PATH) with stdin and
 * stdout on /dev/null and stderr captured. Waits at most @timeout_ms (<= 0:
 * no bound; a command still running then is killed). True when it exited 0;
 * otherwise false with "@what: <its last line of stderr>" (SNAP_E_SYSTEM,
 * SNAP_E_TIMEOUT). */
bool virt_qimg_run(const char *const *argv, int64_t timeout_ms,
                   const char *what, snap_error *err);

/* The same, with stdout on @stdout_fd (>= 0: e.g. a temporary file read
 * afterwards) instead of /dev/null. */
bool virt_cmd_run(const char *const *argv, int64_t timeout_ms, const char *what,
                  int stdout_fd, snap_error *err);

/* Converts image @src (format @src_fmt) into a new image @dst of format
 * @dst_fmt, sparse, and makes it durable (fsync). With @existing, @dst is a
 * file or block device that exists and is written in place (qemu-img -n);
 * otherwise it is created and must not exist. */
bool virt_qimg_convert(const char *src, const char *src_fmt, const char *dst,
                       const char *dst_fmt, bool existing, int64_t timeout_ms,
                       snap_error *err);

/* Creates @path, a qcow2 overlay whose backing file is @backing (format
 * @backing_fmt, recorded by absolute path). */
bool virt_qimg_overlay(const char *path, const char *backing,
                       const char *backing_fmt, snap_error *err);

/* Creates @path, a new qcow2 image of @size bytes; with @backing (NULL:
 * none) an overlay on it (format @backing_fmt), whose backing file is
 * recorded as given: a relative name is relative to @path's directory. The
 * target of a backup job is made this way before the frozen window. */
bool virt_qimg_create(const char *path, uint64_t size, const char *backing,
                      const char *backing_fmt, int64_t timeout_ms,
                      snap_error *err);

/* Rebases the qcow2 image @path onto @backing (relative to its directory;
 * NULL: no backing file, the image becomes self-contained), in safe mode:
 * every cluster whose content would change is copied into @path first, so
 * what the image reads stays the same. Its old backing chain must be
 * readable. Made durable (fsync). */
bool virt_qimg_rebase(const char *path, const char *backing,
                      const char *backing_fmt, int64_t timeout_ms,
                      snap_error *err);

/* Sets *@bytes to the bytes of data the qcow2 image @path holds in its own
 * layer (`qemu-img map`: data at depth 0), i.e. what writing it cost. */
bool virt_qimg_own_bytes(const char *path, int64_t timeout_ms, uint64_t *bytes,
                         snap_error *err);

/* Sets *@backing to a new string (free()) naming the backing file of the
 * qcow2 image @path as an absolute path, or to NULL when @path is not a
 * qcow2 image or has no backing file. Reads the header directly (no
 * qemu-img, no lock taken), so it is cheap enough to run over every disk
 * of every domain. */
bool virt_qimg_backing(const char *path, char **backing, snap_error *err);

#endif
