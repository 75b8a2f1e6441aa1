/*
 * test_quorum.c -- monitors deciding together, simulated: this monitor
 * ("a") and scripted peers that publish their views on their own clocks,
 * every record going through the real format and parse.  Time is a
 * simulated monotonic clock.  Covered: freshness by (boot, seq) alone
 * (skewed wall clocks do not matter, a first sighting is not fresh, a
 * restart is an advance, an old copy is not), the votes (a switch needs
 * `need` monitors seeing the current server down and the target up), our
 * own vote only while published, quorum lost and back exactly once per
 * transition, the heartbeat and its seq, and who agreed.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "health.h"
#include "mxf.h"
#include "quorum.h"
#include "quorum_fixture.h"

#define HB    30000ULL /* heartbeat_ms */
#define STALE 90000ULL /* stale_ms */
#define ROUND 10000ULL /* the daemon's interval */
#define T0    5000000ULL

#define U HEALTH_UP
#define D HEALTH_DOWN
#define X HEALTH_UNKNOWN

/* A scripted peer: what it publishes, on its own wall clock. */
struct peer {
	char boot[QUORUM_BOOT_LEN + 1];
	uint64_t seq;
	uint64_t at_s;
	enum health_state st[3];
	bool present; /* its record exists */
};

struct sim {
	struct config *cfg;
	struct quorum *q;
	uint64_t now;
	size_t n;
	struct peer p[5];
	enum health_state own[3];
	bool own_ok;  /* our UPDATEs succeed */
	bool read_ok; /* our reads succeed */
	unsigned published;
	enum health_state out[3];
};

static struct sim *
sim_new(size_t nmonitors, unsigned need)
{
	struct sim *s = calloc(1, sizeof(*s));
	assert_non_null(s);
	s->cfg = quorum_fixture_config(nmonitors, 0, need, HB, STALE);
	s->n = nmonitors;
	s->now = T0;
	s->own_ok = s->read_ok = true;
	for (size_t i = 0; i < nmonitors; i++) {
		snprintf(s->p[i].boot, sizeof(s->p[i].boot), "%016zx", 0xb0070000 + i);
		s->p[i].at_s = 1764748800;
		s->p[i].present = i != 0;
	}
	assert_int_equal(quorum_new(s->cfg, "00000000000000aa", s->now, &s->q), 0);
	return s;
}

static int
setup3(void **state)
{
	*state = sim_new(3, 2);
	return 0;
}

static int
setup5(void **state)
{
	*state = sim_new(5, 3);
	return 0;
}

static int
teardown(void **state)
{
	struct sim *s = *state;
	quorum_free(s->q);
	quorum_fixture_free(s->cfg);
	free(s);
	return 0;
}

static void
set(enum health_state *st, enum health_state a, enum health_state b, enum health_state c)
{
	st[0] = a;
	st[1] = b;
	st[2] = c;
}

/* Peer @i publishes (a change or a heartbeat: either way a new seq). */
static void
tick(struct sim *s, size_t i)
{
	s->p[i].seq++;
	s->p[i].at_s += ROUND / 1000;
}

/* This monitor reads peer @i's record: formatted and parsed for real. */
static void
read_peer(struct sim *s, size_t i)
{
	struct peer *p = &s->p[i];
	struct quorum_view v, got;
	char **strs = NULL;
	size_t n = 0;
	char err[128];

	if (!s->read_ok) {
		assert_int_equal(quorum_observe(s->q, i, NULL, false, s->now), 0);
		return;
	}
	if (!p->present) {
		assert_int_equal(quorum_observe(s->q, i, NULL, true, s->now), 0);
		return;
	}
	assert_int_equal(quorum_view_init(&v, s->cfg), 0);
	assert_int_equal(quorum_view_init(&got, s->cfg), 0);
	memcpy(v.boot, p->boot, sizeof(v.boot));
	v.seq = p->seq;
	v.has_at = true;
	v.at_s = p->at_s;
	memcpy(v.states, p->st, sizeof(p->st));
	assert_int_equal(quorum_view_format(s->cfg, &v, &strs, &n), 0);
	assert_int_equal(quorum_view_parse(s->cfg, (const char *const *)strs, NULL, n, &got, err,
					   sizeof(err)),
			 0);
	assert_int_equal(quorum_observe(s->q, i, &got, true, s->now), 0);
	quorum_strs_free(strs, n);
	quorum_view_clear(&v);
	quorum_view_clear(&got);
}

