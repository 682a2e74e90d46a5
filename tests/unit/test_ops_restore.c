/* tests/unit/test_ops_restore.c -- restore's failure paths over a fake
 * domain (tests/fakes/fake_domain.c) and real files: a restore that fails
 * at any step leaves the domain's definition, its run state and its
 * images as they were, and reports the first error. The images are real
 * (qemu-img writes them); the domain is not. */
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

#include "common/snap_fs.h"
#include "coordinator/ops/restore.h"
#include "fakes/fake_domain.h"

#define DOM_UUID "6f1c2a4e-0d55-4c1b-9a65-3f0e7c9b2d11"
#define IMG_SIZE 65536

typedef struct fixture {
    char root[64];
    char disk[128]; /* the domain's raw disk: 'O' bytes */
    char copy[128]; /* the set's qcow2 copy of it: 'S' bytes */
    char *xml;      /* the domain's definition */
    char set[SNAP_UUID_LEN];
    ops_ctx ctx;
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

static int
setup(void **state)
{
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

    n = (size_t)snprintf(NULL, 0, "x%s", fx->disk) + 512;
    fx->xml = malloc(n);
    assert_non_null(fx->xml);
    snprintf(fx->xml, n,
             "<domain type='kvm'><name>web</name><uuid>" DOM_UUID "</uuid>"
             "<memory unit='KiB'>65536</memory><vcpu>1</vcpu>"
             "<os><type arch='x86_64'>hvm</type></os><devices>"
             "<disk type='file' device='disk'><driver name='qemu' "
             "type='raw'/><source file='%s'/><target dev='vda' "
             "bus='virtio'/></disk></devices></domain>",
             fx->disk);

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
    assert_true(coord_catalog_save(fx->ctx.catalog, set, NULL));
    memcpy(fx->set, set->uuid, SNAP_UUID_LEN);
    coord_set_free(set);

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
    ops_ctx_release(&fx->ctx);
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
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
