# tests/unit/api.cmake -- unit tests of the HTTP API (coordinator/app/
# http_api.c, compiled in: it lives in the snapset executable) and of the
# policy model (coord_policy.c in snap_coord). Included from
# tests/CMakeLists.txt for the module "api".
pkg_check_modules(MHD REQUIRED IMPORTED_TARGET libmicrohttpd)
find_package(Threads REQUIRED)

# The server on 127.0.0.1 over a fake backend, driven with libcurl.
snap_add_test(test_http_api snap_catalog snap_coord PkgConfig::MHD
              PkgConfig::JANSSON CURL::libcurl Threads::Threads)
target_sources(test_http_api PRIVATE
               ${PROJECT_SOURCE_DIR}/coordinator/app/http_api.c
               ${PROJECT_SOURCE_DIR}/coordinator/app/http_authz.c)

# Domain selection, schedules and retention over synthetic set times.
snap_add_test(test_coord_policy snap_coord)
