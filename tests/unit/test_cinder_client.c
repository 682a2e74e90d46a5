/* tests/unit/test_cinder_client.c -- the Cinder client through fake_http:
 * microversion negotiation, the force rule, metadata lists, volumes,
 * attachments, limits, groups, error bodies and malformed replies. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "cinder/cinder.h"
#include "cinder/cinder_priv.h"
#include "fakes/fake_http.h"

#define PROJECT "0123456789abcdef0123456789abcdef"
#define ENDPOINT "http://cinder.test:8776/v3/" PROJECT
#define VOL_A "aaaaaaaa-0000-4000-8000-000000000001"
#define VOL_B "aaaaaaaa-0000-4000-8000-000000000002"
#define VOL_C "aaaaaaaa-0000-4000-8000-000000000003"
#define SNAP_A "5a5a5a5a-0000-4000-8000-00000000000a"
#define SNAP_B "5a5a5a5a-0000-4000-8000-00000000000b"
#define SNAP_C "5a5a5a5a-0000-4000-8000-00000000000c"
#define SET "c0c0c0c0-1111-4222-8333-444455556666"
#define GROUP "60606060-0000-4000-8000-000000000001"
#define GTYPE "67676767-0000-4000-8000-000000000001"
#define GSNAP "9e9e9e9e-0000-4000-8000-000000000001"
#define ATT "a77ac4ed-0000-4000-8000-000000000001"
#define ATT_OTHER "a77ac4ed-0000-4000-8000-000000000002"
#define SERVER "5e5e5e5e-0000-4000-8000-000000000001"

typedef struct fixture {
    cinder_http *h;
    cinder_session *s;
    cinder_client *c;
} fixture;

static void
fixture_open(fixture *f, const char *versions_file, int cap)
{
    cinder_client_opts co;

    memset(&co, 0, sizeof(co));
    co.max_microversion = cap;
    f->h = fake_http_new();
    f->c = fake_http_cinder(f->h, versions_file, &co, &f->s);
}

static void
fixture_close(fixture *f)
{
    fake_http_verify(f->h);
    cinder_client_free(f->c);
    cinder_session_free(f->s);
    cinder_http_free(f->h);
}

static json_t *
request_json(cinder_http *h, size_t i)
{
    json_t *j = json_loads(fake_http_request(h, i)->body, 0, NULL);

    assert_non_null(j);
    return j;
}

static const fake_http_record *
last_request(cinder_http *h)
{
    return fake_http_request(h, fake_http_count(h) - 1);
}

/* ---- microversions --------------------------------------------------------
 */

static void
test_microversion_is_the_lower_of_server_and_ours(void **state)
{
    static const struct {
        const char *file;
        int cap;
        int want;
        const char *header;
    } cases[] = {
        {"cinder_versions.json", 0, CINDER_MV(3, 70), "volume 3.70"},
        {"cinder_versions_3_71.json", 0, CINDER_MV(3, 70), "volume 3.70"},
        {"cinder_versions_3_60.json", 0, CINDER_MV(3, 60), "volume 3.60"},
        {"cinder_versions_no_mv.json", 0, CINDER_MV(3, 0), "volume 3.0"},
        {"cinder_versions.json", CINDER_MV(3, 21), CINDER_MV(3, 21),
         "volume 3.21"},
        {"cinder_versions.json", CINDER_MV(3, 99), CINDER_MV(3, 70),
         "volume 3.70"},
    };
    cinder_limits lim;
    snap_error err = {0};
    fixture f;
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        fixture_open(&f, cases[i].file, cases[i].cap);
        assert_int_equal(cinder_client_microversion(f.c), cases[i].want);
        assert_string_equal(cinder_client_endpoint(f.c), ENDPOINT);
        assert_string_equal(fake_http_request(f.h, 1)->url,
                            "http://cinder.test:8776/v3/");
        fake_http_expect(f.h, "GET", ENDPOINT "/limits", 200, "limits.json");
        assert_true(cinder_limits_show(f.c, &lim, &err));
        assert_string_equal(
            fake_http_record_header(last_request(f.h), "OpenStack-API-Version"),
            cases[i].header);
        assert_string_equal(
            fake_http_record_header(last_request(f.h), "X-Auth-Token"), "tok");
        fixture_close(&f);
    }
}

static void
test_server_minimum_above_ours_is_refused(void **state)
{
    cinder_auth_opts o;
    snap_error err = {0};
    cinder_http *h = fake_http_new();
    cinder_session *s;

    (void)state;
    memset(&o, 0, sizeof(o));
    o.auth_url = "http://keystone.test:5000/v3";
    o.username = "demo";
    o.password = "demopass";
    o.project_name = "demo";
    fake_http_expect_token(h, "keystone_token_password.json", "tok");
    fake_http_expect(h, "GET", "/v3/", 200,
                     "cinder_versions_min_too_high.json");
    s = cinder_session_new_with_http(h, &o, &err);
    assert_null(cinder_client_new(s, NULL, &err));
    assert_int_equal(err.code, SNAP_E_STATE);
    assert_non_null(strstr(err.msg, "needs microversion 4.1 or later"));
    cinder_session_free(s);
    cinder_http_free(h);
}

static void
test_version_document_falls_back_to_the_root(void **state)
{
    cinder_auth_opts o;
    snap_error err = {0};
    cinder_http *h = fake_http_new();
    cinder_session *s;
    cinder_client *c;

    (void)state;
    memset(&o, 0, sizeof(o));
    o.auth_url = "http://keystone.test:5000/v3";
    o.username = "demo";
    o.password = "demopass";
    o.project_name = "demo";
    fake_http_expect_token(h, "keystone_token_unversioned.json", "tok");
    fake_http_expect(h, "GET", "http://cinder.test:8776/v3/", 404, NULL);
    fake_http_expect(h, "GET", "http://cinder.test:8776/", 300,
                     "cinder_versions_3_60.json");
    s = cinder_session_new_with_http(h, &o, &err);
    c = cinder_client_new(s, NULL, &err);
    assert_non_null(c);
    /* The catalog listed "http://cinder.test:8776/": the project is added. */
    assert_string_equal(cinder_client_endpoint(c), ENDPOINT);
    assert_string_equal(fake_http_request(h, 2)->url,
                        "http://cinder.test:8776/");
    assert_int_equal(cinder_client_microversion(c), CINDER_MV(3, 60));
    fake_http_verify(h);
    cinder_client_free(c);
    cinder_session_free(s);
    cinder_http_free(h);
}

static void
test_microversion_helpers(void **state)
{
    char buf[16], *url;

    (void)state;
    assert_int_equal(cinder_microversion_parse("3.70"), 3070);
    assert_int_equal(cinder_microversion_parse("3.0"), 3000);
    assert_int_equal(cinder_microversion_parse(""), 0);
    assert_int_equal(cinder_microversion_parse("3"), -1);
    assert_int_equal(cinder_microversion_parse("3.x"), -1);
    assert_int_equal(cinder_microversion_parse("3.70b"), -1);
    assert_int_equal(cinder_microversion_parse("1.70"), -1); /* below 3.0 */
    assert_string_equal(
        cinder_microversion_str(CINDER_MV(3, 7), buf, sizeof(buf)), "3.7");
    url = cinder_version_url("https://h/volume/v3/abc");
    assert_string_equal(url, "https://h/volume/v3/");
    free(url);
    url = cinder_version_url("http://h:8776/v3");
    assert_string_equal(url, "http://h:8776/v3/");
    free(url);
    assert_null(cinder_version_url("http://v3host:8776/"));
    assert_null(cinder_version_url("http://h:8776/v30/x"));
}

