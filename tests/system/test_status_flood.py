"""The status listener can never starve the checks (issue 9, point 9).

A running daemon, started as systemd starts it (soft RLIMIT_NOFILE 1024),
with real checks against loopback servers and a witness, is flooded on its
status port with 1,100 idle connections, several rounds over, plus
slowloris clients sending one byte a second.  The checks keep passing (no
server_down, all_down or isolated event, DNS untouched), every slowloris
connection is closed at its one deadline from accept, and /api/status
answers once the flood is gone."""

import errno
import http.client
import json
import os
import resource
import socket
import subprocess
import time

import pytest

import folab
import mxflab
import net

ZONE = "flood.test."
IDLE = 1100           # idle connections at the start of each round
TOPUP = 300           # more of them opened each second of a round
SLOW = 5              # slowloris clients
ROUNDS = 3            # flood rounds
ROUND_S = 4.0         # each round holds the idle connections this long
DEADLINE_S = 10.0     # STATUS_SERVER_DEADLINE_MS
CAP = 64              # STATUS_SERVER_MAX_CONNS
BAD_EVENTS = {"server_down", "all_down", "isolated", "switched", "switch_failed"}


@pytest.fixture(scope="module")
def flab(tmp_path_factory):
    lab, key = mxflab.keyed_lab(str(tmp_path_factory.mktemp("named-flood")), "k-flood",
                                [ZONE])
    with lab.running():
        yield lab, key


class LowFdDaemon(folab.Daemon):
    """The daemon with the soft descriptor limit systemd gives (1024) and,
    with @hard_too, a hard limit of 1024 too (nothing to raise)."""

    def __init__(self, *args, hard_too=False, **kw):
        super().__init__(*args, **kw)
        self.hard_too = hard_too

    def start(self):
        def low_nofile():
            _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
            resource.setrlimit(resource.RLIMIT_NOFILE, (1024, 1024 if self.hard_too else hard))

        with open(self.logpath, "ab") as logf:
            self.proc = subprocess.Popen(
                [self.binary] + self.args + ["-c", self.config, "run"],
                stdin=subprocess.DEVNULL, stdout=logf, stderr=logf, env=self.env,
                start_new_session=True, preexec_fn=low_nofile)
        return self


