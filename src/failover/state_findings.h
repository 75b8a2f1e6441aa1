/*
 * state_findings.h -- the background audit's findings that were announced
 * (an audit_finding event) and not yet cleared, kept in the state so a
 * restart neither announces a finding that is still there again nor
 * forgets to clear one that went away meanwhile.  The daemon's findings.c
 * decides what is new or gone against this set and replaces it after each
 * audit; this file only holds it and gives its JSON form.
 *
 * In the state file: "audit_findings": [ { "domain": S, "id": S,
 * "subject": S, "severity": "warning" | "error", "since_ms": N } ], at
 * most STATE_FINDINGS_MAX entries.  Optional on load (an older file has
 * none: its findings are announced once more), and a malformed entry is
 * skipped rather than the file refused: the worst outcome is one notice
 * too many.  Pure: no I/O, no logging.
 */
#ifndef MXF_STATE_FINDINGS_H
#define MXF_STATE_FINDINGS_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

/* Entries written to, and read from, the state file.  More may be held in
 * memory (all an audit found); those beyond are announced again after a
 * restart, once. */
#define STATE_FINDINGS_MAX 256

/* A finding is known by domain, id and subject (as in findings.h). */
struct state_finding {
	char *domain;
	char *id;
	char *subject;
	unsigned severity; /* the audit's order: 0 info, 1 warning, 2 error */
	uint64_t since_ms; /* when it was first found (this streak) */
};

/* The set; zero-initialise, free with state_findings_clear(). */
struct state_findings {
	struct state_finding *v;
	size_t n;
};

/*
 * state_findings_add -- append a copy of @domain/@id/@subject (NULL is
 * taken as "") with @severity and @since_ms.
 * @return 0, or MXF_ENOMEM (@sf unchanged).
 */
int state_findings_add(struct state_findings *sf, const char *domain, const char *id,
		       const char *subject, unsigned severity, uint64_t since_ms);

/* The entry known by @domain/@id/@subject, or NULL. */
const struct state_finding *state_findings_find(const struct state_findings *sf,
						const char *domain, const char *id,
						const char *subject);

/* Swap the contents of @a and @b (the set is replaced in one step). */
void state_findings_swap(struct state_findings *a, struct state_findings *b);

/* Free every entry; @sf is empty afterwards. */
void state_findings_clear(struct state_findings *sf);

/* The "audit_findings" array: its first STATE_FINDINGS_MAX entries.
 * @return a new reference, or NULL when out of memory. */
json_t *state_findings_to_json(const struct state_findings *sf);

/*
 * state_findings_from_json -- @sf (empty) filled from @a (may be NULL, or
 * not an array: nothing): well-formed entries only, at most
 * STATE_FINDINGS_MAX.  Out of memory leaves the entries read so far.
 */
void state_findings_from_json(struct state_findings *sf, const json_t *a);

#endif
