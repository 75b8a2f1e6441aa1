"""Proof under faults (issue 9): every DNS change mxfailover makes is an
event, and what it did not write is left alone -- against a real named.

  test_hand_change_during_hold_down_left_alone
      an operator puts a record back on mx1 while the group is held down on
      mx2: the record stays, a changed_by_hand event is recorded
  test_kill9_during_50_zone_switch
      kill -9 of the daemon at 20 random moments of a 50-zone switch (seed
      printed): after each restart DNS converges within 3 rounds and every
      zone that moved is named by exactly one move event of that switch
  test_named_stopped_between_two_zones
      named applies the first zone's UPDATE (a proxy loses the second one, as
      if named had gone), then is stopped once that zone is verified and
      restarted 10 s later: both zones converge, one switch_failed and one
      recovery (switch_completed) notice

Figures are printed (run pytest with -s to see them).  Every daemon is
killed at teardown, every wait is bounded.
"""

import json
import os
import random
import statistics
import subprocess
import threading
import time

import pytest

import folab
import mxflab
import net
from httpsink import HttpSink  # tests/fakes, on the path by conftest.py

MX1, MX2 = folab.MX1, folab.MX2
RECS = mxflab.MAIL_RECORDS
NZONES = 50
KILLS = 20
MOVES = ("switched", "switched_back", "switch_completed")


def zname(short):
    return "%s.faults.test." % short


BULK = ["z%02d" % i for i in range(NZONES)]


@pytest.fixture(scope="module")
def named(tmp_path_factory):
    lab, key = mxflab.keyed_lab(str(tmp_path_factory.mktemp("named-faults")), "k-faults",
                                [zname(z) for z in ["hold"] + BULK])
    with lab.running():
        yield lab, key


@pytest.fixture
def mx():
    servers = {"mx1": folab.MailServer("127.0.0.31"), "mx2": folab.MailServer("127.0.0.32")}
    for s in servers.values():
        s.start()
    yield servers
    for s in servers.values():
        s.stop()


@pytest.fixture
def daemons(mxf_bin, tmp_path):
    """daemons(config, name) -> a started folab.Daemon (with -v -v: one
    "round done" line per round); all are stopped at teardown and their logs
    checked for sanitizer reports."""
    started = []

    def _start(config, name="daemon.log"):
        d = folab.Daemon(mxf_bin, config, str(tmp_path / name), args=["-v", "-v"]).start()
        started.append(d)
        return d

    yield _start
    for d in started:
        d.stop(timeout=5)
    for d in started:
        mark = mxflab.sanitizer_report(d.log())
        assert mark is None, "sanitizer report (%s):\n%s" % (mark, d.log()[-4000:])


def write_cfg(path, port, key, mx, zones, **kw):
    servers = [("mx1", mx["mx1"].host, MX1, [mx["mx1"].url]),
               ("mx2", mx["mx2"].host, MX2, [mx["mx2"].url])]
    return folab.write_fo_config(str(path), port, key.path, servers, zones, **kw)


def load_state(path):
    """The state file, or None while it cannot be read."""
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def events_since(path, since_ms):
    st = load_state(path) or {}
    return [e for e in st.get("events", []) if e.get("at_ms", 0) >= since_ms]


def rounds_done(d):
    return d.log().count("round done in")


def wait_rounds(d, n, timeout):
    """Wait until @d has finished @n more rounds."""
    start = rounds_done(d)
    return net.wait_until(lambda: rounds_done(d) >= start + n, timeout, step=0.05)


def now_ms():
    return int(time.time() * 1000)


# ---- (a) --------------------------------------------------------------------


