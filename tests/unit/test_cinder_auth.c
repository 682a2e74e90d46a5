/* tests/unit/test_cinder_auth.c -- Keystone sessions through fake_http:
 * password and application-credential auth, catalog selection, re-auth on
 * 401 and before expiry, token validation, noauth, OS_* variables. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "cinder/cinder_priv.h"
#include "cinder/keystone.h"
#include "fakes/fake_http.h"

#define PROJECT "0123456789abcdef0123456789abcdef"
#define AUTH_URL "http://keystone.test:5000/v3"

static cinder_auth_opts
password_opts(void)
{
    cinder_auth_opts o;

    memset(&o, 0, sizeof(o));
    o.auth_url = AUTH_URL;
    o.username = "demo";
    o.password = "demopass";
    o.project_name = "demo";
    return o;
}

/* Parses the body of request @i as JSON (a new reference). */
static json_t *
request_json(cinder_http *h, size_t i)
{
    const fake_http_record *r = fake_http_request(h, i);
    json_t *j = json_loads(r->body, 0, NULL);

    assert_non_null(j);
    return j;
}

static const char *
jstr(json_t *root, const char *path)
{
    /* path like "auth.identity.password.user.name" */
    char buf[256], *save = NULL, *tok;
    json_t *cur = root;

    snprintf(buf, sizeof(buf), "%s", path);
    for (tok = strtok_r(buf, ".", &save); tok; tok = strtok_r(NULL, ".", &save))
        cur = json_object_get(cur, tok);
    return json_string_value(cur);
}

static void
test_password_auth_sends_scoped_request_and_reads_the_token(void **state)
{
    cinder_auth_opts o = password_opts();
    snap_error err = {0};
    cinder_http *h = fake_http_new();
    cinder_session *s;
    const fake_http_record *r;
    json_t *body;
    char *url;

    (void)state;
    fake_http_expect_token(h, "keystone_token_password.json", "tok-1");
    s = cinder_session_new_with_http(h, &o, &err);
    assert_non_null(s);
    assert_int_equal(fake_http_count(h), 0); /* lazy: nothing sent yet */
    assert_string_equal(cinder_session_token(s, &err), "tok-1");
    assert_string_equal(cinder_session_project_id(s), PROJECT);
    assert_true(cinder_session_expires_ms(s) ==
                cinder_time_parse("2026-01-01T01:00:00Z"));

    r = fake_http_request(h, 0);
    assert_string_equal(r->method, "POST");
    assert_string_equal(r->url, AUTH_URL "/auth/tokens");
    assert_string_equal(fake_http_record_header(r, "Content-Type"),
                        "application/json");
    body = request_json(h, 0);
    assert_string_equal(
        json_string_value(json_array_get(
            json_object_get(
                json_object_get(json_object_get(body, "auth"), "identity"),
                "methods"),
            0)),
        "password");
    assert_string_equal(jstr(body, "auth.identity.password.user.name"), "demo");
    assert_string_equal(jstr(body, "auth.identity.password.user.password"),
                        "demopass");
    assert_string_equal(jstr(body, "auth.identity.password.user.domain.name"),
                        "Default");
    assert_string_equal(jstr(body, "auth.scope.project.name"), "demo");
    assert_string_equal(jstr(body, "auth.scope.project.domain.name"),
                        "Default");
    json_decref(body);

    /* The catalog came with the token: no second request. */
    url = cinder_session_endpoint(s, "block-storage", &err);
    assert_string_equal(url, "http://cinder.test:8776/v3/" PROJECT);
    free(url);
    url = cinder_session_endpoint(s, "image", &err);
    assert_string_equal(url, "http://glance.test:9292");
    free(url);
    assert_int_equal(fake_http_count(h), 1);
    assert_false(snap_error_isset(&err));
    fake_http_verify(h);
    cinder_session_free(s);
    cinder_http_free(h);
}

static void
test_auth_url_without_version_gets_v3(void **state)
{
    cinder_auth_opts o = password_opts();
    snap_error err = {0};
    cinder_http *h = fake_http_new();
    cinder_session *s;

    (void)state;
    o.auth_url = "http://keystone.test:5000/";
    fake_http_expect_token(h, "keystone_token_password.json", "tok-1");
    s = cinder_session_new_with_http(h, &o, &err);
    assert_non_null(cinder_session_token(s, &err));
    assert_string_equal(fake_http_request(h, 0)->url,
                        "http://keystone.test:5000/v3/auth/tokens");
    cinder_session_free(s);
    cinder_http_free(h);
}

