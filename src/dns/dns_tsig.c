/*
 * dns_tsig.c -- TSIG keys, and TSIG (RFC 8945) signing, verification and
 * explanation of wire-form DNS messages with OpenSSL's HMAC.  Key files
 * are read by dns_keyfile.c.
 *
 * The wire walking here is deliberately small: it only has to skip records
 * to find the last one of the message and read that TSIG record.  Every read
 * is checked against the message length; name decompression follows at most
 * a bounded number of pointers.
 */
#include "dns_tsig.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include "mxf.h"

#define TSIG_TYPE 250
#define CLASS_ANY 255

struct tsig_alg_info {
	const char *name;      /* BIND's name */
	const char *digest;    /* OpenSSL digest name */
	const uint8_t *wire;   /* canonical wire form of the algorithm name */
	size_t wire_len;
	size_t mac_len;
};

#define W(s) (const uint8_t *)s, sizeof(s) - 1
static const struct tsig_alg_info tsig_algs[] = {
	[DNS_TSIG_HMAC_MD5] = {"hmac-md5", "MD5", W("\x08hmac-md5\x07sig-alg\x03reg\x03int\x00"), 16},
	[DNS_TSIG_HMAC_SHA1] = {"hmac-sha1", "SHA1", W("\x09hmac-sha1\x00"), 20},
	[DNS_TSIG_HMAC_SHA224] = {"hmac-sha224", "SHA224", W("\x0bhmac-sha224\x00"), 28},
	[DNS_TSIG_HMAC_SHA256] = {"hmac-sha256", "SHA256", W("\x0bhmac-sha256\x00"), 32},
	[DNS_TSIG_HMAC_SHA384] = {"hmac-sha384", "SHA384", W("\x0bhmac-sha384\x00"), 48},
	[DNS_TSIG_HMAC_SHA512] = {"hmac-sha512", "SHA512", W("\x0bhmac-sha512\x00"), 64},
};
#undef W

const char *
dns_tsig_alg_name(enum dns_tsig_alg alg)
{
	if ((size_t)alg >= MXF_ARRAY_SIZE(tsig_algs))
		return "unknown";
	return tsig_algs[alg].name;
}

int
dns_tsig_alg_parse(const char *name, enum dns_tsig_alg *out)
{
	size_t n = strlen(name);

	if (n > 0 && name[n - 1] == '.')
		n--;
	if (n == strlen("hmac-md5.sig-alg.reg.int") &&
	    strncasecmp(name, "hmac-md5.sig-alg.reg.int", n) == 0) {
		*out = DNS_TSIG_HMAC_MD5;
		return 0;
	}
	for (size_t i = 0; i < MXF_ARRAY_SIZE(tsig_algs); i++) {
		if (strlen(tsig_algs[i].name) == n && strncasecmp(name, tsig_algs[i].name, n) == 0) {
			*out = (enum dns_tsig_alg)i;
			return 0;
		}
	}
	return MXF_EINVAL;
}

/* ---- names ---- */

int
dns_tsig_name_to_wire(const char *name, uint8_t *out, size_t *outlen)
{
	size_t o = 0, n = strlen(name);
	const char *p = name, *end = name + n;

	if (n == 0)
		return MXF_EINVAL;
	if (n == 1 && name[0] == '.') {
		out[0] = 0;
		*outlen = 1;
		return 0;
	}
	while (p < end) {
		const char *dot = memchr(p, '.', (size_t)(end - p));
		size_t l = dot != NULL ? (size_t)(dot - p) : (size_t)(end - p);

		if (l == 0 || l > 63 || o + 1 + l + 1 > 255)
			return MXF_EINVAL;
		out[o++] = (uint8_t)l;
		for (size_t i = 0; i < l; i++) {
			unsigned char c = (unsigned char)p[i];
			if (c <= ' ' || c == '\\' || c == '"' || c >= 0x7f)
				return MXF_EINVAL;
			out[o++] = (uint8_t)tolower(c);
		}
		p += l;
		if (dot != NULL)
			p++;
	}
	out[o++] = 0;
	*outlen = o;
	return 0;
}

