/* tests/fuzz/fuzz_http.h -- a cinder_http transport that answers from a
 * fuzz input, for the targets of the OpenStack replies (fuzz_cinder,
 * fuzz_glance). No network: the code under test goes through its real
 * request path and its real parsers, and the replies come from the input.
 *
 * The input is a script: a first line naming what the target calls (read
 * by the target, see fuzz_script_op()), then one reply per request, in the
 * order the requests are sent, separated by lines "----":
 *
 *     snapshot_show
 *     {"versions": [...]}            <- reply 1 (status 200)
 *     ----
 *     HTTP 404
 *     {"itemNotFound": {...}}        <- reply 2
 *
 * A reply that starts with "HTTP <3 digits>" and a newline has that
 * status; any other has 200. Every reply carries X-Subject-Token (a valid
 * Keystone token) and Content-Type: application/json. A request past the
 * last reply fails at the transport level, as a refused connection does.
 */
#ifndef FUZZ_HTTP_H
#define FUZZ_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include "cinder/cinder_http.h"

/* The token every reply names in X-Subject-Token. */
#define FUZZ_HTTP_TOKEN "gAAAAABfuzz-token-0123456789abcdef"

/* Copies the first line of @data (at most @size - 1 bytes) into @op and
 * returns the length of the script that follows it. */
size_t fuzz_script_op(const uint8_t *data, size_t len, char *op, size_t size);

/* Returns a new transport answering with the replies of the @len bytes at
 * @script (the input after its first line; copied), or NULL when out of
 * memory. Free with cinder_http_free(). */
cinder_http *fuzz_http_new(const uint8_t *script, size_t len);

#endif
