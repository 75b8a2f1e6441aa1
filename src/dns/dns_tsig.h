/*
 * dns_tsig.h -- TSIG keys and TSIG signing and verification of DNS messages
 * in wire form (RFC 8945).  Keys come from BIND key files (dns_keyfile.h)
 * or from their parts (dns_tsig_key_new).
 *
 * Signing and verification are done here with OpenSSL's HMAC, not with ldns,
 * because ldns 1.8 lacks hmac-sha224 and misspells hmac-sha384.  The module
 * is pure: the current time is an argument, nothing is logged, and the
 * secret never appears in any message this module produces.
 */
#ifndef MXF_DNS_TSIG_H
#define MXF_DNS_TSIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <openssl/types.h>

#define DNS_TSIG_FUDGE 300
#define DNS_TSIG_MAX_MAC 64      /* SHA-512 */
#define DNS_TSIG_MAX_SECRET 1024 /* bytes after base64 decoding */

/* TSIG error codes (RFC 8945 §3 and the IANA registry). */
#define DNS_TSIG_BADSIG 16
#define DNS_TSIG_BADKEY 17
#define DNS_TSIG_BADTIME 18
#define DNS_TSIG_BADTRUNC 22

enum dns_tsig_alg {
	DNS_TSIG_HMAC_MD5,
	DNS_TSIG_HMAC_SHA1,
	DNS_TSIG_HMAC_SHA224,
	DNS_TSIG_HMAC_SHA256,
	DNS_TSIG_HMAC_SHA384,
	DNS_TSIG_HMAC_SHA512,
};

struct dns_tsig_key {
	char *name;               /* presentation form, absolute, lower-case */
	uint8_t name_wire[256];   /* canonical (lower-case) wire form */
	size_t name_wire_len;
	enum dns_tsig_alg alg;
	uint8_t *secret;          /* decoded; never printed */
	size_t secret_len;
	EVP_MAC_CTX *mac;         /* HMAC keyed with the secret, copied for each
				   * message rather than fetched and keyed again
				   * (a switch signs thousands) */
};

/* What the verification of a reply found. */
enum dns_tsig_verdict_kind {
	DNS_TSIG_VERDICT_OK,
	DNS_TSIG_VERDICT_UNSIGNED,     /* no TSIG record in the reply */
	DNS_TSIG_VERDICT_MALFORMED,    /* the TSIG record could not be parsed */
	DNS_TSIG_VERDICT_WRONG_KEY,    /* signed with another key name or algorithm */
	DNS_TSIG_VERDICT_BAD_MAC,      /* our MAC over the reply differs */
	DNS_TSIG_VERDICT_TIME,         /* our clock and the signature's differ */
	DNS_TSIG_VERDICT_SERVER_ERROR, /* the server put an error in its TSIG */
};

struct dns_tsig_verdict {
	enum dns_tsig_verdict_kind kind;
	uint16_t error;       /* the TSIG error field of the reply */
	uint64_t time_signed; /* of the reply's TSIG */
	uint64_t server_time; /* BADTIME: the server's clock, else time_signed */
	int64_t skew;         /* server time minus our time, seconds */
};

/*
 * dns_tsig_alg_name -- "hmac-sha256" etc. for messages.
 * @return a static string.
 */
const char *dns_tsig_alg_name(enum dns_tsig_alg alg);

/*
 * dns_tsig_alg_parse -- algorithm by BIND's name ("hmac-sha256", also with a
 * trailing dot, case-insensitive; "hmac-md5.sig-alg.reg.int" for MD5).
 * @return 0 with *out set, or MXF_EINVAL.
 */
int dns_tsig_alg_parse(const char *name, enum dns_tsig_alg *out);

/*
 * dns_tsig_name_to_wire -- a key name ("k.example." or without the dot) in
 * lower-case uncompressed wire form.  Escapes are not supported: key names
 * are plain host-name-like labels.
 * @out     at least 256 bytes.
 * @return 0 with *outlen set, or MXF_EINVAL for a name that is not one.
 */
int dns_tsig_name_to_wire(const char *name, uint8_t *out, size_t *outlen);

