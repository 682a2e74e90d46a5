/* tests/unit/test_http_api.c -- the HTTP API on 127.0.0.1 (an ephemeral
 * port) over a fake backend, driven with libcurl: routes, every bad-input
 * code, tokens (file and a fake Keystone with its cache), metrics, and a
 * server that keeps serving through all of it. */
#include <arpa/inet.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <curl/curl.h>
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/snap_time.h"
#include "coordinator/http/http_api.h"
#include "coordinator/coord_catalog.h"

#define ADMIN "adm-0123456789abcdef"
#define READER "rdr-0123456789abcdef"
#define OTHERPROJ "oth-0123456789abcdef"
#define VM1_UUID "11111111-1111-4111-8111-111111111111"
#define VM2_UUID "22222222-2222-4222-8222-222222222222"
#define VM3_UUID "33333333-3333-4333-8333-333333333333" /* gone */
#define SET_E "eeeeeeee-0000-4000-8000-000000000005"
#define SET_G "99999999-0000-4000-8000-000000000007"
#define SET_A "aaaaaaaa-0000-4000-8000-000000000001"
#define SET_B "bbbbbbbb-0000-4000-8000-000000000002"
#define SET_C "cccccccc-0000-4000-8000-000000000003"
#define TPL_A "7e7e7e7e-0000-4000-8000-00000000000a" /* a template of SET_A */

/* ---- the fake backend ---------------------------------------------------- */

typedef struct fake_spec {
    const char *uuid;
    const char *domain;
    const char *domain_uuid;
    const char *backup_type;
    coord_set_state state;
    coord_consistency consistency;
    int64_t freeze_ms;
    const char *error;
    bool frozen_now;           /* creating, freeze attempted, not thawed */
    const char *owner_project; /* recorded in the set's metadata */
    bool memory;               /* made with RAM state */
} fake_spec;

typedef struct fake {
    pthread_mutex_t mu;
    fake_spec specs[8];
    size_t nspecs;
    char busy_domain[64];  /* create/remove on it: SNAP_E_BUSY */
    snap_error next_error; /* returned by the next create, once */
    int creates;
    char last_name[256];
    char last_backup_type[64];
    int last_rotation;
    coord_quiesce last_quiesce;
    bool last_pause;
    int validations;          /* fake Keystone calls */
    int64_t token_expires_ms; /* what the fake Keystone answers */
    bool keystone_down;
    bool last_with_exports;
    size_t last_nmetadata;
    char last_metadata_k[64]; /* the value of key "k" */
    int exports;              /* export_set calls accepted */
    char last_export_name[256];
    char last_disk_format[16];
    char last_owner[64];   /* the owner handed to create */
    int owner_lookups;     /* domain_owner calls */
    int validate_sleep_ms; /* the fake Keystone is this slow */
    bool revoked;          /* ks-member tokens are revoked */
    char jobs_dir[64];     /* the fixture's directory: job records */
    int restores;          /* restore calls accepted */
    bool last_memory;      /* the last create asked for RAM state */
    int last_start;
    int64_t last_shutdown_ms;
    int spawns;                /* spawn calls accepted */
    http_spawn_req last_spawn; /* its strings are not kept */
    char last_spawn_name[80];
    char last_spawn_net[80];
    int templates;        /* template_create calls accepted */
    bool template_made;   /* TPL_A exists */
    int template_removes; /* template_remove calls accepted */
    char last_spawn_template[64];
    int audits;            /* audit events */
    char last_audit[256];  /* "actor action kind domain" */
    int volumes;           /* volume calls accepted */
    char last_volume[160]; /* "disk name format" */
} fake;

static fake F;

static coord_set *fake_get(void *impl, const char *id, snap_error *err);

static coord_set *
make_set(const fake_spec *sp, snap_error *err)
{
    coord_set *s = coord_set_new(err);
    coord_member *m;

    if (!s)
        return NULL;
    snprintf(s->uuid, sizeof(s->uuid), "%s", sp->uuid);
    snprintf(s->domain_uuid, sizeof(s->domain_uuid), "%s", sp->domain_uuid);
    coord_str_set(&s->domain_name, sp->domain, NULL);
    coord_str_set(&s->backup_type, sp->backup_type, NULL);
    coord_str_set(&s->error, sp->error, NULL);
    s->state = sp->state;
    s->consistency = sp->consistency;
    s->freeze_ms = sp->freeze_ms;
    s->created_ms = 1700000000000LL;
    s->journal.freeze_attempted = sp->frozen_now;
    if (sp->memory)
        coord_str_set(&s->memory, "/cat/sets/x/memory.state", NULL);
    if (sp->owner_project)
        coord_set_add_metadata(s, HTTP_OWNER_KEY_PROJECT, sp->owner_project,
                               NULL);
    m = coord_set_add_member(s, NULL);
    if (m) {
        coord_str_set(&m->target, "vda", NULL);
        coord_str_set(&m->location, "/cat/sets/x/vda.qcow2", NULL);
        m->state = COORD_MEMBER_AVAILABLE;
    }
    return s;
}

static bool
fake_lookup(void *impl, const char *id, char **name, char uuid[SNAP_UUID_LEN],
            snap_error *err)
{
    (void)impl;
    if (strcmp(id, "vm1") == 0 || strcmp(id, VM1_UUID) == 0) {
        *name = strdup("vm1");
        memcpy(uuid, VM1_UUID, SNAP_UUID_LEN);
        return true;
    }
    if (strcmp(id, "vm2") == 0 || strcmp(id, VM2_UUID) == 0) {
        *name = strdup("vm2");
        memcpy(uuid, VM2_UUID, SNAP_UUID_LEN);
        return true;
    }
    return snap_error_set(err, SNAP_E_NOTFOUND, "no domain '%s'", id);
}

/* A job record of a create, as serve keeps them (coord_jobrec), in the
 * fixture's directory. */
static bool
fake_job(const char *kind, const char *domain, const char *set_uuid,
         const http_owner *o, char job_id[SNAP_UUID_LEN], snap_error *err)
{
    coord_jobrec *r = coord_jobrec_new(kind, err);
    bool ok;

    if (!r)
        return false;
    snprintf(r->set_uuid, SNAP_UUID_LEN, "%s", set_uuid);
    ok = coord_str_set(&r->domain_name, domain, err) &&
         (!o ||
          (coord_str_set(&r->owner_project, o->project, err) &&
           coord_str_set(&r->owner_project_name, o->project_name, err) &&
           coord_str_set(&r->owner_project_domain, o->project_domain, err))) &&
         coord_jobrec_save(F.jobs_dir, r, err);
    if (ok)
        memcpy(job_id, r->id, SNAP_UUID_LEN);
    coord_jobrec_free(r);
    return ok;
}

static coord_jobrec *
fake_job_get(void *impl, const char *id, snap_error *err)
{
    (void)impl;
    return coord_jobrec_load(F.jobs_dir, id, err);
}

static bool
fake_job_list(void *impl, coord_jobrec ***jobs, size_t *n, snap_error *err)
{
    (void)impl;
    return coord_jobrec_list(F.jobs_dir, jobs, n, err);
}

static bool
fake_create(void *impl, const http_create_req *req,
            char set_uuid[SNAP_UUID_LEN], char job_id[SNAP_UUID_LEN],
            snap_error *err)
{
    bool ok = true;

    (void)impl;
    pthread_mutex_lock(&F.mu);
    if (snap_error_isset(&F.next_error)) {
        *err = F.next_error;
        snap_error_clear(&F.next_error);
        ok = false;
    } else if (strcmp(req->domain_name, F.busy_domain) == 0) {
        ok = snap_error_set(err, SNAP_E_BUSY,
                            "domain '%s' already has a snapset operation in "
                            "progress",
                            req->domain_name);
    } else {
        F.creates++;
        snprintf(F.last_name, sizeof(F.last_name), "%s",
                 req->name ? req->name : "");
        snprintf(F.last_backup_type, sizeof(F.last_backup_type), "%s",
                 req->backup_type ? req->backup_type : "");
        F.last_rotation = req->rotation;
        F.last_quiesce = req->quiesce;
        F.last_pause = req->pause;
        F.last_memory = req->memory;
        F.last_nmetadata = req->metadata ? json_object_size(req->metadata) : 0;
        snprintf(F.last_metadata_k, sizeof(F.last_metadata_k), "%s",
                 req->metadata
                     ? json_string_value(json_object_get(req->metadata, "k"))
                     : "");
        snprintf(F.last_owner, sizeof(F.last_owner), "%s",
                 req->owner && req->owner->project ? req->owner->project
                 : req->owner && req->owner->project_name
                     ? req->owner->project_name
                     : "");
        snprintf(set_uuid, SNAP_UUID_LEN, "%s", SET_C);
        ok = fake_job("create", req->domain_name, SET_C, req->owner, job_id,
                      err);
    }
    pthread_mutex_unlock(&F.mu);
    return ok;
}

static bool
fake_list(void *impl, coord_set ***sets, size_t *nsets, snap_error *err)
{
    coord_set **arr;
    size_t i;

    (void)impl;
    pthread_mutex_lock(&F.mu);
    arr = calloc(F.nspecs + 1, sizeof(*arr));
    for (i = 0; arr && i < F.nspecs; i++)
        arr[i] = make_set(&F.specs[i], err);
    *sets = arr;
    *nsets = F.nspecs;
    pthread_mutex_unlock(&F.mu);
    return arr != NULL;
}

static coord_set *
fake_get(void *impl, const char *id, snap_error *err)
{
    coord_set *s = NULL;
    size_t i;

    (void)impl;
    pthread_mutex_lock(&F.mu);
    for (i = 0; i < F.nspecs; i++) {
        if (strncmp(F.specs[i].uuid, id, strlen(id)) == 0) {
            s = make_set(&F.specs[i], err);
            break;
        }
    }
    pthread_mutex_unlock(&F.mu);
    if (i == F.nspecs)
        snap_error_set(err, SNAP_E_NOTFOUND, "no set '%s' in the catalog", id);
    return s;
}

static bool
fake_remove(void *impl, const char *id, bool with_exports,
            char job_id[SNAP_UUID_LEN], snap_error *err)
{
    job_id[0] = '\0'; /* none recorded */
    size_t i;
    bool ok = false;

    (void)impl;
    pthread_mutex_lock(&F.mu);
    F.last_with_exports = with_exports;
    for (i = 0; i < F.nspecs; i++) {
        if (strncmp(F.specs[i].uuid, id, strlen(id)) != 0)
            continue;
        if (strcmp(F.specs[i].domain, F.busy_domain) == 0) {
            snap_error_set(err, SNAP_E_BUSY, "domain '%s' is busy",
                           F.specs[i].domain);
        } else {
            F.specs[i] = F.specs[--F.nspecs];
            ok = true;
        }
        break;
    }
    if (i == F.nspecs && !ok && !snap_error_isset(err))
        snap_error_set(err, SNAP_E_NOTFOUND, "no set '%s' in the catalog", id);
    pthread_mutex_unlock(&F.mu);
    return ok;
}

static bool
fake_export(void *impl, const char *id, const http_export_req *req,
            char set_uuid[SNAP_UUID_LEN], char job_id[SNAP_UUID_LEN],
            snap_error *err)
{
    job_id[0] = '\0'; /* none recorded */
    coord_set *s = fake_get(impl, id, err);
    bool ok = false;

    if (!s)
        return false;
    if (s->state != COORD_SET_AVAILABLE) {
        snap_error_set(err, SNAP_E_STATE, "set %s is not available", s->uuid);
    } else {
        pthread_mutex_lock(&F.mu);
        F.exports++;
        snprintf(F.last_export_name, sizeof(F.last_export_name), "%s",
                 req->name ? req->name : "");
        snprintf(F.last_disk_format, sizeof(F.last_disk_format), "%s",
                 req->disk_format ? req->disk_format : "");
        pthread_mutex_unlock(&F.mu);
        memcpy(set_uuid, s->uuid, SNAP_UUID_LEN);
        ok = true;
    }
    coord_set_free(s);
    return ok;
}

static bool
fake_restore(void *impl, const char *id, const http_restore_req *req,
             char set_uuid[SNAP_UUID_LEN], char job_id[SNAP_UUID_LEN],
             snap_error *err)
{
    coord_set *s = fake_get(impl, id, err);
    bool ok;

    if (!s)
        return false;
    if (s->state != COORD_SET_AVAILABLE) {
        coord_set_free(s);
        return snap_error_set(err, SNAP_E_STATE, "set is not available");
    }
    memcpy(set_uuid, s->uuid, SNAP_UUID_LEN);
    pthread_mutex_lock(&F.mu);
    F.restores++;
    F.last_start = req->start;
    F.last_shutdown_ms = req->shutdown_timeout_ms;
    ok = fake_job("restore", s->domain_name, s->uuid, NULL, job_id, err);
    pthread_mutex_unlock(&F.mu);
    coord_set_free(s);
    return ok;
}

/* The set @id, available, for spawn and volume; its domain busy when the
 * set is SET_C's. */
static bool
fake_use(void *impl, const char *id, const char *kind,
         char set_uuid[SNAP_UUID_LEN], char job_id[SNAP_UUID_LEN],
         snap_error *err)
{
    coord_set *s = fake_get(impl, id, err);
    bool ok;

    if (!s)
        return false;
    if (s->state != COORD_SET_AVAILABLE) {
        coord_set_free(s);
        return snap_error_set(err, SNAP_E_STATE, "set is not available");
    }
    memcpy(set_uuid, s->uuid, SNAP_UUID_LEN);
    pthread_mutex_lock(&F.mu);
    ok = fake_job(kind, s->domain_name, s->uuid, NULL, job_id, err);
    if (ok && strcmp(kind, "spawn") == 0)
        F.spawns++;
    else if (ok)
        F.volumes++;
    pthread_mutex_unlock(&F.mu);
    coord_set_free(s);
    return ok;
}

static coord_set *fake_template_get(void *impl, const char *id,
                                    snap_error *err);

