/* coordinator/ops/openstack.c -- see openstack.h. */
#include "coordinator/ops/openstack.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/snap_log.h"
#include "common/snap_uuid.h"
#include "common/snap_time.h"

static const char *
pick(const char *file_value, const char *env_value)
{
    return file_value ? file_value : env_value;
}

bool
ops_os_auth_opts(const coord_openstack_conf *c, cinder_auth_opts *o,
                 snap_error *err)
{
    cinder_auth_opts env;
    snap_error env_err = {0};
    const char *iface;

    memset(&env, 0, sizeof(env));
    if (c->use_env)
        (void)cinder_auth_opts_from_env(&env, &env_err); /* fills what it can */
    *o = env;
    if (c->auth_type) {
        if (strcmp(c->auth_type, "password") == 0)
            o->auth_type = CINDER_AUTH_PASSWORD;
        else if (strcmp(c->auth_type, "v3applicationcredential") == 0)
            o->auth_type = CINDER_AUTH_APPLICATION_CREDENTIAL;
        else if (strcmp(c->auth_type, "noauth") == 0)
            o->auth_type = CINDER_AUTH_NOAUTH;
        else
            return snap_error_set(err, SNAP_E_INVALID,
                                  "openstack.auth_type '%s' is not password, "
                                  "v3applicationcredential or noauth",
                                  c->auth_type);
    }
    o->auth_url = pick(c->auth_url, env.auth_url);
    o->username = pick(c->username, env.username);
    o->password = pick(c->password, env.password);
    o->user_domain_name = pick(c->user_domain_name, env.user_domain_name);
    o->project_name = pick(c->project_name, env.project_name);
    o->project_domain_name =
        pick(c->project_domain_name, env.project_domain_name);
    o->project_id = pick(c->project_id, env.project_id);
    o->application_credential_id =
        pick(c->application_credential_id, env.application_credential_id);
    o->application_credential_secret = pick(c->application_credential_secret,
                                            env.application_credential_secret);
    o->region = pick(c->region, env.region);
    o->cacert = pick(c->cacert, env.cacert);
    o->insecure = c->insecure || env.insecure;
    o->volume_endpoint = pick(c->volume_endpoint, env.volume_endpoint);
    o->image_endpoint = pick(c->image_endpoint, env.image_endpoint);
    o->timeout_ms = c->request_timeout_ms;
    o->stall_timeout_ms = c->stall_timeout_ms;
    iface = c->interface;
    if (iface) {
        if (strcmp(iface, "public") == 0)
            o->interface = CINDER_INTERFACE_PUBLIC;
        else if (strcmp(iface, "internal") == 0)
            o->interface = CINDER_INTERFACE_INTERNAL;
        else if (strcmp(iface, "admin") == 0)
            o->interface = CINDER_INTERFACE_ADMIN;
        else
            return snap_error_set(err, SNAP_E_INVALID,
                                  "openstack.interface '%s' is not public, "
                                  "internal or admin",
                                  iface);
    }
    return true;
}

/* One row of ops_os_settings(): a value that is not the file's own string
 * came from the variable. */
static void
setting_put(ops_os_setting *s, const char *name, const char *env,
            const char *file, const char *used, bool secret)
{
    s->name = name;
    s->env = env;
    s->value = used;
    s->from_env = used && used != file;
    s->secret = secret;
}

