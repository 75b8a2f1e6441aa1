"""mxflab -- a throw-away BIND lab on loopback for mxfailover's tests.

One NamedLab is one `named` process in its own temporary directory, listening
only on 127.0.0.1 at a port that was free for both UDP and TCP, with TSIG keys
made by `tsig-keygen` and zones that accept dynamic updates either by key or
by source address.  The system tests, the benchmark (bench/dns_update) and
later the demo import this module; it depends on the Python standard library,
dnspython and BIND's own tools only.

Usage:

    lab = NamedLab(tmpdir)
    key = lab.add_key("k-sha256", "hmac-sha256")
    lab.add_zone("a.test", update_keys=[key])
    lab.add_zone("open.test", update_addresses=["127.0.0.1"])
    lab.start()            # returns once named answers, or raises LabError
    ...
    lab.stop()             # SIGTERM, then SIGKILL after a bound

Every wait here is bounded in time; nothing here touches a non-loopback
address.
"""

import contextlib
import json
import os
import re
import shutil
import signal
import subprocess
import time
import urllib.request

import dns.exception
import dns.flags
import dns.message
import dns.name
import dns.query
import dns.rcode
import dns.rdatatype
import dns.resolver
import dns.zone

import net

NAMED = shutil.which("named") or "/usr/sbin/named"
TSIG_KEYGEN = shutil.which("tsig-keygen") or "/usr/sbin/tsig-keygen"
NSUPDATE = shutil.which("nsupdate") or "/usr/bin/nsupdate"

ALGORITHMS = (
    "hmac-md5",
    "hmac-sha1",
    "hmac-sha224",
    "hmac-sha256",
    "hmac-sha384",
    "hmac-sha512",
)

# What the zones' mail records point at before any failover.
MX1 = "mx1.example.com."
MX2 = "mx2.example.com."
MAIL_RECORDS = ("mx", "smtp", "imap", "mail", "pop3")

SANITIZER_MARKS = ("runtime error:", "AddressSanitizer", "LeakSanitizer")


class LabError(Exception):
    """The lab could not be set up (named did not start, a tool failed)."""


def absname(name):
    """@name with a trailing dot, lower-case."""
    name = name.lower()
    return name if name.endswith(".") else name + "."


class Key:
    """A TSIG key: name, algorithm, base64 secret, and its key file (0600)."""

    def __init__(self, name, algorithm, secret, path):
        self.name = name
        self.algorithm = algorithm
        self.secret = secret
        self.path = path

    def bind_clause(self):
        return 'key "%s" {\n\talgorithm %s;\n\tsecret "%s";\n};\n' % (
            self.name, self.algorithm, self.secret)


def write_key_file(path, name, algorithm, secret, mode=0o600):
    """Write a key file in BIND's format (as tsig-keygen prints it)."""
    text = 'key "%s" {\n\talgorithm %s;\n\tsecret "%s";\n};\n' % (
        name, algorithm, secret)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "w") as f:
        f.write(text)
    os.chmod(path, mode)  # O_CREAT's mode is filtered by the umask
    return Key(name, algorithm, secret, path)


def tsig_keygen(name, algorithm, timeout=10):
    """Run `tsig-keygen -a ALG NAME`; return the secret it generated."""
    out = subprocess.run([TSIG_KEYGEN, "-a", algorithm, name], check=True,
                         capture_output=True, text=True, timeout=timeout).stdout
    for line in out.splitlines():
        line = line.strip()
        if line.startswith("secret"):
            return line.split('"')[1]
    raise LabError("tsig-keygen printed no secret: %r" % out)


