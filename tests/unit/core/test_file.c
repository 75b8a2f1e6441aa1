/*
 * test_file.c -- file_read(): whole small files, the size cap, the refusal
 * of shared secrets and what it says on failure.
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

#include "file.h"
#include "mxf.h"

/* A temporary file holding @text with @mode; its path in @path. */
static void
make_file(char *path, size_t size, const char *text, mode_t mode)
{
	int fd;

	snprintf(path, size, "/tmp/mxf_test_file.XXXXXX");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	assert_int_equal(fchmod(fd, mode), 0);
	close(fd);
}

static void
test_reads_whole_file(void **state)
{
	char path[64], err[256] = "";
	char *buf = NULL;
	size_t len = 0;

	(void)state;
	make_file(path, sizeof(path), "one\ntwo\n", 0600);
	assert_int_equal(file_read(path, 8, FILE_PRIVATE, &buf, &len, err, sizeof(err)), 0);
	assert_int_equal(len, 8);
	assert_string_equal(buf, "one\ntwo\n");
	free(buf);
	unlink(path);
}

static void
test_empty_file(void **state)
{
	char path[64], err[256] = "";
	char *buf = NULL;
	size_t len = 1;

	(void)state;
	make_file(path, sizeof(path), "", 0644);
	assert_int_equal(file_read(path, 10, 0, &buf, &len, err, sizeof(err)), 0);
	assert_int_equal(len, 0);
	assert_string_equal(buf, "");
	free(buf);
	unlink(path);
}

static void
test_too_big(void **state)
{
	char path[64], err[256] = "";
	char *buf = NULL;
	size_t len = 0;

	(void)state;
	make_file(path, sizeof(path), "123456789", 0600);
	assert_int_equal(file_read(path, 8, 0, &buf, &len, err, sizeof(err)), MXF_ETOOBIG);
	assert_null(buf);
	assert_non_null(strstr(err, "larger than 8 bytes, refused"));
	assert_int_equal(strncmp(err, path, strlen(path)), 0);
	unlink(path);
}

static void
test_private_refuses_group_or_other(void **state)
{
	char path[64], err[256] = "";
	char *buf = NULL;
	size_t len = 0;

	(void)state;
	make_file(path, sizeof(path), "secret", 0640);
	assert_int_equal(file_read(path, 64, FILE_PRIVATE, &buf, &len, err, sizeof(err)),
			 MXF_EPERM);
	assert_null(buf);
	assert_non_null(strstr(err, "is accessible by group or others (mode 0640); refusing"));
	assert_non_null(strstr(err, "chmod 600"));
	assert_null(strstr(err, "secret"));
	/* Without FILE_PRIVATE the same file is read. */
	assert_int_equal(file_read(path, 64, 0, &buf, &len, err, sizeof(err)), 0);
	assert_string_equal(buf, "secret");
	free(buf);
	unlink(path);
}

static void
test_missing_and_not_regular(void **state)
{
	char err[256] = "";
	char *buf = NULL;
	size_t len = 0;

	(void)state;
	assert_int_equal(file_read("/nonexistent/mxf", 64, 0, &buf, &len, err, sizeof(err)),
			 MXF_ENOTFOUND);
	assert_non_null(strstr(err, "/nonexistent/mxf: "));
	assert_int_equal(file_read("/tmp", 64, 0, &buf, &len, err, sizeof(err)), MXF_EIO);
	assert_string_equal(err, "/tmp: not a regular file");
	assert_null(buf);
}

static void
test_secret_labels_and_missing(void **state)
{
	char path[64], err[256] = "";
	char *buf = NULL;
	size_t len = 0;

	(void)state;
	assert_int_equal(
		file_read_secret("key file", "/nonexistent/k", 64, &buf, &len, err, sizeof(err)),
		MXF_EIO);
	assert_int_equal(strncmp(err, "key file /nonexistent/k: ", 25), 0);
	make_file(path, sizeof(path), "pw\n", 0604);
	assert_int_equal(
		file_read_secret("smtp_password_file", path, 64, &buf, &len, err, sizeof(err)),
		MXF_EPERM);
	assert_int_equal(strncmp(err, "smtp_password_file /tmp/", 24), 0);
	assert_non_null(strstr(err, "(mode 0604)"));
	assert_int_equal(chmod(path, 0400), 0);
	assert_int_equal(
		file_read_secret("smtp_password_file", path, 64, &buf, &len, err, sizeof(err)), 0);
	assert_string_equal(buf, "pw\n");
	free(buf);
	unlink(path);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reads_whole_file),
		cmocka_unit_test(test_empty_file),
		cmocka_unit_test(test_too_big),
		cmocka_unit_test(test_private_refuses_group_or_other),
		cmocka_unit_test(test_missing_and_not_regular),
		cmocka_unit_test(test_secret_labels_and_missing),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
