"""auditlab -- the lab `mxfailover audit` is tested against.

Two real `named` on port 53 of loopback addresses in two different /24s of
127/8 (picked at random and checked free, so parallel labs do not meet):

  primary   P  (127.a.b.x)   every lab zone, recursion off; the audit's
                             resolver (authoritative for everything here)
            P2 (127.a.b.x+1) the same named, view "open": recursion on
                             (the planted ns-open-recursion), same zones
  lagging   L  (127.c.d.y)   an older copy of bad.test (older serial,
                             other NS and MX sets) and an equal copy of
                             good.test, recursion off
            L2 (127.c.d.y+1) the same named, a view with no zones: REFUSED
                             (the planted ns-not-authoritative)
  U  (127.a.b.z)  a UDP-only relay to P written here (ns-no-tcp)
  X  (127.a.b.w)  nothing listens (ns-unreachable)

Zones (all on P; the reverse zone 127.in-addr.arpa holds the PTRs):
  good.test     the clean mail domain: NS on P and L, MX 10 mx1 / 20 mx2
                with matching PTRs, one TTL, sane SOA timers, SPF, DMARC
  bad.test      every MX/PTR/NS finding that can be planted on loopback
                (PLANTED lists them)
  lone.test     no MX (mx-missing), a single NS (ns-single); it also holds
                nsalias.lone.test, a CNAME bad.test uses as an NS target
                (ns-target-cname: named refuses an in-zone NS alias)
  samenet.test  NS on P and P2, one /24 (ns-same-network), one MX (mx-single)

Extending it (A2/A3): AuditLab(dir, extra={"good.test": "name TTL IN TYPE
VALUE\n..."}, extra_ptr={"127.x.y.z": "name."}, zones={"new.test": "zone
text without SOA/NS"}, zone_options={"good.test": "allow-update {...};"},
extra_conf="key ... { };", good_mx=["127.a.b.c", "127.a.b.d"],
clean_policy=False) -- see __init__.  Loopback is private: audits of the
lab pass --allow-private 127.0.0.0/8 (self.allow_private).

Usage:
    with AuditLab(tmpdir) as lab:
        run(["audit", "--resolver", lab.resolver] + lab.allow_args + ["good.test"])
Every wait is bounded; nothing here touches a non-loopback address.
"""

import atexit
import os
import random
import shutil
import signal
import socket
import subprocess
import threading
import time

import dns.exception
import dns.message
import dns.query
import dns.rcode

NAMED = shutil.which("named") or "/usr/sbin/named"

GOOD = "good.test"
BAD = "bad.test"
LONE = "lone.test"
SAMENET = "samenet.test"

# The ids bad.test (and the two small zones) are built to produce with
# --no-smtp (A1's part: MX, reverse DNS, name servers).
PLANTED = {
    BAD: ["mx-null-mixed", "mx-target-cname", "mx-target-ip", "mx-target-no-address",
          "mx-target-private", "mx-duplicate", "mx-ttl-unequal", "mx-inconsistent",
          "ptr-missing", "ptr-mismatch", "ns-unreachable", "ns-no-tcp",
          "ns-not-authoritative", "ns-serial-mismatch", "ns-set-mismatch",
          "ns-target-cname", "soa-timers", "ns-open-recursion", "ns-open-axfr"],
    LONE: ["mx-missing", "ns-single"],
    SAMENET: ["ns-same-network", "mx-single", "ns-open-recursion"],  # ns3 is P2
}

GOOD_SERIAL = 2026120201
BAD_SERIAL = 2026120202
BAD_LAGGING_SERIAL = 2026120201

PRIVATE_MX = "10.255.0.25"  # mx-target-private: never connected to by the lab


class AuditLabError(Exception):
    pass


def _bindable(addr):
    """Whether UDP and TCP port 53 on @addr are free right now."""
    socks = []
    try:
        for kind in (socket.SOCK_DGRAM, socket.SOCK_STREAM):
            s = socket.socket(socket.AF_INET, kind)
            socks.append(s)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind((addr, 53))
        return True
    except OSError:
        return False
    finally:
        for s in socks:
            s.close()


