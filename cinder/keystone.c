/* cinder/keystone.c -- Keystone v3 sessions; see keystone.h. */
#include "cinder/keystone.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cinder/cinder_json.h"
#include "common/snap_strv.h"
#include "common/snap_time.h"

#define DEFAULT_REAUTH_MARGIN_MS 120000
#define MAX_TOKEN_LEN 16384

/* Catalog types that serve each service type, in order of preference. */
static const char *const volume_types[] = {"block-storage", "volumev3",
                                           "volume", NULL};

const char *
cinder_interface_name(cinder_interface interface)
{
    switch (interface) {
    case CINDER_INTERFACE_INTERNAL:
        return "internal";
    case CINDER_INTERFACE_ADMIN:
        return "admin";
    default:
        return "public";
    }
}

static const char *
env(const char *name)
{
    const char *v = getenv(name);

    return v && v[0] ? v : NULL;
}

bool
cinder_auth_opts_from_env(cinder_auth_opts *opts, snap_error *err)
{
    const char *v;

    memset(opts, 0, sizeof(*opts));
    opts->auth_url = env("OS_AUTH_URL");
    opts->username = env("OS_USERNAME");
    opts->user_id = env("OS_USER_ID");
    opts->password = env("OS_PASSWORD");
    opts->user_domain_name = env("OS_USER_DOMAIN_NAME");
    opts->user_domain_id = env("OS_USER_DOMAIN_ID");
    opts->project_name = env("OS_PROJECT_NAME");
    if (!opts->project_name)
        opts->project_name = env("OS_TENANT_NAME");
    opts->project_id = env("OS_PROJECT_ID");
    if (!opts->project_id)
        opts->project_id = env("OS_TENANT_ID");
    opts->project_domain_name = env("OS_PROJECT_DOMAIN_NAME");
    opts->project_domain_id = env("OS_PROJECT_DOMAIN_ID");
    opts->region = env("OS_REGION_NAME");
    opts->application_credential_id = env("OS_APPLICATION_CREDENTIAL_ID");
    opts->application_credential_secret =
        env("OS_APPLICATION_CREDENTIAL_SECRET");
    opts->cacert = env("OS_CACERT");
    opts->volume_endpoint = env("CINDER_ENDPOINT");
    opts->image_endpoint = env("GLANCE_ENDPOINT");

    v = env("OS_INSECURE");
    opts->insecure = v && (strcasecmp(v, "true") == 0 || strcmp(v, "1") == 0 ||
                           strcasecmp(v, "yes") == 0);

    v = env("OS_INTERFACE");
    if (!v || strcasecmp(v, "public") == 0 || strcasecmp(v, "publicURL") == 0)
        opts->interface = CINDER_INTERFACE_PUBLIC;
    else if (strcasecmp(v, "internal") == 0 ||
             strcasecmp(v, "internalURL") == 0)
        opts->interface = CINDER_INTERFACE_INTERNAL;
    else if (strcasecmp(v, "admin") == 0 || strcasecmp(v, "adminURL") == 0)
        opts->interface = CINDER_INTERFACE_ADMIN;
    else
        return snap_error_set(
            err, SNAP_E_INVALID,
            "unknown OS_INTERFACE '%.64s' (public, internal or admin)", v);

    v = env("OS_AUTH_TYPE");
    if (!v)
        opts->auth_type = CINDER_AUTH_AUTO;
    else if (strcasecmp(v, "password") == 0 || strcasecmp(v, "v3password") == 0)
        opts->auth_type = CINDER_AUTH_PASSWORD;
    else if (strcasecmp(v, "v3applicationcredential") == 0 ||
             strcasecmp(v, "applicationcredential") == 0 ||
             strcasecmp(v, "application_credential") == 0)
        opts->auth_type = CINDER_AUTH_APPLICATION_CREDENTIAL;
    else if (strcasecmp(v, "noauth") == 0 || strcasecmp(v, "none") == 0)
        opts->auth_type = CINDER_AUTH_NOAUTH;
    else
        return snap_error_set(err, SNAP_E_INVALID,
                              "unsupported OS_AUTH_TYPE '%.64s' (password, "
                              "v3applicationcredential or noauth)",
                              v);
    if (opts->auth_type == CINDER_AUTH_NOAUTH ? !opts->volume_endpoint
                                              : !opts->auth_url)
        return snap_error_set(err, SNAP_E_INVALID,
                              opts->auth_type == CINDER_AUTH_NOAUTH
                                  ? "noauth needs CINDER_ENDPOINT"
                                  : "OS_AUTH_URL is not set");
    return true;
}

/* ---- lifecycle ----------------------------------------------------------- */

static void
secret_free(char *s)
{
    if (!s)
        return;
    explicit_bzero(s, strlen(s));
    free(s);
}