static bool
fake_spawn(void *impl, const char *id, const http_spawn_req *req,
           char set_uuid[SNAP_UUID_LEN], char job_id[SNAP_UUID_LEN],
           snap_error *err)
{
    bool ok;

    if (req->template_id) {
        coord_set *t = fake_template_get(impl, req->template_id, err);

        ok = t != NULL;
        if (ok)
            memcpy(set_uuid, t->uuid, SNAP_UUID_LEN);
        pthread_mutex_lock(&F.mu);
        ok =
            ok && fake_job("spawn", t->domain_name, t->uuid, NULL, job_id, err);
        if (ok)
            F.spawns++;
        pthread_mutex_unlock(&F.mu);
        coord_set_free(t);
    } else {
        ok = fake_use(impl, id, "spawn", set_uuid, job_id, err);
    }
    pthread_mutex_lock(&F.mu);
    if (ok) {
        F.last_spawn = *req;
        snprintf(F.last_spawn_template, sizeof(F.last_spawn_template), "%s",
                 req->template_id ? req->template_id : "");
        snprintf(F.last_spawn_name, sizeof(F.last_spawn_name), "%s", req->name);
        snprintf(F.last_spawn_net, sizeof(F.last_spawn_net), "%s",
                 req->nnetworks ? req->networks[req->nnetworks - 1] : "");
    }
    pthread_mutex_unlock(&F.mu);
    return ok;
}

static bool
fake_volume(void *impl, const char *id, const http_volume_req *req,
            char set_uuid[SNAP_UUID_LEN], char job_id[SNAP_UUID_LEN],
            snap_error *err)
{
    bool ok;

    ok = fake_use(impl, id, "volume", set_uuid, job_id, err);
    pthread_mutex_lock(&F.mu);
    if (ok) {
        snprintf(F.last_volume, sizeof(F.last_volume), "%s %s %s", req->disk,
                 req->name ? req->name : "-", req->format ? req->format : "-");
    }
    pthread_mutex_unlock(&F.mu);
    return ok;
}

/* TPL_A: SET_A's document under the template's id, naming SET_A. */
static coord_set *
fake_template_get(void *impl, const char *id, snap_error *err)
{
    coord_set *t = NULL;

    (void)impl;
    if (!F.template_made || strncmp(TPL_A, id, strlen(id)) != 0) {
        snap_error_set(err, SNAP_E_NOTFOUND, "no template '%s'", id);
        return NULL;
    }
    t = fake_get(impl, SET_A, err);
    if (t) {
        memcpy(t->uuid, TPL_A, SNAP_UUID_LEN);
        if (!coord_set_add_metadata(t, COORD_KEY_TEMPLATE_SET, SET_A, err)) {
            coord_set_free(t);
            t = NULL;
        }
    }
    return t;
}

static bool
fake_template_list(void *impl, coord_set ***ts, size_t *n, snap_error *err)
{
    *n = 0;
    *ts = calloc(1, sizeof(**ts));
    if (!*ts)
        return snap_error_set(err, SNAP_E_NOMEM, "out of memory");
    if (F.template_made) {
        (*ts)[0] = fake_template_get(impl, TPL_A, err);
        if (!(*ts)[0])
            return false;
        *n = 1;
    }
    return true;
}

static bool
fake_template_create(void *impl, const char *id, const char *name,
                     char set_uuid[SNAP_UUID_LEN], char job_id[SNAP_UUID_LEN],
                     snap_error *err)
{
    (void)name;
    if (!fake_use(impl, id, "template", set_uuid, job_id, err))
        return false;
    pthread_mutex_lock(&F.mu);
    F.templates++;
    pthread_mutex_unlock(&F.mu);
    return true;
}

static bool
fake_template_remove(void *impl, const char *id, char job_id[SNAP_UUID_LEN],
                     snap_error *err)
{
    coord_set *t = fake_template_get(impl, id, err);
    bool ok;

    if (!t)
        return false;
    pthread_mutex_lock(&F.mu);
    ok =
        fake_job("template-delete", t->domain_name, t->uuid, NULL, job_id, err);
    if (ok)
        F.template_removes++;
    pthread_mutex_unlock(&F.mu);
    coord_set_free(t);
    return ok;
}

static void
fake_audit(void *impl, const coord_event *ev)
{
    (void)impl;
    pthread_mutex_lock(&F.mu);
    F.audits++;
    snprintf(F.last_audit, sizeof(F.last_audit), "%s %s %s %s",
             ev->actor ? ev->actor : "-", ev->action, ev->kind,
             ev->domain ? ev->domain : "-");
    pthread_mutex_unlock(&F.mu);
}

static json_t *
fake_exports(void *impl, const coord_set *set)
{
    (void)impl;
    return json_pack("[{s:s,s:s}]", "kind", "glance", "set", set->uuid);
}

static void
fake_stats(void *impl, http_backend_stats *stats)
{
    (void)impl;
    stats->queued = 3;
    stats->running = 1;
}

/* vm1 is owned by project id p-1234; vm2 by the project named "backup" of
 * the domain "Default" (no id); VM3 is gone. */
static bool
fake_owner(void *impl, const char *uuid, http_owner *o, snap_error *err)
{
    (void)impl;
    pthread_mutex_lock(&F.mu);
    F.owner_lookups++;
    pthread_mutex_unlock(&F.mu);
    memset(o, 0, sizeof(*o));
    if (strcmp(uuid, VM1_UUID) == 0) {
        o->project = strdup("p-1234");
        return true;
    }
    if (strcmp(uuid, VM2_UUID) == 0) {
        o->project_name = strdup("backup");
        o->project_domain = strdup("Default");
        return true;
    }
    return snap_error_set(err, SNAP_E_NOTFOUND, "no domain '%s'", uuid);
}

static bool fake_events_read(void *impl, const coord_events_filter *f,
                             coord_events_page *page, snap_error *err);

static const http_backend_ops fake_ops = {
    .domain_lookup = fake_lookup,
    .create = fake_create,
    .list = fake_list,
    .get = fake_get,
    .remove = fake_remove,
    .export_set = fake_export,
    .restore = fake_restore,
    .spawn = fake_spawn,
    .volume = fake_volume,
    .template_create = fake_template_create,
    .template_list = fake_template_list,
    .template_get = fake_template_get,
    .template_remove = fake_template_remove,
    .audit = fake_audit,
    .exports = fake_exports,
    .stats = fake_stats,
    .domain_owner = fake_owner,
    .job_get = fake_job_get,
    .job_list = fake_job_list,
    .events_read = fake_events_read,
};

/* A fake Keystone:
 *   ks-good...    admin of p-1234 ("backup" in the domain "Default")
 *   ks-member...  member of p-1234
 *   ks-other...   member of p-9999, also named "backup", of the domain
 *                 "Elsewhere"
 *   ks-unscoped.. no project
 *   ks-slow-...   waits F.validate_sleep_ms, then as the rest of its name
 * anything else is invalid. */
static bool
fake_validate(void *impl, const char *token, http_identity *id, snap_error *err)
{
    char name[128];
    bool other, unscoped, revoked;
    int sleep_ms;

    (void)impl;
    pthread_mutex_lock(&F.mu);
    F.validations++;
    sleep_ms = F.validate_sleep_ms;
    revoked = F.revoked;
    pthread_mutex_unlock(&F.mu);
    if (strncmp(token, "ks-slow-", 8) == 0) {
        snap_sleep_ms(sleep_ms);
        /* "ks-slow-good..." reads as "ks-good..." */
        snprintf(name, sizeof(name), "ks-%s", token + 8);
        token = name;
    }
    if (F.keystone_down)
        return snap_error_set_http(err, 503,
                                   "keystone is down: "
                                   "http://keystone.internal:5000 user "
                                   "svc-snapset");
    other = strncmp(token, "ks-other", 8) == 0;
    unscoped = strncmp(token, "ks-unscoped", 11) == 0;
    if (strncmp(token, "ks-good", 7) != 0 &&
        strncmp(token, "ks-member", 9) != 0 && !other && !unscoped)
        return snap_error_set(err, SNAP_E_NOTFOUND, "token not found");
    if (revoked && strncmp(token, "ks-member", 9) == 0)
        return snap_error_set(err, SNAP_E_NOTFOUND, "token revoked");
    if (!unscoped) {
        id->project = strdup(other ? "p-9999" : "p-1234");
        id->project_name = strdup("backup");
        id->project_domain_id = strdup(other ? "d-else" : "default");
        id->project_domain_name = strdup(other ? "Elsewhere" : "Default");
    }
    id->roles = calloc(1, sizeof(*id->roles));
    id->roles[0] =
        strdup(strncmp(token, "ks-good", 7) == 0 ? "Admin" : "member");
    id->nroles = 1;
    id->expires_ms = F.token_expires_ms;
    return true;
}

static const http_auth_ops fake_auth = {.validate = fake_validate};

/* ---- fixtures ------------------------------------------------------------ */

typedef struct fixture {
    http_api *api;
    int port;
    char dir[64];
    char tokens[128];
} fixture;

static void
fake_reset(void)
{
    static const fake_spec specs[] = {
        {SET_A, "vm1", VM1_UUID, "daily", COORD_SET_AVAILABLE,
         COORD_CONSISTENCY_FILESYSTEM, 180, NULL, false, NULL, false},
        {SET_B, "vm2", VM2_UUID, "weekly", COORD_SET_ERROR,
         COORD_CONSISTENCY_NONE, -1, "guest agent refused", false, NULL, false},
        {"dddddddd-0000-4000-8000-000000000004", "vm2", VM2_UUID, NULL,
         COORD_SET_CREATING, COORD_CONSISTENCY_NONE, -1, NULL, true, NULL,
         false},
    };
    pthread_mutex_t mu = F.mu;

    memset(&F, 0, sizeof(F));
    F.mu = mu;
    memcpy(F.specs, specs, sizeof(specs));
    F.nspecs = sizeof(specs) / sizeof(specs[0]);
    F.token_expires_ms = snap_wall_ms() + 3600000;
}

static void
write_tokens(const char *path, const char *text, mode_t mode)
{
    FILE *f = fopen(path, "w");

    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    assert_int_equal(chmod(path, mode), 0);
}

static fixture *
fixture_new_with(bool keystone, int64_t cache_ms, int64_t validate_ms,
                 unsigned per_ip, int64_t request_ms)
{
    static char *roles[] = {"admin"};
    static char *projects[] = {"backup@Default", "admin"};
    fixture *fx = calloc(1, sizeof(*fx));
    http_api_opts o;
    snap_error err = {0};

    assert_non_null(fx);
    fake_reset();
    snprintf(fx->dir, sizeof(fx->dir), "/tmp/snapset-api-XXXXXX");
    assert_non_null(mkdtemp(fx->dir));
    snprintf(F.jobs_dir, sizeof(F.jobs_dir), "%s", fx->dir);
    snprintf(fx->tokens, sizeof(fx->tokens), "%s/tokens", fx->dir);
    write_tokens(fx->tokens,
                 "# token project roles\n"
                 "\n" ADMIN "  admin   admin,member\n" READER
                 "  admin   reader   # no admin role\n" OTHERPROJ
                 "  elsewhere admin\n",
                 0600);
    http_api_opts_init(&o);
    o.port = 0;
    o.max_body_bytes = 1024;
    o.threads = 4;
    o.allowed_roles = roles;
    o.nallowed_roles = 1;
    o.allowed_projects = projects;
    o.nallowed_projects = 2;
    o.backend = &fake_ops;
    if (per_ip)
        o.max_connections_per_ip = per_ip;
    if (request_ms)
        o.request_timeout_ms = request_ms;
    if (keystone) {
        o.auth = &fake_auth;
        o.token_cache_ms = cache_ms;
        o.validate_timeout_ms = validate_ms;
        o.nallowed_projects = 0; /* ownership alone decides */
    } else {
        o.tokens_file = fx->tokens;
    }
    fx->api = http_api_new(&o, &err);
    if (!fx->api)
        fail_msg("http_api_new: %s", err.msg);
    fx->port = http_api_port(fx->api);
    assert_true(fx->port > 0);
    return fx;
}

static fixture *
fixture_new(bool keystone)
{
    return fixture_new_with(keystone, 60000, 5000, 0, 0);
}

static void
fixture_free(fixture *fx)
{
    char cmd[256];

    http_api_free(fx->api);
    unlink(fx->tokens);
    snprintf(cmd, sizeof(cmd), "rm -rf '%s/jobs' '%s'/events.*", fx->dir,
             fx->dir);
    assert_int_equal(system(cmd), 0);
    rmdir(fx->dir);
    free(fx);
}

static int
setup_file(void **state)
{
    *state = fixture_new(false);
    return 0;
}

static int
setup_keystone(void **state)
{
    *state = fixture_new(true);
    return 0;
}

static int
setup_keystone_short(void **state)
{
    *state = fixture_new_with(true, 300, 1000, 64, 0);
    return 0;
}

/* Eight clients that reconnect at once: MHD counts a closed connection
 * against its address until its polling thread has cleaned it up, which
 * on a loaded machine lags behind the client; 16 per address is then too
 * few for a test that is not about the limit. */
static int
setup_hammer(void **state)
{
    *state = fixture_new_with(false, 0, 0, 256, 0);
    return 0;
}

/* Validations that give up after 3 s, a cache that outlives the test even
 * under valgrind. */
static int
setup_keystone_stall(void **state)
{
    *state = fixture_new_with(true, 60000, 3000, 64, 0);
    return 0;
}

static int
setup_limits(void **state)
{
    *state = fixture_new_with(false, 0, 0, 2, 1000);
    return 0;
}

static int
teardown(void **state)
{
    fixture_free(*state);
    return 0;
}

/* ---- the client ---------------------------------------------------------- */

typedef struct reply {
    long status;
    char *body;
    size_t len;
    char location[256];
    char allow[64];
    char ctype[128];
    bool www_auth;
    json_t *json; /* the body parsed, when it is JSON */
} reply;

static size_t
on_body(char *p, size_t size, size_t n, void *ud)
{
    reply *r = ud;
    char *grown = realloc(r->body, r->len + size * n + 1);

    if (!grown)
        return 0;
    memcpy(grown + r->len, p, size * n);
    r->body = grown;
    r->len += size * n;
    r->body[r->len] = '\0';
    return size * n;
}

static void
copy_header(char *dst, size_t size, const char *line, size_t len,
            const char *name)
{
    size_t n = strlen(name);

    if (len > n && strncasecmp(line, name, n) == 0) {
        line += n;
        len -= n;
        while (len && *line == ' ') {
            line++;
            len--;
        }
        while (len && (line[len - 1] == '\r' || line[len - 1] == '\n'))
            len--;
        snprintf(dst, size, "%.*s", (int)len, line);
    }
}

static size_t
on_header(char *p, size_t size, size_t n, void *ud)
{
    reply *r = ud;
    size_t len = size * n;

    copy_header(r->location, sizeof(r->location), p, len, "Location:");
    copy_header(r->allow, sizeof(r->allow), p, len, "Allow:");
    copy_header(r->ctype, sizeof(r->ctype), p, len, "Content-Type:");
    if (len > 17 && strncasecmp(p, "WWW-Authenticate:", 17) == 0)
        r->www_auth = true;
    return len;
}

