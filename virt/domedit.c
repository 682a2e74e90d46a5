/* virt/domedit.c -- see domedit.h. */
#include "virt/domedit.h"

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct virt_domedit {
    xmlDocPtr doc;
    xmlNodePtr root;
};

#define X(s) ((const xmlChar *)(s))

static bool
is_elem(xmlNodePtr n, const char *name)
{
    return n && n->type == XML_ELEMENT_NODE &&
           strcmp((const char *)n->name, name) == 0;
}

static xmlNodePtr
child(xmlNodePtr node, const char *name)
{
    xmlNodePtr c;

    for (c = node ? node->children : NULL; c; c = c->next) {
        if (is_elem(c, name))
            return c;
    }
    return NULL;
}

/* Returns the child @name of @node, adding it (last) when missing. */
static xmlNodePtr
child_add(xmlNodePtr node, const char *name)
{
    xmlNodePtr c = child(node, name);

    return c ? c : xmlNewChild(node, NULL, X(name), NULL);
}

static void
unlink_free(xmlNodePtr n)
{
    if (!n)
        return;
    xmlUnlinkNode(n);
    xmlFreeNode(n);
}

/* Removes every child element @name of @node. */
static void
remove_children(xmlNodePtr node, const char *name)
{
    xmlNodePtr c, next;

    for (c = node ? node->children : NULL; c; c = next) {
        next = c->next;
        if (is_elem(c, name))
            unlink_free(c);
    }
}

/* Removes every element @name anywhere below @node. */
static void
remove_all(xmlNodePtr node, const char *name)
{
    xmlNodePtr c, next;

    for (c = node ? node->children : NULL; c; c = next) {
        next = c->next;
        if (is_elem(c, name))
            unlink_free(c);
        else if (c->type == XML_ELEMENT_NODE)
            remove_all(c, name);
    }
}

/* Borrowed-looking helper: a new copy of attribute @name (free()). */
static char *
prop(xmlNodePtr n, const char *name)
{
    xmlChar *v = n ? xmlGetProp(n, X(name)) : NULL;
    char *s = v ? strdup((const char *)v) : NULL;

    xmlFree(v);
    return s;
}

static bool
prop_is(xmlNodePtr n, const char *name, const char *value)
{
    char *v = prop(n, name);
    bool same = v && strcmp(v, value) == 0;

    free(v);
    return same;
}

static bool
set_text(xmlNodePtr n, const char *text, snap_error *err)
{
    xmlChar *enc = xmlEncodeSpecialChars(n->doc, X(text));

    if (!enc)
        return snap_error_set(err, SNAP_E_NOMEM, "out of memory");
    xmlNodeSetContent(n, enc);
    xmlFree(enc);
    return true;
}

static bool
set_prop(xmlNodePtr n, const char *name, const char *value, snap_error *err)
{
    if (!xmlSetProp(n, X(name), X(value)))
        return snap_error_set(err, SNAP_E_NOMEM, "out of memory");
    return true;
}

virt_domedit *
virt_domedit_new(const char *xml, snap_error *err)
{
    virt_domedit *d = calloc(1, sizeof(*d));

    if (!d) {
        snap_error_set(err, SNAP_E_NOMEM, "out of memory");
        return NULL;
    }
    d->doc = xmlReadMemory(xml, (int)strlen(xml), "domain.xml", NULL,
                           XML_PARSE_NONET | XML_PARSE_NOERROR |
                               XML_PARSE_NOWARNING | XML_PARSE_NOBLANKS);
    d->root = d->doc ? xmlDocGetRootElement(d->doc) : NULL;
    if (!is_elem(d->root, "domain")) {
        snap_error_set(err, SNAP_E_INVALID,
                       "cannot parse the domain XML: no <domain> document");
        virt_domedit_free(d);
        return NULL;
    }
    return d;
}

void
virt_domedit_free(virt_domedit *d)
{
    if (!d)
        return;
    xmlFreeDoc(d->doc);
    free(d);
}

char *
virt_domedit_xml(virt_domedit *d, snap_error *err)
{
    xmlChar *mem = NULL;
    int len = 0;
    char *s;

    xmlDocDumpFormatMemory(d->doc, &mem, &len, 1);
    s = mem ? strdup((const char *)mem) : NULL;
    xmlFree(mem);
    if (!s)
        snap_error_set(err, SNAP_E_NOMEM, "out of memory");
    return s;
}

