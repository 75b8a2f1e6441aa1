/*
 * cmd_dns.c -- `mxfailover dns get|set|apply`: read and write records
 * through the configured primary ([dns] server) and key ([dns] key_file).
 *
 * Exit codes: 0 success; 2 usage, configuration or key-file errors; 3 any
 * DNS failure (no answer, refused, bad signature, CAS conflict, read-back
 * mismatch, no such record on get).
 */
#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <ldns/ldns.h>

#include "cmd.h"
#include "config.h"
#include "dns_apply.h"
#include "dns_ops.h"
#include "dns_keyfile.h"
#include "dns_tsig.h"
#include "dns_update.h"
#include "dns_zone.h"
#include "log.h"
#include "mxf.h"
#include "value.h"

#define APPLY_MAX_BYTES (16 * 1024 * 1024)
#define APPLY_MAX_LINE 4096
#define APPLY_MAX_ITEMS 100000

struct dns_env {
	struct config *cfg;
	struct dns_tsig_key *key;
	struct event_base *base;
	struct dns_ops *ops;
};

static void
env_free(struct dns_env *env)
{
	dns_ops_free(env->ops);
	if (env->base != NULL)
		event_base_free(env->base);
	dns_tsig_key_free(env->key);
	config_free(env->cfg);
	memset(env, 0, sizeof(*env));
}

/* Load config and key, set up the loop.  @return 0 or an exit code. */
static int
env_open(struct mxf_ctx *ctx, struct dns_env *env)
{
	char err[1024];
	int rc;

	rc = cmd_load_config(ctx, &env->cfg);
	if (rc != 0)
		return rc;
	if (env->cfg->dns.server == NULL || env->cfg->dns.server[0] == '\0') {
		fprintf(stderr, "mxfailover: dns: %s: no [dns] server configured\n",
			env->cfg->path != NULL ? env->cfg->path : ctx->config_path);
		return MXF_EXIT_USAGE;
	}
	if (env->cfg->dns.key_file != NULL) {
		rc = dns_keyfile_load(env->cfg->dns.key_file, NULL, &env->key, err, sizeof(err));
		if (rc != 0) {
			/* FILE:LINE: message at the start of the line, as for config errors. */
			fprintf(stderr, "%s\n", err);
			return MXF_EXIT_USAGE;
		}
	}
	env->base = event_base_new();
	if (env->base == NULL) {
		fprintf(stderr, "mxfailover: dns: cannot create the event loop\n");
		return MXF_EXIT_DNS;
	}
	rc = dns_ops_new(env->base, env->cfg->dns.server,
			 env->cfg->dns.port != 0 ? env->cfg->dns.port : 53, env->key,
			 env->cfg->dns.timeout_ms != 0 ? env->cfg->dns.timeout_ms : 5000, &env->ops);
	if (rc != 0) {
		fprintf(stderr, "mxfailover: dns: [dns] server '%s': %s\n", env->cfg->dns.server,
			rc == MXF_EINVAL ? "cannot resolve the address" : mxf_strerror(rc));
		return MXF_EXIT_USAGE;
	}
	return 0;
}

static int
parse_type(const char *s, ldns_rr_type *out)
{
	ldns_rr_type t = ldns_get_rr_type_by_name(s);

	if (t == 0 && strcasecmp(s, "TYPE0") != 0)
		return MXF_EINVAL;
	*out = t;
	return 0;
}

static int
parse_ttl(const char *s, int64_t *out)
{
	unsigned long v;

	if (value_parse_uint(s, 0, 2147483647UL, &v) != 0)
		return MXF_EINVAL;
	*out = (int64_t)v;
	return 0;
}

static const char *
type_name(ldns_rr_type t)
{
	const ldns_rr_descriptor *d = ldns_rr_descript(t);

	if (t == LDNS_RR_TYPE_ANY)
		return "ANY";
	return d != NULL && d->_name != NULL ? d->_name : "TYPE?";
}

/* ---- get ---- */

/*
 * Without a type, `dns get` asks for each of these at once rather than ANY:
 * servers may answer ANY with one RRset (RFC 8482; Knot does), so its
 * answer is no list of what exists.
 */
