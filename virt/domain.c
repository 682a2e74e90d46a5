/* virt/domain.c -- see domain.h. */
#include "virt/domain.h"

#include <libvirt/virterror.h>
#include <stdlib.h>
#include <string.h>

#include "common/snap_time.h"
#include "qga/qga.h"
#include "virt/virt.h"

/* libvirt's last error, as the whole message. */
static bool
lv_error(snap_error *err)
{
    const char *msg = virGetLastErrorMessage();

    return snap_error_set(err, SNAP_E_VIRT, "%s",
                          msg ? msg : "unknown libvirt error");
}

static virDomainPtr
lookup(virConnectPtr conn, const char *uuid, snap_error *err)
{
    virDomainPtr dom = virDomainLookupByUUIDString(conn, uuid);

    if (!dom)
        lv_error(err);
    return dom;
}

bool
virt_domain_find(virConnectPtr conn, const char *id, char uuid[SNAP_UUID_LEN],
                 char **name, snap_error *err)
{
    virDomainPtr dom = virt_domain_lookup(conn, id, err);
    bool ok = false;

    if (name)
        *name = NULL;
    if (!dom)
        return false;
    if (virDomainGetUUIDString(dom, uuid) < 0) {
        lv_error(err);
        goto cleanup;
    }
    if (name) {
        *name = strdup(virDomainGetName(dom));
        if (!*name) {
            snap_error_set(err, SNAP_E_NOMEM, "out of memory");
            goto cleanup;
        }
    }
    ok = true;

cleanup:
    virDomainFree(dom);
    return ok;
}

int
virt_domain_persistent(virConnectPtr conn, const char *uuid, snap_error *err)
{
    virDomainPtr dom = lookup(conn, uuid, err);
    int rc;

    if (!dom)
        return -1;
    rc = virDomainIsPersistent(dom);
    if (rc < 0)
        lv_error(err);
    virDomainFree(dom);
    return rc < 0 ? -1 : rc == 1;
}

bool
virt_domain_state_get(virConnectPtr conn, const char *uuid,
                      virt_domain_state *state, snap_error *err)
{
    virDomainPtr dom = lookup(conn, uuid, err);
    int st = 0, reason = 0, active;
    bool ok = false;

    if (!dom)
        return false;
    if (virDomainGetState(dom, &st, &reason, 0) < 0) {
        lv_error(err);
        goto cleanup;
    }
    active = virDomainIsActive(dom);
    if (active < 0) {
        lv_error(err);
        goto cleanup;
    }
    if (active != 1)
        *state = VIRT_DOMAIN_STATE_OFF;
    else if (st == VIR_DOMAIN_PAUSED)
        *state = VIRT_DOMAIN_STATE_PAUSED;
    else
        *state = VIRT_DOMAIN_STATE_RUNNING;
    ok = true;

cleanup:
    virDomainFree(dom);
    return ok;
}

char *
virt_domain_xml(virConnectPtr conn, const char *uuid, unsigned flags,
                snap_error *err)
{
    virDomainPtr dom = lookup(conn, uuid, err);
    unsigned vflags = 0;
    char *xml;

    if (!dom)
        return NULL;
    if (flags & VIRT_DOMAIN_XML_INACTIVE)
        vflags |= VIR_DOMAIN_XML_INACTIVE;
    if (flags & VIRT_DOMAIN_XML_SECURE)
        vflags |= VIR_DOMAIN_XML_SECURE;
    xml = virDomainGetXMLDesc(dom, vflags);
    if (!xml)
        lv_error(err);
    virDomainFree(dom);
    return xml;
}

bool
virt_domain_define(virConnectPtr conn, const char *xml,
                   char uuid[SNAP_UUID_LEN], snap_error *err)
{
    virDomainPtr dom = virDomainDefineXML(conn, xml);
    bool ok = true;

    if (!dom)
        return lv_error(err);
    if (uuid && virDomainGetUUIDString(dom, uuid) < 0)
        ok = lv_error(err);
    virDomainFree(dom);
    return ok;
}

