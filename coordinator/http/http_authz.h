/* coordinator/http/http_authz.h -- who may act on what through the HTTP
 * API: one pure function of the token's identity, the owner of the domain
 * a request names and the configuration. No I/O, no locks, no allocation:
 * tests/fuzz/fuzz_authz.c checks it against a re-statement of the model.
 *
 * The model (default deny):
 *   - a token without a project (unscoped) is refused: 401;
 *   - when http.allowed_projects is not empty, a token whose project is not
 *     in it is refused everywhere, whatever its roles: 403;
 *   - a token with one of http.allowed_roles (default "admin") may act on
 *     every domain and set of the host, and see the host's /metrics;
 *   - any other token may act on a domain (and its sets, exports, jobs)
 *     only when its project owns it: the owner's project id equals the
 *     token's, or the owner's project name and domain equal the token's
 *     project name and project domain (name or id); a bare name never
 *     matches. A domain (or set) without a known owner is for the roles
 *     only.
 * An allowed_projects entry matches a project id, or "NAME@DOMAIN" (the
 * project's name and its domain's name or id).
 */
#ifndef HTTP_AUTHZ_H
#define HTTP_AUTHZ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Who owns a domain (and its sets): Nova's <nova:owner><nova:project
 * uuid=...>, or snapset's own element (virt.h, VIRT_OWNER_NS). All NULL:
 * no known owner. */
typedef struct http_owner {
    char *project;        /* project id, or NULL */
    char *project_name;   /* matches only with project_domain */
    char *project_domain; /* the project's domain, name or id */
} http_owner;

void http_owner_release(http_owner *o);

/* Who a token belongs to. */
typedef struct http_identity {
    char *user;              /* may be NULL */
    char *project;           /* project id (or the tokens file's project); NULL:
                                an unscoped token */
    char *project_name;      /* may be NULL */
    char *project_domain_id; /* the project's domain; may be NULL */
    char *project_domain_name; /* may be NULL */
    char **roles;
    size_t nroles;
    int64_t expires_ms; /* wall clock; 0: no expiry known */
} http_identity;

void http_identity_release(http_identity *id);

typedef struct http_authz_conf {
    char *const *roles; /* http.allowed_roles: act on every domain */
    size_t nroles;
    char *const *projects; /* http.allowed_projects: none = no restriction */
    size_t nprojects;
} http_authz_conf;

/* What a request acts on. */
typedef enum http_authz_scope {
    HTTP_AUTHZ_ANY = 0, /* the caller's own view (GET /v1/sets, filtered) */
    HTTP_AUTHZ_HOST,    /* the whole host (/metrics): roles only */
    HTTP_AUTHZ_OWNED,   /* one domain or set, owned by @owner */
} http_authz_scope;

typedef enum http_authz_verdict {
    HTTP_AUTHZ_ALLOW_ROLE = 0, /* one of allowed_roles */
    HTTP_AUTHZ_ALLOW_OWNER,    /* its project owns the domain */
    HTTP_AUTHZ_ALLOW_SCOPED,   /* HTTP_AUTHZ_ANY: a scoped token */
    HTTP_AUTHZ_DENY_UNSCOPED,  /* no project: 401 */
    HTTP_AUTHZ_DENY_PROJECT,   /* not in allowed_projects: 403 */
    HTTP_AUTHZ_DENY_HOST,      /* HOST scope without a role: 403 */
    HTTP_AUTHZ_DENY_NO_OWNER,  /* the domain has no known owner: 403 */
    HTTP_AUTHZ_DENY_NOT_OWNER, /* another project owns it: 403 */
} http_authz_verdict;

/* Decides whether @id may act in @scope (@owner: the owner of the domain
 * or set for HTTP_AUTHZ_OWNED; NULL or empty: no known owner). @why (at
 * most @size bytes, may be NULL) says why, for the caller. */
http_authz_verdict http_authz_decide(const http_identity *id,
                                     http_authz_scope scope,
                                     const http_owner *owner,
                                     const http_authz_conf *conf, char *why,
                                     size_t size);

static inline bool
http_authz_allowed(http_authz_verdict v)
{
    return v <= HTTP_AUTHZ_ALLOW_SCOPED;
}

/* The status to answer a denial with: 401 or 403 (0 when allowed). */
unsigned http_authz_status(http_authz_verdict v);

/* True when the project of @id is @owner's (by id, or by name and
 * domain). */
bool http_authz_owner_match(const http_identity *id, const http_owner *owner);

#endif