static void
catalog_clear(cinder_session *s)
{
    size_t i;

    for (i = 0; i < s->ncatalog; i++) {
        free(s->catalog[i].type);
        free(s->catalog[i].interface);
        free(s->catalog[i].region);
        free(s->catalog[i].url);
    }
    free(s->catalog);
    s->catalog = NULL;
    s->ncatalog = 0;
}

static void
token_clear(cinder_session *s)
{
    secret_free(s->token);
    secret_free(s->token_header);
    s->token = NULL;
    s->token_header = NULL;
    s->expires_mono_ms = 0;
    s->expires_wall_ms = 0;
}

void
cinder_session_free(cinder_session *s)
{
    if (!s)
        return;
    token_clear(s);
    catalog_clear(s);
    free(s->project_id);
    free(s->auth_url);
    free(s->username);
    free(s->user_id);
    secret_free(s->password);
    free(s->user_domain_name);
    free(s->user_domain_id);
    free(s->project_name);
    free(s->project_id_opt);
    free(s->project_domain_name);
    free(s->project_domain_id);
    free(s->app_cred_id);
    secret_free(s->app_cred_secret);
    free(s->region);
    free(s->volume_endpoint);
    free(s->image_endpoint);
    if (s->own_http)
        cinder_http_free(s->http);
    free(s);
}

/* Copies @src (may be NULL) into *@dst; false on allocation failure. */
static bool
copy(char **dst, const char *src)
{
    *dst = NULL;
    if (!src)
        return true;
    *dst = strdup(src);
    return *dst != NULL;
}

/* "http://h:5000" and "http://h:5000/v3/" both become "http://h:5000/v3". */
static char *
normalize_auth_url(const char *url, snap_error *err)
{
    size_t len = strlen(url);
    char *out;

    while (len > 0 && url[len - 1] == '/')
        len--;
    if (len >= 5 && strncmp(url + len - 5, "/v2.0", 5) == 0) {
        snap_error_set(
            err, SNAP_E_INVALID,
            "Keystone v2.0 auth URL '%.120s' is not supported; use v3", url);
        return NULL;
    }
    out = malloc(len + 4);
    if (!out) {
        snap_error_set(err, SNAP_E_NOMEM, "cannot allocate session");
        return NULL;
    }
    memcpy(out, url, len);
    out[len] = '\0';
    if (len < 3 || strcmp(out + len - 3, "/v3") != 0)
        strcat(out, "/v3");
    return out;
}

/* Builds the noauth token "user:project". */
static bool
noauth_token(cinder_session *s, snap_error *err)
{
    const char *user = s->user_id    ? s->user_id
                       : s->username ? s->username
                                     : "admin";
    size_t len = strlen(user) + strlen(s->project_id_opt) + 2;

    s->token = malloc(len);
    s->token_header = malloc(len + sizeof("X-Auth-Token: "));
    s->project_id = strdup(s->project_id_opt);
    if (!s->token || !s->token_header || !s->project_id)
        return snap_error_set(err, SNAP_E_NOMEM, "cannot allocate session");
    snprintf(s->token, len, "%s:%s", user, s->project_id_opt);
    snprintf(s->token_header, len + sizeof("X-Auth-Token: "),
             "X-Auth-Token: %s", s->token);
    return true;
}

