/* tests/unit/test_glance_upload.c -- Glance v2 uploads through the scripted
 * HTTP transport (tests/fakes/fake_http.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "cinder/keystone.h"
#include "fakes/fake_http.h"
#include "glance/glance.h"
#include "glance/glance_upload.h"
#include "unit/test_glance_util.h"

#define IMAGE_ID "1b2c3d4e-5f60-4a1b-8c2d-3e4f5a6b7c8d"
#define FILE_SIZE (2 * 1024 * 1024 + 777) /* several chunks, odd end */

typedef struct fixture {
    char *dir;
    char *path;
    char sha512[GLANCE_HASH_HEX_SIZE];
    cinder_http *http;
    cinder_session *session;
} fixture;

static cinder_session *
noauth_session(cinder_http *http, const char *endpoint)
{
    cinder_auth_opts opts = {0};
    snap_error err = {0};
    cinder_session *s;

    opts.auth_type = CINDER_AUTH_NOAUTH;
    opts.project_id = "c0ffee00c0ffee00c0ffee00c0ffee00";
    opts.image_endpoint = endpoint;
    s = cinder_session_new_with_http(http, &opts, &err);
    if (!s)
        fail_msg("session: %s", err.msg);
    return s;
}

static int
setup(void **state)
{
    fixture *f = calloc(1, sizeof(*f));
    snap_error err = {0};
    glance_hash *h;
    char *data;
    size_t len;

    f->dir = tg_tmpdir();
    f->path = tg_make_file(f->dir, "web01.ova", FILE_SIZE, 3);
    data = tg_read_file(f->path, &len);
    h = glance_hash_new(GLANCE_HASH_SHA512, &err);
    glance_hash_update(h, data, len, &err);
    glance_hash_final_hex(h, f->sha512, sizeof(f->sha512), &err);
    glance_hash_free(h);
    free(data);
    f->http = fake_http_new();
    f->session = noauth_session(f->http, "http://glance.test:9292");
    *state = f;
    return 0;
}

static int
teardown(void **state)
{
    fixture *f = *state;

    cinder_session_free(f->session);
    cinder_http_free(f->http);
    tg_rmtree(f->dir);
    free(f->dir);
    free(f->path);
    free(f);
    return 0;
}

static const glance_image_property props[] = {
    {"snapset_set", FIXTURE_SET_UUID},
    {"snapset_consistency", "fs"},
};

static const glance_image_opts opts = {
    .name = "web01 set",
    .properties = props,
    .nproperties = 2,
};

static void
expect_create(fixture *f)
{
    fake_http_expect_body(f->http, "POST", "http://glance.test:9292/v2/images",
                          201,
                          "{\"id\": \"" IMAGE_ID "\", \"status\": \"queued\"}");
}

/* The image as Glance shows it after the upload. */
static void
expect_show(fixture *f, const char *status, long size, const char *algo,
            const char *hash)
{
    char body[1024];

    snprintf(body, sizeof(body),
             "{\"id\": \"%s\", \"status\": \"%s\", \"size\": %ld, "
             "\"os_hash_algo\": \"%s\", \"os_hash_value\": \"%s\", "
             "\"container_format\": \"ova\", \"disk_format\": \"vmdk\"}",
             IMAGE_ID, status, size, algo, hash);
    fake_http_expect_body(f->http, "GET", "/v2/images/" IMAGE_ID, 200, body);
}

