/* coordinator/coord_domxml.c -- see coord_domxml.h. */
#include "coordinator/coord_domxml.h"

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xpath.h>
#include <stdlib.h>
#include <string.h>

static char *
attr(xmlNodePtr node, const char *name)
{
    xmlChar *v = node ? xmlGetProp(node, (const xmlChar *)name) : NULL;
    char *s = v ? strdup((const char *)v) : NULL;

    xmlFree(v);
    return s;
}

static xmlNodePtr
child(xmlNodePtr node, const char *name)
{
    xmlNodePtr c;

    for (c = node ? node->children : NULL; c; c = c->next) {
        if (c->type == XML_ELEMENT_NODE &&
            strcmp((const char *)c->name, name) == 0)
            return c;
    }
    return NULL;
}

static char *
text_of(xmlNodePtr node)
{
    xmlChar *v = node ? xmlNodeGetContent(node) : NULL;
    char *s = v ? strdup((const char *)v) : NULL;

    xmlFree(v);
    return s;
}

static char *
eval_string(xmlXPathContextPtr ctx, const char *expr)
{
    xmlXPathObjectPtr obj = xmlXPathEvalExpression((const xmlChar *)expr, ctx);
    char *s = NULL;

    if (obj && obj->type == XPATH_STRING && obj->stringval && obj->stringval[0])
        s = strdup((const char *)obj->stringval);
    xmlXPathFreeObject(obj);
    return s;
}

static bool
parse_disk(xmlNodePtr disk, coord_set *set, snap_error *err)
{
    char *device = attr(disk, "device");
    char *type = NULL, *src = NULL;
    xmlNodePtr source = child(disk, "source");
    coord_member *m = NULL;
    bool ok = false;

    if ((device && strcmp(device, "disk") != 0) || child(disk, "readonly") ||
        child(disk, "transient")) {
        ok = true; /* cdroms, floppies, luns and read-only disks: skipped */
        goto cleanup;
    }
    m = coord_set_add_member(set, err);
    if (!m)
        goto cleanup;
    m->kind = COORD_MEMBER_LOCAL;
    m->target = attr(child(disk, "target"), "dev");
    if (!m->target) {
        snap_error_set(err, SNAP_E_INVALID, "a disk has no <target dev>");
        goto cleanup;
    }
    type = attr(disk, "type");
    if (!type)
        type = strdup("file");
    if (strcmp(type, "file") == 0) {
        src = attr(source, "file");
    } else if (strcmp(type, "block") == 0) {
        src = attr(source, "dev");
    } else if (strcmp(type, "network") == 0) {
        src = attr(source, "name");
        m->protocol = attr(source, "protocol");
    } else {
        snap_error_set(err, SNAP_E_INVALID,
                       "disk '%s' has source type '%s', which snapset cannot "
                       "snapshot",
                       m->target, type);
        goto cleanup;
    }
    if (!src) {
        snap_error_set(err, SNAP_E_INVALID, "disk '%s' has no source",
                       m->target);
        goto cleanup;
    }
    m->source_type = type;
    type = NULL;
    m->source = src;
    src = NULL;
    m->format = attr(child(disk, "driver"), "type");
    m->serial = text_of(child(disk, "serial"));
    ok = true;

cleanup:
    free(device);
    free(type);
    free(src);
    return ok;
}

static bool
parse_nic(xmlNodePtr node, coord_domain_info *info, snap_error *err)
{
    coord_nic *nics, *nic;
    xmlNodePtr source = child(node, "source");

    nics = realloc(info->nics, (info->nnics + 1) * sizeof(*nics));
    if (!nics)
        return snap_error_set(err, SNAP_E_NOMEM, "out of memory");
    info->nics = nics;
    nic = &nics[info->nnics++];
    memset(nic, 0, sizeof(*nic));
    nic->type = attr(node, "type");
    nic->source = attr(source, "network");
    if (!nic->source)
        nic->source = attr(source, "bridge");
    nic->model = attr(child(node, "model"), "type");
    nic->mac = attr(child(node, "mac"), "address");
    return true;
}

/* Records @disk's <target dev bus> when it names both. */
static bool
parse_bus(xmlNodePtr disk, coord_domain_info *info, snap_error *err)
{
    xmlNodePtr target = child(disk, "target");
    coord_disk_bus *grown, b;

    b.target = attr(target, "dev");
    b.bus = attr(target, "bus");
    if (!b.target || !b.bus) {
        free(b.target);
        free(b.bus);
        return true;
    }
    grown = realloc(info->buses, (info->nbuses + 1) * sizeof(*grown));
    if (!grown) {
        free(b.target);
        free(b.bus);
        return snap_error_set(err, SNAP_E_NOMEM, "out of memory");
    }
    grown[info->nbuses++] = b;
    info->buses = grown;
    return true;
}