size_t
ops_os_settings(const coord_openstack_conf *c,
                ops_os_setting out[OPS_OS_NSETTINGS], snap_error *err)
{
    cinder_auth_opts o;
    ops_os_setting *s = out;

    if (!ops_os_auth_opts(c, &o, err))
        return 0;
    setting_put(s++, "auth_url", "OS_AUTH_URL", c->auth_url, o.auth_url, false);
    setting_put(s++, "username", "OS_USERNAME", c->username, o.username, false);
    setting_put(s++, "password", "OS_PASSWORD", c->password, o.password, true);
    setting_put(s++, "user_domain_name", "OS_USER_DOMAIN_NAME",
                c->user_domain_name, o.user_domain_name, false);
    setting_put(s++, "project_name", "OS_PROJECT_NAME", c->project_name,
                o.project_name, false);
    setting_put(s++, "project_domain_name", "OS_PROJECT_DOMAIN_NAME",
                c->project_domain_name, o.project_domain_name, false);
    setting_put(s++, "project_id", "OS_PROJECT_ID", c->project_id, o.project_id,
                false);
    setting_put(s++, "application_credential_id",
                "OS_APPLICATION_CREDENTIAL_ID", c->application_credential_id,
                o.application_credential_id, false);
    setting_put(s++, "application_credential_secret",
                "OS_APPLICATION_CREDENTIAL_SECRET",
                c->application_credential_secret,
                o.application_credential_secret, true);
    setting_put(s++, "region", "OS_REGION_NAME", c->region, o.region, false);
    setting_put(s++, "cacert", "OS_CACERT", c->cacert, o.cacert, false);
    setting_put(s++, "volume_endpoint", "CINDER_ENDPOINT", c->volume_endpoint,
                o.volume_endpoint, false);
    setting_put(s++, "image_endpoint", "GLANCE_ENDPOINT", c->image_endpoint,
                o.image_endpoint, false);
    return (size_t)(s - out);
}

bool
ops_os_open(ops_os *os, const coord_openstack_conf *c, snap_error *err)
{
    cinder_auth_opts o;
    cinder_client_opts copts;

    memset(os, 0, sizeof(*os));
    if (!ops_os_auth_opts(c, &o, err))
        return false;
    if (!o.auth_url && o.auth_type != CINDER_AUTH_NOAUTH)
        return snap_error_set(err, SNAP_E_INVALID,
                              "openstack is enabled but no auth_url is set "
                              "(openstack.auth_url or OS_AUTH_URL)");
    os->session = cinder_session_new(&o, err);
    if (!os->session)
        return false;
    memset(&copts, 0, sizeof(copts));
    copts.poll_min_ms = c->poll_min_ms;
    copts.poll_max_ms = c->poll_max_ms;
    copts.frozen_poll_max_ms = c->frozen_poll_max_ms;
    copts.request_timeout_ms = c->request_timeout_ms;
    os->cinder = cinder_client_new(os->session, &copts, err);
    if (!os->cinder) {
        ops_os_close(os);
        return false;
    }
    os->rbd.conf = c;
    os->rbd.session = os->session;
    os->rbd.cinder = os->cinder;
    os->rbd.delete_timeout_ms = c->delete_timeout_ms;
    os->delete_timeout_ms = c->delete_timeout_ms;
    os->request_concurrency = c->request_concurrency;
    snprintf(os->group_mode, sizeof(os->group_mode), "%s",
             c->group_snapshots ? c->group_snapshots : "auto");
    return true;
}

void
ops_os_close(ops_os *os)
{
    ops_rbd_release(&os->rbd);
    free(os->group_id);
    cinder_client_free(os->cinder);
    cinder_session_free(os->session);
    memset(os, 0, sizeof(*os));
}

/* A serial can name a volume: a UUID, or its first 20 characters as a
 * virtio disk reports it (VIRTIO_BLK_ID_BYTES); Nova writes the full id. */
static bool
looks_like_volume_id(const char *s)
{
    size_t len = s ? strlen(s) : 0;

    return len == 36 && strspn(s, "0123456789abcdef-") == len;
}

/* One group snapshot instead of N requests, when the Cinder members are
 * exactly the volumes of one group whose type promises consistent group
 * snapshots (or the operator says to trust it). Decided before the freeze,
 * so the frozen window holds one request. */
static bool
choose_group(ops_os *os, coord_set *set, const char *group_id, size_t ncinder,
             snap_error *err)
{
    cinder_group *g = NULL;
    cinder_group_type *t = NULL;
    size_t i, k, found = 0;
    bool ok = false;

    g = cinder_group_show(os->cinder, group_id, err);
    if (!g)
        goto cleanup;
    for (i = 0; i < set->nmembers; i++) {
        for (k = 0;
             set->members[i].kind == COORD_MEMBER_CINDER && k < g->nvolumes;
             k++) {
            if (strcmp(g->volumes[k], set->members[i].volume_id) == 0)
                found++;
        }
    }
    ok = true;
    if (found != ncinder || g->nvolumes != ncinder)
        goto cleanup; /* the group holds other volumes: per volume */
    if (strcmp(os->group_mode, "auto") == 0) {
        t = cinder_group_type_show(os->cinder, g->group_type, err);
        if (!t) {
            ok = false;
            goto cleanup;
        }
        if (t->consistent_snapshots != CINDER_CG_YES)
            goto cleanup;
    }
    os->group_id = strdup(group_id);
    if (!os->group_id)
        ok = snap_error_set(err, SNAP_E_NOMEM, "out of memory");

cleanup:
    cinder_group_type_free(t);
    cinder_group_free(g);
    return ok;
}