/*
 * Read a possibly compressed name at *off of @m into lower-case wire form.
 * *off is advanced past the name as it appears in place.
 */
static int
tsig_read_name(const uint8_t *m, size_t len, size_t *off, uint8_t *out, size_t *outlen)
{
	size_t p = *off, o = 0, after = 0;
	int jumps = 0;

	for (;;) {
		uint8_t l;

		if (p >= len)
			return MXF_EPROTO;
		l = m[p];
		if ((l & 0xc0) == 0xc0) {
			if (p + 1 >= len || ++jumps > 64)
				return MXF_EPROTO;
			if (after == 0)
				after = p + 2;
			p = ((size_t)(l & 0x3f) << 8) | m[p + 1];
			continue;
		}
		if ((l & 0xc0) != 0)
			return MXF_EPROTO;
		if (p + 1 + l > len || o + 1 + l > 255)
			return MXF_EPROTO;
		out[o++] = l;
		for (size_t i = 0; i < l; i++)
			out[o++] = (uint8_t)tolower(m[p + 1 + i]);
		p += 1 + (size_t)l;
		if (l == 0)
			break;
	}
	*off = after != 0 ? after : p;
	*outlen = o;
	return 0;
}

static uint16_t
get16(const uint8_t *p)
{
	return (uint16_t)((p[0] << 8) | p[1]);
}

static void
put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

long
dns_tsig_find(const uint8_t *msg, size_t len)
{
	uint8_t name[255];
	size_t nl, off = 12, start;
	unsigned qd, rrs;

	if (len < 12)
		return MXF_EPROTO;
	qd = get16(msg + 4);
	rrs = (unsigned)get16(msg + 6) + get16(msg + 8) + get16(msg + 10);
	if (get16(msg + 10) == 0)
		return (long)len;
	for (unsigned i = 0; i < qd; i++) {
		if (tsig_read_name(msg, len, &off, name, &nl) != 0 || off + 4 > len)
			return MXF_EPROTO;
		off += 4;
	}
	for (unsigned i = 0; i < rrs; i++) {
		start = off;
		if (tsig_read_name(msg, len, &off, name, &nl) != 0 || off + 10 > len)
			return MXF_EPROTO;
		if (i == rrs - 1) {
			if (get16(msg + off) != TSIG_TYPE)
				return (long)len;
			return (long)start;
		}
		if (get16(msg + off) == TSIG_TYPE)
			return MXF_EPROTO;
		off += 10 + (size_t)get16(msg + off + 8);
		if (off > len)
			return MXF_EPROTO;
	}
	return (long)len;
}

/* ---- HMAC ---- */

struct tsig_vars {
	uint64_t time;
	uint16_t fudge;
	uint16_t error;
	const uint8_t *other;
	size_t other_len;
};

/*
 * The MAC over: [prior MAC length, prior MAC], the message with its header
 * as given (caller adjusts ID and ARCOUNT), and the TSIG variables.
 */
