"""Several monitors, one decision ([quorum], issue 13), with three real
`mxfailover run` monitors, each in its own network namespace in front of one
namespace holding named and the mail servers (tests/lib/quorumlab.py), so
that one monitor's path to mx1, or to the primary, can be cut alone:

  - one monitor cut from mx1: no switch (need 2); its own view says mx1 down;
  - two cut: exactly one switch, one notice; the cut restored: exactly one
    failback;
  - a monitor cut from the primary cannot act: no flip; it loses quorum;
  - one monitor killed: the other two still switch; two killed: quorum
    lost, one alert, no switch;
  - the three deciding in the same round: one UPDATE per zone gets
    through, no duplicate event;
  - `status` shows every monitor's view and freshness.

Intervals are short (1 s, fall 2, rise 2, heartbeat 1 s, stale 3 s); every
wait is bounded and the lab is removed whatever happened.
"""

import json
import signal
import time

import pytest

import mxflab
import net
import quorumlab

MX1, MX2 = quorumlab.MX1, quorumlab.MX2
MONS = quorumlab.MONITORS


def quorum_section(me, need=2, monitors=MONS, heartbeat="1s", stale="3s"):
    return ("[quorum]\nid = %s\nmonitors = %s\nneed = %d\nzone = %s\n"
            "heartbeat = %s\nstale = %s\n"
            % (me, " ".join(monitors), need, quorumlab.VIEW_ZONE, heartbeat, stale))


@pytest.fixture
def qlab(tmp_path, mxf_bin):
    why = quorumlab.unavailable()
    if why is not None:
        pytest.skip(why)
    try:
        lab = quorumlab.QuorumLab(str(tmp_path), mxf_bin)
    except quorumlab.Unavailable as e:
        pytest.skip(str(e))
    try:
        lab.start()
        yield lab
    finally:
        lab.close()


def start_all(lab, names=MONS, **kw):
    mons = {n: lab.start_monitor(n, extra=quorum_section(n, **kw)) for n in names}
    return mons


def quorum_of(mon):
    st = mon.state()
    return (st or {}).get("quorum") or {}


def wait_quorum(mons, timeout=40, fresh=3):
    """Until every monitor has quorum with @fresh fresh views and sees both
    servers up by agreement."""
    def ok():
        for m in mons.values():
            q = quorum_of(m)
            if not q.get("have") or q.get("fresh", 0) < fresh:
                return False
            if q.get("decision") != {"mx1": "up", "mx2": "up"}:
                return False
        return True
    if not net.wait_until(ok, timeout, step=0.2):
        raise AssertionError("no quorum after %d s: %s" % (timeout, {
            n: (quorum_of(m), m.log()[-1500:]) for n, m in mons.items()}))


def assert_clean(lab):
    for name, (rc, log) in lab.stop_monitors().items():
        mark = mxflab.sanitizer_report(log)
        assert mark is None, "%s: sanitizer report (%s):\n%s" % (name, mark, log[-4000:])
        assert rc == 0, "%s exited %r:\n%s" % (name, rc, log[-4000:])


def test_one_monitor_cut_from_mx1_switches_nothing(qlab):
    mons = start_all(qlab)
    wait_quorum(mons)
    before = qlab.serials()
    qlab.cut("mon-a", "mx1")
    # mon-a sees mx1 down (fall 2) and publishes it; the others see it up.
    assert net.wait_until(lambda: quorum_of(mons["mon-b"]).get("monitors") and any(
        m["id"] == "mon-a" and m["views"].get("mx1") == "down" and m["fresh"]
        for m in quorum_of(mons["mon-b"])["monitors"]), 20, step=0.2), \
        quorum_of(mons["mon-b"])
    assert mons["mon-a"].server_state("mx1") == "down"
    time.sleep(4)   # rounds enough for a wrong switch to have happened
    assert qlab.points_at(MX1), qlab.records()
    assert {z: s for z, s in qlab.serials().items() if z != quorumlab.VIEW_ZONE} == \
        {z: s for z, s in before.items() if z != quorumlab.VIEW_ZONE}
    assert qlab.events("switched") == []
    assert quorum_of(mons["mon-a"])["decision"]["mx1"] == "up"
    assert_clean(qlab)


def test_two_cut_switch_once_and_fail_back_once(qlab):
    mons = start_all(qlab)
    wait_quorum(mons)
    qlab.cut("mon-a", "mx1")
    qlab.cut("mon-b", "mx1")
    qlab.wait_points_at(MX2, 30)
    time.sleep(3)
    switched = qlab.events("switched")
    assert len(switched) == 1, qlab.events()
    assert switched[0]["to"] == "mx2"
    qlab.restore("mon-a", "mx1")
    qlab.restore("mon-b", "mx1")
    qlab.wait_points_at(MX1, 40)
    time.sleep(3)
    # The failback is a "switched" notice too, to the preferred server.
    switched = qlab.events("switched")
    assert [e["to"] for e in switched] == ["mx2", "mx1"], qlab.events()
    assert_clean(qlab)


