"""`mxfailover dns get/set/apply` and the daemon against every major
primary: BIND named, Knot DNS (knotd) and PowerDNS Authoritative
(pdns_server, gsqlite3), each started by the tests on loopback
(tests/lib/primaries.py, the `primary` fixture of conftest.py: one server
per kind per session).

set/get with every TSIG algorithm, TTLs, zone discovery, `dns get` with
and without a type, compare-and-swap (--expect), wrong secret, wrong key
name, wrong algorithm, a key the zone does not accept, unsigned updates
refused, unsigned by address, a name-scoped grant, 500 records in one
message, several and many zones in one apply, and the daemon's failover
and failback.  Outcomes are read from the server with dnspython; what
mxfailover prints is checked where it owes the user a reason.  Serials
count UPDATE messages: each adds one on all three (PdnsLab.FIRST_SERIAL).
test_dns.py keeps what needs no real server or named's statistics.
"""

import base64
import os
import re
import time

import pytest

import folab
import mxflab
import net
from conftest import ALG_ZONES, BULK_COUNT, MANY_COUNT, many_zone

MX1, MX2 = mxflab.MX1, mxflab.MX2
MX3 = "mx3.example.com."
RECS = mxflab.MAIL_RECORDS


@pytest.fixture
def pcfg(primary, tmp_path):
    """pcfg(key=Key|None|path, zones=(...), **kw) -> a config in tmp_path
    pointing at the session's server of this kind."""

    def _cfg(key=None, zones=(), name="mxfailover.conf", **kw):
        if isinstance(key, mxflab.Key):
            key = key.path
        return mxflab.write_config(str(tmp_path / name), primary.port,
                                   key_file=key, zones=zones, **kw)

    return _cfg


def sha256(primary):
    return primary.keys["k-hmac-sha256"]


def random_secret(n=32):
    return base64.b64encode(os.urandom(n)).decode()


# ---- set and get ----

@pytest.mark.parametrize("alg", mxflab.ALGORITHMS)
def test_set_then_get(run, primary, pcfg, alg):
    zone = ALG_ZONES[alg]
    name = "mx." + zone
    cfg = pcfg(key=primary.keys["k-" + alg], zones=[zone])
    assert primary.cname(name) == MX1
    serial = primary.serial(zone)

    rc, out, err = run(["dns", "set", name, "CNAME", MX2], config=cfg)
    assert rc == 0, err
    assert primary.cname(name) == MX2
    assert primary.serial(zone) == serial + 1
    assert primary.cname("smtp." + zone) == MX1      # neighbours untouched

    rc, out, err = run(["dns", "get", name, "CNAME"], config=cfg)
    assert rc == 0, err
    assert MX2 in out and MX1 not in out

    rc, out, err = run(["dns", "set", name, "CNAME", MX1], config=cfg)
    assert rc == 0, err
    assert primary.cname(name) == MX1


def test_set_with_ttl(run, primary, pcfg):
    zone = "ttl.test."
    cfg = pcfg(key=sha256(primary), zones=[zone])
    rc, out, err = run(["dns", "set", "imap." + zone, "CNAME", MX2, "123"],
                       config=cfg)
    assert rc == 0, err
    assert primary.cname("imap." + zone) == MX2
    assert primary.rrset_ttl("imap." + zone, "CNAME") == 123


def test_set_keeps_current_ttl_by_default(run, primary, pcfg):
    zone = "ttl.test."
    cfg = pcfg(key=sha256(primary), zones=[zone])
    assert primary.rrset_ttl("pop3." + zone, "CNAME") == 300
    rc, out, err = run(["dns", "set", "pop3." + zone, "CNAME", MX2], config=cfg)
    assert rc == 0, err
    assert primary.cname("pop3." + zone) == MX2
    assert primary.rrset_ttl("pop3." + zone, "CNAME") == 300


def test_zone_found_by_soa_query(run, primary, pcfg):
    """soa.test is in no configured group: the zone comes from an SOA query."""
    cfg = pcfg(key=sha256(primary), zones=["get.test."])
    serial = primary.serial("soa.test")
    rc, out, err = run(["dns", "set", "mail.soa.test.", "CNAME", MX2],
                       config=cfg)
    assert rc == 0, err
    assert primary.cname("mail.soa.test.") == MX2
    assert primary.serial("soa.test") == serial + 1


def test_get_with_type(run, primary, pcfg):
    cfg = pcfg(key=sha256(primary), zones=["get.test."])
    rc, out, err = run(["dns", "get", "www.get.test.", "A"], config=cfg)
    assert rc == 0, err
    assert "192.0.2.80" in out
    rc, out, err = run(["dns", "get", "smtp.get.test.", "CNAME"], config=cfg)
    assert rc == 0, err
    assert MX1 in out


