/* coordinator/serve/auth.h -- the API's tokens checked with Keystone:
 * validated with a session of snapset's own credentials (it needs the
 * right to validate others' tokens), one session per validator thread of
 * the API (serve_state's Keystone slots) and no lock shared between them;
 * http_api caches the answers and runs one validation per token at a time.
 * impl is the serve_state. */
#ifndef SERVE_AUTH_H
#define SERVE_AUTH_H

#include <stdbool.h>

#include "coordinator/coord_conf.h"
#include "coordinator/http/http_api.h"

extern const http_auth_ops serve_keystone_auth_ops;

/* True when the API checks tokens with Keystone: OpenStack is on and is not
 * noauth (which has no Keystone: a tokens file then). */
bool serve_auth_keystone(const coord_conf *conf);

#endif
