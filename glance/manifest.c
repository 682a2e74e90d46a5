/* glance/manifest.c -- running digests (OpenSSL EVP) and the OVF manifest. */
#include "glance/glance.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "glance/glance_priv.h"

struct glance_hash {
    EVP_MD_CTX *ctx;
    bool done;
};

glance_hash *
glance_hash_new(glance_hash_algo algo, snap_error *err)
{
    const EVP_MD *md;
    glance_hash *h = NULL;

    switch (algo) {
    case GLANCE_HASH_SHA256:
        md = EVP_sha256();
        break;
    case GLANCE_HASH_SHA512:
        md = EVP_sha512();
        break;
    default:
        snap_error_set(err, SNAP_E_INVALID, "unknown digest algorithm %d",
                       (int)algo);
        return NULL;
    }
    h = calloc(1, sizeof(*h));
    if (!h) {
        snap_error_set(err, SNAP_E_NOMEM, "out of memory");
        return NULL;
    }
    h->ctx = EVP_MD_CTX_new();
    if (!h->ctx || EVP_DigestInit_ex(h->ctx, md, NULL) != 1) {
        snap_error_set(err, SNAP_E_NOMEM, "cannot start a digest");
        glance_hash_free(h);
        return NULL;
    }
    return h;
}

bool
glance_hash_update(glance_hash *h, const void *data, size_t len,
                   snap_error *err)
{
    if (h->done)
        return snap_error_set(err, SNAP_E_STATE, "digest already finished");
    if (len > 0 && EVP_DigestUpdate(h->ctx, data, len) != 1)
        return snap_error_set(err, SNAP_E_SYSTEM, "digest update failed");
    return true;
}

bool
glance_hash_final_hex(glance_hash *h, char *hex, size_t size, snap_error *err)
{
    static const char digits[] = "0123456789abcdef";
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0, i;

    if (h->done)
        return snap_error_set(err, SNAP_E_STATE, "digest already finished");
    if (EVP_DigestFinal_ex(h->ctx, md, &n) != 1)
        return snap_error_set(err, SNAP_E_SYSTEM, "digest final failed");
    h->done = true;
    if (size < 2 * (size_t)n + 1)
        return snap_error_set(err, SNAP_E_INVALID, "digest buffer too small");
    for (i = 0; i < n; i++) {
        hex[2 * i] = digits[md[i] >> 4];
        hex[2 * i + 1] = digits[md[i] & 0xf];
    }
    hex[2 * n] = '\0';
    return true;
}

void
glance_hash_free(glance_hash *h)
{
    if (!h)
        return;
    EVP_MD_CTX_free(h->ctx);
    free(h);
}

bool
glance_sha256_file(const char *path, char hex[GLANCE_HASH_HEX_SIZE],
                   snap_error *err)
{
    glance_hash *h = NULL;
    char *buf = NULL;
    ssize_t n;
    int fd = -1;
    bool ok = false;

    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        snap_error_set_errno(err, errno, "cannot open '%s'", path);
        goto cleanup;
    }
    buf = malloc(GLANCE_CHUNK_SIZE);
    if (!buf) {
        snap_error_set(err, SNAP_E_NOMEM, "out of memory");
        goto cleanup;
    }
    h = glance_hash_new(GLANCE_HASH_SHA256, err);
    if (!h)
        goto cleanup;
    for (;;) {
        n = read(fd, buf, GLANCE_CHUNK_SIZE);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            snap_error_set_errno(err, errno, "cannot read '%s'", path);
            goto cleanup;
        }
        if (n == 0)
            break;
        if (!glance_hash_update(h, buf, (size_t)n, err))
            goto cleanup;
    }
    ok = glance_hash_final_hex(h, hex, GLANCE_HASH_HEX_SIZE, err);

cleanup:
    if (fd >= 0)
        close(fd);
    free(buf);
    glance_hash_free(h);
    return ok;
}

static bool
is_hex_digest(const char *s, size_t len)
{
    size_t i;

    for (i = 0; i < len; i++) {
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f') ||
              (s[i] >= 'A' && s[i] <= 'F')))
            return false;
    }
    return true;
}

/* A manifest name must survive the round trip through
 * "SHA256(" name ")= ": no line break, nothing that looks like the
 * delimiters. Our member names are much stricter anyway. */
static bool
manifest_name_valid(const char *name)
{
    const unsigned char *p;

    if (!*name)
        return false;
    for (p = (const unsigned char *)name; *p; p++) {
        if (*p < 0x20 || *p == 0x7f || *p == '(' || *p == ')')
            return false;
    }
    return true;
}

