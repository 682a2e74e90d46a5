/* glance/verify.c -- reading an OVA back and checking it (libarchive,
 * libxml2): member order, manifest digests, descriptor links. */
#include "glance/glance.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <archive.h>
#include <archive_entry.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xpath.h>
#include <libxml/xpathInternals.h>

#include "glance/glance_priv.h"

#define NS_OVF "http://schemas.dmtf.org/ovf/envelope/1"
#define NS_RASD                                                                \
    "http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/"                       \
    "CIM_ResourceAllocationSettingData"

/* Bounds on what is read into memory: the descriptor and the manifest are
 * small text; anything bigger is not one of ours. */
#define DESCRIPTOR_MAX (16 * 1024 * 1024)
#define MANIFEST_MAX (1024 * 1024)

typedef struct file_ref {
    char *id;
    char *href;
    uint64_t size;
    bool sized;
} file_ref;

typedef struct descriptor {
    file_ref *files;
    size_t nfiles;
} descriptor;

static void
descriptor_release(descriptor *d)
{
    size_t i;

    for (i = 0; i < d->nfiles; i++) {
        free(d->files[i].id);
        free(d->files[i].href);
    }
    free(d->files);
    memset(d, 0, sizeof(*d));
}

/* The value of attribute ovf:@name of @node as a new string (free()), or
 * NULL when absent. */
static char *
ovf_attr(xmlNodePtr node, const char *name)
{
    xmlChar *v = xmlGetNsProp(node, BAD_CAST name, BAD_CAST NS_OVF);
    char *s;

    if (!v)
        return NULL;
    s = strdup((const char *)v);
    xmlFree(v);
    return s;
}

/* The text of the first rasd:@name child of @item, or NULL. xmlFree() it. */
static xmlChar *
rasd_text(xmlNodePtr item, const char *name)
{
    xmlNodePtr c;

    for (c = item->children; c; c = c->next) {
        if (c->type == XML_ELEMENT_NODE && c->ns &&
            xmlStrEqual(c->ns->href, BAD_CAST NS_RASD) &&
            xmlStrEqual(c->name, BAD_CAST name))
            return xmlNodeGetContent(c);
    }
    return NULL;
}

static bool
parse_u64(const char *s, uint64_t *out)
{
    char *end;

    if (!s || !*s || *s == '-' || *s == '+')
        return false;
    errno = 0;
    *out = strtoull(s, &end, 10);
    return errno == 0 && *end == '\0';
}

/* A plain member name: no directory part, nothing that climbs out. */
static bool
plain_name(const char *name)
{
    return name && *name && !strchr(name, '/') && strcmp(name, ".") != 0 &&
           strcmp(name, "..") != 0;
}

static bool
ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);

    return n > m && strcmp(s + n - m, suffix) == 0;
}

static xmlXPathObjectPtr
select_nodes(xmlXPathContextPtr ctx, const char *expr)
{
    xmlXPathObjectPtr r = xmlXPathEvalExpression(BAD_CAST expr, ctx);

    if (r && r->type != XPATH_NODESET) {
        xmlXPathFreeObject(r);
        return NULL;
    }
    return r;
}

static size_t
node_count(xmlXPathObjectPtr r)
{
    return (r && r->nodesetval) ? (size_t)r->nodesetval->nodeNr : 0;
}

