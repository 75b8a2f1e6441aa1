"""`mxfailover config check`: the native INI format, its errors, and
DNS_Failover's config.cfg read unchanged."""

import hashlib
import os
import re

import pytest

from conftest import DATA

DNSF_SAMPLE = os.path.join(DATA, "dnsfailover_config.cfg")

# A valid native config; the bad cases below each change one line of it.
BASE = """\
[general]
interval = 10s
timeout = 5s
fall = 3
rise = 3
log = stderr

[dns]
server = 127.0.0.1:5300
ttl = 60

[server mx1]
address = 192.0.2.10
name = mx1.example.com.
checks = smtp imaps

[server mx2]
address = 192.0.2.11
name = mx2.example.com.
checks = smtp

[group mail]
servers = mx1 mx2
zones = example.com example.net
records = mx smtp imap
type = CNAME
failback = auto
"""


def clean_env(**extra):
    env = {k: v for k, v in os.environ.items()
           if k not in ("MXFAILOVER_CONFIG", "DNSFAILOVER_CONFIG")}
    env.update(extra)
    return env


def line_of(text, needle, nth=1):
    """1-based number of the @nth line of @text that equals @needle."""
    seen = 0
    for i, line in enumerate(text.splitlines(), 1):
        if line.strip() == needle:
            seen += 1
            if seen == nth:
                return i
    raise AssertionError("%r not in config" % needle)


def error_lines(err, path):
    """{line number: message} of the FILE:LINE: message lines in @err."""
    found = {}
    for m in re.finditer(r"^%s:(\d+): (.+)$" % re.escape(path), err, re.M):
        found.setdefault(int(m.group(1)), []).append(m.group(2))
    return found


def write(tmp_path, text, name="mxfailover.conf"):
    p = tmp_path / name
    p.write_text(text)
    return str(p)


def test_minimal_native_config_ok(run, tmp_path):
    path = write(tmp_path, BASE)
    rc, out, err = run(["config", "check"], config=path, env=clean_env())
    assert rc == 0, err
    assert "configuration OK" in out
    for word in ("mx1", "mx2", "mx1.example.com", "mx2.example.com",
                 "192.0.2.10", "192.0.2.11", "mail", "example.com",
                 "example.net", "imap", "127.0.0.1"):
        assert word in out, "summary lacks %r:\n%s" % (word, out)


def test_spec_example_config_ok(run, tmp_path):
    """SPEC.md's complete example (inline ; comments and all), with the files
    it names made real in tmp_path."""
    key = tmp_path / "update.key"
    fd = os.open(str(key), os.O_WRONLY | os.O_CREAT, 0o600)
    os.write(fd, b'key "update-key" {\n\talgorithm hmac-sha256;\n'
                 b'\tsecret "c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0MTI=";\n};\n')
    os.close(fd)
    pw = tmp_path / "smtp.pass"
    fd = os.open(str(pw), os.O_WRONLY | os.O_CREAT, 0o600)
    os.write(fd, b"hunter2\n")
    os.close(fd)
    text = """\
[general]
interval = 10s          ; durations: 500ms, 10s, 5m, 1h
timeout  = 5s
fall     = 3            ; consecutive failed rounds before a server is DOWN
rise     = 3            ; consecutive good rounds before it is UP again
state_file = {d}/state.json
log      = syslog       ; syslog | stderr | /path/to/file
witness  = dns://192.0.2.53/example.org https://www.example.org/
status_listen = 127.0.0.1:9053   ; HTTP: / dashboard, /api/status JSON, /metrics

[dns]
server   = 192.0.2.53        ; primary that accepts updates, host[:port]
key_file = {d}/update.key
ttl      = 60               ; TTL written on switched records

[server mx1]
address = 192.0.2.10        ; IPv4 or IPv6; what checks connect to
name    = mx1.example.com.  ; what CNAME/MX records point at
checks  = smtp imaps https mysql   ; short names or full check URLs

[server mx2]
address = 192.0.2.11
name    = mx2.example.com.
checks  = smtp imaps

[group mail]
servers = mx1 mx2           ; order of preference
zones   = example.com example.net
records = mx smtp imap mail pop3   ; owner names, relative to each zone
type    = CNAME             ; CNAME | A | AAAA | MX
failback = auto             ; auto | manual
hold_down = 5m              ; least time between two switches of this group
etrn    = yes               ; after failback, ETRN each zone at the backup server

[notify]
mail_to   = hostmaster@example.com
mail_from = mxfailover@example.com
smtp_url  = smtp://relay.example.net:587
smtp_user = mxfailover
smtp_password_file = {d}/smtp.pass
webhook   = https://hooks.example.net/mxfailover
exec      = /bin/true
""".format(d=tmp_path)
    path = write(tmp_path, text)
    rc, out, err = run(["config", "check"], config=path, env=clean_env())
    assert rc == 0, err
    assert "configuration OK" in out
    for word in ("mx1", "mx2", "mail", "example.com", "example.net", "pop3",
                 "192.0.2.53", "update-key"):
        assert word in out, "summary lacks %r:\n%s" % (word, out)
    # The password is a secret: never printed.
    assert "hunter2" not in out + err