static void
test_application_credential_auth_sends_no_scope(void **state)
{
    cinder_auth_opts o;
    snap_error err = {0};
    cinder_http *h = fake_http_new();
    cinder_session *s;
    json_t *body, *auth;

    (void)state;
    memset(&o, 0, sizeof(o));
    o.auth_url = AUTH_URL;
    o.application_credential_id = "ac0000000000000000000000000000001";
    o.application_credential_secret = "s3cret";
    fake_http_expect_token(h, "keystone_token_appcred.json", "tok-ac");
    s = cinder_session_new_with_http(h, &o, &err);
    assert_non_null(s);
    assert_true(cinder_session_authenticate(s, &err));
    body = request_json(h, 0);
    auth = json_object_get(body, "auth");
    assert_string_equal(
        json_string_value(json_array_get(
            json_object_get(json_object_get(auth, "identity"), "methods"), 0)),
        "application_credential");
    assert_string_equal(jstr(body, "auth.identity.application_credential.id"),
                        "ac0000000000000000000000000000001");
    assert_string_equal(
        jstr(body, "auth.identity.application_credential.secret"), "s3cret");
    assert_null(json_object_get(auth, "scope"));
    json_decref(body);
    assert_string_equal(cinder_session_project_id(s), PROJECT);
    cinder_session_free(s);
    cinder_http_free(h);
}

/* Authenticates with @file as the token reply and returns the block-storage
 * endpoint chosen for @iface/@region (or NULL with @err set). */
static char *
endpoint_for(const char *file, cinder_interface iface, const char *region,
             const char *type, snap_error *err)
{
    cinder_auth_opts o = password_opts();
    cinder_http *h = fake_http_new();
    cinder_session *s;
    char *url;

    o.interface = iface;
    o.region = region;
    fake_http_expect_token(h, file, "tok");
    s = cinder_session_new_with_http(h, &o, err);
    assert_non_null(s);
    url = cinder_session_endpoint(s, type, err);
    cinder_session_free(s);
    cinder_http_free(h);
    return url;
}

static void
test_catalog_selects_by_type_interface_and_region(void **state)
{
    snap_error err = {0};
    char *url;

    (void)state;
    url = endpoint_for("keystone_token_password.json",
                       CINDER_INTERFACE_INTERNAL, NULL, "block-storage", &err);
    assert_string_equal(url, "http://cinder-internal.test:8776/v3/" PROJECT);
    free(url);
    url = endpoint_for("keystone_token_password.json", CINDER_INTERFACE_ADMIN,
                       "RegionOne", "block-storage", &err);
    assert_string_equal(url, "http://cinder-admin.test:8776/v3/" PROJECT);
    free(url);
    url = endpoint_for("keystone_token_regions.json", CINDER_INTERFACE_PUBLIC,
                       "RegionTwo", "block-storage", &err);
    assert_string_equal(url, "http://cinder-r2.test:8776/v3/" PROJECT);
    free(url);
    url = endpoint_for("keystone_token_regions.json", CINDER_INTERFACE_PUBLIC,
                       "RegionOne", "block-storage", &err);
    assert_string_equal(url, "http://cinder.test:8776/v3/" PROJECT);
    free(url);
    /* Internal endpoints exist in RegionOne only: no ambiguity. */
    url = endpoint_for("keystone_token_regions.json", CINDER_INTERFACE_INTERNAL,
                       NULL, "block-storage", &err);
    assert_string_equal(url, "http://cinder-internal.test:8776/v3/" PROJECT);
    free(url);
    url = endpoint_for("keystone_token_password.json",
                       CINDER_INTERFACE_INTERNAL, NULL, "image", &err);
    assert_string_equal(url, "http://glance-internal.test:9292");
    free(url);
    assert_false(snap_error_isset(&err));
}

