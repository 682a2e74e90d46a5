/* coordinator/ops/export.c -- see export.h.
 *
 * The steps, and what each leaves behind on failure (nothing):
 *  1. load the set under the domain's lock and check that it is available
 *     and that every member can be read (a Cinder member needs RBD access);
 *  2. convert every disk with qemu-img (fork/exec, no shell, bounded) into a
 *     staging directory of our own; the lock is held while the members are
 *     read, so that a concurrent `delete` cannot pull them away;
 *  3. describe the system (domain.xml kept with the set) and its disks in a
 *     glance_ovf model;
 *  4. write the OVA or OVF directory atomically (glance/ova.c), or stream
 *     the OVA into Glance without writing it to disk (two reads of the
 *     staged disks: one for the manifest's digests, one to send them);
 *  5. record the export in the set's exports.json.
 * SIGINT, SIGTERM and SIGHUP cancel at the next chunk or poll (200 ms): the
 * child is killed, staged files and partial outputs are removed, a created
 * image is deleted. A second signal kills at once; what it leaves (staging,
 * an image recorded as "uploading") is swept by the next export.
 */
#define _GNU_SOURCE /* flock(), dprintf() beside POSIX */
#include "coordinator/ops/export.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <jansson.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/snap_fs.h"
#include "common/snap_log.h"
#include "common/snap_proc.h"
#include "common/snap_time.h"
#include "common/snap_uuid.h"
#include "virt/qimg.h"
#include "coordinator/coord_domxml.h"
#include "glance/glance.h"
#include "glance/glance_upload.h"

#define EXIT_USAGE 2

#define DEFAULT_TIMEOUT_MS (6LL * 3600 * 1000) /* one qemu-img run */
#define DEFAULT_CLEANUP_MS 30000 /* deleting a failed image, Glance down */
#define DEFAULT_CEPH_CONF "/etc/ceph/ceph.conf"
#define KILL_GRACE_MS 5000    /* SIGTERM, then SIGKILL */
#define POLL_MS 200           /* signals and deadlines are seen this fast */
#define MAX_CAPTURE (1 << 20) /* qemu-img's stdout we keep (JSON) */
#define MAX_STDERR 2048       /* ... and the end of its stderr */
#define MAX_EVENTS (16 << 20) /* a child export's --json events: a line
                                 a second at most, for hours */
#define EXPORTS_FILE "exports.json"
#define EXPORTS_MAX (16 << 20)

typedef enum export_kind {
    EXPORT_OVA = 0,
    EXPORT_OVF,
    EXPORT_GLANCE,
} export_kind;

static const char *const kind_names[] = {"ova", "ovf", "glance"};

typedef enum ui_mode {
    UI_TTY = 0, /* a line per disk, redrawn in place */
    UI_PLAIN,   /* a line per disk when done, and every 10 s */
    UI_JSON,    /* JSON events on stdout, one per line */
} ui_mode;

/* One disk of the package. */
typedef struct ex_disk {
    const coord_member *m; /* borrowed from job->set */
    char file[64];         /* name in the package: "vda.vmdk" */
    char *staged;          /* path of the converted file */
    glance_bus bus;
    uint64_t capacity;  /* virtual size */
    uint64_t populated; /* bytes with data (qemu-img map), 0: unknown */
    uint64_t file_size;
} ex_disk;

typedef struct export_job {
    ops_ctx *ctx;
    /* options */
    export_kind kind;
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
    char **buses;  /* per member, <target bus>, or NULL */
    char *staging; /* our own staging directory */
    ex_disk *disks;
    size_t ndisks;
    glance_ovf *ovf;
    char export_id[SNAP_UUID_LEN];
    /* progress */
    ui_mode ui;
    int64_t t_start; /* the whole export */
    int64_t t_step;  /* the current disk or step */
    int64_t t_print; /* last progress output */
    const char *ui_step;
    const char *ui_file;
    bool ui_open; /* a TTY line is being redrawn */
} export_job;

/* ---- signals ----------------------------------------------------------- */

static volatile sig_atomic_t interrupted;
static struct sigaction saved_int, saved_term, saved_hup;

static void
on_signal(int signo)
{
    if (interrupted) {
        /* Second signal: the user insists. Die of it; the journal and the
         * staging sweep cover what is left. */
        signal(signo, SIG_DFL);
        raise(signo);
        return;
    }
    interrupted = signo;
}

static void
signals_catch(void)
{
    struct sigaction sa;

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0; /* no SA_RESTART: poll() returns at once */
    interrupted = 0;
    sigaction(SIGINT, &sa, &saved_int);
    sigaction(SIGTERM, &sa, &saved_term);
    sigaction(SIGHUP, &sa, &saved_hup);
}

static void
signals_restore(void)
{
    sigaction(SIGINT, &saved_int, NULL);
    sigaction(SIGTERM, &saved_term, NULL);
    sigaction(SIGHUP, &saved_hup, NULL);
}

static bool
check_interrupted(snap_error *err)
{
    const char *name = "SIGHUP";

    if (!interrupted)
        return true;
    if (interrupted == SIGINT)
        name = "SIGINT";
    else if (interrupted == SIGTERM)
        name = "SIGTERM";
    return snap_error_set(err, SNAP_E_STATE, "interrupted by %s", name);
}

/* ---- progress ---------------------------------------------------------- */

static void
human_bytes(char *buf, size_t size, double v)
{
    static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    size_t u = 0;

    while (v >= 1024 && u + 1 < sizeof(units) / sizeof(units[0])) {
        v /= 1024;
        u++;
    }
    if (u == 0)
        snprintf(buf, size, "%.0f %s", v, units[u]);
    else
        snprintf(buf, size, "%.1f %s", v, units[u]);
}

/* Reports @done of @total bytes of @file in @step ("convert", "hash",
 * "write", "upload"). @last: the file is complete. */
