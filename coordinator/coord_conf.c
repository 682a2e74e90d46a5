/* coordinator/coord_conf.c -- see coord_conf.h. */
#include "coordinator/coord_conf.h"

#include <errno.h>
#include <libconfig.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/snap_log.h"
#include "common/snap_strv.h"

bool
coord_conf_init(coord_conf *conf, snap_error *err)
{
    memset(conf, 0, sizeof(*conf));
    conf->quiesce = COORD_QUIESCE_PREFERRED;
    conf->agent_timeout_ms = 10000;
    conf->frozen_timeout_ms = 60000;
    conf->copy_timeout_ms = 3600000;
    conf->lock_timeout_ms = 0;
    conf->shutdown_timeout_ms = 60000;
    conf->thaw_attempts = 3;
    conf->openstack.use_env = true;
    conf->openstack.request_timeout_ms = 30000;
    conf->openstack.poll_min_ms = 10;
    conf->openstack.poll_max_ms = 250;
    conf->openstack.request_concurrency = 4; /* bench/results/concurrency */
    conf->openstack.frozen_poll_max_ms = 20;
    conf->openstack.stall_timeout_ms = 60000;
    conf->openstack.delete_timeout_ms = 120000;
    conf->openstack.ceph_timeout_ms = 10000;
    conf->openstack.manage_timeout_ms = 120000;
    conf->openstack.manage_attempts = 3;
    conf->http.port = 8790;
    conf->http.max_body_bytes = 65536;
    conf->http.threads = 4;
    conf->http.workers = 2;
    conf->http.max_queue = 64;
    conf->http.connection_timeout_ms = 30000;
    conf->http.max_connections = 256;
    conf->http.max_connections_per_ip = 16;
    conf->http.request_timeout_ms = 30000;
    conf->http.token_cache_ms = 60000;
    conf->http.negative_cache_ms = 10000;
    conf->http.validate_timeout_ms = 5000;
    conf->http.validators = 4;
    conf->http.shutdown_timeout_ms = 600000;
    conf->http.job_retention_days = 30;
    conf->http.schedule = true;
    conf->incremental = true;
    if (!coord_str_set(&conf->libvirt_uri, "qemu:///system", err) ||
        !coord_str_set(&conf->catalog_dir, "/var/lib/snapset", err) ||
        !coord_str_set(&conf->copy_format, "qcow2", err) ||
        !coord_str_set(&conf->http.address, "127.0.0.1", err) ||
        !coord_str_set(&conf->http.tokens_file, "/etc/snapset/api-tokens",
                       err) ||
        !coord_str_set(&conf->openstack.direct_rbd, "auto", err) ||
        !coord_str_set(&conf->openstack.ceph_conf, "/etc/ceph/ceph.conf",
                       err) ||
        !coord_str_set(&conf->openstack.ceph_user, "cinder", err) ||
        !snap_strv_append(&conf->openstack.manage_roles,
                          &conf->openstack.nmanage_roles, "admin", err) ||
        !snap_strv_append(&conf->http.allowed_roles, &conf->http.nallowed_roles,
                          "admin", err)) {
        coord_conf_release(conf);
        return false;
    }
    return true;
}

/* Every string setting of @conf, for release and copy: a new string
 * setting must be listed here. */
static size_t
conf_strings(coord_conf *conf, char ***out)
{
    coord_openstack_conf *o = &conf->openstack;
    char **strs[] = {&conf->libvirt_uri,
                     &conf->catalog_dir,
                     &conf->copy_format,
                     &o->auth_type,
                     &o->auth_url,
                     &o->username,
                     &o->password,
                     &o->user_domain_name,
                     &o->project_name,
                     &o->project_domain_name,
                     &o->project_id,
                     &o->application_credential_id,
                     &o->application_credential_secret,
                     &o->region,
                     &o->interface,
                     &o->cacert,
                     &o->volume_endpoint,
                     &o->image_endpoint,
                     &o->group_snapshots,
                     &o->direct_rbd,
                     &o->ceph_conf,
                     &o->ceph_user,
                     &o->ceph_keyring,
                     &conf->http.address,
                     &conf->http.tokens_file};
    size_t i, n = sizeof(strs) / sizeof(strs[0]);

    for (i = 0; i < n; i++)
        out[i] = strs[i];
    return n;
}

