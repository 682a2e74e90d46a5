/* tests/unit/test_ops_spawn.c -- spawn's failure paths over a fake domain
 * (tests/fakes/fake_domain.c) and real files: a name in use or a set that
 * cannot be spawned is refused before anything is made; a spawn that
 * fails later removes what it made (the clone's overlays, its definition);
 * the first error is the one reported. A second fixture adds a Cinder
 * volume behind a scripted Cinder (tests/fakes/fake_http.c): the volumes a
 * failed spawn made are detached and deleted. */
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
#include "coordinator/ops/spawn.h"
#include "coordinator/ops/template.h"
#include "fakes/fake_domain.h"
#include "fakes/fake_http.h"

#define DOM_UUID "6f1c2a4e-0d55-4c1b-9a65-3f0e7c9b2d11"
/* The Cinder fixture: the original's disk vdb is volume VOL_OLD, the set
 * holds its snapshot SNAP_ID, and spawn makes VOL_NEW from it (the ids of
 * tests/data/cinder/restore_*.json). */
#define VOL_OLD "b0b0b0b0-0000-4000-8000-000000000001"
#define VOL_NEW "b0b0b0b0-0000-4000-8000-000000000002"
#define SNAP_ID "5b5b5b5b-0000-4000-8000-000000000001"

typedef struct fixture {
    char root[64];
    char img[80]; /* the original's image directory */
    char *xml;    /* the original's definition, also the set's */
    char set[SNAP_UUID_LEN];
    char set_dir[256];
    ops_ctx ctx;
    cinder_http *h; /* the scripted Cinder, or NULL */
} fixture;

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

static void
make_xml(fixture *fx, const char *iface)
{
    size_t n = strlen(fx->img) + strlen(iface) + 1024;

    free(fx->xml);
    fx->xml = malloc(n);
    assert_non_null(fx->xml);
    snprintf(fx->xml, n,
             "<domain type='kvm'><name>web</name><uuid>" DOM_UUID "</uuid>"
             "<memory unit='KiB'>65536</memory><vcpu>1</vcpu>"
             "<os><type arch='x86_64'>hvm</type></os><devices>"
             "<disk type='file' device='disk'><driver name='qemu' "
             "type='qcow2'/><source file='%s/vda.qcow2'/><target dev='vda' "
             "bus='virtio'/></disk>%s</devices></domain>",
             fx->img, iface);
}

/* The set's domain.xml, as create keeps it. */
static void
write_set_xml(fixture *fx)
{
    char path[300];

    snprintf(path, sizeof(path), "%s/domain.xml", fx->set_dir);
    assert_true(
        snap_file_write_atomic(path, fx->xml, strlen(fx->xml), 0600, NULL));
}

