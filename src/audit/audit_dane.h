/*
 * audit_dane.h -- DANE for SMTP (RFC 7672, RFC 6698): whether a TLSA record
 * set at _25._tcp.MXHOST matches the certificate chain a server presented.
 *
 * Only DANE-TA(2) and DANE-EE(3) count for SMTP (RFC 7672 3.1.3: PKIX-TA(0)
 * and PKIX-EE(1) are "unusable"); selectors Cert(0) and SPKI(1); matching
 * Full(0), SHA2-256(1), SHA2-512(2).  DANE-EE matches the leaf only,
 * DANE-TA any certificate of the presented chain (RFC 7671 5.2.2: the trust
 * anchor must be in the chain, as servers are told to send it).
 *
 * Pure (OpenSSL's certificate parsing and hashing; no I/O, no clock).
 */
#ifndef MXF_AUDIT_DANE_H
#define MXF_AUDIT_DANE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/x509.h>

#define AUDIT_DANE_DATA_MAX 1024  /* longer Full(0) data is not kept */

struct audit_tlsa {
	uint8_t usage, selector, mtype;
	size_t len;
	uint8_t data[AUDIT_DANE_DATA_MAX];
};

/*
 * audit_tlsa_from_rdata -- a TLSA record from its RDATA (@rd, @len bytes).
 * @return 0; MXF_EINVAL when shorter than 4 bytes, a hash of the wrong
 *         length; MXF_ETOOBIG when the data exceeds AUDIT_DANE_DATA_MAX.
 */
int audit_tlsa_from_rdata(const uint8_t *rd, size_t len, struct audit_tlsa *out);

/* audit_tlsa_usable -- whether @t can authenticate an SMTP server (usage
 * 2 or 3, selector 0 or 1, matching 0, 1 or 2). */
bool audit_tlsa_usable(const struct audit_tlsa *t);

/*
 * audit_dane_match -- whether one usable record of @tlsa (@n) matches the
 * chain @chain (@nchain certificates, the leaf first).
 * @return 1 matched, 0 no match, MXF_ENOMEM.
 */
int audit_dane_match(const struct audit_tlsa *tlsa, size_t n, X509 *const *chain,
		     size_t nchain);

#endif