#define CONF_STRINGS_MAX 32

void
coord_conf_apply_env(coord_conf *conf)
{
    coord_openstack_conf *o = &conf->openstack;
    const char *url = getenv("OS_AUTH_URL");

    o->enabled_by_env = false;
    if (o->enabled_given || !o->use_env)
        return; /* the file decides, or keeps the environment out */
    o->enabled = url && url[0];
    o->enabled_by_env = o->enabled;
}

void
coord_conf_release(coord_conf *conf)
{
    char **strs[CONF_STRINGS_MAX];
    size_t i, n = conf_strings(conf, strs);

    for (i = 0; i < n; i++)
        free(*strs[i]);
    snap_strv_free(conf->openstack.manage_roles, conf->openstack.nmanage_roles);
    snap_strv_free(conf->http.allowed_roles, conf->http.nallowed_roles);
    snap_strv_free(conf->http.allowed_projects, conf->http.nallowed_projects);
    coord_policies_free(conf->policies, conf->npolicies);
    memset(conf, 0, sizeof(*conf));
}

bool
coord_conf_copy(coord_conf *dst, const coord_conf *src, snap_error *err)
{
    char **strs[CONF_STRINGS_MAX];
    size_t i, n;

    *dst = *src;
    /* Nothing of @src may stay shared when release runs on failure. */
    dst->openstack.manage_roles = NULL;
    dst->openstack.nmanage_roles = 0;
    dst->http.allowed_roles = NULL;
    dst->http.nallowed_roles = 0;
    dst->http.allowed_projects = NULL;
    dst->http.nallowed_projects = 0;
    dst->policies = NULL;
    dst->npolicies = 0;
    n = conf_strings(dst, strs);
    for (i = 0; i < n; i++) {
        if (*strs[i] && !(*strs[i] = strdup(*strs[i]))) {
            while (++i < n)
                *strs[i] = NULL; /* still shared with @src */
            goto nomem;
        }
    }
    for (i = 0; i < src->openstack.nmanage_roles; i++) {
        if (!snap_strv_append(&dst->openstack.manage_roles,
                              &dst->openstack.nmanage_roles,
                              src->openstack.manage_roles[i], err))
            goto error;
    }
    for (i = 0; i < src->http.nallowed_roles; i++) {
        if (!snap_strv_append(&dst->http.allowed_roles,
                              &dst->http.nallowed_roles,
                              src->http.allowed_roles[i], err))
            goto error;
    }
    for (i = 0; i < src->http.nallowed_projects; i++) {
        if (!snap_strv_append(&dst->http.allowed_projects,
                              &dst->http.nallowed_projects,
                              src->http.allowed_projects[i], err))
            goto error;
    }
    if (src->npolicies) {
        dst->policies = calloc(src->npolicies, sizeof(*dst->policies));
        if (!dst->policies)
            goto nomem;
        for (i = 0; i < src->npolicies; i++) {
            if (!coord_policy_copy(&dst->policies[i], &src->policies[i], err))
                goto error;
            dst->npolicies++;
        }
    }
    return true;

nomem:
    snap_error_set(err, SNAP_E_NOMEM, "out of memory");
error:
    coord_conf_release(dst);
    return false;
}

typedef struct conf_ctx {
    const char *path;
    snap_error *err;
} conf_ctx;

static bool
bad(conf_ctx *c, const config_setting_t *s, const char *fmt, const char *what)
{
    char name[128] = "";
    const config_setting_t *p;

    /* Build "group.name" for the message. */
    for (p = s; p && config_setting_name(p); p = config_setting_parent(p)) {
        char tmp[128];

        snprintf(tmp, sizeof(tmp), "%s%s%s", config_setting_name(p),
                 name[0] ? "." : "", name);
        snprintf(name, sizeof(name), "%s", tmp);
    }
    return snap_error_set(c->err, SNAP_E_INVALID, "%s:%d: %s %s %s", c->path,
                          config_setting_source_line(s), name, fmt, what);
}

static bool
get_string(conf_ctx *c, const config_setting_t *s, char **out)
{
    const char *v;

    if (config_setting_type(s) != CONFIG_TYPE_STRING)
        return bad(c, s, "must be", "a string");
    v = config_setting_get_string(s);
    if (!v[0])
        return bad(c, s, "must not be", "empty");
    return coord_str_set(out, v, c->err);
}

