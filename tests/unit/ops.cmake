# tests/unit/ops.cmake -- unit tests of coordinator/ops/ (included from
# tests/CMakeLists.txt): the operations against fake tables and a scripted
# Cinder, never a VM or a network.

# openstack
snap_add_test(test_ops_openstack snap_ops snap_fake_http)
