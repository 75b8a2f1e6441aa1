"""Failover end to end with `mxfailover once` and `plan` (issue 4) against a
real named: start-up, failover and failback over two zones, exit codes,
compare-and-swap, isolation, hold_down, manual failback, status, a corrupt
state file, and the A, AAAA and MX record types.

The mail servers are TCP listeners on 127.0.0.11 (mx1) and 127.0.0.12 (mx2)
that the tests open and close; DNS is always read back from named with
dnspython, never from mxfailover's output alone.  The daemon (`run`) is
covered in test_failover_run.py, DNS_Failover's config in
test_dnsfailover_compat.py.
"""

import fcntl
import json
import os
import subprocess

import pytest

import folab
import mxflab
import net

MX1, MX2 = folab.MX1, folab.MX2
RECS = mxflab.MAIL_RECORDS
HAND = "hand.example.net."

# Zones of this module's named: each test owns its own.
CNAME_ZONES = ["start", "fo-a", "fo-b", "codes", "cas", "cas-race", "iso", "hold",
               "manual", "plan", "corrupt", "lock", "pin"]


def zname(short):
    return "%s.fo.test." % short


@pytest.fixture(scope="module")
def named(tmp_path_factory):
    lab, key = mxflab.keyed_lab(str(tmp_path_factory.mktemp("named-fo")), "k-fo",
                                [zname(z) for z in CNAME_ZONES])
    lab.add_zone(zname("at-mx2"), records=[(r, "CNAME", MX2, 300) for r in RECS],
                 update_keys=[key])
    lab.add_zone(zname("a"), records=[("mail", "A", "127.0.0.11", 300),
                                      ("smtp", "A", "127.0.0.11", 300),
                                      ("www", "A", "192.0.2.80", 300)],
                 update_keys=[key])
    lab.add_zone(zname("aaaa"), records=[("mail", "AAAA", "2001:db8::11", 300),
                                         ("smtp", "AAAA", "2001:db8::11", 300)],
                 update_keys=[key])
    lab.add_zone(zname("mx"), records=[("@", "MX", "10 " + MX1, 300),
                                       ("@", "MX", "20 backup.example.net.", 300)],
                 update_keys=[key])
    with lab.running():
        yield lab, key


@pytest.fixture
def mx(request):
    """mx1, mx2 (and a witness) listeners, all started; stopped afterwards."""
    servers = {"mx1": folab.MailServer("127.0.0.11"), "mx2": folab.MailServer("127.0.0.12"),
               "witness": folab.MailServer("127.0.0.13")}
    for s in servers.values():
        s.start()
    yield servers
    for s in servers.values():
        s.stop()


def servers_for(mx, addrs=("127.0.0.11", "127.0.0.12")):
    return [("mx1", addrs[0], MX1, [mx["mx1"].url]), ("mx2", addrs[1], MX2, [mx["mx2"].url])]


@pytest.fixture
def cfg(named, mx, tmp_path):
    """cfg(zones, **kw) -> config path (write_fo_config with the lab's key)."""
    lab, key = named

    def _cfg(zones, name="mxf.conf", servers=None, dns_port=None, **kw):
        return folab.write_fo_config(str(tmp_path / name), dns_port or lab.port, key.path,
                                     servers or servers_for(mx), [zname(z) for z in zones],
                                     **kw)

    return _cfg


def cnames(lab, short, records=RECS):
    return {r: lab.cname(r + "." + zname(short)) for r in records}


def all_point(lab, short, target, records=RECS):
    return all(v == target for v in cnames(lab, short, records).values())


def state_json(cfg_path):
    """state.json with each group's zones from its companion state.json.zones
    (written only when the zones change), as the daemon itself reads them."""
    path = os.path.join(os.path.dirname(cfg_path), "state.json")
    with open(path) as f:
        st = json.load(f)
    with open(path + ".zones") as f:
        zones = json.load(f)
    for gid, g in st.get("groups", {}).items():
        assert "zones" not in g, "the zones belong in state.json.zones"
        g["zones"] = zones["groups"][gid]["zones"]
    return st


