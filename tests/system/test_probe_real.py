"""`mxfailover probe URL...` against real Postfix, Dovecot and MariaDB
started on loopback by tests/lib/mailservers.py (issue 3).

The servers' certificates are signed by a throw-away lab CA.  Probes either
say ?verify=no or trust the lab CA through MXF_CA_FILE, the trust mechanism
the check engine offers (src/check.h); a probe that trusts neither must fail
verification, which proves verification is on by default.

The contract tested (SPEC.md "Check URLs", issue 3): one line per URL with
the URL, up/down/warning, the time and the reason; --json gives an array of
objects with url, state, ms, phase, reason; exit 0 only if every probe is
up, 1 otherwise, 2 for a bad URL.
"""

import json
import os
import re
import socket
import subprocess
import sys

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))), "lib"))

import mailservers  # noqa: E402
import net  # noqa: E402
from mailservers import Postfix  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _binary():
    return os.environ.get("MXF_BIN") or os.path.join(
        ROOT, "build-test", "src", "mxfailover")


def _probe_missing():
    """Why `mxfailover probe` cannot be tested, or None: it really runs a
    probe of a closed loopback port and looks for main.c's "not built
    yet"."""
    try:
        p = subprocess.run([_binary(), "probe", "tcp://127.0.0.1:1"],
                           capture_output=True, text=True, timeout=20,
                           stdin=subprocess.DEVNULL)
    except (OSError, subprocess.TimeoutExpired) as e:
        return "cannot run %s: %s" % (_binary(), e)
    if "not built yet" in p.stdout + p.stderr:
        return "`mxfailover probe` is not built yet"
    return None


def probe_available():
    """Whether `mxfailover probe` exists and runs (see _probe_missing)."""
    return _probe_missing() is None


_PROBE_MISSING = _probe_missing()


_WHY_NOT = mailservers.why_not()
pytestmark = [
    pytest.mark.skipif(_WHY_NOT is not None, reason=_WHY_NOT or ""),
    pytest.mark.usefixtures("no_leaks"),  # conftest.py, with the servers
    pytest.mark.skipif(_PROBE_MISSING is not None,
                       reason=_PROBE_MISSING or "probe available"),
]

# A probe line: URL, state, time ("12 ms" or "5.0 s"), reason.
LINE = re.compile(r"^(\S+)\s+(up|down|warning)\s+(\d+ ms|\d+(?:\.\d+)? s)\s+(.*)$")
FIELDS = {"url", "state", "ms", "phase", "reason"}


@pytest.fixture
def probe(run):
    """probe(*urls, ca=None, json_out=True, timeout=60) -> (rc, results,
    stderr): results is the parsed --json array, or the parsed text lines
    [(url, state, time, reason)].  @ca is put in MXF_CA_FILE; without it
    MXF_CA_FILE is removed from the environment.  The conftest's run()
    fails the test on a sanitizer report or a hang."""

    def _probe(*urls, ca=None, json_out=True, timeout=60):
        env = dict(os.environ)
        env.pop("MXF_CA_FILE", None)
        if ca is not None:
            env["MXF_CA_FILE"] = ca
        args = ["probe"] + (["--json"] if json_out else []) + list(urls)
        rc, out, err = run(args, timeout=timeout, env=env)
        if json_out:
            try:
                results = json.loads(out)
            except ValueError:
                pytest.fail("probe --json printed no JSON:\n%s\n%s" % (out, err))
            assert isinstance(results, list)
            assert [r.get("url") for r in results] == list(urls), out
            for r in results:
                assert FIELDS <= set(r), r
                assert r["state"] in ("up", "down", "warning"), r
                assert isinstance(r["ms"], int) and r["ms"] >= 0, r
            return rc, results, err
        lines = [l for l in out.splitlines() if l.strip()]
        parsed = []
        for l in lines:
            m = LINE.match(l)
            assert m, "not a probe line: %r" % l
            parsed.append(m.groups())
        assert [p[0] for p in parsed] == list(urls), out
        return rc, parsed, err

    return _probe


def smtp_url(pf, port=None, scheme="smtp", query="verify=no"):
    return "%s://%s:%d%s" % (scheme, pf.host, port or pf.port,
                             "?" + query if query else "")


def assert_up(r, tls_word=None):
    assert r["state"] == "up", r
    if tls_word:
        assert tls_word in r["reason"] or tls_word in r["phase"], r


# --- SMTP against Postfix --------------------------------------------------


