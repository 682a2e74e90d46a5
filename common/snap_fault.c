/* common/snap_fault.c -- see snap_fault.h. */
#include "common/snap_fault.h"

#ifdef SNAP_FAULTS
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void
snap_fault(const char *point)
{
    const char *spec = getenv("SNAPSET_FAULT");
    const char *action;
    size_t len = strlen(point);
    int status;

    if (!spec || strncmp(spec, point, len) != 0 || spec[len] != ':')
        return;
    action = spec + len + 1;
    fprintf(stderr, "snapset: fault injected at %s\n", spec);
    if (strcmp(action, "kill") == 0)
        raise(SIGKILL);
    if (strcmp(action, "hang") == 0) {
        for (;;)
            pause();
    }
    if (strncmp(action, "run=", 4) == 0) {
        /* Synchronous: the step after the point runs once the command is
         * done. Its status is only reported: the test checks its effect. */
        status = system(action + 4);
        fprintf(stderr, "snapset: fault command at %s exited with %d\n", point,
                status);
    }
}
#endif