static const ldns_rr_type get_all_types[] = {
	LDNS_RR_TYPE_SOA,  LDNS_RR_TYPE_NS,    LDNS_RR_TYPE_MX,  LDNS_RR_TYPE_A,
	LDNS_RR_TYPE_AAAA, LDNS_RR_TYPE_CNAME, LDNS_RR_TYPE_TXT,
};
#define GET_ALL_N (sizeof(get_all_types) / sizeof(get_all_types[0]))

struct get_state;

/* One of the untyped get's reads; owns @rrs (what exists of that type). */
struct get_slot {
	struct get_state *g;
	ldns_rr_type type;
	ldns_rr_list *rrs;
};

struct get_state {
	struct dns_env *env;
	ldns_rdf *name;
	ldns_rr_type type;
	bool all;              /* no type given: the get_all_types reads */
	char zone[256];
	int exit;
	struct get_slot slots[GET_ALL_N];
	size_t pending;        /* reads of slots not yet answered */
	bool failed;           /* one of them failed (logged) */
	char last_err[DNS_OPS_MSG]; /* the last failure logged, said once */
};

static void
get_read_cb(int status, int rcode, const ldns_pkt *reply, const char *msg, void *arg)
{
	struct get_state *g = arg;
	char *n = ldns_rdf2str(g->name);
	const char *srv = dns_ops_server(g->env->ops);
	ldns_rr_list *rrs = NULL;

	g->exit = MXF_EXIT_DNS;
	if (status != 0) {
		log_err("%s %s in zone %s at %s: %s", n, type_name(g->type), g->zone, srv, msg);
		goto out;
	}
	if (rcode != LDNS_RCODE_NOERROR) {
		log_err("%s %s in zone %s at %s: %s (%s)", n, type_name(g->type), g->zone, srv,
			dns_rcode_name(rcode), dns_rcode_explain(rcode, false));
		goto out;
	}
	rrs = dns_update_rrset_from_pkt(reply, LDNS_SECTION_ANSWER, NULL, LDNS_RR_TYPE_ANY);
	if (rrs == NULL || ldns_rr_list_rr_count(rrs) == 0) {
		log_err("%s %s in zone %s at %s: no such record", n, type_name(g->type), g->zone,
			srv);
		goto out;
	}
	for (size_t i = 0; i < ldns_rr_list_rr_count(rrs); i++) {
		char *s = dns_update_rr_str(ldns_rr_list_rr(rrs, i));
		if (s != NULL)
			printf("%s\n", s);
		free(s);
	}
	g->exit = MXF_EXIT_OK;
out:
	ldns_rr_list_deep_free(rrs);
	free(n);
}

/* Print what the untyped get found, in get_all_types order; set the exit. */
static void
get_all_finish(struct get_state *g)
{
	size_t found = 0;

	for (size_t i = 0; i < GET_ALL_N; i++) {
		ldns_rr_list *rrs = g->slots[i].rrs;

		for (size_t k = 0; rrs != NULL && k < ldns_rr_list_rr_count(rrs); k++) {
			char *s = dns_update_rr_str(ldns_rr_list_rr(rrs, k));
			if (s != NULL)
				printf("%s\n", s);
			free(s);
			found++;
		}
		ldns_rr_list_deep_free(rrs);
		g->slots[i].rrs = NULL;
	}
	if (g->failed) {
		g->exit = MXF_EXIT_DNS;
	} else if (found == 0) {
		char *n = ldns_rdf2str(g->name);
		log_err("%s in zone %s at %s: no SOA, NS, MX, A, AAAA, CNAME or TXT record "
			"(for another type: dns get NAME TYPE)", n, g->zone,
			dns_ops_server(g->env->ops));
		free(n);
		g->exit = MXF_EXIT_DNS;
	} else {
		g->exit = MXF_EXIT_OK;
	}
}

