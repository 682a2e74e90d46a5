/* tests/unit/test_serve_policy.c -- policy runs (coordinator/serve/
 * policy.c) over libvirt's test driver (test:///default: one running
 * domain "test", no guest agent, no disk a backup job could copy) and a
 * catalog in a temporary directory: which domains a policy selects, and
 * that a domain that fails -- missing, not begun, its set not made --
 * is reported and prunes nothing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/snap_time.h"
#include "coordinator/serve/policy.h"

#define DOM_UUID "6695eb01-f6a4-8304-79aa-97f2502e193f" /* test:///default */

typedef struct fixture {
    char dir[64];
    coord_conf conf;
} fixture;

static int
setup(void **state)
{
    fixture *f = calloc(1, sizeof(*f));
    char path[128];
    snap_error err = {0};
    FILE *fp;

    assert_non_null(f);
    snprintf(f->dir, sizeof(f->dir), "/tmp/test_serve_policy.XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    snprintf(path, sizeof(path), "%s/snapset.conf", f->dir);
    fp = fopen(path, "w");
    assert_non_null(fp);
    fputs(
        "policies = (\n"
        "  { name = \"named\"; domains = [ \"test\", \"nosuch\", \"te*\" ];\n"
        "    keep_last = 1; },\n"
        "  { name = \"missing\"; domains = [ \"nosuch\" ]; keep_last = 1; },\n"
        "  { name = \"real\"; domains = [ \"test\" ]; quiesce = \"off\";\n"
        "    keep_last = 1; }\n"
        ");\n",
        fp);
    assert_int_equal(fclose(fp), 0);
    assert_true(coord_conf_init(&f->conf, &err));
    assert_true(coord_conf_load(&f->conf, path, &err));
    assert_true(coord_str_set(&f->conf.catalog_dir, f->dir, &err));
    assert_true(coord_str_set(&f->conf.libvirt_uri, "test:///default", &err));
    *state = f;
    return 0;
}

static int
teardown(void **state)
{
    fixture *f = *state;
    char cmd[128];

    coord_conf_release(&f->conf);
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
    assert_int_equal(system(cmd), 0);
    free(f);
    return 0;
}

static const coord_policy *
policy(fixture *f, const char *name)
{
    const coord_policy *p =
        coord_policy_find(f->conf.policies, f->conf.npolicies, name);

    assert_non_null(p);
    return p;
}

/* The sets in @f's catalog. */
static size_t
nsets(fixture *f)
{
    coord_catalog *cat;
    coord_set **sets = NULL;
    size_t n = 0;
    snap_error err = {0};

    cat = coord_catalog_open(f->dir, &err);
    assert_non_null(cat);
    assert_true(coord_catalog_list(cat, &sets, &n, &err));
    coord_catalog_list_free(sets, n);
    coord_catalog_free(cat);
    return n;
}

static void
test_names_and_globs_select_once_and_unknown_names_are_missing(void **state)
{
    fixture *f = *state;
    serve_target *t = NULL;
    size_t n = 0;
    snap_error err = {0};

    assert_true(serve_policy_select(f->conf.libvirt_uri, policy(f, "named"), &t,
                                    &n, &err));
    assert_int_equal(n, 2); /* sorted by name */
    assert_string_equal(t[0].name, "nosuch");
    assert_true(t[0].missing);
    assert_string_equal(t[0].uuid, "");
    assert_string_equal(t[1].name, "test");
    assert_false(t[1].missing);
    assert_true(t[1].active);
    assert_string_equal(t[1].uuid, DOM_UUID);
    serve_targets_free(t, n);
}

static void
test_a_missing_domain_fails_and_nothing_is_recorded(void **state)
{
    fixture *f = *state;
    serve_target *t = NULL;
    serve_vm_result *r = NULL;
    size_t n = 0;
    snap_error err = {0};

    assert_true(serve_policy_execute(&f->conf, policy(f, "missing"), NULL, NULL,
                                     &t, &r, &n, &err));
    assert_int_equal(n, 1);
    assert_int_equal(r[0].status, SERVE_VM_FAILED);
    assert_string_equal(r[0].error, "no domain 'nosuch'");
    assert_string_equal(r[0].set_uuid, "");
    assert_int_equal(r[0].pruned, 0);
    assert_int_equal(nsets(f), 0);
    free(r);
    serve_targets_free(t, n);
}

static void
test_libvirt_out_of_reach_fails_the_run(void **state)
{
    fixture *f = *state;
    serve_target *t = NULL;
    serve_vm_result *r = NULL;
    size_t n = 0;
    snap_error err = {0};

    assert_true(coord_str_set(&f->conf.libvirt_uri,
                              "test:///nonexistent/snapset.xml", &err));
    assert_false(serve_policy_execute(&f->conf, policy(f, "real"), NULL, NULL,
                                      &t, &r, &n, &err));
    assert_int_equal(err.code, SNAP_E_VIRT);
    assert_non_null(strstr(err.msg, "cannot connect to libvirt at"));
    assert_null(t);
    assert_null(r);
    assert_int_equal(n, 0);
}

static void
test_a_stopping_server_begins_no_domain(void **state)
{
    fixture *f = *state;
    serve_target *t = NULL;
    serve_vm_result *r = NULL;
    size_t n = 0;
    snap_error err = {0};
    atomic_bool stop;

    atomic_init(&stop, true);
    assert_true(serve_policy_execute(&f->conf, policy(f, "real"), NULL, &stop,
                                     &t, &r, &n, &err));
    assert_int_equal(n, 1);
    assert_int_equal(r[0].status, SERVE_VM_FAILED);
    assert_string_equal(r[0].error, "not started: snapset is stopping");
    assert_int_equal(nsets(f), 0);
    free(r);
    serve_targets_free(t, n);
}

/* An older good set of the policy's type that keep_last = 1 would prune
 * after a good set. */
static void
save_old_set(fixture *f, char uuid[SNAP_UUID_LEN])
{
    coord_catalog *cat;
    coord_set *set;
    snap_error err = {0};

    cat = coord_catalog_open(f->dir, &err);
    assert_non_null(cat);
    set = coord_set_new(&err);
    assert_non_null(set);
    snap_uuid_generate(set->uuid);
    memcpy(uuid, set->uuid, SNAP_UUID_LEN);
    memcpy(set->domain_uuid, DOM_UUID, SNAP_UUID_LEN);
    set->state = COORD_SET_AVAILABLE;
    set->created_ms = snap_wall_ms() - 86400000;
    assert_true(coord_str_set(&set->domain_name, "test", &err));
    assert_true(coord_str_set(&set->backup_type, "real", &err));
    assert_true(coord_catalog_save(cat, set, &err));
    coord_set_free(set);
    coord_catalog_free(cat);
}

static void
test_a_set_that_fails_is_reported_and_prunes_nothing(void **state)
{
    fixture *f = *state;
    serve_target *t = NULL;
    serve_vm_result *r = NULL;
    size_t n = 0;
    snap_error err = {0};
    char old[SNAP_UUID_LEN];
    coord_catalog *cat;
    coord_set *set;

    save_old_set(f, old);
    assert_true(serve_policy_execute(&f->conf, policy(f, "real"), NULL, NULL,
                                     &t, &r, &n, &err));
    assert_int_equal(n, 1);
    assert_int_equal(r[0].status, SERVE_VM_FAILED);
    assert_true(r[0].error[0] != '\0');
    assert_int_equal(r[0].pruned, 0);
    /* The older set is still there. */
    cat = coord_catalog_open(f->dir, &err);
    assert_non_null(cat);
    set = coord_catalog_load(cat, old, &err);
    assert_non_null(set);
    assert_int_equal(set->state, COORD_SET_AVAILABLE);
    coord_set_free(set);
    coord_catalog_free(cat);
    free(r);
    serve_targets_free(t, n);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
        T(test_names_and_globs_select_once_and_unknown_names_are_missing),
        T(test_a_missing_domain_fails_and_nothing_is_recorded),
        T(test_libvirt_out_of_reach_fails_the_run),
        T(test_a_stopping_server_begins_no_domain),
        T(test_a_set_that_fails_is_reported_and_prunes_nothing),
#undef T
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
