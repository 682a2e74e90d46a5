/* tests/unit/test_glance_manifest.c -- digests and the OVF manifest. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "glance/glance.h"
#include "glance/glance_priv.h"
#include "unit/test_glance_util.h"

#define SHA256_ABC                                                             \
    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
#define SHA256_EMPTY                                                           \
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
#define SHA512_ABC                                                             \
    "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a"         \
    "2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f"

static void
test_digests_match_the_fips_vectors(void **state)
{
    char hex[GLANCE_HASH_HEX_SIZE];
    snap_error err = {0};
    glance_hash *h;

    (void)state;
    h = glance_hash_new(GLANCE_HASH_SHA256, &err);
    assert_non_null(h);
    assert_true(glance_hash_update(h, "a", 1, &err));
    assert_true(glance_hash_update(h, "bc", 2, &err));
    assert_true(glance_hash_final_hex(h, hex, sizeof(hex), &err));
    assert_string_equal(hex, SHA256_ABC);
    /* Finished means finished. */
    assert_false(glance_hash_update(h, "x", 1, &err));
    assert_int_equal(err.code, SNAP_E_STATE);
    glance_hash_free(h);

    snap_error_clear(&err);
    h = glance_hash_new(GLANCE_HASH_SHA512, &err);
    assert_true(glance_hash_update(h, "abc", 3, &err));
    assert_true(glance_hash_final_hex(h, hex, sizeof(hex), &err));
    assert_string_equal(hex, SHA512_ABC);
    glance_hash_free(h);
    glance_hash_free(NULL);
}

static void
test_file_digest_reads_the_whole_file(void **state)
{
    char *dir = tg_tmpdir(), *path, *data, hex[GLANCE_HASH_HEX_SIZE];
    char want[GLANCE_HASH_HEX_SIZE];
    snap_error err = {0};
    glance_hash *h;
    size_t len;

    (void)state;
    /* More than two chunks, not a multiple of the chunk size. */
    path = tg_make_file(dir, "f", 2 * GLANCE_CHUNK_SIZE + 4321, 7);
    data = tg_read_file(path, &len);
    h = glance_hash_new(GLANCE_HASH_SHA256, &err);
    assert_true(glance_hash_update(h, data, len, &err));
    assert_true(glance_hash_final_hex(h, want, sizeof(want), &err));
    glance_hash_free(h);
    assert_true(glance_sha256_file(path, hex, &err));
    assert_string_equal(hex, want);
    free(data);
    free(path);

    path = tg_make_file(dir, "empty", 0, 1);
    assert_true(glance_sha256_file(path, hex, &err));
    assert_string_equal(hex, SHA256_EMPTY);
    free(path);

    assert_false(glance_sha256_file("/nonexistent/file", hex, &err));
    assert_int_equal(err.code, SNAP_E_SYSTEM);
    assert_string_equal(
        err.msg, "cannot open '/nonexistent/file': No such file or directory");
    tg_rmtree(dir);
    free(dir);
}

static void
test_manifest_lines_are_exact(void **state)
{
    const char *names[] = {"web01.ovf", "disk-a.vmdk"};
    const char *hexes[] = {
        SHA256_ABC,
        "E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855"};
    snap_error err = {0};
    char *text;
    size_t len = 0;

    (void)state;
    text = glance_manifest_format(names, hexes, 2, &len, &err);
    assert_non_null(text);
    assert_string_equal(text, "SHA256(web01.ovf)= " SHA256_ABC "\n"
                              "SHA256(disk-a.vmdk)= " SHA256_EMPTY "\n");
    assert_int_equal(len, strlen(text));
    free(text);
}

static void
test_manifest_refuses_bad_names_and_digests(void **state)
{
    const char *names[] = {"bad\nname"};
    const char *hexes[] = {SHA256_ABC};
    const char *short_hex[] = {"abc"};
    const char *good[] = {"x.ovf"};
    snap_error err = {0};
    size_t len;

    (void)state;
    assert_null(glance_manifest_format(names, hexes, 1, &len, &err));
    assert_string_equal(err.msg, "invalid manifest entry name (entry 1)");
    snap_error_clear(&err);
    assert_null(glance_manifest_format(good, short_hex, 1, &len, &err));
    assert_string_equal(err.msg, "invalid SHA-256 digest for 'x.ovf'");
}

static void
test_manifest_parses_back(void **state)
{
    const char *text = "SHA256(web01.ovf)= " SHA256_ABC "\n"
                       "SHA256(odd)name)= " SHA256_EMPTY "\r\n";
    glance_manifest_entry *e = NULL;
    snap_error err = {0};
    size_t n = 0;

    (void)state;
    assert_true(glance_manifest_parse(text, strlen(text), &e, &n, &err));
    assert_int_equal(n, 2);
    assert_string_equal(e[0].name, "web01.ovf");
    assert_string_equal(e[0].hex, SHA256_ABC);
    assert_string_equal(e[1].name, "odd)name");
    assert_string_equal(e[1].hex, SHA256_EMPTY);
    glance_manifest_entries_free(e, n);
}

static void
test_manifest_parser_refuses_other_lines(void **state)
{
    static const struct {
        const char *text;
        const char *msg;
    } cases[] = {
        {"SHA1(a)= 0123456789012345678901234567890123456789\n",
         "manifest line 1 is not 'SHA256(name)= digest'"},
        {"SHA256(a)=" SHA256_ABC "\n",
         "manifest line 1 is not 'SHA256(name)= digest'"},
        {"SHA256(a)= " SHA256_ABC, "manifest line 1 has no line end"},
        {"SHA256(a)= " SHA256_ABC "\nSHA256(a)= " SHA256_ABC "\n",
         "manifest lists 'a' twice"},
        {"SHA256()= " SHA256_ABC "\n", "manifest line 1 has an invalid name"},
        {"SHA256(a)= " SHA256_ABC "\n\n",
         "manifest line 2 is not 'SHA256(name)= digest'"},
        {"SHA256(a)= zz" SHA256_ABC "\n",
         "manifest line 1 is not 'SHA256(name)= digest'"},
    };
    glance_manifest_entry *e = NULL;
    snap_error err;
    size_t i, n = 0;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        snap_error_clear(&err);
        assert_false(glance_manifest_parse(cases[i].text, strlen(cases[i].text),
                                           &e, &n, &err));
        assert_int_equal(err.code, SNAP_E_INVALID);
        assert_string_equal(err.msg, cases[i].msg);
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_digests_match_the_fips_vectors),
        cmocka_unit_test(test_file_digest_reads_the_whole_file),
        cmocka_unit_test(test_manifest_lines_are_exact),
        cmocka_unit_test(test_manifest_refuses_bad_names_and_digests),
        cmocka_unit_test(test_manifest_parses_back),
        cmocka_unit_test(test_manifest_parser_refuses_other_lines),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