static bool
get_bool(conf_ctx *c, const config_setting_t *s, bool *out)
{
    if (config_setting_type(s) != CONFIG_TYPE_BOOL)
        return bad(c, s, "must be", "true or false");
    *out = config_setting_get_bool(s);
    return true;
}

/* An integer setting within [@min, @max]; @what names it in the error
 * ("an integer (milliseconds)"). get_ms and get_int say which. */
static bool
get_number(conf_ctx *c, const config_setting_t *s, const char *what,
           int64_t min, int64_t max, int64_t *out)
{
    int64_t v;
    char range[64];

    if (config_setting_type(s) != CONFIG_TYPE_INT &&
        config_setting_type(s) != CONFIG_TYPE_INT64)
        return bad(c, s, "must be", what);
    v = config_setting_get_int64(s);
    if (config_setting_type(s) == CONFIG_TYPE_INT)
        v = config_setting_get_int(s);
    if (v < min || v > max) {
        snprintf(range, sizeof(range), "between %lld and %lld", (long long)min,
                 (long long)max);
        return bad(c, s, "must be", range);
    }
    *out = v;
    return true;
}

static bool
get_ms(conf_ctx *c, const config_setting_t *s, int64_t min, int64_t max,
       int64_t *out)
{
    return get_number(c, s, "an integer (milliseconds)", min, max, out);
}

static bool
get_int(conf_ctx *c, const config_setting_t *s, int64_t min, int64_t max,
        int64_t *out)
{
    return get_number(c, s, "an integer", min, max, out);
}

static bool
load_timeouts(conf_ctx *c, coord_conf *conf, const config_setting_t *g)
{
    int i, n = config_setting_length(g);
    int64_t v;

    if (!config_setting_is_group(g))
        return bad(c, g, "must be", "a group { ... }");
    for (i = 0; i < n; i++) {
        const config_setting_t *s = config_setting_get_elem(g, (unsigned)i);
        const char *name = config_setting_name(s);

        if (strcmp(name, "agent_ms") == 0) {
            if (!get_ms(c, s, 100, 3600000, &conf->agent_timeout_ms))
                return false;
        } else if (strcmp(name, "frozen_ms") == 0) {
            if (!get_ms(c, s, 100, 3600000, &conf->frozen_timeout_ms))
                return false;
        } else if (strcmp(name, "copy_ms") == 0) {
            if (!get_ms(c, s, 1000, 7 * 86400000LL, &conf->copy_timeout_ms))
                return false;
        } else if (strcmp(name, "lock_ms") == 0) {
            if (!get_ms(c, s, 0, 86400000, &conf->lock_timeout_ms))
                return false;
        } else if (strcmp(name, "shutdown_ms") == 0) {
            if (!get_ms(c, s, 1000, 3600000, &conf->shutdown_timeout_ms))
                return false;
        } else if (strcmp(name, "thaw_attempts") == 0) {
            if (!get_int(c, s, 1, 100, &v))
                return false;
            conf->thaw_attempts = (int)v;
        } else {
            return bad(c, s, "is", "not a known setting");
        }
    }
    return true;
}

static bool get_strv(conf_ctx *c, const config_setting_t *s, char ***list,
                     size_t *n);