static void
ui_progress(export_job *job, const char *step, const char *file, uint64_t done,
            uint64_t total, bool last)
{
    int64_t now = snap_now_ms(), ms;
    double rate;
    char d[32], t[32], r[32];

    if (job->ui_step != step || !job->ui_file || strcmp(job->ui_file, file)) {
        job->ui_step = step;
        job->ui_file = file;
        job->t_step = now;
        job->t_print = 0;
    }
    ms = now - job->t_step;
    rate = (double)done * 1000.0 / (double)(ms > 0 ? ms : 1);
    if (!last) {
        int64_t every = 10000; /* plain lines */

        if (job->ui == UI_TTY)
            every = 250;
        else if (job->ui == UI_JSON)
            every = 1000;

        if (job->t_print && now - job->t_print < every)
            return;
        if (!job->t_print && job->ui == UI_PLAIN) {
            job->t_print = now; /* plain: no line at the start */
            return;
        }
    }
    job->t_print = now;
    if (job->ui == UI_JSON) {
        json_t *ev =
            json_pack("{s:s, s:s, s:s, s:I, s:I, s:I, s:b}", "event",
                      "progress", "step", step, "file", file, "done",
                      (json_int_t)done, "total", (json_int_t)total,
                      "bytes_per_s", (json_int_t)rate, "complete", last);
        char *text =
            ev ? json_dumps(ev, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;

        if (text)
            printf("%s\n", text);
        fflush(stdout);
        free(text);
        json_decref(ev);
        return;
    }
    human_bytes(d, sizeof(d), (double)done);
    human_bytes(t, sizeof(t), (double)total);
    human_bytes(r, sizeof(r), rate);
    if (job->ui == UI_TTY) {
        int pct = total ? (int)(done * 100 / total) : 0;
        int bars = pct / 5;

        fprintf(stderr, "\r%-7s %-12s [%.*s%*s] %3d%% %10s / %-10s %10s/s ",
                step, file, bars, "####################", 20 - bars, "", pct, d,
                t, r);
        job->ui_open = !last;
        if (last)
            fprintf(stderr, "%6.1f s\n", (double)ms / 1000.0);
    } else {
        fprintf(stderr, "%s %s: %s of %s, %s/s%s\n", step, file, d, t, r,
                last ? ", done" : "");
    }
    fflush(stderr);
}

/* Ends a half-drawn TTY line before an error message. */
static void
ui_break(export_job *job)
{
    if (job->ui == UI_TTY && job->ui_open) {
        fputc('\n', stderr);
        job->ui_open = false;
    }
}

/* The glance/ progress callback: shows the step, cancels on a signal. */
static bool
glance_progress_cb(void *ctx, const glance_progress_info *info, snap_error *err)
{
    export_job *job = ctx;
    const char *step = job->kind == EXPORT_GLANCE ? "upload" : "write";

    if (strcmp(info->step, "hash") == 0)
        step = "hash";

    if (!check_interrupted(err))
        return false;
    ui_progress(job, step, info->file, info->file_done, info->file_size,
                info->file_done == info->file_size);
    return true;
}

/* ---- running qemu-img -------------------------------------------------- */

typedef struct run_out {
    char *out; /* stdout, when captured (NUL-terminated) */
    size_t out_len;
    char err[MAX_STDERR + 1]; /* the end of stderr */
    size_t err_len;
} run_out;

static void
append_err(run_out *r, const char *buf, size_t n)
{
    if (n >= MAX_STDERR) {
        buf += n - MAX_STDERR;
        n = MAX_STDERR;
    }
    if (r->err_len + n > MAX_STDERR) {
        size_t drop = r->err_len + n - MAX_STDERR;

        memmove(r->err, r->err + drop, r->err_len - drop);
        r->err_len -= drop;
    }
    memcpy(r->err + r->err_len, buf, n);
    r->err_len += n;
    r->err[r->err_len] = '\0';
}

/* The last non-empty line of qemu-img's stderr, for messages. */
static const char *
last_line(run_out *r)
{
    char *p;

    while (r->err_len > 0 &&
           (r->err[r->err_len - 1] == '\n' || r->err[r->err_len - 1] == '\r'))
        r->err[--r->err_len] = '\0';
    p = strrchr(r->err, '\n');
    p = p ? p + 1 : r->err;
    if (strncmp(p, "qemu-img: ", 10) == 0)
        p += 10;
    return *p ? p : "no message";
}

/* Progress of `qemu-img convert -p`: "    (12.34/100%)\r" on stdout. */
typedef struct convert_progress {
    export_job *job;
    const char *file;
    uint64_t total;
    char line[64];
    size_t len;
} convert_progress;

static void
convert_feed(convert_progress *cp, const char *buf, size_t n)
{
    double pct;
    size_t i;

    for (i = 0; i < n; i++) {
        if (buf[i] == '\r' || buf[i] == '\n') {
            cp->line[cp->len] = '\0';
            if (sscanf(cp->line, " (%lf/100%%)", &pct) == 1 && pct >= 0 &&
                pct < 100)
                ui_progress(cp->job, "convert", cp->file,
                            (uint64_t)((double)cp->total * pct / 100.0),
                            cp->total, false);
            cp->len = 0;
        } else if (cp->len + 1 < sizeof(cp->line)) {
            cp->line[cp->len++] = buf[i];
        }
    }
}

static void
close_fd(int *fd)
{
    if (*fd >= 0)
        close(*fd);
    *fd = -1;
}

/* Stops @pid: SIGTERM, then SIGKILL after a grace period; reaps it. */
static void
child_stop(pid_t pid)
{
    int64_t deadline = snap_now_ms() + KILL_GRACE_MS;
    int status;

    (void)kill(pid, SIGTERM);
    while (waitpid(pid, &status, WNOHANG) == 0) {
        if (snap_ms_left(deadline) <= 0) {
            (void)kill(pid, SIGKILL);
            (void)waitpid(pid, &status, 0);
            return;
        }
        snap_sleep_ms(50);
    }
}

/* Runs qemu-img with @args (NULL-terminated, args[0] "qemu-img"), stdin
 * from /dev/null, bounded by @timeout_ms and cancelled by a signal. With
 * @capture, stdout is kept in @r->out; with @cp it feeds the progress. */
static bool
run_qemu_img(const char *const *args, int64_t timeout_ms, bool capture,
             convert_progress *cp, run_out *r, snap_error *err)
{
    int outp[2] = {-1, -1}, errp[2] = {-1, -1}, devnull = -1, status;
    int64_t deadline = snap_now_ms() + timeout_ms;
    struct pollfd pfd[2];
    char buf[4096];
    pid_t pid = -1;
    ssize_t n;
    bool ok = false, timed_out = false;

    memset(r, 0, sizeof(*r));
    /* Close-on-exec from the start: no other thread's child inherits them;
     * dup2() in our child clears the flag on its 1 and 2. */
    if (pipe2(outp, O_CLOEXEC) < 0 || pipe2(errp, O_CLOEXEC) < 0) {
        snap_error_set_errno(err, errno, "cannot run qemu-img");
        goto cleanup;
    }
    devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (devnull < 0) {
        snap_error_set_errno(err, errno, "cannot open /dev/null");
        goto cleanup;
    }
    fflush(stdout);
    fflush(stderr);
    pid = fork();
    if (pid < 0) {
        snap_error_set_errno(err, errno, "cannot run qemu-img");
        goto cleanup;
    }
    if (pid == 0) {
        /* The child: default signals, dies with us (an orphaned convert
         * would go on filling the staging directory). */
        signal(SIGINT, SIG_DFL);
        signal(SIGTERM, SIG_DFL);
        signal(SIGHUP, SIG_DFL);
        signal(SIGPIPE, SIG_DFL);
        (void)prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (dup2(devnull, 0) < 0 || dup2(outp[1], 1) < 0 ||
            dup2(errp[1], 2) < 0)
            _exit(127);
        execvp(args[0], (char *const *)args);
        dprintf(2, "qemu-img: cannot run %s: %s\n", args[0], strerror(errno));
        _exit(127);
    }
    close_fd(&outp[1]);
    close_fd(&errp[1]);

    while (outp[0] >= 0 || errp[0] >= 0) {
        int nfds = 0, rc, i;

        if (interrupted || snap_ms_left(deadline) <= 0) {
            timed_out = !interrupted;
            child_stop(pid);
            pid = -1;
            break;
        }
        if (outp[0] >= 0) {
            pfd[nfds].fd = outp[0];
            pfd[nfds++].events = POLLIN;
        }
        if (errp[0] >= 0) {
            pfd[nfds].fd = errp[0];
            pfd[nfds++].events = POLLIN;
        }
        rc = poll(pfd, (nfds_t)nfds, POLL_MS);
        if (rc < 0 && errno == EINTR)
            continue;
        if (rc < 0) {
            snap_error_set_errno(err, errno, "cannot watch qemu-img");
            child_stop(pid);
            pid = -1;
            goto cleanup;
        }
        for (i = 0; i < nfds; i++) {
            if (!pfd[i].revents)
                continue;
            n = read(pfd[i].fd, buf, sizeof(buf));
            if (n < 0 && errno == EINTR)
                continue;
            if (n <= 0) {
                close_fd(pfd[i].fd == outp[0] ? &outp[0] : &errp[0]);
                continue;
            }
            if (pfd[i].fd == errp[0]) {
                append_err(r, buf, (size_t)n);
            } else if (cp) {
                convert_feed(cp, buf, (size_t)n);
            } else if (capture) {
                char *p;

                if (r->out_len + (size_t)n > MAX_CAPTURE)
                    continue; /* far more than any JSON we read */
                p = realloc(r->out, r->out_len + (size_t)n + 1);
                if (!p) {
                    snap_error_set(err, SNAP_E_NOMEM, "out of memory");
                    child_stop(pid);
                    pid = -1;
                    goto cleanup;
                }
                r->out = p;
                memcpy(r->out + r->out_len, buf, (size_t)n);
                r->out_len += (size_t)n;
                r->out[r->out_len] = '\0';
            }
        }
    }
    if (pid < 0) {
        if (!check_interrupted(err))
            goto cleanup;
        if (timed_out)
            snap_error_set(err, SNAP_E_TIMEOUT,
                           "qemu-img %s did not finish within %lld ms "
                           "(--timeout)",
                           args[1], (long long)timeout_ms);
        goto cleanup;
    }
    /* Both pipes closed: the child is exiting. */
    while (waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR) {
            snap_error_set_errno(err, errno, "cannot wait for qemu-img");
            pid = -1;
            goto cleanup;
        }
    }
    pid = -1;
    if (!check_interrupted(err))
        goto cleanup;
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        if (WIFSIGNALED(status))
            snap_error_set(err, SNAP_E_SYSTEM,
                           "qemu-img %s killed by signal "
                           "%d: %s",
                           args[1], WTERMSIG(status), last_line(r));
        else
            snap_error_set(err, SNAP_E_SYSTEM, "qemu-img %s failed: %s",
                           args[1], last_line(r));
        goto cleanup;
    }
    ok = true;

 cleanup:
    if (pid > 0)
        child_stop(pid);
    close_fd(&outp[0]);
    close_fd(&outp[1]);
    close_fd(&errp[0]);
    close_fd(&errp[1]);
    close_fd(&devnull);
    if (!ok) {
        free(r->out);
        r->out = NULL;
    }
    return ok;
}

