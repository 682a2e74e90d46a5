/* coordinator/ops/export.h -- `snapset export`: one snapshot set as one OVF
 * package (an OVA file, an unpacked OVF directory, or an OVA streamed into
 * Glance).
 *
 *   snapset export SET --ova FILE | --ovf DIR | --glance [--name NAME]
 *                  [--disk-format vmdk|qcow2] [--json] [--timeout MS]
 *                  [--ceph-conf FILE] [--ceph-user NAME]
 *                  [--staging-dir DIR] [--cleanup-timeout MS] [--force]
 *   snapset export --check FILE.ova      (reads a package back, verifies it)
 *
 * The command line lives in coordinator/cli/cli_export.c; this is the
 * operation. Every disk is converted with qemu-img into a private staging
 * directory (CATALOG/staging/export-<pid>-<start>-XXXXXX, removed on every
 * path out, and swept by the next export when a killed one left it), from
 * the set's own copy for a local member and straight from the RBD snapshot
 * for a Cinder member. The descriptor is built from the domain XML kept
 * with the set. Exports are recorded in the set's directory (exports.json,
 * see exports.h), a Glance image before its data is sent.
 *
 * The rooms: export.c (the job: checks, descriptor, OVA/OVF/Glance output),
 * export_set.c (the set and its domain XML, can every member be read),
 * export_stage.c (the staging root, qemu-img, converting a disk),
 * export_ui.c (signals and progress), exports.c (the exports.json record),
 * export_child.c (an export in a child process, for serve and policies).
 */
#ifndef OPS_EXPORT_H
#define OPS_EXPORT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/snap_error.h"
#include "coordinator/ops/ctx.h"
#include "coordinator/ops/exports.h"
#include "glance/glance.h"

#define OPS_EXPORT_DEFAULT_TIMEOUT_MS (6LL * 3600 * 1000) /* one qemu-img */
#define OPS_EXPORT_DEFAULT_CLEANUP_MS 30000 /* a failed image, Glance down */
#define OPS_EXPORT_DEFAULT_CEPH_CONF "/etc/ceph/ceph.conf"

typedef enum ops_export_kind {
    OPS_EXPORT_OVA = 0, /* --ova FILE */
    OPS_EXPORT_OVF,     /* --ovf DIR */
    OPS_EXPORT_GLANCE,  /* --glance */
} ops_export_kind;

typedef enum ops_export_ui {
    OPS_EXPORT_UI_TTY = 0, /* a line per disk on stderr, redrawn in place */
    OPS_EXPORT_UI_PLAIN,   /* a line per disk when done, and every 10 s */
    OPS_EXPORT_UI_JSON,    /* JSON events on stdout, one per line */
} ops_export_ui;

/* What ops_export_run() does. Strings are borrowed for the call. */
typedef struct ops_export_opts {
    ops_export_kind kind;
    const char *target; /* OVA, OVF: the file or directory */
    const char *name;   /* GLANCE: the image name, or NULL (a default) */
    glance_disk_format format;
    int64_t timeout_ms;       /* each qemu-img run */
    int64_t cleanup_ms;       /* deleting the image of a failed upload */
    const char *ceph_conf;    /* never NULL */
    const char *ceph_user;    /* or NULL */
    const char *staging_root; /* absolute, or NULL: CATALOG/staging */
    bool force;               /* replace an OVA, write into a full DIR */
    ops_export_ui ui;
} ops_export_opts;

/* The defaults: OVA, vmdk, 6 h per conversion, 30 s cleanup, the Ceph
 * configuration of the environment (SNAPSET_CEPH_CONF, SNAPSET_CEPH_USER)
 * or /etc/ceph/ceph.conf, plain progress. */
void ops_export_opts_init(ops_export_opts *opts);

/* The name of @kind: "ova", "ovf" or "glance". */
const char *ops_export_kind_name(ops_export_kind kind);

/* Exports set @set_id (a uuid or a unique prefix) as @opts says, showing
 * progress as @opts->ui says. SIGINT, SIGTERM and SIGHUP are caught for the
 * call: the first cancels at the next chunk or poll (nothing is left
 * behind), a second kills. On success @result (an object of the caller's)
 * holds set, domain, kind, export_id, disks, elapsed_ms and image_id, name,
 * size, sha512 (Glance) or path, size (a file). On failure @err, and the
 * staging directory, partial outputs and a created image are gone (a
 * half-drawn TTY progress line is ended, so the caller can print @err). */
bool ops_export_run(ops_ctx *ctx, const char *set_id,
                    const ops_export_opts *opts, json_t *result,
                    snap_error *err);

/* @v bytes as "12.3 MiB" in @buf. */
void ops_export_fmt_bytes(char *buf, size_t size, double v);

/* What ops_export_child() runs. */
typedef struct ops_export_req {
    const char *kind;        /* "glance" or "ova" */
    const char *target;      /* "ova": the file */
    const char *name;        /* "glance": the image name, or NULL */
    const char *disk_format; /* "vmdk", "qcow2", or NULL (vmdk) */
    int64_t timeout_ms;      /* each conversion; the whole gets twice that */
} ops_export_req;

/* Runs `snapset export SET ... --json` in a child process (its own signal
 * handling and cleanup, nothing shared with the caller's threads) and
 * waits for it, bounded. On success *@result is the export's result
 * object (image_id or path, size, disks, ...; json_decref() it); on
 * failure the export's own one-line error. */
bool ops_export_child(ops_ctx *ctx, const char *set_uuid,
                      const ops_export_req *req, json_t **result,
                      snap_error *err);

#endif
