"""System tests of `mxfailover probe` against the fault servers of
tests/fakes/fakeserver.py: every fault gives "down" with the right phase and
reason, within its timeout; well-behaved fakes give "up".

Certificates are made per module with the openssl command into a temporary
directory, signed by a throw-away CA that the probe trusts through
MXF_CA_FILE.
"""

import datetime
import json
import os
import subprocess
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tests", "fakes"))

from fakeserver import FakeServer  # noqa: E402
from mxflab import assert_down  # noqa: E402


# ---------------------------------------------------------------- helpers --

def _openssl(*args, cwd):
    subprocess.run(["openssl"] + list(args), cwd=cwd, check=True,
                   capture_output=True, timeout=60)


@pytest.fixture(scope="module")
def certs(tmp_path_factory):
    """A test CA, a good certificate for localhost/127.0.0.1, one that
    expired a day ago and one for the wrong name."""
    d = tmp_path_factory.mktemp("certs")
    _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key",
             "-out", "ca.pem", "-days", "30", "-subj", "/CN=mxfailover test CA", cwd=d)
    # A second CA that signed nothing we serve: trusting it alone must fail.
    _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "other.key",
             "-out", "other-ca.pem", "-days", "30", "-subj", "/CN=unrelated CA", cwd=d)

    def leaf(name, cn, san, days):
        _openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", name + ".key",
                 "-out", name + ".csr", "-subj", "/CN=" + cn, cwd=d)
        (d / (name + ".ext")).write_text("subjectAltName=" + san + "\n")
        _openssl("x509", "-req", "-in", name + ".csr", "-CA", "ca.pem", "-CAkey", "ca.key",
                 "-set_serial", str(abs(hash(name)) % 100000 + 2), "-days", str(days),
                 "-extfile", name + ".ext", "-out", name + ".pem", cwd=d)
        return {"certfile": str(d / (name + ".pem")), "keyfile": str(d / (name + ".key"))}

    return {
        "ca": str(d / "ca.pem"),
        "other_ca": str(d / "other-ca.pem"),
        "good": leaf("good", "localhost", "DNS:localhost,IP:127.0.0.1", 30),
        "expired": leaf("expired", "localhost", "DNS:localhost,IP:127.0.0.1", -1),
        "wrongname": leaf("wrong", "wrong.example", "DNS:wrong.example", 30),
    }


@pytest.fixture
def probe(timed_run, certs):
    """probe(*args) -> (rc, results, stderr, seconds); results parsed from --json."""

    def _probe(*args, timeout=30.0):
        env = dict(os.environ, MXF_CA_FILE=certs["ca"])
        rc, out, err, secs = timed_run(["probe", "--json"] + list(args), timeout=timeout, env=env)
        results = json.loads(out) if out.strip() else None
        return rc, results, err, secs

    return _probe


def one(probe, url):
    rc, res, err, secs = probe(url)
    assert res is not None, err
    assert len(res) == 1
    return rc, res[0], secs


# ----------------------------------------------------------------- faults --

def test_refused_tcp_and_smtp(probe):
    with FakeServer("closed") as srv:
        rc, res, err, secs = probe(f"tcp://127.0.0.1:{srv.port}", f"smtp://127.0.0.1:{srv.port}")
    assert rc == 1
    for r in res:
        assert_down(r, "connect", "connection refused")
    assert secs < 5


def test_silent_server_times_out_in_greeting(probe):
    with FakeServer("silent") as srv:
        rc, r, secs = one(probe, f"smtp://127.0.0.1:{srv.port}?timeout=1s")
    assert rc == 1
    assert_down(r, "greeting", "timed out after 1s waiting for the greeting")
    assert 0.9 <= r["ms"] / 1000 <= 1.5
    assert secs < 3.5


def test_drip_cannot_outlive_the_deadline(probe):
    # One byte every 0.3 s: each read makes progress, the deadline still holds.
    with FakeServer("drip", interval=0.3) as srv:
        rc, r, secs = one(probe, f"smtp://127.0.0.1:{srv.port}?timeout=1500ms")
    assert_down(r, "greeting", "timed out after 1500ms")
    assert r["ms"] < 2000
    assert secs < 4