def status(port, timeout=2.0):
    """/api/status as a dict, or None when it does not answer."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", "/api/status")
        r = conn.getresponse()
        return json.loads(r.read().decode()) if r.status == 200 else None
    except (OSError, ValueError, http.client.HTTPException):
        return None
    finally:
        conn.close()


def open_idle(port, n):
    """@n non-blocking connects to @port: whether the kernel or the daemon
    holds them, they cost the daemon nothing but what it accepts."""
    socks = []
    for _ in range(n):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setblocking(False)
        rc = s.connect_ex(("127.0.0.1", port))
        assert rc in (0, errno.EINPROGRESS, errno.EAGAIN), os.strerror(rc)
        socks.append(s)
    return socks


def closed_by_peer(s):
    """True once the daemon has closed @s (EOF or reset); @s is non-blocking."""
    try:
        return s.recv(4096) == b""
    except BlockingIOError:
        return False
    except OSError:
        return True


def fd_count(pid):
    try:
        return len(os.listdir("/proc/%d/fd" % pid))
    except OSError:
        return 0


@pytest.mark.parametrize("hard_too", [False, True], ids=["systemd-limit", "hard-1024"])
def test_flood_never_starves_checks(mxf_bin, flab, tmp_path, hard_too):
    """hard_too: the daemon cannot raise its limit, so only the cap on
    status connections keeps descriptors for the checks."""
    lab, key = flab
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = IDLE + int(ROUND_S) * TOPUP + SLOW + 512
    if hard != resource.RLIM_INFINITY and hard < want:
        pytest.skip("hard RLIMIT_NOFILE %d < %d" % (hard, want))
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, want), hard))
    mx1, mx2, wit = (folab.MailServer().start() for _ in range(3))
    http_port = net.free_port(udp=True)
    servers = [("mx1", "127.0.0.1", mxflab.MX1, [mx1.url]),
               ("mx2", "127.0.0.1", mxflab.MX2, [mx2.url])]
    cfg = folab.write_fo_config(
        str(tmp_path / "mxf.conf"), lab.port, key.path, servers, [ZONE],
        records=("mx", "smtp"), rtype=None, group={"failback": None, "hold_down": "0"},
        dns_timeout=None, general={"status_listen": "127.0.0.1:%d" % http_port,
                                   "witness": wit.url})
    daemon = LowFdDaemon(mxf_bin, cfg, str(tmp_path / "d.log"), hard_too=hard_too).start()
    most_fds = 0
    idle, slow = [], []
    try:
        d = net.wait_until(lambda: (lambda d: d if d and d["daemon"]["rounds"] >= 2
                                    else None)(status(http_port)), 20, "a first round")
        rounds0 = d["daemon"]["rounds"]
        cname0 = lab.cname("mx." + ZONE)
        assert cname0 == mxflab.MX1

        # The slowloris clients first, so that they hold slots of their own.
        t_slow = time.monotonic()
        for _ in range(SLOW):
            s = socket.create_connection(("127.0.0.1", http_port), timeout=2)
            s.setblocking(False)
            slow.append(s)
        request = b"GET /api/status HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 200
        slow_closed = {}

        def trickle(n):
            """One byte on each slowloris connection still open."""
            for i, s in enumerate(slow):
                if i in slow_closed:
                    continue
                if closed_by_peer(s):
                    slow_closed[i] = time.monotonic() - t_slow
                    continue
                try:
                    s.send(request[n % len(request):n % len(request) + 1])
                except OSError:
                    slow_closed[i] = time.monotonic() - t_slow

        sent = 0
        for _ in range(ROUNDS):
            idle = open_idle(http_port, IDLE)
            end = time.monotonic() + ROUND_S
            while time.monotonic() < end:
                trickle(sent)
                sent += 1
                # An attacker keeps connecting: the backlog never empties.
                idle += open_idle(http_port, TOPUP)
                time.sleep(1.0)
                most_fds = max(most_fds, fd_count(daemon.proc.pid))
            for s in idle:
                s.close()
            idle = []
            assert daemon.alive(), daemon.log()[-3000:]

        # The flood is over: the endpoint answers, the rounds went on, and
        # nothing failed.
        d = net.wait_until(lambda: status(http_port), 15, "/api/status after the flood")
        bad = [e for e in d.get("events", []) if e.get("event") in BAD_EVENTS]
        assert not bad, bad
        assert lab.cname("mx." + ZONE) == cname0
        assert d["daemon"]["rounds"] >= rounds0 + int(ROUNDS * ROUND_S / 2), d["daemon"]
        # The listener held at most its cap (64) besides the daemon's own.
        assert most_fds <= CAP + 64, most_fds

        # Every slowloris connection ended at its one deadline, however
        # steadily it sent.
        limit = DEADLINE_S + 4.0
        while len(slow_closed) < SLOW and time.monotonic() - t_slow < limit:
            trickle(sent)
            sent += 1
            time.sleep(0.5)
        assert len(slow_closed) == SLOW, \
            "slowloris connections still open after %.0f s: %d of %d" % (
                limit, SLOW - len(slow_closed), SLOW)
        assert min(slow_closed.values()) >= DEADLINE_S - 1.0, slow_closed
    finally:
        for s in idle + slow:
            s.close()
        rc, err = daemon.finish()
        for m in (mx1, mx2, wit):
            m.stop()
    assert rc == 0, err[-3000:]
    assert not mxflab.sanitizer_report(err), err[-5000:]
    assert "Too many open files" not in err, err[-3000:]
    # A check starved by the flood would show as a server going down
    # ("server mx1 is down: ...") or as isolation.
    assert " is down: " not in err and "isolated" not in err.lower(), err[-3000:]