static void
get_all_cb(int status, int rcode, const ldns_pkt *reply, const char *msg, void *arg)
{
	struct get_slot *sl = arg;
	struct get_state *g = sl->g;
	char err[DNS_OPS_MSG];

	err[0] = '\0';
	if (status != 0)
		snprintf(err, sizeof(err), "%s", msg);
	else if (rcode != LDNS_RCODE_NOERROR && rcode != LDNS_RCODE_NXDOMAIN)
		snprintf(err, sizeof(err), "%s (%s)", dns_rcode_name(rcode),
			 dns_rcode_explain(rcode, false));
	else if ((sl->rrs = dns_update_rrset_from_pkt(reply, LDNS_SECTION_ANSWER, g->name,
						      sl->type)) == NULL)
		snprintf(err, sizeof(err), "out of memory");
	if (err[0] != '\0') {
		g->failed = true;
		/* Seven reads with one bad key would say the same seven times. */
		if (strcmp(err, g->last_err) != 0) {
			char *n = ldns_rdf2str(g->name);
			log_err("%s %s in zone %s at %s: %s", n, type_name(sl->type), g->zone,
				dns_ops_server(g->env->ops), err);
			free(n);
			snprintf(g->last_err, sizeof(g->last_err), "%s", err);
		}
	}
	if (--g->pending == 0)
		get_all_finish(g);
}

/* Send the untyped get's reads, all at once (dns_ops bounds what is in flight). */
static void
get_all_start(struct get_state *g)
{
	for (size_t i = 0; i < GET_ALL_N; i++) {
		struct get_slot *sl = &g->slots[i];

		sl->g = g;
		sl->type = get_all_types[i];
		g->pending++;
		if (dns_ops_read(g->env->ops, g->name, sl->type, get_all_cb, sl) != 0) {
			g->pending--;
			if (!g->failed)
				log_err("%s", mxf_strerror(MXF_ENOMEM));
			g->failed = true;
		}
	}
	if (g->pending == 0)
		get_all_finish(g);
}

static void
get_zone_cb(int status, const ldns_rdf *zone, const char *msg, void *arg)
{
	struct get_state *g = arg;
	char *z;
	int rc;

	if (status != 0) {
		log_err("%s", msg);
		g->exit = MXF_EXIT_DNS;
		return;
	}
	z = ldns_rdf2str(zone);
	snprintf(g->zone, sizeof(g->zone), "%s", z != NULL ? z : "?");
	free(z);
	if (g->all) {
		get_all_start(g);
		return;
	}
	rc = dns_ops_read(g->env->ops, g->name, g->type, get_read_cb, g);
	if (rc != 0) {
		log_err("%s", mxf_strerror(rc));
		g->exit = MXF_EXIT_DNS;
	}
}

static int
dns_get(struct mxf_ctx *ctx, int argc, char **argv)
{
	struct get_state g = {.type = LDNS_RR_TYPE_ANY, .all = true, .exit = MXF_EXIT_DNS};
	struct dns_env env = {0};
	int rc;

	if (argc < 1 || argc > 2)
		return cmd_usage_error("dns", "usage: dns get NAME [TYPE]");
	if (dns_update_name(argv[0], &g.name) != 0)
		return cmd_usage_error("dns", "invalid name '%s'", argv[0]);
	if (argc == 2 && parse_type(argv[1], &g.type) != 0) {
		ldns_rdf_deep_free(g.name);
		return cmd_usage_error("dns", "unknown record type '%s'", argv[1]);
	}
	/* An explicit ANY is asked as such: the user wants the server's answer. */
	g.all = argc == 1;
	rc = env_open(ctx, &env);
	if (rc != 0)
		goto out;
	g.env = &env;
	if (dns_zone_find(env.ops, env.cfg, g.name, get_zone_cb, &g) != 0) {
		rc = MXF_EXIT_DNS;
		goto out;
	}
	event_base_dispatch(env.base);
	rc = g.exit;
out:
	ldns_rdf_deep_free(g.name);
	env_free(&env);
	return rc;
}

/* ---- set and apply ---- */

static void
apply_done(void *arg)
{
	*(int *)arg = 1;
}