def mail_serials(lab):
    return {z: s for z, s in lab.serials().items() if z != quorumlab.VIEW_ZONE}


def fresh_in(mon, other):
    """Whether @mon counts @other's view as fresh."""
    return any(m["id"] == other and m["fresh"] for m in quorum_of(mon).get("monitors", []))


def test_monitor_cut_from_primary_can_neither_vote_nor_switch(qlab):
    mons = start_all(qlab)
    wait_quorum(mons)
    before = mail_serials(qlab)
    qlab.cut("mon-a", "dns")
    qlab.cut("mon-a", "mx1")
    # The others stop counting mon-a (its view no longer advances), and
    # mon-a, reading nothing, loses quorum itself.
    assert net.wait_until(lambda: not fresh_in(mons["mon-b"], "mon-a")
                          and not fresh_in(mons["mon-c"], "mon-a"), 20, step=0.2), \
        quorum_of(mons["mon-b"])
    assert net.wait_until(lambda: quorum_of(mons["mon-a"]).get("have") is False, 20,
                          step=0.2), quorum_of(mons["mon-a"])
    assert net.wait_until(lambda: mons["mon-a"].server_state("mx1") == "down", 20,
                          step=0.2), mons["mon-a"].log()[-3000:]
    time.sleep(4)
    assert qlab.points_at(MX1), qlab.records()
    assert mail_serials(qlab) == before
    assert qlab.events("switched") == []
    # b and c still have quorum between them and still see mx1 up.
    for n in ("mon-b", "mon-c"):
        q = quorum_of(mons[n])
        assert q["have"] and q["fresh"] == 2 and q["decision"]["mx1"] == "up", q
    # mon-a said it lost quorum, once.
    lost = qlab.events("quorum_lost")
    assert [e["monitor"] for e in lost] == ["mon-a"], qlab.events()
    qlab.restore("mon-a", "all")
    assert net.wait_until(lambda: quorum_of(mons["mon-a"]).get("have") is True, 20,
                          step=0.2), quorum_of(mons["mon-a"])
    assert len(qlab.events("quorum_back", "mon-a")) == 1, qlab.events()
    assert qlab.points_at(MX1)
    assert_clean(qlab)


def test_one_monitor_killed_the_other_two_still_switch(qlab):
    mons = start_all(qlab)
    wait_quorum(mons)
    mons["mon-c"].kill9()
    assert net.wait_until(lambda: not fresh_in(mons["mon-a"], "mon-c"), 20, step=0.2)
    t0 = time.monotonic()
    qlab.kill_mx("mx1")
    qlab.wait_points_at(MX2, 30)
    took = time.monotonic() - t0
    time.sleep(3)
    switched = qlab.events("switched")
    assert len(switched) == 1 and switched[0]["to"] == "mx2", qlab.events()
    assert qlab.events("quorum_lost") == []
    assert took < 30
    mons.pop("mon-c")
    for name, (rc, log) in qlab.stop_monitors().items():
        if name == "mon-c":
            continue
        assert mxflab.sanitizer_report(log) is None, log[-4000:]
        assert rc == 0, (name, rc, log[-4000:])


def test_two_monitors_killed_quorum_lost_nothing_switches(qlab):
    mons = start_all(qlab)
    wait_quorum(mons)
    before = mail_serials(qlab)
    mons["mon-b"].kill9()
    mons["mon-c"].kill9()
    qlab.wait_events(1, 20, event="quorum_lost", monitor="mon-a")
    qlab.kill_mx("mx1")
    assert net.wait_until(lambda: mons["mon-a"].server_state("mx1") == "down", 20,
                          step=0.2), mons["mon-a"].log()[-2000:]
    time.sleep(4)
    assert qlab.points_at(MX1), qlab.records()
    assert mail_serials(qlab) == before
    assert qlab.events("switched") == []
    assert len(qlab.events("quorum_lost")) == 1, qlab.events()
    # status says so, with every monitor's freshness.
    p = mons["mon-a"].mxf(["-c", mons["mon-a"].config, "status"])
    assert mxflab.sanitizer_report(p.stderr) is None, p.stderr
    assert p.returncode == 1, (p.returncode, p.stdout, p.stderr)
    assert "quorum lost: 1 of 3 monitors fresh, 2 needed" in p.stdout, p.stdout
    assert "mon-b" in p.stdout and "stale" in p.stdout, p.stdout
    pj = mons["mon-a"].mxf(["-c", mons["mon-a"].config, "status", "--json"])
    doc = json.loads(pj.stdout)
    assert doc["status"]["verdict"] == "quorum_lost", doc["status"]
    assert doc["quorum"]["have"] is False and doc["quorum"]["fresh"] == 1
    assert doc["quorum"]["decision"]["mx1"] == "unknown"
    # A reload (SIGHUP) keeps what it knows: no second alert.
    mons["mon-a"].signal(signal.SIGHUP)
    assert net.wait_until(lambda: "reload" in mons["mon-a"].log().lower(), 10, step=0.2)
    time.sleep(5)   # more than stale: a forgotten loss would be alerted again
    assert len(qlab.events("quorum_lost")) == 1, qlab.events()
    assert qlab.events("switched") == [] and qlab.points_at(MX1)
    rc, log = mons["mon-a"].finish()
    assert mxflab.sanitizer_report(log) is None, log[-4000:]
    assert rc == 0, log[-4000:]


