/* tests/unit/test_snap_fs.c -- removing directories and files without
 * following symlinks, and only what was recorded. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/snap_fs.h"

typedef struct tree {
    char root[64];
} tree;

static int
tree_setup(void **state)
{
    tree *t = calloc(1, sizeof(*t));

    if (!t)
        return -1;
    snprintf(t->root, sizeof(t->root), "/tmp/test_snap_fs.XXXXXX");
    if (!mkdtemp(t->root)) {
        free(t);
        return -1;
    }
    *state = t;
    return 0;
}

static void
remove_tree(const char *path)
{
    char cmd[256];

    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", path);
    (void)system(cmd); /* the test's own temporary tree */
}

static int
tree_teardown(void **state)
{
    tree *t = *state;

    remove_tree(t->root);
    free(t);
    return 0;
}

/* "@root/@rel" into @buf. */
static const char *
at(const tree *t, const char *rel, char *buf, size_t size)
{
    snprintf(buf, size, "%s/%s", t->root, rel);
    return buf;
}

static void
make_file(const tree *t, const char *rel, const char *text)
{
    char p[256];

    assert_true(snap_file_write_atomic(at(t, rel, p, sizeof(p)), text,
                                       strlen(text), 0600, NULL));
}

static void
make_dir(const tree *t, const char *rel)
{
    char p[256];

    assert_int_equal(mkdir(at(t, rel, p, sizeof(p)), 0700), 0);
}

static void
make_link(const tree *t, const char *target_rel, const char *rel)
{
    char p[256], q[256];

    assert_int_equal(
        symlink(at(t, target_rel, q, sizeof(q)), at(t, rel, p, sizeof(p))), 0);
}

static bool
exists(const tree *t, const char *rel)
{
    char p[256];
    struct stat st;

    return lstat(at(t, rel, p, sizeof(p)), &st) == 0;
}

static void
test_remove_files_does_not_follow_a_symlinked_directory(void **state)
{
    tree *t = *state;
    snap_error err = {0};
    char p[256];

    make_dir(t, "foreign");
    make_file(t, "foreign/notes.md", "mine");
    make_link(t, "foreign", "set");
    assert_false(snap_dir_remove_files(at(t, "set", p, sizeof(p)), &err));
    assert_int_equal(err.code, SNAP_E_STATE);
    assert_non_null(strstr(err.msg, "symlink"));
    assert_true(exists(t, "foreign/notes.md"));
    assert_true(exists(t, "set"));
}

static void
test_remove_files_removes_a_symlink_entry_as_a_link(void **state)
{
    tree *t = *state;
    char p[256];

    make_dir(t, "foreign");
    make_file(t, "foreign/notes.md", "mine");
    make_dir(t, "set");
    make_file(t, "set/set.json", "{}");
    make_link(t, "foreign", "set/to-dir");
    make_link(t, "foreign/notes.md", "set/to-file");
    assert_true(snap_dir_remove_files(at(t, "set", p, sizeof(p)), NULL));
    assert_false(exists(t, "set"));
    assert_true(exists(t, "foreign/notes.md"));
}

static void
test_remove_files_does_not_descend(void **state)
{
    tree *t = *state;
    snap_error err = {0};
    char p[256];

    make_dir(t, "set");
    make_file(t, "set/a", "a");
    make_dir(t, "set/sub");
    make_file(t, "set/sub/b", "b");
    assert_false(snap_dir_remove_files(at(t, "set", p, sizeof(p)), &err));
    assert_non_null(strstr(err.msg, "is a directory"));
    assert_true(exists(t, "set/sub/b"));
    assert_false(exists(t, "set/a"));
}

static void
test_remove_files_of_a_missing_directory_succeeds(void **state)
{
    tree *t = *state;
    char p[256];

    assert_true(snap_dir_remove_files(at(t, "nothing", p, sizeof(p)), NULL));
}

static void
test_remove_names_removes_only_the_recorded_names(void **state)
{
    tree *t = *state;
    const char *names[] = {"vm.ovf", "vm.mf", "vda.vmdk", "gone.vmdk"};
    size_t kept = 99;
    char p[256];

    make_dir(t, "out");
    make_file(t, "out/vm.ovf", "x");
    make_file(t, "out/vm.mf", "x");
    make_file(t, "out/vda.vmdk", "x");
    make_file(t, "out/notes.md", "foreign");
    assert_true(snap_dir_remove_names(at(t, "out", p, sizeof(p)), NULL, names,
                                      4, true, &kept, NULL));
    assert_int_equal(kept, 0);
    assert_false(exists(t, "out/vm.ovf"));
    assert_false(exists(t, "out/vda.vmdk"));
    assert_true(exists(t, "out/notes.md"));
    assert_true(exists(t, "out")); /* not empty: stays */
}

static void
test_remove_names_removes_the_directory_only_when_empty(void **state)
{
    tree *t = *state;
    const char *names[] = {"vm.ovf"};
    char p[256];

    make_dir(t, "out");
    make_file(t, "out/vm.ovf", "x");
    assert_true(snap_dir_remove_names(at(t, "out", p, sizeof(p)), NULL, names,
                                      1, false, NULL, NULL));
    assert_true(exists(t, "out")); /* not asked to */
    make_file(t, "out/vm.ovf", "x");
    assert_true(snap_dir_remove_names(at(t, "out", p, sizeof(p)), NULL, names,
                                      1, true, NULL, NULL));
    assert_false(exists(t, "out"));
}