/* `qemu-img info --output=json`: the virtual size of @image. */
static bool
image_virtual_size(export_job *job, const char *format, const char *image,
                   const char *what, uint64_t *size, snap_error *err)
{
    const char *args[] = {"qemu-img", "info", "--output=json", "-f", format,
                          image,      NULL};
    run_out r;
    json_t *doc = NULL, *v;
    bool ok = false;

    if (!run_qemu_img(args, job->timeout_ms, true, NULL, &r, err)) {
        snap_error_set(err, SNAP_E_SYSTEM, "cannot read %s", what);
        return false;
    }
    doc = json_loads(r.out ? r.out : "", 0, NULL);
    v = json_object_get(doc, "virtual-size");
    if (!json_is_integer(v) || json_integer_value(v) <= 0) {
        snap_error_set(err, SNAP_E_INVALID,
                       "qemu-img info of %s: no virtual size", what);
        goto cleanup;
    }
    *size = (uint64_t)json_integer_value(v);
    ok = true;

 cleanup:
    json_decref(doc);
    free(r.out);
    return ok;
}

/* `qemu-img map --output=json`: bytes of @image that hold data. 0 when
 * unknown (the descriptor then leaves populatedSize out). */
static uint64_t
image_populated(export_job *job, const char *format, const char *image)
{
    const char *args[] = {"qemu-img", "map", "--output=json", "-f", format,
                          image,      NULL};
    run_out r;
    json_t *doc, *e;
    uint64_t sum = 0;
    size_t i;

    if (!run_qemu_img(args, job->timeout_ms, true, NULL, &r, NULL))
        return 0; /* only a hint for importers */
    doc = json_loads(r.out ? r.out : "", 0, NULL);
    json_array_foreach(doc, i, e)
    {
        if (json_is_true(json_object_get(e, "data")))
            sum += (uint64_t)json_integer_value(json_object_get(e, "length"));
    }
    json_decref(doc);
    free(r.out);
    return sum;
}

/* ---- the set and its domain -------------------------------------------- */

/* The guest OS named by libosinfo metadata (virt-install writes it), as
 * glance_ovf_set_os() knows them. */
static const char *
os_from_libosinfo(const char *id)
{
    static const struct {
        const char *needle, *os;
    } map[] = {
        {"debian.org/debian", "debian"},  {"ubuntu.com/ubuntu", "ubuntu"},
        {"redhat.com/rhel", "rhel"},      {"centos.org/centos", "centos"},
        {"suse.com/sles", "sles"},        {"freebsd.org/freebsd", "freebsd"},
        {"microsoft.com/win", "windows"},
    };
    size_t i;

    for (i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
        if (strstr(id, map[i].needle))
            return map[i].os;
    }
    if (strstr(id, "fedoraproject.org") || strstr(id, "archlinux.org") ||
        strstr(id, "alpinelinux.org") || strstr(id, "opensuse.org") ||
        strstr(id, "almalinux.org") || strstr(id, "rockylinux.org"))
        return "linux";
    return NULL;
}

/* What coord_domxml_parse() does not give: each disk's <target bus> and
 * the libosinfo OS id. */
static bool
domxml_extras(export_job *job, const char *xml, snap_error *err)
{
    xmlDocPtr doc;
    xmlNodePtr root, n, c, t;
    xmlChar *dev, *bus;
    size_t i;

    doc = xmlReadMemory(xml, (int)strlen(xml), "domain.xml", NULL,
                        XML_PARSE_NONET | XML_PARSE_NOERROR |
                            XML_PARSE_NOWARNING);
    if (!doc)
        return snap_error_set(err, SNAP_E_INVALID,
                              "cannot parse the set's domain.xml");
    root = xmlDocGetRootElement(doc);
    for (n = root ? root->children : NULL; n; n = n->next) {
        if (n->type != XML_ELEMENT_NODE)
            continue;
        if (strcmp((const char *)n->name, "metadata") == 0) {
            for (c = n->children; c; c = c->next) {
                if (c->type != XML_ELEMENT_NODE ||
                    strcmp((const char *)c->name, "libosinfo") != 0)
                    continue;
                for (t = c->children; t; t = t->next) {
                    xmlChar *id;

                    if (t->type != XML_ELEMENT_NODE ||
                        strcmp((const char *)t->name, "os") != 0)
                        continue;
                    id = xmlGetProp(t, (const xmlChar *)"id");
                    if (id && os_from_libosinfo((const char *)id)) {
                        free(job->os_type);
                        job->os_type =
                            strdup(os_from_libosinfo((const char *)id));
                    }
                    xmlFree(id);
                }
            }
        }
        if (strcmp((const char *)n->name, "devices") != 0)
            continue;
        for (c = n->children; c; c = c->next) {
            if (c->type != XML_ELEMENT_NODE ||
                strcmp((const char *)c->name, "disk") != 0)
                continue;
            for (t = c->children; t; t = t->next) {
                if (t->type == XML_ELEMENT_NODE &&
                    strcmp((const char *)t->name, "target") == 0)
                    break;
            }
            if (!t)
                continue;
            dev = xmlGetProp(t, (const xmlChar *)"dev");
            bus = xmlGetProp(t, (const xmlChar *)"bus");
            for (i = 0; dev && bus && i < job->set->nmembers; i++) {
                if (strcmp(job->set->members[i].target, (const char *)dev) ==
                        0 &&
                    !job->buses[i])
                    job->buses[i] = strdup((const char *)bus);
            }
            xmlFree(dev);
            xmlFree(bus);
        }
    }
    xmlFreeDoc(doc);
    return true;
}

/* The bus of member @i: <target bus>, else what its name implies. */
static glance_bus
member_bus(export_job *job, size_t i)
{
    const char *t = job->set->members[i].target;

    if (job->buses[i])
        return glance_bus_from_name(job->buses[i]);
    if (strncmp(t, "vd", 2) == 0)
        return GLANCE_BUS_VIRTIO;
    if (strncmp(t, "sd", 2) == 0)
        return GLANCE_BUS_SCSI;
    if (strncmp(t, "hd", 2) == 0)
        return GLANCE_BUS_IDE;
    return GLANCE_BUS_LAST;
}

/* Loads the set (under the caller's lock), its domain.xml, and checks that
 * it can be exported. */
static bool
load_set(export_job *job, const char *id, snap_error *err)
{
    char *path = NULL, *xml = NULL;
    size_t i, len;
    bool ok = false;

    coord_set_free(job->set);
    job->set = coord_catalog_load(job->ctx->catalog, id, err);
    if (!job->set)
        return false;
    if (job->set->state != COORD_SET_AVAILABLE) {
        snap_error_set(err, SNAP_E_STATE,
                       "set %s is '%s': only an available set can be exported",
                       job->set->uuid, coord_set_state_name(job->set->state));
        goto cleanup;
    }
    if (job->set->nmembers == 0) {
        snap_error_set(err, SNAP_E_STATE, "set %s has no members",
                       job->set->uuid);
        goto cleanup;
    }
    for (i = 0; i < job->set->nmembers; i++) {
        const coord_member *m = &job->set->members[i];

        if (m->state != COORD_MEMBER_AVAILABLE || !m->location) {
            snap_error_set(
                err, SNAP_E_STATE, "member %s of set %s is '%s', not available",
                m->target, job->set->uuid, coord_member_state_name(m->state));
            goto cleanup;
        }
    }
    free(job->set_dir);
    job->set_dir = job->set->dir ? strdup(job->set->dir)
                                 : coord_catalog_set_dir(job->ctx->catalog,
                                                         job->set->uuid, err);
    if (!job->set_dir) {
        snap_error_set(err, SNAP_E_NOMEM, "out of memory");
        goto cleanup;
    }
    path = snap_path_join(job->set_dir, "domain.xml", err);
    if (!path)
        goto cleanup;
    xml = snap_file_read(path, 16 << 20, &len, err);
    if (!xml) {
        snap_error_set(err, SNAP_E_NOTFOUND,
                       "set %s has no domain.xml (made by an older snapset?): "
                       "cannot describe its hardware",
                       job->set->uuid);
        goto cleanup;
    }
    if (job->have_info)
        coord_domain_info_release(&job->info);
    job->have_info = false;
    if (!coord_domxml_parse(xml, &job->info, NULL, err))
        goto cleanup;
    job->have_info = true;
    free(job->buses);
    job->buses = calloc(job->set->nmembers, sizeof(*job->buses));
    if (!job->buses) {
        snap_error_set(err, SNAP_E_NOMEM, "out of memory");
        goto cleanup;
    }
    if (!domxml_extras(job, xml, err))
        goto cleanup;
    for (i = 0; i < job->set->nmembers; i++) {
        if (member_bus(job, i) == GLANCE_BUS_LAST) {
            snap_error_set(err, SNAP_E_INVALID,
                           "disk %s is on bus '%s', which an OVF package "
                           "cannot describe (virtio, scsi, sata and ide can)",
                           job->set->members[i].target,
                           job->buses[i] ? job->buses[i] : "?");
            goto cleanup;
        }
    }
    ok = true;

 cleanup:
    free(path);
    free(xml);
    return ok;
}

