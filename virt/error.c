/* virt/error.c -- see error.h. */
#include "virt/error.h"

#include <libvirt/virterror.h>

bool
virt_error(snap_error *err, snap_code code, const char *what)
{
    virErrorPtr e = virGetLastError();

    return snap_error_set(err, code, "%s: %s", what,
                          e && e->message ? e->message
                                          : "unknown libvirt error");
}