static bool
load_openstack(conf_ctx *c, coord_openstack_conf *o, const config_setting_t *g)
{
    static const struct {
        const char *name;
        size_t offset;
    } strings[] = {
#define S(f) {#f, offsetof(coord_openstack_conf, f)}
        S(auth_type),
        S(auth_url),
        S(username),
        S(password),
        S(user_domain_name),
        S(project_name),
        S(project_domain_name),
        S(project_id),
        S(application_credential_id),
        S(application_credential_secret),
        S(region),
        S(interface),
        S(cacert),
        S(volume_endpoint),
        S(image_endpoint),
        S(group_snapshots),
        S(direct_rbd),
        S(ceph_conf),
        S(ceph_user),
        S(ceph_keyring),
#undef S
    };
    int i, n = config_setting_length(g);
    size_t k;
    int64_t v;

    if (!config_setting_is_group(g))
        return bad(c, g, "must be", "a group { ... }");
    for (i = 0; i < n; i++) {
        const config_setting_t *s = config_setting_get_elem(g, (unsigned)i);
        const char *name = config_setting_name(s);

        for (k = 0; k < sizeof(strings) / sizeof(strings[0]); k++) {
            if (strcmp(name, strings[k].name) == 0)
                break;
        }
        if (k < sizeof(strings) / sizeof(strings[0])) {
            if (!get_string(c, s, (char **)((char *)o + strings[k].offset)))
                return false;
        } else if (strcmp(name, "enabled") == 0) {
            if (!get_bool(c, s, &o->enabled))
                return false;
            o->enabled_given = true;
        } else if (strcmp(name, "use_env") == 0) {
            if (!get_bool(c, s, &o->use_env))
                return false;
        } else if (strcmp(name, "insecure") == 0) {
            if (!get_bool(c, s, &o->insecure))
                return false;
        } else if (strcmp(name, "request_timeout_ms") == 0) {
            if (!get_ms(c, s, 100, 3600000, &o->request_timeout_ms))
                return false;
        } else if (strcmp(name, "poll_min_ms") == 0) {
            if (!get_ms(c, s, 1, 10000, &o->poll_min_ms))
                return false;
        } else if (strcmp(name, "request_concurrency") == 0) {
            if (!get_int(c, s, 0, 64, &v))
                return false;
            o->request_concurrency = (int)v;
        } else if (strcmp(name, "poll_max_ms") == 0) {
            if (!get_ms(c, s, 1, 60000, &o->poll_max_ms))
                return false;
        } else if (strcmp(name, "frozen_poll_max_ms") == 0) {
            if (!get_ms(c, s, 1, 60000, &o->frozen_poll_max_ms))
                return false;
        } else if (strcmp(name, "delete_timeout_ms") == 0) {
            if (!get_ms(c, s, 1000, 86400000, &o->delete_timeout_ms))
                return false;
        } else if (strcmp(name, "stall_timeout_ms") == 0) {
            if (!get_ms(c, s, 1000, 3600000, &o->stall_timeout_ms))
                return false;
        } else if (strcmp(name, "ceph_timeout_ms") == 0) {
            if (!get_ms(c, s, 100, 600000, &o->ceph_timeout_ms))
                return false;
        } else if (strcmp(name, "manage_timeout_ms") == 0) {
            if (!get_ms(c, s, 1000, 86400000, &o->manage_timeout_ms))
                return false;
        } else if (strcmp(name, "manage_attempts") == 0) {
            if (!get_int(c, s, 1, 10, &v))
                return false;
            o->manage_attempts = (int)v;
        } else if (strcmp(name, "manage_roles") == 0) {
            if (!get_strv(c, s, &o->manage_roles, &o->nmanage_roles))
                return false;
        } else {
            return bad(c, s, "is", "not a known setting");
        }
    }
    if (o->group_snapshots && strcmp(o->group_snapshots, "auto") != 0 &&
        strcmp(o->group_snapshots, "always") != 0 &&
        strcmp(o->group_snapshots, "never") != 0)
        return bad(c, config_setting_get_member(g, "group_snapshots"),
                   "must be", "\"auto\", \"always\" or \"never\"");
    if (o->direct_rbd && strcmp(o->direct_rbd, "auto") != 0 &&
        strcmp(o->direct_rbd, "always") != 0 &&
        strcmp(o->direct_rbd, "never") != 0)
        return bad(c, config_setting_get_member(g, "direct_rbd"), "must be",
                   "\"auto\", \"always\" or \"never\"");
    if (o->ceph_user &&
        (!o->ceph_user[0] || strlen(o->ceph_user) > 47 ||
         o->ceph_user[0] == '.' || strncmp(o->ceph_user, "client.", 7) == 0))
        return bad(c, config_setting_get_member(g, "ceph_user"), "must be",
                   "a Ceph client id such as \"cinder\" (without \"client.\")");
    if (o->poll_min_ms > o->poll_max_ms)
        return bad(c, g, "has", "poll_min_ms above poll_max_ms");
    if (o->poll_min_ms > o->frozen_poll_max_ms)
        return bad(c, g, "has", "poll_min_ms above frozen_poll_max_ms");
    return true;
}

