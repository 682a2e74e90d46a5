/* tests/unit/test_ops_rbd.c -- ops/rbd.c against a scripted Cinder, with
 * no Ceph: the path each Cinder member takes and why (decided before the
 * freeze, never reaching Ceph when a reason is already known), and the
 * registrations after the thaw: all sent before one wait, a snapshot
 * Cinder put in error deleted and registered again, a wait that runs out
 * keeping the Cinder id for the rollback. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cinder/cinder.h"
#include "cinder/keystone.h"
#include "coordinator/coord_conf.h"
#include "coordinator/coord_set.h"
#include "coordinator/ops/rbd.h"
#include "fakes/fake_http.h"

#define VOL_A "aaaaaaaa-0000-4000-8000-000000000001"
#define VOL_B "aaaaaaaa-0000-4000-8000-000000000002"
#define SNAP_A "5a5a5a5a-0000-4000-8000-00000000000a"
#define SNAP_B "5a5a5a5a-0000-4000-8000-00000000000b"

typedef struct fixture {
    cinder_http *h;
    cinder_session *s;
    coord_conf conf;
    ops_rbd r;
    coord_set *set;
} fixture;

static void
fixture_open(fixture *f, const char *versions)
{
    snap_error err = {0};

    memset(f, 0, sizeof(*f));
    f->h = fake_http_new();
    f->r.cinder = fake_http_cinder(f->h, versions, NULL, &f->s);
    assert_true(coord_conf_init(&f->conf, NULL));
    f->r.conf = &f->conf.openstack;
    f->r.session = f->s;
    f->r.delete_timeout_ms = 5000;
    f->set = coord_set_new(&err);
    assert_non_null(f->set);
    assert_true(coord_str_set(&f->set->domain_name, "web1", &err));
}

static void
fixture_close(fixture *f)
{
    fake_http_verify(f->h);
    ops_rbd_release(&f->r);
    coord_set_free(f->set);
    cinder_client_free(f->r.cinder);
    cinder_session_free(f->s);
    cinder_http_free(f->h);
    coord_conf_release(&f->conf);
}

/* A Cinder member of @f's set: disk @target of volume @vol, its source
 * @protocol/@source as the domain XML gave them. */
static coord_member *
add_volume(fixture *f, const char *target, const char *vol,
           const char *protocol, const char *source)
{
    coord_member *m = coord_set_add_member(f->set, NULL);

    assert_non_null(m);
    m->kind = COORD_MEMBER_CINDER;
    assert_true(coord_str_set(&m->target, target, NULL));
    assert_true(coord_str_set(&m->volume_id, vol, NULL));
    assert_true(coord_str_set(&m->protocol, protocol, NULL));
    assert_true(coord_str_set(&m->source, source, NULL));
    return m;
}

/* A direct member whose RBD snapshot exists, as after the thaw. */
static coord_member *
add_direct(fixture *f, const char *target, const char *vol)
{
    char image[128], snap[128];
    coord_member *m;

    snprintf(image, sizeof(image), "volumes/volume-%s", vol);
    snprintf(snap, sizeof(snap), "snapset-%s-%s", f->set->uuid, target);
    m = add_volume(f, target, vol, "rbd", image);
    assert_true(coord_str_set(&m->snap_path, "rbd", NULL));
    assert_true(coord_str_set(&m->rbd_image, image, NULL));
    assert_true(coord_str_set(&m->rbd_snap, snap, NULL));
    m->state = COORD_MEMBER_REQUESTED;
    return m;
}

static void
assert_path(const coord_member *m, const char *path, const char *reason)
{
    assert_string_equal(m->snap_path, path);
    if (!reason) {
        assert_null(m->path_reason);
        return;
    }
    assert_non_null(m->path_reason);
    if (!strstr(m->path_reason, reason))
        fail_msg("disk %s: reason '%s' lacks '%s'", m->target, m->path_reason,
                 reason);
    assert_null(m->rbd_snap);
}

