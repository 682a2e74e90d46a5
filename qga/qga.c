/* qga/qga.c -- see qga.h. */
#include "qga/qga.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

struct qga_agent {
    const qga_transport_ops *ops;
    void *impl;
    int timeout_s; /* what was last set on the transport, 0: nothing yet */
};

qga_agent *
qga_agent_new(const qga_transport_ops *ops, void *impl, snap_error *err)
{
    qga_agent *agent = calloc(1, sizeof(*agent));

    if (!agent) {
        snap_error_set(err, SNAP_E_NOMEM, "out of memory");
        return NULL;
    }
    agent->ops = ops;
    agent->impl = impl;
    return agent;
}

void
qga_agent_free(qga_agent *agent)
{
    free(agent);
}

static int
to_seconds(int64_t ms)
{
    int64_t s = (ms + 999) / 1000;

    if (s < 1)
        return 1;
    return s > 86400 ? 86400 : (int)s;
}

static bool
set_timeout(qga_agent *agent, int64_t timeout_ms, snap_error *err)
{
    int s = to_seconds(timeout_ms);

    if (s == agent->timeout_s)
        return true;
    if (!agent->ops->set_timeout(agent->impl, s, err))
        return false;
    agent->timeout_s = s;
    return true;
}

bool
qga_reply_string(const char *reply, char **value, snap_error *err)
{
    json_error_t jerr;
    json_t *root, *ret, *e;
    bool ok = false;

    *value = NULL;
    root = json_loads(reply, 0, &jerr);
    if (!root || !json_is_object(root)) {
        snap_error_set(err, SNAP_E_AGENT,
                       "guest agent sent a malformed reply: %s",
                       root ? "not an object" : jerr.text);
        goto cleanup;
    }
    e = json_object_get(root, "error");
    if (e) {
        snap_error_set(err, SNAP_E_AGENT, "guest agent error %s: %s",
                       json_string_value(json_object_get(e, "class"))
                           ? json_string_value(json_object_get(e, "class"))
                           : "(no class)",
                       json_string_value(json_object_get(e, "desc"))
                           ? json_string_value(json_object_get(e, "desc"))
                           : "(no description)");
        goto cleanup;
    }
    ret = json_object_get(root, "return");
    if (!ret) {
        snap_error_set(err, SNAP_E_AGENT,
                       "guest agent reply has no 'return' member");
        goto cleanup;
    }
    *value = json_dumps(ret, JSON_ENCODE_ANY | JSON_COMPACT);
    if (!*value) {
        snap_error_set(err, SNAP_E_NOMEM, "out of memory");
        goto cleanup;
    }
    ok = true;

cleanup:
    json_decref(root);
    return ok;
}

bool
qga_agent_ping(qga_agent *agent, int64_t timeout_ms, snap_error *err)
{
    char *reply, *value = NULL;
    bool ok;

    reply = agent->ops->command(agent->impl, "{\"execute\":\"guest-ping\"}",
                                to_seconds(timeout_ms), err);
    if (!reply)
        return false;
    ok = qga_reply_string(reply, &value, err);
    free(reply);
    free(value);
    return ok;
}

int
qga_fs_freeze(qga_agent *agent, const char *const *mounts, size_t n,
              int64_t timeout_ms, snap_error *err)
{
    if (!set_timeout(agent, timeout_ms, err))
        return -1;
    return agent->ops->fs_freeze(agent->impl, mounts, n, err);
}

int
qga_fs_thaw(qga_agent *agent, int64_t timeout_ms, snap_error *err)
{
    if (!set_timeout(agent, timeout_ms, err))
        return -1;
    return agent->ops->fs_thaw(agent->impl, err);
}

int
qga_fs_frozen(qga_agent *agent, int64_t timeout_ms, snap_error *err)
{
    char *reply, *value = NULL;
    int state = -1;

    reply = agent->ops->command(agent->impl,
                                "{\"execute\":\"guest-fsfreeze-status\"}",
                                to_seconds(timeout_ms), err);
    if (!reply)
        return -1;
    if (!qga_reply_string(reply, &value, err))
        goto cleanup;
    if (strcmp(value, "\"frozen\"") == 0)
        state = 1;
    else if (strcmp(value, "\"thawed\"") == 0)
        state = 0;
    else
        snap_error_set(err, SNAP_E_AGENT,
                       "guest agent reports an unknown freeze status %s",
                       value);

cleanup:
    free(reply);
    free(value);
    return state;
}
