/* common/snap_uuid.h -- set identifiers (libuuid). */
#ifndef SNAP_UUID_H
#define SNAP_UUID_H

#include <stdbool.h>

#define SNAP_UUID_LEN 37 /* 36 characters and the NUL */

/* Writes a new random (version 4) UUID in lower-case text form. */
void snap_uuid_generate(char out[SNAP_UUID_LEN]);

/* True when @s is a UUID in its 36-character text form. */
bool snap_uuid_valid(const char *s);

#endif
