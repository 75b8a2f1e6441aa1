/*
 * config.h -- the configuration model and its loader.
 *
 * Two file formats map onto one model: the native INI format of SPEC.md
 * (sections [general] [dns] [server NAME] [group NAME] [notify] [quorum]) and
 * DNS_Failover's config.cfg ([ZONES] [MX] [RECORDS] [PORTS] [SETTINGS]
 * [MAIL]), recognised by its sections (see seedconf.h).  Loading is pure:
 * it reads the file and reports every problem as FILE:LINE: message in a
 * config_errors list; it never prints, logs or touches the network.
 *
 * Two libraries share this header: mxf_config (config.c: the model, errors,
 * free, lookups), which every layer that reads a configuration links, and
 * mxf_config_load (the readers: config_load_path, config_load and
 * config_load_string below), which only the daemon, the commands, the
 * config tests and the config fuzz target link.
 *
 * All names stored in the model are lower-case and absolute (trailing dot):
 * server names, zones.  Records are owner labels relative to each zone, "@"
 * standing for the apex.
 */
#ifndef MXF_CONFIG_H
#define MXF_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The model's values are read and printed with value.h's parsers. */
#include "value.h"

#define CONFIG_DEFAULT_PATH "/etc/mxfailover/mxfailover.conf"
#define CONFIG_DNSFAILOVER_PATH "/usr/local/etc/dnsfailover/config.cfg"

/* The most words of [notify] exec, the program and its arguments: config_key
 * refuses more, the exec notifier splits with this limit. */
#define CONFIG_NOTIFY_EXEC_ARGS_MAX 32

/* The most monitors a [quorum] lists: config_quorum.c refuses more, the
 * quorum decision sizes its tables with it. */
#define QUORUM_MONITORS_MAX 16

enum config_format { CONFIG_FORMAT_NATIVE, CONFIG_FORMAT_DNSFAILOVER };

enum config_rtype { CONFIG_RTYPE_CNAME, CONFIG_RTYPE_A, CONFIG_RTYPE_AAAA, CONFIG_RTYPE_MX };

enum config_failback { CONFIG_FAILBACK_AUTO, CONFIG_FAILBACK_MANUAL };

struct config_error {
	char *file;
	int line;     /* 0 when the message is about the file as a whole */
	char *msg;
};

struct config_errors {
	struct config_error *v;
	size_t n;
};

struct config_general {
	uint64_t interval_ms;    /* default 10 s */
	uint64_t fastinter_ms;   /* re-check pace of a server in transition
				    (round_pace.h); default interval / 5, at
				    least 500 ms, at most interval */
	uint64_t timeout_ms;     /* default 5 s */
	unsigned fall;           /* default 3 */
	unsigned rise;           /* default 3 */
	char *state_file;        /* default /var/lib/mxfailover/state.json */
	char *lock_file;         /* default: state_file + ".lock" */
	char *log;               /* "syslog", "stderr" or a path; default syslog */
	char **witness;          /* check URLs; may be empty */
	size_t nwitness;
	char *status_listen;     /* host:port or NULL */
	uint64_t audit_interval_ms; /* background audit of the zones; default
				       1 h, 0 = off */
};

struct config_dns {
	char *server;            /* host as written (IPv4/IPv6 literal or name) */
	uint16_t port;           /* default 53 */
	char *key_file;          /* NULL: unsigned updates */
	int line_key_file;       /* where key_file was set, for messages */
	int64_t ttl;             /* -1: keep the record's current TTL */
	uint64_t timeout_ms;     /* whole exchange; default general.timeout */
	uint64_t verify_interval_ms; /* SOA serial read per zone; default 1m */
};

struct config_server {
	char *id;                /* the NAME of [server NAME] */
	int line;                /* line of the section header */
	char *address;           /* IPv4 or IPv6 literal */
	char *name;              /* absolute FQDN, lower-case, trailing dot */
	char **checks;           /* full check URLs, short names expanded */
	size_t nchecks;
	struct config_queue *queue; /* [server] queue: where postqueue -j is read; NULL: none */
};

/* [server] queue = ssh://USER@HOST[:PORT]: the account whose forced
 * command runs `postqueue -j` on this (backup) server. */
struct config_queue {
	char *url;               /* as written, for messages */
	char *user;              /* required: never the daemon's own default */
	char *host;              /* IP literal (no brackets) or domain name */
	uint16_t port;           /* default 22 */
	int line;                /* where it was set */
};

struct config_group {
	char *id;
	int line;
	size_t *servers;         /* indices into config.servers, preference order */
	size_t nservers;
	char **zones;            /* absolute, lower-case, trailing dot */
	size_t nzones;
	bool *zone_records_required; /* [nzones], or NULL for all false: every
				      * record must exist in that zone, and
				      * one that does not is reported
				      * (DNS_Failover's zone1); else an absent
				      * record is simply not managed there */
	char **records;          /* relative owner labels, "@" = apex */
	size_t nrecords;
	enum config_rtype type;
	enum config_failback failback;
	uint64_t hold_down_ms;   /* default 5 min */
	bool etrn;
};

