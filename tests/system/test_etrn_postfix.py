"""ETRN against a real Postfix backup MX (tests/lib/mailservers.py): mail
for the relay domain queues at the backup while the primary refuses
connections; `mxfailover etrn` makes the backup deliver all of it at once,
long before Postfix's own queue run (300 s in the lab).  Also: a domain the
backup does not fast-flush is refused (459) and reported as a failure.

Needs Postfix, openssl and root (Postfix binds to its own 127.0.0.N).
"""

import os
import sys
import time

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
LIB = os.path.join(ROOT, "tests", "lib")
sys.path.insert(0, LIB)

import mailservers  # noqa: E402
import net  # noqa: E402
from smtpsink import SmtpSink  # noqa: E402

_WHY_NOT = mailservers.why_not((mailservers.POSTFIX, mailservers.OPENSSL),
                               "Postfix needs root to start")
pytestmark = [
    pytest.mark.skipif(_WHY_NOT is not None, reason=_WHY_NOT or ""),
    pytest.mark.usefixtures("no_leaks"),  # conftest.py, with ca
]

DOMAIN = "lab.test"
COUNT = 5


def _send(host, port, n):
    import smtplib
    with smtplib.SMTP(host, port, timeout=10) as s:
        s.ehlo()
        for i in range(n):
            s.sendmail("sender@example.test", ["user%d@%s" % (i, DOMAIN)],
                       "Subject: etrn %d\r\n\r\nmessage %d\r\n" % (i, i))


def test_etrn_flushes_postfix_queue(run, ca):
    primary = SmtpSink()
    primary.start()
    primary.stop()  # the primary is down: its port refuses
    try:
        with mailservers.Postfix(ca=ca, relay_domain=DOMAIN,
                                 relay_to=(primary.host, primary.port)) as backup:
            _send(backup.host, backup.port, COUNT)
            net.wait_until(
                lambda: backup.queue_count(("deferred",)) == COUNT, 20,
                what="%d deferred messages" % COUNT)
            primary.start()
            t0 = time.monotonic()
            rc, out, err = run(["etrn", "--timeout", "10s",
                                "%s:%d" % (backup.host, backup.port), DOMAIN + "."],
                               env=dict(os.environ, MXF_CA_FILE=ca.ca_file))
            assert rc == 0, err
            assert out.startswith("%s: accepted: 250" % DOMAIN), out
            net.wait_until(lambda: primary.count() == COUNT, 20,
                                   what="the flushed mail at the primary")
            flush_s = time.monotonic() - t0
            rcpts = sorted(r for m in primary.messages for r in m.rcpts)
            assert rcpts == sorted("<user%d@%s>" % (i, DOMAIN) for i in range(COUNT))
            assert flush_s < 20
            print("ETRN flush of %d messages took %.2f s" % (COUNT, flush_s))
    finally:
        primary.stop()


def test_etrn_domain_not_flushable(run, ca):
    primary = SmtpSink()
    primary.start()
    try:
        with mailservers.Postfix(ca=ca, relay_domain=DOMAIN,
                                 relay_to=(primary.host, primary.port)) as backup:
            rc, out, err = run(["etrn", "--timeout", "10s",
                                "%s:%d" % (backup.host, backup.port),
                                DOMAIN, "not-relayed.test"])
            assert rc == 1, out + err
            lines = out.splitlines()
            assert lines[0].startswith("%s: accepted: 25" % DOMAIN)
            assert lines[1].startswith("not-relayed.test: failed: 459"), out
    finally:
        primary.stop()
