"""SIGHUP reloads that cannot work are refused and the daemon goes on as
before (the new key file is too open, the new DNS server does not resolve);
and a zone the primary refuses to answer is reported, not passed over in
silence.  A real named; TCP listeners as the mail servers."""

import os
import signal
import time

import pytest

import folab
import mxflab
import net

ZONE = "reload.test."
MX1, MX2 = mxflab.MX1, mxflab.MX2


@pytest.fixture(scope="module")
def rlab(tmp_path_factory):
    lab, key = mxflab.keyed_lab(str(tmp_path_factory.mktemp("named-reload")), "k-reload",
                                [ZONE])
    with lab.running():
        yield lab, key


def write_cfg(tmp_path, server, key_path, p1, p2, zone=ZONE, extra=""):
    return folab.write_fo_config(
        str(tmp_path / "mxf.conf"), None, key_path, folab.tcp_servers(p1, p2), [zone],
        records=("mx", "smtp"), rtype=None, group={"failback": None, "hold_down": "0"},
        dns_timeout=None, dns_server=server, extra=extra)


# A second group on the first group's smtp record (issue 9 point 4): the two
# would flip it every round, so the new config is refused.
OVERLAP_GROUP = "\n[group other]\nservers = mx2\nzones = %s\nrecords = smtp\n" % ZONE


@pytest.mark.parametrize("breakage", ["key-too-open", "server-does-not-resolve",
                                      "overlapping-groups"])
def test_unusable_reload_is_refused(mxf_bin, rlab, tmp_path, breakage):
    lab, key = rlab
    lab.nsupdate("update delete mx.%s CNAME\nupdate add mx.%s 300 CNAME %s\nsend\n"
                 % (ZONE, ZONE, MX1), key=key)
    # A key file of our own, so the test may make it too open.
    kpath = str(tmp_path / "k.key")
    mxflab.write_key_file(kpath, key.name, key.algorithm, key.secret)
    mx1, mx2 = net.tcp_listener(), net.tcp_listener()
    p1, p2 = mx1.getsockname()[1], mx2.getsockname()[1]
    cfg = write_cfg(tmp_path, "127.0.0.1:%d" % lab.port, kpath, p1, p2)
    d = folab.Daemon(mxf_bin, cfg, str(tmp_path / "d.log")).start()
    try:
        time.sleep(1.5)
        if breakage == "key-too-open":
            os.chmod(kpath, 0o644)
        elif breakage == "overlapping-groups":
            write_cfg(tmp_path, "127.0.0.1:%d" % lab.port, kpath, p1, p2, extra=OVERLAP_GROUP)
        else:
            write_cfg(tmp_path, "nxhost.invalid:53", kpath, p1, p2)
        d.signal(signal.SIGHUP)
        net.wait_until(lambda: "reload refused" in d.log(), 10, "the reload to be refused")
        # Still working, with the old key and server: a failover goes through.
        mx1.close()
        net.wait_until(lambda: lab.cname("mx." + ZONE) == MX2, 10, "failover after the refusal")
        assert d.alive(), "the daemon died"
    finally:
        rc, text = d.finish()
        mx2.close()
    assert rc == 0, text
    assert not mxflab.sanitizer_report(text), text
    if breakage == "key-too-open":
        assert kpath in text and "chmod" in text, text
    elif breakage == "overlapping-groups":
        assert ("group other: record smtp.%s CNAME is also managed by group mail"
                % ZONE.rstrip(".")) in text, text
    else:
        assert "does not resolve" in text, text


def test_refused_zone_is_reported(run, rlab, tmp_path):
    """The primary does not serve the configured zone: `once` says which
    zone and why, and exits 3."""
    lab, key = rlab
    mx1, mx2 = net.tcp_listener(), net.tcp_listener()
    cfg = write_cfg(tmp_path, "127.0.0.1:%d" % lab.port, key.path,
                    mx1.getsockname()[1], mx2.getsockname()[1], zone="not-served.test.")
    rc, out, err = run(["once"], config=cfg)
    mx1.close()
    mx2.close()
    assert rc == 3, err
    assert "zone not-served.test.: cannot read" in err, err
    assert "REFUSED" in err, err


