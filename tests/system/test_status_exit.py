"""`status` tells the truth (issue 9, points 6 and 7): its exit code and
its --json verdict for a healthy, degraded, isolated, all-down and stale
state; a daemon that is alive but cannot write its state is told from a
dead one by the lock it holds; a state file that cannot be written is
logged once per streak and makes `once` exit non-zero; and `plan` gives
the right reason when the records stay on the backup.

A real named; TCP listeners as the mail servers; the state directory made
unwritable with chattr +i (the tests run as root, who ignores modes).
"""

import json
import os
import shutil
import subprocess
import time
import urllib.request

import pytest

import folab
import mxflab
import net

ZONE = "status.test."
MX1, MX2 = mxflab.MX1, mxflab.MX2
EXIT_STALE = 6


@pytest.fixture(scope="module")
def slab(tmp_path_factory):
    lab, key = mxflab.keyed_lab(str(tmp_path_factory.mktemp("named-status")), "k-status",
                                [ZONE])
    with lab.running():
        yield lab, key


@pytest.fixture
def servers():
    """mx1, mx2 and a witness: listening sockets, closed afterwards."""
    socks = {"mx1": net.tcp_listener(), "mx2": net.tcp_listener(),
             "witness": net.tcp_listener()}
    yield socks
    for s in socks.values():
        s.close()


def port(sock):
    return sock.getsockname()[1]


def reset(lab, key):
    for r in ("mx", "smtp"):
        lab.nsupdate("update delete %s.%s CNAME\nupdate add %s.%s 300 CNAME %s\nsend\n"
                     % (r, ZONE, r, ZONE, MX1), key=key)


def write_cfg(path, lab, key, servers, witness=False, state_dir=None, http_port=None):
    general = {}
    if http_port is not None:
        general["status_listen"] = "127.0.0.1:%d" % http_port
    if witness:
        general["witness"] = "tcp://127.0.0.1:%d" % port(servers["witness"])
    if state_dir is not None:
        general["state_file"] = os.path.join(state_dir, "state.json")
    return folab.write_fo_config(
        str(path), lab.port, key.path,
        folab.tcp_servers(port(servers["mx1"]), port(servers["mx2"])), [ZONE],
        records=("mx", "smtp"), rtype=None, group={"failback": None, "hold_down": "0"},
        general=general, dns_timeout=None)


def status(run, cfg):
    """@return (exit code, text output, the --json verdict).  The exit code
    of --json must be the same, and so must its verdict's (checked once the
    caller has checked the code)."""
    rc, out, err = run(["status"], config=cfg)
    rcj, outj, errj = run(["status", "--json"], config=cfg)
    verdict = json.loads(outj).get("status") or {}
    verdict["_rcs"] = (rc, rcj)
    return rc, out + err, verdict


def same_json(v):
    rc, rcj = v["_rcs"]
    assert v.get("exit_code") == rc == rcj, v


def test_healthy_then_degraded_then_all_down(run, slab, servers, tmp_path):
    lab, key = slab
    reset(lab, key)
    cfg = write_cfg(tmp_path / "mxf.conf", lab, key, servers)
    assert run(["once"], config=cfg)[0] == 0
    rc, out, v = status(run, cfg)
    assert rc == 0, out
    same_json(v)
    assert v["verdict"] == "ok", v
    servers["mx1"].close()
    assert run(["once"], config=cfg)[0] == 1
    assert lab.cname("mx." + ZONE) == MX2
    rc, out, v = status(run, cfg)
    assert rc == 1, out
    same_json(v)
    assert v["verdict"] == "degraded", v
    assert "mx1" in v["message"]
    servers["mx2"].close()
    assert run(["once"], config=cfg)[0] == 4
    rc, out, v = status(run, cfg)
    assert rc == 4, out
    same_json(v)
    assert v["verdict"] == "all_down", v
    assert "every server of group mail is down" in out


def test_isolated_exits_1(run, slab, servers, tmp_path):
    lab, key = slab
    reset(lab, key)
    cfg = write_cfg(tmp_path / "mxf.conf", lab, key, servers, witness=True)
    assert run(["once"], config=cfg)[0] == 0
    servers["witness"].close()
    run(["once"], config=cfg)
    rc, out, v = status(run, cfg)
    assert rc == 1, out
    same_json(v)
    assert v["verdict"] == "isolated", v
    assert "isolated" in out.lower()


