"""The audit's failover findings (issue 10) and the daemon's background
audit, against the real named of the audit alab (tests/lib/auditlab.py).

fo.test is a zone a CNAME group manages with planted mistakes:
  mx     the MX target, a managed CNAME with TTL 3600   failover-mx-target-cname,
                                                        failover-ttl-too-long
  imap   managed, does not exist                         failover-record-missing
  the configured key is known to named but not granted   failover-update-refused
  the standby's check fails (nothing listens)            failover-standby-down
  the primary's serial moves on, the lagging copy not    failover-secondary-lag
  the standby's certificate names another host           failover-standby-cert-mismatch
  the standby's address is outside the SPF               failover-standby-not-in-spf
foclean.test is managed the right way (type A, short TTL, a granted key, a
live standby) and gets no failover finding.  Serials are compared before
and after: the update probe changes nothing.

fod.test is the daemon's: `run` with audit_interval = 1s finds its missing
record once (audit_finding), and once it is added, audit_clear -- each
logged and kept in the events once, shown in /api/status and /metrics.
What was announced is kept in the state file: a restart while the mistake
is still there announces nothing, and its fix still brings audit_clear.
"""

import json
import os
import re
import signal
import subprocess
import time
import urllib.request

import pytest

import auditlab
import labserver
import folab
import mxflab
import net
from smtpsink import SmtpSink

_WHY_NOT = None if os.geteuid() == 0 else "the audit alab needs root (ip addr add)"
pytestmark = pytest.mark.skipif(_WHY_NOT is not None, reason=_WHY_NOT or "")

FO, CLEAN, FOD = "fo.test", "foclean.test", "fod.test"


@pytest.fixture(scope="module")
def alab(tmp_path_factory):
    d = str(tmp_path_factory.mktemp("audit-fo"))
    keys = {n: mxflab.write_key_file(os.path.join(d, n + ".key"), n, "hmac-sha256",
                                     mxflab.tsig_keygen(n, "hmac-sha256"))
            for n in ("k-audit", "k-admin")}
    alab = auditlab.AuditLab(
        os.path.join(d, "alab"),
        zones={
            FO: "@ MX 10 mx\nmx 3600 CNAME mx1\nsmtp CNAME mx1\n"
                "mx1 A 127.0.0.1\nmx2 A 127.0.0.1\n"
                '@ TXT "v=spf1 ip4:127.0.0.1 -all"\n',
            CLEAN: "@ MX 10 mx\nmx 60 A 127.0.0.1\nsmtp 60 A 127.0.0.1\n"
                   '@ TXT "v=spf1 ip4:127.0.0.0/24 -all"\n',
            FOD: "@ MX 10 mx\nmx 60 A 127.0.0.1\n",
        },
        zone_options={
            FO: "\t\tupdate-policy { grant k-admin zonesub ANY; };\n",
            CLEAN: "\t\tupdate-policy { grant k-audit zonesub ANY; };\n",
            FOD: "\t\tupdate-policy { grant k-audit zonesub ANY; grant k-admin zonesub ANY; };\n",
        },
        extra_conf=keys["k-audit"].bind_clause() + keys["k-admin"].bind_clause())
    with alab:
        alab.keys = keys
        alab.tmp = d
        yield alab


def nsupdate(alab, script, key):
    text = "server %s 53\n%s\nsend\n" % (alab.primary, script)
    return subprocess.run([mxflab.NSUPDATE, "-k", key.path], input=text, capture_output=True,
                          text=True, timeout=30)


def write_config(path, alab, zone, rtype, records, servers, key, general=None, extra=""):
    gen = {"interval": "1s", "timeout": "1s", "fall": "2", "rise": "1", "log": "stderr",
           "state_file": os.path.join(os.path.dirname(path), "state.json")}
    gen.update(general or {})
    lines = ["[general]"] + ["%s = %s" % kv for kv in gen.items()]
    lines += ["", "[dns]", "server = %s" % alab.primary, "key_file = %s" % key.path]
    for sid, addr, name, checks in servers:
        lines += ["", "[server %s]" % sid, "address = %s" % addr, "name = %s" % name,
                  "checks = %s" % " ".join(checks)]
    lines += ["", "[group mail]", "servers = %s" % " ".join(s[0] for s in servers),
              "zones = %s" % zone, "records = %s" % " ".join(records), "type = %s" % rtype,
              "hold_down = 0s"]
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n" + extra)
    return path


