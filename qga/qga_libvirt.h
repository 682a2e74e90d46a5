/* qga/qga_libvirt.h -- the libvirt transport for qga.h. */
#ifndef QGA_LIBVIRT_H
#define QGA_LIBVIRT_H

#include "qga/qga.h"

/* The table; its impl is a virDomainPtr (borrowed, must outlive use). */
extern const qga_transport_ops qga_libvirt_ops;

#endif
