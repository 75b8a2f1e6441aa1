/*
 * audit_engine.c -- one audit run: every domain at once on one event loop.
 *
 * A domain is open while its hold count is above zero.  The engine holds it
 * for its own stage 1 (audit_gather) and every audit_lookup() holds it until
 * its callback has run; stages hold it for their own work.  When the count
 * drops to zero the engine's judgements run on the facts, the findings are
 * ordered and the domain is finished; when the last domain is finished the
 * run's callback runs (from an event, never from inside a stage) and the run
 * frees itself.  audit_run_cancel() cancels every query and calls every
 * stage hook instead.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/rand.h>

#include "audit.h"
#include "clock.h"
#include "dns_client.h"
#include "dns_update.h"
#include "mxf.h"
#include "value.h"

struct audit_hook {
	struct audit_hook *prev, *next;
	void (*fn)(void *arg);
	void *arg;
};

struct audit_q {
	struct audit_q *prev, *next;
	struct audit_domain *d;
	struct dns_client_query *q;
	audit_lookup_cb cb;
	void *arg;
};

struct audit_domain {
	struct audit_run *run;
	char *name;                /* absolute, trailing dot */
	struct audit_report report;
	struct audit_facts facts;
	unsigned holds;
	bool finished;
	bool stage2;               /* audit_engine_mx_ready() has run */
	uint64_t t0;
	struct audit_q *queries;
	struct audit_hook *hooks;
};

struct audit_run {
	struct event_base *base;
	struct audit_opts opts;
	struct audit_domain *domains;
	struct audit_report **reports;
	size_t n;
	size_t pending;            /* domains not finished */
	struct event *done_ev;
	audit_done_cb done;
	void *arg;
};

struct audit_report *
audit_domain_report(struct audit_domain *d)
{
	return &d->report;
}

const struct audit_facts *
audit_domain_facts(const struct audit_domain *d)
{
	return &d->facts;
}

struct audit_facts *
audit_domain_facts_mut(struct audit_domain *d)
{
	return &d->facts;
}

const struct audit_opts *
audit_domain_opts(const struct audit_domain *d)
{
	return &d->run->opts;
}

struct event_base *
audit_domain_base(struct audit_domain *d)
{
	return d->run->base;
}

const char *
audit_domain_name(const struct audit_domain *d)
{
	return d->name;
}

void
audit_hold(struct audit_domain *d)
{
	d->holds++;
}

/* The domain is complete: judge the facts, order the findings. */
static void
domain_finish(struct audit_domain *d)
{
	struct audit_facts *f = &d->facts;
	struct audit_report *r = &d->report;
	const struct audit_opts *o = &d->run->opts;

	/* No NOERROR answer to any of MX, NS, SOA: the domain does not resolve. */
	if (f->mx_status != 0 && f->ns_status != 0 && f->soa_status != 0) {
		r->unresolved = true;
		audit_checked(r, 1);
		audit_add_default(r, "domain-unresolved", NULL,
				  f->soa_rcode == LDNS_RCODE_NXDOMAIN
					  ? "%s does not exist (NXDOMAIN)"
					  : "no answer for %s from the resolver (%s)",
				  r->domain,
				  f->soa_status == MXF_ERCODE ? dns_rcode_name(f->soa_rcode)
							       : mxf_strerror(f->soa_status));
	} else {
		audit_mx_judge(f, o, r);
		audit_ptr_judge(f, o, r);
		audit_ns_judge(f, o, r);
	}
	audit_report_sort(r);
	r->seconds = (double)clock_mono_since_ms(d->t0) / 1000.0;
	d->finished = true;
	if (--d->run->pending == 0)
		event_active(d->run->done_ev, EV_TIMEOUT, 0);
}

void
audit_release(struct audit_domain *d)
{
	if (d->holds == 0 || d->finished)
		return; /* a release without its hold: ignored rather than double-finishing */
	if (--d->holds == 0)
		domain_finish(d);
}

struct audit_hook *
audit_hook_add(struct audit_domain *d, void (*fn)(void *arg), void *arg)
{
	struct audit_hook *h = calloc(1, sizeof(*h));

	if (h == NULL)
		return NULL;
	h->fn = fn;
	h->arg = arg;
	h->next = d->hooks;
	if (d->hooks != NULL)
		d->hooks->prev = h;
	d->hooks = h;
	return h;
}

void
audit_hook_remove(struct audit_domain *d, struct audit_hook *h)
{
	if (h == NULL)
		return;
	if (h->prev != NULL)
		h->prev->next = h->next;
	else
		d->hooks = h->next;
	if (h->next != NULL)
		h->next->prev = h->prev;
	free(h);
}

static void
q_unlink(struct audit_q *aq)
{
	struct audit_domain *d = aq->d;

	if (aq->prev != NULL)
		aq->prev->next = aq->next;
	else
		d->queries = aq->next;
	if (aq->next != NULL)
		aq->next->prev = aq->prev;
}

static void
lookup_cb(struct dns_client_result *res, void *arg)
{
	struct audit_q *aq = arg;
	struct audit_domain *d = aq->d;
	int rcode = res->pkt != NULL ? (int)ldns_pkt_get_rcode(res->pkt) : -1;
	int status = res->status;

	q_unlink(aq);
	if (status == 0 && rcode != LDNS_RCODE_NOERROR)
		status = rcode == LDNS_RCODE_NXDOMAIN ? MXF_ENOTFOUND : MXF_ERCODE;
	/* The reply is handed over even with an error rcode: flags (AA, RA) matter. */
	aq->cb(d, status, rcode, res->pkt, aq->arg);
	free(aq);
	audit_release(d);
}