static bool
read_files(xmlXPathContextPtr ctx, descriptor *d, const char *what,
           snap_error *err)
{
    xmlXPathObjectPtr r = NULL;
    char *size = NULL;
    size_t i, j, n;
    bool ok = false;

    r = select_nodes(ctx, "/ovf:Envelope/ovf:References/ovf:File");
    n = node_count(r);
    d->files = calloc(n ? n : 1, sizeof(*d->files));
    if (!d->files) {
        snap_error_set(err, SNAP_E_NOMEM, "out of memory");
        goto cleanup;
    }
    for (i = 0; i < n; i++) {
        file_ref *f = &d->files[d->nfiles++];

        f->id = ovf_attr(r->nodesetval->nodeTab[i], "id");
        f->href = ovf_attr(r->nodesetval->nodeTab[i], "href");
        size = ovf_attr(r->nodesetval->nodeTab[i], "size");
        if (!f->id || !f->href) {
            snap_error_set(err, SNAP_E_INVALID,
                           "%s: References/File %zu lacks ovf:id or ovf:href",
                           what, i + 1);
            goto cleanup;
        }
        if (!plain_name(f->href)) {
            snap_error_set(err, SNAP_E_INVALID,
                           "%s: file '%s' is not a plain member name", what,
                           f->href);
            goto cleanup;
        }
        if (size) {
            if (!parse_u64(size, &f->size)) {
                snap_error_set(err, SNAP_E_INVALID,
                               "%s: file '%s' has an invalid ovf:size", what,
                               f->href);
                goto cleanup;
            }
            f->sized = true;
        }
        free(size);
        size = NULL;
        for (j = 0; j + 1 < d->nfiles; j++) {
            if (strcmp(d->files[j].id, f->id) == 0 ||
                strcmp(d->files[j].href, f->href) == 0) {
                snap_error_set(err, SNAP_E_INVALID,
                               "%s: file '%s' is listed twice", what, f->href);
                goto cleanup;
            }
        }
    }
    ok = true;

cleanup:
    free(size);
    xmlXPathFreeObject(r);
    return ok;
}

/* Disk/@fileRef -> File/@id, and collects the disk ids into @disks. */
static bool
check_disks(xmlXPathContextPtr ctx, const descriptor *d, const char *what,
            xmlXPathObjectPtr *disks, snap_error *err)
{
    xmlXPathObjectPtr r;
    char *id = NULL, *ref = NULL;
    size_t i, j, with_file;
    bool ok = false, found;

    r = select_nodes(ctx, "/ovf:Envelope/ovf:DiskSection/ovf:Disk");
    for (i = 0, with_file = 0; i < node_count(r); i++) {
        id = ovf_attr(r->nodesetval->nodeTab[i], "diskId");
        ref = ovf_attr(r->nodesetval->nodeTab[i], "fileRef");
        if (!id) {
            snap_error_set(err, SNAP_E_INVALID, "%s: Disk %zu lacks ovf:diskId",
                           what, i + 1);
            goto cleanup;
        }
        if (ref) { /* a blank disk has none */
            found = false;
            for (j = 0; j < d->nfiles && !found; j++)
                found = strcmp(d->files[j].id, ref) == 0;
            if (!found) {
                snap_error_set(err, SNAP_E_INVALID,
                               "%s: disk '%s' refers to unknown file '%s'",
                               what, id, ref);
                goto cleanup;
            }
            with_file++;
        }
        free(id);
        free(ref);
        id = ref = NULL;
    }
    /* A package without a disk restores nothing: "verified" would be a
     * lie to whoever relies on it as a backup. */
    if (with_file == 0) {
        snap_error_set(err, SNAP_E_INVALID,
                       "%s: no disk (the descriptor's DiskSection lists no "
                       "disk with a file in the package)",
                       what);
        goto cleanup;
    }
    *disks = r;
    r = NULL;
    ok = true;

cleanup:
    free(id);
    free(ref);
    xmlXPathFreeObject(r);
    return ok;
}

static bool
disk_known(xmlXPathObjectPtr disks, const char *id)
{
    char *v;
    size_t i;
    bool found = false;

    for (i = 0; i < node_count(disks) && !found; i++) {
        v = ovf_attr(disks->nodesetval->nodeTab[i], "diskId");
        found = v && strcmp(v, id) == 0;
        free(v);
    }
    return found;
}

/* Every disk Item (ResourceType 17) points at a Disk and at a controller
 * Item (IDE 5, SCSI 6, SATA 20) through Parent; InstanceIDs are unique. */