cinder_session *
cinder_session_new_with_http(cinder_http *http, const cinder_auth_opts *opts,
                             snap_error *err)
{
    cinder_session *s = NULL;
    cinder_auth_type type;

    if (!http || !opts) {
        snap_error_set(err, SNAP_E_INVALID,
                       "cannot create session: no options");
        return NULL;
    }
    type = opts->auth_type;
    if (type == CINDER_AUTH_AUTO)
        type = opts->application_credential_id
                   ? CINDER_AUTH_APPLICATION_CREDENTIAL
                   : CINDER_AUTH_PASSWORD;
    if (type >= CINDER_AUTH_LAST || (int)opts->interface < 0 ||
        opts->interface >= CINDER_INTERFACE_LAST) {
        snap_error_set(err, SNAP_E_INVALID,
                       "cannot create session: bad options");
        return NULL;
    }
    switch (type) {
    case CINDER_AUTH_NOAUTH:
        if (!opts->project_id || !cinder_id_valid(opts->project_id)) {
            snap_error_set(err, SNAP_E_INVALID,
                           "noauth session needs a project id (hex, e.g. "
                           "c0ffee00c0ffee00c0ffee00c0ffee00)");
            return NULL;
        }
        break;
    case CINDER_AUTH_APPLICATION_CREDENTIAL:
        if (!opts->auth_url || !opts->application_credential_id ||
            !opts->application_credential_secret) {
            snap_error_set(err, SNAP_E_INVALID,
                           "application credential auth needs an auth URL, "
                           "a credential id and its secret");
            return NULL;
        }
        break;
    default:
        if (!opts->auth_url || (!opts->username && !opts->user_id) ||
            !opts->password || (!opts->project_name && !opts->project_id)) {
            snap_error_set(
                err, SNAP_E_INVALID,
                "password auth needs an auth URL, a user, a password "
                "and a project");
            return NULL;
        }
        break;
    }

    s = calloc(1, sizeof(*s));
    if (!s)
        goto nomem;
    s->http = http;
    s->auth_type = type;
    s->interface = opts->interface;
    s->reauth_margin_ms = opts->reauth_margin_ms > 0 ? opts->reauth_margin_ms
                                                     : DEFAULT_REAUTH_MARGIN_MS;
    if (opts->auth_url && type != CINDER_AUTH_NOAUTH) {
        s->auth_url = normalize_auth_url(opts->auth_url, err);
        if (!s->auth_url)
            goto error;
    }
    if (!copy(&s->username, opts->username) ||
        !copy(&s->user_id, opts->user_id) ||
        !copy(&s->password, opts->password) ||
        !copy(&s->user_domain_name, opts->user_domain_name) ||
        !copy(&s->user_domain_id, opts->user_domain_id) ||
        !copy(&s->project_name, opts->project_name) ||
        !copy(&s->project_id_opt, opts->project_id) ||
        !copy(&s->project_domain_name, opts->project_domain_name) ||
        !copy(&s->project_domain_id, opts->project_domain_id) ||
        !copy(&s->app_cred_id, opts->application_credential_id) ||
        !copy(&s->app_cred_secret, opts->application_credential_secret) ||
        !copy(&s->region, opts->region) ||
        !copy(&s->volume_endpoint, opts->volume_endpoint) ||
        !copy(&s->image_endpoint, opts->image_endpoint))
        goto nomem;
    if (type == CINDER_AUTH_NOAUTH && !noauth_token(s, err))
        goto error;
    return s;

nomem:
    snap_error_set(err, SNAP_E_NOMEM, "cannot allocate session");
error:
    cinder_session_free(s);
    return NULL;
}

cinder_session *
cinder_session_new(const cinder_auth_opts *opts, snap_error *err)
{
    cinder_http_opts hopts = {0};
    cinder_session *s = NULL;
    cinder_http *http = NULL;

    if (!opts) {
        snap_error_set(err, SNAP_E_INVALID,
                       "cannot create session: no options");
        return NULL;
    }
    hopts.cacert = opts->cacert;
    hopts.insecure = opts->insecure;
    hopts.connect_timeout_ms = opts->connect_timeout_ms;
    hopts.timeout_ms = opts->timeout_ms;
    hopts.stall_timeout_ms = opts->stall_timeout_ms;
    http = cinder_http_curl_new(&hopts, err);
    if (!http)
        return NULL;
    s = cinder_session_new_with_http(http, opts, err);
    if (!s) {
        cinder_http_free(http);
        return NULL;
    }
    s->own_http = true;
    return s;
}

/* ---- authentication ------------------------------------------------------ */

static json_t *
auth_body(const cinder_session *s)
{
    json_t *identity = NULL, *user = NULL, *scope = NULL, *project = NULL;

    if (s->auth_type == CINDER_AUTH_APPLICATION_CREDENTIAL) {
        /* The credential carries its own project scope; asking for another
         * one is an error in Keystone. */
        return json_pack("{s:{s:{s:[s],s:{s:s,s:s}}}}", "auth", "identity",
                         "methods", "application_credential",
                         "application_credential", "id", s->app_cred_id,
                         "secret", s->app_cred_secret);
    }
    if (s->user_id)
        user =
            json_pack("{s:s,s:s}", "id", s->user_id, "password", s->password);
    else if (s->user_domain_id)
        user = json_pack("{s:s,s:{s:s},s:s}", "name", s->username, "domain",
                         "id", s->user_domain_id, "password", s->password);
    else
        user = json_pack("{s:s,s:{s:s},s:s}", "name", s->username, "domain",
                         "name",
                         s->user_domain_name ? s->user_domain_name : "Default",
                         "password", s->password);
    if (s->project_id_opt)
        project = json_pack("{s:s}", "id", s->project_id_opt);
    else if (s->project_domain_id)
        project = json_pack("{s:s,s:{s:s}}", "name", s->project_name, "domain",
                            "id", s->project_domain_id);
    else
        project = json_pack(
            "{s:s,s:{s:s}}", "name", s->project_name, "domain", "name",
            s->project_domain_name ? s->project_domain_name : "Default");
    if (!user || !project) {
        json_decref(user);
        json_decref(project);
        return NULL;
    }
    identity = json_pack("{s:[s],s:{s:o}}", "methods", "password", "password",
                         "user", user);
    scope = json_pack("{s:o}", "project", project);
    if (!identity || !scope) {
        json_decref(identity);
        json_decref(scope);
        return NULL;
    }
    return json_pack("{s:{s:o,s:o}}", "auth", "identity", identity, "scope",
                     scope);
}

