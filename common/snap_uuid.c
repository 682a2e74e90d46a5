/* common/snap_uuid.c -- see snap_uuid.h. */
#include "common/snap_uuid.h"

#include <string.h>
#include <uuid/uuid.h>

void
snap_uuid_generate(char out[SNAP_UUID_LEN])
{
    uuid_t u;

    uuid_generate_random(u);
    uuid_unparse_lower(u, out);
}

bool
snap_uuid_valid(const char *s)
{
    uuid_t u;

    return s && strlen(s) == 36 && uuid_parse(s, u) == 0;
}
