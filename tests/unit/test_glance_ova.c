/* tests/unit/test_glance_ova.c -- OVA and directory packages, and reading
 * them back with glance_ova_verify(). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>

#include "glance/glance.h"
#include "glance/glance_priv.h"
#include "unit/test_glance_util.h"

/* disk-a spans several chunks and ends mid-chunk; disk-b is small. */
#define SIZE_A (3 * GLANCE_CHUNK_SIZE + 12345)
#define SIZE_B 100000

typedef struct fixture {
    char *top;
    char *disks; /* the converted disks live here */
    char *out;   /* packages are written here */
    char *paths[2];
    char *ova;
    glance_ovf *ovf;
} fixture;

static char *
join(const char *a, const char *b)
{
    char *s = malloc(strlen(a) + strlen(b) + 2);

    assert_non_null(s);
    sprintf(s, "%s/%s", a, b);
    return s;
}

static int
setup(void **state)
{
    fixture *f = calloc(1, sizeof(*f));

    f->top = tg_tmpdir();
    f->disks = join(f->top, "staging");
    f->out = join(f->top, "out");
    mkdir(f->disks, 0755);
    mkdir(f->out, 0755);
    f->paths[0] = tg_make_file(f->disks, "a.vmdk", SIZE_A, 1);
    f->paths[1] = tg_make_file(f->disks, "b.qcow2", SIZE_B, 2);
    f->ova = join(f->out, "web01.ova");
    f->ovf = tg_fixture_ovf(SIZE_A, SIZE_B);
    *state = f;
    return 0;
}

static int
teardown(void **state)
{
    fixture *f = *state;

    tg_rmtree(f->top);
    glance_ovf_free(f->ovf);
    free(f->top);
    free(f->disks);
    free(f->out);
    free(f->paths[0]);
    free(f->paths[1]);
    free(f->ova);
    free(f);
    return 0;
}

static void
write_ova(fixture *f)
{
    snap_error err = {0};

    if (!glance_ova_write(f->ova, f->ovf, (const char *const *)f->paths, 2,
                          &err))
        fail_msg("glance_ova_write: %s", err.msg);
    assert_int_equal(err.code, SNAP_OK);
}

/* Verify fails and its message contains @want. */
static void
assert_verify_fails(const char *path, const char *want)
{
    snap_error err = {0};

    assert_false(glance_ova_verify(path, &err));
    assert_int_equal(err.code, SNAP_E_INVALID);
    assert_null(strchr(err.msg, '\n'));
    if (!strstr(err.msg, want))
        fail_msg("verify said '%s', expected '%s'", err.msg, want);
}

static void
test_ova_members_are_ovf_mf_then_disks_in_order(void **state)
{
    fixture *f = *state;
    tg_member *m = NULL;
    size_t n;

    write_ova(f);
    n = tg_read_members(f->ova, &m);
    assert_int_equal(n, 4);
    assert_string_equal(m[0].name, "web01.ovf");
    assert_string_equal(m[1].name, "web01.mf");
    assert_string_equal(m[2].name, "disk-a.vmdk");
    assert_int_equal(m[2].size, SIZE_A);
    assert_string_equal(m[3].name, "disk-b.qcow2");
    assert_int_equal(m[3].size, SIZE_B);
    tg_members_free(m, n);
}

/* Walks the raw headers: each is ustar ("ustar\0" "00"), a regular file
 * ('0'), owned by 0:0 and stamped with the set time; no pax header. */
