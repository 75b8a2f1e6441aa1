/*
 * audit_ptr.c -- the judgements on the reverse DNS of the MX addresses
 * (pure): ptr-missing (no PTR), ptr-mismatch (no PTR name resolves back to
 * the address: forward-confirmed reverse DNS fails, and receivers that
 * check it reject or down-rank the mail).  Each address is judged once,
 * however many MX names share it.
 */
#include <stdio.h>
#include <string.h>

#include "audit_impl.h"
#include "mxf.h"

static bool
seen_before(const struct audit_facts *f, size_t mi, size_t ai)
{
	const struct audit_addr *a = &f->mx[mi].addrs[ai];

	for (size_t i = 0; i <= mi; i++)
		for (size_t j = 0; j < f->mx[i].naddrs && (i < mi || j < ai); j++)
			if (f->mx[i].addrs[j].family == a->family &&
			    memcmp(f->mx[i].addrs[j].addr, a->addr, 16) == 0)
				return true;
	return false;
}

void
audit_ptr_judge(const struct audit_facts *f, const struct audit_opts *o, struct audit_report *r)
{
	(void)o;
	for (size_t i = 0; i < f->nmx; i++)
		for (size_t j = 0; j < f->mx[i].naddrs; j++) {
			const struct audit_addr *a = &f->mx[i].addrs[j];
			bool back = false;

			if (seen_before(f, i, j) || a->ptr_status == MXF_EUNSUPPORTED)
				continue; /* judged already, or private (not looked up) */
			audit_checked(r, 1);
			if (a->ptr_status != 0 && a->ptr_status != MXF_ENOTFOUND) {
				audit_add_default(r, "lookup-failed", a->text,
						  "the PTR lookup of %s (MX %s) failed: %s", a->text,
						  f->mx[i].target, mxf_strerror(a->ptr_status));
				continue;
			}
			if (a->nptr == 0) {
				audit_add_default(r, "ptr-missing", a->text,
						  "%s (MX %s) has no PTR record", a->text,
						  f->mx[i].target);
				continue;
			}
			for (size_t k = 0; k < a->nptr; k++)
				back = back || a->ptr[k].back;
			if (!back)
				audit_add_default(r, "ptr-mismatch", a->text,
						  "%s (MX %s) has PTR %s, which does not resolve back to it",
						  a->text, f->mx[i].target, a->ptr[0].name);
		}
}