int
audit_lookup(struct audit_domain *d, const struct sockaddr *server, socklen_t len,
	     const char *name, ldns_rr_type type, unsigned flags, audit_lookup_cb cb, void *arg)
{
	const struct audit_opts *o = &d->run->opts;
	ldns_rdf *qname = NULL;
	ldns_pkt *pkt = NULL;
	uint8_t *wire = NULL;
	size_t wlen = 0;
	uint16_t id;
	struct audit_q *aq;
	int rc, err = 0;

	if (server == NULL) {
		server = (const struct sockaddr *)&o->resolver;
		len = o->resolver_len;
	}
	if (ldns_str2rdf_dname(&qname, name) != LDNS_STATUS_OK)
		return MXF_EINVAL;
	if (RAND_bytes((unsigned char *)&id, sizeof(id)) != 1)
		id = (uint16_t)(clock_mono_ms() ^ (uintptr_t)d);
	rc = dns_update_query(qname, type, id, &pkt);
	ldns_rdf_deep_free(qname);
	if (rc != 0)
		return rc;
	ldns_pkt_set_rd(pkt, (flags & AUDIT_Q_NORD) == 0);
	rc = dns_update_to_wire(pkt, &wire, &wlen);
	ldns_pkt_free(pkt);
	if (rc != 0)
		return rc;
	aq = calloc(1, sizeof(*aq));
	if (aq == NULL) {
		free(wire);
		return MXF_ENOMEM;
	}
	aq->d = d;
	aq->cb = cb;
	aq->arg = arg;
	if (flags & AUDIT_Q_TCP)
		aq->q = dns_client_send_tcp(d->run->base, server, len, wire, wlen, o->timeout_ms,
					    lookup_cb, aq, &err);
	else
		aq->q = dns_client_send(d->run->base, server, len, wire, wlen, o->timeout_ms,
					lookup_cb, aq, &err);
	free(wire);
	if (aq->q == NULL) {
		free(aq);
		return err != 0 ? err : MXF_ENOMEM;
	}
	aq->next = d->queries;
	if (d->queries != NULL)
		d->queries->prev = aq;
	d->queries = aq;
	audit_hold(d);
	return 0;
}

void
audit_engine_mx_ready(struct audit_domain *d)
{
	if (d->stage2)
		return;
	d->stage2 = true;
	d->facts.mx_ready = true;
	audit_hold(d);
	/* Always: audit_smtp_start() honours opts.smtp itself and is also where
	 * the policy checks that need the MX set (MTA-STS mx, DANE) run. */
	audit_smtp_start(d);
	if (d->run->opts.cfg != NULL)
		audit_failover_start(d);
	audit_release(d);
}

static void
done_event(evutil_socket_t fd, short what, void *arg)
{
	struct audit_run *run = arg;

	(void)fd;
	(void)what;
	run->done(run->reports, run->n, run->arg);
	audit_run_cancel(run);
}

static void
domain_teardown(struct audit_domain *d)
{
	while (d->queries != NULL) {
		struct audit_q *aq = d->queries;

		q_unlink(aq);
		dns_client_cancel(aq->q);
		free(aq);
	}
	while (d->hooks != NULL) {
		struct audit_hook *h = d->hooks;

		d->hooks = h->next;
		h->fn(h->arg);
		free(h);
	}
	audit_facts_clear(&d->facts);
	audit_report_clear(&d->report);
	free(d->name);
}

void
audit_run_cancel(struct audit_run *run)
{
	if (run == NULL)
		return;
	for (size_t i = 0; i < run->n; i++)
		domain_teardown(&run->domains[i]);
	if (run->done_ev != NULL)
		event_free(run->done_ev);
	free(run->domains);
	free(run->reports);
	free(run);
}

struct audit_run *
audit_run_start(struct event_base *base, const struct audit_opts *o, char *const *domains,
		size_t n, audit_done_cb done, void *arg, int *err)
{
	struct audit_run *run;

	if (n == 0) {
		*err = MXF_EINVAL;
		return NULL;
	}
	run = calloc(1, sizeof(*run));
	if (run == NULL) {
		*err = MXF_ENOMEM;
		return NULL;
	}
	run->base = base;
	run->opts = *o;
	if (run->opts.ns_port == 0)
		run->opts.ns_port = 53;
	if (run->opts.timeout_ms == 0)
		run->opts.timeout_ms = 5000;
	run->done = done;
	run->arg = arg;
	run->domains = calloc(n, sizeof(*run->domains));
	run->reports = calloc(n, sizeof(*run->reports));
	run->done_ev = event_new(base, -1, 0, done_event, run);
	if (run->domains == NULL || run->reports == NULL || run->done_ev == NULL) {
		*err = MXF_ENOMEM;
		goto fail;
	}
	for (size_t i = 0; i < n; i++) {
		struct audit_domain *d = &run->domains[i];

		d->run = run;
		run->n = i + 1;
		d->name = value_normalize_name(domains[i]);
		if (d->name == NULL) {
			*err = MXF_EINVAL;
			goto fail;
		}
		if (audit_report_init(&d->report, d->name) != 0) {
			*err = MXF_ENOMEM;
			goto fail;
		}
		run->reports[i] = &d->report;
	}
	/* Start only once every name is known to be good. */
	run->pending = n;
	for (size_t i = 0; i < n; i++) {
		struct audit_domain *d = &run->domains[i];

		d->t0 = clock_mono_ms();
		audit_hold(d);
		audit_gather_start(d);
		audit_policy_start(d);
		audit_release(d);
	}
	return run;
fail:
	audit_run_cancel(run);
	return NULL;
}