bool
ops_os_classify(ops_os *os, coord_set *set, const char *domain_uuid,
                snap_error *err)
{
    cinder_limits limits;
    size_t i, k, ncinder = 0;
    char *group = NULL, **attachments;
    bool one_group = true, ok = false;

    /* Each Cinder member's attachment to this domain, for the direct RBD
     * path to read the connection Cinder handed out. */
    attachments =
        calloc(set->nmembers ? set->nmembers : 1, sizeof(*attachments));
    if (!attachments)
        return snap_error_set(err, SNAP_E_NOMEM, "out of memory");
    for (i = 0; i < set->nmembers; i++) {
        coord_member *m = &set->members[i];
        cinder_volume *vol;
        snap_error e = {0};
        bool attached = false;

        if (!looks_like_volume_id(m->serial))
            continue;
        vol = cinder_volume_show(os->cinder, m->serial, &e);
        if (!vol) {
            if (e.code == SNAP_E_NOTFOUND)
                continue; /* a serial that happens to look like an id */
            snap_error_set(err, e.code, "%s", e.msg);
            goto out;
        }
        for (k = 0; k < vol->nattachments; k++) {
            if (vol->attachments[k].server_id &&
                strcmp(vol->attachments[k].server_id, domain_uuid) == 0 &&
                !attached) {
                attached = true;
                if (vol->attachments[k].id &&
                    !coord_str_set(&attachments[i], vol->attachments[k].id,
                                   err)) {
                    cinder_volume_free(vol);
                    goto out;
                }
            }
        }
        if (!attached) {
            snap_warn("disk '%s': Cinder volume %s is not attached to this "
                      "domain in Cinder; treating it as a local disk",
                      m->target, vol->id);
            cinder_volume_free(vol);
            continue;
        }
        m->kind = COORD_MEMBER_CINDER;
        m->size = (uint64_t)vol->size_gb << 30;
        ncinder++;
        if (!coord_str_set(&m->volume_id, vol->id, err) ||
            (vol->group_id && !group &&
             !coord_str_set(&group, vol->group_id, err))) {
            cinder_volume_free(vol);
            goto out;
        }
        if (!vol->group_id || strcmp(group, vol->group_id) != 0)
            one_group = false;
        cinder_volume_free(vol);
    }
    free(os->group_id);
    os->group_id = NULL;
    if (ncinder == 0) {
        ok = true;
        goto out;
    }
    /* Direct RBD first: a group snapshot is one more Cinder request
     * inside the freeze, so it is only for sets taking the REST path. */
    if (!ops_rbd_classify(&os->rbd, set, domain_uuid,
                          (const char *const *)attachments, err))
        goto out;
    for (i = 0; i < set->nmembers && one_group; i++)
        one_group = !ops_rbd_member(&set->members[i]);
    if (one_group && group && strcmp(os->group_mode, "never") != 0 &&
        !choose_group(os, set, group, ncinder, err))
        goto out;
    if (!cinder_limits_show(os->cinder, &limits, err))
        goto out;
    if (limits.max_total_snapshots >= 0 &&
        limits.total_snapshots_used + (int64_t)ncinder >
            limits.max_total_snapshots) {
        snap_error_set(err, SNAP_E_STATE,
                       "snapshot quota: %lld of %lld used, the set needs %zu "
                       "more",
                       (long long)limits.total_snapshots_used,
                       (long long)limits.max_total_snapshots, ncinder);
        goto out;
    }
    ok = true;
out:
    for (i = 0; i < set->nmembers; i++)
        free(attachments[i]);
    free(attachments);
    free(group);
    return ok;
}