def test_flood_without_newline_is_line_too_long(probe):
    with FakeServer("flood") as srv:
        rc, r, secs = one(probe, f"smtp://127.0.0.1:{srv.port}?timeout=5s")
    assert_down(r, "greeting", "line too long")
    assert r["ms"] < 2000


def test_flood_imap_and_http_too(probe):
    with FakeServer("flood") as srv:
        rc, res, err, secs = probe(f"imap://127.0.0.1:{srv.port}", f"http://127.0.0.1:{srv.port}/",
                                   f"pop3://127.0.0.1:{srv.port}")
    for r in res:
        assert r["state"] == "down" and "line too long" in r["reason"], r


def test_garbage_is_not_smtp(probe):
    with FakeServer("garbage") as srv:
        rc, r, secs = one(probe, f"smtp://127.0.0.1:{srv.port}")
    assert r["state"] == "down" and r["phase"] == "greeting", r
    # The quoted garbage stays printable: no C0 or C1 control characters.
    assert not any(ord(ch) < 32 or 0x7f <= ord(ch) <= 0x9f for ch in r["reason"]), r


def test_421_banner_is_down_with_the_line_and_polite_quit(probe):
    with FakeServer("smtp", banner="421 4.3.2 Service shutting down") as srv:
        rc, r, secs = one(probe, f"smtp://127.0.0.1:{srv.port}")
        log = list(srv.log)
    assert rc == 1
    assert_down(r, "greeting", "421 4.3.2 Service shutting down")
    assert r["reason"] == "421 4.3.2 Service shutting down"
    assert "QUIT" in log


def test_ehlo_rejected(probe):
    with FakeServer("smtp", ehlo_reply="554 5.7.1 You are not welcome") as srv:
        rc, r, secs = one(probe, f"smtp://127.0.0.1:{srv.port}")
    assert_down(r, "EHLO", "554 5.7.1 You are not welcome")


def test_starttls_offered_but_broken(probe, certs):
    with FakeServer("smtp", starttls=True, tls_broken=True, **certs["good"]) as srv:
        rc, r, secs = one(probe, f"smtp://127.0.0.1:{srv.port}?timeout=3s")
    assert_down(r, "TLS handshake", "TLS:")
    assert r["ms"] < 3000


def test_expired_certificate(probe, certs):
    with FakeServer("smtp", implicit_tls=True, **certs["expired"]) as srv:
        rc, r, secs = one(probe, f"smtps://127.0.0.1:{srv.port}")
    assert_down(r, "TLS handshake", "TLS: certificate expired 1 day ago")


def test_wrong_name_certificate(probe, certs):
    with FakeServer("imap", implicit_tls=True, **certs["wrongname"]) as srv:
        rc, r, secs = one(probe, f"imaps://127.0.0.1:{srv.port}?sni=localhost")
    assert_down(r, "TLS handshake", "does not match the name localhost")


def test_untrusted_without_ca(timed_run, certs):
    # Without MXF_CA_FILE the system store does not know the test CA.
    env = {k: v for k, v in os.environ.items() if k != "MXF_CA_FILE"}
    with FakeServer("smtp", implicit_tls=True, **certs["good"]) as srv:
        rc, out, err, secs = timed_run(["probe", "--json", f"smtps://127.0.0.1:{srv.port}"], env=env)
    r = json.loads(out)[0]
    assert_down(r, "TLS handshake", "certificate verify failed")