bool
virt_domain_undefine(virConnectPtr conn, const char *uuid, snap_error *err)
{
    virDomainPtr dom = lookup(conn, uuid, err);
    bool ok = true;

    if (!dom)
        return false;
    if (virDomainUndefineFlags(dom,
                               VIR_DOMAIN_UNDEFINE_MANAGED_SAVE |
                                   VIR_DOMAIN_UNDEFINE_SNAPSHOTS_METADATA |
                                   VIR_DOMAIN_UNDEFINE_CHECKPOINTS_METADATA |
                                   VIR_DOMAIN_UNDEFINE_NVRAM) < 0)
        ok = lv_error(err);
    virDomainFree(dom);
    return ok;
}

bool
virt_domain_start(virConnectPtr conn, const char *uuid, snap_error *err)
{
    virDomainPtr dom = lookup(conn, uuid, err);
    bool ok = true;

    if (!dom)
        return false;
    if (virDomainCreate(dom) < 0)
        ok = lv_error(err);
    virDomainFree(dom);
    return ok;
}

bool
virt_domain_start_saved(virConnectPtr conn, const char *path, snap_error *err)
{
    if (virDomainRestoreFlags(conn, path, NULL, VIR_DOMAIN_SAVE_RUNNING) < 0)
        return lv_error(err);
    return true;
}

bool
virt_domain_shutdown(virConnectPtr conn, const char *uuid, bool agent,
                     snap_error *err)
{
    virDomainPtr dom = lookup(conn, uuid, err);
    bool ok = true;

    if (!dom)
        return false;
    if (virDomainShutdownFlags(dom,
                               agent ? VIR_DOMAIN_SHUTDOWN_GUEST_AGENT
                                     : VIR_DOMAIN_SHUTDOWN_ACPI_POWER_BTN) < 0)
        ok = lv_error(err);
    virDomainFree(dom);
    return ok;
}

bool
virt_domain_wait_off(virConnectPtr conn, const char *uuid, int64_t timeout_ms)
{
    virDomainPtr dom = virDomainLookupByUUIDString(conn, uuid);
    int64_t deadline = snap_now_ms() + timeout_ms;
    bool off;

    if (!dom)
        return true; /* gone: a transient domain that stopped */
    while (virDomainIsActive(dom) == 1 && snap_ms_left(deadline) > 0)
        snap_sleep_ms(100);
    off = virDomainIsActive(dom) != 1;
    virDomainFree(dom);
    return off;
}

bool
virt_domain_destroy(virConnectPtr conn, const char *uuid, snap_error *err)
{
    virDomainPtr dom = lookup(conn, uuid, err);
    snap_error e = {0};
    bool ok = true;

    if (!dom)
        return false;
    /* Refused because it went off meanwhile is what was asked for. */
    if (virDomainDestroy(dom) < 0) {
        lv_error(&e);
        if (virDomainIsActive(dom) == 1)
            ok = snap_error_set(err, e.code, "%s", e.msg);
    }
    virDomainFree(dom);
    return ok;
}

bool
virt_domain_agent_ping(virConnectPtr conn, const char *uuid, int64_t timeout_ms,
                       snap_error *err)
{
    virDomainPtr dom = lookup(conn, uuid, err);
    virt_guest g = {0};
    bool ok = false;

    if (!dom)
        return false;
    if (virt_guest_init(&g, dom, err)) {
        ok = qga_agent_ping(g.agent, timeout_ms, err);
        virt_guest_release(&g);
    }
    virDomainFree(dom);
    return ok;
}

int
virt_domain_managed_save(virConnectPtr conn, const char *uuid, snap_error *err)
{
    virDomainPtr dom = lookup(conn, uuid, err);
    int rc;

    if (!dom)
        return -1;
    rc = virDomainHasManagedSaveImage(dom, 0);
    if (rc < 0)
        lv_error(err);
    virDomainFree(dom);
    return rc < 0 ? -1 : rc == 1;
}

bool
virt_domain_managed_save_remove(virConnectPtr conn, const char *uuid,
                                snap_error *err)
{
    virDomainPtr dom = lookup(conn, uuid, err);
    bool ok = true;

    if (!dom)
        return false;
    if (virDomainManagedSaveRemove(dom, 0) < 0)
        ok = lv_error(err);
    virDomainFree(dom);
    return ok;
}

