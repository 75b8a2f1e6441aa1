"""primaries -- Knot DNS and PowerDNS labs with NamedLab's interface.

mxfailover must work against every major primary, not only BIND.  KnotLab
runs `knotd` (Debian's knot) and PdnsLab `pdns_server` with the gsqlite3
backend (pdns-server + pdns-backend-sqlite3), each in its own temporary
directory, on 127.0.0.1 at a port that was free for UDP and TCP.  Both are
mxflab.NamedLab subclasses: add_key, add_zone, start, stop, running,
query/rrset_values/cname/serial/axfr, log_tail and nsupdate behave the
same, so a test can be parametrized over the three (make_lab).  What they
configure for updates is what PRIMARY SERVERS in man/mxfailover.8 tells an
administrator to set:

  named   update-policy { grant KEY zonesub ANY; }, or name-scoped grants
          (add_zone update_names/update_types); allow-update by address
  knotd   an acl with the key (or address) and action update, limited to
          the mail record types and to owners inside the zone (or to the
          update_names: update-owner name); AXFR allowed from loopback
  pdns    dnsupdate=yes, allow-dnsupdate-from (loopback), and per zone the
          TSIG-ALLOW-DNSUPDATE metadata (keys imported with pdnsutil
          import-tsig-key); without that metadata PowerDNS accepts unsigned
          updates from any allowed address, so the TSIG tests would prove
          nothing.  An address-only zone gets ALLOW-DNSUPDATE-FROM.

Debian's packages start their own service at install time unless
policy-rc.d forbids it (./dev does); these labs never use the packaged
configuration or ports.  Every wait is bounded (NamedLab's start/stop).
"""

import concurrent.futures
import os
import shutil
import sqlite3
import subprocess

import mxflab

KNOTD = shutil.which("knotd") or "/usr/sbin/knotd"
KNOTC = shutil.which("knotc") or "/usr/sbin/knotc"
PDNS_SERVER = shutil.which("pdns_server") or "/usr/sbin/pdns_server"
PDNSUTIL = shutil.which("pdnsutil") or "/usr/bin/pdnsutil"
# Not the copy under /usr/share/doc, which minimal images leave out.
PDNS_SCHEMA = "/usr/share/pdns-backend-sqlite3/schema/schema.sqlite3.sql"

KINDS = ("named", "knot", "pdns")
PDNSUTIL_JOBS = 4

# The record types an update of mail DNS touches: Knot's acl allows only
# these (update-type), as the man page recommends.
UPDATE_TYPES = ("CNAME", "MX", "A", "AAAA", "TXT")


def _quote(s):
    return '"%s"' % s


class KnotLab(mxflab.NamedLab):
    """One knotd on 127.0.0.1 in @directory.  Keys and zones as NamedLab;
    updates are allowed by acl (key + action update), control through
    knotc on a socket in the directory."""

    kind = "knot"
    program = "knotd"

    def _write_conf(self):
        d = self.dir
        os.makedirs(os.path.join(d, "db"), exist_ok=True)
        os.makedirs(os.path.join(d, "zones"), exist_ok=True)
        lines = [
            "server:",
            "    rundir: %s" % _quote(d),
            "    listen: 127.0.0.1@%d" % self.port,
            "    udp-workers: %d" % self.workers,
            "    tcp-workers: %d" % self.workers,
            "    background-workers: 1",
            "database:",
            "    storage: %s" % _quote(os.path.join(d, "db")),
            "control:",
            "    listen: %s" % _quote(os.path.join(d, "knot.sock")),
            "log:",
            "  - target: stderr",
            "    any: info",
        ]
        if self.keys:
            lines.append("key:")
            for k in self.keys.values():
                lines += ["  - id: %s" % k.name,
                          "    algorithm: %s" % k.algorithm,
                          "    secret: %s" % k.secret]
        # id -> the acl's lines after "- id:"; AXFR from loopback, as
        # NamedLab allows it (axfr() reads whole zones).
        acls = {"transfer-local": ["    address: 127.0.0.1",
                                   "    action: transfer"]}
        zone_acl = {}
        for z in self.zones.values():
            ids = ["transfer-local"]
            for k in z.update_keys:
                if z.update_names:
                    # Only these owners, only these types: a name-scoped grant.
                    aid = "update-%s-%s" % (k.name, z.name.rstrip("."))
                    acls[aid] = [
                        "    key: %s" % k.name,
                        "    action: update",
                        "    update-type: [%s]" % ", ".join(
                            z.update_types or UPDATE_TYPES),
                        "    update-owner: name",
                        "    update-owner-match: equal",
                        "    update-owner-name: [%s]" % ", ".join(z.update_names)]
                else:
                    aid = "update-" + k.name
                    acls[aid] = [
                        "    key: %s" % k.name,
                        "    action: update",
                        "    update-type: [%s]" % ", ".join(UPDATE_TYPES),
                        "    update-owner: zone"]
                ids.append(aid)
            if not z.update_keys:
                for a in z.update_addresses:
                    aid = "update-addr-" + a.replace(".", "-").replace(":", "-")
                    acls[aid] = ["    address: %s" % a, "    action: update"]
                    ids.append(aid)
            zone_acl[z.name] = ids
        lines.append("acl:")
        for aid, body in acls.items():
            lines += ["  - id: %s" % aid] + body
        lines += [
            "template:",
            "  - id: default",
            "    storage: %s" % _quote(os.path.join(d, "zones")),
            '    file: "%s.zone"',
            # Updates live in the journal; the zone file stays as written.
            "    zonefile-sync: -1",
            "zone:",
        ]
        for z in self.zones.values():
            path = os.path.join(d, "zones", z.name.rstrip(".") + ".zone")
            with open(path, "w") as f:
                f.write(z.file_text())
            lines.append("  - domain: %s" % z.name)
            lines.append("    acl: [%s]" % ", ".join(zone_acl[z.name]))
        # The journal of an earlier start would replay old updates.
        shutil.rmtree(os.path.join(d, "db"), ignore_errors=True)
        os.makedirs(os.path.join(d, "db"))
        conf = os.path.join(d, "knot.conf")
        with open(conf, "w") as f:
            f.write("\n".join(lines) + "\n")
        return conf

    def _argv(self, conf):
        return [KNOTD, "-c", conf]

    def knotc(self, *args, timeout=10.0):
        """Run knotc against this server's control socket."""
        return subprocess.run([KNOTC, "-c", os.path.join(self.dir, "knot.conf")]
                              + list(args), capture_output=True, text=True,
                              timeout=timeout)

    def stats(self, timeout=3.0):
        raise NotImplementedError("named's statistics channel only")


