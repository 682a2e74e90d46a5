/* coordinator/http/http_deadline.h -- the deadline of one request, first
 * byte to answer. MHD's connection timeout only ends idle connections: a
 * client that sends a byte now and then is never idle, so a thread of our
 * own (the reaper) cuts, every 100 ms, the connections whose request runs
 * past the deadline. MHD tells it which connections are open. */
#ifndef HTTP_DEADLINE_H
#define HTTP_DEADLINE_H

#include <pthread.h>
#include <stdint.h>

#include <microhttpd.h>

#include "common/snap_error.h"

typedef struct http_deadline http_deadline;

/* Starts the reaper for requests of at most @request_timeout_ms. Returns
 * a new handle for http_deadline_free(), or NULL with @err set. */
http_deadline *http_deadline_new(int64_t request_timeout_ms, snap_error *err);

/* Stops the reaper and frees @d; NULL is fine. Call it after
 * MHD_stop_daemon(): no connection is watched any more. */
void http_deadline_free(http_deadline *d);

/* MHD_OPTION_NOTIFY_CONNECTION, with the deadline as @cls: watches a
 * connection from its start to its close. */
void http_deadline_notify(void *cls, struct MHD_Connection *conn,
                          void **socket_context,
                          enum MHD_ConnectionNotificationCode code);

/* The connection's next request starts now (keep-alive). */
void http_deadline_restart(http_deadline *d, struct MHD_Connection *conn);

/* Initialises @cv for waits on CLOCK_MONOTONIC: the module's deadlines
 * (this one, and a request waiting for Keystone in http_auth.c) are
 * monotonic, so a step of the wall clock neither stretches nor cuts
 * them. */
void http_cond_init_monotonic(pthread_cond_t *cv);

#endif
