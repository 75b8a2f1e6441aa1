/*
 * test_audit_tags.c -- tag lists and the DMARC, MTA-STS TXT and TLSRPT
 * record judges.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "audit_tags.h"
#include "mxf.h"

#define S(x) x, strlen(x)

static void
test_tags(void **state)
{
	struct audit_tags t;
	(void)state;
	assert_int_equal(audit_tags_parse(S(" v = DMARC1 ;p=none;  rua=mailto:a@b.example ; "), &t), 0);
	assert_int_equal(t.n, 3);
	assert_string_equal(t.tags[0].name, "v");
	assert_string_equal(t.tags[0].value, "DMARC1");
	assert_string_equal(audit_tags_get(&t, "RUA"), "mailto:a@b.example");
	assert_null(audit_tags_get(&t, "sp"));
	assert_int_equal(audit_tags_parse(S("v=1; p"), &t), MXF_EINVAL);
	assert_non_null(strstr(t.error, "no '='"));
	assert_int_equal(audit_tags_parse(S("v=1;;p=2"), &t), MXF_EINVAL);
	assert_int_equal(audit_tags_parse(S("v=1; p=2; p=3"), &t), MXF_EINVAL);
	assert_non_null(strstr(t.error, "twice"));
	assert_int_equal(audit_tags_parse(S("v=1; p-x=2"), &t), MXF_EINVAL);
}

static void
test_dmarc(void **state)
{
	struct audit_dmarc d;
	(void)state;
	assert_true(audit_dmarc_is_record(S("v=DMARC1; p=reject")));
	assert_true(audit_dmarc_is_record(S("v=DMARC1")));
	assert_false(audit_dmarc_is_record(S("v=DMARC10; p=reject")));
	assert_false(audit_dmarc_is_record(S("p=reject; v=DMARC1")));

	assert_int_equal(audit_dmarc_parse(S("v=DMARC1; p=reject; rua=mailto:d@example.com"), &d), 0);
	assert_int_equal(d.p, AUDIT_DMARC_REJECT);
	assert_int_equal(d.sp, AUDIT_DMARC_REJECT);
	assert_int_equal(d.pct, 100);
	assert_int_equal(audit_dmarc_parse(S("v=DMARC1; p=quarantine; sp=none; pct=20; adkim=s; "
					     "aspf=r; fo=0:d; ri=86400; "
					     "rua=mailto:a@example.com!10m,mailto:b@example.com"),
					   &d),
			 0);
	assert_int_equal(d.p, AUDIT_DMARC_QUARANTINE);
	assert_int_equal(d.sp, AUDIT_DMARC_NONE);
	assert_int_equal(d.pct, 20);
	/* No p= but a valid rua=: p=none (RFC 7489 6.6.3). */
	assert_int_equal(audit_dmarc_parse(S("v=DMARC1; rua=mailto:a@example.com"), &d), 0);
	assert_true(d.p_implied);
	assert_int_equal(d.p, AUDIT_DMARC_NONE);

	static const struct {
		const char *rec, *why;
	} bad[] = {
		{"v=DMARC1", "no p= tag"},
		{"v=DMARC1; p=block", "not none, quarantine or reject"},
		{"v=DMARC1; p=none; pct=101", "pct=101"},
		{"v=DMARC1; p=none; pct=-1", "pct=-1"},
		{"v=DMARC1; p=none; adkim=x", "not r or s"},
		{"v=DMARC1; p=none; fo=2", "fo=2"},
		{"v=DMARC1; p=none; fo=0:", "fo=0:"},
		{"v=DMARC1; p=none; rua=d@example.com", "is not a URI"},
		{"p=none; v=DMARC1", "first tag must be v=DMARC1"},
		{"v=DMARC1; p=none; ri=soon", "ri=soon"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int r = audit_dmarc_parse(bad[i].rec, strlen(bad[i].rec), &d);
		if (r == 0 || !strstr(d.error, bad[i].why))
			fail_msg("%s: got %d \"%s\", want \"%s\"", bad[i].rec, r, d.error,
				 bad[i].why);
	}
}

static void
test_mtasts_txt(void **state)
{
	char id[33], why[200];
	(void)state;
	assert_true(audit_mtasts_is_record(S("v=STSv1; id=20260101T000000;")));
	assert_false(audit_mtasts_is_record(S("v=STSv2; id=1")));
	assert_int_equal(audit_mtasts_txt_parse(S("v=STSv1; id=20260101T000000;"), id, why,
						sizeof(why)),
			 0);
	assert_string_equal(id, "20260101T000000");
	assert_int_equal(audit_mtasts_txt_parse(S("v=STSv1;"), id, why, sizeof(why)), MXF_EINVAL);
	assert_non_null(strstr(why, "no id="));
	assert_int_equal(audit_mtasts_txt_parse(S("v=STSv1; id=2026-01-01"), id, why, sizeof(why)),
			 MXF_EINVAL);
	assert_int_equal(audit_mtasts_txt_parse(S("v=STSv1; id=123456789012345678901234567890123"),
						id, why, sizeof(why)),
			 MXF_EINVAL);
}

static void
test_tlsrpt(void **state)
{
	char why[200];
	(void)state;
	assert_true(audit_tlsrpt_is_record(S("v=TLSRPTv1; rua=mailto:t@example.com")));
	assert_int_equal(audit_tlsrpt_parse(S("v=TLSRPTv1; rua=mailto:t@example.com,"
					      "https://reports.example.com/tlsrpt"),
					    why, sizeof(why)),
			 0);
	assert_int_equal(audit_tlsrpt_parse(S("v=TLSRPTv1;"), why, sizeof(why)), MXF_EINVAL);
	assert_non_null(strstr(why, "no rua="));
	assert_int_equal(audit_tlsrpt_parse(S("v=TLSRPTv1; rua=ftp://x.example/"), why, sizeof(why)),
			 MXF_EINVAL);
	assert_non_null(strstr(why, "not allowed"));
	assert_int_equal(audit_tlsrpt_parse(S("v=TLSRPTv1; rua=t@example.com"), why, sizeof(why)),
			 MXF_EINVAL);
	assert_int_equal(audit_tlsrpt_parse(S("v=TLSRPTv2; rua=mailto:t@example.com"), why,
					    sizeof(why)),
			 MXF_EINVAL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tags),
		cmocka_unit_test(test_dmarc),
		cmocka_unit_test(test_mtasts_txt),
		cmocka_unit_test(test_tlsrpt),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