/* ---- snapshots ------------------------------------------------------------
 */

static void
test_force_is_true_below_3_66_and_never_sent_from_3_66(void **state)
{
    cinder_kv meta[] = {{"snapset:set", SET}, {"snapset:index", "0"}};
    cinder_snapshot_req req = {0};
    snap_error err = {0};
    cinder_snapshot *snap;
    json_t *body, *inner;
    fixture f;

    (void)state;
    req.volume_id = VOL_A;
    req.name = "snapset-a";
    req.description = "set " SET;
    req.metadata = meta;
    req.nmetadata = 2;

    fixture_open(&f, "cinder_versions_3_60.json", 0);
    fake_http_expect(f.h, "POST", ENDPOINT "/snapshots", 202,
                     "snapshot_a_create.json");
    snap = cinder_snapshot_create(f.c, &req, &err);
    assert_non_null(snap);
    assert_string_equal(snap->id, SNAP_A);
    assert_string_equal(snap->status, "creating");
    assert_string_equal(
        cinder_kv_get(snap->metadata, snap->nmetadata, "snapset:set"), SET);
    cinder_snapshot_free(snap);
    body = request_json(f.h, 2);
    inner = json_object_get(body, "snapshot");
    assert_true(json_is_true(json_object_get(inner, "force")));
    assert_string_equal(json_string_value(json_object_get(inner, "volume_id")),
                        VOL_A);
    assert_string_equal(json_string_value(json_object_get(inner, "name")),
                        "snapset-a");
    assert_string_equal(json_string_value(json_object_get(
                            json_object_get(inner, "metadata"), "snapset:set")),
                        SET);
    json_decref(body);
    fixture_close(&f);

    fixture_open(&f, "cinder_versions.json", 0);
    fake_http_expect(f.h, "POST", ENDPOINT "/snapshots", 202,
                     "snapshot_a_create.json");
    snap = cinder_snapshot_create(f.c, &req, &err);
    assert_non_null(snap);
    cinder_snapshot_free(snap);
    body = request_json(f.h, 2);
    assert_null(json_object_get(json_object_get(body, "snapshot"), "force"));
    json_decref(body);
    fixture_close(&f);
}

static void
test_create_error_names_the_volume_on_one_line(void **state)
{
    cinder_snapshot_req req = {0};
    snap_error err = {0};
    fixture f;

    (void)state;
    req.volume_id = VOL_B;
    fixture_open(&f, "cinder_versions_3_60.json", 0);
    fake_http_expect(f.h, "POST", "/snapshots", 400, "error_in_use.json");
    assert_null(cinder_snapshot_create(f.c, &req, &err));
    assert_int_equal(err.code, SNAP_E_HTTP);
    assert_int_equal(err.http_status, 400);
    assert_string_equal(err.msg, "cannot create snapshot of volume '" VOL_B
                                 "': HTTP 400: Invalid "
                                 "volume: Volume " VOL_B
                                 " status must be available, but current "
                                 "status is: in-use.");
    fixture_close(&f);
}

static void
test_metadata_list_is_refused_below_3_22(void **state)
{
    cinder_kv filter = {"snapset:set", SET};
    cinder_snapshot **snaps = NULL;
    cinder_volume **vols = NULL;
    snap_error err = {0};
    size_t n = 0, before;
    fixture f;

    (void)state;
    fixture_open(&f, "cinder_versions_3_21.json", 0);
    before = fake_http_count(f.h);
    assert_false(cinder_snapshot_list(f.c, &filter, 1, &snaps, &n, &err));
    assert_int_equal(err.code, SNAP_E_STATE);
    assert_string_equal(err.msg,
                        "cannot list snapshots by metadata: needs Cinder API "
                        "microversion 3.22, but only 3.21 was negotiated");
    assert_null(snaps);
    snap_error_clear(&err);
    assert_false(cinder_volume_list(f.c, &filter, 1, &vols, &n, &err));
    assert_int_equal(err.code, SNAP_E_STATE);
    assert_int_equal(fake_http_count(f.h), before); /* nothing was sent */

    /* Without a filter the list is fine at any microversion. */
    snap_error_clear(&err);
    fake_http_expect(f.h, "GET", "/snapshots/detail", 200,
                     "snapshots_detail_all_available.json");
    assert_true(cinder_snapshot_list(f.c, NULL, 0, &snaps, &n, &err));
    assert_int_equal(n, 3);
    cinder_snapshots_free(snaps, n);
    fixture_close(&f);
}

static void
test_metadata_list_sends_the_filter_and_follows_pages_on_our_endpoint(
    void **state)
{
    cinder_kv filter = {"snapset:set", SET};
    cinder_snapshot **snaps = NULL;
    snap_error err = {0};
    size_t n = 0;
    fixture f;

    (void)state;
    fixture_open(&f, "cinder_versions.json", 0);
    fake_http_expect(f.h, "GET", "/snapshots/detail?metadata=", 200,
                     "snapshots_detail_page1.json");
    fake_http_expect(f.h, "GET", "/snapshots/detail?limit=2&marker=" SNAP_B,
                     200, "snapshots_detail_page2.json");
    assert_true(cinder_snapshot_list(f.c, &filter, 1, &snaps, &n, &err));
    assert_int_equal(n, 3);
    assert_string_equal(snaps[0]->id, SNAP_A);
    assert_string_equal(snaps[2]->id, SNAP_C);
    assert_string_equal(snaps[1]->status, "available");
    assert_string_equal(snaps[0]->progress, "100%");
    /* JSON {"snapset:set":"<uuid>"}, URL-encoded. */
    assert_string_equal(
        fake_http_request(f.h, 2)->url, ENDPOINT
        "/snapshots/detail?metadata=%7B%22snapset%3Aset%22%3A%22" SET "%22%7D");
    /* The next link pointed at elsewhere.test: we stay on our endpoint. */
    assert_string_equal(fake_http_request(f.h, 3)->url,
                        ENDPOINT "/snapshots/detail?limit=2&marker=" SNAP_B);
    cinder_snapshots_free(snaps, n);
    fixture_close(&f);
}

static void
test_snapshot_show_delete_and_metadata_update(void **state)
{
    cinder_kv kv[] = {{"snapset:state", "complete"}};
    snap_error err = {0};
    cinder_snapshot *snap;
    json_t *body;
    fixture f;

    (void)state;
    fixture_open(&f, "cinder_versions.json", 0);
    fake_http_expect(f.h, "GET", ENDPOINT "/snapshots/" SNAP_B, 200,
                     "snapshot_b_available.json");
    fake_http_expect(f.h, "POST", ENDPOINT "/snapshots/" SNAP_B "/metadata",
                     200, "snapshot_metadata.json");
    fake_http_expect(f.h, "PUT", ENDPOINT "/snapshots/" SNAP_B "/metadata", 200,
                     "snapshot_metadata.json");
    fake_http_expect(f.h, "DELETE", ENDPOINT "/snapshots/" SNAP_B, 202, NULL);
    fake_http_expect(f.h, "DELETE", ENDPOINT "/snapshots/" SNAP_A, 404,
                     "error_item_not_found.json");
    snap = cinder_snapshot_show(f.c, SNAP_B, &err);
    assert_non_null(snap);
    assert_string_equal(snap->volume_id, VOL_B);
    assert_int_equal(snap->size_gb, 1);
    assert_null(snap->group_snapshot_id);
    assert_string_equal(
        cinder_kv_get(snap->metadata, snap->nmetadata, "snapset:index"), "1");
    cinder_snapshot_free(snap);
    assert_true(
        cinder_snapshot_metadata_update(f.c, SNAP_B, kv, 1, false, &err));
    body = request_json(f.h, 3);
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(body, "metadata"),
                                          "snapset:state")),
        "complete");
    json_decref(body);
    assert_true(
        cinder_snapshot_metadata_update(f.c, SNAP_B, kv, 1, true, &err));
    assert_true(cinder_snapshot_delete(f.c, SNAP_B, &err));
    assert_false(cinder_snapshot_delete(f.c, SNAP_A, &err));
    assert_int_equal(err.code, SNAP_E_NOTFOUND);
    assert_string_equal(err.msg,
                        "cannot delete snapshot '" SNAP_A
                        "': HTTP 404: Snapshot " SNAP_A " could not be found.");
    fixture_close(&f);
}

