# tests/unit/api.cmake -- unit tests of the HTTP API (coordinator/http/,
# snap_http) and of the policy model (coord_policy.c in snap_coord).
# Included from tests/CMakeLists.txt for the module "api".
find_package(Threads REQUIRED)

# The server on 127.0.0.1 over a fake backend, driven with libcurl.
snap_add_test(test_http_api snap_http PkgConfig::JANSSON CURL::libcurl
              Threads::Threads)

# Domain selection, schedules and retention over synthetic set times.
snap_add_test(test_coord_policy snap_coord)