# (description, (old line, new text) or text to append, the line of BASE
# the error must name (a needle, or a tuple of acceptable needles), words of
# which the message must contain at least one)
BAD = [
    ("unknown section", None, "[frobnicate]\nfoo = 1\n",
     ("[frobnicate]", "foo = 1"), ("frobnicate", "foo")),
    ("unknown key", ("timeout = 5s", "timeout = 5s\nflavour = vanilla"), None,
     "flavour = vanilla", ("flavour",)),
    ("duplicate key", ("address = 192.0.2.10",
                       "address = 192.0.2.10\naddress = 192.0.2.12"), None,
     ("address = 192.0.2.12",), ("address", "duplicate")),
    ("duplicate section", None,
     "\n[server mx1]\naddress = 192.0.2.13\nname = mx3.example.com.\nchecks = smtp\n",
     ("[server mx1]#2",), ("mx1", "duplicate")),
    ("group names missing server", ("servers = mx1 mx2", "servers = mx1 mx9"),
     None, "servers = mx1 mx9", ("mx9",)),
    ("bad duration", ("timeout = 5s", "timeout = 5 fortnights"), None,
     "timeout = 5 fortnights", ("timeout", "duration", "fortnight")),
    ("negative duration", ("interval = 10s", "interval = -3s"), None,
     "interval = -3s", ("interval", "duration", "-3s")),
    ("bad address", ("address = 192.0.2.10", "address = 192.0.2.300"), None,
     "address = 192.0.2.300", ("address", "192.0.2.300")),
    ("bad port", ("server = 127.0.0.1:5300", "server = 127.0.0.1:99999"), None,
     "server = 127.0.0.1:99999", ("port", "99999")),
    ("bad record type", ("type = CNAME", "type = TXT"), None, "type = TXT",
     ("TXT", "type")),
    ("empty group", ("servers = mx1 mx2", "servers ="), None,
     ("servers =", "[group mail]"), ("servers", "empty", "mail")),
    ("bad number", ("fall = 3", "fall = many"), None, "fall = many",
     ("fall", "many")),
    ("bad failback", ("failback = auto", "failback = sometimes"), None,
     "failback = sometimes", ("failback", "sometimes")),
    ("bad ttl", ("ttl = 60", "ttl = -5"), None, "ttl = -5", ("ttl", "-5")),
    ("not ini", ("rise = 3", "rise = 3\nthis line is not ini"), None,
     "this line is not ini", ("",)),
    # [notify] exec is split as the exec notifier splits it (core/argv.c):
    # a line it would refuse at daemon start is refused at load.
    ("exec unterminated quote", None,
     "\n[notify]\nexec = /usr/local/bin/page 'on call\n",
     "exec = /usr/local/bin/page 'on call", ("exec", "quote")),
    ("exec quote inside a word", None,
     "\n[notify]\nexec = /usr/local/bin/page --to=\"on call\"\n",
     'exec = /usr/local/bin/page --to="on call"', ("exec", "quote")),
    ("exec text after a quote", None,
     "\n[notify]\nexec = /usr/local/bin/page 'on'call\n",
     "exec = /usr/local/bin/page 'on'call", ("exec", "quote")),
    ("exec relative program", None, "\n[notify]\nexec = page oncall\n",
     "exec = page oncall", ("exec", "absolute")),
    # [quorum]: views are signed, so the section needs a [dns] key_file.
    ("quorum without key_file", None,
     "\n[quorum]\nid = a\nmonitors = a b c\nzone = example.com\n",
     "[quorum]", ("key_file",)),
    ("quorum id not a monitor", None,
     "\n[quorum]\nid = d\nmonitors = a b c\nzone = example.com\n",
     "id = d", ("not one of monitors (a b c)",)),
    ("quorum bad label", None,
     "\n[quorum]\nid = a\nmonitors = a b_c\nzone = example.com\n",
     "monitors = a b_c", ("dns label",)),
    ("quorum need above monitors", None,
     "\n[quorum]\nid = a\nmonitors = a b c\nneed = 4\nzone = example.com\n",
     "need = 4", ("more than the 3 monitors",)),
    ("quorum heartbeat below interval", None,
     "\n[quorum]\nid = a\nmonitors = a b c\nzone = example.com\nheartbeat = 5s\n",
     "heartbeat = 5s", ("interval",)),
]


