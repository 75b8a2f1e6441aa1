/*
 * fuzz_tsig_verify.c -- libFuzzer target: TSIG verification of a reply
 * (dns_tsig_verify, dns_tsig_find, dns_tsig_explain) with the fixed key
 * below.  The input is the time of receipt (8 bytes, big-endian seconds,
 * of which the low 48 bits are used: the range of TSIG's own time field,
 * and of any clock the daemon will see),
 * the 32-byte MAC of the request, then the reply in wire form: so the seeds
 * fuzz/make_dns_seeds.py captured from named verify as OK, and mutations
 * reach every verdict, not only "bad MAC".
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dns_tsig.h"

/* As in fuzz/make_dns_seeds.py: "mxfailover fuzz key, not a secret". */
#define FUZZ_KEY_NAME "mxf-fuzz"
#define FUZZ_KEY_SECRET "mxfailover fuzz key, not a secret"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct dns_tsig_key *key;
	struct dns_tsig_verdict v;
	char buf[512];
	uint64_t now = 0;
	int rc;

	if (key == NULL && dns_tsig_key_new(FUZZ_KEY_NAME, DNS_TSIG_HMAC_SHA256,
					    (const uint8_t *)FUZZ_KEY_SECRET,
					    strlen(FUZZ_KEY_SECRET), &key) != 0)
		abort();
	if (size < 8 + 32)
		return 0;
	for (int i = 2; i < 8; i++)
		now = now << 8 | data[i];
	rc = dns_tsig_verify(key, data + 40, size - 40, data + 8, 32, now, &v);
	if ((rc == 0) != (v.kind == DNS_TSIG_VERDICT_OK))
		abort();
	dns_tsig_explain(key, &v, buf, sizeof(buf));
	if (memchr(buf, '\0', sizeof(buf)) == NULL)
		abort();
	(void)dns_tsig_find(data + 40, size - 40);
	return 0;
}
