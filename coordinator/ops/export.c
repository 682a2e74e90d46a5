/* coordinator/ops/export.c -- see export.h; the job itself.
 *
 * The steps, and what each leaves behind on failure (nothing):
 *  1. load the set under the domain's lock and check that it is available
 *     and that every member can be read (a Cinder member needs RBD access;
 *     export_set.c);
 *  2. convert every disk with qemu-img (common/snap_proc.h: no shell,
 *     bounded) into a staging directory of our own (export_stage.c); the
 *     lock is held while the members are read, so that a concurrent
 *     `delete` cannot pull them away;
 *  3. describe the system (domain.xml kept with the set) and its disks in a
 *     glance_ovf model;
 *  4. write the OVA or OVF directory atomically (glance/ova.c), or stream
 *     the OVA into Glance without writing it to disk (two reads of the
 *     staged disks: one for the manifest's digests, one to send them);
 *  5. record the export in the set's exports.json (exports.c).
 * Signals cancel (export_ui.c): see ops_export_run().
 */
#include "coordinator/ops/export_job.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/snap_fs.h"
#include "common/snap_log.h"
#include "common/snap_proc.h"
#include "common/snap_time.h"
#include "common/snap_uuid.h"
#include "glance/glance_upload.h"

static const char *const kind_names[] = {"ova", "ovf", "glance"};

const char *
ops_export_kind_name(ops_export_kind kind)
{
    return kind <= OPS_EXPORT_GLANCE ? kind_names[kind] : "?";
}

void
ops_export_opts_init(ops_export_opts *opts)
{
    memset(opts, 0, sizeof(*opts));
    opts->kind = OPS_EXPORT_OVA;
    opts->format = GLANCE_DISK_FORMAT_VMDK_STREAM;
    opts->timeout_ms = OPS_EXPORT_DEFAULT_TIMEOUT_MS;
    opts->cleanup_ms = OPS_EXPORT_DEFAULT_CLEANUP_MS;
    opts->ceph_conf = getenv("SNAPSET_CEPH_CONF");
    opts->ceph_user = getenv("SNAPSET_CEPH_USER");
    if (!opts->ceph_conf || !*opts->ceph_conf)
        opts->ceph_conf = OPS_EXPORT_DEFAULT_CEPH_CONF;
    if (opts->ceph_user && !*opts->ceph_user)
        opts->ceph_user = NULL;
    opts->ui = OPS_EXPORT_UI_PLAIN;
}

/* ---- the descriptor ---------------------------------------------------- */

static bool
build_ovf(ops_export_job *job, snap_error *err)
{
    const coord_set *set = job->set;
    glance_ovf_facts facts;
    glance_ovf_disk disk;
    glance_ovf_nic nic;
    glance_ovf_member mem;
    uint64_t mib;
    size_t i;

    job->ovf =
        glance_ovf_new(job->info.name ? job->info.name : set->domain_name, err);
    if (!job->ovf)
        return false;
    mib = (job->info.memory_kib + 1023) / 1024;
    if (!glance_ovf_set_hardware(
            job->ovf, job->info.vcpus ? job->info.vcpus : 1, mib ? mib : 1,
            job->info.arch ? job->info.arch : "x86_64", err))
        return false;
    if (job->os_type && !glance_ovf_set_os(job->ovf, job->os_type, err))
        return false;
    memset(&facts, 0, sizeof(facts));
    facts.set_uuid = set->uuid;
    facts.consistency = coord_consistency_name(set->consistency);
    facts.taken_ms = set->created_ms;
    facts.domain = set->domain_name;
    facts.domain_uuid = set->domain_uuid[0] ? set->domain_uuid : NULL;
    if (!glance_ovf_set_facts(job->ovf, &facts, err))
        return false;
    for (i = 0; i < job->ndisks; i++) {
        const ops_export_disk *d = &job->disks[i];

        memset(&disk, 0, sizeof(disk));
        disk.file = d->file;
        disk.file_size = d->file_size;
        disk.capacity = d->capacity;
        disk.populated_size = d->populated;
        disk.format = job->format;
        disk.bus = d->bus;
        disk.target = d->m->target;
        if (!glance_ovf_disk_add(job->ovf, &disk, err))
            return false;
        memset(&mem, 0, sizeof(mem));
        mem.target = d->m->target;
        mem.kind = coord_member_kind_name(d->m->kind);
        mem.source =
            d->m->kind == COORD_MEMBER_CINDER ? d->m->volume_id : d->m->source;
        mem.snapshot = d->m->location;
        if (!glance_ovf_member_add(job->ovf, &mem, err))
            return false;
    }
    for (i = 0; i < job->info.nnics; i++) {
        const coord_nic *c = &job->info.nics[i];

        memset(&nic, 0, sizeof(nic));
        nic.network = c->source ? c->source : c->type;
        if (!nic.network)
            nic.network = "default";
        nic.model = c->model;
        nic.mac = c->mac;
        if (!glance_ovf_nic_add(job->ovf, &nic, err))
            return false;
    }
    return true;
}