def audit(run, alab, config, env=None):
    rc, out, err = run(["audit", "--json", "--resolver", alab.resolver]
                       + alab.allow_args, config=config, timeout=60, env=env)
    assert rc in (0, 1), (rc, out, err)
    return {d["domain"]: d for d in json.loads(out)}, rc, err


def ids(report):
    return {f["id"] for f in report["findings"] if f["id"].startswith("failover-")}


def test_failover_findings_planted_and_clean(alab, run, tmp_path):
    ca = labserver.CertAuthority(str(tmp_path / "ca"))
    env = dict(os.environ, MXF_CA_FILE=ca.ca_file)
    # The standbys' SMTP: one certificate for another name, one for the MX target.
    wc, wk = ca.issue(str(tmp_path / "ca"), cn="wrong.example")
    rc_, rk = ca.issue(str(tmp_path / "ca"), cn="mx.foclean.test")
    wrong = SmtpSink(certfile=wc, keyfile=wk).start()
    right = SmtpSink(certfile=rc_, keyfile=rk).start()
    live = folab.MailServer("127.0.0.1").start()
    try:
        dead = net.free_port("127.0.0.1")
        fo_cfg = write_config(
            str(tmp_path / "fo.conf"), alab, FO, "CNAME", ["mx", "smtp", "imap"],
            [("mx1", "127.0.0.1", "mx1.fo.test.", [live.url]),
             ("mx2", "127.0.0.2", "mx2.fo.test.",
              ["tcp://127.0.0.1:%d" % dead, "smtp://127.0.0.1:%d" % wrong.port])],
            alab.keys["k-audit"])
        clean_cfg = write_config(
            str(tmp_path / "clean.conf"), alab, CLEAN, "A", ["mx", "smtp"],
            [("mx1", "127.0.0.1", "mx1.foclean.test.", [live.url]),
             ("mx2", "127.0.0.1", "mx2.foclean.test.", ["smtp://127.0.0.1:%d" % right.port])],
            alab.keys["k-audit"])
        # The primary moves on; the lagging copy (no transfers) stays behind.
        r = nsupdate(alab, "zone %s.\nupdate add www.%s. 60 A 127.0.0.9" % (FO, FO),
                     alab.keys["k-admin"])
        assert r.returncode == 0, r.stderr
        before = {z: (alab.serial(z), alab.serial(z, alab.lagging)) for z in (FO, CLEAN)}

        rep, rc, err = audit(run, alab, fo_cfg, env)
        got = ids(rep[FO])
        assert got == {"failover-mx-target-cname", "failover-ttl-too-long",
                       "failover-record-missing", "failover-update-refused",
                       "failover-standby-down", "failover-secondary-lag",
                       "failover-standby-cert-mismatch",
                       "failover-standby-not-in-spf"}, rep[FO]
        assert rc == 1
        by = {f["id"]: f for f in rep[FO]["findings"]}
        assert by["failover-record-missing"]["subject"].rstrip(".") == "imap.fo.test"
        assert by["failover-mx-target-cname"]["severity"] == "error"
        assert "3600" in by["failover-ttl-too-long"]["message"]
        assert "REFUSED" in by["failover-update-refused"]["message"]
        assert "k-audit" in by["failover-update-refused"]["message"]
        assert by["failover-standby-down"]["subject"] == "mx2"
        assert "127.0.0.2" in by["failover-standby-not-in-spf"]["message"]
        assert by["failover-standby-cert-mismatch"]["subject"].rstrip(".") == "mx.fo.test"
        assert "does not match the name mx.fo.test" in \
            by["failover-standby-cert-mismatch"]["message"]
        assert by["failover-secondary-lag"]["subject"].rstrip(".") == "ns2.fo.test"
        for f in rep[FO]["findings"]:
            assert f["hint"], f

        rep, rc, err = audit(run, alab, clean_cfg, env)
        assert ids(rep[CLEAN]) == set(), rep[CLEAN]
        # Nothing changed anywhere: the probe UPDATEs were no-ops.
        after = {z: (alab.serial(z), alab.serial(z, alab.lagging)) for z in (FO, CLEAN)}
        assert after == before
    finally:
        live.stop()
        wrong.stop()
        right.stop()


def http_get(url, timeout=5):
    with urllib.request.urlopen(url, timeout=timeout) as r:
        return r.read().decode()


