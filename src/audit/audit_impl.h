/*
 * audit_impl.h -- what the engine's own files share and no stage needs:
 * the name server probe started by audit_gather, and the helpers that read
 * replies.
 */
#ifndef MXF_AUDIT_IMPL_H
#define MXF_AUDIT_IMPL_H

#include "audit.h"

/* Query every address of @ns directly (audit_nsprobe.c). */
void audit_nsprobe_start(struct audit_domain *d, struct audit_ns *ns);

/* "Example.COM." -> "example.com." of an ldns name; malloc'ed or NULL. */
char *audit_rdf_name(const ldns_rdf *rdf);

/* Whether @a and @b are the same absolute name (case-insensitive). */
bool audit_name_equal(const char *a, const char *b);

/* Sort a list of strings (strcmp order). */
void audit_strings_sort(char **v, size_t n);

/* Free @n strings and the array. */
void audit_strings_free(char **v, size_t n);

#endif