/* A list or array of non-empty strings; replaces *@list. */
static bool
get_strv(conf_ctx *c, const config_setting_t *s, char ***list, size_t *n)
{
    int i, len;

    if (!config_setting_is_array(s) && !config_setting_is_list(s))
        return bad(c, s, "must be", "a list of strings [\"...\", ...]");
    snap_strv_free(*list, *n);
    *list = NULL;
    *n = 0;
    len = config_setting_length(s);
    for (i = 0; i < len; i++) {
        const config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
        const char *v;

        if (config_setting_type(e) != CONFIG_TYPE_STRING)
            return bad(c, s, "must be", "a list of strings [\"...\", ...]");
        v = config_setting_get_string(e);
        if (!v[0])
            return bad(c, s, "must not hold", "an empty string");
        if (!snap_strv_append(list, n, v, c->err))
            return false;
    }
    return true;
}

static bool
load_http(conf_ctx *c, coord_http_conf *h, const config_setting_t *g)
{
    int i, n = config_setting_length(g);
    int64_t v;

    if (!config_setting_is_group(g))
        return bad(c, g, "must be", "a group { ... }");
    for (i = 0; i < n; i++) {
        const config_setting_t *s = config_setting_get_elem(g, (unsigned)i);
        const char *name = config_setting_name(s);

        if (strcmp(name, "address") == 0) {
            if (!get_string(c, s, &h->address))
                return false;
        } else if (strcmp(name, "port") == 0) {
            if (!get_int(c, s, 0, 65535, &v))
                return false;
            h->port = (int)v;
        } else if (strcmp(name, "tokens_file") == 0) {
            if (!get_string(c, s, &h->tokens_file))
                return false;
            if (h->tokens_file[0] != '/')
                return bad(c, s, "must be", "an absolute path");
        } else if (strcmp(name, "max_body_bytes") == 0) {
            if (!get_int(c, s, 256, 16 * 1024 * 1024, &h->max_body_bytes))
                return false;
        } else if (strcmp(name, "allowed_roles") == 0) {
            if (!get_strv(c, s, &h->allowed_roles, &h->nallowed_roles))
                return false;
        } else if (strcmp(name, "allowed_projects") == 0) {
            if (!get_strv(c, s, &h->allowed_projects, &h->nallowed_projects))
                return false;
        } else if (strcmp(name, "threads") == 0) {
            if (!get_int(c, s, 1, 256, &v))
                return false;
            h->threads = (int)v;
        } else if (strcmp(name, "workers") == 0) {
            if (!get_int(c, s, 1, 256, &v))
                return false;
            h->workers = (int)v;
        } else if (strcmp(name, "max_queue") == 0) {
            if (!get_int(c, s, 1, 100000, &v))
                return false;
            h->max_queue = (int)v;
        } else if (strcmp(name, "connection_timeout_ms") == 0) {
            if (!get_ms(c, s, 1000, 3600000, &h->connection_timeout_ms))
                return false;
        } else if (strcmp(name, "token_cache_ms") == 0) {
            if (!get_ms(c, s, 0, 3600000, &h->token_cache_ms))
                return false;
        } else if (strcmp(name, "negative_cache_ms") == 0) {
            if (!get_ms(c, s, 0, 600000, &h->negative_cache_ms))
                return false;
        } else if (strcmp(name, "validate_timeout_ms") == 0) {
            if (!get_ms(c, s, 100, 120000, &h->validate_timeout_ms))
                return false;
        } else if (strcmp(name, "request_timeout_ms") == 0) {
            if (!get_ms(c, s, 1000, 3600000, &h->request_timeout_ms))
                return false;
        } else if (strcmp(name, "validators") == 0) {
            if (!get_int(c, s, 1, 64, &v))
                return false;
            h->validators = (int)v;
        } else if (strcmp(name, "max_connections") == 0) {
            if (!get_int(c, s, 1, 4096, &v))
                return false;
            h->max_connections = (int)v;
        } else if (strcmp(name, "max_connections_per_ip") == 0) {
            if (!get_int(c, s, 1, 4096, &v))
                return false;
            h->max_connections_per_ip = (int)v;
        } else if (strcmp(name, "shutdown_timeout_ms") == 0) {
            if (!get_ms(c, s, 0, 86400000, &h->shutdown_timeout_ms))
                return false;
        } else if (strcmp(name, "job_retention_days") == 0) {
            if (!get_int(c, s, 0, 3650, &v))
                return false;
            h->job_retention_days = (int)v;
        } else if (strcmp(name, "schedule") == 0) {
            if (!get_bool(c, s, &h->schedule))
                return false;
        } else {
            return bad(c, s, "is", "not a known setting");
        }
    }
    /* A per-client bound above the total one would never be reached. */
    if (h->max_connections_per_ip > h->max_connections)
        return snap_error_set(c->err, SNAP_E_INVALID,
                              "%s:%d: http.max_connections_per_ip (%d) must "
                              "not exceed http.max_connections (%d)",
                              c->path, config_setting_source_line(g),
                              h->max_connections_per_ip, h->max_connections);
    return true;
}

