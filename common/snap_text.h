/* common/snap_text.h -- text that came from outside (a guest agent's error,
 * tenant-written Cinder metadata, a libvirt message) made safe to show on a
 * terminal or in a log line.
 *
 * Control characters (C0, DEL and the C1 range as UTF-8 encodes it) become
 * visible escapes: "\n", "\t", "\r", "\\" for a backslash, "\xHH" for the
 * rest, so "\x1b[2J" reaches the terminal as the eight characters it is
 * written with, never as a command. Bytes that are not valid UTF-8 are
 * escaped as "\xHH" too; valid multibyte characters pass through. JSON
 * output does not need this: jansson escapes control characters itself.
 */
#ifndef SNAP_TEXT_H
#define SNAP_TEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* True when @s (NULL is fine) holds nothing snap_text_escape() changes. */
bool snap_text_is_safe(const char *s);

/* Returns a new escaped copy of @s (free()); NULL when out of memory. NULL
 * gives "". */
char *snap_text_escape(const char *s);

/* Escapes @s into @buf of @size bytes (always NUL-terminated when @size > 0;
 * cut at a whole escape when it does not fit). Returns @buf. */
char *snap_text_escape_buf(const char *s, char *buf, size_t size);

/* Writes @s escaped to @f. Returns what fputs() returns. */
int snap_text_fputs(const char *s, FILE *f);

#endif