@pytest.fixture(scope="module")
def bad_self_signed(tmp_path_factory):
    """A self-signed certificate for wrong.example that expired 30 days ago
    (`openssl ca -selfsign`, which takes any start and end date)."""
    d = tmp_path_factory.mktemp("badcert")
    _openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
             "-keyout", "bad.key", "-out", "bad.csr", "-subj", "/CN=wrong.example", cwd=d)
    (d / "ext").write_text("subjectAltName=DNS:wrong.example\n")
    (d / "index.txt").write_text("")
    (d / "serial").write_text("01\n")
    (d / "ca.cnf").write_text(
        "[ca]\ndefault_ca = CA\n[CA]\ndatabase = index.txt\nnew_certs_dir = .\n"
        "serial = serial\ndefault_md = sha256\npolicy = pol\nunique_subject = no\n"
        "[pol]\ncommonName = supplied\n")
    now = datetime.datetime.now(datetime.timezone.utc)
    fmt = "%Y%m%d%H%M%SZ"
    _openssl("ca", "-batch", "-config", "ca.cnf", "-selfsign", "-keyfile", "bad.key",
             "-in", "bad.csr", "-notext", "-extfile", "ext", "-out", "bad.pem",
             "-startdate", (now - datetime.timedelta(days=60)).strftime(fmt),
             "-enddate", (now - datetime.timedelta(days=30, hours=1)).strftime(fmt), cwd=d)
    return {"certfile": str(d / "bad.pem"), "keyfile": str(d / "bad.key")}


@pytest.mark.parametrize("scheme", ["smtps", "imaps", "pop3s", "https"])
def test_every_certificate_problem_is_reported(probe, bad_self_signed, scheme):
    """Expired, self-signed and for the wrong name: the reason lists all
    three, not just OpenSSL's first error."""
    mode = {"smtps": "smtp", "imaps": "imap", "pop3s": "pop3", "https": "http"}[scheme]
    with FakeServer(mode, implicit_tls=True, **bad_self_signed) as srv:
        rc, r, secs = one(probe, f"{scheme}://127.0.0.1:{srv.port}?sni=mx1.example.com")
    assert_down(r, "TLS handshake",
                "TLS: certificate expired 30 days ago; self-signed; "
                "certificate does not match the name mx1.example.com")


def test_verify_no_accepts_expired(probe, certs):
    with FakeServer("smtp", implicit_tls=True, **certs["expired"]) as srv:
        rc, r, secs = one(probe, f"smtps://127.0.0.1:{srv.port}?verify=no")
    assert rc == 0
    assert r["state"] == "up"
    assert r["cert_days"] == -1


def test_cert_days_gives_warning(probe, certs):
    with FakeServer("http", implicit_tls=True, **certs["good"]) as srv:
        rc, r, secs = one(probe, f"https://127.0.0.1:{srv.port}/?cert_days=60")
    assert rc == 1
    assert r["state"] == "warning"
    assert "expires in" in r["reason"] and "cert_days=60" in r["reason"]


def test_http_500_is_down(probe):
    with FakeServer("http", status="500 Internal Server Error") as srv:
        rc, r, secs = one(probe, f"http://127.0.0.1:{srv.port}/health")
        log = list(srv.log)
    assert_down(r, "response", "500 Internal Server Error")
    assert log[0] == "GET /health HTTP/1.1"
    assert f"Host: 127.0.0.1:{srv.port}" in log


def test_http_status_option(probe):
    with FakeServer("http", status="503 Service Unavailable") as srv:
        rc, r, secs = one(probe, f"http://127.0.0.1:{srv.port}/?expect=200,503")
    assert r["state"] == "up"


def test_mysql_err_packet(probe):
    msg = "Host '127.0.0.1' is blocked because of many connection errors"
    with FakeServer("mysql", err=(1129, msg)) as srv:
        rc, r, secs = one(probe, f"mysql://127.0.0.1:{srv.port}")
    assert_down(r, "greeting", "ERR 1129: " + msg)


def test_reset_mid_conversation(probe):
    with FakeServer("reset") as srv:
        rc, r, secs = one(probe, f"smtp://127.0.0.1:{srv.port}")
    assert_down(r, "EHLO", "reset")


def test_submission_requires_starttls(probe):
    with FakeServer("smtp") as srv:
        rc, r, secs = one(probe, f"submission://127.0.0.1:{srv.port}")
    assert_down(r, "EHLO", "STARTTLS not offered")