struct config_notify {
	char *mail_to;
	char *mail_from;
	char *smtp_url;          /* NULL with via_active: send through the active server */
	char *smtp_user;
	char *smtp_password_file;
	char *smtp_password;     /* DNS_Failover keeps it inline; never logged */
	bool via_active;         /* DNS_Failover: mail through the surviving server */
	uint16_t via_active_port;
	bool via_active_starttls;
	char *webhook;
	char *exec;              /* program and arguments, as argv_split splits them */
	uint64_t reminder_ms;    /* 0: no reminders */
};

/* [quorum]: several monitors decide together (failover/quorum.h).  Without
 * the section, enabled is false and nothing else is set. */
struct config_quorum {
	bool enabled;            /* a [quorum] section was read */
	int line;                /* line of the section header */
	char *id;                /* this monitor: a DNS label, lower-case;
				    default the host name up to its first dot */
	char **monitors;         /* every monitor of the deployment (id among
				    them), in config order, unique labels */
	size_t nmonitors;
	size_t self;             /* index of id in monitors */
	unsigned need;           /* 1..nmonitors; default nmonitors / 2 + 1 */
	int line_need;           /* where need was set, 0 when defaulted;
				    for messages */
	char *zone;              /* absolute, lower-case, trailing dot; views
				    live at ID._mxfailover.ZONE */
	uint64_t heartbeat_ms;   /* republish an unchanged view; default
				    3 x interval */
	uint64_t stale_ms;       /* a view not seen advancing for this long
				    no longer counts; default 3 x heartbeat */
};

struct config {
	char *path;
	enum config_format format;
	struct config_general general;
	struct config_dns dns;
	struct config_server *servers;
	size_t nservers;
	struct config_group *groups;
	size_t ngroups;
	struct config_notify notify;
	struct config_quorum quorum;
	char *dnsfailover_logfile; /* DNS_Failover's [SETTINGS] logfile, else NULL */
};

/* ---- the readers (mxf_config_load) ---------------------------------------- */

/*
 * config_load_path -- the file to read when no -c was given: $MXFAILOVER_CONFIG,
 * else $DNSFAILOVER_CONFIG, else the native default path if it exists, else
 * DNS_Failover's default path if that exists, else the native default path
 * (so the error names the file a user would create).
 * @return a static or environment string; never NULL.
 */
const char *config_load_path(void);

/*
 * config_load -- read and validate a configuration file of either format.
 * @path   the file.
 * @out    on success, a newly allocated config the caller frees with
 *         config_free(); left NULL on failure.
 * @errs   receives every error found (all of them, not just the first), each
 *         with the file and line; the caller prints them and calls
 *         config_errors_free().
 * @return 0, MXF_ECONFIG when the file had errors, MXF_EIO when it could not
 *         be read (errs says why), MXF_ENOMEM.
 */
int config_load(const char *path, struct config **out, struct config_errors *errs);

/* As config_load, from a string (for tests and fuzzing); @name labels errors. */
int config_load_string(const char *name, const char *text, struct config **out,
		       struct config_errors *errs);

/* ---- the model (mxf_config) ------------------------------------------------ */

/* Free @cfg and everything it holds (the SMTP password is wiped first).
 * NULL is a no-op. */
void config_free(struct config *cfg);

/*
 * config_errors_add -- append "FILE:LINE: message" to @errs.
 * @file   copied (NULL is written "-"); @line 0 for the file as a whole.
 * @return 0 or MXF_ENOMEM.
 */
int config_errors_add(struct config_errors *errs, const char *file, int line,
		      const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* Free every error of @errs and leave it empty (reusable). */
void config_errors_free(struct config_errors *errs);

/*
 * config_warnings -- (config_warn.c) append to @out what is valid in @cfg
 * but protects nothing: a group of one server (nowhere to fail over to), a
 * server in no group (checked, never pointed at); or risks a split: a
 * [quorum] need of half the monitors or fewer.  In line order, each at its
 * section's line (need's for [quorum]; 0 where the format has no lines).
 * @return 0 or MXF_ENOMEM.
 */
int config_warnings(const struct config *cfg, struct config_errors *out);

/* "CNAME" etc., case-insensitive.  @return 0 or MXF_EINVAL. */
int config_parse_rtype(const char *s, enum config_rtype *out);

/* @return "CNAME", "A", "AAAA" or "MX"; "?" for a bad value.  Static. */
const char *config_rtype_name(enum config_rtype t);

/*
 * config_queue_parse -- "ssh://USER@HOST[:PORT]" ([v6] in brackets) into a
 * new config_queue (line 0) the caller frees with config_queue_free().
 * USER is letters, digits, '.', '_', '-' (not starting with '-'), at most
 * 64; nothing may follow the port (no path, no query).
 * @return 0; MXF_EINVAL with @err saying why; MXF_ENOMEM.
 */
int config_queue_parse(const char *s, struct config_queue **out, char *err, size_t errsize);

/* Free @q and its strings; NULL is a no-op. */
void config_queue_free(struct config_queue *q);

/* Index of the server with this id, or -1. */
long config_server_index(const struct config *cfg, const char *id);

#endif
