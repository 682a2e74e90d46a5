/* virt/host.c -- see host.h. */
#include "virt/host.h"

#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "virt/virt.h"

struct virt_host {
    char *uri; /* NULL: libvirt's default */
    virConnectPtr conn;
};

struct virt_host_domain {
    virDomainPtr dom;
    char *id; /* what it was found by, for messages */
};

virt_host *
virt_host_new(const char *uri, snap_error *err)
{
    virt_host *h = calloc(1, sizeof(*h));

    if (!h || (uri && !(h->uri = strdup(uri)))) {
        free(h);
        snap_error_set(err, SNAP_E_NOMEM, "out of memory");
        return NULL;
    }
    return h;
}

void
virt_host_free(virt_host *h)
{
    if (!h)
        return;
    virt_close(h->conn);
    free(h->uri);
    free(h);
}

void
virt_conn_drop_dead(struct _virConnect **conn)
{
    if (*conn && virConnectIsAlive(*conn) != 1) {
        virConnectClose(*conn);
        *conn = NULL;
    }
}

/* The connection, reopened when libvirtd went away since the last use. */
static bool
host_ready(virt_host *h, snap_error *err)
{
    virt_conn_drop_dead(&h->conn);
    if (!h->conn)
        h->conn = virt_open(h->uri, err);
    return h->conn != NULL;
}

virt_host_domain *
virt_host_domain_find(virt_host *h, const char *id, unsigned flags,
                      snap_error *err)
{
    virt_host_domain *d = NULL;
    virDomainPtr dom = NULL;
    virErrorPtr verr;

    if (!host_ready(h, err))
        return NULL;
    if (flags & VIRT_HOST_FIND_NAME)
        dom = virDomainLookupByName(h->conn, id);
    if (!dom && (!(flags & VIRT_HOST_FIND_NAME) || strlen(id) == 36))
        dom = virDomainLookupByUUIDString(h->conn, id);
    if (!dom) {
        verr = virGetLastError();
        /* An id that is no UUID at all is "no such domain" too. */
        if (!verr || verr->code == VIR_ERR_NO_DOMAIN ||
            verr->code == VIR_ERR_INVALID_ARG)
            snap_error_set(err, SNAP_E_NOTFOUND, "no domain '%s'", id);
        else
            snap_error_set(err, SNAP_E_VIRT, "libvirt: %s",
                           verr->message ? verr->message : "failed");
        return NULL;
    }
    d = calloc(1, sizeof(*d));
    if (!d || !(d->id = strdup(id))) {
        free(d);
        virDomainFree(dom);
        snap_error_set(err, SNAP_E_NOMEM, "out of memory");
        return NULL;
    }
    d->dom = dom;
    return d;
}

void
virt_host_domain_free(virt_host_domain *d)
{
    if (!d)
        return;
    virDomainFree(d->dom);
    free(d->id);
    free(d);
}

bool
virt_host_domain_ident(const virt_host_domain *d, char **name,
                       char uuid[SNAP_UUID_LEN], snap_error *err)
{
    const char *n;

    *name = NULL;
    n = virDomainGetName(d->dom);
    if (!n || virDomainGetUUIDString(d->dom, uuid) < 0 || !(*name = strdup(n)))
        return snap_error_set(err, SNAP_E_NOMEM, "cannot read domain '%s'",
                              d->id);
    return true;
}

bool
virt_host_domain_owner(virt_host_domain *d, char **project, char **project_name,
                       char **project_domain, snap_error *err)
{
    return virt_domain_owner(d->dom, project, project_name, project_domain,
                             err);
}

void
virt_host_list_free(virt_host_entry *e, size_t n)
{
    size_t i;

    for (i = 0; e && i < n; i++) {
        free(e[i].name);
        free(e[i].metadata);
    }
    free(e);
}

bool
virt_host_list(virt_host *h, const char *metadata_ns, virt_host_entry **out,
               size_t *nout, snap_error *err)
{
    virDomainPtr *doms = NULL;
    virt_host_entry *e = NULL;
    size_t n = 0;
    int nd, i;
    bool ok = false;

    *out = NULL;
    *nout = 0;
    if (!host_ready(h, err))
        return false;
    nd = virConnectListAllDomains(h->conn, &doms, 0);
    if (nd < 0)
        return virt_error(err, SNAP_E_VIRT, "cannot list domains");
    e = calloc((size_t)nd + 1, sizeof(*e));
    if (!e) {
        snap_error_set(err, SNAP_E_NOMEM, "out of memory");
        goto cleanup;
    }
    for (i = 0; i < nd; i++) {
        const char *name = virDomainGetName(doms[i]);

        if (!name || virDomainGetUUIDString(doms[i], e[n].uuid) < 0)
            continue;
        e[n].name = strdup(name);
        if (!e[n].name) {
            snap_error_set(err, SNAP_E_NOMEM, "out of memory");
            goto cleanup;
        }
        e[n].active = virDomainIsActive(doms[i]) == 1;
        /* NULL when the domain has none (VIR_ERR_NO_DOMAIN_METADATA). */
        if (metadata_ns)
            e[n].metadata =
                virDomainGetMetadata(doms[i], VIR_DOMAIN_METADATA_ELEMENT,
                                     metadata_ns, VIR_DOMAIN_AFFECT_CURRENT);
        n++;
    }
    *out = e;
    *nout = n;
    e = NULL;
    ok = true;

cleanup:
    virt_host_list_free(e, n);
    for (i = 0; i < nd; i++)
        virDomainFree(doms[i]);
    free(doms);
    return ok;
}
