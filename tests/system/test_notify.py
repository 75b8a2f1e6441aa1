"""System tests of notifications (mail, webhook, exec) and ETRN, through
`mxfailover notify test` and `mxfailover etrn`, against the sinks in
tests/fakes (smtpsink.py, httpsink.py) on loopback.

Every sink is bounded in time; every mxfailover run has a timeout far
below the harness's, and the tests that exercise hanging peers assert the
command came back within its own deadline.
"""

import base64
import os
import subprocess
import sys
import time

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tests", "fakes"))

from httpsink import HttpSink  # noqa: E402
from smtpsink import SmtpSink  # noqa: E402

PASSWORD = "pw-Zq7xK2mP9v"
TSIG_SECRET = base64.b64encode(b"tsig-secret-for-the-notify-test!").decode()


def _openssl(args):
    subprocess.run(["openssl"] + args, check=True, capture_output=True, timeout=30,
                   stdin=subprocess.DEVNULL)


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    """A test CA and a certificate for localhost / 127.0.0.1."""
    d = tmp_path_factory.mktemp("pki")
    ca, cakey = str(d / "ca.pem"), str(d / "ca.key")
    cert, key = str(d / "srv.pem"), str(d / "srv.key")
    _openssl(["req", "-x509", "-new", "-newkey", "ec", "-pkeyopt",
              "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", cakey, "-out", ca,
              "-days", "30", "-subj", "/CN=notify test CA",
              "-addext", "basicConstraints=critical,CA:TRUE",
              "-addext", "keyUsage=critical,keyCertSign,cRLSign"])
    _openssl(["req", "-x509", "-new", "-newkey", "ec", "-pkeyopt",
              "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", key, "-out", cert,
              "-days", "30", "-subj", "/CN=localhost", "-CA", ca, "-CAkey", cakey,
              "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
              "-addext", "basicConstraints=critical,CA:FALSE",
              "-addext", "extendedKeyUsage=serverAuth"])
    return {"ca": ca, "cert": cert, "key": key}


def _env(pki):
    e = dict(os.environ)
    e["MXF_CA_FILE"] = pki["ca"]
    e["TZ"] = "UTC"
    return e


def write_config(tmp_path, notify, key_file=True):
    """A native config with one group and [notify] lines @notify; the
    password file (0600) and a TSIG key file hold the secrets."""
    pw = tmp_path / "smtp.pass"
    pw.write_text(PASSWORD + "\n")
    pw.chmod(0o600)
    key = tmp_path / "update.key"
    key.write_text('key "k" {\n\talgorithm hmac-sha256;\n\tsecret "%s";\n};\n' % TSIG_SECRET)
    key.chmod(0o600)
    text = """[general]
timeout = 5s

[dns]
server = 127.0.0.1:5300
%s
[server mx1]
address = 192.0.2.10
name = mx1.example.com.
checks = smtp

[server mx2]
address = 192.0.2.11
name = mx2.example.com.
checks = smtp

[group mail]
servers = mx1 mx2
zones = example.com example.net
records = mx smtp
type = CNAME
etrn = yes

[notify]
%s
""" % (("key_file = %s\n" % key) if key_file else "",
       "\n".join(notify).replace("@PWFILE@", str(pw)))
    path = tmp_path / "mxfailover.conf"
    path.write_text(text)
    return str(path)


def notify_test(run, pki, config, *args, timeout=30):
    t0 = time.monotonic()
    rc, out, err = run(["notify", "test", "--backoff", "300ms"] + list(args),
                       config=config, timeout=timeout, env=_env(pki))
    return rc, out, err, time.monotonic() - t0


def assert_no_secret(*texts):
    for t in texts:
        assert PASSWORD not in t
        assert TSIG_SECRET not in t


# ------------------------------------------------------------------ mail --

