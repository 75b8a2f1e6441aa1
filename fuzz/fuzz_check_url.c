/*
 * fuzz_check_url.c -- libFuzzer target: check_url_parse() on any text,
 * and for every URL it accepts, format -> parse -> format must agree.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check_url.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1), err[CHECK_URL_ERR_MAX], a[CHECK_URL_MAX * 2], b[sizeof(a)];
	struct check_url u, v;

	if (text == NULL)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	if (check_url_parse(text, &u, err, sizeof(err)) == 0) {
		if (check_url_format(&u, a, sizeof(a)) == 0) {
			if (check_url_parse(a, &v, err, sizeof(err)) != 0)
				abort();
			if (check_url_format(&v, b, sizeof(b)) != 0 || strcmp(a, b) != 0)
				abort();
			check_url_free(&v);
		}
		check_url_free(&u);
	}
	free(text);
	return 0;
}