@pytest.mark.parametrize("name", ["nosuch.get.test.", "nosuch.nozone.invalid."])
def test_get_missing_name_exits_3(run, primary, pcfg, name):
    cfg = pcfg(key=sha256(primary), zones=["get.test."])
    rc, out, err = run(["dns", "get", name, "CNAME"], config=cfg)
    assert rc == 3, (out, err)
    assert err.strip()


def test_get_missing_type_exits_3(run, primary, pcfg):
    cfg = pcfg(key=sha256(primary), zones=["get.test."])
    rc, out, err = run(["dns", "get", "www.get.test.", "MX"], config=cfg)
    assert rc == 3, (out, err)


def test_get_without_type_shows_every_type(run, primary, pcfg):
    """Without a type, `dns get` asks for each type that matters instead of
    ANY (Knot answers ANY with one RRset, RFC 8482): the apex shows its
    SOA, NS and MX; a mail name its CNAME; a host its A."""
    zone = "get.test."
    cfg = pcfg(key=sha256(primary), zones=[zone])
    rc, out, err = run(["dns", "get", zone], config=cfg)
    assert rc == 0, err
    for rtype in ("SOA", "NS", "MX"):
        assert re.search(r"\b%s\b" % rtype, out), (rtype, out)
    assert "CNAME" not in out, out
    rc, out, err = run(["dns", "get", "smtp." + zone], config=cfg)
    assert rc == 0, err
    assert "CNAME" in out and MX1 in out, out
    rc, out, err = run(["dns", "get", "mx1." + zone], config=cfg)
    assert rc == 0, err
    assert "192.0.2.10" in out and "CNAME" not in out, out
    rc, out, err = run(["dns", "get", "nosuch." + zone], config=cfg)
    assert rc == 3, (out, err)


# ---- compare-and-swap ----

def test_cas_conflict_changes_nothing(run, primary, pcfg):
    zone = "cas.test."
    cfg = pcfg(key=sha256(primary), zones=[zone])
    serial = primary.serial(zone)
    rc, out, err = run(["dns", "set", "--expect", MX3, "mx." + zone, "CNAME",
                        MX2], config=cfg)
    assert rc == 3, (out, err)
    assert primary.cname("mx." + zone) == MX1
    assert primary.serial(zone) == serial
    assert "mx.cas.test" in err
    assert MX1 in err, err       # what the record holds instead
    assert re.search(r"(?i)expect|changed|conflict|prerequisite|nxrrset|"
                     r"holds|instead", err), err


def test_cas_expect_empty_on_existing_record(run, primary, pcfg):
    zone = "cas.test."
    cfg = pcfg(key=sha256(primary), zones=[zone])
    serial = primary.serial(zone)
    rc, out, err = run(["dns", "set", "--expect", "", "smtp." + zone, "CNAME",
                        MX2], config=cfg)
    assert rc == 3, (out, err)
    assert primary.cname("smtp." + zone) == MX1
    assert primary.serial(zone) == serial


def test_cas_expect_empty_creates(run, primary, pcfg):
    zone = "cas.test."
    cfg = pcfg(key=sha256(primary), zones=[zone])
    assert primary.cname("new." + zone) is None
    rc, out, err = run(["dns", "set", "--expect", "", "new." + zone, "CNAME",
                        MX2, "60"], config=cfg)
    assert rc == 0, err
    assert primary.cname("new." + zone) == MX2
    assert primary.rrset_ttl("new." + zone, "CNAME") == 60


def test_cas_expect_matching_value_succeeds(run, primary, pcfg):
    zone = "cas.test."
    cfg = pcfg(key=sha256(primary), zones=[zone])
    rc, out, err = run(["dns", "set", "--expect", MX1, "imap." + zone, "CNAME",
                        MX2], config=cfg)
    assert rc == 0, err
    assert primary.cname("imap." + zone) == MX2


# ---- keys and signatures ----