/* Run the items, print one line per item.  @return the exit code. */
static int
run_items(struct dns_env *env, struct dns_apply_item *items, size_t n)
{
	int done = 0, rc = MXF_EXIT_OK;
	uint32_t dttl = env->cfg->dns.ttl >= 0 ? (uint32_t)env->cfg->dns.ttl
						: DNS_UPDATE_DEFAULT_TTL;

	if (dns_apply_start(env->ops, env->cfg, items, n, dttl, apply_done, &done) != 0) {
		fprintf(stderr, "mxfailover: dns: out of memory\n");
		return MXF_EXIT_DNS;
	}
	event_base_dispatch(env->base);
	if (!done) {
		fprintf(stderr, "mxfailover: dns: internal error: the update did not finish\n");
		return MXF_EXIT_DNS;
	}
	for (size_t i = 0; i < n; i++) {
		struct dns_apply_item *it = &items[i];
		char *owner = ldns_rdf2str(it->owner);
		char *zone = it->zone != NULL ? ldns_rdf2str(it->zone) : NULL;
		char *oldv = dns_update_rdata_str(it->found);
		char *newv = dns_update_rdata_str(it->new_rrs);
		unsigned ttl = (unsigned)ldns_rr_ttl(ldns_rr_list_rr(it->new_rrs, 0));

		if (it->status != 0) {
			log_err("%s", it->msg);
			rc = MXF_EXIT_DNS;
		} else if (it->unchanged) {
			printf("zone %s: %s %s %s (TTL %u): already set, nothing sent, verified\n",
			       zone ? zone : "?", owner ? owner : "?", type_name(it->type),
			       newv ? newv : "?", ttl);
		} else {
			printf("zone %s: %s %s %s -> %s (TTL %u): %s, verified\n", zone ? zone : "?",
			       owner ? owner : "?", type_name(it->type), oldv ? oldv : "?",
			       newv ? newv : "?", ttl, dns_rcode_name(it->rcode));
		}
		free(owner);
		free(zone);
		free(oldv);
		free(newv);
	}
	return rc;
}

static int
dns_set(struct mxf_ctx *ctx, int argc, char **argv)
{
	struct dns_apply_item item = {.ttl = -1, .expect = DNS_APPLY_EXPECT_CURRENT};
	struct dns_env env = {0};
	const char *expect = NULL, *pos[4];
	char err[512];
	size_t npos = 0;
	int rc;

	for (int i = 0; i < argc; i++) {
		if (strcmp(argv[i], "--expect") == 0) {
			if (i + 1 >= argc)
				return cmd_usage_error("dns", "--expect needs a value ('' for none)");
			expect = argv[++i];
		} else if (strncmp(argv[i], "--expect=", 9) == 0) {
			expect = argv[i] + 9;
		} else if (strcmp(argv[i], "--") == 0) {
			for (i++; i < argc; i++) {
				if (npos >= 4)
					return cmd_usage_error("dns", "too many arguments");
				pos[npos++] = argv[i];
			}
		} else if (argv[i][0] == '-' && argv[i][1] != '\0') {
			return cmd_usage_error("dns", "unknown option '%s'", argv[i]);
		} else {
			if (npos >= 4)
				return cmd_usage_error("dns", "too many arguments");
			pos[npos++] = argv[i];
		}
	}
	if (npos < 3)
		return cmd_usage_error("dns", "usage: dns set [--expect OLD] NAME TYPE VALUE [TTL]");
	if (dns_update_name(pos[0], &item.owner) != 0)
		return cmd_usage_error("dns", "invalid name '%s'", pos[0]);
	if (parse_type(pos[1], &item.type) != 0 || item.type == LDNS_RR_TYPE_ANY) {
		rc = cmd_usage_error("dns", "unknown record type '%s'", pos[1]);
		goto out;
	}
	if (npos == 4 && parse_ttl(pos[3], &item.ttl) != 0) {
		rc = cmd_usage_error("dns", "invalid TTL '%s' (0..2147483647 seconds)", pos[3]);
		goto out;
	}
	if (dns_update_rrs_from_text(item.owner, item.type, 0, &pos[2], 1, &item.new_rrs, err,
				     sizeof(err)) != 0) {
		rc = cmd_usage_error("dns", "%s", err);
		goto out;
	}
	if (expect != NULL) {
		item.expect = DNS_APPLY_EXPECT_GIVEN;
		if (expect[0] == '\0')
			item.expected = ldns_rr_list_new();
		else if (dns_update_rrs_from_text(item.owner, item.type, 0, &expect, 1,
						  &item.expected, err, sizeof(err)) != 0) {
			rc = cmd_usage_error("dns", "--expect: %s", err);
			goto out;
		}
		if (item.expected == NULL) {
			rc = MXF_EXIT_DNS;
			goto out;
		}
	}
	rc = env_open(ctx, &env);
	if (rc != 0)
		goto out;
	rc = run_items(&env, &item, 1);
out:
	dns_apply_item_clear(&item);
	env_free(&env);
	return rc;
}

