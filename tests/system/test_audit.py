"""System tests of `mxfailover audit` against the audit lab
(tests/lib/auditlab.py): two real named on port 53 of two loopback /24s,
the clean domain good.test and the faulty bad.test, lone.test and
samenet.test with planted mistakes.

Here: the MX, reverse-DNS and name-server findings (with --no-smtp: the SMTP
probes are test_audit_smtp.py's), the text and JSON shapes, the exit codes,
the configuration's zones, and that the audit changes nothing (serials and
whole zones compared before and after).
"""

import json
import os
import re
import sys
import time

import dns.message
import dns.query
import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tests", "lib"))

import auditlab  # noqa: E402
import mxflab  # noqa: E402

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="the audit lab needs root")

SEVERITIES = {"error", "warning", "info"}


@pytest.fixture(scope="module")
def alab(tmp_path_factory):
    lab = auditlab.AuditLab(str(tmp_path_factory.mktemp("auditlab")))
    lab.start()
    try:
        yield lab
    finally:
        lab.stop()


def audit(run, lab, *args, json_out=True, timeout=30.0, env=None, config=None):
    argv = ["audit", "--no-smtp", "--timeout", "2s", "--resolver", lab.resolver]
    argv += lab.allow_args
    if json_out:
        argv.append("--json")
    rc, out, err = run(argv + list(args), timeout=timeout, env=env, config=config)
    return rc, (json.loads(out) if json_out and out.strip() else out), err


def ids(report):
    return {f["id"] for f in report["findings"]}


def by_id(report, fid):
    return [f for f in report["findings"] if f["id"] == fid]


def zone_dump(lab):
    """Every record of every lab zone, from both servers (AXFR is closed, so
    each owner name the lab wrote is asked for directly)."""
    out = {}
    names = {auditlab.GOOD: ["", "mx1", "mx2", "ns1", "ns2", "_dmarc"],
             auditlab.BAD: ["", "mx1", "alias", "noaddr", "private", "dup", "noptr",
                            "badptr", "elsewhere", "ns1", "ns2", "ns3", "ns4", "ns5",
                            "ns6"]}
    for server in (lab.primary, lab.lagging):
        for zone, owners in names.items():
            for owner in owners:
                name = (owner + "." if owner else "") + zone + "."
                for rtype in ("SOA", "NS", "MX", "A", "TXT", "CNAME"):
                    r = dns.query.udp(dns.message.make_query(name, rtype), server,
                                      timeout=2.0)
                    out[(server, name, rtype)] = sorted(
                        "%d %s" % (rr.ttl, rd.to_text()) for rr in r.answer for rd in rr)
    return out


# ---------------------------------------------------------------- clean --

def test_clean_domain_has_no_finding(run, alab):
    rc, reports, err = audit(run, alab, auditlab.GOOD)
    assert rc == 0, (reports, err)
    assert len(reports) == 1
    r = reports[0]
    assert r["domain"] == "good.test"
    assert r["findings"] == [], r["findings"]
    assert r["checks"] >= 20
    assert 0 <= r["seconds"] < 2.0


def test_clean_text_output(run, alab):
    rc, out, err = audit(run, alab, auditlab.GOOD, json_out=False)
    assert rc == 0, err
    lines = out.splitlines()
    assert len(lines) == 1
    assert re.match(r"^good\.test: 0 errors, 0 warnings, 0 info \(\d+ checks, \d+\.\d\d s\)$",
                    lines[0]), lines


def test_loopback_is_private_without_allow(run, alab):
    """Without --allow-private the lab's MX hosts are on private addresses."""
    rc, out, err = run(["audit", "--no-smtp", "--json", "--resolver", alab.resolver,
                        auditlab.GOOD])
    assert rc == 1, err
    r = json.loads(out)[0]
    assert ids(r) == {"mx-target-private"}
    assert {f["subject"] for f in r["findings"]} == {"mx1.good.test", "mx2.good.test"}
    assert all(f["severity"] == "warning" for f in r["findings"])


# --------------------------------------------------------------- planted --

@pytest.mark.parametrize("zone", sorted(auditlab.PLANTED))
def test_every_planted_mistake_is_found(run, alab, zone):
    rc, reports, err = audit(run, alab, zone)
    assert rc == 1, err
    found = ids(reports[0])
    missing = set(auditlab.PLANTED[zone]) - found
    assert not missing, "not found: %s\nreport: %s" % (missing, reports[0])
    # Nothing the lab did not plant (lookup-failed would mean a broken probe).
    extra = found - set(auditlab.PLANTED[zone])
    assert not extra, "unexpected: %s\nreport: %s" % (extra, reports[0])