/* ---- identity ------------------------------------------------------------ */

/* Runtime state in a live XML that a definition must not carry over. */
static void
strip_runtime(xmlNodePtr devices)
{
    xmlNodePtr dev, c;

    remove_all(devices, "alias");
    for (dev = devices ? devices->children : NULL; dev; dev = dev->next) {
        if (dev->type != XML_ELEMENT_NODE)
            continue;
        if (is_elem(dev, "disk")) {
            /* The chain libvirt probed, and the source's place in it. */
            remove_children(dev, "backingStore");
            xmlUnsetProp(child(dev, "source"), X("index"));
        } else if (is_elem(dev, "interface")) {
            /* libvirt makes a new MAC (and tap device) for each. */
            remove_children(dev, "mac");
            remove_children(dev, "target");
            xmlUnsetProp(child(dev, "source"), X("portid"));
            if (prop_is(dev, "type", "network"))
                xmlUnsetProp(child(dev, "source"), X("bridge"));
        } else if (is_elem(dev, "channel")) {
            c = child(dev, "source");
            /* A generated socket path names the original's run dir. */
            if (prop_is(dev, "type", "unix") && prop_is(c, "mode", "bind"))
                xmlUnsetProp(c, X("path"));
            xmlUnsetProp(child(dev, "target"), X("state"));
        } else if (is_elem(dev, "graphics")) {
            if (prop_is(dev, "autoport", "yes")) {
                xmlUnsetProp(dev, X("port"));
                xmlUnsetProp(dev, X("tlsPort"));
                xmlUnsetProp(dev, X("websocket"));
            }
        } else if (is_elem(dev, "serial") || is_elem(dev, "console")) {
            c = child(dev, "source");
            if (prop_is(dev, "type", "pty"))
                xmlUnsetProp(c, X("path")); /* /dev/pts/N of that run */
        }
    }
}

bool
virt_domedit_identity(virt_domedit *d, const char *name, const char *uuid,
                      snap_error *err)
{
    xmlNodePtr n, next, os;

    xmlUnsetProp(d->root, X("id"));
    if (!set_text(child_add(d->root, "name"), name, err) ||
        !set_text(child_add(d->root, "uuid"), uuid, err))
        return false;
    remove_children(d->root, "metadata");
    remove_children(d->root, "sysinfo");
    /* Nova's <genid> and the like identify a VM generation: drop them. */
    remove_children(d->root, "genid");
    os = child(d->root, "os");
    remove_children(os, "smbios");
    /* The UEFI variables file is the original's: libvirt makes a new one
     * from the template when <nvram> names none. */
    n = child(os, "nvram");
    if (n)
        xmlNodeSetContent(n, NULL);
    /* Dynamic labels are per run; static ones are the admin's choice. */
    for (n = d->root->children; n; n = next) {
        next = n->next;
        if (is_elem(n, "seclabel") && prop_is(n, "type", "dynamic")) {
            remove_children(n, "label");
            remove_children(n, "imagelabel");
        }
    }
    strip_runtime(child(d->root, "devices"));
    return true;
}

bool
virt_domedit_origin(virt_domedit *d, const char *set_uuid,
                    const char *origin_uuid, bool linked, snap_error *err)
{
    xmlNodePtr md = child_add(d->root, "metadata"), e;
    xmlNsPtr ns;

    e = xmlNewChild(md, NULL, X("spawn"), NULL);
    ns = e ? xmlNewNs(e, X(VIRT_DOMEDIT_NS), X("snapset")) : NULL;
    if (!ns)
        return snap_error_set(err, SNAP_E_NOMEM, "out of memory");
    xmlSetNs(e, ns);
    return set_prop(e, "set", set_uuid, err) &&
           set_prop(e, "origin", origin_uuid, err) &&
           set_prop(e, "linked", linked ? "yes" : "no", err);
}