IP = shutil.which("ip") or "/usr/sbin/ip"

# Addresses this process added to lo, removed by release_block() (and at exit).
_added = set()


def _add(addr):
    p = subprocess.run([IP, "addr", "add", addr + "/32", "dev", "lo"],
                       capture_output=True, text=True, timeout=10)
    if p.returncode == 0:
        _added.add(addr)
        return True
    return False


def release_block(addrs):
    for a in addrs:
        if a in _added:
            subprocess.run([IP, "addr", "del", a + "/32", "dev", "lo"],
                           capture_output=True, timeout=10)
            _added.discard(a)


@atexit.register
def _release_all():
    release_block(list(_added))


def pick_block(count, rng=random, avoid=()):
    """@count consecutive addresses 127.a.b.x.. in one random /24 (a not 0:
    127.0.0.N is labserver.LoopbackAddress's), each added to lo (named
    listens only on an interface's addresses; `ip addr add` failing on an
    address that exists is what keeps two labs apart) and free on port 53.
    @return the addresses; release_block() gives them back.
    @raise AuditLabError."""
    if os.geteuid() != 0:
        raise AuditLabError("the audit lab needs root (ip addr add, port 53)")
    for _ in range(100):
        a, b = rng.randint(32, 250), rng.randint(1, 254)
        if (a, b) in avoid:
            continue
        x = rng.randint(10, 240 - count)
        addrs = ["127.%d.%d.%d" % (a, b, x + i) for i in range(count)]
        got = []
        for ad in addrs:
            if not _add(ad):
                break
            got.append(ad)
        if len(got) == count and all(_bindable(ad) for ad in addrs):
            return addrs
        release_block(got)
    raise AuditLabError("no free loopback /24 found")


def reverse_name(addr):
    return ".".join(reversed(addr.split("."))) + ".in-addr.arpa."


class UdpRelay:
    """A DNS server on @addr:53 over UDP only: each datagram is passed to
    @upstream and the answer back (a name server without TCP)."""

    def __init__(self, addr, upstream):
        self.addr, self.upstream = addr, upstream
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((addr, 53))
        self.sock.settimeout(0.2)
        self.stop_ev = threading.Event()
        self.thread = threading.Thread(target=self._loop, daemon=True)
        self.thread.start()

    def _loop(self):
        while not self.stop_ev.is_set():
            try:
                data, peer = self.sock.recvfrom(65535)
            except socket.timeout:
                continue
            except OSError:
                return
            up = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            up.settimeout(2.0)
            try:
                up.sendto(data, (self.upstream, 53))
                reply, _ = up.recvfrom(65535)
                self.sock.sendto(reply, peer)
            except OSError:
                pass
            finally:
                up.close()

    def close(self):
        self.stop_ev.set()
        self.thread.join(5)
        self.sock.close()