/* ---- the record ------------------------------------------------------- */

/* A new entry for this export in state @state. */
static json_t *
export_entry(ops_export_job *job, const char *state)
{
    char when[40];

    snap_iso8601(snap_wall_ms(), when, sizeof(when));
    return json_pack("{s:s, s:s, s:s, s:s, s:s, s:I, s:I}", "id",
                     job->export_id, "kind", ops_export_kind_name(job->kind),
                     "state", state, "disk_format",
                     job->format == GLANCE_DISK_FORMAT_QCOW2 ? "qcow2" : "vmdk",
                     "started", when, "owner_pid", (json_int_t)getpid(),
                     "owner_start", (json_int_t)snap_proc_start_time(getpid()));
}

/* glance_image_opts.created: the image is recorded before its data is
 * sent, so that a killed export leaves a known image. */
static bool
image_created(void *ctx, const char *image_id, snap_error *err)
{
    ops_export_job *job = ctx;
    json_t *entry = export_entry(job, "uploading");
    bool ok;

    if (!entry)
        return snap_error_set(err, SNAP_E_NOMEM, "out of memory");
    json_object_set_new(entry, "image_id", json_string(image_id));
    ok = ops_exports_put(job->ctx, job->set_dir, entry, err);
    json_decref(entry);
    return ok;
}

/* ---- the outputs ------------------------------------------------------- */

static const char **
staged_paths(ops_export_job *job, snap_error *err)
{
    const char **paths = calloc(job->ndisks + 1, sizeof(*paths));
    size_t i;

    if (!paths) {
        snap_error_set(err, SNAP_E_NOMEM, "out of memory");
        return NULL;
    }
    for (i = 0; i < job->ndisks; i++)
        paths[i] = job->disks[i].staged;
    return paths;
}

/* The default image name: "<domain> <set uuid> <date>". */
static void
default_name(ops_export_job *job, char *buf, size_t size)
{
    char when[40];

    snap_iso8601(job->set->created_ms, when, sizeof(when));
    snprintf(buf, size, "%s snapset %.8s %.19s", job->set->domain_name,
             job->set->uuid, when);
}

