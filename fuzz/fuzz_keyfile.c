/*
 * fuzz_keyfile.c -- libFuzzer target: the BIND key file reader
 * (dns_keyfile_parse) on any text, asking for the first key and for a key
 * by name; a key it returns must be usable for signing.
 */
#include <stdint.h>
#include <stdlib.h>

#include "dns_keyfile.h"
#include "dns_tsig.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t msg[12] = {0x4d, 0x58, 0x28, 0, 0, 1, 0, 0, 0, 0, 0, 0};
	static const char *const want[] = {NULL, "local-ddns", "mxf-test-key."};
	char err[512];

	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		struct dns_tsig_key *key = NULL;
		uint8_t *out = NULL, mac[DNS_TSIG_MAX_MAC];
		size_t outlen, maclen;

		if (dns_keyfile_parse((const char *)data, size, "fuzz.key", want[i], &key, err,
				      sizeof(err)) != 0)
			continue;
		if (dns_tsig_sign(key, msg, sizeof(msg), 1700000000, &out, &outlen, mac,
				  &maclen) != 0)
			abort();
		free(out);
		dns_tsig_key_free(key);
	}
	return 0;
}