/* "file:line: policy 'NAME': SETTING must be WHAT" */
static bool
bad_policy(conf_ctx *c, const config_setting_t *s, const coord_policy *p,
           const char *msg)
{
    const char *name = config_setting_name(s);

    return snap_error_set(c->err, SNAP_E_INVALID, "%s:%d: policy '%s': %s%s%s",
                          c->path, config_setting_source_line(s),
                          p->name ? p->name : "?", name ? name : "",
                          name ? " " : "", msg);
}

/* A flat sequence: one branch per setting of a policy, then the checks
 * across them. */
static bool
load_policy(conf_ctx *c, coord_policy *p, const config_setting_t *g)
{
    static const struct {
        const char *name;
        size_t offset;
    } keeps[] = {
#define K(f) {#f, offsetof(coord_retention, f)}
        K(keep_last),   K(keep_hourly),  K(keep_daily),
        K(keep_weekly), K(keep_monthly), K(keep_yearly),
#undef K
    };
    const config_setting_t *name_s = config_setting_get_member(g, "name");
    int i, n = config_setting_length(g), q;
    size_t k;
    int64_t v;
    char *str = NULL;
    bool ok = false;

    if (!config_setting_is_group(g))
        return snap_error_set(c->err, SNAP_E_INVALID,
                              "%s:%d: policies must be a list of groups "
                              "( { name = \"...\"; ... }, ... )",
                              c->path, config_setting_source_line(g));
    if (!name_s)
        return snap_error_set(c->err, SNAP_E_INVALID,
                              "%s:%d: a policy needs a name", c->path,
                              config_setting_source_line(g));
    if (!get_string(c, name_s, &p->name))
        return false;
    if (!coord_policy_name_valid(p->name))
        return bad_policy(c, name_s, p,
                          "must be letters, digits, '-', '_' and '.'");
    for (i = 0; i < n; i++) {
        const config_setting_t *s = config_setting_get_elem(g, (unsigned)i);
        const char *name = config_setting_name(s);

        for (k = 0; k < sizeof(keeps) / sizeof(keeps[0]); k++) {
            if (strcmp(name, keeps[k].name) == 0)
                break;
        }
        free(str);
        str = NULL;
        if (strcmp(name, "name") == 0) {
            continue;
        } else if (k < sizeof(keeps) / sizeof(keeps[0])) {
            if (!get_int(c, s, 0, 100000, &v))
                goto cleanup;
            *(int *)((char *)&p->retention + keeps[k].offset) = (int)v;
        } else if (strcmp(name, "domains") == 0) {
            if (!get_strv(c, s, &p->domains, &p->ndomains))
                goto cleanup;
        } else if (strcmp(name, "exclude") == 0) {
            if (!get_strv(c, s, &p->exclude, &p->nexclude))
                goto cleanup;
        } else if (strcmp(name, "metadata") == 0) {
            if (!get_bool(c, s, &p->metadata))
                goto cleanup;
        } else if (strcmp(name, "quiesce") == 0) {
            if (!get_string(c, s, &str))
                goto cleanup;
            q = coord_quiesce_parse(str);
            if (q < 0) {
                bad_policy(c, s, p,
                           "must be \"required\", \"preferred\" or \"off\"");
                goto cleanup;
            }
            p->quiesce = q;
        } else if (strcmp(name, "pause") == 0) {
            if (!get_bool(c, s, &p->pause))
                goto cleanup;
        } else if (strcmp(name, "verify") == 0) {
            if (!get_bool(c, s, &p->verify))
                goto cleanup;
        } else if (strcmp(name, "backup_type") == 0) {
            if (!get_string(c, s, &p->backup_type))
                goto cleanup;
            if (!coord_policy_name_valid(p->backup_type)) {
                bad_policy(c, s, p,
                           "must be letters, digits, '-', '_' and '.'");
                goto cleanup;
            }
        } else if (strcmp(name, "export") == 0) {
            if (!get_string(c, s, &str))
                goto cleanup;
            if (strcmp(str, "none") == 0) {
                p->export_kind = COORD_EXPORT_NONE;
            } else if (strcmp(str, "glance") == 0) {
                p->export_kind = COORD_EXPORT_GLANCE;
            } else if (strncmp(str, "ova:/", 5) == 0) {
                p->export_kind = COORD_EXPORT_OVA_DIR;
                if (!coord_str_set(&p->export_dir, str + 4, c->err))
                    goto cleanup;
            } else {
                bad_policy(c, s, p,
                           "must be \"none\", \"glance\" or \"ova:/DIR\"");
                goto cleanup;
            }
        } else if (strcmp(name, "parallelism") == 0) {
            if (!get_int(c, s, 1, COORD_POLICY_PARALLELISM_MAX, &v))
                goto cleanup;
            p->parallelism = (int)v;
        } else if (strcmp(name, "schedule") == 0) {
            snap_error perr = {0};

            if (!get_string(c, s, &p->schedule_text))
                goto cleanup;
            if (!coord_schedule_parse(p->schedule_text, &p->schedule, &perr)) {
                bad_policy(c, s, p, perr.msg);
                goto cleanup;
            }
        } else {
            bad_policy(c, s, p, "is not a known setting");
            goto cleanup;
        }
    }
    if (p->ndomains == 0 && !p->metadata) {
        snap_error_set(c->err, SNAP_E_INVALID,
                       "%s:%d: policy '%s' selects no domain: set domains or "
                       "metadata = true",
                       c->path, config_setting_source_line(g), p->name);
        goto cleanup;
    }
    ok = true;

cleanup:
    free(str);
    return ok;
}

