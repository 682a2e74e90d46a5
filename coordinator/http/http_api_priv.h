/* coordinator/http/http_api_priv.h -- what the files of coordinator/http/
 * share and nothing outside it may include: the body of struct http_api
 * and the state of one request. Each part of the server keeps its own
 * state behind its own handle (http_auth.h, http_deadline.h,
 * http_metrics.h); this struct only ties them to the options. The
 * request-body validators the fuzz target calls are in http_body.h. */
#ifndef HTTP_API_PRIV_H
#define HTTP_API_PRIV_H

#include <stdbool.h>
#include <stddef.h>

#include "coordinator/http/http_api.h"
#include "coordinator/http/http_authz.h"

#define HTTP_DOMAIN_ID_MAX 256 /* characters of a {domain} in a path */

struct MHD_Daemon;
/* The parts' handles, named without their headers (http_auth.h,
 * http_deadline.h, http_metrics.h): a file that includes this one uses
 * only the parts whose header it includes itself. */
typedef struct http_auth http_auth;
typedef struct http_deadline http_deadline;
typedef struct http_metrics http_metrics;

struct http_api {
    struct MHD_Daemon *mhd;
    int port;
    size_t max_body;
    char **roles;
    size_t nroles;
    char **projects;
    size_t nprojects;
    http_authz_conf authz; /* borrows roles and projects */
    http_auth *auth;       /* tokens file or Keystone */
    http_deadline *deadline;
    http_metrics *metrics;
    const http_backend_ops *backend;
    void *backend_impl;
    coord_quiesce quiesce;
    bool pause;
};

typedef enum http_route {
    HTTP_ROUTE_NONE = 0,
    HTTP_ROUTE_HEALTHZ,
    HTTP_ROUTE_METRICS,
    HTTP_ROUTE_SETS,
    HTTP_ROUTE_SET,
    HTTP_ROUTE_SET_EXPORT,
    HTTP_ROUTE_ACTION,
    HTTP_ROUTE_SERVER_SETS,
    HTTP_ROUTE_SET_RESTORE,
    HTTP_ROUTE_SET_SPAWN,      /* POST /v1/sets/{id}/spawn */
    HTTP_ROUTE_SET_VOLUMES,    /* POST /v1/sets/{id}/volumes */
    HTTP_ROUTE_SET_TEMPLATE,   /* POST /v1/sets/{id}/template */
    HTTP_ROUTE_TEMPLATES,      /* GET /v1/templates */
    HTTP_ROUTE_TEMPLATE,       /* GET, DELETE /v1/templates/{id} */
    HTTP_ROUTE_TEMPLATE_SPAWN, /* POST /v1/templates/{id}/spawn */
    HTTP_ROUTE_STATES,         /* /v1/servers/{domain}/states */
    HTTP_ROUTE_STATE,          /* /v1/servers/{domain}/states/{id} */
    HTTP_ROUTE_STATE_APPLY,    /* /v1/servers/{domain}/states/apply */
    HTTP_ROUTE_JOBS,
    HTTP_ROUTE_JOB,
    HTTP_ROUTE_EVENTS, /* /v1/events */
} http_route;

/* One request, from its headers to its answer (MHD's con_cls). */
typedef struct http_request {
    http_route route;
    char arg[HTTP_DOMAIN_ID_MAX + 2];  /* the {domain} or {id} of the path */
    char arg2[HTTP_DOMAIN_ID_MAX + 2]; /* a second one: {domain}/states/{id} */
    char *body;
    size_t len;
    bool too_large;
    bool answered;
    http_identity id; /* the caller, once authenticated */
} http_request;

#endif
