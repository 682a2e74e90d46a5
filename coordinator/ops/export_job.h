/* coordinator/ops/export_job.h -- what the rooms of `snapset export` share
 * inside ops/ (export.c, export_set.c, export_stage.c, export_ui.c): the
 * job, its disks and the steps each room provides. Not for other modules;
 * the unit tests include it to drive one step at a time.
 *
 * Threads: an export runs on one thread; its signal state is the
 * process's (export_ui.c).
 */
#ifndef OPS_EXPORT_JOB_H
#define OPS_EXPORT_JOB_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/snap_error.h"
#include "common/snap_uuid.h"
#include "coordinator/coord_catalog.h"
#include "coordinator/coord_domxml.h"
#include "coordinator/ops/export.h"
#include "glance/glance.h"

/* One disk of the package. */
typedef struct ops_export_disk {
    const coord_member *m; /* borrowed from job->set */
    char file[64];         /* name in the package: "vda.vmdk" */
    char *staged;          /* path of the converted file */
    glance_bus bus;
    uint64_t capacity;  /* virtual size */
    uint64_t populated; /* bytes with data (qemu-img map), 0: unknown */
    uint64_t file_size;
} ops_export_disk;

typedef struct ops_export_job {
    ops_ctx *ctx;
    /* options (strings borrowed from the caller's ops_export_opts) */
    ops_export_kind kind;
    const char *target; /* --ova FILE or --ovf DIR */
    const char *name;   /* --name */
    glance_disk_format format;
    int64_t timeout_ms;
    int64_t cleanup_ms;
    const char *ceph_conf;
    const char *ceph_user;
    const char *staging_root;
    bool force;
    /* state */
    coord_set *set;
    char *set_dir;
    coord_domain_info info;
    bool have_info;
    char *os_type; /* from libosinfo metadata, or NULL */
    char *staging; /* our own staging directory */
    ops_export_disk *disks;
    size_t ndisks;
    glance_ovf *ovf;
    char export_id[SNAP_UUID_LEN];
    /* progress */
    ops_export_ui ui;
    int64_t t_start; /* the whole export */
    int64_t t_step;  /* the current disk or step */
    int64_t t_print; /* last progress output */
    const char *ui_step;
    const char *ui_file;
    bool ui_open; /* a TTY line is being redrawn */
} ops_export_job;

/* ---- export.c: the job --------------------------------------------------- */

/* Records the written OVA file or OVF directory (@job->target) in the
 * set's exports.json and fills @result's path and size. The package is
 * written already, so failing to record it is only a warning: true, and
 * @err untouched (an error recorded in it before stays the first). */
bool ops_export_record_file(ops_export_job *job, json_t *result, bool made_dir,
                            snap_error *err);

/* ---- export_ui.c: signals and progress ----------------------------------- */

/* SIGINT, SIGTERM and SIGHUP cancel (a second one kills) until
 * ops_export_signals_restore(). */
void ops_export_signals_catch(void);
void ops_export_signals_restore(void);

/* False with "interrupted by SIGINT" (SNAP_E_STATE) once a signal came. */
bool ops_export_check_interrupted(snap_error *err);

/* For snap_proc_opts.cancelled: a signal came. @ctx is unused. */
bool ops_export_cancelled(void *ctx);

/* Reports @done of @total bytes of @file in @step ("convert", "hash",
 * "write", "upload"). @last: the file is complete. */
void ops_export_progress(ops_export_job *job, const char *step,
                         const char *file, uint64_t done, uint64_t total,
                         bool last);

/* Ends a half-drawn TTY line before an error message. */
void ops_export_progress_break(ops_export_job *job);

/* The glance/ progress callback (@ctx: the job): shows the step, cancels
 * on a signal. */
bool ops_export_glance_progress(void *ctx, const glance_progress_info *info,
                                snap_error *err);

/* ---- export_set.c: the set and its domain -------------------------------- */

/* Loads set @id (under the caller's lock), its domain.xml, and checks that
 * it can be exported. */
bool ops_export_load_set(ops_export_job *job, const char *id, snap_error *err);

/* Checks, before anything is converted, that every member can be read. */
bool ops_export_check_readable(ops_export_job *job, snap_error *err);

/* The bus of member @i: <target bus>, else what its name implies;
 * GLANCE_BUS_LAST when an OVF cannot describe it. */
glance_bus ops_export_member_bus(const ops_export_job *job, size_t i);

/* ---- export_stage.c: staging and qemu-img -------------------------------- */

/* Runs qemu-img with @args (NULL-terminated, args[0] "qemu-img", args[1]
 * the subcommand) through snap_proc_run(): stdin from /dev/null, bounded by
 * @timeout_ms, cancelled by a signal. With @out, stdout is captured into
 * *@out (a new string, free(); NULL on failure). Errors: "qemu-img SUB
 * failed: <its last stderr line>", "... killed by signal N: ...", "qemu-img
 * SUB did not finish within N ms (--timeout)", "interrupted by SIGx". */
bool ops_export_qemu_img(const char *const *args, int64_t timeout_ms,
                         char **out, snap_error *err);

/* Makes the job's private staging directory under the staging root
 * (checked: ours, not writable by others) after sweeping what dead exports
 * left there. */
bool ops_export_staging_make(ops_export_job *job, snap_error *err);

/* Converts member @i into the staging directory (job->disks[i]). */
bool ops_export_stage_disk(ops_export_job *job, size_t i, snap_error *err);

#endif