def _needle_line(text, needle):
    if "#" in needle:
        n, nth = needle.rsplit("#", 1)
        return line_of(text, n, int(nth))
    return line_of(text, needle)


@pytest.mark.parametrize("desc,repl,append,where,words", BAD,
                         ids=[b[0] for b in BAD])
def test_bad_config(run, tmp_path, desc, repl, append, where, words):
    text = BASE
    if repl is not None:
        assert repl[0] in text
        text = text.replace(repl[0], repl[1], 1)
    if append is not None:
        text += append
    path = write(tmp_path, text)
    rc, out, err = run(["config", "check"], config=path, env=clean_env())
    assert rc == 2, "%s accepted:\n%s%s" % (desc, out, err)
    assert "configuration OK" not in out
    found = error_lines(err, path)
    wanted = [_needle_line(text, w) for w in
              (where if isinstance(where, tuple) else (where,))]
    hits = [ln for ln in wanted if ln in found]
    assert hits, "%s: expected %s:%s: ..., got:\n%s" % (desc, path, wanted, err)
    msgs = " ".join(m for ln in hits for m in found[ln]).lower()
    assert any(w.lower() in msgs for w in words), (desc, msgs)


def test_several_errors_reported_at_once(run, tmp_path):
    text = BASE
    for old, new in (("timeout = 5s", "timeout = 5s\nflavour = vanilla"),
                     ("server = 127.0.0.1:5300", "server = 127.0.0.1:99999"),
                     ("address = 192.0.2.10", "address = 192.0.2.300"),
                     ("servers = mx1 mx2", "servers = mx1 mx9"),
                     ("type = CNAME", "type = TXT")):
        text = text.replace(old, new, 1)
    path = write(tmp_path, text)
    rc, out, err = run(["config", "check"], config=path, env=clean_env())
    assert rc == 2
    found = error_lines(err, path)
    for needle in ("flavour = vanilla", "server = 127.0.0.1:99999",
                   "address = 192.0.2.300", "servers = mx1 mx9", "type = TXT"):
        ln = line_of(text, needle)
        assert ln in found, "no error for line %d (%s):\n%s" % (ln, needle, err)


def test_missing_file(run, tmp_path):
    path = str(tmp_path / "nonexistent.conf")
    rc, out, err = run(["config", "check"], config=path, env=clean_env())
    assert rc == 2
    assert path in err