/* ---- volumes and limits -------------------------------------------------- */

static void
test_limits_are_read(void **state)
{
    cinder_limits lim;
    snap_error err = {0};
    fixture f;

    (void)state;
    fixture_open(&f, "cinder_versions.json", 0);
    fake_http_expect(f.h, "GET", "/limits", 200, "limits.json");
    fake_http_expect(f.h, "GET", "/limits", 200, "limits_unlimited.json");
    fake_http_expect(f.h, "GET", "/limits", 200, "malformed_array.json");
    assert_true(cinder_limits_show(f.c, &lim, &err));
    assert_int_equal(lim.max_total_snapshots, 10);
    assert_int_equal(lim.total_snapshots_used, 3);
    assert_int_equal(lim.max_total_volumes, 10);
    assert_int_equal(lim.total_volumes_used, 4);
    assert_int_equal(lim.max_total_volume_gigabytes, 1000);
    assert_int_equal(lim.total_gigabytes_used, 7);
    assert_true(cinder_limits_show(f.c, &lim, &err));
    assert_int_equal(lim.max_total_snapshots, -1);
    assert_int_equal(lim.max_total_volume_gigabytes, -1);
    assert_false(cinder_limits_show(f.c, &lim, &err));
    assert_int_equal(err.code, SNAP_E_INVALID);
    assert_string_equal(
        err.msg,
        "cannot read Cinder limits: malformed reply: not a JSON object");
    fixture_close(&f);
}

static void
test_volume_show_reads_attachments_group_and_bootable(void **state)
{
    cinder_volume **vols = NULL;
    snap_error err = {0};
    cinder_volume *vol;
    size_t n = 0;
    fixture f;

    (void)state;
    fixture_open(&f, "cinder_versions.json", 0);
    fake_http_expect(f.h, "GET", "/volumes/" VOL_A, 200,
                     "volume_a_in_use.json");
    fake_http_expect(f.h, "GET", "/volumes/detail", 200, "volumes_detail.json");
    vol = cinder_volume_show(f.c, VOL_A, &err);
    assert_non_null(vol);
    assert_string_equal(vol->status, "in-use");
    assert_int_equal(vol->size_gb, 1);
    assert_true(vol->bootable);
    assert_false(vol->multiattach);
    assert_string_equal(vol->volume_type, "demo-type");
    assert_string_equal(vol->group_id, GROUP);
    assert_int_equal(vol->nattachments, 1);
    assert_string_equal(vol->attachments[0].server_id,
                        "5e5e5e5e-0000-4000-8000-000000000001");
    assert_string_equal(vol->attachments[0].device, "/dev/vdb");
    assert_string_equal(vol->attachments[0].host_name, "compute-1");
    assert_string_equal(cinder_kv_get(vol->metadata, vol->nmetadata, "role"),
                        "data");
    cinder_volume_free(vol);

    assert_true(cinder_volume_list(f.c, NULL, 0, &vols, &n, &err));
    assert_int_equal(n, 3);
    assert_false(vols[1]->bootable);
    assert_null(vols[2]->group_id);
    assert_int_equal(vols[2]->nattachments, 0);
    assert_string_equal(vols[2]->status, "available");
    cinder_volumes_free(vols, n);
    fixture_close(&f);
}

static void
test_volume_create_delete_and_revert(void **state)
{
    cinder_volume_req req = {0};
    snap_error err = {0};
    cinder_volume *vol;
    json_t *body;
    fixture f;

    (void)state;
    fixture_open(&f, "cinder_versions.json", 0);
    fake_http_expect(f.h, "POST", ENDPOINT "/volumes", 202,
                     "volume_create.json");
    fake_http_expect(f.h, "POST", ENDPOINT "/volumes/" VOL_C "/action", 202,
                     NULL);
    fake_http_expect(f.h, "DELETE", ENDPOINT "/volumes/" VOL_C "?cascade=true",
                     202, NULL);
    req.snapshot_id = SNAP_C;
    req.name = "restore-c";
    req.size_gb = 3;
    vol = cinder_volume_create(f.c, &req, &err);
    assert_non_null(vol);
    assert_string_equal(vol->status, "creating");
    cinder_volume_free(vol);
    body = request_json(f.h, 2);
    assert_string_equal(json_string_value(json_object_get(
                            json_object_get(body, "volume"), "snapshot_id")),
                        SNAP_C);
    assert_int_equal(json_integer_value(json_object_get(
                         json_object_get(body, "volume"), "size")),
                     3);
    json_decref(body);
    assert_true(cinder_volume_revert(f.c, VOL_C, SNAP_C, &err));
    body = request_json(f.h, 3);
    assert_string_equal(json_string_value(json_object_get(
                            json_object_get(body, "revert"), "snapshot_id")),
                        SNAP_C);
    json_decref(body);
    assert_true(cinder_volume_delete(f.c, VOL_C, true, &err));
    fixture_close(&f);

    /* revert needs 3.40 */
    fixture_open(&f, "cinder_versions.json", CINDER_MV(3, 39));
    assert_false(cinder_volume_revert(f.c, VOL_C, SNAP_C, &err));
    assert_int_equal(err.code, SNAP_E_STATE);
    assert_non_null(strstr(err.msg, "needs Cinder API microversion 3.40"));
    fixture_close(&f);
}

/* ---- groups -----------------------------------------------------------------
 */