static bool
do_glance(ops_export_job *job, json_t *result, snap_error *err)
{
    glance_progress progress = {ops_export_glance_progress, job};
    glance_ova_stream *stream = NULL;
    glance_image_source src;
    glance_image_outcome outcome;
    glance_image_property props[5];
    glance_image_opts opts;
    const char **paths = NULL;
    char name[256], *image = NULL;
    json_t *entry = NULL;
    snap_error uerr = {0};
    bool ok = false;

    paths = staged_paths(job, err);
    if (!paths)
        goto cleanup;
    /* Images of exports killed during their upload. */
    ops_exports_sweep(job->ctx, job->set_dir); /* best effort */
    stream =
        glance_ova_stream_new(job->ovf, paths, job->ndisks, &progress, err);
    if (!stream)
        goto cleanup;
    glance_image_source_from_ova(&src, stream);
    if (job->name)
        snprintf(name, sizeof(name), "%s", job->name);
    else
        default_name(job, name, sizeof(name));
    props[0].key = COORD_MD_SET;
    props[0].value = job->set->uuid;
    props[1].key = COORD_MD_DOMAIN;
    props[1].value = job->set->domain_name;
    props[2].key = COORD_MD_CONSISTENCY;
    props[2].value = coord_consistency_name(job->set->consistency);
    props[3].key = "image_type";
    props[3].value = "backup";
    props[4].key = "snapset_export";
    props[4].value = job->export_id;
    memset(&opts, 0, sizeof(opts));
    opts.name = name;
    opts.container_format = "ova";
    opts.disk_format =
        job->format == GLANCE_DISK_FORMAT_QCOW2 ? "qcow2" : "vmdk";
    opts.properties = props;
    opts.nproperties = 5;
    opts.created = image_created;
    opts.created_ctx = job;
    opts.delete_timeout_ms = job->cleanup_ms;
    image = glance_image_create_stream(job->ctx->os.session, &src, &opts,
                                       &outcome, &uerr);
    if (!image) {
        snap_error_set(err, uerr.code, "%s", uerr.msg);
        if (outcome.id[0] && outcome.left_behind) {
            /* Glance stayed unreachable: say so, and keep the record so
             * that the next export (or delete --with-exports) removes it. */
            entry = export_entry(job, "left-behind");
            if (entry) {
                json_object_set_new(entry, "image_id", json_string(outcome.id));
                /* best effort: the message below says it all */
                (void)ops_exports_put(job->ctx, job->set_dir, entry, NULL);
            }
            snap_error_set(err, SNAP_E_STATE, "image %s could not be deleted",
                           outcome.id);
            ops_export_progress_break(job);
            fprintf(stderr,
                    "snapset: image %s of the failed export could not be "
                    "deleted (Glance unreachable for %lld ms); it is recorded "
                    "in %s/%s and the next export of this set deletes it\n",
                    outcome.id, (long long)job->cleanup_ms, job->set_dir,
                    OPS_EXPORTS_FILE);
        } else if (outcome.id[0]) {
            /* best effort: a stale entry is swept by the next export */
            (void)ops_exports_drop(job->ctx, job->set_dir, job->export_id,
                                   NULL);
        }
        goto cleanup;
    }
    entry = export_entry(job, "complete");
    if (!entry) {
        snap_error_set(err, SNAP_E_NOMEM, "out of memory");
        goto cleanup;
    }
    json_object_set_new(entry, "image_id", json_string(image));
    json_object_set_new(entry, "name", json_string(name));
    json_object_set_new(
        entry, "size",
        json_integer((json_int_t)glance_ova_stream_size(stream)));
    json_object_set_new(entry, "sha512", json_string(outcome.sha512));
    if (!ops_exports_put(job->ctx, job->set_dir, entry, err))
        goto cleanup; /* the image stays: it is complete and verified */
    ops_event(job->ctx, "create", "image", image, job->set, NULL);
    json_object_set_new(result, "image_id", json_string(image));
    json_object_set_new(result, "name", json_string(name));
    json_object_set_new(
        result, "size",
        json_integer((json_int_t)glance_ova_stream_size(stream)));
    json_object_set_new(result, "sha512", json_string(outcome.sha512));
    ok = true;

cleanup:
    json_decref(entry);
    glance_ova_stream_free(stream);
    free(paths);
    free(image);
    return ok;
}

/* The names glance_ovf_dir_write() writes: descriptor, manifest, disks. */
static json_t *
package_files(ops_export_job *job)
{
    const char *base = glance_ovf_package_name(job->ovf);
    json_t *files = json_array();
    char name[512];
    size_t i;

    if (!files)
        return NULL;
    snprintf(name, sizeof(name), "%s.ovf", base);
    json_array_append_new(files, json_string(name));
    snprintf(name, sizeof(name), "%s.mf", base);
    json_array_append_new(files, json_string(name));
    for (i = 0; i < job->ndisks; i++)
        json_array_append_new(files,
                              json_string(glance_ovf_disk_file(job->ovf, i)));
    return files;
}

