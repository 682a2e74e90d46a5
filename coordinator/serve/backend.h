/* coordinator/serve/backend.h -- the HTTP API's backend in `snapset serve`:
 * domain lookups through one shared libvirt connection, sets read from the
 * catalog (and the jobs not recorded yet, shown as creating), and create,
 * delete and export taken as jobs for the workers (coordinator/serve/
 * jobs.h). impl is the serve_state. */
#ifndef SERVE_BACKEND_H
#define SERVE_BACKEND_H

#include "coordinator/http/http_api.h"

extern const http_backend_ops serve_backend_ops;

#endif