bool
ops_os_warn_local(const coord_openstack_conf *c, coord_set *set,
                  snap_error *err)
{
    const char *why;
    char text[512];
    size_t i;

    if (c->enabled_given)
        why = "openstack.enabled = false";
    else if (!c->use_env)
        why = "openstack.enabled is not set and openstack.use_env = false";
    else
        why = "neither openstack.enabled nor OS_AUTH_URL is set";
    for (i = 0; i < set->nmembers; i++) {
        const coord_member *m = &set->members[i];

        /* Nova writes the volume id as the serial: a whole UUID. */
        if (m->kind != COORD_MEMBER_LOCAL || !snap_uuid_valid(m->serial))
            continue;
        snprintf(text, sizeof(text),
                 "disk %.64s (serial %s) looks like a Cinder volume, but "
                 "OpenStack is not in use (%s): it is copied as a local "
                 "disk; set OS_AUTH_URL or openstack.enabled = true to "
                 "snapshot it through Cinder",
                 m->target ? m->target : "?", m->serial, why);
        snap_warn("%s", text);
        if (!coord_set_add_warning(set, text, err))
            return false;
    }
    return true;
}

bool
ops_os_group_snapshot_remove(ops_os *os, const char *id, snap_error *err)
{
    int64_t deadline = snap_now_ms() + os->delete_timeout_ms;
    cinder_group_snapshot *gs;
    snap_error e = {0};
    const char *ids[1] = {id};

    if (!cinder_group_snapshot_delete(os->cinder, id, &e)) {
        if (e.code == SNAP_E_NOTFOUND)
            return true;
        /* Still creating: wait for it to settle, then ask again. */
        snap_error_clear(&e);
        (void)cinder_group_snapshots_wait(os->cinder, ids, 1, deadline, NULL,
                                          &e);
        snap_error_clear(&e);
        if (!cinder_group_snapshot_delete(os->cinder, id, &e) &&
            e.code != SNAP_E_NOTFOUND)
            return snap_error_set(err, e.code, "%s", e.msg);
    }
    for (;;) {
        snap_error_clear(&e);
        gs = cinder_group_snapshot_show(os->cinder, id, &e);
        if (!gs)
            return e.code == SNAP_E_NOTFOUND
                       ? true
                       : snap_error_set(err, e.code, "%s", e.msg);
        if (strcmp(gs->status, "error_deleting") == 0) {
            cinder_group_snapshot_free(gs);
            return snap_error_set(err, SNAP_E_STATE,
                                  "group snapshot '%s' is error_deleting", id);
        }
        cinder_group_snapshot_free(gs);
        if (snap_now_ms() >= deadline)
            return snap_error_set(err, SNAP_E_TIMEOUT,
                                  "group snapshot '%s' still exists after %lld "
                                  "ms",
                                  id, (long long)os->delete_timeout_ms);
        snap_sleep_ms(100);
    }
}

bool
ops_os_snapshot_remove(ops_os *os, const char *snapshot_id, snap_error *err)
{
    int64_t deadline = snap_now_ms() + os->delete_timeout_ms;
    const char *ids[1] = {snapshot_id};
    snap_error e = {0};

    if (!cinder_snapshot_delete(os->cinder, snapshot_id, &e)) {
        if (e.code == SNAP_E_NOTFOUND)
            return true;
        if (e.code != SNAP_E_HTTP || e.http_status != 400)
            return snap_error_set(err, e.code, "%s", e.msg);
        /* Most likely still creating: Cinder deletes only available or
         * error snapshots. Wait for it to settle, then ask again. */
        snap_error_clear(&e);
        if (!cinder_snapshots_wait(os->cinder, ids, 1, NULL, deadline, NULL,
                                   &e) &&
            e.code != SNAP_E_STATE) {
            if (e.code == SNAP_E_NOTFOUND)
                return true;
            return snap_error_set(err, e.code, "%s", e.msg);
        }
        snap_error_clear(&e);
        if (!cinder_snapshot_delete(os->cinder, snapshot_id, &e) &&
            e.code != SNAP_E_NOTFOUND)
            return snap_error_set(err, e.code, "%s", e.msg);
    }
    return cinder_snapshots_wait_deleted(os->cinder, ids, 1, deadline, err);
}

/* ---- volume ops ------------------------------------------------------------
 */

/* The members of @idx that take the REST path, into @out (n entries). */
static size_t
rest_members(const coord_set *set, const size_t *idx, size_t n, size_t *out)
{
    size_t i, k = 0;

    for (i = 0; i < n; i++) {
        if (!ops_rbd_member(&set->members[idx[i]]))
            out[k++] = idx[i];
    }
    return k;
}

