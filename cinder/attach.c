/* cinder/attach.c -- see os_attach.h. */
#include "cinder/attach.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cinder/cinder_http.h"
#include "cinder/cinder_priv.h"
#include "common/snap_log.h"
#include "common/snap_time.h"

void
cinder_connection_release(cinder_connection *c)
{
    size_t i;

    if (!c)
        return;
    for (i = 0; i < c->nhosts; i++) {
        free(c->hosts[i]);
        free(c->ports[i]);
    }
    free(c->hosts);
    free(c->ports);
    free(c->type);
    free(c->name);
    free(c->auth_username);
    free(c->secret_type);
    free(c->secret_uuid);
    memset(c, 0, sizeof(*c));
}

/* The connector os-brick sends for this host. RBD ignores all but the
 * host name; other drivers would need the initiator of this host, which
 * snapset does not know (os_attach.h: rbd only). */
static json_t *
connector(void)
{
    char host[256];

    if (gethostname(host, sizeof(host)) < 0)
        snprintf(host, sizeof(host), "localhost");
    host[sizeof(host) - 1] = '\0';
    return json_pack("{s:s, s:s, s:s, s:s, s:b, s:b}", "host", host, "ip",
                     "127.0.0.1", "platform", "x86_64", "os_type", "linux",
                     "multipath", 0, "do_local_attach", 0);
}

/* POSTs @body (stolen) to /volumes/@id/action. Returns the parsed reply (a
 * new reference; an empty reply gives an empty object) or NULL. */
static json_t *
volume_action(cinder_client *client, const char *id, const char *action,
              json_t *body, snap_error *err)
{
    cinder_http_request req;
    cinder_http_response resp;
    char url[1024], mvh[64], mv[16], msg[200];
    const char *headers[3];
    char *text = NULL;
    json_t *reply = NULL, *wrapped = NULL;
    json_error_t jerr;

    memset(&req, 0, sizeof(req));
    memset(&resp, 0, sizeof(resp));
    if (!body) {
        snap_error_set(err, SNAP_E_NOMEM, "out of memory");
        return NULL;
    }
    wrapped = json_pack("{s:o}", action, body);
    text = wrapped ? json_dumps(wrapped, JSON_COMPACT) : NULL;
    if (!text) {
        snap_error_set(err, SNAP_E_NOMEM, "out of memory");
        goto cleanup;
    }
    snprintf(url, sizeof(url), "%s/volumes/%s/action",
             cinder_client_endpoint(client), id);
    snprintf(mvh, sizeof(mvh), "OpenStack-API-Version: volume %s",
             cinder_microversion_str(cinder_client_microversion(client), mv,
                                     sizeof(mv)));
    headers[0] = mvh;
    headers[1] = "Content-Type: application/json";
    headers[2] = "Accept: application/json";
    req.method = CINDER_HTTP_POST;
    req.url = url;
    req.headers = headers;
    req.nheaders = 3;
    req.body = text;
    req.body_len = strlen(text);
    if (!cinder_session_request(client->session, &req, &resp, err))
        goto cleanup;
    if (resp.status < 200 || resp.status > 299) {
        msg[0] = '\0';
        if (resp.body) {
            json_t *e = json_loads(resp.body, 0, &jerr);
            const char *k;
            json_t *v;

            /* {"badRequest": {"message": "..."}} */
            json_object_foreach(e, k, v)
            {
                const char *m =
                    json_string_value(json_object_get(v, "message"));

                if (m)
                    snprintf(msg, sizeof(msg), ": %s", m);
            }
            json_decref(e);
        }
        snap_error_set_http(err, resp.status,
                            "cannot %s volume '%s': HTTP "
                            "%ld%s",
                            action, id, resp.status, msg);
        goto cleanup;
    }
    if (!resp.body || !resp.body[0]) {
        reply = json_object();
    } else {
        reply = json_loads(resp.body, 0, &jerr);
        if (!reply)
            snap_error_set(err, SNAP_E_INVALID,
                           "cannot %s volume '%s': "
                           "malformed reply: %s",
                           action, id, jerr.text);
    }

cleanup:
    cinder_http_response_release(&resp);
    free(text);
    json_decref(wrapped);
    return reply;
}

