/*
 * driver.c -- a main() for the fuzz targets when they are not built with
 * libFuzzer (gcc, or clang without -Dfuzzer=true): each argument is a file
 * whose bytes are fed to LLVMFuzzerTestOneInput() once, so the targets
 * build with every build and replay a corpus or a crash file by hand:
 *
 *   build/fuzz/fuzz_config tests/data/dnsfailover_config.cfg
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int main(int argc, char **argv);

/* Inputs larger than this are cut: libFuzzer's own default -max_len is far
 * smaller, and a replay should not need more memory than the fuzzer did. */
#define DRIVER_MAX_INPUT (1024 * 1024)

int
main(int argc, char **argv)
{
	uint8_t *buf = malloc(DRIVER_MAX_INPUT);
	int rc = 0;

	if (buf == NULL)
		return 1;
	for (int i = 1; i < argc; i++) {
		FILE *f = fopen(argv[i], "rb");
		size_t n;

		if (f == NULL) {
			perror(argv[i]);
			rc = 1;
			continue;
		}
		n = fread(buf, 1, DRIVER_MAX_INPUT, f);
		fclose(f);
		LLVMFuzzerTestOneInput(buf, n);
	}
	free(buf);
	return rc;
}