static void
test_ova_headers_are_plain_ustar(void **state)
{
    fixture *f = *state;
    unsigned char hdr[512];
    char field[16];
    long long size, off = 0;
    int fd, members = 0;

    write_ova(f);
    fd = open(f->ova, O_RDONLY);
    assert_true(fd >= 0);
    for (;;) {
        assert_int_equal(pread(fd, hdr, 512, off), 512);
        if (hdr[0] == '\0')
            break; /* end-of-archive blocks */
        members++;
        assert_memory_equal(hdr + 257,
                            "ustar\0"
                            "00",
                            8);
        assert_int_equal(hdr[156], '0');
        memcpy(field, hdr + 108, 8); /* uid */
        field[8] = '\0';
        assert_int_equal(strtol(field, NULL, 8), 0);
        memcpy(field, hdr + 136, 12); /* mtime */
        field[12] = '\0';
        assert_int_equal(strtoll(field, NULL, 8), FIXTURE_TAKEN_MS / 1000);
        memcpy(field, hdr + 124, 12);
        field[12] = '\0';
        size = strtoll(field, NULL, 8);
        off += 512 + (size + 511) / 512 * 512;
    }
    close(fd);
    assert_int_equal(members, 4);
}

static void
test_manifest_has_a_sha256_line_per_other_member(void **state)
{
    fixture *f = *state;
    char ha[GLANCE_HASH_HEX_SIZE], hb[GLANCE_HASH_HEX_SIZE];
    char ho[GLANCE_HASH_HEX_SIZE], want[1024];
    snap_error err = {0};
    glance_hash *h;
    tg_member *m = NULL;
    size_t n;

    write_ova(f);
    n = tg_read_members(f->ova, &m);
    assert_true(glance_sha256_file(f->paths[0], ha, &err));
    assert_true(glance_sha256_file(f->paths[1], hb, &err));
    h = glance_hash_new(GLANCE_HASH_SHA256, &err);
    assert_true(glance_hash_update(h, m[0].data, (size_t)m[0].size, &err));
    assert_true(glance_hash_final_hex(h, ho, sizeof(ho), &err));
    glance_hash_free(h);
    snprintf(want, sizeof(want),
             "SHA256(web01.ovf)= %s\nSHA256(disk-a.vmdk)= %s\n"
             "SHA256(disk-b.qcow2)= %s\n",
             ho, ha, hb);
    assert_string_equal(m[1].data, want);
    tg_members_free(m, n);
}

static void
test_written_ova_verifies_and_carries_the_descriptor(void **state)
{
    fixture *f = *state;
    snap_error err = {0};
    tg_member *m = NULL;
    char *xml = NULL;
    size_t n, len = 0;

    write_ova(f);
    if (!glance_ova_verify(f->ova, &err))
        fail_msg("verify: %s", err.msg);
    n = tg_read_members(f->ova, &m);
    assert_true(glance_ovf_write(f->ovf, &xml, &len, &err));
    assert_int_equal((size_t)m[0].size, len);
    assert_memory_equal(m[0].data, xml, len);
    free(xml);
    tg_members_free(m, n);
    /* Created for the owner only: it holds whole disks. */
    {
        struct stat st;

        assert_int_equal(stat(f->ova, &st), 0);
        assert_int_equal(st.st_mode & 0777, 0600);
    }
    /* Nothing else was left in the directory. */
    assert_int_equal(tg_dir_count(f->out), 1);
}

static char *
find(char *hay, size_t hlen, const char *needle, size_t nlen)
{
    size_t i;

    for (i = 0; i + nlen <= hlen; i++) {
        if (memcmp(hay + i, needle, nlen) == 0)
            return hay + i;
    }
    return NULL;
}

/* Flips one byte in the middle of disk-a inside the OVA. */
static void
test_verify_detects_a_corrupted_disk_byte(void **state)
{
    fixture *f = *state;
    char *ova, *disk;
    size_t ova_len, disk_len, off;
    char *at;
    FILE *out;

    write_ova(f);
    ova = tg_read_file(f->ova, &ova_len);
    disk = tg_read_file(f->paths[0], &disk_len);
    at = find(ova, ova_len, disk, 256);
    assert_non_null(at);
    off = (size_t)(at - ova) + disk_len / 2;
    ova[off] ^= 0x01;
    out = fopen(f->ova, "wb");
    assert_int_equal(fwrite(ova, 1, ova_len, out), ova_len);
    fclose(out);
    assert_verify_fails(f->ova, "digest mismatch for 'disk-a.vmdk'");
    free(ova);
    free(disk);
}