bool
cinder_volume_reserve(cinder_client *client, const char *volume_id,
                      snap_error *err)
{
    json_t *r =
        volume_action(client, volume_id, "os-reserve", json_object(), err);

    json_decref(r);
    return r != NULL;
}

bool
cinder_volume_unreserve(cinder_client *client, const char *volume_id,
                        snap_error *err)
{
    json_t *r =
        volume_action(client, volume_id, "os-unreserve", json_object(), err);

    json_decref(r);
    return r != NULL;
}

static bool
dup_str(json_t *obj, const char *key, char **out)
{
    const char *s = json_string_value(json_object_get(obj, key));

    *out = NULL;
    if (!s)
        return true;
    *out = strdup(s);
    return *out != NULL;
}

/* "6789" or 6789: Cinder drivers send either. */
static char *
port_text(json_t *v)
{
    char buf[32];

    if (json_is_string(v))
        return strdup(json_string_value(v));
    if (json_is_integer(v)) {
        snprintf(buf, sizeof(buf), "%lld", (long long)json_integer_value(v));
        return strdup(buf);
    }
    return strdup("6789");
}

bool
cinder_volume_connect(cinder_client *client, const char *volume_id,
                      cinder_connection *conn, snap_error *err)
{
    json_t *r, *ci, *data, *hosts, *ports;
    size_t i, n;
    bool ok = false;

    memset(conn, 0, sizeof(*conn));
    r = volume_action(client, volume_id, "os-initialize_connection",
                      json_pack("{s:o}", "connector", connector()), err);
    if (!r)
        return false;
    ci = json_object_get(r, "connection_info");
    data = json_object_get(ci, "data");
    if (!json_is_object(data)) {
        snap_error_set(err, SNAP_E_INVALID,
                       "cannot connect volume '%s': no connection_info in "
                       "Cinder's reply",
                       volume_id);
        goto cleanup;
    }
    if (!dup_str(ci, "driver_volume_type", &conn->type) ||
        !dup_str(data, "name", &conn->name) ||
        !dup_str(data, "auth_username", &conn->auth_username) ||
        !dup_str(data, "secret_type", &conn->secret_type) ||
        !dup_str(data, "secret_uuid", &conn->secret_uuid)) {
        snap_error_set(err, SNAP_E_NOMEM, "out of memory");
        goto cleanup;
    }
    if (!conn->type || strcmp(conn->type, "rbd") != 0) {
        snap_error_set(err, SNAP_E_STATE,
                       "volume '%s' connects as '%s': snapset attaches only "
                       "rbd volumes",
                       volume_id, conn->type ? conn->type : "?");
        goto cleanup;
    }
    if (!conn->name) {
        snap_error_set(err, SNAP_E_INVALID,
                       "volume '%s': connection_info has no image name",
                       volume_id);
        goto cleanup;
    }
    conn->auth_enabled = json_is_true(json_object_get(data, "auth_enabled"));
    conn->discard = json_is_true(json_object_get(data, "discard"));
    hosts = json_object_get(data, "hosts");
    ports = json_object_get(data, "ports");
    n = json_array_size(hosts);
    conn->hosts = calloc(n + 1, sizeof(*conn->hosts));
    conn->ports = calloc(n + 1, sizeof(*conn->ports));
    if (!conn->hosts || !conn->ports) {
        snap_error_set(err, SNAP_E_NOMEM, "out of memory");
        goto cleanup;
    }
    for (i = 0; i < n; i++) {
        const char *h = json_string_value(json_array_get(hosts, i));

        conn->hosts[i] = strdup(h ? h : "");
        conn->ports[i] = port_text(json_array_get(ports, i));
        conn->nhosts++;
        if (!conn->hosts[i] || !conn->ports[i]) {
            snap_error_set(err, SNAP_E_NOMEM, "out of memory");
            goto cleanup;
        }
    }
    if (conn->auth_enabled && (!conn->auth_username || !conn->secret_uuid)) {
        snap_error_set(err, SNAP_E_INVALID,
                       "volume '%s': cephx is on but connection_info has no "
                       "user or secret",
                       volume_id);
        goto cleanup;
    }
    ok = true;

cleanup:
    if (!ok)
        cinder_connection_release(conn);
    json_decref(r);
    return ok;
}

