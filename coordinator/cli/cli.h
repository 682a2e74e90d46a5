/* coordinator/cli/cli.h -- what every command of the snapset executable
 * shares: the exit statuses, one-line errors, option values, and text
 * output that escapes what came from outside.
 *
 * Text output shows strings that came from outside -- a guest agent's
 * error, names and metadata an API caller or a tenant wrote, what libvirt
 * and Cinder report -- so every one goes through snap_text (control
 * characters escaped, never sent raw to a terminal). JSON output needs
 * nothing: jansson escapes them. */
#ifndef CLI_H
#define CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/snap_error.h"

/* Exit statuses: 0 ok, 1 failure (EXIT_FAILURE), 2 usage error. */
#define CLI_EXIT_USAGE 2

/* Prints "snapset: <message>" (escaped: it may quote an argument) and the
 * --help hint; returns CLI_EXIT_USAGE. */
int cli_usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Prints "snapset: <@err's message>" (escaped); returns EXIT_FAILURE. */
int cli_fail(const snap_error *err);

/* Parses a duration in milliseconds, @min to 7 days. */
bool cli_parse_ms(const char *s, int64_t min, int64_t *out);

/* Parses a decimal unsigned number in [@min, @max]. */
bool cli_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out);

/* @ms as text, "-" when negative (unknown). */
void cli_fmt_ms(char *buf, size_t size, int64_t ms);

/* @s escaped, or "-" for NULL, in one of a few rotating buffers: valid
 * until eight more calls. For table cells; long text uses cli_put_text(). */
const char *cli_safe(const char *s);

/* "label:        text\n" with @text escaped whole, however long. */
void cli_put_text(const char *label, const char *text);

#endif