def test_stale_state_says_the_daemon_is_not_running(run, slab, servers, tmp_path):
    lab, key = slab
    reset(lab, key)
    cfg = write_cfg(tmp_path / "mxf.conf", lab, key, servers)
    assert run(["once"], config=cfg)[0] == 0
    path = tmp_path / "state.json"
    j = json.loads(path.read_text())
    j["saved_ms"] -= 3600 * 1000                # an hour ago: nobody wrote it since
    path.write_text(json.dumps(j))
    rc, out, v = status(run, cfg)
    assert rc == EXIT_STALE, out
    assert "s old: is the daemon running?" in out, out
    same_json(v)
    assert v["verdict"] == "stale", v
    assert 3599 <= v["state_age_s"] <= 3700, v
    assert v["daemon_pid"] is None


def test_plan_reason_when_failed_over(run, slab, servers, tmp_path):
    lab, key = slab
    reset(lab, key)
    cfg = write_cfg(tmp_path / "mxf.conf", lab, key, servers)
    assert run(["once"], config=cfg)[0] == 0
    servers["mx1"].close()
    run(["once"], config=cfg)
    assert lab.cname("mx." + ZONE) == MX2
    rc, out, err = run(["plan"], config=cfg)
    assert "mx2 stays: mx1 is preferred but down (" in out, out
    assert "mx2 is up and preferred" not in out, out


def chattr(flag, d):
    subprocess.run(["chattr", flag, str(d)], check=True, timeout=10)


@pytest.fixture
def state_dir(tmp_path):
    """A directory for the state that the test may make immutable; made
    writable again afterwards whatever happened."""
    if shutil.which("chattr") is None:
        pytest.skip("chattr not installed")
    d = tmp_path / "state"
    d.mkdir()
    try:
        chattr("+i", d)
        chattr("-i", d)
    except subprocess.CalledProcessError:
        pytest.skip("this file system has no immutable attribute")
    yield d
    subprocess.run(["chattr", "-i", str(d)], timeout=10)


def test_unwritable_state_is_loud(mxf_bin, run, slab, servers, state_dir, tmp_path):
    lab, key = slab
    reset(lab, key)
    http_port = net.free_port()
    cfg = write_cfg(tmp_path / "mxf.conf", lab, key, servers, state_dir=str(state_dir),
                    http_port=http_port)

    def api_error():
        with urllib.request.urlopen("http://127.0.0.1:%d/api/status" % http_port,
                                    timeout=5) as r:
            return json.loads(r.read())["daemon"].get("state_write_error", "missing")
    d = folab.Daemon(mxf_bin, cfg, str(tmp_path / "d.log")).start()
    stale_ok = False
    try:
        net.wait_until(lambda: (state_dir / "state.json").exists(), 10, "a first state")
        assert status(run, cfg)[0] == 0
        chattr("+i", state_dir)
        net.wait_until(lambda: "state is not saved" in d.log(), 10, "the failure logged")
        # Wait until the state is stale (3 rounds of 1 s): several more failed
        # saves, still one log line.
        def stale():
            rc, out, v = status(run, cfg)
            return (rc, out, v) if rc == EXIT_STALE else None
        rc, out, v = net.wait_until(stale, 15, "status to call the state stale")
        stale_ok = True
        same_json(v)
        assert "mxfailover (pid %d) is running but cannot write its state" % d.proc.pid \
            in out, out
        assert v["daemon_pid"] == d.proc.pid
        assert "Operation not permitted" in v["state_write_error"], v
        assert "is the daemon running?" not in out
        assert d.log().count("state is not saved") == 1, d.log()
        assert "Operation not permitted" in (api_error() or ""), api_error()
        chattr("-i", state_dir)
        net.wait_until(lambda: "written again" in d.log(), 10, "the recovery logged")
        net.wait_until(lambda: status(run, cfg)[0] == 0, 10, "status healthy again")
        assert d.log().count("written again") == 1
        net.wait_until(lambda: api_error() is None, 10, "/api/status without the error")
        # A second streak is logged once again.
        chattr("+i", state_dir)
        net.wait_until(lambda: d.log().count("state is not saved") == 2, 10, "a second streak")
    finally:
        subprocess.run(["chattr", "-i", str(state_dir)], timeout=10)
        rc_d, log = d.finish()
    assert stale_ok
    assert rc_d == 0, log
    assert not mxflab.sanitizer_report(log), log
    # `once` with a state it cannot write exits non-zero, all servers healthy.
    chattr("+i", state_dir)
    try:
        rc, out, err = run(["once"], config=cfg)
    finally:
        chattr("-i", state_dir)
    assert rc == 1, err
    assert "state is not saved" in err, err
