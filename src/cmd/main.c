/*
 * main.c -- command-line parsing and dispatch.
 *
 * Global options come before the command word; everything after it belongs
 * to the command.
 */
#include <errno.h>
#include <getopt.h>
#include <malloc.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"
#include "config.h"
#include "log.h"
#include "mxf.h"
#include "suggest.h"

struct command {
	const char *name;
	int (*fn)(struct mxf_ctx *ctx, int argc, char **argv);
	const char *usage;   /* after "mxfailover [-c FILE] [-v|-q] " */
	const char *summary; /* one line for --help (NULL: the help's first line) */
	const char *help;    /* the paragraph `mxfailover help COMMAND` prints */
};

static const struct command commands[] = {
	{"run", cmd_run, "run", "daemon: check continuously, fail over and back",
	 "Runs rounds every [general] interval (every fastinter while a server is\n"
	 "failing or recovering, until fall/rise settle it) in the foreground until\n"
	 "SIGTERM (or SIGINT), logging to [general] log (syslog, stderr or a file).  Each round\n"
	 "runs every check and witness at once, updates health (fall/rise), reads the\n"
	 "managed records from the primary, and sends one compare-and-swap UPDATE per\n"
	 "zone that must change; a zone whose update failed is retried with backoff.\n"
	 "SIGHUP reloads the configuration between rounds, keeping health; a bad new\n"
	 "configuration is refused and the old one kept.  SIGTERM during a DNS update\n"
	 "lets that update finish (at most [dns] timeout) and exits 0.\n"},
	{"once", cmd_once, "once", "one pass for cron or a systemd timer",
	 "Runs one round as `run` does, with the rise/fall counters and the failover\n"
	 "memory carried between passes in the state file, holding the lock file\n"
	 "meanwhile.  Exit 0: all active servers healthy; 1: a check or server is down\n"
	 "but service is kept up, or the state file could not be written; 3: a DNS read\n"
	 "or update failed; 4: every server of a group is down; 5: another instance\n"
	 "holds the lock.  Refused (exit 2) with [quorum]: only `run` decides there.\n"},
	{"status", cmd_status, "status [--json | --plugin]", "servers, checks, records, last events",
	 "Prints, from the state file a running daemon rewrites every round, each\n"
	 "server's health and pin, each check's last result and reason, each group's\n"
	 "active server and managed records as last read, and the recent events.\n"
	 "--json prints the state file's content with the verdict as \"status\".\n"
	 "Exit 6 when the state is stale (older than 3 x max(fall, rise) x interval:\n"
	 "the daemon is not running, or cannot write its state -- the lock it holds\n"
	 "tells which); 4 when every server of a group is down; 1 when isolated,\n"
	 "degraded (a server down, a check failing, a record changed by hand, a\n"
	 "zone whose updates fail) or no state exists yet; 0 when every active\n"
	 "server is up.\n"
	 "--plugin prints one line for Nagios/Icinga (Monitoring Plugins):\n"
	 "  MXFAILOVER OK - group mail on mx1; 2 of 2 servers up | 'servers_up'=2;;;0;2 ...\n"
	 "with perfdata (servers up, groups failed over / all down, isolated,\n"
	 "records changed by hand, state age, each check's latency as\n"
	 "'mx1 smtp'=0.012s) and exits 0 OK (every group on its preferred server,\n"
	 "all up), 1 WARNING (degraded, failed over, isolated), 2 CRITICAL (every\n"
	 "server of a group down, stale state) or 3 UNKNOWN (no state, unreadable\n"
	 "state or configuration).\n"},
	{"plan", cmd_plan, "plan", "the DNS changes the current health would make",
	 "Runs the checks and reads the records now, then prints per group the\n"
	 "decision and why, and each record that would change (old -> new) or be left\n"
	 "alone and why.  Changes nothing: no DNS update, no state written.  Health\n"
	 "starts from the state file, so fall/rise apply as in the daemon.  Refused\n"
	 "(exit 2) with [quorum]: only `run` decides there.\n"},
	{"probe", cmd_probe, "probe [--json] [--timeout DUR] [--server NAME] URL...",
	 "run checks now, one result line each",
	 "Runs the given check URLs (see mxfailover(8), \"Check URLs\") all at once and\n"
	 "prints one line per URL, in the order given: URL, up/down/warning, the time\n"
	 "it took and why (the server's own reply line when it sent one).  Every URL\n"
	 "is checked for syntax before any runs.  No configuration file is needed.\n"
	 "  --json          a JSON array of {url, state, ms, phase, reason[, cert_days]}\n"
	 "  --timeout DUR   deadline per check when the URL has no ?timeout= (default 5s)\n"
	 "  --server NAME   also run the checks of [server NAME] of the configuration\n"
	 "The same URL given twice runs once.  TLS trusts the system CA store, or the\n"
	 "PEM file in $MXF_CA_FILE; ?ca=/path/to/ca.pem trusts only that file for\n"
	 "that URL.  A certificate expiring within ?cert_days=N gives \"warning\".\n"
	 "Exit 0 when every probe is up, 1 otherwise, 2 on a bad URL or option.\n"},
	{"dns", cmd_dns, "dns get NAME [TYPE] | dns set [--expect OLD] NAME TYPE VALUE [TTL] | dns apply FILE|-",
	 "read or write records through the configured primary",
	 "dns get NAME [TYPE]\n"
	 "    Query the configured primary ([dns] server) for NAME and print the\n"
	 "    records, one per line, in zone-file form.  Without TYPE, asks for\n"
	 "    SOA, NS, MX, A, AAAA, CNAME and TXT at once and prints what exists\n"
	 "    (not ANY, which servers may answer with one record set, RFC 8482).\n"
	 "    Exit 3 when the query fails or no such record exists.\n"
	 "dns set [--expect OLD] NAME TYPE VALUE [TTL]\n"
	 "    Replace the NAME/TYPE record set by VALUE with one RFC 2136 UPDATE,\n"
	 "    TSIG-signed with [dns] key_file when one is configured.  The update\n"
	 "    carries a compare-and-swap prerequisite: the record set must still\n"
	 "    hold what was read just before (or OLD, with --expect; --expect ''\n"
	 "    demands that no such record exists).  TTL defaults to the record's\n"
	 "    current TTL, else [dns] ttl, else 300.  The result is verified with a\n"
	 "    prerequisite-only UPDATE, and read back and compared when that does\n"
	 "    not confirm it.  Nothing is sent when the record already holds VALUE.\n"
	 "dns apply FILE|-\n"
	 "    As set, for every line \"NAME TYPE VALUE [TTL]\" of FILE (- for stdin):\n"
	 "    one UPDATE per zone carrying all of that zone's changes, all zones at\n"
	 "    once.  Lines with the same NAME and TYPE form one record set.  A\n"
	 "    trailing number is the TTL for types with a fixed number of fields.\n"
	 "    A line \"expect NAME TYPE VALUE\" (one per value) gives the values the\n"
	 "    record set must hold, as --expect: with a TTL and a configured zone,\n"
	 "    nothing is read before the update.\n"
	 "    Blank lines and lines starting with # or ; are skipped.\n"
	 "The zone of a name is the longest configured zone that contains it, else\n"
	 "it is found with an SOA query.  Any DNS failure exits 3.\n"},
	{"pin", cmd_pin, "pin SERVER down|up [--for DURATION]", "operator override",
	 "Forces SERVER down (failover moves away from it) or up (its checks are\n"
	 "ignored) until `mxfailover unpin SERVER`, or for DURATION (30m, 2h).  Pins\n"
	 "are kept in <state_file>.pins; a running daemon applies them within one\n"
	 "interval.  With [quorum] a pin is this monitor's vote only: records move\n"
	 "when `need` monitors carry it.\n"},
	{"unpin", cmd_unpin, "unpin SERVER", "clear an operator override",
	 "Clears a pin set with `mxfailover pin`.  A server that is not pinned is\n"
	 "said to be so; nothing is written and the exit is 0.\n"},
	{"audit", cmd_audit,
	 "audit [--json] [--resolver ADDR[:PORT]] [--timeout DUR] [--no-smtp] [--allow-private PREFIX] [DOMAIN...]",
	 "lint the domain's mail DNS and the failover states",
	 "Checks each DOMAIN's mail DNS the way senders see it: the MX set (null MX,\n"
	 "aliases, address literals, missing or private addresses, duplicates, a\n"
	 "single host, unequal TTLs), reverse DNS of every MX address, and the zone's\n"
	 "name servers, found by NS and asked directly over UDP and TCP (reachable,\n"
	 "authoritative, same serial and NS set, networks, open recursion or AXFR,\n"
	 "SOA timers); SMTP on each MX, SPF/DMARC/MTA-STS/TLSRPT/DANE, and, with a\n"
	 "configuration, the states a failover puts the zone in.  Without DOMAIN,\n"
	 "every zone of the configuration.  Output: `SEVERITY ID SUBJECT: message`,\n"
	 "an indented hint, a summary line per domain; mxfailover(8) lists every id.\n"
	 "It changes nothing.  All lookups run at once, each with its own deadline.\n"
	 "  --json                 an array of {domain, findings[{id, severity,\n"
	 "                         subject, message, hint}], checks, seconds}\n"
	 "  --resolver ADDR[:PORT] where lookups go (default: the first nameserver\n"
	 "                         of /etc/resolv.conf)\n"
	 "  --timeout DUR          deadline of each lookup and probe (default 5s)\n"
	 "  --no-smtp              no SMTP probes\n"
	 "  --allow-private PREFIX addresses in PREFIX (e.g. 10.0.0.0/8) are not\n"
	 "                         reported as private (internal hubs, labs); repeatable\n"
	 "Exit 0 with no warning or error, 1 with any, 2 on a usage or configuration\n"
	 "error, 3 when a domain could not be resolved at all.\n"},
	{"queue", cmd_queue, "queue [--json] [--timeout DUR] [SERVER]",
	 "the backup MX's queue for the group's zones",
	 "Reads, over SSH, the Postfix queue of each server with a [server] queue =\n"
	 "ssh://USER@HOST[:PORT] (or of SERVER only), all at once, by running\n"
	 "`postqueue -j` there with the system ssh client (batch mode, host key\n"
	 "checking on; a key with command=\"postqueue -j\" needs no root, see\n"
	 "mxfailover(8), \"BACKUP MX QUEUE\"), and prints per server how many messages\n"
	 "it holds for its groups' zones and the oldest, then one line per zone with\n"
	 "the oldest message's delay reason.  At most 4 MiB of output is read.\n"
	 "  --json          a JSON array of {server, queue, ok, messages, total,\n"
	 "                  oldest, oldest_time, zones: [...]} or {..., ok: false, error}\n"
	 "  --timeout DUR   deadline per server (default 30s)\n"
	 "Exit 0 when every queue was read and none holds mail for its zones, 1 when\n"
	 "one does, 3 when one could not be read, 2 on a usage or config error.\n"},
	{"config", cmd_config, "config check", "validate the configuration",
	 "config check\n"
	 "    Reads the configuration (native mxfailover.conf or DNS_Failover's\n"
	 "    config.cfg), prints every error as FILE:LINE: message, in line order,\n"
	 "    and exits 2, or\n"
	 "    prints \"configuration OK\" and a summary of servers, checks, groups,\n"
	 "    zones, records, the DNS server and the TSIG key, and exits 0.  Every\n"
	 "    check URL is parsed, those made from DNS_Failover's [SETTINGS] user and\n"
	 "    partition too; a record two groups would both manage is an error.\n"
	 "    A typo of a key or check scheme gets the nearest known one (\"did you\n"
	 "    mean 'interval'?\").  Warnings (FILE:LINE: warning: ..., exit still 0):\n"
	 "    a group of one server (nowhere to fail over to), a server in no group.\n"},
	{"demo", cmd_demo, "demo [--keep] [--named PATH]", "a throw-away lab on loopback showing failover and failback",
	 "Starts, in a temporary directory on 127.0.0.1 only: BIND's named (a fresh\n"
	 "TSIG key, zone demo.test whose mx, smtp, imap, mail and pop3 CNAMEs point at\n"
	 "mx1.demo.test.), two small SMTP responders as mx1 and mx2, and `mxfailover\n"
	 "run` for them (interval 1s, fall 2, rise 2; its log is shown as \"daemon:\").\n"
	 "Then it stops mx1 and shows, with timings, the records moving to mx2, read\n"
	 "from named with signed queries; brings mx1 back and shows them moving back.\n"
	 "It takes well under a minute, needs no root and no configuration (-c is\n"
	 "ignored), and stops everything it started and removes the directory at the\n"
	 "end, on failure and on Ctrl-C.\n"
	 "  --keep        keep the temporary directory (named.conf, zone, key, the\n"
	 "                daemon's config, state file, named.log); print its path\n"
	 "  --named PATH  the named binary (default /usr/sbin/named: `./dev demo`\n"
	 "                installs it, or `apt-get install bind9`)\n"
	 "Exit 0 when the failover and the failback were both seen, 1 otherwise\n"
	 "(what was missing is printed), 2 when named is missing or on a usage error.\n"},
	{"notify", cmd_notify,
	 "notify test [--event KIND] [--reason TEXT] [--server ID] [--timeout DUR] [--attempts N] [--backoff DUR]",
	 "send a test event through every notification channel",
	 "notify test\n"
	 "    Sends one test event (default: switched) through every channel of\n"
	 "    [notify] -- mail, webhook, exec -- and waits for the outcome, printing\n"
	 "    one line per channel: \"mail: delivered\" or \"mail: failed: REASON\".\n"
	 "    The event is built from the first [group] and is marked as a test.\n"
	 "  --event KIND    server_down, server_up, switched, switch_failed, all_down,\n"
	 "                  isolated, isolation_over, changed_by_hand, record_missing,\n"
	 "                  queue_flush, reminder, switch_completed, audit_finding,\n"
	 "                  audit_clear, quorum_lost, quorum_back\n"
	 "  --reason TEXT   the event's reason line\n"
	 "  --server ID     DNS_Failover mode: the server to send through (default mx1)\n"
	 "  --timeout DUR   one attempt of one channel (default 30s)\n"
	 "  --attempts N    tries per channel (default 4)\n"
	 "  --backoff DUR   wait before the second try, doubling (default 5s)\n"
	 "Exit 0 when every channel delivered, 1 otherwise, 2 on a configuration error.\n"},
	{"etrn", cmd_etrn, "etrn [--timeout DUR] [--helo NAME] [--tls-name NAME] SERVER[:PORT] ZONE...",
	 "ask a backup MX to deliver its queue now (ETRN)",
	 "Asks the backup MX SERVER (port 25 by default) to deliver the mail it queued\n"
	 "for each ZONE now (ETRN, RFC 1985), in one SMTP session: banner, EHLO,\n"
	 "STARTTLS when offered, EHLO, ETRN ZONE for each zone, QUIT.  Prints one line\n"
	 "per zone: \"ZONE: accepted: 250 ...\" or \"ZONE: failed: 458 ...\".\n"
	 "  --timeout DUR    deadline for the whole conversation (default 30s)\n"
	 "  --helo NAME      the EHLO name (default: this host's name)\n"
	 "  --tls-name NAME  verify the server's certificate against NAME (default:\n"
	 "                   opportunistic TLS, not verified)\n"
	 "Exit 0 when every zone was accepted, 1 otherwise, 2 on a usage error.\n"},
};

