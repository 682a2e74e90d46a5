/* tests/unit/test_ops_restore.c -- restore's failure paths over a fake
 * domain (tests/fakes/fake_domain.c) and real files: a restore that fails
 * at any step leaves the domain's definition, its run state and its
 * images as they were, and reports the first error. The images are real
 * (qemu-img writes them); the domain is not. A second fixture adds a
 * Cinder volume behind a scripted Cinder (tests/fakes/fake_http.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cinder/cinder.h"
#include "cinder/keystone.h"
#include "common/snap_fs.h"
#include "coordinator/ops/restore.h"
#include "fakes/fake_domain.h"
#include "fakes/fake_http.h"

#define DOM_UUID "6f1c2a4e-0d55-4c1b-9a65-3f0e7c9b2d11"
#define IMG_SIZE 65536
/* The Cinder fixture: disk vdb is volume VOL_OLD, the set holds its
 * snapshot SNAP_ID, and restore makes VOL_NEW from it (the ids of
 * tests/data/cinder/restore_*.json). */
#define VOL_OLD "b0b0b0b0-0000-4000-8000-000000000001"
#define VOL_NEW "b0b0b0b0-0000-4000-8000-000000000002"
#define SNAP_ID "5b5b5b5b-0000-4000-8000-000000000001"

typedef struct fixture {
    char root[64];
    char disk[128]; /* the domain's raw disk: 'O' bytes */
    char copy[128]; /* the set's qcow2 copy of it: 'S' bytes */
    char *xml;      /* the domain's definition */
    char set[SNAP_UUID_LEN];
    ops_ctx ctx;
    cinder_http *h; /* the scripted Cinder, or NULL */
} fixture;

static void
write_pattern(const char *path, char c)
{
    char buf[IMG_SIZE];
    FILE *f = fopen(path, "wb");

    assert_non_null(f);
    memset(buf, c, sizeof(buf));
    assert_int_equal(fwrite(buf, 1, sizeof(buf), f), sizeof(buf));
    assert_int_equal(fclose(f), 0);
}

/* True when every byte of raw image @path is @c. */
static bool
has_pattern(const char *path, char c)
{
    char *data;
    size_t len = 0, i;
    bool ok;

    data = snap_file_read(path, 1 << 20, &len, NULL);
    assert_non_null(data);
    ok = len == IMG_SIZE;
    for (i = 0; ok && i < len; i++)
        ok = data[i] == c;
    free(data);
    return ok;
}

/* Names in directory @dir, except . and .., as "a b c". */
static void
list_dir(const char *dir, char *out, size_t size)
{
    DIR *d = opendir(dir);
    struct dirent *e;

    assert_non_null(d);
    out[0] = '\0';
    while ((e = readdir(d))) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        if (out[0])
            strncat(out, " ", size - strlen(out) - 1);
        strncat(out, e->d_name, size - strlen(out) - 1);
    }
    closedir(d);
}

/* ctx->os over the scripted Cinder, as ops_openstack() would open it:
 * Keystone, then the version document, capped at @mv: 3.39 has no revert
 * to a snapshot (a Cinder member is restored by a swap), 3.40 has. */
static void
open_cinder(fixture *fx, int mv)
{
    cinder_client_opts co;

    memset(&co, 0, sizeof(co));
    co.max_microversion = mv;
    fx->h = fake_http_new();
    fx->ctx.os.cinder = fake_http_cinder(fx->h, "cinder_versions.json", &co,
                                         &fx->ctx.os.session);
    fx->ctx.os.delete_timeout_ms = 30000;
    strcpy(fx->ctx.os.group_mode, "auto");
    fx->ctx.os_open = true; /* ops_ctx_release() closes it */
}

/* The domain and its set: local raw disk vda, and with @cinder_mv (a
 * Cinder microversion, 0: no Cinder) also the rbd volume vdb (its serial
 * the volume id, as Nova writes it). */
static int
setup_with(void **state, int cinder_mv)
{
    bool cinder = cinder_mv != 0;
    fixture *fx = calloc(1, sizeof(*fx));
    char path[256], cmd[512], cat[80], img[80];
    coord_set *set;
    coord_member *m;
    size_t n;

    assert_non_null(fx);
    snprintf(fx->root, sizeof(fx->root), "/tmp/test_ops_restore.XXXXXX");
    assert_non_null(mkdtemp(fx->root));
    snprintf(cat, sizeof(cat), "%s/cat", fx->root);
    snprintf(img, sizeof(img), "%s/img", fx->root);
    assert_true(snap_dir_make(cat, 0700, NULL));
    assert_true(snap_dir_make(img, 0755, NULL));
    snprintf(fx->disk, sizeof(fx->disk), "%s/vda.raw", img);
    snprintf(fx->copy, sizeof(fx->copy), "%s/copy-vda.qcow2", fx->root);
    write_pattern(fx->disk, 'O');
    snprintf(path, sizeof(path), "%s/set.raw", fx->root);
    write_pattern(path, 'S');
    snprintf(cmd, sizeof(cmd), "qemu-img convert -q -f raw -O qcow2 %s %s",
             path, fx->copy);
    assert_int_equal(system(cmd), 0);

    n = (size_t)snprintf(NULL, 0, "x%s", fx->disk) + 1024;
    fx->xml = malloc(n);
    assert_non_null(fx->xml);
    snprintf(fx->xml, n,
             "<domain type='kvm'><name>web</name><uuid>" DOM_UUID "</uuid>"
             "<memory unit='KiB'>65536</memory><vcpu>1</vcpu>"
             "<os><type arch='x86_64'>hvm</type></os><devices>"
             "<disk type='file' device='disk'><driver name='qemu' "
             "type='raw'/><source file='%s'/><target dev='vda' "
             "bus='virtio'/></disk>%s</devices></domain>",
             fx->disk,
             cinder ? "<disk type='network' device='disk'><driver "
                      "name='qemu' type='raw'/><source protocol='rbd' "
                      "name='volumes/volume-" VOL_OLD "'><host "
                      "name='10.0.0.1' port='6789'/></source><target "
                      "dev='vdb' bus='virtio'/><serial>" VOL_OLD
                      "</serial></disk>"
                    : "");

    assert_true(coord_conf_init(&fx->ctx.conf, NULL));
    assert_true(coord_str_set(&fx->ctx.conf.catalog_dir, cat, NULL));
    /* ops_recover() opens libvirt: its test driver needs no daemon. */
    assert_true(
        coord_str_set(&fx->ctx.conf.libvirt_uri, "test:///default", NULL));
    fx->ctx.conf.copy_timeout_ms = 30000;
    fx->ctx.domain = &fake_domain_ops;
    assert_true(ops_catalog(&fx->ctx, NULL));

    set = coord_set_new(NULL);
    assert_non_null(set);
    set->state = COORD_SET_AVAILABLE;
    assert_true(coord_str_set(&set->domain_name, "web", NULL));
    memcpy(set->domain_uuid, DOM_UUID, SNAP_UUID_LEN);
    set->dir = coord_catalog_set_dir(fx->ctx.catalog, set->uuid, NULL);
    assert_non_null(set->dir);
    m = coord_set_add_member(set, NULL);
    assert_non_null(m);
    m->kind = COORD_MEMBER_LOCAL;
    m->state = COORD_MEMBER_AVAILABLE;
    assert_true(coord_str_set(&m->target, "vda", NULL));
    assert_true(coord_str_set(&m->source_type, "file", NULL));
    assert_true(coord_str_set(&m->source, fx->disk, NULL));
    assert_true(coord_str_set(&m->format, "raw", NULL));
    assert_true(coord_str_set(&m->location, fx->copy, NULL));
    assert_true(coord_str_set(&m->copy_format, "qcow2", NULL));
    if (cinder) {
        m = coord_set_add_member(set, NULL);
        assert_non_null(m);
        m->kind = COORD_MEMBER_CINDER;
        m->state = COORD_MEMBER_AVAILABLE;
        assert_true(coord_str_set(&m->target, "vdb", NULL));
        assert_true(coord_str_set(&m->serial, VOL_OLD, NULL));
        assert_true(coord_str_set(&m->source_type, "network", NULL));
        assert_true(coord_str_set(&m->source, "volumes/volume-" VOL_OLD, NULL));
        assert_true(coord_str_set(&m->format, "raw", NULL));
        assert_true(coord_str_set(&m->volume_id, VOL_OLD, NULL));
        assert_true(coord_str_set(&m->location, SNAP_ID, NULL));
        open_cinder(fx, cinder_mv);
    }
    assert_true(coord_catalog_save(fx->ctx.catalog, set, NULL));
    memcpy(fx->set, set->uuid, SNAP_UUID_LEN);
    coord_set_free(set);

    fake_domain_reset();
    fake_domain_add(DOM_UUID, "web", fx->xml, OPS_DOMAIN_STATE_RUNNING);
    *state = fx;
    return 0;
}

