/*
 * audit_mtasts.h -- the MTA-STS policy file (RFC 8461 3.2), fetched from
 * https://mta-sts.DOMAIN/.well-known/mta-sts.txt, and matching MX host
 * names against its mx: patterns (3.2, 4.1).
 *
 * Pure: no I/O, no clock, no logging.  The TXT record is judged by
 * audit_tags.h (audit_mtasts_txt_parse).
 */
#ifndef MXF_AUDIT_MTASTS_H
#define MXF_AUDIT_MTASTS_H

#include <stdbool.h>
#include <stddef.h>

/* A policy file is small; RFC 8461 3.3 lets senders cap it at 64 KiB. */
#define AUDIT_MTASTS_BODY_MAX 65536
#define AUDIT_MTASTS_MX_MAX 32
#define AUDIT_MTASTS_MAX_AGE 31557600L  /* RFC 8461 3.2: at most one year */

enum audit_mtasts_mode { AUDIT_MTASTS_NONE, AUDIT_MTASTS_TESTING, AUDIT_MTASTS_ENFORCE };

struct audit_mtasts_policy {
	enum audit_mtasts_mode mode;
	long max_age;
	size_t nmx;
	char mx[AUDIT_MTASTS_MX_MAX][256]; /* patterns, lower case, no trailing dot */
	char error[200];
};

/*
 * audit_mtasts_policy_parse -- the policy body @body (@len bytes): lines
 * "key: value" ending in CRLF or LF; version: STSv1 (first), mode:
 * enforce|testing|none, max_age: 0..31557600, mx: one per line (at least one
 * unless mode is none); unknown keys are ignored.
 * @return 0; MXF_EINVAL with @out->error; MXF_ETOOBIG for a body over
 *         AUDIT_MTASTS_BODY_MAX or more than AUDIT_MTASTS_MX_MAX mx lines.
 */
int audit_mtasts_policy_parse(const char *body, size_t len, struct audit_mtasts_policy *out);

/*
 * audit_mtasts_mx_match -- whether the MX host name @host (trailing dot
 * allowed, any case) matches @pattern: equal, or "*.rest" with exactly one
 * leftmost label in place of the '*' (RFC 8461 4.1).
 */
bool audit_mtasts_mx_match(const char *pattern, const char *host);

/* audit_mtasts_policy_matches -- whether some mx: pattern of @p matches @host. */
bool audit_mtasts_policy_matches(const struct audit_mtasts_policy *p, const char *host);

/* audit_mtasts_mode_name -- "none", "testing", "enforce". */
const char *audit_mtasts_mode_name(enum audit_mtasts_mode m);

#endif