/* ---- the path, before the freeze ---------------------------------------- */

/* The reasons that need neither Cinder nor Ceph come first, per disk. */
static void
a_disk_not_on_cinders_rbd_image_takes_the_rest_path(void **state)
{
    fixture f;
    snap_error err = {0};

    (void)state;
    fixture_open(&f, "cinder_versions_no_mv.json");
    add_volume(&f, "vdb", VOL_A, NULL, "/dev/sdb");
    add_volume(&f, "vdc", VOL_B, "rbd", "volumes/other-" VOL_B);
    if (!ops_rbd_classify(&f.r, f.set, NULL, NULL, &err))
        fail_msg("%s", err.msg);
    assert_path(&f.set->members[0], "cinder", "not an RBD disk");
    assert_path(&f.set->members[1], "cinder", "is not Cinder's image");
    fixture_close(&f);
}

/* Below 3.8 Cinder cannot take a snapshot over: no token check, no Ceph. */
static void
cinder_below_3_8_takes_the_rest_path_before_any_check(void **state)
{
    fixture f;
    snap_error err = {0};

    (void)state;
    fixture_open(&f, "cinder_versions_no_mv.json");
    add_volume(&f, "vdb", VOL_A, "rbd", "volumes/volume-" VOL_A);
    if (!ops_rbd_classify(&f.r, f.set, NULL, NULL, &err))
        fail_msg("%s", err.msg);
    assert_path(&f.set->members[0], "cinder", "below microversion 3.8");
    assert_int_equal(fake_http_count(f.h), 2);
    fixture_close(&f);
}

/* A token without one of manage_roles: Cinder's policy would refuse the
 * registration after the thaw, so the member goes through Cinder's API;
 * Ceph is never asked. */
static void
a_token_without_a_manage_role_takes_the_rest_path(void **state)
{
    fixture f;
    snap_error err = {0};

    (void)state;
    fixture_open(&f, "cinder_versions.json");
    fake_http_expect(f.h, "GET", "/v3/auth/tokens?nocatalog", 200,
                     "keystone_validate.json");
    add_volume(&f, "vdb", VOL_A, "rbd", "volumes/volume-" VOL_A);
    add_volume(&f, "vdc", VOL_B, "rbd", "volumes/volume-" VOL_B);
    if (!ops_rbd_classify(&f.r, f.set, NULL, NULL, &err))
        fail_msg("%s", err.msg);
    /* one validation for the set */
    assert_int_equal(fake_http_count(f.h), 3);
    assert_path(&f.set->members[0], "cinder", "openstack.manage_roles");
    assert_path(&f.set->members[1], "cinder", "openstack.manage_roles");
    assert_null(f.r.batch);
    fixture_close(&f);
}

/* "always": the set is refused, naming the disk and why, before anything
 * is recorded on the member. */
static void
always_refuses_a_member_that_cannot_go_direct(void **state)
{
    fixture f;
    snap_error err = {0};

    (void)state;
    fixture_open(&f, "cinder_versions.json");
    assert_true(coord_str_set(&f.conf.openstack.direct_rbd, "always", NULL));
    add_volume(&f, "vdb", VOL_A, "rbd", "volumes/other-image");
    assert_false(ops_rbd_classify(&f.r, f.set, NULL, NULL, &err));
    assert_int_equal(err.code, SNAP_E_STATE);
    assert_non_null(strstr(err.msg, "disk vdb cannot take the direct RBD path "
                                    "(openstack.direct_rbd = always)"));
    assert_null(f.set->members[0].snap_path);
    fixture_close(&f);
}

static void
never_records_the_setting_as_the_reason(void **state)
{
    fixture f;
    snap_error err = {0};

    (void)state;
    fixture_open(&f, "cinder_versions.json");
    assert_true(coord_str_set(&f.conf.openstack.direct_rbd, "never", NULL));
    add_volume(&f, "vdb", VOL_A, "rbd", "volumes/volume-" VOL_A);
    if (!ops_rbd_classify(&f.r, f.set, NULL, NULL, &err))
        fail_msg("%s", err.msg);
    assert_path(&f.set->members[0], "cinder", "openstack.direct_rbd = never");
    assert_int_equal(fake_http_count(f.h), 2);
    fixture_close(&f);
}