def test_hand_change_during_hold_down_left_alone(named, mx, daemons, tmp_path):
    lab, key = named
    z = zname("hold")
    # A hand change is found within [dns] verify_interval (SOA serial first).
    c = write_cfg(tmp_path / "mxf.conf", lab.port, key, mx, [z], group={"hold_down": "1h"},
                  dns={"verify_interval": "1s"})
    d = daemons(c)
    assert wait_rounds(d, 1, 10), d.log()
    mx["mx1"].stop()
    assert net.wait_until(lambda: all(lab.cname("%s.%s" % (r, z)) == MX2 for r in RECS), 8,
                          step=0.05), d.log()
    mx["mx1"].start()
    assert wait_rounds(d, 2, 10), d.log()                 # mx1 up again: held down
    serial = lab.serial(z)
    t_hand = now_ms()
    r = lab.nsupdate("update delete smtp.%s CNAME\nupdate add smtp.%s 300 CNAME %s\nsend\n"
                     % (z, z, MX1), key=key)
    assert r.returncode == 0, r.stderr
    hand_serial = lab.serial(z)
    assert hand_serial == serial + 1
    assert wait_rounds(d, 4, 15), d.log()
    # Left alone: neither reverted nor anything else moved.
    assert lab.cname("smtp." + z) == MX1, d.log()
    assert lab.serial(z) == hand_serial, d.log()
    assert all(lab.cname("%s.%s" % (r, z)) == MX2 for r in RECS if r != "smtp")
    evs = events_since(str(tmp_path / "state.json"), t_hand)
    hand = [e for e in evs if e["event"] == "changed_by_hand"]
    assert len(hand) == 1, evs
    assert hand[0]["record"] == "smtp" and "mxfailover wrote mx2" in hand[0]["detail"], hand
    assert "changed by hand" in d.log()
    print("\nhold_down hand change: left alone over 4 rounds, 1 changed_by_hand event: %s"
          % hand[0]["detail"])
    assert d.stop() == 0


# ---- (b) --------------------------------------------------------------------


def bulk_targets(lab):
    """Zone -> the target all its records hold (None when mixed)."""
    out = {}
    for z in BULK:
        vals = {lab.cname("%s.%s" % (r, zname(z))) for r in RECS}
        out[z] = vals.pop() if len(vals) == 1 else None
    return out


def all_at(lab, target):
    return all(v == target for v in bulk_targets(lab).values())


class JitterProxy(folab.SlowProxy):
    """A SlowProxy that holds each UDP UPDATE for a random 0..@spread s (from
    @rng) before passing it on, so a switch's 50 updates reach named spread
    over a window a kill can land in; .sent keeps when each was passed on
    (time.monotonic())."""

    def __init__(self, upstream_port, rng, spread):
        super().__init__(upstream_port)
        self.rng = rng
        self.spread = spread
        self.sent = []
        self.lock = threading.Lock()

    def _udp_one(self, query, client):
        if self._is_update(query):
            with self.lock:
                wait = self.rng.uniform(0, self.spread)
            time.sleep(wait)
            with self.lock:
                self.sent.append(time.monotonic())
        super()._udp_one(query, client)


def test_kill9_during_50_zone_switch(named, mx, daemons, tmp_path):
    lab, key = named
    seed = int(os.environ.get("MXF_FAULT_SEED") or random.randrange(1 << 30))
    rng = random.Random(seed)
    print("\nkill -9 during a 50-zone switch: seed %d (MXF_FAULT_SEED to replay)" % seed)
    proxy = JitterProxy(lab.port, random.Random(seed + 1), 1.0)
    try:
        kill9_cycles(lab, key, mx, daemons, tmp_path, proxy, rng)
    finally:
        proxy.close()


