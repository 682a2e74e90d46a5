/* tests/unit/test_glance_util.c -- see test_glance_util.h. */
#include "unit/test_glance_util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>

static void
die(const char *what)
{
    fprintf(stderr, "test fixture: %s: %s\n", what, strerror(errno));
    abort();
}

char *
tg_tmpdir(void)
{
    const char *base = getenv("TMPDIR");
    char *path;

    if (!base || !*base)
        base = "/tmp";
    path = malloc(strlen(base) + 32);
    if (!path)
        die("malloc");
    sprintf(path, "%s/test_glance.XXXXXX", base);
    if (!mkdtemp(path))
        die("mkdtemp");
    return path;
}

void
tg_rmtree(const char *path)
{
    struct stat st;
    struct dirent *de;
    DIR *d;
    char *child;

    if (lstat(path, &st) < 0)
        return;
    if (S_ISDIR(st.st_mode)) {
        (void)chmod(path, 0700);
        d = opendir(path);
        if (d) {
            while ((de = readdir(d))) {
                if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
                    continue;
                child = malloc(strlen(path) + strlen(de->d_name) + 2);
                if (!child)
                    die("malloc");
                sprintf(child, "%s/%s", path, de->d_name);
                tg_rmtree(child);
                free(child);
            }
            closedir(d);
        }
        (void)rmdir(path);
    } else {
        (void)unlink(path);
    }
}

char *
tg_make_file(const char *dir, const char *name, size_t size, unsigned seed)
{
    char *path, buf[4096];
    size_t i, n, done = 0;
    unsigned x = seed * 2654435761u + 1;
    FILE *f;

    path = malloc(strlen(dir) + strlen(name) + 2);
    if (!path)
        die("malloc");
    sprintf(path, "%s/%s", dir, name);
    f = fopen(path, "wb");
    if (!f)
        die(path);
    while (done < size) {
        n = size - done < sizeof(buf) ? size - done : sizeof(buf);
        for (i = 0; i < n; i++) {
            x = x * 1103515245u + 12345u;
            buf[i] = (char)(x >> 16);
        }
        if (fwrite(buf, 1, n, f) != n)
            die(path);
        done += n;
    }
    if (fclose(f) != 0)
        die(path);
    return path;
}

glance_ovf *
tg_fixture_ovf(uint64_t size_a, uint64_t size_b)
{
    snap_error err = {0};
    glance_ovf *ovf;
    glance_ovf_disk a = {
        .file = "disk-a.vmdk",
        .file_size = size_a,
        .capacity = UINT64_C(10737418240),
        .populated_size = UINT64_C(1073741824),
        .format = GLANCE_DISK_FORMAT_VMDK_STREAM,
        .bus = GLANCE_BUS_VIRTIO,
        .target = "vda",
    };
    glance_ovf_disk b = {
        .file = "disk-b.qcow2",
        .file_size = size_b,
        .capacity = UINT64_C(21474836480),
        .format = GLANCE_DISK_FORMAT_QCOW2,
        .bus = GLANCE_BUS_VIRTIO,
        .target = "vdb",
    };
    glance_ovf_nic nic = {"net0", "default", "virtio", "52:54:00:12:34:56"};
    glance_ovf_facts facts = {
        .set_uuid = FIXTURE_SET_UUID,
        .consistency = "fs",
        .taken_ms = FIXTURE_TAKEN_MS,
        .domain = "web01",
        .domain_uuid = "0e1d2c3b-4a59-4867-9786-a5b4c3d2e1f0",
    };
    glance_ovf_member m1 = {"vda", "local",
                            "/var/lib/libvirt/images/web01.qcow2",
                            "/var/lib/libvirt/images/web01.snap-1.qcow2"};
    glance_ovf_member m2 = {"vdb", "cinder",
                            "5a3c0d3e-0f0e-4b55-9d1f-2a4b6c8d0e1f",
                            "9b8a7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d"};

    ovf = glance_ovf_new("web01", &err);
    if (!ovf || !glance_ovf_set_hardware(ovf, 2, 2048, "x86_64", &err) ||
        !glance_ovf_set_os(ovf, "linux", &err) ||
        !glance_ovf_set_facts(ovf, &facts, &err) ||
        !glance_ovf_disk_add(ovf, &a, &err) ||
        !glance_ovf_disk_add(ovf, &b, &err) ||
        !glance_ovf_nic_add(ovf, &nic, &err) ||
        !glance_ovf_member_add(ovf, &m1, &err) ||
        !glance_ovf_member_add(ovf, &m2, &err)) {
        fprintf(stderr, "fixture model: %s\n", err.msg);
        abort();
    }
    return ovf;
}