/* Split @line into whitespace-separated tokens, keeping "quoted strings" whole. */
static int
tokenize(char *line, char **tok, int max)
{
	int n = 0;
	char *p = line;

	for (;;) {
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == '\0')
			return n;
		if (n >= max)
			return -1;
		tok[n++] = p;
		if (*p == '"') {
			p++;
			while (*p != '\0' && *p != '"') {
				if (*p == '\\' && p[1] != '\0')
					p++;
				p++;
			}
			if (*p != '"')
				return -1;
			p++;
		} else {
			while (*p != '\0' && *p != ' ' && *p != '\t')
				p++;
		}
		if (*p != '\0')
			*p++ = '\0';
	}
}

static bool
all_digits(const char *s)
{
	if (*s == '\0')
		return false;
	for (; *s != '\0'; s++)
		if (!isdigit((unsigned char)*s))
			return false;
	return true;
}

/*
 * Where each NAME TYPE of the file already is in the items: an open hash
 * table (item index + 1, 0 empty) twice the size of APPLY_MAX_ITEMS, so
 * merging the lines of an RRset costs one probe, not a scan of every item
 * before it (10,000 lines took 3.5 s of CPU that way).
 */
#define APPLY_INDEX_SIZE (1u << 18)

static size_t
apply_hash(const ldns_rdf *owner, ldns_rr_type type)
{
	const uint8_t *d = ldns_rdf_data(owner);
	uint64_t h = 0xcbf29ce484222325ull ^ type;

	for (size_t i = 0; i < ldns_rdf_size(owner); i++) {
		h ^= (uint8_t)tolower(d[i]);
		h *= 0x100000001b3ull;
	}
	return (size_t)(h ^ (h >> 32)) & (APPLY_INDEX_SIZE - 1);
}

/* The slot of @owner/@type in @index: its item's, or the empty one to use. */
static uint32_t *
apply_slot(uint32_t *index, const struct dns_apply_item *items, const ldns_rdf *owner,
	   ldns_rr_type type)
{
	size_t h = apply_hash(owner, type);

	for (size_t i = 0; i < APPLY_INDEX_SIZE; i++, h = (h + 1) & (APPLY_INDEX_SIZE - 1)) {
		const struct dns_apply_item *it = index[h] ? &items[index[h] - 1] : NULL;

		if (it == NULL || (it->type == type && ldns_dname_compare(it->owner, owner) == 0))
			return &index[h];
	}
	return NULL; /* not reached: the table is never more than half full */
}

