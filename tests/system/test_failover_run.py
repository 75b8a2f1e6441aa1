"""Failover end to end with the daemon, `mxfailover run` (issue 4), against a
real named: failover and failback, kill -9 mid-switch, the DNS server gone
during a switch, hold_down against a flapping server, pins, manual
failback, isolation, SIGHUP with a good and a bad config, SIGTERM.

Every daemon is killed at teardown whatever happened; every wait is
bounded.  DNS is read back from named with dnspython.
"""

import re
import signal
import threading
import time

import pytest

import folab
import mxflab
import net

MX1, MX2 = folab.MX1, folab.MX2
RECS = mxflab.MAIL_RECORDS

ZONES = ["run-a", "run-b", "kill", "dnsdown", "flap", "pin", "pinfor", "manual", "hup-a",
         "hup-b", "term", "iso", "updfail", "kill2"]


def zname(short):
    return "%s.fo-run.test." % short


@pytest.fixture(scope="module")
def named(tmp_path_factory):
    lab, key = mxflab.keyed_lab(str(tmp_path_factory.mktemp("named-fo-run")), "k-fo-run",
                                [zname(z) for z in ZONES])
    with lab.running():
        yield lab, key


@pytest.fixture
def mx():
    servers = {"mx1": folab.MailServer("127.0.0.21"), "mx2": folab.MailServer("127.0.0.22"),
               "witness": folab.MailServer("127.0.0.23")}
    for s in servers.values():
        s.start()
    yield servers
    for s in servers.values():
        s.stop()


@pytest.fixture
def cfg(named, mx, tmp_path):
    lab, key = named

    def _cfg(zones, name="mxf.conf", dns_port=None, **kw):
        servers = [("mx1", "127.0.0.21", MX1, [mx["mx1"].url]),
                   ("mx2", "127.0.0.22", MX2, [mx["mx2"].url])]
        return folab.write_fo_config(str(tmp_path / name), dns_port or lab.port, key.path,
                                     servers, [zname(z) for z in zones], **kw)

    return _cfg


@pytest.fixture
def daemon(mxf_bin, tmp_path):
    """daemon(config) -> a started folab.Daemon; all are stopped at teardown
    and their logs checked for sanitizer reports."""
    started = []

    def _start(config, name="daemon.log"):
        d = folab.Daemon(mxf_bin, config, str(tmp_path / name)).start()
        started.append(d)
        return d

    yield _start
    for d in started:
        d.stop(timeout=5)
    for d in started:
        mark = mxflab.sanitizer_report(d.log())
        assert mark is None, "sanitizer report (%s):\n%s" % (mark, d.log()[-4000:])


def points(lab, short, target):
    return all(lab.cname(r + "." + zname(short)) == target for r in RECS)


def cnames(lab, short):
    return {r: lab.cname(r + "." + zname(short)) for r in RECS}


def wait_points(lab, short, target, timeout):
    return net.wait_until(lambda: points(lab, short, target), timeout, step=0.05)


def wait_log(d, text, timeout):
    return net.wait_until(lambda: text in d.log(), timeout, step=0.05)


def test_run_failover_and_failback(named, mx, cfg, daemon):
    lab, _ = named
    c = cfg(["run-a", "run-b"])
    s0 = {z: lab.serial(zname(z)) for z in ("run-a", "run-b")}
    d = daemon(c)
    time.sleep(1.5)                                     # a healthy round or two
    assert {z: lab.serial(zname(z)) for z in s0} == s0   # nothing flipped at start-up
    t0 = time.monotonic()
    mx["mx1"].stop()
    assert wait_points(lab, "run-a", MX2, 6) and wait_points(lab, "run-b", MX2, 2), \
        (cnames(lab, "run-a"), d.log())
    took = time.monotonic() - t0
    assert took < 4.0, took                              # interval 1s, fall 1
    for z in s0:
        assert lab.serial(zname(z)) == s0[z] + 1
    mx["mx1"].start()
    assert wait_points(lab, "run-a", MX1, 6) and wait_points(lab, "run-b", MX1, 2), d.log()
    time.sleep(1.2)
    for z in s0:
        assert lab.serial(zname(z)) == s0[z] + 2
    assert d.alive()
    assert d.stop() == 0
    log = d.log()
    assert "switched" in log and "switched back" in log, log