static bool v_request_rest(ops_os *os, coord_set *set, const size_t *idx,
                           size_t n, snap_error *err);

/* The REST members' requests; the direct ones start in v_wait(). */
static bool
v_request(void *impl, coord_set *set, const size_t *idx, size_t n,
          snap_error *err)
{
    ops_os *os = impl;
    size_t *rest = calloc(n ? n : 1, sizeof(*rest));
    size_t nrest;
    bool ok;

    if (!rest)
        return snap_error_set(err, SNAP_E_NOMEM, "out of memory");
    nrest = rest_members(set, idx, n, rest);
    ok = !(nrest || set->group_snapshot_id || os->group_id) ||
         v_request_rest(os, set, rest, nrest, err);
    free(rest);
    return ok;
}

static bool
v_request_rest(ops_os *os, coord_set *set, const size_t *idx, size_t n,
               snap_error *err)
{
    cinder_snapshot_req *reqs = NULL;
    cinder_snapshot **out = NULL;
    cinder_kv *md = NULL;
    char(*names)[96] = NULL;
    size_t i, batch;
    bool ok = false;

    if (os->group_id) {
        char name[64];
        cinder_group_snapshot *gs;

        snprintf(name, sizeof(name), "snapset-%s", set->uuid);
        gs = cinder_group_snapshot_create(os->cinder, os->group_id, name,
                                          "snapset consistent snapshot set",
                                          err);
        if (!gs)
            return false;
        ok = coord_str_set(&set->group_snapshot_id, gs->id, err);
        cinder_group_snapshot_free(gs);
        return ok;
    }
    reqs = calloc(n, sizeof(*reqs));
    out = calloc(n, sizeof(*out));
    md = calloc(n * 3, sizeof(*md));
    names = calloc(n, sizeof(*names));
    if (!reqs || !out || !md || !names) {
        snap_error_set(err, SNAP_E_NOMEM, "out of memory");
        goto cleanup;
    }
    for (i = 0; i < n; i++) {
        coord_member *m = &set->members[idx[i]];

        snprintf(names[i], sizeof(names[i]), "snapset-%.8s-%s", set->uuid,
                 m->target);
        /* Enough to rebuild the set from Cinder alone (list --source
         * cinder); the consistency is added once it is known. */
        md[3 * i] = (cinder_kv){COORD_MD_SET, set->uuid};
        md[3 * i + 1] = (cinder_kv){COORD_MD_DOMAIN, set->domain_name};
        md[3 * i + 2] = (cinder_kv){COORD_MD_TARGET, m->target};
        reqs[i].volume_id = m->volume_id;
        reqs[i].name = names[i];
        reqs[i].description = "snapset consistent snapshot set member";
        reqs[i].metadata = &md[3 * i];
        reqs[i].nmetadata = 3;
    }
    /* In batches of request_concurrency: a single cinder-api worker takes
     * parallel POSTs one at a time anyway, and then the last of many waits
     * longer than one after the other would. */
    ok = true;
    for (i = 0; i < n; i += batch) {
        batch = os->request_concurrency > 0 &&
                        (size_t)os->request_concurrency < n - i
                    ? (size_t)os->request_concurrency
                    : n - i;
        if (ok && !cinder_snapshots_create_many(os->cinder, reqs + i, batch,
                                                out + i, NULL, err))
            ok = false;
    }
    for (i = 0; i < n; i++) {
        coord_member *m = &set->members[idx[i]];

        if (out[i]) {
            if (!coord_str_set(&m->location, out[i]->id, err))
                ok = false;
        } else {
            m->state = COORD_MEMBER_FAILED;
        }
    }

cleanup:
    if (out)
        cinder_snapshots_free(out, n);
    free(reqs);
    free(md);
    free(names);
    return ok;
}