/* Our own part of a round: hand in our states, publish when due. */
static void
own(struct sim *s)
{
	struct quorum_view v;
	int due;

	assert_int_equal(quorum_view_init(&v, s->cfg), 0);
	due = quorum_own(s->q, s->own, s->now, 1764748800 + s->now / 1000, &v);
	assert_true(due == 0 || due == 1);
	if (due) {
		s->published++;
		quorum_published(s->q, s->own_ok, s->now);
	}
	quorum_view_clear(&v);
}

/* One round @ROUND after the last: the peers in @live publish (bit i for
 * peer i), we publish when due and read everyone; returns the decision's
 * number of fresh monitors, the states in s->out. */
static int
round_(struct sim *s, unsigned live)
{
	s->now += ROUND;
	for (size_t i = 1; i < s->n; i++)
		if (live & (1u << i))
			tick(s, i);
	own(s);
	for (size_t i = 1; i < s->n; i++)
		read_peer(s, i);
	return quorum_decide(s->q, s->now, s->out);
}

static bool
fresh(struct sim *s, size_t i)
{
	struct quorum_monitor_status st;
	assert_int_equal(quorum_monitor(s->q, i, s->now, &st), 0);
	return st.fresh;
}

/* Everyone alive for a few rounds, so that every view is fresh. */
static void
warm_up(struct sim *s, unsigned live)
{
	for (int r = 0; r < 3; r++)
		round_(s, live);
}

#define ALL3 0x6u
#define ALL5 0x1eu

/* ---- freshness ------------------------------------------------------------- */

static void
test_first_sighting_not_fresh(void **state)
{
	struct sim *s = *state;
	struct quorum_monitor_status st;

	s->p[1].seq = 4711; /* a record left from long ago */
	round_(s, 0);
	assert_int_equal(quorum_monitor(s->q, 1, s->now, &st), 0);
	assert_true(st.seen);
	assert_false(st.fresh);
	assert_true(st.age_ms == UINT64_MAX);
	assert_int_equal(st.seq, 4711);
	assert_string_equal(st.id, "b");
	/* Seen again and again unchanged: still not fresh. */
	for (int r = 0; r < 20; r++) {
		round_(s, 0);
		assert_false(fresh(s, 1));
	}
	/* One advance makes it fresh... */
	round_(s, 1u << 1);
	assert_true(fresh(s, 1));
	assert_int_equal(quorum_monitor(s->q, 1, s->now, &st), 0);
	assert_int_equal(st.age_ms, 0);
	/* ...until stale_ms after it, not a moment longer. */
	s->now += STALE - 1;
	assert_true(fresh(s, 1));
	s->now += 1;
	assert_false(fresh(s, 1));
}

static void
test_restart_and_old_copies(void **state)
{
	struct sim *s = *state;

	s->p[1].seq = 5;
	round_(s, 0);
	round_(s, 1u << 1);
	assert_true(fresh(s, 1));
	/* Peer b dies: stale after stale_ms. */
	for (uint64_t t = 0; t < STALE; t += ROUND)
		round_(s, 0);
	assert_false(fresh(s, 1));
	/* A copy with a lower seq of the same boot (a lagging server): no. */
	s->p[1].seq = 3;
	round_(s, 0);
	assert_false(fresh(s, 1));
	s->p[1].seq = 6;
	round_(s, 0);
	assert_false(fresh(s, 1)); /* the same as seen: still no */
	/* It restarts: a new boot, seq back to 1 -- a first sighting again
	 * (an old run's record brought back looks the same) ... */
	memcpy(s->p[1].boot, "00000000deadbeef", sizeof(s->p[1].boot));
	s->p[1].seq = 1;
	round_(s, 0);
	assert_false(fresh(s, 1));
	/* ... until that boot's seq rises. */
	s->p[1].seq = 2;
	round_(s, 0);
	assert_true(fresh(s, 1));
	/* An earlier boot's record brought back (a primary restored from a
	 * backup) does not count with its old states. */
	memcpy(s->p[1].boot, "00000000000000b1", sizeof(s->p[1].boot));
	s->p[1].seq = 900;
	round_(s, 0);
	assert_false(fresh(s, 1));
	memcpy(s->p[1].boot, "00000000deadbeef", sizeof(s->p[1].boot));
	s->p[1].seq = 3;
	round_(s, 0);
	assert_false(fresh(s, 1)); /* back to the live boot: a sighting again */
	s->p[1].seq = 4;
	round_(s, 0);
	assert_true(fresh(s, 1));
	/* The new boot's own older seq is no advance either. */
	for (uint64_t t = 0; t < STALE; t += ROUND)
		round_(s, 0);
	assert_false(fresh(s, 1));
	s->p[1].seq = 0;
	round_(s, 0);
	assert_false(fresh(s, 1));
}

