/*
 * test_dns_tsig.c -- TSIG sign/verify round trips for every algorithm,
 * interoperation with ldns's own verification, and the replies a server
 * sends when it rejects a signature, explained.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ldns/ldns.h>

#include "dns_keyfile.h"
#include "dns_tsig.h"
#include "mxf.h"

#define SECRET_B64 "aZh4Qul/JtE9a86WCEpvvIcFkL2W/8u1s7Dve9GjBOQ="
#define NOW 1795000000ULL

static int
parse(const char *text, const char *want, struct dns_tsig_key **key, char *err, size_t n)
{
	return dns_keyfile_parse(text, strlen(text), "t.key", want, key, err, n);
}

/* A query in wire form, and the matching reply (QR set) without TSIG. */
static void
make_query(uint8_t **q, size_t *qlen, uint8_t **r, size_t *rlen)
{
	ldns_pkt *p = NULL;

	assert_int_equal(ldns_pkt_query_new_frm_str(&p, "mail.example.com.", LDNS_RR_TYPE_CNAME,
						    LDNS_RR_CLASS_IN, 0), LDNS_STATUS_OK);
	ldns_pkt_set_id(p, 0x1234);
	assert_int_equal(ldns_pkt2wire(q, p, qlen), LDNS_STATUS_OK);
	ldns_pkt_set_qr(p, true);
	ldns_pkt_set_aa(p, true);
	assert_int_equal(ldns_pkt2wire(r, p, rlen), LDNS_STATUS_OK);
	ldns_pkt_free(p);
}

static struct dns_tsig_key *
key_for(enum dns_tsig_alg alg, const char *secret)
{
	struct dns_tsig_key *k = NULL;

	assert_int_equal(dns_tsig_key_new("test-key.example.", alg, (const uint8_t *)secret,
					  strlen(secret), &k), 0);
	return k;
}

static void
test_roundtrip_every_algorithm(void **state)
{
	(void)state;
	for (int a = DNS_TSIG_HMAC_MD5; a <= DNS_TSIG_HMAC_SHA512; a++) {
		struct dns_tsig_key *k = key_for((enum dns_tsig_alg)a, "0123456789abcdef");
		struct dns_tsig_key *other = key_for((enum dns_tsig_alg)a, "another secret!!");
		uint8_t *q, *r, *sq, *sr, mac[DNS_TSIG_MAX_MAC];
		size_t qlen, rlen, sqlen, srlen, maclen;
		struct dns_tsig_verdict v;
		ldns_pkt *parsed = NULL;

		make_query(&q, &qlen, &r, &rlen);
		assert_int_equal(dns_tsig_sign(k, q, qlen, NOW, &sq, &sqlen, mac, &maclen), 0);
		/* The signed message is still a valid DNS message with one more record. */
		assert_int_equal(ldns_wire2pkt(&parsed, sq, sqlen), LDNS_STATUS_OK);
		/* ldns moves the TSIG record out of the additional section. */
		assert_non_null(ldns_pkt_tsig(parsed));
		assert_int_equal(ldns_rr_get_type(ldns_pkt_tsig(parsed)), LDNS_RR_TYPE_TSIG);
		ldns_pkt_free(parsed);
		assert_int_equal(dns_tsig_find(sq, sqlen), (long)qlen);

		/* The server's side: a signed reply to our request verifies. */
		assert_int_equal(dns_tsig_sign_reply(k, r, rlen, NOW + 1, mac, maclen, 0, NULL, 0,
						     &sr, &srlen), 0);
		assert_int_equal(dns_tsig_verify(k, sr, srlen, mac, maclen, NOW, &v), 0);
		assert_int_equal(v.kind, DNS_TSIG_VERDICT_OK);

		/* With another request MAC it does not (a reply to something else). */
		mac[0] ^= 1;
		assert_int_equal(dns_tsig_verify(k, sr, srlen, mac, maclen, NOW, &v), MXF_ETSIG);
		assert_int_equal(v.kind, DNS_TSIG_VERDICT_BAD_MAC);
		mac[0] ^= 1;

		/* Tampered body: the answer's flags changed after signing. */
		sr[3] ^= 0x0f;
		assert_int_equal(dns_tsig_verify(k, sr, srlen, mac, maclen, NOW, &v), MXF_ETSIG);
		assert_int_equal(v.kind, DNS_TSIG_VERDICT_BAD_MAC);
		sr[3] ^= 0x0f;

		/* The reply verified with a wrong secret fails. */
		assert_int_equal(dns_tsig_verify(other, sr, srlen, mac, maclen, NOW, &v), MXF_ETSIG);
		assert_int_equal(v.kind, DNS_TSIG_VERDICT_BAD_MAC);

		/* An unsigned reply is never accepted. */
		assert_int_equal(dns_tsig_verify(k, r, rlen, mac, maclen, NOW, &v), MXF_ETSIG);
		assert_int_equal(v.kind, DNS_TSIG_VERDICT_UNSIGNED);

		/* A signature from far away in time. */
		free(sr);
		assert_int_equal(dns_tsig_sign_reply(k, r, rlen, NOW - 1000, mac, maclen, 0, NULL, 0,
						     &sr, &srlen), 0);
		assert_int_equal(dns_tsig_verify(k, sr, srlen, mac, maclen, NOW, &v), MXF_ETSIG);
		assert_int_equal(v.kind, DNS_TSIG_VERDICT_TIME);
		assert_int_equal(v.skew, -1000);

		free(q);
		free(r);
		free(sq);
		free(sr);
		dns_tsig_key_free(k);
		dns_tsig_key_free(other);
	}
}

