"""The daemon's words (issue 11, "Command line"): counts in the singular
when there is one ("1 group"), durations as written ("interval 1s"), no
reason repeated inside itself, a witness that stays down logged once per
streak, and the lock error naming the holder's pid.

A real named; TCP listeners as the mail servers and the witness; the
daemon's own log (stderr) read as the operator reads it.
"""

import re
import time

import pytest

import folab
import mxflab
import net

ZONE = "wording.test."
MX1, MX2 = mxflab.MX1, mxflab.MX2


@pytest.fixture(scope="module")
def wlab(tmp_path_factory):
    lab, key = mxflab.keyed_lab(str(tmp_path_factory.mktemp("named-wording")), "k-wording",
                                [ZONE])
    with lab.running():
        yield lab, key


def port(sock):
    return sock.getsockname()[1]


def repeated_reason(line):
    """What @line says twice: a run of three words ("mx1 -> mx2 (switch
    mx1 -> mx2: ..."), "down: down:", or an event's name repeated by its
    detail ("server down: server mx1 is down"); None if nothing."""
    if re.search(r"\b(\w+): \1:", line):
        return line
    m = re.search(r"\b(server|group) (down|up): \1 \S+ is \2\b", line)
    if m:
        return m.group(0)
    words = [w.strip(":,;()") for w in line.split()]
    words = [w for w in words if w]
    seen = set()
    for i in range(len(words) - 2):
        g = tuple(words[i:i + 3])
        if g in seen:
            return " ".join(g)
        seen.add(g)
    return None


def lab_config(lab, key, tmp_path, mx1, mx2, wport):
    for r in ("mx", "smtp"):
        lab.nsupdate("update delete %s.%s CNAME\nupdate add %s.%s 300 CNAME %s\nsend\n"
                     % (r, ZONE, r, ZONE, MX1), key=key)
    return folab.write_fo_config(
        str(tmp_path / "mxf.conf"), lab.port, key.path,
        folab.tcp_servers(port(mx1), port(mx2)), [ZONE], records=("mx", "smtp"),
        rtype=None, group={"failback": None, "hold_down": "0"},
        general={"witness": "tcp://127.0.0.1:%d" % wport, "fall": "2", "rise": "2"},
        dns_timeout=None)


def test_lock_error_names_the_holder(mxf_bin, run, wlab, tmp_path):
    lab, key = wlab
    socks = [net.tcp_listener() for _ in range(3)]
    cfg = lab_config(lab, key, tmp_path, socks[0], socks[1], port(socks[2]))
    d = folab.Daemon(mxf_bin, cfg, str(tmp_path / "d.log")).start()
    try:
        net.wait_until(lambda: "started:" in d.log(), 10, "the daemon to start")
        rc, out, err = run(["once"], config=cfg)
    finally:
        rc_d, log = d.finish()
        for s in socks:
            s.close()
    assert rc == 5, err
    assert "another mxfailover (pid %d) holds the lock" % d.proc.pid in err, err
    assert rc_d == 0, log


def test_daemon_log_wording(mxf_bin, run, wlab, tmp_path):
    lab, key = wlab
    mx1, mx2, wit = net.tcp_listener(), net.tcp_listener(), net.tcp_listener()
    wport = port(wit)
    cfg = lab_config(lab, key, tmp_path, mx1, mx2, wport)
    d = folab.Daemon(mxf_bin, cfg, str(tmp_path / "d.log")).start()
    try:
        net.wait_until(lambda: "started:" in d.log(), 10, "the daemon to start")
        # A witness down for several rounds is said once, its return once.
        wit.close()
        net.wait_until(lambda: "witness tcp://127.0.0.1:%d: down" % wport in d.log(), 10,
                       "the witness down")
        time.sleep(4.5)                            # 4 more rounds of 1 s
        wit = net.tcp_listener(port=wport)
        net.wait_until(lambda: "isolation over" in d.log(), 10, "the witness back")
        # mx1 goes down: the failover's reasons.
        mx1.close()
        net.wait_until(lambda: lab.cname("mx." + ZONE) == MX2, 15, "the failover")
        time.sleep(1.5)
    finally:
        rc_d, log = d.finish()
        for s in (mx2, wit):
            s.close()
    assert rc_d == 0, log
    assert not mxflab.sanitizer_report(log), log
    wrong = []
    if "started: 2 servers, 1 group, interval 1s" not in log:
        wrong.append("no 'started: 2 servers, 1 group, interval 1s'")
    if log.count("witness tcp://127.0.0.1:%d: down" % wport) != 1:
        wrong.append("the down witness logged %d times"
                     % log.count("witness tcp://127.0.0.1:%d: down" % wport))
    if log.count("witness tcp://127.0.0.1:%d: up again" % wport) != 1:
        wrong.append("the witness's return not logged once")
    # `status` shows the same events: each said once there too.
    rc, out, err = run(["status"], config=cfg)
    if "server mx1 is down: tcp://" not in out:
        wrong.append("status shows no server mx1 is down event")
    for line in log.splitlines() + out.splitlines():
        if repeated_reason(line) is not None:
            wrong.append("%r said twice in: %s" % (repeated_reason(line), line))
    assert not wrong, "\n".join(wrong) + "\n" + log


def test_witness_streak_follows_a_reload(mxf_bin, wlab, tmp_path):
    """The streak is the state's, matched by URL: a reload that swaps the
    witness (same number of witnesses) neither hides the new one's "down"
    nor says "up again" of one that was never down."""
    import signal

    lab, key = wlab
    mx1, mx2 = net.tcp_listener(), net.tcp_listener()
    w_a, w_b = net.free_port(), net.free_port()       # nothing listens: down
    w_c = net.tcp_listener()                           # up
    down = "witness tcp://127.0.0.1:%d: down"
    cfg = lab_config(lab, key, tmp_path, mx1, mx2, w_a)
    d = folab.Daemon(mxf_bin, cfg, str(tmp_path / "d.log")).start()
    try:
        net.wait_until(lambda: down % w_a in d.log(), 10, "witness A down")
        # Witness A (down) becomes witness B (down too): B is said down once.
        lab_config(lab, key, tmp_path, mx1, mx2, w_b)
        d.signal(signal.SIGHUP)
        net.wait_until(lambda: d.log().count("configuration reloaded") == 1, 10, "reload 1")
        net.wait_until(lambda: down % w_b in d.log(), 10, "witness B down")
        time.sleep(3)                                  # more rounds of B down
        # Witness B (down) becomes witness C (up): C was never down.
        lab_config(lab, key, tmp_path, mx1, mx2, port(w_c))
        d.signal(signal.SIGHUP)
        net.wait_until(lambda: d.log().count("configuration reloaded") == 2, 10, "reload 2")
        net.wait_until(lambda: "isolation over" in d.log(), 10, "the isolation over")
        time.sleep(2)
    finally:
        rc_d, log = d.finish()
        for s in (mx1, mx2, w_c):
            s.close()
    assert rc_d == 0, log
    assert not mxflab.sanitizer_report(log), log
    assert log.count(down % w_a) == 1, log
    assert log.count(down % w_b) == 1, log
    assert "up again" not in log, log
