/*
 * dns_tsig.c -- BIND key files, and TSIG (RFC 8945) signing and verification
 * of wire-form DNS messages with OpenSSL's HMAC.
 *
 * The wire walking here is deliberately small: it only has to skip records
 * to find the last one of the message and read that TSIG record.  Every read
 * is checked against the message length; name decompression follows at most
 * a bounded number of pointers.
 */
#include "dns_tsig.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include "mxf.h"

#define TSIG_TYPE 250
#define CLASS_ANY 255
#define KEYFILE_MAX (64 * 1024)
#define TOKEN_MAX 4096

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

/*
 * Convert a presentation name to lower-case uncompressed wire form.  Escapes
 * are not supported: key names are plain host-name-like labels.
 */
static int
tsig_name_to_wire(const char *name, uint8_t *out, size_t *outlen)
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
	EVP_MAC *hm = NULL;
	EVP_MAC_CTX *ctx = NULL;
	OSSL_PARAM params[2];
	uint8_t buf[16];
	int err = MXF_EIO;

	hm = EVP_MAC_fetch(NULL, "HMAC", NULL);
	if (hm == NULL)
		goto fail;
	ctx = EVP_MAC_CTX_new(hm);
	if (ctx == NULL)
		goto fail;
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)a->digest, 0);
	params[1] = OSSL_PARAM_construct_end();
	if (!EVP_MAC_init(ctx, key->secret, key->secret_len, params))
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
	EVP_MAC_free(hm);
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
			 "the reply is signed with another key or algorithm than '%s' (%s)", name,
			 key != NULL ? dns_tsig_alg_name(key->alg) : "?");
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
			 "the server does not know key '%s' with algorithm %s (check the key name "
			 "and algorithm) (BADKEY)", name,
			 key != NULL ? dns_tsig_alg_name(key->alg) : "?");
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

/* ---- keys ---- */

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
	if (tsig_name_to_wire(name, k->name_wire, &k->name_wire_len) != 0) {
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
	*out = k;
	return 0;
}

void
dns_tsig_key_free(struct dns_tsig_key *key)
{
	if (key == NULL)
		return;
	if (key->secret != NULL)
		OPENSSL_cleanse(key->secret, key->secret_len);
	free(key->secret);
	free(key->name);
	free(key);
}