static void
test_remove_names_does_not_follow_a_symlinked_directory(void **state)
{
    tree *t = *state;
    const char *names[] = {"notes.md"};
    snap_error err = {0};
    char p[256];

    make_dir(t, "foreign");
    make_file(t, "foreign/notes.md", "mine");
    make_link(t, "foreign", "out");
    assert_false(snap_dir_remove_names(at(t, "out", p, sizeof(p)), NULL, names,
                                       1, true, NULL, &err));
    assert_int_equal(err.code, SNAP_E_STATE);
    assert_true(exists(t, "foreign/notes.md"));
}

static void
test_remove_names_leaves_a_symlink_under_a_recorded_name(void **state)
{
    tree *t = *state;
    const char *names[] = {"vm.ovf"};
    size_t kept = 0;
    char p[256];

    make_dir(t, "out");
    make_file(t, "secret", "root's");
    make_link(t, "secret", "out/vm.ovf");
    assert_true(snap_dir_remove_names(at(t, "out", p, sizeof(p)), NULL, names,
                                      1, true, &kept, NULL));
    assert_int_equal(kept, 1);
    assert_true(exists(t, "out/vm.ovf"));
    assert_true(exists(t, "secret"));
}

static void
test_remove_names_refuses_a_replaced_directory(void **state)
{
    tree *t = *state;
    const char *names[] = {"vm.ovf"};
    snap_file_id id;
    snap_error err = {0};
    char p[256], q[256];

    make_dir(t, "out");
    assert_true(snap_file_id_get(at(t, "out", p, sizeof(p)), &id, NULL));
    assert_int_equal(rename(p, at(t, "moved", q, sizeof(q))), 0);
    make_dir(t, "out");
    make_file(t, "out/vm.ovf", "someone else's");
    assert_false(snap_dir_remove_names(p, &id, names, 1, true, NULL, &err));
    assert_non_null(strstr(err.msg, "not the directory"));
    assert_true(exists(t, "out/vm.ovf"));
}

static void
test_remove_names_refuses_names_with_a_slash(void **state)
{
    tree *t = *state;
    const char *names[] = {"vm.ovf", "../secret"};
    snap_error err = {0};
    char p[256];

    make_dir(t, "out");
    make_file(t, "out/vm.ovf", "x");
    make_file(t, "secret", "x");
    assert_false(snap_dir_remove_names(at(t, "out", p, sizeof(p)), NULL, names,
                                       2, true, NULL, &err));
    assert_int_equal(err.code, SNAP_E_INVALID);
    assert_true(exists(t, "out/vm.ovf"));
    assert_true(exists(t, "secret"));
}

static void
test_remove_ours_refuses_a_symlink_and_a_replaced_file(void **state)
{
    tree *t = *state;
    snap_file_id id;
    snap_error err = {0};
    char p[256];

    make_file(t, "secret", "root's");
    make_link(t, "secret", "vm.ova");
    assert_false(
        snap_file_remove_ours(at(t, "vm.ova", p, sizeof(p)), NULL, &err));
    assert_non_null(strstr(err.msg, "not a regular file"));
    assert_true(exists(t, "vm.ova"));
    assert_true(exists(t, "secret"));

    assert_int_equal(unlink(p), 0);
    make_file(t, "vm.ova", "ours");
    assert_true(snap_file_id_get(p, &id, NULL));
    make_file(t, "vm.ova", "replaced"); /* a new inode under the name */
    memset(&err, 0, sizeof(err));
    assert_false(snap_file_remove_ours(p, &id, &err));
    assert_non_null(strstr(err.msg, "not the file"));
    assert_true(exists(t, "vm.ova"));

    assert_true(snap_file_id_get(p, &id, NULL));
    assert_true(snap_file_remove_ours(p, &id, NULL));
    assert_false(exists(t, "vm.ova"));
    assert_true(snap_file_remove_ours(p, &id, NULL)); /* missing: fine */
}

static void
test_atomic_write_does_not_write_through_a_planted_link(void **state)
{
    tree *t = *state;
    char p[256], tmp[300];
    char *text;

    make_file(t, "secret", "root's");
    at(t, "out.json", p, sizeof(p));
    snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", p, (long)getpid());
    assert_int_equal(symlink("secret", tmp), 0);
    assert_false(snap_file_write_atomic(p, "new", 3, 0600, NULL));
    text = snap_file_read(at(t, "secret", p, sizeof(p)), 100, NULL, NULL);
    assert_non_null(text);
    assert_string_equal(text, "root's");
    free(text);
}

#define T(f) cmocka_unit_test_setup_teardown(f, tree_setup, tree_teardown)

int
main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_remove_files_does_not_follow_a_symlinked_directory),
        T(test_remove_files_removes_a_symlink_entry_as_a_link),
        T(test_remove_files_does_not_descend),
        T(test_remove_files_of_a_missing_directory_succeeds),
        T(test_remove_names_removes_only_the_recorded_names),
        T(test_remove_names_removes_the_directory_only_when_empty),
        T(test_remove_names_does_not_follow_a_symlinked_directory),
        T(test_remove_names_leaves_a_symlink_under_a_recorded_name),
        T(test_remove_names_refuses_a_replaced_directory),
        T(test_remove_names_refuses_names_with_a_slash),
        T(test_remove_ours_refuses_a_symlink_and_a_replaced_file),
        T(test_atomic_write_does_not_write_through_a_planted_link),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
