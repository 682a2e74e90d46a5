/* coordinator/http/http_api_priv.h -- the request-body validators of
 * http_api.c, for the fuzz target (tests/fuzz/fuzz_api.c); not API. They
 * read JSON only: no connection, no backend. */
#ifndef HTTP_API_PRIV_H
#define HTTP_API_PRIV_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "coordinator/http/http_api.h"

/* Validates the body of POST /v1/servers/{domain}/action (@root, as
 * json_loadb() with JSON_REJECT_DUPLICATES read it) into @req, which
 * borrows its strings from @root; @quiesce and @pause are the server's
 * defaults for a request that does not say. The domain fields stay NULL.
 * Returns false with the message in @why (at most @size bytes) and the
 * status to answer in *@status (400). */
bool http_create_req_parse(json_t *root, coord_quiesce quiesce, bool pause,
                           http_create_req *req, unsigned *status, char *why,
                           size_t size);

/* Validates the body of POST /v1/sets/{id}/export (@root; NULL for an
 * empty body) into @req, which borrows its strings from @root. Returns
 * false with the message in @why (a 400). */
bool http_export_req_parse(const json_t *root, http_export_req *req,
                           char *why, size_t size);

#endif