static const struct command *
command_find(const char *name)
{
	for (size_t i = 0; i < MXF_ARRAY_SIZE(commands); i++)
		if (strcmp(commands[i].name, name) == 0)
			return &commands[i];
	return NULL;
}

static void
usage(FILE *out)
{
	fprintf(out,
		"usage: mxfailover [-c FILE] [-v|-q] COMMAND [ARGS]\n"
		"\n"
		"Keeps a domain's mail reachable: checks mail servers and repoints DNS\n"
		"records with TSIG-signed dynamic updates when the active one fails.\n"
		"\n"
		"Commands:\n");
	/* Every command of the table, so none is a secret; a row without a
	 * summary shows its help's first line. */
	for (size_t i = 0; i < MXF_ARRAY_SIZE(commands); i++) {
		const char *sum = commands[i].summary;
		int len = (int)strcspn(sum != NULL ? sum : commands[i].help, "\n");

		fprintf(out, "  %-10s %.*s\n", commands[i].name, len,
			sum != NULL ? sum : commands[i].help);
	}
	fprintf(out, "  %-10s %s\n", "help", "`help COMMAND`: one command's options and exit codes");
	fprintf(out,
		"\n"
		"Options:\n"
		"  -c FILE     configuration file (default: $MXFAILOVER_CONFIG, then\n"
		"              $DNSFAILOVER_CONFIG, then " CONFIG_DEFAULT_PATH ",\n"
		"              then " CONFIG_DNSFAILOVER_PATH ")\n"
		"  -v          more output (twice for debug)\n"
		"  -q          errors only\n"
		"  --help      this text; `mxfailover help COMMAND` for one command\n"
		"  --version   print the version\n"
		"\n"
		"Exit codes: 0 ok, 1 degraded, 2 usage or configuration error, 3 DNS failure,\n"
		"4 every server of a group down, 5 another instance holds the lock,\n"
		"6 (status) the state is stale; `status --plugin` exits 0 OK, 1 WARNING,\n"
		"2 CRITICAL, 3 UNKNOWN.\n"
		"See mxfailover(8) and mxfailover.conf(5).\n");
}

