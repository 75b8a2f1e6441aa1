"""The quorum lab itself (tests/lib/quorumlab.py), proven with today's
mxfailover (no [quorum] section): three monitor namespaces joined to one
holding named and the mail servers.

  - one monitor alone fails the records over when mx1 dies, and the test
    sees it in named (from the host) and as exactly one notice;
  - cutting one monitor's path to mx1 fails that monitor's check alone
    (dropped: it times out; refused: at once); kill_mx fails everyone's;
  - cutting one monitor from the primary makes its queries time out alone,
    and its UPDATEs never reach named;
  - three monitors run at once, one UPDATE per zone getting through;
  - close() leaves no namespace, link or process behind.

Every wait is bounded; the lab is removed whatever happened.
"""

import os
import subprocess
import time

import pytest

import mxflab
import quorumlab

MX1, MX2 = quorumlab.MX1, quorumlab.MX2


def make_lab(path, mxf_bin):
    why = quorumlab.unavailable()
    if why is not None:
        pytest.skip(why)
    try:
        lab = quorumlab.QuorumLab(str(path), mxf_bin)
    except quorumlab.Unavailable as e:
        pytest.skip(str(e))
    try:
        lab.start()
    except BaseException:
        lab.close()
        raise
    return lab


@pytest.fixture
def qlab(tmp_path, mxf_bin):
    lab = make_lab(tmp_path, mxf_bin)
    try:
        yield lab
    finally:
        lab.close()


def assert_clean(finished):
    """Every monitor stopped by SIGTERM with status 0 and no sanitizer report."""
    for name, (rc, log) in finished.items():
        mark = mxflab.sanitizer_report(log)
        assert mark is None, "%s: sanitizer report (%s):\n%s" % (name, mark, log[-4000:])
        assert rc == 0, "%s exited %r:\n%s" % (name, rc, log[-4000:])


def test_one_monitor_fails_over_when_mx1_dies(qlab):
    a = qlab.start_monitor("mon-a")
    try:
        assert qlab.points_at(MX1), qlab.records()
        before, serials = qlab.updates_done(), qlab.serials()
        # Healthy first: both servers up (rise 2), nothing changed.
        deadline = time.monotonic() + 30
        while not all(a.server_state(s) == "up" for s in ("mx1", "mx2")):
            assert a.alive(), a.log()
            assert time.monotonic() < deadline, (a.state(), a.log())
            time.sleep(0.1)
        assert qlab.updates_done() == before
        assert qlab.events("switched") == []

        t0 = time.monotonic()
        qlab.kill_mx("mx1")
        qlab.wait_points_at(MX2, 30)
        took = time.monotonic() - t0
        assert took < 30
        notices = qlab.wait_events(1, 15, event="switched")
        time.sleep(2)       # two more rounds: no second notice, no more updates
        notices = qlab.events("switched")
        assert len(notices) == 1, qlab.events()
        n = notices[0]
        assert (n["monitor"], n["group"], n["from"], n["to"]) == ("mon-a", "mail", "mx1",
                                                                  "mx2"), n
        # Each of the group's two zones changed once (its UPDATE and the
        # check that follows it), none since; the view zone not at all.
        for z in qlab.zones:
            assert qlab.updates_done(z) == 2, qlab.zone_counters()
            assert qlab.serial(z) == serials[z] + 1
        assert qlab.updates_done(qlab.view_zone) == 0
        assert qlab.serial(qlab.view_zone) == serials[qlab.view_zone]
        assert qlab.updates_done() - before == 2 * len(qlab.zones)
        assert qlab.points_at(MX2)
    finally:
        finished = qlab.stop_monitors()
    assert_clean(finished)


@pytest.mark.parametrize("how", ["drop", "refuse"])
def test_cut_one_monitor_from_mx1(qlab, how):
    a, b = qlab.monitor("mon-a"), qlab.monitor("mon-b")
    assert b.probe("mx1")["state"] == "up"
    qlab.cut("mon-b", "mx1", how)
    r = b.probe("mx1")
    assert r["state"] == "down", r
    assert r["phase"] == "connect", r
    if how == "drop":        # packets lost: the connect runs out its 1s
        assert "timed out" in r["reason"], r
        assert r["ms"] >= 900, r
    else:                    # fails at once
        assert "no route to host" in r["reason"].lower(), r
        assert r["ms"] < 500, r
    assert a.probe("mx1")["state"] == "up"       # only mon-b's path is cut
    assert b.probe("mx2")["state"] == "up"       # only its path to mx1
    assert b.query("mx." + qlab.zones[0]) == [MX1]
    qlab.restore("mon-b", "mx1")
    assert b.probe("mx1")["state"] == "up"


