/*
 * round_pace.c -- `interval` or `fastinter` for the next round; see
 * round_pace.h.  No clock, no I/O: the health machine and the
 * configuration in, a period out.
 */
#include "round_pace.h"

bool
round_pace_in_transition(const struct health *h, size_t server)
{
	const struct health_server *s;
	bool failing, passing;

	if (h == NULL || server >= h->nservers)
		return false;
	s = &h->servers[server];
	failing = s->bad_run > 0 && s->bad_run < h->fall;
	passing = s->good_run > 0 && s->good_run < h->rise;
	switch (s->state) {
	case HEALTH_UP: return failing;
	case HEALTH_DOWN: return passing;
	case HEALTH_UNKNOWN: return failing || passing;
	}
	return false;
}

uint64_t
round_pace_period(const struct config *cfg, const struct health *h, bool *fast, size_t *server)
{
	uint64_t inter = cfg->general.interval_ms, fi = cfg->general.fastinter_ms;
	size_t first = SIZE_MAX;

	for (size_t s = 0; h != NULL && s < h->nservers && first == SIZE_MAX; s++)
		if (round_pace_in_transition(h, s))
			first = s;
	if (fast != NULL)
		*fast = first != SIZE_MAX;
	if (server != NULL)
		*server = first;
	if (first == SIZE_MAX || fi == 0 || fi > inter)
		return inter;
	return fi;
}

bool
round_pace_fast_round(const struct config *cfg, bool fast, uint64_t now_ms, uint64_t full_ms)
{
	return fast && now_ms >= full_ms && now_ms - full_ms < cfg->general.interval_ms;
}
