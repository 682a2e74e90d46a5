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
    size_t len = strlen(point);

    if (!spec || strncmp(spec, point, len) != 0 || spec[len] != ':')
        return;
    fprintf(stderr, "snapset: fault injected at %s\n", spec);
    if (strcmp(spec + len + 1, "kill") == 0)
        raise(SIGKILL);
    if (strcmp(spec + len + 1, "hang") == 0) {
        for (;;)
            pause();
    }
}
#endif
