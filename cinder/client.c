/* cinder/client.c -- the Cinder client: endpoint, microversion negotiation
 * and the request plumbing every call goes through; see cinder.h. */
#include "cinder/cinder.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cinder/cinder_json.h"
#include "common/snap_time.h"

#define DEFAULT_POLL_MIN_MS 15
#define DEFAULT_POLL_MAX_MS 250
#define DEFAULT_FROZEN_POLL_MAX_MS 20
#define MAX_PAGES 1000

/* ---- request plumbing ---------------------------------------------------- */

static bool
is_absolute(const char *path)
{
    return strncmp(path, "http://", 7) == 0 ||
           strncmp(path, "https://", 8) == 0;
}

bool
cinder_call_init(cinder_client *c, cinder_call *call, cinder_http_method method,
                 const char *path, json_t *body, int64_t timeout_ms,
                 snap_error *err)
{
    size_t len, nh = 0;

    memset(call, 0, sizeof(*call));
    if (is_absolute(path)) {
        call->url = strdup(path);
    } else {
        len = strlen(c->endpoint) + strlen(path) + 1;
        call->url = malloc(len);
        if (call->url)
            snprintf(call->url, len, "%s%s", c->endpoint, path);
    }
    if (!call->url)
        return snap_error_set(err, SNAP_E_NOMEM, "out of memory");
    if (body) {
        call->body = json_dumps(body, JSON_COMPACT);
        if (!call->body) {
            cinder_call_release(call);
            return snap_error_set(err, SNAP_E_NOMEM, "out of memory");
        }
        call->headers[nh++] = "Content-Type: application/json";
    }
    call->headers[nh++] = "Accept: application/json";
    call->headers[nh++] = c->mv_header;
    call->req.method = method;
    call->req.url = call->url;
    call->req.headers = call->headers;
    call->req.nheaders = nh;
    call->req.body = call->body;
    call->req.body_len = call->body ? strlen(call->body) : 0;
    call->req.timeout_ms = timeout_ms > 0 ? timeout_ms : c->request_timeout_ms;
    return true;
}

void
cinder_call_release(cinder_call *call)
{
    if (!call)
        return;
    free(call->url);
    free(call->body);
    memset(call, 0, sizeof(*call));
}

/* True when @body holds nothing but blanks. */
static bool
blank(const char *body, size_t len)
{
    size_t i;

    for (i = 0; i < len; i++) {
        if (body[i] != ' ' && body[i] != '\n' && body[i] != '\r' &&
            body[i] != '\t')
            return false;
    }
    return true;
}

json_t *
cinder_call_result(const cinder_http_response *resp, bool ok,
                   const snap_error *transport_err, const char *what,
                   snap_error *err)
{
    json_t *empty;

    if (!ok) {
        if (transport_err->code == SNAP_E_HTTP)
            snap_error_set_http(err, transport_err->http_status, "%s: %s", what,
                                transport_err->msg);
        else
            snap_error_set(err, transport_err->code, "%s: %s", what,
                           transport_err->msg);
        return NULL;
    }
    if (resp->status < 200 || resp->status > 299) {
        cinder_reply_error(err, resp, what);
        return NULL;
    }
    if (!resp->body || blank(resp->body, resp->body_len)) {
        empty = json_object();
        if (!empty)
            snap_error_set(err, SNAP_E_NOMEM, "%s: out of memory", what);
        return empty;
    }
    return cinder_json_reply(resp, what, err);
}

json_t *
cinder_call_one(cinder_client *c, cinder_http_method method, const char *path,
                json_t *body, const char *what, snap_error *err)
{
    cinder_http_response resp;
    snap_error terr = {0};
    cinder_call call;
    json_t *reply = NULL;
    bool ok;

    cinder_http_response_init(&resp);
    if (!cinder_call_init(c, &call, method, path, body, 0, err))
        return NULL;
    ok = cinder_session_request(c->session, &call.req, &resp, &terr);
    reply = cinder_call_result(&resp, ok, &terr, what, err);
    cinder_http_response_release(&resp);
    cinder_call_release(&call);
    return reply;
}