/*
 * Say that @name is no command, with the nearest one when it looks like a
 * typo of it ("did you mean 'status'?").  @what prefixes the message
 * ("" or "help: ").
 */
static void
unknown_command(const char *what, const char *name)
{
	const char *names[MXF_ARRAY_SIZE(commands) + 1];
	const char *near;

	for (size_t i = 0; i < MXF_ARRAY_SIZE(commands); i++)
		names[i] = commands[i].name;
	names[MXF_ARRAY_SIZE(commands)] = "help";
	near = suggest_nearest(name, names, MXF_ARRAY_SIZE(names));
	fprintf(stderr, "mxfailover: %sunknown command '%s'", what, name);
	if (near != NULL)
		fprintf(stderr, "; did you mean '%s'?", near);
	fprintf(stderr, "\nTry 'mxfailover --help' for the list of commands.\n");
}

static int
help_command(const char *name)
{
	const struct command *c = command_find(name);

	if (c == NULL) {
		unknown_command("help: ", name);
		return MXF_EXIT_USAGE;
	}
	printf("usage: mxfailover [-c FILE] [-v|-q] %s\n\n%s", c->usage, c->help);
	return MXF_EXIT_OK;
}

int
cmd_usage_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "mxfailover: %s: ", cmd);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry 'mxfailover help %s'.\n", cmd);
	return MXF_EXIT_USAGE;
}

