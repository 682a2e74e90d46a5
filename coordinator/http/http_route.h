/* coordinator/http/http_route.h -- from a request to its handler: the
 * path's route and argument, what is refused from the request line and
 * headers alone (token, authorization for the route, method, body size,
 * content type), and the dispatch of a whole request. Called from MHD's
 * connection threads (http_api.c's callbacks). */
#ifndef HTTP_ROUTE_H
#define HTTP_ROUTE_H

#include <stdbool.h>
#include <stddef.h>

#include <microhttpd.h>

#include "coordinator/http/http_api_priv.h"

/* The route of the path @url, with its {domain} or {id} in @arg and a
 * second argument ({domain}/states/{id}) in @arg2 (each at most @argsize
 * bytes; empty when there is none). HTTP_ROUTE_NONE: no such resource
 * (also a double or trailing slash, or an argument too long). */
http_route http_route_match(const char *url, char *arg, size_t argsize,
                            char *arg2, size_t arg2size);

/* What can be decided from the request line and headers alone: a request
 * refused here is answered before its body is read (and its connection
 * closed). Authenticates the caller into @rq->id. *@answered tells
 * whether a response was queued. */
enum MHD_Result http_route_refuse_early(http_api *api,
                                        struct MHD_Connection *conn,
                                        const char *method, http_request *rq,
                                        bool *answered);

/* The whole request is here: answers it. */
enum MHD_Result http_route_answer(http_api *api, struct MHD_Connection *conn,
                                  const char *method, http_request *rq);

#endif
