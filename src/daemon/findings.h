/*
 * findings.h -- what the daemon's background audit ([general]
 * audit_interval) currently finds, and what is new or gone since the last
 * audit: a new warning or error is one audit_finding event, its end one
 * audit_clear (daemon_audit.c turns the changes into events).  Shown by
 * status_audit.c in /api/status, /metrics and on the dashboard.
 *
 * Pure: no clock (times are passed in), no I/O, no logging.  A finding is
 * known by its domain, id and subject; its severity, message and hint are
 * what the latest audit said.  What was announced is the state's
 * (state_findings.h, saved in the state file): the changes are computed
 * against it, so a restart does not announce a finding that is still there
 * again, and clears one that went away while it was down.
 */
#ifndef MXF_FINDINGS_H
#define MXF_FINDINGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "state_findings.h"

/* The audit's severities, in its order (audit.h: info, warning, error). */
enum findings_severity { FINDINGS_INFO, FINDINGS_WARNING, FINDINGS_ERROR };
#define FINDINGS_NSEV 3

/* One finding as an audit reported it (strings borrowed by findings_update,
 * owned by the set once stored). */
struct findings_item {
	char *domain;
	char *id;      /* "mx-target-cname", "failover-update-refused", ... */
	enum findings_severity severity;
	char *subject;
	char *message;
	char *hint;
	uint64_t since_ms; /* stored: when it was first found (this streak) */
};

/* The current set; zero-initialise, free with findings_clear(). */
struct findings {
	struct findings_item *v;
	size_t n;
	unsigned runs;        /* audits finished */
	uint64_t last_ms;     /* when the last audit finished, 0: never */
	double seconds;       /* how long it took */
	unsigned checks;      /* checks it ran */
	bool running;         /* an audit is under way */
	char error[256];      /* why the last audit could not run, "" */
};

/* What an update changed: indices into the new set (NEW) or copies of the
 * findings that went away (GONE).  Free with findings_changes_free(). */
struct findings_changes {
	struct findings_item *gone; /* owned copies */
	size_t ngone;
	size_t *added;              /* indices into findings.v */
	size_t nadded;
};

/*
 * findings_update -- replace the set with the @n items of the audit that
 * ended at @now_ms (strings copied; duplicates of domain/id/subject kept
 * once).  @ch receives the warnings and errors that are new (not in @told)
 * and the entries of @told that are no longer a warning or error (their
 * message and hint those of the previous set, "" when it did not hold them:
 * found before a restart).  @told is then replaced by the new set's
 * warnings and errors; a streak's start (since_ms) is @told's, else the
 * previous set's, else @now_ms.  @told NULL: the previous set's warnings
 * and errors are taken as told (nothing outlives the process).  The first
 * audit with an empty @told counts as a change from an empty set.
 * @return 0, or MXF_ENOMEM (the set, @told and @ch are then as before /
 * empty).
 */
int findings_update(struct findings *f, const struct findings_item *items, size_t n,
		    uint64_t now_ms, struct state_findings *told, struct findings_changes *ch);

/* How many findings of @sev the set holds. */
size_t findings_count(const struct findings *f, enum findings_severity sev);

/* "info" "warning" "error"; "WARNING"-style upper case with @upper. */
const char *findings_severity_name(enum findings_severity s, bool upper);

/* One line for an event: "WARNING mx-single example.com: only one MX
 * (hint)"; without message and hint (a finding told before a restart)
 * "WARNING mx-single example.com". */
int findings_line(const struct findings_item *it, char *buf, size_t len);

void findings_changes_free(struct findings_changes *ch);
void findings_clear(struct findings *f);

#endif