/* Appends @s to @buf (size @size) with qemu's escaping of the rbd: syntax:
 * ':' separates options, '\' escapes. */
static bool
rbd_escape(char *buf, size_t size, const char *s)
{
    size_t n = strlen(buf);

    for (; *s; s++) {
        if (*s == ':' || *s == '\\' || *s == '@') {
            if (n + 1 >= size)
                return false;
            buf[n++] = '\\';
        }
        if (n + 1 >= size)
            return false;
        buf[n++] = *s;
    }
    buf[n] = '\0';
    return true;
}

/* The qemu-img source of Cinder member @m: its RBD snapshot. Cinder's RBD
 * driver names the snapshot of snapshot id S "snapshot-S" on the volume's
 * image (member.source, "pool/volume-<id>"). */
static bool
rbd_uri(export_job *job, const coord_member *m, char *buf, size_t size,
        snap_error *err)
{
    char snap[128];
    bool ok;

    snprintf(snap, sizeof(snap), "snapshot-%s", m->location);
    snprintf(buf, size, "rbd:");
    ok = rbd_escape(buf, size, m->source);
    if (ok && strlen(buf) + 2 < size)
        strcat(buf, "@");
    ok = ok && rbd_escape(buf, size, snap);
    if (ok && job->ceph_user) {
        ok = strlen(buf) + 5 < size;
        if (ok)
            strcat(buf, ":id=");
        ok = ok && rbd_escape(buf, size, job->ceph_user);
    }
    if (ok) {
        ok = strlen(buf) + 7 < size;
        if (ok)
            strcat(buf, ":conf=");
        ok = ok && rbd_escape(buf, size, job->ceph_conf);
    }
    if (!ok)
        return snap_error_set(err, SNAP_E_INVALID,
                              "RBD name of member %s is too long", m->target);
    return true;
}

/* Why this host cannot read Cinder member @m from RBD, or NULL when it can
 * try. */
static const char *
rbd_unreadable(export_job *job, const coord_member *m, char *why, size_t size)
{
    static bool probed, have_rbd;
    const char *args[] = {"qemu-img", "--help", NULL};
    run_out r;

    if (!m->source_type || strcmp(m->source_type, "network") != 0 ||
        !m->source || !strchr(m->source, '/')) {
        snprintf(why, size, "volume %s is not attached as an RBD image",
                 m->volume_id ? m->volume_id : "?");
        return why;
    }
    if (access(job->ceph_conf, R_OK) != 0) {
        snprintf(why, size, "'%s' (--ceph-conf) is not readable: %s",
                 job->ceph_conf, strerror(errno));
        return why;
    }
    if (!probed) {
        probed = true;
        /* qemu-img lists its block drivers in its help text; rbd comes
         * from Debian's qemu-block-extra. */
        if (run_qemu_img(args, 30000, true, NULL, &r, NULL)) {
            have_rbd = r.out && strstr(r.out, " rbd") != NULL;
            free(r.out);
        }
    }
    if (!have_rbd) {
        snprintf(why, size,
                 "qemu-img has no rbd driver (Debian package "
                 "qemu-block-extra)");
        return why;
    }
    return NULL;
}

/* Checks, before anything is converted, that every member can be read. */
static bool
check_readable(export_job *job, snap_error *err)
{
    char why[512];
    struct stat st;
    size_t i;

    for (i = 0; i < job->set->nmembers; i++) {
        const coord_member *m = &job->set->members[i];

        if (m->kind == COORD_MEMBER_CINDER) {
            if (rbd_unreadable(job, m, why, sizeof(why)))
                return snap_error_set(
                    err, SNAP_E_STATE,
                    "cannot export Cinder member %s: reading snapshots "
                    "through Cinder's API is not implemented, and this host "
                    "cannot read RBD: %s",
                    m->target, why);
        } else if (stat(m->location, &st) < 0) {
            return snap_error_set_errno(err, errno,
                                        "cannot read the copy of %s '%s'",
                                        m->target, m->location);
        }
    }
    return true;
}

/* ---- staging ----------------------------------------------------------- */

/* The staging root holds the directories that the sweep below removes, so
 * nobody but us may make entries in it: it must be a directory of our
 * euid that group and others cannot write. A shared directory such as
 * /tmp is refused (give a directory of its own, e.g. /var/tmp/snapset,
 * mode 0700); snapset creates it 0700 when it is missing. */
static bool
staging_root_check(const char *root, snap_error *err)
{
    struct stat st;

    if (stat(root, &st) < 0)
        return snap_error_set_errno(err, errno,
                                    "cannot use staging directory '%s'", root);
    if (!S_ISDIR(st.st_mode))
        return snap_error_set(err, SNAP_E_INVALID,
                              "staging directory '%s' is not a directory",
                              root);
    if (st.st_uid != geteuid())
        return snap_error_set(err, SNAP_E_INVALID,
                              "staging directory '%s' belongs to uid %ld, not "
                              "to snapset's (%ld)",
                              root, (long)st.st_uid, (long)geteuid());
    if (st.st_mode & (S_IWGRP | S_IWOTH))
        return snap_error_set(err, SNAP_E_INVALID,
                              "staging directory '%s' is writable by group or "
                              "others (mode %04o): give snapset a directory "
                              "of its own (mode 0700)",
                              root, (unsigned)(st.st_mode & 07777));
    return true;
}

/* Removes staging directories of exports whose process is gone (killed by
 * a second signal or SIGKILL). Best effort. Only what mkdtemp() in
 * staging_make() makes is swept: an entry named export-PID-START-XXXXXX
 * that is a directory (not a symlink) of our euid with mode 0700. Nothing
 * is followed: the entries are opened relative to the root's descriptor
 * with O_NOFOLLOW and their files unlinked relative to theirs. */