/* Describes the principal for messages: "user 'demo' in project 'demo'". */
static void
auth_what(const cinder_session *s, char *buf, size_t size)
{
    if (s->auth_type == CINDER_AUTH_APPLICATION_CREDENTIAL)
        snprintf(
            buf, size,
            "cannot authenticate application credential '%.64s' at '%.100s'",
            s->app_cred_id, s->auth_url);
    else
        snprintf(
            buf, size,
            "cannot authenticate user '%.48s' in project '%.48s' at '%.96s'",
            s->username ? s->username : s->user_id,
            s->project_name ? s->project_name : s->project_id_opt, s->auth_url);
}

/* True for a token that is safe in a header line. */
static bool
token_valid(const char *t)
{
    size_t i;

    if (!t || !t[0] || strlen(t) > MAX_TOKEN_LEN)
        return false;
    for (i = 0; t[i]; i++) {
        if (t[i] <= ' ' || t[i] == 0x7f)
            return false;
    }
    return true;
}

static bool
catalog_parse(json_t *catalog, cinder_catalog_entry **out, size_t *nout,
              const char *what, snap_error *err)
{
    cinder_catalog_entry *entries = NULL, *e;
    json_t *svc, *eps, *ep;
    size_t i, j, total = 0, n = 0;
    bool ok = false;

    *out = NULL;
    *nout = 0;
    if (!catalog || json_is_null(catalog))
        return true; /* an unscoped token or ?nocatalog */
    if (!json_is_array(catalog))
        return snap_error_set(err, SNAP_E_INVALID,
                              "%s: malformed reply: catalog is not a list",
                              what);
    json_array_foreach(catalog, i, svc)
    {
        eps = json_object_get(svc, "endpoints");
        if (json_is_array(eps))
            total += json_array_size(eps);
    }
    if (total == 0)
        return true;
    entries = calloc(total, sizeof(*entries));
    if (!entries)
        return snap_error_set(err, SNAP_E_NOMEM, "%s: out of memory", what);
    json_array_foreach(catalog, i, svc)
    {
        eps = json_object_get(svc, "endpoints");
        if (!json_is_object(svc) || !json_is_array(eps) ||
            !json_is_string(json_object_get(svc, "type")))
            continue;
        json_array_foreach(eps, j, ep)
        {
            if (!json_is_object(ep))
                continue;
            e = &entries[n];
            if (!cinder_json_string(svc, "type", true, &e->type, what, err) ||
                !cinder_json_string(ep, "interface", false, &e->interface, what,
                                    err) ||
                !cinder_json_string(ep, "url", true, &e->url, what, err))
                goto cleanup;
            /* "region_id" since Mitaka; "region" before. */
            if (!cinder_json_string(
                    ep,
                    json_object_get(ep, "region_id") ? "region_id" : "region",
                    false, &e->region, what, err))
                goto cleanup;
            n++;
        }
    }
    ok = true;

cleanup:
    if (!ok) {
        for (i = 0; i <= n && i < total; i++) {
            free(entries[i].type);
            free(entries[i].interface);
            free(entries[i].region);
            free(entries[i].url);
        }
        free(entries);
        return false;
    }
    *out = entries;
    *nout = n;
    return true;
}

/* Reads the expiry of the token just received: the lifetime Keystone gave
 * (expires_at - issued_at) counted on our monotonic clock, so that a skewed
 * wall clock on either side does not matter. */
static bool
parse_expiry(json_t *token, int64_t *wall, int64_t *mono, const char *what,
             snap_error *err)
{
    json_t *exp = json_object_get(token, "expires_at");
    json_t *iss = json_object_get(token, "issued_at");
    int64_t expires, issued = -1, lifetime;

    expires = cinder_time_parse(json_string_value(exp));
    if (expires < 0)
        return snap_error_set(err, SNAP_E_INVALID,
                              "%s: malformed reply: bad or missing expires_at",
                              what);
    if (json_is_string(iss))
        issued = cinder_time_parse(json_string_value(iss));
    lifetime = issued >= 0 && issued <= expires ? expires - issued
                                                : expires - snap_wall_ms();
    *wall = expires;
    *mono = snap_now_ms() + (lifetime > 0 ? lifetime : 0);
    if (*mono == 0)
        *mono = 1; /* 0 means "never" */
    return true;
}

