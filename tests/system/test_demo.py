"""`mxfailover demo`: the README's first command, end to end.

The demo starts its own named, SMTP responders and daemon on loopback, so
these tests need only named installed.  Each asserts what a user sees (the
records at mx1, then at mx2, then at mx1 again, with timings) and that
nothing is left behind: no named, no daemon, no temporary directory.
"""

import os
import re
import signal
import subprocess
import time

import pytest

import mxflab

NAMED = "/usr/sbin/named"
RECORDS = ("mx", "smtp", "imap", "mail", "pop3")
RECORD_RE = re.compile(
    r"^\s+(mx|smtp|imap|mail|pop3)\.demo\.test\.\s+(\d+)\s+IN\s+CNAME\s+(mx[12])\.demo\.test\.$")

pytestmark = pytest.mark.skipif(not os.access(NAMED, os.X_OK),
                                reason="named is not installed")


def record_blocks(out):
    """The dig-style record listings of the output, in order: one dict
    {owner: target} per listing of all five records."""
    blocks, cur = [], {}
    for line in out.splitlines():
        m = RECORD_RE.match(line)
        if m:
            cur[m.group(1)] = m.group(3)
            if len(cur) == len(RECORDS):
                blocks.append(cur)
                cur = {}
        elif cur:
            blocks.append(cur)
            cur = {}
    return blocks


def lab_dir(out):
    m = re.search(r"lab directory (\S+)", out)
    assert m, out
    return m.group(1)


def pid_of(out, what):
    m = re.search(r"%s \(pid (\d+)\)" % what, out)
    return int(m.group(1)) if m else None


def assert_gone(out):
    """No process of the demo and no temporary directory remain."""
    d = lab_dir(out)
    assert not os.path.exists(d), "%s was not removed" % d
    # Every process the demo started has the directory on its command line.
    deadline = time.monotonic() + 2
    left = ""
    while time.monotonic() < deadline:
        left = subprocess.run(["pgrep", "-af", d], capture_output=True,
                              text=True).stdout.strip()
        if not left:
            break
        time.sleep(0.1)
    assert not left, "left running: " + left
    for what in ("named", "run`"):
        pid = pid_of(out, re.escape(what))
        if pid is not None and os.path.exists("/proc/%d" % pid):
            with open("/proc/%d/cmdline" % pid, "rb") as f:
                assert d.encode() not in f.read(), "%s (pid %d) still runs" % (what, pid)


def assert_clean(out, err):
    for text in (out, err):
        mark = mxflab.sanitizer_report(text)
        assert mark is None, "sanitizer report (%s):\n%s\n%s" % (mark, out, err)


def test_demo_shows_failover_and_failback(mxf_bin):
    t0 = time.monotonic()
    rc, out, err, secs = mxflab.run_mxf(mxf_bin, ["demo"], timeout=60)
    assert_clean(out, err)
    assert rc == 0, out + err
    assert secs < 60
    blocks = record_blocks(out)
    # The records at mx1, then at mx2, then at mx1 again.
    targets = [set(b.values()) for b in blocks]
    assert targets == [{"mx1"}, {"mx2"}, {"mx1"}], out
    # Timings relative to the start, and a closing summary.
    assert re.search(r"all five records point at mx2, \d+\.\d s after mx1 stopped", out), out
    assert re.search(r"all five records point back at mx1, \d+\.\d s after", out), out
    m = re.search(r"failover took (\d+\.\d) s, failback took (\d+\.\d) s", out)
    assert m, out
    assert float(m.group(1)) < 20 and float(m.group(2)) < 20
    # The daemon's own log is shown, and it switched exactly twice.
    assert "daemon: " in out
    assert len(re.findall(r"daemon: group mail: zone demo\.test\.: .* \(verified\)", out)) == 2, out
    assert_gone(out)
    assert time.monotonic() - t0 < 60


def test_demo_keep_leaves_the_directory(mxf_bin, tmp_path):
    env = dict(os.environ, TMPDIR=str(tmp_path))
    rc, out, err, _ = mxflab.run_mxf(mxf_bin, ["demo", "--keep"], timeout=60, env=env)
    assert_clean(out, err)
    assert rc == 0, out + err
    d = lab_dir(out)
    assert d.startswith(str(tmp_path) + "/")
    assert "kept the lab directory " + d in out
    for f in ("named.conf", "demo.test.db", "demo.key", "mxfailover.conf", "named.log"):
        assert os.path.exists(os.path.join(d, f)), f
    # The key is private to its owner, as the daemon's key loader demands.
    assert os.stat(os.path.join(d, "demo.key")).st_mode & 0o077 == 0
    conf = open(os.path.join(d, "named.conf")).read()
    assert "listen-on-v6 { none; };" in conf and "recursion no;" in conf
    # Processes are gone even so.
    left = subprocess.run(["pgrep", "-af", d], capture_output=True, text=True).stdout
    assert not left.strip(), left


def test_demo_without_named_says_how_to_get_it(mxf_bin, tmp_path):
    rc, out, err, _ = mxflab.run_mxf(
        mxf_bin, ["demo", "--named", str(tmp_path / "no-named")], timeout=30)
    assert_clean(out, err)
    assert rc == 2
    assert "./dev demo" in err and "apt-get install bind9" in err
    assert not list(tmp_path.iterdir())


def test_demo_named_failing_cleans_up(mxf_bin, tmp_path):
    env = dict(os.environ, TMPDIR=str(tmp_path))
    rc, out, err, _ = mxflab.run_mxf(mxf_bin, ["demo", "--named", "/bin/false"],
                                     timeout=30, env=env)
    assert_clean(out, err)
    assert rc == 1, out + err
    assert "FAILED: named exited" in out
    assert "neither the failover nor the failback was seen" in out
    assert not list(tmp_path.iterdir())


def test_demo_ctrl_c_cleans_up(mxf_bin, tmp_path):
    env = mxflab.sanitizer_env(dict(os.environ, TMPDIR=str(tmp_path)))
    p = subprocess.Popen([mxf_bin, "demo"], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
                         text=True, env=env)
    try:
        # Wait until the lab is up, then interrupt as a terminal would.
        out = ""
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            line = p.stdout.readline()
            if not line:
                break
            out += line
            if "the daemon sees mx1 and mx2 up" in line:
                break
        assert "the daemon sees mx1 and mx2 up" in out, out
        p.send_signal(signal.SIGINT)
        rest, err = p.communicate(timeout=20)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    out += rest
    assert_clean(out, err)
    assert p.returncode == 1, out + err
    assert "interrupted (Ctrl-C): cleaning up" in out
    assert_gone(out)
    assert not list(tmp_path.iterdir())
