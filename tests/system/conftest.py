"""Shared fixtures of mxfailover's system tests.

The binary under test is $MXF_BIN (./dev test points it at the ASan+UBSan
build), else build-test/src/mxfailover.  One server per primary and test
session -- BIND named (`lab`, and `primary`), knotd and pdns_server
(`primary`, parametrized; tests/lib/mxflab.py, primaries.py) -- serves one
zone per test need, so tests do not disturb each other's records; each
test writes its own mxfailover config in its tmp_path.
"""

import os
import subprocess
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tests", "lib"))
sys.path.insert(0, os.path.join(ROOT, "tests", "fakes"))

import mailservers  # noqa: E402
import mxflab  # noqa: E402
import primaries  # noqa: E402

DATA = os.path.join(ROOT, "tests", "data")

# Zones of the session's named, by purpose.  Each algorithm has its own key
# "k-ALG" and zone "ALG.test" that only that key may update.
ALG_ZONES = {alg: "%s.test." % alg for alg in mxflab.ALGORITHMS}
BULK_COUNT = 500


def alg_key_name(alg):
    return "k-" + alg


@pytest.fixture(scope="session")
def mxf_bin():
    path = os.environ.get("MXF_BIN") or os.path.join(
        ROOT, "build-test", "src", "mxfailover")
    if not os.access(path, os.X_OK):
        pytest.fail("mxfailover binary not found at %s (set MXF_BIN)" % path)
    return path


@pytest.fixture
def run(mxf_bin):
    """run(args, config=None, timeout=30, env=None, input=None) ->
    (rc, stdout, stderr).  Fails the test on a sanitizer report or when the
    binary does not exit within @timeout seconds."""

    def _run(args, config=None, timeout=30.0, env=None, input=None):
        try:
            rc, out, err, _ = mxflab.run_mxf(mxf_bin, args, config=config,
                                             timeout=timeout, env=env,
                                             input=input)
        except subprocess.TimeoutExpired:
            pytest.fail("mxfailover %s did not exit within %.0f s"
                        % (" ".join(args), timeout))
        mark = mxflab.sanitizer_report(err)
        if mark is not None:
            pytest.fail("sanitizer report (%s) from mxfailover %s:\n%s"
                        % (mark, " ".join(args), err))
        return rc, out, err

    return _run


@pytest.fixture
def timed_run(mxf_bin):
    """As run, also returning the seconds the process took."""

    def _run(args, config=None, timeout=30.0, env=None):
        try:
            rc, out, err, secs = mxflab.run_mxf(mxf_bin, args, config=config,
                                                timeout=timeout, env=env)
        except subprocess.TimeoutExpired:
            pytest.fail("mxfailover %s did not exit within %.0f s"
                        % (" ".join(args), timeout))
        mark = mxflab.sanitizer_report(err)
        if mark is not None:
            pytest.fail("sanitizer report (%s):\n%s" % (mark, err))
        return rc, out, err, secs

    return _run


@pytest.fixture(scope="session")
def lab(tmp_path_factory):
    """The session's named for test_dns.py (key files, a bad changes file):
    a key per algorithm, and the zones those tests read.  What a primary
    does with updates is tested on the `primary` fixture below."""
    d = tmp_path_factory.mktemp("named")
    lab = mxflab.NamedLab(str(d))
    keys = {alg: lab.add_key(alg_key_name(alg), alg)
            for alg in mxflab.ALGORITHMS}
    for zone in ("get.test", "perm.test", "malformed.test"):
        lab.add_zone(zone, update_keys=[keys["hmac-sha256"]])
    lab.start()
    try:
        yield lab
    finally:
        lab.stop()


# ---- every major primary: named, knotd, pdns_server (tests/lib/primaries.py),
# one of each per session with the zones test_primaries.py uses.

PRIMARY_ZONES = ("get.test", "soa.test", "ttl.test", "cas.test",
                 "badsig.test", "badkey.test", "fo-a.test", "fo-b.test")
MANY_COUNT = 40


def many_zone(i):
    return "many%02d.test." % i