bool
cinder_session_authenticate(cinder_session *s, snap_error *err)
{
    const char *headers[] = {"Content-Type: application/json",
                             "Accept: application/json"};
    cinder_http_request req = {0};
    cinder_http_response resp;
    cinder_catalog_entry *catalog = NULL;
    size_t ncatalog = 0;
    json_t *body = NULL, *reply = NULL, *token;
    char *url = NULL, *text = NULL, *project_id = NULL, *tok = NULL,
         *hdr = NULL;
    int64_t expires_wall = 0, expires_mono = 0;
    const char *subject;
    char what[256];
    bool ok = false;
    size_t len;

    cinder_http_response_init(&resp);
    if (s->auth_type == CINDER_AUTH_NOAUTH)
        return true;
    auth_what(s, what, sizeof(what));
    body = auth_body(s);
    len = strlen(s->auth_url) + sizeof("/auth/tokens");
    url = malloc(len);
    if (body)
        text = json_dumps(body, JSON_COMPACT);
    if (!url || !text) {
        snap_error_set(err, SNAP_E_NOMEM, "%s: out of memory", what);
        goto cleanup;
    }
    snprintf(url, len, "%s/auth/tokens", s->auth_url);
    req.method = CINDER_HTTP_POST;
    req.url = url;
    req.headers = headers;
    req.nheaders = 2;
    req.body = text;
    req.body_len = strlen(text);
    if (!cinder_http_perform(s->http, &req, &resp, err))
        goto cleanup;
    if (resp.status != 201 && resp.status != 200) {
        cinder_reply_error(err, &resp, what);
        goto cleanup;
    }
    subject = cinder_http_response_header(&resp, "X-Subject-Token");
    if (!token_valid(subject)) {
        snap_error_set(err, SNAP_E_INVALID,
                       "%s: malformed reply: no valid X-Subject-Token header",
                       what);
        goto cleanup;
    }
    reply = cinder_json_reply(&resp, what, err);
    if (!reply)
        goto cleanup;
    token = cinder_json_object(reply, "token", what, err);
    if (!token)
        goto cleanup;
    if (!json_is_object(json_object_get(token, "project"))) {
        snap_error_set(err, SNAP_E_INVALID,
                       "%s: the token is not scoped to a project", what);
        goto cleanup;
    }
    if (!parse_expiry(token, &expires_wall, &expires_mono, what, err) ||
        !cinder_json_string(json_object_get(token, "project"), "id", true,
                            &project_id, what, err) ||
        !catalog_parse(json_object_get(token, "catalog"), &catalog, &ncatalog,
                       what, err))
        goto cleanup;
    len = strlen(subject) + sizeof("X-Auth-Token: ");
    tok = strdup(subject);
    hdr = malloc(len);
    if (!tok || !hdr) {
        snap_error_set(err, SNAP_E_NOMEM, "%s: out of memory", what);
        goto cleanup;
    }
    snprintf(hdr, len, "X-Auth-Token: %s", subject);

    /* Commit: from here nothing fails. */
    token_clear(s);
    catalog_clear(s);
    s->expires_wall_ms = expires_wall;
    s->expires_mono_ms = expires_mono;
    free(s->project_id);
    s->token = tok;
    s->token_header = hdr;
    s->project_id = project_id;
    s->catalog = catalog;
    s->ncatalog = ncatalog;
    tok = hdr = project_id = NULL;
    catalog = NULL;
    ncatalog = 0;
    s->nauth++;
    ok = true;

cleanup:
    if (catalog) {
        cinder_session tmp = {0};

        tmp.catalog = catalog;
        tmp.ncatalog = ncatalog;
        catalog_clear(&tmp);
    }
    secret_free(tok);
    secret_free(hdr);
    free(project_id);
    if (text)
        explicit_bzero(text, strlen(text)); /* it held the password */
    free(text);
    free(url);
    json_decref(body);
    json_decref(reply);
    if (resp.body)
        explicit_bzero(resp.body, resp.body_len);
    cinder_http_response_release(&resp);
    return ok;
}

/* True when the current token is usable for at least the margin. */
static bool
token_fresh(const cinder_session *s)
{
    if (!s->token)
        return false;
    if (s->expires_mono_ms == 0)
        return true;
    return snap_now_ms() < s->expires_mono_ms - s->reauth_margin_ms;
}

const char *
cinder_session_token(cinder_session *s, snap_error *err)
{
    if (!s) {
        snap_error_set(err, SNAP_E_INVALID, "no session");
        return NULL;
    }
    if (!token_fresh(s) && !cinder_session_authenticate(s, err))
        return NULL;
    return s->token;
}

const char *
cinder_session_project_id(const cinder_session *s)
{
    return s ? s->project_id : NULL;
}

bool
cinder_session_noauth(const cinder_session *s)
{
    return s && s->auth_type == CINDER_AUTH_NOAUTH;
}

int64_t
cinder_session_expires_ms(const cinder_session *s)
{
    return s ? s->expires_wall_ms : 0;
}

cinder_http *
cinder_session_http(cinder_session *s)
{
    return s ? s->http : NULL;
}

/* Replaces "%(project_id)s" or "$(project_id)s" in @url. */
static char *
substitute_project(const char *url, const char *project_id)
{
    const char *p = strstr(url, "%(project_id)s");
    size_t pre, len;
    char *out;

    if (!p)
        p = strstr(url, "$(project_id)s");
    if (!p || !project_id)
        return strdup(url);
    pre = (size_t)(p - url);
    len = strlen(url) - strlen("%(project_id)s") + strlen(project_id) + 1;
    out = malloc(len);
    if (!out)
        return NULL;
    snprintf(out, len, "%.*s%s%s", (int)pre, url, project_id,
             p + strlen("%(project_id)s"));
    return out;
}