/* Wall clocks hours apart, in the future or going backwards do not
 * matter; only seq does. */
static void
test_skewed_clocks(void **state)
{
	struct sim *s = *state;
	struct quorum_monitor_status st;

	s->p[1].at_s = 1764748800 - 6 * 3600;  /* hours behind */
	s->p[2].at_s = 1764748800 + 86400 * 3; /* days ahead */
	for (int r = 0; r < 30; r++) {
		round_(s, ALL3);
		s->p[2].at_s -= 1000; /* and going backwards */
		if (r > 0) {
			assert_true(fresh(s, 1));
			assert_true(fresh(s, 2));
		}
	}
	assert_int_equal(quorum_monitor(s->q, 2, s->now, &st), 0);
	assert_true(st.has_at);
	assert_true(st.at_s < 1764748800 + 86400 * 3);
	/* b's seq stops while its clock runs on: stale after stale_ms,
	 * whatever at says. */
	uint64_t last = s->now;
	while (s->now - last < STALE) {
		s->p[1].at_s += 3600;
		round_(s, 1u << 2);
		assert_int_equal(fresh(s, 1), s->now - last < STALE);
	}
	assert_false(fresh(s, 1));
	assert_true(fresh(s, 2));
}

/* A failed read changes nothing but the flag; an absent record keeps the
 * last view, which goes stale; its return with the same seq is no advance. */
static void
test_failed_read_and_absent(void **state)
{
	struct sim *s = *state;
	struct quorum_monitor_status st;

	warm_up(s, ALL3);
	assert_true(fresh(s, 1));
	s->read_ok = false;
	round_(s, ALL3);
	assert_int_equal(quorum_monitor(s->q, 1, s->now, &st), 0);
	assert_true(st.read_error);
	assert_true(st.fresh);
	for (uint64_t t = 0; t < STALE; t += ROUND)
		round_(s, ALL3);
	assert_false(fresh(s, 1));
	s->read_ok = true;
	round_(s, ALL3);
	assert_true(fresh(s, 1));
	assert_int_equal(quorum_monitor(s->q, 1, s->now, &st), 0);
	assert_false(st.read_error);

	s->p[1].present = false;
	round_(s, 0);
	assert_int_equal(quorum_monitor(s->q, 1, s->now, &st), 0);
	assert_true(st.absent);
	assert_true(st.seen);
	for (uint64_t t = 0; t < STALE; t += ROUND)
		round_(s, 0);
	assert_false(fresh(s, 1));
	s->p[1].present = true;
	round_(s, 0);
	assert_false(fresh(s, 1));
	round_(s, 1u << 1);
	assert_true(fresh(s, 1));

	/* Ourselves and indices out of range. */
	assert_int_equal(quorum_observe(s->q, 0, NULL, false, s->now), 0);
	assert_int_equal(quorum_observe(s->q, 3, NULL, true, s->now), MXF_EINVAL);
	assert_int_equal(quorum_monitor(s->q, 3, s->now, &st), MXF_EINVAL);
	assert_int_equal(quorum_nmonitors(s->q), 3);
}

/* ---- the decision ---------------------------------------------------------- */

