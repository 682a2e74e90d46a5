/* coordinator/http/http_respond.c -- see http_respond.h. */
#include "coordinator/http/http_respond.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "coordinator/http/http_api_priv.h"
#include "coordinator/http/http_metrics.h"

static const char *
status_title(unsigned code)
{
    switch (code) {
    case 200:
        return "OK";
    case 202:
        return "Accepted";
    case 400:
        return "Bad Request";
    case 401:
        return "Unauthorized";
    case 403:
        return "Forbidden";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 409:
        return "Conflict";
    case 413:
        return "Payload Too Large";
    case 415:
        return "Unsupported Media Type";
    case 501:
        return "Not Implemented";
    case 503:
        return "Service Unavailable";
    case 504:
        return "Gateway Timeout";
    default:
        return code >= 500 ? "Internal Server Error" : "Error";
    }
}

enum MHD_Result
http_respond(http_api *api, struct MHD_Connection *conn, unsigned code,
             const char *ctype, char *body, size_t len,
             const http_resp_headers *h)
{
    struct MHD_Response *resp;
    enum MHD_Result ret;

    resp = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
    if (!resp) {
        free(body);
        return MHD_NO;
    }
    (void)MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, ctype);
    (void)MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL,
                                  "no-store");
    if (h && h->location)
        (void)MHD_add_response_header(resp, MHD_HTTP_HEADER_LOCATION,
                                      h->location);
    if (h && h->allow)
        (void)MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, h->allow);
    if (h && h->www_authenticate)
        (void)MHD_add_response_header(resp, MHD_HTTP_HEADER_WWW_AUTHENTICATE,
                                      "Token realm=\"snapset\"");
    ret = MHD_queue_response(conn, code, resp);
    MHD_destroy_response(resp);
    http_metrics_count(api->metrics, code);
    return ret;
}

enum MHD_Result
http_respond_json(http_api *api, struct MHD_Connection *conn, unsigned code,
                  json_t *doc, const http_resp_headers *h)
{
    char *text =
        doc ? json_dumps(doc, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    static const char oom[] = "{\"error\":{\"code\":500,\"title\":\"Internal "
                              "Server Error\",\"message\":\"out of "
                              "memory\"}}";

    json_decref(doc);
    if (!text) {
        text = strdup(oom);
        if (!text)
            return MHD_NO;
        code = 500;
    }
    return http_respond(api, conn, code, "application/json", text, strlen(text),
                        h);
}

enum MHD_Result
http_respond_error(http_api *api, struct MHD_Connection *conn, unsigned code,
                   const http_resp_headers *h, const char *fmt, ...)
{
    char msg[512];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    return http_respond_json(api, conn, code,
                             json_pack("{s:{s:i,s:s,s:s}}", "error", "code",
                                       (int)code, "title", status_title(code),
                                       "message", msg),
                             h);
}

unsigned
http_status_of(const snap_error *e)
{
    switch (e->code) {
    case SNAP_E_INVALID:
        return 400;
    case SNAP_E_NOTFOUND:
        return 404;
    case SNAP_E_BUSY:
    case SNAP_E_STATE:
        return 409;
    case SNAP_E_TIMEOUT:
        return 504;
    case SNAP_E_HTTP:
        if (e->http_status >= 400 && e->http_status <= 599)
            return (unsigned)e->http_status;
        return 502;
    default:
        return 500;
    }
}

enum MHD_Result
http_respond_snap_error(http_api *api, struct MHD_Connection *conn,
                        const snap_error *e)
{
    return http_respond_error(api, conn, http_status_of(e), NULL, "%s",
                              e->msg[0] ? e->msg : snap_strerror(e->code));
}
