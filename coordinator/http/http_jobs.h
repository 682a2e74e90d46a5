/* coordinator/http/http_jobs.h -- the jobs of the API: what a request
 * that returned 202 set going, where it stands and what it made
 * (coord_jobrec.h). A job is shown to whoever may act on what it acts on
 * (its owner, recorded when it was accepted) and to the host's roles.
 * Called from MHD's connection threads, the whole request read and its
 * caller authenticated. */
#ifndef HTTP_JOBS_H
#define HTTP_JOBS_H

#include <microhttpd.h>

#include "coordinator/http/http_api_priv.h"

/* GET /v1/jobs[?state=&domain=&kind=]: the jobs the caller may see,
 * newest first. */
enum MHD_Result http_jobs_list(http_api *api, struct MHD_Connection *conn,
                               const http_request *rq);

/* GET /v1/jobs/{id}. */
enum MHD_Result http_jobs_get(http_api *api, struct MHD_Connection *conn,
                              const http_request *rq);

#endif
