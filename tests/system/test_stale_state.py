"""Stale or lost state (issue 9 point 3), with the daemon (`run`) against a
real named: health in a state file older than 3 x max(fall, rise) x
interval is unknown, and an unknown server needs the full `rise` good
rounds before records move toward it and the full `fall` failed rounds
before they move away from it.

  - An aged state file that says mx1 already failed fall - 1 rounds: after
    a restart a one-round blip of mx1 must not switch (believing the file,
    the blip completes fall and DNS flips, then flips back rise rounds
    later).
  - No state file, records on mx1, a blip of mx1: nothing changes.
  - `once` from a slow timer with fall = rise = 1 (as DNS_Failover's
    config): every pass finds the file stale, and still switches on the
    first failing pass and back on the first good one, with no repeated
    "server down" for a server found down again.
  - No state file, records on mx2 (a failover happened, the state was
    lost), mx1 good for fewer than rise rounds then failing again: the
    records must not move back toward it.

fall = rise = 3, interval 1s: stale after 9 s.  Rounds are counted from
the state file, which the daemon rewrites after each one; every wait is
bounded; every daemon is stopped at the end.
"""

import json
import time

import pytest

import folab
import mxflab
import net

MX1, MX2 = folab.MX1, folab.MX2
RECS = mxflab.MAIL_RECORDS
ZONES = ["aged", "blip", "cron", "lost"]
ADDR1, ADDR2 = "127.0.0.61", "127.0.0.62"
HOUR_MS = 3600 * 1000


def zname(short):
    return "%s.stale.test." % short


@pytest.fixture(scope="module")
def named(tmp_path_factory):
    lab, key = mxflab.keyed_lab(str(tmp_path_factory.mktemp("named-stale")), "k-stale",
                                [zname(z) for z in ZONES[:3]])
    lab.add_zone(zname("lost"), records=[(r, "CNAME", MX2, 300) for r in RECS],
                 update_keys=[key])
    with lab.running():
        yield lab, key


@pytest.fixture
def mx():
    servers = {"mx1": folab.MailServer(ADDR1), "mx2": folab.MailServer(ADDR2)}
    for s in servers.values():
        s.start()
    yield servers
    for s in servers.values():
        s.stop()


@pytest.fixture
def cfg(named, mx, tmp_path):
    lab, key = named

    def _cfg(zone, fall="3", rise="3"):
        servers = [("mx1", ADDR1, MX1, [mx["mx1"].url]), ("mx2", ADDR2, MX2, [mx["mx2"].url])]
        return folab.write_fo_config(str(tmp_path / "mxf.conf"), lab.port, key.path, servers,
                                     [zname(zone)],
                                     general={"fall": fall, "rise": rise, "interval": "1s",
                                              "timeout": "1s"})

    return _cfg


@pytest.fixture
def daemon(mxf_bin, tmp_path):
    started = []

    def _start(config):
        d = folab.Daemon(mxf_bin, config, str(tmp_path / "daemon.log")).start()
        started.append(d)
        return d

    yield _start
    for d in started:
        d.stop(timeout=5)
    for d in started:
        mark = mxflab.sanitizer_report(d.log())
        assert mark is None, "sanitizer report (%s):\n%s" % (mark, d.log()[-4000:])


