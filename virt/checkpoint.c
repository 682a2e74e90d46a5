/* virt/checkpoint.c -- see checkpoint.h. */
#include "virt/checkpoint.h"

#include <libvirt/virterror.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <stdlib.h>
#include <string.h>

#include "common/snap_log.h"
#include "common/snap_strv.h"
#include "virt/virt.h"

bool
virt_checkpoint_list(virDomainPtr dom, const char *prefix, char ***names,
                     size_t *n, snap_error *err)
{
    virDomainCheckpointPtr *cps = NULL;
    int count, i;
    bool ok = true;

    *names = NULL;
    *n = 0;
    count = virDomainListAllCheckpoints(dom, &cps, 0);
    if (count < 0)
        return virt_error(err, SNAP_E_VIRT,
                          "cannot list the domain's checkpoints");
    for (i = 0; i < count; i++) {
        const char *name = virDomainCheckpointGetName(cps[i]);

        if (ok && name && strncmp(name, prefix, strlen(prefix)) == 0)
            ok = snap_strv_append(names, n, name, err);
        virDomainCheckpointFree(cps[i]);
    }
    free(cps);
    if (!ok) {
        snap_strv_free(*names, *n);
        *names = NULL;
        *n = 0;
    }
    return ok;
}

/* <domaincheckpoint>...<disks><disk name='vda' checkpoint='bitmap'
 *   bitmap='snapset-...' size='1048576'/>... */
static bool
bitmaps_parse(const char *xml, char ***disks, size_t *n, snap_error *err)
{
    xmlDocPtr doc = xmlReadMemory(xml, (int)strlen(xml), "checkpoint.xml", NULL,
                                  XML_PARSE_NONET | XML_PARSE_NOERROR |
                                      XML_PARSE_NOWARNING);
    xmlNodePtr root, c, d;
    bool ok = true;

    if (!doc)
        return snap_error_set(err, SNAP_E_VIRT,
                              "libvirt gave a checkpoint XML that does not "
                              "parse");
    root = xmlDocGetRootElement(doc);
    for (c = root ? root->children : NULL; ok && c; c = c->next) {
        if (c->type != XML_ELEMENT_NODE ||
            xmlStrcmp(c->name, BAD_CAST "disks") != 0)
            continue;
        for (d = c->children; ok && d; d = d->next) {
            xmlChar *name, *mode, *size;

            if (d->type != XML_ELEMENT_NODE ||
                xmlStrcmp(d->name, BAD_CAST "disk") != 0)
                continue;
            name = xmlGetProp(d, BAD_CAST "name");
            mode = xmlGetProp(d, BAD_CAST "checkpoint");
            size = xmlGetProp(d, BAD_CAST "size");
            if (name && mode && size && xmlStrcmp(mode, BAD_CAST "bitmap") == 0)
                ok = snap_strv_append(disks, n, (const char *)name, err);
            xmlFree(name);
            xmlFree(mode);
            xmlFree(size);
        }
    }
    xmlFreeDoc(doc);
    return ok;
}

bool
virt_checkpoint_bitmaps(virDomainPtr dom, const char *name, char ***disks,
                        size_t *n, snap_error *err)
{
    virDomainCheckpointPtr cp;
    char *xml, what[256];
    bool ok;

    *disks = NULL;
    *n = 0;
    cp = virDomainCheckpointLookupByName(dom, name, 0);
    if (!cp) {
        snprintf(what, sizeof(what), "no checkpoint %s", name);
        return virt_error(err, SNAP_E_NOTFOUND, what);
    }
    xml = virDomainCheckpointGetXMLDesc(cp, VIR_DOMAIN_CHECKPOINT_XML_SIZE);
    virDomainCheckpointFree(cp);
    if (!xml) {
        snprintf(what, sizeof(what), "cannot read the bitmaps of checkpoint %s",
                 name);
        return virt_error(err, SNAP_E_VIRT, what);
    }
    ok = bitmaps_parse(xml, disks, n, err);
    free(xml);
    if (!ok) {
        snap_strv_free(*disks, *n);
        *disks = NULL;
        *n = 0;
    }
    return ok;
}

bool
virt_checkpoint_delete(virDomainPtr dom, const char *name, snap_error *err)
{
    virDomainCheckpointPtr cp = virDomainCheckpointLookupByName(dom, name, 0);
    char **disks = NULL, what[256];
    size_t n = 0;
    bool probed, ok = true;

    if (!cp)
        return true; /* not there: nothing to delete */
    if (virDomainCheckpointDelete(cp, 0) < 0) {
        /* Libvirt refuses when a bitmap is gone from an image; then its
         * record is all that is left to delete. Anything else stands. */
        probed = virt_checkpoint_bitmaps(dom, name, &disks, &n, NULL);
        snap_strv_free(disks, n);
        if (probed && n > 0) {
            snprintf(what, sizeof(what), "cannot delete checkpoint %s", name);
            ok = virt_error(err, SNAP_E_VIRT, what);
        } else if (virDomainCheckpointDelete(
                       cp, VIR_DOMAIN_CHECKPOINT_DELETE_METADATA_ONLY) < 0) {
            snprintf(what, sizeof(what),
                     "cannot delete libvirt's record of checkpoint %s", name);
            ok = virt_error(err, SNAP_E_VIRT, what);
        } else {
            snap_info("checkpoint %s: its bitmaps were gone; libvirt's "
                      "record deleted",
                      name);
        }
    }
    virDomainCheckpointFree(cp);
    return ok;
}

bool
virt_checkpoint_delete_all(virDomainPtr dom, const char *prefix,
                           const char *keep, snap_error *err)
{
    char **names = NULL;
    size_t n = 0, i;
    snap_error e = {0};
    bool ok = true;

    if (!virt_checkpoint_list(dom, prefix, &names, &n, err))
        return false;
    for (i = 0; i < n; i++) {
        if (keep && strcmp(names[i], keep) == 0)
            continue;
        snap_error_clear(&e);
        if (!virt_checkpoint_delete(dom, names[i], &e)) {
            if (ok)
                snap_error_set(err, e.code, "%s", e.msg);
            ok = false;
        }
    }
    snap_strv_free(names, n);
    return ok;
}