/* Cross-check with ldns's own verifier for the algorithms it gets right. */
static void
test_ldns_interop(void **state)
{
	static const struct { enum dns_tsig_alg alg; const char *name; } algs[] = {
		{DNS_TSIG_HMAC_MD5, "hmac-md5.sig-alg.reg.int."},
		{DNS_TSIG_HMAC_SHA1, "hmac-sha1."},
		{DNS_TSIG_HMAC_SHA256, "hmac-sha256."},
	};
	struct dns_tsig_key *k = NULL;
	char err[256], text[512];

	(void)state;
	for (size_t i = 0; i < MXF_ARRAY_SIZE(algs); i++) {
		uint8_t *q, *r, *sq, mac[DNS_TSIG_MAX_MAC];
		size_t qlen, rlen, sqlen, maclen;
		ldns_pkt *p = NULL;

		snprintf(text, sizeof(text), "key ik { algorithm %s; secret \"%s\"; };",
			 algs[i].name, SECRET_B64);
		assert_int_equal(parse(text, NULL, &k, err, sizeof(err)), 0);
		make_query(&q, &qlen, &r, &rlen);
		assert_int_equal(dns_tsig_sign(k, q, qlen, (uint64_t)time(NULL), &sq, &sqlen, mac,
					       &maclen), 0);
		assert_int_equal(ldns_wire2pkt(&p, sq, sqlen), LDNS_STATUS_OK);
		assert_true(ldns_pkt_tsig_verify(p, sq, sqlen, "ik.", SECRET_B64, NULL));
		ldns_pkt_free(p);
		free(q);
		free(r);
		free(sq);
		dns_tsig_key_free(k);
	}
}

