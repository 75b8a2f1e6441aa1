"""mailservers -- real Postfix, Dovecot, MariaDB and OpenSSH on loopback for
the system tests of mxfailover's protocol checks.

Each server runs in its own temporary directory with its own configuration,
queue, state and data directories, listens only on a loopback address at a
port that was free, and is stopped -- every process it started, checked --
when its context manager exits, also when a test failed.  Nothing here reads
or writes /etc/postfix, /etc/dovecot, /etc/mysql or a system service: the
packaged files are only read where the servers insist (Postfix's
postfix-files list in /etc/postfix, Dovecot's and MariaDB's compiled-in
defaults).

Usage:

    ca = CertAuthority(tmpdir)                 # one test CA per session
    with Postfix(ca=ca) as pf:                 # SMTP + submission + smtps
        pf.host, pf.port, pf.submission_port, pf.smtps_port, pf.ca_file
    with Dovecot(ca=ca) as dv:                 # IMAP, IMAPS, POP3, POP3S
        dv.host, dv.imap_port, dv.imaps_port, dv.pop3_port, dv.pop3s_port
    with MariaDB() as db:                      # protocol-10 greeting
        db.host, db.port
        with db.exhausted() as err:            # new connections get ERR 1040
            ...
    with SmtpSink() as primary, Postfix(ca=ca, relay_domain="lab.test",
                                        relay_to=(primary.host, primary.port)):
        ...                                    # a backup MX (issue 5); the
                                               # sink is tests/fakes/smtpsink.py
    with Sshd(directory, forced_command) as sshd:   # OpenSSH, for ssh-* checks
        sshd.port, sshd.port2, sshd.home

All of them are Servers: the same open / start / ready / stop / close, with
the same bounded retry on fresh ports (class Server below).

Why things are done as they are:
  - Postfix binds only to addresses configured on an interface, so each
    Postfix gets its own 127.0.0.N (`ip addr add 127.0.0.N/8 dev lo`, an
    address nobody else holds; removed again at close()).  Without the right
    to add addresses (not root) it falls back to 127.0.0.1.
  - Postfix is started as `postfix -c DIR check` (creates the queue
    directories) and then `master -c DIR -w`, not `postfix start`, which
    runs the same checks twice and takes twice as long.  Postfix logs only to
    syslog or maillog_file; its commands print to stderr only when stderr is
    a terminal, so they run on a pseudo-terminal to catch their fatal
    messages, and maillog_file (postlogd) keeps the daemons' log in the
    temporary directory.
  - The temporary directories are made under /tmp, mode 0755, because the
    unprivileged Postfix and Dovecot processes must traverse them (pytest's
    own tmp_path is private to root).
  - Every process a server starts runs in a session of its own (Postfix's
    master calls setsid(); Dovecot and MariaDB are started with a new
    session), so leaked_processes() can tell whether anything survived.

Every wait here is bounded in time and count; nothing connects to anything
but loopback.  Python standard library only, plus the servers' own tools.
"""

import atexit
import contextlib
import grp
import os
import pty
import pwd
import select
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time

import net

POSTFIX = shutil.which("postfix") or "/usr/sbin/postfix"
POSTFIX_DAEMON_DIR = "/usr/lib/postfix/sbin"
POSTQUEUE = shutil.which("postqueue") or "/usr/sbin/postqueue"
DOVECOT = shutil.which("dovecot") or "/usr/sbin/dovecot"
MARIADBD = shutil.which("mariadbd") or shutil.which("mysqld") or "/usr/sbin/mariadbd"
MARIADB_INSTALL_DB = (shutil.which("mariadb-install-db")
                      or shutil.which("mysql_install_db")
                      or "/usr/bin/mariadb-install-db")
OPENSSL = shutil.which("openssl") or "/usr/bin/openssl"
IP = shutil.which("ip") or "/usr/sbin/ip"

# Loopback addresses handed to Postfix instances: 127.0.0.N for N in this
# range, skipping any already configured.  Kept away from .1 and the low
# numbers other tools like to use.
LOOPBACK_FIRST = 140
LOOPBACK_LAST = 239

LAB_HOSTNAME = "mx-lab.test"

# Sessions (setsid) of every server process started by this module, those
# of servers not stopped yet, and the loopback addresses it added; see
# leaked_processes(), running_servers(), leaked_addresses().
_sessions = set()
_running = {}
_addresses = set()
_lock = threading.Lock()


class LabError(Exception):
    """A server could not be set up; the message says what it printed."""


# ---------------------------------------------------------------------------
# small helpers


def have_programs():
    """The names of the programs this module needs that are missing."""
    need = [POSTFIX, DOVECOT, MARIADBD, MARIADB_INSTALL_DB, OPENSSL, IP]
    return [p for p in need if not os.access(p, os.X_OK)]


def _wait(pred, timeout, what, step=0.05):
    """net.wait_until, raising LabError on timeout (a server that does not
    come up is a lab failure, which open() may retry)."""
    return net.wait_until(pred, timeout, what, step=step, error=LabError)


