/* coordinator/coord_conf.c -- see coord_conf.h. */
#include "coordinator/coord_conf.h"

#include <libconfig.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

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
    conf->openstack.delete_timeout_ms = 120000;
    if (!coord_str_set(&conf->libvirt_uri, "qemu:///system", err) ||
        !coord_str_set(&conf->catalog_dir, "/var/lib/snapset", err) ||
        !coord_str_set(&conf->copy_format, "qcow2", err)) {
        coord_conf_release(conf);
        return false;
    }
    return true;
}

static void
openstack_release(coord_openstack_conf *o)
{
    char **strs[] = {&o->auth_type, &o->auth_url, &o->username, &o->password,
                     &o->user_domain_name, &o->project_name,
                     &o->project_domain_name, &o->project_id,
                     &o->application_credential_id,
                     &o->application_credential_secret, &o->region,
                     &o->interface, &o->cacert, &o->volume_endpoint,
                     &o->image_endpoint};
    size_t i;

    for (i = 0; i < sizeof(strs) / sizeof(strs[0]); i++) {
        free(*strs[i]);
        *strs[i] = NULL;
    }
}

void
coord_conf_release(coord_conf *conf)
{
    openstack_release(&conf->openstack);
    free(conf->libvirt_uri);
    free(conf->catalog_dir);
    free(conf->copy_format);
    memset(conf, 0, sizeof(*conf));
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

static bool
get_ms(conf_ctx *c, const config_setting_t *s, int64_t min, int64_t max,
       int64_t *out)
{
    long long v;
    char range[64];

    if (config_setting_type(s) != CONFIG_TYPE_INT &&
        config_setting_type(s) != CONFIG_TYPE_INT64)
        return bad(c, s, "must be", "an integer (milliseconds)");
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
            if (!get_ms(c, s, 1, 100, &v))
                return false;
            conf->thaw_attempts = (int)v;
        } else {
            return bad(c, s, "is", "not a known setting");
        }
    }
    return true;
}

static bool
load_openstack(conf_ctx *c, coord_openstack_conf *o, const config_setting_t *g)
{
    static const struct {
        const char *name;
        size_t offset;
    } strings[] = {
#define S(f) {#f, offsetof(coord_openstack_conf, f)}
        S(auth_type), S(auth_url), S(username), S(password),
        S(user_domain_name), S(project_name), S(project_domain_name),
        S(project_id), S(application_credential_id),
        S(application_credential_secret), S(region), S(interface), S(cacert),
        S(volume_endpoint), S(image_endpoint),
#undef S
    };
    int i, n = config_setting_length(g);
    size_t k;

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
        } else if (strcmp(name, "poll_max_ms") == 0) {
            if (!get_ms(c, s, 1, 60000, &o->poll_max_ms))
                return false;
        } else if (strcmp(name, "delete_timeout_ms") == 0) {
            if (!get_ms(c, s, 1000, 86400000, &o->delete_timeout_ms))
                return false;
        } else {
            return bad(c, s, "is", "not a known setting");
        }
    }
    if (o->poll_min_ms > o->poll_max_ms)
        return bad(c, g, "has", "poll_min_ms above poll_max_ms");
    return true;
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