/* Streams @left bytes of 'x' as a chunked upload. */
static size_t
on_read(char *p, size_t size, size_t n, void *ud)
{
    size_t *left = ud, k = size * n < *left ? size * n : *left;

    memset(p, 'x', k);
    *left -= k;
    return k;
}

typedef struct req {
    const char *method;
    const char *path;
    const char *token;
    const char *ctype;
    const char *body;
    size_t chunked; /* > 0: send this many bytes chunked */
} req;

/* One request on a new connection; *rc says whether it got an answer. */
static reply
try_request(int port, const req *q, CURLcode *rcp)
{
    CURL *c = curl_easy_init();
    struct curl_slist *h = NULL;
    reply r;
    char url[512], hdr[256];
    size_t left = q->chunked;
    CURLcode rc;

    memset(&r, 0, sizeof(r));
    assert_non_null(c);
    snprintf(url, sizeof(url), "http://127.0.0.1:%d%s", port, q->path);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 10L);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &r);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, &r);
    if (q->token) {
        snprintf(hdr, sizeof(hdr), "X-Auth-Token: %s", q->token);
        h = curl_slist_append(h, hdr);
    }
    if (q->ctype) {
        snprintf(hdr, sizeof(hdr), "Content-Type: %s", q->ctype);
        h = curl_slist_append(h, hdr);
    }
    h = curl_slist_append(h, "Expect:");
    if (q->chunked) {
        h = curl_slist_append(h, "Transfer-Encoding: chunked");
        curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
        curl_easy_setopt(c, CURLOPT_READFUNCTION, on_read);
        curl_easy_setopt(c, CURLOPT_READDATA, &left);
        curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, q->method);
    } else if (q->body) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, q->body);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)strlen(q->body));
        curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, q->method);
    } else if (strcmp(q->method, "HEAD") == 0) {
        curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
    } else if (strcmp(q->method, "GET") != 0) {
        curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, q->method);
    }
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    rc = curl_easy_perform(c);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r.status);
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    if (r.body)
        r.json = json_loads(r.body, 0, NULL);
    *rcp = rc;
    return r;
}

static reply
do_request(int port, const req *q)
{
    CURLcode rc;
    reply r = try_request(port, q, &rc);

    if (rc != CURLE_OK) {
        free(r.body);
        json_decref(r.json);
        fail_msg("%s %s: %s", q->method, q->path, curl_easy_strerror(rc));
    }
    return r;
}

static void
reply_release(reply *r)
{
    free(r->body);
    json_decref(r->json);
}

static reply
get(fixture *fx, const char *path, const char *token)
{
    req q = {"GET", path, token, NULL, NULL, 0};

    return do_request(fx->port, &q);
}

static reply
post(fixture *fx, const char *path, const char *body)
{
    req q = {"POST", path, ADMIN, "application/json", body, 0};

    return do_request(fx->port, &q);
}

/* The error body every error status carries. */
static void
assert_error(const reply *r, long status)
{
    json_t *e;

    if (r->status != status)
        fail_msg("expected %ld, got %ld: %s", status, r->status,
                 r->body ? r->body : "");
    assert_non_null(r->json);
    e = json_object_get(r->json, "error");
    assert_non_null(e);
    assert_int_equal(json_integer_value(json_object_get(e, "code")), status);
    assert_true(json_is_string(json_object_get(e, "message")));
    assert_string_equal(r->ctype, "application/json");
}

/* With a per-address limit, connections a test just closed count until
 * the server has seen them go, and a new one is turned away meanwhile
 * (accepted, then closed: no answer). So each request is retried while it
 * gets no answer, for at most @wait_ms; a wrong answer fails at once. */
static void
assert_serving_within(fixture *fx, int64_t wait_ms)
{
    static const req probes[] = {
        {"GET", "/healthz", NULL, NULL, NULL, 0},
        {"GET", "/v1/sets", ADMIN, NULL, NULL, 0},
    };
    int64_t until = snap_now_ms() + wait_ms;
    size_t i;

    for (i = 0; i < sizeof(probes) / sizeof(probes[0]); i++) {
        CURLcode rc;
        reply r = try_request(fx->port, &probes[i], &rc);

        while (rc != CURLE_OK && snap_now_ms() < until) {
            reply_release(&r);
            snap_sleep_ms(50);
            r = try_request(fx->port, &probes[i], &rc);
        }
        if (rc != CURLE_OK) {
            reply_release(&r);
            fail_msg("GET %s: no answer within %lld ms: %s", probes[i].path,
                     (long long)wait_ms, curl_easy_strerror(rc));
        }
        assert_int_equal(r.status, 200);
        reply_release(&r);
    }
}

static void
assert_still_serving(fixture *fx)
{
    reply r = get(fx, "/healthz", NULL);

    assert_int_equal(r.status, 200);
    reply_release(&r);
    r = get(fx, "/v1/sets", ADMIN);
    assert_int_equal(r.status, 200);
    reply_release(&r);
}

/* ---- tests: auth --------------------------------------------------------- */

static void
healthz_needs_no_token(void **state)
{
    fixture *fx = *state;
    reply r = get(fx, "/healthz", NULL);

    assert_int_equal(r.status, 200);
    assert_string_equal(json_string_value(json_object_get(r.json, "status")),
                        "ok");
    reply_release(&r);
}

static void
requests_without_a_valid_token_get_401(void **state)
{
    fixture *fx = *state;
    const char *paths[] = {"/v1/sets", "/metrics", "/v1/sets/" SET_A,
                           "/nowhere"};
    size_t i;

    for (i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
        reply r = get(fx, paths[i], NULL);

        assert_error(&r, 401);
        assert_true(r.www_auth);
        reply_release(&r);
        r = get(fx, paths[i], "not-a-token-0123456789");
        assert_error(&r, 401);
        reply_release(&r);
        r = get(fx, paths[i], ADMIN "x"); /* a longer string is no match */
        assert_error(&r, 401);
        reply_release(&r);
    }
    {
        req q = {"POST",
                 "/v1/servers/vm1/action",
                 NULL,
                 "application/json",
                 "{\"createSnapshot\":{\"name\":\"x\"}}",
                 0};
        reply r = do_request(fx->port, &q);

        assert_error(&r, 401);
        reply_release(&r);
    }
    assert_int_equal(F.creates, 0);
    assert_still_serving(fx);
}

static void
tokens_without_an_allowed_role_or_project_get_403(void **state)
{
    fixture *fx = *state;
    reply r = get(fx, "/v1/sets", READER);

    /* a reader of a project that owns nothing sees nothing, touches
     * nothing, and may not read the host's metrics */
    assert_int_equal(r.status, 200);
    assert_int_equal(json_array_size(json_object_get(r.json, "sets")), 0);
    reply_release(&r);
    r = get(fx, "/v1/sets/" SET_A, READER);
    assert_error(&r, 403);
    reply_release(&r);
    r = get(fx, "/metrics", READER);
    assert_error(&r, 403);
    reply_release(&r);
    r = get(fx, "/v1/sets", OTHERPROJ);
    assert_error(&r, 403);
    assert_non_null(strstr(r.body, "elsewhere"));
    reply_release(&r);
    assert_still_serving(fx);
}

static void
keystone_answers_are_cached_until_the_token_expires(void **state)
{
    fixture *fx = *state;
    reply r;
    int i;

    for (i = 0; i < 5; i++) {
        r = get(fx, "/v1/sets", "ks-good-token");
        assert_int_equal(r.status, 200);
        reply_release(&r);
    }
    assert_int_equal(F.validations, 1);

    /* a member token is valid (cached too) but may not see the host */
    for (i = 0; i < 3; i++) {
        r = get(fx, "/metrics", "ks-member-token");
        assert_error(&r, 403);
        reply_release(&r);
    }
    assert_int_equal(F.validations, 2);

    /* invalid tokens are asked about once, then refused from the negative
     * cache */
    for (i = 0; i < 3; i++) {
        r = get(fx, "/v1/sets", "ks-bad-token");
        assert_error(&r, 401);
        reply_release(&r);
    }
    assert_int_equal(F.validations, 3);

    /* a token that expires now is not cached as valid */
    F.token_expires_ms = snap_wall_ms() - 1;
    r = get(fx, "/v1/sets", "ks-good-expired");
    assert_error(&r, 401);
    reply_release(&r);
    r = get(fx, "/v1/sets", "ks-good-expired");
    assert_error(&r, 401);
    reply_release(&r);
    assert_int_equal(F.validations, 4);

    /* Keystone down: 503 that names nothing internal, while cached tokens
     * still work */
    F.keystone_down = true;
    r = get(fx, "/v1/sets", "ks-good-other");
    assert_error(&r, 503);
    assert_non_null(strstr(r.body, "authentication service unavailable"));
    assert_null(strstr(r.body, "keystone"));
    assert_null(strstr(r.body, "svc-snapset"));
    reply_release(&r);
    r = get(fx, "/v1/sets", "ks-good-token");
    assert_int_equal(r.status, 200);
    reply_release(&r);
    F.keystone_down = false;
}

static void
tokens_files_readable_by_others_or_malformed_are_refused(void **state)
{
    fixture *fx = *state;
    const struct {
        const char *text;
        mode_t mode;
        const char *want;
    } cases[] = {
        {ADMIN " admin admin\n", 0644, "can be read by others"},
        {ADMIN " admin admin\n", 0602, "written by its group or others"},
        {ADMIN " admin admin\n", 0660, "written by its group or others"},
        {ADMIN " admin admin\n", 0620, "written by its group or others"},
        {"short admin admin\n", 0600, ":1: a token must have"},
        {"\n\n" ADMIN "\n", 0600, ":3: expected TOKEN PROJECT"},
        {ADMIN " a b c\n", 0600, ":1: expected TOKEN PROJECT"},
        {"# nothing\n", 0600, "has no token"},
    };
    char path[160];
    size_t i;

    snprintf(path, sizeof(path), "%s/bad-tokens", fx->dir);
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        http_api_opts o;
        snap_error err = {0};
        http_api *api;

        write_tokens(path, cases[i].text, cases[i].mode);
        http_api_opts_init(&o);
        o.backend = &fake_ops;
        o.tokens_file = path;
        api = http_api_new(&o, &err);
        assert_null(api);
        if (!strstr(err.msg, cases[i].want))
            fail_msg("case %zu: '%s' lacks '%s'", i, err.msg, cases[i].want);
    }
    {
        /* a symlink to a good file, a file of another user */
        http_api_opts o;
        snap_error err = {0};
        char link[200];

        write_tokens(path, ADMIN " admin admin\n", 0600);
        snprintf(link, sizeof(link), "%s/link-tokens", fx->dir);
        assert_int_equal(symlink(path, link), 0);
        http_api_opts_init(&o);
        o.backend = &fake_ops;
        o.tokens_file = link;
        assert_null(http_api_new(&o, &err));
        assert_non_null(strstr(err.msg, "is a symlink"));
        unlink(link);
        snap_error_clear(&err);
        if (geteuid() == 0) {
            assert_int_equal(chown(path, 65534, 65534), 0);
            o.tokens_file = path;
            assert_null(http_api_new(&o, &err));
            assert_non_null(strstr(err.msg, "is owned by uid 65534"));
            snap_error_clear(&err);
            assert_int_equal(chown(path, 0, 0), 0);
        }
        /* 0640, owned by us: fine */
        assert_int_equal(chmod(path, 0640), 0);
        o.tokens_file = path;
        http_api_free(http_api_new(&o, &err));
        if (snap_error_isset(&err))
            fail_msg("%s", err.msg);
    }
    {
        http_api_opts o;
        snap_error err = {0};

        http_api_opts_init(&o);
        o.backend = &fake_ops;
        assert_null(http_api_new(&o, &err));
        assert_non_null(strstr(err.msg, "no way to check tokens"));
        snap_error_clear(&err);
        o.tokens_file = fx->tokens;
        o.address = "localhost"; /* names are not resolved */
        assert_null(http_api_new(&o, &err));
        assert_non_null(strstr(err.msg, "bad listen address"));
    }
    unlink(path);
}

/* ---- tests: authorization and validation --------------------------------- */

static size_t nsets(const reply *r);

static reply
as(fixture *fx, const char *method, const char *path, const char *token,
   const char *body)
{
    req q = {method, path, token, body ? "application/json" : NULL, body, 0};

    return do_request(fx->port, &q);
}

static long
status_as(fixture *fx, const char *method, const char *path, const char *token,
          const char *body)
{
    reply r = as(fx, method, path, token, body);
    long st = r.status;

    reply_release(&r);
    return st;
}

#define SNAP_BODY "{\"createSnapshot\":{\"name\":\"x\"}}"

/* Two gone domains' sets: E recorded its owner p-1234, G recorded none. */
static void
add_gone_sets(void)
{
    fake_spec e = {SET_E,
                   "vm3",
                   VM3_UUID,
                   NULL,
                   COORD_SET_AVAILABLE,
                   COORD_CONSISTENCY_FILESYSTEM,
                   10,
                   NULL,
                   false,
                   "p-1234",
                   false};
    fake_spec g = {SET_G,
                   "vm3",
                   VM3_UUID,
                   NULL,
                   COORD_SET_AVAILABLE,
                   COORD_CONSISTENCY_FILESYSTEM,
                   10,
                   NULL,
                   false,
                   NULL,
                   false};

    pthread_mutex_lock(&F.mu);
    F.specs[F.nspecs++] = e;
    F.specs[F.nspecs++] = g;
    pthread_mutex_unlock(&F.mu);
}

static void
owners_act_by_id_or_by_name_and_domain(void **state)
{
    fixture *fx = *state;

    /* vm1's owner is p-1234 by id, vm2's "backup" of "Default" by name */
    assert_int_equal(status_as(fx, "POST", "/v1/servers/vm1/action",
                               "ks-member-a", SNAP_BODY),
                     202);
    assert_string_equal(F.last_owner, "p-1234"); /* recorded in the set */
    assert_int_equal(status_as(fx, "POST", "/v1/servers/vm2/action",
                               "ks-member-a", SNAP_BODY),
                     202);
    assert_string_equal(F.last_owner, "backup");
    assert_int_equal(
        status_as(fx, "GET", "/v1/sets/" SET_A, "ks-member-a", NULL), 200);
    assert_int_equal(
        status_as(fx, "POST", "/v1/sets/" SET_A "/export", "ks-member-a", NULL),
        202);
    assert_int_equal(
        status_as(fx, "DELETE", "/v1/sets/" SET_B, "ks-member-a", NULL), 202);
    assert_int_equal(F.creates, 2);
}