bool
cinder_require_mv(cinder_client *c, int mv, const char *what, snap_error *err)
{
    char need[16], have[16];

    if (c->mv >= mv)
        return true;
    return snap_error_set(err, SNAP_E_STATE,
                          "%s: needs Cinder API microversion %s, but only %s "
                          "was negotiated",
                          what, cinder_microversion_str(mv, need, sizeof(need)),
                          cinder_microversion_str(c->mv, have, sizeof(have)));
}

bool
cinder_check_id(const char *id, const char *noun, snap_error *err)
{
    if (cinder_id_valid(id))
        return true;
    return snap_error_set(err, SNAP_E_INVALID, "invalid %s id '%.64s'", noun,
                          id ? id : "(null)");
}

char *
cinder_metadata_query(const char *path, const cinder_kv *filter, size_t nfilter,
                      snap_error *err)
{
    json_t *obj = NULL;
    char *text = NULL, *esc = NULL, *out = NULL;
    size_t len;

    obj = cinder_json_from_kv(filter, nfilter);
    if (obj)
        text = json_dumps(obj, JSON_COMPACT | JSON_SORT_KEYS);
    if (text)
        esc = cinder_url_escape(text);
    if (esc) {
        len = strlen(path) + strlen(esc) + sizeof("?metadata=");
        out = malloc(len);
        if (out)
            snprintf(out, len, "%s%cmetadata=%s", path,
                     strchr(path, '?') ? '&' : '?', esc);
    }
    if (!out)
        snap_error_set(err, SNAP_E_NOMEM, "out of memory");
    free(esc);
    free(text);
    json_decref(obj);
    return out;
}

/* Sets *@out to the query of the "next" link in @links, re-rooted on @base
 * (the path we asked, without its query): we never follow a link to a host
 * other than our endpoint. *@out is NULL when there is no next page. */
static bool
next_page(json_t *links, const char *base, char **out, snap_error *err)
{
    const char *href = NULL, *query;
    json_t *link;
    size_t i, len;

    *out = NULL;
    json_array_foreach(links, i, link)
    {
        if (json_is_string(json_object_get(link, "rel")) &&
            strcmp(json_string_value(json_object_get(link, "rel")), "next") ==
                0 &&
            json_is_string(json_object_get(link, "href")))
            href = json_string_value(json_object_get(link, "href"));
    }
    if (!href)
        return true;
    query = strchr(href, '?');
    if (!query)
        return true;
    len = strcspn(base, "?") + strlen(query) + 1;
    *out = malloc(len);
    if (!*out)
        return snap_error_set(err, SNAP_E_NOMEM, "out of memory");
    snprintf(*out, len, "%.*s%s", (int)strcspn(base, "?"), base, query);
    return true;
}

bool
cinder_list_all(cinder_client *c, const char *path, const char *list_key,
                bool (*each)(json_t *item, void *ctx, snap_error *err),
                void *ctx, const char *what, snap_error *err)
{
    char links_key[64];
    char *current = NULL, *next = NULL;
    json_t *reply = NULL, *items, *item;
    bool ok = false;
    size_t i, count;
    int page;

    snprintf(links_key, sizeof(links_key), "%s_links", list_key);
    current = strdup(path);
    if (!current)
        return snap_error_set(err, SNAP_E_NOMEM, "out of memory");
    for (page = 0; page < MAX_PAGES; page++) {
        reply = cinder_call_one(c, CINDER_HTTP_GET, current, NULL, what, err);
        if (!reply)
            goto cleanup;
        items = json_object_get(reply, list_key);
        if (!json_is_array(items)) {
            snap_error_set(err, SNAP_E_INVALID,
                           "%s: malformed reply: no list '%s'", what, list_key);
            goto cleanup;
        }
        json_array_foreach(items, i, item)
        {
            if (!each(item, ctx, err))
                goto cleanup;
        }
        if (!next_page(json_object_get(reply, links_key), path, &next, err))
            goto cleanup;
        count = json_array_size(items);
        json_decref(reply); /* items is gone with it */
        reply = NULL;
        if (!next || count == 0 || strcmp(next, current) == 0)
            break;
        free(current);
        current = next;
        next = NULL;
    }
    ok = true;

cleanup:
    free(next);
    free(current);
    json_decref(reply);
    return ok;
}

