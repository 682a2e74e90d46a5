/* tests/fuzz/fuzz_cinder.c -- Keystone and Cinder replies: whatever the
 * services answer, a record that holds what cinder.h promises or an error
 * that says why; never a crash or a leak.
 *
 * The input is a script for fuzz_http.h: its first line names the call,
 * the replies follow in request order. Calls on a Cinder client start with
 * the version document (microversion negotiation) of a noauth session with
 * an explicit endpoint; "auth", "validate" and "catalog" use a password
 * session, whose first request is POST /v3/auth/tokens.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cinder/cinder.h"
#include "cinder/cinder_priv.h"
#include "fuzz_http.h"

#define PROJECT "0123456789abcdef0123456789abcdef"
#define ID "3f9c1a9e-8a47-4d2e-9a57-1c2d3e4f5a6b"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A failure always says why. */
static void
check_failed(const snap_error *err)
{
    if (!snap_error_isset(err) || !err->msg[0])
        abort();
}

static void
check_snapshot(const cinder_snapshot *s)
{
    size_t i;

    if (!s || !cinder_id_valid(s->id) || !s->status)
        abort();
    for (i = 0; i < s->nmetadata; i++) {
        if (!s->metadata[i].key || !s->metadata[i].value)
            abort();
    }
}

static void
check_volume(const cinder_volume *v)
{
    size_t i;

    if (!v || !v->id || !v->status)
        abort();
    for (i = 0; i < v->nmetadata; i++) {
        if (!v->metadata[i].key || !v->metadata[i].value)
            abort();
    }
}

static void
check_strv(char *const *v, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++) {
        if (!v[i])
            abort();
    }
}

static cinder_session *
password_session(cinder_http *http)
{
    cinder_auth_opts o = {0};

    o.auth_type = CINDER_AUTH_PASSWORD;
    o.auth_url = "http://keystone.test:5000";
    o.username = "demo";
    o.password = "secret";
    o.project_name = "demo";
    return cinder_session_new_with_http(http, &o, NULL);
}

static cinder_session *
noauth_session(cinder_http *http)
{
    cinder_auth_opts o = {0};

    o.auth_type = CINDER_AUTH_NOAUTH;
    o.project_id = PROJECT;
    o.volume_endpoint = "http://cinder.test:8776/v3/%(project_id)s";
    return cinder_session_new_with_http(http, &o, NULL);
}

/* ---- Keystone ------------------------------------------------------------ */

static void
fuzz_auth(cinder_session *s)
{
    static const char *const types[] = {"block-storage", "image", "compute"};
    snap_error err = {0};
    const char *token;
    char *url;
    size_t i;

    if (!cinder_session_authenticate(s, &err)) {
        check_failed(&err);
        return;
    }
    if (!cinder_session_project_id(s))
        abort();
    /* A lifetime shorter than the margin authenticates again: NULL then
     * when the script has no reply left. */
    token = cinder_session_token(s, NULL);
    if (token && strcmp(token, FUZZ_HTTP_TOKEN) != 0)
        abort();
    for (i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
        memset(&err, 0, sizeof(err));
        url = cinder_session_endpoint(s, types[i], &err);
        if (!url)
            check_failed(&err);
        free(url);
    }
}

static void
fuzz_validate(cinder_session *s)
{
    cinder_token_info info;
    snap_error err = {0};

    if (!cinder_session_validate_token(s, "gAAAAABsubject-token-42", &info,
                                       &err)) {
        check_failed(&err);
        return;
    }
    check_strv(info.roles, info.nroles);
    if (info.expires_ms < 0)
        abort();
    (void)cinder_token_info_has_role(&info, "admin"); /* reads every role */
    cinder_token_info_release(&info);
}

/* A client from the catalog: the endpoint Keystone lists, made usable
 * (endpoint_fixup), then the version document. */
static void
fuzz_catalog(cinder_session *s)
{
    snap_error err = {0};
    cinder_client *c = cinder_client_new(s, NULL, &err);

    if (!c) {
        check_failed(&err);
        return;
    }
    if (!cinder_client_endpoint(c))
        abort();
    cinder_client_free(c);
}

/* ---- Cinder -------------------------------------------------------------- */

static void
fuzz_snapshot(cinder_client *c, const char *op)
{
    static const cinder_kv meta[] = {{"snapset_set", ID}};
    cinder_snapshot_req reqs[3] = {
        {.volume_id = "vol-a",
         .name = "web01",
         .metadata = meta,
         .nmetadata = 1},
        {.volume_id = "vol-b"},
        {.volume_id = "vol-c", .description = "d"},
    };
    cinder_snapshot *one = NULL, *many[3] = {NULL}, **list = NULL;
    snap_error err = {0}, errs[3] = {{0}};
    size_t i, n = 0;

    if (strcmp(op, "snapshot_show") == 0) {
        one = cinder_snapshot_show(c, ID, &err);
    } else if (strcmp(op, "snapshot_create") == 0) {
        one = cinder_snapshot_create(c, &reqs[0], &err);
    } else if (strcmp(op, "snapshot_create_many") == 0) {
        if (!cinder_snapshots_create_many(c, reqs, 3, many, errs, &err))
            check_failed(&err);
        for (i = 0; i < 3; i++) {
            if (many[i])
                check_snapshot(many[i]);
            else
                check_failed(&errs[i]);
            cinder_snapshot_free(many[i]);
        }
        return;
    } else if (strcmp(op, "snapshot_delete") == 0) {
        if (!cinder_snapshot_delete(c, ID, &err))
            check_failed(&err);
        return;
    } else {
        bool ok;

        if (strcmp(op, "snapshot_list") == 0)
            ok = cinder_snapshot_list(c, meta, 1, &list, &n, &err);
        else
            ok = cinder_group_snapshot_members(c, ID, &list, &n, &err);
        if (!ok)
            check_failed(&err);
        for (i = 0; i < n; i++)
            check_snapshot(list[i]);
        cinder_snapshots_free(list, n);
        return;
    }
    if (one)
        check_snapshot(one);
    else
        check_failed(&err);
    cinder_snapshot_free(one);
}

