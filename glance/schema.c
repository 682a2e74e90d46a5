/* glance/schema.c -- a descriptor checked against DMTF's OVF envelope schema
 * (DSP8023) and the CIM schemas it imports, with libxml2's XML Schema
 * validator. The schema files ship in glance/schemas/. */
#include "glance/glance.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xmlerror.h>
#include <libxml/xmlschemas.h>

#include "glance/glance_priv.h"

/* Set by glance/CMakeLists.txt: the installed data directory, and the
 * source tree's copy for a snapset that runs from its build tree. */
#ifndef GLANCE_OVF_SCHEMA_DIR_DEFAULT
#define GLANCE_OVF_SCHEMA_DIR_DEFAULT "/usr/local/share/snapset/ovf-schemas"
#endif

/* The wrapper that imports the others from its own directory, first; then
 * what it imports, checked up front so that a missing file is named rather
 * than reported as an unresolved type deep inside DSP8023. */
static const char *const schema_files[] = {
    "ovf-all.xsd",
    "DSP8023.xsd",
    "common.xsd",
    "CIM_ResourceAllocationSettingData.xsd",
    "CIM_VirtualSystemSettingData.xsd",
    "xml.xsd",
};

/* The first error libxml2 reports; warnings do not count. */
typedef struct first_error {
    bool set;
    int line;
    char msg[200];
} first_error;

static void
first_error_keep(first_error *fe, int level, int line, const char *msg)
{
    size_t n;
    char *p;

    if (fe->set || level == XML_ERR_WARNING)
        return;
    fe->set = true;
    fe->line = line;
    snprintf(fe->msg, sizeof(fe->msg), "%s", msg ? msg : "unknown error");
    /* libxml2 ends its messages with a newline and may hold more: the
     * error is one line. */
    for (p = fe->msg; *p; p++) {
        if (*p == '\n' || *p == '\r')
            *p = ' ';
    }
    n = strlen(fe->msg);
    while (n > 0 && fe->msg[n - 1] == ' ')
        fe->msg[--n] = '\0';
}

/* libxml2 2.12 made the error const. */
#if LIBXML_VERSION >= 21200
static void
on_error(void *ctx, const xmlError *e)
#else
static void
on_error(void *ctx, xmlErrorPtr e)
#endif
{
    if (e)
        first_error_keep(ctx, e->level, e->line, e->message);
}

const char *
glance_ovf_schema_dir(void)
{
    const char *dir = getenv(GLANCE_OVF_SCHEMA_DIR_ENV);
#ifdef GLANCE_OVF_SCHEMA_DIR_BUILD
    struct stat st;
#endif

    if (dir && *dir)
        return dir;
#ifdef GLANCE_OVF_SCHEMA_DIR_BUILD
    /* Not installed (yet): a snapset run from its build tree, as the
     * integration tests run it, reads the source tree's copy. Once
     * installed, the installed copy wins; when neither is there the
     * installed path is the one an error names. */
    if (stat(GLANCE_OVF_SCHEMA_DIR_DEFAULT "/ovf-all.xsd", &st) < 0 &&
        stat(GLANCE_OVF_SCHEMA_DIR_BUILD "/ovf-all.xsd", &st) == 0)
        return GLANCE_OVF_SCHEMA_DIR_BUILD;
#endif
    return GLANCE_OVF_SCHEMA_DIR_DEFAULT;
}

struct _xmlDoc *
glance_ovf_doc_read(const char *xml, size_t len, snap_error *err)
{
    xmlDocPtr doc;
#if LIBXML_VERSION >= 21200
    const xmlError *xe;
#else
    xmlErrorPtr xe;
#endif
    first_error fe = {0};

    if (len > INT_MAX) {
        snap_error_set(err, SNAP_E_INVALID, "descriptor is too large");
        return NULL;
    }
    /* No network access, no entity expansion (the default), no noise on
     * stderr: the error goes into @err. */
    doc = xmlReadMemory(xml, (int)len, "descriptor.ovf", NULL,
                        XML_PARSE_NONET | XML_PARSE_NOERROR |
                            XML_PARSE_NOWARNING | XML_PARSE_BIG_LINES);
    if (!doc) {
        xe = xmlGetLastError();
        first_error_keep(&fe, XML_ERR_ERROR, xe ? xe->line : 0,
                         xe && xe->message ? xe->message : "");
        snap_error_set(err, SNAP_E_INVALID,
                       "descriptor is not well-formed XML (line %d: %s)",
                       fe.line, fe.msg);
    }
    return doc;
}