# ------------------------------------------------------------ good fakes --

def test_smtp_plain_up(probe):
    with FakeServer("smtp") as srv:
        rc, r, secs = one(probe, f"smtp://127.0.0.1:{srv.port}")
        log = list(srv.log)
    assert rc == 0, r
    assert r["state"] == "up"
    assert r["reason"].startswith("220 mx.example.test")
    assert log[0].startswith("EHLO ") and log[-1] == "QUIT"


def test_smtp_starttls_up(probe, certs):
    with FakeServer("smtp", starttls=True, **certs["good"]) as srv:
        rc, r, secs = one(probe, f"submission://127.0.0.1:{srv.port}?sni=localhost&helo=probe.example")
        log = list(srv.log)
    assert rc == 0, r
    assert "(STARTTLS)" in r["reason"]
    assert log == ["EHLO probe.example", "STARTTLS", "EHLO probe.example", "QUIT"]
    assert r["cert_days"] in (29, 30)


def test_imap_starttls_and_imaps_up(probe, certs):
    with FakeServer("imap", starttls=True, **certs["good"]) as a, \
            FakeServer("imap", implicit_tls=True, **certs["good"]) as b:
        rc, res, err, secs = probe(f"imap://127.0.0.1:{a.port}", f"imaps://127.0.0.1:{b.port}")
        loga, logb = list(a.log), list(b.log)
    assert rc == 0, res
    assert [r["state"] for r in res] == ["up", "up"]
    assert loga == ["a1 CAPABILITY", "a2 STARTTLS", "a9 LOGOUT"]
    assert logb == ["a1 CAPABILITY", "a9 LOGOUT"]


def test_imap_bye_greeting(probe):
    with FakeServer("imap", greeting="* BYE Too many connections") as srv:
        rc, r, secs = one(probe, f"imap://127.0.0.1:{srv.port}")
    assert_down(r, "greeting", "* BYE Too many connections")


def test_pop3_stls_and_pop3s_up(probe, certs):
    with FakeServer("pop3", stls=True, **certs["good"]) as a, \
            FakeServer("pop3", implicit_tls=True, **certs["good"]) as b:
        rc, res, err, secs = probe(f"pop3://127.0.0.1:{a.port}", f"pop3s://127.0.0.1:{b.port}")
        loga = list(a.log)
    assert rc == 0, res
    assert loga == ["CAPA", "STLS", "QUIT"]


def test_pop3_err_greeting(probe):
    with FakeServer("pop3", greeting="-ERR [SYS/TEMP] server busy") as srv:
        rc, r, secs = one(probe, f"pop3://127.0.0.1:{srv.port}")
    assert_down(r, "greeting", "-ERR [SYS/TEMP] server busy")


def test_https_and_mysql_up(probe, certs):
    with FakeServer("http", implicit_tls=True, **certs["good"]) as a, FakeServer("mysql") as b:
        rc, res, err, secs = probe(f"https://127.0.0.1:{a.port}/", f"mysql://127.0.0.1:{b.port}")
    assert rc == 0, res
    assert res[1]["reason"] == "MySQL protocol 10, server 10.11.6-MariaDB-fake"


def test_tcp_up(probe):
    with FakeServer("silent") as srv:
        rc, r, secs = one(probe, f"tcp://127.0.0.1:{srv.port}")
    assert rc == 0 and r["state"] == "up" and r["phase"] == "connect"


def test_ipv6_literal(probe):
    # The fakes listen on IPv4; ::1 port is closed, which is still a clean answer.
    with FakeServer("closed") as srv:
        rc, r, secs = one(probe, f"smtp://[::1]:{srv.port}")
    assert r["state"] == "down" and r["phase"] == "connect"


# ------------------------------------------------------------ the engine --

