/* tests/fuzz/fuzz_conf.c -- snapset.conf: every input is accepted or
 * refused with a message naming the file; never a crash or a leak. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "coordinator/coord_conf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char path[64];
    coord_conf conf;
    snap_error err = {0};
    FILE *f;

    if (!path[0])
        snprintf(path, sizeof(path), "/tmp/fuzz_conf.%ld", (long)getpid());
    f = fopen(path, "w");
    if (!f)
        return 0;
    fwrite(data, 1, size, f);
    fclose(f);
    if (!coord_conf_init(&conf, NULL))
        return 0;
    if (!coord_conf_load(&conf, path, &err) &&
        strncmp(err.msg, path, strlen(path)) != 0 &&
        strncmp(err.msg, "cannot read", 11) != 0)
        abort(); /* errors name the file */
    coord_conf_release(&conf);
    return 0;
}