def test_run_kill9_mid_switch_then_restart_converges(named, mx, cfg, daemon):
    """The update is applied by named but its reply held back by a proxy;
    the daemon is SIGKILLed while waiting.  A new daemon finds the records
    already on mx2, records that, and later fails back normally."""
    lab, _ = named
    proxy = folab.SlowProxy(lab.port)
    try:
        c = cfg(["kill"], dns_port=proxy.port, dns_timeout="10s")
        d = daemon(c)
        time.sleep(1.5)
        proxy.delay = 8.0
        mx["mx1"].stop()
        assert net.wait_until(lambda: proxy.updates >= 1, 6), d.log()
        time.sleep(0.3)
        assert d.alive()
        d.kill9()
        assert points(lab, "kill", MX2), cnames(lab, "kill")    # named applied it
        serial = lab.serial(zname("kill"))
        proxy.delay = 0
        d2 = daemon(c, name="daemon2.log")
        time.sleep(3)
        assert points(lab, "kill", MX2)
        assert lab.serial(zname("kill")) == serial               # no second update
        mx["mx1"].start()
        assert wait_points(lab, "kill", MX1, 6), d2.log()
        assert d2.stop() == 0
    finally:
        proxy.close()


def test_run_kill9_before_update_reaches_named(named, mx, cfg, daemon):
    """The update is held before named sees it and the daemon SIGKILLed: the
    held update is then lost (dropped by the proxy); a restarted daemon
    converges on its own."""
    lab, _ = named
    proxy = folab.SlowProxy(lab.port)
    try:
        c = cfg(["kill2"], dns_port=proxy.port, dns_timeout="10s")
        d = daemon(c)
        assert wait_points(lab, "kill2", MX1, 5)
        time.sleep(1.2)
        proxy.drop_updates = True           # what is in flight is lost
        mx["mx1"].stop()
        assert net.wait_until(lambda: proxy.updates >= 1, 8), d.log()
        time.sleep(0.3)
        d.kill9()
        assert points(lab, "kill2", MX1)
        proxy.drop_updates = False
        d2 = daemon(c, name="daemon2.log")
        assert wait_points(lab, "kill2", MX2, 6), d2.log()
        assert d2.stop() == 0
    finally:
        proxy.close()


def test_run_dns_down_during_switch_retried_with_backoff(named, mx, cfg, daemon):
    lab, _ = named
    proxy = folab.SlowProxy(lab.port)
    try:
        c = cfg(["dnsdown"], dns_port=proxy.port)
        d = daemon(c)
        time.sleep(1.5)
        proxy.set_down(True)
        mx["mx1"].stop()
        time.sleep(4)
        assert points(lab, "dnsdown", MX1)
        log = d.log()
        assert d.alive(), log
        # It says it could not read or update DNS.
        assert "fail" in log.lower() or "timed out" in log.lower(), log
        proxy.set_down(False)
        t0 = time.monotonic()
        # Backoff doubles from the interval; the DNS reads of the next round
        # must still converge within a few intervals.
        assert wait_points(lab, "dnsdown", MX2, 10), d.log()
        took = time.monotonic() - t0
        assert d.alive()
        assert took < 8, took
        assert d.stop() == 0
    finally:
        proxy.close()


def test_run_update_refused_is_retried_with_backoff(named, mx, cfg, daemon):
    """The reads pass but the UPDATE gets no answer (the proxy swallows
    replies to UPDATEs for a while): the log reports the failure and the
    next try, tries are spaced by a growing backoff, and once updates get
    through the zone converges without a restart."""
    lab, _ = named
    proxy = folab.SlowProxy(lab.port)
    try:
        c = cfg(["updfail"], dns_port=proxy.port)
        d = daemon(c)
        assert wait_points(lab, "updfail", MX1, 6)
        time.sleep(1.2)
        proxy.drop_updates = True        # UPDATEs never reach named meanwhile
        mx["mx1"].stop()
        time.sleep(6)
        assert points(lab, "updfail", MX1)
        log = d.log()
        assert "not changed" in log and "next try in" in log, log
        assert "switch failed" in log, log
        assert log.count("switch failed") == 1, log      # once per streak
        assert proxy.updates >= 2, log                   # retried
        proxy.drop_updates = False
        assert wait_points(lab, "updfail", MX2, 12), d.log()
        assert d.alive()
    finally:
        proxy.close()


def test_run_hold_down_against_flapping(named, mx, cfg, daemon, run):
    lab, _ = named
    c = cfg(["flap"], group={"hold_down": "1h"})
    serial = lab.serial(zname("flap"))
    d = daemon(c)
    time.sleep(1.5)
    stop = threading.Event()

    def flap():
        end = time.monotonic() + 9
        while not stop.is_set() and time.monotonic() < end:
            if mx["mx1"].running:
                mx["mx1"].stop()
            else:
                mx["mx1"].start()
            stop.wait(1.0)

    t = threading.Thread(target=flap, daemon=True)
    t.start()
    seen = set()
    end = time.monotonic() + 9
    while time.monotonic() < end:
        seen.add(lab.serial(zname("flap")))
        time.sleep(0.1)
    stop.set()
    t.join(3)
    mx["mx1"].start()
    time.sleep(1.5)
    assert lab.serial(zname("flap")) <= serial + 1, (seen, d.log())
    # After the one switch to mx2, failback is held.
    if lab.serial(zname("flap")) == serial + 1:
        assert points(lab, "flap", MX2)
        rc, out, err = run(["plan"], config=c)
        assert "held" in out.lower(), out
    assert d.stop() == 0


