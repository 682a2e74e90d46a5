/* common/snap_fault.h -- fault injection points for the fault-matrix tests.
 *
 * Only in builds configured with -DSNAP_FAULTS=ON (the test build); in any
 * other build snap_fault() compiles to nothing. At a point named @point,
 * SNAPSET_FAULT="<point>:kill" makes the process SIGKILL itself and
 * "<point>:hang" makes it sleep (until killed), as a call stuck inside
 * libvirt or an HTTP request would. "<point>:run=COMMAND" runs COMMAND with
 * /bin/sh (system(3)), waits for it and goes on: a test times a real
 * failure with it (stops a service, fills a quota, stops the guest agent)
 * at exactly that step. Its exit status is printed on stderr, not acted
 * on. COMMAND is everything after "run=" (it may hold ':' and spaces).
 */
#ifndef SNAP_FAULT_H
#define SNAP_FAULT_H

#ifdef SNAP_FAULTS
void snap_fault(const char *point);
#else
#define snap_fault(point) ((void)0)
#endif

#endif
