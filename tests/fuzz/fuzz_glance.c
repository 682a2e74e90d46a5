/* tests/fuzz/fuzz_glance.c -- Glance v2 replies to an image upload (create,
 * data, show after upload, delete of a failed one) and to a delete: an
 * image that is what was sent, or an error that says why and an outcome
 * that names what is left; never a crash or a leak.
 *
 * The input is a script for fuzz_http.h: its first line names the call
 * ("create", "create_keystone", "delete"), the replies follow in request
 * order. "create_keystone" takes the image endpoint from the catalog of a
 * password session (its first reply is the token); the others use a noauth
 * session with an explicit endpoint.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "common/snap_log.h"
#include "common/snap_uuid.h"
#include "fuzz_http.h"
#include "glance/glance_upload.h"

#define PROJECT "0123456789abcdef0123456789abcdef"
#define IMAGE "8a9c1b2d-3e4f-4a5b-8c6d-7e8f9a0b1c2d"

/* What is uploaded; its SHA-512 is in the seeds' show replies. */
static const char payload[] = "snapset fuzz payload\n";

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    /* A failed upload whose image cannot be deleted warns: thousands a
     * second would bury libFuzzer's own output. */
    snap_log_set_level(SNAP_LOG_ERROR);
    return 0;
}

typedef struct mem_src {
    size_t pos;
} mem_src;

static ssize_t
mem_read(void *ctx, char *buf, size_t size, snap_error *err)
{
    mem_src *m = ctx;
    size_t n = sizeof(payload) - 1 - m->pos;

    (void)err;
    if (n > size)
        n = size;
    memcpy(buf, payload + m->pos, n);
    m->pos += n;
    return (ssize_t)n;
}

static bool
mem_rewind(void *ctx, snap_error *err)
{
    (void)err;
    ((mem_src *)ctx)->pos = 0;
    return true;
}

/* The id Glance named, as the caller records it before the data goes. */
static bool
created(void *ctx, const char *id, snap_error *err)
{
    (void)err;
    if (!snap_uuid_valid(id))
        abort();
    snprintf(ctx, SNAP_UUID_LEN, "%s", id);
    return true;
}

static void
fuzz_create(cinder_session *s)
{
    static const glance_image_property props[] = {
        {"snapset_set", "5b7e4c1a-0d2f-4e3a-9b8c-1d2e3f4a5b6c"},
        {"snapset_domain", "web01"},
    };
    char seen[SNAP_UUID_LEN] = "";
    mem_src m = {0};
    glance_image_source src = {0};
    glance_image_opts opts = {0};
    glance_image_outcome out;
    snap_error err = {0};
    char *id;

    src.read = mem_read;
    src.rewind = mem_rewind;
    src.ctx = &m;
    src.size = sizeof(payload) - 1;
    src.name = "the fuzz payload";
    opts.name = "web01-2026-12-02";
    opts.properties = props;
    opts.nproperties = 2;
    opts.created = created;
    opts.created_ctx = seen;
    id = glance_image_create_stream(s, &src, &opts, &out, &err);
    if (id) {
        /* The image is the one created, and all of it was sent. */
        if (!snap_uuid_valid(id) || strcmp(id, out.id) != 0 ||
            strcmp(id, seen) != 0 || out.sent != src.size || !out.sha512[0] ||
            out.left_behind || snap_error_isset(&err))
            abort();
        free(id);
        return;
    }
    if (!snap_error_isset(&err) || !err.msg[0])
        abort();
    if (out.id[0] && !snap_uuid_valid(out.id))
        abort();
    if (out.left_behind && !out.id[0])
        abort(); /* left behind: then it has a name to clean up */
}

static void
fuzz_delete(cinder_session *s)
{
    snap_error err = {0};

    if (!glance_image_delete(s, IMAGE, &err) &&
        (!snap_error_isset(&err) || !err.msg[0]))
        abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char op[64];
    size_t len = fuzz_script_op(data, size, op, sizeof(op));
    cinder_auth_opts o = {0};
    cinder_http *http;
    cinder_session *s;

    if (strcmp(op, "create_keystone") == 0) {
        o.auth_type = CINDER_AUTH_PASSWORD;
        o.auth_url = "http://keystone.test:5000/v3";
        o.username = "demo";
        o.password = "secret";
        o.project_name = "demo";
    } else if (strcmp(op, "create") == 0 || strcmp(op, "delete") == 0) {
        o.auth_type = CINDER_AUTH_NOAUTH;
        o.project_id = PROJECT;
        o.image_endpoint = "http://glance.test:9292";
    } else {
        return 0;
    }
    http = fuzz_http_new(data + (size - len), len);
    if (!http)
        return 0;
    s = cinder_session_new_with_http(http, &o, NULL);
    if (!s)
        abort(); /* the options are valid */
    if (strcmp(op, "delete") == 0)
        fuzz_delete(s);
    else
        fuzz_create(s);
    cinder_session_free(s);
    cinder_http_free(http);
    return 0;
}