bool
virt_domedit_origin_template(virt_domedit *d, const char *template_uuid,
                             snap_error *err)
{
    xmlNodePtr md = child(d->root, "metadata"), e;

    for (e = md ? md->children : NULL; e; e = e->next) {
        if (is_elem(e, "spawn") && e->ns &&
            strcmp((const char *)e->ns->href, VIRT_DOMEDIT_NS) == 0)
            return set_prop(e, "template", template_uuid, err);
    }
    return snap_error_set(err, SNAP_E_INVALID,
                          "no origin recorded to add the template to");
}

bool
virt_domedit_origin_state(virt_domedit *d, const char *state, const char *why,
                          snap_error *err)
{
    xmlNodePtr md = child(d->root, "metadata"), e;

    for (e = md ? md->children : NULL; e; e = e->next) {
        if (is_elem(e, "spawn") && e->ns &&
            strcmp((const char *)e->ns->href, VIRT_DOMEDIT_NS) == 0)
            return set_prop(e, "state", state, err) &&
                   (!why || set_prop(e, "error", why, err));
    }
    return snap_error_set(err, SNAP_E_INVALID,
                          "no origin recorded to add the state to");
}

bool
virt_domedit_origin_get(virt_domedit *d, char **set_uuid, bool *linked,
                        snap_error *err)
{
    xmlNodePtr md = child(d->root, "metadata"), e;

    *set_uuid = NULL;
    *linked = false;
    for (e = md ? md->children : NULL; e; e = e->next) {
        if (!is_elem(e, "spawn") || !e->ns ||
            strcmp((const char *)e->ns->href, VIRT_DOMEDIT_NS) != 0)
            continue;
        *set_uuid = prop(e, "set");
        *linked = prop_is(e, "linked", "yes");
        if (!*set_uuid)
            return snap_error_set(err, SNAP_E_INVALID,
                                  "snapset metadata without a set");
        return true;
    }
    return true;
}

bool
virt_domedit_console(virt_domedit *d, const char *dir, const char *name,
                     snap_error *err)
{
    xmlNodePtr devices = child(d->root, "devices"), dev, c;
    char path[4096];

    snprintf(path, sizeof(path), "%s/%s.console.log", dir, name);
    for (dev = devices ? devices->children : NULL; dev; dev = dev->next) {
        if (!is_elem(dev, "serial") && !is_elem(dev, "console"))
            continue;
        c = child(dev, "source");
        if (prop_is(dev, "type", "file") && c &&
            !set_prop(c, "path", path, err))
            return false;
        c = child(dev, "log");
        if (c && !set_prop(c, "file", path, err))
            return false;
    }
    return true;
}

/* ---- hardware ------------------------------------------------------------ */

static bool
refuse_numa(virt_domedit *d, const char *what, snap_error *err)
{
    if (child(child(d->root, "cpu"), "numa"))
        return snap_error_set(err, SNAP_E_STATE,
                              "the domain has NUMA cells: change its %s in "
                              "the cells by hand (virsh edit) after a spawn "
                              "without --%s",
                              what, what);
    return true;
}

bool
virt_domedit_vcpus(virt_domedit *d, unsigned vcpus, snap_error *err)
{
    xmlNodePtr vcpu, tune, topo, c, next;
    char buf[32];
    unsigned long s = 1, di = 1, co = 1, th = 1;
    char *v;

    if (!refuse_numa(d, "vcpus", err))
        return false;
    snprintf(buf, sizeof(buf), "%u", vcpus);
    vcpu = child_add(d->root, "vcpu");
    if (!vcpu || !set_text(vcpu, buf, err))
        return false;
    xmlUnsetProp(vcpu, X("current"));
    remove_children(d->root, "vcpus"); /* per-vCPU hotplug state */
    tune = child(d->root, "cputune");
    for (c = tune ? tune->children : NULL; c; c = next) {
        next = c->next;
        if (!is_elem(c, "vcpupin") && !is_elem(c, "vcpusched"))
            continue;
        v = prop(c, "vcpu");
        if (!v)
            v = prop(c, "vcpus");
        if (v && strtoul(v, NULL, 10) >= vcpus)
            unlink_free(c); /* pins a vCPU that no longer exists */
        free(v);
    }
    topo = child(child(d->root, "cpu"), "topology");
    if (topo) {
        v = prop(topo, "sockets");
        s = v ? strtoul(v, NULL, 10) : 1;
        free(v);
        v = prop(topo, "dies");
        di = v ? strtoul(v, NULL, 10) : 1;
        free(v);
        v = prop(topo, "cores");
        co = v ? strtoul(v, NULL, 10) : 1;
        free(v);
        v = prop(topo, "threads");
        th = v ? strtoul(v, NULL, 10) : 1;
        free(v);
        if (s * di * co * th != vcpus) {
            /* One socket per vCPU is what libvirt assumes without one. */
            if (!set_prop(topo, "sockets", buf, err) ||
                !set_prop(topo, "cores", "1", err) ||
                !set_prop(topo, "threads", "1", err))
                return false;
            if (xmlHasProp(topo, X("dies")) &&
                !set_prop(topo, "dies", "1", err))
                return false;
        }
    }
    return true;
}

