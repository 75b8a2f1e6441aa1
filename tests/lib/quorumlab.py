"""quorumlab -- several monitors, each in its own network namespace, in front
of one DNS primary and the mail servers (issue 13's system tests).

    with quorumlab.QuorumLab(str(tmp_path), mxf_bin) as lab:
        a = lab.start_monitor("mon-a", extra="[quorum]\\nid = mon-a\\n...")
        lab.kill_mx("mx1")                    # mx1 dies for everybody
        lab.cut("mon-b", "mx1")               # or only mon-b loses mx1
        lab.cut("mon-c", "dns")               # mon-c loses the primary
        lab.wait_points_at(quorumlab.MX2, 30)
        assert len(lab.events("switched")) == 1
        assert lab.updates_done() == 1
    # every monitor, named, mail server, namespace and link is gone

Topology (O is the NetLab's random octet; every address is inside
198.18.0.0/15, RFC 2544's benchmarking range, and exists only in the host's
veth ends and in the namespaces made here):

    host (the test) 198.18.O.1 ---- 198.18.O.2  srv
                                                 lo: dns 198.19.O.241
                                                     mx1 198.19.O.242
                                                     mx2 198.19.O.243 ...
    mon-a 198.19.O.1 ---------------- 198.19.O.2  (a NetLab.join per monitor)
    mon-b 198.19.O.5 ---------------- 198.19.O.6
    mon-c 198.19.O.9 ---------------- 198.19.O.10

  srv     a NetLab site.  named runs inside it on port 53 of the dns address
          and of srv's own address 198.18.O.2, where the test (host
          namespace) queries it with dnspython (QuorumLab.query, .named is
          an mxflab.NamedLab: cname, serial, axfr, counters) and reads its
          statistics channel (port 8053).  The mail servers are
          tests/fakes/fakeserver.py SMTP servers on port 25 of their own
          address, so each can be killed, or cut from one monitor, alone.
  mon-X   a NetLab site each (its own link to the host, unused by the
          daemons, lets the test reach a monitor), joined to srv directly;
          a route for the service addresses (198.19.O.240/28) goes over
          that join.  Monitors never talk to each other but through named.

Cutting one path (cut(monitor, what)):
  how="drop"    a policy rule in srv drops, on arrival, every packet from
                that monitor to that service address: the monitor's
                connections and queries time out, and an UPDATE it sends
                never reaches named -- a cut link.  (A blackhole route in
                the monitor itself would not do: there a local sender gets
                EINVAL at once.)  srv's "lookup local" rule is moved from
                preference 0 to 1000 so that these rules (preference 100)
                come first.
  how="refuse"  an unreachable route in the monitor: connecting fails at
                once (EHOSTUNREACH), as with a link that is down.
  what is a service (dns, mx1, mx2...) or "all".

API (details in each docstring):
  QuorumLab(dir, binary, monitors, zones, view_zone, mail)
      .srv .net .named .key .zones .view_zone .addresses .monitors .mail
      start() close() add_zone(name) write_config(monitor, extra, ...)
      start_monitor(name, extra, config=, **kw) -> Monitor
      stop_monitors() -> {name: (rc, log)}
      cut(monitor, what, how) restore(monitor, what) is_cut(monitor, what)
      kill_mx(name, how) revive_mx(name)
      query(name, rtype) cname(name) records(zone) points_at(target)
      wait_points_at(target, timeout) serial(zone) serials()
      updates_done(zone=None) zone_counters()
      events(event, monitor) wait_events(n, timeout, event, monitor)
      url(service) dns_server
  Monitor  .name .site .address .dir .config .state_path .daemon
      start(extra, config=, **kw) stop() kill9() signal(sig) alive() log()
      finish() state() server_state(server)
      call(argv) mxf(args) probe(service_or_url) query(name, rtype)

Notices: every monitor's [notify] exec is notice.sh (in the lab's
directory; the namespaces share the file system), which appends one
tab-separated line per event to events.log: monitor, event, group, server,
from, to, time, reason.  events() reads them back.

Everything is bounded in time; close() (also at interpreter exit through
NetLab, and from the context manager whatever happened) stops the monitors,
named and the mail servers and removes every namespace and link.  Needs
root and `ip`; unavailable() says why not, for a pytest.skip.
"""

import json
import os
import shutil
import signal
import subprocess
import sys
import urllib.request

import folab
import mxflab
import net
import netlab