static int
tsig_compute(const struct dns_tsig_key *key, const uint8_t *prior, size_t prior_len,
	     const uint8_t *hdr, const uint8_t *msg, size_t len, const struct tsig_vars *v,
	     uint8_t *mac, size_t *maclen)
{
	const struct tsig_alg_info *a = &tsig_algs[key->alg];
	EVP_MAC_CTX *ctx = key->mac != NULL ? EVP_MAC_CTX_dup(key->mac) : NULL;
	uint8_t buf[16];
	int err = MXF_EIO;

	if (ctx == NULL)
		goto fail;
	if (prior != NULL) {
		put16(buf, (uint16_t)prior_len);
		if (!EVP_MAC_update(ctx, buf, 2) || !EVP_MAC_update(ctx, prior, prior_len))
			goto fail;
	}
	if (!EVP_MAC_update(ctx, hdr, 12) || !EVP_MAC_update(ctx, msg + 12, len - 12))
		goto fail;
	if (!EVP_MAC_update(ctx, key->name_wire, key->name_wire_len))
		goto fail;
	put16(buf, CLASS_ANY);
	memset(buf + 2, 0, 4); /* TTL */
	if (!EVP_MAC_update(ctx, buf, 6) || !EVP_MAC_update(ctx, a->wire, a->wire_len))
		goto fail;
	put16(buf, (uint16_t)(v->time >> 32));
	put16(buf + 2, (uint16_t)(v->time >> 16));
	put16(buf + 4, (uint16_t)v->time);
	put16(buf + 6, v->fudge);
	put16(buf + 8, v->error);
	put16(buf + 10, (uint16_t)v->other_len);
	if (!EVP_MAC_update(ctx, buf, 12))
		goto fail;
	if (v->other_len > 0 && !EVP_MAC_update(ctx, v->other, v->other_len))
		goto fail;
	if (!EVP_MAC_final(ctx, mac, maclen, DNS_TSIG_MAX_MAC))
		goto fail;
	err = 0;
fail:
	EVP_MAC_CTX_free(ctx);
	return err;
}

static int
tsig_sign_common(const struct dns_tsig_key *key, const uint8_t *msg, size_t len, uint64_t now,
		 const uint8_t *prior, size_t prior_len, uint16_t error, const uint8_t *other,
		 size_t other_len, uint8_t **out, size_t *outlen, uint8_t *macout, size_t *maclenout)
{
	const struct tsig_alg_info *a;
	struct tsig_vars v = {.time = now & 0xffffffffffffULL, .fudge = DNS_TSIG_FUDGE,
			      .error = error, .other = other, .other_len = other_len};
	uint8_t mac[DNS_TSIG_MAX_MAC], *b, *p;
	size_t maclen = 0, rdlen, total;
	int err;

	*out = NULL;
	if (key == NULL || len < 12 || get16(msg + 10) == 0xffff || other_len > 0xffff)
		return MXF_EINVAL;
	a = &tsig_algs[key->alg];
	err = tsig_compute(key, prior, prior_len, msg, msg, len, &v, mac, &maclen);
	if (err != 0)
		return err;
	rdlen = a->wire_len + 6 + 2 + 2 + maclen + 2 + 2 + 2 + other_len;
	total = len + key->name_wire_len + 10 + rdlen;
	if (total > 65535)
		return MXF_EINVAL;
	b = malloc(total);
	if (b == NULL)
		return MXF_ENOMEM;
	memcpy(b, msg, len);
	put16(b + 10, (uint16_t)(get16(msg + 10) + 1));
	p = b + len;
	memcpy(p, key->name_wire, key->name_wire_len);
	p += key->name_wire_len;
	put16(p, TSIG_TYPE);
	put16(p + 2, CLASS_ANY);
	memset(p + 4, 0, 4);
	put16(p + 8, (uint16_t)rdlen);
	p += 10;
	memcpy(p, a->wire, a->wire_len);
	p += a->wire_len;
	put16(p, (uint16_t)(v.time >> 32));
	put16(p + 2, (uint16_t)(v.time >> 16));
	put16(p + 4, (uint16_t)v.time);
	put16(p + 6, v.fudge);
	put16(p + 8, (uint16_t)maclen);
	p += 10;
	memcpy(p, mac, maclen);
	p += maclen;
	memcpy(p, msg, 2); /* original ID */
	put16(p + 2, error);
	put16(p + 4, (uint16_t)other_len);
	p += 6;
	if (other_len > 0)
		memcpy(p, other, other_len);
	*out = b;
	*outlen = total;
	if (macout != NULL) {
		memcpy(macout, mac, maclen);
		*maclenout = maclen;
	}
	OPENSSL_cleanse(mac, sizeof(mac));
	return 0;
}

