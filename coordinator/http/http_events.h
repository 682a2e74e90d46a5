/* coordinator/http/http_events.h -- the audit log through the API
 * (coord_events.h). An event is shown to the project that owned what it
 * acted on (recorded when it was emitted) and to the host's roles: the
 * rules of GET /v1/jobs. Called from MHD's connection threads, the whole
 * request read and its caller authenticated. */
#ifndef HTTP_EVENTS_H
#define HTTP_EVENTS_H

#include <microhttpd.h>
#include <stdbool.h>

#include "coordinator/coord_events.h"
#include "coordinator/http/http_api_priv.h"

/* GET /v1/events[?since=&domain=&kind=&limit=]: {"events": [...], "more":
 * bool}, oldest first; the events the caller may see, without their
 * owner. since: RFC 3339, ms since the epoch, or an age ("15m"); with it
 * the first @limit events at or after it (page forward with since = the
 * last "time" received, dropping the ones of that millisecond already
 * had), without it the newest @limit. limit: 1..10000, default 1000. */
enum MHD_Result http_events_list(http_api *api, struct MHD_Connection *conn,
                                 const http_request *rq);

/* Checks the query values of GET /v1/events into @f (borrowing them) and
 * @now_ms for an age: true, or false with the reason in @why (a 400). Also
 * for tests/fuzz. */
bool http_events_query(const char *since, const char *domain, const char *kind,
                       const char *limit, int64_t now_ms,
                       coord_events_filter *f, char *why, size_t size);

#endif
