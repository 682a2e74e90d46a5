/* common/snap_error.h -- the one error type every module reports through.
 *
 * Contract (QEMU's Error **errp, libvirt's "first error wins"):
 *  - a function that can fail takes `snap_error *err` last; NULL is allowed;
 *  - the return value signals failure too; success leaves *err untouched;
 *  - the first error recorded wins: rollback code may call snap_error_set()
 *    freely without hiding the cause.
 */
#ifndef SNAP_ERROR_H
#define SNAP_ERROR_H

#include <stdbool.h>

typedef enum snap_code {
    SNAP_OK = 0,
    SNAP_E_INVALID, /* bad input: config, CLI, HTTP body, reply */
    SNAP_E_NOMEM,
    SNAP_E_SYSTEM,   /* a system call failed; sys_errno says which */
    SNAP_E_HTTP,     /* an HTTP peer failed or answered an error */
    SNAP_E_AGENT,    /* the guest agent is absent or refused */
    SNAP_E_STATE,    /* the object is not in a state that allows this */
    SNAP_E_TIMEOUT,  /* a bounded wait ran out */
    SNAP_E_VIRT,     /* libvirt refused or failed */
    SNAP_E_NOTFOUND, /* no such domain, set, volume, ... */
    SNAP_E_BUSY,     /* someone else holds the lock */
    SNAP_E_LAST
} snap_code;

typedef struct snap_error {
    snap_code code;
    int sys_errno;    /* SNAP_E_SYSTEM only */
    long http_status; /* SNAP_E_HTTP only */
    char msg[256];
} snap_error;

/* Records the error unless one is already recorded. Always returns false, so
 * `return snap_error_set(err, ...);` reads like git's `return error(...)`. */
bool snap_error_set(snap_error *err, snap_code code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Like snap_error_set() with code SNAP_E_SYSTEM; appends ": strerror(errnum)".
 */
bool snap_error_set_errno(snap_error *err, int errnum, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Like snap_error_set() with code SNAP_E_HTTP and the status recorded. */
bool snap_error_set_http(snap_error *err, long status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* True when an error has been recorded. */
bool snap_error_isset(const snap_error *err);

/* Forgets a recorded error (for callers that handled it). */
void snap_error_clear(snap_error *err);

/* A short static name for @code, e.g. "timeout". */
const char *snap_strerror(snap_code code);

#endif