static int
setup(void **state)
{
    fixture *fx = calloc(1, sizeof(*fx));
    char cat[80], copy[160], cmd[512];
    coord_set *set;
    coord_member *m;
    char *dir;

    assert_non_null(fx);
    snprintf(fx->root, sizeof(fx->root), "/tmp/test_ops_spawn.XXXXXX");
    assert_non_null(mkdtemp(fx->root));
    snprintf(cat, sizeof(cat), "%s/cat", fx->root);
    snprintf(fx->img, sizeof(fx->img), "%s/img", fx->root);
    assert_true(snap_dir_make(cat, 0700, NULL));
    assert_true(snap_dir_make(fx->img, 0755, NULL));
    snprintf(copy, sizeof(copy), "%s/copy-vda.qcow2", fx->root);
    snprintf(cmd, sizeof(cmd), "qemu-img create -q -f qcow2 %s 1M", copy);
    assert_int_equal(system(cmd), 0);
    make_xml(fx, "");

    assert_true(coord_conf_init(&fx->ctx.conf, NULL));
    assert_true(coord_str_set(&fx->ctx.conf.catalog_dir, cat, NULL));
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
    dir = coord_catalog_set_dir(fx->ctx.catalog, set->uuid, NULL);
    assert_non_null(dir);
    set->dir = dir;
    snprintf(fx->set_dir, sizeof(fx->set_dir), "%s", dir);
    snprintf(cmd, sizeof(cmd), "mkdir -p '%s'", dir);
    assert_int_equal(system(cmd), 0);
    m = coord_set_add_member(set, NULL);
    assert_non_null(m);
    m->kind = COORD_MEMBER_LOCAL;
    m->state = COORD_MEMBER_AVAILABLE;
    assert_true(coord_str_set(&m->target, "vda", NULL));
    assert_true(coord_str_set(&m->source_type, "file", NULL));
    snprintf(cmd, sizeof(cmd), "%s/vda.qcow2", fx->img);
    assert_true(coord_str_set(&m->source, cmd, NULL));
    assert_true(coord_str_set(&m->format, "qcow2", NULL));
    assert_true(coord_str_set(&m->location, copy, NULL));
    assert_true(coord_str_set(&m->copy_format, "qcow2", NULL));
    assert_true(coord_catalog_save(fx->ctx.catalog, set, NULL));
    memcpy(fx->set, set->uuid, SNAP_UUID_LEN);
    coord_set_free(set);
    write_set_xml(fx);

    fake_domain_reset();
    fake_domain_add(DOM_UUID, "web", fx->xml, OPS_DOMAIN_STATE_RUNNING);
    *state = fx;
    return 0;
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

/* ctx->os over the scripted Cinder, as ops_openstack() would open it:
 * Keystone, then the version document. */
static void
open_cinder(fixture *fx)
{
    cinder_client_opts co;

    memset(&co, 0, sizeof(co));
    co.max_microversion = CINDER_MV(3, 39);
    fx->h = fake_http_new();
    fx->ctx.os.cinder = fake_http_cinder(fx->h, "cinder_versions.json", &co,
                                         &fx->ctx.os.session);
    fx->ctx.os.delete_timeout_ms = 30000;
    strcpy(fx->ctx.os.group_mode, "auto");
    fx->ctx.os_open = true; /* ops_ctx_release() closes it */
}

/* The original with a second disk besides vda, vdb, and its member in the
 * set: with @cinder the rbd volume VOL_OLD (the set holds its snapshot
 * SNAP_ID), else a local qcow2 file whose copy in the set is no image at
 * all (qemu-img cannot make an overlay of it). */
static void
add_disk(fixture *fx, bool cinder)
{
    char disk[512], path[160], cmd[400];
    coord_set *set;
    coord_member *m;

    snprintf(path, sizeof(path), "%s/copy-vdb.qcow2", fx->root);
    if (cinder) {
        snprintf(
            disk, sizeof(disk), "%s",
            "<disk type='network' device='disk'><driver name='qemu' "
            "type='raw'/><source protocol='rbd' name='volumes/volume-" VOL_OLD
            "'><host name='10.0.0.1' port='6789'/></source><target "
            "dev='vdb' bus='virtio'/><serial>" VOL_OLD "</serial></disk>");
    } else {
        snprintf(disk, sizeof(disk),
                 "<disk type='file' device='disk'><driver name='qemu' "
                 "type='qcow2'/><source file='%s/vdb.qcow2'/><target "
                 "dev='vdb' bus='virtio'/></disk>",
                 fx->img);
        snprintf(cmd, sizeof(cmd), "echo garbage >'%s'", path);
        assert_int_equal(system(cmd), 0);
    }
    make_xml(fx, disk);
    write_set_xml(fx);
    fake_domain_reset();
    fake_domain_add(DOM_UUID, "web", fx->xml, OPS_DOMAIN_STATE_RUNNING);

    set = coord_catalog_load(fx->ctx.catalog, fx->set, NULL);
    assert_non_null(set);
    m = coord_set_add_member(set, NULL);
    assert_non_null(m);
    m->state = COORD_MEMBER_AVAILABLE;
    assert_true(coord_str_set(&m->target, "vdb", NULL));
    if (cinder) {
        m->kind = COORD_MEMBER_CINDER;
        assert_true(coord_str_set(&m->serial, VOL_OLD, NULL));
        assert_true(coord_str_set(&m->source_type, "network", NULL));
        assert_true(coord_str_set(&m->source, "volumes/volume-" VOL_OLD, NULL));
        assert_true(coord_str_set(&m->format, "raw", NULL));
        assert_true(coord_str_set(&m->volume_id, VOL_OLD, NULL));
        assert_true(coord_str_set(&m->location, SNAP_ID, NULL));
    } else {
        m->kind = COORD_MEMBER_LOCAL;
        assert_true(coord_str_set(&m->source_type, "file", NULL));
        snprintf(cmd, sizeof(cmd), "%s/vdb.qcow2", fx->img);
        assert_true(coord_str_set(&m->source, cmd, NULL));
        assert_true(coord_str_set(&m->format, "qcow2", NULL));
        assert_true(coord_str_set(&m->location, path, NULL));
        assert_true(coord_str_set(&m->copy_format, "qcow2", NULL));
    }
    assert_true(coord_catalog_save(fx->ctx.catalog, set, NULL));
    coord_set_free(set);
}

/* The original with local disk vda and Cinder volume vdb. */
static int
setup_cinder(void **state)
{
    fixture *fx;

    setup(state);
    fx = *state;
    add_disk(fx, true);
    open_cinder(fx);
    return 0;
}

/* Nothing of the clone is left: no file beside the original's images, no
 * domain of that name; the original untouched. */
static void
assert_nothing_made(fixture *fx)
{
    char names[512];

    list_dir(fx->img, names, sizeof(names));
    assert_string_equal(names, "");
    assert_false(fake_domain_exists("clone"));
    assert_string_equal(fake_domain_xml(DOM_UUID), fx->xml);
}

static void
spawn_makes_an_overlay_and_starts_the_clone(void **state)
{
    fixture *fx = *state;
    ops_spawn_opts o;
    snap_error err = {0};
    char uuid[SNAP_UUID_LEN], names[512];

    ops_spawn_opts_init(&o);
    o.name = "clone";
    assert_true(ops_spawn(&fx->ctx, fx->set, &o, uuid, &err));
    assert_false(snap_error_isset(&err));
    assert_true(fake_domain_exists("clone"));
    assert_true(fake_domain_exists(uuid));
    assert_int_equal(fake_domain_state("clone"), OPS_DOMAIN_STATE_RUNNING);
    list_dir(fx->img, names, sizeof(names));
    assert_string_equal(names, "clone-vda.qcow2");
}

static void
spawn_whose_define_fails_removes_the_overlays(void **state)
{
    fixture *fx = *state;
    ops_spawn_opts o;
    snap_error err = {0};
    char uuid[SNAP_UUID_LEN];

    ops_spawn_opts_init(&o);
    o.name = "clone";
    fake_domain_fail("define", 1);
    assert_false(ops_spawn(&fx->ctx, fx->set, &o, uuid, &err));
    assert_string_equal(err.msg,
                        "spawn of 'clone' failed at step 'define the domain' "
                        "(everything it made was removed): libvirt refused "
                        "the definition: fake: define refused");
    assert_int_equal(err.code, SNAP_E_VIRT);
    assert_int_equal(fake_domain_calls("undefine"), 0); /* never defined */
    assert_nothing_made(fx);
}

static void
spawn_whose_start_fails_removes_the_domain_and_overlays(void **state)
{
    fixture *fx = *state;
    ops_spawn_opts o;
    snap_error err = {0};
    char uuid[SNAP_UUID_LEN];

    ops_spawn_opts_init(&o);
    o.name = "clone";
    fake_domain_fail("start", 1);
    assert_false(ops_spawn(&fx->ctx, fx->set, &o, uuid, &err));
    assert_string_equal(err.msg,
                        "spawn of 'clone' failed at step 'start the domain' "
                        "(everything it made was removed): cannot start it: "
                        "fake: start refused");
    assert_int_equal(fake_domain_calls("undefine"), 1);
    assert_nothing_made(fx);
}

static void
spawn_with_a_name_in_use_is_refused_before_anything_is_made(void **state)
{
    fixture *fx = *state;
    ops_spawn_opts o;
    snap_error err = {0};

    ops_spawn_opts_init(&o);
    o.name = "web";
    assert_false(ops_spawn(&fx->ctx, fx->set, &o, NULL, &err));
    assert_string_equal(err.msg, "cannot spawn 'web': a domain named 'web' "
                                 "exists already");
    assert_int_equal(err.code, SNAP_E_STATE);
    assert_int_equal(fake_domain_calls("define"), 0);
    assert_int_equal(fake_domain_calls("host_size"), 0);
    assert_nothing_made(fx);
}

/* Issue 13: validation cleared the error it was given to set its own. The
 * message says what to do; the first error recorded stays first. */
static void
spawn_of_a_set_without_domain_xml_says_so_and_keeps_the_first_error(
    void **state)
{
    fixture *fx = *state;
    ops_spawn_opts o;
    snap_error err = {0};
    char path[300], want[512];

    snprintf(path, sizeof(path), "%s/domain.xml", fx->set_dir);
    assert_int_equal(unlink(path), 0);
    ops_spawn_opts_init(&o);
    o.name = "clone";
    assert_false(ops_spawn(&fx->ctx, fx->set, &o, NULL, &err));
    snprintf(want, sizeof(want),
             "cannot spawn 'clone': set %s has no domain XML ('%s'): it was "
             "made before snapset kept one, so it cannot be spawned",
             fx->set, path);
    assert_string_equal(err.msg, want);
    assert_int_equal(err.code, SNAP_E_STATE);
    assert_nothing_made(fx);

    /* An error the caller already holds is never replaced. */
    snap_error_clear(&err);
    snap_error_set(&err, SNAP_E_BUSY, "the first error");
    assert_false(ops_spawn(&fx->ctx, fx->set, &o, NULL, &err));
    assert_string_equal(err.msg, "the first error");
    assert_int_equal(err.code, SNAP_E_BUSY);
}

static void
spawn_whose_network_is_missing_names_it_and_makes_nothing(void **state)
{
    fixture *fx = *state;
    ops_spawn_opts o;
    snap_error err = {0};

    make_xml(fx, "<interface type='network'><source network='lan0'/>"
                 "<model type='virtio'/></interface>");
    write_set_xml(fx);
    ops_spawn_opts_init(&o);
    o.name = "clone";
    fake_domain_fail("network_check", 1);
    assert_false(ops_spawn(&fx->ctx, fx->set, &o, NULL, &err));
    assert_string_equal(err.msg,
                        "cannot spawn 'clone': the original's network 'lan0' "
                        "is missing or inactive: choose one with --network");
    assert_int_equal(err.code, SNAP_E_STATE);
    list_dir(fx->img, err.msg, sizeof(err.msg));
    assert_string_equal(err.msg, "");
    assert_false(fake_domain_exists("clone"));
}

/* ops_ctx.progress of the tests: "33 66 100". */
static void
record_progress(void *cls, int percent)
{
    char *out = cls;

    snprintf(out + strlen(out), 64 - strlen(out), "%s%d", out[0] ? " " : "",
             percent);
}

/* count > 1: N VMs "clone-1" ... "clone-N", each with its own overlay;
 * the progress says each VM made. */
static void
spawn_of_three_makes_three_named_vms(void **state)
{
    fixture *fx = *state;
    ops_spawn_opts o;
    ops_spawned s;
    snap_error err = {0};
    char names[512], progress[64] = "";

    ops_spawn_opts_init(&o);
    o.name = "clone";
    o.count = 3;
    fx->ctx.progress = record_progress;
    fx->ctx.progress_cls = progress;
    assert_true(ops_spawn_many(&fx->ctx, fx->set, &o, &s, &err));
    assert_string_equal(progress, "33 66 100");
    fx->ctx.progress = NULL;
    assert_int_equal(s.n, 3);
    assert_string_equal(s.names[0], "clone-1");
    assert_string_equal(s.names[2], "clone-3");
    assert_true(fake_domain_exists(s.uuids[1]));
    assert_int_equal(fake_domain_state("clone-2"), OPS_DOMAIN_STATE_RUNNING);
    assert_false(fake_domain_exists("clone"));
    list_dir(fx->img, names, sizeof(names));
    assert_non_null(strstr(names, "clone-1-vda.qcow2"));
    assert_non_null(strstr(names, "clone-3-vda.qcow2"));
    assert_int_equal(fake_domain_calls("define"), 3);
    ops_spawned_release(&s);
}

/* All or nothing: the third VM's start fails, the three are gone. */
static void
spawn_of_three_whose_third_fails_leaves_none(void **state)
{
    fixture *fx = *state;
    ops_spawn_opts o;
    ops_spawned s;
    snap_error err = {0};
    char names[512];

    ops_spawn_opts_init(&o);
    o.name = "clone";
    o.count = 3;
    fake_domain_fail("start", 3);
    assert_false(ops_spawn_many(&fx->ctx, fx->set, &o, &s, &err));
    assert_string_equal(err.msg,
                        "spawn of 'clone-3' (3 of 3) failed at step 'start "
                        "the domain' (everything the job made, 2 VMs before "
                        "it included, was removed): cannot start it: fake: "
                        "start refused");
    assert_int_equal(s.n, 0);
    assert_int_equal(fake_domain_calls("define"), 3);
    assert_int_equal(fake_domain_calls("undefine"), 3);
    assert_int_equal(fake_domain_calls("destroy"), 2); /* the two running */
    assert_false(fake_domain_exists("clone-1"));
    assert_false(fake_domain_exists("clone-2"));
    assert_false(fake_domain_exists("clone-3"));
    list_dir(fx->img, names, sizeof(names));
    assert_string_equal(names, "");
}

/* Every VM is checked before the first is made: a name in use, or the
 * memory of all of them together, refuses the job at once. */
static void
spawn_of_three_is_validated_as_a_whole(void **state)
{
    fixture *fx = *state;
    ops_spawn_opts o;
    ops_spawned s;
    snap_error err = {0};

    ops_spawn_opts_init(&o);
    o.name = "clone";
    o.count = 3;
    fake_domain_add("0b7e4c1a-1111-4c1b-9a65-3f0e7c9b2d11", "clone-3", "<x/>",
                    OPS_DOMAIN_STATE_OFF);
    assert_false(ops_spawn_many(&fx->ctx, fx->set, &o, &s, &err));
    assert_string_equal(err.msg, "cannot spawn 'clone-3': a domain named "
                                 "'clone-3' exists already");
    assert_int_equal(fake_domain_calls("define"), 0);

    /* 3 x 100 GiB on a host of 256 GiB; 2 of them would fit. */
    snap_error_clear(&err);
    o.name = "big";
    o.memory_mib = 100 * 1024;
    assert_false(ops_spawn_many(&fx->ctx, fx->set, &o, &s, &err));
    assert_string_equal(err.msg, "cannot spawn 'big-1': 3 VMs of 102400 MiB "
                                 "of memory asked for, but the host has "
                                 "262144 MiB");
    assert_int_equal(fake_domain_calls("define"), 0);
    o.count = 2;
    assert_true(ops_spawn_many(&fx->ctx, fx->set, &o, &s, &err));
    assert_int_equal(s.n, 2);
    ops_spawned_release(&s);

    snap_error_clear(&err);
    o.count = OPS_SPAWN_MAX_COUNT + 1;
    assert_false(ops_spawn_many(&fx->ctx, fx->set, &o, &s, &err));
    assert_int_equal(err.code, SNAP_E_INVALID);
}

/* qemu-img's backing file of @path, or "" (into @out). */
static void
backing_of(const char *path, char *out, size_t size)
{
    char cmd[512];
    FILE *p;

    snprintf(cmd, sizeof(cmd),
             "qemu-img info -U --output=json '%s' | sed -n "
             "'s/.*\"full-backing-filename\": \"\\([^\"]*\\)\".*/\\1/p'",
             path);
    p = popen(cmd, "r");
    assert_non_null(p);
    out[0] = '\0';
    if (fgets(out, (int)size, p))
        out[strcspn(out, "\n")] = '\0';
    pclose(p);
}

/* A template is a full copy; spawns from it are linked clones of its copy,
 * not of the set's; the set is free to go while they live; the template is
 * not, and says who holds it. */
static void
template_spawns_linked_clones_and_outlives_its_set(void **state)
{
    fixture *fx = *state;
    ops_spawn_opts o;
    ops_spawned s;
    snap_error err = {0};
    char tid[SNAP_UUID_LEN], path[512], back[512];
    coord_set **ts = NULL, *set;
    size_t n = 0;

    assert_true(ops_template_create(&fx->ctx, fx->set, "golden", tid, &err));
    assert_true(ops_template_list(&fx->ctx, &ts, &n, &err));
    assert_int_equal(n, 1);
    assert_string_equal(ts[0]->uuid, tid);
    assert_string_equal(ts[0]->name, "golden");
    assert_int_equal(ts[0]->state, COORD_SET_AVAILABLE);
    assert_string_equal(coord_set_metadata(ts[0], OPS_TEMPLATE_KEY_SET),
                        fx->set);
    snprintf(path, sizeof(path), "%s", ts[0]->members[0].location);
    coord_catalog_list_free(ts, n);
    backing_of(path, back, sizeof(back));
    assert_string_equal(back, ""); /* independent of the set's copy */

    ops_spawn_opts_init(&o);
    o.name = "fromtpl";
    o.count = 2;
    o.template_id = tid;
    assert_true(ops_spawn_many(&fx->ctx, NULL, &o, &s, &err));
    assert_int_equal(s.n, 2);
    assert_non_null(strstr(fake_domain_xml("fromtpl-1"), tid));
    assert_non_null(strstr(fake_domain_xml("fromtpl-1"), fx->set));
    ops_spawned_release(&s);
    snprintf(back, sizeof(back), "%s/fromtpl-2-vda.qcow2", fx->img);
    {
        char b2[512];

        backing_of(back, b2, sizeof(b2));
        assert_string_equal(b2, path);
    }
    /* The set is not in use: its clones are the template's. */
    set = coord_catalog_load(fx->ctx.catalog, fx->set, &err);
    assert_non_null(set);
    assert_false(ops_set_in_use(&fx->ctx, set, NULL, &err));
    coord_set_free(set);
    /* The template is, and the error names the domain. */
    assert_false(ops_template_delete(&fx->ctx, tid, &err));
    assert_int_equal(err.code, SNAP_E_STATE);
    assert_non_null(strstr(err.msg, "is in use by domain 'fromtpl-"));
    assert_true(snap_path_exists(path));
    /* Once they are gone, it goes, copies and record. */
    assert_true(fake_domain_ops.undefine(&fx->ctx, "fromtpl-1", NULL));
    assert_true(fake_domain_ops.undefine(&fx->ctx, "fromtpl-2", NULL));
    snap_error_clear(&err);
    assert_true(ops_template_delete(&fx->ctx, tid, &err));
    assert_false(snap_path_exists(path));
    assert_true(ops_template_list(&fx->ctx, &ts, &n, &err));
    assert_int_equal(n, 0);
    coord_catalog_list_free(ts, n);
    snap_error_clear(&err);
    assert_false(ops_template_delete(&fx->ctx, tid, &err));
    assert_int_equal(err.code, SNAP_E_NOTFOUND);
}

/* A copy that cannot be made leaves no template, no file, no record. */
static void
template_whose_copy_fails_leaves_nothing(void **state)
{
    fixture *fx = *state;
    snap_error err = {0};
    char tid[SNAP_UUID_LEN], dir[300], names[512], cmd[400];
    coord_set **ts = NULL;
    size_t n = 0;

    /* not a qcow2 image any more: qemu-img cannot read it */
    snprintf(cmd, sizeof(cmd), "echo garbage >'%s/copy-vda.qcow2'", fx->root);
    assert_int_equal(system(cmd), 0);
    assert_false(ops_template_create(&fx->ctx, fx->set, NULL, tid, &err));
    assert_non_null(strstr(err.msg, "cannot make the template's copy of disk "
                                    "'vda' (everything made was removed)"));
    assert_true(ops_template_list(&fx->ctx, &ts, &n, &err));
    assert_int_equal(n, 0);
    coord_catalog_list_free(ts, n);
    snprintf(dir, sizeof(dir), "%s/cat/templates/sets", fx->root);
    list_dir(dir, names, sizeof(names));
    assert_string_equal(names, "");
    /* a spawn from a template that is not there says so */
    {
        ops_spawn_opts o;
        ops_spawned s;

        ops_spawn_opts_init(&o);
        o.name = "x";
        o.template_id = "12345678";
        snap_error_clear(&err);
        assert_false(ops_spawn_many(&fx->ctx, NULL, &o, &s, &err));
        assert_string_equal(err.msg, "no template '12345678'");
    }
}

/* keep_failed: the VM that failed once defined stays, shut off, marked
 * state="error" with the reason; the ones before it still go. */
static void
spawn_keep_failed_keeps_the_failed_vm_marked(void **state)
{
    fixture *fx = *state;
    ops_spawn_opts o;
    ops_spawned s;
    snap_error err = {0};
    char names[512];
    const char *xml;

    ops_spawn_opts_init(&o);
    o.name = "clone";
    o.count = 2;
    o.keep_failed = true;
    fake_domain_fail("start", 2);
    assert_false(ops_spawn_many(&fx->ctx, fx->set, &o, &s, &err));
    assert_non_null(strstr(err.msg, "spawn of 'clone-2' (2 of 2) failed at "
                                    "step 'start the domain'"));
    assert_non_null(strstr(err.msg, "(kept for inspection: shut off, marked "
                                    "state=\"error\" in its snapset "
                                    "metadata; the 1 VMs before it were "
                                    "removed)"));
    assert_false(fake_domain_exists("clone-1"));
    assert_true(fake_domain_exists("clone-2"));
    assert_int_equal(fake_domain_state("clone-2"), OPS_DOMAIN_STATE_OFF);
    xml = fake_domain_xml("clone-2");
    assert_non_null(strstr(xml, "state=\"error\""));
    assert_non_null(strstr(xml, "start refused"));
    list_dir(fx->img, names, sizeof(names));
    assert_string_equal(names, "clone-2-vda.qcow2");

    /* before the definition there is nothing to keep: all goes */
    snap_error_clear(&err);
    o.name = "early";
    o.count = 1;
    fake_domain_fail("define", 1);
    assert_false(ops_spawn_many(&fx->ctx, fx->set, &o, &s, &err));
    assert_non_null(strstr(err.msg, "everything it made was removed"));
    assert_false(fake_domain_exists("early"));
}

/* The index of the first request whose method is @method, URL contains
 * @url_part and body contains @body_part (NULL: any), or -1. */
static long
find_request(cinder_http *h, const char *method, const char *url_part,
             const char *body_part)
{
    size_t i;

    for (i = 0; i < fake_http_count(h); i++) {
        const fake_http_record *r = fake_http_request(h, i);

        if (strcmp(r->method, method) == 0 && strstr(r->url, url_part) &&
            (!body_part || strstr(r->body, body_part)))
            return (long)i;
    }
    return -1;
}

/* Step 'create the disk images': vda's overlay is made, vdb's cannot be
 * (its copy in the set is no image). Both files go, vdb's partly made one
 * too; nothing is defined. */
static void
spawn_whose_second_overlay_fails_removes_the_first(void **state)
{
    fixture *fx = *state;
    ops_spawn_opts o;
    snap_error err = {0};
    char want[512];

    add_disk(fx, false);
    ops_spawn_opts_init(&o);
    o.name = "clone";
    assert_false(ops_spawn(&fx->ctx, fx->set, &o, NULL, &err));
    snprintf(want, sizeof(want),
             "spawn of 'clone' failed at step 'create the disk images' "
             "(everything it made was removed): cannot create overlay "
             "'%s/clone-vdb.qcow2'",
             fx->img);
    assert_memory_equal(err.msg, want, strlen(want));
    assert_int_equal(fake_domain_calls("define"), 0);
    assert_int_equal(fake_domain_calls("undefine"), 0);
    assert_nothing_made(fx);
}

/* What Cinder answers for vdb up to its new volume: the snapshot is
 * usable (spawn_validate), VOL_NEW is made from it (one poll "creating"). */
static void
expect_volume_made(cinder_http *h)
{
    fake_http_expect(h, "GET", "/snapshots/" SNAP_ID, 200,
                     "restore_snapshot_available.json");
    fake_http_expect(h, "POST", "/volumes", 202,
                     "restore_vol_new_creating.json");
    fake_http_expect(h, "GET", "/volumes/" VOL_NEW, 200,
                     "restore_vol_new_creating.json");
    fake_http_expect(h, "GET", "/volumes/" VOL_NEW, 200,
                     "restore_vol_new_available.json");
}

/* VOL_NEW, not attached, deleted: one poll "deleting", then gone. */
static void
expect_volume_deleted(cinder_http *h)
{
    fake_http_expect(h, "DELETE", "/volumes/" VOL_NEW, 202, NULL);
    fake_http_expect(h, "GET", "/volumes/" VOL_NEW, 200,
                     "restore_vol_new_deleting.json");
    fake_http_expect(h, "GET", "/volumes/" VOL_NEW, 404,
                     "error_item_not_found.json");
}

/* Step 'create the volumes from the snapshots': Cinder makes VOL_NEW but
 * it ends in "error". That volume is deleted, vda's overlay goes, nothing
 * is attached or defined. */
static void
spawn_whose_volume_ends_in_error_deletes_it_and_the_overlay(void **state)
{
    fixture *fx = *state;
    ops_spawn_opts o;
    snap_error err = {0};

    fake_http_expect(fx->h, "GET", "/snapshots/" SNAP_ID, 200,
                     "restore_snapshot_available.json");
    fake_http_expect(fx->h, "POST", "/volumes", 202,
                     "restore_vol_new_creating.json");
    fake_http_expect_body(fx->h, "GET", "/volumes/" VOL_NEW, 200,
                          "{\"volume\": {\"id\": \"" VOL_NEW "\", \"status\": "
                          "\"error\", \"size\": 1, \"attachments\": []}}");
    expect_volume_deleted(fx->h);

    ops_spawn_opts_init(&o);
    o.name = "clone";
    assert_false(ops_spawn(&fx->ctx, fx->set, &o, NULL, &err));
    assert_string_equal(err.msg, "spawn of 'clone' failed at step 'create the "
                                 "volumes from the snapshots' (everything it "
                                 "made was removed): volume '" VOL_NEW
                                 "' failed: status 'error'");
    assert_int_equal(err.code, SNAP_E_STATE);
    assert_int_equal(fake_domain_calls("define"), 0);
    assert_nothing_made(fx);
    fake_http_verify(fx->h);
    assert_true(find_request(fx->h, "POST", "/volumes",
                             "\"snapshot_id\":\"" SNAP_ID "\"") >= 0);
    assert_int_equal(
        fake_http_count_matching(fx->h, "DELETE", "/volumes/" VOL_NEW), 1);
    assert_int_equal(fake_http_count_matching(fx->h, "POST", "/action"), 0);
}

/* Step 'attach the volumes': VOL_NEW is made and Cinder refuses to
 * reserve it for the clone. VOL_NEW is deleted (never attached: nothing
 * to detach), vda's overlay goes, nothing is defined. */
static void
spawn_whose_volume_cannot_be_attached_deletes_it_and_the_overlay(void **state)
{
    fixture *fx = *state;
    ops_spawn_opts o;
    snap_error err = {0};
    const char *want = "spawn of 'clone' failed at step 'attach the volumes' "
                       "(everything it made was removed): cannot os-reserve "
                       "volume '" VOL_NEW "': HTTP 500: ";

    expect_volume_made(fx->h);
    fake_http_expect(fx->h, "POST", "/volumes/" VOL_NEW "/action", 500,
                     "error_server.json");
    expect_volume_deleted(fx->h);

    ops_spawn_opts_init(&o);
    o.name = "clone";
    assert_false(ops_spawn(&fx->ctx, fx->set, &o, NULL, &err));
    assert_memory_equal(err.msg, want, strlen(want));
    assert_int_equal(err.code, SNAP_E_HTTP);
    assert_int_equal(fake_domain_calls("define"), 0);
    assert_nothing_made(fx);
    fake_http_verify(fx->h);
    assert_int_equal(
        fake_http_count_matching(fx->h, "POST", "/volumes/" VOL_NEW "/action"),
        1);
    assert_int_equal(
        fake_http_count_matching(fx->h, "DELETE", "/volumes/" VOL_NEW), 1);
    /* The original's volume is the snapshot's source only: untouched. */
    assert_int_equal(fake_http_count_matching(fx->h, "POST", VOL_OLD), 0);
    assert_int_equal(fake_http_count_matching(fx->h, "DELETE", VOL_OLD), 0);
}

/* Cinder's connection for VOL_NEW with cephx on, naming a libvirt secret. */
#define CONNECTION_CEPHX                                                       \
    "{\"connection_info\": {\"driver_volume_type\": \"rbd\", \"data\": "       \
    "{\"name\": \"volumes/volume-" VOL_NEW "\", \"hosts\": [\"10.0.0.1\"], "   \
    "\"ports\": [\"6789\"], \"auth_enabled\": true, \"auth_username\": "       \
    "\"cinder\", \"secret_type\": \"ceph\", \"secret_uuid\": "                 \
    "\"5ec5ec5e-0000-4000-8000-000000000001\"}}}"

/* When libvirt is asked for the secret, VOL_NEW is attached to the clone,
 * whose UUID only now is known (spawn made it up): Cinder's answers for
 * the rollback, which ends that attachment, name it. */
static void
script_detach_of_the_clones_volume(void *arg)
{
    fixture *fx = arg;
    const char *key = "\"instance_uuid\":\"";
    char uuid[SNAP_UUID_LEN], body[1024];
    const char *p;
    long at;

    at = find_request(fx->h, "POST", "/volumes/" VOL_NEW "/action",
                      "\"os-attach\"");
    assert_true(at >= 0);
    p = strstr(fake_http_request(fx->h, (size_t)at)->body, key);
    assert_non_null(p);
    snprintf(uuid, sizeof(uuid), "%.36s", p + strlen(key));
    snprintf(body, sizeof(body),
             "{\"volume\": {\"id\": \"" VOL_NEW "\", \"status\": \"in-use\", "
             "\"size\": 1, \"attachments\": [{\"id\": \"" VOL_NEW "\", "
             "\"attachment_id\": \"a77a77a7-0000-4000-8000-0000000000c1\", "
             "\"volume_id\": \"" VOL_NEW "\", \"server_id\": \"%s\", "
             "\"device\": \"/dev/vdb\"}]}}",
             uuid);
    fake_http_expect_body(fx->h, "GET", "/volumes/" VOL_NEW, 200, body);
    fake_http_expect(fx->h, "POST", "/volumes/" VOL_NEW "/action", 202, NULL);
    fake_http_expect(fx->h, "POST", "/volumes/" VOL_NEW "/action", 202, NULL);
    fake_http_expect(fx->h, "GET", "/volumes/" VOL_NEW, 200,
                     "restore_vol_new_available.json");
    expect_volume_deleted(fx->h);
}

/* Step 'attach the volumes', after Cinder attached VOL_NEW: libvirt has no
 * secret for the Ceph user Cinder's connection names. The attachment is
 * ended (os-detach of the clone's attachment), then VOL_NEW is deleted;
 * vda's overlay goes, nothing is defined. */
static void
spawn_without_the_ceph_secret_detaches_and_deletes_the_volume(void **state)
{
    fixture *fx = *state;
    ops_spawn_opts o;
    snap_error err = {0};
    long attach, detach, del;

    expect_volume_made(fx->h);
    fake_http_expect(fx->h, "POST", "/volumes/" VOL_NEW "/action", 202, NULL);
    fake_http_expect_body(fx->h, "POST", "/volumes/" VOL_NEW "/action", 200,
                          CONNECTION_CEPHX);
    fake_http_expect(fx->h, "POST", "/volumes/" VOL_NEW "/action", 202, NULL);
    fake_http_expect(fx->h, "GET", "/volumes/" VOL_NEW, 200,
                     "restore_vol_new_in_use.json");
    fake_domain_on("secret_exists", script_detach_of_the_clones_volume, fx);
    fake_domain_fail("secret_exists", 1);

    ops_spawn_opts_init(&o);
    o.name = "clone";
    assert_false(ops_spawn(&fx->ctx, fx->set, &o, NULL, &err));
    assert_string_equal(err.msg,
                        "spawn of 'clone' failed at step 'attach the volumes' "
                        "(everything it made was removed): libvirt has no "
                        "secret 5ec5ec5e-0000-4000-8000-000000000001 for Ceph "
                        "user 'cinder' (the one Cinder's connection names)");
    assert_int_equal(err.code, SNAP_E_STATE);
    assert_int_equal(fake_domain_calls("secret_exists"), 1);
    assert_int_equal(fake_domain_calls("define"), 0);
    assert_nothing_made(fx);
    fake_http_verify(fx->h);
    attach = find_request(fx->h, "POST", "/volumes/" VOL_NEW "/action",
                          "\"os-attach\"");
    detach = find_request(fx->h, "POST", "/volumes/" VOL_NEW "/action",
                          "\"os-detach\"");
    del = find_request(fx->h, "DELETE", "/volumes/" VOL_NEW, NULL);
    assert_true(attach >= 0 && detach > attach && del > detach);
    assert_non_null(strstr(fake_http_request(fx->h, (size_t)detach)->body,
                           "a77a77a7-0000-4000-8000-0000000000c1"));
    assert_int_equal(fake_http_count_matching(fx->h, "DELETE", "/volumes/"), 1);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(
            spawn_makes_an_overlay_and_starts_the_clone, setup, teardown),
        cmocka_unit_test_setup_teardown(
            spawn_whose_define_fails_removes_the_overlays, setup, teardown),
        cmocka_unit_test_setup_teardown(
            spawn_whose_start_fails_removes_the_domain_and_overlays, setup,
            teardown),
        cmocka_unit_test_setup_teardown(
            spawn_with_a_name_in_use_is_refused_before_anything_is_made, setup,
            teardown),
        cmocka_unit_test_setup_teardown(
            spawn_of_a_set_without_domain_xml_says_so_and_keeps_the_first_error,
            setup, teardown),
        cmocka_unit_test_setup_teardown(
            spawn_whose_network_is_missing_names_it_and_makes_nothing, setup,
            teardown),
        cmocka_unit_test_setup_teardown(spawn_of_three_makes_three_named_vms,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(
            spawn_of_three_whose_third_fails_leaves_none, setup, teardown),
        cmocka_unit_test_setup_teardown(spawn_of_three_is_validated_as_a_whole,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(
            template_spawns_linked_clones_and_outlives_its_set, setup,
            teardown),
        cmocka_unit_test_setup_teardown(
            template_whose_copy_fails_leaves_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(
            spawn_keep_failed_keeps_the_failed_vm_marked, setup, teardown),
        cmocka_unit_test_setup_teardown(
            spawn_whose_second_overlay_fails_removes_the_first, setup,
            teardown),
        cmocka_unit_test_setup_teardown(
            spawn_whose_volume_ends_in_error_deletes_it_and_the_overlay,
            setup_cinder, teardown),
        cmocka_unit_test_setup_teardown(
            spawn_whose_volume_cannot_be_attached_deletes_it_and_the_overlay,
            setup_cinder, teardown),
        cmocka_unit_test_setup_teardown(
            spawn_without_the_ceph_secret_detaches_and_deletes_the_volume,
            setup_cinder, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