MX1, MX2 = mxflab.MX1, mxflab.MX2
RECS = mxflab.MAIL_RECORDS
MONITORS = ("mon-a", "mon-b", "mon-c")
ZONES = ("one.quorum.test.", "two.quorum.test.")
VIEW_ZONE = "views.quorum.test."
KEY_NAME = "k-quorum"
DNS_PORT = 53
STATS_PORT = 8053
SMTP_PORT = 25
SERVICE_BASE = 240            # 198.19.O.240/28: the services on srv's loopback
MAX_MONITORS = 12             # joins use 198.19.O.1-.50 at most, below the services
LAB_NET = "198.18.0.0/15"     # whom named answers: every address of the lab
FAKESERVER = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                          "fakes", "fakeserver.py")
MAIL_LIFETIME = 1800          # seconds a fake mail server lives at most
CUT_PREF = 100                # srv's rules of cut(): before "lookup local"
KILL_PREF = 90                # srv's rules of kill_mx(how="drop")
LOCAL_PREF = 1000

NOTICE_SH = """#!/bin/sh
# quorumlab: one line per notice of monitor $1, tab-separated:
# monitor event group server from to time reason
reason=$(printf '%%s' "$MXF_REASON" | /usr/bin/tr '\\t\\n' '  ')
printf '%%s\\t%%s\\t%%s\\t%%s\\t%%s\\t%%s\\t%%s\\t%%s\\n' "$1" "$MXF_EVENT" "$MXF_GROUP" \\
    "$MXF_SERVER" "$MXF_FROM" "$MXF_TO" "$MXF_TIME" "$reason" >> '%s'
"""
EVENT_FIELDS = ("monitor", "event", "group", "server", "from", "to", "time", "reason")


class Unavailable(OSError):
    """The lab cannot be made here (not root, no `ip`, no named)."""


def unavailable():
    """Why this machine cannot run the lab, or None when it can."""
    if os.geteuid() != 0:
        return "network namespaces need root"
    for tool, path in (("ip", shutil.which("ip")), ("named", mxflab.NAMED),
                       ("dig", shutil.which("dig"))):
        if not path or not os.access(path, os.X_OK):
            return "%s not installed" % tool
    return None


class SrvNamed(mxflab.NamedLab):
    """named inside the site @site: listens on port 53 of @site's address
    (where the test reaches it) and of @listen; answers every lab address."""

    def __init__(self, directory, site, listen=()):
        self.site = site
        self.address = site.address
        super().__init__(directory)
        self.listen_addresses = [site.address] + list(listen)
        self.allowed = [LAB_NET]
        self.extra_options = ["zone-statistics full;"]   # updates_done(zone)

    def _pick_ports(self):
        # The namespace is ours alone: every port is free.
        self.port, self.stats_port = DNS_PORT, STATS_PORT

    def _argv(self, conf):
        return self.site.argv(super()._argv(conf))


class SrvMail:
    """A fake SMTP server (fakeserver.py smtp) on port 25 of @address in
    srv: start() makes its checks pass, stop() kills it (connections are
    refused); start() again listens on the same address and port."""

    def __init__(self, site, name, address, hostname):
        self.site = site
        self.name = name
        self.address = address
        self.hostname = hostname        # mx1.example.com.: what records point at
        self.port = SMTP_PORT
        self.proc = None

    @property
    def url(self):
        return "smtp://%s:%d" % (self.address, self.port)

    @property
    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def start(self):
        if self.running:
            return self
        self.proc, _ = self.site.serve([sys.executable, FAKESERVER, "smtp", "--host",
                                        self.address, "--port", str(self.port),
                                        "--seconds", str(MAIL_LIFETIME)])
        return self

    def stop(self):
        p, self.proc = self.proc, None
        if p is None:
            return
        if p.poll() is None:
            try:
                os.killpg(p.pid, signal.SIGKILL)
            except OSError:
                pass
        try:
            p.wait(5)
        except subprocess.TimeoutExpired:
            pass
        if p.stdout is not None:
            p.stdout.close()