class Zone:
    def __init__(self, name, records, update_keys, update_addresses,
                 serial, update_names=(), update_types=()):
        self.name = absname(name)
        self.records = records
        self.update_keys = update_keys
        self.update_addresses = update_addresses
        self.serial = serial
        # Name-scoped grants: the keys may update only these owners
        # (relative to the zone) and, if given, these types.
        self.update_names = list(update_names)
        self.update_types = list(update_types)

    def file_text(self):
        z = self.name
        lines = [
            "$ORIGIN %s" % z,
            "$TTL 300",
            "@ IN SOA ns.%s hostmaster.%s %d 3600 600 86400 300"
            % (z, z, self.serial),
            "@ IN NS ns",
            "ns IN A 127.0.0.1",
        ]
        lines += ["%s %s IN %s %s" % (owner, ttl, rtype, value)
                  for owner, rtype, value, ttl in self.records]
        return "\n".join(lines) + "\n"

    def conf_clause(self, directory):
        types = " ".join(self.update_types) or "ANY"
        if self.update_keys and self.update_names:
            grants = "".join("\t\tgrant %s name %s.%s %s;\n"
                             % (k.name, n, self.name, types)
                             for k in self.update_keys
                             for n in self.update_names)
            upd = "\tupdate-policy {\n%s\t};\n" % grants
        elif self.update_keys:
            grants = "".join("\t\tgrant %s zonesub ANY;\n" % k.name
                             for k in self.update_keys)
            upd = "\tupdate-policy {\n%s\t};\n" % grants
        elif self.update_addresses:
            upd = "\tallow-update { %s; };\n" % "; ".join(self.update_addresses)
        else:
            upd = ""
        return ('zone "%s" {\n\ttype primary;\n\tfile "%s";\n%s};\n'
                % (self.name, os.path.join(directory, self.name + "db"), upd))


def mail_records(extra=()):
    """The records every lab zone starts with: the five mail CNAMEs pointing
    at mx1.example.com., an apex MX, and A records."""
    recs = [(r, "CNAME", MX1, 300) for r in MAIL_RECORDS]
    recs += [("@", "MX", "10 mx1", 300), ("mx1", "A", "192.0.2.10", 300),
             ("mx2", "A", "192.0.2.11", 300), ("www", "A", "192.0.2.80", 300)]
    recs += list(extra)
    return recs