/* ---- the attachment's connection_info ------------------------------------ */

#define ATT "a77ac4e0-0000-4000-8000-0000000000a1"
#define ATT_B "a77ac4e0-0000-4000-8000-0000000000b2"
#define DOM_UUID "11111111-0000-4000-8000-000000000001"
#define ATT_URL "/attachments/detail?instance_id=" DOM_UUID
#define ATT_OBJ(id, vol, conn)                                                 \
    "{\"id\": \"" id "\", \"status\": \"attached\", \"instance\": \"" DOM_UUID \
    "\", \"volume_id\": \"" vol "\", \"attach_mode\": \"rw\", "                \
    "\"connection_info\": " conn "}"
#define ATT_REPLY(conn) "{\"attachments\": [" ATT_OBJ(ATT, VOL_A, conn) "]}"
#define RBD_CONN(vol)                                                          \
    "{\"driver_volume_type\": \"rbd\", \"name\": \"volumes/volume-" vol "\"}"

/* Member vdb of VOL_A on volumes/volume-VOL_A, attached as ATT, whose
 * attachment Cinder shows as @status/@reply (then, with @token, the
 * token's validation); classified. */
static void
classify_attached(fixture *f, long status, const char *reply, bool token)
{
    const char *atts[1] = {ATT};
    snap_error err = {0};

    fixture_open(f, "cinder_versions.json");
    add_volume(f, "vdb", VOL_A, "rbd", "volumes/volume-" VOL_A);
    fake_http_expect_body(f->h, "GET", ATT_URL, status, reply);
    if (token)
        fake_http_expect(f->h, "GET", "/v3/auth/tokens?nocatalog", 200,
                         "keystone_validate.json");
    if (!ops_rbd_classify(&f->r, f->set, DOM_UUID, atts, &err))
        fail_msg("%s", err.msg);
    assert_int_equal(fake_http_count_matching(f->h, "GET", ATT_URL), 1);
    assert_string_equal(fake_http_record_header(fake_http_request(f->h, 2),
                                                "OpenStack-API-Version"),
                        "volume 3.70");
}

static void
classify_with_attachment(fixture *f, long status, const char *reply)
{
    classify_attached(f, status, reply, false);
}

static void
classify_with_attachment_then_token(fixture *f, const char *reply)
{
    classify_attached(f, 200, reply, true);
}

/* Cinder connected the volume some other way than RBD: whatever the
 * domain's disk says, the member goes through Cinder's API, before the
 * token or Ceph is asked. */
static void
an_attachment_that_is_not_rbd_takes_the_rest_path(void **state)
{
    fixture f;

    (void)state;
    classify_with_attachment(
        &f, 200,
        ATT_REPLY("{\"driver_volume_type\": \"iscsi\", \"target_lun\": 1}"));
    assert_path(&f.set->members[0], "cinder",
                "driver_volume_type 'iscsi', not rbd");
    assert_int_equal(fake_http_count_matching(f.h, "GET", "/auth/tokens"), 0);
    fixture_close(&f);
}

/* The connection names another image than the domain's disk (another
 * pool): snapset would snapshot an image Cinder does not attach. */
static void
an_attachment_naming_another_image_takes_the_rest_path(void **state)
{
    fixture f;

    (void)state;
    classify_with_attachment(
        &f, 200,
        ATT_REPLY("{\"driver_volume_type\": \"rbd\", \"name\": "
                  "\"volumes-b/volume-" VOL_A "\"}"));
    assert_path(&f.set->members[0], "cinder",
                "names RBD image 'volumes-b/volume-" VOL_A
                "', the domain's disk 'volumes/volume-" VOL_A "'");
    fixture_close(&f);
}