def kill9_cycles(lab, key, mx, daemons, tmp_path, proxy, rng):
    """The body of test_kill9_during_50_zone_switch, DNS through @proxy."""
    c = write_cfg(tmp_path / "mxf.conf", proxy.port, key, mx, [zname(z) for z in BULK],
                  dns_timeout="3s")
    state = str(tmp_path / "state.json")
    d = daemons(c, "daemon-0.log")
    assert wait_rounds(d, 1, 20), d.log()
    assert all_at(lab, MX1)

    def flip(to_mx2):
        if to_mx2:
            mx["mx1"].stop()
        else:
            mx["mx1"].start()

    # Calibration: one unkilled switch gives the window (first zone moved,
    # all moved) the kills are spread over.
    t0 = time.monotonic()
    flip(True)
    assert net.wait_until(lambda: all_at(lab, MX2), 20, step=0.05), d.log()
    assert wait_rounds(d, 1, 10)
    with proxy.lock:
        sent = [t - t0 for t in proxy.sent]
    assert len(sent) >= NZONES, sent
    t_first, t_all = min(sent), max(sent)
    lo, hi = max(0.0, t_first - 0.2), t_all + 0.2
    print("switch window: first UPDATE reached named %.2f s after the flip, the last "
          "%.2f s; kills uniform in [%.2f, %.2f] s after the flip" % (t_first, t_all, lo, hi))

    to_mx2 = False
    rows = []
    for k in range(KILLS):
        target = MX2 if to_mx2 else MX1
        sid = "mx2" if to_mx2 else "mx1"
        assert all_at(lab, MX1 if to_mx2 else MX2)
        delay = rng.uniform(lo, hi)
        t_flip = now_ms()
        flip(to_mx2)
        time.sleep(delay)                    # the kill lands somewhere in the switch
        d.kill9()
        before = bulk_targets(lab)
        moved_at_kill = sum(1 for v in before.values() if v == target)
        t_restart = now_ms()
        d = daemons(c, "daemon-%d.log" % (k + 1))
        t_start = time.monotonic()
        assert net.wait_until(lambda: all_at(lab, target), 20, step=0.02), (k, d.log()[-3000:])
        took = time.monotonic() - t_start
        # The round that converged, and its state save, are over.
        assert wait_rounds(d, 1, 10), d.log()[-3000:]
        # Rounds up to the one that sent the last update (its zones are
        # logged "(verified)" before its "round done" line).
        log = d.log()
        last = log.rfind("(verified)")
        n_rounds = log[:last].count("round done in") + 1 if last >= 0 else 1
        evs = events_since(state, t_flip)
        named_zones = {}
        for e in evs:
            if e["event"] in MOVES:
                assert e.get("to") == sid, e
                for zz in e.get("zones", []):
                    named_zones[zz] = named_zones.get(zz, 0) + 1
        missing = [z for z in BULK if named_zones.get(zname(z), 0) == 0]
        twice = [z for z in BULK if named_zones.get(zname(z), 0) > 1]
        assert not missing, (k, delay, missing, evs)
        assert not twice, (k, delay, twice, evs)
        assert not [e for e in evs if e["event"] == "changed_by_hand"], evs
        rows.append((k, delay, moved_at_kill, took, n_rounds,
                     len([e for e in evs if e["event"] in MOVES]),
                     len([e for e in evs if e["event"] in MOVES and e["at_ms"] >= t_restart])))
        to_mx2 = not to_mx2

    print(" kill  delay_s  zones_moved_at_kill  converge_s  rounds  move_events  after_restart")
    for k, delay, moved, took, n, nev, nre in rows:
        print(" %4d  %7.2f  %19d  %10.2f  %6d  %11d  %13d" % (k, delay, moved, took, n, nev,
                                                             nre))
    rounds = [r[4] for r in rows]
    secs = [r[3] for r in rows]
    mid = [r for r in rows if 0 < r[2] < NZONES]
    print("rounds to converge after restart: median %.1f, max %d; seconds: median %.2f, "
          "max %.2f; kills that cut the switch between zones: %d of %d; switches reported "
          "by the restarted daemon: %d of %d"
          % (statistics.median(rounds), max(rounds), statistics.median(secs), max(secs),
             len(mid), len(rows), sum(1 for r in rows if r[6]), len(rows)))
    assert max(rounds) <= 3, rows
    assert d.stop() == 0


# ---- (c) --------------------------------------------------------------------


class LoseLaterUpdates(folab.SlowProxy):
    """A SlowProxy that, once armed, forwards the first UPDATE (and every
    query, such as its read-back) but loses every later UPDATE, as if named
    had gone right after the first zone; .cut = True then drops everything
    (named is stopped), .reset() lets everything through again.
    .first_done is set when the first UPDATE's reply has been relayed."""

    def __init__(self, upstream_port):
        super().__init__(upstream_port)
        self.armed = False
        self.passed = 0           # UPDATEs let through since armed
        self.cut = False
        self.first_done = threading.Event()
        self.lock = threading.Lock()

    def reset(self):
        with self.lock:
            self.armed = False
            self.cut = False

    def _admit(self, query):
        """@return "drop", "first" (the one UPDATE let through) or "pass"."""
        with self.lock:
            if self.cut:
                return "drop"
            if self.armed and self._is_update(query):
                self.passed += 1
                return "first" if self.passed == 1 else "drop"
            return "pass"

    def _udp_one(self, query, client):
        verdict = self._admit(query)
        if verdict == "drop":
            return
        super()._udp_one(query, client)
        if verdict == "first":
            self.first_done.set()

    def _tcp_one(self, conn):
        with conn:
            conn.settimeout(5)
            try:
                query = net.recv_dns_tcp(conn)
            except OSError:
                return
            verdict = self._admit(query)
            if verdict == "drop":
                return
            try:
                reply = net.dns_tcp_exchange(self.upstream, query)
                conn.sendall(net.dns_tcp_frame(reply))
            except OSError:
                pass
            if verdict == "first":
                self.first_done.set()


