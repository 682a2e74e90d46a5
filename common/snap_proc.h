/* common/snap_proc.h -- child processes (qemu-img, snapset export) and
 * processes named by pid.
 *
 * One runner for every command snapset starts: bounded by a deadline,
 * cancellable, stdin on /dev/null, stderr's tail kept for the error
 * message, stdout discarded, sent to a descriptor, captured (bounded) or
 * fed to a callback (qemu-img's progress). The child sees only descriptors
 * 0, 1 and 2 (the child closes every other one before exec, also those a
 * library opened without close-on-exec), starts with default
 * signal dispositions and is killed if snapset dies (PR_SET_PDEATHSIG), so
 * a convert never outlives the operation that wanted it.
 *
 * Threads: snap_proc_run() may be called from any thread; it forks, so
 * call it with no lock held that the child could need before exec.
 */
#ifndef SNAP_PROC_H
#define SNAP_PROC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/snap_error.h"

typedef enum snap_proc_stdout {
    SNAP_PROC_STDOUT_DISCARD = 0, /* /dev/null */
    SNAP_PROC_STDOUT_FD,          /* opts.stdout_fd */
    SNAP_PROC_STDOUT_CAPTURE,     /* result.out, at most opts.capture_max */
    SNAP_PROC_STDOUT_CALLBACK,    /* opts.on_stdout, as it comes */
} snap_proc_stdout;

typedef struct snap_proc_opts {
    const char *const *argv; /* NULL-terminated; argv[0] looked up in PATH */
    const char *what;        /* the error's subject: "cannot convert 'x'" */
    int64_t timeout_ms;      /* > 0: killed (SIGTERM, then SIGKILL) past it */
    snap_proc_stdout out;
    int stdout_fd;      /* SNAP_PROC_STDOUT_FD */
    size_t capture_max; /* SNAP_PROC_STDOUT_CAPTURE; 0: 1 MiB */
    void (*on_stdout)(void *ctx, const char *buf, size_t len);
    void *ctx; /* for on_stdout and cancelled */
    /* Asked between reads (at least every 100 ms): true stops the child and
     * fails with SNAP_E_STATE "... cancelled". May be NULL. */
    bool (*cancelled)(void *ctx);
} snap_proc_opts;

typedef struct snap_proc_result {
    int exit_status; /* when it exited; -1 otherwise */
    int signal;      /* when a signal ended it; 0 otherwise */
    char *out;       /* SNAP_PROC_STDOUT_CAPTURE: NUL-terminated, free() */
    size_t out_len;
    bool out_truncated; /* more than capture_max was written */
    char err_tail[256]; /* the last line the child wrote on stderr */
} snap_proc_result;

void snap_proc_result_release(snap_proc_result *r);

/* Runs opts->argv and waits for it. True when it exited 0. Otherwise false,
 * @r still filled in, and @err: "@what: <its last stderr line>" or "@what:
 * ARGV0 exited with status N" (SNAP_E_SYSTEM), "@what: ARGV0 killed by
 * signal N" (SNAP_E_SYSTEM), "@what: ARGV0 did not finish within N ms"
 * (SNAP_E_TIMEOUT), "@what: cancelled" (SNAP_E_STATE), "@what: cannot run
 * ARGV0: <strerror>" (SNAP_E_SYSTEM, also when the program does not
 * exist). @r may be NULL when the caller wants none of it. */
bool snap_proc_run(const snap_proc_opts *opts, snap_proc_result *r,
                   snap_error *err);

/* The start time of process @pid in clock ticks since boot (field 22 of
 * /proc/PID/stat), or -1 when there is no such process. Together with the
 * pid it names one process: a recycled pid has another start time. */
int64_t snap_proc_start_time(pid_t pid);

#endif