def test_many_silent_servers_finish_together(probe):
    servers = [FakeServer("silent") for _ in range(20)]
    for s in servers:
        s.start()
    try:
        urls = [f"smtp://127.0.0.1:{s.port}?timeout=1s" for s in servers]
        rc, res, err, secs = probe(*urls)
    finally:
        for s in servers:
            s.stop()
    assert [r["url"] for r in res] == urls
    assert all(r["state"] == "down" for r in res)
    assert secs < 4, "20 checks of 1 s each must run at once"


def test_same_url_twice_runs_once(probe):
    with FakeServer("smtp") as srv:
        url = f"smtp://127.0.0.1:{srv.port}"
        rc, res, err, secs = probe(url, url)
        conns = srv.connections
    assert [r["state"] for r in res] == ["up", "up"]
    assert conns == 1


def test_text_output_columns(run):
    with FakeServer("closed") as a, FakeServer("smtp") as b:
        rc, out, err = run(["probe", f"tcp://127.0.0.1:{a.port}", f"smtp://127.0.0.1:{b.port}"])
    lines = out.splitlines()
    assert rc == 1
    assert len(lines) == 2
    assert "down" in lines[0] and "connection refused" in lines[0]
    assert "up" in lines[1] and "220 mx.example.test" in lines[1]
    # Columns line up: the state starts at the same offset on both lines.
    assert lines[0].index("down") == lines[1].index("up")


def test_bad_url_exits_2_and_says_which(run):
    rc, out, err = run(["probe", "smtp://127.0.0.1", "smtp://127.0.0.1:99999"])
    assert rc == 2
    assert "smtp://127.0.0.1:99999" in err and "port" in err
    rc, out, err = run(["probe", "gopher://127.0.0.1"])
    assert rc == 2 and "unknown check scheme" in err
    rc, out, err = run(["probe", "smtp://127.0.0.1?timeout=soon"])
    assert rc == 2 and "timeout" in err
    rc, out, err = run(["probe"])
    assert rc == 2


# ------------------------------------------------------------------ exec --

def test_exec_plugin_convention(probe, tmp_path):
    plugin = tmp_path / "plugin.sh"
    plugin.write_text("#!/bin/sh\necho \"$2 - disk is fine | used=1\"\nexit $1\n")
    plugin.chmod(0o755)
    rc, res, err, secs = probe(f"exec:{plugin} 0 OK", f"exec:{plugin} 1 WARNING",
                               f"exec:{plugin} 2 CRITICAL", f"exec:{plugin} 3 UNKNOWN")
    assert [r["state"] for r in res] == ["up", "warning", "down", "down"]
    assert res[0]["reason"] == "OK - disk is fine"
    assert res[3]["reason"].startswith("UNKNOWN")


def test_exec_killed_at_timeout(probe):
    rc, res, err, secs = probe("--timeout", "1s", "exec:/bin/sleep 20")
    assert_down(res[0], "exec", "timed out after 1s")
    assert secs < 4


def test_exec_output_bounded(probe):
    rc, res, err, secs = probe("exec:/bin/sh -c 'head -c 5000000 /dev/zero | tr \"\\0\" x; exit 0'")
    assert res[0]["state"] == "up"
    assert len(res[0]["reason"]) < 300


# ------------------------------------------------------------------- dns --

def test_dns_authoritative_and_not(probe):
    dns = pytest.importorskip("dns.message")
    import socket
    import threading

    def serve(sock, aa, rcode):
        for _ in range(4):
            try:
                data, peer = sock.recvfrom(4096)
            except OSError:
                return
            q = dns.message.from_wire(data)
            r = dns.message.make_response(q)
            if aa:
                r.flags |= 0x0400
            r.set_rcode(rcode)
            sock.sendto(r.to_wire(), peer)

    import dns.rcode
    socks = []
    for aa, rcode in ((True, dns.rcode.NOERROR), (False, dns.rcode.NOERROR),
                      (True, dns.rcode.REFUSED)):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind(("127.0.0.1", 0))
        s.settimeout(10)
        threading.Thread(target=serve, args=(s, aa, rcode), daemon=True).start()
        socks.append(s)
    try:
        urls = [f"dns://127.0.0.1:{s.getsockname()[1]}/example.org" for s in socks]
        rc, res, err, secs = probe(*urls)
    finally:
        for s in socks:
            s.close()
    assert [r["state"] for r in res] == ["up", "down", "down"], res
    assert "not authoritative" in res[1]["reason"]
    assert "REFUSED" in res[2]["reason"]


