/* coordinator/coord_catalog.h -- the catalog of snapshot sets (jansson).
 *
 * Layout under the catalog directory:
 *   sets/<uuid>.json   one document per set, replaced atomically
 *                      (temp file, fsync, rename, fsync dir); while the set
 *                      is being made it is also the set's journal
 *   sets/<uuid>/       the set's local copies
 *   locks/<domain-uuid>.lock
 *                      one operation per domain at a time, across the CLI,
 *                      the HTTP API and policies (flock)
 */
#ifndef COORD_CATALOG_H
#define COORD_CATALOG_H

#include <stdbool.h>
#include <stddef.h>

#include "common/snap_error.h"
#include "coordinator/coord_set.h"

typedef struct coord_catalog coord_catalog;

/* Opens (creating if needed) the catalog in @dir. Free with
 * coord_catalog_free(). Thread-safe for distinct sets. */
coord_catalog *coord_catalog_open(const char *dir, snap_error *err);
void coord_catalog_free(coord_catalog *cat);

/* Borrowed: the catalog's directory. */
const char *coord_catalog_dir(const coord_catalog *cat);

/* Returns a new string (free()): the directory for @uuid's local copies. */
char *coord_catalog_set_dir(const coord_catalog *cat, const char *uuid,
                            snap_error *err);

/* Writes @set atomically. */
bool coord_catalog_save(coord_catalog *cat, const coord_set *set,
                        snap_error *err);

/* Loads the set whose UUID is @id or starts with @id (at least 8
 * characters, unique). Returns a new set (coord_set_free()). */
coord_set *coord_catalog_load(coord_catalog *cat, const char *id,
                              snap_error *err);

/* Loads every set, oldest first. Documents that do not parse are skipped
 * with a warning naming the file (a bad file never hides the others).
 * *@sets is a new array of new sets: coord_catalog_list_free(). */
bool coord_catalog_list(coord_catalog *cat, coord_set ***sets, size_t *nsets,
                        snap_error *err);
void coord_catalog_list_free(coord_set **sets, size_t nsets);

/* Removes the set's document (its directory must be gone already). */
bool coord_catalog_remove(coord_catalog *cat, const char *uuid,
                          snap_error *err);

/* Removes temporary documents ("<uuid>.json.tmp.<pid>") whose writer is
 * dead: a process killed between writing and renaming leaves one; the
 * document it was replacing is intact. Returns how many, or -1. */
int coord_catalog_sweep(coord_catalog *cat, snap_error *err);

/* Takes the per-domain lock, waiting at most @timeout_ms (0: do not wait).
 * Returns a descriptor for coord_catalog_unlock(), or -1 (SNAP_E_BUSY when
 * another operation holds it). */
int coord_catalog_lock(coord_catalog *cat, const char *domain_uuid,
                       long timeout_ms, snap_error *err);
void coord_catalog_unlock(int fd);

/* JSON text of @set (new string, free()); and back (new set). */
char *coord_set_to_json(const coord_set *set, snap_error *err);
coord_set *coord_set_from_json(const char *text, snap_error *err);

#endif
