"""Host-name checks whose resolver never answers (issue 9, point 8).

The checks' resolver is libevent's evdns reading /etc/resolv.conf; each
test runs mxfailover in a mount namespace of its own (unshare -m) where a
bind mount puts a resolv.conf naming a blackhole in its place: a UDP
socket on loopback that reads every query and never answers.  Forty
host-name checks then sit in "resolve" until their deadline, or until the
daemon stops, cancels them all in one loop pass.  libevent runs more than
32 deferred callbacks of one pass in the next pass, after the engine had
freed the checks: before the fix ASan reported a heap-use-after-free in
resolve_cb.  Every test asserts no sanitizer report."""

import os
import shutil
import signal
import socket
import subprocess
import threading
import time

import pytest

import folab
import mxflab
import net

ZONE = "resolve.test."
NCHECKS = 40

pytestmark = pytest.mark.skipif(shutil.which("unshare") is None or os.geteuid() != 0,
                                reason="needs root and unshare(1) for a mount namespace")


class Blackhole:
    """A UDP socket on 127.0.0.1 that reads queries and never answers."""

    def __init__(self, seconds=60.0):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.queries = 0
        self.stop = threading.Event()
        self.end = time.monotonic() + seconds
        self.thread = threading.Thread(target=self._loop, daemon=True)
        self.thread.start()

    def _loop(self):
        while not self.stop.is_set() and time.monotonic() < self.end:
            try:
                self.sock.recvfrom(4096)
                self.queries += 1
            except socket.timeout:
                continue
            except OSError:
                return

    def close(self):
        self.stop.set()
        self.thread.join(timeout=2)
        self.sock.close()


@pytest.fixture
def blackhole(tmp_path):
    """(a wrapper that runs its arguments with the blackhole as resolver,
    the Blackhole)."""
    bh = Blackhole()
    conf = tmp_path / "resolv.conf"
    conf.write_text("nameserver 127.0.0.1:%d\noptions timeout:30 attempts:1\n" % bh.port)
    wrapper = tmp_path / "in-blackhole"
    # unshare execs, and so does sh: the pid stays the daemon's, for signals.
    wrapper.write_text("#!/bin/sh\nexec unshare -m sh -c "
                       "'mount --bind \"$0\" /etc/resolv.conf && exec \"$@\"' %s \"$@\"\n"
                       % conf)
    wrapper.chmod(0o755)
    yield str(wrapper), bh
    bh.close()


def urls(timeout):
    return ["tcp://h%d.blackhole.test:25/?timeout=%s" % (i, timeout) for i in range(NCHECKS)]


def test_probe_cancels_forty_lookups_at_the_deadline(mxf_bin, blackhole):
    wrapper, bh = blackhole
    r = subprocess.run([wrapper, mxf_bin, "probe"] + urls("1s"), capture_output=True,
                       text=True, timeout=60, env=mxflab.sanitizer_env())
    assert not mxflab.sanitizer_report(r.stderr), r.stderr
    assert r.returncode == 1, r.stdout + r.stderr
    assert r.stdout.count("resolving the host name") == NCHECKS, r.stdout
    assert bh.queries > 0, "the checks did not ask the blackhole"


@pytest.fixture(scope="module")
def rlab(tmp_path_factory):
    lab, key = mxflab.keyed_lab(str(tmp_path_factory.mktemp("named-resolve")), "k-resolve",
                                [ZONE])
    with lab.running():
        yield lab, key


@pytest.mark.parametrize("how", ["deadline", "stop"])
def test_daemon_cancels_forty_lookups(mxf_bin, rlab, blackhole, tmp_path, how):
    """deadline: rounds whose 40 lookups all time out together, then a stop;
    stop: SIGTERM while the 40 lookups of the first round are in flight."""
    lab, key = rlab
    wrapper, bh = blackhole
    mx1, mx2 = net.tcp_listener(), net.tcp_listener()
    servers = folab.tcp_servers(mx1.getsockname()[1], mx2.getsockname()[1])
    servers.append(("mx3", "127.0.0.1", "mx3.example.com.",
                    urls("1s" if how == "deadline" else "20s")))
    cfg = folab.write_fo_config(
        str(tmp_path / "mxf.conf"), lab.port, key.path, servers, [ZONE],
        records=("mx", "smtp"), rtype=None, group={"failback": None, "hold_down": "0"},
        dns_timeout=None, general={"timeout": "20s"} if how == "stop" else None)
    d = folab.Daemon(wrapper, cfg, str(tmp_path / "d.log"), args=[mxf_bin]).start()
    try:
        if how == "deadline":
            # Three rounds of 40 cancelled lookups each.
            net.wait_until(lambda: d.log().count("server mx3:") >= 1 and
                           d.log().count("resolving the host name") >= NCHECKS, 20,
                           "mx3's checks to time out resolving")
            want = 3 * NCHECKS
        else:
            want = NCHECKS
        # A use-after-free kills the daemon (ASan halts it): stop waiting then.
        net.wait_until(lambda: not d.alive() or bh.queries >= want, 20, "%d lookups" % want)
        assert d.alive(), "the daemon died:\n" + d.log()
        rc, text = d.finish()
    finally:
        d.stop()
        mx1.close()
        mx2.close()
    assert not mxflab.sanitizer_report(text), text
    assert rc == 0, text
