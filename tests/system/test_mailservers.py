"""Sanity tests of the mail-server lab (tests/lib/mailservers.py): the real
Postfix, Dovecot and MariaDB it starts answer Python's own clients the way
the protocol checks expect, and everything is gone again afterwards.

These prove the lab, not mxfailover; test_probe_real.py points
`mxfailover probe` at the same servers.
"""

import imaplib
import os
import poplib
import smtplib
import socket
import ssl
import sys
import time

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))), "lib"))

import mailservers  # noqa: E402
import net  # noqa: E402
from mailservers import Postfix  # noqa: E402
from smtpsink import SmtpSink  # noqa: E402

_WHY_NOT = mailservers.why_not()
pytestmark = [
    pytest.mark.skipif(_WHY_NOT is not None, reason=_WHY_NOT or ""),
    pytest.mark.usefixtures("no_leaks"),  # conftest.py, with the servers
]

TIMEOUT = 10  # seconds for any one client operation


def tls_context(ca_file):
    """A client context that trusts only the lab CA and checks names."""
    return ssl.create_default_context(cafile=ca_file)


# --- Postfix ---------------------------------------------------------------


def test_postfix_has_its_own_loopback_address(postfix):
    assert postfix.host.startswith("127.")
    if os.geteuid() == 0:
        assert postfix.host != "127.0.0.1"
    assert postfix.host in mailservers.leaked_addresses()  # still open


def test_postfix_smtp_ehlo_and_starttls(postfix):
    with smtplib.SMTP(postfix.host, postfix.port, timeout=TIMEOUT) as s:
        code, banner = s.ehlo("probe.lab.test")
        assert code == 250
        assert s.has_extn("starttls"), banner
        assert s.has_extn("etrn")
        ctx = tls_context(postfix.ca_file)
        code, _ = s.starttls(context=ctx)
        assert code == 220
        # Verified against the lab CA, by name, by the context.
        assert s.sock.getpeercert()["subject"]
        code, _ = s.ehlo("probe.lab.test")
        assert code == 250
        assert not s.has_extn("starttls")
        assert s.noop()[0] == 250


def test_postfix_banner_is_220(postfix):
    with socket.create_connection((postfix.host, postfix.port),
                                  timeout=TIMEOUT) as s:
        line = mailservers.read_line(s)
    assert line.startswith(b"220 mx-lab.test ESMTP"), line


def test_postfix_submission_requires_starttls(postfix):
    with smtplib.SMTP(postfix.host, postfix.submission_port,
                      timeout=TIMEOUT) as s:
        s.ehlo()
        assert s.has_extn("starttls")
        code, msg = s.docmd("MAIL FROM:<a@lab.test>")
        assert code == 530, msg  # 5.7.0 Must issue a STARTTLS command first
        s.starttls(context=tls_context(postfix.ca_file))
        s.ehlo()
        assert s.docmd("RSET")[0] == 250


def test_postfix_smtps_is_implicit_tls(postfix):
    with smtplib.SMTP_SSL(postfix.host, postfix.smtps_port, timeout=TIMEOUT,
                          context=tls_context(postfix.ca_file)) as s:
        assert s.ehlo()[0] == 250


def test_postfix_without_starttls(ca):
    with Postfix(ca=ca, starttls=False) as pf:
        with smtplib.SMTP(pf.host, pf.port, timeout=TIMEOUT) as s:
            assert s.ehlo()[0] == 250
            assert not s.has_extn("starttls")
        with smtplib.SMTP(pf.host, pf.submission_port, timeout=TIMEOUT) as s:
            assert s.ehlo()[0] == 250
            assert not s.has_extn("starttls")


def test_postfix_stop_refuses_and_start_again(ca):
    with Postfix(ca=ca) as pf:
        pf.stop()
        assert not pf.running()
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection((pf.host, pf.port), timeout=TIMEOUT)
        pf.start()
        with smtplib.SMTP(pf.host, pf.port, timeout=TIMEOUT) as s:
            assert s.ehlo()[0] == 250
        address = pf.host
    assert address not in mailservers.leaked_addresses()
    assert not mailservers.leaked_processes()


def test_postfix_421_banner_over_connection_limit(ca):
    """A real Postfix answering 421 at the banner: one connection per client
    allowed (loopback not exempt), the second is turned away."""
    main = {"smtpd_client_connection_count_limit": "1",
            "smtpd_client_event_limit_exceptions": ""}
    with Postfix(ca=ca, main=main) as pf:
        with socket.create_connection((pf.host, pf.port), timeout=TIMEOUT) as a:
            assert mailservers.read_line(a).startswith(b"220 ")
            with socket.create_connection((pf.host, pf.port),
                                          timeout=TIMEOUT) as b:
                line = mailservers.read_line(b)
    assert line.startswith(b"421 4.7.0 "), line
    assert b"too many connections" in line


