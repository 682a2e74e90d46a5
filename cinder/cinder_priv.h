/* cinder/cinder_priv.h -- struct bodies and internal functions of the
 * cinder module, for its own .c files and its unit tests only (STYLE §5).
 * Nothing here is API: other modules include cinder.h / keystone.h /
 * cinder_http.h. No curl or jansson types appear here either.
 */
#ifndef CINDER_PRIV_H
#define CINDER_PRIV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cinder/cinder.h"
#include "cinder/cinder_http.h"
#include "cinder/keystone.h"

/* One endpoint of the service catalog. */
typedef struct cinder_catalog_entry {
    char *type;
    char *interface;
    char *region;
    char *url;
} cinder_catalog_entry;

struct cinder_session {
    cinder_http *http;
    bool own_http;
    cinder_auth_type auth_type; /* resolved: never AUTO */
    char *auth_url;             /* ends in "/v3", no trailing slash */
    char *username;
    char *user_id;
    char *password;
    char *user_domain_name;
    char *user_domain_id;
    char *project_name;
    char *project_id_opt;
    char *project_domain_name;
    char *project_domain_id;
    char *app_cred_id;
    char *app_cred_secret;
    char *region;
    cinder_interface interface;
    char *volume_endpoint;
    char *image_endpoint;
    int64_t reauth_margin_ms;

    /* the current token */
    char *token;
    char *token_header;      /* "X-Auth-Token: <token>" */
    int64_t expires_mono_ms; /* snap_now_ms() clock; 0 = never */
    int64_t expires_wall_ms;
    char *project_id;
    cinder_catalog_entry *catalog;
    size_t ncatalog;
    unsigned nauth; /* authentications so far */
};

struct cinder_client {
    cinder_session *session; /* borrowed */
    char *endpoint;          /* no trailing slash */
    int mv;                  /* negotiated */
    int server_mv;
    int server_min_mv;
    int max_mv;
    char mv_header[64]; /* "OpenStack-API-Version: volume 3.70" */
    int64_t poll_min_ms;
    int64_t poll_max_ms;
    int64_t frozen_poll_max_ms;
    int64_t request_timeout_ms;
};

/* Parses an ISO 8601 UTC time as Keystone writes it
 * ("2026-11-22T04:39:24.123456Z", "...+00:00", or without a zone) into
 * wall-clock ms since the epoch; -1 on bad input. */
int64_t cinder_time_parse(const char *s);

/* Parses "3.70" into CINDER_MV(3, 70). An empty string gives 0 (the server
 * supports no microversions); -1 on bad input, which includes a major
 * version below 3 (microversions start at 3.0). */
int cinder_microversion_parse(const char *s);

/* Returns a new string: the URL of the version document of block-storage
 * @endpoint ("http://h:8776/v3/<project>" -> "http://h:8776/v3/"), or NULL
 * when @endpoint has no "/v3" path segment. */
char *cinder_version_url(const char *endpoint);

/* Records on @err, after the failure prefix @what ("cannot show snapshot
 * 'x'"), the error an HTTP error reply stands for: the message of an
 * OpenStack error body when there is one, the status otherwise; 404 gives
 * SNAP_E_NOTFOUND, 413 "over limit (retry after N s)". Always returns
 * false. */
bool cinder_reply_error(snap_error *err, const cinder_http_response *resp,
                        const char *what);

/* Extracts the human message of an OpenStack error body into @buf (one
 * line, at most @size - 1 bytes). Returns false when @body has none. */
bool cinder_error_message(const char *body, size_t len, char *buf, size_t size);

/* Returns a new string (free()): @s with every byte outside the URL
 * unreserved set percent-encoded; NULL on allocation failure. */
char *cinder_url_escape(const char *s);

/* True when @id is safe inside a URL path (letters, digits, '-', '_', '.',
 * ':'), non-empty and at most 255 bytes. */
bool cinder_id_valid(const char *id);

/* Copies @src into @dst unless @dst is NULL or already holds an error
 * (the first error wins). Always returns false. */
bool cinder_error_propagate(snap_error *dst, const snap_error *src);

/* Frees the @n pairs of @kv (owned strings) and the array. */
void cinder_kv_array_free(cinder_kv *kv, size_t n);

#endif
