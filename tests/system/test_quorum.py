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