def test_mail_starttls_auth_delivered_once(run, pki, tmp_path):
    with SmtpSink(certfile=pki["cert"], keyfile=pki["key"],
                  users={"mxf": PASSWORD}) as s:
        cfg = write_config(tmp_path, [
            "mail_to = ops@example.com,oncall@example.org",
            "mail_from = mxfailover@example.com",
            "smtp_url = smtp://localhost:%d" % s.port,
            "smtp_user = mxf",
            "smtp_password_file = @PWFILE@"])
        rc, out, err, _ = notify_test(run, pki, cfg)
        assert rc == 0, err
        assert out == "mail: delivered\n"
        assert len(s.messages) == 1
        m = s.messages[0]
        assert m.tls and m.auth_user == "mxf"
        assert m.mail_from == "<mxfailover@example.com>"
        assert m.rcpts == ["<ops@example.com>", "<oncall@example.org>"]
        assert "Subject: [mxfailover] TEST mail: switched mx1 -> mx2" in m.data
        assert "To: ops@example.com,oncall@example.org" in m.data
        for h in ("Date: ", "Message-ID: <", "From: mxfailover <mxfailover@example.com>"):
            assert "\n" + h in "\n" + m.data
        assert "The records of group mail were switched from mx1 to mx2." in m.data
        assert "  mx.example.com. CNAME mx2.example.com." in m.data
        assert "UTC" in m.data and "Next: " in m.data
        # The password went only over TLS, and only in AUTH.
        cmds = s.command_lines()
        assert ("STARTTLS" in [l for tls, l in cmds if not tls])
        assert all(tls for tls, l in cmds if l.startswith("AUTH"))
        assert PASSWORD not in s.plain_text()
        assert s.auths == [(True, "mxf", PASSWORD, True)]
        assert_no_secret(out, err, m.data)


def test_mail_smtps(run, pki, tmp_path):
    with SmtpSink(certfile=pki["cert"], keyfile=pki["key"], implicit_tls=True,
                  starttls=False) as s:
        cfg = write_config(tmp_path, [
            "mail_to = ops@example.com",
            "smtp_url = smtps://localhost:%d" % s.port,
            "smtp_user = mxf",
            "smtp_password_file = @PWFILE@"])
        rc, out, err, _ = notify_test(run, pki, cfg, "--event", "server_down")
        assert rc == 0, err
        assert out == "mail: delivered\n"
        assert len(s.messages) == 1 and s.messages[0].tls
        assert "Subject: [mxfailover] TEST mx1 is down" in s.messages[0].data
        assert_no_secret(out, err)


def test_mail_no_starttls_never_sends_password(run, pki, tmp_path):
    # No certificate: the sink offers no STARTTLS, but AUTH in clear text.
    with SmtpSink(auth_plain=True) as s:
        cfg = write_config(tmp_path, [
            "mail_to = ops@example.com",
            "smtp_url = smtp://127.0.0.1:%d" % s.port,
            "smtp_user = mxf",
            "smtp_password_file = @PWFILE@"])
        rc, out, err, _ = notify_test(run, pki, cfg, "--attempts", "1")
        assert rc == 1
        assert out.startswith("mail: failed: ") and "STARTTLS" in out
        assert s.messages == [] and s.auths == []
        assert PASSWORD not in s.plain_text()
        assert_no_secret(out, err)


def test_mail_plain_without_user_when_no_tls(run, pki, tmp_path):
    # No credentials: STARTTLS only when offered, so a plain relay works.
    with SmtpSink() as s:
        cfg = write_config(tmp_path, [
            "mail_to = ops@example.com",
            "smtp_url = smtp://127.0.0.1:%d" % s.port])
        rc, out, err, _ = notify_test(run, pki, cfg)
        assert rc == 0, err
        assert len(s.messages) == 1 and not s.messages[0].tls


def test_mail_certificate_verified(run, pki, tmp_path):
    with SmtpSink(certfile=pki["cert"], keyfile=pki["key"]) as s:
        cfg = write_config(tmp_path, [
            "mail_to = ops@example.com",
            "smtp_url = smtp://localhost:%d" % s.port,
            "smtp_user = mxf",
            "smtp_password_file = @PWFILE@"])
        env = _env(pki)
        env.pop("MXF_CA_FILE")
        rc, out, err = run(["notify", "test", "--attempts", "1"], config=cfg, env=env)
        assert rc == 1 and out.startswith("mail: failed: ")
        assert s.messages == [] and s.auths == []


@pytest.mark.parametrize("mode", ["refuses", "hangs", "421"])
def test_mail_failing_server(run, pki, tmp_path, mode):
    with SmtpSink(mode=mode, certfile=pki["cert"], keyfile=pki["key"]) as s:
        cfg = write_config(tmp_path, [
            "mail_to = ops@example.com",
            "smtp_url = smtp://localhost:%d" % s.port])
        rc, out, err, secs = notify_test(run, pki, cfg, "--timeout", "2s",
                                         "--attempts", "2")
        assert rc == 1
        assert out.startswith("mail: failed: "), out
        # 2 attempts of at most 2 s plus a 0.3 s backoff.
        assert secs < 10
        assert "given up after 2 attempts" in err
        assert "localhost:%d" % s.port in err