static void
other_projects_get_403_on_every_route_naming_a_domain_or_set(void **state)
{
    fixture *fx = *state;
    reply r;
    const char *tok = "ks-other-a"; /* also "backup", but of "Elsewhere" */

    assert_int_equal(
        status_as(fx, "POST", "/v1/servers/vm1/action", tok, SNAP_BODY), 403);
    assert_int_equal(
        status_as(fx, "POST", "/v1/servers/vm2/action", tok, SNAP_BODY), 403);
    assert_int_equal(status_as(fx, "POST", "/v1/servers/" VM1_UUID "/action",
                               tok, SNAP_BODY),
                     403);
    assert_int_equal(status_as(fx, "GET", "/v1/sets/" SET_A, tok, NULL), 403);
    assert_int_equal(status_as(fx, "GET", "/v1/sets/aaaaaaaa", tok, NULL), 403);
    assert_int_equal(status_as(fx, "HEAD", "/v1/sets/" SET_A, tok, NULL), 403);
    assert_int_equal(status_as(fx, "DELETE", "/v1/sets/" SET_A, tok, NULL),
                     403);
    assert_int_equal(
        status_as(fx, "POST", "/v1/sets/" SET_A "/export", tok, NULL), 403);
    assert_int_equal(status_as(fx, "GET", "/metrics", tok, NULL), 403);
    assert_int_equal(F.creates, 0);
    assert_int_equal(F.exports, 0);
    assert_int_equal(F.nspecs, 3); /* nothing deleted */
    r = as(fx, "GET", "/v1/sets/" SET_A, tok, NULL);
    assert_error(&r, 403);
    assert_null(strstr(r.body, "vm1")); /* names nothing of the set */
    reply_release(&r);
    /* unknown things stay 404 */
    assert_int_equal(status_as(fx, "GET", "/v1/sets/abcdef01", tok, NULL), 404);
    assert_int_equal(
        status_as(fx, "POST", "/v1/servers/nosuch/action", tok, SNAP_BODY),
        404);
}

static void
list_shows_only_what_the_caller_may_see(void **state)
{
    fixture *fx = *state;
    reply r;

    add_gone_sets();
    r = as(fx, "GET", "/v1/sets", "ks-other-a", NULL);
    assert_int_equal(r.status, 200);
    assert_int_equal(nsets(&r), 0);
    reply_release(&r);
    r = as(fx, "GET", "/v1/sets", "ks-member-a", NULL);
    assert_int_equal(r.status, 200);
    assert_int_equal(nsets(&r), 4); /* A, B, D and E; not G */
    assert_null(strstr(r.body, SET_G));
    assert_non_null(strstr(r.body, SET_E));
    reply_release(&r);
    r = as(fx, "GET", "/v1/sets", "ks-good-a", NULL);
    assert_int_equal(nsets(&r), 5); /* an admin sees all */
    reply_release(&r);
    /* one owner lookup per domain in one listing: vm1, vm2, vm3 */
    F.owner_lookups = 0;
    r = as(fx, "GET", "/v1/sets", "ks-member-a", NULL);
    reply_release(&r);
    assert_int_equal(F.owner_lookups, 3);
}

/* GET /v1/servers/{domain}/sets: one VM's sets, for whoever may act on
 * the VM (Nova's ListSnapshot for one server). */
static void
a_servers_sets_are_listed_for_its_owner(void **state)
{
    fixture *fx = *state;
    reply r;

    r = as(fx, "GET", "/v1/servers/vm2/sets", "ks-member-a", NULL);
    assert_int_equal(r.status, 200);
    assert_int_equal(nsets(&r), 2);
    assert_null(strstr(r.body, SET_A)); /* vm1's */
    reply_release(&r);
    r = as(fx, "GET", "/v1/servers/" VM1_UUID "/sets", "ks-member-a", NULL);
    assert_int_equal(nsets(&r), 1);
    assert_non_null(strstr(r.body, SET_A));
    reply_release(&r);
    r = as(fx, "GET", "/v1/servers/vm2/sets?backup_type=weekly&state=error",
           "ks-member-a", NULL);
    assert_int_equal(nsets(&r), 1);
    assert_non_null(strstr(r.body, SET_B));
    reply_release(&r);
    /* another project's VM: refused, not an empty list */
    r = as(fx, "GET", "/v1/servers/vm2/sets", "ks-other-a", NULL);
    assert_error(&r, 403);
    assert_non_null(strstr(r.body, "domain 'vm2' belongs to another project"));
    reply_release(&r);
    r = as(fx, "GET", "/v1/servers/nosuch/sets", "ks-member-a", NULL);
    assert_error(&r, 404);
    reply_release(&r);
    /* the path names the domain: a domain in the query is not taken */
    r = as(fx, "GET", "/v1/servers/vm2/sets?domain=vm1", "ks-member-a", NULL);
    assert_error(&r, 400);
    assert_non_null(strstr(r.body, "unknown query parameter 'domain'"));
    reply_release(&r);
    assert_int_equal(
        status_as(fx, "POST", "/v1/servers/vm2/sets", "ks-member-a", "{}"),
        405);
    assert_int_equal(
        status_as(fx, "GET", "/v1/servers/vm2/other", "ks-member-a", NULL),
        404);
    assert_int_equal(
        status_as(fx, "GET", "/v1/servers/vm2/sets", "ks-bad", NULL), 401);
}

/* A create answers with its job; the job is shown to whoever may act on
 * the domain, and to no one else. */
static void
an_accepted_create_has_a_job_its_owner_can_follow(void **state)
{
    fixture *fx = *state;
    char url[128], id[SNAP_UUID_LEN];
    json_t *job;
    reply r =
        as(fx, "POST", "/v1/servers/vm1/action", "ks-member-a", SNAP_BODY);

    assert_int_equal(r.status, 202);
    assert_string_equal(r.location, "/v1/sets/" SET_C); /* as before */
    assert_true(
        snap_uuid_valid(json_string_value(json_object_get(r.json, "job_id"))));
    snprintf(id, sizeof(id), "%s",
             json_string_value(json_object_get(r.json, "job_id")));
    snprintf(url, sizeof(url), "/v1/jobs/%s", id);
    assert_string_equal(json_string_value(json_object_get(r.json, "job")), url);
    reply_release(&r);

    r = as(fx, "GET", url, "ks-member-a", NULL);
    assert_int_equal(r.status, 200);
    job = json_object_get(r.json, "job");
    assert_string_equal(json_string_value(json_object_get(job, "id")), id);
    assert_string_equal(json_string_value(json_object_get(job, "kind")),
                        "create");
    assert_string_equal(json_string_value(json_object_get(job, "state")),
                        "queued");
    assert_string_equal(json_string_value(json_object_get(job, "set_id")),
                        SET_C);
    assert_string_equal(json_string_value(json_object_get(job, "domain")),
                        "vm1");
    assert_true(json_integer_value(json_object_get(job, "created")) > 0);
    assert_true(json_is_null(json_object_get(job, "finished")));
    assert_true(json_is_null(json_object_get(job, "error")));
    assert_null(json_object_get(job, "owner_project")); /* not shown */
    reply_release(&r);
    /* an admin sees it, another project does not */
    assert_int_equal(status_as(fx, "GET", url, "ks-good-a", NULL), 200);
    r = as(fx, "GET", url, "ks-other-a", NULL);
    assert_error(&r, 403);
    assert_non_null(strstr(r.body, "belongs to another project"));
    reply_release(&r);

    r = as(fx, "GET", "/v1/jobs", "ks-member-a", NULL);
    assert_int_equal(r.status, 200);
    assert_int_equal(json_array_size(json_object_get(r.json, "jobs")), 1);
    reply_release(&r);
    r = as(fx, "GET", "/v1/jobs", "ks-other-a", NULL);
    assert_int_equal(json_array_size(json_object_get(r.json, "jobs")), 0);
    reply_release(&r);
    r = as(fx, "GET", "/v1/jobs?state=queued&domain=vm1&kind=create",
           "ks-member-a", NULL);
    assert_int_equal(json_array_size(json_object_get(r.json, "jobs")), 1);
    reply_release(&r);
    r = as(fx, "GET", "/v1/jobs?state=failed", "ks-member-a", NULL);
    assert_int_equal(json_array_size(json_object_get(r.json, "jobs")), 0);
    reply_release(&r);
    r = as(fx, "GET", "/v1/jobs?domain=vm2", "ks-member-a", NULL);
    assert_int_equal(json_array_size(json_object_get(r.json, "jobs")), 0);
    reply_release(&r);

    /* bad input */
    r = as(fx, "GET", "/v1/jobs?state=done", "ks-member-a", NULL);
    assert_error(&r, 400);
    assert_non_null(strstr(r.body, "bad state 'done'"));
    reply_release(&r);
    r = as(fx, "GET", "/v1/jobs?colour=red", "ks-member-a", NULL);
    assert_error(&r, 400);
    reply_release(&r);
    r = as(fx, "GET", "/v1/jobs/not-a-job", "ks-member-a", NULL);
    assert_error(&r, 400);
    reply_release(&r);
    r = as(fx, "GET", "/v1/jobs/bbbbbbbb-0000-4000-8000-000000000002",
           "ks-member-a", NULL);
    assert_error(&r, 404);
    reply_release(&r);
    assert_int_equal(status_as(fx, "GET", "/v1/jobs/x/y", "ks-member-a", NULL),
                     404);
    assert_int_equal(status_as(fx, "DELETE", url, "ks-member-a", NULL), 405);
    assert_int_equal(status_as(fx, "GET", url, "ks-bad", NULL), 401);
}

/* POST /v1/sets/{id}/spawn and /volumes: validated as a whole, authorized
 * on the set, accepted as jobs. */
static void
spawn_and_volumes_are_accepted_as_jobs(void **state)
{
    fixture *fx = *state;
    const char *url = "/v1/sets/" SET_A "/spawn";
    const char *vurl = "/v1/sets/" SET_A "/volumes";
    reply r = as(fx, "POST", url, "ks-member-a",
                 "{\"name\": \"web\", \"count\": 3, \"vcpus\": 2, "
                 "\"memory_mib\": 512, \"networks\": [\"lan0\", \"lan1\"], "
                 "\"full\": true, \"start\": false}");
    json_t *servers;
    char want[128];

    assert_int_equal(r.status, 202);
    snprintf(want, sizeof(want), "/v1/jobs/%s",
             json_string_value(json_object_get(r.json, "job_id")));
    assert_string_equal(r.location, want);
    servers = json_object_get(r.json, "servers");
    assert_int_equal(json_array_size(servers), 3);
    assert_string_equal(json_string_value(json_array_get(servers, 2)), "web-3");
    assert_int_equal(F.spawns, 1);
    assert_string_equal(F.last_spawn_name, "web");
    assert_int_equal(F.last_spawn.count, 3);
    assert_int_equal(F.last_spawn.vcpus, 2);
    assert_int_equal(F.last_spawn.memory_mib, 512);
    assert_int_equal(F.last_spawn.nnetworks, 2);
    assert_string_equal(F.last_spawn_net, "lan1");
    assert_true(F.last_spawn.full);
    assert_false(F.last_spawn.start);
    reply_release(&r);
    /* the defaults: one VM of that name, started, linked */
    r = as(fx, "POST", url, "ks-member-a", "{\"name\": \"one\"}");
    assert_int_equal(r.status, 202);
    assert_string_equal(json_string_value(json_array_get(
                            json_object_get(r.json, "servers"), 0)),
                        "one");
    assert_int_equal(F.last_spawn.count, 1);
    assert_true(F.last_spawn.start);
    assert_false(F.last_spawn.full);
    reply_release(&r);
    /* bad bodies, each with its reason; nothing accepted */
    {
        static const char *const bad[][2] = {
            {"{}", "spawn needs a name"},
            {"{\"name\": \"../x\"}", "name must be a string of 1 to 64"},
            {"{\"name\": \".x\"}", "not starting with '.'"},
            {"{\"name\": \"x\", \"count\": 0}", "count must be an integer"},
            {"{\"name\": \"x\", \"count\": 33}", "count must be an integer"},
            {"{\"name\": \"x\", \"vcpus\": \"2\"}", "vcpus must be"},
            {"{\"name\": \"x\", \"memory_mib\": 8}", "memory_mib must be"},
            {"{\"name\": \"x\", \"networks\": \"lan0\"}", "networks must be"},
            {"{\"name\": \"x\", \"networks\": []}", "networks must be"},
            {"{\"name\": \"x\", \"networks\": [7]}", "each of networks"},
            {"{\"name\": \"x\", \"full\": 1}", "full must be true or false"},
            {"{\"name\": \"x\", \"dir\": \"/etc\"}", "unknown field 'dir'"},
            {"[]", "the body must be a JSON object"},
            {"{\"name\": ", "malformed JSON"},
        };
        size_t i;

        for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
            r = as(fx, "POST", url, "ks-member-a", bad[i][0]);
            assert_error(&r, 400);
            if (!strstr(r.body, bad[i][1]))
                fail_msg("%s: %s", bad[i][0], r.body);
            reply_release(&r);
        }
    }
    assert_int_equal(F.spawns, 2);
    /* no body: 415 (not JSON); another project; not available; GET;
     * an unknown set; no token */
    assert_int_equal(status_as(fx, "POST", url, "ks-member-a", NULL), 415);
    assert_int_equal(
        status_as(fx, "POST", url, "ks-other-a", "{\"name\": \"x\"}"), 403);
    assert_int_equal(status_as(fx, "POST", "/v1/sets/" SET_B "/spawn",
                               "ks-member-a", "{\"name\": \"x\"}"),
                     409);
    assert_int_equal(status_as(fx, "GET", url, "ks-member-a", NULL), 405);
    assert_int_equal(status_as(fx, "POST",
                               "/v1/sets/00000000-0000-0000-0000-"
                               "000000000000/spawn",
                               "ks-member-a", "{\"name\": \"x\"}"),
                     404);
    assert_int_equal(status_as(fx, "POST", url, NULL, "{\"name\": \"x\"}"),
                     401);
    assert_int_equal(F.spawns, 2);

    /* volumes */
    r = as(fx, "POST", vurl, "ks-member-a",
           "{\"disk\": \"vdb\", \"name\": \"data\", \"format\": \"raw\"}");
    assert_int_equal(r.status, 202);
    assert_string_equal(json_string_value(json_object_get(r.json, "disk")),
                        "vdb");
    assert_non_null(json_object_get(r.json, "job_id"));
    assert_string_equal(F.last_volume, "vdb data raw");
    reply_release(&r);
    {
        static const char *const bad[][2] = {
            {"{}", "volumes needs the disk"},
            {"{\"disk\": \"vdb\", \"name\": \"/etc/passwd\"}", "without '/'"},
            {"{\"disk\": \"vdb\", \"format\": \"vmdk\"}", "format must be"},
            {"{\"disk\": 1}", "disk must be a string"},
            {"{\"disk\": \"vdb\", \"size\": 1}", "unknown field 'size'"},
        };
        size_t i;

        for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
            r = as(fx, "POST", vurl, "ks-member-a", bad[i][0]);
            assert_error(&r, 400);
            if (!strstr(r.body, bad[i][1]))
                fail_msg("%s: %s", bad[i][0], r.body);
            reply_release(&r);
        }
    }
    assert_int_equal(
        status_as(fx, "POST", vurl, "ks-other-a", "{\"disk\": \"vdb\"}"), 403);
    assert_int_equal(F.volumes, 1);
    /* the jobs are there for the owner */
    r = as(fx, "GET", "/v1/jobs?kind=spawn", "ks-good-a", NULL);
    assert_int_equal(json_array_size(json_object_get(r.json, "jobs")), 2);
    reply_release(&r);
}

