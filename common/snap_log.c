/* common/snap_log.c -- see snap_log.h. */
#include "common/snap_log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "common/snap_text.h"

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

/* Every line is one line: a message quotes what came from outside (a guest
 * agent's error, Cinder's, a tenant's metadata), so control characters in
 * it are escaped (snap_text.h) and only the final newline is ours. */
void
snap_log(snap_log_level level, const char *fmt, ...)
{
    static const char *const names[] = {"error", "warning", "info", "debug"};
    char small[512], *msg = small, *big = NULL;
    va_list ap;
    int n;

    if (level > log_level)
        return;
    va_start(ap, fmt);
    n = vsnprintf(small, sizeof(small), fmt, ap);
    va_end(ap);
    if (n >= (int)sizeof(small)) {
        big = malloc((size_t)n + 1);
        if (big) {
            va_start(ap, fmt);
            (void)vsnprintf(big, (size_t)n + 1, fmt, ap);
            va_end(ap);
            msg = big;
        } /* else: the message cut at sizeof(small) */
    } else if (n < 0) {
        snprintf(small, sizeof(small), "(unformattable message)");
    }
    flockfile(stderr);
    fprintf(stderr, "snapset: %s: ", names[level]);
    snap_text_fputs(msg, stderr);
    fputc('\n', stderr);
    funlockfile(stderr);
    free(big);
}