/* ---- client -------------------------------------------------------------- */

void
cinder_client_free(cinder_client *c)
{
    if (!c)
        return;
    free(c->endpoint);
    free(c);
}

int
cinder_client_microversion(const cinder_client *c)
{
    return c ? c->mv : 0;
}

int
cinder_client_server_microversion(const cinder_client *c)
{
    return c ? c->server_mv : 0;
}

const char *
cinder_client_endpoint(const cinder_client *c)
{
    return c ? c->endpoint : NULL;
}

/* Finds the v3 entry of a version document: {"versions": [...]} (the root,
 * and /v3/ on current Cinder) or {"version": {...}}. */
static json_t *
find_v3(json_t *doc)
{
    json_t *versions = json_object_get(doc, "versions"), *v, *id;
    size_t i;

    if (json_is_object(json_object_get(doc, "version")))
        return json_object_get(doc, "version");
    json_array_foreach(versions, i, v)
    {
        id = json_object_get(v, "id");
        if (json_is_string(id) && strncmp(json_string_value(id), "v3", 2) == 0)
            return v;
    }
    return NULL;
}

/* Reads the version document at @url into the client. */
static bool
read_versions(cinder_client *c, const char *url, snap_error *err)
{
    const char *headers[] = {"Accept: application/json"};
    cinder_http_request req = {0};
    cinder_http_response resp;
    snap_error terr = {0};
    json_t *doc = NULL, *v3;
    char what[200];
    bool ok = false;
    int max, min;

    snprintf(what, sizeof(what), "cannot read Cinder versions at '%.120s'",
             url);
    cinder_http_response_init(&resp);
    req.method = CINDER_HTTP_GET;
    req.url = url;
    req.headers = headers;
    req.nheaders = 1;
    req.timeout_ms = c->request_timeout_ms;
    if (!cinder_session_request(c->session, &req, &resp, &terr)) {
        cinder_call_result(&resp, false, &terr, what, err);
        goto cleanup;
    }
    /* The root answers 300 Multiple Choices with the same document. */
    if (resp.status != 200 && resp.status != 300) {
        cinder_reply_error(err, &resp, what);
        goto cleanup;
    }
    doc = cinder_json_reply(&resp, what, err);
    if (!doc)
        goto cleanup;
    v3 = find_v3(doc);
    if (!v3) {
        snap_error_set(err, SNAP_E_INVALID,
                       "%s: malformed reply: no v3 version", what);
        goto cleanup;
    }
    max = cinder_microversion_parse(
        json_string_value(json_object_get(v3, "version")));
    min = cinder_microversion_parse(
        json_string_value(json_object_get(v3, "min_version")));
    if (!json_object_get(v3, "version"))
        max = 0;
    if (!json_object_get(v3, "min_version"))
        min = 0;
    if (max < 0 || min < 0) {
        snap_error_set(err, SNAP_E_INVALID,
                       "%s: malformed reply: bad version or min_version", what);
        goto cleanup;
    }
    c->server_mv = max > 0 ? max : CINDER_MV(3, 0);
    c->server_min_mv = min > 0 ? min : CINDER_MV(3, 0);
    ok = true;

cleanup:
    json_decref(doc);
    cinder_http_response_release(&resp);
    return ok;
}

static bool
negotiate(cinder_client *c, snap_error *err)
{
    char *v3 = NULL, *root = NULL, buf[16], buf2[16];
    snap_error first = {0};
    bool ok = false;
    size_t len;

    v3 = cinder_version_url(c->endpoint);
    if (!v3)
        return snap_error_set(err, SNAP_E_INVALID,
                              "Cinder endpoint '%.120s' has no /v3 path",
                              c->endpoint);
    if (!read_versions(c, v3, &first)) {
        /* A proxy may hide /v3/; the unversioned root lists versions too.
         * Report the first failure if both fail. */
        if (first.code == SNAP_E_NOTFOUND ||
            (first.code == SNAP_E_HTTP && first.http_status != 0)) {
            len = strlen(v3) - 3; /* drop "v3/" */
            root = strndup(v3, len);
            if (root && read_versions(c, root, NULL))
                goto negotiated;
        }
        if (err && !snap_error_isset(err))
            *err = first;
        goto cleanup;
    }

negotiated:
    c->mv = c->server_mv < c->max_mv ? c->server_mv : c->max_mv;
    if (c->mv < c->server_min_mv) {
        snap_error_set(
            err, SNAP_E_STATE,
            "Cinder at '%.120s' needs microversion %s or later; we "
            "support up to %s",
            c->endpoint,
            cinder_microversion_str(c->server_min_mv, buf, sizeof(buf)),
            cinder_microversion_str(c->max_mv, buf2, sizeof(buf2)));
        goto cleanup;
    }
    snprintf(c->mv_header, sizeof(c->mv_header),
             "OpenStack-API-Version: volume %s",
             cinder_microversion_str(c->mv, buf, sizeof(buf)));
    ok = true;

cleanup:
    free(root);
    free(v3);
    return ok;
}