def test_mail_auth_rejected_not_retried(run, pki, tmp_path):
    with SmtpSink(mode="rejects_auth", certfile=pki["cert"], keyfile=pki["key"]) as s:
        cfg = write_config(tmp_path, [
            "mail_to = ops@example.com",
            "smtp_url = smtp://localhost:%d" % s.port,
            "smtp_user = mxf",
            "smtp_password_file = @PWFILE@"])
        rc, out, err, _ = notify_test(run, pki, cfg)
        assert rc == 1 and out.startswith("mail: failed: ")
        assert s.connections == 1
        assert_no_secret(out, err)


def test_password_file_mode_refused(run, pki, tmp_path):
    cfg = write_config(tmp_path, [
        "mail_to = ops@example.com",
        "smtp_url = smtp://localhost:25",
        "smtp_user = mxf",
        "smtp_password_file = @PWFILE@"])
    (tmp_path / "smtp.pass").chmod(0o644)
    rc, out, err, _ = notify_test(run, pki, cfg)
    assert rc == 2
    assert "accessible by group or others" in err and "chmod 600" in err
    assert_no_secret(out, err)


def test_no_channel_is_config_error(run, pki, tmp_path):
    cfg = write_config(tmp_path, [])
    rc, out, err, _ = notify_test(run, pki, cfg)
    assert rc == 2 and "no notification channel" in err


def test_dnsfailover_via_active_server(run, pki, tmp_path):
    """DNS_Failover's config: the notice goes through mx1 itself, with
    STARTTLS (use_tls) and the inline password, which never leaks."""
    with SmtpSink(certfile=pki["cert"], keyfile=pki["key"],
                  users={"user": PASSWORD}) as s:
        cfg = tmp_path / "config.cfg"
        cfg.write_text("""[ZONES]
zone1 = domain1.tld
zone2 = domain2.tld
[MX]
mxip1 = 127.0.0.1
mxip2 = 127.0.0.2
mx1 = localhost
mx2 = mx2.example.com
[RECORDS]
record_mx = mx
record_smtp = smtp
record_imap = imap
record_mail = mail
record_pop3 = pop3
[PORTS]
smtp = 25
imaps = 993
https = 443
mysql = 3306
port1 = 22
port2 = 22
[SETTINGS]
ttl = 60
ns = 127.0.0.1
logfile = %s
space_limit = 97
partition = /var/
user = root
[MAIL]
sender_email = noreply@example.com
recipient_email = recipient@domain1.tld, recipient@domain2.tld
port = %d
use_tls = true
username = user
password = %s
""" % (tmp_path / "bind.log", s.port, PASSWORD))
        rc, out, err, _ = notify_test(run, pki, str(cfg))
        assert rc == 0, err
        assert out == "mail: delivered\n"
        assert len(s.messages) == 1 and s.messages[0].tls
        assert s.messages[0].rcpts == ["<recipient@domain1.tld>", "<recipient@domain2.tld>"]
        assert PASSWORD not in s.plain_text()
        assert_no_secret(out, err, s.messages[0].data)


# --------------------------------------------------------------- webhook --

def test_webhook_200_once(run, pki, tmp_path):
    import json
    with HttpSink(mode="200") as h:
        cfg = write_config(tmp_path, ["webhook = http://127.0.0.1:%d/hook/T0KEN" % h.port])
        rc, out, err, _ = notify_test(run, pki, cfg, "--event", "switch_failed",
                                      "--reason", "UPDATE example.com.: REFUSED")
        assert rc == 0, err
        assert out == "webhook: delivered\n"
        assert len(h.requests) == 1
        r = h.requests[0]
        assert r.path == "/hook/T0KEN"
        assert r.headers.get("Content-Type") == "application/json"
        body = json.loads(r.body)
        for k in ("version", "event", "group", "server", "from", "to", "zones",
                  "records", "reason", "time"):
            assert k in body
        assert body["event"] == "switch_failed" and body["group"] == "mail"
        assert body["from"] == "mx1" and body["to"] == "mx2"
        assert body["zones"] == ["example.com.", "example.net."]
        assert body["reason"] == "UPDATE example.com.: REFUSED"
        assert body["test"] is True and body["version"] == 1
        assert body["time"].endswith("Z")