def test_planted_subjects_and_severities(run, alab):
    rc, reports, err = audit(run, alab, auditlab.BAD)
    r = reports[0]
    subj = {(f["id"], f["subject"]) for f in r["findings"]}
    lab = alab
    expect = {
        ("mx-target-cname", "alias.bad.test"),
        ("mx-target-ip", "192.0.2.25"),
        ("mx-target-no-address", "noaddr.bad.test"),
        ("mx-target-private", "private.bad.test"),
        ("mx-duplicate", "dup.bad.test"),
        ("mx-null-mixed", "bad.test"),
        ("mx-ttl-unequal", "bad.test"),
        ("mx-inconsistent", "ns2.bad.test/" + lab.lagging),
        ("ptr-missing", lab.bad_noptr),
        ("ptr-mismatch", lab.bad_badptr),
        ("ns-unreachable", "ns5.bad.test/" + lab.unreachable),
        ("ns-no-tcp", "ns4.bad.test/" + lab.udp_only),
        ("ns-not-authoritative", "ns6.bad.test/" + lab.lagging_empty),
        ("ns-serial-mismatch", "ns2.bad.test/" + lab.lagging),
        ("ns-set-mismatch", "ns2.bad.test/" + lab.lagging),
        ("ns-target-cname", "nsalias.lone.test"),
        ("ns-open-recursion", "ns3.bad.test/" + lab.primary_open),
        ("ns-open-axfr", "ns1.bad.test/" + lab.primary),
        ("soa-timers", "bad.test"),
    }
    assert expect <= subj, expect - subj
    # The primary is the newest: only the lagging copy is behind.
    assert [f["subject"] for f in by_id(r, "ns-serial-mismatch")] == [
        "ns2.bad.test/" + lab.lagging]
    assert "2026120201" in by_id(r, "ns-serial-mismatch")[0]["message"]
    # The closed servers are not open: the lagging copy refuses AXFR, the
    # primary's other zones too.
    assert ("ns-open-axfr", "ns2.bad.test/" + lab.lagging) not in subj
    sev = {f["id"]: f["severity"] for f in r["findings"]}
    assert sev["mx-target-cname"] == "error"
    assert sev["mx-target-private"] == "warning"
    assert sev["soa-timers"] == "info"
    assert sev["ns-unreachable"] == "error"
    # Errors first, then warnings, then info.
    order = [f["severity"] for f in r["findings"]]
    rank = {"error": 0, "warning": 1, "info": 2}
    assert order == sorted(order, key=rank.get)


def test_json_shape(run, alab):
    rc, reports, err = audit(run, alab, auditlab.BAD, auditlab.GOOD)
    assert [r["domain"] for r in reports] == ["bad.test", "good.test"]
    for r in reports:
        assert set(r) == {"domain", "findings", "checks", "seconds"}
        assert isinstance(r["checks"], int) and r["checks"] > 0
        assert isinstance(r["seconds"], float)
        for f in r["findings"]:
            assert set(f) == {"id", "severity", "subject", "message", "hint"}
            assert f["severity"] in SEVERITIES
            assert f["message"] and f["hint"] and f["subject"]
    assert rc == 1


def test_text_format(run, alab):
    rc, out, err = audit(run, alab, auditlab.LONE, json_out=False)
    assert rc == 1
    lines = out.splitlines()
    assert lines[0].startswith("ERROR   mx-missing lone.test: ")
    assert lines[1].startswith("        publish MX records")
    assert lines[2].startswith("WARNING ns-single lone.test: ")
    assert lines[3].startswith("        ")
    assert re.match(r"^lone\.test: 1 error, 1 warning, 0 info \(\d+ checks, ", lines[4])
    assert len(lines) == 5


def test_output_is_stable(run, alab):
    """The same zone gives the same findings in the same order every time,
    whichever server answered first."""
    outs = []
    for _ in range(3):
        rc, reports, err = audit(run, alab, auditlab.BAD)
        outs.append([(f["id"], f["subject"], f["message"]) for f in reports[0]["findings"]])
    assert outs[0] == outs[1] == outs[2]


# ------------------------------------------------------------ exit codes --

def test_unresolvable_domain_exits_3(run, alab):
    rc, reports, err = audit(run, alab, "nosuch.test")
    assert rc == 3, err
    assert ids(reports[0]) == {"domain-unresolved"}
    # One unresolvable domain among good ones still exits 3.
    rc, reports, err = audit(run, alab, auditlab.GOOD, "nosuch.test")
    assert rc == 3
    assert reports[0]["findings"] == []


