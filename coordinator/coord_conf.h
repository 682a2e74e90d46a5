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
#include "coordinator/coord_policy.h"
#include "coordinator/coord_set.h"

/* OpenStack: Keystone credentials and what snapset does with Cinder and
 * Glance. Unset strings are NULL; with use_env the usual OS_* variables
 * fill what the file leaves unset. */
typedef struct coord_openstack_conf {
    bool enabled;        /* Cinder members and Glance exports */
    bool enabled_given;  /* the file says `enabled` (true or false) */
    bool enabled_by_env; /* enabled because OS_AUTH_URL is set
                            (coord_conf_apply_env()) */
    bool use_env;        /* OS_* variables fill unset settings */
    char *auth_type;     /* "password", "v3applicationcredential", "noauth" */
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
    char *interface; /* "public", "internal", "admin" */
    char *cacert;
    bool insecure;
    char *volume_endpoint; /* overrides the catalog (noauth) */
    char *image_endpoint;
    int64_t request_timeout_ms;
    int64_t poll_min_ms; /* Cinder status polling, adaptive */
    int64_t poll_max_ms;
    int64_t frozen_poll_max_ms; /* ... while the guest waits frozen */
    int64_t delete_timeout_ms;  /* waiting for deleted snapshots to go */
    int64_t stall_timeout_ms;   /* a transfer (Glance upload) that stalls */
    char *group_snapshots;      /* "auto", "always", "never" */
    int request_concurrency;    /* snapshot POSTs in flight at once inside
                                   the freeze, and direct RBD registrations
                                   after it (4); 0: all of them */
    /* Ceph RBD members (ops/openstack.c): snapset makes their RBD
     * snapshots itself inside the freeze and registers them with Cinder
     * after the thaw. "auto": when the host can and Cinder lets it;
     * "always": a set that cannot fails before the freeze; "never". */
    char *direct_rbd;
    char *ceph_conf;     /* "/etc/ceph/ceph.conf" */
    char *ceph_user;     /* client id: "cinder", as Nova's compute nodes */
    char *ceph_keyring;  /* NULL: the one ceph_conf names */
    char **manage_roles; /* the token needs one to manage snapshots:
                            Cinder's snapshot_extension:snapshot_manage
                            policy (["admin"], Cinder's default) */
    size_t nmanage_roles;
    int64_t ceph_timeout_ms;   /* connecting to the cluster (10 s) */
    int64_t manage_timeout_ms; /* each registration until available */
    int manage_attempts;       /* registrations tried per snapshot (3) */
} coord_openstack_conf;

/* `snapset serve`: the HTTP API (coordinator/http/http_api.h). */
typedef struct coord_http_conf {
    char *address;          /* "127.0.0.1" */
    int port;               /* 8790; 0: any free port (printed) */
    char *tokens_file;      /* tokens when Keystone is not used (also
                               with noauth): a regular file owned by
                               root, mode 0600 or 0640 */
    int64_t max_body_bytes; /* larger request bodies get 413 */
    char **allowed_roles;   /* act on every domain: ["admin"]; empty:
                               only the projects owning a domain do */
    size_t nallowed_roles;
    char **allowed_projects; /* ids or "NAME@DOMAIN"; empty: any project */
    size_t nallowed_projects;
    int threads;                   /* unused: a thread per connection */
    int max_connections;           /* open connections at once: 256 */
    int max_connections_per_ip;    /* from one address: 16 */
    int64_t request_timeout_ms;    /* one request, first byte to answer */
    int64_t negative_cache_ms;     /* a refused token is refused this long */
    int64_t validate_timeout_ms;   /* a request waits this long for Keystone */
    int validators;                /* token validations at once */
    int workers;                   /* background jobs at once */
    int max_queue;                 /* accepted jobs waiting for a worker */
    int64_t connection_timeout_ms; /* an idle or slow client */
    int64_t token_cache_ms;        /* a Keystone answer is reused at most this
                                      long (and never past the token's expiry):
                                      a revoked token works until then */
    int64_t shutdown_timeout_ms;   /* SIGTERM: waiting for running jobs */
    int job_retention_days;        /* records of jobs that ended are removed
                                      this long after, when serve starts;
                                      0: kept */
    bool schedule; /* serve runs policies that have a schedule */
} coord_http_conf;

typedef struct coord_conf {
    char *libvirt_uri;           /* "qemu:///system" */
    char *catalog_dir;           /* "/var/lib/snapset" */
    coord_quiesce quiesce;       /* default for create */
    bool pause;                  /* default for create */
    bool app_hooks;              /* guests run fsfreeze hooks for their apps */
    bool incremental;            /* copy what changed since the last set */
    char *copy_format;           /* format of local copies: "qcow2" */
    int64_t agent_timeout_ms;    /* each guest-agent call */
    int64_t frozen_timeout_ms;   /* the whole frozen window */
    int64_t copy_timeout_ms;     /* local copies after the thaw */
    int64_t lock_timeout_ms;     /* waiting for another operation on a domain */
    int64_t shutdown_timeout_ms; /* restore: a guest shutting down */
    int thaw_attempts;
    coord_openstack_conf openstack;
    coord_http_conf http;
    coord_policy *policies; /* `policies = ( { name = ...; }, ... )` */
    size_t npolicies;
    /* Set by the caller before coord_conf_load() (--allow-insecure-config):
     * a file holding a password or secret that others can read is then a
     * warning instead of an error. */
    bool allow_insecure_file;
} coord_conf;

/* Fills @conf with the built-in defaults. */
bool coord_conf_init(coord_conf *conf, snap_error *err);

/* Reads @path over the current values. Errors name the file and line:
 * "snapset.conf:12: timeouts.agent_ms must be between 100 and 3600000". */
bool coord_conf_load(coord_conf *conf, const char *path, snap_error *err);

/* OpenStack from the usual environment: where the file does not say
 * `openstack.enabled` and openstack.use_env holds (the default), OpenStack
 * is in use exactly when OS_AUTH_URL is set and not empty, as after
 * sourcing an openrc; openstack.enabled_by_env then records why. An
 * explicit `enabled = false` (or `use_env = false`) keeps it off whatever
 * the environment says. Call once, after coord_conf_load() or, without a
 * file, after coord_conf_init(); reads the environment, so not while
 * another thread changes it. */
void coord_conf_apply_env(coord_conf *conf);

void coord_conf_release(coord_conf *conf);

/* Deep copy of @src into @dst (overwritten): each thread of `serve` and
 * `policy run` owns one. On failure @dst is left released. */
bool coord_conf_copy(coord_conf *dst, const coord_conf *src, snap_error *err);

#endif