@pytest.mark.parametrize("how", ["set", "set-expect", "apply"])
def test_wrong_secret_is_named_and_changes_nothing(run, primary, pcfg,
                                                   tmp_path, how):
    """Whatever the server answers a wrong secret with (BIND and Knot:
    NOTAUTH signed with BADSIG; PowerDNS: NOTAUTH or REFUSED, unsigned),
    mxfailover says the key or its secret was refused, names the key, and
    nothing changes."""
    zone = "badsig.test."
    good = sha256(primary)
    bad = mxflab.write_key_file(str(tmp_path / "bad.key"), good.name,
                                good.algorithm, random_secret())
    cfg = pcfg(key=bad, zones=[zone])
    serial = primary.serial(zone)
    if how == "set":
        args = ["dns", "set", "mx." + zone, "CNAME", MX2]
    elif how == "set-expect":
        args = ["dns", "set", "--expect", MX1, "mx." + zone, "CNAME", MX2]
    else:
        f = tmp_path / "changes"
        f.write_text("mx.%s CNAME %s\nsmtp.%s CNAME %s\n" % (zone, MX2, zone, MX2))
        args = ["dns", "apply", str(f)]
    rc, out, err = run(args, config=cfg)
    assert rc == 3, (out, err)
    assert primary.cname("mx." + zone) == MX1
    assert primary.cname("smtp." + zone) == MX1
    assert primary.serial(zone) == serial
    assert good.name in err, err
    assert re.search(r"(?i)secret", err), err
    assert "forged" not in err, err


def test_wrong_key_name_is_named(run, primary, pcfg, tmp_path):
    zone = "badkey.test."
    good = sha256(primary)
    bad = mxflab.write_key_file(str(tmp_path / "nosuch.key"), "k-nosuch",
                                good.algorithm, good.secret)
    cfg = pcfg(key=bad, zones=[zone])
    serial = primary.serial(zone)
    rc, out, err = run(["dns", "set", "mx." + zone, "CNAME", MX2], config=cfg)
    assert rc == 3, (out, err)
    assert primary.cname("mx." + zone) == MX1
    assert primary.serial(zone) == serial
    assert "k-nosuch" in err, err
    assert "forged" not in err, err


def test_wrong_algorithm_exits_3(run, primary, pcfg, tmp_path):
    zone = "badkey.test."
    good = sha256(primary)
    bad = mxflab.write_key_file(str(tmp_path / "alg.key"), good.name,
                                "hmac-sha512", good.secret)
    cfg = pcfg(key=bad, zones=[zone])
    serial = primary.serial(zone)
    rc, out, err = run(["dns", "set", "pop3." + zone, "CNAME", MX2], config=cfg)
    assert rc == 3, (out, err)
    assert primary.cname("pop3." + zone) == MX1
    assert primary.serial(zone) == serial
    assert good.name in err and "forged" not in err, err


def test_key_not_allowed_for_zone_is_refused(run, primary, pcfg):
    """A valid key the zone does not accept: the server says no (named:
    REFUSED; PowerDNS: REFUSED; Knot already refuses the signed read with
    BADKEY, since no acl of the zone names the key)."""
    zone = "refused.test."
    cfg = pcfg(key=sha256(primary), zones=[zone])
    serial = primary.serial(zone)
    rc, out, err = run(["dns", "set", "mx." + zone, "CNAME", MX2], config=cfg)
    assert rc == 3, (out, err)
    assert primary.cname("mx." + zone) == MX1
    assert primary.serial(zone) == serial
    assert re.search(r"REFUSED|NOTAUTH|BADKEY", err), err
    assert "k-hmac-sha256" in err or "REFUSED" in err, err
    assert "forged" not in err, err


def test_unsigned_update_to_key_only_zone_is_refused(run, primary, pcfg):
    """The lab's key-only zones refuse unsigned updates from loopback (else
    every TSIG test here would prove nothing)."""
    zone = "badkey.test."
    cfg = pcfg(key=None, zones=[zone])
    serial = primary.serial(zone)
    rc, out, err = run(["dns", "set", "smtp." + zone, "CNAME", MX2], config=cfg)
    assert rc == 3, (out, err)
    assert primary.cname("smtp." + zone) == MX1
    assert primary.serial(zone) == serial
    assert re.search(r"REFUSED|NOTAUTH", err), err
    r = primary.nsupdate("update delete smtp.%s CNAME\nsend\n" % zone)
    assert r.returncode != 0 and primary.cname("smtp." + zone) == MX1


def test_unsigned_zone_by_address(run, primary, pcfg):
    zone = "addr.test."
    cfg = pcfg(key=None, zones=[zone])
    text = "".join("%s.%s CNAME %s\n" % (r, zone, MX2) for r in ("mx", "smtp"))
    serial = primary.serial(zone)
    rc, out, err = run(["dns", "apply", "-"], config=cfg, input=text)
    assert rc == 0, err
    assert primary.cname("mx." + zone) == MX2
    assert primary.cname("smtp." + zone) == MX2
    assert primary.cname("imap." + zone) == MX1
    assert primary.serial(zone) == serial + 1
    warnings = [l for l in err.splitlines() if "unsigned" in l.lower()]
    assert len(warnings) == 1, "want one warning per run:\n" + err


