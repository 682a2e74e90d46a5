# tests/unit/serve.cmake -- unit tests of coordinator/serve/ (snap_serve):
# the API's backend and the policy runner, on a catalog in a temporary
# directory and libvirt's test driver (test:///default), no VM.
snap_add_test(test_serve_backend snap_serve PkgConfig::JANSSON)
snap_add_test(test_serve_policy snap_serve PkgConfig::JANSSON)