static void
test_votes(void **state)
{
	struct sim *s = *state;

	/* One monitor sees mx1 down, two up: mx1 stays UP, no switch. */
	set(s->own, U, U, U);
	set(s->p[1].st, D, U, U);
	set(s->p[2].st, U, U, U);
	warm_up(s, ALL3);
	assert_int_equal(round_(s, ALL3), 3);
	assert_int_equal(s->out[0], U);
	/* Two see it down: DOWN, and the target mx2 UP. */
	set(s->own, D, U, U);
	assert_int_equal(round_(s, ALL3), 3);
	assert_int_equal(s->out[0], D);
	assert_int_equal(s->out[1], U);
	/* The target must be seen up by need monitors: one up, two unknown
	 * leave it UNKNOWN, which stops failover's walk (no switch). */
	set(s->own, D, X, U);
	set(s->p[1].st, D, U, U);
	set(s->p[2].st, U, X, U);
	round_(s, ALL3);
	assert_int_equal(s->out[0], D);
	assert_int_equal(s->out[1], X);
	/* A failback needs need monitors seeing the preferred one up. */
	set(s->own, U, U, U);
	set(s->p[1].st, D, U, U);
	set(s->p[2].st, X, U, U);
	round_(s, ALL3);
	assert_int_equal(s->out[0], X);
	set(s->p[2].st, U, U, U);
	round_(s, ALL3);
	assert_int_equal(s->out[0], U);
}

/* Our own view counts only once published with the states we hold. */
static void
test_own_vote_needs_publish(void **state)
{
	struct sim *s = *state;
	struct quorum_monitor_status st;

	set(s->own, U, U, U);
	set(s->p[1].st, D, U, U);
	set(s->p[2].st, U, U, U);
	warm_up(s, ALL3);
	assert_int_equal(round_(s, ALL3), 3);
	assert_int_equal(s->out[0], U);
	/* We see mx1 down but cannot publish it: b's down and our
	 * unpublished down are not two votes. */
	s->own_ok = false;
	set(s->own, D, U, U);
	assert_int_equal(round_(s, ALL3), 2);
	assert_int_equal(s->out[0], X); /* b down, c up */
	assert_int_equal(quorum_monitor(s->q, 0, s->now, &st), 0);
	assert_true(st.self);
	assert_false(st.fresh);
	assert_false(st.published_ok);
	assert_int_equal(st.states[0], D);
	/* Once published it counts. */
	s->own_ok = true;
	assert_int_equal(round_(s, ALL3), 3);
	assert_int_equal(s->out[0], D);
	assert_int_equal(quorum_monitor(s->q, 0, s->now, &st), 0);
	assert_true(st.fresh);
	assert_true(st.published_ok);
	assert_string_equal(st.boot, "00000000000000aa");
}

/* A monitor cut from the primary can neither publish nor read: it loses
 * quorum and decides nothing, however sure of its own view it is. */
static void
test_isolated_monitor(void **state)
{
	struct sim *s = *state;
	int lost = 0;

	set(s->own, D, U, U);
	set(s->p[1].st, D, U, U);
	set(s->p[2].st, D, U, U);
	warm_up(s, ALL3);
	assert_int_equal(s->out[0], D);
	assert_int_equal(quorum_check(s->q, s->now), 0);
	s->own_ok = false;
	s->read_ok = false;
	for (int r = 0; r < 30; r++) {
		round_(s, ALL3);
		int c = quorum_check(s->q, s->now);
		assert_true(c == 0 || c == QUORUM_LOST);
		lost += c == QUORUM_LOST;
	}
	assert_int_equal(lost, 1);
	assert_false(quorum_have(s->q, s->now));
	assert_int_equal(round_(s, ALL3), 0);
	for (int i = 0; i < 3; i++)
		assert_int_equal(s->out[i], X);
	assert_false(fresh(s, 0));
}

/* need 1 of 2 (need not a majority): one up, one down is UNKNOWN. */
static void
test_need_one_of_two(void **state)
{
	struct sim *s = sim_new(2, 1);

	*state = s;
	set(s->own, U, U, X);
	set(s->p[1].st, D, U, U);
	warm_up(s, 1u << 1);
	assert_int_equal(round_(s, 1u << 1), 2);
	assert_int_equal(s->out[0], X);
	assert_int_equal(s->out[1], U);
	assert_int_equal(s->out[2], U); /* one up, one unknown: up */
}