class NamedLab:
    """One named on 127.0.0.1 in @directory (which must exist and be empty
    enough: the lab writes named.conf, zone files, keys and logs there).

    tests/lib/primaries.py gives Knot DNS and PowerDNS labs this interface
    (add_key, add_zone, start, stop, running, the query helpers, nsupdate);
    they override _write_conf, _argv and the names below.

    The test reaches the server at .address (127.0.0.1); named listens on
    .listen_addresses and answers (queries, transfers, statistics) the
    clients in .allowed, both [.address] unless a subclass widens them, as
    tests/lib/quorumlab.py does for a named inside a network namespace;
    .extra_options are more lines of its options block ("zone-statistics
    full;"); _pick_ports() chooses .port and .stats_port before each start."""

    kind = "named"
    program = "named"
    address = "127.0.0.1"

    def __init__(self, directory, workers=2):
        self.dir = os.path.abspath(directory)
        self.keys = {}
        self.zones = {}
        self.proc = None
        self.port = None
        self.stats_port = None
        self.workers = workers
        self.log_path = os.path.join(self.dir, self.program + ".log")
        self.listen_addresses = [self.address]
        self.allowed = [self.address]
        self.extra_options = []       # more lines of named.conf's options
        os.makedirs(os.path.join(self.dir, "keys"), exist_ok=True)

    # ---- set-up, before start() ----

    def add_key(self, name, algorithm):
        """Make a key with tsig-keygen, write its key file (0600), and make
        named know it.  @return the Key."""
        secret = tsig_keygen(name, algorithm)
        path = os.path.join(self.dir, "keys", name + ".key")
        key = write_key_file(path, name, algorithm, secret)
        self.keys[name] = key
        return key

    def add_zone(self, name, records=None, update_keys=(),
                 update_addresses=(), serial=1, update_names=(),
                 update_types=()):
        """Declare a primary zone.  @records: (owner, type, value, ttl)
        tuples; default mail_records().  Updates are allowed for
        @update_keys (update-policy) or else @update_addresses
        (allow-update by address, no key: DNS_Failover's set-up).  With
        @update_names (owners relative to the zone), the keys may update
        only those names (and only @update_types when given)."""
        z = Zone(name, mail_records() if records is None else records,
                 list(update_keys), list(update_addresses), serial,
                 update_names, update_types)
        self.zones[z.name] = z
        return z

    def _pick_ports(self):
        """Ports free for the server now (UDP and TCP; the statistics')."""
        self.port = net.free_port(self.address, udp=True)
        self.stats_port = net.free_port(self.address)

    def _write_conf(self):
        d = self.dir
        listen = "".join("%s; " % a for a in self.listen_addresses)
        allowed = "".join("%s; " % a for a in self.allowed)
        parts = [
            "options {\n"
            '\tdirectory "%s";\n' % d +
            '\tpid-file "%s";\n' % os.path.join(d, "named.pid") +
            '\tsession-keyfile "%s";\n' % os.path.join(d, "session.key") +
            '\tmanaged-keys-directory "%s";\n' % d +
            '\tdump-file "%s";\n' % os.path.join(d, "named.dump") +
            '\tstatistics-file "%s";\n' % os.path.join(d, "named.stats") +
            "\tlisten-on port %d { %s};\n" % (self.port, listen) +
            "\tlisten-on-v6 { none; };\n"
            "\trecursion no;\n"
            "\tdnssec-validation no;\n"
            "\tnotify no;\n"
            "\tallow-query { %s};\n" % allowed +
            "\tallow-transfer { %s};\n" % allowed +
            "\tcheck-names primary ignore;\n"
            "\tcheck-integrity no;\n" +
            "".join("\t%s\n" % o for o in self.extra_options) +
            "};\n",
            "controls { };\n",
            "statistics-channels {\n\tinet %s port %d allow { %s};\n};\n"
            % (self.address, self.stats_port, allowed),
        ]
        parts += [k.bind_clause() for k in self.keys.values()]
        for z in self.zones.values():
            with open(os.path.join(d, z.name + "db"), "w") as f:
                f.write(z.file_text())
            # A journal left from an earlier start would replay old updates.
            try:
                os.unlink(os.path.join(d, z.name + "db.jnl"))
            except FileNotFoundError:
                pass
            parts.append(z.conf_clause(d))
        conf = os.path.join(d, "named.conf")
        with open(conf, "w") as f:
            f.write("".join(parts))
        return conf

    # ---- life cycle ----

    def start(self, timeout=60.0, attempts=3):
        """Start named and return once every zone answers its SOA query.
        Retries with another port when the chosen one was taken meanwhile.
        @raise LabError with the tail of named's log."""
        if self.proc is not None:
            raise LabError("%s already started" % self.program)
        last = ""
        for _ in range(attempts):
            self._pick_ports()
            conf = self._write_conf()
            logf = open(self.log_path, "ab")
            try:
                self.proc = subprocess.Popen(
                    self._argv(conf),
                    stdin=subprocess.DEVNULL, stdout=logf, stderr=logf,
                    cwd=self.dir, start_new_session=True)
            finally:
                logf.close()
            if self._wait_ready(timeout):
                return self
            last = self.log_tail()
            self.stop()
            if not re.search(r"address (already )?in use", last.lower()):
                break
        raise LabError("%s did not start; log tail:\n" % self.program + last)

    def _argv(self, conf):
        """The command line that runs the server on @conf in the foreground."""
        return [NAMED, "-g", "-c", conf, "-n", str(self.workers)]

    def _wait_ready(self, timeout):
        zone = next(iter(self.zones), ".")
        deadline = time.monotonic() + timeout
        delay = 0.02
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                return False
            try:
                q = dns.message.make_query(zone, "SOA")
                r = dns.query.udp(q, self.address, port=self.port, timeout=0.5)
                if r.rcode() == dns.rcode.NOERROR and r.answer:
                    return self._all_loaded(deadline)
            except (OSError, dns.exception.DNSException):
                pass
            time.sleep(delay)
            delay = min(delay * 2, 0.25)
        return False

    def _all_loaded(self, deadline):
        """Wait, until @deadline at most, until every zone answers its SOA
        query (named may listen before the last zone has loaded)."""
        pending = list(self.zones)
        while pending and time.monotonic() < deadline:
            still = []
            for z in pending:
                try:
                    r = dns.query.udp(dns.message.make_query(z, "SOA"),
                                      self.address, port=self.port, timeout=0.5)
                    if r.rcode() != dns.rcode.NOERROR or not r.answer:
                        still.append(z)
                except (OSError, dns.exception.DNSException):
                    still.append(z)
            pending = still
            if pending:
                time.sleep(0.1)
        return not pending

    def stop(self, timeout=10.0):
        """SIGTERM named, SIGKILL it if it has not exited after @timeout."""
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

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()

    @contextlib.contextmanager
    def running(self, **start_args):
        """start(**@start_args) now, stop() when the with-block ends:
        `with lab.running(): yield lab` in a fixture."""
        self.start(**start_args)
        try:
            yield self
        finally:
            self.stop()

    def log_tail(self, lines=40):
        try:
            with open(self.log_path, errors="replace") as f:
                return "".join(f.readlines()[-lines:])
        except OSError:
            return ""

    # ---- looking at what named holds (never via mxfailover) ----

    def query(self, name, rtype, tcp=False, timeout=3.0):
        """The answer section of a query to this named, as a dns.message."""
        q = dns.message.make_query(absname(name), rtype)
        if tcp:
            return dns.query.tcp(q, self.address, port=self.port, timeout=timeout)
        r = dns.query.udp(q, self.address, port=self.port, timeout=timeout)
        if r.flags & dns.flags.TC:
            r = dns.query.tcp(q, self.address, port=self.port, timeout=timeout)
        return r

    def rrset_values(self, name, rtype):
        """Sorted text of the record set's values (absolute names), or []
        when it does not exist."""
        r = self.query(name, rtype)
        n = dns.name.from_text(absname(name))
        t = dns.rdatatype.from_text(rtype)
        for rrset in r.answer:
            if rrset.name == n and rrset.rdtype == t:
                return sorted(rd.to_text() for rd in rrset)
        return []

    def rrset_ttl(self, name, rtype):
        r = self.query(name, rtype)
        for rrset in r.answer:
            if rrset.rdtype == dns.rdatatype.from_text(rtype):
                return rrset.ttl
        return None

    def cname(self, name):
        """The CNAME target of @name, or None."""
        v = self.rrset_values(name, "CNAME")
        return v[0] if v else None

    def serial(self, zone):
        v = self.rrset_values(zone, "SOA")
        if not v:
            raise LabError("no SOA for %s" % zone)
        return int(v[0].split()[2])

    def axfr(self, zone, timeout=10.0):
        """The whole zone, as a dns.zone.Zone (relative names)."""
        return dns.zone.from_xfr(dns.query.xfr(
            self.address, absname(zone), port=self.port, timeout=timeout,
            lifetime=timeout))

    def stats(self, timeout=3.0):
        """named's server statistics (JSON stats channel)."""
        url = "http://%s:%d/json/v1/server" % (self.address, self.stats_port)
        with urllib.request.urlopen(url, timeout=timeout) as resp:
            return json.load(resp)

    def traffic(self, timeout=3.0):
        """named's request/response size histograms, per transport."""
        url = "http://%s:%d/json/v1/traffic" % (self.address, self.stats_port)
        with urllib.request.urlopen(url, timeout=timeout) as resp:
            return json.load(resp)["traffic"]

    def counters(self):
        """A flat snapshot of the counters tests compare before and after:
        opcode counts (opcode:UPDATE), name server statistics (ns:ReqTCP,
        ns:UpdateDone, ...) and size buckets (tcp-req:288+, udp-req:288+)."""
        s = self.stats()
        c = {"opcode:" + k: v for k, v in s.get("opcodes", {}).items()}
        c.update({"ns:" + k: v for k, v in s.get("nsstats", {}).items()})
        t = self.traffic()
        for proto in ("udp", "tcp"):
            h = t.get("dns-%s-requests-sizes-received-ipv4" % proto, {})
            c.update({"%s-req:%s" % (proto, k): v for k, v in h.items()})
        return c

    # ---- other tools ----

    def nsupdate(self, script, key=None, timeout=30.0):
        """Run one nsupdate process with @script (server line added);
        @return CompletedProcess."""
        text = "server %s %d\n%s" % (self.address, self.port, script)
        if not text.endswith("\n"):
            text += "\n"
        argv = [NSUPDATE]
        if key is not None:
            argv += ["-k", key.path]
        return subprocess.run(argv, input=text, capture_output=True, text=True,
                              timeout=timeout)