static void
test_groups_group_types_and_group_snapshots(void **state)
{
    cinder_group_snapshot *gs;
    cinder_snapshot **members = NULL;
    cinder_group_type *gt;
    snap_error err = {0};
    cinder_group *g;
    size_t n = 0;
    fixture f;

    (void)state;
    fixture_open(&f, "cinder_versions.json", 0);
    fake_http_expect(f.h, "GET", "/groups/" GROUP "?list_volume=True", 200,
                     "group.json");
    fake_http_expect(f.h, "GET", "/group_types/" GTYPE, 200,
                     "group_type_admin.json");
    fake_http_expect(f.h, "GET", "/group_types/" GTYPE, 200,
                     "group_type_member.json");
    fake_http_expect(f.h, "GET", "/group_types/" GTYPE, 200,
                     "group_type_no_cg.json");
    fake_http_expect(f.h, "POST", "/group_snapshots", 202,
                     "group_snapshot_create.json");
    fake_http_expect(f.h, "GET", "/group_snapshots/" GSNAP, 200,
                     "group_snapshot_available.json");
    fake_http_expect(f.h, "GET", "/snapshots/detail", 200,
                     "snapshots_detail_group.json");
    fake_http_expect(f.h, "DELETE", "/group_snapshots/" GSNAP, 202, NULL);

    g = cinder_group_show(f.c, GROUP, &err);
    assert_non_null(g);
    assert_string_equal(g->group_type, GTYPE);
    assert_int_equal(g->nvolumes, 2);
    assert_string_equal(g->volumes[1], VOL_B);
    assert_int_equal(g->nvolume_types, 1);
    cinder_group_free(g);

    gt = cinder_group_type_show(f.c, GTYPE, &err);
    assert_int_equal(gt->consistent_snapshots, CINDER_CG_YES);
    assert_true(gt->specs_visible);
    cinder_group_type_free(gt);
    gt = cinder_group_type_show(f.c, GTYPE, &err); /* a member sees no specs */
    assert_int_equal(gt->consistent_snapshots, CINDER_CG_UNKNOWN);
    assert_string_equal(cinder_cg_support_name(gt->consistent_snapshots),
                        "unknown");
    assert_false(gt->specs_visible);
    cinder_group_type_free(gt);
    gt = cinder_group_type_show(f.c, GTYPE, &err);
    assert_int_equal(gt->consistent_snapshots, CINDER_CG_NO);
    cinder_group_type_free(gt);

    gs = cinder_group_snapshot_create(f.c, GROUP, "gs", NULL, &err);
    assert_non_null(gs);
    assert_string_equal(gs->id, GSNAP);
    assert_string_equal(gs->group_id, GROUP);
    cinder_group_snapshot_free(gs);
    gs = cinder_group_snapshot_show(f.c, GSNAP, &err);
    assert_string_equal(gs->status, "available");
    cinder_group_snapshot_free(gs);
    assert_true(cinder_group_snapshot_members(f.c, GSNAP, &members, &n, &err));
    assert_int_equal(n, 2);
    assert_string_equal(members[0]->id, SNAP_A);
    assert_string_equal(members[1]->id, SNAP_C);
    cinder_snapshots_free(members, n);
    assert_true(cinder_group_snapshot_delete(f.c, GSNAP, &err));
    assert_false(snap_error_isset(&err));
    fixture_close(&f);

    /* groups need 3.13, group snapshots 3.14 */
    fixture_open(&f, "cinder_versions.json", CINDER_MV(3, 12));
    assert_null(cinder_group_show(f.c, GROUP, &err));
    assert_int_equal(err.code, SNAP_E_STATE);
    snap_error_clear(&err);
    assert_null(cinder_group_snapshot_create(f.c, GROUP, "gs", NULL, &err));
    assert_int_equal(err.code, SNAP_E_STATE);
    fixture_close(&f);
}

/* ---- errors ---------------------------------------------------------------
 */

static void
test_error_bodies_become_one_line_messages(void **state)
{
    snap_error err = {0};
    fixture f;

    (void)state;
    fixture_open(&f, "cinder_versions.json", 0);
    fake_http_expect(f.h, "GET", "/snapshots/" SNAP_A, 404,
                     "error_item_not_found.json");
    fake_http_expect(f.h, "GET", "/snapshots/" SNAP_A, 413,
                     "error_over_limit.json");
    fake_http_add_header(f.h, "Retry-After", "0");
    fake_http_expect(f.h, "GET", "/snapshots/" SNAP_A, 500,
                     "error_server.json");
    fake_http_expect(f.h, "GET", "/snapshots/" SNAP_A, 502,
                     "malformed_html.json");
    fake_http_expect(f.h, "GET", "/snapshots/" SNAP_A, 503, NULL);

    assert_null(cinder_snapshot_show(f.c, SNAP_A, &err));
    assert_int_equal(err.code, SNAP_E_NOTFOUND);
    assert_string_equal(err.msg,
                        "cannot show snapshot '" SNAP_A
                        "': HTTP 404: Snapshot " SNAP_A " could not be found.");
    snap_error_clear(&err);
    assert_null(cinder_snapshot_show(f.c, SNAP_A, &err));
    assert_int_equal(err.code, SNAP_E_HTTP);
    assert_int_equal(err.http_status, 413);
    assert_string_equal(
        err.msg, "cannot show snapshot '" SNAP_A "': over limit (HTTP 413, "
                 "retry after 0 s): SnapshotLimitExceeded: Maximum number of "
                 "snapshots allowed (10) exceeded");
    snap_error_clear(&err);
    assert_null(cinder_snapshot_show(f.c, SNAP_A, &err));
    assert_int_equal(err.http_status, 500);
    assert_non_null(strstr(err.msg, "HTTP 500: The server has either erred"));
    snap_error_clear(&err);
    assert_null(cinder_snapshot_show(f.c, SNAP_A, &err));
    assert_string_equal(err.msg, "cannot show snapshot '" SNAP_A "': HTTP 502");
    snap_error_clear(&err);
    assert_null(cinder_snapshot_show(f.c, SNAP_A, &err));
    assert_string_equal(err.msg, "cannot show snapshot '" SNAP_A "': HTTP 503");
    fixture_close(&f);
}

static void
test_error_message_extraction(void **state)
{
    char buf[64];
    static const char *body =
        "{\"badRequest\":{\"message\":\"a\\n  b\",\"code\":400}}";

    (void)state;
    assert_true(cinder_error_message(body, strlen(body), buf, sizeof(buf)));
    assert_string_equal(buf, "a b");
    assert_true(
        cinder_error_message("{\"message\":\"top\"}", 17, buf, sizeof(buf)));
    assert_string_equal(buf, "top");
    assert_true(
        cinder_error_message("Service Unavailable\r\n", 21, buf, sizeof(buf)));
    assert_string_equal(buf, "Service Unavailable");
    assert_false(cinder_error_message("{\"x\":1}", 7, buf, sizeof(buf)));
    assert_false(cinder_error_message("<html>", 6, buf, sizeof(buf)));
    assert_false(cinder_error_message("", 0, buf, sizeof(buf)));
}

static void
test_malformed_replies_give_clear_errors_without_crashing(void **state)
{
    static const struct {
        const char *file;
        const char *msg;
    } cases[] = {
        {"malformed_truncated.json",
         "cannot show snapshot '" SNAP_A
         "': malformed reply: premature end of input "
         "near '\"cre' at line 1 column 74"},
        {"malformed_array.json", "cannot show snapshot '" SNAP_A
                                 "': malformed reply: not a JSON object"},
        {"malformed_html.json", NULL},
        {"malformed_no_status.json",
         "cannot show snapshot '" SNAP_A "': malformed reply: no 'status'"},
        {"malformed_wrong_types.json",
         "cannot show snapshot '" SNAP_A
         "': malformed reply: 'status' is not a string"},
        {"limits.json",
         "cannot show snapshot '" SNAP_A "': malformed reply: no snapshot"},
    };
    snap_error err;
    fixture f;
    size_t i;

    (void)state;
    fixture_open(&f, "cinder_versions.json", 0);
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        fake_http_expect(f.h, "GET", "/snapshots/" SNAP_A, 200, cases[i].file);
    fake_http_expect_body(f.h, "GET", "/snapshots/" SNAP_A, 200, "");
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        memset(&err, 0, sizeof(err));
        assert_null(cinder_snapshot_show(f.c, SNAP_A, &err));
        assert_int_equal(err.code, SNAP_E_INVALID);
        if (cases[i].msg)
            assert_string_equal(err.msg, cases[i].msg);
        else
            assert_non_null(strstr(err.msg, "malformed reply"));
        assert_null(strchr(err.msg, '\n'));
    }
    memset(&err, 0, sizeof(err));
    assert_null(cinder_snapshot_show(f.c, SNAP_A, &err));
    assert_string_equal(err.msg, "cannot show snapshot '" SNAP_A
                                 "': malformed reply: no snapshot");
    fixture_close(&f);
}

