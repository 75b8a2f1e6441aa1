"""[dns] verify_interval (issue 12) against a real named: in steady state
the daemon asks each zone's SOA serial once per verify_interval and reads
no record; a hand change is found within verify_interval; a failover still
switches and reads back; a record changed by hand after the daemon last
read it (its CAS prerequisite stale) makes named refuse that zone's update,
the zone is read again and the hand-made record left alone.

Queries are counted by named's own statistics (qtypes of the stats
channel); the tests send no query of their own inside a counted window.
Every daemon is killed at teardown; every wait is bounded.
"""

import json
import os
import time

import pytest

import folab
import mxflab
import net

MX1, MX2 = folab.MX1, folab.MX2
RECS = mxflab.MAIL_RECORDS
HAND = "hand.example.net."

ZONES = ["quiet-a", "quiet-b", "quiet-c", "handfind", "switch-a", "switch-b", "stale-a",
         "stale-b"]


def zname(short):
    return "%s.fo-vi.test." % short


@pytest.fixture(scope="module")
def named(tmp_path_factory):
    lab, key = mxflab.keyed_lab(str(tmp_path_factory.mktemp("named-fo-vi")), "k-fo-vi",
                                [zname(z) for z in ZONES])
    with lab.running():
        yield lab, key


@pytest.fixture
def mx():
    # Each on a free port of its own: the checks tell them apart.
    servers = {"mx1": folab.MailServer("127.0.0.1"), "mx2": folab.MailServer("127.0.0.1")}
    for s in servers.values():
        s.start()
    yield servers
    for s in servers.values():
        s.stop()


@pytest.fixture
def cfg(named, mx, tmp_path):
    lab, key = named

    def _cfg(zones, verify, **kw):
        servers = [("mx1", "127.0.0.1", MX1, [mx["mx1"].url]),
                   ("mx2", "127.0.0.1", MX2, [mx["mx2"].url])]
        return folab.write_fo_config(str(tmp_path / "mxf.conf"), lab.port, key.path, servers,
                                     [zname(z) for z in zones],
                                     dns={"verify_interval": verify}, **kw)

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


def qtypes(lab):
    return lab.stats().get("qtypes", {})


def cnames(lab, short):
    return {r: lab.cname(r + "." + zname(short)) for r in RECS}


def points(lab, short, target):
    return all(v == target for v in cnames(lab, short).values())


def state_events(cfg_path):
    with open(os.path.join(os.path.dirname(cfg_path), "state.json")) as f:
        return [e["event"] for e in json.load(f)["events"]]


def test_steady_state_asks_soa_only(named, mx, cfg, daemon):
    """interval 1 s, verify_interval 3 s, 3 zones x 5 records: in 7 s of
    steady state no record is read (the old daemon read 15 a round, ~105)
    and each zone's serial is asked at most 3 times."""
    lab, _ = named
    c = cfg(["quiet-a", "quiet-b", "quiet-c"], "3s")
    d = daemon(c)
    time.sleep(2.5)                                    # the first, full read is over
    before = qtypes(lab)
    time.sleep(7.0)
    after = qtypes(lab)
    cname = after.get("CNAME", 0) - before.get("CNAME", 0)
    soa = after.get("SOA", 0) - before.get("SOA", 0)
    assert cname == 0, (before, after, d.log()[-3000:])
    assert 3 <= soa <= 9, (soa, before, after)
    assert d.alive()


def test_hand_change_found_within_verify_interval(named, mx, cfg, daemon):
    lab, key = named
    z = zname("handfind")
    c = cfg(["handfind"], "2s")
    d = daemon(c)
    time.sleep(2.0)
    assert "changed_by_hand" not in state_events(c)
    r = lab.nsupdate("update delete imap.%s CNAME\nupdate add imap.%s 300 CNAME %s\nsend\n"
                     % (z, z, HAND), key=key)
    assert r.returncode == 0, r.stderr
    t0 = time.monotonic()
    assert net.wait_until(lambda: "changed_by_hand" in state_events(c), 6, step=0.1), \
        d.log()[-3000:]
    assert time.monotonic() - t0 < 2.0 + 1.0 + 1.0     # verify_interval + a round + slack
    assert cnames(lab, "handfind")["imap"] == HAND      # found, not undone
    assert d.alive()


def test_failover_switches_and_reads_back(named, mx, cfg, daemon):
    """With a long verify_interval the switch does not wait for reads: it
    starts from the values last seen, and every record is read back."""
    lab, _ = named
    c = cfg(["switch-a", "switch-b"], "1h", general={"log": "stderr"})
    d = daemon(c)
    time.sleep(1.5)
    s0 = {z: lab.serial(zname(z)) for z in ("switch-a", "switch-b")}
    mx["mx1"].stop()
    t0 = time.monotonic()
    assert net.wait_until(lambda: points(lab, "switch-a", MX2) and
                          points(lab, "switch-b", MX2), 6, step=0.05), d.log()[-3000:]
    assert time.monotonic() - t0 < 4.0
    assert "(verified)" in d.log()
    for z in s0:
        assert lab.serial(zname(z)) == s0[z] + 1
    mx["mx1"].start()
    assert net.wait_until(lambda: points(lab, "switch-a", MX1) and
                          points(lab, "switch-b", MX1), 6, step=0.05), d.log()[-3000:]
    time.sleep(1.2)
    for z in s0:
        assert lab.serial(zname(z)) == s0[z] + 2    # no flapping on our own serials
    assert d.alive()


def test_stale_prerequisite_reread_and_left_alone(named, mx, cfg, daemon):
    """A record changed by hand while the daemon plans from what it last
    saw (verify_interval 1h: it has not seen the change): named refuses the
    zone's update on its prerequisite, the zone is read again, switched but
    for the hand-made record, which is left alone and reported."""
    lab, key = named
    z = zname("stale-a")
    c = cfg(["stale-a", "stale-b"], "1h")
    d = daemon(c)
    time.sleep(1.5)
    r = lab.nsupdate("update delete smtp.%s CNAME\nupdate add smtp.%s 300 CNAME %s\nsend\n"
                     % (z, z, HAND), key=key)
    assert r.returncode == 0, r.stderr
    time.sleep(1.2)                                    # rounds that do not read it
    assert "changed_by_hand" not in state_events(c)
    mx["mx1"].stop()
    assert net.wait_until(lambda: points(lab, "stale-b", MX2), 6, step=0.05), d.log()[-3000:]
    want = {r: MX2 for r in RECS}
    want["smtp"] = HAND
    assert net.wait_until(lambda: cnames(lab, "stale-a") == want, 8, step=0.1), \
        (cnames(lab, "stale-a"), d.log()[-4000:])
    assert "not changed" in d.log()                    # the refused update, said
    assert net.wait_until(lambda: "changed_by_hand" in state_events(c), 3, step=0.1)
    assert d.alive()