def keyed_lab(directory, key_name, zones, algorithm="hmac-sha256"):
    """A NamedLab in @directory (not started) with one key @key_name that
    alone may update each of @zones (mail_records()).
    @return (lab, key)."""
    lab = NamedLab(directory)
    key = lab.add_key(key_name, algorithm)
    for z in zones:
        lab.add_zone(z, update_keys=[key])
    return lab, key


def write_config(path, port, key_file=None, timeout="2s", zones=(),
                 ttl=None, records=MAIL_RECORDS, extra="", server="127.0.0.1"):
    """Write a native mxfailover config for the lab: [general] with the state
    file next to @path, [dns] pointing at 127.0.0.1:@port with @key_file
    (None: no key, unsigned updates), two servers and one group over @zones.
    @return @path."""
    d = os.path.dirname(os.path.abspath(path))
    lines = [
        "[general]",
        "timeout = %s" % timeout,
        "state_file = %s" % os.path.join(d, "state.json"),
        "log = stderr",
        "",
        "[dns]",
        "server = %s:%d" % (server, port),
    ]
    if key_file is not None:
        lines.append("key_file = %s" % key_file)
    if timeout is not None:
        lines.append("timeout = %s" % timeout)
    if ttl is not None:
        lines.append("ttl = %s" % ttl)
    lines += [
        "",
        "[server mx1]",
        "address = 192.0.2.10",
        "name = %s" % MX1,
        "checks = smtp",
        "",
        "[server mx2]",
        "address = 192.0.2.11",
        "name = %s" % MX2,
        "checks = smtp",
        "",
    ]
    if zones:
        lines += [
            "[group mail]",
            "servers = mx1 mx2",
            "zones = %s" % " ".join(z.rstrip(".") for z in zones),
            "records = %s" % " ".join(records),
            "type = CNAME",
            "",
        ]
    text = "\n".join(lines) + "\n" + extra
    with open(path, "w") as f:
        f.write(text)
    return path


