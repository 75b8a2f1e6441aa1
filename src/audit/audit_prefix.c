/*
 * audit_prefix.c -- address prefixes: the private ranges an MX target must
 * not resolve to, the prefixes --allow-private exempts, and "same network"
 * (one /24 or /64) for name servers.  Pure.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "mxf.h"

int
audit_prefix_parse(const char *s, struct audit_prefix *p)
{
	char buf[64];
	const char *slash = strchr(s, '/');
	size_t n = slash != NULL ? (size_t)(slash - s) : strlen(s);
	unsigned long bits;
	char *end;

	if (n == 0 || n >= sizeof(buf))
		return MXF_EINVAL;
	memcpy(buf, s, n);
	buf[n] = '\0';
	memset(p, 0, sizeof(*p));
	if (inet_pton(AF_INET, buf, p->addr) == 1)
		p->family = AF_INET;
	else if (inet_pton(AF_INET6, buf, p->addr) == 1)
		p->family = AF_INET6;
	else
		return MXF_EINVAL;
	bits = p->family == AF_INET ? 32 : 128;
	if (slash != NULL) {
		if (slash[1] < '0' || slash[1] > '9')
			return MXF_EINVAL;
		bits = strtoul(slash + 1, &end, 10);
		if (*end != '\0' || bits > (p->family == AF_INET ? 32u : 128u))
			return MXF_EINVAL;
	}
	p->bits = (unsigned)bits;
	return 0;
}

static bool
bits_equal(const uint8_t *a, const uint8_t *b, unsigned bits)
{
	unsigned full = bits / 8, rest = bits % 8;

	if (memcmp(a, b, full) != 0)
		return false;
	if (rest == 0)
		return true;
	return ((a[full] ^ b[full]) & (uint8_t)(0xff << (8 - rest))) == 0;
}

bool
audit_prefix_match(const struct audit_prefix *p, int family, const uint8_t *addr)
{
	return p->family == family && bits_equal(p->addr, addr, p->bits);
}

struct range {
	int family;
	const char *prefix;
};

/* Not reachable from the internet (IANA special-purpose registries). */
static const struct range private_ranges[] = {
	{AF_INET, "0.0.0.0/8"},      {AF_INET, "10.0.0.0/8"},     {AF_INET, "100.64.0.0/10"},
	{AF_INET, "127.0.0.0/8"},    {AF_INET, "169.254.0.0/16"}, {AF_INET, "172.16.0.0/12"},
	{AF_INET, "192.0.0.0/24"},   {AF_INET, "192.0.2.0/24"},   {AF_INET, "192.168.0.0/16"},
	{AF_INET, "198.18.0.0/15"},  {AF_INET, "198.51.100.0/24"}, {AF_INET, "203.0.113.0/24"},
	{AF_INET, "224.0.0.0/3"},    {AF_INET6, "::/127"},        {AF_INET6, "::ffff:0:0/96"},
	{AF_INET6, "64:ff9b:1::/48"}, {AF_INET6, "100::/64"},     {AF_INET6, "2001:db8::/32"},
	{AF_INET6, "fc00::/7"},      {AF_INET6, "fe80::/10"},     {AF_INET6, "ff00::/8"},
};

bool
audit_addr_private(int family, const uint8_t *addr)
{
	for (size_t i = 0; i < sizeof(private_ranges) / sizeof(private_ranges[0]); i++) {
		struct audit_prefix p;

		if (private_ranges[i].family != family)
			continue;
		if (audit_prefix_parse(private_ranges[i].prefix, &p) == 0 &&
		    audit_prefix_match(&p, family, addr))
			return true;
	}
	return false;
}

bool
audit_addr_same_network(int fa, const uint8_t *a, int fb, const uint8_t *b)
{
	if (fa != fb)
		return false;
	return bits_equal(a, b, fa == AF_INET ? 24 : 64);
}
