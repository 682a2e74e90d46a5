# tests/unit/common.cmake -- unit tests of common/ (snap_common).
snap_add_test(test_snap_text)
snap_add_test(test_snap_proc)
snap_add_test(test_snap_strv)
snap_add_test(test_snap_fs)