def events(cfg_path, run):
    rc, out, err = run(["status", "--json"], config=cfg_path, timeout=20)
    return [e["event"] for e in json.loads(out)["events"]]


# ---- start-up ------------------------------------------------------------------


def test_startup_unknown_server_stops_the_walk(named, mx, cfg, run):
    """fall 2: after one failed round mx1 is still UNKNOWN, so the first pass
    with no state changes nothing and says it is waiting; the second pass
    (mx1 now DOWN) switches."""
    lab, _ = named
    c = cfg(["start"], general={"fall": "2", "rise": "2"})
    mx["mx1"].stop()
    serial = lab.serial(zname("start"))
    rc, out, err = run(["plan"], config=c)
    assert "waiting" in out.lower(), out
    rc, out, err = run(["once"], config=c)
    assert rc == 1, err
    assert all_point(lab, "start", MX1), cnames(lab, "start")
    assert lab.serial(zname("start")) == serial
    assert state_json(c)["servers"]["mx1"]["state"] == "unknown"
    rc, out, err = run(["once"], config=c)
    assert rc == 1, err
    assert all_point(lab, "start", MX2), cnames(lab, "start")
    assert lab.serial(zname("start")) == serial + 1


def test_startup_full_rise_reconciles(named, mx, cfg, run):
    """No state, records on mx2, both healthy: an UNKNOWN server needs the
    full `rise` good rounds before records move toward it (health.h; the
    records may be on mx2 because mx1 was down), so the first pass waits and
    the second (rise 2) points the records back at the preferred mx1 --
    once."""
    lab, _ = named
    c = cfg(["at-mx2"], general={"fall": "2", "rise": "2"})
    serial = lab.serial(zname("at-mx2"))
    rc, out, err = run(["once"], config=c)
    assert rc == 0, err
    assert all_point(lab, "at-mx2", MX2), cnames(lab, "at-mx2")
    assert lab.serial(zname("at-mx2")) == serial
    assert state_json(c)["servers"]["mx1"]["state"] == "unknown"
    rc, out, err = run(["once"], config=c)
    assert rc == 0, err
    assert all_point(lab, "at-mx2", MX1), cnames(lab, "at-mx2")
    assert lab.serial(zname("at-mx2")) == serial + 1
    rc, out, err = run(["once"], config=c)
    assert rc == 0, err
    assert lab.serial(zname("at-mx2")) == serial + 1


# ---- failover and failback ----------------------------------------------------------


def test_failover_and_failback_two_zones(named, mx, cfg, run):
    lab, _ = named
    c = cfg(["fo-a", "fo-b"])
    s0 = {z: lab.serial(zname(z)) for z in ("fo-a", "fo-b")}
    rc, out, err = run(["once"], config=c)
    assert rc == 0, err
    assert {z: lab.serial(zname(z)) for z in s0} == s0   # nothing to do
    mx["mx1"].stop()
    rc, out, err = run(["once"], config=c)
    assert rc == 1, err                                   # degraded, service kept
    for z in ("fo-a", "fo-b"):
        assert all_point(lab, z, MX2), cnames(lab, z)
        assert lab.serial(zname(z)) == s0[z] + 1          # one UPDATE per zone
    # Apex MX and the A records are not managed: untouched.
    assert lab.rrset_values(zname("fo-a"), "MX") == ["10 mx1.fo-a.fo.test."]
    rc, out, err = run(["once"], config=c)                # still down: no new update
    assert rc == 1
    assert lab.serial(zname("fo-a")) == s0["fo-a"] + 1
    mx["mx1"].start()
    rc, out, err = run(["once"], config=c)
    assert rc == 0, err
    for z in ("fo-a", "fo-b"):
        assert all_point(lab, z, MX1), cnames(lab, z)
        assert lab.serial(zname(z)) == s0[z] + 2
    ev = events(c, run)
    assert "switched" in ev and "switched_back" in ev, ev