bool
coord_domxml_parse(const char *xml, coord_domain_info *info, coord_set *set,
                   snap_error *err)
{
    xmlDocPtr doc = NULL;
    xmlXPathContextPtr ctx = NULL;
    xmlNodePtr root, devices, n;
    char *s = NULL;
    bool ok = false;

    memset(info, 0, sizeof(*info));
    doc = xmlReadMemory(xml, (int)strlen(xml), "domain.xml", NULL,
                        XML_PARSE_NONET | XML_PARSE_NOERROR |
                            XML_PARSE_NOWARNING);
    if (!doc) {
        snap_error_set(err, SNAP_E_INVALID, "cannot parse the domain XML");
        goto cleanup;
    }
    root = xmlDocGetRootElement(doc);
    if (!root || strcmp((const char *)root->name, "domain") != 0) {
        snap_error_set(err, SNAP_E_INVALID, "domain XML has no <domain> root");
        goto cleanup;
    }
    ctx = xmlXPathNewContext(doc);
    if (!ctx) {
        snap_error_set(err, SNAP_E_NOMEM, "out of memory");
        goto cleanup;
    }
    info->name = eval_string(ctx, "string(/domain/name)");
    s = eval_string(ctx, "string(/domain/uuid)");
    if (!info->name || !s || strlen(s) != 36) {
        snap_error_set(err, SNAP_E_INVALID,
                       "domain XML lacks a <name> or a valid <uuid>");
        goto cleanup;
    }
    memcpy(info->uuid, s, SNAP_UUID_LEN);
    info->virt_type = attr(root, "type");
    info->arch = eval_string(ctx, "string(/domain/os/type/@arch)");
    info->machine = eval_string(ctx, "string(/domain/os/type/@machine)");
    free(s);
    s = eval_string(ctx, "string(/domain/vcpu)");
    info->vcpus = s ? (unsigned)strtoul(s, NULL, 10) : 1;
    free(s);
    s = eval_string(ctx, "string(/domain/memory)");
    info->memory_kib = s ? strtoull(s, NULL, 10) : 0;
    free(s);
    s = eval_string(ctx, "string(/domain/memory/@unit)");
    /* libvirt's XML output always uses KiB; accept what a user may write. */
    if (s && strcmp(s, "MiB") == 0)
        info->memory_kib *= 1024;
    else if (s && strcmp(s, "GiB") == 0)
        info->memory_kib *= 1024 * 1024;

    info->os_id = eval_string(ctx, "string(/domain/metadata/"
                                   "*[local-name()='libosinfo']/"
                                   "*[local-name()='os']/@id)");

    devices = child(root, "devices");
    for (n = devices ? devices->children : NULL; n; n = n->next) {
        if (n->type != XML_ELEMENT_NODE)
            continue;
        if (strcmp((const char *)n->name, "disk") == 0 &&
            ((set && !parse_disk(n, set, err)) || !parse_bus(n, info, err)))
            goto cleanup;
        if (strcmp((const char *)n->name, "interface") == 0 &&
            !parse_nic(n, info, err))
            goto cleanup;
    }
    ok = true;

cleanup:
    free(s);
    if (!ok)
        coord_domain_info_release(info);
    xmlXPathFreeContext(ctx);
    xmlFreeDoc(doc);
    return ok;
}

void
coord_domain_info_release(coord_domain_info *info)
{
    size_t i;

    for (i = 0; i < info->nnics; i++) {
        free(info->nics[i].type);
        free(info->nics[i].source);
        free(info->nics[i].model);
        free(info->nics[i].mac);
    }
    free(info->nics);
    for (i = 0; i < info->nbuses; i++) {
        free(info->buses[i].target);
        free(info->buses[i].bus);
    }
    free(info->buses);
    free(info->os_id);
    free(info->name);
    free(info->virt_type);
    free(info->arch);
    free(info->machine);
    memset(info, 0, sizeof(*info));
}

const char *
coord_domain_info_bus(const coord_domain_info *info, const char *target)
{
    size_t i;

    for (i = 0; target && i < info->nbuses; i++) {
        if (strcmp(info->buses[i].target, target) == 0)
            return info->buses[i].bus;
    }
    return NULL;
}