static void
staging_sweep(const char *root)
{
    struct dirent *e;
    struct stat st;
    coord_journal j;
    DIR *d;
    long pid;
    long long start;
    int rootfd, n;

    rootfd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (rootfd < 0)
        return;
    d = fdopendir(rootfd);
    if (!d) {
        close(rootfd);
        return;
    }
    for (e = readdir(d); e; e = readdir(d)) {
        n = -1;
        if (sscanf(e->d_name, "export-%ld-%lld-%n", &pid, &start, &n) != 2 ||
            n < 0 || strlen(e->d_name + n) != 6)
            continue;
        memset(&j, 0, sizeof(j));
        j.owner_pid = pid;
        j.owner_start = start;
        if (ops_owner_alive(&j))
            continue;
        if (fstatat(rootfd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
            continue;
        if (!S_ISDIR(st.st_mode) || st.st_uid != geteuid() ||
            (st.st_mode & 07777) != 0700) {
            snap_warn("not sweeping '%s/%s': not a staging directory of "
                      "snapset's (a directory of uid %ld, mode 0700)",
                      root, e->d_name, (long)geteuid());
            continue;
        }
        if (snap_dir_remove_files_at(rootfd, e->d_name, NULL))
            snap_info("removed the staging directory of a dead export: %s/%s",
                      root, e->d_name);
    }
    closedir(d); /* closes rootfd */
}

static bool
staging_make(export_job *job, snap_error *err)
{
    char *root = NULL, *tmpl = NULL;
    size_t len;
    bool ok = false;

    if (job->staging_root)
        root = strdup(job->staging_root);
    else
        root = snap_path_join(coord_catalog_dir(job->ctx->catalog), "staging",
                              err);
    if (!root) {
        snap_error_set(err, SNAP_E_NOMEM, "out of memory");
        goto cleanup;
    }
    if (!snap_dir_make(root, 0700, err) || !staging_root_check(root, err))
        goto cleanup;
    staging_sweep(root);
    len = strlen(root) + 64;
    tmpl = malloc(len);
    if (!tmpl) {
        snap_error_set(err, SNAP_E_NOMEM, "out of memory");
        goto cleanup;
    }
    snprintf(tmpl, len, "%s/export-%ld-%lld-XXXXXX", root, (long)getpid(),
             (long long)snap_proc_start_time(getpid()));
    if (!mkdtemp(tmpl)) {
        snap_error_set_errno(err, errno,
                             "cannot create a staging directory "
                             "in '%s'",
                             root);
        goto cleanup;
    }
    job->staging = tmpl;
    tmpl = NULL;
    ok = true;

 cleanup:
    free(root);
    free(tmpl);
    return ok;
}

/* Converts member @i into the staging directory. */
static bool
stage_disk(export_job *job, size_t i, snap_error *err)
{
    const coord_member *m = &job->set->members[i];
    ex_disk *d = &job->disks[i];
    const char *ext =
        job->format == GLANCE_DISK_FORMAT_QCOW2 ? "qcow2" : "vmdk";
    const char *in_format, *out_format;
    char src[4096], what[128];
    const char *args[16];
    convert_progress cp;
    uint64_t out_size = 0;
    struct stat st;
    run_out r;
    size_t n = 0;

    d->m = m;
    d->bus = member_bus(job, i);
    snprintf(d->file, sizeof(d->file), "%s.%s", m->target, ext);
    d->staged = snap_path_join(job->staging, d->file, err);
    if (!d->staged)
        return false;
    if (m->kind == COORD_MEMBER_CINDER) {
        if (!rbd_uri(job, m, src, sizeof(src), err))
            return false;
        in_format = "raw";
        snprintf(what, sizeof(what), "the RBD snapshot of %s", m->target);
    } else {
        snprintf(src, sizeof(src), "%s", m->location);
        in_format = m->copy_format ? m->copy_format : "qcow2";
        snprintf(what, sizeof(what), "the copy of %s", m->target);
    }
    if (!image_virtual_size(job, in_format, src, what, &d->capacity, err))
        return false;

    args[n++] = "qemu-img";
    args[n++] = "convert";
    args[n++] = "-p";
    args[n++] = "-f";
    args[n++] = in_format;
    args[n++] = "-O";
    if (job->format == GLANCE_DISK_FORMAT_QCOW2) {
        out_format = "qcow2";
        args[n++] = out_format;
    } else {
        out_format = "vmdk";
        args[n++] = out_format;
        args[n++] = "-o";
        args[n++] = "subformat=streamOptimized";
    }
    args[n++] = src;
    args[n++] = d->staged;
    args[n] = NULL;
    memset(&cp, 0, sizeof(cp));
    cp.job = job;
    cp.file = m->target;
    cp.total = d->capacity;
    ui_progress(job, "convert", m->target, 0, d->capacity, false);
    if (!run_qemu_img(args, job->timeout_ms, false, &cp, &r, err)) {
        snap_error_set(err, SNAP_E_SYSTEM, "cannot convert %s", what);
        return false;
    }
    ui_progress(job, "convert", m->target, d->capacity, d->capacity, true);

    /* The package states both sizes; check that the conversion kept the
     * capacity (vmdk rounds up to whole sectors only). */
    if (!image_virtual_size(job, out_format, d->staged, "the converted disk",
                            &out_size, err))
        return false;
    if (out_size != d->capacity)
        return snap_error_set(err, SNAP_E_STATE,
                              "converted %s has %" PRIu64 " bytes of "
                              "capacity, its source %" PRIu64,
                              m->target, out_size, d->capacity);
    d->populated = image_populated(job, out_format, d->staged);
    if (d->populated > d->capacity)
        d->populated = 0;
    if (stat(d->staged, &st) < 0)
        return snap_error_set_errno(err, errno, "cannot stat '%s'", d->staged);
    d->file_size = (uint64_t)st.st_size;
    return check_interrupted(err);
}

/* ---- the descriptor ---------------------------------------------------- */

static bool
build_ovf(export_job *job, snap_error *err)
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
        const ex_disk *d = &job->disks[i];

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

/* ---- exports.json ------------------------------------------------------ */

/* Edits the set's exports.json under an flock of the set's directory (two
 * exports of one set may finish together). The file is replaced
 * atomically; `delete` removes it with the set's other files. */
typedef bool (*exports_edit_fn)(json_t *list, void *arg, snap_error *err);

static bool
exports_update(export_job *job, exports_edit_fn edit, void *arg,
               snap_error *err)
{
    char *path = NULL, *text = NULL, *out = NULL;
    int64_t deadline = snap_now_ms() + job->ctx->conf.lock_timeout_ms;
    json_t *doc = NULL, *list;
    size_t len;
    int fd;
    bool ok = false;

    fd = open(job->set_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return snap_error_set_errno(err, errno, "cannot open '%s'",
                                    job->set_dir);
    while (flock(fd, LOCK_EX | LOCK_NB) < 0) {
        if (errno != EWOULDBLOCK && errno != EINTR) {
            snap_error_set_errno(err, errno, "cannot lock '%s'", job->set_dir);
            goto cleanup;
        }
        if (snap_ms_left(deadline) <= 0) {
            snap_error_set(err, SNAP_E_BUSY,
                           "another export holds '%s' for too long",
                           job->set_dir);
            goto cleanup;
        }
        snap_sleep_ms(20);
    }
    path = snap_path_join(job->set_dir, EXPORTS_FILE, err);
    if (!path)
        goto cleanup;
    if (access(path, F_OK) == 0) {
        text = snap_file_read(path, EXPORTS_MAX, &len, err);
        if (!text)
            goto cleanup;
        doc = json_loads(text, 0, NULL);
        if (!json_is_object(doc) ||
            !json_is_array(json_object_get(doc, "exports"))) {
            snap_error_set(err, SNAP_E_INVALID,
                           "'%s' is not an exports "
                           "record",
                           path);
            goto cleanup;
        }
    } else {
        doc = json_pack("{s:[]}", "exports");
        if (!doc) {
            snap_error_set(err, SNAP_E_NOMEM, "out of memory");
            goto cleanup;
        }
    }
    list = json_object_get(doc, "exports");
    if (!edit(list, arg, err))
        goto cleanup;
    out = json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    if (!out) {
        snap_error_set(err, SNAP_E_NOMEM, "out of memory");
        goto cleanup;
    }
    ok = snap_file_write_atomic(path, out, strlen(out), 0600, err);

 cleanup:
    close(fd); /* releases the flock */
    json_decref(doc);
    free(path);
    free(text);
    free(out);
    return ok;
}

/* An exports.json entry: replaces the one with the same id. */
static bool
edit_put(json_t *list, void *arg, snap_error *err)
{
    json_t *entry = arg, *e;
    const char *id = json_string_value(json_object_get(entry, "id"));
    size_t i;

    json_array_foreach(list, i, e)
    {
        const char *eid = json_string_value(json_object_get(e, "id"));

        if (eid && id && strcmp(eid, id) == 0) {
            if (json_array_set(list, i, entry) != 0)
                return snap_error_set(err, SNAP_E_NOMEM, "out of memory");
            return true;
        }
    }
    if (json_array_append(list, entry) != 0)
        return snap_error_set(err, SNAP_E_NOMEM, "out of memory");
    return true;
}

static bool
edit_drop(json_t *list, void *arg, snap_error *err)
{
    const char *id = arg;
    json_t *e;
    size_t i;

    (void)err;
    json_array_foreach(list, i, e)
    {
        const char *eid = json_string_value(json_object_get(e, "id"));

        if (eid && strcmp(eid, id) == 0) {
            json_array_remove(list, i);
            return true;
        }
    }
    return true;
}

/* A new entry for this export in state @state. */
static json_t *
export_entry(export_job *job, const char *state)
{
    char when[40];

    snap_iso8601(snap_wall_ms(), when, sizeof(when));
    return json_pack(
        "{s:s, s:s, s:s, s:s, s:s, s:I, s:I}", "id", job->export_id, "kind",
        kind_names[job->kind], "state", state, "disk_format",
        job->format == GLANCE_DISK_FORMAT_QCOW2 ? "qcow2" : "vmdk", "started",
        when, "owner_pid", (json_int_t)getpid(), "owner_start",
        (json_int_t)snap_proc_start_time(getpid()));
}

/* glance_image_opts.created: the image is recorded before its data is
 * sent, so that a killed export leaves a known image. */
static bool
image_created(void *ctx, const char *image_id, snap_error *err)
{
    export_job *job = ctx;
    json_t *entry = export_entry(job, "uploading");
    bool ok;

    if (!entry)
        return snap_error_set(err, SNAP_E_NOMEM, "out of memory");
    json_object_set_new(entry, "image_id", json_string(image_id));
    ok = exports_update(job, edit_put, entry, err);
    json_decref(entry);
    return ok;
}

/* Deletes the images of uploads whose process died ("uploading" entries
 * whose owner is gone), and drops their entries. Best effort. */
typedef struct sweep_arg {
    export_job *job;
    int removed;
} sweep_arg;

static bool
edit_sweep(json_t *list, void *arg, snap_error *err)
{
    sweep_arg *sa = arg;
    coord_journal j;
    snap_error e;
    json_t *x;
    size_t i = 0;

    (void)err;
    while (i < json_array_size(list)) {
        const char *state, *image;

        x = json_array_get(list, i);
        state = json_string_value(json_object_get(x, "state"));
        image = json_string_value(json_object_get(x, "image_id"));
        memset(&j, 0, sizeof(j));
        j.owner_pid = (long)json_integer_value(json_object_get(x, "owner_pid"));
        j.owner_start = json_integer_value(json_object_get(x, "owner_start"));
        if (!image || !state ||
            (strcmp(state, "uploading") != 0 &&
             strcmp(state, "left-behind") != 0) ||
            (strcmp(state, "uploading") == 0 && ops_owner_alive(&j))) {
            i++;
            continue;
        }
        memset(&e, 0, sizeof(e));
        if (glance_image_delete(sa->job->ctx->os.session, image, &e) ||
            e.code == SNAP_E_NOTFOUND) {
            snap_info("deleted image %s of an interrupted export", image);
            json_array_remove(list, i);
            sa->removed++;
            continue;
        }
        snap_warn("cannot delete image %s of an interrupted export: %s", image,
                  e.msg);
        i++;
    }
    return true;
}

/* ---- the outputs ------------------------------------------------------- */

static const char **
staged_paths(export_job *job, snap_error *err)
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
default_name(export_job *job, char *buf, size_t size)
{
    char when[40];

    snap_iso8601(job->set->created_ms, when, sizeof(when));
    snprintf(buf, size, "%s snapset %.8s %.19s", job->set->domain_name,
             job->set->uuid, when);
}

static bool
do_glance(export_job *job, json_t *result, snap_error *err)
{
    glance_progress progress = {glance_progress_cb, job};
    glance_ova_stream *stream = NULL;
    glance_image_source src;
    glance_image_outcome outcome;
    glance_image_property props[5];
    glance_image_opts opts;
    const char **paths = NULL;
    char name[256], *image = NULL;
    sweep_arg sa = {job, 0};
    json_t *entry = NULL;
    snap_error uerr = {0};
    bool ok = false;

    paths = staged_paths(job, err);
    if (!paths)
        goto cleanup;
    /* Images of exports killed during their upload. */
    (void)exports_update(job, edit_sweep, &sa, NULL); /* best effort */
    stream =
        glance_ova_stream_new(job->ovf, paths, job->ndisks, &progress, err);
    if (!stream)
        goto cleanup;
    glance_image_source_from_ova(&src, stream);
    if (job->name)
        snprintf(name, sizeof(name), "%s", job->name);
    else
        default_name(job, name, sizeof(name));
    props[0].key = "snapset_set";
    props[0].value = job->set->uuid;
    props[1].key = "snapset_domain";
    props[1].value = job->set->domain_name;
    props[2].key = "snapset_consistency";
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
                (void)exports_update(job, edit_put, entry, NULL);
            }
            snap_error_set(err, SNAP_E_STATE, "image %s could not be deleted",
                           outcome.id);
            ui_break(job);
            fprintf(stderr,
                    "snapset: image %s of the failed export could not be "
                    "deleted (Glance unreachable for %lld ms); it is recorded "
                    "in %s/%s and the next export of this set deletes it\n",
                    outcome.id, (long long)job->cleanup_ms, job->set_dir,
                    EXPORTS_FILE);
        } else if (outcome.id[0]) {
            (void)exports_update(job, edit_drop, job->export_id, NULL);
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
    if (!exports_update(job, edit_put, entry, err))
        goto cleanup; /* the image stays: it is complete and verified */
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
package_files(export_job *job)
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

static bool
do_file(export_job *job, json_t *result, snap_error *err)
{
    glance_progress progress = {glance_progress_cb, job};
    const char **paths = NULL;
    json_t *entry = NULL;
    struct stat st;
    snap_file_id id = {0, 0};
    char *abs = NULL;
    bool made_dir, ok = false;

    paths = staged_paths(job, err);
    if (!paths)
        return false;
    made_dir = job->kind == EXPORT_OVF && lstat(job->target, &st) < 0 &&
               errno == ENOENT;
    if (job->kind == EXPORT_OVA)
        ok = glance_ova_write_progress(job->target, job->ovf, paths,
                                       job->ndisks, &progress, err);
    else
        ok = glance_ovf_dir_write_progress(job->target, job->ovf, paths,
                                           job->ndisks, &progress, err);
    free(paths);
    if (!ok)
        return false;
    abs = realpath(job->target, NULL);
    json_object_set_new(result, "path", json_string(abs ? abs : job->target));
    if (job->kind == EXPORT_OVA && stat(job->target, &st) == 0)
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
        if (job->kind == EXPORT_OVF) {
            json_object_set_new(entry, "files", package_files(job));
            json_object_set_new(entry, "dir_created", json_boolean(made_dir));
        }
        /* The package is written; failing to record it is only a warning
         * (a file needs no cleanup by snapset). */
        if (!exports_update(job, edit_put, entry, err)) {
            snap_warn("the export is not recorded in %s/%s: %s", job->set_dir,
                      EXPORTS_FILE, err->msg);
            snap_error_clear(err);
        }
    }
    json_decref(entry);
    free(abs);
    return true;
}

/* ---- the command ------------------------------------------------------- */

static int usage_error(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));

static int
usage_error(const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "snapset: ");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\n(see 'snapset --help')\n");
    return EXIT_USAGE;
}

