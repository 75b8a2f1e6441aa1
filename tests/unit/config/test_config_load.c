/*
 * test_config_load.c -- finding, reading and telling apart the two formats:
 * what config_load.c does before a reader (config_ini.c, seedconf.c) runs,
 * and the line splitting both readers share.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>

#include "config.h"
#include "config_impl.h"
#include "mxf.h"
#include "seedconf.h"

#define NATIVE_MIN                                                                                 \
	"[dns]\nserver = 192.0.2.53\n"                                                             \
	"[server mx1]\naddress = 192.0.2.10\nname = mx1.example.com\nchecks = smtp\n"              \
	"[group mail]\nservers = mx1\nzones = example.com\nrecords = mx\n"

#define SEED_MIN                                                                                   \
	"[ZONES]\nzone1 = domain1.tld\nzone2 = domain2.tld\n"                                      \
	"[MX]\nmxip1 = 1.2.3.4\nmxip2 = 1.2.3.5\nmx1 = mx1.example.com\nmx2 = mx2.example.com\n"  \
	"[RECORDS]\nrecord_mx = mx\nrecord_smtp = smtp\nrecord_imap = imap\n"                      \
	"record_mail = mail\nrecord_pop3 = pop3\n"                                                 \
	"[PORTS]\nsmtp = 25\nimaps = 993\nhttps = 443\nmysql = 3306\nport1 = 22\nport2 = 22\n"     \
	"[SETTINGS]\nttl = 60\nns = 192.168.0.2\nlogfile = /var/log/df.log\n"                      \
	"space_limit = 97\npartition = /var/\nuser = root\n"                                       \
	"[MAIL]\nsender_email = a@example.com\nrecipient_email = b@example.com\nport = 587\n"      \
	"use_tls = true\nusername = u\npassword = secret-password\n"

static struct config_errors errs;

static int
teardown(void **state)
{
	(void)state;
	config_errors_free(&errs);
	return 0;
}

static int
has_error(int line, const char *needle)
{
	for (size_t i = 0; i < errs.n; i++)
		if (errs.v[i].line == line && strstr(errs.v[i].msg, needle) != NULL)
			return 1;
	return 0;
}

/* @text with every "\n" made "\r\n"; the caller frees it. */
static char *
crlf(const char *text)
{
	char *out = malloc(strlen(text) * 2 + 1), *o = out;

	assert_non_null(out);
	for (; *text != '\0'; text++) {
		if (*text == '\n')
			*o++ = '\r';
		*o++ = *text;
	}
	*o = '\0';
	return out;
}

static void
test_detect(void **state)
{
	(void)state;
	assert_true(seedconf_is_section("ZONES"));
	assert_true(seedconf_is_section("MAIL"));
	assert_false(seedconf_is_section("zones"));
	assert_false(seedconf_is_section("general"));
	assert_true(seedconf_detect(SEED_MIN, strlen(SEED_MIN)));
	assert_true(seedconf_detect("[MX]\n", 5));
	assert_false(seedconf_detect(NATIVE_MIN, strlen(NATIVE_MIN)));
	assert_false(seedconf_detect("[MX]\n[dns]\n", 11));
	assert_false(seedconf_detect("", 0));
	assert_false(seedconf_detect("# [MX]\n", 7));
}

static void
test_text_line(void **state)
{
	static const char text[] = "one\r\ntwo\n\nlast";
	size_t pos = 0, len = strlen(text), l = 0;
	const char *line;

	(void)state;
	line = config_text_line(text, len, &pos, &l);
	assert_int_equal(l, 3);
	assert_memory_equal(line, "one", 3);
	line = config_text_line(text, len, &pos, &l);
	assert_int_equal(l, 3);
	assert_memory_equal(line, "two", 3);
	line = config_text_line(text, len, &pos, &l);
	assert_non_null(line);
	assert_int_equal(l, 0);
	line = config_text_line(text, len, &pos, &l);
	assert_int_equal(l, 4);
	assert_memory_equal(line, "last", 4);
	assert_null(config_text_line(text, len, &pos, &l));
}

/* Windows line ends read as Unix ones, in both formats. */
static void
test_crlf(void **state)
{
	struct config *cfg = NULL;
	char *text;

	(void)state;
	text = crlf(NATIVE_MIN);
	assert_int_equal(config_load_string("crlf.conf", text, &cfg, &errs), 0);
	assert_int_equal(cfg->format, CONFIG_FORMAT_NATIVE);
	assert_string_equal(cfg->servers[0].name, "mx1.example.com.");
	assert_string_equal(cfg->groups[0].zones[0], "example.com.");
	config_free(cfg);
	free(text);

	text = crlf(SEED_MIN);
	assert_int_equal(config_load_string("crlf.cfg", text, &cfg, &errs), 0);
	assert_int_equal(cfg->format, CONFIG_FORMAT_DNSFAILOVER);
	assert_int_equal(cfg->nservers, 2);
	assert_string_equal(cfg->dnsfailover_logfile, "/var/log/df.log");
	config_free(cfg);
	free(text);
}

static void
test_mixed(void **state)
{
	struct config *cfg = NULL;

	(void)state;
	assert_int_equal(config_load_string("mixed.conf", NATIVE_MIN "[ZONES]\nzone1 = a.tld\n", &cfg,
					    &errs),
			 MXF_ECONFIG);
	assert_null(cfg);
	assert_true(has_error(11, "[ZONES] is a DNS_Failover section"));
}

static void
test_files(void **state)
{
	char path[] = "/tmp/test_config_load.XXXXXX";
	struct config *cfg = NULL;
	int fd;

	(void)state;
	assert_int_equal(config_load("/nonexistent/mxfailover.conf", &cfg, &errs), MXF_EIO);
	assert_true(has_error(0, "cannot open"));
	assert_int_equal(config_load("/tmp", &cfg, &errs), MXF_EIO);
	assert_true(has_error(0, "not a regular file"));

	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "[dns]\n\0", 7), 7);
	close(fd);
	assert_int_equal(config_load(path, &cfg, &errs), MXF_ECONFIG);
	assert_true(has_error(0, "NUL byte"));
	assert_null(cfg);

	fd = open(path, O_WRONLY | O_TRUNC);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, NATIVE_MIN, strlen(NATIVE_MIN)), (ssize_t)strlen(NATIVE_MIN));
	close(fd);
	assert_int_equal(config_load(path, &cfg, &errs), 0);
	assert_string_equal(cfg->path, path);
	/* Defaults that follow from other settings are filled in. */
	assert_string_equal(cfg->general.lock_file, "/var/lib/mxfailover/state.json.lock");
	assert_int_equal(cfg->dns.timeout_ms, cfg->general.timeout_ms);
	config_free(cfg);
	unlink(path);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_detect),
		cmocka_unit_test(test_text_line),
		cmocka_unit_test_teardown(test_crlf, teardown),
		cmocka_unit_test_teardown(test_mixed, teardown),
		cmocka_unit_test_teardown(test_files, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