# ------------------------------------------------------------- --server --

def test_probe_server_from_config(run, tmp_path):
    with FakeServer("smtp") as good, FakeServer("closed") as closed:
        conf = tmp_path / "mxf.conf"
        conf.write_text(f"""[general]
timeout = 2s
[dns]
server = 127.0.0.1
[server mx1]
address = 127.0.0.1
name = mx1.example.com.
checks = smtp://127.0.0.1:{good.port} tcp://127.0.0.1:{closed.port}
[group mail]
servers = mx1
zones = example.com
records = mail
type = CNAME
""")
        rc, out, err = run(["probe", "--json", "--server", "mx1"], config=str(conf))
        assert rc == 1, err
        res = json.loads(out)
        assert [r["state"] for r in res] == ["up", "down"]
        rc, out, err = run(["probe", "--server", "nope"], config=str(conf))
        assert rc == 2 and "nope" in err


def test_equal_urls_spelled_differently_run_once(probe):
    with FakeServer("smtp") as srv:
        rc, res, err, secs = probe(f"smtp://127.0.0.1:{srv.port}", f"SMTP://127.0.0.1:{srv.port}")
        conns = srv.connections
    assert [r["state"] for r in res] == ["up", "up"]
    assert conns == 1


# ------------------------------------------------------------ ca= option --

def test_ca_option_replaces_the_trust_store(timed_run, certs, tmp_path):
    # No MXF_CA_FILE: only ca= can make the test CA trusted.
    env = {k: v for k, v in os.environ.items() if k != "MXF_CA_FILE"}
    missing = tmp_path / "missing.pem"
    notpem = tmp_path / "not.pem"
    notpem.write_text("not a certificate\n")
    with FakeServer("smtp", implicit_tls=True, **certs["good"]) as srv:
        base = f"smtps://127.0.0.1:{srv.port}"
        rc, out, err, secs = timed_run(
            ["probe", "--json", base, f"{base}?ca={certs['ca']}", f"{base}?ca={missing}",
             f"{base}?ca={notpem}"], env=env)
    res = json.loads(out)
    assert rc == 1
    assert_down(res[0], "TLS handshake", "certificate verify failed")
    assert res[1]["state"] == "up", res[1]
    assert_down(res[2], "TLS handshake",
                f"TLS: cannot load the CA file {missing}: No such file or directory")
    assert_down(res[3], "TLS handshake", f"TLS: cannot load the CA file {notpem}: no PEM")


def test_ca_option_wins_over_mxf_ca_file(probe, certs):
    # MXF_CA_FILE trusts the test CA, but this URL trusts only another CA.
    with FakeServer("imap", implicit_tls=True, **certs["good"]) as srv:
        rc, res, err, secs = probe(f"imaps://127.0.0.1:{srv.port}?ca={certs['other_ca']}",
                                   f"imaps://127.0.0.1:{srv.port}")
    assert_down(res[0], "TLS handshake", "certificate verify failed")
    assert res[1]["state"] == "up", res[1]


def test_ca_option_is_checked_as_a_url_option(run):
    rc, out, err = run(["probe", "smtps://127.0.0.1?ca=relative.pem"])
    assert rc == 2 and "absolute path" in err
    rc, out, err = run(["probe", "http://127.0.0.1/?ca=/etc/ssl/ca.pem"])
    assert rc == 2 and "does not apply to http" in err


# ------------------------------------------- --server: sni from the name --

def _server_conf(tmp_path, address, name, checks):
    conf = tmp_path / "mxf.conf"
    conf.write_text(f"""[general]
timeout = 3s
[dns]
server = 127.0.0.1
[server mx1]
address = {address}
name = {name}
checks = {checks}
[group mail]
servers = mx1
zones = example.com
records = mail
type = CNAME
""")
    return str(conf)


