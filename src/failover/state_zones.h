/*
 * state_zones.h -- the zones' part of the state, in a file of its own.
 *
 * What the state remembers per zone and record (the values last seen, the
 * server each record was written for, the intent of an update in flight,
 * the hand-change and missing marks) is most of the state of a hosting
 * configuration: about 600 bytes a zone, 6 MB at 10,000 zones, while all
 * the rest is a few kilobytes that change every round (the checks' last
 * results and counters).  So the zones live in a companion file, PATH.zones
 * next to the state file PATH, rewritten only when their content changed
 * (an update, a hand change, a record that reads differently): an idle
 * daemon rewrites a few kilobytes a round, not megabytes.
 *
 * The companion file, version STATE_VERSION, one zone per line:
 *
 * { "version": 1, "program": "mxfailover X.Y.Z", "saved_ms": N,
 *   "hash": "16 hex digits" (state_zones_hash of what it holds),
 *   "groups": { ID: { "zones": {
 *     ZONE: { "failed": false, "intent": ID or null, "records": { LABEL: {
 *             "status": "present", "values": [...], "ttl": N,
 *             "hand_changed": false, "missing": false,
 *             "written": ID or null } } },
 *     ... } } } }
 *
 * The state file's groups then carry no "zones"; a state file whose group
 * does carry them (written before the split, or by hand) is read as it is
 * and the companion is ignored for that group, unless the companion was
 * saved later.  A companion that cannot be used is ignored with a
 * warning: the zones are read again from DNS, the health stands.  The companion is written
 * before the state file, each atomically (state_file.h), so a crash
 * between the two leaves the newer zones with the older rest: never a zone
 * memory older than the health it goes with.
 *
 * Whether the zones changed is told by a 64-bit FNV-1a hash over all that
 * the companion holds (names included), computed every save (about a
 * millisecond at 10,000 zones); the companion is rewritten when the hash
 * differs from the one last written, or from the one a loaded companion
 * was written with when the state loaded from it hashes otherwise.
 */
#ifndef MXF_STATE_ZONES_H
#define MXF_STATE_ZONES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "config.h"

struct state;

/* The largest companion file read (about 400,000 zones of five records). */
#define STATE_ZONES_FILE_MAX (256u * 1024 * 1024)

/* The companion of the state file @path: a malloc'ed "@path.zones", NULL
 * when out of memory. */
char *state_zones_path(const char *path);

/* The hash of the zones' part of @st under @cfg (see above). */
uint64_t state_zones_hash(const struct state *st, const struct config *cfg);

/*
 * state_zone_json -- zone @z of group @g as the object written for it,
 * both in the companion and in state_to_json()'s "zones"; NULL and *bad set
 * when out of memory.
 */
json_t *state_zone_json(const struct config *cfg, const struct state *st, size_t g, size_t z,
			bool *bad);

/*
 * state_zones_save -- write the companion of @path for @st when its hash
 * differs from the one last written or loaded (st->zones_hash); remember
 * the new one on success.
 * @return 0 (nothing to write, or written; @err may hold a warning as for
 *         state_file_write()), MXF_EIO, MXF_ENOMEM with @err set.
 */
int state_zones_save(const char *path, const struct config *cfg, struct state *st, uint64_t now_ms,
		     char *err, size_t errlen);

/*
 * state_zones_merge -- before @root (a parsed state file at @path) is
 * read: give its groups the zones of the companion file, when there is
 * one -- each group without inline zones, and every group when the
 * companion was saved after the state file (the first save after an
 * upgrade, then a crash).
 * @have_hash, @hash  the hash the companion was written with, when it has
 *          one: state_load compares it with the state it loaded.
 * @newer   set when the companion was saved after the state file: a run
 *          stopped between the two saves (its switch may be in the zones
 *          and not in the state: failover_group_mem.zones_newer).
 * @warn    set when a companion exists but cannot be used (unreadable,
 *          not JSON, another version): it is then ignored, the zones
 *          start unknown and are read again from DNS, and the rest of the
 *          state stands.
 * @return 0, or MXF_ENOMEM.
 */
int state_zones_merge(const char *path, json_t *root, bool *have_hash, uint64_t *hash, bool *newer_out,
		      char *warn,
		      size_t warnlen);

#endif