static bool
v_wait(void *impl, coord_set *set, const size_t *all, size_t nall,
       int64_t timeout_ms, snap_error *err)
{
    ops_os *os = impl;
    int64_t deadline = snap_now_ms() + timeout_ms;
    const char **ids;
    cinder_kv filter = {COORD_MD_SET, set->uuid};
    size_t i, n, *idx;
    bool ok;

    if (!ops_rbd_wait(&os->rbd, set, deadline, err))
        return false;
    if (set->group_snapshot_id) {
        const char *gids[1] = {set->group_snapshot_id};

        return cinder_group_snapshots_wait(os->cinder, gids, 1, deadline, NULL,
                                           err);
    }
    idx = calloc(nall ? nall : 1, sizeof(*idx));
    ids = calloc(nall ? nall : 1, sizeof(*ids));
    if (!idx || !ids) {
        free(idx);
        free(ids);
        return snap_error_set(err, SNAP_E_NOMEM, "out of memory");
    }
    n = rest_members(set, all, nall, idx);
    for (i = 0; i < n; i++)
        ids[i] = set->members[idx[i]].location;
    ok = n == 0 || cinder_snapshots_wait(os->cinder, ids, n, &filter, deadline,
                                         NULL, err);
    free(ids);
    free(idx);
    return ok;
}

static bool
v_finish(void *impl, coord_set *set, const size_t *idx, size_t n,
         snap_error *err)
{
    ops_os *os = impl;
    cinder_kv kv = {COORD_MD_CONSISTENCY,
                    coord_consistency_name(set->consistency)};
    cinder_snapshot **snaps = NULL;
    size_t i, k, nsnaps = 0;

    /* Direct members get the metadata, consistency included, with their
     * registration; the rest below. */
    if (!ops_rbd_register(&os->rbd, set, idx, n, err))
        return false;
    if (set->group_snapshot_id) {
        /* The group snapshot's members carry no metadata yet: find them,
         * record their ids, and tag them like per-volume snapshots. */
        if (!cinder_group_snapshot_members(os->cinder, set->group_snapshot_id,
                                           &snaps, &nsnaps, err))
            return false;
        for (i = 0; i < n; i++) {
            coord_member *m = &set->members[idx[i]];
            cinder_kv md[4] = {
                {COORD_MD_SET, set->uuid},
                {COORD_MD_DOMAIN, set->domain_name},
                {COORD_MD_TARGET, m->target},
                {"snapset_group_snapshot", set->group_snapshot_id}};

            for (k = 0; k < nsnaps; k++) {
                if (snaps[k]->volume_id &&
                    strcmp(snaps[k]->volume_id, m->volume_id) == 0)
                    break;
            }
            if (k == nsnaps) {
                cinder_snapshots_free(snaps, nsnaps);
                return snap_error_set(err, SNAP_E_STATE,
                                      "group snapshot '%s' has no snapshot of "
                                      "volume '%s'",
                                      set->group_snapshot_id, m->volume_id);
            }
            if (!coord_str_set(&m->location, snaps[k]->id, err) ||
                !cinder_snapshot_metadata_update(os->cinder, snaps[k]->id, md,
                                                 4, false, err)) {
                cinder_snapshots_free(snaps, nsnaps);
                return false;
            }
        }
        cinder_snapshots_free(snaps, nsnaps);
    }
    for (i = 0; i < n; i++) {
        if (ops_rbd_member(&set->members[idx[i]]))
            continue;
        if (!cinder_snapshot_metadata_update(
                os->cinder, set->members[idx[i]].location, &kv, 1, false, err))
            return false;
    }
    return true;
}

static bool
v_remove(void *impl, coord_set *set, coord_member *m, snap_error *err)
{
    /* Members of a group snapshot go with it, in v_cleanup(). */
    if (set->group_snapshot_id)
        return true;
    return ops_os_snapshot_remove(impl, m->location, err);
}

bool
ops_os_snapshot_of_set(const coord_set *set, const cinder_snapshot *snap)
{
    cinder_snapshot_claim *claims;
    size_t i, n = 0;
    bool mine;

    claims = calloc(set->nmembers + 1, sizeof(*claims));
    if (!claims)
        return false; /* when in doubt, not ours */
    for (i = 0; i < set->nmembers; i++) {
        const coord_member *m = &set->members[i];

        if (m->kind != COORD_MEMBER_CINDER || !m->volume_id)
            continue;
        /* No id: only a request whose outcome is unknown claims the
         * volume's tagged snapshots; one never sent, or already swept
         * (recovery marks it deleted), claims none. */
        if (!m->location && m->state != COORD_MEMBER_REQUESTED &&
            m->state != COORD_MEMBER_FAILED)
            continue;
        claims[n].volume_id = m->volume_id;
        claims[n].snapshot_id = m->location;
        n++;
    }
    mine = cinder_snapshot_claimed(snap, claims, n);
    free(claims);
    return mine;
}

