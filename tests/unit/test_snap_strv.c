/* tests/unit/test_snap_strv.c -- string lists. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "common/snap_strv.h"

static void
test_append_copy_contains(void **state)
{
    char **v = NULL, **c = NULL;
    size_t n = 0, nc = 0;
    snap_error err = {0};

    (void)state;
    assert_true(snap_strv_append(&v, &n, "admin", &err));
    assert_true(snap_strv_append(&v, &n, "backup", &err));
    assert_int_equal(n, 2);
    assert_true(snap_strv_copy(&c, &nc, v, n, &err));
    assert_int_equal(nc, 2);
    assert_ptr_not_equal(c[0], v[0]);
    assert_string_equal(c[1], "backup");
    assert_true(snap_strv_contains(c, nc, "admin", false));
    assert_false(snap_strv_contains(c, nc, "ADMIN", false));
    assert_true(snap_strv_contains(c, nc, "ADMIN", true));
    assert_false(snap_strv_contains(c, nc, "member", true));
    assert_false(snap_strv_contains(c, nc, NULL, true));
    snap_strv_free(v, n);
    snap_strv_free(c, nc);
}

static void
test_empty(void **state)
{
    char **c = (char **)&c;
    size_t nc = 7;
    snap_error err = {0};

    (void)state;
    assert_true(snap_strv_copy(&c, &nc, NULL, 0, &err));
    assert_null(c);
    assert_int_equal(nc, 0);
    assert_false(snap_strv_contains(NULL, 0, "x", false));
    snap_strv_free(NULL, 0);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_append_copy_contains),
        cmocka_unit_test(test_empty),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