bool
cinder_volume_disconnect(cinder_client *client, const char *volume_id,
                         snap_error *err)
{
    json_t *r =
        volume_action(client, volume_id, "os-terminate_connection",
                      json_pack("{s:o}", "connector", connector()), err);

    json_decref(r);
    return r != NULL;
}

bool
cinder_volume_attach(cinder_client *client, const char *volume_id,
                     const char *instance_uuid, const char *mountpoint,
                     int64_t timeout_ms, snap_error *err)
{
    json_t *r = volume_action(client, volume_id, "os-attach",
                              json_pack("{s:s, s:s, s:s}", "instance_uuid",
                                        instance_uuid, "mountpoint", mountpoint,
                                        "mode", "rw"),
                              err);

    json_decref(r);
    if (!r)
        return false;
    return cinder_volume_wait(client, volume_id, "in-use",
                              snap_now_ms() + timeout_ms, err);
}

bool
cinder_volume_detach(cinder_client *client, const char *volume_id,
                     const char *instance_uuid, int64_t timeout_ms,
                     snap_error *err)
{
    cinder_volume *vol;
    const char *att = NULL;
    json_t *body, *r;
    size_t i;
    bool ok = false;

    vol = cinder_volume_show(client, volume_id, err);
    if (!vol)
        return false;
    if (strcmp(vol->status, "available") == 0) {
        cinder_volume_free(vol);
        return true;
    }
    for (i = 0; i < vol->nattachments; i++) {
        if (vol->attachments[i].server_id &&
            strcmp(vol->attachments[i].server_id, instance_uuid) == 0)
            att = vol->attachments[i].id;
    }
    if (strcmp(vol->status, "in-use") != 0 &&
        strcmp(vol->status, "attaching") != 0 &&
        strcmp(vol->status, "reserved") != 0) {
        snap_error_set(err, SNAP_E_STATE,
                       "cannot detach volume '%s': it is '%s'", volume_id,
                       vol->status);
        goto cleanup;
    }
    if (!att && strcmp(vol->status, "in-use") == 0) {
        /* Someone else's attachment: never ours to end. */
        snap_error_set(err, SNAP_E_STATE,
                       "cannot detach volume '%s': it is attached, but not "
                       "to %s",
                       volume_id, instance_uuid);
        goto cleanup;
    }
    if (!cinder_volume_disconnect(client, volume_id, err))
        goto cleanup;
    if (!att) {
        /* Reserved, never attached: unreserving is the way back. */
        if (!cinder_volume_unreserve(client, volume_id, err))
            goto cleanup;
    } else {
        body = json_pack("{s:s}", "attachment_id", att);
        r = volume_action(client, volume_id, "os-detach", body, err);
        json_decref(r);
        if (!r)
            goto cleanup;
    }
    ok = cinder_volume_wait(client, volume_id, "available",
                            snap_now_ms() + timeout_ms, err);

cleanup:
    cinder_volume_free(vol);
    return ok;
}

bool
cinder_volume_attach_all(cinder_client *client, const char *volume_id,
                         const char *instance_uuid, const char *mountpoint,
                         cinder_connection *conn, int64_t timeout_ms,
                         snap_error *err)
{
    memset(conn, 0, sizeof(*conn));
    if (!cinder_volume_reserve(client, volume_id, err))
        return false;
    if (!cinder_volume_connect(client, volume_id, conn, err))
        goto undo;
    if (!cinder_volume_attach(client, volume_id, instance_uuid, mountpoint,
                              timeout_ms, err))
        goto undo;
    return true;

undo:
    /* Best effort, the first error is kept: a volume left reserved shows
     * "attaching" in Cinder and the message says which one. Detaching
     * terminates the connection and unreserves or detaches. */
    (void)cinder_volume_detach(client, volume_id, instance_uuid, timeout_ms,
                               NULL);
    cinder_connection_release(conn);
    return false;
}