def test_daemon_audit_finding_once_then_clear(alab, mxf_bin, tmp_path):
    live = folab.MailServer("127.0.0.1").start()
    port = net.free_port("127.0.0.1")
    resolv = tmp_path / "resolv.conf"
    resolv.write_text("nameserver %s\n" % alab.primary)
    # The notify path: an exec hook writes one line per notice it gets.
    notices = tmp_path / "notices.txt"
    hook = tmp_path / "hook.sh"
    hook.write_text('#!/bin/sh\necho "$MXF_EVENT $MXF_REASON" >> %s\n' % notices)
    hook.chmod(0o755)
    cfg = write_config(
        str(tmp_path / "fod.conf"), alab, FOD, "A", ["mx", "imap"],
        [("mx1", "127.0.0.1", "mx1.fod.test.", [live.url]),
         ("mx2", "127.0.0.1", "mx2.fod.test.", [live.url])],
        alab.keys["k-audit"],
        general={"audit_interval": "1s", "status_listen": "127.0.0.1:%d" % port},
        extra="\n[notify]\nexec = %s\n" % hook)

    def notified(kind):
        try:
            text = notices.read_text()
        except FileNotFoundError:
            return 0
        return sum(1 for ln in text.splitlines()
                   if ln.startswith(kind + " ") and "failover-record-missing" in ln)
    d = folab.Daemon(mxf_bin, cfg, str(tmp_path / "daemon.log"),
                     env=dict(os.environ, MXF_RESOLV_CONF=str(resolv))).start()
    try:
        found = "audit finding: %s: ERROR failover-record-missing imap.%s:" % (FOD, FOD)
        assert net.wait_until(lambda: found in d.log(), 20), d.log()
        # Several audits later it is still one event.
        assert net.wait_until(
            lambda: json.loads(http_get("http://127.0.0.1:%d/api/status" % port))
            ["audit"]["runs"] >= 4, 20)
        assert d.log().count(found) == 1, d.log()
        assert notified("audit_finding") == 1, notices.read_text()
        st = json.loads(http_get("http://127.0.0.1:%d/api/status" % port))
        assert st["audit"]["enabled"] is True
        assert any(f["id"] == "failover-record-missing" and f["subject"].rstrip(".") == "imap.%s" % FOD
                   for f in st["audit"]["findings"]), st["audit"]
        assert st["audit"]["counts"]["error"] >= 1
        m = http_get("http://127.0.0.1:%d/metrics" % port)
        n = re.search(r'^mxfailover_audit_findings\{severity="error"\} (\d+)$', m, re.M)
        assert n and int(n.group(1)) >= 1, m
        page = http_get("http://127.0.0.1:%d/" % port)
        assert "failover-record-missing" in page and "Audit" in page

        # Reloads cancel a running audit (it borrows the old configuration)
        # and schedule the next: no crash, no second event for the same finding.
        for _ in range(3):
            d.signal(signal.SIGHUP)
            time.sleep(1.3)
        assert net.wait_until(lambda: d.log().count("configuration reloaded") >= 2, 10), d.log()
        runs = json.loads(http_get("http://127.0.0.1:%d/api/status" % port))["audit"]["runs"]
        assert net.wait_until(
            lambda: json.loads(http_get("http://127.0.0.1:%d/api/status" % port))
            ["audit"]["runs"] >= runs + 2, 20)
        assert d.alive() and d.log().count(found) == 1, d.log()

        # The mistake is fixed: one audit_clear, the error gone from the counts.
        r = nsupdate(alab, "zone %s.\nupdate add imap.%s. 60 A 127.0.0.1" % (FOD, FOD),
                     alab.keys["k-admin"])
        assert r.returncode == 0, r.stderr
        cleared = "audit clear: %s: no longer found: ERROR failover-record-missing" % FOD
        assert net.wait_until(lambda: cleared in d.log(), 20), d.log()
        time.sleep(2.5)
        assert d.log().count(cleared) == 1, d.log()
        assert d.log().count(found) == 1, d.log()
        assert net.wait_until(lambda: notified("audit_clear") == 1, 5), notices.read_text()
        assert notified("audit_finding") == 1, notices.read_text()
        st = json.loads(http_get("http://127.0.0.1:%d/api/status" % port))
        assert not any(f["id"] == "failover-record-missing" for f in st["audit"]["findings"])
        kinds = [e.get("event") for e in st.get("events", [])]
        assert kinds.count("audit_finding") >= 1 and kinds.count("audit_clear") >= 1, kinds
        assert d.alive()
        assert d.stop() == 0
        mark = mxflab.sanitizer_report(d.log())
        assert mark is None, d.log()[-3000:]
    finally:
        d.stop()
        live.stop()