bool
ops_export_record_file(ops_export_job *job, json_t *result, bool made_dir,
                       snap_error *err)
{
    json_t *entry = NULL;
    struct stat st;
    snap_file_id id = {0, 0};
    snap_error rec = {0};
    char *abs = NULL;

    (void)err; /* nothing here fails the export */
    abs = realpath(job->target, NULL);
    json_object_set_new(result, "path", json_string(abs ? abs : job->target));
    if (job->kind == OPS_EXPORT_OVA && stat(job->target, &st) == 0)
        json_object_set_new(result, "size",
                            json_integer((json_int_t)st.st_size));
    entry = export_entry(job, "complete");
    if (entry) {
        json_object_set_new(entry, "path",
                            json_string(abs ? abs : job->target));
        if (json_object_get(result, "size"))
            json_object_set(entry, "size", json_object_get(result, "size"));
        /* What delete --with-exports may remove, and only that: the file
         * or directory (by identity, so that a swapped one is left) and,
         * for a directory, the names we wrote in it. */
        if (snap_file_id_get(abs ? abs : job->target, &id, NULL)) {
            json_object_set_new(entry, "dev", json_integer((json_int_t)id.dev));
            json_object_set_new(entry, "ino", json_integer((json_int_t)id.ino));
        }
        if (job->kind == OPS_EXPORT_OVF) {
            json_object_set_new(entry, "files", package_files(job));
            json_object_set_new(entry, "dir_created", json_boolean(made_dir));
        }
        /* The package is written; failing to record it is only a warning
         * (a file needs no cleanup by snapset). Its own error, so that the
         * caller's @err -- and an error recorded there first -- is left as
         * it was (issue 13: it used to be cleared). */
        if (!ops_exports_put(job->ctx, job->set_dir, entry, &rec))
            snap_warn("the export is not recorded in %s/%s: %s", job->set_dir,
                      OPS_EXPORTS_FILE, rec.msg);
    }
    json_decref(entry);
    free(abs);
    return true;
}

static bool
do_file(ops_export_job *job, json_t *result, snap_error *err)
{
    glance_progress progress = {ops_export_glance_progress, job};
    const char **paths = NULL;
    struct stat st;
    bool made_dir, ok = false;

    paths = staged_paths(job, err);
    if (!paths)
        return false;
    made_dir = job->kind == OPS_EXPORT_OVF && lstat(job->target, &st) < 0 &&
               errno == ENOENT;
    if (job->kind == OPS_EXPORT_OVA)
        ok = glance_ova_write_progress(job->target, job->ovf, paths,
                                       job->ndisks, &progress, err);
    else
        ok = glance_ovf_dir_write_progress(job->target, job->ovf, paths,
                                           job->ndisks, &progress, err);
    free(paths);
    if (!ok)
        return false;
    return ops_export_record_file(job, result, made_dir, err);
}

static void
job_release(ops_export_job *job)
{
    size_t i;

    if (job->staging && !snap_dir_remove_files(job->staging, NULL))
        snap_warn("cannot remove the staging directory '%s'", job->staging);
    for (i = 0; job->disks && i < job->ndisks; i++)
        free(job->disks[i].staged);
    free(job->disks);
    if (job->have_info)
        coord_domain_info_release(&job->info);
    glance_ovf_free(job->ovf);
    coord_set_free(job->set);
    free(job->set_dir);
    free(job->staging);
    free(job->os_type);
}

/* --ovf DIR: a directory that holds files already is refused (unless
 * --force): its files would be mixed with the package's. A missing or
 * empty directory is fine. */
static bool
dir_empty_or_missing(const char *path, snap_error *err)
{
    struct dirent *e;
    DIR *d;
    int fd;
    bool empty = true;

    fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT)
            return true;
        return snap_error_set_errno(err, errno, "cannot use --ovf '%s'", path);
    }
    d = fdopendir(fd);
    if (!d) {
        int saved = errno;

        close(fd);
        return snap_error_set_errno(err, saved, "cannot read '%s'", path);
    }
    for (e = readdir(d); e && empty; e = readdir(d))
        empty = strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0;
    closedir(d);
    if (!empty)
        return snap_error_set(err, SNAP_E_STATE,
                              "'%s' is not empty (--force writes the package "
                              "into it beside its files)",
                              path);
    return true;
}

