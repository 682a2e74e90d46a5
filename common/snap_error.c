/* common/snap_error.c -- see snap_error.h. */
#include "common/snap_error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static bool error_vset(snap_error *err, snap_code code, int errnum, long status,
                       const char *fmt, va_list ap)
    __attribute__((format(printf, 5, 0)));

static bool
error_vset(snap_error *err, snap_code code, int errnum, long status,
           const char *fmt, va_list ap)
{
    size_t len;

    if (!err || err->code != SNAP_OK)
        return false; /* the first error wins */
    err->code = code;
    err->sys_errno = errnum;
    err->http_status = status;
    vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
    if (errnum) {
        len = strlen(err->msg);
        snprintf(err->msg + len, sizeof(err->msg) - len, ": %s",
                 strerror(errnum));
    }
    return false;
}

bool
snap_error_set(snap_error *err, snap_code code, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    error_vset(err, code, 0, 0, fmt, ap);
    va_end(ap);
    return false;
}

bool
snap_error_set_errno(snap_error *err, int errnum, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    error_vset(err, SNAP_E_SYSTEM, errnum, 0, fmt, ap);
    va_end(ap);
    return false;
}

bool
snap_error_set_http(snap_error *err, long status, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    error_vset(err, SNAP_E_HTTP, 0, status, fmt, ap);
    va_end(ap);
    return false;
}

bool
snap_error_isset(const snap_error *err)
{
    return err && err->code != SNAP_OK;
}

void
snap_error_clear(snap_error *err)
{
    if (err)
        memset(err, 0, sizeof(*err));
}

const char *
snap_strerror(snap_code code)
{
    static const char *const names[SNAP_E_LAST] = {
        [SNAP_OK] = "ok",
        [SNAP_E_INVALID] = "invalid input",
        [SNAP_E_NOMEM] = "out of memory",
        [SNAP_E_SYSTEM] = "system error",
        [SNAP_E_HTTP] = "HTTP error",
        [SNAP_E_AGENT] = "guest agent error",
        [SNAP_E_STATE] = "invalid state",
        [SNAP_E_TIMEOUT] = "timeout",
        [SNAP_E_VIRT] = "libvirt error",
        [SNAP_E_NOTFOUND] = "not found",
        [SNAP_E_BUSY] = "busy",
    };

    if ((int)code < 0 || code >= SNAP_E_LAST)
        return "unknown error";
    return names[code];
}