bool
virt_domain_metadata_set(virConnectPtr conn, const char *uuid, const char *xml,
                         const char *key, const char *ns, bool live,
                         snap_error *err)
{
    virDomainPtr dom = lookup(conn, uuid, err);
    unsigned flags = VIR_DOMAIN_AFFECT_CONFIG;
    bool ok = true;

    if (!dom)
        return false;
    if (live)
        flags |= VIR_DOMAIN_AFFECT_LIVE;
    if (virDomainSetMetadata(dom, VIR_DOMAIN_METADATA_ELEMENT, xml, key, ns,
                             flags) < 0)
        ok = lv_error(err);
    virDomainFree(dom);
    return ok;
}

bool
virt_domain_block_pull(virConnectPtr conn, const char *uuid, const char *target,
                       int64_t timeout_ms, snap_error *err)
{
    virDomainPtr dom = lookup(conn, uuid, err);
    virDomainBlockJobInfo info;
    int64_t deadline = snap_now_ms() + timeout_ms;
    bool ok = false;
    int rc;

    if (!dom)
        return false;
    if (virDomainBlockPull(dom, target, 0, 0) < 0) {
        virt_error(err, SNAP_E_VIRT, "cannot start the block pull");
        goto cleanup;
    }
    for (;;) {
        rc = virDomainGetBlockJobInfo(dom, target, &info, 0);
        if (rc < 0) {
            virt_error(err, SNAP_E_VIRT,
                       "cannot read the block pull's progress");
            goto cleanup;
        }
        if (rc == 0)
            break; /* the job is gone: done */
        if (snap_ms_left(deadline) == 0) {
            (void)virDomainBlockJobAbort(dom, target, 0); /* bounded */
            snap_error_set(err, SNAP_E_TIMEOUT,
                           "block pull of disk '%s' did not finish within "
                           "%lld ms",
                           target, (long long)timeout_ms);
            goto cleanup;
        }
        snap_sleep_ms(50);
    }
    ok = true;

cleanup:
    virDomainFree(dom);
    return ok;
}

bool
virt_domain_list(virConnectPtr conn, char ***uuids, size_t *n, snap_error *err)
{
    virDomainPtr *doms = NULL;
    char **v = NULL;
    int nd, i;
    bool ok = false;

    *uuids = NULL;
    *n = 0;
    nd = virConnectListAllDomains(conn, &doms, 0);
    if (nd < 0)
        return lv_error(err);
    v = calloc((size_t)nd + 1, sizeof(*v));
    if (!v) {
        snap_error_set(err, SNAP_E_NOMEM, "out of memory");
        goto cleanup;
    }
    for (i = 0; i < nd; i++) {
        v[i] = malloc(SNAP_UUID_LEN);
        if (!v[i]) {
            snap_error_set(err, SNAP_E_NOMEM, "out of memory");
            goto cleanup;
        }
        if (virDomainGetUUIDString(doms[i], v[i]) < 0) {
            lv_error(err);
            goto cleanup;
        }
    }
    *uuids = v;
    *n = (size_t)nd;
    v = NULL;
    ok = true;

cleanup:
    for (i = 0; v && i < nd; i++)
        free(v[i]);
    free(v);
    for (i = 0; i < nd; i++)
        virDomainFree(doms[i]);
    free(doms);
    return ok;
}

bool
virt_host_size(virConnectPtr conn, unsigned *cpus, uint64_t *memory_kib,
               snap_error *err)
{
    virNodeInfo node;

    if (virNodeGetInfo(conn, &node) < 0)
        return lv_error(err);
    *cpus = node.cpus;
    *memory_kib = node.memory;
    return true;
}

bool
virt_network_check(virConnectPtr conn, const char *name, snap_error *err)
{
    virNetworkPtr net = virNetworkLookupByName(conn, name);
    int active;

    if (!net)
        return snap_error_set(err, SNAP_E_NOTFOUND,
                              "network '%s' does not exist", name);
    active = virNetworkIsActive(net);
    virNetworkFree(net);
    if (active != 1)
        return snap_error_set(err, SNAP_E_STATE,
                              "network '%s' is not active (virsh net-start "
                              "%s)",
                              name, name);
    return true;
}

bool
virt_secret_exists(virConnectPtr conn, const char *uuid)
{
    virSecretPtr secret = virSecretLookupByUUIDString(conn, uuid);

    if (!secret)
        return false;
    virSecretFree(secret);
    return true;
}