size_t
tg_dir_count(const char *dir)
{
    struct dirent *de;
    size_t n = 0;
    DIR *d;

    d = opendir(dir);
    if (!d)
        return 0;
    while ((de = readdir(d))) {
        if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
            n++;
    }
    closedir(d);
    return n;
}

size_t
tg_read_members(const char *path, tg_member **members)
{
    struct archive *a;
    struct archive_entry *e;
    tg_member *list = NULL;
    size_t n = 0, used;
    la_ssize_t r;
    int64_t size;

    a = archive_read_new();
    archive_read_support_format_tar(a);
    if (archive_read_open_filename(a, path, 65536) != ARCHIVE_OK) {
        fprintf(stderr, "cannot open %s: %s\n", path, archive_error_string(a));
        abort();
    }
    while (archive_read_next_header(a, &e) == ARCHIVE_OK) {
        list = realloc(list, (n + 1) * sizeof(*list));
        if (!list)
            die("realloc");
        size = archive_entry_size(e);
        list[n].name = strdup(archive_entry_pathname(e));
        list[n].size = size;
        list[n].data = NULL;
        if (n < 2) {
            list[n].data = malloc((size_t)size + 1);
            used = 0;
            while ((r = archive_read_data(a, list[n].data + used,
                                          (size_t)size - used)) > 0)
                used += (size_t)r;
            list[n].data[used] = '\0';
        }
        n++;
    }
    archive_read_free(a);
    *members = list;
    return n;
}

void
tg_members_free(tg_member *members, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++) {
        free(members[i].name);
        free(members[i].data);
    }
    free(members);
}

void
tg_write_tar(const char *path, const char *const *names,
             const char *const *datas, const size_t *lens, size_t n)
{
    struct archive *a;
    struct archive_entry *e;
    size_t i;

    a = archive_write_new();
    archive_write_set_format_ustar(a);
    if (archive_write_open_filename(a, path) != ARCHIVE_OK)
        die(path);
    for (i = 0; i < n; i++) {
        e = archive_entry_new();
        archive_entry_set_pathname(e, names[i]);
        archive_entry_set_filetype(e, AE_IFREG);
        archive_entry_set_perm(e, 0644);
        archive_entry_set_size(e, (la_int64_t)lens[i]);
        archive_write_header(a, e);
        archive_write_data(a, datas[i], lens[i]);
        archive_entry_free(e);
    }
    archive_write_close(a);
    archive_write_free(a);
}

char *
tg_read_file(const char *path, size_t *len)
{
    struct stat st;
    char *buf;
    FILE *f;

    f = fopen(path, "rb");
    if (!f)
        die(path);
    if (fstat(fileno(f), &st) < 0)
        die(path);
    buf = malloc((size_t)st.st_size + 1);
    if (!buf || fread(buf, 1, (size_t)st.st_size, f) != (size_t)st.st_size)
        die(path);
    buf[st.st_size] = '\0';
    fclose(f);
    if (len)
        *len = (size_t)st.st_size;
    return buf;
}

const char *
tg_schema_dir(void)
{
    const char *dir = getenv(GLANCE_OVF_SCHEMA_DIR_ENV);

    if (!dir || !*dir) {
        if (setenv(GLANCE_OVF_SCHEMA_DIR_ENV, TG_OVF_SCHEMA_DIR, 1) != 0)
            die("setenv");
        dir = getenv(GLANCE_OVF_SCHEMA_DIR_ENV);
    }
    return dir;
}