bool
virt_domedit_memory(virt_domedit *d, uint64_t kib, snap_error *err)
{
    xmlNodePtr mem, cur, max;
    char buf[32];
    char *v = NULL;

    if (!refuse_numa(d, "memory", err))
        return false;
    max = child(d->root, "maxMemory");
    if (max) {
        unsigned long long m;

        v = prop(max, "unit");
        if (v && strcmp(v, "KiB") != 0 && strcmp(v, "k") != 0) {
            free(v);
            return snap_error_set(err, SNAP_E_STATE,
                                  "the domain's <maxMemory> is not in KiB");
        }
        free(v);
        v = (char *)xmlNodeGetContent(max);
        m = v ? strtoull(v, NULL, 10) : 0;
        xmlFree(v);
        if (kib > m)
            return snap_error_set(err, SNAP_E_INVALID,
                                  "--memory %llu MiB is above the domain's "
                                  "maxMemory of %llu MiB",
                                  (unsigned long long)(kib / 1024), m / 1024);
    }
    snprintf(buf, sizeof(buf), "%llu", (unsigned long long)kib);
    mem = child_add(d->root, "memory");
    cur = child_add(d->root, "currentMemory");
    if (!mem || !cur || !set_text(mem, buf, err) || !set_text(cur, buf, err) ||
        !set_prop(mem, "unit", "KiB", err) ||
        !set_prop(cur, "unit", "KiB", err))
        return false;
    return true;
}

bool
virt_domedit_networks(virt_domedit *d, const char *const *networks, size_t n,
                      snap_error *err)
{
    xmlNodePtr devices = child_add(d->root, "devices"), c, next, nic, e;
    char *model = NULL;
    size_t i;
    bool ok = false;

    for (c = devices->children; c; c = next) {
        next = c->next;
        if (!is_elem(c, "interface"))
            continue;
        if (!model)
            model = prop(child(c, "model"), "type");
        unlink_free(c);
    }
    for (i = 0; i < n; i++) {
        nic = xmlNewChild(devices, NULL, X("interface"), NULL);
        if (!nic || !set_prop(nic, "type", "network", err))
            goto cleanup;
        e = xmlNewChild(nic, NULL, X("source"), NULL);
        if (!e || !set_prop(e, "network", networks[i], err))
            goto cleanup;
        e = xmlNewChild(nic, NULL, X("model"), NULL);
        if (!e || !set_prop(e, "type", model ? model : "virtio", err))
            goto cleanup;
    }
    ok = true;

cleanup:
    if (!ok)
        snap_error_set(err, SNAP_E_NOMEM, "out of memory");
    free(model);
    return ok;
}

bool
virt_domedit_network_names(virt_domedit *d, char ***names, size_t *n,
                           snap_error *err)
{
    xmlNodePtr devices = child(d->root, "devices"), c;
    char **v = NULL, **nv;
    size_t k = 0;

    for (c = devices ? devices->children : NULL; c; c = c->next) {
        char *net;

        if (!is_elem(c, "interface") || !prop_is(c, "type", "network"))
            continue;
        net = prop(child(c, "source"), "network");
        if (!net)
            continue;
        nv = realloc(v, (k + 1) * sizeof(*v));
        if (!nv) {
            free(net);
            while (k > 0)
                free(v[--k]);
            free(v);
            return snap_error_set(err, SNAP_E_NOMEM, "out of memory");
        }
        v = nv;
        v[k++] = net;
    }
    *names = v;
    *n = k;
    return true;
}