/* Rebuilds the fixture OVA from its parts in another order. */
static void
repack(fixture *f, const char *path, const int *order, size_t n,
       const char *ovf_override)
{
    tg_member *m = NULL;
    const char *names[8], *datas[8];
    char *contents[4] = {NULL, NULL, NULL, NULL};
    size_t lens[8], count, i, k;

    write_ova(f);
    count = tg_read_members(f->ova, &m);
    assert_int_equal(count, 4);
    contents[0] = m[0].data;
    contents[1] = m[1].data;
    contents[2] = tg_read_file(f->paths[0], NULL);
    contents[3] = tg_read_file(f->paths[1], NULL);
    for (i = 0; i < n; i++) {
        k = (size_t)order[i];
        names[i] = m[k].name;
        datas[i] = (k == 0 && ovf_override) ? ovf_override : contents[k];
        lens[i] =
            (k == 0 && ovf_override) ? strlen(ovf_override) : (size_t)m[k].size;
    }
    tg_write_tar(path, names, datas, lens, n);
    free(contents[2]);
    free(contents[3]);
    tg_members_free(m, count);
}

static void
test_verify_detects_disks_out_of_order(void **state)
{
    fixture *f = *state;
    const int order[] = {0, 1, 3, 2};
    char *path = join(f->out, "swapped.ova");

    repack(f, path, order, 4, NULL);
    assert_verify_fails(path, "member 3 is 'disk-b.qcow2' but References "
                              "lists 'disk-a.vmdk' there");
    free(path);
}

static void
test_verify_detects_a_misplaced_manifest_or_descriptor(void **state)
{
    fixture *f = *state;
    const int mf_last[] = {0, 2, 3, 1};
    const int ovf_second[] = {1, 0, 2, 3};
    char *path = join(f->out, "bad.ova");

    repack(f, path, mf_last, 4, NULL);
    assert_verify_fails(path, "second member is 'disk-a.vmdk', not the .mf "
                              "manifest");
    repack(f, path, ovf_second, 4, NULL);
    assert_verify_fails(path, "first member is 'web01.mf', not the .ovf "
                              "descriptor");
    free(path);
}

static void
test_verify_detects_missing_and_extra_members(void **state)
{
    fixture *f = *state;
    const int missing[] = {0, 1, 2};
    const int extra[] = {0, 1, 2, 3, 3};
    const int bare[] = {0};
    char *path = join(f->out, "bad.ova");

    repack(f, path, missing, 3, NULL);
    assert_verify_fails(path, "'disk-b.qcow2' of References is missing");
    repack(f, path, extra, 5, NULL);
    assert_verify_fails(path, "member 'disk-b.qcow2' is not in References");
    repack(f, path, bare, 1, NULL);
    assert_verify_fails(path, "no manifest");
    free(path);
}

static void
test_verify_detects_a_changed_descriptor(void **state)
{
    fixture *f = *state;
    const int order[] = {0, 1, 2, 3};
    char *path = join(f->out, "bad.ova"), *xml = NULL, *p;
    snap_error err = {0};
    size_t len;

    assert_true(glance_ovf_write(f->ovf, &xml, &len, &err));
    p = strstr(xml, "2048");
    assert_non_null(p);
    p[0] = '4'; /* memory doubled behind the manifest's back */
    repack(f, path, order, 4, xml);
    assert_verify_fails(path, "digest mismatch for 'web01.ovf'");
    free(xml);
    free(path);
}

