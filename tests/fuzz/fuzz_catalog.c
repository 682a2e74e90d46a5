/* tests/fuzz/fuzz_catalog.c -- catalog documents: never crash, and what
 * parses writes back to a document that parses to the same text. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "coordinator/coord_catalog.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1), *a = NULL, *b = NULL;
    coord_set *set, *again = NULL;

    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    set = coord_set_from_json(text, NULL);
    if (set) {
        a = coord_set_to_json(set, NULL);
        again = a ? coord_set_from_json(a, NULL) : NULL;
        b = again ? coord_set_to_json(again, NULL) : NULL;
        if (!a || !again || !b || strcmp(a, b) != 0)
            abort(); /* the catalog must read back what it wrote */
    }
    free(a);
    free(b);
    coord_set_free(again);
    coord_set_free(set);
    free(text);
    return 0;
}