static void
test_upload_creates_streams_and_checks_the_hash(void **state)
{
    fixture *f = *state;
    const fake_http_record *r;
    snap_error err = {0};
    json_t *body;
    char *data, *id;
    size_t len;

    expect_create(f);
    fake_http_expect_body(f->http, "PUT", "/v2/images/" IMAGE_ID "/file", 204,
                          NULL);
    expect_show(f, "active", FILE_SIZE, "sha512", f->sha512);
    id = glance_image_create(f->session, f->path, &opts, &err);
    if (!id)
        fail_msg("upload: %s", err.msg);
    assert_string_equal(id, IMAGE_ID);
    fake_http_verify(f->http);

    /* The create body: formats, name and string properties. */
    r = fake_http_request(f->http, 0);
    body = json_loads(r->body, 0, NULL);
    assert_non_null(body);
    assert_string_equal(
        json_string_value(json_object_get(body, "container_format")), "ova");
    assert_string_equal(json_string_value(json_object_get(body, "disk_format")),
                        "vmdk");
    assert_string_equal(json_string_value(json_object_get(body, "name")),
                        "web01 set");
    assert_string_equal(json_string_value(json_object_get(body, "snapset_set")),
                        FIXTURE_SET_UUID);
    assert_null(json_object_get(body, "visibility"));
    json_decref(body);
    assert_string_equal(fake_http_record_header(r, "Content-Type"),
                        "application/json");
    assert_non_null(fake_http_record_header(r, "X-Auth-Token"));

    /* The upload: the whole file, as octets, with no overall time bound. */
    r = fake_http_request(f->http, 1);
    assert_string_equal(r->method, "PUT");
    assert_string_equal(fake_http_record_header(r, "Content-Type"),
                        "application/octet-stream");
    assert_int_equal(r->timeout_ms, -1);
    data = tg_read_file(f->path, &len);
    assert_int_equal(r->body_len, len);
    assert_memory_equal(r->body, data, len);
    free(data);
    free(id);
}

static void
test_a_different_hash_deletes_the_image(void **state)
{
    fixture *f = *state;
    snap_error err = {0};
    char wrong[GLANCE_HASH_HEX_SIZE];

    strcpy(wrong, f->sha512);
    wrong[0] = wrong[0] == '0' ? '1' : '0';
    expect_create(f);
    fake_http_expect_body(f->http, "PUT", "/file", 204, NULL);
    expect_show(f, "active", FILE_SIZE, "sha512", wrong);
    fake_http_expect_body(f->http, "DELETE", "/v2/images/" IMAGE_ID, 204, NULL);
    assert_null(glance_image_create(f->session, f->path, &opts, &err));
    assert_int_equal(err.code, SNAP_E_STATE);
    assert_string_equal(err.msg, "image " IMAGE_ID ": Glance's sha512 differs "
                                 "from the data sent");
    fake_http_verify(f->http);
}

static void
test_an_image_that_is_not_active_or_short_is_deleted(void **state)
{
    fixture *f = *state;
    snap_error err = {0};

    expect_create(f);
    fake_http_expect_body(f->http, "PUT", "/file", 204, NULL);
    expect_show(f, "killed", FILE_SIZE, "sha512", f->sha512);
    fake_http_expect_body(f->http, "DELETE", "/v2/images/" IMAGE_ID, 204, NULL);
    assert_null(glance_image_create(f->session, f->path, &opts, &err));
    assert_string_equal(err.msg, "image " IMAGE_ID " is 'killed' after upload, "
                                 "not 'active'");
    fake_http_verify(f->http);

    snap_error_clear(&err);
    expect_create(f);
    fake_http_expect_body(f->http, "PUT", "/file", 204, NULL);
    expect_show(f, "active", FILE_SIZE - 1, "sha512", f->sha512);
    fake_http_expect_body(f->http, "DELETE", "/v2/images/" IMAGE_ID, 204, NULL);
    assert_null(glance_image_create(f->session, f->path, &opts, &err));
    assert_int_equal(err.code, SNAP_E_STATE);
    assert_non_null(strstr(err.msg, "bytes, 2097929 were sent"));

    snap_error_clear(&err);
    expect_create(f);
    fake_http_expect_body(f->http, "PUT", "/file", 204, NULL);
    expect_show(f, "active", FILE_SIZE, "md5", "abc");
    fake_http_expect_body(f->http, "DELETE", "/v2/images/" IMAGE_ID, 204, NULL);
    assert_null(glance_image_create(f->session, f->path, &opts, &err));
    assert_string_equal(err.msg,
                        "image " IMAGE_ID " was hashed with 'md5', not "
                        "sha512: cannot verify the upload");
    fake_http_verify(f->http);
}

