/* coordinator/coord_conf.h -- snapset.conf (libconfig).
 *
 * Every setting has a default and a CLI override; etc/snapset.conf is the
 * documented sample. Unknown settings and bad values are errors that name
 * the file and line, so a typo never silently falls back to a default.
 */
#ifndef COORD_CONF_H
#define COORD_CONF_H

#include <stdbool.h>
#include <stdint.h>

#include "common/snap_error.h"
#include "coordinator/coord_set.h"

/* OpenStack: Keystone credentials and what snapset does with Cinder and
 * Glance. Unset strings are NULL; with use_env the usual OS_* variables
 * fill what the file leaves unset. */
typedef struct coord_openstack_conf {
    bool enabled;             /* Cinder members and Glance exports */
    bool use_env;             /* OS_* variables fill unset settings */
    char *auth_type;          /* "password", "v3applicationcredential", "noauth" */
    char *auth_url;
    char *username;
    char *password;
    char *user_domain_name;
    char *project_name;
    char *project_domain_name;
    char *project_id;
    char *application_credential_id;
    char *application_credential_secret;
    char *region;
    char *interface;          /* "public", "internal", "admin" */
    char *cacert;
    bool insecure;
    char *volume_endpoint;    /* overrides the catalog (noauth) */
    char *image_endpoint;
    int64_t request_timeout_ms;
    int64_t poll_min_ms;      /* Cinder status polling, adaptive */
    int64_t poll_max_ms;
    int64_t delete_timeout_ms;/* waiting for deleted snapshots to go */
} coord_openstack_conf;

typedef struct coord_conf {
    char *libvirt_uri;        /* "qemu:///system" */
    char *catalog_dir;        /* "/var/lib/snapset" */
    coord_quiesce quiesce;    /* default for create */
    bool pause;               /* default for create */
    bool app_hooks;           /* guests run fsfreeze hooks for their apps */
    char *copy_format;        /* format of local copies: "qcow2" */
    int64_t agent_timeout_ms; /* each guest-agent call */
    int64_t frozen_timeout_ms;/* the whole frozen window */
    int64_t copy_timeout_ms;  /* local copies after the thaw */
    int64_t lock_timeout_ms;  /* waiting for another operation on a domain */
    int64_t shutdown_timeout_ms; /* restore: a guest shutting down */
    int thaw_attempts;
    coord_openstack_conf openstack;
} coord_conf;

/* Fills @conf with the built-in defaults. */
bool coord_conf_init(coord_conf *conf, snap_error *err);

/* Reads @path over the current values. Errors name the file and line:
 * "snapset.conf:12: timeouts.agent_ms must be between 100 and 3600000". */
bool coord_conf_load(coord_conf *conf, const char *path, snap_error *err);

void coord_conf_release(coord_conf *conf);

#endif
