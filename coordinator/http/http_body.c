/* coordinator/http/http_body.c -- see http_body.h. */
#include "coordinator/http/http_body.h"

#include <stdio.h>
#include <string.h>

#include "coordinator/coord_policy.h"

#define LABEL_MAX 255   /* characters of a set name */
#define METADATA_MAX 64 /* pairs of a create action's metadata */
#define ROTATION_MAX 10000
#define NAME_MAX_CHARS 64 /* a spawned domain's, a network's, a disk's */

bool
http_set_id_valid(char *id)
{
    size_t i, len = strlen(id);

    if (len < 8 || len > 36)
        return false;
    for (i = 0; i < len; i++) {
        char ch = id[i];

        if (ch >= 'A' && ch <= 'F')
            id[i] = (char)(ch - 'A' + 'a');
        else if (!((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f') ||
                   ch == '-'))
            return false;
    }
    return true;
}

bool
http_text_clean(const char *s)
{
    for (; *s; s++) {
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            return false;
    }
    return true;
}

/* A label (a name): a string of 1 to LABEL_MAX printable characters;
 * false with @why naming @field. */
static bool
label_field(const json_t *v, const char *field, char *why, size_t size)
{
    if (json_is_string(v) && json_string_length(v) > 0 &&
        json_string_length(v) <= LABEL_MAX &&
        http_text_clean(json_string_value(v)))
        return true;
    snprintf(why, size, "%s must be a string of 1 to %d printable characters",
             field, LABEL_MAX);
    return false;
}

/* A name that becomes a domain, a file or a volume: 1 to @max printable
 * characters, no '/', not starting with '.'; false with @why naming
 * @field. */
static bool
name_field(const json_t *v, const char *field, size_t max, char *why,
           size_t size)
{
    const char *s = json_string_value(v);

    if (s && json_string_length(v) > 0 && json_string_length(v) <= max &&
        http_text_clean(s) && !strchr(s, '/') && s[0] != '.')
        return true;
    snprintf(why, size,
             "%s must be a string of 1 to %zu printable characters, without "
             "'/', not starting with '.'",
             field, max);
    return false;
}

/* An integer field from @min to @max into *@out; false with @why. */
static bool
int_field(const json_t *v, const char *field, json_int_t min, json_int_t max,
          json_int_t *out, char *why, size_t size)
{
    if (json_is_integer(v) && json_integer_value(v) >= min &&
        json_integer_value(v) <= max) {
        *out = json_integer_value(v);
        return true;
    }
    snprintf(why, size, "%s must be an integer from %lld to %lld", field,
             (long long)min, (long long)max);
    return false;
}

static bool
bool_field(const json_t *v, const char *field, bool *out, char *why,
           size_t size)
{
    if (json_is_boolean(v)) {
        *out = json_is_true(v);
        return true;
    }
    snprintf(why, size, "%s must be true or false", field);
    return false;
}

static bool
spawn_networks(const json_t *v, http_spawn_req *req, char *why, size_t size)
{
    size_t i;

    if (!json_is_array(v) || json_array_size(v) == 0 ||
        json_array_size(v) > HTTP_SPAWN_MAX_NETWORKS) {
        snprintf(why, size, "networks must be an array of 1 to %d names",
                 HTTP_SPAWN_MAX_NETWORKS);
        return false;
    }
    for (i = 0; i < json_array_size(v); i++) {
        if (!name_field(json_array_get(v, i), "each of networks",
                        NAME_MAX_CHARS, why, size))
            return false;
        req->networks[i] = json_string_value(json_array_get(v, i));
    }
    req->nnetworks = json_array_size(v);
    return true;
}

bool
http_spawn_req_parse(const json_t *root, http_spawn_req *req, char *why,
                     size_t size)
{
    const char *key;
    json_int_t n;
    json_t *v;

    memset(req, 0, sizeof(*req));
    req->start = true;
    req->count = 1;
    if (!json_is_object(root)) {
        snprintf(why, size, "the body must be a JSON object with a name");
        return false;
    }
    json_object_foreach((json_t *)root, key, v)
    {
        if (strcmp(key, "name") == 0) {
            if (!name_field(v, "name", NAME_MAX_CHARS, why, size))
                return false;
            req->name = json_string_value(v);
        } else if (strcmp(key, "vcpus") == 0) {
            if (!int_field(v, "vcpus", 1, 4096, &n, why, size))
                return false;
            req->vcpus = (unsigned)n;
        } else if (strcmp(key, "memory_mib") == 0) {
            if (!int_field(v, "memory_mib", 16, 16LL * 1024 * 1024, &n, why,
                           size))
                return false;
            req->memory_mib = (uint64_t)n;
        } else if (strcmp(key, "count") == 0) {
            if (!int_field(v, "count", 1, HTTP_SPAWN_MAX_COUNT, &n, why, size))
                return false;
            req->count = (unsigned)n;
        } else if (strcmp(key, "networks") == 0) {
            if (!spawn_networks(v, req, why, size))
                return false;
        } else if (strcmp(key, "full") == 0) {
            if (!bool_field(v, "full", &req->full, why, size))
                return false;
        } else if (strcmp(key, "start") == 0) {
            if (!bool_field(v, "start", &req->start, why, size))
                return false;
        } else if (strcmp(key, "keep_failed") == 0) {
            if (!bool_field(v, "keep_failed", &req->keep_failed, why, size))
                return false;
        } else {
            snprintf(why, size,
                     "unknown field '%.64s': use name, vcpus, memory_mib, "
                     "networks, full, start, count or keep_failed",
                     key);
            return false;
        }
    }
    if (!req->name) {
        snprintf(why, size, "spawn needs a name");
        return false;
    }
    return true;
}

bool
http_volume_req_parse(const json_t *root, http_volume_req *req, char *why,
                      size_t size)
{
    const char *key;
    json_t *v;

    memset(req, 0, sizeof(*req));
    if (!json_is_object(root)) {
        snprintf(why, size, "the body must be a JSON object with a disk");
        return false;
    }
    json_object_foreach((json_t *)root, key, v)
    {
        if (strcmp(key, "disk") == 0) {
            if (!name_field(v, "disk", NAME_MAX_CHARS, why, size))
                return false;
            req->disk = json_string_value(v);
        } else if (strcmp(key, "name") == 0) {
            if (!name_field(v, "name", LABEL_MAX, why, size))
                return false;
            req->name = json_string_value(v);
        } else if (strcmp(key, "format") == 0) {
            req->format = json_string_value(v);
            if (!req->format || (strcmp(req->format, "qcow2") != 0 &&
                                 strcmp(req->format, "raw") != 0)) {
                snprintf(why, size, "format must be \"qcow2\" or \"raw\"");
                return false;
            }
        } else {
            snprintf(why, size,
                     "unknown field '%.64s': use disk, name or format", key);
            return false;
        }
    }
    if (!req->disk) {
        snprintf(why, size,
                 "volumes needs the disk (a target such as "
                 "\"vdb\", or a serial)");
        return false;
    }
    return true;
}

bool
http_export_req_parse(const json_t *root, http_export_req *req, char *why,
                      size_t size)
{
    const char *key;
    json_t *v;

    memset(req, 0, sizeof(*req));
    if (!root)
        return true;
    if (!json_is_object(root)) {
        snprintf(why, size, "the body must be a JSON object");
        return false;
    }
    json_object_foreach((json_t *)root, key, v)
    {
        if (strcmp(key, "name") == 0) {
            if (!label_field(v, "name", why, size))
                return false;
            req->name = json_string_value(v);
        } else if (strcmp(key, "disk_format") == 0) {
            if (!json_is_string(v) ||
                (strcmp(json_string_value(v), "vmdk") != 0 &&
                 strcmp(json_string_value(v), "qcow2") != 0)) {
                snprintf(why, size,
                         "disk_format must be \"vmdk\" or "
                         "\"qcow2\"");
                return false;
            }
            req->disk_format = json_string_value(v);
        } else {
            snprintf(why, size,
                     "unknown field '%.64s': use name or "
                     "disk_format",
                     key);
            return false;
        }
    }
    return true;
}

bool
http_state_save_parse(const json_t *root, const char **name, char *why,
                      size_t size)
{
    const char *key;
    json_t *v;

    *name = NULL;
    if (!root)
        return true;
    if (!json_is_object(root)) {
        snprintf(why, size, "the body must be a JSON object");
        return false;
    }
    json_object_foreach((json_t *)root, key, v)
    {
        if (strcmp(key, "name") != 0) {
            snprintf(why, size, "unknown field '%.64s': use name", key);
            return false;
        }
        if (!label_field(v, "name", why, size))
            return false;
        *name = json_string_value(v);
    }
    return true;
}

bool
http_state_apply_parse(const json_t *root, const char **uuid, char *why,
                       size_t size)
{
    const char *key;
    json_t *v;
    char id[SNAP_UUID_LEN + 1];

    *uuid = NULL;
    if (!json_is_object(root)) {
        snprintf(why, size, "the body must be a JSON object with \"uuid\"");
        return false;
    }
    json_object_foreach((json_t *)root, key, v)
    {
        if (strcmp(key, "uuid") != 0) {
            snprintf(why, size, "unknown field '%.64s': use uuid", key);
            return false;
        }
        if (!json_is_string(v) || json_string_length(v) >= sizeof(id)) {
            snprintf(why, size, "uuid must be a RAM state's id");
            return false;
        }
        snprintf(id, sizeof(id), "%s", json_string_value(v));
        if (!http_set_id_valid(id)) {
            snprintf(why, size, "uuid must be a RAM state's id");
            return false;
        }
        *uuid = json_string_value(v);
    }
    if (!*uuid) {
        snprintf(why, size, "uuid is required: the RAM state to apply");
        return false;
    }
    return true;
}

bool
http_restore_req_parse(const json_t *root, http_restore_req *req, char *why,
                       size_t size)
{
    const char *key;
    json_t *v;

    req->start = -1;
    req->shutdown_timeout_ms = -1;
    if (!root)
        return true;
    if (!json_is_object(root)) {
        snprintf(why, size, "the body must be a JSON object");
        return false;
    }
    json_object_foreach((json_t *)root, key, v)
    {
        if (strcmp(key, "start") == 0) {
            if (!json_is_boolean(v)) {
                snprintf(why, size, "start must be true or false");
                return false;
            }
            req->start = json_is_true(v) ? 1 : 0;
        } else if (strcmp(key, "shutdown_timeout_ms") == 0) {
            if (!json_is_integer(v) || json_integer_value(v) < 0 ||
                json_integer_value(v) > HTTP_SHUTDOWN_TIMEOUT_MAX_MS) {
                snprintf(why, size,
                         "shutdown_timeout_ms must be an integer from 0 to "
                         "%d",
                         HTTP_SHUTDOWN_TIMEOUT_MAX_MS);
                return false;
            }
            req->shutdown_timeout_ms = json_integer_value(v);
        } else {
            snprintf(why, size,
                     "unknown field '%.64s': use start or "
                     "shutdown_timeout_ms",
                     key);
            return false;
        }
    }
    return true;
}

/* Validates the field @key (value @v) of the arguments of @action (a
 * backup when @backup) into @req. */
static bool
create_field(const char *action, bool backup, const char *key, json_t *v,
             http_create_req *req, char *why, size_t size)
{
    if (strcmp(key, "name") == 0) {
        if (!json_is_string(v) || json_string_length(v) == 0 ||
            json_string_length(v) > LABEL_MAX ||
            !http_text_clean(json_string_value(v))) {
            snprintf(why, size,
                     "%s.name must be a string of 1 to %d printable "
                     "characters",
                     action, LABEL_MAX);
            return false;
        }
        req->name = json_string_value(v);
    } else if (backup && strcmp(key, "backup_type") == 0) {
        if (!json_is_string(v) ||
            !coord_policy_name_valid(json_string_value(v))) {
            snprintf(why, size,
                     "createBackup.backup_type must be a string of "
                     "letters, digits, '-', '_' and '.' (\"daily\")");
            return false;
        }
        req->backup_type = json_string_value(v);
    } else if (backup && strcmp(key, "rotation") == 0) {
        if (!json_is_integer(v)) {
            snprintf(why, size, "createBackup.rotation must be an integer");
            return false;
        }
        if (json_integer_value(v) < 1 || json_integer_value(v) > ROTATION_MAX) {
            snprintf(why, size,
                     "createBackup.rotation must be between 1 and %d "
                     "(0 would delete the new backup too)",
                     ROTATION_MAX);
            return false;
        }
        req->rotation = (int)json_integer_value(v);
    } else if (strcmp(key, "metadata") == 0) {
        const char *mk;
        json_t *mv;

        if (!json_is_object(v) || json_object_size(v) > METADATA_MAX) {
            snprintf(why, size,
                     "%s.metadata must be an object of at most %d "
                     "pairs",
                     action, METADATA_MAX);
            return false;
        }
        json_object_foreach(v, mk, mv)
        {
            if (!json_is_string(mv) || !mk[0] || strlen(mk) > 255 ||
                json_string_length(mv) > 255 || !http_text_clean(mk) ||
                !http_text_clean(json_string_value(mv))) {
                snprintf(why, size,
                         "%s.metadata must map keys to strings (at "
                         "most 255 printable characters each)",
                         action);
                return false;
            }
            if (strncmp(mk, "snapset.", 8) == 0) {
                snprintf(why, size,
                         "%s.metadata key '%.64s': the prefix "
                         "\"snapset.\" is snapset's own",
                         action, mk);
                return false;
            }
        }
        req->metadata = v;
    } else if (strcmp(key, "quiesce") == 0) {
        int q =
            json_is_string(v) ? coord_quiesce_parse(json_string_value(v)) : -1;

        if (q < 0) {
            snprintf(why, size,
                     "%s.quiesce must be \"required\", \"preferred\" "
                     "or \"off\"",
                     action);
            return false;
        }
        req->quiesce = q;
    } else if (strcmp(key, "pause") == 0) {
        if (!json_is_boolean(v)) {
            snprintf(why, size, "%s.pause must be true or false", action);
            return false;
        }
        req->pause = json_is_true(v);
    } else {
        snprintf(why, size, "unknown field '%.64s' in %s", key, action);
        return false;
    }
    return true;
}

bool
http_create_req_parse(json_t *root, coord_quiesce quiesce, bool pause,
                      http_create_req *req, unsigned *status, char *why,
                      size_t size)
{
    const char *action, *key;
    json_t *args, *v;
    bool backup;

    *status = 400;
    if (!json_is_object(root)) {
        snprintf(why, size, "the body must be a JSON object");
        return false;
    }
    if (json_object_size(root) != 1) {
        snprintf(why, size,
                 "the body must hold exactly one action: "
                 "createBackup or createSnapshot");
        return false;
    }
    action = json_object_iter_key(json_object_iter(root));
    args = json_object_iter_value(json_object_iter(root));
    if (strcmp(action, "createBackup") == 0) {
        backup = true;
    } else if (strcmp(action, "createSnapshot") == 0) {
        backup = false;
    } else {
        snprintf(why, size,
                 "unknown action '%.64s': use createBackup or createSnapshot",
                 action);
        return false;
    }
    if (!json_is_object(args)) {
        snprintf(why, size, "%s must be an object", action);
        return false;
    }
    memset(req, 0, sizeof(*req));
    req->quiesce = quiesce;
    req->pause = pause;
    json_object_foreach(args, key, v)
    {
        if (!create_field(action, backup, key, v, req, why, size))
            return false;
    }
    if (!req->name) {
        snprintf(why, size, "%s.name is required", action);
        return false;
    }
    if (backup && !req->backup_type) {
        snprintf(why, size, "createBackup.backup_type is required");
        return false;
    }
    if (backup && req->rotation == 0) {
        snprintf(why, size, "createBackup.rotation is required");
        return false;
    }
    return true;
}
