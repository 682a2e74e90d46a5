/* tests/fakes/fake_domain.c -- see fake_domain.h. */
#include "fakes/fake_domain.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FAKE_MAX_DOMAINS 8
#define FAKE_MAX_OPS 32

typedef struct fdom {
    bool used;
    char uuid[SNAP_UUID_LEN];
    char *name;
    char *xml;
    ops_domain_state state;
    bool managed_save;
} fdom;

static fdom doms[FAKE_MAX_DOMAINS];

static struct {
    const char *op; /* a string literal of this file */
    int calls;
    int fail_at; /* the call number that fails, 0: none */
    void (*hook)(void *arg);
    void *hook_arg;
} ops[FAKE_MAX_OPS];

static const char *const op_names[] = {
    "find",          "persistent",
    "state",         "xml",
    "define",        "undefine",
    "start",         "start_saved",
    "shutdown",      "wait_off",
    "destroy",       "agent_ping",
    "managed_save",  "managed_save_remove",
    "metadata_set",  "block_pull",
    "list",          "host_size",
    "network_check", "secret_exists",
};

static int
op_index(const char *op)
{
    size_t i;

    for (i = 0; i < sizeof(op_names) / sizeof(op_names[0]); i++) {
        if (strcmp(op_names[i], op) == 0)
            return (int)i;
    }
    fprintf(stderr, "fake_domain: unknown operation '%s'\n", op);
    abort();
}

/* Counts a call of @op; true when the test asked it to fail. */
static bool
call(const char *op, snap_error *err)
{
    int i = op_index(op);

    ops[i].calls++;
    if (ops[i].hook)
        ops[i].hook(ops[i].hook_arg);
    if (ops[i].fail_at && ops[i].calls == ops[i].fail_at) {
        snap_error_set(err, SNAP_E_VIRT, "fake: %s refused", op);
        return true;
    }
    return false;
}

static char *
dup_or_die(const char *s)
{
    char *d = strdup(s);

    if (!d)
        abort();
    return d;
}

static fdom *
lookup(const char *id)
{
    size_t i;

    for (i = 0; i < FAKE_MAX_DOMAINS; i++) {
        if (doms[i].used &&
            (strcmp(doms[i].uuid, id) == 0 || strcmp(doms[i].name, id) == 0))
            return &doms[i];
    }
    return NULL;
}

/* The text of the first <@tag>...</@tag> of @xml, or NULL. */
static char *
element(const char *xml, const char *tag)
{
    char open[64], close[64];
    const char *a, *b;
    char *s;

    snprintf(open, sizeof(open), "<%s>", tag);
    snprintf(close, sizeof(close), "</%s>", tag);
    a = strstr(xml, open);
    if (!a)
        return NULL;
    a += strlen(open);
    b = strstr(a, close);
    if (!b)
        return NULL;
    s = malloc((size_t)(b - a) + 1);
    if (!s)
        abort();
    memcpy(s, a, (size_t)(b - a));
    s[b - a] = '\0';
    return s;
}

void
fake_domain_reset(void)
{
    size_t i;

    for (i = 0; i < FAKE_MAX_DOMAINS; i++) {
        free(doms[i].name);
        free(doms[i].xml);
    }
    memset(doms, 0, sizeof(doms));
    memset(ops, 0, sizeof(ops));
}

void
fake_domain_add(const char *uuid, const char *name, const char *xml,
                ops_domain_state state)
{
    size_t i;

    for (i = 0; i < FAKE_MAX_DOMAINS && doms[i].used; i++)
        ;
    if (i == FAKE_MAX_DOMAINS)
        abort();
    doms[i].used = true;
    snprintf(doms[i].uuid, sizeof(doms[i].uuid), "%s", uuid);
    doms[i].name = dup_or_die(name);
    doms[i].xml = dup_or_die(xml);
    doms[i].state = state;
}

void
fake_domain_fail(const char *op, int nth)
{
    int i = op_index(op);

    ops[i].fail_at = ops[i].calls + nth;
}

int
fake_domain_calls(const char *op)
{
    return ops[op_index(op)].calls;
}

void
fake_domain_on(const char *op, void (*fn)(void *arg), void *arg)
{
    int i = op_index(op);

    ops[i].hook = fn;
    ops[i].hook_arg = arg;
}

void
fake_domain_set_managed_save(const char *id, bool saved)
{
    fdom *d = lookup(id);

    if (!d)
        abort();
    d->managed_save = saved;
}

