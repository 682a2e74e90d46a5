/* coordinator/http/http_authz.c -- see http_authz.h. */
#include "coordinator/http/http_authz.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static bool
set(const char *s)
{
    return s && s[0];
}

static bool
same(const char *a, const char *b)
{
    return set(a) && set(b) && strcmp(a, b) == 0;
}

/* The project's domain of @id is @domain (by name or by id). */
static bool
in_domain(const http_identity *id, const char *domain)
{
    return same(id->project_domain_name, domain) ||
           same(id->project_domain_id, domain);
}

bool
http_authz_owner_match(const http_identity *id, const http_owner *owner)
{
    if (!owner || !set(id->project))
        return false;
    if (same(owner->project, id->project))
        return true;
    return set(owner->project_domain) &&
           same(owner->project_name, id->project_name) &&
           in_domain(id, owner->project_domain);
}

/* An allowed_projects entry: a project id, or "NAME@DOMAIN". */
static bool
project_listed(const http_identity *id, const char *entry)
{
    const char *at = strrchr(entry, '@');
    size_t n;

    if (same(entry, id->project))
        return true;
    if (!at || at == entry || !at[1] || !set(id->project_name))
        return false;
    n = (size_t)(at - entry);
    return strlen(id->project_name) == n &&
           strncmp(id->project_name, entry, n) == 0 && in_domain(id, at + 1);
}

static bool
has_role(const http_identity *id, const http_authz_conf *conf)
{
    size_t i, k;

    for (i = 0; i < conf->nroles; i++) {
        for (k = 0; k < id->nroles; k++) {
            if (set(conf->roles[i]) && id->roles[k] &&
                strcasecmp(conf->roles[i], id->roles[k]) == 0)
                return true;
        }
    }
    return false;
}

/* Says why in @why: @msg, then @project quoted when it is set. */
static http_authz_verdict
deny(http_authz_verdict v, char *why, size_t size, const char *msg,
     const char *project)
{
    if (why && size && project)
        snprintf(why, size, "project '%.64s' %s", project, msg);
    else if (why && size)
        snprintf(why, size, "%s", msg);
    return v;
}

http_authz_verdict
http_authz_decide(const http_identity *id, http_authz_scope scope,
                  const http_owner *owner, const http_authz_conf *conf,
                  char *why, size_t size)
{
    size_t i;
    bool listed = conf->nprojects == 0;

    if (why && size)
        why[0] = '\0';
    if (!set(id->project))
        return deny(HTTP_AUTHZ_DENY_UNSCOPED, why, size,
                    "the token is not scoped to a project", NULL);
    for (i = 0; !listed && i < conf->nprojects; i++)
        listed = conf->projects[i] && project_listed(id, conf->projects[i]);
    if (!listed)
        return deny(HTTP_AUTHZ_DENY_PROJECT, why, size, "may not use this API",
                    id->project);
    if (has_role(id, conf))
        return HTTP_AUTHZ_ALLOW_ROLE;
    switch (scope) {
    case HTTP_AUTHZ_ANY:
        return HTTP_AUTHZ_ALLOW_SCOPED;
    case HTTP_AUTHZ_HOST:
        return deny(HTTP_AUTHZ_DENY_HOST, why, size,
                    "the token has none of the roles this needs", NULL);
    default:
        break;
    }
    if (!owner || (!set(owner->project) &&
                   !(set(owner->project_name) && set(owner->project_domain))))
        return deny(HTTP_AUTHZ_DENY_NO_OWNER, why, size,
                    "it has no owner project: only an admin may act on it",
                    NULL);
    if (http_authz_owner_match(id, owner))
        return HTTP_AUTHZ_ALLOW_OWNER;
    return deny(HTTP_AUTHZ_DENY_NOT_OWNER, why, size, "does not own it",
                id->project);
}

unsigned
http_authz_status(http_authz_verdict v)
{
    if (http_authz_allowed(v))
        return 0;
    return v == HTTP_AUTHZ_DENY_UNSCOPED ? 401 : 403;
}

void
http_owner_release(http_owner *o)
{
    if (!o)
        return;
    free(o->project);
    free(o->project_name);
    free(o->project_domain);
    memset(o, 0, sizeof(*o));
}

void
http_identity_release(http_identity *id)
{
    size_t i;

    if (!id)
        return;
    free(id->user);
    free(id->project);
    free(id->project_name);
    free(id->project_domain_id);
    free(id->project_domain_name);
    for (i = 0; i < id->nroles; i++)
        free(id->roles[i]);
    free(id->roles);
    memset(id, 0, sizeof(*id));
}
