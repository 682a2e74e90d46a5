/* tests/fakes/fake_http.h -- a scripted cinder_http transport for unit tests
 * (libvirt's qemuMonitorTestAddItem, for HTTP).
 *
 * The test lists the requests it expects, in order, each with a canned
 * reply; the fake answers them and records what was sent:
 *
 *     cinder_http *h = fake_http_new();
 *     fake_http_expect_token(h, "keystone_token_password.json", "tok-1");
 *     fake_http_expect(h, "GET", "/snapshots/s1", 200, "s1_creating.json");
 *     fake_http_repeat(h);          // answers any number of polls
 *     ...
 *     fake_http_verify(h);          // everything consumed, nothing odd
 *     cinder_http_free(h);
 *
 * A request matches the next expectation when its method is equal and its
 * URL contains the expected substring. A repeatable expectation keeps
 * matching until a request doesn't match it and matches the next one. An
 * unexpected request is answered with a transport error, printed, and
 * counted; fake_http_verify() then fails the test.
 *
 * Bodies named by file are read from $SNAP_TEST_DATA/cinder/ (or the source
 * tree's tests/data/cinder/ when the variable is unset).
 */
#ifndef FAKE_HTTP_H
#define FAKE_HTTP_H

#include <stdbool.h>
#include <stddef.h>

#include "cinder/cinder.h"
#include "cinder/cinder_http.h"
#include "cinder/keystone.h"
#include "common/snap_error.h"

/* What the code under test sent. */
typedef struct fake_http_record {
    char *method;
    char *url;
    char *body; /* in-memory or streamed body; "" if none */
    size_t body_len;
    char **headers; /* "Name: value" */
    size_t nheaders;
    size_t batch;      /* which perform/perform_many call (from 1) */
    size_t batch_size; /* how many requests that call carried */
    int64_t timeout_ms;
} fake_http_record;

/* Returns a new fake transport; free with cinder_http_free(). Aborts the
 * test on allocation failure. */
cinder_http *fake_http_new(void);

/* Expects @method on a URL containing @url_part; replies @status with the
 * content of @file under tests/data/cinder/ (NULL: empty body). */
void fake_http_expect(cinder_http *h, const char *method, const char *url_part,
                      long status, const char *file);

/* Like fake_http_expect() with the literal body @body (NULL: empty). */
void fake_http_expect_body(cinder_http *h, const char *method,
                           const char *url_part, long status, const char *body);

/* Expects the request and fails it at the transport level with @code
 * ("connection refused", a timeout...). */
void fake_http_expect_fail(cinder_http *h, const char *method,
                           const char *url_part, snap_code code,
                           const char *msg);

/* Expects a Keystone token request and answers 201 with the token body in
 * @file and "X-Subject-Token: @token". */
void fake_http_expect_token(cinder_http *h, const char *file,
                            const char *token);

/* Adds a response header to the last expectation. */
void fake_http_add_header(cinder_http *h, const char *name, const char *value);

/* Makes the last expectation repeatable. */
void fake_http_repeat(cinder_http *h);

/* Number of requests received so far, and the @i-th (borrowed). */
size_t fake_http_count(cinder_http *h);
const fake_http_record *fake_http_request(cinder_http *h, size_t i);

/* The value of header @name in @r, or NULL. */
const char *fake_http_record_header(const fake_http_record *r,
                                    const char *name);

/* Number of requests whose method and URL part match (any position). */
size_t fake_http_count_matching(cinder_http *h, const char *method,
                                const char *url_part);

/* Asserts (cmocka) that no unexpected request came and every expectation
 * that is not repeatable was used. */
void fake_http_verify(cinder_http *h);

/* The Keystone session and Cinder client most tests start from, over @h:
 * demo's password token ("tok", keystone_token_password.json), then
 * @versions_file as Cinder's version document, both expected here. @co:
 * the client's options (NULL: its defaults). Sets *@session and returns
 * the client; fails the test (cmocka) when either cannot be made. */
cinder_client *fake_http_cinder(cinder_http *h, const char *versions_file,
                                const cinder_client_opts *co,
                                cinder_session **session);

/* Reads tests/data/cinder/@file; returns a new string (free()). */
char *fake_http_data(const char *file);

#endif