def read_state(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return {}


def wait_rounds(path, n, timeout, since=None):
    """Wait until @n rounds more than the file showed (or than @since, a
    saved_ms) are saved.  @return the state read last."""
    seen = since if since is not None else read_state(path).get("saved_ms")
    count = 0
    end = time.monotonic() + timeout
    while count < n:
        assert time.monotonic() < end, "timed out waiting for %d rounds (saw %d)" % (n, count)
        time.sleep(0.02)
        cur = read_state(path).get("saved_ms")
        if cur is not None and cur != seen:
            seen = cur
            count += 1
    return read_state(path)


def cnames(lab, zone):
    return {r: lab.cname(r + "." + zone) for r in RECS}


def events(st):
    return [e.get("event") for e in st.get("events", [])]


def assert_nothing_moved(lab, zone, serial, target, st, log):
    assert lab.serial(zone) == serial, (events(st), log[-4000:])
    assert cnames(lab, zone) == {r: target for r in RECS}
    for bad in ("switched", "switched_back"):
        assert bad not in events(st), (events(st), log[-4000:])


def test_aged_state_file_is_unknown(named, mx, cfg, run, daemon, tmp_path):
    lab, _ = named
    zone = zname("aged")
    c = cfg("aged")
    spath = str(tmp_path / "state.json")
    # A real state file: both servers up, then mx1 failing fall - 1 = 2
    # rounds, written by `once` passes (rise 3: three healthy passes first).
    for _ in range(3):
        rc, _, err = run(["once"], config=c)
        assert rc == 0, err
    mx["mx1"].stop()
    for _ in range(2):
        rc, _, err = run(["once"], config=c)
        assert rc == 1, err
    st = read_state(spath)
    assert st["servers"]["mx1"]["state"] == "up" and st["servers"]["mx1"]["bad_run"] == 2, st
    assert st["servers"]["mx2"]["state"] == "up", st
    serial = lab.serial(zone)
    assert cnames(lab, zone) == {r: MX1 for r in RECS}
    # An hour later (its timestamp field says so) the daemon starts; mx1
    # still fails in its first round, then passes.
    st["saved_ms"] -= HOUR_MS
    with open(spath, "w") as f:
        json.dump(st, f)
    aged = st["saved_ms"]
    d = daemon(c)
    st = wait_rounds(spath, 1, 20, since=aged)
    mx["mx1"].start()
    first = st["servers"]["mx1"]
    st = wait_rounds(spath, 6, 30)
    assert_nothing_moved(lab, zone, serial, MX1, st, d.log())
    # The old file was not believed: mx1 was unknown after the blip.
    assert first["state"] == "unknown" and first["bad_run"] == 1, (first, d.log())
    assert "server_down" not in events(st), (events(st), d.log())
    assert st["servers"]["mx1"]["state"] == "up", st["servers"]["mx1"]
    assert "s old, more than 9 s" in d.log(), d.log()
    assert d.stop() == 0


def test_no_state_file_blip(named, mx, cfg, daemon, tmp_path):
    lab, _ = named
    zone = zname("blip")
    c = cfg("blip")
    spath = str(tmp_path / "state.json")
    serial = lab.serial(zone)
    mx["mx1"].stop()
    d = daemon(c)
    wait_rounds(spath, 1, 20)
    mx["mx1"].start()
    st = wait_rounds(spath, 6, 30)
    assert_nothing_moved(lab, zone, serial, MX1, st, d.log())
    assert st["servers"]["mx1"]["state"] == "up", st["servers"]["mx1"]
    assert d.stop() == 0


def test_lost_state_needs_full_rise_toward(named, mx, cfg, daemon, tmp_path):
    """Records on mx2, no state: mx1 passes one or two rounds (fewer than
    rise), then fails again: the records stay on mx2."""
    lab, _ = named
    zone = zname("lost")
    c = cfg("lost")
    spath = str(tmp_path / "state.json")
    serial = lab.serial(zone)
    d = daemon(c)
    wait_rounds(spath, 1, 20)
    mx["mx1"].stop()
    st = wait_rounds(spath, 6, 30)
    assert_nothing_moved(lab, zone, serial, MX2, st, d.log())
    assert st["servers"]["mx1"]["state"] == "down", st["servers"]["mx1"]
    # And once mx1 is back for the full rise, the records do follow it.
    mx["mx1"].start()
    assert net.wait_until(lambda: cnames(lab, zone) == {r: MX1 for r in RECS}, 20), d.log()
    assert lab.serial(zone) == serial + 1
    assert d.stop() == 0


def age(path, ms):
    st = read_state(path)
    st["saved_ms"] -= ms
    with open(path, "w") as f:
        json.dump(st, f)


def test_once_slow_timer_fall_rise_one(named, mx, cfg, run, tmp_path):
    lab, _ = named
    zone = zname("cron")
    c = cfg("cron", fall="1", rise="1")
    spath = str(tmp_path / "state.json")
    serial = lab.serial(zone)
    rc, _, err = run(["once"], config=c)
    assert rc == 0, err
    mx["mx1"].stop()
    age(spath, HOUR_MS)
    rc, _, err = run(["once"], config=c)          # first failing pass: switch
    assert rc == 1, err
    assert "for `once` set interval to the timer's period" in err, err
    assert cnames(lab, zone) == {r: MX2 for r in RECS}
    assert lab.serial(zone) == serial + 1
    age(spath, HOUR_MS)
    rc, _, err = run(["once"], config=c)          # still down: nothing new
    assert rc == 1, err
    assert lab.serial(zone) == serial + 1
    assert events(read_state(spath)).count("server_down") == 1, read_state(spath)["events"]
    mx["mx1"].start()
    age(spath, HOUR_MS)
    rc, _, err = run(["once"], config=c)          # first good pass: back
    assert rc == 0, err
    assert cnames(lab, zone) == {r: MX1 for r in RECS}
    assert lab.serial(zone) == serial + 2
    evs = events(read_state(spath))
    assert evs.count("switched") == 1 and evs.count("switched_back") == 1, evs
