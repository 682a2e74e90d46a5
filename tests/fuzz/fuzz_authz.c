/* tests/fuzz/fuzz_authz.c -- the authorization decision (http_authz.c)
 * against a re-statement of the model written from the README, not from
 * the code: the input picks a token identity, a domain owner, a scope and
 * a configuration from small pools of strings that collide on purpose
 * (same name in two domains, a role in another case, "NAME@DOMAIN"
 * entries, empty strings); any disagreement aborts. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "coordinator/http/http_authz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* NULL first: an absent field. */
static const char *const pool[] = {
    NULL,
    "",
    "p1",
    "p2",
    "backup",
    "Default",
    "default",
    "d1",
    "admin",
    "Admin",
    "member",
    "reader",
    "p1@Default",
    "backup@Default",
    "backup@default",
    "backup@d1",
    "@",
    "backup@",
    "@Default",
    "a@b@Default",
    "a@b",
};
#define NPOOL (sizeof(pool) / sizeof(pool[0]))
#define MAXN 4

typedef struct input {
    const uint8_t *p;
    size_t left;
} input;

static unsigned
next(input *in)
{
    if (!in->left)
        return 0;
    in->left--;
    return *in->p++;
}

static char *
pick(input *in)
{
    const char *s = pool[next(in) % NPOOL];

    return s ? (char *)s : NULL;
}

/* ---- the model, restated ----------------------------------------------- */

static int
nonempty_eq(const char *a, const char *b)
{
    return a != NULL && b != NULL && *a != '\0' && strcmp(a, b) == 0;
}

/* "the token's project is the owner's: same id, or same name in the same
 * domain (the domain given by name or by id); a bare name never is" */
static int
model_owns(const http_identity *id, const http_owner *o)
{
    int by_id = nonempty_eq(o->project, id->project);
    int by_name = nonempty_eq(o->project_name, id->project_name) &&
                  (nonempty_eq(o->project_domain, id->project_domain_name) ||
                   nonempty_eq(o->project_domain, id->project_domain_id));

    return by_id || by_name;
}

/* "an allowed_projects entry is a project id, or NAME@DOMAIN split at the
 * last '@'" */
static int
model_listed(const http_identity *id, const char *entry)
{
    char name[64], domain[64];
    const char *at;

    if (nonempty_eq(entry, id->project))
        return 1;
    if (!entry || !(at = strrchr(entry, '@')))
        return 0;
    snprintf(name, sizeof(name), "%.*s", (int)(at - entry), entry);
    snprintf(domain, sizeof(domain), "%s", at + 1);
    return name[0] && domain[0] && nonempty_eq(name, id->project_name) &&
           (nonempty_eq(domain, id->project_domain_name) ||
            nonempty_eq(domain, id->project_domain_id));
}

/* 0 allow, 401, 403 */
static unsigned
model(const http_identity *id, http_authz_scope scope, const http_owner *o,
      const http_authz_conf *c)
{
    size_t i, k;
    int listed = c->nprojects == 0, role = 0, owned;

    if (!id->project || !id->project[0])
        return 401;
    for (i = 0; i < c->nprojects; i++)
        listed |= model_listed(id, c->projects[i]);
    if (!listed)
        return 403;
    for (i = 0; i < c->nroles; i++)
        for (k = 0; k < id->nroles; k++)
            role |= c->roles[i] && c->roles[i][0] && id->roles[k] &&
                    strcasecmp(c->roles[i], id->roles[k]) == 0;
    if (role)
        return 0;
    if (scope == HTTP_AUTHZ_ANY)
        return 0;
    if (scope == HTTP_AUTHZ_HOST)
        return 403;
    owned = o && model_owns(id, o);
    return owned ? 0 : 403;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    input in = {data, size};
    char *roles[MAXN], *conf_roles[MAXN], *conf_projects[MAXN];
    http_identity id;
    http_owner owner, *o;
    http_authz_conf conf;
    http_authz_scope scope;
    http_authz_verdict v;
    char why[128];
    size_t i, whysize;
    unsigned want, got;

    memset(&id, 0, sizeof(id));
    id.user = pick(&in);
    id.project = pick(&in);
    id.project_name = pick(&in);
    id.project_domain_id = pick(&in);
    id.project_domain_name = pick(&in);
    id.nroles = next(&in) % (MAXN + 1);
    for (i = 0; i < id.nroles; i++)
        roles[i] = pick(&in);
    id.roles = roles;
    owner.project = pick(&in);
    owner.project_name = pick(&in);
    owner.project_domain = pick(&in);
    o = next(&in) % 5 == 0 ? NULL : &owner;
    scope = (http_authz_scope)(next(&in) % 3);
    conf.nroles = next(&in) % (MAXN + 1);
    for (i = 0; i < conf.nroles; i++)
        conf_roles[i] = pick(&in);
    conf.roles = conf_roles;
    conf.nprojects = next(&in) % (MAXN + 1);
    for (i = 0; i < conf.nprojects; i++)
        conf_projects[i] = pick(&in);
    conf.projects = conf_projects;
    whysize = next(&in) % 2 ? sizeof(why) : next(&in) % 8;
    memset(why, 'x', sizeof(why));

    v = http_authz_decide(&id, scope, o, &conf, whysize ? why : NULL, whysize);
    got = http_authz_status(v);
    want = model(&id, scope, o, &conf);
    if (got != want) {
        fprintf(stderr, "authz: got %u (verdict %d), the model says %u\n", got,
                (int)v, want);
        abort();
    }
    /* the verdict tells the same story as the status */
    if (http_authz_allowed(v) != (got == 0) ||
        (v == HTTP_AUTHZ_ALLOW_OWNER && (scope != HTTP_AUTHZ_OWNED || !o)) ||
        (v == HTTP_AUTHZ_ALLOW_SCOPED && scope != HTTP_AUTHZ_ANY))
        abort();
    if (whysize && !memchr(why, '\0', whysize))
        abort(); /* @why always terminated within its size */
    if (whysize > 1 && got && !why[0])
        abort(); /* a denial says why */
    return 0;
}