int
dns_tsig_sign(const struct dns_tsig_key *key, const uint8_t *msg, size_t len, uint64_t now,
	      uint8_t **out, size_t *outlen, uint8_t *mac, size_t *maclen)
{
	return tsig_sign_common(key, msg, len, now, NULL, 0, 0, NULL, 0, out, outlen, mac, maclen);
}

int
dns_tsig_sign_reply(const struct dns_tsig_key *key, const uint8_t *msg, size_t len,
		    uint64_t now, const uint8_t *req_mac, size_t req_mac_len, uint16_t error,
		    const uint8_t *other, size_t other_len, uint8_t **out, size_t *outlen)
{
	static const uint8_t none[1];

	return tsig_sign_common(key, msg, len, now, req_mac != NULL ? req_mac : none, req_mac_len,
				error, other, other_len, out, outlen, NULL, NULL);
}

static uint64_t
get48(const uint8_t *p)
{
	return ((uint64_t)get16(p) << 32) | ((uint64_t)get16(p + 2) << 16) | get16(p + 4);
}

int
dns_tsig_verify(const struct dns_tsig_key *key, const uint8_t *msg, size_t len,
		const uint8_t *req_mac, size_t req_mac_len, uint64_t now,
		struct dns_tsig_verdict *v)
{
	const struct tsig_alg_info *a = &tsig_algs[key->alg];
	uint8_t owner[255], alg[255], hdr[12], mac[DNS_TSIG_MAX_MAC];
	size_t ol, al, off, rdend, maclen, mymaclen = 0, other_len;
	const uint8_t *rmac, *other;
	struct tsig_vars tv;
	long start;

	memset(v, 0, sizeof(*v));
	start = dns_tsig_find(msg, len);
	if (start < 0) {
		v->kind = DNS_TSIG_VERDICT_MALFORMED;
		return MXF_ETSIG;
	}
	if ((size_t)start == len) {
		v->kind = DNS_TSIG_VERDICT_UNSIGNED;
		return MXF_ETSIG;
	}
	v->kind = DNS_TSIG_VERDICT_MALFORMED;
	off = (size_t)start;
	if (tsig_read_name(msg, len, &off, owner, &ol) != 0 || off + 10 > len)
		return MXF_ETSIG;
	rdend = off + 10 + get16(msg + off + 8);
	if (rdend != len || get16(msg + off + 2) != CLASS_ANY)
		return MXF_ETSIG;
	off += 10;
	if (tsig_read_name(msg, len, &off, alg, &al) != 0 || off + 10 > rdend)
		return MXF_ETSIG;
	v->time_signed = get48(msg + off);
	v->server_time = v->time_signed;
	tv.time = v->time_signed;
	tv.fudge = get16(msg + off + 6);
	maclen = get16(msg + off + 8);
	off += 10;
	if (off + maclen + 6 > rdend || maclen > DNS_TSIG_MAX_MAC)
		return MXF_ETSIG;
	rmac = msg + off;
	off += maclen;
	memcpy(hdr, msg, 12);
	memcpy(hdr, msg + off, 2); /* original ID */
	put16(hdr + 10, (uint16_t)(get16(msg + 10) - 1));
	v->error = get16(msg + off + 2);
	other_len = get16(msg + off + 4);
	off += 6;
	if (off + other_len != rdend)
		return MXF_ETSIG;
	other = msg + off;
	tv.error = v->error;
	tv.other = other;
	tv.other_len = other_len;