static bool
entry_matches(const cinder_session *s, const cinder_catalog_entry *e,
              const char *type)
{
    const char *want = cinder_interface_name(s->interface);

    if (strcmp(e->type, type) != 0)
        return false;
    /* Old catalogs say "publicURL". */
    if (!e->interface || strncasecmp(e->interface, want, strlen(want)) != 0)
        return false;
    return !s->region || (e->region && strcmp(e->region, s->region) == 0);
}

/* Returns the endpoint of @type for the configured interface and region.
 * Without a configured region, *@other is set to a match in another region
 * if there is one: Keystone orders the catalog differently from one token
 * to the next, so picking "the first" would pick at random. */
static const cinder_catalog_entry *
catalog_find(const cinder_session *s, const char *type,
             const cinder_catalog_entry **other)
{
    const cinder_catalog_entry *found = NULL, *e;
    size_t i;

    *other = NULL;
    for (i = 0; i < s->ncatalog; i++) {
        e = &s->catalog[i];
        if (!entry_matches(s, e, type))
            continue;
        if (!found) {
            found = e;
            if (s->region)
                break;
        } else if (!*other && (!found->region) != (!e->region)) {
            *other = e;
        } else if (!*other && found->region &&
                   strcmp(found->region, e->region) != 0) {
            *other = e;
        }
    }
    return found;
}

char *
cinder_session_endpoint(cinder_session *s, const char *service_type,
                        snap_error *err)
{
    const char *const *types = NULL;
    const char *one[2] = {service_type, NULL};
    const cinder_catalog_entry *e = NULL, *other = NULL;
    const char *override = NULL;
    char *url;
    size_t i;

    if (!s || !service_type) {
        snap_error_set(err, SNAP_E_INVALID, "no session or service type");
        return NULL;
    }
    types = one;
    if (strcmp(service_type, "block-storage") == 0 ||
        strcmp(service_type, "volumev3") == 0 ||
        strcmp(service_type, "volume") == 0) {
        types = volume_types;
        override = s->volume_endpoint;
    } else if (strcmp(service_type, "image") == 0) {
        override = s->image_endpoint;
    }
    if (!override && s->auth_type == CINDER_AUTH_NOAUTH) {
        snap_error_set(err, SNAP_E_NOTFOUND,
                       "no '%s' endpoint: noauth mode needs it configured",
                       service_type);
        return NULL;
    }
    if (!override) {
        if (!cinder_session_token(s, err))
            return NULL;
        for (i = 0; types[i] && !e; i++)
            e = catalog_find(s, types[i], &other);
        if (e && other) {
            snap_error_set(
                err, SNAP_E_INVALID,
                "'%s' endpoints in several regions ('%.32s', '%.32s'): "
                "choose one (OS_REGION_NAME)",
                service_type, e->region ? e->region : "",
                other->region ? other->region : "");
            return NULL;
        }
        if (!e) {
            snap_error_set(
                err, SNAP_E_NOTFOUND,
                "no '%s' endpoint with interface '%s'%s%.64s%s in the "
                "service catalog",
                service_type, cinder_interface_name(s->interface),
                s->region ? " in region '" : "", s->region ? s->region : "",
                s->region ? "'" : "");
            return NULL;
        }
    }
    url = substitute_project(override ? override : e->url, s->project_id);
    if (!url)
        snap_error_set(err, SNAP_E_NOMEM, "out of memory");
    return url;
}

/* ---- authenticated requests ---------------------------------------------- */

/* Returns a new header array: @req's headers and the token header. */
static const char **
headers_with_token(const cinder_session *s, const cinder_http_request *req)
{
    const char **h;

    h = calloc(req->nheaders + 1, sizeof(*h));
    if (!h)
        return NULL;
    if (req->nheaders)
        memcpy(h, req->headers, req->nheaders * sizeof(*h));
    h[req->nheaders] = s->token_header;
    return h;
}

static bool
retriable(const cinder_http_request *req)
{
    return !req->upload || req->upload_rewind;
}