static void
test_catalog_falls_back_from_block_storage_to_volumev3(void **state)
{
    snap_error err = {0};
    char *url;

    (void)state;
    url = endpoint_for("keystone_token_volumev3_only.json",
                       CINDER_INTERFACE_PUBLIC, NULL, "block-storage", &err);
    assert_string_equal(url, "http://cinder-legacy.test:8776/v3/" PROJECT);
    free(url);
}

static void
test_missing_endpoint_is_a_clear_not_found_error(void **state)
{
    snap_error err = {0};
    char *url;

    (void)state;
    url = endpoint_for("keystone_token_no_volume.json", CINDER_INTERFACE_PUBLIC,
                       NULL, "block-storage", &err);
    assert_null(url);
    assert_int_equal(err.code, SNAP_E_NOTFOUND);
    assert_string_equal(err.msg,
                        "no 'block-storage' endpoint with interface 'public' "
                        "in the service catalog");

    snap_error_clear(&err);
    url = endpoint_for("keystone_token_regions.json", CINDER_INTERFACE_INTERNAL,
                       "RegionTwo", "block-storage", &err);
    assert_null(url);
    assert_int_equal(err.code, SNAP_E_NOTFOUND);
    assert_non_null(
        strstr(err.msg, "interface 'internal' in region 'RegionTwo'"));
}

static void
test_endpoints_in_several_regions_need_a_region(void **state)
{
    snap_error err = {0};
    char *url;

    (void)state;
    url = endpoint_for("keystone_token_regions.json", CINDER_INTERFACE_PUBLIC,
                       NULL, "block-storage", &err);
    assert_null(url);
    assert_int_equal(err.code, SNAP_E_INVALID);
    assert_string_equal(
        err.msg, "'block-storage' endpoints in several regions ('RegionTwo', "
                 "'RegionOne'): choose one (OS_REGION_NAME)");
}

static void
test_bad_password_reports_keystone_message(void **state)
{
    cinder_auth_opts o = password_opts();
    snap_error err = {0};
    cinder_http *h = fake_http_new();
    cinder_session *s;

    (void)state;
    fake_http_expect(h, "POST", "/v3/auth/tokens", 401,
                     "keystone_error_401.json");
    s = cinder_session_new_with_http(h, &o, &err);
    assert_null(cinder_session_token(s, &err));
    assert_int_equal(err.code, SNAP_E_HTTP);
    assert_int_equal(err.http_status, 401);
    assert_string_equal(
        err.msg,
        "cannot authenticate user 'demo' in project 'demo' at '" AUTH_URL
        "': HTTP 401: The request you have made requires authentication.");
    assert_null(strstr(err.msg, "demopass"));
    cinder_session_free(s);
    cinder_http_free(h);
}

static void
test_malformed_token_replies_are_refused(void **state)
{
    static const struct {
        const char *file;
        const char *token;
        const char *msg_part;
    } cases[] = {
        {"keystone_token_password.json", NULL, "no valid X-Subject-Token"},
        {"keystone_token_password.json", "bad token",
         "no valid X-Subject-Token"},
        {"keystone_token_unscoped.json", "tok", "not scoped to a project"},
        {"keystone_token_bad_expiry.json", "tok", "bad or missing expires_at"},
        {"malformed_truncated.json", "tok", "malformed reply"},
        {"malformed_array.json", "tok", "not a JSON object"},
    };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        cinder_auth_opts o = password_opts();
        snap_error err = {0};
        cinder_http *h = fake_http_new();
        cinder_session *s;

        fake_http_expect(h, "POST", "/v3/auth/tokens", 201, cases[i].file);
        if (cases[i].token)
            fake_http_add_header(h, "X-Subject-Token", cases[i].token);
        s = cinder_session_new_with_http(h, &o, &err);
        assert_false(cinder_session_authenticate(s, &err));
        assert_int_equal(err.code, SNAP_E_INVALID);
        assert_non_null(strstr(err.msg, cases[i].msg_part));
        assert_null(strchr(err.msg, '\n'));
        assert_null(cinder_session_project_id(s));
        cinder_session_free(s);
        cinder_http_free(h);
    }
}