def test_exit_codes_all_down_and_dns_failure(named, mx, cfg, run):
    lab, _ = named
    c = cfg(["codes"])
    assert run(["once"], config=c)[0] == 0
    serial = lab.serial(zname("codes"))
    mx["mx1"].stop()
    mx["mx2"].stop()
    rc, out, err = run(["once"], config=c)
    assert rc == 4, err
    assert all_point(lab, "codes", MX1)                   # no pointless flip
    assert lab.serial(zname("codes")) == serial
    assert "all_down" in events(c, run)
    # DNS unreachable (nothing on that port): 3, and no crash.
    mx["mx1"].start()
    mx["mx2"].start()
    dead = cfg(["codes"], name="dead.conf", dns_port=net.free_port(udp=True))
    rc, out, err = run(["once"], config=dead)
    assert rc == 3, err


def test_exit_code_lock_held(named, mx, cfg, run, tmp_path):
    lab, _ = named
    c = cfg(["lock"])
    lock = str(tmp_path / "state.json.lock")
    fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o640)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        rc, out, err = run(["once"], config=c, timeout=10)
        assert rc == 5, err
        assert "lock" in err
    finally:
        os.close(fd)
    assert run(["once"], config=c)[0] == 0


# ---- compare-and-swap ------------------------------------------------------------


def test_hand_changed_record_left_alone_absent_never_created(named, mx, cfg, run):
    lab, key = named
    z = zname("cas")
    r = lab.nsupdate("update delete imap.%s CNAME\nupdate add imap.%s 300 CNAME %s\n"
                     "update delete pop3.%s CNAME\nsend\n" % (z, z, HAND, z), key=key)
    assert r.returncode == 0, r.stderr
    c = cfg(["cas"])
    assert run(["once"], config=c)[0] == 0
    serial = lab.serial(z)
    mx["mx1"].stop()
    rc, out, err = run(["once"], config=c)
    assert rc == 1, err
    got = cnames(lab, "cas")
    assert got == {"mx": MX2, "smtp": MX2, "mail": MX2, "imap": HAND, "pop3": None}, got
    assert lab.rrset_values("pop3." + z, "ANY") == []     # not created
    assert lab.serial(z) == serial + 1
    st = state_json(c)
    assert "changed_by_hand" in [e["event"] for e in st["events"]], st["events"]
    assert st["groups"]["mail"]["zones"][z]["records"]["imap"]["hand_changed"] \
        in (True,), st["groups"]["mail"]["zones"]
    mx["mx1"].start()
    rc, out, err = run(["once"], config=c)
    assert cnames(lab, "cas") == {"mx": MX1, "smtp": MX1, "mail": MX1, "imap": HAND,
                                  "pop3": None}
    # Reported once per transition, not once per pass.
    assert events(c, run).count("changed_by_hand") == 1


def test_compare_and_swap_race(named, mx, cfg, run, mxf_bin, tmp_path):
    """The record changes between mxfailover's read and its UPDATE (held
    back by a proxy): named refuses the update on its prerequisite, the
    hand-made value survives, the zone is not half switched, and the next
    pass switches the rest and leaves the hand-made record alone."""
    lab, key = named
    z = zname("cas-race")
    proxy = folab.SlowProxy(lab.port)
    try:
        c = cfg(["cas-race"], dns_port=proxy.port, dns_timeout="5s")
        assert run(["once"], config=c)[0] == 0
        proxy.pre_delay = 1.5
        mx["mx1"].stop()
        serial = lab.serial(z)
        p = subprocess.Popen([mxf_bin, "-c", c, "once"], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True, env=mxflab.sanitizer_env())
        try:
            assert net.wait_until(lambda: proxy.updates >= 1, 10), "no UPDATE seen"
            r = lab.nsupdate("update delete smtp.%s CNAME\nupdate add smtp.%s 300 CNAME %s\n"
                             "send\n" % (z, z, HAND), key=key)
            assert r.returncode == 0, r.stderr
            out, err = p.communicate(timeout=20)
        finally:
            if p.poll() is None:
                p.kill()
                p.wait(5)
        assert mxflab.sanitizer_report(err) is None, err
        assert p.returncode == 3, err
        got = cnames(lab, "cas-race")
        assert got["smtp"] == HAND and got["mx"] == MX1 and got["imap"] == MX1, got
        assert lab.serial(z) == serial + 1                 # only the hand change
        proxy.pre_delay = 0
        rc, out, err = run(["once"], config=c)
        got = cnames(lab, "cas-race")
        assert got == {"mx": MX2, "smtp": HAND, "imap": MX2, "mail": MX2, "pop3": MX2}, \
            (got, err)
    finally:
        proxy.close()


