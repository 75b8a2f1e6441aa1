/*
 * fuzz_audit_spf.c -- libFuzzer target: an SPF record from a TXT answer,
 * and the coverage of its terms' networks.
 */
#include <stdint.h>
#include <string.h>

#include "audit_spf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct audit_spf spf;
	struct audit_spf_net nets[AUDIT_SPF_TERMS_MAX];
	size_t n = 0;
	static const uint8_t probe[16] = {192, 0, 2, 1};

	if (audit_spf_parse((const char *)data, size, &spf) != 0)
		return 0;
	for (size_t i = 0; i < spf.nterms; i++)
		if (audit_spf_term_net(&spf.terms[i], 2 /* AF_INET */, probe, &nets[n]))
			n++;
	(void)audit_spf_net_covers(nets, n, 2, probe);
	(void)audit_spf_net_covers(nets, n, 10 /* AF_INET6 */, probe);
	return 0;
}
