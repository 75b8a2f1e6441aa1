"""MX reorder as a real sender sees it (issue 10): a real Postfix, whose own
resolver asks a real named for the domain's MX set, delivers to the host
mxfailover put at the lowest preference.

  named        port 53 of a free loopback address: zone pfx.test,
               MX 10 mx1 / 20 mx2, updates allowed for one TSIG key
  mx1, mx2     SMTP receivers (smtpsink) on port 25 of two more addresses
  Postfix      the sender: transport smtp for pfx.test (MX lookups on), run
               in a mount namespace whose /etc/resolv.conf names the lab's
               named -- nothing else of the host is touched
  mxfailover   `run`, type MX, failback manual so a switch stays while mx1
               is back; then a daemon with failback auto

mx1 down -> the set becomes 10 mx2 / 20 mx1; mx1 comes back (still in the
set, behind mx2): Postfix delivers to mx2, not mx1.  A daemon with failback
auto
fails back -> 10 mx1 / 20 mx2: Postfix delivers to mx1 again.
"""

import os
import random
import shutil
import smtplib
import subprocess

import pytest

import auditlab
import folab
import mailservers
import mxflab
import net
from smtpsink import SmtpSink

_WHY_NOT = mailservers.why_not((mailservers.POSTFIX,), "Postfix needs root to start")
if _WHY_NOT is None and shutil.which("unshare") is None:
    _WHY_NOT = "unshare(1) is needed for Postfix's own resolv.conf"
pytestmark = pytest.mark.skipif(_WHY_NOT is not None, reason=_WHY_NOT or "")

ZONE = "pfx.test"
MX1, MX2 = "mx1.pfx.test.", "mx2.pfx.test."


class SenderPostfix(mailservers.Postfix):
    """The lab's Postfix with its resolver pointed at @resolv_conf (a
    private mount namespace bind-mounts it over /etc/resolv.conf for the
    master and every process it starts)."""

    def __init__(self, resolv_conf, **kw):
        super().__init__(**kw)
        self.resolv_conf = resolv_conf

    def _launch(self):
        env = dict(os.environ, MAIL_CONFIG=self.config_dir)
        self._make_queue()
        master = os.path.join(mailservers.POSTFIX_DAEMON_DIR, "master")
        script = "mount --bind %s /etc/resolv.conf && exec %s -c %s -w" % (
            self.resolv_conf, master, self.config_dir)
        rc, out = mailservers.run_on_tty(["unshare", "-m", "--propagation", "private",
                                          "sh", "-c", script],
                                         timeout=self.start_timeout, env=env)
        if rc != 0:
            raise mailservers.LabError("postfix master did not start (rc %d): %s\n%s"
                                       % (rc, out.strip(), self.log_tail()))
        pidfile = os.path.join(self.queue_dir, "pid", "master.pid")
        mailservers.wait_for_lab(lambda: os.path.exists(pidfile), 5, "master.pid")
        with open(pidfile) as f:
            self._session_started(int(f.read().split()[0]))


def mx_order(addr):
    """The MX targets in preference order, as the lab's named serves them."""
    import dns.message
    import dns.query
    r = dns.query.udp(dns.message.make_query(ZONE, "MX"), addr, timeout=2)
    rds = [rd for rrset in r.answer for rd in rrset]
    return [rd.exchange.to_text() for rd in sorted(rds, key=lambda rd: rd.preference)]


def send(pf, n):
    with smtplib.SMTP(pf.host, pf.port, timeout=10) as s:
        s.sendmail("sender@lab.invalid", ["user@%s" % ZONE],
                   "Subject: mx test %d\r\n\r\nbody %d\r\n" % (n, n))