static void
test_server_errors_explained(void **state)
{
	struct dns_tsig_key *k = key_for(DNS_TSIG_HMAC_SHA256, "0123456789abcdef");
	uint8_t *q, *r, *sq, *sr, mac[DNS_TSIG_MAX_MAC], other[6];
	size_t qlen, rlen, sqlen, srlen, maclen;
	struct dns_tsig_verdict v;
	char msg[512];
	uint64_t server = NOW + 412;

	(void)state;
	make_query(&q, &qlen, &r, &rlen);
	assert_int_equal(dns_tsig_sign(k, q, qlen, NOW, &sq, &sqlen, mac, &maclen), 0);

	assert_int_equal(dns_tsig_sign_reply(k, r, rlen, NOW, mac, maclen, DNS_TSIG_BADSIG, NULL, 0,
					     &sr, &srlen), 0);
	assert_int_equal(dns_tsig_verify(k, sr, srlen, mac, maclen, NOW, &v), MXF_ETSIG);
	assert_int_equal(v.kind, DNS_TSIG_VERDICT_SERVER_ERROR);
	assert_int_equal(v.error, DNS_TSIG_BADSIG);
	dns_tsig_explain(k, &v, msg, sizeof(msg));
	assert_non_null(strstr(msg, "the server rejected the signature: the secret does not "
				    "match the server's key 'test-key.example.'"));
	free(sr);

	assert_int_equal(dns_tsig_sign_reply(k, r, rlen, NOW, mac, maclen, DNS_TSIG_BADKEY, NULL, 0,
					     &sr, &srlen), 0);
	assert_int_equal(dns_tsig_verify(k, sr, srlen, mac, maclen, NOW, &v), MXF_ETSIG);
	assert_int_equal(v.error, DNS_TSIG_BADKEY);
	dns_tsig_explain(k, &v, msg, sizeof(msg));
	assert_non_null(strstr(msg, "the server does not know key 'test-key.example.'"));
	assert_non_null(strstr(msg, "check the key name and algorithm"));
	free(sr);

	for (int i = 0; i < 6; i++)
		other[i] = (uint8_t)(server >> (8 * (5 - i)));
	assert_int_equal(dns_tsig_sign_reply(k, r, rlen, NOW, mac, maclen, DNS_TSIG_BADTIME, other,
					     6, &sr, &srlen), 0);
	assert_int_equal(dns_tsig_verify(k, sr, srlen, mac, maclen, NOW, &v), MXF_ETSIG);
	assert_int_equal(v.error, DNS_TSIG_BADTIME);
	assert_int_equal(v.server_time, server);
	dns_tsig_explain(k, &v, msg, sizeof(msg));
	assert_non_null(strstr(msg, "clocks differ by 412 s"));
	free(sr);

	assert_int_equal(dns_tsig_sign_reply(k, r, rlen, NOW, mac, maclen, DNS_TSIG_BADTRUNC, NULL,
					     0, &sr, &srlen), 0);
	assert_int_equal(dns_tsig_verify(k, sr, srlen, mac, maclen, NOW, &v), MXF_ETSIG);
	dns_tsig_explain(k, &v, msg, sizeof(msg));
	assert_non_null(strstr(msg, "BADTRUNC"));
	free(sr);

	/* Signed by a key of another name: never accepted. */
	{
		struct dns_tsig_key *k2 = NULL;
		assert_int_equal(dns_tsig_key_new("other.", DNS_TSIG_HMAC_SHA256,
						  (const uint8_t *)"0123456789abcdef", 16, &k2), 0);
		assert_int_equal(dns_tsig_sign_reply(k2, r, rlen, NOW, mac, maclen, 0, NULL, 0,
						     &sr, &srlen), 0);
		assert_int_equal(dns_tsig_verify(k, sr, srlen, mac, maclen, NOW, &v), MXF_ETSIG);
		assert_int_equal(v.kind, DNS_TSIG_VERDICT_WRONG_KEY);
		free(sr);
		dns_tsig_key_free(k2);
	}

	/* Garbage never crashes: every truncation of a signed reply is refused. */
	assert_int_equal(dns_tsig_sign_reply(k, r, rlen, NOW, mac, maclen, 0, NULL, 0, &sr, &srlen),
			 0);
	for (size_t cut = 0; cut < srlen; cut++)
		assert_int_equal(dns_tsig_verify(k, sr, cut, mac, maclen, NOW, &v), MXF_ETSIG);
	free(sr);

	free(q);
	free(r);
	free(sq);
	dns_tsig_key_free(k);
}

/*
 * The rcode of an unverifiable reply: an unsigned NOTAUTH or REFUSED to a
 * signed request is the server refusing our key (PowerDNS answers a wrong
 * secret so), named in the sentence; an unsigned NOERROR or SERVFAIL is
 * still a reply we cannot trust; a TSIG error is the server's refusal too.
 */
