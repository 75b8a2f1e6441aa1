"""Isolation, then recovery (issue 9 point 1), with the daemon (`run`)
against a real named.

The monitor sits at the backup's site: mx2 and named are on its loopback,
while mx1 and the witness are at a far site, a network namespace joined to
the monitor by a veth pair (tests/lib/netlab.py), each a fault server
(tests/fakes/fakeserver.py) run inside it.  The link to the far site is cut
for several rounds, so mx1 and the witness fail together, as they do when
the monitor's own uplink goes; then it is restored, and both answer again in
the same round.  mx1 never failed: nothing may change in DNS, neither during
the cut (isolation) nor after it (a failure counted while isolated would
make mx1 DOWN and switch to mx2 in the first round back).  The cut is made
both ways: packets silently lost (checks time out) and the link down
(connections fail at once).

Every wait is bounded; rounds are counted from the state file, which the
daemon rewrites after each one; the namespace and its servers are removed
whatever happened.
"""

import json
import os
import sys
import time

import pytest

import folab
import mxflab
import net
import netlab

MX1, MX2 = folab.MX1, folab.MX2
RECS = mxflab.MAIL_RECORDS
HERE = os.path.dirname(os.path.abspath(__file__))
FAKESERVER = os.path.join(os.path.dirname(HERE), "fakes", "fakeserver.py")
ZONES = ["drop", "down"]
MX2_ADDR = "127.0.0.51"


def zname(short):
    return "%s.iso-rec.test." % short


@pytest.fixture(scope="module")
def named(tmp_path_factory):
    lab, key = mxflab.keyed_lab(str(tmp_path_factory.mktemp("named-iso-rec")), "k-iso-rec",
                                [zname(z) for z in ZONES])
    with lab.running():
        yield lab, key


@pytest.fixture
def far():
    """The far site: mx1 (SMTP) and the witness (SMTP), both inside it."""
    lab = netlab.NetLab()
    try:
        try:
            site = lab.site("far")
        except OSError as e:
            pytest.skip("cannot make a network namespace: %s" % e)
        ports = {}
        for name in ("mx1", "witness"):
            _, port = site.serve([sys.executable, FAKESERVER, "smtp", "--host", site.address,
                                  "--seconds", "600"])
            ports[name] = int(port)
        yield site, ports
    finally:
        lab.close()


@pytest.fixture
def mx2():
    s = folab.MailServer(MX2_ADDR).start()
    yield s
    s.stop()


def state(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return {}


def wait_rounds(state_path, n, timeout):
    """Wait until the daemon has finished @n more rounds (the state file's
    saved_ms changed @n times).  @return the last state read."""
    seen = state(state_path).get("saved_ms")
    count = 0
    end = time.monotonic() + timeout
    while count < n:
        assert time.monotonic() < end, "timed out waiting for %d rounds (saw %d)" % (n, count)
        time.sleep(0.05)
        cur = state(state_path).get("saved_ms")
        if cur is not None and cur != seen:
            seen = cur
            count += 1
    return state(state_path)


def cnames(lab, zone):
    return {r: lab.cname(r + "." + zone) for r in RECS}


def event_types(st):
    return [e.get("event") for e in st.get("events", [])]


@pytest.mark.parametrize("how", ZONES)
def test_isolation_then_recovery_changes_nothing(named, far, mx2, mxf_bin, tmp_path, how):
    lab, key = named
    site, ports = far
    zone = zname(how)
    servers = [("mx1", site.address, MX1, ["smtp://%s:%d" % (site.address, ports["mx1"])]),
               ("mx2", MX2_ADDR, MX2, [mx2.url])]
    conf = folab.write_fo_config(
        str(tmp_path / "mxf.conf"), lab.port, key.path, servers, [zone],
        general={"fall": "2", "rise": "2", "interval": "1s", "timeout": "1s",
                 "witness": "smtp://%s:%d" % (site.address, ports["witness"])})
    spath = str(tmp_path / "state.json")
    d = folab.Daemon(mxf_bin, conf, str(tmp_path / "daemon.log")).start()
    try:
        # Healthy first: both servers UP (rise 2), records on mx1.
        net.wait_until(lambda: all(state(spath).get("servers", {}).get(s, {}).get("state") ==
                                   "up" for s in ("mx1", "mx2")), 20, "both servers up")
        serial = lab.serial(zone)
        assert cnames(lab, zone) == {r: MX1 for r in RECS}

        # The monitor's link to the far site is cut: witness and mx1 fail
        # together, several rounds long (more than fall).
        site.cut(how)
        net.wait_until(lambda: "isolated" in event_types(state(spath)), 20, "isolation")
        st = wait_rounds(spath, 5, 40)
        assert st["isolated"] is True, d.log()
        assert lab.serial(zone) == serial, d.log()
        mx1_during = st["servers"]["mx1"]["state"]

        # Both come back in the same round: still nothing moves.
        site.restore()
        net.wait_until(lambda: "isolation_over" in event_types(state(spath)), 20,
                       "the end of isolation")
        st = wait_rounds(spath, 5, 40)
        assert st["isolated"] is False
        evs = event_types(st)
        assert lab.serial(zone) == serial, (evs, d.log())
        assert cnames(lab, zone) == {r: MX1 for r in RECS}
        for bad in ("switched", "switched_back", "server_down", "switch_failed"):
            assert bad not in evs, (evs, d.log())
        # mx1's failures while isolated did not count: it was UP throughout.
        assert mx1_during == "up"
        assert st["servers"]["mx1"]["state"] == "up", (st["servers"]["mx1"], d.log())
        assert d.alive()
    finally:
        rc, log = d.finish()
    mark = mxflab.sanitizer_report(log)
    assert mark is None, "sanitizer report (%s):\n%s" % (mark, log[-4000:])
    assert rc == 0, log[-4000:]