def test_monitors_deciding_together_one_update_no_duplicate_event(qlab):
    """mx1 dies for all three at once: each reaches the decision within a
    round of the others and plans from the records it last saw, so the
    later ones send their compare-and-swap too; named applies exactly one
    per zone, the others are refused (NXRRSET), find the records already
    on mx2 and say nothing: one notice."""
    mons = start_all(qlab)
    wait_quorum(mons)
    before = mail_serials(qlab)
    fails0 = {z: c.get("UpdateFail", 0) for z, c in qlab.zone_counters().items()}
    qlab.kill_mx("mx1")
    qlab.wait_points_at(MX2, 30)
    time.sleep(4)
    after = mail_serials(qlab)
    assert all(after[z] == before[z] + 1 for z in before), (before, after)
    assert len(qlab.events("switched")) == 1, qlab.events()
    assert qlab.events("switch_failed") == []
    refused = sum(c.get("UpdateFail", 0) - fails0.get(z, 0)
                  for z, c in qlab.zone_counters().items() if z != quorumlab.VIEW_ZONE)
    logs = {n: m.log() for n, m in mons.items()}
    already = [n for n, lg in logs.items() if "already changed when our update came" in lg]
    # Every refused compare-and-swap was a monitor that lost the race and
    # said so (zone by zone), never a second switch.
    assert refused == sum(lg.count("already changed when our update came")
                          for lg in logs.values()), (refused, already)
    # Every monitor holds mx2 as active now.
    for n, m in mons.items():
        assert m.state()["groups"]["mail"]["active"] == "mx2", (n, m.state()["groups"])
    assert_clean(qlab)


@pytest.mark.parametrize("command", ["once", "plan"])
def test_once_and_plan_refuse_quorum(run, tmp_path, command):
    """A single pass cannot see a view advance: with [quorum] only `run`
    decides; `once` and `plan` say so, exit 2 and touch nothing."""
    key = tmp_path / "k.key"
    mxflab.write_key_file(str(key), "k", "hmac-sha256", "c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0")
    cfg = tmp_path / "mxf.conf"
    cfg.write_text(
        "[general]\nstate_file = %s\nlock_file = %s\n"
        "[dns]\nserver = 127.0.0.1:1\nkey_file = %s\n"
        "[server mx1]\naddress = 192.0.2.1\nname = mx1.example.com\nchecks = tcp://192.0.2.1:25\n"
        "[server mx2]\naddress = 192.0.2.2\nname = mx2.example.com\nchecks = tcp://192.0.2.2:25\n"
        "[group mail]\nservers = mx1 mx2\nzones = example.com\nrecords = mail\n"
        "[quorum]\nid = a\nmonitors = a b c\nzone = example.com\n"
        % (tmp_path / "state.json", tmp_path / "lock", key))
    rc, out, err = run([command], config=str(cfg))
    assert rc == 2, (rc, out, err)
    assert "[quorum]" in err and "`%s` cannot decide with several monitors" % command in err, err
    assert not (tmp_path / "state.json").exists()


def test_reload_keeps_the_views(qlab):
    """SIGHUP with the same [quorum]: the monitor goes on with what it has
    seen (no new boot, the others stay fresh, quorum stays had)."""
    mons = start_all(qlab)
    wait_quorum(mons)
    boot = [m["boot"] for m in quorum_of(mons["mon-a"])["monitors"] if m["self"]]
    mons["mon-a"].signal(signal.SIGHUP)
    assert net.wait_until(lambda: "reload" in mons["mon-a"].log().lower(), 10, step=0.2)
    seen = []
    deadline = time.monotonic() + 3
    while time.monotonic() < deadline:
        q = quorum_of(mons["mon-a"])
        seen.append((q.get("have"), q.get("fresh")))
        time.sleep(0.1)
    assert all(h is True and f == 3 for h, f in seen), seen
    assert [m["boot"] for m in quorum_of(mons["mon-a"])["monitors"] if m["self"]] == boot
    assert qlab.events("quorum_lost") == []
    assert_clean(qlab)