def read_line(sock, limit=4096):
    """One CRLF- or LF-terminated line from a blocking socket (its timeout
    applies), at most @limit bytes."""
    buf = b""
    while not buf.endswith(b"\n"):
        if len(buf) >= limit:
            raise LabError("line too long")
        b = sock.recv(1)
        if not b:
            break
        buf += b
    return buf


def run_on_tty(argv, timeout=30.0, env=None):
    """Run @argv with stdout and stderr on a pseudo-terminal (Postfix's
    commands print their errors only to a terminal) and @return (rc, output).
    @raise LabError when it does not finish within @timeout seconds."""
    master, slave = pty.openpty()
    try:
        p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=slave,
                             stderr=slave, env=env, start_new_session=True)
    finally:
        os.close(slave)
    out = b""
    deadline = time.monotonic() + timeout
    try:
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            r, _, _ = select.select([master], [], [], min(left, 0.2))
            if r:
                try:
                    chunk = os.read(master, 4096)
                except OSError:  # EIO: every writer has closed the slave
                    chunk = b""
                if not chunk:
                    break
                if len(out) < 65536:
                    out += chunk
            elif p.poll() is not None:
                break
        try:
            rc = p.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(p.pid, signal.SIGKILL)
            p.wait(timeout=5)
            raise LabError("%s did not finish within %.0f s: %s"
                           % (" ".join(argv), timeout,
                              out.decode("utf-8", "replace")))
    finally:
        os.close(master)
    return rc, out.decode("utf-8", "replace").replace("\r\n", "\n")