/* Templates: made of a set as a job, listed and shown to the set's
 * project only, deleted as a job, spawned from; every call that started a
 * job is in the audit log with the token's user. */
static void
templates_are_made_listed_spawned_and_deleted(void **state)
{
    fixture *fx = *state;
    const char *url = "/v1/sets/" SET_A "/template";
    reply r;
    int audits;

    r = as(fx, "POST", url, "ks-member-a", "{\"name\": \"gold\"}");
    assert_int_equal(r.status, 202);
    assert_non_null(json_object_get(r.json, "job_id"));
    assert_int_equal(F.templates, 1);
    reply_release(&r);
    assert_int_equal(F.audits, 1);
    assert_non_null(strstr(F.last_audit, " template job vm1"));
    /* no body: a default name; bad bodies; another project; busy */
    assert_int_equal(status_as(fx, "POST", url, "ks-member-a", NULL), 202);
    r = as(fx, "POST", url, "ks-member-a", "{\"label\": \"x\"}");
    assert_error(&r, 400);
    assert_non_null(strstr(r.body, "unknown field 'label'"));
    reply_release(&r);
    assert_int_equal(status_as(fx, "POST", url, "ks-other-a", "{}"), 403);
    assert_int_equal(status_as(fx, "POST", "/v1/sets/" SET_B "/template",
                               "ks-member-a", "{}"),
                     409);
    assert_int_equal(F.templates, 2);

    F.template_made = true;
    r = as(fx, "GET", "/v1/templates", "ks-member-a", NULL);
    assert_int_equal(r.status, 200);
    assert_int_equal(json_array_size(json_object_get(r.json, "templates")), 1);
    assert_string_equal(
        json_string_value(json_object_get(
            json_array_get(json_object_get(r.json, "templates"), 0), "set_id")),
        SET_A);
    reply_release(&r);
    r = as(fx, "GET", "/v1/templates", "ks-other-a", NULL);
    assert_int_equal(json_array_size(json_object_get(r.json, "templates")), 0);
    reply_release(&r);
    assert_int_equal(
        status_as(fx, "GET", "/v1/templates/" TPL_A, "ks-member-a", NULL), 200);
    assert_int_equal(
        status_as(fx, "GET", "/v1/templates/" TPL_A, "ks-other-a", NULL), 403);
    assert_int_equal(status_as(fx, "GET",
                               "/v1/templates/00000000-0000-0000-0000-"
                               "000000000000",
                               "ks-member-a", NULL),
                     404);
    assert_int_equal(
        status_as(fx, "GET", "/v1/templates/not-an-id", "ks-member-a", NULL),
        400);
    assert_int_equal(status_as(fx, "GET", "/v1/templates", NULL, NULL), 401);
    assert_int_equal(
        status_as(fx, "PUT", "/v1/templates/" TPL_A, "ks-member-a", NULL), 405);

    /* spawn from it */
    audits = F.audits;
    r = as(fx, "POST", "/v1/templates/" TPL_A "/spawn", "ks-member-a",
           "{\"name\": \"w\", \"count\": 2}");
    assert_int_equal(r.status, 202);
    assert_string_equal(
        json_string_value(json_object_get(r.json, "template_id")), TPL_A);
    assert_string_equal(F.last_spawn_template, TPL_A);
    assert_int_equal(F.last_spawn.count, 2);
    reply_release(&r);
    assert_int_equal(F.audits, audits + 1);
    assert_int_equal(status_as(fx, "POST", "/v1/templates/" TPL_A "/spawn",
                               "ks-other-a", "{\"name\": \"w\"}"),
                     403);
    assert_int_equal(status_as(fx, "POST", "/v1/templates/" TPL_A "/spawn",
                               "ks-member-a", "{\"count\": 2}"),
                     400);

    /* delete */
    assert_int_equal(
        status_as(fx, "DELETE", "/v1/templates/" TPL_A, "ks-other-a", NULL),
        403);
    r = as(fx, "DELETE", "/v1/templates/" TPL_A, "ks-member-a", NULL);
    assert_int_equal(r.status, 202);
    assert_string_equal(json_string_value(json_object_get(r.json, "state")),
                        "deleting");
    reply_release(&r);
    assert_int_equal(F.template_removes, 1);
    assert_non_null(strstr(F.last_audit, " template-delete job vm1"));
}

/* POST /v1/sets/{id}/restore: validated, authorized on the set and its
 * domain, accepted as a job. */
static void
a_restore_is_accepted_as_a_job(void **state)
{
    fixture *fx = *state;
    const char *url = "/v1/sets/" SET_A "/restore";
    reply r = as(fx, "POST", url, "ks-member-a",
                 "{\"start\": false, \"shutdown_timeout_ms\": 5000}");
    char want[128];

    assert_int_equal(r.status, 202);
    snprintf(want, sizeof(want), "/v1/jobs/%s",
             json_string_value(json_object_get(r.json, "job_id")));
    assert_string_equal(r.location, want);
    assert_string_equal(json_string_value(json_object_get(r.json, "state")),
                        "restoring");
    assert_string_equal(json_string_value(json_object_get(r.json, "domain")),
                        "vm1");
    assert_int_equal(F.restores, 1);
    assert_int_equal(F.last_start, 0);
    assert_int_equal(F.last_shutdown_ms, 5000);
    reply_release(&r);
    /* an empty body: as before, the configuration's bound */
    r = as(fx, "POST", url, "ks-member-a", NULL);
    assert_int_equal(r.status, 202);
    assert_int_equal(F.last_start, -1);
    assert_int_equal(F.last_shutdown_ms, -1);
    reply_release(&r);
    /* bad bodies, each with its reason; nothing accepted */
    r = as(fx, "POST", url, "ks-member-a", "{\"start\": \"yes\"}");
    assert_error(&r, 400);
    assert_non_null(strstr(r.body, "start must be true or false"));
    reply_release(&r);
    r = as(fx, "POST", url, "ks-member-a", "{\"shutdown_timeout_ms\": -1}");
    assert_error(&r, 400);
    assert_non_null(strstr(r.body, "shutdown_timeout_ms must be"));
    reply_release(&r);
    r = as(fx, "POST", url, "ks-member-a", "{\"reboot\": true}");
    assert_error(&r, 400);
    assert_non_null(strstr(r.body, "unknown field 'reboot'"));
    reply_release(&r);
    r = as(fx, "POST", url, "ks-member-a", "{\"start\": ");
    assert_error(&r, 400);
    reply_release(&r);
    assert_int_equal(F.restores, 2);
    /* another project's set; a set that is not available; GET */
    assert_int_equal(status_as(fx, "POST", url, "ks-other-a", "{}"), 403);
    assert_int_equal(status_as(fx, "POST", "/v1/sets/" SET_B "/restore",
                               "ks-member-a", "{}"),
                     409);
    assert_int_equal(status_as(fx, "GET", url, "ks-member-a", NULL), 405);
    assert_int_equal(F.restores, 2);
    /* the job is there for its domain's owner */
    r = as(fx, "GET", "/v1/jobs?kind=restore", "ks-good-a", NULL);
    assert_int_equal(json_array_size(json_object_get(r.json, "jobs")), 2);
    reply_release(&r);
}

/* The RAM states of a domain: its sets with RAM state, listed, shown,
 * saved (a create with memory), deleted and applied (a restore). */
static void
ram_states_are_a_domains_sets_with_memory(void **state)
{
    fixture *fx = *state;
    fake_spec m = {SET_E,
                   "vm1",
                   VM1_UUID,
                   NULL,
                   COORD_SET_AVAILABLE,
                   COORD_CONSISTENCY_CRASH,
                   -1,
                   NULL,
                   false,
                   NULL,
                   true};
    const char *one = "/v1/servers/vm1/states/" SET_E;
    reply r;

    F.specs[F.nspecs++] = m;
    r = as(fx, "GET", "/v1/servers/vm1/states", "ks-member-a", NULL);
    assert_int_equal(r.status, 200);
    assert_int_equal(json_array_size(json_object_get(r.json, "states")), 1);
    assert_non_null(strstr(r.body, SET_E));
    assert_null(strstr(r.body, SET_A)); /* vm1's, without RAM state */
    reply_release(&r);
    r = as(fx, "GET", one, "ks-member-a", NULL);
    assert_int_equal(r.status, 200);
    assert_true(json_is_true(
        json_object_get(json_object_get(r.json, "state"), "memory")));
    reply_release(&r);
    /* not a RAM state, another domain's, another project's */
    r = as(fx, "GET", "/v1/servers/vm1/states/" SET_A, "ks-member-a", NULL);
    assert_error(&r, 404);
    assert_non_null(strstr(r.body, "has no RAM state"));
    reply_release(&r);
    assert_int_equal(status_as(fx, "GET", "/v1/servers/vm2/states/" SET_E,
                               "ks-member-a", NULL),
                     404);
    assert_int_equal(status_as(fx, "GET", one, "ks-other-a", NULL), 403);
    assert_int_equal(
        status_as(fx, "GET", "/v1/servers/vm1/states", "ks-other-a", NULL),
        403);

    /* save: a create with RAM state, paused, not quiesced */
    r = as(fx, "POST", "/v1/servers/vm1/states", "ks-member-a",
           "{\"name\": \"before upgrade\"}");
    assert_int_equal(r.status, 202);
    assert_string_equal(r.location, "/v1/servers/vm1/states/" SET_C);
    assert_non_null(json_object_get(r.json, "job_id"));
    assert_true(F.last_memory);
    assert_true(F.last_pause);
    assert_int_equal(F.last_quiesce, COORD_QUIESCE_OFF);
    assert_string_equal(F.last_name, "before upgrade");
    reply_release(&r);
    r = as(fx, "POST", "/v1/servers/vm1/states", "ks-member-a",
           "{\"label\": \"x\"}");
    assert_error(&r, 400);
    assert_non_null(strstr(r.body, "unknown field 'label'"));
    reply_release(&r);
    assert_int_equal(F.creates, 1);

    /* apply: a restore that starts the domain */
    r = as(fx, "POST", "/v1/servers/vm1/states/apply", "ks-member-a",
           "{\"uuid\": \"" SET_E "\"}");
    assert_int_equal(r.status, 202);
    assert_int_equal(F.restores, 1);
    assert_int_equal(F.last_start, 1);
    reply_release(&r);
    r = as(fx, "POST", "/v1/servers/vm1/states/apply", "ks-member-a", "{}");
    assert_error(&r, 400);
    assert_non_null(strstr(r.body, "uuid is required"));
    reply_release(&r);
    r = as(fx, "POST", "/v1/servers/vm1/states/apply", "ks-member-a",
           "{\"uuid\": \"" SET_A "\"}");
    assert_error(&r, 404); /* a set without RAM state is not applied */
    reply_release(&r);
    assert_int_equal(F.restores, 1);

    /* delete */
    r = as(fx, "DELETE", one, "ks-member-a", NULL);
    assert_int_equal(r.status, 202);
    assert_string_equal(json_string_value(json_object_get(r.json, "state")),
                        "deleting");
    reply_release(&r);
    assert_int_equal(status_as(fx, "PUT", one, "ks-member-a", "{}"), 405);
    assert_int_equal(
        status_as(fx, "GET", "/v1/servers/vm1/states/x/y", "ks-member-a", NULL),
        404);
}

static void
sets_of_gone_domains_keep_their_recorded_owner(void **state)
{
    fixture *fx = *state;

    add_gone_sets();
    assert_int_equal(
        status_as(fx, "GET", "/v1/sets/" SET_E, "ks-member-a", NULL), 200);
    assert_int_equal(
        status_as(fx, "GET", "/v1/sets/" SET_E, "ks-other-a", NULL), 403);
    /* no owner recorded and the domain gone: admins only */
    assert_int_equal(
        status_as(fx, "GET", "/v1/sets/" SET_G, "ks-member-a", NULL), 403);
    assert_int_equal(status_as(fx, "GET", "/v1/sets/" SET_G, "ks-good-a", NULL),
                     200);
}

static void
default_deny_admins_only_by_role(void **state)
{
    fixture *fx = *state;
    http_api_opts o;

    /* the default allows the role admin and nothing else */
    http_api_opts_init(&o);
    assert_int_equal(o.nallowed_roles, 1);
    assert_string_equal(o.allowed_roles[0], "admin");
    assert_int_equal(o.nallowed_projects, 0);
    /* an admin of a project that owns nothing acts everywhere ... */
    assert_int_equal(
        status_as(fx, "POST", "/v1/servers/vm1/action", "ks-good-a", SNAP_BODY),
        202);
    assert_int_equal(status_as(fx, "GET", "/metrics", "ks-good-a", NULL), 200);
    /* ... a member only on what its project owns, and an unscoped token
     * nowhere */
    assert_int_equal(status_as(fx, "GET", "/v1/sets", "ks-unscoped-a", NULL),
                     401);
    assert_int_equal(status_as(fx, "POST", "/v1/servers/vm1/action",
                               "ks-unscoped-a", SNAP_BODY),
                     401);
    assert_int_equal(F.creates, 1);
}