static int
setup(void **state)
{
    return setup_with(state, 0);
}

static int
setup_cinder(void **state)
{
    return setup_with(state, CINDER_MV(3, 39));
}

/* Cinder at 3.40: vdb's snapshot is the volume's latest, so restore
 * reverts VOL_OLD in place rather than swapping in a new volume. */
static int
setup_cinder_revert(void **state)
{
    return setup_with(state, CINDER_MV(3, 40));
}

static int
teardown(void **state)
{
    fixture *fx = *state;
    char cmd[128];

    fake_domain_reset();
    ops_ctx_release(&fx->ctx); /* closes the session before its transport */
    cinder_http_free(fx->h);
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", fx->root);
    assert_int_equal(system(cmd), 0);
    free(fx->xml);
    free(fx);
    return 0;
}

/* The domain as it was: the same definition, running, its disk unchanged
 * and nothing else left beside it. */
static void
assert_as_before(fixture *fx)
{
    char names[512], img[128];

    assert_string_equal(fake_domain_xml(DOM_UUID), fx->xml);
    assert_int_equal(fake_domain_state(DOM_UUID), OPS_DOMAIN_STATE_RUNNING);
    assert_true(has_pattern(fx->disk, 'O'));
    snprintf(img, sizeof(img), "%s/img", fx->root);
    list_dir(img, names, sizeof(names));
    assert_string_equal(names, "vda.raw");
}

static void
restore_puts_the_disk_back_and_starts_the_domain_again(void **state)
{
    fixture *fx = *state;
    ops_restore_opts o = {OPS_RESTORE_START_AS_BEFORE, 1000};
    ops_restore_result res;
    snap_error err = {0};
    char names[512], img[128];

    assert_true(ops_restore(&fx->ctx, fx->set, &o, &res, &err));
    assert_false(snap_error_isset(&err));
    assert_true(has_pattern(fx->disk, 'S'));
    assert_int_equal(fake_domain_state(DOM_UUID), OPS_DOMAIN_STATE_RUNNING);
    assert_string_equal(fake_domain_xml(DOM_UUID), fx->xml);
    assert_int_equal(fake_domain_calls("define"), 0);
    assert_true(res.started);
    assert_int_equal(res.nlines, 1);
    assert_non_null(strstr(res.lines[0], "vda: "));
    snprintf(img, sizeof(img), "%s/img", fx->root);
    list_dir(img, names, sizeof(names));
    assert_string_equal(names, "vda.raw");
    ops_restore_result_release(&res);
}

static void
restore_whose_start_fails_puts_everything_back(void **state)
{
    fixture *fx = *state;
    ops_restore_opts o = {OPS_RESTORE_START_AS_BEFORE, 1000};
    ops_restore_result res;
    snap_error err = {0};
    char want[256];

    fake_domain_fail("start", 1);
    assert_false(ops_restore(&fx->ctx, fx->set, &o, &res, &err));
    snprintf(want, sizeof(want),
             "restore of set %s failed at step 'start the domain' and was "
             "undone: cannot start the domain: fake: start refused",
             fx->set);
    assert_string_equal(err.msg, want);
    assert_int_equal(err.code, SNAP_E_VIRT);
    /* Stopped, swapped, then swapped back and started again. */
    assert_int_equal(fake_domain_calls("shutdown"), 1);
    assert_int_equal(fake_domain_calls("start"), 2);
    assert_as_before(fx);
    ops_restore_result_release(&res);
}

static void
restore_whose_image_write_fails_touches_nothing(void **state)
{
    fixture *fx = *state;
    ops_restore_opts o = {OPS_RESTORE_START_AS_BEFORE, 1000};
    ops_restore_result res;
    snap_error err = {0};
    char want[256];

    write_pattern(fx->copy, 'X'); /* not a qcow2 image any more */
    assert_false(ops_restore(&fx->ctx, fx->set, &o, &res, &err));
    snprintf(want, sizeof(want),
             "restore of set %s failed at step 'prepare the disks' and was "
             "undone: ",
             fx->set);
    assert_memory_equal(err.msg, want, strlen(want));
    assert_non_null(strstr(err.msg, "qemu-img"));
    /* The image is made while the domain runs: it never stopped. */
    assert_int_equal(fake_domain_calls("shutdown"), 0);
    assert_int_equal(fake_domain_calls("destroy"), 0);
    assert_int_equal(fake_domain_calls("start"), 0);
    assert_as_before(fx);
    ops_restore_result_release(&res);
}

static void
restore_that_cannot_stop_the_domain_leaves_it_running(void **state)
{
    fixture *fx = *state;
    ops_restore_opts o = {OPS_RESTORE_START_AS_BEFORE, 1000};
    ops_restore_result res;
    snap_error err = {0};
    char want[256];

    fake_domain_fail("wait_off", 1); /* the guest ignores the shutdown */
    fake_domain_fail("destroy", 1);  /* and cannot be forced off */
    assert_false(ops_restore(&fx->ctx, fx->set, &o, &res, &err));
    snprintf(want, sizeof(want),
             "restore of set %s failed at step 'stop the domain' and was "
             "undone: cannot stop the domain: fake: destroy refused",
             fx->set);
    assert_string_equal(err.msg, want);
    assert_int_equal(fake_domain_calls("start"), 0); /* it still runs */
    assert_as_before(fx);
    ops_restore_result_release(&res);
}