def _proc_state(pid):
    """The state letter of /proc/@pid/stat, or None when it is gone."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            stat = f.read()
    except OSError:
        return None
    # "pid (comm) S ...": comm may hold spaces and parentheses.
    return stat[stat.rfind(")") + 2:][:1]


def _proc_session(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            stat = f.read()
        return int(stat[stat.rfind(")") + 2:].split()[4])
    except (OSError, ValueError, IndexError):
        return None


def _session_pids(sid):
    """Live (not zombie) processes of session @sid, via pgrep -s."""
    try:
        p = subprocess.run(["pgrep", "-s", str(sid)], capture_output=True,
                           text=True, timeout=10)
        pids = [int(x) for x in p.stdout.split()]
    except (OSError, subprocess.TimeoutExpired, ValueError):
        # No pgrep: scan /proc ourselves.
        pids = [int(d) for d in os.listdir("/proc") if d.isdigit()
                and _proc_session(int(d)) == sid]
    return [pid for pid in pids if _proc_state(pid) not in (None, "Z", "X")]


def _cmdline(pid):
    try:
        with open("/proc/%d/cmdline" % pid, "rb") as f:
            return f.read().replace(b"\0", b" ").decode("utf-8", "replace").strip()
    except OSError:
        return "?"


# Servers opened and not closed yet: closed at interpreter exit, so that even
# a test run that ends abnormally (but not by SIGKILL) leaves nothing behind.
_live = set()


@atexit.register
def _close_all():
    for server in list(_live):
        with contextlib.suppress(Exception):
            server.close()


def _started(sid, what):
    with _lock:
        _sessions.add(sid)
        _running[sid] = what


def _stopped(sid):
    with _lock:
        _running.pop(sid, None)


def running_servers():
    """Descriptions of the servers started here and not stopped yet."""
    with _lock:
        return sorted(_running.values())


def leaked_processes():
    """[(pid, cmdline)] of processes still alive in the session of a server
    this module started and has since stopped."""
    with _lock:
        sids = [sid for sid in _sessions if sid not in _running]
    out = []
    for sid in sids:
        out += [(pid, _cmdline(pid)) for pid in _session_pids(sid)]
    return out


def leaked_addresses():
    """Loopback addresses this module added and has not removed."""
    with _lock:
        return sorted(_addresses)


def _stop_session(sid, leader, timeout=10.0):
    """SIGTERM @leader (when given), wait up to @timeout seconds for every
    process of session @sid to end, then SIGKILL what is left.  @return the
    list of pids that had to be killed."""
    if leader is not None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(leader, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not _session_pids(sid):
            return []
        time.sleep(0.05)
    killed = _session_pids(sid)
    for pid in killed:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    _wait(lambda: not _session_pids(sid), 5, "killed processes")
    return killed


def _make_workdir(prefix):
    """A fresh directory under /tmp (or $MXF_LAB_TMP), mode 0755."""
    base = os.environ.get("MXF_LAB_TMP", "/tmp")
    d = tempfile.mkdtemp(prefix=prefix, dir=base)
    os.chmod(d, 0o755)
    return d


def _remove_workdir(d):
    if os.environ.get("MXF_LAB_KEEP"):
        return
    shutil.rmtree(d, ignore_errors=True)


def _tail(path, n=30):
    try:
        with open(path, errors="replace") as f:
            return "".join(f.readlines()[-n:])
    except OSError:
        return ""


# ---------------------------------------------------------------------------
# certificates


class CertAuthority:
    """A throw-away CA made with `openssl` in @directory, and server
    certificates it signs.  ca_file is the PEM a client is told to trust
    (mxfailover: MXF_CA_FILE)."""

    def __init__(self, directory, name="mxfailover lab CA"):
        self.dir = directory
        os.makedirs(directory, exist_ok=True)
        self.ca_file = os.path.join(directory, "lab_ca.pem")
        self.ca_key = os.path.join(directory, "lab_ca.key")
        self._serial = 0
        _openssl(["req", "-x509", "-new", "-newkey", "ec",
                  "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                  "-keyout", self.ca_key, "-out", self.ca_file,
                  "-days", "60", "-subj", "/CN=" + name,
                  "-addext", "basicConstraints=critical,CA:TRUE",
                  "-addext", "keyUsage=critical,keyCertSign,cRLSign"])

    def issue(self, directory, cn=LAB_HOSTNAME, dns=(), ips=(), days=30):
        """A server certificate for @cn with subjectAltNames @dns and @ips,
        valid @days days, signed by this CA; written into @directory.
        @return (cert_file, key_file); the key file is 0600."""
        with _lock:
            self._serial += 1
            n = self._serial
        cert = os.path.join(directory, "lab_cert%d.pem" % n)
        key = os.path.join(directory, "lab_key%d.pem" % n)
        san = ",".join(["DNS:" + d for d in (cn,) + tuple(dns)]
                       + ["IP:" + i for i in ips])
        _openssl(["req", "-x509", "-new", "-newkey", "ec",
                  "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                  "-keyout", key, "-out", cert, "-days", str(days),
                  "-subj", "/CN=" + cn, "-CA", self.ca_file,
                  "-CAkey", self.ca_key,
                  "-addext", "subjectAltName=" + san,
                  "-addext", "basicConstraints=critical,CA:FALSE",
                  "-addext", "extendedKeyUsage=serverAuth"])
        os.chmod(key, 0o600)
        return cert, key


def _openssl(args, timeout=30):
    p = subprocess.run([OPENSSL] + args, capture_output=True, text=True,
                       timeout=timeout, stdin=subprocess.DEVNULL)
    if p.returncode != 0:
        raise LabError("openssl %s failed: %s" % (args[0], p.stderr.strip()))


# ---------------------------------------------------------------------------
# loopback addresses


class LoopbackAddress:
    """A 127.0.0.N of our own on lo for as long as the object is open.

    The address is taken with `ip addr add`, which fails when another
    process took the same N first, so two labs never share one.  When
    addresses cannot be added (not root, no CAP_NET_ADMIN) the address is
    127.0.0.1 and nothing is added."""

    def __init__(self):
        self.address = None
        self.added = False

    def open(self):
        _live.add(self)
        if os.geteuid() != 0 or not os.access(IP, os.X_OK):
            self.address = "127.0.0.1"
            return self.address
        p = subprocess.run([IP, "-o", "-4", "addr", "show"], capture_output=True,
                           text=True, timeout=10)
        used = p.stdout
        last = ""
        for n in range(LOOPBACK_FIRST, LOOPBACK_LAST + 1):
            addr = "127.0.0.%d" % n
            if (" %s/" % addr) in used:
                continue
            p = subprocess.run([IP, "addr", "add", addr + "/8", "dev", "lo"],
                               capture_output=True, text=True, timeout=10)
            if p.returncode == 0:
                with _lock:
                    _addresses.add(addr)
                self.address, self.added = addr, True
                return addr
            last = p.stderr.strip()
            if "exists" in last or "assigned" in last:
                continue  # raced with another lab: try the next one
            break
        # Not allowed (or no address left): Postfix can still use 127.0.0.1.
        self.address = "127.0.0.1"
        return self.address

    def close(self):
        _live.discard(self)
        if self.added:
            subprocess.run([IP, "addr", "del", self.address + "/8", "dev", "lo"],
                           capture_output=True, timeout=10)
            with _lock:
                _addresses.discard(self.address)
            self.added = False


# ---------------------------------------------------------------------------
# what every server of the lab shares


class ServerExited(LabError):
    """The server's process exited while it was starting."""


