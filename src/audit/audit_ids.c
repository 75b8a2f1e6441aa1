/*
 * audit_ids.c -- every finding id of `mxfailover audit`: its default
 * severity, what it means and what to do.  The ids are fixed (SPEC.md,
 * "Audit"); new ones may be added, none renamed.  man/mxfailover.8's
 * section FINDINGS lists the same ids (a unit test holds them together).
 */
#include <string.h>

#include "audit.h"

#define E AUDIT_ERROR
#define W AUDIT_WARNING
#define I AUDIT_INFO

static const struct audit_id ids[] = {
	/* The domain itself. */
	{"domain-unresolved", E, "the domain could not be resolved at all (no MX, NS or SOA answer)",
	 "check the domain name, its delegation and the --resolver"},
	{"lookup-failed", W, "a lookup failed or timed out, so the checks that need it did not run",
	 "check the resolver and the zone's name servers, or raise --timeout"},
	/* MX */
	{"mx-missing", E, "the domain has no MX record, so senders fall back to its address record",
	 "publish MX records for every mail server, or a null MX (0 .) when the domain takes no mail"},
	{"mx-null-mixed", E, "a null MX (RFC 7505, \"0 .\") is published next to other MX records",
	 "keep either the null MX alone or only real MX records"},
	{"mx-target-cname", E, "an MX target is an alias (CNAME), which RFC 2181 section 10.3 forbids",
	 "point the MX at the host's own name that has A/AAAA records"},
	{"mx-target-ip", E, "an MX target is an address literal instead of a host name",
	 "give the server a host name with A/AAAA records and use that name as the target"},
	{"mx-target-no-address", E, "an MX target has no A or AAAA record",
	 "add the address records of the target, or remove the MX record"},
	{"mx-target-private", W, "an MX target resolves to a private or loopback address",
	 "publish the server's public address (use --allow-private for internal hubs and labs)"},
	{"mx-duplicate", W, "the same host appears twice in the MX set",
	 "keep one MX record per host; a failover must reorder preferences, not duplicate hosts"},
	{"mx-single", I, "the domain has a single MX host, so there is nothing to fail over to",
	 "add a backup MX host (which must know the valid recipients)"},
	{"mx-ttl-unequal", W, "the MX records and the address records behind them have different TTLs",
	 "give the MX set and the A/AAAA records of its targets one TTL, so they expire together"},
	{"mx-inconsistent", E, "the zone's name servers give different MX sets",
	 "make every name server serve the same zone (check zone transfers and NOTIFY)"},
	/* Reverse DNS */
	{"ptr-missing", W, "an MX address has no PTR record",
	 "ask the address's owner (the hosting provider) for a PTR naming the server"},
	{"ptr-mismatch", W, "the PTR name of an MX address does not resolve back to that address",
	 "make the PTR name's A/AAAA record hold the address (forward-confirmed reverse DNS)"},
	{"banner-mismatch", I, "the SMTP banner names a host other than the address's PTR name",
	 "set the server's myhostname (banner name) to the PTR name"},
	/* SMTP on each MX host */
	{"smtp-unreachable", E, "an MX address does not answer SMTP on port 25",
	 "start the mail server or open port 25 to it"},
	{"starttls-missing", W, "an MX host does not offer STARTTLS",
	 "configure TLS (smtpd_tls_security_level = may with a certificate)"},
	{"starttls-failed", W, "an MX host offers STARTTLS but the TLS handshake fails",
	 "check the server's certificate and key files and its TLS protocol settings"},
	{"tls-weak", W, "an MX host negotiates TLS below version 1.2",
	 "allow TLS 1.2 and 1.3 only (smtpd_tls_protocols = >=TLSv1.2)"},
	{"cert-expired", W, "an MX host presents an expired certificate",
	 "renew the certificate and reload the mail server"},
	{"cert-expiring", W, "an MX host's certificate expires soon",
	 "renew the certificate before it expires"},
	{"cert-name-mismatch", W, "an MX host's certificate does not cover the MX name",
	 "issue a certificate whose names include the MX target name"},
	{"cert-untrusted", W, "an MX host's certificate does not chain to a trusted authority",
	 "use a certificate from a public authority and send the whole chain"},
	{"accepts-unknown-recipient", W, "an MX host accepts mail for a random local part (backscatter)",
	 "reject unknown recipients at RCPT; a backup MX needs relay_recipient_maps"},
	{"postmaster-rejected", W, "an MX host rejects mail to postmaster (RFC 5321 requires it)",
	 "accept postmaster@ for the domain"},
	{"open-relay", E, "an MX host relays mail to a foreign domain for anyone",
	 "restrict relaying (smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination)"},
	{"null-sender-rejected", W, "an MX host refuses MAIL FROM:<> (bounces cannot be delivered)",
	 "accept the null sender (RFC 5321 4.5.5); do not reject it in smtpd_sender_restrictions"},
	/* Name servers */
	{"ns-single", W, "the zone has a single name server",
	 "add a second name server in another network"},
	{"ns-same-network", W, "every name server of the zone is in one network (/24 or /64)",
	 "place a name server in a different network, ideally another provider"},
	{"ns-unreachable", E, "a name server of the zone does not answer",
	 "fix or remove the name server from the NS set and the delegation"},
	{"ns-no-tcp", E, "a name server does not answer over TCP",
	 "allow DNS over TCP port 53 (RFC 7766): large answers need it"},
	{"ns-not-authoritative", E, "a name server does not answer authoritatively for the zone",
	 "load the zone on that server or remove it from the NS set"},
	{"ns-serial-mismatch", W, "the zone's name servers serve different SOA serials",
	 "check the secondaries' transfers (NOTIFY, allow-transfer, the primary's address)"},
	{"ns-set-mismatch", W, "the name servers disagree about the zone's NS set",
	 "make the NS records the same at every server and at the parent"},
	{"ns-target-cname", E, "an NS target is an alias (CNAME)",
	 "point the NS record at the server's own name that has A/AAAA records"},
	{"soa-timers", I, "the SOA refresh, retry, expire or minimum value is outside the usual range",
	 "use e.g. refresh 1h-1d, retry below refresh, expire 1-4 weeks, minimum 5m-1d (RFC 1912)"},
	{"ns-open-recursion", W, "a name server of the zone offers recursion to anyone",
	 "turn recursion off on authoritative servers (recursion no; or allow-recursion)"},
	{"ns-open-axfr", W, "a name server gives the whole zone to anyone (AXFR)",
	 "allow zone transfers only to the secondaries (allow-transfer with a key or addresses)"},
	/* Policy */
	{"spf-missing", W, "the domain publishes no SPF record",
	 "publish v=spf1 naming every server that sends mail for the domain"},
	{"spf-multiple", E, "the domain publishes more than one SPF record (RFC 7208 3.2)",
	 "merge them into one v=spf1 record"},
	{"spf-syntax", E, "the SPF record does not parse",
	 "fix the record's syntax (RFC 7208 section 12)"},
	{"spf-too-many-lookups", E, "the SPF record needs more than 10 DNS lookups",
	 "flatten includes or drop unused mechanisms"},
	{"dmarc-missing", W, "the domain publishes no DMARC record at _dmarc",
	 "publish v=DMARC1; p=none; rua=... and tighten the policy later"},
	{"dmarc-invalid", W, "the DMARC record does not parse, or there are several",
	 "publish one record: v=DMARC1; p=quarantine; rua=mailto:... (RFC 7489 6.4)"},
	{"dmarc-weak", I, "the DMARC policy is p=none (monitoring only) or pct below 100",
	 "move to p=quarantine or p=reject once the reports are clean"},
	{"mta-sts-invalid", E, "the MTA-STS record or policy is missing parts or does not parse",
	 "serve a valid policy at https://mta-sts.DOMAIN/.well-known/mta-sts.txt and an _mta-sts TXT id"},
	{"mta-sts-mx-mismatch", E, "an MX host is not covered by the MTA-STS policy's mx lines",
	 "add the MX host (backup MX too) to the policy's mx: lines and change its id"},
	{"tlsrpt-invalid", W, "the _smtp._tls TLSRPT record does not parse",
	 "publish v=TLSRPTv1; rua=mailto:..."},
	{"dane-tlsa-mismatch", E, "an MX host's certificate matches none of its TLSA records",
	 "update the TLSA records before rolling the certificate (publish both during the change)"},
	/* Failover (needs the configuration) */
	{"failover-mx-target-cname", E, "a managed CNAME is the target of an MX record",
	 "manage the MX target as type A/AAAA (or type MX), not as a CNAME"},
	{"failover-ttl-too-long", W, "a switched record's TTL is far above interval x fall",
	 "lower the record's TTL, or set [dns] ttl, to about the detection time"},
	{"failover-record-missing", E, "a record the configuration manages does not exist in the zone",
	 "create the record, or remove it from the group's records"},
	{"failover-update-refused", E, "the primary would refuse the switch's UPDATE (key or ACL)",
	 "allow the key in the zone's update-policy or allow-update"},
	{"failover-standby-down", E, "a standby server fails its checks now",
	 "repair the standby before it is needed"},
	{"failover-standby-cert-mismatch", W,
	 "a standby's certificate does not cover the names it will be reached under",
	 "add the managed names to the standby's certificate"},
	{"failover-standby-not-in-spf", W, "a standby's address is not allowed by the domain's SPF",
	 "add the standby's address (ip4:/ip6: or a:NAME) to the SPF record"},
	{"failover-secondary-lag", W, "a secondary does not reach the primary's serial within seconds",
	 "check NOTIFY and transfers to the secondary (also-notify, allow-transfer)"},
};

const struct audit_id *
audit_ids(size_t *n)
{
	*n = sizeof(ids) / sizeof(ids[0]);
	return ids;
}

const struct audit_id *
audit_id_find(const char *id)
{
	if (id == NULL)
		return NULL;
	for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++)
		if (strcmp(ids[i].id, id) == 0)
			return &ids[i];
	return NULL;
}

const char *
audit_severity_name(enum audit_severity s)
{
	switch (s) {
	case AUDIT_ERROR:
		return "error";
	case AUDIT_WARNING:
		return "warning";
	default:
		return "info";
	}
}