static bool
export_run(ops_export_job *job, const char *set_id, json_t *result,
           snap_error *err)
{
    ops_ctx *ctx = job->ctx;
    coord_set *probe = NULL;
    json_t *disks;
    struct stat st;
    size_t i;
    int lock = -1;
    bool ok = false;

    if (!ops_catalog(ctx, err))
        return false;
    probe = coord_catalog_load(ctx->catalog, set_id, err);
    if (!probe)
        return false;
    /* Refuse early what cannot work, before anything is converted. */
    if (job->kind == OPS_EXPORT_OVA && !job->force &&
        lstat(job->target, &st) == 0) {
        snap_error_set(err, SNAP_E_STATE,
                       "'%s' already exists (--force replaces it)",
                       job->target);
        goto cleanup;
    }
    if (job->kind == OPS_EXPORT_OVF && !job->force &&
        !dir_empty_or_missing(job->target, err))
        goto cleanup;
    if (job->kind == OPS_EXPORT_GLANCE && !ops_openstack(ctx, err))
        goto cleanup;
    /* The members are read under the domain's lock: `delete` waits until
     * they are staged. */
    lock = ops_lock(ctx, probe->domain_uuid, err);
    if (lock < 0)
        goto cleanup;
    if (!ops_export_load_set(job, probe->uuid, err) ||
        !ops_export_check_readable(job, err))
        goto cleanup;
    snap_uuid_generate(job->export_id);
    if (!ops_export_staging_make(job, err))
        goto cleanup;
    job->disks = calloc(job->set->nmembers, sizeof(*job->disks));
    if (!job->disks) {
        snap_error_set(err, SNAP_E_NOMEM, "out of memory");
        goto cleanup;
    }
    for (i = 0; i < job->set->nmembers; i++) {
        job->ndisks = i + 1;
        if (!ops_export_stage_disk(job, i, err))
            goto cleanup;
    }
    coord_catalog_unlock(lock);
    lock = -1;

    if (!build_ovf(job, err) || !ops_export_check_interrupted(err))
        goto cleanup;
    json_object_set_new(result, "set", json_string(job->set->uuid));
    json_object_set_new(result, "domain", json_string(job->set->domain_name));
    json_object_set_new(result, "kind",
                        json_string(ops_export_kind_name(job->kind)));
    json_object_set_new(result, "export_id", json_string(job->export_id));
    disks = json_array();
    for (i = 0; i < job->ndisks; i++) {
        const ops_export_disk *d = &job->disks[i];

        json_array_append_new(
            disks,
            json_pack("{s:s, s:s, s:s, s:I, s:I, s:I}", "target", d->m->target,
                      "kind", coord_member_kind_name(d->m->kind), "file",
                      d->file, "capacity", (json_int_t)d->capacity, "populated",
                      (json_int_t)d->populated, "size",
                      (json_int_t)d->file_size));
    }
    json_object_set_new(result, "disks", disks);
    if (job->kind == OPS_EXPORT_GLANCE)
        ok = do_glance(job, result, err);
    else
        ok = do_file(job, result, err);
    if (ok)
        json_object_set_new(
            result, "elapsed_ms",
            json_integer((json_int_t)(snap_now_ms() - job->t_start)));

cleanup:
    coord_catalog_unlock(lock);
    coord_set_free(probe);
    return ok;
}

bool
ops_export_run(ops_ctx *ctx, const char *set_id, const ops_export_opts *opts,
               json_t *result, snap_error *err)
{
    ops_export_job job;
    bool ok;

    memset(&job, 0, sizeof(job));
    job.ctx = ctx;
    job.kind = opts->kind;
    job.target = opts->target;
    job.name = opts->name;
    job.format = opts->format;
    job.timeout_ms = opts->timeout_ms;
    job.cleanup_ms = opts->cleanup_ms;
    job.ceph_conf =
        opts->ceph_conf ? opts->ceph_conf : OPS_EXPORT_DEFAULT_CEPH_CONF;
    job.ceph_user = opts->ceph_user;
    job.staging_root = opts->staging_root;
    job.force = opts->force;
    job.ui = opts->ui;
    job.t_start = snap_now_ms();

    ops_export_signals_catch();
    ok = export_run(&job, set_id, result, err);
    job_release(&job); /* the staging directory goes on every path */
    ops_export_signals_restore();
    if (!ok)
        ops_export_progress_break(&job);
    return ok;
}