class Monitor:
    """One monitor: a namespace (.site) joined to srv, where `mxfailover
    run` runs with its own directory (.dir: config, state file, log).
    Made by QuorumLab; start() with a config written by the lab."""

    def __init__(self, lab, name, site, address, gateway):
        self.lab = lab
        self.name = name
        self.site = site
        self.address = address          # its end of the join: named sees it as the source
        self.gateway = gateway          # srv's end of the join
        self.dir = os.path.join(lab.dir, name)
        os.makedirs(self.dir, exist_ok=True)
        self.config = os.path.join(self.dir, "mxf.conf")
        self.state_path = os.path.join(self.dir, "state.json")
        self.log_path = os.path.join(self.dir, "daemon.log")
        self.daemon = None

    def __repr__(self):
        return "Monitor(%s %s)" % (self.name, self.address)

    # ---- the daemon ----

    def start(self, extra=None, config=None, **config_kw):
        """Write the config -- @config, a whole config's text, as it is;
        else QuorumLab.write_config with @extra and @config_kw -- unless
        all are left out and one was written already (a restart), then
        start `mxfailover run` inside the namespace.  @return self."""
        if self.alive():
            raise RuntimeError("%s already running" % self.name)
        if config is not None:
            with open(self.config, "w") as f:
                f.write(config)
        elif extra is not None or config_kw or not os.path.exists(self.config):
            self.lab.write_config(self.name, extra or "", **config_kw)
        self.daemon = folab.Daemon(self.lab.binary, self.config, self.log_path,
                                   prefix=self.site.argv([])).start()
        return self

    def alive(self):
        return self.daemon is not None and self.daemon.alive()

    def log(self):
        return self.daemon.log() if self.daemon is not None else ""

    def signal(self, sig):
        if self.daemon is not None:
            self.daemon.signal(sig)

    def kill9(self):
        """SIGKILL: the monitor dies without a word.  @return the exit code."""
        return self.daemon.kill9() if self.daemon is not None else None

    def stop(self, timeout=10.0):
        """SIGTERM, SIGKILL after @timeout.  @return the exit code of the
        SIGTERM, None when it had to be killed (or never ran)."""
        return self.daemon.stop(timeout) if self.daemon is not None else None

    def finish(self, timeout=10.0):
        """stop(@timeout); @return (exit code or None, the whole log)."""
        return self.stop(timeout), self.log()

    def state(self):
        """The state file as the daemon last wrote it, {} when unreadable."""
        try:
            with open(self.state_path) as f:
                return json.load(f)
        except (OSError, ValueError):
            return {}

    def server_state(self, server):
        return self.state().get("servers", {}).get(server, {}).get("state")

    # ---- looking at the network from inside the namespace ----

    def call(self, argv, timeout=30.0):
        return self.site.call(argv, timeout=timeout)

    def mxf(self, args, timeout=30.0):
        """Run `mxfailover ARGS` inside the namespace (sanitizer options
        set).  @return the CompletedProcess."""
        return self.site.call([self.lab.binary] + list(args), timeout=timeout,
                              env=mxflab.sanitizer_env())

    def probe(self, what, timeout="1s"):
        """`mxfailover probe --json` of @what (a service name such as
        "mx1", or a URL) from this monitor.  @return its one result
        ({"state": "up"|"down", "phase", "reason", "ms", ...})."""
        url = self.lab.url(what) if "://" not in what else what
        p = self.mxf(["probe", "--json", "--timeout", timeout, url])
        mark = mxflab.sanitizer_report(p.stderr)
        if mark is not None:
            raise AssertionError("sanitizer report (%s) from probe:\n%s" % (mark, p.stderr))
        try:
            return json.loads(p.stdout)[0]
        except (ValueError, IndexError, KeyError):
            raise AssertionError("probe %s from %s: rc %d, %r %r"
                                 % (url, self.name, p.returncode, p.stdout, p.stderr))

    def query(self, name, rtype="CNAME", timeout=1):
        """Ask named (at the dns address, as the daemon does) from this
        monitor with dig.  @return the answer's values (a list, maybe
        empty), or None when no reply came within @timeout seconds."""
        p = self.site.call(["dig", "@" + self.lab.addresses["dns"], "-p", str(DNS_PORT),
                            "+time=%d" % max(1, int(timeout)), "+tries=1", "+short",
                            mxflab.absname(name), rtype], timeout=timeout + 10)
        if p.returncode != 0:
            return None
        return [ln.strip() for ln in p.stdout.splitlines() if ln.strip()]