/*
 * dns_tsig_key_new -- a key from its parts (tests, other key sources).
 * @secret is copied.  @return 0 with *out set, MXF_EINVAL for a bad name,
 * MXF_ENOMEM.
 */
int dns_tsig_key_new(const char *name, enum dns_tsig_alg alg, const uint8_t *secret,
		     size_t secret_len, struct dns_tsig_key **out);

/* Free a key, wiping the secret.  NULL is allowed. */
void dns_tsig_key_free(struct dns_tsig_key *key);

/*
 * dns_tsig_sign -- sign a DNS message.
 * @msg, @len   the message in wire form, without TSIG.
 * @now         the time to put in "time signed" (seconds since the epoch).
 * @out, @outlen  a new malloc'ed buffer: the message with the TSIG record
 *              appended and ARCOUNT incremented; the caller frees it.
 * @mac, @maclen  receive the request MAC (mac has DNS_TSIG_MAX_MAC bytes),
 *              needed to verify the reply.
 * @return 0, MXF_EINVAL (message shorter than a header, ARCOUNT full, result
 *         over 65535 bytes), MXF_ENOMEM, MXF_EIO (OpenSSL failed).
 */
int dns_tsig_sign(const struct dns_tsig_key *key, const uint8_t *msg, size_t len, uint64_t now,
		  uint8_t **out, size_t *outlen, uint8_t *mac, size_t *maclen);

/*
 * dns_tsig_sign_reply -- as dns_tsig_sign, for a reply to a request whose MAC
 * is @req_mac, with TSIG error @error and other data @other (for tests, which
 * play the server's part).
 */
int dns_tsig_sign_reply(const struct dns_tsig_key *key, const uint8_t *msg, size_t len,
			uint64_t now, const uint8_t *req_mac, size_t req_mac_len, uint16_t error,
			const uint8_t *other, size_t other_len, uint8_t **out, size_t *outlen);

/*
 * dns_tsig_verify -- verify the TSIG of a reply.
 * @msg, @len   the reply in wire form, TSIG included.
 * @req_mac     the MAC of the request this replies to.
 * @now         the current time.
 * @v           receives what was found, whatever the result.
 * @return 0 when the reply carries a valid signature by @key within the
 *         fudge and no TSIG error; MXF_ETSIG otherwise (v says why).
 */
int dns_tsig_verify(const struct dns_tsig_key *key, const uint8_t *msg, size_t len,
		    const uint8_t *req_mac, size_t req_mac_len, uint64_t now,
		    struct dns_tsig_verdict *v);

/*
 * dns_tsig_explain -- a sentence an administrator can act on for a verdict
 * that is not OK, e.g. "the server does not know key 'k' (check the key name
 * and algorithm)".  Writes a NUL-terminated string into @buf.
 */
void dns_tsig_explain(const struct dns_tsig_key *key, const struct dns_tsig_verdict *v,
		      char *buf, size_t buflen);

/*
 * dns_tsig_explain_reply -- as dns_tsig_explain, with the reply's @rcode.
 * A NOTAUTH or REFUSED reply without TSIG to a signed request is the server
 * saying no to the key -- PowerDNS answers a wrong secret, an unknown key or
 * a key the zone does not accept so -- not a reply our verification failed:
 * it is explained as a refusal that names the key.  Whatever it says, the
 * reply is not trusted (nothing in it is used but the rcode).
 * @return true when the sentence reports the server's refusal, false when
 *         it reports that the reply could not be verified.
 */
bool dns_tsig_explain_reply(const struct dns_tsig_key *key, const struct dns_tsig_verdict *v,
			    int rcode, char *buf, size_t buflen);

/*
 * dns_tsig_find -- the offset where the TSIG record of @msg starts (the
 * length of the message without it), or @len when the last record of the
 * message is not a TSIG.  @return that offset, or MXF_EPROTO (negative) when
 * the message is malformed: a record runs past the end, or a TSIG record is
 * not the last one (RFC 8945 §5.1; ldns 1.8's ldns_wire2pkt() leaks such a
 * TSIG, so a reply is parsed with ldns only after this accepted it).
 */
long dns_tsig_find(const uint8_t *msg, size_t len);

#endif