static bool
check_items(xmlXPathContextPtr ctx, xmlXPathObjectPtr disks, const char *what,
            snap_error *err)
{
    xmlXPathObjectPtr r;
    xmlChar *type = NULL, *iid = NULL, *host = NULL, *parent = NULL;
    xmlChar *other = NULL, *otype = NULL;
    const char *id;
    size_t i, j, n;
    bool ok = false, found;

    r = select_nodes(ctx, "/ovf:Envelope/ovf:VirtualSystem/"
                          "ovf:VirtualHardwareSection/ovf:Item");
    n = node_count(r);
    for (i = 0; i < n; i++) {
        xmlNodePtr item = r->nodesetval->nodeTab[i];

        type = rasd_text(item, "ResourceType");
        iid = rasd_text(item, "InstanceID");
        if (!type || !iid) {
            snap_error_set(err, SNAP_E_INVALID,
                           "%s: Item %zu lacks ResourceType or InstanceID",
                           what, i + 1);
            goto cleanup;
        }
        for (j = 0; j < i; j++) {
            other = rasd_text(r->nodesetval->nodeTab[j], "InstanceID");
            found = other && xmlStrEqual(other, iid);
            xmlFree(other);
            other = NULL;
            if (found) {
                snap_error_set(err, SNAP_E_INVALID,
                               "%s: InstanceID %s is used twice", what,
                               (const char *)iid);
                goto cleanup;
            }
        }
        if (xmlStrEqual(type, BAD_CAST "17")) {
            host = rasd_text(item, "HostResource");
            parent = rasd_text(item, "Parent");
            id = NULL;
            if (host && xmlStrncmp(host, BAD_CAST "ovf:/disk/", 10) == 0)
                id = (const char *)host + 10;
            else if (host && xmlStrncmp(host, BAD_CAST "/disk/", 6) == 0)
                id = (const char *)host + 6;
            if (!id || !disk_known(disks, id)) {
                snap_error_set(err, SNAP_E_INVALID,
                               "%s: disk Item %s has no valid HostResource",
                               what, (const char *)iid);
                goto cleanup;
            }
            found = false;
            for (j = 0; parent && j < n && !found; j++) {
                other = rasd_text(r->nodesetval->nodeTab[j], "InstanceID");
                otype = rasd_text(r->nodesetval->nodeTab[j], "ResourceType");
                found = other && otype && xmlStrEqual(other, parent) &&
                        (xmlStrEqual(otype, BAD_CAST "5") ||
                         xmlStrEqual(otype, BAD_CAST "6") ||
                         xmlStrEqual(otype, BAD_CAST "20"));
                xmlFree(other);
                xmlFree(otype);
                other = otype = NULL;
            }
            if (!found) {
                snap_error_set(err, SNAP_E_INVALID,
                               "%s: disk Item %s has no controller as Parent",
                               what, (const char *)iid);
                goto cleanup;
            }
            xmlFree(host);
            xmlFree(parent);
            host = parent = NULL;
        }
        xmlFree(type);
        xmlFree(iid);
        type = iid = NULL;
    }
    ok = true;

cleanup:
    xmlFree(type);
    xmlFree(iid);
    xmlFree(host);
    xmlFree(parent);
    xmlXPathFreeObject(r);
    return ok;
}

