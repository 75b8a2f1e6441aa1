"""folab -- pieces of the failover lab shared by tests/system/test_failover*.py,
test_dnsfailover_compat.py and bench/failover.

  MailServer   a TCP listener standing in for a mail server: start() makes
               its check pass, stop() closes it so connections are refused
  DeadHost     an address whose packets are dropped (a powered-off server):
               a network namespace and veth pair made here, removed by close()
  Daemon       `mxfailover run` in the background, killed at close() whatever
               happened
  SlowProxy    UDP+TCP in front of named that delays (or refuses) replies
  FakeMonitor  another [quorum] monitor's view, published by nsupdate
  write_fo_config  a native config with short intervals for the lab

Every loop here is bounded in count and time; nothing touches an address
outside loopback except the namespaces DeadHost itself creates.
"""

import os
import random
import signal
import socket
import struct
import subprocess
import threading
import time

import mxflab
import net

MX1 = mxflab.MX1
MX2 = mxflab.MX2
MAX_LIFETIME = 900.0  # no helper thread outlives this


class MailServer:
    """A TCP listener on @host:@port that greets and closes every client."""

    def __init__(self, host="127.0.0.1", port=None):
        self.host = host
        self.port = port or net.free_port(host)
        self.sock = None
        self.thread = None
        self.accepted = 0

    @property
    def url(self):
        return "tcp://%s:%d" % (self.host, self.port)

    def start(self):
        if self.sock is not None:
            return self
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        for _ in range(50):
            try:
                s.bind((self.host, self.port))
                break
            except OSError:
                time.sleep(0.05)
        else:
            s.close()
            raise OSError("cannot bind %s:%d again" % (self.host, self.port))
        s.listen(64)
        s.settimeout(0.2)
        self.sock = s
        self.thread = threading.Thread(target=self._loop, args=(s,), daemon=True)
        self.thread.start()
        return self

    def _loop(self, s):
        end = time.monotonic() + MAX_LIFETIME
        while self.sock is s and time.monotonic() < end:
            try:
                c, _ = s.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            self.accepted += 1
            try:
                c.settimeout(1)
                c.sendall(b"220 fake ESMTP\r\n")
            except OSError:
                pass
            c.close()

    def stop(self):
        """Close the listener: from now on connections are refused."""
        s, self.sock = self.sock, None
        if s is None:
            return
        try:
            s.close()
        except OSError:
            pass
        if self.thread is not None:
            self.thread.join(timeout=2)

    @property
    def running(self):
        return self.sock is not None