static void
test_five_need_three(void **state)
{
	struct sim *s = *state;

	set(s->own, U, U, U);
	set(s->p[1].st, U, U, U);
	set(s->p[2].st, U, U, U);
	set(s->p[3].st, D, U, U);
	set(s->p[4].st, D, U, U);
	warm_up(s, ALL5);
	assert_int_equal(round_(s, ALL5), 5);
	assert_int_equal(s->out[0], U);
	set(s->p[2].st, D, U, U);
	set(s->own, D, U, U);
	round_(s, ALL5);
	assert_int_equal(s->out[0], D);
	/* e stops: 4 fresh, 3 of them see mx1 down. */
	set(s->p[1].st, U, U, U);
	for (uint64_t t = 0; t < STALE; t += ROUND)
		assert_true(round_(s, 0xe) >= 4);
	assert_int_equal(round_(s, 0xe), 4);
	assert_int_equal(s->out[0], D);
	/* d and e stopped: 3 fresh is still quorum, 2 down is not DOWN. */
	for (uint64_t t = 0; t < STALE; t += ROUND)
		round_(s, 0x6);
	assert_int_equal(round_(s, 0x6), 3);
	assert_int_equal(s->out[0], X);
	/* c stops too: 2 of 5 fresh, every server UNKNOWN. */
	for (uint64_t t = 0; t < STALE; t += ROUND)
		round_(s, 0x2);
	assert_int_equal(round_(s, 0x2), 2);
	for (int i = 0; i < 3; i++)
		assert_int_equal(s->out[i], X);
}

/* A monitor alternating up/down each round moves the decision only when
 * need agree at that instant. */
static void
test_flapping_view(void **state)
{
	struct sim *s = *state;

	set(s->own, U, U, U);
	set(s->p[2].st, D, U, U);
	warm_up(s, ALL3);
	for (int r = 0; r < 200; r++) {
		enum health_state b = r % 2 ? U : D;
		set(s->p[1].st, b, U, U);
		round_(s, ALL3);
		assert_int_equal(s->out[0], b);
		assert_int_equal(s->out[1], U);
	}
	/* b flaps and c is unknown: never two agree on down, only on up. */
	set(s->p[2].st, X, U, U);
	for (int r = 0; r < 200; r++) {
		set(s->p[1].st, r % 2 ? U : D, U, U);
		round_(s, ALL3);
		assert_int_equal(s->out[0], r % 2 ? U : X);
	}
}

/* ---- quorum lost and back -------------------------------------------------- */

/* Monitors coming and going: LOST and BACK exactly once per transition. */
static void
test_lost_back_once(void **state)
{
	struct sim *s = *state;
	int lost = 0, back = 0;
	bool had = true;

	warm_up(s, ALL3);
	assert_true(quorum_have(s->q, s->now));
	assert_int_equal(quorum_check(s->q, s->now), 0);
	/* Our publishes fail in stretches longer than stale_ms and b is
	 * down; c keeps going: quorum comes and goes 25 times. */
	for (int cycle = 0; cycle < 25; cycle++) {
		for (int r = 0; r < 20; r++) {
			s->own_ok = r >= 12;
			round_(s, 1u << 2);
			bool have = quorum_have(s->q, s->now);
			int c = quorum_check(s->q, s->now);
			assert_int_equal(c, had == have ? 0 : (have ? QUORUM_BACK : QUORUM_LOST));
			lost += c == QUORUM_LOST;
			back += c == QUORUM_BACK;
			had = have;
			/* A second call in the same instant says nothing new. */
			assert_int_equal(quorum_check(s->q, s->now), 0);
		}
	}
	assert_int_equal(lost, 25);
	assert_int_equal(back, 25);
}

/* At start nothing is fresh: not lost before stale_ms, then once. */
static void
test_start(void **state)
{
	struct sim *s = *state;
	int lost = 0, back = 0;

	/* Nobody else is alive; we publish fine. */
	for (uint64_t t = ROUND; t < STALE; t += ROUND) {
		round_(s, 0);
		assert_int_equal(quorum_check(s->q, s->now), 0);
	}
	for (int r = 0; r < 50; r++) {
		round_(s, 0);
		int c = quorum_check(s->q, s->now);
		lost += c == QUORUM_LOST;
		assert_true(c != QUORUM_BACK);
	}
	assert_int_equal(lost, 1);
	/* b comes: first sighting, then an advance -- back, once. */
	for (int r = 0; r < 50; r++) {
		round_(s, 1u << 1);
		int c = quorum_check(s->q, s->now);
		back += c == QUORUM_BACK;
		assert_true(c != QUORUM_LOST);
	}
	assert_int_equal(back, 1);
}

/* A restart whose peers come back within stale_ms never alerts. */
static void
test_start_quiet(void **state)
{
	struct sim *s = *state;

	for (int r = 0; r < 100; r++) {
		round_(s, ALL3);
		assert_int_equal(quorum_check(s->q, s->now), 0);
	}
	assert_true(quorum_have(s->q, s->now));
}