def test_dead_resolver_exits_3_within_deadline(run, alab):
    t0 = time.monotonic()
    rc, out, err = run(["audit", "--no-smtp", "--timeout", "1s", "--resolver",
                        alab.unreachable, auditlab.GOOD])
    assert rc == 3, (out, err)
    assert "domain-unresolved" in out
    assert time.monotonic() - t0 < 5


@pytest.mark.parametrize("args,msg", [
    (["--timeout", "soon", "good.test"], "bad --timeout"),
    (["--timeout", "0", "good.test"], "bad --timeout"),
    (["--resolver", "ns.example", "good.test"], "bad resolver"),
    (["--resolver", "127.0.0.1:99999", "good.test"], "bad resolver"),
    (["--allow-private", "10.0.0.0/40", "good.test"], "bad --allow-private"),
    (["--frobnicate", "good.test"], "unknown option"),
    (["bad..name"], "not a domain name"),
])
def test_usage_errors_exit_2(run, args, msg):
    rc, out, err = run(["audit", "--resolver", "127.0.0.1"] + args
                       if "--resolver" not in args else ["audit"] + args)
    assert rc == 2, (out, err)
    assert msg in err
    assert out == ""


def test_bad_config_exits_2(run, alab, tmp_path):
    cfg = tmp_path / "bad.conf"
    cfg.write_text("[general]\ninterval = often\n")
    rc, out, err = run(["-c", str(cfg), "audit", "--no-smtp", "--resolver", alab.resolver])
    assert rc == 2
    assert "%s:2:" % cfg in err
    # With a DOMAIN an explicit -c still has to be valid.
    rc, out, err = run(["-c", str(cfg), "audit", "--no-smtp", "--resolver", alab.resolver,
                        auditlab.GOOD])
    assert rc == 2


def test_no_config_no_domain_exits_2(run, alab, tmp_path):
    rc, out, err = run(["-c", str(tmp_path / "missing.conf"), "audit", "--resolver",
                        alab.resolver])
    assert rc == 2
    assert "missing.conf" in err


def test_domain_without_config(run, alab, tmp_path):
    """With DOMAIN and no configuration file anywhere, the domain alone."""
    env = dict(os.environ, MXFAILOVER_CONFIG=str(tmp_path / "none.conf"))
    env.pop("DNSFAILOVER_CONFIG", None)
    rc, out, err = run(["audit", "--no-smtp", "--resolver", alab.resolver] + alab.allow_args
                       + [auditlab.GOOD], env=env)
    assert rc == 0, err


def test_config_zones(run, alab, tmp_path):
    """Without DOMAIN every zone of the configuration, each once."""
    path = mxflab.write_config(str(tmp_path / "mxf.conf"), 53, server=alab.primary,
                               zones=["good.test", "lone.test"],
                               extra="[group other]\nservers = mx2 mx1\nzones = good.test\n"
                                     "records = webmail\ntype = CNAME\n")
    rc, reports, err = audit(run, alab, config=path)
    assert [r["domain"] for r in reports] == ["good.test", "lone.test"], err
    assert rc == 1
    assert "mx-missing" in ids(reports[1])


def test_resolver_from_resolv_conf(run, alab, tmp_path):
    rcf = tmp_path / "resolv.conf"
    rcf.write_text("# test\nsearch example\nnameserver %s\nnameserver 192.0.2.1\n"
                   % alab.resolver)
    env = dict(os.environ, MXF_RESOLV_CONF=str(rcf),
               MXFAILOVER_CONFIG=str(tmp_path / "none.conf"))
    rc, out, err = run(["audit", "--no-smtp", "--json"] + alab.allow_args + [auditlab.GOOD],
                       env=env)
    assert rc == 0, err
    assert json.loads(out)[0]["findings"] == []
    rcf.write_text("search example\n")
    rc, out, err = run(["audit", "--no-smtp", auditlab.GOOD], env=env)
    assert rc == 2
    assert "--resolver" in err


# ---------------------------------------------------------- changes nothing --

def test_audit_changes_nothing(run, alab):
    before_serials = alab.serials()
    before = zone_dump(alab)
    for _ in range(2):
        audit(run, alab, auditlab.GOOD, auditlab.BAD, auditlab.LONE, auditlab.SAMENET)
    assert alab.serials() == before_serials
    assert zone_dump(alab) == before