/*
 * The configuration file @ctx names does not exist: say where it was looked
 * for (SPEC's search order) and how to name one, instead of a bare
 * "cannot open".
 */
static void
config_missing(const struct mxf_ctx *ctx)
{
	const char *env = getenv("MXFAILOVER_CONFIG");
	const char *denv = getenv("DNSFAILOVER_CONFIG");

	if (ctx->config_path_given)
		fprintf(stderr, "mxfailover: configuration file %s (given with -c) does not exist\n",
			ctx->config_path);
	else if (env != NULL && *env != '\0')
		fprintf(stderr,
			"mxfailover: configuration file %s (from $MXFAILOVER_CONFIG) does not exist\n",
			ctx->config_path);
	else if (denv != NULL && *denv != '\0')
		fprintf(stderr,
			"mxfailover: configuration file %s (from $DNSFAILOVER_CONFIG) does not exist\n",
			ctx->config_path);
	else
		fprintf(stderr,
			"mxfailover: no configuration file: tried " CONFIG_DEFAULT_PATH
			" and " CONFIG_DNSFAILOVER_PATH
			" ($MXFAILOVER_CONFIG and $DNSFAILOVER_CONFIG are not set)\n");
	fprintf(stderr, "Name one with -c FILE or $MXFAILOVER_CONFIG (see mxfailover.conf(5));\n"
			"`mxfailover config check` validates it.\n");
}