/* True when @snapshot_id is a member's recorded snapshot. */
static bool
recorded(const coord_set *set, const char *snapshot_id)
{
    size_t i;

    for (i = 0; i < set->nmembers; i++) {
        const coord_member *m = &set->members[i];

        if (m->kind == COORD_MEMBER_CINDER && m->location &&
            strcmp(m->location, snapshot_id) == 0)
            return true;
    }
    return false;
}

/* After a failed or interrupted set's members are gone: its group
 * snapshot, and any snapshot Cinder made for the set whose id never
 * reached the journal (snapset killed between Cinder accepting a request
 * and the journal write), found by the set's metadata. Anyone in the
 * project can write that metadata: a tagged snapshot that is not one of
 * the set's members' (ops_os_snapshot_of_set()) is left alone. */
static bool
v_cleanup(void *impl, coord_set *set, snap_error *err)
{
    ops_os *os = impl;
    cinder_kv filter = {COORD_MD_SET, set->uuid};
    cinder_snapshot **snaps = NULL;
    snap_error e = {0};
    size_t n = 0, i;
    bool ok = true;

    if (set->group_snapshot_id) {
        if (!ops_os_group_snapshot_remove(os, set->group_snapshot_id, err))
            return false;
        free(set->group_snapshot_id);
        set->group_snapshot_id = NULL;
    }
    if (!cinder_snapshot_list(os->cinder, &filter, 1, &snaps, &n, &e)) {
        /* Below 3.22 there is no metadata filter to trust. Either way
         * the RBD snapshots Cinder never took over go. */
        if (e.code != SNAP_E_STATE)
            ok = snap_error_set(err, e.code,
                                "cannot look for unrecorded "
                                "snapshots of the set: %s",
                                e.msg);
        return ops_rbd_sweep(&os->rbd, set, ok ? err : NULL) && ok;
    }
    for (i = 0; i < n; i++) {
        if (!snaps[i]->id)
            continue;
        if (!ops_os_snapshot_of_set(set, snaps[i])) {
            snap_warn("set %s: leaving snapshot %s of volume %s alone: it "
                      "carries the set's metadata but is not a snapshot of "
                      "the set's members",
                      set->uuid, snaps[i]->id,
                      snaps[i]->volume_id ? snaps[i]->volume_id : "?");
            continue;
        }
        if (!recorded(set, snaps[i]->id))
            snap_warn("set %s: deleting snapshot %s of volume %s, which the "
                      "journal never recorded",
                      set->uuid, snaps[i]->id, snaps[i]->volume_id);
        snap_error_clear(&e);
        if (!ops_os_snapshot_remove(os, snaps[i]->id, &e) && ok) {
            snap_error_set(err, e.code,
                           "cannot delete unrecorded snapshot "
                           "%s: %s",
                           snaps[i]->id, e.msg);
            ok = false;
        }
    }
    cinder_snapshots_free(snaps, n);
    /* After Cinder's own: a registration a dead process left half done
     * may have been renamed (and is gone with the Cinder snapshot). */
    snap_error_clear(&e);
    if (!ops_rbd_sweep(&os->rbd, set, &e) && ok)
        ok = snap_error_set(err, e.code, "%s", e.msg);
    return ok;
}

const coord_volume_ops ops_os_volume_ops = {
    .request = v_request,
    .wait_taken = v_wait,
    .finish = v_finish,
    .remove = v_remove,
    .cleanup = v_cleanup,
};

void
ops_os_rbd_source(const cinder_connection *conn, virt_rbd_source *src)
{
    src->name = conn->name;
    src->hosts = (const char *const *)conn->hosts;
    src->ports = (const char *const *)conn->ports;
    src->nhosts = conn->nhosts;
    src->auth_enabled = conn->auth_enabled;
    src->auth_username = conn->auth_username;
    src->secret_type = conn->secret_type;
    src->secret_uuid = conn->secret_uuid;
    src->discard = conn->discard;
}