def test_daemon_audit_restart_does_not_announce_again(alab, mxf_bin, tmp_path):
    """What was announced is kept in the state file: a restart while the
    mistake (a missing pop3 record) is still there announces nothing, and
    the fix after the restart still brings one audit_clear."""
    live = folab.MailServer("127.0.0.1").start()
    port = net.free_port("127.0.0.1")
    resolv = tmp_path / "resolv.conf"
    resolv.write_text("nameserver %s\n" % alab.primary)
    notices = tmp_path / "notices.txt"
    hook = tmp_path / "hook.sh"
    hook.write_text('#!/bin/sh\necho "$MXF_EVENT $MXF_REASON" >> %s\n' % notices)
    hook.chmod(0o755)
    cfg = write_config(
        str(tmp_path / "fod.conf"), alab, FOD, "A", ["mx", "pop3"],
        [("mx1", "127.0.0.1", "mx1.fod.test.", [live.url]),
         ("mx2", "127.0.0.1", "mx2.fod.test.", [live.url])],
        alab.keys["k-audit"],
        general={"audit_interval": "1s", "status_listen": "127.0.0.1:%d" % port},
        extra="\n[notify]\nexec = %s\n" % hook)
    state_file = tmp_path / "state.json"
    env = dict(os.environ, MXF_RESOLV_CONF=str(resolv))
    found = "audit finding: %s: ERROR failover-record-missing pop3.%s" % (FOD, FOD)
    cleared = "audit clear: %s: no longer found: ERROR failover-record-missing pop3.%s" \
        % (FOD, FOD)

    def notified(kind):
        try:
            text = notices.read_text()
        except FileNotFoundError:
            return 0
        return sum(1 for ln in text.splitlines()
                   if ln.startswith(kind + " ") and "pop3.%s" % FOD in ln)

    def runs():
        try:
            return json.loads(http_get("http://127.0.0.1:%d/api/status" % port))["audit"]["runs"]
        except OSError:
            return 0

    def saved():
        try:
            st = json.loads(state_file.read_text())
        except (OSError, ValueError):
            return False
        return any(f["id"] == "failover-record-missing" and f["subject"].startswith("pop3.")
                   for f in st.get("audit_findings", []))

    d1 = folab.Daemon(mxf_bin, cfg, str(tmp_path / "daemon1.log"), env=env).start()
    d2 = None
    try:
        assert net.wait_until(lambda: found in d1.log(), 20), d1.log()
        assert net.wait_until(saved, 10), state_file.read_text()
        assert d1.stop() == 0, d1.log()
        assert d1.log().count(found) == 1, d1.log()

        # The restart: the mistake is still there, several audits say so.
        d2 = folab.Daemon(mxf_bin, cfg, str(tmp_path / "daemon2.log"), env=env).start()
        assert net.wait_until(lambda: runs() >= 3, 30), d2.log()
        st = json.loads(http_get("http://127.0.0.1:%d/api/status" % port))
        assert any(f["id"] == "failover-record-missing" and f["subject"].startswith("pop3.")
                   for f in st["audit"]["findings"]), st["audit"]
        assert found not in d2.log(), d2.log()
        assert notified("audit_finding") == 1, notices.read_text()

        # Fixed after the restart: one audit_clear.
        r = nsupdate(alab, "zone %s.\nupdate add pop3.%s. 60 A 127.0.0.1" % (FOD, FOD),
                     alab.keys["k-admin"])
        assert r.returncode == 0, r.stderr
        assert net.wait_until(lambda: cleared in d2.log(), 20), d2.log()
        time.sleep(2.5)
        assert d2.log().count(cleared) == 1, d2.log()
        assert found not in d2.log(), d2.log()
        assert net.wait_until(lambda: notified("audit_clear") == 1, 5), notices.read_text()
        assert notified("audit_finding") == 1, notices.read_text()
        assert net.wait_until(lambda: not saved(), 10), state_file.read_text()
        assert d2.stop() == 0, d2.log()
        for d in (d1, d2):
            assert mxflab.sanitizer_report(d.log()) is None, d.log()[-3000:]
    finally:
        d1.stop()
        if d2 is not None:
            d2.stop()
        nsupdate(alab, "zone %s.\nupdate delete pop3.%s. A" % (FOD, FOD), alab.keys["k-admin"])
        live.stop()