/* Parse one apply line into @items (merging lines of one NAME TYPE). */
static int
apply_line(const char *fname, int lineno, char *line, struct dns_apply_item *items, size_t *n,
	   uint32_t *index, int *lines)
{
	char *tok[64], value[APPLY_MAX_LINE], err[512];
	const ldns_rr_descriptor *d;
	const char *vp = value;
	ldns_rdf *owner = NULL;
	ldns_rr_type type;
	ldns_rr_list *rrs = NULL;
	int64_t ttl = -1;
	int nt, nv;
	size_t vl = 0;
	struct dns_apply_item *it = NULL;

	nt = tokenize(line, tok, (int)MXF_ARRAY_SIZE(tok));
	if (nt < 0) {
		fprintf(stderr, "%s:%d: unterminated quote or too many fields\n", fname, lineno);
		return MXF_EINVAL;
	}
	if (nt < 3) {
		fprintf(stderr, "%s:%d: expected NAME TYPE VALUE [TTL]\n", fname, lineno);
		return MXF_EINVAL;
	}
	if (dns_update_name(tok[0], &owner) != 0) {
		fprintf(stderr, "%s:%d: invalid name '%s'\n", fname, lineno, tok[0]);
		return MXF_EINVAL;
	}
	/*
	 * "expect NAME TYPE VALUE": the values the record set must hold (the
	 * compare-and-swap prerequisite, as dns set --expect), instead of
	 * what is read just before the update.  A record named "expect" is
	 * told apart by its second field, a type.
	 */
	bool expect = strcasecmp(tok[0], "expect") == 0 && nt >= 4 && parse_type(tok[1], &type) != 0;
	if (expect) {
		ldns_rdf_deep_free(owner);
		owner = NULL;
		if (dns_update_name(tok[1], &owner) != 0) {
			fprintf(stderr, "%s:%d: invalid name '%s'\n", fname, lineno, tok[1]);
			return MXF_EINVAL;
		}
		memmove(tok, tok + 1, sizeof(tok[0]) * (size_t)--nt);
	}
	if (parse_type(tok[1], &type) != 0 || type == LDNS_RR_TYPE_ANY) {
		fprintf(stderr, "%s:%d: unknown record type '%s'\n", fname, lineno, tok[1]);
		goto fail;
	}
	nv = nt - 2;
	/*
	 * A trailing number is the TTL when the type has a fixed number of
	 * fields and one more token than that was given.
	 */
	d = ldns_rr_descript(type);
	if (!expect && d != NULL && ldns_rr_descriptor_minimum(d) == ldns_rr_descriptor_maximum(d) &&
	    (size_t)nv == ldns_rr_descriptor_minimum(d) + 1 && all_digits(tok[nt - 1])) {
		if (parse_ttl(tok[nt - 1], &ttl) != 0) {
			fprintf(stderr, "%s:%d: invalid TTL '%s'\n", fname, lineno, tok[nt - 1]);
			goto fail;
		}
		nv--;
	}
	value[0] = '\0';
	for (int i = 0; i < nv; i++) {
		int w = snprintf(value + vl, sizeof(value) - vl, "%s%s", i > 0 ? " " : "",
				 tok[2 + i]);
		if (w < 0 || (size_t)w >= sizeof(value) - vl) {
			fprintf(stderr, "%s:%d: line too long\n", fname, lineno);
			goto fail;
		}
		vl += (size_t)w;
	}
	if (dns_update_rrs_from_text(owner, type, 0, &vp, 1, &rrs, err, sizeof(err)) != 0) {
		fprintf(stderr, "%s:%d: %s\n", fname, lineno, err);
		goto fail;
	}
	uint32_t *slot = apply_slot(index, items, owner, type);
	if (slot != NULL && *slot != 0)
		it = &items[*slot - 1];
	if (expect && it != NULL) {
		if (it->expected == NULL) {
			it->expected = rrs;
		} else {
			if (!ldns_rr_list_push_rr_list(it->expected, rrs))
				goto fail;
			ldns_rr_list_free(rrs);
		}
		it->expect = DNS_APPLY_EXPECT_GIVEN;
		ldns_rdf_deep_free(owner);
		return 0;
	}
	if (it != NULL && it->new_rrs == NULL) {
		/* The change of a record set whose expect line came first. */
		it->new_rrs = rrs;
		it->ttl = ttl;
		ldns_rdf_deep_free(owner);
		return 0;
	}
	if (it != NULL) {
		/* Another value of the same RRset. */
		if (!ldns_rr_list_push_rr_list(it->new_rrs, rrs))
			goto fail;
		ldns_rr_list_free(rrs); /* the records now belong to it->new_rrs */
		if (it->ttl < 0)
			it->ttl = ttl;
		ldns_rdf_deep_free(owner);
		return 0;
	}
	if (*n >= APPLY_MAX_ITEMS) {
		fprintf(stderr, "%s:%d: more than %d record sets\n", fname, lineno, APPLY_MAX_ITEMS);
		goto fail;
	}
	if (slot == NULL)
		goto fail;
	*slot = (uint32_t)(*n + 1);
	lines[*n] = lineno;
	it = &items[(*n)++];
	it->owner = owner;
	it->type = type;
	it->ttl = ttl;
	if (expect) {
		it->expected = rrs;
		it->expect = DNS_APPLY_EXPECT_GIVEN;
	} else {
		it->new_rrs = rrs;
		it->expect = DNS_APPLY_EXPECT_CURRENT;
	}
	return 0;
fail:
	ldns_rr_list_deep_free(rrs);
	ldns_rdf_deep_free(owner);
	return MXF_EINVAL;
}

