/*
 * fuzz_failover_mx.c -- libFuzzer target: an MX record set as DNS returns it
 * (one value "PREF TARGET" per input line, at most 16) judged by the MX
 * group rules (failover_dns_points_to) for a group of three servers, and
 * for a set it takes as ours, the reorder to every server
 * (failover_dns_new_values) must keep its promises: the same number of
 * values and the same preferences, every host outside the group and every
 * server already in it still there, the new set pointing at that server
 * and itself ours, and -- with every server in the set -- failback to the
 * first server giving one set whichever server it came from.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config.h"
#include "failover.h"
#include "failover_dns.h"

#define FUZZ_MAX_VALUES 16

static const char fuzz_conf[] = "[general]\nlog = stderr\n[dns]\nserver = 127.0.0.1\n"
				"[server mx1]\naddress = 192.0.2.1\nname = mx1.example.com.\n"
				"checks = smtp\n"
				"[server mx2]\naddress = 192.0.2.2\nname = mx2.example.com.\n"
				"checks = smtp\n"
				"[server mx3]\naddress = 192.0.2.3\nname = mx3.example.com.\n"
				"checks = smtp\n"
				"[group mail]\nservers = mx1 mx2 mx3\nzones = example.com\n"
				"records = @\ntype = MX\n";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct config *
fuzz_config(void)
{
	static struct config *cfg;
	struct config_errors errs = {0};

	if (cfg == NULL && config_load_string("fuzz.conf", fuzz_conf, &cfg, &errs) != 0)
		abort();
	config_errors_free(&errs);
	return cfg;
}

/* The preferences of a set, sorted (what a reorder may not change). */
static int
fuzz_ulong_cmp(const void *a, const void *b)
{
	unsigned long x = *(const unsigned long *)a, y = *(const unsigned long *)b;
	return x < y ? -1 : x > y;
}

static void
fuzz_prefs(char *const *v, size_t n, unsigned long *out)
{
	for (size_t i = 0; i < n; i++)
		out[i] = strtoul(v[i], NULL, 10);
	qsort(out, n, sizeof(*out), fuzz_ulong_cmp);
}

/* The group server @value names, or -1 (a host outside the group). */
static long
fuzz_server_of(const struct config *cfg, const char *value)
{
	const char *t = value;
	size_t tl;

	/* As the rules read it: blanks, the preference, blanks, the target. */
	t += strspn(t, " \t\r\v\f");
	t += strspn(t, "0123456789");
	t += strspn(t, " \t\r\v\f");
	tl = strlen(t);
	while (tl > 0 && strchr(" \t\r\v\f", t[tl - 1]) != NULL)
		tl--;
	if (tl > 0 && t[tl - 1] == '.')
		tl--;
	for (size_t k = 0; k < cfg->nservers; k++) {
		const char *name = failover_server_value(cfg, k, CONFIG_RTYPE_MX);
		if (strlen(name) - 1 == tl && strncasecmp(name, t, tl) == 0)
			return (long)k;
	}
	return -1;
}

static int
fuzz_str_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The same values, in any order? */
static int
fuzz_same(char **a, char **b, size_t n)
{
	qsort(a, n, sizeof(*a), fuzz_str_cmp);
	qsort(b, n, sizeof(*b), fuzz_str_cmp);
	for (size_t i = 0; i < n; i++)
		if (strcmp(a[i], b[i]) != 0)
			return 0;
	return 1;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct config *cfg = fuzz_config();
	const struct config_group *g = &cfg->groups[0];
	char *text = malloc(size + 1), *save = NULL, *line;
	char *vals[FUZZ_MAX_VALUES];
	size_t n = 0;
	struct failover_rec_view r = {.status = FAILOVER_REC_PRESENT, .ttl = 300};

	if (text == NULL)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	for (line = strtok_r(text, "\n", &save); line != NULL && n < FUZZ_MAX_VALUES;
	     line = strtok_r(NULL, "\n", &save))
		vals[n++] = line;
	r.values = vals;
	r.nvalues = n;
	long who = failover_dns_points_to(cfg, g, &r);
	if (who < -1 || who >= (long)cfg->nservers)
		abort();
	if (who < 0 || n == 0) {
		free(text);
		return 0;
	}
	unsigned long before[FUZZ_MAX_VALUES], after[FUZZ_MAX_VALUES];
	bool present[3] = {false, false, false};
	fuzz_prefs(vals, n, before);
	for (size_t i = 0; i < n; i++) {
		long k = fuzz_server_of(cfg, vals[i]);
		if (k >= 0)
			present[k] = true;
	}
	char **first = NULL;
	size_t nfirst = 0;
	for (size_t s = 0; s < cfg->nservers; s++) {
		size_t nn = 0;
		char **nv = failover_dns_new_values(cfg, g, &r, s, &nn);
		if (nv == NULL || nn != n)
			abort(); /* a set taken as ours can always be reordered */
		fuzz_prefs(nv, nn, after);
		if (memcmp(before, after, n * sizeof(before[0])) != 0)
			abort(); /* preferences are traded, never made up */
		/* Hosts outside the group keep their values, verbatim. */
		for (size_t i = 0; i < n; i++) {
			int kept = fuzz_server_of(cfg, vals[i]) >= 0;
			for (size_t j = 0; j < nn && !kept; j++)
				kept = strcmp(vals[i], nv[j]) == 0;
			if (!kept)
				abort();
		}
		/* A server in the set stays in it when the target is in it too. */
		for (size_t k = 0; present[s] && k < cfg->nservers; k++) {
			int in = !present[k];
			for (size_t j = 0; j < nn && !in; j++)
				in = fuzz_server_of(cfg, nv[j]) == (long)k;
			if (!in)
				abort();
		}
		struct failover_rec_view w = {.status = FAILOVER_REC_PRESENT, .values = nv,
					      .nvalues = nn, .ttl = 300};
		if (failover_dns_points_to(cfg, g, &w) != (long)s)
			abort(); /* what is written reads back as ours, at @s */
		if (s == 0) {
			first = nv;
			nfirst = nn;
			continue;
		}
		/* With every server in the set, failback restores one order,
		 * whichever server the set pointed at. */
		if (present[0] && present[1] && present[2]) {
			size_t nb = 0;
			char **b = failover_dns_new_values(cfg, g, &w, 0, &nb);
			char **f = failover_dns_strv_dup((const char *const *)first, nfirst);
			if (b == NULL || f == NULL || nb != nfirst || !fuzz_same(b, f, nb))
				abort();
			failover_dns_strv_free(b, nb);
			failover_dns_strv_free(f, nfirst);
		}
		failover_dns_strv_free(nv, nn);
	}
	failover_dns_strv_free(first, nfirst);
	free(text);
	return 0;
}