def restart_named(lab, timeout=60.0):
    """Start the stopped @lab's named again on its port, with its zones as it
    left them (journal kept: NamedLab.start() would rewrite them)."""
    conf = os.path.join(lab.dir, "named.conf")
    logf = open(lab.log_path, "ab")
    try:
        lab.proc = subprocess.Popen([mxflab.NAMED, "-g", "-c", conf, "-n", str(lab.workers)],
                                    stdin=subprocess.DEVNULL, stdout=logf, stderr=logf,
                                    cwd=lab.dir, start_new_session=True)
    finally:
        logf.close()
    return lab._wait_ready(timeout)


def test_named_stopped_between_two_zones(mx, daemons, tmp_path):
    lab, key = mxflab.keyed_lab(str(tmp_path / "named"), "k-nd",
                                [zname("nd-a"), zname("nd-b")])
    zones = [zname("nd-a"), zname("nd-b")]
    lab.start()
    proxy = LoseLaterUpdates(lab.port)
    try:
        with HttpSink(mode="200") as h:
            c = write_cfg(tmp_path / "mxf.conf", proxy.port, key, mx, zones,
                          extra="[notify]\nwebhook = http://127.0.0.1:%d/hook\n" % h.port)
            d = daemons(c)
            assert wait_rounds(d, 1, 10), d.log()
            proxy.armed = True
            mx["mx1"].stop()
            assert proxy.first_done.wait(10), d.log()
            at_cut = {z: lab.cname("mx." + z) for z in zones}
            assert sorted(at_cut.values()) == [MX1, MX2], at_cut
            first = [z for z in zones if at_cut[z] == MX2][0]
            # The first zone's update is read back and verified, then named
            # goes away.
            assert net.wait_until(
                lambda: "zone %s: mx smtp imap mail pop3" % first in d.log(), 10,
                step=0.02), d.log()[-3000:]
            proxy.cut = True
            lab.stop()                              # named is gone
            t_stop = time.monotonic()
            # The outage: 10 s without named (the fault, not a timing check).
            time.sleep(10)
            assert restart_named(lab), lab.log_tail()
            down_s = time.monotonic() - t_stop
            proxy.reset()
            t_back = time.monotonic()
            assert net.wait_until(
                lambda: all(lab.cname("%s.%s" % (r, z)) == MX2 for z in zones for r in RECS),
                20, step=0.05), d.log()[-4000:]
            took = time.monotonic() - t_back
            assert wait_rounds(d, 2, 10)
            kinds = lambda: [json.loads(b)["event"] for b in h.bodies()]  # noqa: E731
            assert net.wait_until(lambda: "switch_completed" in kinds(), 10, step=0.1), \
                (kinds(), d.log()[-3000:])
            assert wait_rounds(d, 2, 10)
            notices = [json.loads(b) for b in h.bodies()]
            got = kinds()
            failed = [n for n in notices if n["event"] == "switch_failed"]
            recovered = [n for n in notices if n["event"] == "switch_completed"]
            late = [z for z in zones if at_cut[z] == MX1]
            print("\nnamed stopped between two zones: first zone %s moved before the cut; "
                  "named down %.1f s; converged %.2f s after it came back; notices: %s"
                  % ([z for z in zones if at_cut[z] == MX2], down_s, took, got))
            assert len(failed) == 1, notices
            assert len(recovered) == 1, notices
            assert got.count("switched") == 1, notices
            assert failed[0]["zones"] == late and recovered[0]["zones"] == late, notices
            assert d.stop() == 0
    finally:
        proxy.close()
        lab.stop()