static void
restore_whose_ram_state_load_fails_boots_nothing_and_puts_back(void **state)
{
    fixture *fx = *state;
    ops_restore_opts o = {OPS_RESTORE_START_AS_BEFORE, 1000};
    ops_restore_result res;
    snap_error err = {0};
    coord_set *set;
    char want[256], mem[160];

    snprintf(mem, sizeof(mem), "%s/memory.save", fx->root);
    write_pattern(mem, 'M');
    set = coord_catalog_load(fx->ctx.catalog, fx->set, NULL);
    assert_non_null(set);
    assert_true(coord_str_set(&set->memory, mem, NULL));
    assert_true(coord_catalog_save(fx->ctx.catalog, set, NULL));
    coord_set_free(set);

    fake_domain_fail("start_saved", 1);
    assert_false(ops_restore(&fx->ctx, fx->set, &o, &res, &err));
    snprintf(want, sizeof(want),
             "restore of set %s failed at step 'load the RAM state' and was "
             "undone: cannot load the RAM state: fake: start_saved refused",
             fx->set);
    assert_string_equal(err.msg, want);
    assert_int_equal(fake_domain_calls("start"), 1); /* the rollback's */
    assert_as_before(fx);
    ops_restore_result_release(&res);
}

static void
restore_of_a_transient_domain_is_refused_before_anything(void **state)
{
    fixture *fx = *state;
    ops_restore_opts o = {OPS_RESTORE_START_AS_BEFORE, 1000};
    ops_restore_result res;
    snap_error err = {0};

    fake_domain_fail("persistent", 1);
    assert_false(ops_restore(&fx->ctx, fx->set, &o, &res, &err));
    assert_int_equal(err.code, SNAP_E_STATE);
    assert_non_null(strstr(err.msg, "is transient"));
    assert_int_equal(fake_domain_calls("shutdown"), 0);
    assert_as_before(fx);
    ops_restore_result_release(&res);
}

/* The index of the first request from @from on whose method is @method,
 * URL contains @url_part and body contains @body_part (NULL: any), or -1. */
static long
find_request(cinder_http *h, const char *method, const char *url_part,
             const char *body_part, long from)
{
    size_t i;

    for (i = (size_t)from; i < fake_http_count(h); i++) {
        const fake_http_record *r = fake_http_request(h, i);

        if (strcmp(r->method, method) == 0 && strstr(r->url, url_part) &&
            (!body_part || strstr(r->body, body_part)))
            return (long)i;
    }
    return -1;
}

/* The checks of plan() for a swap (the snapshot is usable, the volume is
 * this domain's) and prepare() making VOL_NEW from the snapshot (one poll
 * "creating"). */
static void
expect_swap_plan_and_prepare(cinder_http *h)
{
    fake_http_expect(h, "GET", "/snapshots/" SNAP_ID, 200,
                     "restore_snapshot_available.json");
    fake_http_expect(h, "GET", "/volumes/" VOL_OLD, 200,
                     "restore_vol_old_in_use.json");
    fake_http_expect(h, "POST", "/volumes", 202,
                     "restore_vol_new_creating.json");
    fake_http_expect(h, "GET", "/volumes/" VOL_NEW, 200,
                     "restore_vol_new_creating.json");
    fake_http_expect(h, "GET", "/volumes/" VOL_NEW, 200,
                     "restore_vol_new_available.json");
}

/* VOL_OLD detached from the stopped domain: terminate, os-detach, wait. */
static void
expect_detach_old(cinder_http *h)
{
    fake_http_expect(h, "GET", "/volumes/" VOL_OLD, 200,
                     "restore_vol_old_in_use.json");
    fake_http_expect(h, "POST", "/volumes/" VOL_OLD "/action", 202, NULL);
    fake_http_expect(h, "POST", "/volumes/" VOL_OLD "/action", 202, NULL);
    fake_http_expect(h, "GET", "/volumes/" VOL_OLD, 200,
                     "restore_vol_old_available.json");
}

/* VOL_OLD attached to the domain (again): reserve, connect, os-attach,
 * wait. */
static void
expect_attach_old(cinder_http *h)
{
    fake_http_expect(h, "POST", "/volumes/" VOL_OLD "/action", 202, NULL);
    fake_http_expect(h, "POST", "/volumes/" VOL_OLD "/action", 200,
                     "restore_connection_vol_old.json");
    fake_http_expect(h, "POST", "/volumes/" VOL_OLD "/action", 202, NULL);
    fake_http_expect(h, "GET", "/volumes/" VOL_OLD, 200,
                     "restore_vol_old_in_use.json");
}

/* VOL_NEW, never attached, deleted: one poll "deleting", then gone. */
static void
expect_delete_new(cinder_http *h)
{
    fake_http_expect(h, "DELETE", "/volumes/" VOL_NEW, 202, NULL);
    fake_http_expect(h, "GET", "/volumes/" VOL_NEW, 200,
                     "restore_vol_new_deleting.json");
    fake_http_expect(h, "GET", "/volumes/" VOL_NEW, 404,
                     "error_item_not_found.json");
}

/* What Cinder answers for a swap of vdb up to the new definition: the
 * checks of plan() (the snapshot is usable, the volume is this domain's),
 * VOL_NEW made from the snapshot (one poll "creating"), VOL_OLD detached
 * (terminate, os-detach, wait) and VOL_NEW attached (reserve, connect,
 * os-attach, wait). */
static void
expect_swap_until_define(cinder_http *h)
{
    expect_swap_plan_and_prepare(h);
    expect_detach_old(h);
    fake_http_expect(h, "POST", "/volumes/" VOL_NEW "/action", 202, NULL);
    fake_http_expect(h, "POST", "/volumes/" VOL_NEW "/action", 200,
                     "restore_connection_vol_new.json");
    fake_http_expect(h, "POST", "/volumes/" VOL_NEW "/action", 202, NULL);
    fake_http_expect(h, "GET", "/volumes/" VOL_NEW, 200,
                     "restore_vol_new_in_use.json");
}

/* The same swap succeeding: the domain is defined with VOL_NEW in disk
 * vdb (its rbd image and serial) and started, the local disk is the set's,
 * and VOL_OLD, the user's own volume (no "made from a set" metadata),
 * stays detached and is not deleted. */