def test_server_short_names_check_the_certificate_against_the_name(run, certs, tmp_path):
    # A short name connects to the default port of the server's address: a
    # loopback address of our own, port 465 (needs root to bind).
    addr = "127.83.0.%d" % (os.getpid() % 200 + 20)
    try:
        srv = FakeServer("smtp", implicit_tls=True, host=addr, port=465, **certs["good"])
        srv.start()
    except OSError as e:
        pytest.skip(f"cannot serve {addr}:465 here: {e}")
    env = dict(os.environ, MXF_CA_FILE=certs["ca"])
    try:
        # The certificate is for localhost: right name, up; other name, down,
        # although the check connects to an IP address.
        conf = _server_conf(tmp_path, addr, "localhost.", "smtps")
        rc, out, err = run(["probe", "--json", "--server", "mx1"], config=conf, env=env)
        res = json.loads(out)
        assert res[0]["url"] == f"smtps://{addr}?sni=localhost", res
        assert res[0]["state"] == "up", res
        conf = _server_conf(tmp_path, addr, "mx1.example.com.", "smtps")
        rc, out, err = run(["probe", "--json", "--server", "mx1"], config=conf, env=env)
        res = json.loads(out)
        assert res[0]["url"] == f"smtps://{addr}?sni=mx1.example.com", res
        assert_down(res[0], "TLS handshake", "does not match the name mx1.example.com")
        # A full URL is taken as written: no name check for an IP literal.
        conf = _server_conf(tmp_path, addr, "mx1.example.com.", f"smtps://{addr}")
        rc, out, err = run(["probe", "--json", "--server", "mx1"], config=conf, env=env)
        res = json.loads(out)
        assert res[0]["url"] == f"smtps://{addr}" and res[0]["state"] == "up", res
    finally:
        srv.stop()


# ------------------------------------------------ parsers in the engine --

def test_imap_untagged_bye_mid_conversation(probe):
    # A server that says goodbye instead of answering CAPABILITY.
    with FakeServer("imap", bye_on="CAPABILITY") as srv:
        rc, r, secs = one(probe, f"imap://127.0.0.1:{srv.port}")
    assert_down(r, "CAPABILITY", "* BYE Server shutting down")


def test_http_bad_header_is_down_with_the_parsers_reason(probe):
    with FakeServer("http", headers=["Content-Type text/plain"]) as srv:
        rc, r, secs = one(probe, f"http://127.0.0.1:{srv.port}/")
    assert_down(r, "response", "malformed header: Content-Type text/plain")


def test_http_redirect_names_the_target(probe):
    with FakeServer("http", status="301 Moved Permanently",
                    headers=["Location: https://www.example.test/"]) as srv:
        rc, r, secs = one(probe, f"http://127.0.0.1:{srv.port}/")
    assert r["state"] == "up"
    assert r["reason"] == "301 Moved Permanently -> https://www.example.test/", r


def test_mysql_port_speaking_smtp(probe):
    with FakeServer("smtp") as srv:
        rc, r, secs = one(probe, f"mysql://127.0.0.1:{srv.port}")
    assert_down(r, "greeting", "not a MySQL server: 220 mx.example.test ESMTP fake")


def test_pop3_capa_flood_is_bounded(probe):
    with FakeServer("pop3", capa_lines=500) as srv:
        rc, r, secs = one(probe, f"pop3://127.0.0.1:{srv.port}")
    assert_down(r, "CAPABILITY", "too many CAPA lines")


def test_c1_controls_never_reach_the_reason(probe):
    # U+009B (CSI) in a 421 banner: valid UTF-8, but a terminal control.
    with FakeServer("smtp", banner="421 4.3.2 going \u009b2J down") as srv:
        rc, r, secs = one(probe, f"smtp://127.0.0.1:{srv.port}")
    assert_down(r, "greeting", "421 4.3.2 going ?2J down")


