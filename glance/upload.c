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
#include "common/snap_time.h"
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

/* The streamed body of the upload: the source, hashed on the way. */
typedef struct upload_src {
    const glance_image_source *in;
    uint64_t sent;
    glance_hash *hash;
    snap_error err; /* the source's failure, kept for after perform() */
} upload_src;

static ssize_t
upload_read(void *ctx, char *buf, size_t size, snap_error *err)
{
    upload_src *src = ctx;
    ssize_t n;

    /* Never more than announced in Content-Length. */
    if (size > src->in->size - src->sent)
        size = (size_t)(src->in->size - src->sent);
    if (size > GLANCE_CHUNK_SIZE)
        size = GLANCE_CHUNK_SIZE;
    if (size == 0)
        return 0;
    n = src->in->read(src->in->ctx, buf, size, &src->err);
    if (n < 0) {
        if (!snap_error_isset(&src->err))
            snap_error_set(&src->err, SNAP_E_STATE, "cannot read '%s'",
                           src->in->name);
        snap_error_set(err, src->err.code, "%s", src->err.msg);
        return -1;
    }
    if (n == 0 || (size_t)n > size) {
        snap_error_set(&src->err, SNAP_E_STATE,
                       "'%s' changed size during the upload", src->in->name);
        snap_error_set(err, SNAP_E_STATE, "%s", src->err.msg);
        return -1;
    }
    if (!glance_hash_update(src->hash, buf, (size_t)n, &src->err)) {
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

    if (!src->in->rewind)
        return snap_error_set(err, SNAP_E_STATE, "'%s' cannot be sent twice",
                              src->in->name);
    if (!src->in->rewind(src->in->ctx, err))
        return false;
    h = glance_hash_new(GLANCE_HASH_SHA512, err);
    if (!h)
        return false;
    glance_hash_free(src->hash);
    src->hash = h;
    src->sent = 0;
    return true;
}

/* A regular file as a source. */
typedef struct file_src {
    int fd;
    const char *path;
} file_src;

static ssize_t
file_read(void *ctx, char *buf, size_t size, snap_error *err)
{
    file_src *f = ctx;
    ssize_t n;

    do {
        n = read(f->fd, buf, size);
    } while (n < 0 && errno == EINTR);
    if (n < 0) {
        snap_error_set_errno(err, errno, "cannot read '%s'", f->path);
        return -1;
    }
    return n;
}

static bool
file_rewind(void *ctx, snap_error *err)
{
    file_src *f = ctx;

    if (lseek(f->fd, 0, SEEK_SET) < 0)
        return snap_error_set_errno(err, errno, "cannot rewind '%s'", f->path);
    return true;
}

static ssize_t
ova_read(void *ctx, char *buf, size_t size, snap_error *err)
{
    return glance_ova_stream_read(ctx, buf, size, err);
}

static bool
ova_rewind(void *ctx, snap_error *err)
{
    return glance_ova_stream_rewind(ctx, err);
}

void
glance_image_source_from_ova(glance_image_source *src,
                             glance_ova_stream *stream)
{
    memset(src, 0, sizeof(*src));
    src->read = ova_read;
    src->rewind = ova_rewind;
    src->ctx = stream;
    src->size = glance_ova_stream_size(stream);
    src->name = "the OVA stream";
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

/* Deletes a failed upload's image, trying again while Glance cannot be
 * reached or fails (5xx) until @timeout_ms passed. */
static bool
delete_failed(cinder_session *session, const char *url, const char *id,
              int64_t timeout_ms, snap_error *err)
{
    int64_t deadline = snap_now_ms() + (timeout_ms > 0 ? timeout_ms : 0);
    snap_error e;

    for (;;) {
        memset(&e, 0, sizeof(e));
        if (delete_at(session, url, id, &e) || e.code == SNAP_E_NOTFOUND)
            return true;
        /* 4xx other than 404 will not change by waiting. */
        if ((e.code == SNAP_E_HTTP && e.http_status >= 400 &&
             e.http_status < 500) ||
            snap_ms_left(deadline) <= 0)
            break;
        snap_sleep_ms(snap_ms_left(deadline) < 1000 ? snap_ms_left(deadline)
                                                    : 1000);
    }
    return snap_error_set(err, e.code, "%s", e.msg);
}

char *
glance_image_create(cinder_session *session, const char *path,
                    const glance_image_opts *opts, snap_error *err)
{
    glance_image_source src;
    file_src f = {-1, path};
    struct stat st;
    char *id = NULL;

    f.fd = open(path, O_RDONLY | O_CLOEXEC);
    if (f.fd < 0) {
        if (errno == ENOENT)
            snap_error_set(err, SNAP_E_NOTFOUND, "no such file: '%s'", path);
        else
            snap_error_set_errno(err, errno, "cannot open '%s'", path);
        return NULL;
    }
    if (fstat(f.fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        snap_error_set(err, SNAP_E_INVALID, "'%s' is not a regular file", path);
        goto cleanup;
    }
    memset(&src, 0, sizeof(src));
    src.read = file_read;
    src.rewind = file_rewind;
    src.ctx = &f;
    src.size = (uint64_t)st.st_size;
    src.name = path;
    id = glance_image_create_stream(session, &src, opts, NULL, err);

cleanup:
    close(f.fd);
    return id;
}

/* A flat sequence: create the image, stage the stream, import, wait for
 * active, check; on failure the image is deleted on the one way out. */
char *
glance_image_create_stream(cinder_session *session,
                           const glance_image_source *in,
                           const glance_image_opts *opts,
                           glance_image_outcome *outcome, snap_error *err)
{
    static const char *const json_headers[] = {"Content-Type: application/json",
                                               "Accept: application/json"};
    static const char *const file_headers[] = {
        "Content-Type: application/octet-stream"};
    cinder_http_request req;
    cinder_http_response resp;
    upload_src src = {.in = in};
    char *base = NULL, *body = NULL, *image_url = NULL, *file_url = NULL;
    char *id = NULL, *ret = NULL, sha512[GLANCE_HASH_HEX_SIZE];
    const char *s;
    json_t *obj = NULL;
    snap_error derr = {0};
    glance_image_outcome dummy;

    if (!outcome)
        outcome = &dummy;
    memset(outcome, 0, sizeof(*outcome));
    cinder_http_response_init(&resp);
    body = create_body(opts, err);
    if (!body)
        goto cleanup;
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
    snprintf(outcome->id, sizeof(outcome->id), "%s", id);
    sprintf(image_url, "%s/%s", base, id);
    sprintf(file_url, "%s/%s/file", base, id);
    cinder_http_response_release(&resp);
    if (opts->created && !opts->created(opts->created_ctx, id, err))
        goto cleanup;

    /* 2. The data, streamed and hashed. */
    memset(&req, 0, sizeof(req));
    req.method = CINDER_HTTP_PUT;
    req.url = file_url;
    req.headers = file_headers;
    req.nheaders = 1;
    req.upload = upload_read;
    req.upload_rewind = upload_rewind;
    req.upload_ctx = &src;
    req.upload_size = (int64_t)in->size;
    req.timeout_ms = -1; /* as long as it moves: the stall timeout applies */
    if (!cinder_session_request(session, &req, &resp, err)) {
        outcome->sent = src.sent;
        goto cleanup;
    }
    outcome->sent = src.sent;
    if (snap_error_isset(&src.err)) {
        snap_error_set(err, src.err.code, "%s", src.err.msg);
        goto cleanup;
    }
    if (resp.status < 200 || resp.status > 299) {
        snap_error_set_http(err, resp.status,
                            "cannot upload %s to image %s: HTTP %ld", in->name,
                            id, resp.status);
        goto cleanup;
    }
    if (src.sent != in->size) {
        snap_error_set(err, SNAP_E_STATE,
                       "upload of %s stopped after %" PRIu64 " of %" PRIu64
                       " bytes",
                       in->name, src.sent, in->size);
        goto cleanup;
    }
    if (!glance_hash_final_hex(src.hash, sha512, sizeof(sha512), err))
        goto cleanup;
    memcpy(outcome->sha512, sha512, sizeof(sha512));

    /* 3. What Glance stored is what we sent. */
    if (!check_image(session, image_url, id, in->size, sha512, err))
        goto cleanup;
    ret = id;
    id = NULL;

cleanup:
    if (id && image_url &&
        !delete_failed(session, image_url, id, opts->delete_timeout_ms,
                       &derr)) {
        snap_warn("cannot delete image %s after a failed upload: %s", id,
                  derr.msg);
        outcome->left_behind = true;
    }
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
