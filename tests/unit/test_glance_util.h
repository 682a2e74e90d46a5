/* tests/unit/test_glance_util.h -- fixtures shared by the glance tests. */
#ifndef TEST_GLANCE_UTIL_H
#define TEST_GLANCE_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "glance/glance.h"

/* The set time of the fixture model: 2026-11-22T04:39:24.123Z. */
#define FIXTURE_TAKEN_MS INT64_C(1795322364123)
#define FIXTURE_SET_UUID "6f1c2d3e-4a5b-4c6d-8e7f-901234567890"

/* A new directory under $TMPDIR (or /tmp); remove with tg_rmtree(). */
char *tg_tmpdir(void);

/* Removes @path and everything under it. */
void tg_rmtree(const char *path);

/* Writes @size bytes of a pattern seeded by @seed to @dir/@name and returns
 * the new path (free()). */
char *tg_make_file(const char *dir, const char *name, size_t size,
                   unsigned seed);

/* The model the package tests use: system "web01", 2 vCPUs, 2048 MiB, two
 * virtio disks "disk-a.vmdk" and "disk-b.qcow2" of the given file sizes, one
 * NIC, facts and two members. */
glance_ovf *tg_fixture_ovf(uint64_t size_a, uint64_t size_b);

/* Number of entries in @dir, "." and ".." excluded. */
size_t tg_dir_count(const char *dir);

/* Reads the tar @path: member names (strdup) and sizes in order, and the
 * whole content of members 0 and 1 (the descriptor and manifest). Returns
 * the count; free with tg_members_free(). */
typedef struct tg_member {
    char *name;
    int64_t size;
    char *data; /* members 0 and 1 only, NUL-terminated */
} tg_member;
size_t tg_read_members(const char *path, tg_member **members);
void tg_members_free(tg_member *members, size_t n);

/* Writes a ustar tar @path with @n members named @names whose contents are
 * @datas[i] (@lens[i] bytes), in that order. */
void tg_write_tar(const char *path, const char *const *names,
                  const char *const *datas, const size_t *lens, size_t n);

/* Points SNAPSET_OVF_SCHEMA_DIR at the vendored schemas (glance/schemas)
 * unless it is set already, so that glance_ova_verify() finds them, and
 * returns that directory. */
const char *tg_schema_dir(void);

/* Reads a whole file; returns a new NUL-terminated buffer (free()). */
char *tg_read_file(const char *path, size_t *len);

#endif