static void
test_verify_checks_descriptor_links(void **state)
{
    fixture *f = *state;
    const int order[] = {0, 1, 2, 3};
    char *path = join(f->out, "bad.ova"), *xml = NULL, *p;
    snap_error err = {0};
    size_t len;

    /* Same length, so the manifest can stay: only the digest then fails,
     * after the link check. */
    assert_true(glance_ovf_write(f->ovf, &xml, &len, &err));
    p = strstr(xml, "ovf:/disk/vmdisk2");
    assert_non_null(p);
    p[16] = '9';
    repack(f, path, order, 4, xml);
    assert_verify_fails(path, "has no valid HostResource");
    free(xml);

    assert_true(glance_ovf_write(f->ovf, &xml, &len, &err));
    p = strstr(xml, "ovf:fileRef=\"file2\"");
    assert_non_null(p);
    p[17] = '7';
    repack(f, path, order, 4, xml);
    assert_verify_fails(path, "disk 'vmdisk2' refers to unknown file 'file7'");
    free(xml);

    repack(f, path, order, 4, "<Envelope><unclosed></Envelope>");
    assert_verify_fails(path, "descriptor is not well-formed XML");
    repack(f, path, order, 4,
           "<Envelope xmlns='http://schemas.dmtf.org/ovf/"
           "envelope/2'/>");
    assert_verify_fails(path, "descriptor is not an OVF 1.x Envelope");
    free(path);
}

/* A descriptor whose links hold but that breaks DSP8023: an element of
 * another namespace where the schema allows only OVF sections (what snapset
 * wrote before its facts moved into ProductSections). */
static void
test_verify_validates_the_descriptor_against_the_schema(void **state)
{
    static const char section[] =
        "<s:SnapshotSetSection xmlns:s=\"urn:snapset:ovf:1\" "
        "ovf:required=\"false\"><Info>set</Info></s:SnapshotSetSection>\n";
    fixture *f = *state;
    const int order[] = {0, 1, 2, 3};
    char *path = join(f->out, "bad.ova"), *xml = NULL, *bad, *p;
    snap_error err = {0};
    size_t len;

    assert_true(glance_ovf_write(f->ovf, &xml, &len, &err));
    p = strstr(xml, "  </VirtualSystem>");
    assert_non_null(p);
    bad = malloc(len + sizeof(section));
    assert_non_null(bad);
    memcpy(bad, xml, (size_t)(p - xml));
    strcpy(bad + (p - xml), section);
    strcat(bad, p);
    repack(f, path, order, 4, bad);
    assert_verify_fails(path, "descriptor does not validate against the OVF "
                              "schema (line ");
    assert_verify_fails(path, "SnapshotSetSection");
    free(bad);
    free(xml);
    free(path);
}

/* Without the schemas the check fails, naming where it looked: a package
 * is never called verified with a step skipped. */
static void
test_verify_fails_when_the_schemas_are_missing(void **state)
{
    fixture *f = *state;
    char *saved = strdup(tg_schema_dir());
    snap_error err = {0};

    assert_non_null(saved);
    write_ova(f);
    assert_int_equal(setenv(GLANCE_OVF_SCHEMA_DIR_ENV, f->top, 1), 0);
    assert_false(glance_ova_verify(f->ova, &err));
    assert_int_equal(setenv(GLANCE_OVF_SCHEMA_DIR_ENV, saved, 1), 0);
    assert_int_equal(err.code, SNAP_E_NOTFOUND);
    if (!strstr(err.msg, f->top) || !strstr(err.msg, "ovf-all.xsd' is missing"))
        fail_msg("verify said '%s'", err.msg);
    free(saved);
    snap_error_clear(&err);
    assert_true(glance_ova_verify(f->ova, &err));
}

/* A well-formed package of a descriptor and its manifest, and no disk:
 * nothing to restore, so it must not pass as verified. */