bool
cinder_session_request(cinder_session *s, const cinder_http_request *req,
                       cinder_http_response *resp, snap_error *err)
{
    cinder_http_request copy_req;
    const char **headers = NULL;
    bool ok = false;
    int attempt;

    cinder_http_response_init(resp);
    if (!req)
        return snap_error_set(err, SNAP_E_INVALID, "no request");
    for (attempt = 0; attempt < 2; attempt++) {
        if (attempt == 0 && !cinder_session_token(s, err))
            return false;
        if (attempt == 1) {
            /* The service refused a token we believed valid (revoked, or
             * expired early): get a new one and try once more. */
            cinder_http_response_release(resp);
            if (req->upload_rewind && !req->upload_rewind(req->upload_ctx, err))
                return false;
            if (!cinder_session_authenticate(s, err))
                return false;
        }
        free(headers);
        headers = headers_with_token(s, req);
        if (!headers)
            return snap_error_set(err, SNAP_E_NOMEM, "out of memory");
        copy_req = *req;
        copy_req.headers = headers;
        copy_req.nheaders = req->nheaders + 1;
        ok = cinder_http_perform(s->http, &copy_req, resp, err);
        if (!ok || resp->status != 401 || s->auth_type == CINDER_AUTH_NOAUTH ||
            !retriable(req))
            break;
    }
    free(headers);
    return ok;
}

bool
cinder_session_request_many(cinder_session *s, const cinder_http_request *reqs,
                            cinder_http_response *resps, snap_error *errs,
                            bool *oks, size_t n, snap_error *err)
{
    cinder_http_request *copies = NULL;
    cinder_http_response *sub_resps = NULL;
    snap_error *sub_errs = NULL;
    const char ***headers = NULL;
    bool *sub_oks = NULL;
    size_t *retry = NULL;
    size_t i, nretry = 0;
    bool ret = false;

    for (i = 0; i < n; i++)
        cinder_http_response_init(&resps[i]);
    if (n == 0)
        return true;
    if (!cinder_session_token(s, err))
        return false;
    copies = calloc(n, sizeof(*copies));
    headers = calloc(n, sizeof(*headers));
    retry = calloc(n, sizeof(*retry));
    sub_resps = calloc(n, sizeof(*sub_resps));
    sub_errs = calloc(n, sizeof(*sub_errs));
    sub_oks = calloc(n, sizeof(*sub_oks));
    if (!copies || !headers || !retry || !sub_resps || !sub_errs || !sub_oks) {
        snap_error_set(err, SNAP_E_NOMEM, "out of memory");
        goto cleanup;
    }
    for (i = 0; i < n; i++) {
        headers[i] = headers_with_token(s, &reqs[i]);
        if (!headers[i]) {
            snap_error_set(err, SNAP_E_NOMEM, "out of memory");
            goto cleanup;
        }
        copies[i] = reqs[i];
        copies[i].headers = headers[i];
        copies[i].nheaders = reqs[i].nheaders + 1;
    }
    if (!cinder_http_perform_many(s->http, copies, resps, errs, oks, n, err))
        goto cleanup;
    if (s->auth_type != CINDER_AUTH_NOAUTH) {
        for (i = 0; i < n; i++) {
            if (oks[i] && resps[i].status == 401 && retriable(&reqs[i]))
                retry[nretry++] = i;
        }
    }
    if (nretry > 0) {
        /* Re-authenticate once for the whole batch. If that fails, the 401
         * replies stand and the caller reports them. */
        snap_error auth_err = {0};

        if (!cinder_session_authenticate(s, &auth_err)) {
            for (i = 0; i < nretry; i++)
                errs[retry[i]] = auth_err;
            for (i = 0; i < nretry; i++)
                oks[retry[i]] = false;
            ret = true;
            goto cleanup;
        }
        for (i = 0; i < nretry; i++) {
            const cinder_http_request *r = &reqs[retry[i]];

            free(headers[retry[i]]);
            headers[retry[i]] = headers_with_token(s, r);
            if (!headers[retry[i]]) {
                snap_error_set(err, SNAP_E_NOMEM, "out of memory");
                goto cleanup;
            }
            if (r->upload_rewind &&
                !r->upload_rewind(r->upload_ctx, &sub_errs[i])) {
                snap_error_set(err, sub_errs[i].code, "%s", sub_errs[i].msg);
                goto cleanup;
            }
            copies[i] = *r;
            copies[i].headers = headers[retry[i]];
            copies[i].nheaders = r->nheaders + 1;
        }
        if (!cinder_http_perform_many(s->http, copies, sub_resps, sub_errs,
                                      sub_oks, nretry, err))
            goto cleanup;
        for (i = 0; i < nretry; i++) {
            cinder_http_response_release(&resps[retry[i]]);
            resps[retry[i]] = sub_resps[i];
            cinder_http_response_init(&sub_resps[i]);
            errs[retry[i]] = sub_errs[i];
            oks[retry[i]] = sub_oks[i];
        }
    }
    ret = true;

cleanup:
    if (sub_resps) {
        for (i = 0; i < n; i++)
            cinder_http_response_release(&sub_resps[i]);
    }
    if (headers) {
        for (i = 0; i < n; i++)
            free(headers[i]);
    }
    free(headers);
    free(copies);
    free(retry);
    free(sub_resps);
    free(sub_errs);
    free(sub_oks);
    return ret;
}

/* ---- token validation ---------------------------------------------------- */