def release_binary(root, build_dir):
    """mxfailover from a release build in @root/@build_dir, set up with
    meson when missing and brought up to date with ninja (the benchmarks'
    binary).  @return its path.  @raise subprocess.CalledProcessError."""
    bdir = os.path.join(root, build_dir)
    if not os.path.exists(os.path.join(bdir, "build.ninja")):
        subprocess.run(["meson", "setup", bdir, "--buildtype=release"],
                       cwd=root, check=True, stdout=subprocess.DEVNULL,
                       timeout=300)
    subprocess.run(["ninja", "-C", bdir, "src/mxfailover"], cwd=root,
                   check=True, stdout=subprocess.DEVNULL, timeout=600)
    return os.path.join(bdir, "src", "mxfailover")


def sanitizer_env(env=None):
    """@env (default os.environ) with sanitizer options that make a report
    also visible in the exit status, unless the caller set them already."""
    e = dict(os.environ if env is None else env)
    e.setdefault("ASAN_OPTIONS", "detect_leaks=1:abort_on_error=0:exitcode=99")
    e.setdefault("UBSAN_OPTIONS", "print_stacktrace=1:halt_on_error=1:exitcode=98")
    e.setdefault("LSAN_OPTIONS", "exitcode=97")
    return e


def sanitizer_report(stderr):
    """The first sanitizer mark found in @stderr, or None."""
    for m in SANITIZER_MARKS:
        if m in stderr:
            return m
    return None


def run_mxf(binary, args, config=None, timeout=30.0, env=None, input=None):
    """Run mxfailover; @return (rc, stdout, stderr, seconds).
    @raise subprocess.TimeoutExpired after @timeout (the child is killed)."""
    argv = [binary]
    if config is not None:
        argv += ["-c", config]
    argv += list(args)
    t0 = time.monotonic()
    p = subprocess.run(argv, capture_output=True, text=True, timeout=timeout,
                       env=sanitizer_env(env), input=input,
                       stdin=None if input is not None else subprocess.DEVNULL)
    return p.returncode, p.stdout, p.stderr, time.monotonic() - t0


def assert_down(r, phase, reason_part):
    """Assert that @r, one result of `mxfailover probe --json`, is down in
    @phase with @reason_part in its reason."""
    assert r["state"] == "down", r
    assert r["phase"] == phase, r
    assert reason_part in r["reason"], r