static void
test_a_refused_upload_deletes_the_image(void **state)
{
    fixture *f = *state;
    snap_error err = {0};

    expect_create(f);
    fake_http_expect_body(f->http, "PUT", "/file", 413,
                          "{\"message\": \"quota exceeded\"}");
    fake_http_expect_body(f->http, "DELETE", "/v2/images/" IMAGE_ID, 204, NULL);
    assert_null(glance_image_create(f->session, f->path, &opts, &err));
    assert_int_equal(err.code, SNAP_E_HTTP);
    assert_int_equal(err.http_status, 413);
    assert_non_null(strstr(err.msg, "to image " IMAGE_ID ": HTTP 413"));
    fake_http_verify(f->http);
}

static void
test_a_broken_connection_deletes_the_image(void **state)
{
    fixture *f = *state;
    snap_error err = {0};

    expect_create(f);
    fake_http_expect_fail(f->http, "PUT", "/file", SNAP_E_TIMEOUT,
                          "upload stalled");
    fake_http_expect_body(f->http, "DELETE", "/v2/images/" IMAGE_ID, 204, NULL);
    assert_null(glance_image_create(f->session, f->path, &opts, &err));
    assert_int_equal(err.code, SNAP_E_TIMEOUT);
    assert_string_equal(err.msg, "upload stalled");
    fake_http_verify(f->http);
}

/* The first error is what the caller sees, not the cleanup's. */
static void
test_a_failed_cleanup_keeps_the_first_error(void **state)
{
    fixture *f = *state;
    snap_error err = {0};

    expect_create(f);
    fake_http_expect_body(f->http, "PUT", "/file", 500, NULL);
    fake_http_expect_body(f->http, "DELETE", "/v2/images/" IMAGE_ID, 503, NULL);
    assert_null(glance_image_create(f->session, f->path, &opts, &err));
    assert_int_equal(err.http_status, 500);
    fake_http_verify(f->http);
}

static void
test_a_refused_create_sends_nothing_else(void **state)
{
    fixture *f = *state;
    snap_error err = {0};

    fake_http_expect_body(f->http, "POST", "/v2/images", 403, NULL);
    assert_null(glance_image_create(f->session, f->path, &opts, &err));
    assert_int_equal(err.code, SNAP_E_HTTP);
    assert_string_equal(err.msg, "cannot create image 'web01 set': HTTP 403");
    fake_http_verify(f->http);
    assert_int_equal(fake_http_count(f->http), 1);
}

static void
test_bad_input_sends_no_request(void **state)
{
    fixture *f = *state;
    const glance_image_property reserved[] = {{"size", "1"}};
    const glance_image_property bad_utf8[] = {{"snapset_domain", "a\xc3("}};
    glance_image_opts o = opts;
    snap_error err = {0};

    o.properties = reserved;
    o.nproperties = 1;
    assert_null(glance_image_create(f->session, f->path, &o, &err));
    assert_string_equal(err.msg, "image property 'size' is reserved by Glance");
    snap_error_clear(&err);
    o.properties = bad_utf8;
    assert_null(glance_image_create(f->session, f->path, &o, &err));
    assert_string_equal(err.msg,
                        "image attribute 'snapset_domain' is not valid UTF-8");
    snap_error_clear(&err);
    o.properties = NULL;
    o.nproperties = 0;
    o.name = NULL;
    assert_null(glance_image_create(f->session, f->path, &o, &err));
    assert_string_equal(err.msg, "image name is missing");
    snap_error_clear(&err);
    assert_null(
        glance_image_create(f->session, "/nonexistent.ova", &opts, &err));
    assert_int_equal(err.code, SNAP_E_NOTFOUND);
    assert_int_equal(fake_http_count(f->http), 0);
}

static void
test_versioned_endpoints_are_not_doubled(void **state)
{
    fixture *f = *state;
    cinder_session *s = noauth_session(f->http, "http://glance.test:9292/v2/");
    snap_error err = {0};

    (void)state;
    fake_http_expect_body(f->http, "DELETE",
                          "http://glance.test:9292/v2/images/" IMAGE_ID, 204,
                          NULL);
    fake_http_expect_body(f->http, "DELETE", "/v2/images/" IMAGE_ID, 404, NULL);
    assert_true(glance_image_delete(s, IMAGE_ID, &err));
    assert_false(glance_image_delete(s, IMAGE_ID, &err));
    assert_int_equal(err.code, SNAP_E_NOTFOUND);
    snap_error_clear(&err);
    assert_false(glance_image_delete(s, "../../v3/x", &err));
    assert_int_equal(err.code, SNAP_E_INVALID);
    fake_http_verify(f->http);
    cinder_session_free(s);
}