static int
dns_apply(struct mxf_ctx *ctx, int argc, char **argv)
{
	struct dns_env env = {0};
	struct dns_apply_item *items = NULL;
	uint32_t *index = NULL;
	int *lines = NULL; /* where each item was first named */
	size_t n = 0, total = 0;
	char line[APPLY_MAX_LINE + 2];
	const char *fname;
	FILE *f;
	int lineno = 0, rc = MXF_EXIT_USAGE, bad = 0;

	if (argc != 1)
		return cmd_usage_error("dns", "usage: dns apply FILE|-");
	fname = strcmp(argv[0], "-") == 0 ? "<stdin>" : argv[0];
	f = strcmp(argv[0], "-") == 0 ? stdin : fopen(argv[0], "re");
	if (f == NULL) {
		fprintf(stderr, "mxfailover: dns apply: %s: %s\n", argv[0], strerror(errno));
		return MXF_EXIT_USAGE;
	}
	items = calloc(APPLY_MAX_ITEMS, sizeof(*items));
	index = calloc(APPLY_INDEX_SIZE, sizeof(*index));
	lines = calloc(APPLY_MAX_ITEMS, sizeof(*lines));
	if (items == NULL || index == NULL || lines == NULL) {
		fprintf(stderr, "mxfailover: dns apply: out of memory\n");
		goto out;
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		size_t l = strlen(line);
		char *p = line;

		lineno++;
		total += l;
		if (total > APPLY_MAX_BYTES) {
			fprintf(stderr, "%s: larger than %d bytes\n", fname, APPLY_MAX_BYTES);
			bad = 1;
			break;
		}
		if (l > 0 && line[l - 1] != '\n' && !feof(f)) {
			fprintf(stderr, "%s:%d: line longer than %d characters\n", fname, lineno,
				APPLY_MAX_LINE);
			bad = 1;
			break;
		}
		while (l > 0 && (line[l - 1] == '\n' || line[l - 1] == '\r'))
			line[--l] = '\0';
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == '\0' || *p == '#' || *p == ';')
			continue;
		if (apply_line(fname, lineno, p, items, &n, index, lines) != 0)
			bad = 1;
	}
	if (ferror(f)) {
		fprintf(stderr, "%s: read error\n", fname);
		bad = 1;
	}
	for (size_t i = 0; !bad && i < n; i++) {
		if (items[i].new_rrs == NULL) {
			char *o = ldns_rdf2str(items[i].owner);
			fprintf(stderr, "%s:%d: expect %s %s: no line changes that record set\n",
				fname, lines[i], o ? o : "?", type_name(items[i].type));
			free(o);
			bad = 1;
		}
	}
	if (bad)
		goto out;
	if (n == 0) {
		fprintf(stderr, "%s: no records to change\n", fname);
		goto out;
	}
	rc = env_open(ctx, &env);
	if (rc != 0)
		goto out;
	rc = run_items(&env, items, n);
out:
	if (f != stdin)
		fclose(f);
	for (size_t i = 0; items != NULL && i < n; i++)
		dns_apply_item_clear(&items[i]);
	free(items);
	free(index);
	free(lines);
	env_free(&env);
	return rc;
}

int
cmd_dns(struct mxf_ctx *ctx, int argc, char **argv)
{
	if (argc < 2)
		return cmd_usage_error("dns", "expected 'get', 'set' or 'apply'");
	if (strcmp(argv[1], "get") == 0)
		return dns_get(ctx, argc - 2, argv + 2);
	if (strcmp(argv[1], "set") == 0)
		return dns_set(ctx, argc - 2, argv + 2);
	if (strcmp(argv[1], "apply") == 0)
		return dns_apply(ctx, argc - 2, argv + 2);
	return cmd_usage_error("dns", "unknown subcommand '%s' (get, set or apply)", argv[1]);
}