static bool
load_policies(conf_ctx *c, coord_conf *conf, const config_setting_t *l)
{
    int i, n = config_setting_length(l);
    coord_policy *ps;
    size_t k;

    if (!config_setting_is_list(l))
        return bad(c, l, "must be", "a list ( { name = \"...\"; ... }, ... )");
    coord_policies_free(conf->policies, conf->npolicies);
    conf->policies = NULL;
    conf->npolicies = 0;
    if (n == 0)
        return true;
    ps = calloc((size_t)n, sizeof(*ps));
    if (!ps)
        return snap_error_set(c->err, SNAP_E_NOMEM, "out of memory");
    conf->policies = ps;
    for (i = 0; i < n; i++) {
        const config_setting_t *g = config_setting_get_elem(l, (unsigned)i);
        coord_policy *p = &ps[i];

        coord_policy_init(p);
        conf->npolicies++;
        if (!load_policy(c, p, g))
            return false;
        for (k = 0; k < (size_t)i; k++) {
            if (strcmp(ps[k].name, p->name) == 0)
                return snap_error_set(c->err, SNAP_E_INVALID,
                                      "%s:%d: policy '%s' is defined twice",
                                      c->path, config_setting_source_line(g),
                                      p->name);
            /* Retention works per backup type: two policies sharing one
             * would prune each other's sets. */
            if (strcmp(coord_policy_backup_type(&ps[k]),
                       coord_policy_backup_type(p)) == 0)
                return snap_error_set(c->err, SNAP_E_INVALID,
                                      "%s:%d: policy '%s' has the backup "
                                      "type '%s' of policy '%s'",
                                      c->path, config_setting_source_line(g),
                                      p->name, coord_policy_backup_type(p),
                                      ps[k].name);
        }
    }
    return true;
}

/* A file holding a password or an application credential secret must not
 * be readable by others (with allow_insecure_file: a warning). */