class Server:
    """The life cycle Postfix, Dovecot, MariaDB and Sshd share.

    open() makes the work directory (unless one was given), lets the
    subclass prepare it (_prepare: certificates, users, data) and starts
    the server on port_count distinct free ports, again with other ports
    when a start fails (a port taken between free_port() and the bind), at
    most three times.  start() launches the server (_launch: _spawn(), or
    whatever the server needs), then returns once ready() says it answers,
    or raises ServerExited / LabError with the end of its log.  stop() ends
    every process of the server's session, bounded; close() stops and
    removes what open() made.  As a context manager it opens, and closes
    again when open() failed.

    Subclasses set name, workdir_prefix, port_count, ready_what and define
    _configure(ports) (write the configuration for these ports), ready();
    optionally _prepare(), _launch(), _cleanup() and log_path."""

    name = "server"
    workdir_prefix = "mxf-lab-"
    port_count = 1
    ready_what = "its port"
    ready_step = 0.05
    stop_timeout = 10.0

    def __init__(self, host="127.0.0.1", start_timeout=20.0, directory=None):
        self.host = host
        self.start_timeout = start_timeout
        self.dir = directory
        self._own_dir = directory is None
        self.ports_in_use = []
        self.proc = None        # the process _spawn() started, if any
        self.leader = None      # the pid whose session holds the server
        self.start_seconds = None

    def __enter__(self):
        try:
            self.open()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc):
        self.close()

    @property
    def stderr_path(self):
        """Where _spawn() sends the server's stdout and stderr."""
        return os.path.join(self.dir, "stderr")

    @property
    def log_path(self):
        return self.stderr_path

    def log_tail(self, n=30):
        """The end of the server's log (and of what it printed)."""
        paths = [self.log_path]
        if self.stderr_path != self.log_path:
            paths.append(self.stderr_path)
        return "".join(_tail(p, n) for p in paths)

    # ---- for subclasses ----

    def _prepare(self):
        """Fill the fresh work directory, once per open()."""

    def _configure(self, ports):
        raise NotImplementedError

    def ready(self):
        """Whether the server answers now."""
        raise NotImplementedError

    def _launch(self):
        raise NotImplementedError

    def _cleanup(self):
        """Undo what _prepare() made outside the work directory."""

    def _certificate(self, ca, directory, cn, ips, days):
        """Set cert_file, key_file and ca_file: a certificate for @cn,
        localhost and @ips, valid @days days, issued by @ca into @directory,
        or self-signed (and then its own ca_file) without a CA."""
        if ca is not None:
            self.cert_file, self.key_file = ca.issue(
                directory, cn=cn, dns=("localhost",), ips=ips, days=days)
            self.ca_file = ca.ca_file
        else:
            self.cert_file = os.path.join(directory, "lab_cert.pem")
            self.key_file = os.path.join(directory, "lab_key.pem")
            _self_signed(self.cert_file, self.key_file, cn, ips=ips, days=days)
            self.ca_file = self.cert_file

    def _spawn(self, argv, env=None):
        """Start @argv in a session of its own, output to stderr_path."""
        with open(self.stderr_path, "ab") as err:
            self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL,
                                         stdout=err, stderr=err, env=env,
                                         start_new_session=True)
        self._session_started(self.proc.pid)

    def _session_started(self, leader):
        """Record @leader's session as this server's (leaked_processes())."""
        self.leader = leader
        _started(leader, "%s %s:%d (pid %d)"
                 % (self.name, self.host, self.ports_in_use[0], leader))

    # ---- life cycle ----

    def open(self):
        _live.add(self)
        if self.dir is None:
            self.dir = _make_workdir(self.workdir_prefix)
        self._prepare()
        last = None
        for _ in range(3):
            ports = [net.free_port(self.host) for _ in range(self.port_count)]
            if len(set(ports)) < len(ports):
                continue
            self.ports_in_use = ports
            self._configure(ports)
            try:
                self.start()
                return self
            except LabError as e:
                last = e
                self.stop()
        raise last or LabError("%s: no distinct free ports" % self.name)

    def start(self):
        """Start (or restart) the server; returns once it answers.
        @raise ServerExited or LabError with the end of its log."""
        t0 = time.monotonic()
        self._launch()

        def ready():
            if self.proc is not None and self.proc.poll() is not None:
                raise ServerExited("%s exited with %d:\n%s"
                                   % (self.name, self.proc.returncode,
                                      self.log_tail()))
            return self.ready()

        try:
            _wait(ready, self.start_timeout,
                  "%s's %s" % (self.name, self.ready_what), step=self.ready_step)
        except LabError as e:
            raise type(e)("%s\n%s" % (e, self.log_tail()))
        self.start_seconds = time.monotonic() - t0

    def running(self):
        return (self.leader is not None
                and _proc_state(self.leader) not in (None, "Z", "X"))

    def stop(self):
        """Stop the server and every process of its session (bounded); the
        work directory stays, so start() can run again."""
        if self.leader is None:
            return
        _stop_session(self.leader, self.leader, timeout=self.stop_timeout)
        _stopped(self.leader)
        if self.proc is not None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.proc.wait(timeout=5)
        self.proc = self.leader = None

    def close(self):
        """stop(), then remove what open() made."""
        _live.discard(self)
        try:
            self.stop()
        finally:
            self._cleanup()
            if self.dir and self._own_dir:
                _remove_workdir(self.dir)


# ---------------------------------------------------------------------------
# Postfix

_MASTER_CF = """\
# Generated by tests/lib/mailservers.py; no chroot, so nothing outside the
# lab directory is needed.
{port} inet n - n - - smtpd
{submission_port} inet n - n - - smtpd
  -o syslog_name=postfix/submission
  -o smtpd_tls_security_level={submission_level}
{smtps_port} inet n - n - - smtpd
  -o syslog_name=postfix/smtps
  -o smtpd_tls_security_level=encrypt
  -o smtpd_tls_wrappermode=yes
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
tlsmgr    unix  -       -       n       1000?   1       tlsmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
"""


