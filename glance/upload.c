/* glance/upload.c -- Glance v2 image create, upload, check and delete. */
#include "glance/glance_upload.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "common/snap_log.h"
#include "common/snap_uuid.h"
#include "glance/glance.h"
#include "glance/glance_priv.h"

#define PROPERTY_MAX 255

/* Image attributes Glance manages itself: a property with one of these
 * names is refused (403) or would change the image's meaning. */
static const char *const reserved_keys[] = {
    "checksum",
    "container_format",
    "created_at",
    "direct_url",
    "disk_format",
    "file",
    "id",
    "locations",
    "min_disk",
    "min_ram",
    "name",
    "os_hash_algo",
    "os_hash_value",
    "os_hidden",
    "owner",
    "protected",
    "schema",
    "self",
    "size",
    "status",
    "stores",
    "tags",
    "updated_at",
    "virtual_size",
    "visibility",
};

/* Returns "<endpoint>/v2/images" (free()); the catalog's image endpoint is
 * usually unversioned, sometimes ends in "/v2" or "/". */
static char *
images_url(cinder_session *session, snap_error *err)
{
    char *endpoint, *url = NULL;
    size_t len;
    bool versioned;

    endpoint = cinder_session_endpoint(session, "image", err);
    if (!endpoint)
        return NULL;
    len = strlen(endpoint);
    while (len > 0 && endpoint[len - 1] == '/')
        endpoint[--len] = '\0';
    versioned = len >= 3 && strcmp(endpoint + len - 3, "/v2") == 0;
    url = malloc(len + sizeof("/v2/images"));
    if (!url)
        snap_error_set(err, SNAP_E_NOMEM, "out of memory");
    else
        sprintf(url, "%s%s", endpoint, versioned ? "/images" : "/v2/images");
    free(endpoint);
    return url;
}

static bool
property_valid(const glance_image_property *p, snap_error *err)
{
    size_t i;

    if (!p->key || !*p->key || !p->value)
        return snap_error_set(err, SNAP_E_INVALID,
                              "image property without key or value");
    if (strlen(p->key) > PROPERTY_MAX || strlen(p->value) > PROPERTY_MAX)
        return snap_error_set(err, SNAP_E_INVALID,
                              "image property '%.64s' is longer than %d "
                              "characters",
                              p->key, PROPERTY_MAX);
    for (i = 0; i < sizeof(reserved_keys) / sizeof(reserved_keys[0]); i++) {
        if (strcmp(p->key, reserved_keys[i]) == 0)
            return snap_error_set(err, SNAP_E_INVALID,
                                  "image property '%s' is reserved by Glance",
                                  p->key);
    }
    return true;
}

static bool
set_string(json_t *obj, const char *key, const char *value, snap_error *err)
{
    json_t *v = json_string(value);

    /* json_string() refuses invalid UTF-8. */
    if (!v || json_object_set_new(obj, key, v) != 0)
        return snap_error_set(err, SNAP_E_INVALID,
                              "image attribute '%.64s' is not valid UTF-8",
                              key);
    return true;
}

/* The body of POST /v2/images (free()). */
static char *
create_body(const glance_image_opts *opts, snap_error *err)
{
    json_t *obj = NULL;
    char *body = NULL;
    size_t i;

    if (!opts || !opts->name || !*opts->name) {
        snap_error_set(err, SNAP_E_INVALID, "image name is missing");
        return NULL;
    }
    for (i = 0; i < opts->nproperties; i++) {
        if (!property_valid(&opts->properties[i], err))
            return NULL;
    }
    obj = json_object();
    if (!obj) {
        snap_error_set(err, SNAP_E_NOMEM, "out of memory");
        return NULL;
    }
    if (!set_string(obj, "name", opts->name, err) ||
        !set_string(obj, "container_format",
                    opts->container_format ? opts->container_format : "ova",
                    err) ||
        !set_string(obj, "disk_format",
                    opts->disk_format ? opts->disk_format : "vmdk", err) ||
        (opts->visibility &&
         !set_string(obj, "visibility", opts->visibility, err)))
        goto cleanup;
    for (i = 0; i < opts->nproperties; i++) {
        if (!set_string(obj, opts->properties[i].key, opts->properties[i].value,
                        err))
            goto cleanup;
    }
    body = json_dumps(obj, JSON_COMPACT | JSON_SORT_KEYS);
    if (!body)
        snap_error_set(err, SNAP_E_NOMEM, "out of memory");

 cleanup:
    json_decref(obj);
    return body;
}

