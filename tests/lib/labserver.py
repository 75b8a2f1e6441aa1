"""labserver -- what the real servers of the Python lab share: the Server
base class (open / start / ready / stop / close), the sessions of their
processes and the check that none outlived its server, work directories,
a throw-away certificate authority and loopback addresses of their own.
tests/lib/mailservers.py builds Postfix, Dovecot, MariaDB and sshd on it.

Why things are done as they are:
  - The temporary directories are made under /tmp (or $MXF_LAB_TMP), mode
    0755, because unprivileged server processes must traverse them
    (pytest's own tmp_path is private to root); MXF_LAB_KEEP keeps them.
  - Every process a server starts runs in a session of its own (a daemon
    that calls setsid(), or started with a new session), so
    leaked_processes() can tell whether anything survived, and stop() can
    end them all.
  - Commands that print their errors only to a terminal run on a
    pseudo-terminal (run_on_tty).

Every wait here is bounded in time and count; nothing connects to anything
but loopback.  Python standard library only, plus openssl and ip.
"""

import atexit
import contextlib
import os
import pty
import select
import shutil
import signal
import subprocess
import tempfile
import threading
import time

import net

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


def wait_for_lab(pred, timeout, what, step=0.05):
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
    wait_for_lab(lambda: not _session_pids(sid), 5, "killed processes")
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


def tail(path, n=30):
    """The last @n lines of the file at @path ("" when unreadable)."""
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
        return "".join(tail(p, n) for p in paths)

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
            wait_for_lab(ready, self.start_timeout,
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


def _self_signed(cert, key, cn, ips=(), days=30):
    san = ",".join(["DNS:" + cn, "DNS:localhost"] + ["IP:" + i for i in ips])
    _openssl(["req", "-x509", "-new", "-newkey", "ec",
              "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
              "-keyout", key, "-out", cert, "-days", str(days),
              "-subj", "/CN=" + cn, "-addext", "subjectAltName=" + san])
    os.chmod(key, 0o600)
