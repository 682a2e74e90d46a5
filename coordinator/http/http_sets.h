/* coordinator/http/http_sets.h -- the resources of the API: the sets
 * (list, show, delete, export) and the create actions of a server, with
 * the decision of who may act on which set or domain (http_authz.h over
 * the owner a set records or its domain has). Each handler is called with
 * the whole request read and its caller authenticated, and queues the
 * answer. Called from MHD's connection threads. */
#ifndef HTTP_SETS_H
#define HTTP_SETS_H

#include <microhttpd.h>

#include "coordinator/http/http_api_priv.h"

/* GET /v1/sets[?domain=&backup_type=&state=]: the sets the caller may
 * see. */
enum MHD_Result http_sets_list(http_api *api, struct MHD_Connection *conn,
                               const http_request *rq);

/* GET /v1/servers/{domain}/sets[?backup_type=&state=]: one domain's sets
 * (Nova's ListSnapshot for one VM), for callers who may act on it. */
enum MHD_Result http_sets_server_list(http_api *api,
                                      struct MHD_Connection *conn,
                                      const http_request *rq);

/* GET /v1/sets/{id}. */
enum MHD_Result http_sets_get(http_api *api, struct MHD_Connection *conn,
                              http_request *rq);

/* DELETE /v1/sets/{id}[?with_exports=true]. */
enum MHD_Result http_sets_delete(http_api *api, struct MHD_Connection *conn,
                                 http_request *rq);

/* POST /v1/sets/{id}/export. */
enum MHD_Result http_sets_export(http_api *api, struct MHD_Connection *conn,
                                 http_request *rq);

/* POST /v1/sets/{id}/restore: the set's domain back to the set, as a job
 * (202, Location: /v1/jobs/{id}). */
enum MHD_Result http_sets_restore(http_api *api, struct MHD_Connection *conn,
                                  http_request *rq);

/* POST /v1/sets/{id}/spawn: new domains from the set, as a job (202,
 * Location: /v1/jobs/{id}; the job's result names them). */
enum MHD_Result http_sets_spawn(http_api *api, struct MHD_Connection *conn,
                                http_request *rq);

/* POST /v1/sets/{id}/volumes: a new volume or image from one member, as a
 * job. */
enum MHD_Result http_sets_volume(http_api *api, struct MHD_Connection *conn,
                                 http_request *rq);

/* Templates (ops/template.h): POST /v1/sets/{id}/template {"name"} (a
 * job), GET /v1/templates, GET and DELETE /v1/templates/{id} (a job);
 * POST /v1/templates/{id}/spawn is http_sets_spawn(). */
enum MHD_Result http_sets_template_create(http_api *api,
                                          struct MHD_Connection *conn,
                                          http_request *rq);
enum MHD_Result http_sets_templates(http_api *api, struct MHD_Connection *conn,
                                    const http_request *rq);
enum MHD_Result http_sets_template_get(http_api *api,
                                       struct MHD_Connection *conn,
                                       http_request *rq);
enum MHD_Result http_sets_template_delete(http_api *api,
                                          struct MHD_Connection *conn,
                                          http_request *rq);

/* RAM states of a domain (its sets made with RAM state):
 * GET /v1/servers/{domain}/states, POST there {"name"} (a new one, as a
 * create job), GET and DELETE /v1/servers/{domain}/states/{id}, and
 * POST /v1/servers/{domain}/states/apply {"uuid"} (a restore job that
 * starts the domain from the state). */
enum MHD_Result http_sets_states(http_api *api, struct MHD_Connection *conn,
                                 const http_request *rq);
enum MHD_Result http_sets_state_get(http_api *api, struct MHD_Connection *conn,
                                    http_request *rq);
enum MHD_Result http_sets_state_delete(http_api *api,
                                       struct MHD_Connection *conn,
                                       http_request *rq);
enum MHD_Result http_sets_state_save(http_api *api, struct MHD_Connection *conn,
                                     http_request *rq);
enum MHD_Result http_sets_state_apply(http_api *api,
                                      struct MHD_Connection *conn,
                                      http_request *rq);

/* POST /v1/servers/{domain}/action: createBackup or createSnapshot. */
enum MHD_Result http_sets_create(http_api *api, struct MHD_Connection *conn,
                                 http_request *rq);

#endif
