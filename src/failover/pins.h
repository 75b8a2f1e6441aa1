/*
 * pins.h -- the operator's pins and their one home, the pins file.
 *
 * `mxfailover pin SERVER down|up [--for D]` and `unpin SERVER` write the
 * pins file, "<state_file>.pins"; the daemon reads it at the start of every
 * round (so a running daemon obeys a pin within one interval) and brings
 * the health machine's pins in line with it (pins_apply); `status` reads the
 * same file through the same code, so it shows the pins the daemon obeys.
 *
 * The file is a JSON object by server id:
 *     { "mx1": { "pin": "down", "until_ms": 0 } }
 * "until_ms" is the wall-clock millisecond the pin expires, 0 for never; a
 * pin whose time has come is no longer in force (and is dropped from the
 * health machine).  An absent file holds no pins.  Entries for servers the
 * configuration does not know, and unknown fields, are kept when the file
 * is rewritten.  Writers take the lock file "<pins>.lock" (flock) and
 * replace the file atomically (state_file.h).
 *
 * The health machine keeps the pins it last applied and the state file
 * saves them with it (state.h): that is the memory of which pin has been
 * acted on and reported, so a restart or the next `once` pass does not
 * report it again.  It is not a second place to set or read a pin.
 *
 * Nothing here logs: failures come back with a one-line message.
 */
#ifndef MXF_PINS_H
#define MXF_PINS_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "health.h"

#define PINS_FILE_MAX (256u * 1024) /* a larger pins file is refused */

/* One server's entry in the pins file. */
struct pins_entry {
	enum health_pin pin;   /* HEALTH_PIN_NONE: no entry, or one not understood */
	uint64_t until_ms;     /* 0: until unpinned */
};

/* The pins file as read for one configuration. */
struct pins {
	char *path;               /* the pins file */
	struct pins_entry *v;     /* parallel to cfg->servers */
	size_t n;
};

/*
 * pins_path -- the pins file of @cfg: "<state_file>.pins".
 * @return a malloc'ed string, or NULL when out of memory.
 */
char *pins_path(const struct config *cfg);

/*
 * pins_load -- read the pins file of @cfg.
 * @out     on success a new struct pins (free with pins_free); an absent
 *          file gives one without pins.  Untouched on failure.
 * @why     on failure a message naming the file ("cannot read PATH: why",
 *          "PATH:LINE: why", "PATH is not a JSON object"): the caller keeps
 *          the pins it has rather than dropping an operator's pin because
 *          of a permission problem.
 * @return 0, MXF_EIO (unreadable, too large), MXF_EINVAL (not JSON, not an
 *         object), MXF_ENOMEM.
 */
int pins_load(const struct config *cfg, struct pins **out, char *why, size_t whylen);

/* Free @p and what it owns; NULL is allowed. */
void pins_free(struct pins *p);

/*
 * pins_get -- the pin of @server in force at @now_ms: HEALTH_PIN_NONE when
 * there is none, it has expired, or @server is out of range.
 * @until_ms  when not NULL, receives the pin's expiry (0 for never, and 0
 *            when no pin is in force).
 */
enum health_pin pins_get(const struct pins *p, size_t server, uint64_t now_ms,
			 uint64_t *until_ms);

/*
 * pins_apply -- bring the pins of @h in line with @p at @now_ms: each server
 * whose pin (or expiry) differs gets health_set_pin() with the reason
 * "pinned by operator" or "unpinned by operator", so the change is queued
 * and reported like any other.  Expire @h's own pins first
 * (health_expire_pins), so an expiry reads as one.
 * @return the number of pins changed, MXF_EINVAL (@p is for another
 *         configuration), MXF_ENOMEM.
 */
int pins_apply(const struct pins *p, struct health *h, uint64_t now_ms);

/*
 * pins_set -- set or clear the pin of @server in the pins file of @cfg,
 * under the file's lock, creating the directory and the file as needed.
 * @pin       HEALTH_PIN_DOWN or HEALTH_PIN_UP; HEALTH_PIN_NONE clears.
 * @until_ms  when the pin expires, 0 for never; ignored when clearing.
 * @err       on failure a one-line message naming the file; on success
 *            empty, or a warning: the pin is written but the directory
 *            could not be synced (state_file_write()).
 * @return 0; MXF_ENOTFOUND (no such server in @cfg: nothing touched);
 *         MXF_EIO (cannot lock, read or write; the file is unchanged);
 *         MXF_EINVAL (the file is not a JSON object: fix or remove it);
 *         MXF_ENOMEM.
 */
int pins_set(const struct config *cfg, const char *server, enum health_pin pin,
	     uint64_t until_ms, char *err, size_t errlen);

#endif