static void
test_verify_refuses_a_package_without_disks(void **state)
{
    static const char xml[] =
        "<?xml version='1.0'?>\n"
        "<Envelope xmlns='http://schemas.dmtf.org/ovf/envelope/1'>"
        "<References/><DiskSection><Info>disks</Info></DiskSection>"
        "</Envelope>\n";
    fixture *f = *state;
    char *path = join(f->out, "empty.ova");
    char hex[GLANCE_HASH_HEX_SIZE], mf[256];
    const char *names[2] = {"empty.ovf", "empty.mf"};
    const char *datas[2];
    size_t lens[2];
    glance_hash *h;

    h = glance_hash_new(GLANCE_HASH_SHA256, NULL);
    assert_non_null(h);
    assert_true(glance_hash_update(h, xml, strlen(xml), NULL));
    assert_true(glance_hash_final_hex(h, hex, sizeof(hex), NULL));
    glance_hash_free(h);
    snprintf(mf, sizeof(mf), "SHA256(empty.ovf)= %s\n", hex);
    datas[0] = xml;
    datas[1] = mf;
    lens[0] = strlen(xml);
    lens[1] = strlen(mf);
    tg_write_tar(path, names, datas, lens, 2);
    assert_verify_fails(path, "no disk");
    free(path);
}

static void
test_verify_of_something_else_fails_cleanly(void **state)
{
    fixture *f = *state;
    snap_error err = {0};

    assert_false(glance_ova_verify("/nonexistent/x.ova", &err));
    assert_int_equal(err.code, SNAP_E_NOTFOUND);
    snap_error_clear(&err);
    /* A disk image is no tar. */
    assert_false(glance_ova_verify(f->paths[1], &err));
    assert_int_equal(err.code, SNAP_E_INVALID);
    assert_null(strchr(err.msg, '\n'));
}

static void
test_no_disks_is_refused_and_nothing_is_written(void **state)
{
    fixture *f = *state;
    snap_error err = {0};
    glance_ovf *empty;

    assert_false(glance_ova_write(f->ova, f->ovf, NULL, 0, &err));
    assert_int_equal(err.code, SNAP_E_INVALID);
    assert_string_equal(err.msg, "cannot package 'web01': no disks");
    snap_error_clear(&err);
    empty = glance_ovf_new("empty", &err);
    assert_false(glance_ova_write(f->ova, empty, (const char *const *)f->paths,
                                  2, &err));
    assert_string_equal(err.msg, "cannot package 'empty': no disks");
    glance_ovf_free(empty);
    snap_error_clear(&err);
    assert_false(glance_ova_write(f->ova, f->ovf, (const char *const *)f->paths,
                                  1, &err));
    assert_string_equal(err.msg, "cannot package 'web01': 1 disk files given "
                                 "for 2 disks in the descriptor");
    assert_int_equal(tg_dir_count(f->out), 0);
}

static void
test_bad_disk_files_are_refused_and_nothing_is_written(void **state)
{
    fixture *f = *state;
    const char *missing[] = {f->paths[0], "/nonexistent/b.qcow2"};
    const char *swapped[] = {f->paths[1], f->paths[0]};
    const char *dir[] = {f->paths[0], f->disks};
    snap_error err = {0};
    char want[512];

    assert_false(glance_ova_write(f->ova, f->ovf, missing, 2, &err));
    assert_int_equal(err.code, SNAP_E_NOTFOUND);
    assert_string_equal(err.msg, "no such disk file: '/nonexistent/b.qcow2'");
    snap_error_clear(&err);
    assert_false(glance_ova_write(f->ova, f->ovf, swapped, 2, &err));
    snprintf(want, sizeof(want),
             "disk file '%s' has %d bytes but the "
             "descriptor says %d",
             f->paths[1], SIZE_B, SIZE_A);
    assert_string_equal(err.msg, want);
    snap_error_clear(&err);
    assert_false(glance_ova_write(f->ova, f->ovf, dir, 2, &err));
    snprintf(want, sizeof(want), "disk file '%s' is not a regular file",
             f->disks);
    assert_string_equal(err.msg, want);
    assert_int_equal(tg_dir_count(f->out), 0);
}

