/* virt/watchdog.h -- the freeze watchdog: a separate process
 * with its own libvirt connection, so that no call this process is stuck
 * in can keep a guest frozen or paused past the deadline.
 *
 * arm() starts `snapset __watchdog` (this executable, in its own process
 * group so a Ctrl-C of the terminal does not take it down with us) and
 * waits until it is connected. If the deadline passes, or this process dies
 * (its end of the pipe closes without a word), the watchdog resumes the
 * domain if we paused it and thaws it. disarm() tells it the job released
 * the guest and learns whether it had fired. */
#ifndef VIRT_WATCHDOG_H
#define VIRT_WATCHDOG_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "coordinator/coord_job.h"

typedef struct virt_watchdog {
    const char *uri;         /* borrowed */
    const char *domain_uuid; /* borrowed */
    int64_t agent_timeout_ms;
    pid_t pid;
    int to_child;
    int from_child;
} virt_watchdog;

void virt_watchdog_init(virt_watchdog *w, const char *uri,
                        const char *domain_uuid, int64_t agent_timeout_ms);

extern const coord_watchdog_ops virt_watchdog_ops;

/* The watchdog process itself: `snapset __watchdog URI UUID TIMEOUT_MS
 * AGENT_TIMEOUT_MS`, talking on stdin/stdout. Returns the exit status. */
int virt_watchdog_main(int argc, char **argv);

#endif
