/* virt/error.h -- libvirt's errors as snap_error. */
#ifndef VIRT_ERROR_H
#define VIRT_ERROR_H

#include <stdbool.h>

#include "common/snap_error.h"

/* Records libvirt's last error as "@what: <libvirt message>". */
bool virt_error(snap_error *err, snap_code code, const char *what);

#endif