/* Makes the catalog URL usable: no trailing slash, and a "/v3/<project>"
 * path when the catalog lists an unversioned endpoint. */
static char *
endpoint_fixup(char *url, const char *project_id, snap_error *err)
{
    size_t len = strlen(url);
    char *v3, *out;

    while (len > 0 && url[len - 1] == '/')
        url[--len] = '\0';
    v3 = cinder_version_url(url);
    if (v3) {
        free(v3);
        return url;
    }
    if (!project_id) {
        snap_error_set(
            err, SNAP_E_INVALID,
            "Cinder endpoint '%.120s' has no /v3 path and no project id", url);
        free(url);
        return NULL;
    }
    len += strlen(project_id) + sizeof("/v3/");
    out = malloc(len);
    if (out)
        snprintf(out, len, "%s/v3/%s", url, project_id);
    else
        snap_error_set(err, SNAP_E_NOMEM, "out of memory");
    free(url);
    return out;
}

cinder_client *
cinder_client_new(cinder_session *session, const cinder_client_opts *opts,
                  snap_error *err)
{
    cinder_client_opts defaults = {0};
    cinder_client *c = NULL;
    char *url = NULL;

    if (!session) {
        snap_error_set(err, SNAP_E_INVALID,
                       "cannot create Cinder client: no session");
        return NULL;
    }
    if (!opts)
        opts = &defaults;
    if (opts->max_microversion != 0 &&
        (opts->max_microversion < CINDER_MV(3, 0) ||
         opts->max_microversion > CINDER_MV(3, 999))) {
        snap_error_set(err, SNAP_E_INVALID,
                       "cannot create Cinder client: bad microversion cap %d",
                       opts->max_microversion);
        return NULL;
    }
    c = calloc(1, sizeof(*c));
    if (!c) {
        snap_error_set(err, SNAP_E_NOMEM, "cannot allocate Cinder client");
        return NULL;
    }
    c->session = session;
    c->max_mv = opts->max_microversion ? opts->max_microversion : CINDER_MV_MAX;
    if (c->max_mv > CINDER_MV_MAX)
        c->max_mv = CINDER_MV_MAX;
    c->poll_min_ms =
        opts->poll_min_ms > 0 ? opts->poll_min_ms : DEFAULT_POLL_MIN_MS;
    c->poll_max_ms =
        opts->poll_max_ms > 0 ? opts->poll_max_ms : DEFAULT_POLL_MAX_MS;
    if (c->poll_max_ms < c->poll_min_ms)
        c->poll_max_ms = c->poll_min_ms;
    c->frozen_poll_max_ms = opts->frozen_poll_max_ms > 0
                                ? opts->frozen_poll_max_ms
                                : DEFAULT_FROZEN_POLL_MAX_MS;
    if (c->frozen_poll_max_ms < c->poll_min_ms)
        c->frozen_poll_max_ms = c->poll_min_ms;
    c->request_timeout_ms =
        opts->request_timeout_ms > 0 ? opts->request_timeout_ms : 0;
    url = cinder_session_endpoint(session, "block-storage", err);
    if (!url)
        goto error;
    c->endpoint = endpoint_fixup(url, cinder_session_project_id(session), err);
    if (!c->endpoint)
        goto error;
    if (!negotiate(c, err))
        goto error;
    return c;

error:
    cinder_client_free(c);
    return NULL;
}
