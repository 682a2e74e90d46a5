/* coordinator/app/export.h -- `snapset export`: one snapshot set as one OVF
 * package (an OVA file, an unpacked OVF directory, or an OVA streamed into
 * Glance).
 *
 *   snapset export SET --ova FILE | --ovf DIR | --glance [--name NAME]
 *                  [--disk-format vmdk|qcow2] [--json] [--timeout MS]
 *                  [--ceph-conf FILE] [--ceph-user NAME]
 *                  [--staging-dir DIR] [--cleanup-timeout MS] [--force]
 *   snapset export --check FILE.ova      (reads a package back, verifies it)
 *
 * Every disk is converted with qemu-img into a private staging directory
 * (CATALOG/staging/export-<pid>-<start>-XXXXXX, removed on every path out,
 * and swept by the next export when a killed one left it), from the set's
 * own copy for a local member and straight from the RBD snapshot for a
 * Cinder member. The descriptor is built from the domain XML kept with the
 * set. Exports are recorded in the set's directory (exports.json), a Glance
 * image before its data is sent.
 */
#ifndef APP_EXPORT_H
#define APP_EXPORT_H

#include "coordinator/app/actions.h"

/* The `export` command; @argv[0] is "export". Returns 0 (exported), 1
 * (failed or interrupted: nothing is left behind) or 2 (usage error). */
int app_cmd_export(app_ctx *ctx, int argc, char **argv);

#endif
