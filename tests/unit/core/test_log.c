/*
 * test_log.c -- log.c's redaction of registered secrets: every occurrence
 * in a line, several secrets, the shortest ignored, the cap forgetting the
 * oldest.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "mxf.h"

/* Log @text at error level to a file; @return the file's content. */
static char *
logged(const char *text)
{
	char path[] = "/tmp/mxf-test-log-XXXXXX";
	int fd = mkstemp(path);
	static char buf[4096];
	FILE *f;
	size_t n;

	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(log_open(path, LOG_STYLE_NATIVE), 0);
	log_err("%s", text);
	log_close();
	f = fopen(path, "r");
	assert_non_null(f);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	unlink(path);
	return buf;
}

static void
test_redacts(void **state)
{
	char *out;

	(void)state;
	assert_int_equal(log_add_secret("abc"), 0); /* too short: ignored */
	assert_int_equal(log_add_secret("Zm9vYmFyc2VjcmV0Cg=="), 0);
	assert_int_equal(log_add_secret("Zm9vYmFyc2VjcmV0Cg=="), 0); /* kept once */
	assert_int_equal(log_add_secret("second-secret-xyz"), 0);
	out = logged("a Zm9vYmFyc2VjcmV0Cg== b second-secret-xyz c Zm9vYmFyc2VjcmV0Cg== abc");
	assert_null(strstr(out, "Zm9vYmFyc2VjcmV0Cg=="));
	assert_null(strstr(out, "second-secret-xyz"));
	assert_non_null(strstr(out, "a [redacted] b [redacted] c [redacted] abc\n"));
}

static void
test_limits(void **state)
{
	char big[LOG_SECRET_LEN + 2], name[32];
	char *out;

	(void)state;
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(log_add_secret(big), MXF_ETOOBIG);
	/* More than the cap: the newest are all kept, the oldest forgotten. */
	assert_int_equal(log_add_secret("the-oldest-secret"), 0);
	for (int i = 0; i < LOG_SECRETS_MAX; i++) {
		snprintf(name, sizeof(name), "rotated-key-%02d", i);
		assert_int_equal(log_add_secret(name), 0);
	}
	out = logged("rotated-key-00 rotated-key-15 the-oldest-secret");
	assert_non_null(strstr(out, "[redacted] [redacted] the-oldest-secret"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_redacts),
		cmocka_unit_test(test_limits),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