static void
snapset_metadata_keys_are_refused(void **state)
{
    fixture *fx = *state;
    reply r = post(fx, "/v1/servers/vm1/action",
                   "{\"createSnapshot\":{\"name\":\"x\",\"metadata\":"
                   "{\"" HTTP_OWNER_KEY_PROJECT "\":\"p-evil\"}}}");

    assert_error(&r, 400);
    reply_release(&r);
    assert_int_equal(F.creates, 0);
}

typedef struct racer {
    int port;
    const char *token;
    const char *path;
    long status;
    int64_t ms;
    int64_t done_at; /* snap_now_ms() when the answer came */
} racer;

static void *
racer_main(void *arg)
{
    racer *rc = arg;
    req q = {"GET", rc->path ? rc->path : "/v1/sets", rc->token, NULL, NULL, 0};
    int64_t t0 = snap_now_ms();
    reply r = do_request(rc->port, &q);

    rc->done_at = snap_now_ms();
    rc->ms = rc->done_at - t0;
    rc->status = r.status;
    reply_release(&r);
    return NULL;
}

static void
one_validation_per_token_however_many_ask(void **state)
{
    fixture *fx = *state;
    pthread_t t[8];
    racer rc[8];
    int i;

    F.validate_sleep_ms = 300;
    for (i = 0; i < 8; i++) {
        rc[i] = (racer){fx->port, i % 2 ? "ks-slow-bad-x" : "ks-slow-member-x",
                        NULL,     0,
                        0,        0};
        assert_int_equal(pthread_create(&t[i], NULL, racer_main, &rc[i]), 0);
    }
    for (i = 0; i < 8; i++) {
        pthread_join(t[i], NULL);
        assert_int_equal(rc[i].status, i % 2 ? 401 : 200);
    }
    assert_int_equal(F.validations, 2); /* one per token */
    /* and both answers are remembered: the bad one briefly */
    assert_int_equal(status_as(fx, "GET", "/v1/sets", "ks-slow-bad-x", NULL),
                     401);
    assert_int_equal(status_as(fx, "GET", "/v1/sets", "ks-slow-member-x", NULL),
                     200);
    assert_int_equal(F.validations, 2);
}

static void
cached_answers_expire_and_revoked_tokens_stop_working(void **state)
{
    fixture *fx = *state; /* token cache 300 ms */

    assert_int_equal(status_as(fx, "GET", "/v1/sets", "ks-member-r", NULL),
                     200);
    assert_int_equal(status_as(fx, "GET", "/v1/sets", "ks-member-r", NULL),
                     200);
    assert_int_equal(F.validations, 1);
    F.revoked = true;
    snap_sleep_ms(400);
    assert_int_equal(status_as(fx, "GET", "/v1/sets", "ks-member-r", NULL),
                     401);
    assert_int_equal(F.validations, 2);
    /* the default cap is 60 s (it was 5 min) */
    {
        http_api_opts o;

        http_api_opts_init(&o);
        assert_true(o.token_cache_ms == 60000);
    }
}

static void
healthz_and_cached_tokens_answer_while_keystone_stalls(void **state)
{
    fixture *fx = *state; /* validations wait 3 s at most */
    pthread_t t[20];
    racer rc[20];
    char tokens[20][32];
    int64_t answered, first, until;
    long status[2];
    int validations, busy = 4; /* every validator of the pool stuck */
    reply r;
    int i;

    assert_int_equal(status_as(fx, "GET", "/v1/sets", "ks-good-cached", NULL),
                     200);
    pthread_mutex_lock(&F.mu);
    F.validate_sleep_ms = 6000;
    validations = F.validations;
    pthread_mutex_unlock(&F.mu);
    for (i = 0; i < 20; i++) {
        snprintf(tokens[i], sizeof(tokens[i]), "ks-slow-bogus-%02d", i);
        rc[i] = (racer){fx->port, tokens[i], NULL, 0, 0, 0};
        assert_int_equal(pthread_create(&t[i], NULL, racer_main, &rc[i]), 0);
    }
    until = snap_now_ms() + 10000;
    for (;;) { /* until Keystone has all the validators */
        pthread_mutex_lock(&F.mu);
        i = F.validations - validations;
        pthread_mutex_unlock(&F.mu);
        if (i >= busy)
            break;
        if (snap_now_ms() > until)
            fail_msg("only %d of %d validators called Keystone", i, busy);
        snap_sleep_ms(10);
    }
    r = get(fx, "/healthz", NULL);
    status[0] = r.status;
    reply_release(&r);
    r = get(fx, "/v1/sets", "ks-good-cached");
    status[1] = r.status;
    reply_release(&r);
    answered = snap_now_ms();
    first = INT64_MAX;
    for (i = 0; i < 20; i++) {
        pthread_join(t[i], NULL);
        assert_int_equal(rc[i].status, 503); /* the deadline, not a hang */
        assert_true(rc[i].ms < 4500);
        if (rc[i].done_at < first)
            first = rc[i].done_at;
    }
    assert_int_equal(status[0], 200);
    assert_int_equal(status[1], 200);
    /* Not a time bound (valgrind on a loaded machine makes any bound
     * arbitrary) but an order: had either waited behind the stalled
     * validations, it would have been answered after one of them gave up. */
    if (answered >= first)
        fail_msg("healthz and a cached token were answered %lld ms after "
                 "the first stalled validation gave up",
                 (long long)(answered - first));
}

static int
connect_to(int port)
{
    struct sockaddr_in a;
    int fd = socket(AF_INET, SOCK_STREAM, 0);

    assert_true(fd >= 0);
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    return fd;
}

/* True when the server has closed @fd (within @ms). */
static bool
closed_within(int fd, int ms)
{
    struct pollfd p = {fd, POLLIN, 0};
    char buf[256];

    if (poll(&p, 1, ms) <= 0)
        return false;
    return recv(fd, buf, sizeof(buf), MSG_DONTWAIT) <= 0;
}

static void
slow_clients_are_cut_at_the_request_deadline(void **state)
{
    fixture *fx = *state; /* request deadline 1 s, 2 per address */
    static const char line[] = "GET /v1/sets HTTP/1.1\r\nHost: x\r\n";
    int64_t t0 = snap_now_ms();
    size_t i;
    int fd = connect_to(fx->port);
    bool cut = false;

    /* one byte every 200 ms: never idle, never done */
    for (i = 0; i < sizeof(line) - 1 && !cut; i++) {
        if (send(fd, &line[i], 1, MSG_NOSIGNAL) != 1)
            cut = true;
        else
            cut = closed_within(fd, 200);
    }
    assert_true(cut);
    if (snap_now_ms() - t0 > 2500)
        fail_msg("cut after %lld ms", (long long)(snap_now_ms() - t0));
    close(fd);
    assert_serving_within(fx, 5000);
}

static void
one_address_gets_a_bounded_number_of_connections(void **state)
{
    fixture *fx = *state; /* 2 per address */
    int a = connect_to(fx->port), b = connect_to(fx->port), c;

    snap_sleep_ms(100);
    c = connect_to(fx->port); /* accepted by the kernel, closed by MHD */
    assert_true(closed_within(c, 1000));
    assert_false(closed_within(a, 100));
    close(a);
    close(b);
    close(c);
    assert_serving_within(fx, 5000);
}

/* ---- tests: create ------------------------------------------------------- */

static void
create_backup_answers_202_with_a_location(void **state)
{
    fixture *fx = *state;
    reply r = post(fx, "/v1/servers/vm1/action",
                   "{\"createBackup\": {\"name\": \"nightly 1\", "
                   "\"backup_type\": \"daily\", \"rotation\": 7, "
                   "\"metadata\": {}}}");

    assert_int_equal(r.status, 202);
    assert_string_equal(r.location, "/v1/sets/" SET_C);
    assert_string_equal(json_string_value(json_object_get(r.json, "set_id")),
                        SET_C);
    assert_string_equal(json_string_value(json_object_get(r.json, "domain")),
                        "vm1");
    assert_int_equal(F.creates, 1);
    assert_string_equal(F.last_name, "nightly 1");
    assert_string_equal(F.last_backup_type, "daily");
    assert_int_equal(F.last_rotation, 7);
    assert_int_equal(F.last_quiesce, COORD_QUIESCE_PREFERRED);
    assert_false(F.last_pause);
    reply_release(&r);

    /* by UUID, with the snapset extensions */
    r = post(fx, "/v1/servers/" VM2_UUID "/action",
             "{\"createBackup\": {\"name\": \"w\", \"backup_type\": "
             "\"weekly\", \"rotation\": 1, \"quiesce\": \"required\", "
             "\"pause\": true}}");
    assert_int_equal(r.status, 202);
    assert_int_equal(F.last_quiesce, COORD_QUIESCE_REQUIRED);
    assert_true(F.last_pause);
    assert_int_equal(F.last_rotation, 1);
    reply_release(&r);
}

static void
create_snapshot_has_no_rotation(void **state)
{
    fixture *fx = *state;
    reply r = post(fx, "/v1/servers/vm2/action",
                   "{\"createSnapshot\": {\"name\": \"before upgrade\"}}");

    assert_int_equal(r.status, 202);
    assert_string_equal(F.last_backup_type, "");
    assert_int_equal(F.last_rotation, 0);
    reply_release(&r);
    r = post(fx, "/v1/servers/vm2/action",
             "{\"createSnapshot\": {\"name\": \"x\", \"rotation\": 2}}");
    assert_error(&r, 400);
    assert_non_null(strstr(r.body, "unknown field 'rotation'"));
    reply_release(&r);
}

static void
bad_bodies_get_400(void **state)
{
    fixture *fx = *state;
    const struct {
        const char *body;
        const char *want;
    } cases[] = {
        {"", "malformed JSON"},
        {"{", "malformed JSON"},
        {"{\"createBackup\": {\"name\": \"a\",}}", "malformed JSON"},
        {"[1, 2]", "must be a JSON object"},
        {"\"createBackup\"", "malformed JSON"},
        {"{}", "exactly one action"},
        {"{\"createBackup\": {}, \"createSnapshot\": {}}", "exactly one"},
        {"{\"reboot\": {}}", "unknown action 'reboot'"},
        {"{\"createBackup\": 7}", "createBackup must be an object"},
        {"{\"createBackup\": {\"backup_type\": \"d\", \"rotation\": 1}}",
         "name is required"},
        {"{\"createBackup\": {\"name\": 5, \"backup_type\": \"d\", "
         "\"rotation\": 1}}",
         "name must be a string"},
        {"{\"createBackup\": {\"name\": \"\", \"backup_type\": \"d\", "
         "\"rotation\": 1}}",
         "name must be a string"},
        {"{\"createBackup\": {\"name\": \"a\\nb\", \"backup_type\": \"d\", "
         "\"rotation\": 1}}",
         "printable"},
        {"{\"createBackup\": {\"name\": \"a\", \"rotation\": 1}}",
         "backup_type is required"},
        {"{\"createBackup\": {\"name\": \"a\", \"backup_type\": 3, "
         "\"rotation\": 1}}",
         "backup_type must be"},
        {"{\"createBackup\": {\"name\": \"a\", \"backup_type\": \"../x\", "
         "\"rotation\": 1}}",
         "backup_type must be"},
        {"{\"createBackup\": {\"name\": \"a\", \"backup_type\": \"d\"}}",
         "rotation is required"},
        {"{\"createBackup\": {\"name\": \"a\", \"backup_type\": \"d\", "
         "\"rotation\": 0}}",
         "rotation must be between 1"},
        {"{\"createBackup\": {\"name\": \"a\", \"backup_type\": \"d\", "
         "\"rotation\": -3}}",
         "rotation must be between 1"},
        {"{\"createBackup\": {\"name\": \"a\", \"backup_type\": \"d\", "
         "\"rotation\": 100001}}",
         "rotation must be between 1"},
        {"{\"createBackup\": {\"name\": \"a\", \"backup_type\": \"d\", "
         "\"rotation\": \"2\"}}",
         "rotation must be an integer"},
        {"{\"createBackup\": {\"name\": \"a\", \"backup_type\": \"d\", "
         "\"rotation\": 2.0}}",
         "rotation must be an integer"},
        {"{\"createBackup\": {\"name\": \"a\", \"backup_type\": \"d\", "
         "\"rotation\": true}}",
         "rotation must be an integer"},
        {"{\"createBackup\": {\"name\": \"a\", \"backup_type\": \"d\", "
         "\"rotation\": 1, \"colour\": \"red\"}}",
         "unknown field 'colour'"},
        {"{\"createBackup\": {\"name\": \"a\", \"backup_type\": \"d\", "
         "\"rotation\": 1, \"quiesce\": \"maybe\"}}",
         "quiesce must be"},
        {"{\"createBackup\": {\"name\": \"a\", \"backup_type\": \"d\", "
         "\"rotation\": 1, \"pause\": \"yes\"}}",
         "pause must be true or false"},
        {"{\"createBackup\": {\"name\": \"a\", \"backup_type\": \"d\", "
         "\"rotation\": 1, \"metadata\": []}}",
         "metadata must be an object"},
        {"{\"createBackup\": {\"name\": \"a\", \"backup_type\": \"d\", "
         "\"rotation\": 1, \"metadata\": {\"k\": 1}}}",
         "metadata must map keys to strings"},
        {"{\"createBackup\": {\"name\": \"a\", \"name\": \"b\", "
         "\"backup_type\": \"d\", \"rotation\": 1}}",
         "malformed JSON"}, /* duplicate key */
        {"{\"createSnapshot\": {\"name\": \"a\\u0000b\"}}", "malformed JSON"},
        {"{\"createSnapshot\": {\"name\": \"a\", \"backup_type\": \"d\"}}",
         "unknown field 'backup_type'"},
    };
    size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        reply r = post(fx, "/v1/servers/vm1/action", cases[i].body);

        if (r.status != 400 || !strstr(r.body, cases[i].want))
            fail_msg("case %zu (%s): %ld %s", i, cases[i].body, r.status,
                     r.body ? r.body : "");
        assert_error(&r, 400);
        reply_release(&r);
    }
    assert_int_equal(F.creates, 0);
    assert_still_serving(fx);
}