/* Parses the descriptor, checks its internal links and validates it. */
static bool
parse_descriptor(const char *text, size_t len, const char *what, descriptor *d,
                 snap_error *err)
{
    xmlDocPtr doc = NULL;
    xmlNodePtr root;
    xmlXPathContextPtr ctx = NULL;
    xmlXPathObjectPtr disks = NULL;
    snap_error e = {0};
    bool ok = false;

    doc = glance_ovf_doc_read(text, len, &e);
    if (!doc) {
        snap_error_set(err, e.code, "%s: %s", what, e.msg);
        goto cleanup;
    }
    root = xmlDocGetRootElement(doc);
    if (!root || !root->ns || !xmlStrEqual(root->name, BAD_CAST "Envelope") ||
        !xmlStrEqual(root->ns->href, BAD_CAST NS_OVF)) {
        snap_error_set(err, SNAP_E_INVALID,
                       "%s: descriptor is not an OVF 1.x Envelope", what);
        goto cleanup;
    }
    ctx = xmlXPathNewContext(doc);
    if (!ctx || xmlXPathRegisterNs(ctx, BAD_CAST "ovf", BAD_CAST NS_OVF) != 0) {
        snap_error_set(err, SNAP_E_NOMEM, "out of memory");
        goto cleanup;
    }
    if (!read_files(ctx, d, what, err) ||
        !check_disks(ctx, d, what, &disks, err) ||
        !check_items(ctx, disks, what, err))
        goto cleanup;
    /* Last: a broken link is named more precisely than the schema would,
     * and the schema cannot see links at all. */
    if (!glance_ovf_doc_validate(doc, NULL, &e)) {
        snap_error_set(err, e.code, "%s: %s", what, e.msg);
        goto cleanup;
    }
    ok = true;

cleanup:
    xmlXPathFreeObject(disks);
    xmlXPathFreeContext(ctx);
    xmlFreeDoc(doc);
    return ok;
}

static bool
read_fail(struct archive *a, const char *what, snap_error *err)
{
    const char *why = archive_error_string(a);

    return snap_error_set(err, SNAP_E_INVALID, "%s: cannot read tar: %s", what,
                          why ? why : "unknown error");
}

/* Reads the current member whole (at most @max bytes) into a new
 * NUL-terminated buffer, hashing it into @hex. */
static char *
read_small(struct archive *a, struct archive_entry *e, size_t max,
           const char *what, size_t *len, char hex[GLANCE_HASH_HEX_SIZE],
           snap_error *err)
{
    int64_t size = archive_entry_size(e);
    glance_hash *h = NULL;
    char *buf = NULL, *ret = NULL;
    size_t used = 0;
    la_ssize_t n;

    if (size < 0 || (uint64_t)size > max) {
        snap_error_set(err, SNAP_E_INVALID, "%s: member '%s' is too large",
                       what, archive_entry_pathname(e));
        goto cleanup;
    }
    buf = malloc((size_t)size + 1);
    h = glance_hash_new(GLANCE_HASH_SHA256, err);
    if (!buf || !h) {
        snap_error_set(err, SNAP_E_NOMEM, "out of memory");
        goto cleanup;
    }
    while (used < (size_t)size) {
        n = archive_read_data(a, buf + used, (size_t)size - used);
        if (n < 0) {
            read_fail(a, what, err);
            goto cleanup;
        }
        if (n == 0)
            break;
        used += (size_t)n;
    }
    if (used != (size_t)size) {
        snap_error_set(err, SNAP_E_INVALID, "%s: member '%s' is truncated",
                       what, archive_entry_pathname(e));
        goto cleanup;
    }
    buf[used] = '\0';
    if (!glance_hash_update(h, buf, used, err) ||
        !glance_hash_final_hex(h, hex, GLANCE_HASH_HEX_SIZE, err))
        goto cleanup;
    *len = used;
    ret = buf;
    buf = NULL;

cleanup:
    glance_hash_free(h);
    free(buf);
    return ret;
}

/* Streams the current member through SHA-256; returns its byte count in
 * *@bytes. */
