/* common/snap_text.c -- escaping outside text for terminals and logs. */
#include "common/snap_text.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Length of the valid UTF-8 sequence at @p (1..4), 0 when it is not one, or
 * when it encodes a C1 control (U+0080..U+009F). */
static size_t
utf8_len(const unsigned char *p)
{
    size_t n, i;
    uint32_t cp;

    if (p[0] < 0x80)
        return 1;
    if (p[0] >= 0xc2 && p[0] <= 0xdf) {
        n = 2;
        cp = p[0] & 0x1f;
    } else if (p[0] >= 0xe0 && p[0] <= 0xef) {
        n = 3;
        cp = p[0] & 0x0f;
    } else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
        n = 4;
        cp = p[0] & 0x07;
    } else {
        return 0;
    }
    for (i = 1; i < n; i++) {
        if ((p[i] & 0xc0) != 0x80)
            return 0;
        cp = (cp << 6) | (p[i] & 0x3f);
    }
    if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
        (cp >= 0xd800 && cp <= 0xdfff) || (cp >= 0x80 && cp <= 0x9f))
        return 0;
    return n;
}

/* The escape for the byte at @p in @out (at least 5 bytes), or "" when the
 * sequence of *@len bytes passes through as it is. */
static void
escape_at(const unsigned char *p, size_t *len, char out[5])
{
    static const char hex[] = "0123456789abcdef";

    out[0] = '\0';
    *len = utf8_len(p);
    if (*len > 1)
        return;
    *len = 1;
    switch (p[0]) {
    case '\n':
        memcpy(out, "\\n", 3);
        return;
    case '\t':
        memcpy(out, "\\t", 3);
        return;
    case '\r':
        memcpy(out, "\\r", 3);
        return;
    case '\\':
        memcpy(out, "\\\\", 3);
        return;
    default:
        break;
    }
    if (p[0] < 0x20 || p[0] >= 0x7f) {
        out[0] = '\\';
        out[1] = 'x';
        out[2] = hex[p[0] >> 4];
        out[3] = hex[p[0] & 0xf];
        out[4] = '\0';
    }
}

bool
snap_text_is_safe(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    char esc[5];
    size_t len;

    if (!s)
        return true;
    for (; *p; p += len) {
        escape_at(p, &len, esc);
        if (esc[0])
            return false;
    }
    return true;
}

char *
snap_text_escape_buf(const char *s, char *buf, size_t size)
{
    const unsigned char *p = (const unsigned char *)(s ? s : "");
    size_t used = 0, len, add;
    char esc[5];

    if (size == 0)
        return buf;
    for (; *p; p += len) {
        escape_at(p, &len, esc);
        add = esc[0] ? strlen(esc) : len;
        if (used + add >= size)
            break;
        memcpy(buf + used, esc[0] ? esc : (const char *)p, add);
        used += add;
    }
    buf[used] = '\0';
    return buf;
}

char *
snap_text_escape(const char *s)
{
    size_t in = s ? strlen(s) : 0, size;
    char *buf;

    /* Every byte grows to at most 4 ("\xHH"). */
    if (in > (SIZE_MAX - 1) / 4)
        return NULL;
    size = 4 * in + 1;
    buf = malloc(size);
    if (!buf)
        return NULL;
    return snap_text_escape_buf(s, buf, size);
}

int
snap_text_fputs(const char *s, FILE *f)
{
    char *e;
    int rc;

    if (snap_text_is_safe(s))
        return fputs(s ? s : "", f);
    e = snap_text_escape(s);
    if (!e)
        return fputs("(unprintable text)", f);
    rc = fputs(e, f);
    free(e);
    return rc;
}