class Postfix(Server):
    """A real Postfix on 127.0.0.N: smtpd with STARTTLS on `port`, a
    submission smtpd that requires STARTTLS on `submission_port`, and an
    implicit-TLS smtpd on `smtps_port`.

    @ca           a CertAuthority; the server certificate names LAB_HOSTNAME,
                  localhost, 127.0.0.1 and the instance's address.  Without
                  one a self-signed certificate is made.
    @relay_domain, @relay_to  make it a backup MX: it accepts mail for
                  @relay_domain from anyone, relays it to @relay_to
                  ((host, port), the primary) and keeps a fast-flush log so
                  `ETRN relay_domain` delivers what it queued at once.
                  While the primary refuses connections the deliveries
                  defer (queue_count() counts them); Postfix's own retry
                  comes only after minimal_backoff_time / queue_run_delay,
                  which stay at 300 s unless @main overrides them, so within
                  a test only ETRN (or flush()) moves the mail.
    @starttls     False: smtpd and the submission smtpd offer no STARTTLS
                  (the smtps port still speaks TLS).
    @main         extra main.cf settings (dict), applied last.
    @cert_days    validity of the server certificate.
    Mail to any other destination is refused by the error transport: the lab
    never sends anything off the machine.
    """

    name = "postfix"
    workdir_prefix = "mxf-lab-postfix-"
    port_count = 3
    ready_what = "ports"

    def __init__(self, ca=None, relay_domain=None, relay_to=None, main=None,
                 starttls=True, cert_days=30, hostname=LAB_HOSTNAME,
                 start_timeout=30.0):
        super().__init__(host=None, start_timeout=start_timeout)
        self.ca = ca
        self.starttls = starttls
        self.relay_domain = relay_domain
        self.relay_to = relay_to
        self.extra_main = dict(main or {})
        self.cert_days = cert_days
        self.hostname = hostname
        self.loopback = LoopbackAddress()
        self.port = self.submission_port = self.smtps_port = None
        self.ca_file = self.cert_file = self.key_file = None

    # paths
    @property
    def config_dir(self):
        return os.path.join(self.dir, "conf")

    @property
    def queue_dir(self):
        return os.path.join(self.dir, "queue")

    @property
    def log_path(self):
        return os.path.join(self.dir, "maillog")

    def log_tail(self, n=30):
        return _tail(self.log_path, n)

    def _prepare(self):
        """The directories, the address and the certificate."""
        for d in ("conf", "queue", "data"):
            os.mkdir(os.path.join(self.dir, d), 0o755)
        pw = pwd.getpwnam("postfix")
        os.chown(os.path.join(self.dir, "data"), pw.pw_uid, pw.pw_gid)
        self.host = self.loopback.open()
        self._certificate(self.ca, self.config_dir, self.hostname,
                          sorted({"127.0.0.1", self.host}), self.cert_days)

    def _configure(self, ports):
        self.port, self.submission_port, self.smtps_port = ports
        self._write_config()

    def _main_cf(self):
        d = self.dir
        m = {
            "compatibility_level": "3.6",
            "config_directory": self.config_dir,
            "queue_directory": self.queue_dir,
            "data_directory": os.path.join(d, "data"),
            "meta_directory": "/etc/postfix",
            "mail_owner": "postfix",
            "setgid_group": "postdrop",
            "inet_interfaces": self.host,
            "inet_protocols": "ipv4",
            "myhostname": self.hostname,
            "mydomain": "lab.invalid",
            "mydestination": "",
            "mynetworks": "127.0.0.0/8",
            "maillog_file": self.log_path,
            "maillog_file_prefixes": d,
            "alias_maps": "",
            "alias_database": "",
            "smtpd_banner": "$myhostname ESMTP mxfailover lab",
            "smtpd_peername_lookup": "no",
            "smtpd_tls_cert_file": self.cert_file,
            "smtpd_tls_key_file": self.key_file,
            "smtpd_tls_security_level": "may" if self.starttls else "none",
            "smtpd_relay_restrictions": "permit_mynetworks, reject_unauth_destination",
            "smtp_dns_support_level": "disabled",
            "smtp_tls_security_level": "none",
            # Loopback only: nothing may leave the machine.
            "default_transport": "error:the mxfailover lab delivers to loopback only",
            "relay_transport": "error:the mxfailover lab delivers to loopback only",
            "local_transport": "error:the mxfailover lab has no local delivery",
            "smtpd_etrn_restrictions": "permit",
        }
        if self.relay_domain:
            host, port = self.relay_to
            m["relay_domains"] = self.relay_domain
            m["relay_recipient_maps"] = ""
            m["transport_maps"] = "inline:{ %s=smtp:[%s]:%d }" % (
                self.relay_domain, host, port)
            m["fast_flush_domains"] = "$relay_domains"
        m.update(self.extra_main)
        return "".join("%s = %s\n" % kv for kv in m.items())

    def _write_config(self):
        with open(os.path.join(self.config_dir, "main.cf"), "w") as f:
            f.write("# Generated by tests/lib/mailservers.py\n")
            f.write(self._main_cf())
        with open(os.path.join(self.config_dir, "master.cf"), "w") as f:
            f.write(_MASTER_CF.format(port=self.port,
                                      submission_port=self.submission_port,
                                      smtps_port=self.smtps_port,
                                      submission_level=("encrypt" if self.starttls
                                                        else "none")))
        # master waits, polling, until main.cf is a few seconds old (so it
        # does not read a file still being edited): backdate both files.
        past = time.time() - 60
        for name in ("main.cf", "master.cf"):
            os.utime(os.path.join(self.config_dir, name), (past, past))

    # The queue directories `postfix check` (post-install create-missing)
    # would make, with the owners and modes of Postfix's postfix-files;
    # made here because `postfix check` takes seconds.
    _QUEUE_DIRS = (
        ("active", "postfix", None, 0o700), ("bounce", "postfix", None, 0o700),
        ("corrupt", "postfix", None, 0o700), ("defer", "postfix", None, 0o700),
        ("deferred", "postfix", None, 0o700), ("flush", "postfix", None, 0o700),
        ("hold", "postfix", None, 0o700), ("incoming", "postfix", None, 0o700),
        ("private", "postfix", None, 0o700), ("saved", "postfix", None, 0o700),
        ("trace", "postfix", None, 0o700),
        ("maildrop", "postfix", "postdrop", 0o730),
        ("public", "postfix", "postdrop", 0o710),
        ("pid", "root", None, 0o755),
    )

    def _make_queue(self):
        for name, user, group, mode in self._QUEUE_DIRS:
            path = os.path.join(self.queue_dir, name)
            with contextlib.suppress(FileExistsError):
                os.mkdir(path)
            pw = pwd.getpwnam(user)
            gid = grp.getgrnam(group).gr_gid if group else 0
            os.chown(path, pw.pw_uid, gid)
            os.chmod(path, mode)

    def _launch(self):
        """Run master -w (it daemonizes once it is up) and take its session.
        @raise LabError with Postfix's own message."""
        env = dict(os.environ, MAIL_CONFIG=self.config_dir)
        self._make_queue()
        rc, out = run_on_tty([os.path.join(POSTFIX_DAEMON_DIR, "master"),
                              "-c", self.config_dir, "-w"],
                             timeout=self.start_timeout, env=env)
        if rc != 0:
            raise LabError("postfix master did not start (rc %d): %s\n%s"
                           % (rc, out.strip(), self.log_tail()))
        pidfile = os.path.join(self.queue_dir, "pid", "master.pid")
        _wait(lambda: os.path.exists(pidfile), 5, "master.pid")
        with open(pidfile) as f:
            # master calls setsid(): its session holds all its children.
            self._session_started(int(f.read().split()[0]))

    def ready(self):
        return all(net.port_open(self.host, p) for p in
                   (self.port, self.submission_port, self.smtps_port))

    def _cleanup(self):
        self.loopback.close()

    # queue helpers (backup MX)
    def queue_count(self, subdirs=("incoming", "active", "deferred", "hold",
                                   "maildrop")):
        """Messages in the queue (by default in every queue; @subdirs
        ("deferred",) counts only the deferred ones)."""
        n = 0
        for sub in subdirs:
            for _, _, files in os.walk(os.path.join(self.queue_dir, sub)):
                n += len(files)
        return n

    def flush(self, domain=None, timeout=10):
        """Ask this Postfix to deliver the mail queued for @domain (default
        the relay domain) now, as ETRN does: `postqueue -s`."""
        p = subprocess.run([POSTQUEUE, "-c", self.config_dir, "-s",
                            domain or self.relay_domain],
                           capture_output=True, text=True, timeout=timeout)
        if p.returncode != 0:
            raise LabError("postqueue -s: %s" % p.stderr.strip())


