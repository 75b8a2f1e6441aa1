"""Notices from the running daemon (issue 5): exactly one per event over
many rounds, reminders at the configured interval, and a channel that hangs
never delays a failover.  A real named, TCP listeners as mail servers, and
the HTTP sink of tests/fakes as the webhook."""

import json
import time

import pytest

import folab
import mxflab
import net
from httpsink import HttpSink  # tests/fakes, on the path by conftest.py

ZONE = "notify.test."
MX1, MX2 = mxflab.MX1, mxflab.MX2


@pytest.fixture(scope="module")
def nlab(tmp_path_factory):
    lab, key = mxflab.keyed_lab(str(tmp_path_factory.mktemp("named-notify")), "k-notify",
                                [ZONE])
    with lab.running():
        yield lab, key


def write_cfg(tmp_path, lab, key, p1, p2, hook, extra_notify=""):
    return folab.write_fo_config(
        str(tmp_path / "mxf.conf"), lab.port, key.path, folab.tcp_servers(p1, p2), [ZONE],
        records=("mx", "smtp"), rtype=None, group={"failback": None, "hold_down": "0"},
        dns_timeout=None,
        extra="[notify]\nwebhook = http://127.0.0.1:%d/hook\n%s" % (hook, extra_notify))


def start_daemon(mxf_bin, cfg, logpath):
    return folab.Daemon(mxf_bin, cfg, str(logpath)).start()


def reset(lab, key):
    """Both managed records at mx1, whatever an earlier test left."""
    for r in ("mx", "smtp"):
        lab.nsupdate("update delete %s.%s CNAME\nupdate add %s.%s 300 CNAME %s\nsend\n"
                     % (r, ZONE, r, ZONE, MX1), key=key)
    assert lab.cname("mx." + ZONE) == MX1


def events(sink):
    return [json.loads(b) for b in sink.bodies()]


def test_one_notice_per_event_over_many_rounds(mxf_bin, nlab, tmp_path):
    lab, key = nlab
    reset(lab, key)
    mx1, mx2 = net.tcp_listener(), net.tcp_listener()
    p1 = mx1.getsockname()[1]
    with HttpSink(mode="200") as h:
        d = start_daemon(mxf_bin, write_cfg(tmp_path, lab, key, p1, mx2.getsockname()[1], h.port),
                   tmp_path / "d.log")
        try:
            time.sleep(2.5)                       # healthy rounds: no notice
            assert events(h) == []
            mx1.close()
            net.wait_until(lambda: lab.cname("mx." + ZONE) == MX2, 15, "failover")
            time.sleep(4)                         # four more rounds, mx1 still down
            kinds = [e["event"] for e in events(h)]
            assert kinds.count("server_down") == 1, kinds
            assert kinds.count("switched") == 1, kinds
            sw = [e for e in events(h) if e["event"] == "switched"][0]
            assert (sw["group"], sw["from"], sw["to"]) == ("mail", "mx1", "mx2"), sw
            assert "mx.%s CNAME %s" % (ZONE, MX2) in sw["records"], sw
            assert sw["zones"] == [ZONE]
            mx1 = net.tcp_listener(p1)
            net.wait_until(lambda: lab.cname("mx." + ZONE) == MX1, 15, "failback")
            time.sleep(3)
            kinds = [e["event"] for e in events(h)]
            assert kinds.count("server_up") == 1, kinds
            assert kinds.count("switched") == 2, kinds
            assert len(kinds) == 4, kinds
        finally:
            rc, log = d.finish()
            mx1.close()
            mx2.close()
    assert rc == 0, log
    assert not mxflab.sanitizer_report(log), log


def test_reminders_while_down(mxf_bin, nlab, tmp_path):
    lab, key = nlab
    reset(lab, key)
    mx1, mx2 = net.tcp_listener(), net.tcp_listener()
    with HttpSink(mode="200") as h:
        cfg = write_cfg(tmp_path, lab, key, mx1.getsockname()[1], mx2.getsockname()[1],
                        h.port, "reminder = 2s\n")
        mx1.close()                               # down from the start
        d = start_daemon(mxf_bin, cfg, tmp_path / "d.log")
        try:
            net.wait_until(lambda: [e for e in events(h) if e["event"] == "reminder"], 15,
                     "a reminder")
            time.sleep(4.5)
            rem = [e for e in events(h) if e["event"] == "reminder"]
            # About one every 2 s, never one per round (1 s).
            assert 2 <= len(rem) <= 4, [e["event"] for e in events(h)]
            assert all(e["about"] == "server_down" for e in rem), rem
            assert [e["event"] for e in events(h)].count("server_down") == 1
        finally:
            rc, log = d.finish()
            mx2.close()
    assert rc == 0, log


def test_hanging_webhook_does_not_delay_failover(mxf_bin, nlab, tmp_path):
    lab, key = nlab
    reset(lab, key)
    mx1, mx2 = net.tcp_listener(), net.tcp_listener()
    with HttpSink(mode="hangs") as h:
        d = start_daemon(mxf_bin, write_cfg(tmp_path, lab, key, mx1.getsockname()[1],
                                      mx2.getsockname()[1], h.port), tmp_path / "d.log")
        try:
            time.sleep(1.5)
            t0 = time.monotonic()
            mx1.close()
            net.wait_until(lambda: lab.cname("mx." + ZONE) == MX2, 10, "failover")
            took = time.monotonic() - t0
            assert took < 5, took                 # fall 1, interval 1 s: not the webhook's 30 s
        finally:
            rc, log = d.finish()
            mx2.close()
    assert rc == 0, log
    assert not mxflab.sanitizer_report(log), log


def test_pending_notices_survive_a_notify_reload(mxf_bin, nlab, tmp_path):
    """Issue 9 point 12: the webhook refuses, so the notices of a failover
    wait to be retried; a SIGHUP that changes [notify] (a new webhook) hands
    them to the new notifier, which delivers them, rather than dropping
    them."""
    import signal

    lab, key = nlab
    reset(lab, key)
    mx1, mx2 = net.tcp_listener(), net.tcp_listener()
    p1, p2 = mx1.getsockname()[1], mx2.getsockname()[1]
    with HttpSink(mode="500", failures=1000) as bad, HttpSink(mode="200") as good:
        cfg = write_cfg(tmp_path, lab, key, p1, p2, bad.port)
        d = start_daemon(mxf_bin, cfg, tmp_path / "d.log")
        try:
            time.sleep(1.5)
            mx1.close()
            net.wait_until(lambda: lab.cname("mx." + ZONE) == MX2, 15, "failover")
            net.wait_until(lambda: {"server_down", "switched"} <=
                           {e["event"] for e in events(bad)}, 10, "the refused notices")
            assert "retrying" in d.log(), d.log()
            write_cfg(tmp_path, lab, key, p1, p2, good.port)
            d.signal(signal.SIGHUP)
            net.wait_until(lambda: "configuration reloaded" in d.log(), 10, "the reload")
            net.wait_until(lambda: {"server_down", "switched"} <=
                           {e["event"] for e in events(good)}, 15,
                           "the pending notices through the new webhook")
            kinds = [e["event"] for e in events(good)]
            assert kinds.count("server_down") == 1 and kinds.count("switched") == 1, kinds
        finally:
            rc, log = d.finish()
            mx2.close()
    assert rc == 0, log
    assert "carried over to the new [notify]" in log, log
    assert not mxflab.sanitizer_report(log), log