static void
restore_swaps_in_a_new_volume_and_keeps_the_old_one(void **state)
{
    fixture *fx = *state;
    ops_restore_opts o = {OPS_RESTORE_START_AS_BEFORE, 1000};
    ops_restore_result res;
    snap_error err = {0};
    const char *xml;

    expect_swap_until_define(fx->h);
    /* commit: is VOL_OLD one an earlier restore made? No. */
    fake_http_expect(fx->h, "GET", "/volumes/" VOL_OLD, 200,
                     "restore_vol_old_available.json");

    assert_true(ops_restore(&fx->ctx, fx->set, &o, &res, &err));
    assert_false(snap_error_isset(&err));
    assert_true(has_pattern(fx->disk, 'S'));
    assert_int_equal(fake_domain_state(DOM_UUID), OPS_DOMAIN_STATE_RUNNING);
    assert_int_equal(fake_domain_calls("define"), 1);
    xml = fake_domain_xml(DOM_UUID);
    assert_non_null(strstr(xml, "name=\"volumes/volume-" VOL_NEW "\""));
    assert_non_null(strstr(xml, "<serial>" VOL_NEW "</serial>"));
    assert_null(strstr(xml, VOL_OLD));
    assert_non_null(strstr(xml, fx->disk)); /* vda kept its file */
    assert_int_equal(res.nlines, 2);
    assert_string_equal(res.lines[1], "vdb: new Cinder volume " VOL_NEW
                                      " from snapshot " SNAP_ID
                                      "; volume " VOL_OLD " detached and kept");
    fake_http_verify(fx->h);
    assert_int_equal(fake_http_count_matching(fx->h, "DELETE", "/volumes/"), 0);
    assert_true(find_request(fx->h, "POST", "/volumes/" VOL_OLD "/action",
                             "\"os-attach\"", 0) < 0);
    ops_restore_result_release(&res);
}

/* A Cinder volume restored by a swap (Cinder below 3.40 cannot revert),
 * and the domain cannot be defined with the new volume: everything is
 * undone. The local disk is back, the old definition stays, the domain
 * runs again; in Cinder the new volume made from the snapshot is detached
 * and deleted, then the old volume is attached to the domain again. The
 * script holds each of those requests: a rollback step left out is a
 * request never made, and fake_http_verify() fails. */
static void
restore_whose_swapped_volume_cannot_be_defined_puts_the_old_one_back(
    void **state)
{
    fixture *fx = *state;
    ops_restore_opts o = {OPS_RESTORE_START_AS_BEFORE, 1000};
    ops_restore_result res;
    snap_error err = {0};
    char want[512];
    long attach_new, detach_new, del, detach_old, attach_old;

    expect_swap_until_define(fx->h);
    /* The rollback: VOL_NEW detached, deleted (one poll "deleting", then
     * gone), VOL_OLD attached again. */
    fake_http_expect(fx->h, "GET", "/volumes/" VOL_NEW, 200,
                     "restore_vol_new_in_use.json");
    fake_http_expect(fx->h, "POST", "/volumes/" VOL_NEW "/action", 202, NULL);
    fake_http_expect(fx->h, "POST", "/volumes/" VOL_NEW "/action", 202, NULL);
    fake_http_expect(fx->h, "GET", "/volumes/" VOL_NEW, 200,
                     "restore_vol_new_available.json");
    fake_http_expect(fx->h, "DELETE", "/volumes/" VOL_NEW, 202, NULL);
    fake_http_expect(fx->h, "GET", "/volumes/" VOL_NEW, 200,
                     "restore_vol_new_deleting.json");
    fake_http_expect(fx->h, "GET", "/volumes/" VOL_NEW, 404,
                     "error_item_not_found.json");
    fake_http_expect(fx->h, "POST", "/volumes/" VOL_OLD "/action", 202, NULL);
    fake_http_expect(fx->h, "POST", "/volumes/" VOL_OLD "/action", 200,
                     "restore_connection_vol_old.json");
    fake_http_expect(fx->h, "POST", "/volumes/" VOL_OLD "/action", 202, NULL);
    fake_http_expect(fx->h, "GET", "/volumes/" VOL_OLD, 200,
                     "restore_vol_old_in_use.json");

    fake_domain_fail("define", 1);
    assert_false(ops_restore(&fx->ctx, fx->set, &o, &res, &err));
    snprintf(want, sizeof(want),
             "restore of set %s failed at step 'define the domain with its "
             "new volumes' and was undone: cannot define the domain with "
             "its restored disks: fake: define refused",
             fx->set);
    assert_string_equal(err.msg, want);
    assert_int_equal(err.code, SNAP_E_VIRT);
    /* The failed define was the only one: the old definition was never
     * replaced, so there is nothing to define back. */
    assert_int_equal(fake_domain_calls("define"), 1);
    assert_int_equal(fake_domain_calls("start"), 1); /* the rollback's */
    assert_as_before(fx);

    fake_http_verify(fx->h);
    /* VOL_NEW was made from the set's snapshot and attached to the
     * domain... */
    assert_true(find_request(fx->h, "POST", "/volumes",
                             "\"snapshot_id\":\"" SNAP_ID "\"", 0) >= 0);
    attach_new = find_request(fx->h, "POST", "/volumes/" VOL_NEW "/action",
                              "\"os-attach\"", 0);
    assert_true(attach_new >= 0);
    /* ... then detached (its attachment to this domain ended) and
     * deleted... */
    detach_new = find_request(fx->h, "POST", "/volumes/" VOL_NEW "/action",
                              "\"os-detach\"", attach_new);
    assert_true(detach_new > attach_new);
    assert_non_null(strstr(fake_http_request(fx->h, (size_t)detach_new)->body,
                           "a77a77a7-0000-4000-8000-0000000000b2"));
    del = find_request(fx->h, "DELETE", "/volumes/" VOL_NEW, NULL, 0);
    assert_true(del > detach_new);
    assert_int_equal(fake_http_count_matching(fx->h, "DELETE", "/volumes/"), 1);
    /* ... and VOL_OLD, detached for the swap, is attached to the domain
     * again as vdb, after the new one is gone; it is never deleted. */
    detach_old = find_request(fx->h, "POST", "/volumes/" VOL_OLD "/action",
                              "\"os-detach\"", 0);
    assert_true(detach_old >= 0 && detach_old < attach_new);
    attach_old = find_request(fx->h, "POST", "/volumes/" VOL_OLD "/action",
                              "\"os-attach\"", 0);
    assert_true(attach_old > del);
    assert_non_null(strstr(fake_http_request(fx->h, (size_t)attach_old)->body,
                           "\"instance_uuid\":\"" DOM_UUID "\""));
    assert_non_null(strstr(fake_http_request(fx->h, (size_t)attach_old)->body,
                           "\"mountpoint\":\"/dev/vdb\""));
    assert_int_equal(
        fake_http_count_matching(fx->h, "DELETE", "/volumes/" VOL_OLD), 0);
    ops_restore_result_release(&res);
}

/* Adds local disk vdb, a block device (here a file holding 'D' bytes,
 * which qemu-img writes like a device), to the domain and its set. With
 * @good the set's copy of it holds 'T' bytes; without, it is no qcow2
 * image at all, and writing the device from it fails. The device's path
 * goes to @dev. */