static bool
hash_member(struct archive *a, char *buf, const char *what, uint64_t *bytes,
            char hex[GLANCE_HASH_HEX_SIZE], snap_error *err)
{
    glance_hash *h = NULL;
    la_ssize_t n;
    bool ok = false;

    *bytes = 0;
    h = glance_hash_new(GLANCE_HASH_SHA256, err);
    if (!h)
        goto cleanup;
    for (;;) {
        n = archive_read_data(a, buf, GLANCE_CHUNK_SIZE);
        if (n < 0) {
            read_fail(a, what, err);
            goto cleanup;
        }
        if (n == 0)
            break;
        if (!glance_hash_update(h, buf, (size_t)n, err))
            goto cleanup;
        *bytes += (uint64_t)n;
    }
    ok = glance_hash_final_hex(h, hex, GLANCE_HASH_HEX_SIZE, err);

cleanup:
    glance_hash_free(h);
    return ok;
}

static const glance_manifest_entry *
manifest_find(const glance_manifest_entry *mf, size_t n, const char *name)
{
    size_t i;

    for (i = 0; i < n; i++) {
        if (strcmp(mf[i].name, name) == 0)
            return &mf[i];
    }
    return NULL;
}

/* Member @index (from 0; the disks start at 2) of the package: the file
 * References lists at that place, with the manifest's digest and, when
 * References gives one, its size. */
static bool
verify_disk(struct archive *a, char *buf, const char *what, const char *name,
            size_t index, const descriptor *d, const glance_manifest_entry *mf,
            size_t nmf, snap_error *err)
{
    const glance_manifest_entry *m;
    char hex[GLANCE_HASH_HEX_SIZE];
    uint64_t bytes;
    size_t k;

    k = index - 2;
    if (k >= d->nfiles)
        return snap_error_set(err, SNAP_E_INVALID,
                              "%s: member '%s' is not in References", what,
                              name);
    if (strcmp(name, d->files[k].href) != 0)
        return snap_error_set(
            err, SNAP_E_INVALID,
            "%s: member %zu is '%s' but References lists '%s' "
            "there",
            what, index + 1, name, d->files[k].href);
    m = manifest_find(mf, nmf, name);
    if (!m)
        return snap_error_set(err, SNAP_E_INVALID,
                              "%s: manifest has no digest for '%s'", what,
                              name);
    if (!hash_member(a, buf, what, &bytes, hex, err))
        return false;
    if (d->files[k].sized && bytes != d->files[k].size)
        return snap_error_set(err, SNAP_E_INVALID,
                              "%s: '%s' has %" PRIu64 " bytes but References "
                              "says %" PRIu64,
                              what, name, bytes, d->files[k].size);
    if (strcmp(m->hex, hex) != 0)
        return snap_error_set(err, SNAP_E_INVALID,
                              "%s: digest mismatch for '%s'", what, name);
    return true;
}

/* After the last member: the descriptor, the manifest and every file
 * References lists were there, and the manifest names nothing else. */
static bool
verify_complete(const char *what, size_t index, const descriptor *d,
                const glance_manifest_entry *mf, size_t nmf,
                const char *ovf_name, snap_error *err)
{
    size_t i, k;
    bool known;

    if (index == 0)
        return snap_error_set(err, SNAP_E_INVALID, "%s: no members", what);
    if (index == 1)
        return snap_error_set(err, SNAP_E_INVALID, "%s: no manifest", what);
    if (index - 2 < d->nfiles)
        return snap_error_set(err, SNAP_E_INVALID,
                              "%s: '%s' of References is missing", what,
                              d->files[index - 2].href);
    for (i = 0; i < nmf; i++) {
        known = strcmp(mf[i].name, ovf_name) == 0;
        for (k = 0; k < d->nfiles && !known; k++)
            known = strcmp(mf[i].name, d->files[k].href) == 0;
        if (!known)
            return snap_error_set(
                err, SNAP_E_INVALID,
                "%s: manifest lists '%s', which is not in the "
                "package",
                what, mf[i].name);
    }
    return true;
}