	if (ol != key->name_wire_len || memcmp(owner, key->name_wire, ol) != 0 ||
	    al != a->wire_len || memcmp(alg, a->wire, al) != 0) {
		/* A BADKEY reply may name our key or not; the error says more. */
		v->kind = v->error != 0 ? DNS_TSIG_VERDICT_SERVER_ERROR : DNS_TSIG_VERDICT_WRONG_KEY;
		return MXF_ETSIG;
	}
	if (v->error != 0) {
		v->kind = DNS_TSIG_VERDICT_SERVER_ERROR;
		if (v->error == DNS_TSIG_BADTIME && other_len == 6)
			v->server_time = get48(other);
		v->skew = (int64_t)v->server_time - (int64_t)now;
		return MXF_ETSIG;
	}
	if (tsig_compute(key, req_mac, req_mac_len, hdr, msg, (size_t)start, &tv, mac,
			 &mymaclen) != 0) {
		v->kind = DNS_TSIG_VERDICT_BAD_MAC;
		return MXF_ETSIG;
	}
	/* RFC 8945 §5.2.2.1: a truncated MAC keeps at least half, and 10 bytes. */
	if (maclen == 0 || maclen > mymaclen || maclen < 10 || maclen < (mymaclen + 1) / 2 ||
	    CRYPTO_memcmp(mac, rmac, maclen) != 0) {
		v->kind = DNS_TSIG_VERDICT_BAD_MAC;
		return MXF_ETSIG;
	}
	v->skew = (int64_t)v->time_signed - (int64_t)now;
	if (v->skew > (int64_t)tv.fudge || -v->skew > (int64_t)tv.fudge) {
		v->kind = DNS_TSIG_VERDICT_TIME;
		return MXF_ETSIG;
	}
	v->kind = DNS_TSIG_VERDICT_OK;
	return 0;
}

void
dns_tsig_explain(const struct dns_tsig_key *key, const struct dns_tsig_verdict *v, char *buf,
		 size_t buflen)
{
	const char *name = key != NULL ? key->name : "?";
	const char *alg = key != NULL ? dns_tsig_alg_name(key->alg) : "?";
	long long skew = v->skew < 0 ? -(long long)v->skew : (long long)v->skew;

	switch (v->kind) {
	case DNS_TSIG_VERDICT_OK:
		snprintf(buf, buflen, "the reply is signed with key '%s'", name);
		return;
	case DNS_TSIG_VERDICT_UNSIGNED:
		snprintf(buf, buflen,
			 "the reply is not signed although the request was signed with key '%s' "
			 "(a server that does not know TSIG, or a forged reply)", name);
		return;
	case DNS_TSIG_VERDICT_MALFORMED:
		snprintf(buf, buflen, "the reply's TSIG record is malformed");
		return;
	case DNS_TSIG_VERDICT_WRONG_KEY:
		snprintf(buf, buflen,
			 "the reply is signed with another key or algorithm than '%s' (%s)", name, alg);
		return;
	case DNS_TSIG_VERDICT_BAD_MAC:
		snprintf(buf, buflen,
			 "the reply's signature does not verify with key '%s' (a forged or "
			 "damaged reply, or a server with another secret)", name);
		return;
	case DNS_TSIG_VERDICT_TIME:
		snprintf(buf, buflen,
			 "the reply's signature is outside the allowed time window: clocks differ "
			 "by %lld s (check NTP on this host and the server)", skew);
		return;
	case DNS_TSIG_VERDICT_SERVER_ERROR:
		break;
	}
	switch (v->error) {
	case DNS_TSIG_BADSIG:
		snprintf(buf, buflen,
			 "the server rejected the signature: the secret does not match the "
			 "server's key '%s' (BADSIG)", name);
		break;
	case DNS_TSIG_BADKEY:
		snprintf(buf, buflen,
			 "the server does not know key '%s' with algorithm %s, or does not accept "
			 "it for this zone (check the key name and algorithm, and the zone's "
			 "update-policy or ACL) (BADKEY)", name, alg);
		break;
	case DNS_TSIG_BADTIME:
		snprintf(buf, buflen,
			 "the server rejected the signature's time: clocks differ by %lld s, more "
			 "than the %d s allowed (check NTP on this host and the server) (BADTIME)",
			 skew, DNS_TSIG_FUDGE);
		break;
	case DNS_TSIG_BADTRUNC:
		snprintf(buf, buflen,
			 "the server rejected the truncated MAC of key '%s' (BADTRUNC)", name);
		break;
	default:
		snprintf(buf, buflen, "the server reported TSIG error %u for key '%s'",
			 (unsigned)v->error, name);
		break;
	}
}