/* Parses a reply body as a JSON object. */
static json_t *
reply_object(const cinder_http_response *resp, const char *what,
             snap_error *err)
{
    json_t *obj = json_loadb(resp->body, resp->body_len, 0, NULL);

    if (!json_is_object(obj)) {
        json_decref(obj);
        snap_error_set(err, SNAP_E_INVALID, "%s: reply is not a JSON object",
                       what);
        return NULL;
    }
    return obj;
}

/* The streamed body of the upload: the file, hashed on the way. */
typedef struct upload_src {
    int fd;
    const char *path;
    uint64_t size;
    uint64_t sent;
    glance_hash *hash;
    snap_error err; /* a read failure, kept for after perform() */
} upload_src;

static ssize_t
upload_read(void *ctx, char *buf, size_t size, snap_error *err)
{
    upload_src *src = ctx;
    ssize_t n;

    /* Never more than announced in Content-Length, even if the file grew. */
    if (size > src->size - src->sent)
        size = (size_t)(src->size - src->sent);
    if (size > GLANCE_CHUNK_SIZE)
        size = GLANCE_CHUNK_SIZE;
    if (size == 0)
        return 0;
    do {
        n = read(src->fd, buf, size);
    } while (n < 0 && errno == EINTR);
    if (n < 0) {
        snap_error_set_errno(&src->err, errno, "cannot read '%s'", src->path);
        snap_error_set_errno(err, errno, "cannot read '%s'", src->path);
        return -1;
    }
    if (n == 0 && src->sent != src->size) {
        snap_error_set(&src->err, SNAP_E_STATE,
                       "'%s' changed size during the upload", src->path);
        snap_error_set(err, SNAP_E_STATE, "'%s' changed size during the upload",
                       src->path);
        return -1;
    }
    if (n > 0 && !glance_hash_update(src->hash, buf, (size_t)n, &src->err)) {
        snap_error_set(err, src->err.code, "%s", src->err.msg);
        return -1;
    }
    src->sent += (uint64_t)n;
    return n;
}

static bool
upload_rewind(void *ctx, snap_error *err)
{
    upload_src *src = ctx;
    glance_hash *h;

    if (lseek(src->fd, 0, SEEK_SET) < 0)
        return snap_error_set_errno(err, errno, "cannot rewind '%s'",
                                    src->path);
    h = glance_hash_new(GLANCE_HASH_SHA512, err);
    if (!h)
        return false;
    glance_hash_free(src->hash);
    src->hash = h;
    src->sent = 0;
    return true;
}

