# tests/unit/ops.cmake -- unit tests of coordinator/ops/ (snap_ops): the
# operations against the fakes of tests/fakes/ and a scripted Cinder, never
# a VM or a network. Included from tests/CMakeLists.txt for the module "ops".

# openstack
snap_add_test(test_ops_openstack snap_ops snap_fake_http)

# rbd: the direct RBD path's decisions and registrations (no Ceph)
snap_add_test(test_ops_rbd snap_ops snap_fake_http)

# restore, spawn
# The domains through a scripted ops_domain_ops; images are real files
# written by qemu-img; Cinder volumes behind a scripted Cinder.
add_library(snap_fake_domain STATIC ${PROJECT_SOURCE_DIR}/tests/fakes/fake_domain.c)
target_include_directories(snap_fake_domain PUBLIC ${PROJECT_SOURCE_DIR}/tests)
target_link_libraries(snap_fake_domain PUBLIC snap_ops PRIVATE snap_build_flags)
snap_add_test(test_ops_restore snap_fake_domain snap_ops snap_fake_http)
snap_add_test(test_ops_spawn snap_fake_domain snap_ops snap_fake_http)

# export
# Recording a written package (the first error wins), the exports.json
# record, and qemu-img through snap_proc with a fake qemu-img on PATH.
snap_add_test(test_ops_export snap_ops PkgConfig::JANSSON)

# verify: a real chain of three qcow2 copies (qemu-img, qemu-io), damaged.
snap_add_test(test_ops_verify snap_ops PkgConfig::JANSSON)

# chain: deleting a set later sets stack on (real qcow2 chains, rebased).
snap_add_test(test_ops_chain snap_ops PkgConfig::JANSSON)