static void
fuzz_volume(cinder_client *c, const char *op)
{
    cinder_volume_req req = {
        .size_gb = 1, .name = "restore", .snapshot_id = ID};
    cinder_volume *one = NULL, **list = NULL;
    snap_error err = {0};
    size_t i, n = 0;

    if (strcmp(op, "volume_list") == 0) {
        if (!cinder_volume_list(c, NULL, 0, &list, &n, &err))
            check_failed(&err);
        for (i = 0; i < n; i++)
            check_volume(list[i]);
        cinder_volumes_free(list, n);
        return;
    }
    if (strcmp(op, "volume_show") == 0)
        one = cinder_volume_show(c, ID, &err);
    else
        one = cinder_volume_create(c, &req, &err);
    if (one)
        check_volume(one);
    else
        check_failed(&err);
    cinder_volume_free(one);
}

static void
fuzz_group(cinder_client *c, const char *op)
{
    cinder_group *g = NULL;
    cinder_group_type *t = NULL;
    cinder_group_snapshot *gs = NULL;
    snap_error err = {0};
    bool ok = false;

    if (strcmp(op, "group_show") == 0) {
        g = cinder_group_show(c, ID, &err);
        if (g && (!g->id || !g->status))
            abort();
        if (g) {
            check_strv(g->volumes, g->nvolumes);
            check_strv(g->volume_types, g->nvolume_types);
        }
        ok = g != NULL;
    } else if (strcmp(op, "group_type_show") == 0) {
        t = cinder_group_type_show(c, ID, &err);
        if (t && (!t->id || (!t->specs_visible && t->nspecs > 0) ||
                  (!t->specs_visible &&
                   t->consistent_snapshots != CINDER_CG_UNKNOWN)))
            abort();
        ok = t != NULL;
    } else {
        if (strcmp(op, "group_snapshot_show") == 0)
            gs = cinder_group_snapshot_show(c, ID, &err);
        else
            gs = cinder_group_snapshot_create(c, ID, "web01", NULL, &err);
        if (gs && !cinder_id_valid(gs->id))
            abort();
        ok = gs != NULL;
    }
    if (!ok)
        check_failed(&err);
    cinder_group_free(g);
    cinder_group_type_free(t);
    cinder_group_snapshot_free(gs);
}

static void
fuzz_limits(cinder_client *c)
{
    cinder_limits l;
    snap_error err = {0};

    if (!cinder_limits_show(c, &l, &err))
        check_failed(&err);
}

static void
fuzz_client(cinder_session *s, const char *op)
{
    snap_error err = {0};
    cinder_client_opts opts = {0};
    cinder_client *c;
    int mv;

    /* "versions_3_21": as a client capped below the server. */
    if (strcmp(op, "versions_3_21") == 0)
        opts.max_microversion = CINDER_MV(3, 21);
    c = cinder_client_new(s, &opts, &err);
    if (!c) {
        check_failed(&err);
        return;
    }
    mv = cinder_client_microversion(c);
    if (mv < CINDER_MV(3, 0) || mv > CINDER_MV_MAX ||
        (opts.max_microversion && mv > opts.max_microversion))
        abort(); /* never more than we or the server support */
    if (strncmp(op, "snapshot_", 9) == 0 ||
        strcmp(op, "group_snapshot_members") == 0)
        fuzz_snapshot(c, op);
    else if (strncmp(op, "volume_", 7) == 0)
        fuzz_volume(c, op);
    else if (strncmp(op, "group_", 6) == 0)
        fuzz_group(c, op);
    else if (strcmp(op, "limits") == 0)
        fuzz_limits(c);
    cinder_client_free(c);
}

/* Error bodies, the times Keystone writes and microversion strings are
 * read by pure functions: the first reply goes to each of them as text. */
static void
fuzz_text(const uint8_t *script, size_t len)
{
    char *text = malloc(len + 1), buf[256];

    if (!text)
        return;
    memcpy(text, script, len);
    text[len] = '\0';
    if (cinder_error_message(text, len, buf, sizeof(buf)) &&
        (strlen(buf) >= sizeof(buf) || strchr(buf, '\n')))
        abort(); /* one line that fits */
    (void)cinder_time_parse(text);
    (void)cinder_microversion_parse(text);
    free(text);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char op[64];
    size_t len = fuzz_script_op(data, size, op, sizeof(op));
    const uint8_t *script = data + (size - len);
    cinder_http *http;
    cinder_session *s;
    bool keystone;

    if (strcmp(op, "text") == 0) {
        fuzz_text(script, len);
        return 0;
    }
    keystone = strcmp(op, "auth") == 0 || strcmp(op, "validate") == 0 ||
               strcmp(op, "catalog") == 0;
    http = fuzz_http_new(script, len);
    if (!http)
        return 0;
    s = keystone ? password_session(http) : noauth_session(http);
    if (!s)
        abort(); /* the options are valid */
    if (strcmp(op, "auth") == 0)
        fuzz_auth(s);
    else if (strcmp(op, "validate") == 0)
        fuzz_validate(s);
    else if (strcmp(op, "catalog") == 0)
        fuzz_catalog(s);
    else
        fuzz_client(s, op);
    cinder_session_free(s);
    cinder_http_free(http);
    return 0;
}