static bool
parse_ms(const char *s, int64_t min, int64_t *out)
{
    char *end;
    long long v;

    if (!s || !*s)
        return false;
    v = strtoll(s, &end, 10);
    if (*end || v < min || v > 7LL * 86400000)
        return false;
    *out = v;
    return true;
}

static void
job_release(export_job *job)
{
    size_t i;

    if (job->staging && !snap_dir_remove_files(job->staging, NULL))
        snap_warn("cannot remove the staging directory '%s'", job->staging);
    for (i = 0; job->disks && i < job->ndisks; i++)
        free(job->disks[i].staged);
    free(job->disks);
    for (i = 0; job->buses && job->set && i < job->set->nmembers; i++)
        free(job->buses[i]);
    free(job->buses);
    if (job->have_info)
        coord_domain_info_release(&job->info);
    glance_ovf_free(job->ovf);
    coord_set_free(job->set);
    free(job->set_dir);
    free(job->staging);
    free(job->os_type);
}

static void
print_result(export_job *job, json_t *result)
{
    char size[32];
    json_t *v;

    if (job->ui == UI_JSON) {
        char *text;

        json_object_set_new(result, "event", json_string("done"));
        text = json_dumps(result, JSON_COMPACT | JSON_PRESERVE_ORDER);
        if (text)
            printf("%s\n", text);
        free(text);
        return;
    }
    v = json_object_get(result, "size");
    human_bytes(size, sizeof(size), (double)json_integer_value(v));
    printf("exported set %s (%s, %zu disks) in %.1f s\n",
           json_string_value(json_object_get(result, "set")),
           json_string_value(json_object_get(result, "domain")),
           json_array_size(json_object_get(result, "disks")),
           (double)json_integer_value(json_object_get(result, "elapsed_ms")) /
               1000.0);
    if (json_object_get(result, "image_id")) {
        printf("image:  %s (%s), active\n",
               json_string_value(json_object_get(result, "image_id")),
               json_string_value(json_object_get(result, "name")));
        printf("size:   %" PRId64 " bytes (%s)\n",
               (int64_t)json_integer_value(v), size);
        printf("sha512: %s\n",
               json_string_value(json_object_get(result, "sha512")));
    } else {
        printf("%s:    %s\n", job->kind == EXPORT_OVA ? "ova" : "ovf",
               json_string_value(json_object_get(result, "path")));
        if (v)
            printf("size:   %" PRId64 " bytes (%s)\n",
                   (int64_t)json_integer_value(v), size);
    }
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
export_run(export_job *job, const char *set_id, json_t *result, snap_error *err)
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
    if (job->kind == EXPORT_OVA && !job->force &&
        lstat(job->target, &st) == 0) {
        snap_error_set(err, SNAP_E_STATE,
                       "'%s' already exists (--force replaces it)",
                       job->target);
        goto cleanup;
    }
    if (job->kind == EXPORT_OVF && !job->force &&
        !dir_empty_or_missing(job->target, err))
        goto cleanup;
    if (job->kind == EXPORT_GLANCE && !ops_openstack(ctx, err))
        goto cleanup;
    /* The members are read under the domain's lock: `delete` waits until
     * they are staged. */
    lock = coord_catalog_lock(ctx->catalog, probe->domain_uuid,
                              ctx->conf.lock_timeout_ms, err);
    if (lock < 0)
        goto cleanup;
    if (!load_set(job, probe->uuid, err) || !check_readable(job, err))
        goto cleanup;
    snap_uuid_generate(job->export_id);
    if (!staging_make(job, err))
        goto cleanup;
    job->disks = calloc(job->set->nmembers, sizeof(*job->disks));
    if (!job->disks) {
        snap_error_set(err, SNAP_E_NOMEM, "out of memory");
        goto cleanup;
    }
    for (i = 0; i < job->set->nmembers; i++) {
        job->ndisks = i + 1;
        if (!stage_disk(job, i, err))
            goto cleanup;
    }
    coord_catalog_unlock(lock);
    lock = -1;

    if (!build_ovf(job, err) || !check_interrupted(err))
        goto cleanup;
    json_object_set_new(result, "set", json_string(job->set->uuid));
    json_object_set_new(result, "domain", json_string(job->set->domain_name));
    json_object_set_new(result, "kind", json_string(kind_names[job->kind]));
    json_object_set_new(result, "export_id", json_string(job->export_id));
    disks = json_array();
    for (i = 0; i < job->ndisks; i++) {
        const ex_disk *d = &job->disks[i];

        json_array_append_new(
            disks,
            json_pack("{s:s, s:s, s:s, s:I, s:I, s:I}", "target", d->m->target,
                      "kind", coord_member_kind_name(d->m->kind), "file",
                      d->file, "capacity", (json_int_t)d->capacity, "populated",
                      (json_int_t)d->populated, "size",
                      (json_int_t)d->file_size));
    }
    json_object_set_new(result, "disks", disks);
    if (job->kind == EXPORT_GLANCE)
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

int
ops_cmd_export(ops_ctx *ctx, int argc, char **argv)
{
    static const struct option opts[] = {
        {"ova", required_argument, NULL, 'o'},
        {"ovf", required_argument, NULL, 'd'},
        {"glance", no_argument, NULL, 'g'},
        {"name", required_argument, NULL, 'n'},
        {"disk-format", required_argument, NULL, 'f'},
        {"json", no_argument, NULL, 'j'},
        {"timeout", required_argument, NULL, 't'},
        {"cleanup-timeout", required_argument, NULL, 'T'},
        {"ceph-conf", required_argument, NULL, 'c'},
        {"ceph-user", required_argument, NULL, 'u'},
        {"staging-dir", required_argument, NULL, 's'},
        {"force", no_argument, NULL, 'F'},
        {"check", required_argument, NULL, 'C'},
        {NULL, 0, NULL, 0},
    };
    export_job job;
    json_t *result = NULL;
    snap_error err = {0};
    int c, nkinds = 0, rc;
    bool json = false, ok;
    const char *check = NULL;

    memset(&job, 0, sizeof(job));
    job.ctx = ctx;
    job.format = GLANCE_DISK_FORMAT_VMDK_STREAM;
    job.timeout_ms = DEFAULT_TIMEOUT_MS;
    job.cleanup_ms = DEFAULT_CLEANUP_MS;
    job.ceph_conf = getenv("SNAPSET_CEPH_CONF");
    job.ceph_user = getenv("SNAPSET_CEPH_USER");
    optind = 0; /* 0: GNU getopt reinitialises, permuting again */
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'o':
        case 'd':
            job.kind = c == 'o' ? EXPORT_OVA : EXPORT_OVF;
            job.target = optarg;
            nkinds++;
            break;
        case 'g':
            job.kind = EXPORT_GLANCE;
            nkinds++;
            break;
        case 'n':
            job.name = optarg;
            break;
        case 'f':
            if (strcmp(optarg, "vmdk") == 0)
                job.format = GLANCE_DISK_FORMAT_VMDK_STREAM;
            else if (strcmp(optarg, "qcow2") == 0)
                job.format = GLANCE_DISK_FORMAT_QCOW2;
            else
                return usage_error("bad --disk-format '%s': use vmdk or "
                                   "qcow2",
                                   optarg);
            break;
        case 'j':
            json = true;
            break;
        case 't':
            if (!parse_ms(optarg, 1000, &job.timeout_ms))
                return usage_error("bad --timeout '%s' (ms, >= 1000)", optarg);
            break;
        case 'T':
            if (!parse_ms(optarg, 0, &job.cleanup_ms))
                return usage_error("bad --cleanup-timeout '%s' (ms)", optarg);
            break;
        case 'c':
            job.ceph_conf = optarg;
            break;
        case 'u':
            job.ceph_user = optarg;
            break;
        case 's':
            if (optarg[0] != '/')
                return usage_error("--staging-dir '%s' is not an absolute "
                                   "path",
                                   optarg);
            job.staging_root = optarg;
            break;
        case 'F':
            job.force = true;
            break;
        case 'C':
            check = optarg;
            break;
        default:
            return usage_error("bad option for 'export'");
        }
    }
    if (check) {
        /* `export --check FILE.ova`: reads a package back (ours, or one
         * downloaded from Glance) and checks order, manifest, digests and
         * descriptor links, as glance_ova_verify() does. */
        if (optind != argc || nkinds)
            return usage_error("'export --check FILE' takes nothing else");
        if (!glance_ova_verify(check, &err)) {
            fprintf(stderr, "snapset: %s\n", err.msg);
            return EXIT_FAILURE;
        }
        printf("%s: OVA verified (order, manifest, every digest, "
               "descriptor)\n",
               check);
        return EXIT_SUCCESS;
    }
    if (optind != argc - 1)
        return usage_error("'export' takes one SET");
    if (nkinds != 1)
        return usage_error("'export' needs one of --ova FILE, --ovf DIR or "
                           "--glance");
    if (job.name && job.kind != EXPORT_GLANCE)
        return usage_error("--name names a Glance image: use it with "
                           "--glance");
    if (job.target && !*job.target)
        return usage_error("empty --ova or --ovf path");
    if (!job.ceph_conf || !*job.ceph_conf)
        job.ceph_conf = DEFAULT_CEPH_CONF;
    if (job.ceph_user && !*job.ceph_user)
        job.ceph_user = NULL;
    job.ui = isatty(STDERR_FILENO) ? UI_TTY : UI_PLAIN;
    if (json)
        job.ui = UI_JSON;
    job.t_start = snap_now_ms();

    result = json_object();
    if (!result) {
        fprintf(stderr, "snapset: out of memory\n");
        return EXIT_FAILURE;
    }
    signals_catch();
    ok = export_run(&job, argv[optind], result, &err);
    job_release(&job); /* the staging directory goes on every path */
    signals_restore();
    if (ok) {
        print_result(&job, result);
        rc = EXIT_SUCCESS;
    } else {
        ui_break(&job);
        fprintf(stderr, "snapset: %s\n", err.msg[0] ? err.msg : "failed");
        if (json) {
            json_t *ev =
                json_pack("{s:s, s:s}", "event", "error", "message", err.msg);
            char *text =
                ev ? json_dumps(ev, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;

            if (text)
                printf("%s\n", text);
            free(text);
            json_decref(ev);
        }
        rc = EXIT_FAILURE;
    }
    json_decref(result);
    return rc;
}