bool
fake_domain_managed_save(const char *id)
{
    fdom *d = lookup(id);

    return d && d->managed_save;
}

bool
fake_domain_exists(const char *id)
{
    return lookup(id) != NULL;
}

const char *
fake_domain_xml(const char *id)
{
    fdom *d = lookup(id);

    return d ? d->xml : NULL;
}

ops_domain_state
fake_domain_state(const char *id)
{
    fdom *d = lookup(id);

    return d ? d->state : OPS_DOMAIN_STATE_OFF;
}

/* ---- the table ----------------------------------------------------------- */

static fdom *
need(const char *op, const char *uuid, snap_error *err)
{
    fdom *d;

    if (call(op, err))
        return NULL;
    d = lookup(uuid);
    if (!d)
        snap_error_set(err, SNAP_E_VIRT, "fake: no domain %s", uuid);
    return d;
}

static bool
f_find(ops_ctx *ctx, const char *id, char uuid[SNAP_UUID_LEN], char **name,
       snap_error *err)
{
    fdom *d;

    (void)ctx;
    if (name)
        *name = NULL;
    if (call("find", err))
        return false;
    d = lookup(id);
    if (!d)
        return snap_error_set(err, SNAP_E_NOTFOUND, "no domain '%s'", id);
    memcpy(uuid, d->uuid, SNAP_UUID_LEN);
    if (name)
        *name = dup_or_die(d->name);
    return true;
}

static int
f_persistent(ops_ctx *ctx, const char *uuid, snap_error *err)
{
    (void)ctx;
    return need("persistent", uuid, err) ? 1 : -1;
}

static bool
f_state(ops_ctx *ctx, const char *uuid, ops_domain_state *state,
        snap_error *err)
{
    fdom *d = need("state", uuid, err);

    (void)ctx;
    if (!d)
        return false;
    *state = d->state;
    return true;
}

static char *
f_xml(ops_ctx *ctx, const char *uuid, unsigned flags, snap_error *err)
{
    fdom *d = need("xml", uuid, err);

    (void)ctx;
    (void)flags;
    return d ? dup_or_die(d->xml) : NULL;
}

static bool
f_define(ops_ctx *ctx, const char *xml, char uuid[SNAP_UUID_LEN],
         snap_error *err)
{
    char *u, *n;
    fdom *d;

    (void)ctx;
    if (call("define", err))
        return false;
    u = element(xml, "uuid");
    n = element(xml, "name");
    if (!u || !n) {
        free(u);
        free(n);
        return snap_error_set(err, SNAP_E_VIRT, "fake: no name or uuid");
    }
    d = lookup(u);
    if (d) {
        free(d->xml);
        d->xml = dup_or_die(xml);
    } else {
        fake_domain_add(u, n, xml, OPS_DOMAIN_STATE_OFF);
    }
    if (uuid)
        snprintf(uuid, SNAP_UUID_LEN, "%s", u);
    free(u);
    free(n);
    return true;
}

static bool
f_undefine(ops_ctx *ctx, const char *uuid, snap_error *err)
{
    fdom *d = need("undefine", uuid, err);

    (void)ctx;
    if (!d)
        return false;
    free(d->name);
    free(d->xml);
    memset(d, 0, sizeof(*d));
    return true;
}

static bool
f_start(ops_ctx *ctx, const char *uuid, snap_error *err)
{
    fdom *d = need("start", uuid, err);

    (void)ctx;
    if (!d)
        return false;
    if (d->state != OPS_DOMAIN_STATE_OFF)
        return snap_error_set(err, SNAP_E_VIRT, "fake: already running");
    d->state = OPS_DOMAIN_STATE_RUNNING;
    d->managed_save = false;
    return true;
}

static bool
f_start_saved(ops_ctx *ctx, const char *path, snap_error *err)
{
    (void)ctx;
    (void)path;
    if (call("start_saved", err))
        return false;
    /* Which domain the file holds is not modelled: the only one off. */
    for (size_t i = 0; i < FAKE_MAX_DOMAINS; i++) {
        if (doms[i].used && doms[i].state == OPS_DOMAIN_STATE_OFF) {
            doms[i].state = OPS_DOMAIN_STATE_RUNNING;
            return true;
        }
    }
    return snap_error_set(err, SNAP_E_VIRT, "fake: nothing to restore into");
}