def test_postfix_follows_the_reordered_mx_set(mxf_bin, tmp_path):
    addrs = auditlab.pick_block(3, random.Random())
    dns_addr, a1, a2 = addrs
    key = mxflab.write_key_file(str(tmp_path / "k.key"), "k-pfx", "hmac-sha256",
                                mxflab.tsig_keygen("k-pfx", "hmac-sha256"))
    zd = tmp_path / "named"
    zd.mkdir()
    (zd / "pfx.test.db").write_text(
        "$ORIGIN pfx.test.\n$TTL 300\n"
        "@ IN SOA ns1 hostmaster 1 3600 900 1209600 300\n@ NS ns1\nns1 A %s\n"
        "@ MX 10 mx1\n@ MX 20 mx2\nmx1 A %s\nmx2 A %s\n" % (dns_addr, a1, a2))
    named = auditlab.Named(str(zd), [dns_addr], key.bind_clause() +
                           'zone "pfx.test" {\n\ttype primary;\n\tfile "%s";\n'
                           '\tupdate-policy { grant k-pfx zonesub ANY; };\n};\n'
                           % (zd / "pfx.test.db"))
    resolv = tmp_path / "resolv.conf"
    resolv.write_text("nameserver %s\noptions timeout:1 attempts:2\n" % dns_addr)
    sinks = {"mx1": SmtpSink(host=a1, port=25), "mx2": SmtpSink(host=a2, port=25)}
    daemons = []
    pf = None
    try:
        named.start()
        assert net.wait_until(lambda: _try(lambda: mx_order(dns_addr)) == [MX1, MX2], 20), \
            named.tail()
        for s in sinks.values():
            s.start()
        pf = SenderPostfix(str(resolv), main={
            "transport_maps": "inline:{ %s=smtp }" % ZONE,
            "smtp_dns_support_level": "enabled",
            "smtp_connection_cache_on_demand": "no",
            "smtp_tls_security_level": "none",
            "smtp_connect_timeout": "3s",
            "minimal_backoff_time": "1s", "maximal_backoff_time": "2s",
            "queue_run_delay": "1s"})
        pf.open()

        def config(failback):
            servers = [("mx1", a1, MX1, ["smtp://%s:25" % a1]),
                       ("mx2", a2, MX2, ["smtp://%s:25" % a2])]
            return folab.write_fo_config(
                str(tmp_path / ("mxf-%s.conf" % failback)), 53, key.path, servers, [ZONE],
                records=("@",), rtype="MX", group={"failback": failback},
                dns_server="%s:53" % dns_addr)

        d = folab.Daemon(mxf_bin, config("manual"), str(tmp_path / "daemon1.log")).start()
        daemons.append(d)
        send(pf, 1)
        assert net.wait_until(lambda: sinks["mx1"].count() == 1, 20), pf.log_tail()

        # mx1 dies: the set is reordered, mx1 kept behind mx2.
        sinks["mx1"].stop()
        assert net.wait_until(lambda: _try(lambda: mx_order(dns_addr)) == [MX2, MX1], 10), \
            d.log()
        # mx1 is back (failback manual keeps the switch): Postfix takes the
        # lowest preference, mx2, though mx1 answers again.
        sinks["mx1"].start()
        send(pf, 2)
        assert net.wait_until(lambda: sinks["mx2"].count() == 1, 20), pf.log_tail()
        assert sinks["mx1"].count() == 1
        assert d.stop() == 0

        # Failback (auto): the group's order again, and Postfix follows it.
        d = folab.Daemon(mxf_bin, config("auto"), str(tmp_path / "daemon2.log")).start()
        daemons.append(d)
        assert net.wait_until(lambda: _try(lambda: mx_order(dns_addr)) == [MX1, MX2], 10), \
            d.log()
        send(pf, 3)
        assert net.wait_until(lambda: sinks["mx1"].count() == 2, 20), pf.log_tail()
        assert sinks["mx2"].count() == 1
        assert d.stop() == 0
        for dd in daemons:
            assert mxflab.sanitizer_report(dd.log()) is None, dd.log()[-3000:]
    finally:
        for dd in daemons:
            dd.stop()
        if pf is not None:
            pf.close()
        for s in sinks.values():
            s.stop()
        named.stop()
        auditlab.release_block(addrs)


def _try(fn):
    try:
        return fn()
    except Exception:  # noqa: BLE001 -- a lab not up yet answers nothing
        return None
