# tests/unit/restore.cmake -- unit tests of restore/spawn's building blocks
# that live in the snapset executable (compiled in, like api.cmake does):
# the domain XML edits (coordinator/app/domedit.c) and the qemu-img runner
# and qcow2 header reader (coordinator/app/qimg.c). Included from
# tests/CMakeLists.txt for the module "restore".
snap_add_test(test_app_domedit PkgConfig::LIBXML2 PkgConfig::LIBVIRT)
target_sources(test_app_domedit PRIVATE
               ${PROJECT_SOURCE_DIR}/coordinator/app/domedit.c
               ${PROJECT_SOURCE_DIR}/coordinator/app/qimg.c)