def test_name_scoped_grant(run, primary, pcfg):
    """The man page's narrow grant (BIND: grant KEY name N CNAME; Knot: acl
    update-owner name, update-type CNAME): the mail CNAMEs switch, any
    other name or type is refused and stays."""
    if primary.kind == "pdns":
        pytest.skip("PowerDNS has no per-name update restriction "
                    "(only a Lua update policy)")
    zone = "scoped.test."
    cfg = pcfg(key=sha256(primary), zones=[zone])
    rc, out, err = run(["dns", "set", "mx." + zone, "CNAME", MX2], config=cfg)
    assert rc == 0, err
    assert primary.cname("mx." + zone) == MX2
    serial = primary.serial(zone)
    rc, out, err = run(["dns", "set", "www." + zone, "A", "192.0.2.99"],
                       config=cfg)
    assert rc == 3, (out, err)
    assert primary.rrset_values("www." + zone, "A") == ["192.0.2.80"]
    rc, out, err = run(["dns", "set", "mx1." + zone, "CNAME", MX2], config=cfg)
    assert rc == 3, (out, err)
    assert primary.rrset_values("mx1." + zone, "A") == ["192.0.2.10"]
    assert primary.serial(zone) == serial
    # Knot signs its refusal with TSIG error BADKEY ("not for this zone").
    assert re.search(r"REFUSED|NOTAUTH|BADKEY", err), err


# ---- many records, several zones ----

def test_apply_500_records_one_message(run, primary, pcfg, tmp_path):
    """500 records of one zone go in one UPDATE (over TCP: it is far over
    512 bytes), confirmed by one prerequisite-only UPDATE rather than 500
    reads: the serial grows by exactly one and every record switched."""
    zone = "bulk.test."
    cfg = pcfg(key=sha256(primary), zones=[zone])
    names = ["r%03d.%s" % (i, zone) for i in range(BULK_COUNT)]
    f = tmp_path / "changes"
    f.write_text("# switch all of bulk.test\n\n" +
                 "".join("%s CNAME %s\n" % (n, MX2) for n in names))
    serial = primary.serial(zone)
    before = primary.counters() if primary.kind == "named" else None
    rc, out, err = run(["dns", "apply", str(f)], config=cfg, timeout=120)
    assert rc == 0, err
    if before is not None:
        # named counts them: the UPDATE and its check, both over TCP (the
        # only requests bigger than 288 bytes are updates; queries are
        # small).
        after = primary.counters()

        def delta(k):
            return after.get(k, 0) - before.get(k, 0)

        assert delta("opcode:UPDATE") == 2, delta("opcode:UPDATE")
        assert delta("ns:UpdateDone") == 2, delta("ns:UpdateDone")
        # The reads of the current values before it (each name found
        # with its zone), none after: 500 reads back were 500 more.
        assert delta("opcode:QUERY") <= BULK_COUNT + 10, delta("opcode:QUERY")
        assert delta("tcp-req:288+") >= 1
        assert delta("udp-req:288+") == 0
    assert primary.serial(zone) == serial + 1
    z = primary.axfr(zone)
    wrong = []
    for n in names:
        rds = z.get_rdataset(n[: -len(zone) - 1], "CNAME")
        if not rds or rds[0].target.to_text() != MX2:
            wrong.append(n)
    assert not wrong, "%d records not switched, e.g. %s" % (len(wrong), wrong[:3])
    assert primary.cname("mx." + zone) == MX1     # not in the file: untouched


def test_apply_from_stdin_several_zones(run, primary, pcfg):
    zones = ["hmac-sha256.test.", "ttl.test."]
    cfg = pcfg(key=sha256(primary), zones=zones)
    serials = {z: primary.serial(z) for z in zones}
    text = "".join("mail.%s CNAME %s\n" % (z, MX2) for z in zones)
    rc, out, err = run(["dns", "apply", "-"], config=cfg, input=text)
    assert rc == 0, err
    for z in zones:
        assert primary.cname("mail." + z) == MX2
        assert primary.serial(z) == serials[z] + 1


