/* coordinator/cli/cli.c -- see cli.h. */
#include "coordinator/cli/cli.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "common/snap_text.h"

int
cli_usage_error(const char *fmt, ...)
{
    char msg[1024];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    fputs("snapset: ", stderr);
    snap_text_fputs(msg, stderr);
    fputs("\n(see 'snapset --help')\n", stderr);
    return CLI_EXIT_USAGE;
}

int
cli_fail(const snap_error *err)
{
    fputs("snapset: ", stderr);
    snap_text_fputs(err->msg[0] ? err->msg : "failed", stderr);
    fputc('\n', stderr);
    return EXIT_FAILURE;
}

bool
cli_parse_ms(const char *s, int64_t min, int64_t *out)
{
    char *end;
    long long v;

    if (!s || !*s)
        return false;
    errno = 0;
    v = strtoll(s, &end, 10);
    if (errno || *end || v < min || v > 7LL * 86400000)
        return false;
    *out = v;
    return true;
}

bool
cli_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
    char *end;
    unsigned long long v;

    if (!s || !*s || *s == '-')
        return false;
    errno = 0;
    v = strtoull(s, &end, 10);
    if (errno || *end || v < min || v > max)
        return false;
    *out = v;
    return true;
}

void
cli_fmt_ms(char *buf, size_t size, int64_t ms)
{
    if (ms < 0)
        snprintf(buf, size, "-");
    else
        snprintf(buf, size, "%lld", (long long)ms);
}

const char *
cli_safe(const char *s)
{
    static char bufs[8][1024];
    static unsigned next;
    char *b = bufs[next++ % 8];

    return snap_text_escape_buf(s ? s : "-", b, sizeof(bufs[0]));
}

void
cli_put_text(const char *label, const char *text)
{
    printf("%-15s", label);
    snap_text_fputs(text, stdout);
    putchar('\n');
}