/* An in-memory source: @len bytes of @data; fails with @fail_msg once
 * @fail_at bytes were handed out (0: never). */
typedef struct mem_src {
    const char *data;
    size_t len, off, fail_at;
    const char *fail_msg;
} mem_src;

static ssize_t
mem_read(void *ctx, char *buf, size_t size, snap_error *err)
{
    mem_src *m = ctx;
    size_t n = m->len - m->off;

    if (m->fail_at && m->off >= m->fail_at) {
        snap_error_set(err, SNAP_E_STATE, "%s", m->fail_msg);
        return -1;
    }
    if (n > size)
        n = size;
    memcpy(buf, m->data + m->off, n);
    m->off += n;
    return (ssize_t)n;
}

static bool
mem_rewind(void *ctx, snap_error *err)
{
    (void)err;
    ((mem_src *)ctx)->off = 0;
    return true;
}

/* glance_image_opts.created: records the id and how many requests had
 * been sent by then. */
typedef struct created_log {
    fixture *f;
    char id[64];
    size_t requests;
    bool refuse;
} created_log;

static bool
on_created(void *ctx, const char *id, snap_error *err)
{
    created_log *c = ctx;

    snprintf(c->id, sizeof(c->id), "%s", id);
    c->requests = fake_http_count(c->f->http);
    if (c->refuse)
        return snap_error_set(err, SNAP_E_SYSTEM, "cannot record the image");
    return true;
}

static void
source_of(fixture *f, glance_image_source *src, mem_src *m, char **data)
{
    size_t len;

    *data = tg_read_file(f->path, &len);
    memset(m, 0, sizeof(*m));
    m->data = *data;
    m->len = len;
    memset(src, 0, sizeof(*src));
    src->read = mem_read;
    src->rewind = mem_rewind;
    src->ctx = m;
    src->size = len;
    src->name = "the test stream";
}

static void
test_a_stream_is_uploaded_after_its_image_is_recorded(void **state)
{
    fixture *f = *state;
    created_log c = {f, "", 0, false};
    glance_image_opts o = opts;
    glance_image_outcome out;
    glance_image_source src;
    mem_src m;
    snap_error err = {0};
    char *data, *id;

    source_of(f, &src, &m, &data);
    o.created = on_created;
    o.created_ctx = &c;
    expect_create(f);
    fake_http_expect_body(f->http, "PUT", "/v2/images/" IMAGE_ID "/file", 204,
                          NULL);
    expect_show(f, "active", FILE_SIZE, "sha512", f->sha512);
    id = glance_image_create_stream(f->session, &src, &o, &out, &err);
    if (!id)
        fail_msg("upload: %s", err.msg);
    /* Recorded after the POST, before any data was sent. */
    assert_string_equal(c.id, IMAGE_ID);
    assert_int_equal(c.requests, 1);
    assert_string_equal(out.id, IMAGE_ID);
    assert_string_equal(out.sha512, f->sha512);
    assert_int_equal(out.sent, FILE_SIZE);
    assert_false(out.left_behind);
    assert_memory_equal(fake_http_request(f->http, 1)->body, data, FILE_SIZE);
    fake_http_verify(f->http);
    free(id);
    free(data);
}

static void
test_a_failing_source_deletes_the_image_and_says_why(void **state)
{
    fixture *f = *state;
    glance_image_outcome out;
    glance_image_source src;
    mem_src m;
    snap_error err = {0};
    char *data;

    source_of(f, &src, &m, &data);
    m.fail_at = 8192;
    m.fail_msg = "interrupted by SIGINT";
    expect_create(f);
    fake_http_expect_body(f->http, "PUT", "/file", 204, NULL);
    fake_http_expect_body(f->http, "DELETE", "/v2/images/" IMAGE_ID, 204, NULL);
    assert_null(
        glance_image_create_stream(f->session, &src, &opts, &out, &err));
    assert_string_equal(err.msg, "interrupted by SIGINT");
    assert_string_equal(out.id, IMAGE_ID);
    assert_false(out.left_behind);
    fake_http_verify(f->http);
    free(data);
}

