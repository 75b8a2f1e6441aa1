"""A stuck exec: plugin never blocks the loop (issue 9, point 10).

A process in uninterruptible sleep cannot be made reliably in a container,
so the test makes one its parent cannot reap: it ptrace-attaches
(PTRACE_SEIZE) to the plugin and does not wait for it.  After the check's
deadline the daemon sends SIGKILL; the plugin dies, but until the tracer
(this test) has waited for it the daemon's waitpid() cannot reap it -- the
old daemon blocked there for good.  Now the other checks keep running on
time, /api/status answers, the process is reported once ("will not die;
abandoned"), and it is reaped once the tracer lets go."""

import ctypes
import http.client
import json
import os
import time

import pytest

import folab
import mxflab
import net

ZONE = "stuck.test."
PTRACE_SEIZE = 0x4206
WALL = 0x40000000  # __WALL
GRACE_S = 3.0      # PROC_KILL_GRACE_MS

PLUGIN = """#!/bin/sh
# Sticks once (sleeps, for the tracer to catch it) when asked to, else OK.
if [ -e {d}/stick ]; then
    rm -f {d}/stick
    echo $$ > {d}/pid.tmp && mv {d}/pid.tmp {d}/pid
    exec sleep 60
fi
echo "OK plugin"
exit 0
"""


@pytest.fixture(scope="module")
def xlab(tmp_path_factory):
    lab, key = mxflab.keyed_lab(str(tmp_path_factory.mktemp("named-stuck")), "k-stuck",
                                [ZONE])
    with lab.running():
        yield lab, key


def status(port, timeout=2.0):
    """/api/status as a dict, or None when it does not answer in @timeout."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", "/api/status")
        r = conn.getresponse()
        return json.loads(r.read().decode()) if r.status == 200 else None
    except (OSError, ValueError, http.client.HTTPException):
        return None
    finally:
        conn.close()


def seize(pid):
    libc = ctypes.CDLL(None, use_errno=True)
    libc.ptrace.argtypes = [ctypes.c_long, ctypes.c_long, ctypes.c_void_p, ctypes.c_void_p]
    libc.ptrace.restype = ctypes.c_long
    if libc.ptrace(PTRACE_SEIZE, pid, None, None) != 0:
        return os.strerror(ctypes.get_errno())
    return None


def proc_state(pid):
    """The one-letter state of @pid, None when it is gone."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0]
    except OSError:
        return None


def test_stuck_plugin_never_blocks_loop(mxf_bin, xlab, tmp_path):
    lab, key = xlab
    d = str(tmp_path)
    plugin = tmp_path / "plug.sh"
    plugin.write_text(PLUGIN.format(d=d))
    plugin.chmod(0o755)
    mx1, mx2 = folab.MailServer().start(), folab.MailServer().start()
    http_port = net.free_port(udp=True)
    servers = [("mx1", "127.0.0.1", mxflab.MX1, [mx1.url, "exec:%s" % plugin]),
               ("mx2", "127.0.0.1", mxflab.MX2, [mx2.url])]
    # fall 3: the one round the stuck plugin fails does not move DNS.
    cfg = folab.write_fo_config(
        str(tmp_path / "mxf.conf"), lab.port, key.path, servers, [ZONE],
        records=("mx", "smtp"), rtype=None, group={"failback": None, "hold_down": "0"},
        dns_timeout=None, general={"status_listen": "127.0.0.1:%d" % http_port,
                                   "timeout": "2s", "fall": "3"})
    daemon = folab.Daemon(mxf_bin, cfg, str(tmp_path / "d.log")).start()
    pid = None
    traced = False
    try:
        net.wait_until(lambda: (lambda s: s and s["daemon"]["rounds"] >= 2)(
            status(http_port)), 20, "two rounds")
        cname0 = lab.cname("mx." + ZONE)
        (tmp_path / "stick").write_text("")
        net.wait_until(lambda: (tmp_path / "pid").exists(), 10, "the plugin to stick")
        pid = int((tmp_path / "pid").read_text())
        why = seize(pid)
        if why is not None:
            pytest.skip("cannot ptrace the plugin: %s" % why)
        traced = True
        t_stuck = time.monotonic()

        # The check's deadline (2 s) kills it; it dies but cannot be
        # reaped.  Meanwhile rounds go on and /api/status answers, every
        # time it is asked.
        net.wait_until(lambda: proc_state(pid) == "Z", 10, "SIGKILL to the plugin")
        s = status(http_port)
        assert s is not None, "no /api/status while the plugin is unreapable"
        rounds = s["daemon"]["rounds"]
        deadline = time.monotonic() + GRACE_S + 6
        answers = 0
        while time.monotonic() < deadline:
            s = status(http_port)
            assert s is not None, "/api/status hung: the loop is blocked"
            answers += 1
            if s["daemon"]["rounds"] >= rounds + 4 and \
                    "will not die" in daemon.log():
                break
            time.sleep(0.3)
        assert s["daemon"]["rounds"] >= rounds + 4, (rounds, s["daemon"])
        log = daemon.log()
        needle = "process %d (plugin plug.sh) will not die" % pid
        assert log.count(needle) == 1, log[-3000:]
        assert time.monotonic() - t_stuck >= GRACE_S
        # It is still ours and still unreaped: abandoned, not forgotten.
        assert proc_state(pid) == "Z"
        # The other checks ran on time: no server went down, DNS untouched.
        bad = [e for e in s.get("events", [])
               if e.get("event") in ("server_down", "isolated", "switched")]
        assert not bad, bad
        assert lab.cname("mx." + ZONE) == cname0

        # The tracer lets go: the daemon reaps it.
        os.waitpid(pid, WALL)
        traced = False
        net.wait_until(lambda: proc_state(pid) is None, 10, "the daemon to reap it")
        time.sleep(1.5)
        assert daemon.log().count(needle) == 1
    finally:
        if traced:
            try:
                os.kill(pid, 9)
                os.waitpid(pid, WALL)
            except OSError:
                pass
        rc, err = daemon.finish()
        mx1.stop()
        mx2.stop()
    assert rc == 0, err[-3000:]
    assert not mxflab.sanitizer_report(err), err[-5000:]