static void
test_bad_ids_are_refused_before_any_request(void **state)
{
    static const char *const bad[] = {"",    "../x", "a/b", "a?b",
                                      "a b", "%2e",  ".."};
    cinder_snapshot_req req = {0};
    snap_error err;
    fixture f;
    size_t i, before;

    (void)state;
    fixture_open(&f, "cinder_versions.json", 0);
    before = fake_http_count(f.h);
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        memset(&err, 0, sizeof(err));
        assert_null(cinder_snapshot_show(f.c, bad[i], &err));
        assert_int_equal(err.code, SNAP_E_INVALID);
        memset(&err, 0, sizeof(err));
        req.volume_id = bad[i];
        assert_null(cinder_snapshot_create(f.c, &req, &err));
        assert_int_equal(err.code, SNAP_E_INVALID);
        assert_false(cinder_volume_delete(f.c, bad[i], false, &err));
    }
    memset(&err, 0, sizeof(err));
    assert_null(cinder_snapshot_show(f.c, NULL, &err));
    assert_string_equal(err.msg, "invalid snapshot id '(null)'");
    assert_int_equal(fake_http_count(f.h), before);
    fixture_close(&f);
}

static void
test_transport_failure_names_the_object(void **state)
{
    snap_error err = {0};
    fixture f;

    (void)state;
    fixture_open(&f, "cinder_versions.json", 0);
    fake_http_expect_fail(
        f.h, "GET", "/volumes/" VOL_A, SNAP_E_TIMEOUT,
        "GET 'http://cinder.test:8776/...' timed out after 30000 ms");
    fake_http_expect_fail(
        f.h, "GET", "/volumes/" VOL_A, SNAP_E_HTTP,
        "GET 'http://cinder.test:8776/...' failed: Connection refused");
    assert_null(cinder_volume_show(f.c, VOL_A, &err));
    assert_int_equal(err.code, SNAP_E_TIMEOUT);
    assert_string_equal(
        err.msg, "cannot show volume '" VOL_A "': GET "
                 "'http://cinder.test:8776/...' timed out after 30000 ms");
    snap_error_clear(&err);
    assert_null(cinder_volume_show(f.c, VOL_A, &err));
    assert_int_equal(err.code, SNAP_E_HTTP);
    assert_int_equal(err.http_status, 0);
    assert_non_null(strstr(err.msg, "Connection refused"));
    fixture_close(&f);
}

/* A snapshot found by metadata (anyone in the project can write it) is
 * ours only when it is of one of our volumes, and the one we recorded
 * unless the request's outcome is unknown. */
static void
test_snapshot_claimed_only_for_our_volumes(void **state)
{
    cinder_snapshot_claim claims[] = {
        {VOL_A, SNAP_A}, /* recorded */
        {VOL_B, NULL},   /* outcome unknown */
    };
    cinder_snapshot snap;

    (void)state;
    memset(&snap, 0, sizeof(snap));
    snap.id = SNAP_A;
    snap.volume_id = VOL_A;
    assert_true(cinder_snapshot_claimed(&snap, claims, 2));
    /* Another snapshot of a volume whose snapshot is recorded: not ours. */
    snap.id = SNAP_C;
    assert_false(cinder_snapshot_claimed(&snap, claims, 2));
    /* Any snapshot of the volume whose request never returned an id. */
    snap.volume_id = VOL_B;
    assert_true(cinder_snapshot_claimed(&snap, claims, 2));
    /* Our recorded id, but on a volume that is not the member's. */
    snap.id = SNAP_A;
    snap.volume_id = VOL_C;
    assert_false(cinder_snapshot_claimed(&snap, claims, 2));
    /* No volume, no claims, no snapshot. */
    snap.volume_id = NULL;
    assert_false(cinder_snapshot_claimed(&snap, claims, 2));
    snap.volume_id = VOL_B;
    assert_false(cinder_snapshot_claimed(&snap, claims, 0));
    assert_false(cinder_snapshot_claimed(NULL, claims, 2));
}

/* ---- attachments (GET /attachments/<id>, 3.27) ----------------------------
 */

/* The head of an attachment as Cinder 21 shows it
 * (cinder/api/v3/views/attachments.py); each test adds connection_info. */
#define ATT_HEAD(id)                                                           \
    "{\"attachment\": {\"id\": \"" id "\", \"status\": \"attached\", "         \
    "\"instance\": \"" SERVER "\", \"volume_id\": \"" VOL_A "\", "             \
    "\"attached_at\": \"2026-01-12T09:14:03.000000\", \"detached_at\": \"\", " \
    "\"attach_mode\": \"rw\""

/* What a Nova attachment made through the attachments API keeps: the
 * RBD driver's data, flattened, with driver_volume_type beside it. */
#define ATT_RBD_REPLY                                                          \
    ATT_HEAD(ATT)                                                              \
    ", \"connection_info\": {\"name\": \"volumes/volume-" VOL_A "\", "         \
    "\"hosts\": [\"192.0.2.10\", \"192.0.2.11\"], \"ports\": [\"6789\", "      \
    "\"6789\"], \"cluster_name\": \"ceph\", \"auth_enabled\": true, "          \
    "\"auth_username\": \"cinder\", \"secret_type\": \"ceph\", "               \
    "\"secret_uuid\": \"5ec0e7a1-0000-4000-8000-000000000001\", "              \
    "\"volume_id\": \"" VOL_A "\", \"discard\": true, \"qos_specs\": null, "   \
    "\"access_mode\": \"rw\", \"encrypted\": false, \"cacheable\": false, "    \
    "\"driver_volume_type\": \"rbd\", \"attachment_id\": \"" ATT "\", "        \
    "\"enforce_multipath\": false}}}"

static void
assert_attachment_info_zeroed(const cinder_attachment_info *info)
{
    assert_null(info->id);
    assert_null(info->status);
    assert_null(info->instance);
    assert_null(info->volume_id);
    assert_null(info->attach_mode);
    assert_false(info->has_connection);
    assert_null(info->driver_volume_type);
    assert_null(info->name);
}

/* The request the fake saw last: GET of exactly our attachment's URL, at
 * microversion @mv. */
static void
assert_attachment_request(cinder_http *h, const char *mv)
{
    const fake_http_record *r = last_request(h);

    assert_string_equal(r->method, "GET");
    assert_string_equal(r->url, ENDPOINT "/attachments/" ATT);
    assert_string_equal(fake_http_record_header(r, "OpenStack-API-Version"),
                        mv);
}

