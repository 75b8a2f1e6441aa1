"""Zero-loss failover with a real Postfix backup MX (issue 5).

The primary (a test SMTP receiver) goes down; `mxfailover run` points the
records at the backup, a real Postfix relaying the domain to the primary;
mail sent meanwhile queues at the backup.  The primary returns; mxfailover
points the records back and sends ETRN, and every queued message reaches
the primary within seconds -- Postfix's own queue run is 300 s away in the
lab.  Sent and received are counted: none lost, none duplicated.
"""

import os
import smtplib
import time

import pytest

import folab
import mailservers
import mxflab
import net
from smtpsink import SmtpSink

_WHY_NOT = mailservers.why_not((mailservers.POSTFIX, mailservers.OPENSSL),
                               "Postfix needs root to start")
pytestmark = [
    pytest.mark.skipif(_WHY_NOT is not None, reason=_WHY_NOT or ""),
]

DOMAIN = "lab.test"
ZONE = DOMAIN + "."
MX1, MX2 = mxflab.MX1, mxflab.MX2
COUNT = 25


def test_zero_loss_failover_and_etrn_flush(mxf_bin, tmp_path):
    d = tmp_path / "named"
    d.mkdir()
    lab, key = mxflab.keyed_lab(str(d), "k-zl", [ZONE])
    ca = mailservers.CertAuthority(str(tmp_path / "ca"))
    primary = SmtpSink()
    daemon = None
    lab.start()
    try:
        primary.start()
        with mailservers.Postfix(ca=ca, relay_domain=DOMAIN,
                                 relay_to=(primary.host, primary.port)) as backup:
            servers = [("mx1", primary.host, MX1, ["smtp://%s:%d" % (primary.host, primary.port)]),
                       ("mx2", backup.host, MX2, ["smtp://%s:%d" % (backup.host, backup.port)])]
            cfg = folab.write_fo_config(
                str(tmp_path / "mxf.conf"), lab.port, key.path, servers, [ZONE],
                records=("mx", "smtp"), rtype=None, general={"timeout": "2s"},
                group={"failback": None, "hold_down": "0", "etrn": "yes"}, dns_timeout=None)
            daemon = folab.Daemon(mxf_bin, cfg, str(tmp_path / "daemon.log"),
                                  env=dict(os.environ, MXF_CA_FILE=ca.ca_file)).start()
            assert lab.cname("mx." + ZONE) == MX1

            # The primary dies: records move to the backup.
            primary.stop()
            net.wait_until(lambda: lab.cname("mx." + ZONE) == MX2, 20, "failover to mx2")

            # Mail arrives at the backup (as senders now would) and queues.
            with smtplib.SMTP(backup.host, backup.port, timeout=10) as s:
                s.ehlo()
                for i in range(COUNT):
                    s.sendmail("sender@example.test", ["user%d@%s" % (i, DOMAIN)],
                               "Subject: zl %d\r\nMessage-ID: <zl%d@test>\r\n\r\n"
                               "message %d\r\n" % (i, i, i))
            net.wait_until(lambda: backup.queue_count(("deferred",)) == COUNT, 30,
                     "%d deferred messages at the backup" % COUNT)
            assert primary.count() == 0

            # The primary returns: failback, ETRN, and the queue drains.
            primary.start()
            net.wait_until(lambda: lab.cname("mx." + ZONE) == MX1, 20, "failback to mx1",
                            step=0.05)
            t_back = time.monotonic()
            net.wait_until(lambda: primary.count() >= COUNT, 30,
                            "all %d messages at the primary" % COUNT, step=0.05)
            t_all = time.monotonic()
            time.sleep(1.0)  # a duplicate would arrive in this second
            flush = t_all - t_back
            print("zero-loss: %d messages flushed %.2f s after failback" % (COUNT, flush))

            rcpts = sorted(r for m in primary.messages for r in m.rcpts)
            assert len(primary.messages) == COUNT, "duplicates or losses: %d received" \
                % len(primary.messages)
            assert rcpts == sorted("<user%d@%s>" % (i, DOMAIN) for i in range(COUNT))
            assert backup.queue_count() == 0
            # Postfix's own retry is minutes away: only ETRN explains seconds.
            assert flush < 15, flush
            text = daemon.log()
            assert "queue flush at %s:%d: ETRN %s: 250" % (backup.host, backup.port, DOMAIN) \
                in text, text[-3000:]
    finally:
        rc = daemon.stop(10) if daemon is not None else None
        primary.stop()
        lab.stop()
    assert rc == 0
    assert not mxflab.sanitizer_report(daemon.log())