def test_apply_one_zone_fails_others_go_ahead(run, primary, pcfg):
    """refused.test does not accept k-hmac-sha256: exit 3, yet the other
    zone is switched (zones are independent)."""
    good, bad = "get.test.", "refused.test."
    cfg = pcfg(key=sha256(primary), zones=[good, bad])
    text = "pop3.%s CNAME %s\nimap.%s CNAME %s\n" % (good, MX2, bad, MX2)
    rc, out, err = run(["dns", "apply", "-"], config=cfg, input=text)
    assert rc == 3, (out, err)
    assert primary.cname("pop3." + good) == MX2
    assert primary.cname("imap." + bad) == MX1


# ---- many zones ----

def test_apply_many_zones(run, primary, pcfg, tmp_path):
    zones = [many_zone(i) for i in range(MANY_COUNT)]
    cfg = pcfg(key=sha256(primary), zones=zones)
    f = tmp_path / "changes"
    f.write_text("".join("%s.%s CNAME %s\n" % (r, z, MX2)
                         for z in zones for r in RECS))
    serials = {z: primary.serial(z) for z in zones}
    rc, out, err = run(["dns", "apply", str(f)], config=cfg, timeout=120)
    assert rc == 0, err
    wrong = [(r, z) for z in zones for r in RECS
             if primary.cname("%s.%s" % (r, z)) != MX2]
    assert not wrong, "%d records not switched, e.g. %s" % (len(wrong), wrong[:3])
    assert all(primary.serial(z) == serials[z] + 1 for z in zones)
    # And back: the read-back of each zone agrees.
    f.write_text("".join("%s.%s CNAME %s\n" % (r, z, MX1)
                         for z in zones for r in RECS))
    rc, out, err = run(["dns", "apply", str(f)], config=cfg, timeout=120)
    assert rc == 0, err
    assert all(primary.cname("mx." + z) == MX1 for z in zones)


# ---- the daemon ----

def test_daemon_failover_and_failback(primary, mxf_bin, tmp_path):
    zones = ["fo-a.test.", "fo-b.test."]
    mx = {"mx1": folab.MailServer("127.0.0.1").start(),
          "mx2": folab.MailServer("127.0.0.1").start()}
    servers = [("mx1", "127.0.0.1", MX1, [mx["mx1"].url]),
               ("mx2", "127.0.0.1", MX2, [mx["mx2"].url])]
    cfg = folab.write_fo_config(str(tmp_path / "fo.conf"), primary.port,
                                sha256(primary).path, servers, zones)
    d = folab.Daemon(mxf_bin, cfg, str(tmp_path / "daemon.log")).start()

    def points(target):
        return all(primary.cname("%s.%s" % (r, z)) == target
                   for z in zones for r in RECS)

    try:
        assert net.wait_until(lambda: points(MX1), 3), d.log()
        time.sleep(1.2)                                   # a healthy round
        serials = {z: primary.serial(z) for z in zones}
        mx["mx1"].stop()
        assert net.wait_until(lambda: points(MX2), 8, step=0.05), d.log()
        assert all(primary.serial(z) > serials[z] for z in zones)
        mx["mx1"].start()
        assert net.wait_until(lambda: points(MX1), 8, step=0.05), d.log()
        assert d.alive(), d.log()
        assert d.stop() == 0
        log = d.log()
        assert "switched" in log and "switched back" in log, log
        mark = mxflab.sanitizer_report(log)
        assert mark is None, log
    finally:
        d.stop()
        for s in mx.values():
            s.stop()


def test_daemon_names_a_refused_key(primary, mxf_bin, tmp_path):
    """A daemon with a wrong secret says, each primary in its own way,
    that the server refused key k-hmac-sha256 -- never that the reply was
    forged -- and touches nothing."""
    zone = "badsig.test."
    good = sha256(primary)
    bad = mxflab.write_key_file(str(tmp_path / "bad.key"), good.name,
                                good.algorithm, random_secret())
    mx = folab.MailServer("127.0.0.1").start()
    servers = [("mx1", "127.0.0.1", MX1, [mx.url]),
               ("mx2", "127.0.0.1", MX2, [mx.url])]
    cfg = folab.write_fo_config(str(tmp_path / "fo.conf"), primary.port,
                                bad.path, servers, [zone])
    serial = primary.serial(zone)
    d = folab.Daemon(mxf_bin, cfg, str(tmp_path / "daemon.log")).start()
    try:
        assert net.wait_until(lambda: "cannot read" in d.log(), 8), d.log()
    finally:
        d.stop()
        mx.stop()
    log = d.log()
    line = next(l for l in log.splitlines() if "cannot read" in l)
    assert good.name in line and "secret" in line, line
    assert "forged" not in log, log
    assert mxflab.sanitizer_report(log) is None, log
    assert primary.serial(zone) == serial
