/* common/snap_log.c -- see snap_log.h. */
#include "common/snap_log.h"

#include <stdarg.h>
#include <stdio.h>

static snap_log_level log_level = SNAP_LOG_WARN;

void
snap_log_set_level(snap_log_level level)
{
    log_level = level;
}

snap_log_level
snap_log_get_level(void)
{
    return log_level;
}

void
snap_log(snap_log_level level, const char *fmt, ...)
{
    static const char *const names[] = {"error", "warning", "info", "debug"};
    va_list ap;

    if (level > log_level)
        return;
    flockfile(stderr);
    fprintf(stderr, "snapset: %s: ", names[level]);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    funlockfile(stderr);
}