@pytest.mark.parametrize("how", ["refuse", "drop"])
def test_kill_mx_for_everyone(qlab, how):
    qlab.kill_mx("mx1", how)
    for name, m in qlab.monitors.items():
        r = m.probe("mx1")
        assert r["state"] == "down", (name, r)
        assert ("connection refused" if how == "refuse" else "timed out") in r["reason"], r
        assert m.probe("mx2")["state"] == "up", name
    qlab.revive_mx("mx1")
    for name, m in qlab.monitors.items():
        assert m.probe("mx1")["state"] == "up", name


def test_cut_one_monitor_from_dns(qlab):
    a, c = qlab.monitor("mon-a"), qlab.monitor("mon-c")
    name = "smtp." + qlab.zones[0]
    assert c.query(name) == [MX1]
    qlab.cut("mon-c", "dns")
    t0 = time.monotonic()
    assert c.query(name, timeout=1) is None      # no reply: timed out
    assert time.monotonic() - t0 >= 0.9
    assert a.query(name) == [MX1]                # mon-a still reaches named
    assert c.probe("mx1")["state"] == "up"       # and mon-c still reaches mx1
    assert qlab.query(name, "CNAME") == [MX1]    # so does the host
    qlab.restore("mon-c", "dns")
    assert c.query(name) == [MX1]


def test_cut_from_dns_an_update_never_arrives(qlab):
    """A monitor cut from the primary changes nothing there: its UPDATEs
    are lost on the way, not only their replies."""
    c = qlab.start_monitor("mon-c")
    try:
        deadline = time.monotonic() + 30
        while not all(c.server_state(s) == "up" for s in ("mx1", "mx2")):
            assert c.alive() and time.monotonic() < deadline, c.log()
            time.sleep(0.1)
        before, serials = qlab.updates_done(), qlab.serials()
        qlab.cut("mon-c", "dns")
        qlab.kill_mx("mx1")
        deadline = time.monotonic() + 30
        while c.server_state("mx1") != "down":
            assert c.alive() and time.monotonic() < deadline, c.log()
            time.sleep(0.1)
        # It tried, and said so: the switch failed (timed out).
        qlab.wait_events(1, 20, event="switch_failed", monitor="mon-c")
        assert qlab.updates_done() == before
        assert qlab.serials() == serials
        assert qlab.points_at(MX1), qlab.records()
        # The path back: the switch goes through.
        qlab.restore("mon-c", "dns")
        qlab.wait_points_at(MX2, 30)
    finally:
        finished = qlab.stop_monitors()
    assert_clean(finished)


def test_three_monitors_at_once(qlab):
    """The three daemons run side by side; when mx1 dies each sees it, and
    compare-and-swap lets one UPDATE per zone through (the others fail
    their prerequisite).  Without [quorum] each monitor may still send its
    own notice -- what issue 13 is about -- so their number is not fixed
    here."""
    ms = [qlab.start_monitor(n) for n in quorumlab.MONITORS]
    try:
        deadline = time.monotonic() + 30
        while not all(m.server_state(s) == "up" for m in ms for s in ("mx1", "mx2")):
            assert all(m.alive() for m in ms) and time.monotonic() < deadline, \
                [(m.name, m.state().get("servers")) for m in ms]
            time.sleep(0.1)
        serials = qlab.serials()
        qlab.kill_mx("mx1")
        qlab.wait_points_at(MX2, 30)
        downs = qlab.wait_events(3, 15, event="server_down")
        assert sorted(e["monitor"] for e in downs) == sorted(quorumlab.MONITORS), downs
        time.sleep(2)       # the losers' attempts are over
        counters = qlab.zone_counters()
        for z in qlab.zones:
            assert qlab.serial(z) == serials[z] + 1, (z, counters)
            assert counters[z].get("UpdateDone") == 2, counters     # one UPDATE, one check
        assert 1 <= len(qlab.events("switched")) <= 3, qlab.events()
        assert all(m.alive() for m in ms)
    finally:
        finished = qlab.stop_monitors()
    assert_clean(finished)


def lab_leftovers(tag):
    ns = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True,
                        timeout=10).stdout
    links = subprocess.run(["ip", "-o", "link"], capture_output=True, text=True,
                           timeout=10).stdout
    return ([ln for ln in ns.splitlines() if tag in ln] +
            [ln for ln in links.splitlines() if tag in ln])


def test_close_removes_everything(tmp_path, mxf_bin):
    lab = make_lab(tmp_path, mxf_bin)
    try:
        tag = lab.net.tag
        lab.start_monitor("mon-a")
        lab.cut("mon-b", "mx1")
        lab.kill_mx("mx2", how="drop")
        pids = [lab.monitor("mon-a").daemon.proc.pid, lab.named.proc.pid] + \
            [m.proc.pid for m in lab.mail.values()]
        assert len(lab_leftovers(tag)) >= 4 + 3     # srv + 3 monitors, their links
    finally:
        lab.close()
    assert lab_leftovers(tag) == []
    for pid in pids:
        assert not os.path.exists("/proc/%d" % pid) or \
            open("/proc/%d/stat" % pid).read().split()[2] in ("Z", "X"), pid
    lab.close()     # twice is harmless