/* ---- our heartbeat --------------------------------------------------------- */

static void
test_heartbeat(void **state)
{
	struct sim *s = *state;
	struct quorum_view v;
	uint64_t seq = 0;

	assert_int_equal(quorum_view_init(&v, s->cfg), 0);
	set(s->own, U, U, U);
	/* Nothing published yet: due. */
	assert_int_equal(quorum_own(s->q, s->own, s->now, 100, &v), 1);
	assert_int_equal(v.seq, 1);
	assert_string_equal(v.boot, "00000000000000aa");
	assert_true(v.has_at);
	assert_int_equal(v.at_s, 100);
	seq = v.seq;
	quorum_published(s->q, true, s->now);
	uint64_t pub = s->now;
	/* Unchanged within heartbeat_ms (less half a round, so a round that
	 * comes a little early does not miss it): not due, the view untouched. */
	v.seq = 999;
	for (s->now = pub + 1; s->now < pub + HB - ROUND / 2; s->now += 7000)
		assert_int_equal(quorum_own(s->q, s->own, s->now, 100, &v), 0);
	assert_int_equal(v.seq, 999);
	s->now = pub + HB - ROUND / 2 - 1;
	assert_int_equal(quorum_own(s->q, s->own, s->now, 100, &v), 0);
	s->now = pub + HB - ROUND / 2;
	assert_int_equal(quorum_own(s->q, s->own, s->now, 100, &v), 1);
	assert_true(v.seq > seq);
	seq = v.seq;
	quorum_published(s->q, true, s->now);
	/* A change: due at once. */
	s->now += 1;
	set(s->own, D, U, U);
	assert_int_equal(quorum_own(s->q, s->own, s->now, 100, &v), 1);
	assert_true(v.seq > seq);
	assert_int_equal(v.states[0], D);
	seq = v.seq;
	/* It fails, and fails again: due every time, never the same seq. */
	for (int r = 0; r < 10; r++) {
		quorum_published(s->q, false, s->now);
		s->now += 1;
		assert_int_equal(quorum_own(s->q, s->own, s->now, 100, &v), 1);
		assert_true(v.seq > seq);
		seq = v.seq;
	}
	quorum_published(s->q, true, s->now);
	s->now += 1;
	assert_int_equal(quorum_own(s->q, s->own, s->now, 100, &v), 0);
	/* A change whose publish failed, then the states we had published
	 * before: still due, for the failed view may have reached the server
	 * and the others may be reading it. */
	set(s->own, U, U, U);
	assert_int_equal(quorum_own(s->q, s->own, s->now, 100, &v), 1);
	quorum_published(s->q, false, s->now);
	set(s->own, D, U, U);
	s->now += 1;
	assert_int_equal(quorum_own(s->q, s->own, s->now, 100, &v), 1);
	assert_int_equal(v.states[0], D);
	quorum_published(s->q, true, s->now);
	assert_int_equal(quorum_own(s->q, s->own, s->now, 100, &v), 0);
	/* A result with nothing outstanding is ignored. */
	quorum_published(s->q, false, s->now);
	assert_int_equal(quorum_own(s->q, s->own, s->now, 100, &v), 0);
	/* A state out of range is refused. */
	enum health_state bad[3] = {U, (enum health_state)9, U};
	assert_int_equal(quorum_own(s->q, bad, s->now, 100, &v), MXF_EINVAL);
	quorum_view_clear(&v);
}

/* ---- who agreed, and what quorum_new refuses -------------------------------- */