static void
add_block_disk(fixture *fx, bool good, char *dev, size_t size)
{
    char copy[160], raw[160], cmd[512], *xml;
    const char *end;
    coord_set *set;
    coord_member *m;
    size_t n;

    snprintf(dev, size, "%s/dev-vdb", fx->root);
    write_pattern(dev, 'D');
    snprintf(copy, sizeof(copy), "%s/copy-vdb.qcow2", fx->root);
    if (good) {
        snprintf(raw, sizeof(raw), "%s/set-vdb.raw", fx->root);
        write_pattern(raw, 'T');
        snprintf(cmd, sizeof(cmd), "qemu-img convert -q -f raw -O qcow2 %s %s",
                 raw, copy);
        assert_int_equal(system(cmd), 0);
    } else {
        write_pattern(copy, 'X');
    }

    end = strstr(fx->xml, "</devices>");
    assert_non_null(end);
    n = strlen(fx->xml) + strlen(dev) + 256;
    xml = malloc(n);
    assert_non_null(xml);
    snprintf(xml, n,
             "%.*s<disk type='block' device='disk'><driver name='qemu' "
             "type='raw'/><source dev='%s'/><target dev='vdb' "
             "bus='virtio'/></disk>%s",
             (int)(end - fx->xml), fx->xml, dev, end);
    free(fx->xml);
    fx->xml = xml;
    fake_domain_reset();
    fake_domain_add(DOM_UUID, "web", fx->xml, OPS_DOMAIN_STATE_RUNNING);

    set = coord_catalog_load(fx->ctx.catalog, fx->set, NULL);
    assert_non_null(set);
    m = coord_set_add_member(set, NULL);
    assert_non_null(m);
    m->kind = COORD_MEMBER_LOCAL;
    m->state = COORD_MEMBER_AVAILABLE;
    assert_true(coord_str_set(&m->target, "vdb", NULL));
    assert_true(coord_str_set(&m->source_type, "block", NULL));
    assert_true(coord_str_set(&m->source, dev, NULL));
    assert_true(coord_str_set(&m->format, "raw", NULL));
    assert_true(coord_str_set(&m->location, copy, NULL));
    assert_true(coord_str_set(&m->copy_format, "qcow2", NULL));
    assert_true(coord_catalog_save(fx->ctx.catalog, set, NULL));
    coord_set_free(set);
}

/* What restore keeps of a block device while it runs: CATALOG/restore. */
static void
assert_no_saved_device(fixture *fx)
{
    char dir[128], names[512];

    snprintf(dir, sizeof(dir), "%s/cat/restore", fx->root);
    if (!snap_path_exists(dir))
        return;
    list_dir(dir, names, sizeof(names));
    assert_string_equal(names, "");
}

/* Step 'put the local disks back': vda's file was swapped in, then the
 * block device vdb cannot be written from its copy. vda's old image goes
 * back under its name (no hidden file is left), vdb's saved content is
 * written back and removed, the definition was never replaced and the
 * domain runs again. */
static void
restore_whose_block_device_write_fails_puts_the_file_disk_back(void **state)
{
    fixture *fx = *state;
    ops_restore_opts o = {OPS_RESTORE_START_AS_BEFORE, 1000};
    ops_restore_result res;
    snap_error err = {0};
    char want[256], dev[160];

    add_block_disk(fx, false, dev, sizeof(dev));
    assert_false(ops_restore(&fx->ctx, fx->set, &o, &res, &err));
    snprintf(want, sizeof(want),
             "restore of set %s failed at step 'put the local disks back' "
             "and was undone: cannot copy '",
             fx->set);
    assert_memory_equal(err.msg, want, strlen(want));
    assert_non_null(strstr(err.msg, "copy-vdb.qcow2' to '"));
    assert_int_equal(fake_domain_calls("shutdown"), 1);
    assert_int_equal(fake_domain_calls("define"), 0);
    assert_int_equal(fake_domain_calls("start"), 1); /* the rollback's */
    assert_true(has_pattern(dev, 'D'));
    assert_no_saved_device(fx);
    assert_as_before(fx);
    ops_restore_result_release(&res);
}

/* The name restore keeps vda's old image under, beside it. */
static void
old_image_name(const fixture *fx, char *out, size_t size)
{
    snprintf(out, size, "%s/img/.vda.raw.snapset-restore.old", fx->root);
}

/* A fake_domain_on() hook: while the domain stops, someone puts a file
 * of their own ('I' bytes) under the name of vda's old image. */
static void
take_the_old_image_name(void *arg)
{
    char path[160];

    old_image_name(arg, path, sizeof(path));
    write_pattern(path, 'I');
}

/* Step 'put the local disks back', the file disk: the name vda's old
 * image was to be kept under appears while the domain stops. Restore
 * replaces nothing: vda keeps its image, the other file is left as it
 * is, the new image is removed, and the domain runs again. */
static void
restore_whose_old_image_name_is_taken_meanwhile_replaces_nothing(void **state)
{
    fixture *fx = *state;
    ops_restore_opts o = {OPS_RESTORE_START_AS_BEFORE, 1000};
    ops_restore_result res;
    snap_error err = {0};
    char want[512], old[160], names[512], img[128];

    old_image_name(fx, old, sizeof(old));
    fake_domain_on("shutdown", take_the_old_image_name, fx);
    assert_false(ops_restore(&fx->ctx, fx->set, &o, &res, &err));
    snprintf(want, sizeof(want),
             "restore of set %s failed at step 'put the local disks back' "
             "and was undone: '%s' appeared during the restore: not "
             "replacing it",
             fx->set, old);
    assert_string_equal(err.msg, want);
    assert_int_equal(err.code, SNAP_E_STATE);
    assert_int_equal(fake_domain_calls("start"), 1); /* the rollback's */
    assert_true(has_pattern(old, 'I'));
    snprintf(img, sizeof(img), "%s/img", fx->root);
    list_dir(img, names, sizeof(names));
    assert_null(strstr(names, "snapset-restore-")); /* the new image */
    assert_int_equal(unlink(old), 0);
    assert_as_before(fx);
    ops_restore_result_release(&res);
}

/* A block device restored, then the start fails: the device's content
 * from before is written back over the set's, like a file renamed back. */
static void
restore_whose_start_fails_writes_the_block_device_back(void **state)
{
    fixture *fx = *state;
    ops_restore_opts o = {OPS_RESTORE_START_AS_BEFORE, 1000};
    ops_restore_result res;
    snap_error err = {0};
    char want[256], dev[160];

    add_block_disk(fx, true, dev, sizeof(dev));
    fake_domain_fail("start", 1);
    assert_false(ops_restore(&fx->ctx, fx->set, &o, &res, &err));
    snprintf(want, sizeof(want),
             "restore of set %s failed at step 'start the domain' and was "
             "undone: cannot start the domain: fake: start refused",
             fx->set);
    assert_string_equal(err.msg, want);
    assert_true(has_pattern(dev, 'D'));
    assert_no_saved_device(fx);
    assert_as_before(fx);
    ops_restore_result_release(&res);
}