def test_smtp_up_with_starttls(probe, postfix):
    rc, res, _ = probe(smtp_url(postfix))
    assert rc == 0
    assert_up(res[0], "STARTTLS")
    assert "220" in res[0]["reason"]  # the banner is quoted


def test_smtp_text_line(probe, postfix):
    url = smtp_url(postfix)
    rc, lines, _ = probe(url, json_out=False)
    assert rc == 0
    (u, state, took, reason), = lines
    assert (u, state) == (url, "up")
    assert "STARTTLS" in reason


def test_smtp_verified_with_lab_ca(probe, postfix):
    """Verification on (the default) against the lab CA: the certificate
    names the instance's own address."""
    url = "smtp://%s:%d" % (postfix.host, postfix.port)
    named = url + "?sni=" + mailservers.LAB_HOSTNAME
    rc, res, _ = probe(url, named, ca=postfix.ca_file)
    assert rc == 0, res
    assert_up(res[0], "STARTTLS")
    assert_up(res[1], "STARTTLS")


def test_smtp_untrusted_certificate_is_down(probe, postfix):
    """Without the lab CA the self-made certificate must not verify."""
    rc, res, _ = probe("smtp://%s:%d" % (postfix.host, postfix.port))
    assert rc == 1
    r = res[0]
    assert r["state"] == "down", r
    assert "TLS" in r["phase"] or "STARTTLS" in r["phase"], r
    assert "certificate" in r["reason"] or "verify" in r["reason"], r


def test_smtp_wrong_name_is_down(probe, postfix):
    rc, res, _ = probe("smtp://%s:%d?sni=wrong.example.net"
                       % (postfix.host, postfix.port), ca=postfix.ca_file)
    assert rc == 1
    assert res[0]["state"] == "down", res
    assert "wrong.example.net" in res[0]["reason"], res


def test_smtp_cert_days(probe, postfix):
    """The lab certificate is valid 30 days: cert_days=60 must complain."""
    rc, res, _ = probe(smtp_url(postfix, query="verify=no&cert_days=60"),
                       smtp_url(postfix, query="verify=no&cert_days=7"))
    assert rc == 1
    assert res[0]["state"] in ("warning", "down"), res
    assert "expire" in res[0]["reason"], res
    assert res[1]["state"] == "up", res


def test_submission_up_with_starttls(probe, postfix):
    rc, res, _ = probe(smtp_url(postfix, postfix.submission_port, "submission"))
    assert rc == 0
    assert_up(res[0], "STARTTLS")


def test_smtps_up(probe, postfix):
    rc, res, _ = probe(smtp_url(postfix, postfix.smtps_port, "smtps"))
    assert rc == 0
    assert_up(res[0])


def test_no_starttls_smtp_up_submission_down(probe, ca):
    """A Postfix that offers no STARTTLS: smtp is still up (STARTTLS only
    when offered), submission is down (STARTTLS required)."""
    with Postfix(ca=ca, starttls=False) as pf:
        rc, res, _ = probe(smtp_url(pf),
                           smtp_url(pf, pf.submission_port, "submission"))
    assert rc == 1
    assert res[0]["state"] == "up", res
    assert res[1]["state"] == "down", res
    assert "STARTTLS" in res[1]["reason"] + res[1]["phase"], res


def test_stopped_postfix_is_refused(probe, ca):
    with Postfix(ca=ca) as pf:
        urls = [smtp_url(pf), smtp_url(pf, pf.submission_port, "submission"),
                smtp_url(pf, pf.smtps_port, "smtps")]
        rc, res, _ = probe(*urls)
        assert rc == 0, res
        pf.stop()
        rc, res, _ = probe(*urls)
        assert rc == 1
        for r in res:
            assert r["state"] == "down", r
            assert r["reason"] == "connection refused", r
            assert r["phase"] == "connect", r
        # And back.
        pf.start()
        rc, res, _ = probe(*urls)
        assert rc == 0, res


def test_postfix_421_banner_is_down_with_its_text(probe, ca):
    """A real Postfix turning a client away at the banner (connection count
    limit 1, loopback not exempt; one connection held open)."""
    main = {"smtpd_client_connection_count_limit": "1",
            "smtpd_client_event_limit_exceptions": ""}
    with Postfix(ca=ca, main=main) as pf:
        with socket.create_connection((pf.host, pf.port), timeout=10) as held:
            assert mailservers.read_line(held).startswith(b"220")
            rc, res, _ = probe(smtp_url(pf))
    assert rc == 1
    r = res[0]
    assert r["state"] == "down", r
    assert r["reason"].startswith("421 4.7.0"), r
    assert "too many connections" in r["reason"], r