class Named:
    """One named -g in @directory with @conf_body (everything after options)."""

    def __init__(self, directory, listen, conf_body, extra_options=""):
        self.dir = directory
        os.makedirs(directory, exist_ok=True)
        self.listen = listen
        self.conf_body = conf_body
        self.extra_options = extra_options
        self.proc = None
        self.log_path = os.path.join(directory, "named.log")

    def write(self):
        d = self.dir
        conf = ("options {\n"
                '\tdirectory "%s";\n' % d +
                '\tpid-file "%s";\n' % os.path.join(d, "named.pid") +
                '\tsession-keyfile "%s";\n' % os.path.join(d, "session.key") +
                '\tmanaged-keys-directory "%s";\n' % d +
                "\tlisten-on port 53 { %s; };\n" % "; ".join(self.listen) +
                "\tlisten-on-v6 { none; };\n"
                "\trecursion no;\n"
                "\tdnssec-validation no;\n"
                "\tnotify no;\n"
                "\tallow-transfer { none; };\n"
                "\tcheck-names primary ignore;\n"
                "\tcheck-integrity no;\n"
                "\tminimal-responses no;\n" + self.extra_options +
                "};\ncontrols { };\n" + self.conf_body)
        path = os.path.join(d, "named.conf")
        with open(path, "w") as f:
            f.write(conf)
        return path

    def start(self):
        conf = self.write()
        logf = open(self.log_path, "ab")
        try:
            self.proc = subprocess.Popen([NAMED, "-g", "-c", conf, "-n", "1"],
                                         stdin=subprocess.DEVNULL, stdout=logf,
                                         stderr=logf, cwd=self.dir, start_new_session=True)
        finally:
            logf.close()

    def tail(self, n=30):
        try:
            with open(self.log_path, errors="replace") as f:
                return "".join(f.readlines()[-n:])
        except OSError:
            return ""

    def reload(self):
        """rndc is off (controls {}): SIGHUP reloads the zone files."""
        if self.proc is not None and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGHUP)

    def stop(self, timeout=10.0):
        p, self.proc = self.proc, None
        if p is None:
            return
        if p.poll() is None:
            try:
                os.killpg(p.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                p.wait(timeout)
            except subprocess.TimeoutExpired:
                try:
                    os.killpg(p.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                p.wait(5)


class AuditLab:
    """The audit lab in @directory (created if needed).

    @extra         {zone: text} records appended to that zone on the primary
                   (and to the lagging copy of good.test, which must stay equal)
    @extra_ptr     {address: "name."} more PTRs in 127.in-addr.arpa
    @zones         {zone: text} more zones on the primary (SOA and NS on P and L
                   are written for you; text is the rest, relative names allowed)
    @zone_options  {zone: "named zone options;"} (allow-update, update-policy...)
    @extra_conf    text appended to the primary's named.conf (keys, ...); keys
                   must be before the views: it is placed at the top level
    @good_mx       two addresses for mx1/mx2.good.test (default: allocated here)
    @clean_policy  the clean domain publishes SPF (v=spf1 mx -all) and DMARC p=reject
    """

    def __init__(self, directory, extra=None, extra_ptr=None, zones=None, zone_options=None,
                 extra_conf="", good_mx=None, clean_policy=True, rng=None):
        self.dir = directory
        os.makedirs(directory, exist_ok=True)
        rng = rng or random.Random()
        a_block = pick_block(12, rng)
        b_block = pick_block(2, rng, avoid={tuple(int(x) for x in a_block[0].split(".")[1:3])})
        self.blocks = a_block + b_block
        self.primary, self.primary_open = a_block[0], a_block[1]
        self.udp_only, self.unreachable = a_block[2], a_block[3]
        self.lagging, self.lagging_empty = b_block[0], b_block[1]
        spare = a_block[4:]
        self.good_mx = list(good_mx) if good_mx else spare[0:2]
        (self.bad_mx1, self.bad_dup, self.bad_noptr, self.bad_badptr,
         self.bad_elsewhere, self.samenet_mx) = spare[2:8]
        self.extra = dict(extra or {})
        self.extra_ptr = dict(extra_ptr or {})
        self.more_zones = dict(zones or {})
        self.zone_options = dict(zone_options or {})
        self.extra_conf = extra_conf
        self.clean_policy = clean_policy
        self.resolver = self.primary
        self.allow_private = "127.0.0.0/8"
        self.allow_args = ["--allow-private", self.allow_private]
        self.p = None
        self.l = None
        self.relay = None

    # ---- zone texts ----

    def _soa(self, zone, serial, timers="3600 900 1209600 300"):
        return ("$ORIGIN %s.\n$TTL 300\n@ IN SOA ns1.%s. hostmaster.%s. %d %s\n"
                % (zone, zone, zone, serial, timers))

    def good_text(self):
        t = self._soa(GOOD, GOOD_SERIAL)
        t += ("@ NS ns1\n@ NS ns2\n"
              "@ MX 10 mx1\n@ MX 20 mx2\n"
              "ns1 A %s\nns2 A %s\nmx1 A %s\nmx2 A %s\n"
              % (self.primary, self.lagging, self.good_mx[0], self.good_mx[1]))
        if self.clean_policy:
            t += ('@ TXT "v=spf1 mx -all"\n'
                  '_dmarc TXT "v=DMARC1; p=reject; rua=mailto:dmarc@good.test"\n')
        return t + self.extra.get(GOOD, "") + "\n"

    def bad_text(self, lagging=False):
        t = self._soa(BAD, BAD_LAGGING_SERIAL if lagging else BAD_SERIAL,
                      "60 600 86400 10")
        ns = ["ns1", "ns2", "ns3", "ns4", "ns5", "nsalias.lone.test."] + ([] if lagging else ["ns6"])
        t += "".join("@ NS %s\n" % n for n in ns)
        t += ("@ MX 0 .\n"
              "@ MX 10 mx1\n"
              "@ MX 20 alias\n"
              "@ MX 30 192.0.2.25.\n"
              "@ MX 40 noaddr\n"
              "@ MX 50 private\n"
              "@ MX 60 dup\n"
              "@ MX 70 dup\n"
              "@ MX 80 noptr\n")
        if not lagging:
            t += "@ MX 90 badptr\n"
        t += ("mx1 60 A %s\n" % self.bad_mx1 +
              "alias CNAME mx1\n"
              "noaddr TXT \"no address here\"\n"
              "private A %s\n" % PRIVATE_MX +
              "dup A %s\n" % self.bad_dup +
              "noptr A %s\n" % self.bad_noptr +
              "badptr A %s\n" % self.bad_badptr +
              "elsewhere A %s\n" % self.bad_elsewhere +
              "ns1 A %s\nns2 A %s\nns3 A %s\nns4 A %s\nns5 A %s\nns6 A %s\n"
              % (self.primary, self.lagging, self.primary_open, self.udp_only,
                 self.unreachable, self.lagging_empty) +
              "")
        if not lagging:
            t += self.extra.get(BAD, "")
        return t + "\n"

    def lone_text(self):
        t = self._soa(LONE, 1)
        # nsalias is bad.test's alias NS (ns-target-cname); named refuses an
        # in-zone NS that is a CNAME, not one in another zone.
        t += ("@ NS ns1\nns1 A %s\n@ A %s\nnsalias CNAME ns1\n"
              % (self.primary, self.good_mx[0]))
        return t + self.extra.get(LONE, "") + "\n"

    def samenet_text(self):
        t = self._soa(SAMENET, 1)
        t += ("@ NS ns1\n@ NS ns3\nns1 A %s\nns3 A %s\n@ MX 10 mx1\nmx1 A %s\n"
              % (self.primary, self.primary_open, self.samenet_mx))
        return t + self.extra.get(SAMENET, "") + "\n"

    def reverse_text(self):
        t = ("$ORIGIN 127.in-addr.arpa.\n$TTL 300\n"
             "@ IN SOA ns1.good.test. hostmaster.good.test. 1 3600 900 1209600 300\n"
             "@ NS ns1.good.test.\n")
        ptr = {self.good_mx[0]: "mx1.good.test.", self.good_mx[1]: "mx2.good.test.",
               self.bad_mx1: "mx1.bad.test.", self.bad_dup: "dup.bad.test.",
               self.bad_badptr: "elsewhere.bad.test.",
               self.bad_elsewhere: "elsewhere.bad.test.",
               self.samenet_mx: "mx1.samenet.test."}
        ptr.update(self.extra_ptr)
        for addr, name in ptr.items():
            if addr.startswith("127."):
                t += "%s PTR %s\n" % (reverse_name(addr), name)
        return t

    def more_text(self, zone, body):
        return self._soa(zone, 1) + ("@ NS ns1.%s.\n@ NS ns2.%s.\nns1 A %s\nns2 A %s\n"
                                     % (zone, zone, self.primary, self.lagging)) + body + "\n"

    # ---- named ----

    def zone_texts(self):
        z = {GOOD: self.good_text(), BAD: self.bad_text(), LONE: self.lone_text(),
             SAMENET: self.samenet_text(), "127.in-addr.arpa": self.reverse_text()}
        for name, body in self.more_zones.items():
            z[name] = self.more_text(name, body)
        return z

    def _zone_clause(self, directory, zone, text, extra=""):
        path = os.path.join(directory, zone + ".db")
        with open(path, "w") as f:
            f.write(text)
        try:
            os.unlink(path + ".jnl")
        except FileNotFoundError:
            pass
        return ('\tzone "%s" {\n\t\ttype primary;\n\t\tfile "%s";\n%s%s\t};\n'
                % (zone, path, extra, self.zone_options.get(zone, "")))

    def _primary_conf(self, d):
        main = []
        for zone, text in self.zone_texts().items():
            extra = "\t\tallow-transfer { any; };\n" if zone == BAD else ""
            main.append(self._zone_clause(d, zone, text, extra))
        shared = "".join('\tzone "%s" { in-view "main"; };\n' % z
                         for z in self.zone_texts())
        # in-view needs the view it names defined first, so "main" matches
        # by destination too and comes first.
        return (self.extra_conf + "\n" +
                'view "main" {\n\tmatch-destinations { %s; };\n' % self.primary +
                "".join(main) + "};\n" +
                'view "open" {\n\tmatch-destinations { %s; };\n' % self.primary_open +
                "\trecursion yes;\n\tallow-recursion { any; };\n" + shared + "};\n")

    def _lagging_conf(self, d):
        zones = (self._zone_clause(d, GOOD, self.good_text()) +
                 self._zone_clause(d, BAD, self.bad_text(lagging=True)))
        for name in self.more_zones:
            zones += self._zone_clause(d, name, self.more_text(name, self.more_zones[name]))
        return ('view "empty" {\n\tmatch-destinations { %s; };\n};\n' % self.lagging_empty +
                'view "lagging" {\n\tmatch-clients { any; };\n' + zones + "};\n")

    def start(self, timeout=30.0):
        pd, ld = os.path.join(self.dir, "primary"), os.path.join(self.dir, "lagging")
        os.makedirs(pd, exist_ok=True)
        os.makedirs(ld, exist_ok=True)
        self.p = Named(pd, [self.primary, self.primary_open], self._primary_conf(pd))
        self.l = Named(ld, [self.lagging, self.lagging_empty], self._lagging_conf(ld))
        try:
            self.p.start()
            self.l.start()
            self._wait(self.primary, list(self.zone_texts()), timeout)
            self._wait(self.lagging, [GOOD, BAD], timeout)
            self._wait(self.primary_open, [BAD], timeout)
            self.relay = UdpRelay(self.udp_only, self.primary)
        except BaseException:
            self.stop()
            raise
        return self

    def _wait(self, addr, zones, timeout):
        deadline = time.monotonic() + timeout
        pending = list(zones)
        while pending and time.monotonic() < deadline:
            for proc in (self.p, self.l):
                if proc.proc is not None and proc.proc.poll() is not None:
                    raise AuditLabError("named exited:\n" + proc.tail())
            still = []
            for z in pending:
                try:
                    r = dns.query.udp(dns.message.make_query(z, "SOA"), addr, timeout=0.5)
                    if r.rcode() != dns.rcode.NOERROR or not r.answer:
                        still.append(z)
                except (OSError, dns.exception.DNSException):
                    still.append(z)
            pending = still
            if pending:
                time.sleep(0.05)
        if pending:
            raise AuditLabError("zones %s not served at %s; logs:\n%s\n%s"
                                % (pending, addr, self.p.tail(), self.l.tail()))

    def stop(self):
        if self.relay is not None:
            self.relay.close()
            self.relay = None
        for n in (self.p, self.l):
            if n is not None:
                n.stop()
        release_block(self.blocks)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    # ---- looking at the lab (never through mxfailover) ----

    def serial(self, zone, addr=None):
        r = dns.query.udp(dns.message.make_query(zone, "SOA"), addr or self.primary,
                          timeout=2.0)
        for rr in r.answer:
            for rd in rr:
                return rd.serial
        return None

    def serials(self):
        """{(server, zone): serial} of every zone on both servers."""
        out = {}
        for z in self.zone_texts():
            out[(self.primary, z)] = self.serial(z)
        for z in [GOOD, BAD] + list(self.more_zones):
            out[(self.lagging, z)] = self.serial(z, self.lagging)
        return out