/* Step 'discard the managed save image': the domain is off with a
 * managed save (its memory belongs to the disks restore replaces), and
 * libvirt refuses to remove it. The disk goes back, so the image matches
 * its disks again and stays; the domain stays off. */
static void
restore_whose_managed_save_cannot_be_discarded_puts_the_disk_back(void **state)
{
    fixture *fx = *state;
    ops_restore_opts o = {OPS_RESTORE_START_AS_BEFORE, 1000};
    ops_restore_result res;
    snap_error err = {0};
    char want[256], names[512], img[128];

    fake_domain_reset();
    fake_domain_add(DOM_UUID, "web", fx->xml, OPS_DOMAIN_STATE_OFF);
    fake_domain_set_managed_save(DOM_UUID, true);
    fake_domain_fail("managed_save_remove", 1);
    assert_false(ops_restore(&fx->ctx, fx->set, &o, &res, &err));
    snprintf(want, sizeof(want),
             "restore of set %s failed at step 'discard the managed save "
             "image' and was undone: cannot remove the managed save image: "
             "fake: managed_save_remove refused",
             fx->set);
    assert_string_equal(err.msg, want);
    assert_int_equal(err.code, SNAP_E_VIRT);
    assert_int_equal(fake_domain_calls("managed_save_remove"), 1);
    assert_true(fake_domain_managed_save(DOM_UUID));
    assert_int_equal(fake_domain_calls("shutdown"), 0);
    assert_int_equal(fake_domain_calls("start"), 0);
    assert_int_equal(fake_domain_state(DOM_UUID), OPS_DOMAIN_STATE_OFF);
    assert_string_equal(fake_domain_xml(DOM_UUID), fx->xml);
    assert_true(has_pattern(fx->disk, 'O'));
    snprintf(img, sizeof(img), "%s/img", fx->root);
    list_dir(img, names, sizeof(names));
    assert_string_equal(names, "vda.raw");
    ops_restore_result_release(&res);
}

/* The same domain, when libvirt removes the image: the disk is the set's
 * and the result says why the image went. */
static void
restore_discards_the_managed_save_image_of_the_old_disks(void **state)
{
    fixture *fx = *state;
    ops_restore_opts o = {OPS_RESTORE_START_AS_BEFORE, 1000};
    ops_restore_result res;
    snap_error err = {0};

    fake_domain_reset();
    fake_domain_add(DOM_UUID, "web", fx->xml, OPS_DOMAIN_STATE_OFF);
    fake_domain_set_managed_save(DOM_UUID, true);
    assert_true(ops_restore(&fx->ctx, fx->set, &o, &res, &err));
    assert_false(fake_domain_managed_save(DOM_UUID));
    assert_true(has_pattern(fx->disk, 'S'));
    assert_int_equal(fake_domain_state(DOM_UUID), OPS_DOMAIN_STATE_OFF);
    assert_int_equal(res.nlines, 2);
    assert_non_null(strstr(res.lines[0], "managed save image discarded"));
    ops_restore_result_release(&res);
}

/* Step 'prepare the disks' with a Cinder member: Cinder cannot make the
 * new volume. The domain never stopped, vda's new image is gone, and
 * nothing was asked of VOL_OLD but its state. */
static void
restore_whose_new_volume_cannot_be_made_touches_nothing(void **state)
{
    fixture *fx = *state;
    ops_restore_opts o = {OPS_RESTORE_START_AS_BEFORE, 1000};
    ops_restore_result res;
    snap_error err = {0};
    char want[256];

    fake_http_expect(fx->h, "GET", "/snapshots/" SNAP_ID, 200,
                     "restore_snapshot_available.json");
    fake_http_expect(fx->h, "GET", "/volumes/" VOL_OLD, 200,
                     "restore_vol_old_in_use.json");
    fake_http_expect(fx->h, "POST", "/volumes", 500, "error_server.json");
    assert_false(ops_restore(&fx->ctx, fx->set, &o, &res, &err));
    snprintf(want, sizeof(want),
             "restore of set %s failed at step 'prepare the disks' and was "
             "undone: cannot create volume",
             fx->set);
    assert_memory_equal(err.msg, want, strlen(want));
    assert_int_equal(fake_domain_calls("shutdown"), 0);
    assert_int_equal(fake_domain_calls("start"), 0);
    assert_as_before(fx);
    fake_http_verify(fx->h);
    assert_int_equal(fake_http_count_matching(fx->h, "POST", "/action"), 0);
    assert_int_equal(fake_http_count_matching(fx->h, "DELETE", "/volumes/"), 0);
    ops_restore_result_release(&res);
}

/* Step 'detach the Cinder volumes': Cinder refuses to end VOL_OLD's
 * attachment. vda goes back, VOL_NEW (made, never attached) is deleted,
 * and VOL_OLD, still attached, is not attached a second time. */
static void
restore_whose_old_volume_cannot_be_detached_deletes_the_new_one(void **state)
{
    fixture *fx = *state;
    ops_restore_opts o = {OPS_RESTORE_START_AS_BEFORE, 1000};
    ops_restore_result res;
    snap_error err = {0};
    char want[512];

    expect_swap_plan_and_prepare(fx->h);
    fake_http_expect(fx->h, "GET", "/volumes/" VOL_OLD, 200,
                     "restore_vol_old_in_use.json");
    fake_http_expect(fx->h, "POST", "/volumes/" VOL_OLD "/action", 202, NULL);
    fake_http_expect(fx->h, "POST", "/volumes/" VOL_OLD "/action", 500,
                     "error_server.json");
    expect_delete_new(fx->h);

    assert_false(ops_restore(&fx->ctx, fx->set, &o, &res, &err));
    snprintf(want, sizeof(want),
             "restore of set %s failed at step 'detach the Cinder volumes' "
             "and was undone: cannot os-detach volume '" VOL_OLD
             "': HTTP 500: The server has either erred",
             fx->set);
    assert_memory_equal(err.msg, want, strlen(want));
    assert_int_equal(err.code, SNAP_E_HTTP);
    assert_int_equal(fake_domain_calls("define"), 0);
    assert_int_equal(fake_domain_calls("start"), 1); /* the rollback's */
    assert_as_before(fx);

    fake_http_verify(fx->h);
    assert_true(find_request(fx->h, "POST", "/volumes/" VOL_OLD "/action",
                             "\"os-detach\"", 0) >= 0);
    assert_int_equal(
        fake_http_count_matching(fx->h, "POST", "/volumes/" VOL_NEW "/action"),
        0);
    assert_int_equal(
        fake_http_count_matching(fx->h, "DELETE", "/volumes/" VOL_NEW), 1);
    assert_true(find_request(fx->h, "POST", "/volumes/" VOL_OLD "/action",
                             "\"os-attach\"", 0) < 0);
    assert_int_equal(
        fake_http_count_matching(fx->h, "DELETE", "/volumes/" VOL_OLD), 0);
    ops_restore_result_release(&res);
}

