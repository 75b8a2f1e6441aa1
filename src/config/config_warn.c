/*
 * config_warn.c -- what `config check` warns about in a configuration that
 * loads: settings that are valid but protect nothing, or risk a split.
 *
 *   - a group of one server has nowhere to fail over to: its records are
 *     only watched;
 *   - a server in no group is checked every round, but no record ever
 *     points at it;
 *   - a [quorum] need of half the monitors or fewer: two disjoint sets of
 *     monitors (each side of a network split) can each reach it and
 *     decide differently.
 *
 * Pure: reads the model, writes an error list.
 */
#include <stdbool.h>
#include <stdlib.h>

#include "config.h"
#include "mxf.h"

/* The [quorum] warning, if there is one, at the line of need. */
static int
config_warn_quorum(const struct config *cfg, struct config_errors *out)
{
	const struct config_quorum *q = &cfg->quorum;

	if (!q->enabled || q->nmonitors == 0 || q->need > q->nmonitors / 2)
		return 0;
	return config_errors_add(
		out, cfg->path, q->line_need > 0 ? q->line_need : q->line,
		"[quorum] need %u of %zu monitors is half of them or fewer: two "
		"disjoint sets of monitors can each reach it and switch differently; "
		"a majority is %zu",
		q->need, q->nmonitors, q->nmonitors / 2 + 1);
}

int
config_warnings(const struct config *cfg, struct config_errors *out)
{
	int e = 0;

	/* Walk sections in file order (groups and servers interleave), so
	 * the warnings come out in line order too. */
	size_t gi = 0, si = 0;
	bool quorum_done = false;

	while (e == 0 && (gi < cfg->ngroups || si < cfg->nservers)) {
		bool group = si >= cfg->nservers ||
			     (gi < cfg->ngroups && cfg->groups[gi].line < cfg->servers[si].line);
		int next = group ? cfg->groups[gi].line : cfg->servers[si].line;

		if (!quorum_done && cfg->quorum.line < next) {
			quorum_done = true;
			e = config_warn_quorum(cfg, out);
			if (e != 0)
				break;
		}
		if (group) {
			const struct config_group *g = &cfg->groups[gi++];

			if (g->nservers == 1)
				e = config_errors_add(
					out, cfg->path, g->line,
					"[group %s] has one server (%s): nowhere to fail over to; "
					"its records are only watched",
					g->id, cfg->servers[g->servers[0]].id);
		} else {
			const struct config_server *s = &cfg->servers[si];
			bool used = false;

			for (size_t g = 0; g < cfg->ngroups && !used; g++)
				for (size_t i = 0; i < cfg->groups[g].nservers && !used; i++)
					used = cfg->groups[g].servers[i] == si;
			si++;
			if (!used)
				e = config_errors_add(out, cfg->path, s->line,
						      "[server %s] is in no group: it is checked, "
						      "but no record ever points at it",
						      s->id);
		}
	}
	if (e == 0 && !quorum_done)
		e = config_warn_quorum(cfg, out);
	return e;
}