# --- IMAP and POP3 against Dovecot -----------------------------------------


def dovecot_urls(dv, query="verify=no"):
    q = "?" + query if query else ""
    return ["imap://%s:%d%s" % (dv.host, dv.imap_port, q),
            "imaps://%s:%d%s" % (dv.host, dv.imaps_port, q),
            "pop3://%s:%d%s" % (dv.host, dv.pop3_port, q),
            "pop3s://%s:%d%s" % (dv.host, dv.pop3s_port, q)]


def test_imap_up_with_starttls(probe, dovecot):
    rc, res, _ = probe(dovecot_urls(dovecot)[0])
    assert rc == 0
    assert_up(res[0], "STARTTLS")
    assert res[0]["reason"].startswith("* OK"), res


def test_imaps_up(probe, dovecot):
    rc, res, _ = probe(dovecot_urls(dovecot)[1])
    assert rc == 0
    assert_up(res[0])


def test_pop3_up_with_stls(probe, dovecot):
    rc, res, _ = probe(dovecot_urls(dovecot)[2])
    assert rc == 0
    assert_up(res[0], "STLS")
    assert res[0]["reason"].startswith("+OK"), res


def test_pop3s_up(probe, dovecot):
    rc, res, _ = probe(dovecot_urls(dovecot)[3])
    assert rc == 0
    assert_up(res[0])


def test_dovecot_verified_with_lab_ca(probe, dovecot):
    rc, res, _ = probe(*dovecot_urls(dovecot, query=None), ca=dovecot.ca_file)
    assert rc == 0, res
    for r in res:
        assert_up(r)


def test_dovecot_untrusted_is_down(probe, dovecot):
    rc, res, _ = probe(*dovecot_urls(dovecot, query=None))
    assert rc == 1
    for r in res:
        assert r["state"] == "down", r
        assert "certificate" in r["reason"] or "verify" in r["reason"], r


# --- MySQL against MariaDB -------------------------------------------------


def test_mysql_up(probe, mariadb):
    rc, res, _ = probe("mysql://%s:%d" % (mariadb.host, mariadb.port))
    assert rc == 0
    assert_up(res[0])
    assert res[0]["phase"] != "connect", res


def test_mysql_err_packet_is_down_with_its_text(probe, mariadb):
    """Every connection MariaDB allows is held: it answers the probe with
    an ERR packet (1040) instead of a greeting."""
    url = "mysql://%s:%d" % (mariadb.host, mariadb.port)
    with mariadb.exhausted() as err:
        assert err["error"] == 1040
        rc, res, _ = probe(url)
    assert rc == 1
    r = res[0]
    assert r["state"] == "down", r
    assert "Too many connections" in r["reason"], r
    assert r["phase"] != "connect", r
    # The held connections are gone: up again.
    net.wait_until(
        lambda: mailservers.mysql_greeting(mariadb.host, mariadb.port)
        .get("protocol") == 10, 10, what="the greeting again")
    rc, res, _ = probe(url)
    assert rc == 0, res


# --- all of them at once ---------------------------------------------------


def test_everything_at_once(probe, postfix, dovecot, mariadb):
    urls = ([smtp_url(postfix),
             smtp_url(postfix, postfix.submission_port, "submission"),
             smtp_url(postfix, postfix.smtps_port, "smtps")]
            + dovecot_urls(dovecot)
            + ["mysql://%s:%d" % (mariadb.host, mariadb.port)])
    rc, res, _ = probe(*urls, timeout=60)
    assert rc == 0, res
    assert [r["state"] for r in res] == ["up"] * len(urls), res


def test_one_down_makes_exit_1(probe, postfix):
    closed = net.free_port(postfix.host)
    rc, res, _ = probe(smtp_url(postfix),
                       "smtp://%s:%d" % (postfix.host, closed))
    assert rc == 1
    assert [r["state"] for r in res] == ["up", "down"], res
    assert res[1]["reason"] == "connection refused", res


def test_bad_url_exit_2(run, postfix):
    rc, out, err = run(["probe", "smtp://%s:99999" % postfix.host])
    assert rc == 2, (out, err)
    rc, out, err = run(["probe", smtp_url(postfix, query="verfy=no")])
    assert rc == 2, (out, err)
