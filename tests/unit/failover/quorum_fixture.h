/*
 * quorum_fixture.h -- a configuration of three servers (mx1 mx2 mx3, one
 * group) with a [quorum] of monitors built by hand: the reader of the
 * section is written apart, and the tests of the decision must not wait
 * for it nor depend on its defaults.
 */
#ifndef MXF_QUORUM_FIXTURE_H
#define MXF_QUORUM_FIXTURE_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"

/*
 * quorum_fixture_config -- the configuration with monitors "a", "b", ...
 * (@nmonitors of them, at most 8), this monitor the one at @self.
 * Fails the test on any error.  Free with quorum_fixture_free().
 */
struct config *quorum_fixture_config(size_t nmonitors, size_t self, unsigned need,
				     uint64_t heartbeat_ms, uint64_t stale_ms);

/* Free what quorum_fixture_config() made, [quorum] included. */
void quorum_fixture_free(struct config *cfg);

#endif