int
cmd_load_config(const struct mxf_ctx *ctx, struct config **out)
{
	struct config_errors errs = {0};
	size_t nerrs;
	int err;

	*out = NULL;
	if (access(ctx->config_path, F_OK) != 0 && errno == ENOENT) {
		config_missing(ctx);
		return MXF_EXIT_USAGE;
	}
	err = config_load(ctx->config_path, out, &errs);
	for (size_t i = 0; i < errs.n; i++) {
		if (errs.v[i].line > 0)
			fprintf(stderr, "%s:%d: %s\n", errs.v[i].file, errs.v[i].line,
				errs.v[i].msg);
		else
			fprintf(stderr, "%s: %s\n", errs.v[i].file, errs.v[i].msg);
	}
	nerrs = errs.n;
	config_errors_free(&errs);
	if (err != 0) {
		/* Only when no message said why (out of memory): config_load's
		 * own message is the one to read, not a second "I/O error". */
		if (nerrs == 0)
			fprintf(stderr, "%s: %s\n", ctx->config_path, mxf_strerror(err));
		return MXF_EXIT_USAGE;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"help", no_argument, NULL, 'h'},
		{"version", no_argument, NULL, 'V'},
		{"config", required_argument, NULL, 'c'},
		{"verbose", no_argument, NULL, 'v'},
		{"quiet", no_argument, NULL, 'q'},
		{NULL, 0, NULL, 0},
	};
	struct mxf_ctx ctx = {.verbosity = 1};
	const struct command *cmd;
	int ch;

	/*
	 * Keep up to 1 MiB free at the top of the heap instead of glibc's
	 * 128 KiB: ldns allocates 64 KiB scratch buffers for each record it
	 * parses, and with the default each of those grew the heap and
	 * trimmed it again (brk and fresh-page faults were 40% of reading a
	 * 10,000-zone change file).  At most 1 MiB more held, never touched
	 * twice.
	 */
	mallopt(M_TRIM_THRESHOLD, 1 << 20);

	/* "+": stop at the command word; its options are the command's. */
	while ((ch = getopt_long(argc, argv, "+c:vqhV", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			ctx.config_path = optarg;
			ctx.config_path_given = 1;
			break;
		case 'v':
			ctx.verbosity = ctx.verbosity < 1 ? 2 : ctx.verbosity + 1;
			break;
		case 'q':
			ctx.verbosity = 0;
			break;
		case 'h':
			usage(stdout);
			return MXF_EXIT_OK;
		case 'V':
			printf("mxfailover %s\n", MXF_VERSION_STRING);
			return MXF_EXIT_OK;
		default:
			usage(stderr);
			return MXF_EXIT_USAGE;
		}
	}
	argc -= optind;
	argv += optind;
	if (argc == 0) {
		usage(stderr);
		return MXF_EXIT_USAGE;
	}
	log_set_verbosity(ctx.verbosity);
	if (ctx.config_path == NULL)
		ctx.config_path = config_load_path();

	if (strcmp(argv[0], "help") == 0) {
		if (argc == 1) {
			usage(stdout);
			return MXF_EXIT_OK;
		}
		return help_command(argv[1]);
	}
	cmd = command_find(argv[0]);
	if (cmd == NULL) {
		unknown_command("", argv[0]);
		return MXF_EXIT_USAGE;
	}
	/* Reset getopt for the command's own option parsing. */
	optind = 0;
	return cmd->fn(&ctx, argc, argv);
}