/* Step 'attach the new Cinder volumes': VOL_OLD is detached, and Cinder
 * refuses to reserve VOL_NEW for the domain. vda goes back, VOL_NEW is
 * deleted (it was never attached: nothing to detach), and VOL_OLD is
 * attached to the domain again as vdb. */
static void
restore_whose_new_volume_cannot_be_attached_puts_the_old_one_back(void **state)
{
    fixture *fx = *state;
    ops_restore_opts o = {OPS_RESTORE_START_AS_BEFORE, 1000};
    ops_restore_result res;
    snap_error err = {0};
    char want[512];
    long detach_old, reserve_new, del, attach_old;

    expect_swap_plan_and_prepare(fx->h);
    expect_detach_old(fx->h);
    fake_http_expect(fx->h, "POST", "/volumes/" VOL_NEW "/action", 500,
                     "error_server.json");
    expect_delete_new(fx->h);
    expect_attach_old(fx->h);

    assert_false(ops_restore(&fx->ctx, fx->set, &o, &res, &err));
    snprintf(want, sizeof(want),
             "restore of set %s failed at step 'attach the new Cinder "
             "volumes' and was undone: cannot os-reserve volume '" VOL_NEW
             "': HTTP 500: The server has either erred",
             fx->set);
    assert_memory_equal(err.msg, want, strlen(want));
    assert_int_equal(fake_domain_calls("define"), 0);
    assert_int_equal(fake_domain_calls("start"), 1);
    assert_as_before(fx);

    fake_http_verify(fx->h);
    detach_old = find_request(fx->h, "POST", "/volumes/" VOL_OLD "/action",
                              "\"os-detach\"", 0);
    reserve_new = find_request(fx->h, "POST", "/volumes/" VOL_NEW "/action",
                               "\"os-reserve\"", 0);
    assert_true(detach_old >= 0 && reserve_new > detach_old);
    assert_int_equal(
        fake_http_count_matching(fx->h, "POST", "/volumes/" VOL_NEW "/action"),
        1);
    del = find_request(fx->h, "DELETE", "/volumes/" VOL_NEW, NULL, 0);
    assert_true(del > reserve_new);
    attach_old = find_request(fx->h, "POST", "/volumes/" VOL_OLD "/action",
                              "\"os-attach\"", 0);
    assert_true(attach_old > del);
    assert_non_null(strstr(fake_http_request(fx->h, (size_t)attach_old)->body,
                           "\"instance_uuid\":\"" DOM_UUID "\""));
    assert_non_null(strstr(fake_http_request(fx->h, (size_t)attach_old)->body,
                           "\"mountpoint\":\"/dev/vdb\""));
    assert_int_equal(
        fake_http_count_matching(fx->h, "DELETE", "/volumes/" VOL_OLD), 0);
    ops_restore_result_release(&res);
}

/* Cinder's snapshot list for plan() at 3.40: the set's snapshot is the
 * newest of VOL_OLD, so it can be reverted in place. */
#define SNAPSHOTS_LATEST                                                       \
    "{\"snapshots\": [{\"id\": \"" SNAP_ID "\", \"name\": \"snapset-vdb\", "   \
    "\"status\": \"available\", \"size\": 1, \"volume_id\": \"" VOL_OLD        \
    "\", \"created_at\": \"2026-01-01T00:00:10.000000\", \"metadata\": {}}]}"

/* A revert of vdb up to the revert: plan() (the snapshot is the latest and
 * usable, the volume is this domain's), VOL_OLD detached. Nothing is made
 * in prepare(): a reverted volume needs no new one. */
static void
expect_revert_until_revert(cinder_http *h)
{
    fake_http_expect_body(h, "GET", "/snapshots/detail", 200, SNAPSHOTS_LATEST);
    fake_http_expect(h, "GET", "/snapshots/" SNAP_ID, 200,
                     "restore_snapshot_available.json");
    fake_http_expect(h, "GET", "/volumes/" VOL_OLD, 200,
                     "restore_vol_old_in_use.json");
    expect_detach_old(h);
}

/* Step 'revert the Cinder volumes', the revert refused: restore falls back
 * to a new volume from the snapshot, and Cinder cannot make that either.
 * Nothing was reverted, so all is undone: vda back, VOL_OLD attached to
 * the domain again, no volume left behind. */
static void
restore_whose_revert_and_its_fallback_fail_puts_the_old_volume_back(
    void **state)
{
    fixture *fx = *state;
    ops_restore_opts o = {OPS_RESTORE_START_AS_BEFORE, 1000};
    ops_restore_result res;
    snap_error err = {0};
    char want[512];
    long revert, create, attach_old;

    expect_revert_until_revert(fx->h);
    fake_http_expect_body(fx->h, "POST", "/volumes/" VOL_OLD "/action", 400,
                          "{\"badRequest\": {\"code\": 400, \"message\": "
                          "\"revert refused\"}}");
    fake_http_expect(fx->h, "POST", "/volumes", 500, "error_server.json");
    expect_attach_old(fx->h);

    assert_false(ops_restore(&fx->ctx, fx->set, &o, &res, &err));
    snprintf(want, sizeof(want),
             "restore of set %s failed at step 'revert the Cinder volumes' "
             "and was undone: cannot create volume",
             fx->set);
    assert_memory_equal(err.msg, want, strlen(want));
    assert_null(strstr(err.msg, "except the Cinder reverts"));
    assert_int_equal(fake_domain_calls("define"), 0);
    assert_int_equal(fake_domain_calls("start"), 1);
    assert_as_before(fx);

    fake_http_verify(fx->h);
    revert = find_request(fx->h, "POST", "/volumes/" VOL_OLD "/action",
                          "\"revert\"", 0);
    assert_true(revert >= 0);
    assert_non_null(strstr(fake_http_request(fx->h, (size_t)revert)->body,
                           "\"snapshot_id\":\"" SNAP_ID "\""));
    create = find_request(fx->h, "POST", "/volumes",
                          "\"snapshot_id\":\"" SNAP_ID "\"", revert + 1);
    assert_true(create > revert);
    attach_old = find_request(fx->h, "POST", "/volumes/" VOL_OLD "/action",
                              "\"os-attach\"", 0);
    assert_true(attach_old > create);
    assert_int_equal(fake_http_count_matching(fx->h, "DELETE", "/volumes/"), 0);
    ops_restore_result_release(&res);
}

/* Step 'revert the Cinder volumes', the revert done and VOL_OLD not
 * attachable again: a revert cannot be undone (restore.c says so), so
 * the error says the restore was undone except the revert; vda goes back
 * and VOL_OLD, reverted, is attached to the domain again. */