/* An attachment Cinder will not show is a reason, not an error. */
static void
an_attachment_cinder_refuses_to_show_takes_the_rest_path(void **state)
{
    fixture f;

    (void)state;
    classify_with_attachment(&f, 403,
                             "{\"forbidden\": {\"code\": 403, "
                             "\"message\": \"Policy doesn't allow "
                             "volume:attachment_show\"}}");
    assert_path(&f.set->members[0], "cinder", "cannot read attachment " ATT);
    fixture_close(&f);
}

/* Two members, one list request: the first one's attachment is not in
 * Cinder's list for this domain (a record that does not say what the
 * domain's XML does), the second is confirmed by its connection. */
static void
the_domains_attachments_are_read_once_for_all_members(void **state)
{
    const char *atts[2] = {ATT_B, ATT};
    snap_error err = {0};
    fixture f;

    (void)state;
    fixture_open(&f, "cinder_versions.json");
    add_volume(&f, "vdb", VOL_B, "rbd", "volumes/volume-" VOL_B);
    add_volume(&f, "vdc", VOL_A, "rbd", "volumes/volume-" VOL_A);
    fake_http_expect_body(
        f.h, "GET", ATT_URL, 200,
        "{\"attachments\": [" ATT_OBJ(ATT, VOL_A, RBD_CONN(VOL_A)) "]}");
    fake_http_expect(f.h, "GET", "/v3/auth/tokens?nocatalog", 200,
                     "keystone_validate.json");
    if (!ops_rbd_classify(&f.r, f.set, DOM_UUID, atts, &err))
        fail_msg("%s", err.msg);
    assert_int_equal(fake_http_count_matching(f.h, "GET", "/attachments"), 1);
    /* vdb stopped at its attachment; vdc passed on to the token's roles */
    assert_path(&f.set->members[0], "cinder",
                "attachment " ATT_B " is not among the domain's attachments");
    assert_path(&f.set->members[1], "cinder", "openstack.manage_roles");
    fixture_close(&f);
}

/* An attachment of another volume given for this disk is not taken as its
 * confirmation. */
static void
an_attachment_of_another_volume_takes_the_rest_path(void **state)
{
    fixture f;

    (void)state;
    classify_with_attachment(
        &f, 200,
        "{\"attachments\": [" ATT_OBJ(ATT, VOL_B, RBD_CONN(VOL_A)) "]}");
    assert_path(&f.set->members[0], "cinder",
                "attachment " ATT " is of volume " VOL_B);
    fixture_close(&f);
}

/* A connection that says rbd and names the disk's image, and a legacy
 * attachment that keeps none, both pass on to the token's roles (which
 * here lack openstack.manage_roles' "admin": the REST path, so that Ceph
 * is never asked). */
static void
a_matching_or_legacy_attachment_goes_on_to_the_next_check(void **state)
{
    const char *replies[] = {
        ATT_REPLY("{\"driver_volume_type\": \"rbd\", \"name\": "
                  "\"volumes/volume-" VOL_A "\", \"hosts\": [\"127.0.0.1\"]}"),
        ATT_REPLY("null")};
    size_t i;

    (void)state;
    for (i = 0; i < 2; i++) {
        fixture f;

        classify_with_attachment_then_token(&f, replies[i]);
        assert_path(&f.set->members[0], "cinder", "openstack.manage_roles");
        fixture_close(&f);
    }
}

/* ---- the registrations, after the thaw ---------------------------------- */

/* Two direct members, vdb (VOL_A) and vdc (VOL_B), whose registrations
 * Cinder accepts; the first wait shows A available and B in error. */
static void
open_two_direct(fixture *f, int attempts)
{
    fixture_open(f, "cinder_versions.json");
    f->conf.openstack.manage_attempts = attempts;
    add_direct(f, "vdb", VOL_A);
    add_direct(f, "vdc", VOL_B);
    fake_http_expect(f->h, "POST", "/manageable_snapshots", 202,
                     "snapshot_a_create.json");
    fake_http_expect(f->h, "POST", "/manageable_snapshots", 202,
                     "snapshot_b_create.json");
    fake_http_expect(f->h, "GET", "/snapshots/detail", 200,
                     "snapshots_detail_b_error.json");
}

