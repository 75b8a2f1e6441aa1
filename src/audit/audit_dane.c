/*
 * audit_dane.c -- TLSA records against a presented chain.  See audit_dane.h.
 */
#include <string.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "audit_dane.h"
#include "mxf.h"

int
audit_tlsa_from_rdata(const uint8_t *rd, size_t len, struct audit_tlsa *out)
{
	memset(out, 0, sizeof(*out));
	if (len < 4)
		return MXF_EINVAL;
	out->usage = rd[0];
	out->selector = rd[1];
	out->mtype = rd[2];
	out->len = len - 3;
	if ((out->mtype == 1 && out->len != 32) || (out->mtype == 2 && out->len != 64))
		return MXF_EINVAL;
	if (out->len > AUDIT_DANE_DATA_MAX)
		return MXF_ETOOBIG;
	memcpy(out->data, rd + 3, out->len);
	return 0;
}

bool
audit_tlsa_usable(const struct audit_tlsa *t)
{
	return (t->usage == 2 || t->usage == 3) && t->selector <= 1 && t->mtype <= 2;
}

/* The DER of @cert's selector part; the caller frees *@der with OPENSSL_free. */
static int
dane_der(X509 *cert, uint8_t selector, unsigned char **der)
{
	*der = NULL;
	if (selector == 0)
		return i2d_X509(cert, der);
	return i2d_X509_PUBKEY(X509_get_X509_PUBKEY(cert), der);
}

/* 1 when @t matches @cert, 0 not, MXF_ENOMEM. */
static int
dane_one(const struct audit_tlsa *t, X509 *cert)
{
	unsigned char *der = NULL;
	int len = dane_der(cert, t->selector, &der);
	int r = 0;

	if (len <= 0)
		return MXF_ENOMEM;
	if (t->mtype == 0) {
		r = (size_t)len == t->len && memcmp(der, t->data, t->len) == 0;
	} else {
		unsigned char md[EVP_MAX_MD_SIZE];
		unsigned int mdlen = 0;
		const EVP_MD *alg = t->mtype == 1 ? EVP_sha256() : EVP_sha512();
		if (!EVP_Digest(der, (size_t)len, md, &mdlen, alg, NULL))
			r = MXF_ENOMEM;
		else
			r = mdlen == t->len && memcmp(md, t->data, mdlen) == 0;
	}
	OPENSSL_free(der);
	return r;
}

int
audit_dane_match(const struct audit_tlsa *tlsa, size_t n, X509 *const *chain, size_t nchain)
{
	for (size_t i = 0; i < n; i++) {
		if (!audit_tlsa_usable(&tlsa[i]))
			continue;
		/* DANE-EE: the leaf; DANE-TA: an issuer above it in the chain. */
		size_t first = tlsa[i].usage == 3 ? 0 : 1;
		size_t last = tlsa[i].usage == 3 ? 1 : nchain;
		for (size_t k = first; k < last && k < nchain; k++) {
			int r = dane_one(&tlsa[i], chain[k]);
			if (r != 0)
				return r;
		}
	}
	return 0;
}
