"""systemd's notify protocol (src/daemon/sdnotify.c): the test binds the
unix datagram socket systemd would, points $NOTIFY_SOCKET at it and reads
what `mxfailover run` says: READY=1 with STATUS= after the first full
round, STATUS= naming the new active server after a failover, WATCHDOG=1
each round and from the loop between rounds ($WATCHDOG_USEC shorter than
the interval), RELOADING=1 (with MONOTONIC_USEC=) then READY=1 around
SIGHUP, STOPPING=1 on SIGTERM.  A real named; TCP listeners as the mail
servers.  And with $NOTIFY_SOCKET pointing nowhere the daemon works as
without systemd."""

import os
import re
import signal
import socket
import threading
import time

import pytest

import folab
import mxflab
import net

ZONE = "sdnotify.test."
MX1, MX2 = mxflab.MX1, mxflab.MX2


@pytest.fixture(scope="module")
def nlab(tmp_path_factory):
    lab, key = mxflab.keyed_lab(str(tmp_path_factory.mktemp("named-sdnotify")), "k-sdnotify",
                                [ZONE])
    with lab.running():
        yield lab, key


class NotifySocket:
    """A bound AF_UNIX datagram socket collecting messages in .msgs, each
    (time.monotonic(), {field: value}, raw text)."""

    def __init__(self, path):
        self.path = path
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(path)
        self.sock.settimeout(0.2)
        self.msgs = []
        self.lock = threading.Lock()
        self.done = False
        self.thread = threading.Thread(target=self._loop, daemon=True)
        self.thread.start()

    def _loop(self):
        while not self.done:
            try:
                data = self.sock.recv(65536)
            except socket.timeout:
                continue
            except OSError:
                return
            text = data.decode("utf-8", "replace")
            fields = dict(line.split("=", 1) for line in text.split("\n") if "=" in line)
            with self.lock:
                self.msgs.append((time.monotonic(), fields, text))

    def snapshot(self):
        with self.lock:
            return list(self.msgs)

    def find(self, pred, start=0):
        """Index of the first message at or after @start for which @pred(fields)."""
        for i, (_, f, _) in enumerate(self.snapshot()):
            if i >= start and pred(f):
                return i
        return None

    def wait(self, pred, timeout, what, start=0):
        net.wait_until(lambda: self.find(pred, start) is not None, timeout, what)
        return self.find(pred, start)

    def close(self):
        self.done = True
        self.thread.join(5)
        self.sock.close()


def write_cfg(tmp_path, lab, key_path, p1, p2):
    return folab.write_fo_config(
        str(tmp_path / "mxf.conf"), None, key_path, folab.tcp_servers(p1, p2), [ZONE],
        records=("mx", "smtp"), general={"interval": "2s"},
        group={"hold_down": "0"}, dns_server="127.0.0.1:%d" % lab.port)


