/*
 * seedconf.h -- DNS_Failover's config.cfg mapped onto mxfailover's model.
 *
 * DNS_Failover (the Python program mxfailover replaces) reads an INI file
 * with sections [ZONES] [MX] [RECORDS] [PORTS] [SETTINGS] [MAIL].  It is read
 * unchanged and becomes: two servers mx1 and mx2 (mxip1/mxip2, names mx1/mx2)
 * with DNS_Failover's checks (TCP connects to the smtp, imaps, https and
 * mysql ports; over SSH as `user` on port1/port2 the MySQL socket, the disk
 * usage of `partition` against `space_limit`, and HD_fsck.sh), one group
 * "mail" over zone1 and zone2 with the five records as CNAMEs (each must
 * exist in zone1: zone_records_required; in zone2 those that exist are
 * switched), failback auto,
 * no hold-down, fall = rise = 1 (DNS_Failover acts on the first failure);
 * [dns] server = ns port 53 with no key (allow-update by address), ttl; mail
 * through the surviving server with the [MAIL] settings; the log to
 * `logfile` in DNS_Failover's line format.
 */
#ifndef MXF_SEEDCONF_H
#define MXF_SEEDCONF_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"

/* Where DNS_Failover's checks expect the MySQL socket and the fsck script. */
#define SEEDCONF_MYSQL_SOCKET "/var/run/mysqld/mysqld.sock"
#define SEEDCONF_FSCK_SCRIPT "/usr/local/bin/HD_fsck.sh"

/* @return whether @name is one of DNS_Failover's section names (ZONES ...). */
bool seedconf_is_section(const char *name);

/*
 * seedconf_detect -- whether @text (@len bytes) is a DNS_Failover config.cfg:
 * it has a section of DNS_Failover's and none of any other name.
 */
bool seedconf_detect(const char *text, size_t len);

/*
 * seedconf_load -- parse DNS_Failover's config.cfg text into @cfg (already
 * allocated and defaulted by the caller).
 * @name  file name for messages.
 * @errs  receives FILE:LINE errors: a missing key is reported at its
 *        section's header line, a missing section at line 0.
 * @return 0 (check errs->n for errors), or MXF_ENOMEM.
 */
int seedconf_load(const char *name, const char *text, size_t len, struct config *cfg,
		  struct config_errors *errs);

#endif