void
cinder_token_info_release(cinder_token_info *info)
{
    if (!info)
        return;
    free(info->user_id);
    free(info->user_name);
    free(info->project_id);
    free(info->project_name);
    free(info->project_domain_id);
    free(info->project_domain_name);
    snap_strv_free(info->roles, info->nroles);
    memset(info, 0, sizeof(*info));
}

bool
cinder_token_info_has_role(const cinder_token_info *info, const char *role)
{
    size_t i;

    if (!info || !role)
        return false;
    for (i = 0; i < info->nroles; i++) {
        if (strcasecmp(info->roles[i], role) == 0)
            return true;
    }
    return false;
}

bool
cinder_session_validate_token(cinder_session *s, const char *subject,
                              cinder_token_info *info, snap_error *err)
{
    const char *headers[2] = {"Accept: application/json", NULL};
    cinder_http_request req = {0};
    cinder_http_response resp;
    cinder_token_info out = {0};
    json_t *reply = NULL, *token, *obj, *roles, *role;
    char *url = NULL, *subject_hdr = NULL;
    const char *what = "cannot validate token";
    bool ok = false;
    size_t len, i;

    cinder_http_response_init(&resp);
    if (!s || !info)
        return snap_error_set(err, SNAP_E_INVALID, "%s: no session", what);
    memset(info, 0, sizeof(*info));
    if (!token_valid(subject))
        return snap_error_set(err, SNAP_E_NOTFOUND,
                              "token is not valid: malformed");
    if (s->auth_type == CINDER_AUTH_NOAUTH)
        return snap_error_set(err, SNAP_E_INVALID,
                              "%s: noauth has no Keystone to ask (use a "
                              "tokens file)",
                              what);

    len = strlen(s->auth_url) + sizeof("/auth/tokens?nocatalog");
    url = malloc(len);
    len = strlen(subject) + sizeof("X-Subject-Token: ");
    subject_hdr = malloc(len);
    if (!url || !subject_hdr) {
        snap_error_set(err, SNAP_E_NOMEM, "%s: out of memory", what);
        goto cleanup;
    }
    snprintf(subject_hdr, len, "X-Subject-Token: %s", subject);
    snprintf(url, strlen(s->auth_url) + sizeof("/auth/tokens?nocatalog"),
             "%s/auth/tokens?nocatalog", s->auth_url);
    headers[1] = subject_hdr;
    req.method = CINDER_HTTP_GET;
    req.url = url;
    req.headers = headers;
    req.nheaders = 2;
    if (!cinder_session_request(s, &req, &resp, err))
        goto cleanup;
    if (resp.status == 404) {
        snap_error_set(err, SNAP_E_NOTFOUND,
                       "token is not valid: expired, revoked or unknown");
        goto cleanup;
    }
    if (resp.status != 200) {
        cinder_reply_error(err, &resp, what);
        goto cleanup;
    }
    reply = cinder_json_reply(&resp, what, err);
    if (!reply)
        goto cleanup;
    token = cinder_json_object(reply, "token", what, err);
    if (!token)
        goto cleanup;
    obj = json_object_get(token, "user");
    if (!cinder_json_string(obj, "id", false, &out.user_id, what, err) ||
        !cinder_json_string(obj, "name", false, &out.user_name, what, err))
        goto cleanup;
    obj = json_object_get(token, "project");
    if (!cinder_json_string(obj, "id", false, &out.project_id, what, err) ||
        !cinder_json_string(obj, "name", false, &out.project_name, what, err))
        goto cleanup;
    obj = json_object_get(obj, "domain");
    if (!cinder_json_string(obj, "id", false, &out.project_domain_id, what,
                            err) ||
        !cinder_json_string(obj, "name", false, &out.project_domain_name, what,
                            err))
        goto cleanup;
    roles = json_object_get(token, "roles");
    if (json_is_array(roles) && json_array_size(roles) > 0) {
        out.roles = calloc(json_array_size(roles), sizeof(*out.roles));
        if (!out.roles) {
            snap_error_set(err, SNAP_E_NOMEM, "%s: out of memory", what);
            goto cleanup;
        }
        json_array_foreach(roles, i, role)
        {
            if (!json_is_string(json_object_get(role, "name")))
                continue;
            if (!cinder_json_string(role, "name", true, &out.roles[out.nroles],
                                    what, err))
                goto cleanup;
            out.nroles++;
        }
    }
    out.expires_ms = cinder_time_parse(
        json_string_value(json_object_get(token, "expires_at")));
    if (out.expires_ms < 0) {
        snap_error_set(err, SNAP_E_INVALID,
                       "%s: malformed reply: bad or missing expires_at", what);
        goto cleanup;
    }
    *info = out;
    memset(&out, 0, sizeof(out));
    ok = true;

cleanup:
    cinder_token_info_release(&out);
    json_decref(reply);
    cinder_http_response_release(&resp);
    secret_free(subject_hdr);
    free(url);
    return ok;
}
