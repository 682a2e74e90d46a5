/* common/snap_strv.c -- see snap_strv.h. */
#include "common/snap_strv.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

bool
snap_strv_append(char ***v, size_t *n, const char *value, snap_error *err)
{
    char **grown;
    char *copy = strdup(value);

    if (!copy)
        return snap_error_set(err, SNAP_E_NOMEM, "out of memory");
    grown = realloc(*v, (*n + 1) * sizeof(*grown));
    if (!grown) {
        free(copy);
        return snap_error_set(err, SNAP_E_NOMEM, "out of memory");
    }
    grown[(*n)++] = copy;
    *v = grown;
    return true;
}

bool
snap_strv_copy(char ***dst, size_t *ndst, char *const *src, size_t n,
               snap_error *err)
{
    size_t i;

    *dst = NULL;
    *ndst = 0;
    for (i = 0; i < n; i++) {
        if (!snap_strv_append(dst, ndst, src[i], err)) {
            snap_strv_free(*dst, *ndst);
            *dst = NULL;
            *ndst = 0;
            return false;
        }
    }
    return true;
}

bool
snap_strv_contains(char *const *v, size_t n, const char *value, bool nocase)
{
    size_t i;

    if (!value)
        return false;
    for (i = 0; i < n; i++) {
        if (v[i] &&
            (nocase ? strcasecmp(v[i], value) : strcmp(v[i], value)) == 0)
            return true;
    }
    return false;
}

void
snap_strv_free(char **v, size_t n)
{
    size_t i;

    if (!v)
        return;
    for (i = 0; i < n; i++)
        free(v[i]);
    free(v);
}