@pytest.fixture(scope="session", params=primaries.KINDS)
def primary(request, tmp_path_factory):
    """The session's named, knotd or pdns_server (parametrized), with a key
    per algorithm ("k-ALG" may update "ALG.test"), k-hmac-sha256 for the
    PRIMARY_ZONES, MANY_COUNT many-zones and bulk.test (BULK_COUNT more
    CNAMEs), k-other alone for refused.test,
    addr.test open to 127.0.0.1 without a key, and scoped.test where
    k-hmac-sha256 may change only the mail CNAMEs."""
    kind = request.param
    lab = primaries.make_lab(kind, str(tmp_path_factory.mktemp(kind)))
    keys = {alg: lab.add_key(alg_key_name(alg), alg)
            for alg in mxflab.ALGORITHMS}
    sha256 = keys["hmac-sha256"]
    other = lab.add_key("k-other", "hmac-sha256")
    for alg, zone in ALG_ZONES.items():
        lab.add_zone(zone, update_keys=[keys[alg]])
    for zone in PRIMARY_ZONES:
        lab.add_zone(zone, update_keys=[sha256])
    for i in range(MANY_COUNT):
        lab.add_zone(many_zone(i), update_keys=[sha256])
    bulk = [("r%03d" % i, "CNAME", mxflab.MX1, 300) for i in range(BULK_COUNT)]
    lab.add_zone("bulk.test", records=mxflab.mail_records(bulk),
                 update_keys=[sha256])
    lab.add_zone("refused.test", update_keys=[other])
    lab.add_zone("addr.test", update_addresses=["127.0.0.1"])
    # The man page's name-scoped grant: the mail CNAMEs only (named, knotd;
    # PowerDNS has no such setting and ignores it).
    lab.add_zone("scoped.test", update_keys=[sha256],
                 update_names=mxflab.MAIL_RECORDS, update_types=["CNAME"])
    lab.start()
    try:
        yield lab
    finally:
        lab.stop()


@pytest.fixture(scope="session")
def lab_keys(lab):
    return {alg: lab.keys[alg_key_name(alg)] for alg in mxflab.ALGORITHMS}


@pytest.fixture
def lab_config(lab, tmp_path):
    """lab_config(key=Key|None|path, zones=(...), **kw) -> config path in
    tmp_path, pointing at the session's named."""

    def _cfg(key=None, zones=(), name="mxfailover.conf", **kw):
        if isinstance(key, mxflab.Key):
            key = key.path
        return mxflab.write_config(str(tmp_path / name), lab.port,
                                   key_file=key, zones=zones, **kw)

    return _cfg


# ---- the real mail servers of tests/lib/mailservers.py, one set per module
# (test_mailservers.py, test_probe_real.py).  Such a module lists
# pytest.mark.usefixtures("no_leaks") in its pytestmark, so no_leaks is set
# up before and torn down after every server fixture of the module (they
# depend on it): its teardown sees what they left.


@pytest.fixture(scope="module")
def no_leaks():
    """Fails the module when a server process or address outlived it."""
    yield
    servers = mailservers.running_servers()
    procs = mailservers.leaked_processes()
    addrs = mailservers.leaked_addresses()
    assert not servers, "servers never stopped: %r" % servers
    assert not procs, "server processes left running: %r" % procs
    assert not addrs, "loopback addresses left configured: %r" % addrs


@pytest.fixture(scope="module")
def ca(no_leaks, tmp_path_factory):
    return mailservers.CertAuthority(str(tmp_path_factory.mktemp("lab_ca")))


@pytest.fixture(scope="module")
def postfix(ca):
    with mailservers.Postfix(ca=ca) as pf:
        yield pf


@pytest.fixture(scope="module")
def dovecot(ca):
    with mailservers.Dovecot(ca=ca) as dv:
        yield dv


@pytest.fixture(scope="module")
def mariadb(no_leaks):
    with mailservers.MariaDB() as db:
        yield db


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """On a failed test that used the lab, show the end of named's log."""
    outcome = yield
    rep = outcome.get_result()
    if rep.when == "call" and rep.failed:
        for name in ("lab", "primary"):
            lab = item.funcargs.get(name) if name in item.fixturenames else None
            if lab is not None:
                rep.sections.append(("%s log (tail)" % lab.program,
                                     lab.log_tail(25)))