static int
b64_val(int c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

/* Strict base64 (whitespace allowed, padding checked). */
static int
b64_decode(const char *s, uint8_t *out, size_t outmax, size_t *outlen)
{
	uint32_t acc = 0;
	size_t o = 0, n = 0, pad = 0;

	for (; *s != '\0'; s++) {
		int v;
		if (isspace((unsigned char)*s))
			continue;
		if (*s == '=') {
			pad++;
			continue;
		}
		if (pad > 0)
			return MXF_EINVAL;
		v = b64_val((unsigned char)*s);
		if (v < 0)
			return MXF_EINVAL;
		acc = (acc << 6) | (uint32_t)v;
		n++;
		if (n % 4 == 0) {
			if (o + 3 > outmax)
				return MXF_ETOOBIG;
			out[o++] = (uint8_t)(acc >> 16);
			out[o++] = (uint8_t)(acc >> 8);
			out[o++] = (uint8_t)acc;
			acc = 0;
		}
	}
	switch (n % 4) {
	case 0:
		if (pad != 0)
			return MXF_EINVAL;
		break;
	case 2:
		if (pad > 2 || o + 1 > outmax)
			return MXF_EINVAL;
		out[o++] = (uint8_t)(acc >> 4);
		break;
	case 3:
		if (pad > 1 || o + 2 > outmax)
			return MXF_EINVAL;
		out[o++] = (uint8_t)(acc >> 10);
		out[o++] = (uint8_t)(acc >> 2);
		break;
	default:
		return MXF_EINVAL;
	}
	if (o == 0)
		return MXF_EINVAL;
	*outlen = o;
	return 0;
}

enum tok_kind { TOK_EOF, TOK_WORD, TOK_STRING, TOK_LBRACE, TOK_RBRACE, TOK_SEMI, TOK_ERR };

struct lexer {
	const char *p, *end;
	const char *fname;
	int line;
	char text[TOKEN_MAX];
	int tok_line;
	char *err;
	size_t errlen;
};

static void __attribute__((format(printf, 3, 4)))
lex_error(struct lexer *lx, int line, const char *fmt, ...)
{
	va_list ap;
	int n;

	n = snprintf(lx->err, lx->errlen, "%s:%d: ", lx->fname, line);
	if (n < 0 || (size_t)n >= lx->errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(lx->err + n, lx->errlen - (size_t)n, fmt, ap);
	va_end(ap);
}

static enum tok_kind
lex_next(struct lexer *lx)
{
	size_t n = 0;

	for (;;) {
		while (lx->p < lx->end && isspace((unsigned char)*lx->p)) {
			if (*lx->p == '\n')
				lx->line++;
			lx->p++;
		}
		if (lx->p >= lx->end)
			return TOK_EOF;
		if (*lx->p == '#' || (*lx->p == '/' && lx->p + 1 < lx->end && lx->p[1] == '/')) {
			while (lx->p < lx->end && *lx->p != '\n')
				lx->p++;
			continue;
		}
		if (*lx->p == '/' && lx->p + 1 < lx->end && lx->p[1] == '*') {
			int start = lx->line;
			lx->p += 2;
			while (lx->p + 1 < lx->end && !(lx->p[0] == '*' && lx->p[1] == '/')) {
				if (*lx->p == '\n')
					lx->line++;
				lx->p++;
			}
			if (lx->p + 1 >= lx->end) {
				lex_error(lx, start, "unterminated /* comment");
				return TOK_ERR;
			}
			lx->p += 2;
			continue;
		}
		break;
	}
	lx->tok_line = lx->line;
	switch (*lx->p) {
	case '{':
		lx->p++;
		return TOK_LBRACE;
	case '}':
		lx->p++;
		return TOK_RBRACE;
	case ';':
		lx->p++;
		return TOK_SEMI;
	case '"':
		lx->p++;
		while (lx->p < lx->end && *lx->p != '"') {
			if (*lx->p == '\n') {
				lex_error(lx, lx->tok_line, "unterminated string");
				return TOK_ERR;
			}
			if (*lx->p == '\\' && lx->p + 1 < lx->end)
				lx->p++;
			if (n + 1 >= sizeof(lx->text)) {
				lex_error(lx, lx->tok_line, "string too long");
				return TOK_ERR;
			}
			lx->text[n++] = *lx->p++;
		}
		if (lx->p >= lx->end) {
			lex_error(lx, lx->tok_line, "unterminated string");
			return TOK_ERR;
		}
		lx->p++;
		lx->text[n] = '\0';
		return TOK_STRING;
	default:
		break;
	}
	while (lx->p < lx->end && !isspace((unsigned char)*lx->p) && strchr("{};\"", *lx->p) == NULL) {
		if (n + 1 >= sizeof(lx->text)) {
			lex_error(lx, lx->tok_line, "word too long");
			return TOK_ERR;
		}
		if ((unsigned char)*lx->p < ' ') {
			lex_error(lx, lx->tok_line, "control character in key file");
			return TOK_ERR;
		}
		lx->text[n++] = *lx->p++;
	}
	lx->text[n] = '\0';
	return TOK_WORD;
}

static const char *
tok_desc(enum tok_kind t, const struct lexer *lx)
{
	switch (t) {
	case TOK_EOF: return "end of file";
	case TOK_LBRACE: return "'{'";
	case TOK_RBRACE: return "'}'";
	case TOK_SEMI: return "';'";
	case TOK_STRING: return "a string";
	case TOK_WORD: return lx->text;
	case TOK_ERR: return "an error";
	}
	return "?";
}

/* Expect a token; on a mismatch report "expected WHAT" and fail. */
static int
lex_expect(struct lexer *lx, enum tok_kind want, const char *what)
{
	enum tok_kind t = lex_next(lx);

	if (t == TOK_ERR)
		return MXF_EINVAL;
	if (t != want) {
		lex_error(lx, lx->tok_line, "expected %s, found %s%s%s", what,
			  t == TOK_WORD ? "'" : "", tok_desc(t, lx), t == TOK_WORD ? "'" : "");
		return MXF_EINVAL;
	}
	return 0;
}

int
dns_tsig_key_parse(const char *text, size_t len, const char *fname, const char *want,
		   struct dns_tsig_key **out, char *err, size_t errlen)
{
	struct lexer lx = {.p = text, .end = text + len, .fname = fname, .line = 1,
			   .err = err, .errlen = errlen};
	char name[256], secret_b64[TOKEN_MAX];
	uint8_t *secret = NULL;
	size_t secret_len = 0;
	int nkeys = 0, rc = MXF_EINVAL;

	*out = NULL;
	if (errlen > 0)
		err[0] = '\0';
	secret = malloc(DNS_TSIG_MAX_SECRET);
	if (secret == NULL)
		return MXF_ENOMEM;
	for (;;) {
		enum tok_kind t = lex_next(&lx);
		enum dns_tsig_alg alg = DNS_TSIG_HMAC_SHA256;
		int key_line, have_alg = 0, have_secret = 0, secret_line = 0;
		uint8_t wire[256];
		size_t wl;

		if (t == TOK_ERR)
			goto fail;
		if (t == TOK_EOF)
			break;
		if (t != TOK_WORD || strcmp(lx.text, "key") != 0) {
			lex_error(&lx, lx.tok_line, "expected 'key', found %s%s%s",
				  t == TOK_WORD ? "'" : "", tok_desc(t, &lx), t == TOK_WORD ? "'" : "");
			goto fail;
		}
		key_line = lx.tok_line;
		t = lex_next(&lx);
		if (t == TOK_ERR)
			goto fail;
		if (t != TOK_WORD && t != TOK_STRING) {
			lex_error(&lx, lx.tok_line, "expected a key name, found %s", tok_desc(t, &lx));
			goto fail;
		}
		if (strlen(lx.text) >= sizeof(name) - 1 ||
		    tsig_name_to_wire(lx.text, wire, &wl) != 0) {
			lex_error(&lx, lx.tok_line, "invalid key name \"%s\"", lx.text);
			goto fail;
		}
		memcpy(name, lx.text, strlen(lx.text) + 1);
		if (lex_expect(&lx, TOK_LBRACE, "'{'") != 0)
			goto fail;
		for (;;) {
			const char *stmt;
			t = lex_next(&lx);
			if (t == TOK_ERR)
				goto fail;
			if (t == TOK_RBRACE)
				break;
			if (t != TOK_WORD) {
				lex_error(&lx, lx.tok_line,
					  "expected 'algorithm', 'secret' or '}', found %s",
					  tok_desc(t, &lx));
				goto fail;
			}
			if (strcmp(lx.text, "algorithm") != 0 && strcmp(lx.text, "secret") != 0) {
				lex_error(&lx, lx.tok_line, "unknown statement '%s' in key \"%s\"",
					  lx.text, name);
				goto fail;
			}
			stmt = strcmp(lx.text, "algorithm") == 0 ? "algorithm" : "secret";
			t = lex_next(&lx);
			if (t == TOK_ERR)
				goto fail;
			if (t != TOK_WORD && t != TOK_STRING) {
				lex_error(&lx, lx.tok_line, "expected a value after '%s', found %s",
					  stmt, tok_desc(t, &lx));
				goto fail;
			}
			if (strcmp(stmt, "algorithm") == 0) {
				if (dns_tsig_alg_parse(lx.text, &alg) != 0) {
					lex_error(&lx, lx.tok_line,
						  "unknown algorithm '%s' (use hmac-md5, hmac-sha1, "
						  "hmac-sha224, hmac-sha256, hmac-sha384 or "
						  "hmac-sha512)", lx.text);
					goto fail;
				}
				have_alg = 1;
			} else {
				memcpy(secret_b64, lx.text, strlen(lx.text) + 1);
				secret_line = lx.tok_line;
				have_secret = 1;
			}
			if (lex_expect(&lx, TOK_SEMI, "';'") != 0)
				goto fail;
		}
		if (lex_expect(&lx, TOK_SEMI, "';' after '}'") != 0)
			goto fail;
		if (!have_alg) {
			lex_error(&lx, key_line, "key \"%s\" has no algorithm", name);
			goto fail;
		}
		if (!have_secret) {
			lex_error(&lx, key_line, "key \"%s\" has no secret", name);
			goto fail;
		}
		if (b64_decode(secret_b64, secret, DNS_TSIG_MAX_SECRET, &secret_len) != 0) {
			/* Never quote the secret itself. */
			lex_error(&lx, secret_line, "the secret of key \"%s\" is not valid base64",
				  name);
			goto fail;
		}
		nkeys++;
		if (*out == NULL) {
			size_t wn = want != NULL ? strlen(want) : 0;
			size_t kn = strlen(name);
			if (wn > 0 && want[wn - 1] == '.')
				wn--;
			if (kn > 0 && name[kn - 1] == '.')
				kn--;
			if (want == NULL || (wn == kn && strncasecmp(want, name, kn) == 0)) {
				rc = dns_tsig_key_new(name, alg, secret, secret_len, out);
				if (rc != 0)
					goto fail;
			}
		}
		OPENSSL_cleanse(secret_b64, sizeof(secret_b64));
	}
	if (*out == NULL) {
		if (nkeys == 0)
			snprintf(err, errlen, "%s: no key in the file", fname);
		else
			snprintf(err, errlen, "%s: no key named \"%s\" in the file", fname,
				 want != NULL ? want : "");
		rc = MXF_EINVAL;
		goto fail;
	}
	OPENSSL_cleanse(secret, DNS_TSIG_MAX_SECRET);
	free(secret);
	return 0;
fail:
	OPENSSL_cleanse(secret_b64, sizeof(secret_b64));
	OPENSSL_cleanse(secret, DNS_TSIG_MAX_SECRET);
	free(secret);
	dns_tsig_key_free(*out);
	*out = NULL;
	return rc == 0 ? MXF_EINVAL : rc;
}

int
dns_tsig_key_load(const char *path, const char *want, struct dns_tsig_key **out, char *err,
		  size_t errlen)
{
	struct stat st;
	char *buf = NULL;
	size_t n = 0;
	int fd, rc;

	*out = NULL;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		snprintf(err, errlen, "%s: cannot open key file: %s", path, strerror(errno));
		return MXF_EIO;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s: not a regular file", path);
		rc = MXF_EIO;
		goto fail;
	}
	if ((st.st_mode & 077) != 0) {
		snprintf(err, errlen,
			 "%s: key file is accessible by group or others (mode %04o); it holds a "
			 "secret, so it is refused: run 'chmod 600 %s'",
			 path, (unsigned)(st.st_mode & 07777), path);
		rc = MXF_EPERM;
		goto fail;
	}
	if (st.st_size > KEYFILE_MAX) {
		snprintf(err, errlen, "%s: key file is larger than %d bytes", path, KEYFILE_MAX);
		rc = MXF_ETOOBIG;
		goto fail;
	}
	buf = malloc(KEYFILE_MAX + 1);
	if (buf == NULL) {
		rc = MXF_ENOMEM;
		goto fail;
	}
	for (;;) {
		ssize_t r = read(fd, buf + n, KEYFILE_MAX + 1 - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			snprintf(err, errlen, "%s: read error: %s", path, strerror(errno));
			rc = MXF_EIO;
			goto fail;
		}
		if (r == 0)
			break;
		n += (size_t)r;
		if (n > KEYFILE_MAX) {
			snprintf(err, errlen, "%s: key file is larger than %d bytes", path,
				 KEYFILE_MAX);
			rc = MXF_ETOOBIG;
			goto fail;
		}
	}
	rc = dns_tsig_key_parse(buf, n, path, want, out, err, errlen);
fail:
	if (buf != NULL) {
		OPENSSL_cleanse(buf, n);
		free(buf);
	}
	close(fd);
	return rc;
}