# ---- point 12: what a reload keeps -----------------------------------------------

KZONE = "rekey.test."


@pytest.fixture(scope="module")
def klab(tmp_path_factory):
    """A named whose zone two keys may update: the daemon moves from one to
    the other on a reload."""
    lab = mxflab.NamedLab(str(tmp_path_factory.mktemp("named-rekey")))
    k1 = lab.add_key("k-rekey-1", "hmac-sha256")
    k2 = lab.add_key("k-rekey-2", "hmac-sha256")
    lab.add_zone(KZONE, update_keys=[k1, k2])
    with lab.running():
        yield lab, k1, k2


def test_reload_with_a_new_key_file_redacts_the_new_secret(mxf_bin, klab, tmp_path):
    """After a reload with a new key_file, a notice whose reason carries the
    new TSIG secret shows it redacted (the notifier is kept: [notify] did
    not change)."""
    from httpsink import HttpSink  # tests/fakes, on the path by conftest.py

    lab, k1, k2 = klab
    # The plugin's exit code and message live in one file, replaced whole
    # (rename), so a check never reads a new code with an old message.
    out = tmp_path / "plugin.out"

    def plugin_says(rc, text):
        tmp = tmp_path / "plugin.out.tmp"
        tmp.write_text("%d\n%s\n" % (rc, text))
        os.replace(str(tmp), str(out))

    plugin_says(0, "OK all well")
    plugin = tmp_path / "plugin.sh"
    plugin.write_text("#!/bin/sh\nexec 3<%s\nread rc <&3\ncat <&3\nexit $rc\n" % out)
    plugin.chmod(0o755)
    mx2 = net.tcp_listener()
    with HttpSink(mode="200") as h:
        def cfg_with(key):
            return folab.write_fo_config(
                str(tmp_path / "mxf.conf"), lab.port, key.path,
                [("mx1", "127.0.0.1", MX1, ["exec:%s" % plugin]),
                 ("mx2", "127.0.0.1", MX2, ["tcp://127.0.0.1:%d" % mx2.getsockname()[1]])],
                [KZONE], records=("mx", "smtp"), rtype=None,
                group={"failback": None, "hold_down": "0"}, dns_timeout=None,
                extra="[notify]\nwebhook = http://127.0.0.1:%d/hook\n" % h.port)
        cfg = cfg_with(k1)
        d = folab.Daemon(mxf_bin, cfg, str(tmp_path / "d.log")).start()
        try:
            net.wait_until(lambda: "round done" in d.log() or
                           os.path.exists(str(tmp_path / "state.json")), 10, "a first round")
            cfg_with(k2)
            d.signal(signal.SIGHUP)
            net.wait_until(lambda: "configuration reloaded" in d.log(), 10, "the reload")
            # mx1 fails with the new secret in its reason.
            plugin_says(2, "CRITICAL leaked %s here" % k2.secret)
            net.wait_until(lambda: [b for b in h.bodies() if "server_down" in b], 15,
                           "the server_down notice")
            # The switch itself was signed with the new key.
            net.wait_until(lambda: lab.cname("mx." + KZONE) == MX2, 15, "the failover")
        finally:
            rc, text = d.finish()
            mx2.close()
        bodies = h.bodies()
    assert rc == 0, text
    assert not mxflab.sanitizer_report(text), text
    down = [b for b in bodies if "server_down" in b]
    assert all(k2.secret not in b for b in bodies), down
    assert "[redacted]" in down[0], down
    # Nor in the daemon's log (the check's reason is logged too).
    assert "CRITICAL leaked [redacted] here" in text, text
    assert k2.secret not in text, text