static void
test_unwritable_path_is_refused(void **state)
{
    fixture *f = *state;
    snap_error err = {0};
    char *path;

    assert_false(glance_ova_write("/nonexistent/dir/x.ova", f->ovf,
                                  (const char *const *)f->paths, 2, &err));
    assert_int_equal(err.code, SNAP_E_SYSTEM);
    assert_string_equal(err.msg, "cannot create a file in '/nonexistent/dir': "
                                 "No such file or directory");
    /* A regular file where a directory should be. */
    snap_error_clear(&err);
    path = join(f->paths[0], "x.ova");
    assert_false(
        glance_ova_write(path, f->ovf, (const char *const *)f->paths, 2, &err));
    assert_int_equal(err.sys_errno, ENOTDIR);
    assert_null(strchr(err.msg, '\n'));
    free(path);
    assert_int_equal(tg_dir_count(f->out), 0);
}

/* The file system refuses more data half-way through the first disk
 * (RLIMIT_FSIZE, in a child process): the error says why, and neither the
 * OVA nor its temporary file is left. */
static void
test_failure_midway_leaves_no_partial_file(void **state)
{
    fixture *f = *state;
    struct rlimit rl = {GLANCE_CHUNK_SIZE, GLANCE_CHUNK_SIZE};
    snap_error err = {0};
    int status = -1;
    pid_t pid;

    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        signal(SIGXFSZ, SIG_IGN);
        if (setrlimit(RLIMIT_FSIZE, &rl) < 0)
            _exit(3);
        if (glance_ova_write(f->ova, f->ovf, (const char *const *)f->paths, 2,
                             &err))
            _exit(1);
        fprintf(stderr, "child: %s\n", err.msg);
        _exit(err.code == SNAP_E_SYSTEM && err.sys_errno == EFBIG ? 0 : 2);
    }
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    assert_int_equal(tg_dir_count(f->out), 0);
}

/* A disk that changes size after it was checked (a /proc file: it claims
 * 0 bytes and has more) is caught while streaming; the package is abandoned
 * in this process, which also proves no trailer or padding is written. */
static void
test_a_disk_that_grows_is_caught_and_nothing_is_left(void **state)
{
    fixture *f = *state;
    const char *paths[] = {f->paths[0], "/proc/self/status"};
    glance_ovf *ovf = tg_fixture_ovf(SIZE_A, 0);
    snap_error err = {0};

    assert_false(glance_ova_write(f->ova, ovf, paths, 2, &err));
    assert_int_equal(err.code, SNAP_E_STATE);
    assert_string_equal(err.msg, "disk file '/proc/self/status' grew while it "
                                 "was packaged");
    assert_int_equal(tg_dir_count(f->out), 0);
    glance_ovf_free(ovf);
}

static void
test_an_existing_ova_is_replaced_whole(void **state)
{
    fixture *f = *state;
    snap_error err = {0};
    FILE *old;

    old = fopen(f->ova, "w");
    fputs("old content", old);
    fclose(old);
    write_ova(f);
    assert_true(glance_ova_verify(f->ova, &err));
    assert_int_equal(tg_dir_count(f->out), 1);
}

static void
test_ovf_dir_holds_the_same_package(void **state)
{
    fixture *f = *state;
    char *dir = join(f->out, "pkg/web01"), *p, *a, *b;
    snap_error err = {0};
    tg_member *m = NULL;
    size_t n, la, lb;

    write_ova(f);
    n = tg_read_members(f->ova, &m);
    if (!glance_ovf_dir_write(dir, f->ovf, (const char *const *)f->paths, 2,
                              &err))
        fail_msg("dir write: %s", err.msg);
    assert_int_equal(tg_dir_count(dir), 4);
    p = join(dir, "web01.ovf");
    a = tg_read_file(p, &la);
    assert_int_equal(la, (size_t)m[0].size);
    assert_memory_equal(a, m[0].data, la);
    free(a);
    free(p);
    p = join(dir, "web01.mf");
    a = tg_read_file(p, &la);
    assert_string_equal(a, m[1].data);
    free(a);
    free(p);
    p = join(dir, "disk-a.vmdk");
    a = tg_read_file(p, &la);
    b = tg_read_file(f->paths[0], &lb);
    assert_int_equal(la, lb);
    assert_memory_equal(a, b, la);
    free(a);
    free(b);
    free(p);
    tg_members_free(m, n);
    free(dir);
}