/* Both registrations are sent before the one wait; B ends in error: it
 * is deleted in Cinder, registered again in a second round, and ends
 * available. Nothing of snapset's own names is left on either. */
static void
registrations_are_sent_together_and_an_error_is_tried_again(void **state)
{
    size_t idx[] = {0, 1};
    snap_error err = {0};
    fixture f;

    (void)state;
    open_two_direct(&f, 2);
    fake_http_expect(f.h, "DELETE", "/snapshots/" SNAP_B, 202, NULL);
    fake_http_expect(f.h, "GET", "/snapshots/" SNAP_B, 404,
                     "error_item_not_found.json");
    fake_http_expect(f.h, "POST", "/manageable_snapshots", 202,
                     "snapshot_b_create.json");
    fake_http_expect(f.h, "GET", "/snapshots/detail", 200,
                     "snapshots_detail_all_available.json");
    if (!ops_rbd_register(&f.r, f.set, idx, 2, &err))
        fail_msg("%s", err.msg);
    assert_string_equal(fake_http_request(f.h, 2)->method, "POST");
    assert_string_equal(fake_http_request(f.h, 3)->method, "POST");
    /* request_concurrency (4 by default) at once: one batch of two */
    assert_int_equal(fake_http_request(f.h, 2)->batch_size, 2);
    assert_int_equal(fake_http_request(f.h, 3)->batch,
                     fake_http_request(f.h, 2)->batch);
    assert_non_null(strstr(fake_http_request(f.h, 2)->body, "source-name"));
    assert_non_null(strstr(fake_http_request(f.h, 2)->body, f.set->uuid));
    assert_string_equal(f.set->members[0].location, SNAP_A);
    assert_string_equal(f.set->members[1].location, SNAP_B);
    assert_null(f.set->members[0].rbd_snap);
    assert_null(f.set->members[1].rbd_snap);
    assert_int_not_equal(f.set->members[1].state, COORD_MEMBER_FAILED);
    fixture_close(&f);
}

/* request_concurrency 1: the registrations go one after the other, each
 * a batch of its own, and still one wait covers both. */
static void
request_concurrency_bounds_the_registrations_at_once(void **state)
{
    size_t idx[] = {0, 1};
    snap_error err = {0};
    fixture f;

    (void)state;
    fixture_open(&f, "cinder_versions.json");
    f.conf.openstack.request_concurrency = 1;
    add_direct(&f, "vdb", VOL_A);
    add_direct(&f, "vdc", VOL_B);
    fake_http_expect(f.h, "POST", "/manageable_snapshots", 202,
                     "snapshot_a_create.json");
    fake_http_expect(f.h, "POST", "/manageable_snapshots", 202,
                     "snapshot_b_create.json");
    fake_http_expect(f.h, "GET", "/snapshots/detail", 200,
                     "snapshots_detail_all_available.json");
    if (!ops_rbd_register(&f.r, f.set, idx, 2, &err))
        fail_msg("%s", err.msg);
    assert_int_equal(fake_http_request(f.h, 2)->batch_size, 1);
    assert_int_equal(fake_http_request(f.h, 3)->batch_size, 1);
    assert_int_not_equal(fake_http_request(f.h, 3)->batch,
                         fake_http_request(f.h, 2)->batch);
    assert_int_equal(fake_http_count_matching(f.h, "GET", "/snapshots/detail"),
                     1);
    fixture_close(&f);
}

/* The wait runs out: the member fails with the reason, and keeps its
 * Cinder id (Cinder holds the snapshot now; the rollback deletes it
 * through Cinder) without another attempt: Ceph is never needed. */