def _self_signed(cert, key, cn, ips=(), days=30):
    san = ",".join(["DNS:" + cn, "DNS:localhost"] + ["IP:" + i for i in ips])
    _openssl(["req", "-x509", "-new", "-newkey", "ec",
              "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
              "-keyout", key, "-out", cert, "-days", str(days),
              "-subj", "/CN=" + cn, "-addext", "subjectAltName=" + san])
    os.chmod(key, 0o600)


# ---------------------------------------------------------------------------
# Dovecot

_DOVECOT_CONF = """\
# Generated by tests/lib/mailservers.py
base_dir = {dir}/run
state_dir = {dir}/state
instance_name = {instance}
log_path = {dir}/dovecot.log
protocols = imap pop3
listen = {host}
ssl = yes
ssl_cert = <{cert}
ssl_key = <{key}
auth_mechanisms = plain
passdb {{
  driver = passwd-file
  args = {dir}/users
}}
userdb {{
  driver = passwd-file
  args = {dir}/users
}}
mail_location = maildir:{dir}/mail/%u
service imap-login {{
  inet_listener imap {{
    port = {imap}
  }}
  inet_listener imaps {{
    port = {imaps}
    ssl = yes
  }}
}}
service pop3-login {{
  inet_listener pop3 {{
    port = {pop3}
  }}
  inet_listener pop3s {{
    port = {pop3s}
    ssl = yes
  }}
}}
"""


