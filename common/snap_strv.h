/* common/snap_strv.h -- string lists: an array of strings with its count
 * beside it (libvirt's mountpoints/nmountpoints), the one helper every
 * module uses for roles, projects, domains and the like. */
#ifndef SNAP_STRV_H
#define SNAP_STRV_H

#include <stdbool.h>
#include <stddef.h>

#include "common/snap_error.h"

/* Appends a copy of @value to *@v / *@n. On failure nothing changes. */
bool snap_strv_append(char ***v, size_t *n, const char *value, snap_error *err);

/* Sets *@dst / *@ndst to a deep copy of @src / @n (NULL and 0 when @n is
 * 0). On failure *@dst is NULL and *@ndst 0. */
bool snap_strv_copy(char ***dst, size_t *ndst, char *const *src, size_t n,
                    snap_error *err);

/* True when one of @v equals @value (strcmp; strcasecmp with @nocase). */
bool snap_strv_contains(char *const *v, size_t n, const char *value,
                        bool nocase);

/* Frees @n strings and the array; NULL is fine. */
void snap_strv_free(char **v, size_t n);

#endif