static void
metadata_is_passed_on_and_checked(void **state)
{
    fixture *fx = *state;
    reply r = post(fx, "/v1/servers/vm1/action",
                   "{\"createBackup\": {\"name\": \"a\", \"backup_type\": "
                   "\"d\", \"rotation\": 1, \"metadata\": {\"k\": \"v\", "
                   "\"ticket\": \"OPS-1\"}}}");

    assert_int_equal(r.status, 202);
    assert_int_equal(F.creates, 1);
    assert_int_equal(F.last_nmetadata, 2);
    assert_string_equal(F.last_metadata_k, "v");
    reply_release(&r);
    r = post(fx, "/v1/servers/vm1/action",
             "{\"createSnapshot\": {\"metadata\": {\"k\": 1}}}");
    assert_error(&r, 400);
    reply_release(&r);
    r = post(fx, "/v1/servers/vm1/action",
             "{\"createSnapshot\": {\"metadata\": {\"\": \"v\"}}}");
    assert_error(&r, 400);
    reply_release(&r);
    r = post(fx, "/v1/servers/vm1/action",
             "{\"createSnapshot\": {\"metadata\": [\"k\"]}}");
    assert_error(&r, 400);
    reply_release(&r);
    assert_int_equal(F.creates, 1);
}

static void
unknown_domains_sets_and_routes_get_404(void **state)
{
    fixture *fx = *state;
    const char *paths[] = {
        "/v1/sets/eeeeeeee",          "/nowhere",  "/v1",
        "/v1/sets/" SET_A "/members", "/v1//sets", "/v1/sets/"};
    size_t i;
    reply r;

    r = post(fx, "/v1/servers/nosuchvm/action",
             "{\"createSnapshot\": {\"name\": \"a\"}}");
    assert_error(&r, 404);
    assert_non_null(strstr(r.body, "no domain 'nosuchvm'"));
    reply_release(&r);
    for (i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
        r = get(fx, paths[i], ADMIN);
        if (r.status != 404)
            fail_msg("%s: %ld", paths[i], r.status);
        assert_error(&r, 404);
        reply_release(&r);
    }
    {
        req q = {"DELETE", "/v1/sets/eeeeeeee-0000-4000-8000-000000000009",
                 ADMIN,    NULL,
                 NULL,     0};

        r = do_request(fx->port, &q);
        assert_error(&r, 404);
        reply_release(&r);
    }
    r = post(fx, "/v1/sets/eeeeeeee/export", "{}");
    assert_error(&r, 404);
    reply_release(&r);
    assert_still_serving(fx);
}

static void
bad_set_ids_get_400(void **state)
{
    fixture *fx = *state;
    const char *paths[] = {"/v1/sets/abc", "/v1/sets/..%2F..%2Fetc",
                           "/v1/sets/zzzzzzzzzz",
                           "/v1/sets/aaaaaaaa-0000-4000-8000-0000000000011"};
    size_t i;

    for (i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
        reply r = get(fx, paths[i], ADMIN);

        if (r.status != 400 && r.status != 404)
            fail_msg("%s: %ld", paths[i], r.status);
        assert_error(&r, r.status);
        reply_release(&r);
    }
    {
        reply r = get(fx, "/v1/sets/abc", ADMIN);

        assert_error(&r, 400);
        reply_release(&r);
    }
}

static void
a_busy_domain_gets_409(void **state)
{
    fixture *fx = *state;
    req del = {"DELETE", "/v1/sets/" SET_A, ADMIN, NULL, NULL, 0};
    reply r;

    snprintf(F.busy_domain, sizeof(F.busy_domain), "vm1");
    r = post(fx, "/v1/servers/vm1/action",
             "{\"createBackup\": {\"name\": \"a\", \"backup_type\": \"d\", "
             "\"rotation\": 2}}");
    assert_error(&r, 409);
    assert_non_null(strstr(r.body, "already has a snapset operation"));
    reply_release(&r);
    r = do_request(fx->port, &del);
    assert_error(&r, 409);
    reply_release(&r);
    /* the other domain is free */
    r = post(fx, "/v1/servers/vm2/action",
             "{\"createSnapshot\": {\"name\": \"a\"}}");
    assert_int_equal(r.status, 202);
    reply_release(&r);
    assert_still_serving(fx);
}

static void
backend_errors_map_to_their_status(void **state)
{
    fixture *fx = *state;
    const struct {
        snap_code code;
        long http;
        long want;
    } cases[] = {
        {SNAP_E_HTTP, 503, 503}, {SNAP_E_TIMEOUT, 0, 504},
        {SNAP_E_STATE, 0, 409},  {SNAP_E_SYSTEM, 0, 500},
        {SNAP_E_NOMEM, 0, 500},  {SNAP_E_INVALID, 0, 400},
    };
    size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        reply r;

        if (cases[i].code == SNAP_E_HTTP)
            snap_error_set_http(&F.next_error, cases[i].http,
                                "backend says no");
        else
            snap_error_set(&F.next_error, cases[i].code, "backend says no");
        r = post(fx, "/v1/servers/vm1/action",
                 "{\"createSnapshot\": {\"name\": \"a\"}}");
        assert_error(&r, cases[i].want);
        assert_non_null(strstr(r.body, "backend says no"));
        reply_release(&r);
    }
    assert_still_serving(fx);
}

/* ---- tests: transport ---------------------------------------------------- */

static void
oversized_bodies_get_413(void **state)
{
    fixture *fx = *state;
    char *big = malloc(4096);
    req q = {"POST", "/v1/servers/vm1/action", ADMIN, "application/json", NULL,
             0};
    reply r;

    assert_non_null(big);
    memset(big, ' ', 4095);
    big[0] = '{';
    big[4093] = '}';
    big[4094] = '\0';
    q.body = big;
    r = do_request(fx->port, &q); /* Content-Length: refused at once */
    assert_error(&r, 413);
    reply_release(&r);
    q.body = NULL;
    q.chunked = 64 * 1024; /* no Content-Length: refused after reading */
    r = do_request(fx->port, &q);
    assert_error(&r, 413);
    reply_release(&r);
    q.chunked = 100; /* chunked and small: read, then 400 (not JSON) */
    r = do_request(fx->port, &q);
    assert_error(&r, 400);
    reply_release(&r);
    free(big);
    assert_int_equal(F.creates, 0);
    assert_still_serving(fx);
}

static void
wrong_content_types_get_415(void **state)
{
    fixture *fx = *state;
    const char *types[] = {"text/plain", "application/x-www-form-urlencoded",
                           "application/jsonp", NULL};
    size_t i;

    for (i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
        req q = {"POST",
                 "/v1/servers/vm1/action",
                 ADMIN,
                 types[i],
                 "{\"createSnapshot\": {\"name\": \"a\"}}",
                 0};
        reply r = do_request(fx->port, &q);

        if (!types[i]) {
            /* libcurl sends form-urlencoded when told nothing */
            assert_int_equal(r.status, 415);
        }
        assert_error(&r, 415);
        reply_release(&r);
    }
    {
        req q = {"POST",
                 "/v1/servers/vm1/action",
                 ADMIN,
                 "Application/JSON; charset=utf-8",
                 "{\"createSnapshot\": {\"name\": \"a\"}}",
                 0};
        reply r = do_request(fx->port, &q);

        assert_int_equal(r.status, 202);
        reply_release(&r);
    }
    assert_int_equal(F.creates, 1);
    assert_still_serving(fx);
}

static void
wrong_methods_get_405_with_allow(void **state)
{
    fixture *fx = *state;
    const struct {
        const char *method;
        const char *path;
        const char *allow;
    } cases[] = {
        {"DELETE", "/v1/sets", "GET, HEAD"},
        {"PUT", "/v1/sets/" SET_A, "GET, HEAD, DELETE"},
        {"GET", "/v1/servers/vm1/action", "POST"},
        {"DELETE", "/metrics", "GET, HEAD"},
        {"PATCH", "/v1/sets/" SET_A "/export", "POST"},
    };
    size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        req q = {cases[i].method, cases[i].path, ADMIN, NULL, NULL, 0};
        reply r = do_request(fx->port, &q);

        assert_error(&r, 405);
        assert_string_equal(r.allow, cases[i].allow);
        reply_release(&r);
    }
    {
        req q = {"HEAD", "/v1/sets", ADMIN, NULL, NULL, 0};
        reply r = do_request(fx->port, &q);

        assert_int_equal(r.status, 200);
        reply_release(&r);
    }
    assert_still_serving(fx);
}

/* ---- tests: sets --------------------------------------------------------- */

static size_t
nsets(const reply *r)
{
    return json_array_size(json_object_get(r->json, "sets"));
}

static void
list_filters_by_domain_backup_type_and_state(void **state)
{
    fixture *fx = *state;
    reply r = get(fx, "/v1/sets", ADMIN);

    assert_int_equal(r.status, 200);
    assert_int_equal(nsets(&r), 3);
    reply_release(&r);
    r = get(fx, "/v1/sets?domain=vm2", ADMIN);
    assert_int_equal(nsets(&r), 2);
    reply_release(&r);
    r = get(fx, "/v1/sets?domain=" VM1_UUID, ADMIN);
    assert_int_equal(nsets(&r), 1);
    reply_release(&r);
    r = get(fx, "/v1/sets?domain=vm2&backup_type=weekly", ADMIN);
    assert_int_equal(nsets(&r), 1);
    reply_release(&r);
    r = get(fx, "/v1/sets?state=available", ADMIN);
    assert_int_equal(nsets(&r), 1);
    assert_string_equal(
        json_string_value(json_object_get(
            json_array_get(json_object_get(r.json, "sets"), 0), "id")),
        SET_A);
    reply_release(&r);
    r = get(fx, "/v1/sets?domain=nosuch", ADMIN);
    assert_int_equal(r.status, 200);
    assert_int_equal(nsets(&r), 0);
    reply_release(&r);
    r = get(fx, "/v1/sets?state=broken", ADMIN);
    assert_error(&r, 400);
    reply_release(&r);
    r = get(fx, "/v1/sets?colour=red", ADMIN);
    assert_error(&r, 400);
    assert_non_null(strstr(r.body, "unknown query parameter 'colour'"));
    reply_release(&r);
}

static void
get_shows_state_members_windows_and_error(void **state)
{
    fixture *fx = *state;
    reply r = get(fx, "/v1/sets/" SET_A, ADMIN);
    json_t *s, *m;

    assert_int_equal(r.status, 200);
    s = json_object_get(r.json, "set");
    assert_string_equal(json_string_value(json_object_get(s, "id")), SET_A);
    assert_string_equal(json_string_value(json_object_get(s, "state")),
                        "available");
    assert_string_equal(json_string_value(json_object_get(s, "consistency")),
                        "filesystem");
    assert_int_equal(json_integer_value(json_object_get(s, "freeze_window_ms")),
                     180);
    assert_true(json_is_null(json_object_get(s, "pause_window_ms")));
    assert_string_equal(json_string_value(json_object_get(
                            json_object_get(s, "domain"), "name")),
                        "vm1");
    m = json_array_get(json_object_get(s, "members"), 0);
    assert_string_equal(json_string_value(json_object_get(m, "target")), "vda");
    assert_null(json_object_get(s, "journal")); /* internal */
    reply_release(&r);

    /* by prefix, upper case */
    r = get(fx, "/v1/sets/BBBBBBBB", ADMIN);
    assert_int_equal(r.status, 200);
    s = json_object_get(r.json, "set");
    assert_string_equal(json_string_value(json_object_get(s, "state")),
                        "error");
    assert_string_equal(json_string_value(json_object_get(s, "error")),
                        "guest agent refused");
    reply_release(&r);
}

static void
delete_answers_202(void **state)
{
    fixture *fx = *state;
    req q = {"DELETE", "/v1/sets/" SET_A, ADMIN, NULL, NULL, 0};
    reply r = do_request(fx->port, &q);

    assert_int_equal(r.status, 202);
    assert_string_equal(json_string_value(json_object_get(r.json, "set_id")),
                        SET_A);
    reply_release(&r);
    r = get(fx, "/v1/sets/" SET_A, ADMIN);
    assert_error(&r, 404);
    reply_release(&r);
}

static void
export_is_accepted_and_validated(void **state)
{
    fixture *fx = *state;
    reply r;
    size_t i;
    static const char *const bad[] = {
        "[]",
        "{\"name\": 5}",
        "{\"name\": \"\"}",
        "{\"disk_format\": \"raw\"}",
        "{\"colour\": \"red\"}",
        "{nope",
    };

    r = post(fx, "/v1/sets/" SET_A "/export",
             "{\"name\": \"vm1 nightly\", \"disk_format\": \"qcow2\"}");
    assert_int_equal(r.status, 202);
    assert_string_equal(json_string_value(json_object_get(r.json, "set_id")),
                        SET_A);
    assert_string_equal(json_string_value(json_object_get(r.json, "location")),
                        "/v1/sets/" SET_A);
    assert_int_equal(F.exports, 1);
    assert_string_equal(F.last_export_name, "vm1 nightly");
    assert_string_equal(F.last_disk_format, "qcow2");
    reply_release(&r);

    { /* no body at all: defaults */
        req q = {"POST", "/v1/sets/" SET_A "/export", ADMIN, NULL, NULL, 0};

        r = do_request(fx->port, &q);
        assert_int_equal(r.status, 202);
        assert_int_equal(F.exports, 2);
        assert_string_equal(F.last_export_name, "");
        reply_release(&r);
    }
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        r = post(fx, "/v1/sets/" SET_A "/export", bad[i]);
        if (r.status != 400)
            fail_msg("%s: %ld", bad[i], r.status);
        assert_error(&r, 400);
        reply_release(&r);
    }
    {
        req q = {"POST", "/v1/sets/" SET_A "/export", ADMIN, "text/plain", "{}",
                 0};

        r = do_request(fx->port, &q);
        assert_error(&r, 415);
        reply_release(&r);
    }
    assert_int_equal(F.exports, 2);
    /* the failed set cannot be exported */
    r = post(fx, "/v1/sets/" SET_B "/export", "{}");
    assert_error(&r, 409);
    reply_release(&r);
    /* GET shows what the backend recorded */
    r = get(fx, "/v1/sets/" SET_A, ADMIN);
    assert_int_equal(r.status, 200);
    assert_true(json_is_array(
        json_object_get(json_object_get(r.json, "set"), "exports")));
    reply_release(&r);
    assert_still_serving(fx);
}

static void
delete_with_exports_is_passed_on(void **state)
{
    fixture *fx = *state;
    req q = {
        "DELETE", "/v1/sets/" SET_A "?with_exports=true", ADMIN, NULL, NULL, 0};
    req b = {"DELETE", "/v1/sets/" SET_A "?with_exports=maybe",
             ADMIN,    NULL,
             NULL,     0};
    reply r = do_request(fx->port, &b);

    assert_error(&r, 400);
    reply_release(&r);
    r = do_request(fx->port, &q);
    assert_int_equal(r.status, 202);
    assert_true(F.last_with_exports);
    reply_release(&r);
}

