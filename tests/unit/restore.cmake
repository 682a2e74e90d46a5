# tests/unit/restore.cmake -- unit tests of restore/spawn's building blocks
# in virt/: the domain XML edits (domedit.c) and the qemu-img runner and
# qcow2 header reader (qimg.c). Included from tests/CMakeLists.txt for the
# module "restore".
snap_add_test(test_virt_domedit snap_virt PkgConfig::LIBXML2)