/* Checks that every schema file is a readable regular file, and writes the
 * path of the wrapper into @entry. */
static bool
check_schema_files(const char *dir, char *entry, size_t size, snap_error *err)
{
    char path[PATH_MAX];
    struct stat st;
    size_t i;
    int n;

    for (i = 0; i < sizeof(schema_files) / sizeof(schema_files[0]); i++) {
        n = snprintf(path, sizeof(path), "%s/%s", dir, schema_files[i]);
        if (n < 0 || (size_t)n >= sizeof(path))
            return snap_error_set(err, SNAP_E_INVALID,
                                  "OVF schema directory '%s' is too long", dir);
        if (stat(path, &st) < 0) {
            if (errno == ENOENT || errno == ENOTDIR)
                return snap_error_set(err, SNAP_E_NOTFOUND,
                                      "OVF schema '%s' is missing (set %s to "
                                      "the directory of ovf-all.xsd)",
                                      path, GLANCE_OVF_SCHEMA_DIR_ENV);
            return snap_error_set_errno(err, errno,
                                        "cannot read OVF schema '%s'", path);
        }
        if (!S_ISREG(st.st_mode))
            return snap_error_set(err, SNAP_E_INVALID,
                                  "OVF schema '%s' is not a regular file",
                                  path);
        if (i == 0)
            snprintf(entry, size, "%s", path);
    }
    return true;
}

bool
glance_ovf_doc_validate(struct _xmlDoc *doc, const char *schema_dir,
                        snap_error *err)
{
    xmlSchemaParserCtxtPtr pctxt = NULL;
    xmlSchemaPtr schema = NULL;
    xmlSchemaValidCtxtPtr vctxt = NULL;
    char entry[PATH_MAX];
    first_error fe = {0};
    int rc;
    bool ok = false;

    if (!schema_dir)
        schema_dir = glance_ovf_schema_dir();
    if (!check_schema_files(schema_dir, entry, sizeof(entry), err))
        goto cleanup;
    pctxt = xmlSchemaNewParserCtxt(entry);
    if (!pctxt) {
        snap_error_set(err, SNAP_E_NOMEM, "out of memory");
        goto cleanup;
    }
    xmlSchemaSetParserStructuredErrors(pctxt, on_error, &fe);
    schema = xmlSchemaParse(pctxt);
    if (!schema) {
        snap_error_set(err, SNAP_E_INVALID,
                       "cannot load OVF schema '%s' (line %d: %s)", entry,
                       fe.line, fe.set ? fe.msg : "unknown error");
        goto cleanup;
    }
    vctxt = xmlSchemaNewValidCtxt(schema);
    if (!vctxt) {
        snap_error_set(err, SNAP_E_NOMEM, "out of memory");
        goto cleanup;
    }
    memset(&fe, 0, sizeof(fe)); /* the parser's warnings are not ours */
    xmlSchemaSetValidStructuredErrors(vctxt, on_error, &fe);
    rc = xmlSchemaValidateDoc(vctxt, doc);
    if (rc != 0) {
        /* rc < 0 is an internal error of the validator, without a line. */
        snap_error_set(err, SNAP_E_INVALID,
                       "descriptor does not validate against the OVF schema "
                       "(line %d: %s)",
                       fe.line, fe.set ? fe.msg : "internal validator error");
        goto cleanup;
    }
    ok = true;

cleanup:
    xmlSchemaFreeValidCtxt(vctxt);
    xmlSchemaFree(schema);
    xmlSchemaFreeParserCtxt(pctxt);
    return ok;
}

bool
glance_ovf_validate(const char *xml, size_t len, const char *schema_dir,
                    snap_error *err)
{
    xmlDocPtr doc;
    bool ok;

    doc = glance_ovf_doc_read(xml, len, err);
    if (!doc)
        return false;
    ok = glance_ovf_doc_validate(doc, schema_dir, err);
    xmlFreeDoc(doc);
    return ok;
}