# ---- isolation ------------------------------------------------------------------


def test_isolation_no_change_until_witness_answers(named, mx, cfg, run):
    lab, _ = named
    c = cfg(["iso"], general={"witness": mx["witness"].url})
    assert run(["once"], config=c)[0] == 0
    serial = lab.serial(zname("iso"))
    mx["mx1"].stop()
    mx["witness"].stop()
    rc, out, err = run(["once"], config=c)
    assert all_point(lab, "iso", MX1), cnames(lab, "iso")
    assert lab.serial(zname("iso")) == serial
    rc, out, err = run(["plan"], config=c)
    assert "isolated" in out.lower(), out
    assert "isolated" in events(c, run)
    mx["witness"].start()
    rc, out, err = run(["once"], config=c)
    assert rc == 1, err
    assert all_point(lab, "iso", MX2), cnames(lab, "iso")
    assert lab.serial(zname("iso")) == serial + 1
    assert "isolation_over" in events(c, run)


# ---- hold_down, manual failback, pins in once --------------------------------------


def test_hold_down_holds_the_failback(named, mx, cfg, run):
    lab, _ = named
    c = cfg(["hold"], group={"hold_down": "1h"})
    assert run(["once"], config=c)[0] == 0
    serial = lab.serial(zname("hold"))
    mx["mx1"].stop()
    run(["once"], config=c)
    assert all_point(lab, "hold", MX2)                    # never kept on a DOWN server
    mx["mx1"].start()
    rc, out, err = run(["once"], config=c)
    assert rc == 0, err
    assert all_point(lab, "hold", MX2), cnames(lab, "hold")
    rc, out, err = run(["plan"], config=c)
    assert "held" in out.lower(), out
    assert lab.serial(zname("hold")) == serial + 1


def test_manual_failback_stays(named, mx, cfg, run):
    lab, _ = named
    c = cfg(["manual"], group={"failback": "manual"})
    assert run(["once"], config=c)[0] == 0
    mx["mx1"].stop()
    run(["once"], config=c)
    assert all_point(lab, "manual", MX2)
    serial = lab.serial(zname("manual"))
    mx["mx1"].start()
    for _ in range(2):
        rc, out, err = run(["once"], config=c)
        assert rc == 0, err
    assert all_point(lab, "manual", MX2), cnames(lab, "manual")
    assert lab.serial(zname("manual")) == serial
    # The operator's way back: pin mx2 down.
    assert run(["pin", "mx2", "down"], config=c)[0] == 0
    run(["once"], config=c)
    assert all_point(lab, "manual", MX1), cnames(lab, "manual")


def test_pin_in_once(named, mx, cfg, run):
    lab, _ = named
    c = cfg(["pin"])
    assert run(["once"], config=c)[0] == 0
    rc, out, err = run(["pin", "mx1", "down"], config=c)
    assert rc == 0, err
    run(["once"], config=c)
    assert all_point(lab, "pin", MX2)
    rc, out, err = run(["pin", "nosuch", "down"], config=c)
    assert rc == 2
    assert run(["unpin", "mx1"], config=c)[0] == 0
    assert run(["once"], config=c)[0] == 0
    assert all_point(lab, "pin", MX1)


# ---- plan and status -------------------------------------------------------------