static void
restore_whose_reverted_volume_cannot_be_attached_says_the_revert_stays(
    void **state)
{
    fixture *fx = *state;
    ops_restore_opts o = {OPS_RESTORE_START_AS_BEFORE, 1000};
    ops_restore_result res;
    snap_error err = {0};
    char want[512];
    long revert, reserve, attach_old;

    expect_revert_until_revert(fx->h);
    fake_http_expect(fx->h, "POST", "/volumes/" VOL_OLD "/action", 202, NULL);
    fake_http_expect(fx->h, "GET", "/volumes/" VOL_OLD, 200,
                     "restore_vol_old_available.json");
    fake_http_expect(fx->h, "POST", "/volumes/" VOL_OLD "/action", 500,
                     "error_server.json");
    expect_attach_old(fx->h);

    assert_false(ops_restore(&fx->ctx, fx->set, &o, &res, &err));
    snprintf(want, sizeof(want),
             "restore of set %s failed at step 'revert the Cinder volumes' "
             "and was undone (except the Cinder reverts, see above): cannot "
             "os-reserve volume '" VOL_OLD
             "': HTTP 500: The server has either erred",
             fx->set);
    assert_memory_equal(err.msg, want, strlen(want));
    assert_int_equal(fake_domain_calls("define"), 0);
    assert_int_equal(fake_domain_calls("start"), 1);
    assert_as_before(fx);

    fake_http_verify(fx->h);
    revert = find_request(fx->h, "POST", "/volumes/" VOL_OLD "/action",
                          "\"revert\"", 0);
    reserve = find_request(fx->h, "POST", "/volumes/" VOL_OLD "/action",
                           "\"os-reserve\"", revert);
    assert_true(revert >= 0 && reserve > revert);
    attach_old = find_request(fx->h, "POST", "/volumes/" VOL_OLD "/action",
                              "\"os-attach\"", 0);
    assert_true(attach_old > reserve);
    /* No new volume was made, none deleted. */
    assert_true(find_request(fx->h, "POST", "/volumes", "\"volume\"", 0) < 0);
    assert_int_equal(fake_http_count_matching(fx->h, "DELETE", "/volumes/"), 0);
    ops_restore_result_release(&res);
}

/* Step 'start the domain' after a revert: every disk is at the set's
 * point and the revert cannot be undone, so restore keeps it all rather
 * than mix two times (restore.c): vda stays the set's, VOL_OLD reverted
 * and attached, the domain off, and the error says so. */
static void
restore_with_a_reverted_volume_whose_start_fails_keeps_the_restore(void **state)
{
    fixture *fx = *state;
    ops_restore_opts o = {OPS_RESTORE_START_AS_BEFORE, 1000};
    ops_restore_result res;
    snap_error err = {0};
    char want[512], names[512], img[128];

    expect_revert_until_revert(fx->h);
    fake_http_expect(fx->h, "POST", "/volumes/" VOL_OLD "/action", 202, NULL);
    fake_http_expect(fx->h, "GET", "/volumes/" VOL_OLD, 200,
                     "restore_vol_old_available.json");
    expect_attach_old(fx->h);

    fake_domain_fail("start", 1);
    assert_false(ops_restore(&fx->ctx, fx->set, &o, &res, &err));
    snprintf(want, sizeof(want),
             "set %s restored, but the domain did not start: cannot start "
             "the domain: fake: start refused",
             fx->set);
    assert_string_equal(err.msg, want);
    assert_int_equal(fake_domain_calls("start"), 1); /* no second try */
    assert_int_equal(fake_domain_state(DOM_UUID), OPS_DOMAIN_STATE_OFF);
    assert_string_equal(fake_domain_xml(DOM_UUID), fx->xml);
    assert_true(has_pattern(fx->disk, 'S'));
    snprintf(img, sizeof(img), "%s/img", fx->root);
    list_dir(img, names, sizeof(names));
    assert_string_equal(names, "vda.raw"); /* the old image went */
    assert_int_equal(res.nlines, 2);
    assert_string_equal(res.lines[1], "vdb: Cinder volume " VOL_OLD
                                      " reverted to snapshot " SNAP_ID);
    fake_http_verify(fx->h);
    assert_int_equal(
        fake_http_count_matching(fx->h, "POST", "/volumes/" VOL_OLD "/action"),
        6); /* terminate, os-detach, revert, reserve, connect, os-attach */
    ops_restore_result_release(&res);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(
            restore_puts_the_disk_back_and_starts_the_domain_again, setup,
            teardown),
        cmocka_unit_test_setup_teardown(
            restore_whose_start_fails_puts_everything_back, setup, teardown),
        cmocka_unit_test_setup_teardown(
            restore_whose_image_write_fails_touches_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(
            restore_that_cannot_stop_the_domain_leaves_it_running, setup,
            teardown),
        cmocka_unit_test_setup_teardown(
            restore_whose_ram_state_load_fails_boots_nothing_and_puts_back,
            setup, teardown),
        cmocka_unit_test_setup_teardown(
            restore_of_a_transient_domain_is_refused_before_anything, setup,
            teardown),
        cmocka_unit_test_setup_teardown(
            restore_swaps_in_a_new_volume_and_keeps_the_old_one, setup_cinder,
            teardown),
        cmocka_unit_test_setup_teardown(
            restore_whose_swapped_volume_cannot_be_defined_puts_the_old_one_back,
            setup_cinder, teardown),
        cmocka_unit_test_setup_teardown(
            restore_whose_block_device_write_fails_puts_the_file_disk_back,
            setup, teardown),
        cmocka_unit_test_setup_teardown(
            restore_whose_old_image_name_is_taken_meanwhile_replaces_nothing,
            setup, teardown),
        cmocka_unit_test_setup_teardown(
            restore_whose_start_fails_writes_the_block_device_back, setup,
            teardown),
        cmocka_unit_test_setup_teardown(
            restore_whose_managed_save_cannot_be_discarded_puts_the_disk_back,
            setup, teardown),
        cmocka_unit_test_setup_teardown(
            restore_discards_the_managed_save_image_of_the_old_disks, setup,
            teardown),
        cmocka_unit_test_setup_teardown(
            restore_whose_new_volume_cannot_be_made_touches_nothing,
            setup_cinder, teardown),
        cmocka_unit_test_setup_teardown(
            restore_whose_old_volume_cannot_be_detached_deletes_the_new_one,
            setup_cinder, teardown),
        cmocka_unit_test_setup_teardown(
            restore_whose_new_volume_cannot_be_attached_puts_the_old_one_back,
            setup_cinder, teardown),
        cmocka_unit_test_setup_teardown(
            restore_whose_revert_and_its_fallback_fail_puts_the_old_volume_back,
            setup_cinder_revert, teardown),
        cmocka_unit_test_setup_teardown(
            restore_whose_reverted_volume_cannot_be_attached_says_the_revert_stays,
            setup_cinder_revert, teardown),
        cmocka_unit_test_setup_teardown(
            restore_with_a_reverted_volume_whose_start_fails_keeps_the_restore,
            setup_cinder_revert, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
