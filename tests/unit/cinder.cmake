# tests/unit/cinder.cmake -- unit tests of cinder/ (included from
# tests/CMakeLists.txt). They talk to a scripted transport, never a network.

# The scripted HTTP transport; glance/ tests may link it too.
if(NOT TARGET snap_fake_http)
    add_library(snap_fake_http STATIC ${CMAKE_CURRENT_SOURCE_DIR}/fakes/fake_http.c)
    target_include_directories(snap_fake_http PUBLIC ${CMAKE_CURRENT_SOURCE_DIR})
    target_link_libraries(snap_fake_http PUBLIC snap_cinder PkgConfig::CMOCKA
                          PRIVATE snap_build_flags)
    target_compile_definitions(snap_fake_http PRIVATE
        FAKE_HTTP_DATA_DIR="${CMAKE_CURRENT_SOURCE_DIR}/data")
endif()

# Tests parse the JSON bodies they receive, hence jansson.
snap_add_test(test_cinder_auth snap_cinder snap_fake_http PkgConfig::JANSSON)
snap_add_test(test_cinder_client snap_cinder snap_fake_http PkgConfig::JANSSON)
snap_add_test(test_cinder_wait snap_cinder snap_fake_http PkgConfig::JANSSON)
snap_add_test(test_cinder_http snap_cinder)