def test_plan_changes_nothing_status_shows_the_switch(named, mx, cfg, run):
    lab, _ = named
    c = cfg(["plan"])
    assert run(["once"], config=c)[0] == 0
    st_path = os.path.join(os.path.dirname(c), "state.json")
    before = open(st_path).read()
    serial = lab.serial(zname("plan"))
    mx["mx1"].stop()
    rc, out, err = run(["plan"], config=c)
    assert "mx.plan.fo.test." in out and MX2 in out, out
    assert "change" in out
    assert lab.serial(zname("plan")) == serial
    assert all_point(lab, "plan", MX1)
    assert open(st_path).read() == before                  # no state written
    run(["once"], config=c)
    assert all_point(lab, "plan", MX2)
    rc, out, err = run(["status"], config=c)
    assert rc == 1, out                                    # mx1 down
    assert "active mx2" in out, out
    assert "mx.plan.fo.test." in out and MX2 in out, out
    rc, out, err = run(["status", "--json"], config=c)
    j = json.loads(out)
    g = j["groups"]["mail"]
    assert g["active"] == "mx2"
    recs = g["zones"][zname("plan")]["records"]
    assert {k: v["values"] for k, v in recs.items()} == {r: [MX2] for r in RECS}
    assert j["servers"]["mx1"]["state"] == "down"
    assert "connection refused" in j["servers"]["mx1"]["checks"][0]["reason"].lower()


def test_corrupt_state_file_is_rebuilt(named, mx, cfg, run):
    lab, _ = named
    c = cfg(["corrupt"])
    assert run(["once"], config=c)[0] == 0
    st_path = os.path.join(os.path.dirname(c), "state.json")
    with open(st_path, "w") as f:
        f.write('{"version": 1, "servers": {"mx1": [garbage')
    mx["mx1"].stop()
    rc, out, err = run(["once"], config=c)
    assert rc == 1, err
    assert "warning" in err.lower() and "state.json" in err, err
    assert all_point(lab, "corrupt", MX2), cnames(lab, "corrupt")
    j = state_json(c)                                       # valid again
    assert j["groups"]["mail"]["active"] == "mx2"
    with open(st_path, "w") as f:
        f.write("\x00\x01 not json at all")
    mx["mx1"].start()
    rc, out, err = run(["once"], config=c)
    assert rc == 0, err
    assert all_point(lab, "corrupt", MX1), cnames(lab, "corrupt")


# ---- record types -------------------------------------------------------------


def test_a_records(named, mx, cfg, run):
    lab, _ = named
    c = cfg(["a"], records=("mail", "smtp", "www"), rtype="A")
    assert run(["once"], config=c)[0] == 0
    mx["mx1"].stop()
    rc, out, err = run(["once"], config=c)
    assert rc == 1, err
    z = zname("a")
    assert lab.rrset_values("mail." + z, "A") == ["127.0.0.12"]
    assert lab.rrset_values("smtp." + z, "A") == ["127.0.0.12"]
    assert lab.rrset_values("www." + z, "A") == ["192.0.2.80"]   # not a group server
    mx["mx1"].start()
    run(["once"], config=c)
    assert lab.rrset_values("mail." + z, "A") == ["127.0.0.11"]


def test_aaaa_records(named, mx, cfg, run):
    lab, _ = named
    servers = servers_for(mx, addrs=("2001:db8::11", "2001:db8::12"))
    c = cfg(["aaaa"], servers=servers, records=("mail", "smtp"), rtype="AAAA")
    assert run(["once"], config=c)[0] == 0
    mx["mx1"].stop()
    rc, out, err = run(["once"], config=c)
    assert rc == 1, err
    z = zname("aaaa")
    assert lab.rrset_values("mail." + z, "AAAA") == ["2001:db8::12"]
    assert lab.rrset_values("smtp." + z, "AAAA") == ["2001:db8::12"]


def test_mx_rrset_keeps_preference_and_other_target(named, mx, cfg, run):
    lab, _ = named
    c = cfg(["mx"], records=("@",), rtype="MX")
    assert run(["once"], config=c)[0] == 0
    mx["mx1"].stop()
    rc, out, err = run(["once"], config=c)
    assert rc == 1, err
    z = zname("mx")
    assert lab.rrset_values(z, "MX") == ["10 " + MX2, "20 backup.example.net."]
    mx["mx1"].start()
    run(["once"], config=c)
    assert lab.rrset_values(z, "MX") == ["10 " + MX1, "20 backup.example.net."]