# ------------------------------------------------------ dns over TCP --

def _dns_responder(udp_tc, tcp, aa=True, host="127.0.0.1"):
    """A DNS responder on @host: UDP answers with TC set when @udp_tc, TCP
    (when @tcp) answers in full with an SOA.  Returns (port, stop, log)."""
    dnsmsg = pytest.importorskip("dns.message")
    import dns.rrset
    import socket
    import threading

    log = []
    stop = threading.Event()
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    u.bind((host, 0))
    u.settimeout(0.2)
    port = u.getsockname()[1]
    t = None
    if tcp:
        t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        t.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        t.bind((host, port))
        t.listen(4)
        t.settimeout(0.2)

    def answer(data, over_tcp):
        q = dnsmsg.from_wire(data)
        r = dnsmsg.make_response(q)
        if aa:
            r.flags |= 0x0400
        if not over_tcp and udp_tc:
            r.flags |= 0x0200
        else:
            r.answer.append(dns.rrset.from_text(
                q.question[0].name, 300, "IN", "SOA",
                "ns1.example.org. hostmaster.example.org. 1 7200 900 1209600 300"))
        return r.to_wire()

    def serve_udp():
        for _ in range(200):
            if stop.is_set():
                return
            try:
                data, peer = u.recvfrom(4096)
            except socket.timeout:
                continue
            except OSError:
                return
            log.append("udp")
            u.sendto(answer(data, False), peer)

    def serve_tcp():
        for _ in range(200):
            if stop.is_set():
                return
            try:
                conn, _ = t.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            with conn:
                conn.settimeout(5)
                buf = b""
                while len(buf) < 2 or len(buf) < 2 + int.from_bytes(buf[:2], "big"):
                    chunk = conn.recv(4096)
                    if not chunk:
                        break
                    buf += chunk
                if len(buf) >= 2:
                    log.append("tcp")
                    w = answer(buf[2:2 + int.from_bytes(buf[:2], "big")], True)
                    conn.sendall(len(w).to_bytes(2, "big") + w)

    threads = [threading.Thread(target=serve_udp, daemon=True)]
    if tcp:
        threads.append(threading.Thread(target=serve_tcp, daemon=True))
    for th in threads:
        th.start()

    def stop_all():
        stop.set()
        for th in threads:
            th.join(2)
        u.close()
        if t is not None:
            t.close()

    return port, stop_all, log


def test_dns_truncated_udp_retries_over_tcp(probe):
    port, stop, log = _dns_responder(udp_tc=True, tcp=True)
    try:
        rc, r, secs = one(probe, f"dns://127.0.0.1:{port}/example.org?timeout=3s")
    finally:
        stop()
    assert r["state"] == "up", r
    assert r["reason"] == "NOERROR, authoritative, 1 answer record (over TCP)", r
    assert log == ["udp", "tcp"]
    assert secs < 3


def test_dns_truncated_udp_and_no_tcp_is_down(probe):
    port, stop, log = _dns_responder(udp_tc=True, tcp=False)
    try:
        rc, r, secs = one(probe, f"dns://127.0.0.1:{port}/example.org?timeout=3s")
    finally:
        stop()
    assert_down(r, "query", "truncated over UDP; TCP: connection refused")


def test_dns_server_by_name(probe):
    # "localhost" is resolved on the loop (from /etc/hosts), like any host.
    import socket
    try:
        addrs = {a[4][0] for a in socket.getaddrinfo("localhost", 53, type=socket.SOCK_DGRAM)}
    except OSError:
        addrs = set()
    if addrs != {"127.0.0.1"}:
        pytest.skip(f"localhost is not only 127.0.0.1 here: {addrs}")
    port, stop, log = _dns_responder(udp_tc=False, tcp=False)
    try:
        rc, r, secs = one(probe, f"dns://localhost:{port}/example.org?timeout=3s")
    finally:
        stop()
    assert r["state"] == "up", r
    assert r["reason"] == "NOERROR, authoritative, 1 answer record", r