char *
glance_manifest_format(const char *const *names, const char *const *hexes,
                       size_t n, size_t *len, snap_error *err)
{
    char *buf = NULL, *p, c;
    size_t i, j, total = 0;

    for (i = 0; i < n; i++) {
        if (!manifest_name_valid(names[i])) {
            snap_error_set(err, SNAP_E_INVALID,
                           "invalid manifest entry name (entry %zu)", i + 1);
            return NULL;
        }
        if (strlen(hexes[i]) != GLANCE_SHA256_HEX_LEN ||
            !is_hex_digest(hexes[i], GLANCE_SHA256_HEX_LEN)) {
            snap_error_set(err, SNAP_E_INVALID,
                           "invalid SHA-256 digest for '%s'", names[i]);
            return NULL;
        }
        /* "SHA256(" name ")= " hex "\n" */
        total += 7 + strlen(names[i]) + 3 + GLANCE_SHA256_HEX_LEN + 1;
    }
    buf = malloc(total + 1);
    if (!buf) {
        snap_error_set(err, SNAP_E_NOMEM, "out of memory");
        return NULL;
    }
    p = buf;
    for (i = 0; i < n; i++) {
        p = stpcpy(p, "SHA256(");
        p = stpcpy(p, names[i]);
        p = stpcpy(p, ")= ");
        /* Lower case whatever the caller passed: some readers compare the
         * digest as text. */
        for (j = 0; j < GLANCE_SHA256_HEX_LEN; j++) {
            c = hexes[i][j];
            *p++ = (c >= 'A' && c <= 'F') ? (char)(c + 'a' - 'A') : c;
        }
        *p++ = '\n';
    }
    *p = '\0';
    *len = total;
    return buf;
}

void
glance_manifest_entries_free(glance_manifest_entry *entries, size_t n)
{
    size_t i;

    if (!entries)
        return;
    for (i = 0; i < n; i++)
        free(entries[i].name);
    free(entries);
}

bool
glance_manifest_parse(const char *text, size_t len,
                      glance_manifest_entry **entries, size_t *n,
                      snap_error *err)
{
    glance_manifest_entry *list = NULL, *grown;
    const char *line = text, *end = text + len, *nl, *close, *hex;
    size_t count = 0, lineno = 0, linelen, namelen, i, j;
    bool ok = false;

    while (line < end) {
        lineno++;
        nl = memchr(line, '\n', (size_t)(end - line));
        if (!nl) {
            snap_error_set(err, SNAP_E_INVALID,
                           "manifest line %zu has no line end", lineno);
            goto cleanup;
        }
        linelen = (size_t)(nl - line);
        if (linelen > 0 && line[linelen - 1] == '\r')
            linelen--;
        /* SHA256( name )= hex: the name ends at the last ")= " so that a
         * name may hold ')' in other positions. */
        if (linelen < 7 + 3 + GLANCE_SHA256_HEX_LEN ||
            memcmp(line, "SHA256(", 7) != 0) {
            snap_error_set(err, SNAP_E_INVALID,
                           "manifest line %zu is not 'SHA256(name)= digest'",
                           lineno);
            goto cleanup;
        }
        hex = line + linelen - GLANCE_SHA256_HEX_LEN;
        close = hex - 3;
        if (memcmp(close, ")= ", 3) != 0 ||
            !is_hex_digest(hex, GLANCE_SHA256_HEX_LEN)) {
            snap_error_set(err, SNAP_E_INVALID,
                           "manifest line %zu is not 'SHA256(name)= digest'",
                           lineno);
            goto cleanup;
        }
        namelen = (size_t)(close - (line + 7));
        if (namelen == 0 || memchr(line + 7, '\0', namelen)) {
            snap_error_set(err, SNAP_E_INVALID,
                           "manifest line %zu has an invalid name", lineno);
            goto cleanup;
        }
        grown = realloc(list, (count + 1) * sizeof(*list));
        if (!grown) {
            snap_error_set(err, SNAP_E_NOMEM, "out of memory");
            goto cleanup;
        }
        list = grown;
        list[count].name = strndup(line + 7, namelen);
        if (!list[count].name) {
            snap_error_set(err, SNAP_E_NOMEM, "out of memory");
            goto cleanup;
        }
        for (j = 0; j < GLANCE_SHA256_HEX_LEN; j++) {
            char c = hex[j];

            list[count].hex[j] =
                (c >= 'A' && c <= 'F') ? (char)(c + 'a' - 'A') : c;
        }
        list[count].hex[GLANCE_SHA256_HEX_LEN] = '\0';
        count++;
        for (i = 0; i + 1 < count; i++) {
            if (strcmp(list[i].name, list[count - 1].name) == 0) {
                snap_error_set(err, SNAP_E_INVALID, "manifest lists '%s' twice",
                               list[count - 1].name);
                goto cleanup;
            }
        }
        line = nl + 1;
    }
    *entries = list;
    *n = count;
    list = NULL;
    ok = true;

cleanup:
    glance_manifest_entries_free(list, count);
    return ok;
}