static void
test_attachment_show_reads_the_rbd_connection_of_a_new_style_attachment(
    void **state)
{
    cinder_attachment_info info;
    snap_error err = {0};
    fixture f;

    (void)state;
    fixture_open(&f, "cinder_versions.json", 0);
    fake_http_expect_body(f.h, "GET", ENDPOINT "/attachments/" ATT, 200,
                          ATT_RBD_REPLY);
    if (!cinder_attachment_show(f.c, ATT, &info, &err))
        fail_msg("attachment show: %s", err.msg);
    assert_false(snap_error_isset(&err));
    assert_int_equal(fake_http_count(f.h), 3);
    assert_attachment_request(f.h, "volume 3.70");
    assert_string_equal(info.id, ATT);
    assert_string_equal(info.status, "attached");
    assert_string_equal(info.instance, SERVER);
    assert_string_equal(info.volume_id, VOL_A);
    assert_string_equal(info.attach_mode, "rw");
    assert_true(info.has_connection);
    assert_string_equal(info.driver_volume_type, "rbd");
    assert_string_equal(info.name, "volumes/volume-" VOL_A);
    cinder_attachment_info_release(&info);
    assert_attachment_info_zeroed(&info);
    cinder_attachment_info_release(NULL);
    fixture_close(&f);

    /* 3.27 itself is enough, and is what is sent; an upper-case id is the
     * same UUID as the lower-case one Cinder answers with. */
    fixture_open(&f, "cinder_versions.json", CINDER_MV(3, 27));
    fake_http_expect_body(f.h, "GET", "/attachments/", 200, ATT_RBD_REPLY);
    if (!cinder_attachment_show(f.c, "A77AC4ED-0000-4000-8000-000000000001",
                                &info, &err))
        fail_msg("attachment show at 3.27: %s", err.msg);
    assert_string_equal(
        fake_http_record_header(last_request(f.h), "OpenStack-API-Version"),
        "volume 3.27");
    assert_string_equal(info.name, "volumes/volume-" VOL_A);
    cinder_attachment_info_release(&info);
    fixture_close(&f);
}

static void
test_attachment_show_of_a_legacy_attachment_has_no_connection(void **state)
{
    static const char *const replies[] = {
        /* os-attach: Cinder keeps no connection_info for it */
        ATT_HEAD(ATT) ", \"connection_info\": null}}",
        /* no member at all (a trimmed view): the same */
        ATT_HEAD(ATT) "}}",
        /* reserved, not yet connected: no instance or mode either */
        "{\"attachment\": {\"id\": \"" ATT "\", \"status\": \"reserved\", "
        "\"instance\": null, \"volume_id\": \"" VOL_A "\", "
        "\"attached_at\": \"\", \"detached_at\": \"\", "
        "\"attach_mode\": null, \"connection_info\": null}}",
    };
    cinder_attachment_info info;
    snap_error err = {0};
    fixture f;
    size_t i;

    (void)state;
    fixture_open(&f, "cinder_versions.json", 0);
    for (i = 0; i < sizeof(replies) / sizeof(replies[0]); i++)
        fake_http_expect_body(f.h, "GET", ENDPOINT "/attachments/" ATT, 200,
                              replies[i]);
    for (i = 0; i < sizeof(replies) / sizeof(replies[0]); i++) {
        if (!cinder_attachment_show(f.c, ATT, &info, &err))
            fail_msg("reply %zu: %s", i, err.msg);
        assert_attachment_request(f.h, "volume 3.70");
        assert_string_equal(info.id, ATT);
        assert_string_equal(info.volume_id, VOL_A);
        assert_false(info.has_connection);
        assert_null(info.driver_volume_type);
        assert_null(info.name);
        if (i < 2) {
            assert_string_equal(info.status, "attached");
            assert_string_equal(info.instance, SERVER);
            assert_string_equal(info.attach_mode, "rw");
        } else {
            assert_string_equal(info.status, "reserved");
            assert_null(info.instance);
            assert_null(info.attach_mode);
        }
        cinder_attachment_info_release(&info);
    }
    assert_int_equal(fake_http_count(f.h), 2 + i);
    fixture_close(&f);
}

static void
test_attachment_show_is_refused_below_3_27_without_a_request(void **state)
{
    static const struct {
        const char *file;
        int cap;
        const char *have;
    } cases[] = {
        {"cinder_versions.json", CINDER_MV(3, 26), "3.26"},
        {"cinder_versions_3_21.json", 0, "3.21"},
        {"cinder_versions_no_mv.json", 0, "3.0"},
    };
    cinder_attachment_info info;
    snap_error err;
    char want[200];
    fixture f;
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        fixture_open(&f, cases[i].file, cases[i].cap);
        memset(&err, 0, sizeof(err));
        /* Whatever the caller's storage held, it comes back zeroed. */
        memset(&info, 0xa5, sizeof(info));
        assert_false(cinder_attachment_show(f.c, ATT, &info, &err));
        assert_int_equal(err.code, SNAP_E_STATE);
        snprintf(want, sizeof(want),
                 "cannot show attachment '" ATT "': needs Cinder API "
                 "microversion 3.27, but only %s was negotiated",
                 cases[i].have);
        assert_string_equal(err.msg, want);
        assert_attachment_info_zeroed(&info);
        assert_int_equal(fake_http_count(f.h), 2); /* token, versions */
        fixture_close(&f);
    }
}

static void
test_attachment_show_refuses_ids_that_are_not_uuids_before_any_request(
    void **state)
{
    static const char *const bad[] = {
        "",
        "..",
        "../x",
        "att-1", /* fine for cinder_id_valid(), not a UUID */
        "a77ac4ed-0000-4000-8000-00000000000",   /* 35 characters */
        "a77ac4ed-0000-4000-8000-0000000000011", /* 37 */
        "a77ac4ed-0000-4000-8000-00000000000g",
        "a77ac4ed-0000-4000-8000/000000000001",
        "a77ac4ed-0000-4000-8000?000000000001",
        "a77ac4ed-0000-4000-8000%2f0000000001",
        "a77ac4ed00000-4000-8000-000000000001",
        "a77ac4ed-0000-4000-8000-00000000000\n",
    };
    cinder_attachment_info info;
    snap_error err;
    fixture f;
    size_t i, before;

    (void)state;
    fixture_open(&f, "cinder_versions.json", 0);
    before = fake_http_count(f.h);
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        memset(&err, 0, sizeof(err));
        assert_false(cinder_attachment_show(f.c, bad[i], &info, &err));
        assert_int_equal(err.code, SNAP_E_INVALID);
        assert_non_null(strstr(err.msg, "invalid attachment id '"));
        assert_attachment_info_zeroed(&info);
    }
    memset(&err, 0, sizeof(err));
    assert_false(cinder_attachment_show(f.c, NULL, &info, &err));
    assert_string_equal(err.msg, "invalid attachment id '(null)'");
    memset(&err, 0, sizeof(err));
    assert_false(cinder_attachment_show(f.c, ATT, NULL, &err));
    assert_int_equal(err.code, SNAP_E_INVALID);
    memset(&err, 0, sizeof(err));
    assert_false(cinder_attachment_show(NULL, ATT, &info, &err));
    assert_string_equal(err.msg, "no Cinder client");
    assert_int_equal(fake_http_count(f.h), before);
    fixture_close(&f);
}