def test_webhook_500_then_200(run, pki, tmp_path):
    with HttpSink(mode="500", failures=1) as h:
        cfg = write_config(tmp_path, ["webhook = http://127.0.0.1:%d/hook" % h.port])
        rc, out, err, _ = notify_test(run, pki, cfg)
        assert rc == 0, err
        assert out == "webhook: delivered\n"
        assert len(h.requests) == 2
        assert "HTTP status 500" in err and "retrying" in err
        assert "127.0.0.1:%d" % h.port in err


def test_webhook_4xx_not_retried(run, pki, tmp_path):
    with HttpSink(mode="404") as h:
        cfg = write_config(tmp_path, ["webhook = http://127.0.0.1:%d/hook/SECRETPATH" % h.port])
        rc, out, err, _ = notify_test(run, pki, cfg)
        assert rc == 1
        assert out == "webhook: failed: HTTP status 404\n"
        assert len(h.requests) == 1
        # Webhook paths often hold a token: never logged.
        assert "SECRETPATH" not in err


@pytest.mark.parametrize("mode", ["hangs", "refuses"])
def test_webhook_failing(run, pki, tmp_path, mode):
    with HttpSink(mode=mode) as h:
        cfg = write_config(tmp_path, ["webhook = http://127.0.0.1:%d/hook" % h.port])
        rc, out, err, secs = notify_test(run, pki, cfg, "--timeout", "1s",
                                         "--attempts", "2")
        assert rc == 1
        assert out.startswith("webhook: failed: ")
        assert secs < 8
        if mode == "hangs":
            assert len(h.requests) == 2


# ------------------------------------------------------------------ exec --

def test_exec_environment(run, pki, tmp_path):
    dump = tmp_path / "env.out"
    hook = tmp_path / "hook.sh"
    hook.write_text("#!/bin/sh\nenv > %s\n" % dump)
    hook.chmod(0o755)
    cfg = write_config(tmp_path, ["exec = %s" % hook])
    rc, out, err, _ = notify_test(run, pki, cfg, "--event", "queue_flush",
                                  "--reason", "458 Unable to queue messages")
    assert rc == 0, err
    assert out == "exec: delivered\n"
    env = dict(l.split("=", 1) for l in dump.read_text().splitlines() if "=" in l)
    assert env["MXF_EVENT"] == "queue_flush"
    assert env["MXF_GROUP"] == "mail"
    assert env["MXF_SERVER"] == "mx1"
    assert env["MXF_FROM"] == "mx1" and env["MXF_TO"] == "mx2"
    assert env["MXF_ZONES"] == "example.com. example.net."
    assert "mx.example.com. CNAME mx2.example.com." in env["MXF_RECORDS"]
    assert env["MXF_REASON"] == "458 Unable to queue messages"
    assert env["MXF_TIME"].endswith("Z")
    assert env["MXF_TEST"] == "1"
    assert_no_secret(dump.read_text())


def test_exec_killed_at_timeout(run, pki, tmp_path):
    pidfile = tmp_path / "pid"
    hook = tmp_path / "slow.sh"
    hook.write_text("#!/bin/sh\necho $$ > %s\nexec sleep 60\n" % pidfile)
    hook.chmod(0o755)
    cfg = write_config(tmp_path, ["exec = %s" % hook])
    rc, out, err, secs = notify_test(run, pki, cfg, "--timeout", "1s", "--attempts", "1")
    assert rc == 1
    assert out.startswith("exec: failed: killed after 1s (timeout)")
    assert secs < 5
    pid = int(pidfile.read_text())
    assert not os.path.exists("/proc/%d" % pid) or \
        open("/proc/%d/stat" % pid).read().split()[2] in ("Z", "X")


def test_exec_failure_reported(run, pki, tmp_path):
    hook = tmp_path / "fail.sh"
    hook.write_text("#!/bin/sh\necho 'cannot page' >&2\nexit 3\n")
    hook.chmod(0o755)
    cfg = write_config(tmp_path, ["exec = %s" % hook])
    rc, out, err, _ = notify_test(run, pki, cfg, "--attempts", "2")
    assert rc == 1
    assert out == "exec: failed: exited with status 3: cannot page\n"


# --------------------------------------------------------------- secrets --

