/*
 * audit_tags.h -- the "tag=value; tag=value" lists of DMARC (RFC 7489
 * 6.4), MTA-STS (RFC 8461 3.1) and TLSRPT (RFC 8460 3) TXT records, and the
 * judges of those three records on top of it.
 *
 * Pure: no I/O, no clock, no logging.  Results are copied into bounded
 * fields; an over-long input is refused, never cut silently.
 */
#ifndef MXF_AUDIT_TAGS_H
#define MXF_AUDIT_TAGS_H

#include <stdbool.h>
#include <stddef.h>

#define AUDIT_TAGS_MAX 24
#define AUDIT_TAG_NAME_MAX 32
#define AUDIT_TAG_VALUE_MAX 512

struct audit_tag {
	char name[AUDIT_TAG_NAME_MAX];
	char value[AUDIT_TAG_VALUE_MAX]; /* without surrounding white space */
};

struct audit_tags {
	size_t n;
	struct audit_tag tags[AUDIT_TAGS_MAX];
	char error[200];
};

/*
 * audit_tags_parse -- split @txt (@len bytes) at ';' into tags "name=value"
 * with optional white space around each part; an empty last element (a
 * trailing ';') is allowed.  Names are alphanumerics and '_' (case kept).
 * @return 0; or MXF_EINVAL with @out->error ("tag 2 \"p\": no '='",
 *         "tag \"p\" given twice"), MXF_ETOOBIG for too many or too long tags.
 */
int audit_tags_parse(const char *txt, size_t len, struct audit_tags *out);

/* audit_tags_get -- the value of tag @name (case-insensitive), or NULL. */
const char *audit_tags_get(const struct audit_tags *t, const char *name);

/* --- DMARC (RFC 7489) --- */

enum audit_dmarc_policy { AUDIT_DMARC_NONE, AUDIT_DMARC_QUARANTINE, AUDIT_DMARC_REJECT };

struct audit_dmarc {
	enum audit_dmarc_policy p, sp;
	int pct;                /* 0..100, 100 when absent */
	bool p_implied;         /* no p= but a valid rua=: treated as p=none (6.6.3) */
	char error[200];
};

/* audit_dmarc_is_record -- "v=DMARC1" first, as for selecting records (6.6.3). */
bool audit_dmarc_is_record(const char *txt, size_t len);

/*
 * audit_dmarc_parse -- check a DMARC record: v=DMARC1 first, p= one of
 * none/quarantine/reject (required unless rua= is valid), sp= likewise,
 * pct= 0..100, adkim=/aspf= r|s, fo= of 0/1/d/s joined by ':', rf=, ri=
 * a number, rua=/ruf= comma-separated URIs with a scheme (mailto:...).
 * Unknown tags are ignored (6.3).  @return 0, or MXF_EINVAL with @out->error.
 */
int audit_dmarc_parse(const char *txt, size_t len, struct audit_dmarc *out);

/* --- MTA-STS (RFC 8461) --- */

/* audit_mtasts_is_record -- "v=STSv1" first (3.1: other records are ignored). */
bool audit_mtasts_is_record(const char *txt, size_t len);

/*
 * audit_mtasts_txt_parse -- the _mta-sts TXT record: v=STSv1 first, id= of
 * 1..32 alphanumerics.  @id receives the id (33 bytes).  @return 0, or
 * MXF_EINVAL with @why (size @whylen).
 */
int audit_mtasts_txt_parse(const char *txt, size_t len, char id[33], char *why, size_t whylen);

/* --- TLSRPT (RFC 8460) --- */

/* audit_tlsrpt_is_record -- "v=TLSRPTv1" first. */
bool audit_tlsrpt_is_record(const char *txt, size_t len);

/*
 * audit_tlsrpt_parse -- the _smtp._tls TXT record: v=TLSRPTv1 first, rua=
 * one or more comma-separated "mailto:" or "https:" URIs.  @return 0, or
 * MXF_EINVAL with @why.
 */
int audit_tlsrpt_parse(const char *txt, size_t len, char *why, size_t whylen);

#endif