static void
test_rcode_of_unverified_reply(void **state)
{
	struct dns_tsig_key *k = key_for(DNS_TSIG_HMAC_SHA256, "0123456789abcdef");
	uint8_t *q, *r, *sq, *sr, mac[DNS_TSIG_MAX_MAC];
	size_t qlen, rlen, sqlen, srlen, maclen;
	struct dns_tsig_verdict v;
	char msg[512];

	(void)state;
	make_query(&q, &qlen, &r, &rlen);
	assert_int_equal(dns_tsig_sign(k, q, qlen, NOW, &sq, &sqlen, mac, &maclen), 0);

	/* Unsigned: whatever the rcode, the verdict is the same. */
	assert_int_equal(dns_tsig_verify(k, r, rlen, mac, maclen, NOW, &v), MXF_ETSIG);
	assert_int_equal(v.kind, DNS_TSIG_VERDICT_UNSIGNED);

	assert_true(dns_tsig_explain_reply(k, &v, 9 /* NOTAUTH */, msg, sizeof(msg)));
	assert_non_null(strstr(msg, "the server refused key 'test-key.example.'"));
	assert_non_null(strstr(msg, "NOTAUTH"));
	assert_non_null(strstr(msg, "secret"));
	assert_null(strstr(msg, "forged"));

	assert_true(dns_tsig_explain_reply(k, &v, 5 /* REFUSED */, msg, sizeof(msg)));
	assert_non_null(strstr(msg, "key 'test-key.example.'"));
	assert_non_null(strstr(msg, "REFUSED"));
	assert_non_null(strstr(msg, "the zone does not accept this key"));
	assert_null(strstr(msg, "forged"));

	/* An unsigned success or failure of another kind proves nothing. */
	assert_false(dns_tsig_explain_reply(k, &v, 0 /* NOERROR */, msg, sizeof(msg)));
	assert_non_null(strstr(msg, "not signed"));
	assert_non_null(strstr(msg, "forged"));
	assert_false(dns_tsig_explain_reply(k, &v, 2 /* SERVFAIL */, msg, sizeof(msg)));
	assert_non_null(strstr(msg, "forged"));
	assert_false(dns_tsig_explain_reply(k, &v, 3 /* NXDOMAIN */, msg, sizeof(msg)));

	/* BADSIG in a signed NOTAUTH (BIND, Knot): the server's refusal, as before. */
	assert_int_equal(dns_tsig_sign_reply(k, r, rlen, NOW, mac, maclen, DNS_TSIG_BADSIG, NULL, 0,
					     &sr, &srlen), 0);
	assert_int_equal(dns_tsig_verify(k, sr, srlen, mac, maclen, NOW, &v), MXF_ETSIG);
	assert_true(dns_tsig_explain_reply(k, &v, 9, msg, sizeof(msg)));
	assert_non_null(strstr(msg, "BADSIG"));
	free(sr);

	/* A reply signed with another secret: our verification failed, even
	 * with NOTAUTH in it (a forger may put any rcode there). */
	{
		struct dns_tsig_key *k2 = key_for(DNS_TSIG_HMAC_SHA256, "fedcba9876543210");
		assert_int_equal(dns_tsig_sign_reply(k2, r, rlen, NOW, mac, maclen, 0, NULL, 0,
						     &sr, &srlen), 0);
		assert_int_equal(dns_tsig_verify(k, sr, srlen, mac, maclen, NOW, &v), MXF_ETSIG);
		assert_int_equal(v.kind, DNS_TSIG_VERDICT_BAD_MAC);
		assert_false(dns_tsig_explain_reply(k, &v, 9, msg, sizeof(msg)));
		assert_non_null(strstr(msg, "does not verify"));
		free(sr);
		dns_tsig_key_free(k2);
	}

	free(q);
	free(r);
	free(sq);
	dns_tsig_key_free(k);
}

/*
 * A TSIG record that is not the last record of a message makes it
 * malformed (RFC 8945 §5.1), so the client drops it before ldns_wire2pkt,
 * which leaks such a record (found by fuzz/fuzz_dns_view).
 */
static void
test_find_tsig_not_last(void **state)
{
	static const uint8_t two_tsigs[] = {0x42, 0x42, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 2,
					    0, 0, 250, 0, 255, 0, 0, 0, 0, 0, 0,
					    0, 0, 250, 0, 255, 0, 0, 0, 0, 0, 0};
	static const uint8_t tsig_then_a[] = {0x42, 0x42, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 2,
					      0, 0, 250, 0, 255, 0, 0, 0, 0, 0, 0,
					      0, 0, 1, 0, 1, 0, 0, 0, 0, 0, 4, 192, 0, 2, 1};
	static const uint8_t tsig_then_short[] = {0x42, 0x42, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 9,
						  0, 0, 250, 0, 255, 0, 0, 0, 0, 0, 0};
	static const uint8_t one_tsig[] = {0x42, 0x42, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 1,
					   0, 0, 250, 0, 255, 0, 0, 0, 0, 0, 0};

	(void)state;
	assert_int_equal(dns_tsig_find(two_tsigs, sizeof(two_tsigs)), MXF_EPROTO);
	assert_int_equal(dns_tsig_find(tsig_then_a, sizeof(tsig_then_a)), MXF_EPROTO);
	assert_int_equal(dns_tsig_find(tsig_then_short, sizeof(tsig_then_short)), MXF_EPROTO);
	assert_int_equal(dns_tsig_find(one_tsig, sizeof(one_tsig)), 12);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip_every_algorithm),
		cmocka_unit_test(test_find_tsig_not_last),
		cmocka_unit_test(test_ldns_interop),
		cmocka_unit_test(test_server_errors_explained),
		cmocka_unit_test(test_rcode_of_unverified_reply),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