static void
test_attachment_show_refuses_replies_that_are_not_an_attachment(void **state)
{
#define WHAT "cannot show attachment '" ATT "': malformed reply: "
    static const struct {
        const char *body;
        const char *msg; /* NULL: only "malformed reply" is checked */
    } cases[] = {
        {"{}", WHAT "no attachment"},
        {"{\"attachment\": null}", WHAT "no attachment"},
        {"{\"attachment\": \"" ATT "\"}", WHAT "'attachment' is not an object"},
        {"{\"attachment\": [{\"id\": \"" ATT "\"}]}",
         WHAT "'attachment' is not an object"},
        {"[]", NULL},
        {"{\"attachment\": {", NULL},
        {"{\"attachment\": {\"id\": \"" ATT "\", \"volume_id\": \"" VOL_A
         "\"}}",
         WHAT "no 'status'"},
        {"{\"attachment\": {\"id\": \"" ATT "\", \"status\": \"attached\"}}",
         WHAT "no 'volume_id'"},
        {"{\"attachment\": {\"id\": \"" ATT "\", \"status\": [], "
         "\"volume_id\": \"" VOL_A "\"}}",
         WHAT "'status' is not a string"},
        {ATT_HEAD(ATT_OTHER) ", \"connection_info\": null}}",
         WHAT "it is attachment '" ATT_OTHER "'"},
        {"{\"attachment\": {\"id\": \"" ATT "\", \"status\": \"attached\", "
         "\"volume_id\": \"../" VOL_A "\"}}",
         WHAT "bad volume id"},
        {ATT_HEAD(ATT) ", \"connection_info\": \"rbd\"}}",
         WHAT "'connection_info' is neither an object nor null"},
        {ATT_HEAD(ATT) ", \"connection_info\": []}}",
         WHAT "'connection_info' is neither an object nor null"},
        {ATT_HEAD(ATT) ", \"connection_info\": false}}",
         WHAT "'connection_info' is neither an object nor null"},
        {ATT_HEAD(ATT) ", \"connection_info\": {\"driver_volume_type\": 7, "
                       "\"name\": \"volumes/volume-" VOL_A "\"}}}",
         WHAT "'connection_info.driver_volume_type' is not a string"},
        {ATT_HEAD(ATT) ", \"connection_info\": {\"driver_volume_type\": "
                       "{\"rbd\": true}}}}",
         WHAT "'connection_info.driver_volume_type' is not a string"},
        /* driver_volume_type already copied when name fails: no leak */
        {ATT_HEAD(ATT) ", \"connection_info\": {\"driver_volume_type\": "
                       "\"rbd\", \"name\": true}}}",
         WHAT "'connection_info.name' is not a string"},
        {ATT_HEAD(ATT) ", \"connection_info\": {\"driver_volume_type\": "
                       "\"rbd\", \"name\": [\"volumes\", \"volume-x\"]}}}",
         WHAT "'connection_info.name' is not a string"},
        {ATT_HEAD(ATT) ", \"connection_info\": {\"driver_volume_type\": "
                       "\"rbd\", \"name\": \"volumes/volume-" VOL_A
                       "\\u0000x\"}}}",
         NULL}, /* jansson refuses the NUL: the name is never cut short */
    };
#undef WHAT
    cinder_attachment_info info;
    snap_error err;
    fixture f;
    size_t i;

    (void)state;
    fixture_open(&f, "cinder_versions.json", 0);
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        fake_http_expect_body(f.h, "GET", ENDPOINT "/attachments/" ATT, 200,
                              cases[i].body);
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        memset(&err, 0, sizeof(err));
        if (cinder_attachment_show(f.c, ATT, &info, &err))
            fail_msg("reply %zu was taken: %s", i, cases[i].body);
        assert_attachment_request(f.h, "volume 3.70");
        assert_int_equal(err.code, SNAP_E_INVALID);
        if (cases[i].msg)
            assert_string_equal(err.msg, cases[i].msg);
        else
            assert_non_null(strstr(err.msg, "cannot show attachment '" ATT
                                            "': malformed reply"));
        assert_null(strchr(err.msg, '\n'));
        assert_attachment_info_zeroed(&info);
    }
    assert_int_equal(fake_http_count(f.h), 2 + i);
    fixture_close(&f);
}

static void
test_attachment_show_of_a_missing_attachment_is_notfound(void **state)
{
    cinder_attachment_info info;
    snap_error err = {0};
    fixture f;

    (void)state;
    fixture_open(&f, "cinder_versions.json", 0);
    fake_http_expect_body(f.h, "GET", ENDPOINT "/attachments/" ATT, 404,
                          "{\"itemNotFound\": {\"code\": 404, \"message\": "
                          "\"VolumeAttachment " ATT " could not be found.\"}}");
    assert_false(cinder_attachment_show(f.c, ATT, &info, &err));
    assert_attachment_request(f.h, "volume 3.70");
    assert_int_equal(err.code, SNAP_E_NOTFOUND);
    assert_string_equal(err.msg, "cannot show attachment '" ATT
                                 "': HTTP 404: VolumeAttachment " ATT
                                 " could not be found.");
    assert_attachment_info_zeroed(&info);
    fixture_close(&f);
}

/* ---- manageable snapshots (direct RBD members) ----------------------------
 */

static void
test_manage_sends_the_reference_and_metadata_without_force(void **state)
{
    cinder_kv meta[] = {{"snapset_set", SET}, {"snapset_target", "vdb"}};
    cinder_snapshot_req req = {0};
    snap_error err = {0};
    cinder_snapshot *snap;
    json_t *body, *inner;
    fixture f;

    (void)state;
    req.volume_id = VOL_A;
    req.name = "snapset-a";
    req.description = "set " SET;
    req.metadata = meta;
    req.nmetadata = 2;
    /* 3.60 would send force on a create: a manage never does. */
    fixture_open(&f, "cinder_versions_3_60.json", 0);
    fake_http_expect(f.h, "POST", ENDPOINT "/manageable_snapshots", 202,
                     "snapshot_a_create.json");
    snap = cinder_snapshot_manage(f.c, &req, "snapset-" SET "-vdb", &err);
    if (!snap)
        fail_msg("manage: %s", err.msg);
    assert_string_equal(snap->id, SNAP_A);
    cinder_snapshot_free(snap);
    body = request_json(f.h, 2);
    inner = json_object_get(body, "snapshot");
    assert_null(json_object_get(inner, "force"));
    assert_string_equal(json_string_value(json_object_get(inner, "volume_id")),
                        VOL_A);
    assert_string_equal(json_string_value(json_object_get(inner, "name")),
                        "snapset-a");
    assert_string_equal(json_string_value(json_object_get(
                            json_object_get(inner, "ref"), "source-name")),
                        "snapset-" SET "-vdb");
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(inner, "metadata"),
                                          "snapset_target")),
        "vdb");
    json_decref(body);
    fixture_close(&f);
}

static void
test_manage_refused_by_policy_is_http_403_on_one_line(void **state)
{
    cinder_snapshot_req req = {0};
    snap_error err = {0};
    fixture f;

    (void)state;
    req.volume_id = VOL_B;
    fixture_open(&f, "cinder_versions.json", 0);
    fake_http_expect(f.h, "POST", ENDPOINT "/manageable_snapshots", 403,
                     "error_policy_manage.json");
    assert_null(cinder_snapshot_manage(f.c, &req, "snapset-x-vdb", &err));
    assert_int_equal(err.code, SNAP_E_HTTP);
    assert_int_equal(err.http_status, 403);
    assert_string_equal(
        err.msg, "cannot register snapshot 'snapset-x-vdb' of volume '" VOL_B
                 "' with Cinder: HTTP 403: Policy doesn't allow "
                 "snapshot_extension:snapshot_manage to be performed.");
    assert_null(strchr(err.msg, '\n'));
    fixture_close(&f);
}