class Dovecot(Server):
    """A real Dovecot on @host (127.0.0.1): IMAP with STARTTLS on
    imap_port, IMAPS on imaps_port, POP3 with STLS on pop3_port, POP3S on
    pop3s_port.  One user (user/password) so that it is a working server,
    not just a listener."""

    name = "dovecot"
    workdir_prefix = "mxf-lab-dovecot-"
    port_count = 4
    ready_what = "ports"
    user = "lab"
    password = "lab-secret"

    def __init__(self, ca=None, host="127.0.0.1", cert_days=30,
                 start_timeout=20.0):
        super().__init__(host=host, start_timeout=start_timeout)
        self.ca = ca
        self.cert_days = cert_days
        self.imap_port = self.imaps_port = self.pop3_port = self.pop3s_port = None
        self.ca_file = self.cert_file = self.key_file = None

    @property
    def config_file(self):
        return os.path.join(self.dir, "dovecot.conf")

    @property
    def log_path(self):
        return os.path.join(self.dir, "dovecot.log")

    def ports(self):
        return (self.imap_port, self.imaps_port, self.pop3_port, self.pop3s_port)

    def _prepare(self):
        for d in ("run", "state", "mail"):
            os.mkdir(os.path.join(self.dir, d), 0o755)
        nobody = pwd.getpwnam("nobody")
        os.chown(os.path.join(self.dir, "mail"), nobody.pw_uid, nobody.pw_gid)
        with open(os.path.join(self.dir, "users"), "w") as f:
            f.write("%s:{PLAIN}%s:%d:%d::%s/mail/%s\n"
                    % (self.user, self.password, nobody.pw_uid, nobody.pw_gid,
                       self.dir, self.user))
        self._certificate(self.ca, self.dir, LAB_HOSTNAME, (self.host,),
                          self.cert_days)

    def _configure(self, ports):
        self.imap_port, self.imaps_port, self.pop3_port, self.pop3s_port = ports
        with open(self.config_file, "w") as f:
            f.write(_DOVECOT_CONF.format(
                dir=self.dir, host=self.host, cert=self.cert_file,
                key=self.key_file, imap=ports[0], imaps=ports[1],
                pop3=ports[2], pop3s=ports[3],
                instance="mxf-lab-%s" % os.path.basename(self.dir)[-8:]))

    def _launch(self):
        self._spawn([DOVECOT, "-F", "-c", self.config_file])

    def ready(self):
        return all(net.port_open(self.host, p) for p in self.ports())


# ---------------------------------------------------------------------------
# MariaDB


def mysql_read_packet(sock, limit=1 << 16):
    """(sequence, payload) of one MySQL protocol packet from @sock."""
    try:
        hdr = net.recv_exact(sock, 4)
        n = hdr[0] | hdr[1] << 8 | hdr[2] << 16
        if n > limit:
            raise LabError("packet of %d bytes" % n)
        return hdr[3], net.recv_exact(sock, n)
    except net.Closed as e:
        raise LabError("connection closed in a packet: %s" % e)


def mysql_greeting(host, port, timeout=5.0):
    """The first packet a MySQL/MariaDB server sends on a new connection,
    decoded: {'protocol': 10, 'version': '...'} for a handshake, or
    {'error': code, 'message': '...'} for an ERR packet."""
    with socket.create_connection((host, port), timeout=timeout) as s:
        return _decode_first(mysql_read_packet(s)[1])


def _decode_first(body):
    if body[:1] == b"\xff":
        code = body[1] | body[2] << 8
        msg = body[3:]
        if msg[:1] == b"#":  # SQL state marker and five characters
            msg = msg[6:]
        return {"error": code, "message": msg.decode("utf-8", "replace")}
    return {"protocol": body[0],
            "version": body[1:body.index(b"\0", 1)].decode("ascii", "replace")}