/* Step 3: the image Glance now has is the file we sent. */
static bool
check_image(cinder_session *session, const char *url, const char *id,
            uint64_t size, const char *sha512, snap_error *err)
{
    static const char *const headers[] = {"Accept: application/json"};
    cinder_http_request req = {0};
    cinder_http_response resp;
    json_t *obj = NULL;
    const char *status, *algo, *value;
    json_int_t got_size;
    bool ok = false;

    req.method = CINDER_HTTP_GET;
    req.url = url;
    req.headers = headers;
    req.nheaders = 1;
    if (!cinder_session_request(session, &req, &resp, err))
        goto cleanup;
    if (resp.status != 200) {
        snap_error_set_http(err, resp.status,
                            "cannot read image %s after upload: HTTP %ld", id,
                            resp.status);
        goto cleanup;
    }
    obj = reply_object(&resp, "image after upload", err);
    if (!obj)
        goto cleanup;
    status = json_string_value(json_object_get(obj, "status"));
    algo = json_string_value(json_object_get(obj, "os_hash_algo"));
    value = json_string_value(json_object_get(obj, "os_hash_value"));
    got_size = json_integer_value(json_object_get(obj, "size"));
    if (!status || strcmp(status, "active") != 0) {
        snap_error_set(err, SNAP_E_STATE,
                       "image %s is '%s' after upload, not 'active'", id,
                       status ? status : "?");
        goto cleanup;
    }
    if (!json_is_integer(json_object_get(obj, "size")) ||
        (uint64_t)got_size != size) {
        snap_error_set(err, SNAP_E_STATE,
                       "image %s has %" PRId64 " bytes, %" PRIu64 " were sent",
                       id, (int64_t)got_size, size);
        goto cleanup;
    }
    /* Glance hashes with its configured hashing_algorithm (sha512 unless an
     * operator changed it). Unverifiable is treated as failed. */
    if (!algo || strcmp(algo, "sha512") != 0) {
        snap_error_set(err, SNAP_E_STATE,
                       "image %s was hashed with '%s', not sha512: cannot "
                       "verify the upload",
                       id, algo ? algo : "nothing");
        goto cleanup;
    }
    if (!value || strcasecmp(value, sha512) != 0) {
        snap_error_set(err, SNAP_E_STATE,
                       "image %s: Glance's sha512 differs from the data sent",
                       id);
        goto cleanup;
    }
    ok = true;

 cleanup:
    json_decref(obj);
    cinder_http_response_release(&resp);
    return ok;
}

/* DELETE of the image at @url. */
static bool
delete_at(cinder_session *session, const char *url, const char *id,
          snap_error *err)
{
    cinder_http_request req = {0};
    cinder_http_response resp;
    bool ok = false;

    req.method = CINDER_HTTP_DELETE;
    req.url = url;
    if (!cinder_session_request(session, &req, &resp, err))
        goto cleanup;
    if (resp.status == 404) {
        snap_error_set(err, SNAP_E_NOTFOUND, "no such image: %s", id);
        goto cleanup;
    }
    if (resp.status != 204 && resp.status != 200) {
        snap_error_set_http(err, resp.status,
                            "cannot delete image %s: HTTP %ld", id,
                            resp.status);
        goto cleanup;
    }
    ok = true;

 cleanup:
    cinder_http_response_release(&resp);
    return ok;
}