static void
test_ovf_dir_refuses_to_replace_and_leaves_nothing(void **state)
{
    fixture *f = *state;
    const char *missing[] = {f->paths[0], "/nonexistent/b.qcow2"};
    char *dir = join(f->out, "pkg"), *p;
    snap_error err = {0};
    char want[512];
    FILE *x;

    /* A failing write does not leave the directory it made. */
    assert_false(glance_ovf_dir_write(dir, f->ovf, missing, 2, &err));
    assert_int_equal(tg_dir_count(f->out), 0);
    snap_error_clear(&err);
    mkdir(dir, 0755);
    p = join(dir, "disk-b.qcow2");
    x = fopen(p, "w");
    fclose(x);
    assert_false(glance_ovf_dir_write(dir, f->ovf,
                                      (const char *const *)f->paths, 2, &err));
    assert_int_equal(err.code, SNAP_E_STATE);
    snprintf(want, sizeof(want), "'%s' already exists", p);
    assert_string_equal(err.msg, want);
    assert_int_equal(tg_dir_count(dir), 1); /* only the one that was there */
    free(p);
    free(dir);
}

/* What libarchive writes for a member of 8 GiB or more: a pax header
 * carrying the exact size before the ustar header. Checked on the header
 * alone, without writing 9 GiB. */
static unsigned char captured[8192];
static size_t ncaptured;
static bool capture_closed;

static la_ssize_t
capture(struct archive *a, void *ctx, const void *buf, size_t len)
{
    size_t n = len;

    (void)ctx;
    if (capture_closed) {
        archive_set_error(a, ECANCELED, "closed");
        return -1;
    }
    if (n > sizeof(captured) - ncaptured)
        n = sizeof(captured) - ncaptured;
    memcpy(captured + ncaptured, buf, n);
    ncaptured += n;
    return (la_ssize_t)len;
}

static size_t
header_of(int64_t size)
{
    snap_error err = {0};
    struct archive *a;
    struct archive_entry *e;

    ncaptured = 0;
    capture_closed = false;
    a = glance_tar_writer_new(&err);
    assert_non_null(a);
    archive_write_set_bytes_per_block(a, 0); /* unblocked: see every byte */
    assert_int_equal(archive_write_open2(a, NULL, NULL, capture, NULL, NULL),
                     ARCHIVE_OK);
    e = glance_tar_entry_new("disk-a.vmdk", size, 1795322364, &err);
    assert_int_equal(archive_write_header(a, e), ARCHIVE_OK);
    archive_entry_free(e);
    capture_closed = true; /* do not pad 9 GiB of data on free */
    archive_write_free(a);
    return ncaptured;
}

static void
test_members_over_8_gib_get_a_pax_size(void **state)
{
    size_t n;

    (void)state;
    /* Just under 8 GiB: one plain ustar header. */
    n = header_of((INT64_C(1) << 33) - 1);
    assert_int_equal(n, 512);
    assert_int_equal(captured[156], '0');
    assert_memory_equal(captured + 257,
                        "ustar\0"
                        "00",
                        8);
    /* 9 GiB: pax 'x' header + its record block + the ustar header. */
    n = header_of(INT64_C(9) << 30);
    assert_int_equal(n, 1536);
    assert_int_equal(captured[156], 'x');
    assert_memory_equal(captured, "PaxHeader/disk-a.vmdk", 21);
    assert_non_null(find((char *)captured + 512, 512, "size=9663676416\n", 16));
    assert_int_equal(captured[1024 + 156], '0');
    assert_memory_equal(captured + 1024, "disk-a.vmdk", 12);
    assert_memory_equal(captured + 1024 + 257,
                        "ustar\0"
                        "00",
                        8);
}

static bool
have(const char *tool)
{
    char cmd[256];

    snprintf(cmd, sizeof(cmd), "command -v %s >/dev/null 2>&1", tool);
    return system(cmd) == 0;
}