class QuorumLab:
    """The lab: srv (named and the mail servers) and the monitors' sites,
    addresses as the module says.  The network is made at construction;
    start() (or entering the context) starts named and the mail servers;
    close() removes everything.

    @directory   an existing directory for named, the monitors' files and
                 the events (the namespaces share the file system)
    @binary      mxfailover (default $MXF_BIN)
    @monitors    names of the monitor sites (short: part of a namespace's name)
    @zones       the zones of the mail group, each with mxflab.mail_records()
    @view_zone   one more zone the key may update, holding no mail
                 records (where the monitors publish their views), or None
    @mail        names of the fake mail servers: mx1, mx2, ... (their DNS
                 names mx1.example.com., ...)
    @raise Unavailable when the machine cannot run it (see unavailable(),
    or the first namespace cannot be made), OSError when a later step
    fails; what was made is removed first either way."""

    def __init__(self, directory, binary=None, monitors=MONITORS, zones=ZONES,
                 view_zone=VIEW_ZONE, mail=("mx1", "mx2")):
        why = unavailable()
        if why is not None:
            raise Unavailable(why)
        if len(monitors) > MAX_MONITORS or len(mail) > 14:
            raise ValueError("at most %d monitors and 14 mail servers" % MAX_MONITORS)
        self.dir = os.path.abspath(directory)
        self.binary = binary or os.environ.get("MXF_BIN")
        self.zones = [mxflab.absname(z) for z in zones]
        self.view_zone = mxflab.absname(view_zone) if view_zone else None
        self.events_path = os.path.join(self.dir, "events.log")
        self.notice_sh = os.path.join(self.dir, "notice.sh")
        self.monitors = {}
        self.mail = {}
        self.cuts = {}                  # (monitor, service) -> how
        self.killed = {}                # mail server -> how
        self.started = False
        self.named = None
        self.net = netlab.NetLab()
        try:
            self._make(monitors, mail)
        except BaseException:
            self.close()
            raise

    def _make(self, monitors, mail):
        o = self.net.octet
        try:
            self.srv = self.net.site("srv")
        except OSError as e:    # no namespaces here (a container without the capability)
            raise Unavailable("cannot make a network namespace: %s" % e) from e
        srv = self.srv
        self.service_net = "198.19.%d.%d/28" % (o, SERVICE_BASE)
        self.addresses = {"dns": "198.19.%d.%d" % (o, SERVICE_BASE + 1)}
        for i, name in enumerate(mail):
            self.addresses[name] = "198.19.%d.%d" % (o, SERVICE_BASE + 2 + i)
        for addr in self.addresses.values():
            srv.ip("addr", "add", addr + "/32", "dev", "lo")
        # cut()'s rules must come before the local table (see the module).
        srv.ip("rule", "add", "pref", LOCAL_PREF, "lookup", "local")
        srv.ip("rule", "del", "pref", 0)
        for name in monitors:
            site = self.net.site(name)
            mine, theirs = self.net.join(site, srv)
            site.ip("route", "add", self.service_net, "via", theirs)
            self.monitors[name] = Monitor(self, name, site, mine, theirs)
        named_dir = os.path.join(self.dir, "named")
        os.makedirs(named_dir, exist_ok=True)
        self.named = SrvNamed(named_dir, srv, listen=[self.addresses["dns"]])
        self.key = self.named.add_key(KEY_NAME, "hmac-sha256")
        for z in self.zones:
            self.named.add_zone(z, update_keys=[self.key])
        if self.view_zone:
            self.named.add_zone(self.view_zone, records=[], update_keys=[self.key])
        for i, name in enumerate(mail):
            host = MX1 if name == "mx1" else MX2 if name == "mx2" else "%s.example.com." % name
            self.mail[name] = SrvMail(srv, name, self.addresses[name], host)
        with open(self.notice_sh, "w") as f:
            f.write(NOTICE_SH % self.events_path)
        os.chmod(self.notice_sh, 0o755)
        open(self.events_path, "a").close()

    @property
    def dns_server(self):
        """[dns] server of the monitors' configs."""
        return "%s:%d" % (self.addresses["dns"], DNS_PORT)

    def url(self, service):
        """The check URL of the mail server @service (smtp://ADDR:25)."""
        return self.mail[service].url

    def add_zone(self, name, records=None):
        """One more zone the lab's key may update (before start())."""
        if self.started:
            raise RuntimeError("add_zone after start")
        return self.named.add_zone(name, records=records, update_keys=[self.key])

    # ---- life cycle ----

    def start(self, timeout=60.0):
        """Start named (until every zone answers) and the mail servers."""
        if self.started:
            return self
        self.started = True
        self.named.start(timeout=timeout)
        for m in self.mail.values():
            m.start()
        return self

    def stop_monitors(self, timeout=10.0):
        """Stop every monitor that ran.  @return {name: (exit code of the
        SIGTERM or None, whole log)}."""
        return {n: m.finish(timeout) for n, m in self.monitors.items()
                if m.daemon is not None}

    def close(self):
        """Stop everything, remove every namespace and link; safe twice."""
        try:
            for m in self.monitors.values():
                try:
                    m.stop(5.0)
                except (OSError, subprocess.SubprocessError):
                    pass
            for m in self.mail.values():
                m.stop()
            if self.named is not None:
                self.named.stop()
        finally:
            self.net.close()

    def __enter__(self):
        try:
            return self.start()
        except BaseException:
            self.close()
            raise

    def __exit__(self, *exc):
        self.close()

    # ---- monitors ----

    def monitor(self, name):
        return self.monitors[name]

    def write_config(self, monitor, extra="", general=None, group=None, dns=None,
                     notify=True, servers=None, zones=None, **kw):
        """Write @monitor's config (folab.write_fo_config): [general] with
        interval 1s, timeout 1s, fall 2, rise 2 and the state file in the
        monitor's directory, then @general; [dns] at the dns address with
        the lab's key, then @dns; one [server] per mail server (default all,
        in order; @servers names a subset) checked by smtp://ADDR:25;
        [group mail] over @zones (default the lab's) and @group; with
        @notify, [notify] exec = notice.sh MONITOR; then @extra verbatim
        (a [quorum] section...).  @kw goes to write_fo_config (rtype,
        records, dns_timeout).  @return the path."""
        m = self.monitors[monitor]
        gen = {"interval": "1s", "timeout": "1s", "fall": "2", "rise": "2"}
        gen.update(general or {})
        srvs = [(n, self.mail[n].address, self.mail[n].hostname, [self.mail[n].url])
                for n in (servers or self.mail)]
        text = ""
        if notify:
            text = "\n[notify]\nexec = %s %s\n" % (self.notice_sh, monitor)
        if extra:
            text += "\n" + extra
            if not text.endswith("\n"):
                text += "\n"
        return folab.write_fo_config(m.config, None, self.key.path, srvs,
                                     zones or self.zones, general=gen, group=group,
                                     dns=dns, dns_server=self.dns_server, extra=text, **kw)

    def start_monitor(self, name, extra="", config=None, **config_kw):
        """write_config(@name, @extra, **@config_kw) -- or write @config, a
        whole config's text -- and start its daemon.  @return the Monitor."""
        return self.monitors[name].start(extra, config=config, **config_kw)

    # ---- faults ----

    def _targets(self, what):
        if what == "all":
            return sorted(self.addresses)
        if what not in self.addresses:
            raise ValueError("cut what: one of %s or all, not %r"
                             % (", ".join(sorted(self.addresses)), what))
        return [what]

    def cut(self, monitor, what, how="drop"):
        """Cut @monitor's path to @what (dns, mx1, ... or all) alone.
        @how "drop": its packets to it vanish (timeouts); "refuse":
        connecting fails at once.  Cutting a path already cut changes
        nothing."""
        m = self.monitors[monitor]
        if how not in ("drop", "refuse"):
            raise ValueError("cut how: drop or refuse, not %r" % (how,))
        for svc in self._targets(what):
            if (monitor, svc) in self.cuts:
                continue
            addr = self.addresses[svc]
            if how == "drop":
                self.srv.ip("rule", "add", "pref", CUT_PREF, "from", m.address + "/32",
                            "to", addr + "/32", "blackhole")
            else:
                m.site.ip("route", "add", "unreachable", addr + "/32")
            self.cuts[(monitor, svc)] = how

    def restore(self, monitor, what="all"):
        """Undo cut(@monitor, @what): the path carries packets again."""
        m = self.monitors[monitor]
        for svc in self._targets(what):
            how = self.cuts.pop((monitor, svc), None)
            addr = self.addresses[svc]
            if how == "drop":
                self.srv.ip("rule", "del", "pref", CUT_PREF, "from", m.address + "/32",
                            "to", addr + "/32", "blackhole")
            elif how == "refuse":
                m.site.ip("route", "del", "unreachable", addr + "/32")

    def is_cut(self, monitor, what):
        return (monitor, what) in self.cuts

    def kill_mx(self, name, how="refuse"):
        """The mail server @name dies for every monitor.  @how "refuse":
        the server stops (connections refused); "drop": it stays up but
        every packet to it is lost (a powered-off host: checks time out)."""
        if name in self.killed:
            return
        if how == "refuse":
            self.mail[name].stop()
        elif how == "drop":
            self.srv.ip("rule", "add", "pref", KILL_PREF, "to",
                        self.addresses[name] + "/32", "blackhole")
        else:
            raise ValueError("kill how: refuse or drop, not %r" % (how,))
        self.killed[name] = how

    def revive_mx(self, name):
        """Undo kill_mx(@name)."""
        how = self.killed.pop(name, None)
        if how == "refuse":
            self.mail[name].start()
        elif how == "drop":
            self.srv.ip("rule", "del", "pref", KILL_PREF, "to",
                        self.addresses[name] + "/32", "blackhole")

    # ---- what named holds, read from the host ----

    def query(self, name, rtype="CNAME"):
        """The sorted values of @name's @rtype record set in named ([] when
        none), asked from the host over srv's link."""
        return self.named.rrset_values(name, rtype)

    def cname(self, name):
        return self.named.cname(name)

    def records(self, zone=None):
        """{owner: CNAME target} of the mail records of @zone (default
        every zone of the group: {zone: {...}})."""
        if zone is None:
            return {z: self.records(z) for z in self.zones}
        return {r: self.cname("%s.%s" % (r, mxflab.absname(zone))) for r in RECS}

    def points_at(self, target, zones=None):
        """Whether every mail record of @zones (default all) is a CNAME to
        @target (MX1, MX2)."""
        return all(v == target for z in (zones or self.zones)
                   for v in self.records(z).values())

    def wait_points_at(self, target, timeout, zones=None):
        """Wait (bounded) until points_at(@target); raise AssertionError
        with the records and the monitors' log tails when it does not."""
        if net.wait_until(lambda: self.points_at(target, zones), timeout, step=0.2):
            return
        logs = "\n".join("--- %s\n%s" % (n, m.log()[-2000:])
                         for n, m in self.monitors.items() if m.daemon is not None)
        raise AssertionError("records not on %s after %.0f s: %r\n%s"
                             % (target, timeout, self.records(), logs))

    def serial(self, zone=None):
        """The SOA serial of @zone (default the first of the group)."""
        return self.named.serial(zone or self.zones[0])

    def updates_done(self, zone=None):
        """named's count of UPDATEs it carried out since it started (UpdateDone
        of the statistics channel): of @zone alone, or of every zone.
        mxfailover follows each UPDATE that changes a zone with a
        prerequisite-only one that checks it (also counted, changing
        nothing): one zone switched is 2 here and 1 in serials()."""
        if zone is None:
            return self.named.stats().get("nsstats", {}).get("UpdateDone", 0)
        return self.zone_counters().get(mxflab.absname(zone), {}).get("UpdateDone", 0)

    def zone_counters(self, timeout=3.0):
        """{zone: named's counters of that zone} (zone-statistics: UpdateDone,
        UpdateFail, UpdateRej, QrySuccess, ...)."""
        url = "http://%s:%d/json/v1/zones" % (self.named.address, self.named.stats_port)
        with urllib.request.urlopen(url, timeout=timeout) as resp:
            doc = json.load(resp)
        out = {}
        for view in doc.get("views", {}).values():
            for z in view.get("zones", []):
                out[mxflab.absname(z["name"])] = z.get("rcodes", {})
        return out

    def serials(self):
        """{zone: SOA serial} of the group's zones (and the view zone): each
        UPDATE that changed a zone moved its serial by one."""
        return {z: self.named.serial(z) for z in self.zones + [self.view_zone] if z}

    # ---- notices ----

    def events(self, event=None, monitor=None):
        """The notices so far, in order, as dicts of EVENT_FIELDS; only
        those of @event and/or @monitor when given."""
        out = []
        try:
            with open(self.events_path, errors="replace") as f:
                lines = f.read().splitlines()
        except OSError:
            return out
        for ln in lines:
            fields = ln.split("\t", len(EVENT_FIELDS) - 1)
            if len(fields) != len(EVENT_FIELDS):
                continue
            e = dict(zip(EVENT_FIELDS, fields))
            if (event is None or e["event"] == event) and \
                    (monitor is None or e["monitor"] == monitor):
                out.append(e)
        return out

    def wait_events(self, n, timeout, event=None, monitor=None):
        """Wait (bounded) until at least @n notices of @event (and
        @monitor) were written.  @return them; raise AssertionError with
        every notice when fewer came."""
        got = net.wait_until(lambda: len(self.events(event, monitor)) >= n, timeout,
                             step=0.1)
        if got:
            return self.events(event, monitor)
        raise AssertionError("fewer than %d notices %s after %.0f s: %r"
                             % (n, event or "", timeout, self.events()))