/* DNS rcodes a server says no with (RFC 1035, RFC 2136). */
#define RCODE_REFUSED 5
#define RCODE_NOTAUTH 9

bool
dns_tsig_explain_reply(const struct dns_tsig_key *key, const struct dns_tsig_verdict *v,
		       int rcode, char *buf, size_t buflen)
{
	const char *name = key != NULL ? key->name : "?";
	const char *alg = key != NULL ? dns_tsig_alg_name(key->alg) : "?";

	if (v->kind != DNS_TSIG_VERDICT_UNSIGNED ||
	    (rcode != RCODE_NOTAUTH && rcode != RCODE_REFUSED)) {
		dns_tsig_explain(key, v, buf, buflen);
		return v->kind == DNS_TSIG_VERDICT_SERVER_ERROR;
	}
	if (rcode == RCODE_NOTAUTH)
		snprintf(buf, buflen,
			 "the server refused key '%s' (NOTAUTH, unsigned reply): it has no key "
			 "of that name and algorithm (%s) with this secret; check the secret, "
			 "the key name and the algorithm", name, alg);
	else
		snprintf(buf, buflen,
			 "the server refused the request signed with key '%s' (REFUSED, unsigned "
			 "reply): the secret, key name or algorithm (%s) is not one it has, or "
			 "the zone does not accept this key", name, alg);
	return true;
}

/* ---- keys ---- */

/* The HMAC of the key's algorithm, keyed with its secret: each message
 * starts from a copy of it. */
static int
tsig_mac_new(struct dns_tsig_key *k)
{
	EVP_MAC *hm = EVP_MAC_fetch(NULL, "HMAC", NULL);
	OSSL_PARAM params[2];
	int ok = 0;

	if (hm == NULL)
		return MXF_EIO;
	k->mac = EVP_MAC_CTX_new(hm);
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
						     (char *)tsig_algs[k->alg].digest, 0);
	params[1] = OSSL_PARAM_construct_end();
	if (k->mac != NULL)
		ok = EVP_MAC_init(k->mac, k->secret, k->secret_len, params);
	EVP_MAC_free(hm);
	return ok ? 0 : MXF_EIO;
}

int
dns_tsig_key_new(const char *name, enum dns_tsig_alg alg, const uint8_t *secret,
		 size_t secret_len, struct dns_tsig_key **out)
{
	struct dns_tsig_key *k;
	size_t n = strlen(name);

	*out = NULL;
	if ((size_t)alg >= MXF_ARRAY_SIZE(tsig_algs) || n == 0 || n > 253)
		return MXF_EINVAL;
	k = calloc(1, sizeof(*k));
	if (k == NULL)
		return MXF_ENOMEM;
	k->alg = alg;
	if (dns_tsig_name_to_wire(name, k->name_wire, &k->name_wire_len) != 0) {
		free(k);
		return MXF_EINVAL;
	}
	k->name = malloc(n + 2);
	k->secret = malloc(secret_len > 0 ? secret_len : 1);
	if (k->name == NULL || k->secret == NULL) {
		dns_tsig_key_free(k);
		return MXF_ENOMEM;
	}
	for (size_t i = 0; i < n; i++)
		k->name[i] = (char)tolower((unsigned char)name[i]);
	k->name[n] = '\0';
	if (name[n - 1] != '.')
		strcpy(k->name + n, ".");
	memcpy(k->secret, secret, secret_len);
	k->secret_len = secret_len;
	if (tsig_mac_new(k) != 0) {
		dns_tsig_key_free(k);
		return MXF_EIO;
	}
	*out = k;
	return 0;
}

void
dns_tsig_key_free(struct dns_tsig_key *key)
{
	if (key == NULL)
		return;
	EVP_MAC_CTX_free(key->mac);
	if (key->secret != NULL)
		OPENSSL_cleanse(key->secret, key->secret_len);
	free(key->secret);
	free(key->name);
	free(key);
}
