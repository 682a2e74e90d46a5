/* virt/checkpoint.c -- see checkpoint.h. */
#include "virt/checkpoint.h"

#include <libvirt/virterror.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <stdlib.h>
#include <string.h>

#include "common/snap_log.h"
#include "common/snap_strv.h"
#include "virt/error.h"

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
 *   bitmap='snapset-...' size='1048576'/>... : the disks with a size into
 * @disks, those with checkpoint='bitmap' but no size (QEMU has no such
 * bitmap) into @missing. */
static bool
bitmaps_parse(const char *xml, char ***disks, size_t *n, char ***missing,
              size_t *nmissing, snap_error *err)
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
            if (name && mode && xmlStrcmp(mode, BAD_CAST "bitmap") == 0)
                ok = size ? snap_strv_append(disks, n, (const char *)name, err)
                          : snap_strv_append(missing, nmissing,
                                             (const char *)name, err);
            xmlFree(name);
            xmlFree(mode);
            xmlFree(size);
        }
    }
    xmlFreeDoc(doc);
    return ok;
}

/* The disks of checkpoint @name whose bitmap QEMU has (@disks) and those
 * whose bitmap it lacks (@missing). */
static bool
bitmaps_read(virDomainPtr dom, const char *name, char ***disks, size_t *n,
             char ***missing, size_t *nmissing, snap_error *err)
{
    virDomainCheckpointPtr cp;
    char *xml, what[256];
    bool ok;

    *disks = *missing = NULL;
    *n = *nmissing = 0;
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
    ok = bitmaps_parse(xml, disks, n, missing, nmissing, err);
    free(xml);
    if (!ok) {
        snap_strv_free(*disks, *n);
        snap_strv_free(*missing, *nmissing);
        *disks = *missing = NULL;
        *n = *nmissing = 0;
    }
    return ok;
}

bool
virt_checkpoint_bitmaps(virDomainPtr dom, const char *name, char ***disks,
                        size_t *n, snap_error *err)
{
    char **missing;
    size_t nmissing;
    bool ok = bitmaps_read(dom, name, disks, n, &missing, &nmissing, err);

    snap_strv_free(missing, nmissing);
    return ok;
}

/* Rewrites libvirt's record of checkpoint @cp so that disks @missing
 * (whose bitmaps are gone) have none: checkpoint='no', no bitmap name
 * (VIR_DOMAIN_CHECKPOINT_CREATE_REDEFINE). Then libvirt can delete the
 * bitmaps that are still there. */
static bool
redefine_without(virDomainPtr dom, virDomainCheckpointPtr cp,
                 char *const *missing, size_t nmissing, snap_error *err)
{
    char *xml = virDomainCheckpointGetXMLDesc(cp, 0);
    xmlDocPtr doc = NULL;
    xmlNodePtr root, c, d;
    xmlChar *out = NULL;
    virDomainCheckpointPtr again = NULL;
    int len = 0;
    bool ok = false;

    if (!xml)
        return virt_error(err, SNAP_E_VIRT, "cannot read a checkpoint's XML");
    doc = xmlReadMemory(xml, (int)strlen(xml), "checkpoint.xml", NULL,
                        XML_PARSE_NONET | XML_PARSE_NOERROR |
                            XML_PARSE_NOWARNING);
    root = doc ? xmlDocGetRootElement(doc) : NULL;
    if (!root) {
        snap_error_set(err, SNAP_E_VIRT, "a checkpoint's XML does not parse");
        goto cleanup;
    }
    for (c = root->children; c; c = c->next) {
        if (c->type != XML_ELEMENT_NODE ||
            xmlStrcmp(c->name, BAD_CAST "disks") != 0)
            continue;
        for (d = c->children; d; d = d->next) {
            xmlChar *name;

            if (d->type != XML_ELEMENT_NODE)
                continue;
            name = xmlGetProp(d, BAD_CAST "name");
            if (name && snap_strv_contains(missing, nmissing,
                                           (const char *)name, false)) {
                xmlSetProp(d, BAD_CAST "checkpoint", BAD_CAST "no");
                xmlUnsetProp(d, BAD_CAST "bitmap");
            }
            xmlFree(name);
        }
    }
    xmlDocDumpMemory(doc, &out, &len);
    if (!out) {
        snap_error_set(err, SNAP_E_NOMEM, "out of memory");
        goto cleanup;
    }
    again = virDomainCheckpointCreateXML(dom, (const char *)out,
                                         VIR_DOMAIN_CHECKPOINT_CREATE_REDEFINE);
    if (!again) {
        virt_error(err, SNAP_E_VIRT, "cannot redefine a checkpoint");
        goto cleanup;
    }
    ok = true;

cleanup:
    if (again)
        virDomainCheckpointFree(again);
    xmlFree(out);
    xmlFreeDoc(doc);
    free(xml);
    return ok;
}

bool
virt_checkpoint_delete(virDomainPtr dom, const char *name, snap_error *err)
{
    virDomainCheckpointPtr cp = virDomainCheckpointLookupByName(dom, name, 0);
    char **disks = NULL, **missing = NULL, what[256];
    size_t n = 0, nmissing = 0;
    snap_error e = {0};
    bool probed, ok = true;

    if (!cp)
        return true; /* not there: nothing to delete */
    if (virDomainCheckpointDelete(cp, 0) < 0) {
        /* Libvirt refuses when a bitmap is gone from an image. With none
         * left, its record is all there is to delete; with some left, the
         * record is first made to name only those, so that they go too (a
         * bitmap left in an image costs every write). */
        snprintf(what, sizeof(what), "cannot delete checkpoint %s", name);
        virt_error(&e, SNAP_E_VIRT, what);
        probed = bitmaps_read(dom, name, &disks, &n, &missing, &nmissing, NULL);
        if (probed && n > 0 && nmissing > 0) {
            snap_error_clear(&e);
            if (!redefine_without(dom, cp, missing, nmissing, &e))
                ok = false;
            else if (virDomainCheckpointDelete(cp, 0) < 0)
                ok = virt_error(&e, SNAP_E_VIRT, what);
            else
                snap_info("checkpoint %s: the bitmaps of %zu disks were "
                          "gone; the others deleted",
                          name, nmissing);
        } else if (probed && n > 0) {
            ok = false; /* every bitmap is there: libvirt's error stands */
        } else {
            snap_error_clear(&e);
            if (virDomainCheckpointDelete(
                    cp, VIR_DOMAIN_CHECKPOINT_DELETE_METADATA_ONLY) < 0) {
                snprintf(what, sizeof(what),
                         "cannot delete libvirt's record of checkpoint %s",
                         name);
                ok = virt_error(&e, SNAP_E_VIRT, what);
            } else {
                snap_info("checkpoint %s: its bitmaps were gone; libvirt's "
                          "record deleted",
                          name);
            }
        }
        snap_strv_free(disks, n);
        snap_strv_free(missing, nmissing);
    }
    virDomainCheckpointFree(cp);
    if (!ok)
        snap_error_set(err, e.code, "%s", e.msg);
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