class DeadHost:
    """An IPv4 address in 198.18.0.0/15 whose packets vanish: a veth pair
    whose peer sits, up but without an address, in a namespace made here;
    a permanent neighbour entry lets packets leave without ARP, so a connect
    neither succeeds nor is refused: it times out.  @raise OSError when
    namespaces cannot be made (not root, no CAP_NET_ADMIN)."""

    def __init__(self):
        tag = "%04x" % random.randrange(0x10000)
        self.ns = "mxfo-" + tag
        self.link = "mxfo%s" % tag     # our end
        self.peer = "mxfp%s" % tag     # the end inside the namespace
        third = random.randrange(256)
        self.our = "198.19.%d.1" % third
        self.address = "198.19.%d.2" % third
        self.made = []
        try:
            self._ip("netns", "add", self.ns)
            self.made.append("ns")
            self._ip("link", "add", self.link, "type", "veth", "peer", "name", self.peer)
            self.made.append("link")
            self._ip("link", "set", self.peer, "netns", self.ns)
            self._ip("addr", "add", self.our + "/30", "dev", self.link)
            self._ip("link", "set", self.link, "up")
            self._ip("-n", self.ns, "link", "set", self.peer, "up")
            mac = self._ip("-n", self.ns, "-o", "link", "show", self.peer).split(
                "link/ether")[1].split()[0]
            self._ip("neigh", "replace", self.address, "lladdr", mac, "dev", self.link,
                     "nud", "permanent")
        except Exception:
            self.close()
            raise

    @staticmethod
    def _ip(*args):
        p = subprocess.run(["ip"] + list(args), capture_output=True, text=True, timeout=10)
        if p.returncode != 0:
            raise OSError("ip %s: %s" % (" ".join(args), p.stderr.strip()))
        return p.stdout

    def close(self):
        if "link" in self.made:
            subprocess.run(["ip", "link", "del", self.link], capture_output=True, timeout=10)
        if "ns" in self.made:
            subprocess.run(["ip", "netns", "del", self.ns], capture_output=True, timeout=10)
        self.made = []

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class Daemon:
    """`mxfailover -c CONFIG run` in its own session; stderr to @logpath.
    @prefix goes before the command line: ["ip", "netns", "exec", NS] runs
    it inside a namespace (ip execs it: the pid is still the daemon's)."""

    def __init__(self, binary, config, logpath, env=None, args=(), prefix=()):
        self.binary = binary
        self.config = config
        self.logpath = logpath
        self.env = mxflab.sanitizer_env(env)
        self.args = list(args)
        self.prefix = list(prefix)
        self.proc = None
        self.rc = None

    def start(self):
        with open(self.logpath, "ab") as logf:
            self.proc = subprocess.Popen(
                self.prefix + [self.binary] + self.args + ["-c", self.config, "run"],
                stdin=subprocess.DEVNULL, stdout=logf, stderr=logf, env=self.env,
                start_new_session=True)
        return self

    def log(self):
        try:
            with open(self.logpath, errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def signal(self, sig):
        if self.proc is not None and self.proc.poll() is None:
            os.kill(self.proc.pid, sig)

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def wait(self, timeout):
        """@return the exit code, or None if still running after @timeout."""
        try:
            self.rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            return None
        return self.rc

    def kill9(self):
        if self.alive():
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.rc = self.proc.wait(10)
        return self.rc

    def stop(self, timeout=5.0):
        """SIGTERM, then SIGKILL after @timeout.  @return the exit code of the
        SIGTERM, or None when it had to be killed."""
        if self.proc is None:
            return None
        if self.proc.poll() is not None:
            return self.proc.returncode
        self.signal(signal.SIGTERM)
        rc = self.wait(timeout)
        if rc is None:
            self.kill9()
        return rc

    close = stop

    def finish(self, timeout=10.0):
        """stop(@timeout); @return (its exit code, None when it had to be
        killed, and the whole log)."""
        return self.stop(timeout), self.log()


class SlowProxy:
    """UDP and TCP on one free port, forwarding to 127.0.0.1:@upstream_port.
    .delay (seconds) is slept before each reply of an UPDATE is passed on;
    .down = True drops every UDP query and refuses TCP (the server is
    gone).  Counts UPDATE requests in .updates."""

    def __init__(self, upstream_port):
        self.upstream = ("127.0.0.1", upstream_port)
        self.port = net.free_port(udp=True)
        self.delay = 0.0      # before an UPDATE's reply is passed back
        self.pre_delay = 0.0  # before an UPDATE is passed on to named
        self.drop_updates = False  # UPDATEs counted, then lost
        self.updates = 0
        self.down = False
        self.stop_ev = threading.Event()
        self.udp, self.tcp, _ = net.udp_and_tcp(port=self.port, timeout=0.1)
        self.threads = [threading.Thread(target=self._udp_loop, daemon=True),
                        threading.Thread(target=self._tcp_loop, daemon=True)]
        for t in self.threads:
            t.start()

    def set_down(self, down):
        """Down: UDP queries are dropped, TCP connections refused."""
        self.down = down

    @staticmethod
    def _is_update(msg):
        return len(msg) >= 3 and ((msg[2] >> 3) & 0xF) == 5

    def _udp_one(self, query, client):
        if self._is_update(query):
            self.updates += 1
        up = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            up.settimeout(3)
            if self._is_update(query) and self.pre_delay > 0:
                time.sleep(self.pre_delay)
            if self._is_update(query) and self.drop_updates:
                return
            up.sendto(query, self.upstream)
            reply, _ = up.recvfrom(65535)
            if self._is_update(query) and self.delay > 0:
                time.sleep(self.delay)
            if not self.down:
                self.udp.sendto(reply, client)
        except OSError:
            pass
        finally:
            up.close()

    def _udp_loop(self):
        end = time.monotonic() + MAX_LIFETIME
        while not self.stop_ev.is_set() and time.monotonic() < end:
            try:
                query, client = self.udp.recvfrom(65535)
            except (socket.timeout, OSError):
                continue
            if self.down:
                continue
            threading.Thread(target=self._udp_one, args=(query, client), daemon=True).start()

    def _tcp_one(self, conn):
        with conn:
            conn.settimeout(5)
            try:
                query = net.recv_dns_tcp(conn)
                if self._is_update(query):
                    self.updates += 1
                    if self.pre_delay > 0:
                        time.sleep(self.pre_delay)
                    if self.drop_updates:
                        return
                reply = net.dns_tcp_exchange(self.upstream, query)
                if self._is_update(query) and self.delay > 0:
                    time.sleep(self.delay)
                if not self.down:
                    conn.sendall(net.dns_tcp_frame(reply))
            except OSError:
                pass

    def _tcp_loop(self):
        end = time.monotonic() + MAX_LIFETIME
        while not self.stop_ev.is_set() and time.monotonic() < end:
            try:
                conn, _ = self.tcp.accept()
            except (socket.timeout, OSError):
                continue
            if self.down:
                conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                conn.close()
                continue
            threading.Thread(target=self._tcp_one, args=(conn,), daemon=True).start()

    def close(self):
        self.stop_ev.set()
        for t in self.threads:
            t.join(timeout=2)
        self.udp.close()
        self.tcp.close()


class FakeMonitor:
    """Another [quorum] monitor, as a running one looks to ours: its view
    record at ID._mxfailover.@zone in the record format of
    src/failover/quorum.h ("mxf1" "boot=..." "seq=N" "at=..." "mx1=up" ...),
    written by a TSIG-signed nsupdate through @lab with @key.  publish()
    writes it once with the next seq; start() republishes every @period
    seconds from a thread (bounded in time) until stop(), as a live
    monitor's heartbeat does.  The first sighting of a view is not fresh;
    the one after the next seq is."""

    def __init__(self, lab, key, zone, mon_id, views, boot="00000000000000bb", period=1.0):
        self.lab, self.key = lab, key
        self.owner = "%s._mxfailover.%s" % (mon_id, mxflab.absname(zone))
        self.views = dict(views)
        self.boot = boot
        self.period = period
        self.seq = 0
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.thread = None

    def publish(self, views=None):
        """One UPDATE with the next seq (and @views from now on, when
        given).  @return the seq published."""
        with self.lock:
            if views is not None:
                self.views = dict(views)
            self.seq += 1
            strs = ["mxf1", "boot=" + self.boot, "seq=%d" % self.seq,
                    "at=%d" % int(time.time())]
            strs += ["%s=%s" % kv for kv in self.views.items()]
            r = self.lab.nsupdate("update delete %s TXT\nupdate add %s 30 TXT %s\nsend\n"
                                  % (self.owner, self.owner,
                                     " ".join('"%s"' % s for s in strs)), key=self.key)
            if r.returncode != 0:
                raise OSError("nsupdate of %s failed: %s" % (self.owner, r.stderr))
            return self.seq

    def _loop(self):
        end = time.monotonic() + MAX_LIFETIME
        while not self.stopping.wait(self.period) and time.monotonic() < end:
            try:
                self.publish()
            except (OSError, subprocess.SubprocessError):
                pass

    def start(self):
        """Republish every period from now on (the first at once)."""
        self.publish()
        self.stopping.clear()
        self.thread = threading.Thread(target=self._loop, daemon=True)
        self.thread.start()
        return self

    def stop(self):
        """No more heartbeats: the view goes stale for the readers."""
        self.stopping.set()
        if self.thread is not None:
            self.thread.join(timeout=35)
            self.thread = None


def tcp_servers(*ports, host="127.0.0.1"):
    """@servers for write_fo_config: mx1, mx2... at @host, MX1, MX2... as
    names (mx3.example.com. and so on after those), each checked by
    tcp://@host:PORT with its port of @ports."""
    names = [MX1, MX2] + ["mx%d.example.com." % i for i in range(3, len(ports) + 1)]
    return [("mx%d" % (i + 1), host, names[i], ["tcp://%s:%d" % (host, p)])
            for i, p in enumerate(ports)]


def write_fo_config(path, dns_port, key_file, servers, zones, records=mxflab.MAIL_RECORDS,
                    rtype="CNAME", general=None, group=None, extra="", dns_timeout="1s",
                    dns_server=None, dns=None):
    """A native config for the failover lab.
    @dns      extra [dns] keys (verify_interval...).
    @servers  [(id, address, name, [check urls])] in preference order.
    @general  extra [general] keys (override the short defaults).
    @group    extra [group mail] keys (failback, hold_down...).
    A key (or @rtype, @dns_timeout) given as None is left out, so the
    daemon's default applies.  @dns_server replaces 127.0.0.1:@dns_port.
    @return @path."""
    d = os.path.dirname(os.path.abspath(path))
    gen = {"interval": "1s", "timeout": "1s", "fall": "1", "rise": "1",
           "state_file": os.path.join(d, "state.json"), "log": "stderr"}
    gen.update(general or {})
    grp = {"servers": " ".join(s[0] for s in servers),
           "zones": " ".join(z.rstrip(".") for z in zones),
           "records": " ".join(records), "type": rtype, "failback": "auto",
           "hold_down": "0s"}
    grp.update(group or {})
    lines = ["[general]"] + ["%s = %s" % kv for kv in gen.items() if kv[1] is not None]
    lines += ["", "[dns]", "server = %s" % (dns_server or "127.0.0.1:%d" % dns_port)]
    if dns_timeout is not None:
        lines.append("timeout = %s" % dns_timeout)
    if key_file is not None:
        lines.append("key_file = %s" % key_file)
    lines += ["%s = %s" % kv for kv in (dns or {}).items()]
    for sid, addr, name, checks in servers:
        lines += ["", "[server %s]" % sid, "address = %s" % addr, "name = %s" % name,
                  "checks = %s" % " ".join(checks)]
    lines += ["", "[group mail]"] + ["%s = %s" % kv for kv in grp.items() if kv[1] is not None]
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n" + extra)
    return path
