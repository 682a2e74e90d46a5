/* tests/fuzz/fuzz_qga.c -- guest-agent replies: whatever the guest sends,
 * a clear error or a value, never a crash. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "qga/qga.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1), *value = NULL;
    snap_error err = {0};

    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    if (!qga_reply_string(text, &value, &err) && !err.msg[0])
        abort(); /* a failure always says why */
    free(value);
    free(text);
    return 0;
}
