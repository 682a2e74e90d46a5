/* tests/unit/test_snap_text.c -- outside text made safe for a terminal. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/snap_text.h"

static void
expect_escape(const char *in, const char *want)
{
    char *got = snap_text_escape(in);

    assert_non_null(got);
    assert_string_equal(got, want);
    assert_int_equal(snap_text_is_safe(in), strcmp(in ? in : "", want) == 0);
    free(got);
}

static void
test_plain_text_passes(void **state)
{
    (void)state;
    expect_escape("guest-fsfreeze-freeze failed: Permission denied",
                  "guest-fsfreeze-freeze failed: Permission denied");
    expect_escape("", "");
    expect_escape(NULL, "");
    /* UTF-8 letters are not controls */
    expect_escape("volume \xc3\xa9t\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80",
                  "volume \xc3\xa9t\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80");
}

static void
test_terminal_escapes_are_shown_not_run(void **state)
{
    (void)state;
    /* the example: an agent error that clears the screen */
    expect_escape("\x1b[2Jgone", "\\x1b[2Jgone");
    expect_escape("a\nb\tc\rd\\e", "a\\nb\\tc\\rd\\\\e");
    expect_escape("\x07\x7f", "\\x07\\x7f");
    /* C1 controls: CSI as raw byte and as UTF-8 U+009B */
    expect_escape("\x9b"
                  "31m",
                  "\\x9b31m");
    expect_escape("\xc2\x9b"
                  "31m",
                  "\\xc2\\x9b31m");
    /* invalid and overlong UTF-8, surrogates */
    expect_escape("\xc0\xaf", "\\xc0\\xaf");
    expect_escape("\xe0\x80\xaf", "\\xe0\\x80\\xaf");
    expect_escape("\xed\xa0\x80", "\\xed\\xa0\\x80");
    expect_escape("cut \xe2\x82", "cut \\xe2\\x82");
}

static void
test_buffer_is_cut_at_a_whole_escape(void **state)
{
    char buf[8];

    (void)state;
    assert_string_equal(snap_text_escape_buf("ab\x1b[", buf, sizeof(buf)),
                        "ab\\x1b[");
    assert_string_equal(snap_text_escape_buf("abcd\x1b", buf, sizeof(buf)),
                        "abcd");
    assert_string_equal(snap_text_escape_buf("abcdefghij", buf, sizeof(buf)),
                        "abcdefg");
    assert_string_equal(snap_text_escape_buf("x", buf, 1), "");
}

static void
test_fputs_escapes(void **state)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);

    (void)state;
    assert_non_null(f);
    assert_true(snap_text_fputs("ok \x1b]0;title\x07", f) >= 0);
    assert_true(snap_text_fputs(NULL, f) >= 0);
    fclose(f);
    assert_string_equal(text, "ok \\x1b]0;title\\x07");
    free(text);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plain_text_passes),
        cmocka_unit_test(test_terminal_escapes_are_shown_not_run),
        cmocka_unit_test(test_buffer_is_cut_at_a_whole_escape),
        cmocka_unit_test(test_fputs_escapes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