def test_notify_protocol(mxf_bin, nlab, tmp_path):
    lab, key = nlab
    lab.nsupdate("update delete mx.%s CNAME\nupdate add mx.%s 300 CNAME %s\n"
                 "update delete smtp.%s CNAME\nupdate add smtp.%s 300 CNAME %s\nsend\n"
                 % (ZONE, ZONE, MX1, ZONE, ZONE, MX1), key=key)
    kpath = str(tmp_path / "k.key")
    mxflab.write_key_file(kpath, key.name, key.algorithm, key.secret)
    mx1, mx2 = net.tcp_listener(), net.tcp_listener()
    cfg = write_cfg(tmp_path, lab, kpath, mx1.getsockname()[1], mx2.getsockname()[1])
    ns = NotifySocket(str(tmp_path / "notify.sock"))
    # Watchdog 0.9 s: pinged every 0.3 s from the loop, far more often than
    # the 2 s rounds.
    env = {"NOTIFY_SOCKET": ns.path, "WATCHDOG_USEC": "900000"}
    d = folab.Daemon(mxf_bin, cfg, str(tmp_path / "d.log"), env=env).start()
    try:
        i = ns.wait(lambda f: f.get("READY") == "1", 15, "READY=1")
        first = ns.snapshot()[i][1]
        assert first.get("STATUS") == "mail: active mx1", first
        assert first.get("WATCHDOG") == "1", first
        assert ns.find(lambda f: "READY" in f or "STATUS" in f) == i, \
            "something before READY=1: %r" % ns.snapshot()[:i]
        # Between two rounds the loop pings on its own (a bare WATCHDOG=1).
        ns.wait(lambda f: f == {"WATCHDOG": "1"}, 5, "a watchdog ping between rounds", i + 1)
        # mx1 dies: the status line names mx2 and why mx1 is down.
        mx1.close()
        net.wait_until(lambda: lab.cname("mx." + ZONE) == MX2, 15, "failover to mx2")
        j = ns.wait(lambda f: f.get("STATUS", "").startswith("mail: active mx2 since "), 10,
                    "STATUS naming mx2")
        status = ns.snapshot()[j][1]["STATUS"]
        assert re.match(r"mail: active mx2 since \d\d:\d\d \(mx1 down: tcp://127\.0\.0\.1:\d+",
                        status), status
        assert "refused" in status, status
        # SIGHUP: RELOADING=1 with MONOTONIC_USEC=, then READY=1 once reloaded.
        before = time.clock_gettime(time.CLOCK_MONOTONIC)
        n = len(ns.snapshot())
        d.signal(signal.SIGHUP)
        k = ns.wait(lambda f: f.get("RELOADING") == "1", 5, "RELOADING=1", n)
        usec = int(ns.snapshot()[k][1]["MONOTONIC_USEC"])
        assert before * 1e6 - 1e6 < usec < time.clock_gettime(time.CLOCK_MONOTONIC) * 1e6 + 1e6
        ns.wait(lambda f: f.get("READY") == "1", 10, "READY=1 after the reload", k + 1)
        net.wait_until(lambda: "configuration reloaded" in d.log(), 5, "the reload logged")
        # SIGTERM: STOPPING=1, and a clean exit.
        n = len(ns.snapshot())
        d.signal(signal.SIGTERM)
        ns.wait(lambda f: f.get("STOPPING") == "1", 5, "STOPPING=1", n)
        rc = d.wait(10)
    finally:
        if d.alive():
            rc = None
        _, text = d.finish()
        mx2.close()
        ns.close()
    assert rc == 0, text
    assert not mxflab.sanitizer_report(text), text
    # Every message is one of ours, well formed.
    for _, f, raw in ns.snapshot():
        assert set(f) <= {"READY", "STATUS", "WATCHDOG", "RELOADING", "MONOTONIC_USEC",
                          "STOPPING"}, raw


def test_notify_socket_gone(mxf_bin, nlab, tmp_path):
    """$NOTIFY_SOCKET naming no socket: sends fail quietly, rounds go on."""
    lab, key = nlab
    kpath = str(tmp_path / "k.key")
    mxflab.write_key_file(kpath, key.name, key.algorithm, key.secret)
    mx1, mx2 = net.tcp_listener(), net.tcp_listener()
    cfg = write_cfg(tmp_path, lab, kpath, mx1.getsockname()[1], mx2.getsockname()[1])
    env = {"NOTIFY_SOCKET": str(tmp_path / "nobody-listens.sock"), "WATCHDOG_USEC": "300000"}
    d = folab.Daemon(mxf_bin, cfg, str(tmp_path / "d.log"), env=env).start()
    try:
        net.wait_until(lambda: os.path.exists(str(tmp_path / "state.json")), 10,
                       "the first round's state file")
        time.sleep(2.5)  # a second round, and watchdog timer ticks
        assert d.alive(), d.log()
    finally:
        rc, text = d.finish()
        mx1.close()
        mx2.close()
    assert rc == 0, text
    assert not mxflab.sanitizer_report(text), text