static void
test_incomplete_options_are_refused_without_a_request(void **state)
{
    cinder_auth_opts o = password_opts();
    snap_error err = {0};
    cinder_http *h = fake_http_new();

    (void)state;
    o.password = NULL;
    assert_null(cinder_session_new_with_http(h, &o, &err));
    assert_int_equal(err.code, SNAP_E_INVALID);
    snap_error_clear(&err);
    o = password_opts();
    o.auth_url = "http://keystone.test:5000/v2.0";
    assert_null(cinder_session_new_with_http(h, &o, &err));
    assert_int_equal(err.code, SNAP_E_INVALID);
    assert_non_null(strstr(err.msg, "v2.0"));
    assert_int_equal(fake_http_count(h), 0);
    cinder_http_free(h);
}

static void
test_request_reauthenticates_once_on_401(void **state)
{
    cinder_auth_opts o = password_opts();
    snap_error err = {0};
    cinder_http *h = fake_http_new();
    cinder_http_request req = {0};
    cinder_http_response resp;
    cinder_session *s;

    (void)state;
    fake_http_expect_token(h, "keystone_token_password.json", "tok-1");
    fake_http_expect(h, "GET", "/limits", 401, "keystone_error_401.json");
    fake_http_expect_token(h, "keystone_token_password.json", "tok-2");
    fake_http_expect(h, "GET", "/limits", 200, "limits.json");
    /* A second request meets 401 twice: retried once, then reported. */
    fake_http_expect(h, "GET", "/limits", 401, "keystone_error_401.json");
    fake_http_expect_token(h, "keystone_token_password.json", "tok-3");
    fake_http_expect(h, "GET", "/limits", 401, "keystone_error_401.json");

    s = cinder_session_new_with_http(h, &o, &err);
    req.method = CINDER_HTTP_GET;
    req.url = "http://cinder.test:8776/v3/" PROJECT "/limits";
    assert_true(cinder_session_request(s, &req, &resp, &err));
    assert_int_equal(resp.status, 200);
    cinder_http_response_release(&resp);
    assert_string_equal(
        fake_http_record_header(fake_http_request(h, 1), "X-Auth-Token"),
        "tok-1");
    assert_string_equal(
        fake_http_record_header(fake_http_request(h, 3), "X-Auth-Token"),
        "tok-2");
    assert_int_equal(s->nauth, 2);

    assert_true(cinder_session_request(s, &req, &resp, &err));
    assert_int_equal(resp.status, 401);
    cinder_http_response_release(&resp);
    assert_int_equal(s->nauth, 3);
    assert_int_equal(fake_http_count(h), 7);
    assert_false(snap_error_isset(&err));
    fake_http_verify(h);
    cinder_session_free(s);
    cinder_http_free(h);
}

static void
test_request_many_retries_only_the_401s(void **state)
{
    cinder_auth_opts o = password_opts();
    snap_error err = {0}, errs[2];
    cinder_http *h = fake_http_new();
    cinder_http_request reqs[2];
    cinder_http_response resps[2];
    bool oks[2];
    cinder_session *s;

    (void)state;
    memset(reqs, 0, sizeof(reqs));
    memset(errs, 0, sizeof(errs));
    fake_http_expect_token(h, "keystone_token_password.json", "tok-1");
    fake_http_expect(h, "GET", "/snapshots/one", 401,
                     "keystone_error_401.json");
    fake_http_expect(h, "GET", "/snapshots/two", 200,
                     "snapshot_b_available.json");
    fake_http_expect_token(h, "keystone_token_password.json", "tok-2");
    fake_http_expect(h, "GET", "/snapshots/one", 200,
                     "snapshot_a_available.json");
    s = cinder_session_new_with_http(h, &o, &err);
    reqs[0].url = "http://cinder.test/v3/p/snapshots/one";
    reqs[1].url = "http://cinder.test/v3/p/snapshots/two";
    assert_true(
        cinder_session_request_many(s, reqs, resps, errs, oks, 2, &err));
    assert_true(oks[0] && oks[1]);
    assert_int_equal(resps[0].status, 200);
    assert_int_equal(resps[1].status, 200);
    assert_non_null(
        strstr(resps[0].body, "5a5a5a5a-0000-4000-8000-00000000000a"));
    assert_string_equal(
        fake_http_record_header(fake_http_request(h, 4), "X-Auth-Token"),
        "tok-2");
    assert_int_equal(fake_http_request(h, 1)->batch_size, 2);
    cinder_http_response_release(&resps[0]);
    cinder_http_response_release(&resps[1]);
    fake_http_verify(h);
    cinder_session_free(s);
    cinder_http_free(h);
}