def test_run_pin_and_unpin(named, mx, cfg, daemon, run):
    lab, _ = named
    c = cfg(["pin"])
    d = daemon(c)
    time.sleep(1.5)
    t0 = time.monotonic()
    assert run(["pin", "mx1", "down"], config=c)[0] == 0
    assert wait_points(lab, "pin", MX2, 4), d.log()
    assert time.monotonic() - t0 < 2.5                 # about one interval
    assert run(["unpin", "mx1"], config=c)[0] == 0
    assert wait_points(lab, "pin", MX1, 4), d.log()
    assert d.stop() == 0


def test_run_pin_for_expires(named, mx, cfg, daemon, run):
    lab, _ = named
    c = cfg(["pinfor"])
    d = daemon(c)
    time.sleep(1.2)
    assert run(["pin", "mx1", "down", "--for", "2s"], config=c)[0] == 0
    t0 = time.monotonic()
    assert wait_points(lab, "pinfor", MX2, 3), d.log()
    assert wait_points(lab, "pinfor", MX1, 6), d.log()
    assert time.monotonic() - t0 >= 1.5
    assert d.stop() == 0


def test_run_manual_failback(named, mx, cfg, daemon):
    lab, _ = named
    c = cfg(["manual"], group={"failback": "manual"})
    d = daemon(c)
    time.sleep(1.2)
    mx["mx1"].stop()
    assert wait_points(lab, "manual", MX2, 5), d.log()
    serial = lab.serial(zname("manual"))
    mx["mx1"].start()
    time.sleep(3.5)
    assert points(lab, "manual", MX2)
    assert lab.serial(zname("manual")) == serial
    assert d.stop() == 0


def test_run_isolation(named, mx, cfg, daemon):
    lab, _ = named
    c = cfg(["iso"], general={"witness": mx["witness"].url})
    d = daemon(c)
    time.sleep(1.2)
    serial = lab.serial(zname("iso"))
    mx["witness"].stop()
    mx["mx1"].stop()
    time.sleep(3)
    assert points(lab, "iso", MX1) and lab.serial(zname("iso")) == serial, d.log()
    assert "isolated" in d.log()
    mx["witness"].start()
    assert wait_points(lab, "iso", MX2, 5), d.log()
    assert d.stop() == 0


def test_run_sighup_good_and_bad_config(named, mx, cfg, daemon):
    lab, _ = named
    c = cfg(["hup-a"])
    d = daemon(c)
    time.sleep(1.2)
    mx["mx1"].stop()
    assert wait_points(lab, "hup-a", MX2, 5), d.log()
    assert points(lab, "hup-b", MX1)
    # A good new config: another zone, managed from the next round.
    cfg(["hup-a", "hup-b"])
    d.signal(signal.SIGHUP)
    assert wait_points(lab, "hup-b", MX2, 5), d.log()
    assert "reloaded" in d.log()
    # A bad one: refused with FILE:LINE, the old one kept.
    with open(c, "a") as f:
        f.write("[group broken]\nservers = mx1 nosuch\nthis line is not ini\n")
    d.signal(signal.SIGHUP)
    assert wait_log(d, "reload refused", 5), d.log()
    assert re.search(re.escape(c) + r":\d+: ", d.log()), d.log()
    assert d.alive()
    mx["mx1"].start()                                # the old config still works
    assert wait_points(lab, "hup-a", MX1, 5) and wait_points(lab, "hup-b", MX1, 3), d.log()
    assert d.stop() == 0


def test_run_sigterm_when_idle_and_quiet_log(named, mx, cfg, daemon):
    lab, _ = named
    c = cfg(["term"])
    d = daemon(c)
    time.sleep(2.5)
    n = len(d.log().splitlines())
    time.sleep(3)                                    # three healthy rounds
    assert len(d.log().splitlines()) == n, d.log()   # nothing per healthy round
    t0 = time.monotonic()
    d.signal(signal.SIGTERM)
    rc = d.wait(3)
    took = time.monotonic() - t0
    assert rc == 0, d.log()
    assert took < 1.2, took
