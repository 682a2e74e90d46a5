/* coordinator/serve/auth.c -- see auth.h. */
#include "coordinator/serve/auth.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "cinder/keystone.h"
#include "coordinator/serve/state.h"

/* Keystone: validated with a session of snapset's own credentials (it
 * needs the right to validate others' tokens), one session per validator
 * thread of the API and no lock shared between them; http_api caches the
 * answers and runs one validation per token at a time. */
static bool
ks_validate(void *impl, const char *token, http_identity *id, snap_error *err)
{
    serve_state *st = impl;
    cinder_token_info info = {0};
    serve_ks_slot *slot;
    size_t i;
    bool ok = false;

    /* As many slots as validator threads: one is free unless the API
     * runs more validations than it has threads; then wait for slot 0. */
    for (i = 0; i < st->nks && pthread_mutex_trylock(&st->ks[i].mu) != 0; i++)
        ;
    if (i == st->nks) {
        i = 0;
        pthread_mutex_lock(&st->ks[0].mu);
    }
    slot = &st->ks[i];
    if (!slot->open) {
        snap_error e = {0};

        if (!ops_os_open(&slot->os, &st->conf.openstack, &e)) {
            snap_error_set_http(err, 503, "%s", e.msg);
            pthread_mutex_unlock(&slot->mu);
            return false;
        }
        slot->open = true;
    }
    ok = cinder_session_validate_token(slot->os.session, token, &info, err);
    pthread_mutex_unlock(&slot->mu);
    if (!ok)
        goto cleanup;
    ok = false;
    memset(id, 0, sizeof(*id));
    id->expires_ms = info.expires_ms;
    if ((info.user_name && !(id->user = strdup(info.user_name))) ||
        (info.project_id && !(id->project = strdup(info.project_id))) ||
        (info.project_name &&
         !(id->project_name = strdup(info.project_name))) ||
        (info.project_domain_id &&
         !(id->project_domain_id = strdup(info.project_domain_id))) ||
        (info.project_domain_name &&
         !(id->project_domain_name = strdup(info.project_domain_name))))
        goto nomem;
    if (info.nroles) {
        id->roles = calloc(info.nroles, sizeof(*id->roles));
        if (!id->roles)
            goto nomem;
        for (i = 0; i < info.nroles; i++) {
            id->roles[i] = strdup(info.roles[i]);
            if (!id->roles[i])
                goto nomem;
            id->nroles++;
        }
    }
    ok = true;
    goto cleanup;

nomem:
    snap_error_set(err, SNAP_E_NOMEM, "out of memory");
    http_identity_release(id);
cleanup:
    cinder_token_info_release(&info);
    return ok;
}

const http_auth_ops serve_keystone_auth_ops = {.validate = ks_validate};

static bool
auth_is_noauth(const coord_conf *conf)
{
    const char *type = conf->openstack.auth_type;

    if (!type && conf->openstack.use_env)
        type = getenv("OS_AUTH_TYPE");
    return type && strcmp(type, "noauth") == 0;
}

bool
serve_auth_keystone(const coord_conf *conf)
{
    return conf->openstack.enabled && !auth_is_noauth(conf);
}
