/* tests/fuzz/fuzz_api.c -- request bodies of the HTTP API: every body is
 * tried as a create action (POST /v1/servers/{domain}/action) and as an
 * export (POST /v1/sets/{id}/export). Either a 400 that says why or a
 * request that holds what the validators promise; never a crash. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "coordinator/http/http_body.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* What the server checks for any text it stores: 1 to 255 bytes, no
 * control characters. */
static bool
label_ok(const char *s)
{
    size_t i, n = s ? strlen(s) : 0;

    if (n == 0 || n > 255)
        return false;
    for (i = 0; i < n; i++) {
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
            return false;
    }
    return true;
}

static void
check_create(json_t *root)
{
    http_create_req req;
    unsigned status = 0;
    char why[256] = "";

    if (!http_create_req_parse(root, COORD_QUIESCE_PREFERRED, false, &req,
                               &status, why, sizeof(why))) {
        if (!why[0] || status < 400 || status > 599)
            abort(); /* a refusal always says why, as an error status */
        return;
    }
    if (!label_ok(req.name) || req.domain_name || req.domain_uuid)
        abort();
    if (req.backup_type &&
        (!req.backup_type[0] || req.rotation < 1 || req.rotation > 10000))
        abort(); /* createBackup: a type and a rotation that keeps it */
    if (!req.backup_type && req.rotation != 0)
        abort();
    if ((int)req.quiesce < 0 || req.quiesce >= COORD_QUIESCE_LAST)
        abort();
    if (req.metadata && !json_is_object(req.metadata))
        abort();
}

static void
check_export(const json_t *root)
{
    http_export_req req;
    char why[256] = "";

    if (!http_export_req_parse(root, &req, why, sizeof(why))) {
        if (!why[0])
            abort();
        return;
    }
    if (req.name && !label_ok(req.name))
        abort();
    if (req.disk_format && strcmp(req.disk_format, "vmdk") != 0 &&
        strcmp(req.disk_format, "qcow2") != 0)
        abort();
}

static void
check_restore(const json_t *root)
{
    http_restore_req req;
    char why[256] = "";

    if (!http_restore_req_parse(root, &req, why, sizeof(why))) {
        if (!why[0])
            abort();
        return;
    }
    if (req.start < -1 || req.start > 1 || req.shutdown_timeout_ms < -1 ||
        req.shutdown_timeout_ms > HTTP_SHUTDOWN_TIMEOUT_MAX_MS)
        abort();
}

static void
check_states(const json_t *root)
{
    const char *name = NULL, *uuid = NULL;
    char why[256] = "", id[64];

    if (!http_state_save_parse(root, &name, why, sizeof(why))) {
        if (!why[0])
            abort();
    } else if (name && !label_ok(name)) {
        abort();
    }
    why[0] = '\0';
    if (!http_state_apply_parse(root, &uuid, why, sizeof(why))) {
        if (!why[0])
            abort();
        return;
    }
    if (!uuid || strlen(uuid) >= sizeof(id))
        abort();
    snprintf(id, sizeof(id), "%s", uuid);
    if (!http_set_id_valid(id))
        abort();
}

/* A name that becomes a domain, a file or a volume: no '/', not ".x". */
static bool
name_ok(const char *s)
{
    return s && s[0] && s[0] != '.' && !strchr(s, '/') && label_ok(s);
}

static void
check_spawn_volume(const json_t *root)
{
    http_spawn_req sp;
    http_volume_req vr;
    char why[256] = "";
    size_t i;

    if (!http_spawn_req_parse(root, &sp, why, sizeof(why))) {
        if (!why[0])
            abort();
    } else {
        if (!name_ok(sp.name) || sp.count < 1 ||
            sp.count > HTTP_SPAWN_MAX_COUNT ||
            sp.nnetworks > HTTP_SPAWN_MAX_NETWORKS || sp.vcpus > 4096 ||
            (sp.memory_mib && sp.memory_mib < 16) || sp.template_id)
            abort();
        for (i = 0; i < sp.nnetworks; i++) {
            if (!name_ok(sp.networks[i]))
                abort();
        }
    }
    why[0] = '\0';
    if (!http_volume_req_parse(root, &vr, why, sizeof(why))) {
        if (!why[0])
            abort();
        return;
    }
    if (!name_ok(vr.disk) || (vr.name && !name_ok(vr.name)) ||
        (vr.format && strcmp(vr.format, "qcow2") != 0 &&
         strcmp(vr.format, "raw") != 0))
        abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_t *root;
    json_error_t jerr;

    /* As handle_action() and handle_export() read a body. */
    root = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, &jerr);
    if (!root) {
        if (size == 0) { /* an export or restore may have no body */
            check_export(NULL);
            check_restore(NULL);
            check_states(NULL);
        }
        return 0;
    }
    check_create(root);
    check_export(root);
    check_restore(root);
    check_states(root);
    check_spawn_volume(root);
    json_decref(root);
    return 0;
}