class MariaDB(Server):
    """A real MariaDB server (mariadbd) with a fresh data directory made by
    mariadb-install-db, listening on @host:port and on a socket in its
    directory.  max_connections is MariaDB's minimum, 10, so exhausted() can
    use the server up quickly; connect_timeout is long enough for the
    connections it holds to outlive a test."""

    name = "mariadbd"
    workdir_prefix = "mxf-lab-mariadb-"
    ready_what = "greeting"
    ready_step = 0.1
    stop_timeout = 20.0

    def __init__(self, host="127.0.0.1", start_timeout=60.0):
        super().__init__(host=host, start_timeout=start_timeout)
        self.port = None
        self.install_seconds = None

    @property
    def datadir(self):
        return os.path.join(self.dir, "data")

    @property
    def socket_path(self):
        return os.path.join(self.dir, "mysqld.sock")

    @property
    def log_path(self):
        return os.path.join(self.dir, "error.log")

    # Settings both the bootstrap and the server use.
    def _common(self):
        return ["--datadir=" + self.datadir, "--tmpdir=" + self.dir,
                "--user=root", "--innodb-log-file-size=4M",
                "--innodb-buffer-pool-size=16M", "--skip-log-bin"]

    def _prepare(self):
        t0 = time.monotonic()
        p = subprocess.run(
            [MARIADB_INSTALL_DB, "--no-defaults", "--auth-root-authentication-method=normal",
             "--skip-test-db", "--skip-name-resolve"] + self._common(),
            capture_output=True, text=True, timeout=self.start_timeout,
            stdin=subprocess.DEVNULL, start_new_session=True)
        if p.returncode != 0:
            raise LabError("mariadb-install-db failed (rc %d):\n%s%s"
                           % (p.returncode, p.stdout[-2000:], p.stderr[-2000:]))
        self.install_seconds = time.monotonic() - t0

    def _configure(self, ports):
        self.port = ports[0]

    def _launch(self):
        self._spawn([MARIADBD, "--no-defaults"] + self._common() + [
            "--port=%d" % self.port, "--bind-address=" + self.host,
            "--socket=" + self.socket_path,
            "--pid-file=" + os.path.join(self.dir, "mariadbd.pid"),
            "--log-error=" + self.log_path, "--skip-name-resolve",
            "--max-connections=10", "--connect-timeout=120",
            ])

    def ready(self):
        try:
            return mysql_greeting(self.host, self.port, 1.0).get("protocol") == 10
        except (OSError, LabError):
            return False

    @contextlib.contextmanager
    def exhausted(self, most=64):
        """Use up every connection the server allows (max_connections plus
        the one extra it keeps for an administrator) with connections that
        read the greeting and stay open, so that the server answers the
        next connection with an ERR packet, "Too many connections" (1040),
        instead of a greeting.  Yields that decoded ERR; closes the held
        connections on exit."""
        held = []
        try:
            err = None
            for _ in range(most):
                s = socket.create_connection((self.host, self.port), timeout=5)
                held.append(s)
                first = _decode_first(mysql_read_packet(s)[1])
                if "error" in first:
                    held.pop().close()
                    err = first
                    break
            if err is None:
                raise LabError("mariadbd still greets after %d connections" % most)
            yield err
        finally:
            for s in held:
                s.close()


# ---------------------------------------------------------------------------
# OpenSSH

SSHD = "/usr/sbin/sshd"
SSH_KEYGEN = shutil.which("ssh-keygen") or "/usr/bin/ssh-keygen"


class Sshd(Server):
    """A real OpenSSH server on 127.0.0.1 at `port` and `port2`, with its
    own host key, in @directory (a pathlib.Path; kept at close()).

    A client key, `home`/.ssh/id_ed25519, logs in with an authorized_keys
    line that forces @forced_command, a script whose "{log}" becomes the
    file `commands_log` (the commands it was sent).  `home`/.ssh/known_hosts
    knows the host key for [127.0.0.1]:port, another key ("wrong") for
    [localhost]:port and nothing for port2.  sshd needs root for its
    privilege separation (/run/sshd is made if missing)."""

    name = "sshd"
    port_count = 2
    ready_what = "port"

    def __init__(self, directory, forced_command, start_timeout=10.0):
        super().__init__(host="127.0.0.1", start_timeout=start_timeout,
                         directory=directory)
        self.forced_command = forced_command
        self.home = directory / "home"
        self.commands_log = directory / "commands"
        self.port = self.port2 = None

    @property
    def stderr_path(self):
        return str(self.dir / "sshd.log")

    def _prepare(self):
        d = self.dir
        for key in ("host", "client", "wrong"):
            subprocess.run([SSH_KEYGEN, "-q", "-t", "ed25519", "-N", "", "-C", key,
                            "-f", str(d / key)], check=True, timeout=30,
                           stdin=subprocess.DEVNULL)
        forced = d / "monitor.sh"
        forced.write_text(self.forced_command.format(log=self.commands_log))
        forced.chmod(0o755)
        (d / "authorized_keys").write_text(
            'command="%s",no-pty,no-port-forwarding,no-agent-forwarding,'
            'no-X11-forwarding %s' % (forced, (d / "client.pub").read_text()))
        (d / "sshd_config").write_text(f"""ListenAddress 127.0.0.1
HostKey {d / "host"}
AuthorizedKeysFile {d / "authorized_keys"}
PidFile none
StrictModes no
UsePAM no
PasswordAuthentication no
KbdInteractiveAuthentication no
LogLevel VERBOSE
""")
        os.makedirs("/run/sshd", exist_ok=True)  # privilege separation
        (self.home / ".ssh").mkdir(parents=True, exist_ok=True)
        idfile = self.home / ".ssh" / "id_ed25519"
        idfile.write_bytes((d / "client").read_bytes())
        idfile.chmod(0o600)

    def _configure(self, ports):
        self.port, self.port2 = ports
        d = self.dir
        hostkey = " ".join((d / "host.pub").read_text().split()[:2])
        wrongkey = " ".join((d / "wrong.pub").read_text().split()[:2])
        (self.home / ".ssh" / "known_hosts").write_text(
            f"[127.0.0.1]:{self.port} {hostkey}\n[localhost]:{self.port} {wrongkey}\n")

    def _launch(self):
        self._spawn([SSHD, "-D", "-e", "-f", str(self.dir / "sshd_config"),
                     "-p", str(self.port), "-p", str(self.port2)])

    def ready(self):
        return net.port_open(self.host, self.port, timeout=1)