def test_no_secret_anywhere(run, pki, tmp_path):
    """The SMTP password and the TSIG secret, even when an event's text
    carries them, appear in no output, log, notice or hook environment."""
    dump = tmp_path / "env.out"
    hook = tmp_path / "hook.sh"
    hook.write_text("#!/bin/sh\nenv > %s\n" % dump)
    hook.chmod(0o755)
    with SmtpSink(certfile=pki["cert"], keyfile=pki["key"]) as s, \
            HttpSink(mode="500", failures=1) as h:
        cfg = write_config(tmp_path, [
            "mail_to = ops@example.com",
            "smtp_url = smtp://localhost:%d" % s.port,
            "smtp_user = mxf",
            "smtp_password_file = @PWFILE@",
            "webhook = http://127.0.0.1:%d/hook" % h.port,
            "exec = %s" % hook])
        reason = "oops %s and %s" % (PASSWORD, TSIG_SECRET)
        rc, out, err, _ = notify_test(run, pki, cfg, "--reason", reason)
        assert rc == 0, err
        rc2, out2, err2 = run(["-vv", "notify", "test", "--backoff", "300ms",
                               "--event", "all_down", "--reason", reason],
                              config=cfg, env=_env(pki))
        assert rc2 == 0, err2
        assert len(s.messages) == 2
        texts = [out, err, out2, err2, dump.read_text()] + \
            [m.data for m in s.messages] + h.bodies() + [s.plain_text()]
        assert_no_secret(*texts)
        assert "[redacted]" in s.messages[0].data
        assert "[redacted]" in h.bodies()[0]


# ------------------------------------------------------------------ ETRN --

@pytest.mark.parametrize("reply,rc,word", [
    ("250 Queuing started", 0, "accepted"),
    ("458 Unable to queue messages for node", 1, "failed"),
    ("459 Node example.com not allowed: unknown", 1, "failed"),
    ("502 5.5.2 Error: command not recognized", 1, "failed"),
])
def test_etrn_replies(run, pki, reply, rc, word):
    with SmtpSink(certfile=pki["cert"], keyfile=pki["key"], etrn_reply=reply) as s:
        r, out, err = run(["etrn", "--timeout", "5s", "127.0.0.1:%d" % s.port,
                           "example.com.", "example.net"], env=_env(pki))
        assert r == rc, err
        assert out == "example.com: %s: %s\nexample.net: %s: %s\n" % (word, reply, word, reply)
        # One connection for all zones, the zone without its trailing dot,
        # over TLS because STARTTLS was offered, and a polite QUIT.
        assert s.connections == 1
        assert s.etrn == ["example.com", "example.net"]
        cmds = s.command_lines()
        assert [l for tls, l in cmds if l.startswith("ETRN")] == \
            ["ETRN example.com", "ETRN example.net"]
        assert all(tls for tls, l in cmds if l.startswith("ETRN"))
        assert cmds[-1] == (True, "QUIT")


def test_etrn_mixed_and_plain(run, pki):
    with SmtpSink(etrn_reply={"a.test": "250 Queuing started",
                              "b.test": "459 Node b.test not allowed"}) as s:
        r, out, err = run(["etrn", "127.0.0.1:%d" % s.port, "a.test", "b.test"])
        assert r == 1
        assert out == ("a.test: accepted: 250 Queuing started\n"
                       "b.test: failed: 459 Node b.test not allowed\n")


@pytest.mark.parametrize("mode", ["refuses", "hangs", "421"])
def test_etrn_failing_server(run, pki, mode):
    with SmtpSink(mode=mode) as s:
        t0 = time.monotonic()
        r, out, err = run(["etrn", "--timeout", "2s", "127.0.0.1:%d" % s.port, "a.test"])
        assert r == 1
        assert time.monotonic() - t0 < 8
        assert out.startswith("a.test: failed: ")
        want = {"refuses": "connection refused",
                "hangs": "timed out after 2s waiting for the banner",
                "421": "421 4.3.2 Service shutting down"}[mode]
        assert want in out


def test_etrn_usage(run):
    r, out, err = run(["etrn", "127.0.0.1"])
    assert r == 2
    r, out, err = run(["etrn", "127.0.0.1", "bad zone"])
    assert r == 2


def test_listed_in_summary(run):
    # Issue 11: --help lists every command, the operator tools too.
    r, out, err = run(["--help"])
    assert r == 0
    assert "\n  notify " in out and "\n  etrn " in out
    r, out, err = run(["help", "notify"])
    assert r == 0 and "notify test" in out
    r, out, err = run(["help", "etrn"])
    assert r == 0 and "ETRN" in out