static void
test_token_is_renewed_before_expiry(void **state)
{
    cinder_auth_opts o = password_opts();
    snap_error err = {0};
    cinder_http *h = fake_http_new();
    cinder_session *s;

    (void)state;
    /* The token lives 60 s; the default margin is 120 s: every use renews. */
    fake_http_expect_token(h, "keystone_token_short.json", "tok-1");
    fake_http_expect_token(h, "keystone_token_short.json", "tok-2");
    s = cinder_session_new_with_http(h, &o, &err);
    assert_string_equal(cinder_session_token(s, &err), "tok-1");
    assert_string_equal(cinder_session_token(s, &err), "tok-2");
    fake_http_verify(h);
    cinder_session_free(s);
    cinder_http_free(h);

    /* With a 1 s margin the same token is kept. */
    h = fake_http_new();
    o.reauth_margin_ms = 1000;
    fake_http_expect_token(h, "keystone_token_short.json", "tok-1");
    s = cinder_session_new_with_http(h, &o, &err);
    assert_string_equal(cinder_session_token(s, &err), "tok-1");
    assert_string_equal(cinder_session_token(s, &err), "tok-1");
    assert_int_equal(fake_http_count(h), 1);
    cinder_session_free(s);
    cinder_http_free(h);
}

static void
test_validate_token_reads_project_roles_and_expiry(void **state)
{
    cinder_auth_opts o = password_opts();
    snap_error err = {0};
    cinder_http *h = fake_http_new();
    cinder_token_info info;
    const fake_http_record *r;
    cinder_session *s;

    (void)state;
    fake_http_expect_token(h, "keystone_token_password.json", "tok-service");
    fake_http_expect(h, "GET", "/v3/auth/tokens?nocatalog", 200,
                     "keystone_validate.json");
    fake_http_expect(h, "GET", "/v3/auth/tokens?nocatalog", 404,
                     "keystone_error_404.json");
    s = cinder_session_new_with_http(h, &o, &err);
    assert_true(cinder_session_validate_token(s, "gAAAAAcaller", &info, &err));
    assert_string_equal(info.project_id, PROJECT);
    assert_string_equal(info.project_name, "demo");
    assert_string_equal(info.project_domain_id, "default");
    assert_string_equal(info.project_domain_name, "Default");
    assert_string_equal(info.user_name, "demo");
    assert_int_equal(info.nroles, 2);
    assert_true(cinder_token_info_has_role(&info, "member"));
    assert_true(cinder_token_info_has_role(&info, "Reader"));
    assert_false(cinder_token_info_has_role(&info, "admin"));
    assert_true(info.expires_ms == cinder_time_parse("2026-01-01T01:00:00Z"));
    cinder_token_info_release(&info);
    r = fake_http_request(h, 1);
    assert_string_equal(fake_http_record_header(r, "X-Subject-Token"),
                        "gAAAAAcaller");
    assert_string_equal(fake_http_record_header(r, "X-Auth-Token"),
                        "tok-service");

    assert_false(cinder_session_validate_token(s, "gAAAAAbad", &info, &err));
    assert_int_equal(err.code, SNAP_E_NOTFOUND);
    snap_error_clear(&err);
    /* A token that could inject a header is refused without a request. */
    assert_false(
        cinder_session_validate_token(s, "x\r\nX-Evil: 1", &info, &err));
    assert_int_equal(err.code, SNAP_E_NOTFOUND);
    assert_int_equal(fake_http_count(h), 3);
    fake_http_verify(h);
    cinder_session_free(s);
    cinder_http_free(h);
}