char *
glance_image_create(cinder_session *session, const char *path,
                    const glance_image_opts *opts, snap_error *err)
{
    static const char *const json_headers[] = {"Content-Type: application/json",
                                               "Accept: application/json"};
    static const char *const file_headers[] = {
        "Content-Type: application/octet-stream"};
    cinder_http_request req;
    cinder_http_response resp;
    upload_src src = {.fd = -1, .path = path};
    char *base = NULL, *body = NULL, *image_url = NULL, *file_url = NULL;
    char *id = NULL, *ret = NULL, sha512[GLANCE_HASH_HEX_SIZE];
    const char *s;
    json_t *obj = NULL;
    struct stat st;
    snap_error derr = {0};

    cinder_http_response_init(&resp);
    body = create_body(opts, err);
    if (!body)
        goto cleanup;
    src.fd = open(path, O_RDONLY | O_CLOEXEC);
    if (src.fd < 0) {
        if (errno == ENOENT)
            snap_error_set(err, SNAP_E_NOTFOUND, "no such file: '%s'", path);
        else
            snap_error_set_errno(err, errno, "cannot open '%s'", path);
        goto cleanup;
    }
    if (fstat(src.fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        snap_error_set(err, SNAP_E_INVALID, "'%s' is not a regular file", path);
        goto cleanup;
    }
    src.size = (uint64_t)st.st_size;
    src.hash = glance_hash_new(GLANCE_HASH_SHA512, err);
    if (!src.hash)
        goto cleanup;
    base = images_url(session, err);
    if (!base)
        goto cleanup;

    /* 1. The image record. */
    memset(&req, 0, sizeof(req));
    req.method = CINDER_HTTP_POST;
    req.url = base;
    req.headers = json_headers;
    req.nheaders = 2;
    req.body = body;
    req.body_len = strlen(body);
    if (!cinder_session_request(session, &req, &resp, err))
        goto cleanup;
    if (resp.status != 201) {
        snap_error_set_http(err, resp.status,
                            "cannot create image '%s': HTTP %ld", opts->name,
                            resp.status);
        goto cleanup;
    }
    obj = reply_object(&resp, "image create", err);
    if (!obj)
        goto cleanup;
    s = json_string_value(json_object_get(obj, "id"));
    if (!s || !snap_uuid_valid(s)) {
        /* Nothing we could name to delete: Glance's reply is broken. */
        snap_error_set(err, SNAP_E_INVALID, "image create: reply has no id");
        goto cleanup;
    }
    id = strdup(s);
    image_url = malloc(strlen(base) + strlen(s) + 2);
    file_url = malloc(strlen(base) + strlen(s) + 7);
    if (!id || !image_url || !file_url) {
        snap_error_set(err, SNAP_E_NOMEM, "out of memory");
        goto cleanup;
    }
    sprintf(image_url, "%s/%s", base, id);
    sprintf(file_url, "%s/%s/file", base, id);
    cinder_http_response_release(&resp);

    /* 2. The data, streamed and hashed. */
    memset(&req, 0, sizeof(req));
    req.method = CINDER_HTTP_PUT;
    req.url = file_url;
    req.headers = file_headers;
    req.nheaders = 1;
    req.upload = upload_read;
    req.upload_rewind = upload_rewind;
    req.upload_ctx = &src;
    req.upload_size = (int64_t)src.size;
    req.timeout_ms = -1; /* as long as it moves: the stall timeout applies */
    if (!cinder_session_request(session, &req, &resp, err))
        goto cleanup;
    if (snap_error_isset(&src.err)) {
        snap_error_set(err, src.err.code, "%s", src.err.msg);
        goto cleanup;
    }
    if (resp.status < 200 || resp.status > 299) {
        snap_error_set_http(err, resp.status,
                            "cannot upload '%s' to image %s: HTTP %ld", path,
                            id, resp.status);
        goto cleanup;
    }
    if (src.sent != src.size) {
        snap_error_set(err, SNAP_E_STATE,
                       "upload of '%s' stopped after %" PRIu64 " of %" PRIu64
                       " bytes",
                       path, src.sent, src.size);
        goto cleanup;
    }
    if (!glance_hash_final_hex(src.hash, sha512, sizeof(sha512), err))
        goto cleanup;

    /* 3. What Glance stored is what we sent. */
    if (!check_image(session, image_url, id, src.size, sha512, err))
        goto cleanup;
    ret = id;
    id = NULL;

 cleanup:
    if (id && image_url && !delete_at(session, image_url, id, &derr))
        snap_warn("cannot delete image %s after a failed upload: %s", id,
                  derr.msg);
    if (src.fd >= 0)
        close(src.fd);
    glance_hash_free(src.hash);
    cinder_http_response_release(&resp);
    json_decref(obj);
    free(base);
    free(body);
    free(image_url);
    free(file_url);
    free(id);
    return ret;
}

bool
glance_image_delete(cinder_session *session, const char *id, snap_error *err)
{
    char *base = NULL, *url = NULL;
    bool ok = false;

    if (!id || !snap_uuid_valid(id))
        return snap_error_set(err, SNAP_E_INVALID,
                              "image id '%s' is not a UUID", id ? id : "");
    base = images_url(session, err);
    if (!base)
        goto cleanup;
    url = malloc(strlen(base) + strlen(id) + 2);
    if (!url) {
        snap_error_set(err, SNAP_E_NOMEM, "out of memory");
        goto cleanup;
    }
    sprintf(url, "%s/%s", base, id);
    ok = delete_at(session, url, id, err);

 cleanup:
    free(base);
    free(url);
    return ok;
}