/* ---- disks --------------------------------------------------------------- */

static xmlNodePtr
find_disk(virt_domedit *d, const char *target, snap_error *err)
{
    xmlNodePtr devices = child(d->root, "devices"), c;

    for (c = devices ? devices->children : NULL; c; c = c->next) {
        if (is_elem(c, "disk") && prop_is(child(c, "target"), "dev", target))
            return c;
    }
    snap_error_set(err, SNAP_E_NOTFOUND, "the domain XML has no disk '%s'",
                   target);
    return NULL;
}

/* A fresh <source/> as the first child of @disk, after <driver>. */
static xmlNodePtr
new_source(xmlNodePtr disk)
{
    xmlNodePtr old = child(disk, "source"), src, drv;

    src = xmlNewNode(NULL, X("source"));
    if (!src)
        return NULL;
    if (old) {
        xmlReplaceNode(old, src);
        xmlFreeNode(old);
    } else {
        drv = child(disk, "driver");
        if (drv)
            xmlAddNextSibling(drv, src);
        else
            xmlAddChild(disk, src);
    }
    return src;
}

bool
virt_domedit_disk_file(virt_domedit *d, const char *target, const char *path,
                       const char *format, snap_error *err)
{
    xmlNodePtr disk = find_disk(d, target, err), src, drv;

    if (!disk)
        return false;
    remove_children(disk, "backingStore");
    remove_children(disk, "auth");
    src = new_source(disk);
    drv = child(disk, "driver");
    if (!drv) {
        drv = xmlNewNode(NULL, X("driver"));
        if (drv) {
            xmlAddPrevSibling(src, drv);
            if (!set_prop(drv, "name", "qemu", err))
                return false;
        }
    }
    if (!src || !drv)
        return snap_error_set(err, SNAP_E_NOMEM, "out of memory");
    return set_prop(disk, "type", "file", err) &&
           set_prop(src, "file", path, err) &&
           set_prop(drv, "type", format, err);
}

bool
virt_domedit_disk_rbd(virt_domedit *d, const char *target,
                      const virt_rbd_source *conn, const char *serial,
                      snap_error *err)
{
    xmlNodePtr disk = find_disk(d, target, err), src, drv, e, auth;
    size_t i;

    if (!disk)
        return false;
    remove_children(disk, "backingStore");
    remove_children(disk, "auth");
    src = new_source(disk);
    if (!src)
        return snap_error_set(err, SNAP_E_NOMEM, "out of memory");
    if (!set_prop(disk, "type", "network", err) ||
        !set_prop(src, "protocol", "rbd", err) ||
        !set_prop(src, "name", conn->name, err))
        return false;
    for (i = 0; i < conn->nhosts; i++) {
        e = xmlNewChild(src, NULL, X("host"), NULL);
        if (!e || !set_prop(e, "name", conn->hosts[i], err) ||
            !set_prop(e, "port", conn->ports[i], err))
            return snap_error_set(err, SNAP_E_NOMEM, "out of memory");
    }
    drv = child(disk, "driver");
    if (!drv) {
        drv = xmlNewNode(NULL, X("driver"));
        if (!drv)
            return snap_error_set(err, SNAP_E_NOMEM, "out of memory");
        xmlAddPrevSibling(src, drv);
    }
    if (!set_prop(drv, "name", "qemu", err) ||
        !set_prop(drv, "type", "raw", err))
        return false;
    if (conn->discard && !set_prop(drv, "discard", "unmap", err))
        return false;
    if (conn->auth_enabled) {
        auth = xmlNewNode(NULL, X("auth"));
        if (!auth)
            return snap_error_set(err, SNAP_E_NOMEM, "out of memory");
        xmlAddNextSibling(src, auth);
        e = xmlNewChild(auth, NULL, X("secret"), NULL);
        if (!e || !set_prop(auth, "username", conn->auth_username, err) ||
            !set_prop(e, "type", conn->secret_type ? conn->secret_type : "ceph",
                      err) ||
            !set_prop(e, "uuid", conn->secret_uuid, err))
            return snap_error_set(err, SNAP_E_NOMEM, "out of memory");
    }
    e = child_add(disk, "serial");
    return e && set_text(e, serial, err);
}