static char *
run(const char *cmd)
{
    char *out = calloc(1, 65536);
    size_t n = 0, r;
    FILE *p;

    p = popen(cmd, "r");
    assert_non_null(p);
    while ((r = fread(out + n, 1, 65535 - n, p)) > 0)
        n += r;
    assert_int_equal(pclose(p), 0);
    return out;
}

/* GNU tar, file(1) and xmllint, when installed, read what we wrote. */
static void
test_external_tools_read_the_ova(void **state)
{
    fixture *f = *state;
    char cmd[1024], *out, *a, *b, *c, *d;
    char *ovf = join(f->out, "x.ovf");
    tg_member *m = NULL;
    size_t n;
    FILE *w;

    if (!have("tar") || !have("xmllint") || !have("file"))
        skip();
    write_ova(f);
    snprintf(cmd, sizeof(cmd), "tar -tvf '%s'", f->ova);
    out = run(cmd);
    a = strstr(out, " web01.ovf\n");
    b = strstr(out, " web01.mf\n");
    c = strstr(out, " disk-a.vmdk\n");
    d = strstr(out, " disk-b.qcow2\n");
    assert_true(a && b && c && d && a < b && b < c && c < d);
    assert_non_null(strstr(out, "0/0"));
    free(out);
    snprintf(cmd, sizeof(cmd), "file -b '%s'", f->ova);
    out = run(cmd);
    /* ustar with "00": POSIX; GNU tar format would say "(GNU)". */
    assert_true(strncmp(out, "POSIX tar archive", 17) == 0);
    assert_null(strstr(out, "GNU"));
    free(out);
    n = tg_read_members(f->ova, &m);
    w = fopen(ovf, "wb");
    fwrite(m[0].data, 1, (size_t)m[0].size, w);
    fclose(w);
    snprintf(cmd, sizeof(cmd), "xmllint --noout '%s' 2>&1", ovf);
    out = run(cmd);
    assert_string_equal(out, "");
    free(out);
    tg_members_free(m, n);
    free(ovf);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(
            test_ova_members_are_ovf_mf_then_disks_in_order, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ova_headers_are_plain_ustar, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(
            test_manifest_has_a_sha256_line_per_other_member, setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_written_ova_verifies_and_carries_the_descriptor, setup,
            teardown),
        cmocka_unit_test_setup_teardown(
            test_verify_detects_a_corrupted_disk_byte, setup, teardown),
        cmocka_unit_test_setup_teardown(test_verify_detects_disks_out_of_order,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_verify_detects_a_misplaced_manifest_or_descriptor, setup,
            teardown),
        cmocka_unit_test_setup_teardown(
            test_verify_detects_missing_and_extra_members, setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_verify_detects_a_changed_descriptor, setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_verify_validates_the_descriptor_against_the_schema, setup,
            teardown),
        cmocka_unit_test_setup_teardown(
            test_verify_fails_when_the_schemas_are_missing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_verify_checks_descriptor_links,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_verify_of_something_else_fails_cleanly, setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_verify_refuses_a_package_without_disks, setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_no_disks_is_refused_and_nothing_is_written, setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_bad_disk_files_are_refused_and_nothing_is_written, setup,
            teardown),
        cmocka_unit_test_setup_teardown(test_unwritable_path_is_refused, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(
            test_failure_midway_leaves_no_partial_file, setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_a_disk_that_grows_is_caught_and_nothing_is_left, setup,
            teardown),
        cmocka_unit_test_setup_teardown(test_an_existing_ova_is_replaced_whole,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_ovf_dir_holds_the_same_package,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_ovf_dir_refuses_to_replace_and_leaves_nothing, setup,
            teardown),
        cmocka_unit_test(test_members_over_8_gib_get_a_pax_size),
        cmocka_unit_test_setup_teardown(test_external_tools_read_the_ova, setup,
                                        teardown),
    };

    /* glance_ova_verify() validates the descriptor: with the vendored
     * schemas unless SNAPSET_OVF_SCHEMA_DIR names others. */
    (void)tg_schema_dir();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
