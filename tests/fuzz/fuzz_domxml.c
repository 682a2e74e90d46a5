/* tests/fuzz/fuzz_domxml.c -- domain XML from libvirt (or a tampered file
 * kept with a set): never crash, never leak. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "coordinator/coord_domxml.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    coord_domain_info info;
    coord_set *set = coord_set_new(NULL);

    if (!text || !set) {
        free(text);
        coord_set_free(set);
        return 0;
    }
    memcpy(text, data, size);
    text[size] = '\0';
    if (coord_domxml_parse(text, &info, set, NULL))
        coord_domain_info_release(&info);
    coord_set_free(set);
    free(text);
    return 0;
}