static void
test_noauth_session_uses_explicit_endpoint_and_user_project_token(void **state)
{
    cinder_auth_opts o;
    snap_error err = {0};
    cinder_http *h = fake_http_new();
    cinder_http_request req = {0};
    cinder_http_response resp;
    cinder_token_info info;
    cinder_session *s;
    char *url;

    (void)state;
    memset(&o, 0, sizeof(o));
    o.auth_type = CINDER_AUTH_NOAUTH;
    o.project_id = "c0ffee00c0ffee00c0ffee00c0ffee00";
    o.volume_endpoint = "http://cinder.test:8776/v3/%(project_id)s";
    s = cinder_session_new_with_http(h, &o, &err);
    assert_non_null(s);
    assert_string_equal(cinder_session_token(s, &err),
                        "admin:c0ffee00c0ffee00c0ffee00c0ffee00");
    url = cinder_session_endpoint(s, "block-storage", &err);
    assert_string_equal(
        url, "http://cinder.test:8776/v3/c0ffee00c0ffee00c0ffee00c0ffee00");
    free(url);
    assert_null(cinder_session_endpoint(s, "image", &err));
    assert_int_equal(err.code, SNAP_E_NOTFOUND);
    snap_error_clear(&err);

    /* No Keystone to ask: a 401 is returned as is. */
    fake_http_expect(h, "GET", "/limits", 401, NULL);
    req.url =
        "http://cinder.test:8776/v3/c0ffee00c0ffee00c0ffee00c0ffee00/limits";
    assert_true(cinder_session_request(s, &req, &resp, &err));
    assert_int_equal(resp.status, 401);
    cinder_http_response_release(&resp);

    /* noauth validates no caller: "user:project" used to pass as admin. */
    assert_false(cinder_session_validate_token(s, "alice:beef", &info, &err));
    assert_int_equal(err.code, SNAP_E_INVALID);
    assert_null(info.project_id);
    snap_error_clear(&err);
    assert_false(cinder_session_validate_token(s, "x:anything", &info, &err));
    assert_int_equal(err.code, SNAP_E_INVALID);
    snap_error_clear(&err);
    assert_int_equal(fake_http_count(h), 1);
    cinder_session_free(s);
    cinder_http_free(h);
}

static void
test_opts_from_env_reads_the_usual_variables(void **state)
{
    static const char *const vars[] = {
        "OS_AUTH_URL",
        "OS_AUTH_TYPE",
        "OS_USERNAME",
        "OS_USER_ID",
        "OS_PASSWORD",
        "OS_USER_DOMAIN_NAME",
        "OS_USER_DOMAIN_ID",
        "OS_PROJECT_NAME",
        "OS_TENANT_NAME",
        "OS_PROJECT_ID",
        "OS_TENANT_ID",
        "OS_PROJECT_DOMAIN_NAME",
        "OS_PROJECT_DOMAIN_ID",
        "OS_REGION_NAME",
        "OS_INTERFACE",
        "OS_APPLICATION_CREDENTIAL_ID",
        "OS_APPLICATION_CREDENTIAL_SECRET",
        "OS_CACERT",
        "OS_INSECURE",
        "CINDER_ENDPOINT",
        "GLANCE_ENDPOINT",
    };
    cinder_auth_opts o;
    snap_error err = {0};
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(vars) / sizeof(vars[0]); i++)
        unsetenv(vars[i]);
    setenv("OS_AUTH_URL", AUTH_URL, 1);
    setenv("OS_USERNAME", "demo", 1);
    setenv("OS_PASSWORD", "demopass", 1);
    setenv("OS_PROJECT_NAME", "demo", 1);
    setenv("OS_USER_DOMAIN_NAME", "Default", 1);
    setenv("OS_PROJECT_DOMAIN_NAME", "Default", 1);
    setenv("OS_REGION_NAME", "RegionOne", 1);
    setenv("OS_INTERFACE", "internalURL", 1);
    setenv("OS_CACERT", "/etc/ssl/ca.pem", 1);
    setenv("OS_INSECURE", "true", 1);
    assert_true(cinder_auth_opts_from_env(&o, &err));
    assert_string_equal(o.auth_url, AUTH_URL);
    assert_string_equal(o.username, "demo");
    assert_string_equal(o.password, "demopass");
    assert_string_equal(o.project_name, "demo");
    assert_string_equal(o.user_domain_name, "Default");
    assert_string_equal(o.project_domain_name, "Default");
    assert_string_equal(o.region, "RegionOne");
    assert_int_equal(o.interface, CINDER_INTERFACE_INTERNAL);
    assert_string_equal(o.cacert, "/etc/ssl/ca.pem");
    assert_true(o.insecure);
    assert_int_equal(o.auth_type, CINDER_AUTH_AUTO);
    assert_null(o.application_credential_id);

    setenv("OS_AUTH_TYPE", "v3applicationcredential", 1);
    setenv("OS_APPLICATION_CREDENTIAL_ID", "ac1", 1);
    setenv("OS_APPLICATION_CREDENTIAL_SECRET", "sec", 1);
    assert_true(cinder_auth_opts_from_env(&o, &err));
    assert_int_equal(o.auth_type, CINDER_AUTH_APPLICATION_CREDENTIAL);
    assert_string_equal(o.application_credential_id, "ac1");
    assert_string_equal(o.application_credential_secret, "sec");

    setenv("OS_INTERFACE", "sideways", 1);
    assert_false(cinder_auth_opts_from_env(&o, &err));
    assert_int_equal(err.code, SNAP_E_INVALID);
    assert_non_null(strstr(err.msg, "sideways"));
    snap_error_clear(&err);

    setenv("OS_INTERFACE", "public", 1);
    setenv("OS_AUTH_TYPE", "noauth", 1);
    assert_false(cinder_auth_opts_from_env(&o, &err)); /* no CINDER_ENDPOINT */
    snap_error_clear(&err);
    setenv("CINDER_ENDPOINT", "http://127.0.0.1:8776/v3/c0ffee", 1);
    assert_true(cinder_auth_opts_from_env(&o, &err));
    assert_int_equal(o.auth_type, CINDER_AUTH_NOAUTH);
    assert_string_equal(o.volume_endpoint, "http://127.0.0.1:8776/v3/c0ffee");
    for (i = 0; i < sizeof(vars) / sizeof(vars[0]); i++)
        unsetenv(vars[i]);
}

