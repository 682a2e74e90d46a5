/* coordinator/ops/export_child.c -- an export in a child process: what
 * `serve` and policy runs use, so that a long export has its own signal
 * handling and cleanup and shares nothing with the caller's threads (see
 * export.h). */
#define _GNU_SOURCE /* mkostemp() */
#include "coordinator/ops/export.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/snap_fs.h"
#include "common/snap_proc.h"

#define MAX_EVENTS                                                             \
    (16 << 20) /* a child export's --json events: a line                       \
                  a second at most, for hours */

bool
ops_export_child(ops_ctx *ctx, const char *set_uuid, const ops_export_req *req,
                 json_t **result, snap_error *err)
{
    char timeout[24], lock[24], path[] = "/tmp/snapset-export-XXXXXX";
    const char *argv[24];
    char *out = NULL, *line, *save = NULL;
    json_t *last = NULL;
    snap_proc_opts o;
    snap_error run = {0};
    size_t len;
    int fd, argc = 0;
    bool ran;

    *result = NULL;
    snprintf(timeout, sizeof(timeout), "%lld", (long long)req->timeout_ms);
    snprintf(lock, sizeof(lock), "%lld", (long long)ctx->conf.lock_timeout_ms);
    argv[argc++] = "/proc/self/exe";
    argv[argc++] = "--uri";
    argv[argc++] = ctx->conf.libvirt_uri;
    argv[argc++] = "--catalog-dir";
    argv[argc++] = ctx->conf.catalog_dir;
    argv[argc++] = "--lock-timeout";
    argv[argc++] = lock;
    argv[argc++] = "export";
    argv[argc++] = set_uuid;
    if (strcmp(req->kind, "glance") == 0) {
        argv[argc++] = "--glance";
        if (req->name) {
            argv[argc++] = "--name";
            argv[argc++] = req->name;
        }
    } else {
        argv[argc++] = "--ova";
        argv[argc++] = req->target;
    }
    if (req->disk_format) {
        argv[argc++] = "--disk-format";
        argv[argc++] = req->disk_format;
    }
    argv[argc++] = "--json";
    argv[argc++] = "--timeout";
    argv[argc++] = timeout;
    argv[argc] = NULL;

    /* Its JSON events go to a file of ours, read when it has ended. */
    fd = mkostemp(path, O_CLOEXEC);
    if (fd < 0)
        return snap_error_set_errno(err, errno, "cannot start the export");
    /* Its own --timeout bounds each conversion; this bounds the whole,
     * with room for its cleanup. */
    memset(&o, 0, sizeof(o));
    o.argv = argv;
    o.what = "export";
    o.timeout_ms = req->timeout_ms * 2 + OPS_EXPORT_DEFAULT_CLEANUP_MS;
    o.out = SNAP_PROC_STDOUT_FD;
    o.stdout_fd = fd;
    /* snap_proc closes every descriptor above 2 in the child: the caller's
     * threads' (curl's resolver opens some without close-on-exec) too. */
    ran = snap_proc_run(&o, NULL, &run);
    close(fd);
    out = snap_file_read(path, MAX_EVENTS, &len, NULL);
    (void)unlink(path);
    /* The last JSON line is the outcome: {"event":"done",...} or
     * {"event":"error","message":...}. */
    for (line = out ? strtok_r(out, "\n", &save) : NULL; line;
         line = strtok_r(NULL, "\n", &save)) {
        json_t *ev = json_loads(line, 0, NULL);
        const char *kind = json_string_value(json_object_get(ev, "event"));

        if (kind && (strcmp(kind, "done") == 0 || strcmp(kind, "error") == 0)) {
            json_decref(last);
            last = ev;
        } else {
            json_decref(ev);
        }
    }
    free(out);
    if (ran && last &&
        strcmp(json_string_value(json_object_get(last, "event")), "done") ==
            0) {
        json_object_del(last, "event");
        *result = last;
        return true;
    }
    if (last && json_string_value(json_object_get(last, "message")))
        snap_error_set(err, SNAP_E_STATE, "%s",
                       json_string_value(json_object_get(last, "message")));
    else
        snap_error_set(err, run.code ? run.code : SNAP_E_STATE, "%s",
                       run.msg[0] ? run.msg : "the export said nothing");
    json_decref(last);
    return false;
}
