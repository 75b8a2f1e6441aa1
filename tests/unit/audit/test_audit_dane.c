/*
 * test_audit_dane.c -- TLSA records (RFC 6698, 7672) against a chain made
 * here: a CA and a leaf it signed.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "audit_dane.h"
#include "mxf.h"

static X509 *chain[2];
static EVP_PKEY *keys[2];

static X509 *
make_cert(EVP_PKEY *key, EVP_PKEY *signer, const char *cn, long serial)
{
	X509 *x = X509_new();
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), serial);
	X509_gmtime_adj(X509_getm_notBefore(x), 0);
	X509_gmtime_adj(X509_getm_notAfter(x), 86400);
	X509_NAME *n = X509_get_subject_name(x);
	X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
	X509_set_issuer_name(x, n);
	X509_set_pubkey(x, key);
	X509_sign(x, signer, EVP_sha256());
	return x;
}

static int
setup(void **state)
{
	(void)state;
	keys[0] = EVP_EC_gen("P-256");
	keys[1] = EVP_EC_gen("P-256");
	chain[1] = make_cert(keys[1], keys[1], "Lab CA", 1);
	chain[0] = make_cert(keys[0], keys[1], "mx.example.com", 2);
	return chain[0] && chain[1] ? 0 : -1;
}

static int
teardown(void **state)
{
	(void)state;
	for (int i = 0; i < 2; i++) {
		X509_free(chain[i]);
		EVP_PKEY_free(keys[i]);
	}
	return 0;
}

/* A TLSA record for @cert with @usage, @sel, @mt. */
static struct audit_tlsa
tlsa_for(X509 *cert, int usage, int sel, int mt)
{
	uint8_t rd[3 + 1024];
	unsigned char *der = NULL;
	int len = sel == 0 ? i2d_X509(cert, &der) : i2d_X509_PUBKEY(X509_get_X509_PUBKEY(cert), &der);
	size_t rl = 3;
	struct audit_tlsa t;

	rd[0] = (uint8_t)usage;
	rd[1] = (uint8_t)sel;
	rd[2] = (uint8_t)mt;
	if (mt == 0) {
		assert_true(len > 0 && (size_t)len <= 1024);
		memcpy(rd + 3, der, (size_t)len);
		rl += (size_t)len;
	} else {
		unsigned int ml = 0;
		EVP_Digest(der, (size_t)len, rd + 3, &ml, mt == 1 ? EVP_sha256() : EVP_sha512(), NULL);
		rl += ml;
	}
	OPENSSL_free(der);
	assert_int_equal(audit_tlsa_from_rdata(rd, rl, &t), 0);
	return t;
}

static void
test_match(void **state)
{
	(void)state;
	for (int sel = 0; sel <= 1; sel++)
		for (int mt = 0; mt <= 2; mt++) {
			struct audit_tlsa ee = tlsa_for(chain[0], 3, sel, mt);
			struct audit_tlsa ta = tlsa_for(chain[1], 2, sel, mt);
			assert_int_equal(audit_dane_match(&ee, 1, chain, 2), 1);
			assert_int_equal(audit_dane_match(&ta, 1, chain, 2), 1);
			/* DANE-EE is the leaf, never the CA; DANE-TA never the leaf. */
			struct audit_tlsa ee_ca = tlsa_for(chain[1], 3, sel, mt);
			struct audit_tlsa ta_leaf = tlsa_for(chain[0], 2, sel, mt);
			assert_int_equal(audit_dane_match(&ee_ca, 1, chain, 2), 0);
			assert_int_equal(audit_dane_match(&ta_leaf, 1, chain, 2), 0);
			/* A CA record cannot match a chain without the CA. */
			assert_int_equal(audit_dane_match(&ta, 1, chain, 1), 0);
		}
}

static void
test_unusable_and_bad(void **state)
{
	struct audit_tlsa t = tlsa_for(chain[0], 1, 1, 1);
	struct audit_tlsa set[2];
	uint8_t rd[8] = {3, 1, 1, 0, 0, 0, 0, 0};

	(void)state;
	/* PKIX-EE is unusable for SMTP (RFC 7672 3.1.3), even when it would match. */
	assert_false(audit_tlsa_usable(&t));
	assert_int_equal(audit_dane_match(&t, 1, chain, 2), 0);
	set[0] = t;
	set[1] = tlsa_for(chain[0], 3, 1, 1);
	assert_int_equal(audit_dane_match(set, 2, chain, 2), 1);
	/* A SHA-256 record of the wrong length, a short RDATA. */
	assert_int_equal(audit_tlsa_from_rdata(rd, sizeof(rd), &t), MXF_EINVAL);
	assert_int_equal(audit_tlsa_from_rdata(rd, 3, &t), MXF_EINVAL);
	/* One changed byte does not match. */
	t = tlsa_for(chain[0], 3, 1, 1);
	t.data[5] ^= 1;
	assert_int_equal(audit_dane_match(&t, 1, chain, 2), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_match),
		cmocka_unit_test(test_unusable_and_bad),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
