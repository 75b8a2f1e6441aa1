/*
 * fuzz_audit_mtasts.c -- libFuzzer target: an MTA-STS policy file as
 * fetched over HTTPS, matched against a host name from its own first line;
 * and the same bytes as the tag-value TXT records (MTA-STS, DMARC, TLSRPT).
 */
#include <stdint.h>
#include <string.h>

#include "audit_mtasts.h"
#include "audit_tags.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct audit_mtasts_policy p;
	struct audit_dmarc d;
	const char *s = (const char *)data;
	char id[33], why[200];

	if (audit_mtasts_policy_parse(s, size, &p) == 0) {
		(void)audit_mtasts_policy_matches(&p, "mx1.example.com");
		for (size_t i = 0; i < p.nmx; i++)
			(void)audit_mtasts_policy_matches(&p, p.mx[i]);
	}
	(void)audit_mtasts_txt_parse(s, size, id, why, sizeof(why));
	(void)audit_dmarc_parse(s, size, &d);
	(void)audit_tlsrpt_parse(s, size, why, sizeof(why));
	return 0;
}