class PdnsLab(mxflab.NamedLab):
    """One pdns_server (gsqlite3) on 127.0.0.1 in @directory.  Zones are
    loaded, keys imported and metadata set with pdnsutil before start."""

    kind = "pdns"
    program = "pdns_server"

    # SOA-EDIT-DNSUPDATE's default (DEFAULT) first moves a serial below
    # today's YYYYMMDD01 up to that; zones start above any such date, so
    # every update adds one, as with named and Knot, and the tests can
    # count UPDATE messages by the serial.
    FIRST_SERIAL = 2100000000

    def add_zone(self, name, records=None, update_keys=(),
                 update_addresses=(), serial=None, **kw):
        return super().add_zone(
            name, records, update_keys, update_addresses,
            self.FIRST_SERIAL if serial is None else serial, **kw)

    def _conf_text(self):
        d = self.dir
        return "\n".join([
            "launch=gsqlite3",
            "gsqlite3-database=%s" % os.path.join(d, "pdns.sqlite3"),
            "gsqlite3-pragma-synchronous=0",
            "local-address=127.0.0.1",
            "local-port=%d" % (self.port or 0),
            # RFC 2136 is off by default; allow-dnsupdate-from is the first
            # gate (its default already is 127.0.0.0/8,::1), the zone's
            # TSIG-ALLOW-DNSUPDATE the second.
            "dnsupdate=yes",
            "allow-dnsupdate-from=127.0.0.0/8",
            # The caches stay on (defaults): PowerDNS purges a zone's
            # entries after an update, and the read-back must see that.
            "socket-dir=%s" % d,
            "guardian=no",
            "daemon=no",
            "disable-syslog=yes",
            "write-pid=no",
            "webserver=no",
            "api=no",
            "loglevel=5",
            "receiver-threads=1",
            "distributor-threads=%d" % self.workers,
            "",
        ])

    def _pdnsutil(self, *args, timeout=30.0):
        p = subprocess.run([PDNSUTIL, "--config-dir=%s" % self.dir] + list(args),
                           capture_output=True, text=True, timeout=timeout)
        if p.returncode != 0:
            raise mxflab.LabError("pdnsutil %s failed: %s%s"
                                  % (" ".join(args), p.stdout, p.stderr))
        return p.stdout

    def _build_db(self):
        """A fresh sqlite database, filled with pdnsutil."""
        db = os.path.join(self.dir, "pdns.sqlite3")
        for suffix in ("", "-journal", "-wal", "-shm"):
            try:
                os.unlink(db + suffix)
            except FileNotFoundError:
                pass
        with open(PDNS_SCHEMA) as f:
            schema = f.read()
        c = sqlite3.connect(db)
        try:
            c.executescript(schema)
            c.commit()
        finally:
            c.close()
        for k in self.keys.values():
            self._pdnsutil("import-tsig-key", k.name, k.algorithm, k.secret)
        zdir = os.path.join(self.dir, "zones")
        os.makedirs(zdir, exist_ok=True)

        def load(z):
            path = os.path.join(zdir, z.name + "zone")
            with open(path, "w") as f:
                f.write(z.file_text())
            self._pdnsutil("load-zone", z.name, path)
            if z.update_keys:
                self._pdnsutil("set-meta", z.name, "TSIG-ALLOW-DNSUPDATE",
                               *[k.name for k in z.update_keys])
            elif z.update_addresses:
                self._pdnsutil("set-meta", z.name, "ALLOW-DNSUPDATE-FROM",
                               *z.update_addresses)

        # A pdnsutil run costs ~60 ms, mostly start-up: a few at a time
        # (sqlite serializes the writes; pdns waits on a busy database).
        with concurrent.futures.ThreadPoolExecutor(PDNSUTIL_JOBS) as pool:
            for f in [pool.submit(load, z) for z in self.zones.values()]:
                f.result()
        self._built = True

    def _write_conf(self):
        conf = os.path.join(self.dir, "pdns.conf")
        with open(conf, "w") as f:
            f.write(self._conf_text())
        if not getattr(self, "_built", False):
            self._build_db()
        return conf

    def _argv(self, conf):
        return [PDNS_SERVER, "--config-dir=%s" % self.dir]

    def stop(self, timeout=10.0):
        super().stop(timeout)
        self._built = False       # a new start begins from the zone files

    def stats(self, timeout=3.0):
        raise NotImplementedError("named's statistics channel only")


LABS = {"named": mxflab.NamedLab, "knot": KnotLab, "pdns": PdnsLab}


def make_lab(kind, directory, **kw):
    """A lab of @kind ("named", "knot", "pdns") in @directory, not started."""
    return LABS[kind](directory, **kw)
