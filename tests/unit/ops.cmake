# tests/unit/ops.cmake -- unit tests of coordinator/ops/ (snap_ops), over
# fakes and temporary trees; no VM, no cloud.

# export
# Recording a written package (the first error wins), the exports.json
# record, and qemu-img through snap_proc with a fake qemu-img on PATH.
snap_add_test(test_ops_export snap_ops PkgConfig::JANSSON)