static void
test_time_parse_accepts_keystone_forms(void **state)
{
    int64_t base;

    (void)state;
    base = cinder_time_parse("2026-01-01T00:00:00Z");
    assert_true(base > 0);
    assert_true(cinder_time_parse("2026-01-01T00:00:00.123456Z") == base + 123);
    assert_true(cinder_time_parse("2026-01-01T00:00:00.5Z") == base + 500);
    assert_true(cinder_time_parse("2026-01-01T00:00:00") == base);
    assert_true(cinder_time_parse("2026-01-01T02:00:00+02:00") == base);
    assert_true(cinder_time_parse("2025-12-31T23:00:00-01:00") == base);
    assert_true(cinder_time_parse("2026-01-01T00:00:00.Z") == -1);
    assert_true(cinder_time_parse("2026-01-01") == -1);
    assert_true(cinder_time_parse("2026-13-01T00:00:00Z") == -1);
    assert_true(cinder_time_parse("2026-01-01T00:00:00Zjunk") == -1);
    assert_true(cinder_time_parse(NULL) == -1);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(
            test_password_auth_sends_scoped_request_and_reads_the_token),
        cmocka_unit_test(test_auth_url_without_version_gets_v3),
        cmocka_unit_test(test_application_credential_auth_sends_no_scope),
        cmocka_unit_test(test_catalog_selects_by_type_interface_and_region),
        cmocka_unit_test(
            test_catalog_falls_back_from_block_storage_to_volumev3),
        cmocka_unit_test(test_missing_endpoint_is_a_clear_not_found_error),
        cmocka_unit_test(test_endpoints_in_several_regions_need_a_region),
        cmocka_unit_test(test_bad_password_reports_keystone_message),
        cmocka_unit_test(test_malformed_token_replies_are_refused),
        cmocka_unit_test(test_incomplete_options_are_refused_without_a_request),
        cmocka_unit_test(test_request_reauthenticates_once_on_401),
        cmocka_unit_test(test_request_many_retries_only_the_401s),
        cmocka_unit_test(test_token_is_renewed_before_expiry),
        cmocka_unit_test(test_validate_token_reads_project_roles_and_expiry),
        cmocka_unit_test(
            test_noauth_session_uses_explicit_endpoint_and_user_project_token),
        cmocka_unit_test(test_opts_from_env_reads_the_usual_variables),
        cmocka_unit_test(test_time_parse_accepts_keystone_forms),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
