/*
 * demo_show.c -- what the demo shows besides its progress lines: the five
 * records as dig would print them, and the daemon's log, relayed line by
 * line with the demo's time stamps (see demo_impl.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <ldns/ldns.h>

#include "demo_impl.h"

void
demo_show_record_cb(int status, int rcode, const ldns_pkt *reply, const char *msg, void *arg)
{
	struct demo_record *rec = arg;
	char *owner = ldns_rdf2str(rec->owner);
	const char *o = owner != NULL ? owner : "?";

	rec->done = true;
	rec->d->pending--;
	rec->target[0] = '\0';
	if (status != 0) {
		snprintf(rec->line, sizeof(rec->line), "%-15s  (no answer: %s)", o, msg);
		goto out;
	}
	if (rcode != LDNS_RCODE_NOERROR) {
		ldns_lookup_table *lt = ldns_lookup_by_id(ldns_rcodes, rcode);

		snprintf(rec->line, sizeof(rec->line), "%-15s  (%s)", o,
			 lt != NULL ? lt->name : "error");
		goto out;
	}
	snprintf(rec->line, sizeof(rec->line), "%-15s  (no CNAME)", o);
	for (size_t i = 0; i < ldns_rr_list_rr_count(ldns_pkt_answer(reply)); i++) {
		ldns_rr *rr = ldns_rr_list_rr(ldns_pkt_answer(reply), i);
		char *target;

		if (ldns_rr_get_type(rr) != LDNS_RR_TYPE_CNAME ||
		    ldns_dname_compare(ldns_rr_owner(rr), rec->owner) != 0 ||
		    ldns_rr_rd_count(rr) < 1)
			continue;
		target = ldns_rdf2str(ldns_rr_rdf(rr, 0));
		if (target == NULL)
			continue;
		snprintf(rec->target, sizeof(rec->target), "%s", target);
		snprintf(rec->line, sizeof(rec->line), "%-15s  %u  IN  CNAME  %s", o,
			 ldns_rr_ttl(rr), target);
		free(target);
		break;
	}
out:
	free(owner);
}

void
demo_show_records(const struct demo *d)
{
	for (size_t i = 0; i < DEMO_NRECORDS; i++)
		printf("            %s\n", d->rec[i].line);
}

/* One line of the daemon's log, without its "mxfailover: " prefix. */
static void
demo_show_daemon_line(struct demo *d, char *line)
{
	static const char prefix[] = "mxfailover: ";

	if (strncmp(line, prefix, sizeof(prefix) - 1) == 0)
		line += sizeof(prefix) - 1;
	if (*line != '\0')
		printf("[%5.1fs]     daemon: %s\n", demo_elapsed(d), line);
}

void
demo_show_daemon_read(evutil_socket_t fd, short what, void *arg)
{
	struct demo *d = arg;
	ssize_t n = read(fd, d->dline + d->dlen, sizeof(d->dline) - 1 - d->dlen);
	char *nl;

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		/* The daemon closed its end (it exited): print what is left. */
		d->dline[d->dlen] = '\0';
		demo_show_daemon_line(d, d->dline);
		d->dlen = 0;
		event_del(d->daemon_ev);
		return;
	}
	d->dlen += (size_t)n;
	d->dline[d->dlen] = '\0';
	while ((nl = strchr(d->dline, '\n')) != NULL) {
		*nl = '\0';
		demo_show_daemon_line(d, d->dline);
		d->dlen -= (size_t)(nl + 1 - d->dline);
		memmove(d->dline, nl + 1, d->dlen + 1);
	}
	/* A line longer than the buffer is shown in pieces. */
	if (d->dlen == sizeof(d->dline) - 1) {
		demo_show_daemon_line(d, d->dline);
		d->dlen = 0;
	}
}