/* The guest powers off at once when asked. */
static bool
f_shutdown(ops_ctx *ctx, const char *uuid, bool agent, snap_error *err)
{
    fdom *d = need("shutdown", uuid, err);

    (void)ctx;
    (void)agent;
    if (!d)
        return false;
    return true;
}

static bool
f_wait_off(ops_ctx *ctx, const char *uuid, int64_t timeout_ms)
{
    fdom *d = need("wait_off", uuid, NULL);

    (void)ctx;
    (void)timeout_ms;
    if (!d)
        return false; /* asked to fail: the guest ignored the shutdown */
    d->state = OPS_DOMAIN_STATE_OFF;
    return true;
}

static bool
f_destroy(ops_ctx *ctx, const char *uuid, snap_error *err)
{
    fdom *d = need("destroy", uuid, err);

    (void)ctx;
    if (!d)
        return false;
    d->state = OPS_DOMAIN_STATE_OFF;
    return true;
}

static bool
f_agent_ping(ops_ctx *ctx, const char *uuid, int64_t timeout_ms,
             snap_error *err)
{
    fdom *d = need("agent_ping", uuid, err);

    (void)ctx;
    (void)timeout_ms;
    return d && d->state == OPS_DOMAIN_STATE_RUNNING;
}

static int
f_managed_save(ops_ctx *ctx, const char *uuid, snap_error *err)
{
    fdom *d = need("managed_save", uuid, err);

    (void)ctx;
    if (!d)
        return -1;
    return d->managed_save;
}

static bool
f_managed_save_remove(ops_ctx *ctx, const char *uuid, snap_error *err)
{
    fdom *d = need("managed_save_remove", uuid, err);

    (void)ctx;
    if (!d)
        return false;
    d->managed_save = false;
    return true;
}

static bool
f_metadata_set(ops_ctx *ctx, const char *uuid, const char *xml, const char *key,
               const char *ns, bool live, snap_error *err)
{
    (void)ctx;
    (void)xml;
    (void)key;
    (void)ns;
    (void)live;
    return need("metadata_set", uuid, err) != NULL;
}

static bool
f_block_pull(ops_ctx *ctx, const char *uuid, const char *target,
             int64_t timeout_ms, snap_error *err)
{
    (void)ctx;
    (void)target;
    (void)timeout_ms;
    return need("block_pull", uuid, err) != NULL;
}

static bool
f_list(ops_ctx *ctx, char ***uuids, size_t *n, snap_error *err)
{
    char **v;
    size_t i, k = 0;

    (void)ctx;
    *uuids = NULL;
    *n = 0;
    if (call("list", err))
        return false;
    v = calloc(FAKE_MAX_DOMAINS + 1, sizeof(*v));
    if (!v)
        abort();
    for (i = 0; i < FAKE_MAX_DOMAINS; i++) {
        if (doms[i].used)
            v[k++] = dup_or_die(doms[i].uuid);
    }
    *uuids = v;
    *n = k;
    return true;
}

static bool
f_host_size(ops_ctx *ctx, unsigned *cpus, uint64_t *memory_kib, snap_error *err)
{
    (void)ctx;
    if (call("host_size", err))
        return false;
    *cpus = 64;
    *memory_kib = 256ULL * 1024 * 1024;
    return true;
}

static bool
f_network_check(ops_ctx *ctx, const char *name, snap_error *err)
{
    (void)ctx;
    if (call("network_check", NULL))
        return snap_error_set(err, SNAP_E_NOTFOUND,
                              "network '%s' does not exist", name);
    return true;
}

static bool
f_secret_exists(ops_ctx *ctx, const char *uuid)
{
    (void)ctx;
    (void)uuid;
    return !call("secret_exists", NULL);
}

const ops_domain_ops fake_domain_ops = {
    .find = f_find,
    .persistent = f_persistent,
    .state = f_state,
    .xml = f_xml,
    .define = f_define,
    .undefine = f_undefine,
    .start = f_start,
    .start_saved = f_start_saved,
    .shutdown = f_shutdown,
    .wait_off = f_wait_off,
    .destroy = f_destroy,
    .agent_ping = f_agent_ping,
    .managed_save = f_managed_save,
    .managed_save_remove = f_managed_save_remove,
    .metadata_set = f_metadata_set,
    .block_pull = f_block_pull,
    .list = f_list,
    .host_size = f_host_size,
    .network_check = f_network_check,
    .secret_exists = f_secret_exists,
};