def test_empty_file(run, tmp_path):
    path = write(tmp_path, "")
    rc, out, err = run(["config", "check"], config=path, env=clean_env())
    assert rc == 2
    assert path in err


def _sha(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def check_dnsfailover_mapping(out):
    assert "configuration OK" in out
    for word in ("1.2.3.4", "1.2.3.5", "mx1.example.com", "mx2.example.com",
                 "domain1.tld", "domain2.tld",
                 "mx", "smtp", "imap", "mail", "pop3",
                 "192.168.0.2",
                 # the four port checks
                 "25", "993", "443", "3306"):
        assert word in out, "mapping lacks %r:\n%s" % (word, out)


def test_dnsfailover_sample_with_c(run):
    before = _sha(DNSF_SAMPLE)
    rc, out, err = run(["config", "check"], config=DNSF_SAMPLE, env=clean_env())
    assert rc == 0, err
    check_dnsfailover_mapping(out)
    assert "pass" not in re.findall(r"password\s*[=:]\s*(\S+)", out)
    assert _sha(DNSF_SAMPLE) == before


def test_dnsfailover_sample_mapping_is_two_servers_one_group(run):
    rc, out, err = run(["config", "check"], config=DNSF_SAMPLE, env=clean_env())
    assert rc == 0, err
    # Both mail servers with their addresses, and one group over both zones:
    # each zone is named once in the summary's group, and mx1 precedes mx2.
    assert out.index("mx1.example.com") < out.index("mx2.example.com")
    assert out.index("1.2.3.4") < out.index("1.2.3.5")
    # Every record must exist in zone1 (a missing one is reported), zone2's
    # are switched where they exist.
    assert "domain1.tld. (every record must exist) domain2.tld.\n" in out, out


def test_dnsfailover_sample_via_environment(run, tmp_path):
    rc, out, err = run(["config", "check"],
                       env=clean_env(DNSFAILOVER_CONFIG=DNSF_SAMPLE))
    assert rc == 0, err
    check_dnsfailover_mapping(out)
    rc2, out2, _ = run(["config", "check"], config=DNSF_SAMPLE, env=clean_env())
    assert out == out2


def test_mxfailover_config_env_wins_over_dnsfailover(run, tmp_path):
    native = write(tmp_path, BASE)
    bad = write(tmp_path, "[ZONES]\nzone1 = x\n", "bad.cfg")
    rc, out, err = run(["config", "check"],
                       env=clean_env(MXFAILOVER_CONFIG=native,
                                     DNSFAILOVER_CONFIG=bad))
    assert rc == 0, err
    assert "example.net" in out and "domain1.tld" not in out


def test_dash_c_wins_over_environment(run, tmp_path):
    bad = write(tmp_path, "garbage here\n", "bad.conf")
    rc, out, err = run(["config", "check"], config=DNSF_SAMPLE,
                       env=clean_env(MXFAILOVER_CONFIG=bad,
                                     DNSFAILOVER_CONFIG=bad))
    assert rc == 0, err
    assert "domain1.tld" in out


def _sample_without(tmp_path, *keys):
    with open(DNSF_SAMPLE) as f:
        text = f.read()
    lines = text.splitlines(keepends=True)
    kept = [l for l in lines if l.split("=")[0].strip() not in keys]
    assert len(kept) == len(lines) - len(keys)
    return write(tmp_path, "".join(kept), "config.cfg"), "".join(kept)


@pytest.mark.parametrize("keys", [("mxip2",), ("zone1",), ("mx1", "ttl")])
def test_dnsfailover_missing_keys(run, tmp_path, keys):
    path, text = _sample_without(tmp_path, *keys)
    rc, out, err = run(["config", "check"], config=path, env=clean_env())
    assert rc == 2, out
    found = error_lines(err, path)
    assert found, "no FILE:LINE errors:\n" + err
    msgs = "\n".join(m for ms in found.values() for m in ms)
    for k in keys:
        assert k in msgs, "missing %s not reported:\n%s" % (k, err)


def test_dnsfailover_bad_value_names_its_line(run, tmp_path):
    with open(DNSF_SAMPLE) as f:
        text = f.read().replace("ttl = 60", "ttl = sixty")
    path = write(tmp_path, text, "config.cfg")
    rc, out, err = run(["config", "check"], config=path, env=clean_env())
    assert rc == 2
    assert line_of(text, "ttl = sixty") in error_lines(err, path), err


# Issue 9 point 4: two groups managing one record flip it every round with
# no event.  Such a config is refused, naming both groups' lines.
OVERLAP = BASE + """
[server mx3]
address = 192.0.2.12
name = mx3.example.com.
checks = smtp

[group backup]
servers = mx3 mx1
zones = EXAMPLE.com.
records = imap pop3
"""


def test_overlapping_groups_refused_with_both_lines(run, tmp_path):
    path = write(tmp_path, OVERLAP)
    first = line_of(OVERLAP, "records = mx smtp imap")
    second = line_of(OVERLAP, "records = imap pop3")
    for args in (["config", "check"], ["once"], ["run"], ["plan"]):
        rc, out, err = run(args, config=path, env=clean_env(), timeout=20)
        assert rc == 2, "%s accepted the overlap:\n%s%s" % (args, out, err)
        found = error_lines(err, path)
        assert second in found, err
        msg = " ".join(found[second])
        assert ("group backup: record imap.example.com CNAME is also managed by "
                "group mail (%s:%d)" % (path, first)) in msg, err
        # pop3 is the backup group's alone; example.net is mail's alone.
        assert "pop3" not in msg and "example.net" not in msg, err


def test_cname_beside_another_groups_record_refused(run, tmp_path):
    # A CNAME cannot stand beside other data: an MX group at an owner where
    # group mail keeps a CNAME is refused too; at its own owner it is fine.
    ok = BASE + """
[group mxset]
servers = mx1 mx2
zones = example.com
records = @
type = MX
"""
    rc, out, err = run(["config", "check"], config=write(tmp_path, ok), env=clean_env())
    assert rc == 0, err
    bad = ok.replace("records = @\ntype = MX", "records = smtp\ntype = MX")
    path = write(tmp_path, bad)
    rc, out, err = run(["config", "check"], config=path, env=clean_env())
    assert rc == 2, out + err
    found = error_lines(err, path)
    ln = line_of(bad, "records = smtp")
    assert ln in found, err
    assert ("group mxset: record smtp.example.com MX cannot coexist with the CNAME record "
            "group mail manages there (%s:%d)" % (path, line_of(bad, "records = mx smtp imap"))
            ) in " ".join(found[ln]), err


def test_errors_in_line_order_all_of_them(run, tmp_path):
    """Errors found while reading (an unknown key at the end) and those of
    the whole-file checks (a group naming a missing server, earlier) come
    out top to bottom, every one of them, and no "I/O error" after them."""
    text = BASE.replace("servers = mx1 mx2", "servers = mx1 mx9", 1)
    text = text.replace("interval = 10s", "interval = 10 s", 1)
    text += "colour = blue\n"
    path = write(tmp_path, text)
    rc, out, err = run(["config", "check"], config=path, env=clean_env())
    assert rc == 2
    lines = [int(m) for m in re.findall(r"^%s:(\d+): " % re.escape(path), err, re.M)]
    assert lines == sorted(lines), err
    assert set(lines) >= {line_of(text, "interval = 10 s"), line_of(text, "servers = mx1 mx9"),
                          line_of(text, "colour = blue")}, err
    assert "I/O error" not in err and "configuration error" not in err.lower(), err
    assert len(err.splitlines()) == len(lines), err


@pytest.mark.parametrize("old,new,message", [
    ("interval = 10s", "intervall = 10s",
     "unknown key 'intervall' in [general]; did you mean 'interval'?"),
    ("ttl = 60", "tll = 60", "unknown key 'tll' in [dns]; did you mean 'ttl'?"),
    ("address = 192.0.2.10", "adress = 192.0.2.10",
     "unknown key 'adress' in [server mx1]; did you mean 'address'?"),
    ("failback = auto", "fallback = auto",
     "unknown key 'fallback' in [group mail]; did you mean 'failback'?"),
    ("checks = smtp imaps", "checks = smtp smpt://192.0.2.10",
     "unknown check scheme 'smpt'; did you mean 'smtp'?"),
    ("checks = smtp imaps", "checks = smtp imapss",
     "check 'imapss': unknown check; did you mean 'imaps'?"),
    ("failback = auto", "failback = auto\nflavour = vanilla",
     "unknown key 'flavour' in [group mail]\n"),
])
def test_typo_gets_the_nearest_key_or_scheme(run, tmp_path, old, new, message):
    text = BASE.replace(old, new, 1)
    path = write(tmp_path, text)
    rc, out, err = run(["config", "check"], config=path, env=clean_env())
    assert rc == 2
    assert "%s:%d: " % (path, line_of(text, new.split("\n")[-1])) in err, err
    assert message in err + "\n", err


def test_warns_about_a_group_of_one_and_a_server_in_no_group(run, tmp_path):
    text = BASE.replace("servers = mx1 mx2", "servers = mx1", 1)
    path = write(tmp_path, text)
    rc, out, err = run(["config", "check"], config=path, env=clean_env())
    assert rc == 0, err
    assert "configuration OK" in out and "2 warnings" in out, out
    warn = re.findall(r"^%s:(\d+): warning: (.*)$" % re.escape(path), err, re.M)
    assert [int(ln) for ln, _ in warn] == [line_of(text, "[server mx2]"),
                                         line_of(text, "[group mail]")], err
    assert "[server mx2] is in no group" in warn[0][1]
    assert "[group mail] has one server (mx1): nowhere to fail over to" in warn[1][1]
    # The base config, two servers in one group, has nothing to warn about.
    rc, out, err = run(["config", "check"], config=write(tmp_path, BASE, "b.conf"),
                       env=clean_env())
    assert rc == 0 and "warning" not in err + out, err + out


def _key_file(tmp_path):
    key = tmp_path / "update.key"
    fd = os.open(str(key), os.O_WRONLY | os.O_CREAT, 0o600)
    os.write(fd, b'key "update-key" {\n\talgorithm hmac-sha256;\n'
                 b'\tsecret "c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0MTI=";\n};\n')
    os.close(fd)
    return str(key)


def test_quorum_summarised_and_split_warned(run, tmp_path):
    """[quorum] is summarised; a need two halves can both reach is a
    warning at its line, and the file still loads."""
    base = BASE.replace("ttl = 60", "ttl = 60\nkey_file = %s" % _key_file(tmp_path), 1)
    text = base + "\n[quorum]\nid = Site-B\nmonitors = site-a site-b site-c\n" \
        "zone = Example.com\n"
    path = write(tmp_path, text)
    rc, out, err = run(["config", "check"], config=path, env=clean_env())
    assert rc == 0, err
    assert "quorum: site-b of site-a site-b site-c, need 2, views in example.com." in out, out
    assert "heartbeat 30s, stale after 90s" in out, out
    assert "warning" not in err + out, err + out
    text = text.replace("zone = Example.com", "zone = Example.com\nneed = 1", 1)
    path = write(tmp_path, text, "split.conf")
    rc, out, err = run(["config", "check"], config=path, env=clean_env())
    assert rc == 0, err
    assert "1 warning" in out and "need 1," in out, out
    warn = re.findall(r"^%s:(\d+): warning: (.*)$" % re.escape(path), err, re.M)
    assert [int(ln) for ln, _ in warn] == [line_of(text, "need = 1")], err
    assert "two disjoint sets of monitors" in warn[0][1], err
    # Without the section: said so.
    rc, out, err = run(["config", "check"], config=write(tmp_path, base, "alone.conf"),
                       env=clean_env())
    assert rc == 0 and "quorum: none" in out, out + err