static void
test_a_refused_record_deletes_the_image_before_any_data(void **state)
{
    fixture *f = *state;
    created_log c = {f, "", 0, true};
    glance_image_opts o = opts;
    glance_image_source src;
    mem_src m;
    snap_error err = {0};
    char *data;

    source_of(f, &src, &m, &data);
    o.created = on_created;
    o.created_ctx = &c;
    expect_create(f);
    fake_http_expect_body(f->http, "DELETE", "/v2/images/" IMAGE_ID, 204, NULL);
    assert_null(glance_image_create_stream(f->session, &src, &o, NULL, &err));
    assert_string_equal(err.msg, "cannot record the image");
    assert_int_equal(fake_http_count_matching(f->http, "PUT", "/file"), 0);
    fake_http_verify(f->http);
    free(data);
}

/* Glance down: the delete is tried again until it works, or the bound. */
static void
test_the_delete_of_a_failed_upload_waits_for_glance(void **state)
{
    fixture *f = *state;
    glance_image_opts o = opts;
    glance_image_outcome out;
    glance_image_source src;
    mem_src m;
    snap_error err = {0};
    char *data;

    source_of(f, &src, &m, &data);
    o.delete_timeout_ms = 10000;
    expect_create(f);
    fake_http_expect_fail(f->http, "PUT", "/file", SNAP_E_HTTP,
                          "connection reset by peer");
    fake_http_expect_fail(f->http, "DELETE", "/v2/images/" IMAGE_ID,
                          SNAP_E_HTTP, "connection refused");
    fake_http_expect_body(f->http, "DELETE", "/v2/images/" IMAGE_ID, 503, NULL);
    fake_http_expect_body(f->http, "DELETE", "/v2/images/" IMAGE_ID, 204, NULL);
    assert_null(glance_image_create_stream(f->session, &src, &o, &out, &err));
    assert_string_equal(err.msg, "connection reset by peer");
    assert_false(out.left_behind);
    fake_http_verify(f->http);

    /* No bound: one attempt, and the image is reported left behind. */
    snap_error_clear(&err);
    m.off = 0;
    o.delete_timeout_ms = 0;
    expect_create(f);
    fake_http_expect_fail(f->http, "PUT", "/file", SNAP_E_HTTP,
                          "connection reset by peer");
    fake_http_expect_fail(f->http, "DELETE", "/v2/images/" IMAGE_ID,
                          SNAP_E_HTTP, "connection refused");
    assert_null(glance_image_create_stream(f->session, &src, &o, &out, &err));
    assert_true(out.left_behind);
    assert_string_equal(out.id, IMAGE_ID);
    fake_http_verify(f->http);
    free(data);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(
            test_upload_creates_streams_and_checks_the_hash, setup, teardown),
        cmocka_unit_test_setup_teardown(test_a_different_hash_deletes_the_image,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_an_image_that_is_not_active_or_short_is_deleted, setup,
            teardown),
        cmocka_unit_test_setup_teardown(test_a_refused_upload_deletes_the_image,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_a_broken_connection_deletes_the_image, setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_a_failed_cleanup_keeps_the_first_error, setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_a_refused_create_sends_nothing_else, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_input_sends_no_request, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(
            test_versioned_endpoints_are_not_doubled, setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_a_stream_is_uploaded_after_its_image_is_recorded, setup,
            teardown),
        cmocka_unit_test_setup_teardown(
            test_a_failing_source_deletes_the_image_and_says_why, setup,
            teardown),
        cmocka_unit_test_setup_teardown(
            test_a_refused_record_deletes_the_image_before_any_data, setup,
            teardown),
        cmocka_unit_test_setup_teardown(
            test_the_delete_of_a_failed_upload_waits_for_glance, setup,
            teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