static void
test_manage_is_refused_below_3_8_and_bad_names_before_any_request(void **state)
{
    cinder_snapshot_req req = {0};
    snap_error err = {0};
    char longname[300];
    fixture f;

    (void)state;
    req.volume_id = VOL_A;
    fixture_open(&f, "cinder_versions_no_mv.json", 0);
    assert_null(cinder_snapshot_manage(f.c, &req, "snapset-x-vdb", &err));
    assert_int_equal(err.code, SNAP_E_STATE);
    assert_non_null(strstr(err.msg, "3.8"));
    assert_int_equal(fake_http_count(f.h), 2);
    fixture_close(&f);

    fixture_open(&f, "cinder_versions.json", 0);
    snap_error_clear(&err);
    memset(longname, 'a', sizeof(longname) - 1);
    longname[sizeof(longname) - 1] = '\0';
    assert_null(cinder_snapshot_manage(f.c, &req, "", &err));
    assert_int_equal(err.code, SNAP_E_INVALID);
    snap_error_clear(&err);
    assert_null(cinder_snapshot_manage(f.c, &req, NULL, &err));
    assert_int_equal(err.code, SNAP_E_INVALID);
    snap_error_clear(&err);
    assert_null(cinder_snapshot_manage(f.c, &req, longname, &err));
    assert_int_equal(err.code, SNAP_E_INVALID);
    assert_non_null(strstr(err.msg, "bad source name"));
    req.volume_id = "../volumes";
    assert_null(cinder_snapshot_manage(f.c, &req, "snapset-x-vdb", &err));
    assert_int_equal(err.code, SNAP_E_INVALID);
    assert_int_equal(fake_http_count(f.h), 2);
    fixture_close(&f);
}

/* ---- attachments of an instance (GET /attachments/detail?instance_id=) -- */

#define ATT_LIST_URL ENDPOINT "/attachments/detail?instance_id=" SERVER
#define ATT_ITEM(id, instance, conn)                                           \
    "{\"id\": \"" id "\", \"status\": \"attached\", \"instance\": \"" instance \
    "\", \"volume_id\": \"" VOL_A "\", \"attach_mode\": \"rw\", "              \
    "\"connection_info\": " conn "}"

/* One request lists them all, each read like a show: a new-style one with
 * its connection, a legacy one without. */
static void
test_attachment_list_reads_every_attachment_of_the_instance(void **state)
{
    cinder_attachment_info *infos = NULL;
    snap_error err = {0};
    size_t n = 0;
    fixture f;

    (void)state;
    fixture_open(&f, "cinder_versions.json", 0);
    fake_http_expect_body(
        f.h, "GET", ATT_LIST_URL, 200,
        "{\"attachments\": [" ATT_ITEM(
            ATT, SERVER,
            "{\"driver_volume_type\": \"rbd\", "
            "\"name\": \"volumes/volume-" VOL_A
            "\"}") ", " ATT_ITEM("a77ac4ed-0000-4000-8000-000000000002", SERVER,
                                 "null") "]}");
    if (!cinder_attachment_list(f.c, SERVER, &infos, &n, &err))
        fail_msg("attachment list: %s", err.msg);
    assert_string_equal(last_request(f.h)->url, ATT_LIST_URL);
    assert_int_equal(n, 2);
    assert_true(infos[0].has_connection);
    assert_string_equal(infos[0].driver_volume_type, "rbd");
    assert_string_equal(infos[0].name, "volumes/volume-" VOL_A);
    assert_false(infos[1].has_connection);
    assert_null(infos[1].name);
    cinder_attachment_infos_free(infos, n);
    fixture_close(&f);
}

/* Another instance's attachment in the reply, a reply without the array,
 * a bad instance id (before any request), Cinder below 3.27: all refused,
 * nothing returned. */
static void
test_attachment_list_refuses_what_is_not_this_instances(void **state)
{
    static const char *const replies[] = {
        "{\"attachments\": [" ATT_ITEM(
            ATT, "5e5e5e5e-0000-4000-8000-000000000002", "null") "]}",
        "{\"attachments\": {}}",
        "{}",
        "{\"attachments\": [" ATT_ITEM("not-an-id", SERVER, "null") "]}",
    };
    cinder_attachment_info *infos = NULL;
    snap_error err;
    size_t i, n = 7, before;
    fixture f;

    (void)state;
    fixture_open(&f, "cinder_versions.json", 0);
    for (i = 0; i < sizeof(replies) / sizeof(replies[0]); i++) {
        memset(&err, 0, sizeof(err));
        fake_http_expect_body(f.h, "GET", ATT_LIST_URL, 200, replies[i]);
        assert_false(cinder_attachment_list(f.c, SERVER, &infos, &n, &err));
        assert_int_equal(err.code, SNAP_E_INVALID);
        assert_non_null(strstr(err.msg, "malformed reply"));
        assert_null(infos);
        assert_int_equal(n, 0);
    }
    before = fake_http_count(f.h);
    memset(&err, 0, sizeof(err));
    assert_false(
        cinder_attachment_list(f.c, "x&all_tenants=1", &infos, &n, &err));
    assert_int_equal(err.code, SNAP_E_INVALID);
    assert_int_equal(fake_http_count(f.h), before);
    fixture_close(&f);

    fixture_open(&f, "cinder_versions_no_mv.json", 0);
    before = fake_http_count(f.h);
    memset(&err, 0, sizeof(err));
    assert_false(cinder_attachment_list(f.c, SERVER, &infos, &n, &err));
    assert_int_equal(err.code, SNAP_E_STATE);
    assert_int_equal(fake_http_count(f.h), before);
    fixture_close(&f);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_microversion_is_the_lower_of_server_and_ours),
        cmocka_unit_test(
            test_manage_sends_the_reference_and_metadata_without_force),
        cmocka_unit_test(test_manage_refused_by_policy_is_http_403_on_one_line),
        cmocka_unit_test(
            test_manage_is_refused_below_3_8_and_bad_names_before_any_request),
        cmocka_unit_test(test_server_minimum_above_ours_is_refused),
        cmocka_unit_test(test_version_document_falls_back_to_the_root),
        cmocka_unit_test(test_microversion_helpers),
        cmocka_unit_test(
            test_force_is_true_below_3_66_and_never_sent_from_3_66),
        cmocka_unit_test(test_create_error_names_the_volume_on_one_line),
        cmocka_unit_test(test_metadata_list_is_refused_below_3_22),
        cmocka_unit_test(
            test_metadata_list_sends_the_filter_and_follows_pages_on_our_endpoint),
        cmocka_unit_test(test_snapshot_show_delete_and_metadata_update),
        cmocka_unit_test(test_limits_are_read),
        cmocka_unit_test(test_volume_show_reads_attachments_group_and_bootable),
        cmocka_unit_test(test_volume_create_delete_and_revert),
        cmocka_unit_test(test_groups_group_types_and_group_snapshots),
        cmocka_unit_test(test_error_bodies_become_one_line_messages),
        cmocka_unit_test(test_error_message_extraction),
        cmocka_unit_test(
            test_malformed_replies_give_clear_errors_without_crashing),
        cmocka_unit_test(test_bad_ids_are_refused_before_any_request),
        cmocka_unit_test(test_transport_failure_names_the_object),
        cmocka_unit_test(test_snapshot_claimed_only_for_our_volumes),
        cmocka_unit_test(
            test_attachment_show_reads_the_rbd_connection_of_a_new_style_attachment),
        cmocka_unit_test(
            test_attachment_show_of_a_legacy_attachment_has_no_connection),
        cmocka_unit_test(
            test_attachment_show_is_refused_below_3_27_without_a_request),
        cmocka_unit_test(
            test_attachment_show_refuses_ids_that_are_not_uuids_before_any_request),
        cmocka_unit_test(
            test_attachment_show_refuses_replies_that_are_not_an_attachment),
        cmocka_unit_test(
            test_attachment_show_of_a_missing_attachment_is_notfound),
        cmocka_unit_test(
            test_attachment_list_reads_every_attachment_of_the_instance),
        cmocka_unit_test(
            test_attachment_list_refuses_what_is_not_this_instances),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