static void
a_registration_that_stays_creating_fails_and_keeps_its_id(void **state)
{
    size_t idx[] = {0};
    snap_error err = {0};
    fixture f;

    (void)state;
    fixture_open(&f, "cinder_versions.json");
    f.conf.openstack.manage_attempts = 3;
    f.conf.openstack.manage_timeout_ms = 60;
    add_direct(&f, "vdb", VOL_A);
    fake_http_expect(f.h, "POST", "/manageable_snapshots", 202,
                     "snapshot_a_create.json");
    fake_http_expect(f.h, "GET", "/snapshots/detail", 200,
                     "snapshots_detail_all_creating.json");
    fake_http_repeat(f.h);
    assert_false(ops_rbd_register(&f.r, f.set, idx, 1, &err));
    assert_int_equal(err.code, SNAP_E_TIMEOUT);
    assert_non_null(strstr(err.msg,
                           "disk vdb: cannot register its RBD snapshot with "
                           "Cinder"));
    assert_int_equal(fake_http_count_matching(f.h, "POST", "/manageable"), 1);
    assert_int_equal(f.set->members[0].state, COORD_MEMBER_FAILED);
    assert_string_equal(f.set->members[0].location, SNAP_A);
    assert_non_null(strstr(f.set->members[0].path_reason,
                           "registering with Cinder failed after 1 attempt"));
    fixture_close(&f);
}

/* B ends in error and Cinder refuses to delete it: no second attempt
 * (it would leave two registrations of one RBD snapshot); B fails and
 * keeps its id, which the rollback deletes, and A is done. */
static void
a_registration_in_error_that_cannot_be_deleted_is_not_tried_again(void **state)
{
    size_t idx[] = {0, 1};
    snap_error err = {0};
    fixture f;

    (void)state;
    open_two_direct(&f, 3);
    fake_http_expect(f.h, "DELETE", "/snapshots/" SNAP_B, 403,
                     "error_policy_manage.json");
    assert_false(ops_rbd_register(&f.r, f.set, idx, 2, &err));
    assert_non_null(strstr(err.msg, "disk vdc: cannot register"));
    assert_int_equal(fake_http_count_matching(f.h, "POST", "/manageable"), 2);
    assert_int_equal(fake_http_count_matching(f.h, "DELETE", "/snapshots/"), 1);
    assert_null(f.set->members[0].rbd_snap);
    assert_int_not_equal(f.set->members[0].state, COORD_MEMBER_FAILED);
    assert_int_equal(f.set->members[1].state, COORD_MEMBER_FAILED);
    assert_string_equal(f.set->members[1].location, SNAP_B);
    fixture_close(&f);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_disk_not_on_cinders_rbd_image_takes_the_rest_path),
        cmocka_unit_test(cinder_below_3_8_takes_the_rest_path_before_any_check),
        cmocka_unit_test(a_token_without_a_manage_role_takes_the_rest_path),
        cmocka_unit_test(an_attachment_that_is_not_rbd_takes_the_rest_path),
        cmocka_unit_test(
            an_attachment_naming_another_image_takes_the_rest_path),
        cmocka_unit_test(
            an_attachment_cinder_refuses_to_show_takes_the_rest_path),
        cmocka_unit_test(
            a_matching_or_legacy_attachment_goes_on_to_the_next_check),
        cmocka_unit_test(the_domains_attachments_are_read_once_for_all_members),
        cmocka_unit_test(an_attachment_of_another_volume_takes_the_rest_path),
        cmocka_unit_test(always_refuses_a_member_that_cannot_go_direct),
        cmocka_unit_test(never_records_the_setting_as_the_reason),
        cmocka_unit_test(
            registrations_are_sent_together_and_an_error_is_tried_again),
        cmocka_unit_test(request_concurrency_bounds_the_registrations_at_once),
        cmocka_unit_test(
            a_registration_that_stays_creating_fails_and_keeps_its_id),
        cmocka_unit_test(
            a_registration_in_error_that_cannot_be_deleted_is_not_tried_again),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