static void
test_agreeing(void **state)
{
	struct sim *s = *state;
	char buf[64];

	set(s->own, D, U, U);
	set(s->p[1].st, U, U, U);
	set(s->p[2].st, D, U, U);
	warm_up(s, ALL3);
	assert_int_equal(quorum_agreeing(s->q, s->now, 0, D, buf, sizeof(buf)), 2);
	assert_string_equal(buf, "a c");
	assert_int_equal(quorum_agreeing(s->q, s->now, 0, U, buf, sizeof(buf)), 1);
	assert_string_equal(buf, "b");
	assert_int_equal(quorum_agreeing(s->q, s->now, 1, U, buf, sizeof(buf)), 3);
	assert_string_equal(buf, "a b c");
	assert_int_equal(quorum_agreeing(s->q, s->now, 2, X, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "");
	/* Only what fits whole; the count is all of them. */
	assert_int_equal(quorum_agreeing(s->q, s->now, 1, U, buf, 4), 3);
	assert_string_equal(buf, "a b");
	assert_int_equal(quorum_agreeing(s->q, s->now, 1, U, buf, 1), 3);
	assert_string_equal(buf, "");
	assert_int_equal(quorum_agreeing(s->q, s->now, 3, U, buf, sizeof(buf)), MXF_EINVAL);
	/* c stops: it no longer agrees with anyone. */
	for (uint64_t t = 0; t < STALE; t += ROUND)
		round_(s, 1u << 1);
	assert_int_equal(quorum_agreeing(s->q, s->now, 0, D, buf, sizeof(buf)), 1);
	assert_string_equal(buf, "a");
}

static void
test_new_refuses(void **state)
{
	struct sim *s = *state;
	struct config_quorum keep = s->cfg->quorum;
	struct quorum *q = NULL;
	const char *boot = "00000000000000aa";

	s->cfg->quorum.need = 0;
	assert_int_equal(quorum_new(s->cfg, boot, 0, &q), MXF_EINVAL);
	s->cfg->quorum.need = 4;
	assert_int_equal(quorum_new(s->cfg, boot, 0, &q), MXF_EINVAL);
	s->cfg->quorum = keep;
	s->cfg->quorum.self = 3;
	assert_int_equal(quorum_new(s->cfg, boot, 0, &q), MXF_EINVAL);
	s->cfg->quorum = keep;
	s->cfg->quorum.stale_ms = 0;
	assert_int_equal(quorum_new(s->cfg, boot, 0, &q), MXF_EINVAL);
	s->cfg->quorum = keep;
	s->cfg->quorum.enabled = false;
	assert_int_equal(quorum_new(s->cfg, boot, 0, &q), MXF_EINVAL);
	s->cfg->quorum = keep;
	assert_int_equal(quorum_new(s->cfg, "00000000000000AA", 0, &q), MXF_EINVAL);
	/* A short nonce (the array is of the right size, the string is not). */
	char short_boot[QUORUM_BOOT_LEN + 1] = "00000000000000a";
	assert_int_equal(quorum_new(s->cfg, short_boot, 0, &q), MXF_EINVAL);
	/* A server id that cannot stand in a record ("mx=1=up" would split
	 * at the wrong '=') is refused before any record is written. */
	char *id = s->cfg->servers[1].id;
	char bad_id[] = "mx=2";
	s->cfg->servers[1].id = bad_id;
	assert_int_equal(quorum_new(s->cfg, boot, 0, &q), MXF_EINVAL);
	s->cfg->servers[1].id = id;
	assert_null(q);
	assert_int_equal(quorum_new(s->cfg, boot, 0, &q), 0);
	quorum_free(q);
	quorum_free(NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_first_sighting_not_fresh, setup3, teardown),
		cmocka_unit_test_setup_teardown(test_restart_and_old_copies, setup3, teardown),
		cmocka_unit_test_setup_teardown(test_skewed_clocks, setup3, teardown),
		cmocka_unit_test_setup_teardown(test_failed_read_and_absent, setup3, teardown),
		cmocka_unit_test_setup_teardown(test_votes, setup3, teardown),
		cmocka_unit_test_setup_teardown(test_own_vote_needs_publish, setup3, teardown),
		cmocka_unit_test_setup_teardown(test_isolated_monitor, setup3, teardown),
		cmocka_unit_test_teardown(test_need_one_of_two, teardown),
		cmocka_unit_test_setup_teardown(test_five_need_three, setup5, teardown),
		cmocka_unit_test_setup_teardown(test_flapping_view, setup3, teardown),
		cmocka_unit_test_setup_teardown(test_lost_back_once, setup3, teardown),
		cmocka_unit_test_setup_teardown(test_start, setup3, teardown),
		cmocka_unit_test_setup_teardown(test_start_quiet, setup3, teardown),
		cmocka_unit_test_setup_teardown(test_heartbeat, setup3, teardown),
		cmocka_unit_test_setup_teardown(test_agreeing, setup3, teardown),
		cmocka_unit_test_setup_teardown(test_new_refuses, setup3, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
