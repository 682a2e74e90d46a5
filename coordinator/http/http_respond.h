/* coordinator/http/http_respond.h -- the answers of the API: a body with
 * its status and headers, JSON documents, and JSON errors
 * ({"error": {"code", "title", "message"}}). Every answer is counted for
 * /metrics (http_metrics.h). Called from MHD's connection threads. */
#ifndef HTTP_RESPOND_H
#define HTTP_RESPOND_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>
#include <microhttpd.h>

#include "common/snap_error.h"
#include "coordinator/http/http_api.h"

/* Headers an answer may carry besides Content-Type and Cache-Control. */
typedef struct http_resp_headers {
    const char *location;
    const char *allow;
    bool www_authenticate;
} http_resp_headers;

/* Queues @body (malloc'd; taken in every case) of type @ctype with status
 * @code; @h may be NULL. */
enum MHD_Result http_respond(http_api *api, struct MHD_Connection *conn,
                             unsigned code, const char *ctype, char *body,
                             size_t len, const http_resp_headers *h);

/* Queues the JSON document @doc (reference taken; NULL, as a failed
 * json_pack() gives, answers 500 "out of memory"). */
enum MHD_Result http_respond_json(http_api *api, struct MHD_Connection *conn,
                                  unsigned code, json_t *doc,
                                  const http_resp_headers *h);

/* Queues a JSON error with status @code and the formatted message. */
enum MHD_Result http_respond_error(http_api *api, struct MHD_Connection *conn,
                                   unsigned code, const http_resp_headers *h,
                                   const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

/* The status for an error a backend reported (the mapping http_api.h
 * gives above http_backend_ops). */
unsigned http_status_of(const snap_error *e);

/* Queues the JSON error for @e: its status and its message. */
enum MHD_Result http_respond_snap_error(http_api *api,
                                        struct MHD_Connection *conn,
                                        const snap_error *e);

#endif