def test_postfix_backup_mx_queues_and_etrn_flushes(ca):
    """The issue-5 set-up: a backup MX relaying lab.test to a primary that
    is down queues the mail (deferred, connection refused) and delivers it
    all at once on ETRN when the primary is back."""
    primary = SmtpSink()
    primary.start()
    primary.stop()  # the primary is down: its port refuses
    try:
        with Postfix(ca=ca, relay_domain="lab.test",
                     relay_to=(primary.host, primary.port)) as backup:
            with smtplib.SMTP(backup.host, backup.port, timeout=TIMEOUT) as s:
                s.ehlo()
                for i in range(5):
                    s.sendmail("sender@example.test", ["user%d@lab.test" % i],
                               "Subject: lab %d\r\n\r\nmessage %d\r\n" % (i, i))
                # Nothing but the relay domain is accepted from outside.
                with pytest.raises(smtplib.SMTPRecipientsRefused):
                    s.sendmail("sender@example.test", ["x@elsewhere.test"],
                               "Subject: no\r\n\r\nno\r\n")
            net.wait_until(
                lambda: backup.queue_count(("deferred",)) == 5
                and backup.queue_count() == 5, 20, what="5 deferred messages")
            assert "Connection refused" in backup.log_tail(50)

            primary.start()
            t0 = time.monotonic()
            with smtplib.SMTP(backup.host, backup.port, timeout=TIMEOUT) as s:
                s.ehlo()
                code, msg = s.docmd("ETRN", "lab.test")
                assert code == 250, msg
            net.wait_until(lambda: primary.count() == 5, 20,
                                   what="the flushed mail at the primary")
            flush_s = time.monotonic() - t0
            net.wait_until(lambda: backup.queue_count() == 0, 10,
                                   what="an empty queue")
            rcpts = sorted(r for m in primary.messages for r in m.rcpts)
            assert rcpts == ["<user%d@lab.test>" % i for i in range(5)]
            assert flush_s < 20
    finally:
        primary.stop()


# --- Dovecot ---------------------------------------------------------------


def test_dovecot_imap_starttls(dovecot):
    with imaplib.IMAP4(dovecot.host, dovecot.imap_port, timeout=TIMEOUT) as m:
        assert m.welcome.startswith(b"* OK")
        assert "STARTTLS" in m.capabilities
        typ, _ = m.starttls(ssl_context=tls_context(dovecot.ca_file))
        assert typ == "OK"
        typ, _ = m.login(dovecot.user, dovecot.password)
        assert typ == "OK"
        typ, _ = m.select("INBOX")
        assert typ == "OK"
        m.logout()


def test_dovecot_imaps(dovecot):
    with imaplib.IMAP4_SSL(dovecot.host, dovecot.imaps_port, timeout=TIMEOUT,
                           ssl_context=tls_context(dovecot.ca_file)) as m:
        assert m.welcome.startswith(b"* OK")
        assert "IMAP4REV1" in m.capabilities
        assert m.capability()[0] == "OK"
        m.logout()


def test_dovecot_pop3_stls(dovecot):
    p = poplib.POP3(dovecot.host, dovecot.pop3_port, timeout=TIMEOUT)
    try:
        assert p.getwelcome().startswith(b"+OK")
        assert "STLS" in p.capa()
        assert p.stls(context=tls_context(dovecot.ca_file)).startswith(b"+OK")
        p.user(dovecot.user)
        p.pass_(dovecot.password)
        assert p.stat() == (0, 0)
    finally:
        p.quit()


def test_dovecot_pop3s(dovecot):
    p = poplib.POP3_SSL(dovecot.host, dovecot.pop3s_port, timeout=TIMEOUT,
                        context=tls_context(dovecot.ca_file))
    try:
        assert p.getwelcome().startswith(b"+OK")
        assert "USER" in p.capa()
    finally:
        p.quit()


# --- MariaDB ---------------------------------------------------------------


def test_mariadb_greeting_is_protocol_10(mariadb):
    with socket.create_connection((mariadb.host, mariadb.port),
                                  timeout=TIMEOUT) as s:
        seq, body = mailservers.mysql_read_packet(s)
    assert seq == 0
    assert body[0] == 10
    assert b"MariaDB" in body


def test_mariadb_too_many_connections(mariadb):
    with mariadb.exhausted() as err:
        assert err == {"error": 1040, "message": "Too many connections"}
        assert mailservers.mysql_greeting(mariadb.host, mariadb.port) == err
    # Connections given back: it greets again.
    net.wait_until(
        lambda: mailservers.mysql_greeting(mariadb.host, mariadb.port)
        .get("protocol") == 10, 10, what="the greeting again")


# --- the lab itself --------------------------------------------------------


def test_servers_start_within_seconds(postfix, dovecot, mariadb):
    assert postfix.start_seconds < 15
    assert dovecot.start_seconds < 15
    assert mariadb.install_seconds + mariadb.start_seconds < 30


def test_sink_refuses_when_stopped():
    sink = SmtpSink()
    sink.start()
    port = sink.port
    with smtplib.SMTP(sink.host, port, timeout=TIMEOUT) as s:
        assert s.ehlo()[0] == 250
        s.sendmail("a@x.test", ["b@lab.test"], "Subject: t\r\n\r\n.dot\r\n")
    assert sink.messages[0].raw == b"Subject: t\r\n\r\n.dot\r\n"
    sink.stop()
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection((sink.host, port), timeout=TIMEOUT)
