# tests/unit/glance.cmake -- tests of glance/ (OVF descriptor, OVA packages).
# test_glance_util.c holds the shared fixtures (temporary trees, the model).
add_library(test_glance_util STATIC unit/test_glance_util.c)
target_include_directories(test_glance_util PRIVATE ${PROJECT_SOURCE_DIR}/tests)
target_link_libraries(test_glance_util PUBLIC snap_glance PkgConfig::LIBARCHIVE
                      PRIVATE snap_build_flags)
# The vendored OVF schemas, so that the tests validate what they write
# without an installed copy (SNAPSET_OVF_SCHEMA_DIR still wins).
target_compile_definitions(test_glance_util PRIVATE
    TG_OVF_SCHEMA_DIR="${SNAP_OVF_SCHEMA_SOURCE_DIR}")

snap_add_test(test_glance_ovf test_glance_util PkgConfig::LIBXML2)
snap_add_test(test_glance_manifest test_glance_util)
snap_add_test(test_glance_ova test_glance_util)
snap_add_test(test_glance_stream test_glance_util)

# Uploads talk to the scripted transport of tests/fakes/fake_http.h, which
# tests/unit/cinder.cmake defines (it is included before this file).
if(TARGET snap_fake_http)
    snap_add_test(test_glance_upload test_glance_util snap_fake_http
                  PkgConfig::JANSSON)
endif()
