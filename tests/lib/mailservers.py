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
the same bounded retry on fresh ports (labserver.Server).

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

import contextlib
import grp
import os
import pwd
import shutil
import socket
import subprocess
import time

import net
# The tests reach the lab's shared pieces through this module too
# (mailservers.CertAuthority, mailservers.leaked_processes(), ...).
from labserver import (IP, LAB_HOSTNAME, OPENSSL, CertAuthority,  # noqa: F401
                       LabError, LoopbackAddress, Server, ServerExited,
                       leaked_addresses, leaked_processes, read_line,
                       run_on_tty, running_servers, tail, wait_for_lab)

POSTFIX = shutil.which("postfix") or "/usr/sbin/postfix"
POSTFIX_DAEMON_DIR = "/usr/lib/postfix/sbin"
POSTQUEUE = shutil.which("postqueue") or "/usr/sbin/postqueue"
DOVECOT = shutil.which("dovecot") or "/usr/sbin/dovecot"
MARIADBD = shutil.which("mariadbd") or shutil.which("mysqld") or "/usr/sbin/mariadbd"
MARIADB_INSTALL_DB = (shutil.which("mariadb-install-db")
                      or shutil.which("mysql_install_db")
                      or "/usr/bin/mariadb-install-db")


def have_programs(need=None):
    """The names of the programs this module needs (or of @need) that are
    missing."""
    if need is None:
        need = [POSTFIX, DOVECOT, MARIADBD, MARIADB_INSTALL_DB, OPENSSL, IP]
    return [p for p in need if not os.access(p, os.X_OK)]


def why_not(need=None, not_root="Postfix and Dovecot need root to start"):
    """Why the lab's servers cannot run here, or None: a program of @need
    (default: all of them, see have_programs) is missing, or we are not
    root (then @not_root).  For a module's skipif."""
    missing = have_programs(need)
    if missing:
        return "not installed: %s (./dev deps)" % " ".join(missing)
    if os.geteuid() != 0:
        return not_root
    return None


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
        return tail(self.log_path, n)

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
        wait_for_lab(lambda: os.path.exists(pidfile), 5, "master.pid")
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