static bool
check_secret_mode(config_t *cfg, const coord_conf *conf, const char *path,
                  snap_error *err)
{
    struct stat st;
    const char *what = NULL;

    if (config_lookup(cfg, "openstack.password"))
        what = "a password";
    else if (config_lookup(cfg, "openstack.application_credential_secret"))
        what = "an application credential secret";
    if (!what)
        return true;
    if (stat(path, &st) < 0)
        return snap_error_set_errno(err, errno, "%s: cannot stat it", path);
    if (!(st.st_mode & S_IROTH))
        return true;
    if (conf->allow_insecure_file) {
        snap_warn("%s: holds %s and others can read it (mode %04o): "
                  "chmod o-r it",
                  path, what, (unsigned)(st.st_mode & 07777));
        return true;
    }
    return snap_error_set(err, SNAP_E_INVALID,
                          "%s: holds %s and others can read it (mode "
                          "%04o): chmod o-r it, or pass "
                          "--allow-insecure-config",
                          path, what, (unsigned)(st.st_mode & 07777));
}

bool
coord_conf_load(coord_conf *conf, const char *path, snap_error *err)
{
    config_t cfg;
    config_setting_t *root;
    conf_ctx c = {path, err};
    int i, n, q;
    bool ok = false;

    config_init(&cfg);
    if (!config_read_file(&cfg, path)) {
        if (config_error_type(&cfg) == CONFIG_ERR_FILE_IO)
            snap_error_set(err, SNAP_E_INVALID, "cannot read '%s'", path);
        else
            snap_error_set(err, SNAP_E_INVALID, "%s:%d: %s", path,
                           config_error_line(&cfg), config_error_text(&cfg));
        goto cleanup;
    }
    if (!check_secret_mode(&cfg, conf, path, err))
        goto cleanup;
    root = config_root_setting(&cfg);
    n = config_setting_length(root);
    for (i = 0; i < n; i++) {
        config_setting_t *s = config_setting_get_elem(root, (unsigned)i);
        const char *name = config_setting_name(s);
        char *str = NULL;

        if (strcmp(name, "libvirt_uri") == 0) {
            if (!get_string(&c, s, &conf->libvirt_uri))
                goto cleanup;
        } else if (strcmp(name, "catalog_dir") == 0) {
            if (!get_string(&c, s, &conf->catalog_dir))
                goto cleanup;
            if (conf->catalog_dir[0] != '/') {
                bad(&c, s, "must be", "an absolute path");
                goto cleanup;
            }
        } else if (strcmp(name, "quiesce") == 0) {
            if (!get_string(&c, s, &str))
                goto cleanup;
            q = coord_quiesce_parse(str);
            free(str);
            if (q < 0) {
                bad(&c, s, "must be", "\"required\", \"preferred\" or \"off\"");
                goto cleanup;
            }
            conf->quiesce = q;
        } else if (strcmp(name, "pause") == 0) {
            if (!get_bool(&c, s, &conf->pause))
                goto cleanup;
        } else if (strcmp(name, "app_hooks") == 0) {
            if (!get_bool(&c, s, &conf->app_hooks))
                goto cleanup;
        } else if (strcmp(name, "incremental") == 0) {
            if (!get_bool(&c, s, &conf->incremental))
                goto cleanup;
        } else if (strcmp(name, "copy_format") == 0) {
            if (!get_string(&c, s, &conf->copy_format))
                goto cleanup;
            if (strcmp(conf->copy_format, "qcow2") != 0 &&
                strcmp(conf->copy_format, "raw") != 0) {
                bad(&c, s, "must be", "\"qcow2\" or \"raw\"");
                goto cleanup;
            }
        } else if (strcmp(name, "timeouts") == 0) {
            if (!load_timeouts(&c, conf, s))
                goto cleanup;
        } else if (strcmp(name, "openstack") == 0) {
            if (!load_openstack(&c, &conf->openstack, s))
                goto cleanup;
        } else if (strcmp(name, "http") == 0) {
            if (!load_http(&c, &conf->http, s))
                goto cleanup;
        } else if (strcmp(name, "policies") == 0) {
            if (!load_policies(&c, conf, s))
                goto cleanup;
        } else {
            bad(&c, s, "is", "not a known setting");
            goto cleanup;
        }
    }
    ok = true;

cleanup:
    config_destroy(&cfg);
    return ok;
}