bool
glance_ova_verify(const char *path, snap_error *err)
{
    struct archive *a = NULL;
    struct archive_entry *e;
    descriptor d = {0};
    glance_manifest_entry *mf = NULL;
    const glance_manifest_entry *m;
    char *ovf_text = NULL, *mf_text = NULL, *buf = NULL, *ovf_name = NULL;
    char hex[GLANCE_HASH_HEX_SIZE], ovf_hex[GLANCE_HASH_HEX_SIZE];
    char what[320];
    const char *name;
    size_t nmf = 0, index, len;
    int rc;
    bool ok = false;

    snprintf(what, sizeof(what), "OVA '%s'", path);
    buf = malloc(GLANCE_CHUNK_SIZE);
    a = archive_read_new();
    if (!buf || !a) {
        snap_error_set(err, SNAP_E_NOMEM, "out of memory");
        goto cleanup;
    }
    /* Any tar flavour (ustar, pax, GNU) is read; nothing else. */
    archive_read_support_format_tar(a);
    if (archive_read_open_filename(a, path, 64 * 1024) != ARCHIVE_OK) {
        if (archive_errno(a) == ENOENT)
            snap_error_set(err, SNAP_E_NOTFOUND, "no such OVA: '%s'", path);
        else
            read_fail(a, what, err);
        goto cleanup;
    }

    for (index = 0;; index++) {
        rc = archive_read_next_header(a, &e);
        if (rc == ARCHIVE_EOF)
            break;
        if (rc != ARCHIVE_OK) {
            read_fail(a, what, err);
            goto cleanup;
        }
        name = archive_entry_pathname(e);
        if (!plain_name(name)) {
            snap_error_set(err, SNAP_E_INVALID,
                           "%s: member %zu '%s' is not a plain file name", what,
                           index + 1, name ? name : "");
            goto cleanup;
        }
        if (archive_entry_filetype(e) != AE_IFREG) {
            snap_error_set(err, SNAP_E_INVALID,
                           "%s: member '%s' is not a regular file", what, name);
            goto cleanup;
        }
        if (index == 0) {
            if (!ends_with(name, ".ovf")) {
                snap_error_set(err, SNAP_E_INVALID,
                               "%s: first member is '%s', not the .ovf "
                               "descriptor",
                               what, name);
                goto cleanup;
            }
            ovf_name = strdup(name);
            if (!ovf_name) {
                snap_error_set(err, SNAP_E_NOMEM, "out of memory");
                goto cleanup;
            }
            ovf_text =
                read_small(a, e, DESCRIPTOR_MAX, what, &len, ovf_hex, err);
            if (!ovf_text || !parse_descriptor(ovf_text, len, what, &d, err))
                goto cleanup;
            continue;
        }
        if (index == 1) {
            if (!ends_with(name, ".mf")) {
                snap_error_set(err, SNAP_E_INVALID,
                               "%s: second member is '%s', not the .mf "
                               "manifest",
                               what, name);
                goto cleanup;
            }
            mf_text = read_small(a, e, MANIFEST_MAX, what, &len, hex, err);
            if (!mf_text ||
                !glance_manifest_parse(mf_text, len, &mf, &nmf, err))
                goto cleanup;
            m = manifest_find(mf, nmf, ovf_name);
            if (!m) {
                snap_error_set(err, SNAP_E_INVALID,
                               "%s: manifest has no digest for '%s'", what,
                               ovf_name);
                goto cleanup;
            }
            if (strcmp(m->hex, ovf_hex) != 0) {
                snap_error_set(err, SNAP_E_INVALID,
                               "%s: digest mismatch for '%s'", what, ovf_name);
                goto cleanup;
            }
            continue;
        }
        if (!verify_disk(a, buf, what, name, index, &d, mf, nmf, err))
            goto cleanup;
    }
    if (!verify_complete(what, index, &d, mf, nmf, ovf_name, err))
        goto cleanup;
    ok = true;

cleanup:
    archive_read_free(a);
    descriptor_release(&d);
    glance_manifest_entries_free(mf, nmf);
    free(ovf_text);
    free(mf_text);
    free(ovf_name);
    free(buf);
    return ok;
}
