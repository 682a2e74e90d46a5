/* coordinator/ops/export_ui.c -- an export's signals and progress output
 * (see export_job.h).
 *
 * SIGINT, SIGTERM and SIGHUP cancel at the next chunk or poll (qemu-img's
 * runner asks every 100 ms): the child is killed, staged files and partial
 * outputs are removed, a created image is deleted. A second signal kills at
 * once; what it leaves (staging, an image recorded as "uploading") is swept
 * by the next export.
 */
#include "coordinator/ops/export_job.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/snap_time.h"

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

void
ops_export_signals_catch(void)
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

void
ops_export_signals_restore(void)
{
    sigaction(SIGINT, &saved_int, NULL);
    sigaction(SIGTERM, &saved_term, NULL);
    sigaction(SIGHUP, &saved_hup, NULL);
}

bool
ops_export_check_interrupted(snap_error *err)
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

bool
ops_export_cancelled(void *ctx)
{
    (void)ctx;
    return interrupted != 0;
}

/* ---- progress ---------------------------------------------------------- */

void
ops_export_fmt_bytes(char *buf, size_t size, double v)
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

void
ops_export_progress(ops_export_job *job, const char *step, const char *file,
                    uint64_t done, uint64_t total, bool last)
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

        if (job->ui == OPS_EXPORT_UI_TTY)
            every = 250;
        else if (job->ui == OPS_EXPORT_UI_JSON)
            every = 1000;

        if (job->t_print && now - job->t_print < every)
            return;
        if (!job->t_print && job->ui == OPS_EXPORT_UI_PLAIN) {
            job->t_print = now; /* plain: no line at the start */
            return;
        }
    }
    job->t_print = now;
    if (job->ui == OPS_EXPORT_UI_JSON) {
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
    ops_export_fmt_bytes(d, sizeof(d), (double)done);
    ops_export_fmt_bytes(t, sizeof(t), (double)total);
    ops_export_fmt_bytes(r, sizeof(r), rate);
    if (job->ui == OPS_EXPORT_UI_TTY) {
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

void
ops_export_progress_break(ops_export_job *job)
{
    if (job->ui == OPS_EXPORT_UI_TTY && job->ui_open) {
        fputc('\n', stderr);
        job->ui_open = false;
    }
}

bool
ops_export_glance_progress(void *ctx, const glance_progress_info *info,
                           snap_error *err)
{
    ops_export_job *job = ctx;
    const char *step = job->kind == OPS_EXPORT_GLANCE ? "upload" : "write";

    if (strcmp(info->step, "hash") == 0)
        step = "hash";

    if (!ops_export_check_interrupted(err))
        return false;
    ops_export_progress(job, step, info->file, info->file_done, info->file_size,
                        info->file_done == info->file_size);
    return true;
}