/* ---- the exports of a set that goes ------------------------------------ */

typedef struct drop_arg {
    export_job *job;
    snap_error err; /* the first artefact that could not be removed */
    int removed;
} drop_arg;

/* The identity recorded in entry @x (dev, ino), all 0 when it has none. */
static snap_file_id
entry_id(const json_t *x)
{
    snap_file_id id;

    id.dev = (unsigned long long)json_integer_value(json_object_get(x, "dev"));
    id.ino = (unsigned long long)json_integer_value(json_object_get(x, "ino"));
    return id;
}

/* What is not ours any more (@e: SNAP_E_STATE from snap_fs) is left where
 * it is, said, and its record dropped: it must not keep the set. */
static bool
kept_not_ours(const char *path, snap_error *e)
{
    if (e->code != SNAP_E_STATE)
        return false;
    printf("kept %s (export of this set): %s\n", path, e->msg);
    snap_warn("export '%s' left in place: %s", path, e->msg);
    snap_error_clear(e);
    return true;
}

/* An --ovf DIR export: only the files it wrote (recorded by name), in the
 * directory it wrote them to (recorded by identity), never following a
 * symlink; the directory goes only if the export made it and it is empty
 * then. A record from before file lists were kept proves nothing: its
 * directory is left as it is. */
static bool
remove_ovf(const json_t *x, const char *path, snap_error *e)
{
    json_t *files = json_object_get(x, "files"), *f;
    snap_file_id id = entry_id(x);
    const char **names = NULL;
    size_t n = 0, i, kept = 0;
    bool ok;

    if (!json_is_array(files)) {
        printf("kept %s (export of this set): its record does not list the "
               "files the export wrote (an older snapset); remove them by "
               "hand\n",
               path);
        return true;
    }
    names = calloc(json_array_size(files) + 1, sizeof(*names));
    if (!names)
        return snap_error_set(e, SNAP_E_NOMEM, "out of memory");
    json_array_foreach(files, i, f)
    {
        if (!json_is_string(f)) {
            free(names);
            return snap_error_set(e, SNAP_E_INVALID,
                                  "the record of export '%s' is damaged",
                                  path);
        }
        names[n++] = json_string_value(f);
    }
    ok = snap_dir_remove_names(path, &id, names, n,
                               json_is_true(json_object_get(x, "dir_created")),
                               &kept, e);
    free(names);
    if (!ok)
        return kept_not_ours(path, e);
    if (kept)
        printf("deleted the files of %s (export of this set); kept %zu "
               "entries under its names that it did not write\n",
               path, kept);
    else
        printf("deleted %s (export of this set)\n", path);
    return true;
}

