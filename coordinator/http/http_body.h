/* coordinator/http/http_body.h -- the validators of the API's request
 * bodies and path arguments. They read JSON and strings only: no
 * connection, no backend, so the fuzz target (tests/fuzz/fuzz_api.c)
 * drives them alone. */
#ifndef HTTP_BODY_H
#define HTTP_BODY_H

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
bool http_export_req_parse(const json_t *root, http_export_req *req, char *why,
                           size_t size);

/* Validates the body of POST /v1/sets/{id}/restore (@root; NULL for an
 * empty body): {"start": bool, "shutdown_timeout_ms": int}. Returns false
 * with the message in @why (a 400). */
bool http_restore_req_parse(const json_t *root, http_restore_req *req,
                            char *why, size_t size);

/* The body of POST /v1/sets/{id}/spawn (required): {"name" (required),
 * "vcpus", "memory_mib", "networks": [names], "full", "start", "count"}.
 * False with @why (a 400). */
bool http_spawn_req_parse(const json_t *root, http_spawn_req *req, char *why,
                          size_t size);

/* The body of POST /v1/sets/{id}/volumes (required): {"disk" (required),
 * "name", "format": "qcow2"|"raw"}. A name is a name, never a path.
 * False with @why (a 400). */
bool http_volume_req_parse(const json_t *root, http_volume_req *req, char *why,
                           size_t size);

/* The body of POST /v1/servers/{domain}/states (NULL: empty): {"name"},
 * optional; *@name borrows from @root. False with @why (a 400). */
bool http_state_save_parse(const json_t *root, const char **name, char *why,
                           size_t size);

/* The body of POST /v1/servers/{domain}/states/apply: {"uuid"}, required,
 * a set id; *@uuid borrows from @root. False with @why (a 400). */
bool http_state_apply_parse(const json_t *root, const char **uuid, char *why,
                            size_t size);

/* A set id: 8 to 36 characters of a UUID, lower-cased in place. */
bool http_set_id_valid(char *id);

/* A printable string without control characters (jansson has checked the
 * UTF-8 of what it read). */
bool http_text_clean(const char *s);

#endif
