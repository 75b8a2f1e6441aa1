/*
 * check_url_impl.h -- what check_url.c (the scheme table, printing,
 * expansion) shares with check_url_parse.c.  Private to the checkurl
 * library; nothing outside src/check/url/ includes it.
 */
#ifndef MXF_CHECK_URL_IMPL_H
#define MXF_CHECK_URL_IMPL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "check_url.h"

/* Options, as bits, so each scheme lists the ones it takes. */
enum {
	OPT_TIMEOUT = 1u << 0,
	OPT_SNI = 1u << 1,
	OPT_VERIFY = 1u << 2,
	OPT_CERT_DAYS = 1u << 3,
	OPT_HELO = 1u << 4,
	OPT_LIMIT = 1u << 5,
	OPT_EXPECT = 1u << 6,
	OPT_SCRIPT = 1u << 7,
	OPT_CA = 1u << 8,
};

#define OPT_TLS (OPT_SNI | OPT_VERIFY | OPT_CERT_DAYS | OPT_CA)

/* What a scheme's URL may hold after the authority. */
enum path_kind { PATH_NONE, PATH_HTTP, PATH_DNS, PATH_REMOTE };

/* One scheme: its name, default port, TLS use and what its URLs may hold. */
struct check_url_scheme {
	const char *name;
	uint16_t port;
	enum check_tls tls;
	enum path_kind path;
	bool user;        /* USER@ allowed */
	bool short_name;  /* usable as a short name in [server] checks */
	unsigned opts;
};

/* Indexed by enum check_scheme. */
extern const struct check_url_scheme check_url_schemes[CHECK_SCHEME_COUNT];

/* Lower-case @s in place. */
void check_url_lower(char *s);

/* @return whether the @n bytes at @s are only digits and dots (n > 0):
 * what is meant as an IPv4 address, never a host name. */
bool check_url_all_digits_dots(const char *s, size_t n);

#endif
