/*
 * driver.c -- a main() for the fuzz targets when they are not built with
 * libFuzzer (gcc, or clang without -Dfuzzer=true): each argument is a file
 * whose bytes are fed to LLVMFuzzerTestOneInput() once, or a directory
 * (a corpus) whose files are, so the targets build with every build and
 * replay a corpus or a crash file, as the fuzz_*_replay tests do:
 *
 *   build/fuzz/fuzz_config fuzz/corpus/config
 *   build/fuzz/fuzz_state crash-0123abcd
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int main(int argc, char **argv);

/* Inputs larger than this are cut: libFuzzer's own default -max_len is far
 * smaller, and a replay should not need more memory than the fuzzer did. */
#define DRIVER_MAX_INPUT (1024 * 1024)

/* Feed the file @path to the target; @return 0, or 1 when it cannot be read. */
static int
driver_file(const char *path, uint8_t *buf)
{
	FILE *f = fopen(path, "rb");
	size_t n;

	if (f == NULL) {
		perror(path);
		return 1;
	}
	n = fread(buf, 1, DRIVER_MAX_INPUT, f);
	fclose(f);
	LLVMFuzzerTestOneInput(buf, n);
	return 0;
}

/* Feed every regular file of the directory @path, in name order. */
static int
driver_dir(const char *path, uint8_t *buf)
{
	struct dirent **ents;
	int n = scandir(path, &ents, NULL, alphasort), rc = 0;

	if (n < 0) {
		perror(path);
		return 1;
	}
	for (int i = 0; i < n; i++) {
		char p[4096];
		struct stat st;

		snprintf(p, sizeof(p), "%s/%s", path, ents[i]->d_name);
		if (stat(p, &st) == 0 && S_ISREG(st.st_mode)) {
			printf("%s\n", p);
			fflush(stdout);
			rc |= driver_file(p, buf);
		}
		free(ents[i]);
	}
	free(ents);
	return rc;
}

int
main(int argc, char **argv)
{
	uint8_t *buf = malloc(DRIVER_MAX_INPUT);
	int rc = 0;

	if (buf == NULL)
		return 1;
	for (int i = 1; i < argc; i++) {
		struct stat st;

		if (stat(argv[i], &st) == 0 && S_ISDIR(st.st_mode))
			rc |= driver_dir(argv[i], buf);
		else
			rc |= driver_file(argv[i], buf);
	}
	free(buf);
	return rc;
}