/* An --ova FILE export: the file, if it is still the one written (by
 * identity; a record without one: a regular file of the recorded size),
 * never a symlink at its name. */
static bool
remove_ova(const json_t *x, const char *path, snap_error *e)
{
    snap_file_id id = entry_id(x);
    json_t *size = json_object_get(x, "size");
    struct stat st;

    if (!id.dev && !id.ino && json_is_integer(size) &&
        lstat(path, &st) == 0 && S_ISREG(st.st_mode) &&
        st.st_size != (off_t)json_integer_value(size)) {
        snap_error_set(e, SNAP_E_STATE,
                       "'%s' is not the file that was written (its size "
                       "changed): not removed",
                       path);
        return kept_not_ours(path, e);
    }
    if (!snap_file_remove_ours(path, &id, e))
        return kept_not_ours(path, e);
    printf("deleted %s (export of this set)\n", path);
    return true;
}

/* Removes what each entry made: its Glance image (gone already is fine),
 * its OVA file or OVF directory. Entries go from the list as their
 * artefact goes, so the list written back is what is left. */
static bool
edit_remove_all(json_t *list, void *arg, snap_error *err)
{
    drop_arg *da = arg;
    coord_journal j;
    json_t *x;
    size_t i = 0;

    (void)err;
    while (i < json_array_size(list)) {
        const char *state, *image, *path, *kind;
        snap_error e = {0};
        bool gone;

        x = json_array_get(list, i);
        state = json_string_value(json_object_get(x, "state"));
        image = json_string_value(json_object_get(x, "image_id"));
        path = json_string_value(json_object_get(x, "path"));
        kind = json_string_value(json_object_get(x, "kind"));
        memset(&j, 0, sizeof(j));
        j.owner_pid = (long)json_integer_value(json_object_get(x, "owner_pid"));
        j.owner_start = json_integer_value(json_object_get(x, "owner_start"));
        if (state && strcmp(state, "uploading") == 0 && ops_owner_alive(&j)) {
            snap_error_set(&da->err, SNAP_E_BUSY,
                           "the set is being exported (process %ld): delete "
                           "it when the export is done",
                           j.owner_pid);
            return true;
        }
        if (image) {
            gone = ops_openstack(da->job->ctx, &e) &&
                   glance_image_delete(da->job->ctx->os.session, image, &e);
            if (gone)
                printf("deleted Glance image %s (export of this set)\n", image);
            else if (e.code == SNAP_E_NOTFOUND) {
                gone = true;
                printf("Glance image %s (export of this set) was already "
                       "gone\n",
                       image);
            }
        } else if (path && kind && strcmp(kind, "ovf") == 0) {
            gone = remove_ovf(x, path, &e);
        } else if (path) {
            gone = remove_ova(x, path, &e);
        } else {
            gone = true; /* nothing was made */
        }
        if (!gone) {
            snap_error_set(&da->err, e.code, "cannot delete the export %s: %s",
                           image ? image : path, e.msg);
            return true;
        }
        json_array_remove(list, i);
        da->removed++;
    }
    return true;
}

bool
ops_exports_delete(ops_ctx *ctx, const coord_set *set, snap_error *err)
{
    export_job job;
    drop_arg da;
    char *path;
    bool exists;

    if (!set->dir)
        return true;
    path = snap_path_join(set->dir, EXPORTS_FILE, err);
    if (!path)
        return false;
    exists = access(path, F_OK) == 0;
    free(path);
    if (!exists)
        return true;
    memset(&job, 0, sizeof(job));
    memset(&da, 0, sizeof(da));
    job.ctx = ctx;
    job.set_dir = set->dir;
    da.job = &job;
    if (!exports_update(&job, edit_remove_all, &da, err))
        return false;
    if (snap_error_isset(&da.err)) {
        snap_error_set(err, da.err.code, "%s", da.err.msg);
        return false;
    }
    return true;
}

void
ops_exports_note_kept(const coord_set *set)
{
    json_t *list = ops_exports_list(set), *x;
    size_t i;

    json_array_foreach(list, i, x)
    {
        const char *image = json_string_value(json_object_get(x, "image_id"));
        const char *file = json_string_value(json_object_get(x, "path"));

        if (image)
            printf("kept Glance image %s (export of this set; delete "
                   "--with-exports removes it)\n",
                   image);
        else if (file)
            printf("kept %s (export of this set)\n", file);
    }
    json_decref(list);
}

json_t *
ops_exports_list(const coord_set *set)
{
    char *path, *text;
    json_t *doc, *list;
    size_t len;

    if (!set->dir)
        return json_array();
    path = snap_path_join(set->dir, EXPORTS_FILE, NULL);
    text = path && access(path, F_OK) == 0
               ? snap_file_read(path, EXPORTS_MAX, &len, NULL)
               : NULL;
    doc = text ? json_loads(text, 0, NULL) : NULL;
    list = json_object_get(doc, "exports");
    list = json_is_array(list) ? json_incref(list) : json_array();
    json_decref(doc);
    free(text);
    free(path);
    return list;
}

/* ---- an export in a child process -------------------------------------- */

bool
ops_export_child(ops_ctx *ctx, const char *set_uuid, const ops_export_req *req,
                 json_t **result, snap_error *err)
{
    char timeout[24], lock[24], path[] = "/tmp/snapset-export-XXXXXX";
    const char *argv[24];
    char *out = NULL, *line, *save = NULL;
    json_t *last = NULL;
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
    ran = virt_cmd_run(argv, req->timeout_ms * 2 + DEFAULT_CLEANUP_MS,
                      "export", fd, &run);
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