/* ---- tests: metrics ------------------------------------------------------ */

static void
metrics_count_requests_sets_windows_and_frozen_guests(void **state)
{
    fixture *fx = *state;
    coord_set *s = coord_set_new(NULL);
    reply r;

    assert_non_null(s);
    s->state = COORD_SET_AVAILABLE;
    s->consistency = COORD_CONSISTENCY_FILESYSTEM;
    s->freeze_ms = 180;
    s->pause_ms = 40;
    http_api_observe_set(fx->api, s);
    s->state = COORD_SET_ERROR;
    s->consistency = COORD_CONSISTENCY_NONE;
    s->freeze_ms = -1;
    s->pause_ms = -1;
    http_api_observe_set(fx->api, s);
    coord_set_free(s);
    http_api_observe_delete(fx->api, true);
    r = get(fx, "/metrics", ADMIN); /* no verify yet: no last result */
    assert_int_equal(r.status, 200);
    assert_non_null(
        strstr(r.body, "snapset_verify_runs_total{result=\"ok\"} 0\n"));
    assert_null(strstr(r.body, "snapset_verify_last_sets"));
    reply_release(&r);
    http_api_observe_verify(fx->api, 1700000000000, 3, 0);
    http_api_observe_verify(fx->api, 1700000060000, 4, 2);

    r = get(fx, "/v1/sets", NULL); /* a 401 to count */
    reply_release(&r);
    r = get(fx, "/metrics", ADMIN);
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.ctype, "text/plain"));
    assert_null(r.json);
    assert_non_null(
        strstr(r.body, "snapset_http_requests_total{code=\"401\"} 1\n"));
    assert_non_null(strstr(r.body,
                           "snapset_sets_made_total{result=\"available\","
                           "consistency=\"filesystem\"} 1\n"));
    assert_non_null(strstr(r.body, "snapset_sets_made_total{result=\"error\","
                                   "consistency=\"none\"} 1\n"));
    assert_non_null(
        strstr(r.body, "snapset_freeze_window_seconds_bucket{le=\"0.1\"} 0\n"));
    assert_non_null(strstr(
        r.body, "snapset_freeze_window_seconds_bucket{le=\"0.25\"} 1\n"));
    assert_non_null(strstr(r.body, "snapset_freeze_window_seconds_count 1\n"));
    assert_non_null(
        strstr(r.body, "snapset_pause_window_seconds_bucket{le=\"0.05\"} 1\n"));
    assert_non_null(strstr(r.body, "snapset_guests_frozen 1\n"));
    assert_non_null(strstr(r.body, "snapset_sets{state=\"creating\"} 1\n"));
    assert_non_null(
        strstr(r.body, "snapset_set_deletions_total{result=\"ok\"} 1\n"));
    assert_non_null(strstr(r.body, "snapset_jobs{state=\"queued\"} 3\n"));
    /* The last verify's result, and both runs counted. */
    assert_non_null(
        strstr(r.body, "snapset_verify_runs_total{result=\"ok\"} 1\n"));
    assert_non_null(
        strstr(r.body, "snapset_verify_runs_total{result=\"broken\"} 1\n"));
    assert_non_null(strstr(
        r.body, "snapset_verify_last_timestamp_seconds 1700000060.000\n"));
    assert_non_null(
        strstr(r.body, "snapset_verify_last_sets{result=\"checked\"} 4\n"));
    assert_non_null(
        strstr(r.body, "snapset_verify_last_sets{result=\"broken\"} 2\n"));
    assert_non_null(
        strstr(r.body, "# TYPE snapset_freeze_window_seconds histogram\n"));
    reply_release(&r);
}

/* ---- tests: load and bad input together ---------------------------------- */

typedef struct hammer {
    int port;
    int id;
    int failures;
} hammer;

static void *
hammer_main(void *arg)
{
    hammer *h = arg;
    static const struct {
        req q;
        long want;
    } mix[] = {
        {{"GET", "/v1/sets", ADMIN, NULL, NULL, 0}, 200},
        {{"GET", "/v1/sets", NULL, NULL, NULL, 0}, 401},
        {{"POST", "/v1/servers/vm1/action", ADMIN, "application/json", "{", 0},
         400},
        {{"POST", "/v1/servers/vm1/action", ADMIN, "text/plain", "{}", 0}, 415},
        {{"POST", "/v1/servers/nosuch/action", ADMIN, "application/json",
          "{\"createSnapshot\": {\"name\": \"a\"}}", 0},
         404},
        {{"GET", "/metrics", ADMIN, NULL, NULL, 0}, 200},
        {{"GET", "/healthz", NULL, NULL, NULL, 0}, 200},
        {{"POST", "/v1/servers/vm1/action", ADMIN, "application/json", NULL,
          8192},
         413},
    };
    int i;

    for (i = 0; i < 40; i++) {
        size_t k = (size_t)(i + h->id) % (sizeof(mix) / sizeof(mix[0]));
        reply r = do_request(h->port, &mix[k].q);

        if (r.status != mix[k].want)
            h->failures++;
        reply_release(&r);
    }
    return NULL;
}

static void
concurrent_good_and_bad_requests_are_all_answered(void **state)
{
    fixture *fx = *state;
    pthread_t t[8];
    hammer h[8];
    int i, failures = 0;

    for (i = 0; i < 8; i++) {
        h[i].port = fx->port;
        h[i].id = i;
        h[i].failures = 0;
        assert_int_equal(pthread_create(&t[i], NULL, hammer_main, &h[i]), 0);
    }
    for (i = 0; i < 8; i++) {
        pthread_join(t[i], NULL);
        failures += h[i].failures;
    }
    assert_int_equal(failures, 0);
    assert_still_serving(fx);
}

/* ---- tests: the audit log ------------------------------------------------ */

/* The audit log of the fixture's directory, as serve reads the catalog's. */
static bool
fake_events_read(void *impl, const coord_events_filter *f,
                 coord_events_page *page, snap_error *err)
{
    (void)impl;
    return coord_events_read(F.jobs_dir, f, page, err);
}

static void
emit_event(coord_events *log, int64_t t, const char *kind, const char *id,
           const char *domain, const char *owner)
{
    coord_event ev = {0};
    snap_error err = {0};

    ev.time_ms = t;
    ev.actor = "u-1@p-1234";
    ev.action = "create";
    ev.kind = kind;
    ev.id = id;
    ev.domain = domain;
    ev.owner_project = owner;
    if (!coord_events_emit(log, &ev, &err))
        fail_msg("emit: %s", err.msg);
}

static size_t
nevents(const reply *r)
{
    return json_array_size(json_object_get(r->json, "events"));
}

static const char *
event_id(const reply *r, size_t i)
{
    return json_string_value(json_object_get(
        json_array_get(json_object_get(r->json, "events"), i), "id"));
}

/* GET /v1/events: an event is shown to the project that owned what it
 * acted on and to the host's roles (the jobs' rules), filtered by domain,
 * kind and time; bad values are 400. */
static void
events_are_shown_to_their_owner_and_filtered(void **state)
{
    static const char *const bad[] = {
        "/v1/events?since=yesterday", "/v1/events?kind=sets",
        "/v1/events?limit=0",         "/v1/events?limit=10001",
        "/v1/events?limit=ten",       "/v1/events?colour=red",
        "/v1/events?domain=",
    };
    const int64_t t0 = 1763786364000LL;
    fixture *fx = *state;
    coord_events_opts o;
    coord_events *log;
    char url[128];
    size_t i;
    reply r;

    coord_events_opts_init(&o);
    o.syslog = false;
    log = coord_events_new(fx->dir, &o, NULL);
    assert_non_null(log);
    emit_event(log, t0, "set", "e-1", "vm1", "p-1234");
    emit_event(log, t0 + 1000, "volume", "e-2", "vm2", "p-9999");
    emit_event(log, t0 + 2000, "job", "e-3", NULL, NULL); /* the CLI's */
    coord_events_free(log);

    r = as(fx, "GET", "/v1/events", "ks-good-a", NULL);
    assert_int_equal(r.status, 200);
    assert_int_equal(nevents(&r), 3);
    assert_string_equal(event_id(&r, 0), "e-1");
    assert_string_equal(event_id(&r, 2), "e-3");
    assert_true(json_is_false(json_object_get(r.json, "more")));
    assert_null(strstr(r.body, "owner_project")); /* not shown */
    reply_release(&r);
    r = as(fx, "GET", "/v1/events", "ks-member-a", NULL);
    assert_int_equal(nevents(&r), 1);
    assert_string_equal(event_id(&r, 0), "e-1");
    reply_release(&r);
    r = as(fx, "GET", "/v1/events", "ks-other-a", NULL);
    assert_int_equal(nevents(&r), 1);
    assert_string_equal(event_id(&r, 0), "e-2");
    reply_release(&r);

    /* filters */
    r = as(fx, "GET", "/v1/events?domain=vm2", "ks-good-a", NULL);
    assert_int_equal(nevents(&r), 1);
    assert_string_equal(event_id(&r, 0), "e-2");
    reply_release(&r);
    r = as(fx, "GET", "/v1/events?kind=job", "ks-good-a", NULL);
    assert_int_equal(nevents(&r), 1);
    reply_release(&r);
    r = as(fx, "GET", "/v1/events?kind=job", "ks-member-a", NULL);
    assert_int_equal(nevents(&r), 0);
    reply_release(&r);
    r = as(fx, "GET", "/v1/events?domain=vm2&kind=set", "ks-good-a", NULL);
    assert_int_equal(nevents(&r), 0);
    reply_release(&r);
    /* paging forward from a time, and the newest without one */
    snprintf(url, sizeof(url), "/v1/events?since=%lld&limit=1",
             (long long)(t0 + 1000));
    r = as(fx, "GET", url, "ks-good-a", NULL);
    assert_int_equal(nevents(&r), 1);
    assert_string_equal(event_id(&r, 0), "e-2");
    assert_true(json_is_true(json_object_get(r.json, "more")));
    reply_release(&r);
    r = as(fx, "GET", "/v1/events?since=2025-11-22T04:39:26.000Z", "ks-good-a",
           NULL);
    assert_int_equal(nevents(&r), 1);
    assert_string_equal(event_id(&r, 0), "e-3");
    reply_release(&r);
    r = as(fx, "GET", "/v1/events?limit=2", "ks-good-a", NULL);
    assert_int_equal(nevents(&r), 2);
    assert_string_equal(event_id(&r, 0), "e-2");
    reply_release(&r);

    /* bad input, no token, wrong method */
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        r = as(fx, "GET", bad[i], "ks-good-a", NULL);
        assert_error(&r, 400);
        reply_release(&r);
    }
    r = as(fx, "GET", "/v1/events", NULL, NULL);
    assert_error(&r, 401);
    reply_release(&r);
    assert_int_equal(status_as(fx, "GET", "/v1/events", "ks-bad", NULL), 401);
    assert_int_equal(status_as(fx, "HEAD", "/v1/events", "ks-good-a", NULL),
                     200);
    assert_int_equal(status_as(fx, "POST", "/v1/events", "ks-good-a", "{}"),
                     405);
    assert_int_equal(status_as(fx, "GET", "/v1/events/x", "ks-good-a", NULL),
                     404);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup_file, teardown)
        T(healthz_needs_no_token),
        T(requests_without_a_valid_token_get_401),
        T(tokens_without_an_allowed_role_or_project_get_403),
        cmocka_unit_test_setup_teardown(
            keystone_answers_are_cached_until_the_token_expires, setup_keystone,
            teardown),
        T(tokens_files_readable_by_others_or_malformed_are_refused),
        T(create_backup_answers_202_with_a_location),
        T(create_snapshot_has_no_rotation),
        T(bad_bodies_get_400),
        T(metadata_is_passed_on_and_checked),
        T(unknown_domains_sets_and_routes_get_404),
        T(bad_set_ids_get_400),
        T(a_busy_domain_gets_409),
        T(backend_errors_map_to_their_status),
        T(oversized_bodies_get_413),
        T(wrong_content_types_get_415),
        T(wrong_methods_get_405_with_allow),
        T(list_filters_by_domain_backup_type_and_state),
        T(get_shows_state_members_windows_and_error),
        T(delete_answers_202),
        T(export_is_accepted_and_validated),
        T(delete_with_exports_is_passed_on),
        T(metrics_count_requests_sets_windows_and_frozen_guests),
        cmocka_unit_test_setup_teardown(
            concurrent_good_and_bad_requests_are_all_answered, setup_hammer,
            teardown),
        T(snapset_metadata_keys_are_refused),
#undef T
#define K(f) cmocka_unit_test_setup_teardown(f, setup_keystone, teardown)
        K(owners_act_by_id_or_by_name_and_domain),
        K(other_projects_get_403_on_every_route_naming_a_domain_or_set),
        K(list_shows_only_what_the_caller_may_see),
        K(a_servers_sets_are_listed_for_its_owner),
        K(an_accepted_create_has_a_job_its_owner_can_follow),
        K(a_restore_is_accepted_as_a_job),
        K(spawn_and_volumes_are_accepted_as_jobs),
        K(templates_are_made_listed_spawned_and_deleted),
        K(ram_states_are_a_domains_sets_with_memory),
        K(sets_of_gone_domains_keep_their_recorded_owner),
        K(default_deny_admins_only_by_role),
        K(one_validation_per_token_however_many_ask),
        K(events_are_shown_to_their_owner_and_filtered),
#undef K
#define S(f) cmocka_unit_test_setup_teardown(f, setup_keystone_short, teardown)
        S(cached_answers_expire_and_revoked_tokens_stop_working),
#undef S
        cmocka_unit_test_setup_teardown(
            healthz_and_cached_tokens_answer_while_keystone_stalls,
            setup_keystone_stall, teardown),
        cmocka_unit_test_setup_teardown(
            slow_clients_are_cut_at_the_request_deadline, setup_limits,
            teardown),
        cmocka_unit_test_setup_teardown(
            one_address_gets_a_bounded_number_of_connections, setup_limits,
            teardown),
    };
    int rc;

    pthread_mutex_init(&F.mu, NULL);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    rc = cmocka_run_group_tests(tests, NULL, NULL);
    curl_global_cleanup();
    pthread_mutex_destroy(&F.mu);
    return rc;
}
