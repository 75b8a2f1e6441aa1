"""The backup MX's queue (issue 11): `mxfailover queue` and the daemon read a
real Postfix backup MX's queue with `postqueue -j` over a real OpenSSH
server, through the forced-command key the man page documents.

The lab is the zero-loss test's (tests/system/test_zero_loss.py): a test
SMTP receiver as the primary, a real Postfix relaying the domain to it as
the backup.  While the primary is down, mail queues (deferred) at the
backup; `mxfailover queue` counts it and names the oldest; the daemon reads
it at the failover and shows it in /api/status, /metrics and on the
dashboard; after failback and ETRN the queue drains and the queue_flush
notice says so.  Fault cases: ssh refused, a host key not known, output
that is not postqueue's, a flood of output (bounded).

ssh reads ~/.ssh of the passwd entry's home, not $HOME, so every mxfailover
here runs in a private mount namespace (unshare -m) where that directory is
a bind mount of the test's own (as in test_probe_ssh.py).
"""

import json
import os
import re
import shutil
import smtplib
import subprocess
import time
import urllib.request

import pytest

import folab
import mailservers
import mxflab
import net
from smtpsink import SmtpSink

_WHY_NOT = mailservers.why_not((mailservers.POSTFIX, mailservers.OPENSSL, mailservers.SSHD),
                               "Postfix and sshd need root to start")
pytestmark = [
    pytest.mark.skipif(_WHY_NOT is not None, reason=_WHY_NOT or ""),
]

DOMAIN = "lab.test"
ZONE = DOMAIN + "."
MX1, MX2 = mxflab.MX1, mxflab.MX2
COUNT = 6

# The forced command of the monitoring key: only `postqueue -j`, run for the
# lab's Postfix instance; a mode file lets a test make it misbehave.
FORCED_COMMAND = """#!/bin/sh
printf '%s\\n' "$SSH_ORIGINAL_COMMAND" >> "{log}"
[ "$SSH_ORIGINAL_COMMAND" = "postqueue -j" ] || {{ echo "refused by the forced command" >&2; exit 1; }}
mode=$(cat "$(dirname "{log}")/mode" 2>/dev/null)
case "$mode" in
  garbage) echo "<html>this is not postqueue</html>" ;;
  stuck) echo '{{"queue_name": "hold", "queue_id": "H1", "arrival_time": 1000000000, "message_size": 10, "sender": "s@x.test", "recipients": [{{"address": "held@lab.test", "delay_reason": "held by the admin"}}]}}' ;;
  flood)
    line='{{"queue_name": "deferred", "queue_id": "F", "arrival_time": 1000, "message_size": 1, "recipients": [{{"address": "u@lab.test"}}]}}'
    l8="$line
$line
$line
$line
$line
$line
$line
$line"
    i=0; while [ $i -lt 20000 ]; do printf '%s\\n' "$l8"; i=$((i+1)); done ;;
  *) exec "$(cat "$(dirname "{log}")/postqueue")" -c "$(cat "$(dirname "{log}")/confdir")" -j ;;
esac
"""


@pytest.fixture(scope="module")
def sshd(tmp_path_factory):
    import pwd

    if subprocess.run(["unshare", "-m", "true"], capture_output=True, timeout=10).returncode != 0:
        pytest.skip("unshare -m (a private mount namespace) is not available")
    d = tmp_path_factory.mktemp("sshd")
    s = mailservers.Sshd(d, FORCED_COMMAND)
    try:
        s.open()
    except mailservers.ServerExited as e:
        s.close()
        pytest.skip("sshd exited at start: %s" % str(e)[-500:])
    try:
        yield {"dir": d, "home": str(s.home), "port": s.port, "port2": s.port2,
               "pw_dir": pwd.getpwuid(os.getuid()).pw_dir, "log": s.commands_log}
    finally:
        s.close()


def _set_mode(sshd, mode):
    (sshd["dir"] / "mode").write_text(mode)


def _wrapper(tmp_path, sshd):
    """A script that runs its arguments with the test's ~/.ssh in place."""
    w = tmp_path / "in-ssh-home"
    w.write_text('#!/bin/sh\nmount --bind "%s" "%s" || exit 97\nexec "$@"\n'
                 % (sshd["home"], sshd["pw_dir"]))
    w.chmod(0o755)
    return str(w)


def _queue(mxf_bin, wrapper, cfg, args=(), timeout=120):
    argv = ["unshare", "-m", wrapper, mxf_bin, "-c", cfg, "queue"] + list(args)
    p = subprocess.run(argv, capture_output=True, text=True, timeout=timeout,
                       env=mxflab.sanitizer_env(None), stdin=subprocess.DEVNULL)
    assert mxflab.sanitizer_report(p.stderr) is None, p.stderr
    return p.returncode, p.stdout, p.stderr


def _config(tmp_path, lab, key, primary, backup, queue_url, extra="", general=None):
    servers = [("mx1", primary.host, MX1, ["smtp://%s:%d" % (primary.host, primary.port)]),
               ("mx2", backup.host, MX2, ["smtp://%s:%d" % (backup.host, backup.port)])]
    path = str(tmp_path / "mxf.conf")
    folab.write_fo_config(path, lab.port, key.path, servers, [ZONE], records=("mx", "smtp"),
                          rtype=None, general=dict({"timeout": "2s"}, **(general or {})),
                          group={"failback": None, "hold_down": "0", "etrn": "yes"},
                          dns_timeout=None, extra=extra)
    text = open(path).read()
    marker = "checks = smtp://%s:%d\n" % (backup.host, backup.port)
    assert marker in text
    with open(path, "w") as f:
        f.write(text.replace(marker, marker + "queue = %s\n" % queue_url))
    return path


def _send(backup, n, first=0):
    with smtplib.SMTP(backup.host, backup.port, timeout=10) as s:
        s.ehlo()
        for i in range(first, first + n):
            s.sendmail("sender@example.test", ["user%d@%s" % (i, DOMAIN)],
                       "Subject: q %d\r\nMessage-ID: <q%d@test>\r\n\r\nmessage %d\r\n" % (i, i, i))


def _get(port, path):
    with urllib.request.urlopen("http://127.0.0.1:%d%s" % (port, path), timeout=10) as r:
        return r.read().decode()


def test_queue_command_daemon_and_drain_notice(mxf_bin, sshd, tmp_path):
    d = tmp_path / "named"
    d.mkdir()
    lab, key = mxflab.keyed_lab(str(d), "k-bq", [ZONE])
    ca = mailservers.CertAuthority(str(tmp_path / "ca"))
    primary = SmtpSink()
    wrapper = _wrapper(tmp_path, sshd)
    events = tmp_path / "events"
    events.mkdir()
    hook = tmp_path / "hook.sh"
    hook.write_text('#!/bin/sh\nenv | grep ^MXF_ > "%s/$MXF_EVENT.$$"\n' % events)
    hook.chmod(0o755)
    http_port = net.free_port()
    daemon = None
    lab.start()
    try:
        primary.start()
        with mailservers.Postfix(ca=ca, relay_domain=DOMAIN,
                                 relay_to=(primary.host, primary.port)) as backup:
            (sshd["dir"] / "confdir").write_text(backup.config_dir)
            (sshd["dir"] / "postqueue").write_text(mailservers.POSTQUEUE)
            _set_mode(sshd, "")
            cfg = _config(tmp_path, lab, key, primary, backup,
                          "ssh://root@127.0.0.1:%d" % sshd["port"],
                          extra="\n[notify]\nexec = %s\n" % hook,
                          general={"status_listen": "127.0.0.1:%d" % http_port})

            # An empty queue: nothing held, exit 0.
            rc, out, err = _queue(mxf_bin, wrapper, cfg)
            assert rc == 0, (out, err)
            assert "mx2 (ssh://root@127.0.0.1:%d): no mail held for its zones" % sshd["port"] \
                in out, out

            # The primary is down: mail queues (deferred) at the backup.
            primary.stop()
            t_sent = time.time()
            _send(backup, COUNT)
            net.wait_until(lambda: backup.queue_count(("deferred",)) == COUNT, 30,
                           "%d deferred messages at the backup" % COUNT)
            rc, out, err = _queue(mxf_bin, wrapper, cfg)
            assert rc == 1, (out, err)
            assert re.search(r"mx2 \(ssh://root@127\.0\.0\.1:\d+\): %d messages held for its "
                             r"zones, oldest \d+ s ago" % COUNT, out), out
            assert re.search(r"lab\.test +%d messages, %d recipients, oldest .*: .*%s"
                             % (COUNT, COUNT, re.escape(primary.host)), out), out
            rc, out, err = _queue(mxf_bin, wrapper, cfg, ["--json", "mx2"])
            assert rc == 1, err
            (r,) = json.loads(out)
            assert r["server"] == "mx2" and r["ok"] is True and r["truncated"] is False
            assert r["messages"] == COUNT and r["total"] == COUNT
            assert t_sent - 5 <= r["oldest"] <= time.time() + 1, r
            assert r["oldest_time"].endswith("Z")
            (z,) = r["zones"]
            assert z["zone"] == DOMAIN and z["messages"] == COUNT and z["recipients"] == COUNT
            assert "Connection refused" in z["oldest_reason"] or primary.host in z["oldest_reason"], z
            # The forced command was sent exactly `postqueue -j`.
            assert set(open(sshd["log"]).read().split("\n")) <= {"postqueue -j", ""}

            # The daemon, started now, fails over and reads the queue.
            daemon = folab.Daemon("unshare", cfg, str(tmp_path / "daemon.log"),
                                  env=dict(os.environ, MXF_CA_FILE=ca.ca_file),
                                  args=["-m", wrapper, mxf_bin]).start()
            net.wait_until(lambda: lab.cname("mx." + ZONE) == MX2, 30, "failover to mx2")

            def queue_status():
                try:
                    qs = json.loads(_get(http_port, "/api/status")).get("queues") or []
                except OSError:
                    return None
                return qs[0] if qs and qs[0].get("read") else None
            net.wait_until(queue_status, 60, "the daemon's reading of mx2's queue",
                           step=0.2)
            q = queue_status()
            assert q["server"] == "mx2" and q["ok"] is True and q["why"] == "failover", q
            assert q["messages"] == COUNT and q["watching"] is True, q
            metrics = _get(http_port, "/metrics")
            assert 'mxfailover_queue_messages{server="mx2",zone="lab.test"} %d' % COUNT \
                in metrics, metrics
            m = re.search(r'^mxfailover_queue_oldest_seconds\{server="mx2"\} (\d+)$', metrics, re.M)
            assert m and 0 <= int(m.group(1)) < 600, metrics
            assert 'mxfailover_queue_read_success{server="mx2"} 1' in metrics
            if shutil.which("promtool"):
                p = subprocess.run(["promtool", "check", "metrics"], input=metrics, text=True,
                                   capture_output=True, timeout=30)
                queue_lines = [l for l in (p.stdout + p.stderr).splitlines() if "queue" in l]
                assert not queue_lines, p.stdout + p.stderr
            page = _get(http_port, "/")
            assert "Backup queues" in page and "%d messages still held" % COUNT in page, page

            # The primary returns: failback, ETRN, the queue drains, and the
            # queue_flush notice says so.
            primary.start()
            net.wait_until(lambda: lab.cname("mx." + ZONE) == MX1, 30, "failback to mx1")
            net.wait_until(lambda: primary.count() >= COUNT, 30, "all mail at the primary")

            def flush_notice():
                for f in events.glob("queue_flush.*"):
                    env = dict(l.split("=", 1) for l in f.read_text().splitlines() if "=" in l)
                    if env.get("MXF_QUEUE"):
                        return env
                return None
            env = net.wait_until(flush_notice, 90, "the queue_flush notice", step=0.2) \
                or flush_notice()
            assert env["MXF_QUEUE_DRAINED"] == "1", env
            assert env["MXF_QUEUE"] == "no mail left for lab.test", env
            assert env["MXF_SERVER"] == "mx2" and env["MXF_FAILED"] == "0", env
            q = queue_status()
            assert q["messages"] == 0 and q["why"] == "after ETRN" and q["watching"] is False, q
            assert backup.queue_count() == 0
            text = daemon.log()
            assert "queue at mx2 drained: no mail left for lab.test" in text, text[-3000:]
            assert len(primary.messages) == COUNT
    finally:
        rc = daemon.stop(10) if daemon is not None else None
        primary.stop()
        lab.stop()
    assert rc == 0, daemon.log()[-3000:]
    assert not mxflab.sanitizer_report(daemon.log())


def test_queue_not_drained_is_said(mxf_bin, sshd, tmp_path):
    """A backup whose queue keeps mail after ETRN (here: a message on hold):
    the drain check gives up at its bound and the notice says NOT drained."""
    d = tmp_path / "named"
    d.mkdir()
    lab, key = mxflab.keyed_lab(str(d), "k-bq2", [ZONE])
    ca = mailservers.CertAuthority(str(tmp_path / "ca"))
    primary = SmtpSink()
    wrapper = _wrapper(tmp_path, sshd)
    events = tmp_path / "events"
    events.mkdir()
    hook = tmp_path / "hook.sh"
    hook.write_text('#!/bin/sh\nenv | grep ^MXF_ > "%s/$MXF_EVENT.$$"\n' % events)
    hook.chmod(0o755)
    daemon = None
    _set_mode(sshd, "stuck")
    lab.start()
    try:
        primary.start()
        with mailservers.Postfix(ca=ca, relay_domain=DOMAIN,
                                 relay_to=(primary.host, primary.port)) as backup:
            cfg = _config(tmp_path, lab, key, primary, backup,
                          "ssh://root@127.0.0.1:%d" % sshd["port"],
                          extra="\n[notify]\nexec = %s\n" % hook)
            daemon = folab.Daemon("unshare", cfg, str(tmp_path / "daemon.log"),
                                  env=dict(os.environ, MXF_CA_FILE=ca.ca_file),
                                  args=["-m", wrapper, mxf_bin]).start()
            assert lab.cname("mx." + ZONE) == MX1
            primary.stop()
            net.wait_until(lambda: lab.cname("mx." + ZONE) == MX2, 30, "failover to mx2")
            net.wait_until(lambda: "queue at ssh://root@" in daemon.log(), 30,
                           "the reading after the failover")
            assert "1 message for its zones" in daemon.log(), daemon.log()[-2000:]
            primary.start()
            net.wait_until(lambda: lab.cname("mx." + ZONE) == MX1, 30, "failback to mx1")
            t0 = time.monotonic()

            def flush_notice():
                for f in events.glob("queue_flush.*"):
                    env = dict(l.split("=", 1) for l in f.read_text().splitlines() if "=" in l)
                    if env.get("MXF_QUEUE"):
                        return env
                return None
            env = net.wait_until(flush_notice, 90, "the queue_flush notice", step=0.5)
            waited = time.monotonic() - t0
            assert env["MXF_QUEUE_DRAINED"] == "0", env
            assert re.match(r"1 message still held, oldest \d+ d( \d+ h)?, for lab\.test$",
                            env["MXF_QUEUE"]), env
            # The bound: a last look 40 s after ETRN, not sooner, not much later.
            assert 35 < waited < 80, waited
            text = daemon.log()
            assert "queue at mx2 not drained: 1 message still held" in text, text[-3000:]
    finally:
        _set_mode(sshd, "")
        rc = daemon.stop(10) if daemon is not None else None
        primary.stop()
        lab.stop()
    assert rc == 0, daemon.log()[-3000:]
    assert not mxflab.sanitizer_report(daemon.log())


def _once_lab(tmp_path, name):
    """A lab for `once` passes: named, a primary and a backup SMTP receiver
    (ETRN answered 250), an exec hook that keeps each notice's environment."""
    d = tmp_path / "named"
    d.mkdir()
    lab, key = mxflab.keyed_lab(str(d), name, [ZONE])
    events = tmp_path / "events"
    events.mkdir()
    hook = tmp_path / "hook.sh"
    hook.write_text('#!/bin/sh\nenv | grep ^MXF_ > "%s/$MXF_EVENT.$$"\n' % events)
    hook.chmod(0o755)
    return lab, key, events, "\n[notify]\nexec = %s\n" % hook


def _flush_notices(events):
    out = []
    for f in events.glob("queue_flush.*"):
        out.append(dict(l.split("=", 1) for l in f.read_text().splitlines() if "=" in l))
    return out


def _once_failover(timed_run, cfg, lab, primary):
    """A `once` pass with the primary down: the records move to mx2."""
    primary.stop()
    rc, out, err, secs = timed_run(["once"], config=cfg, timeout=90)
    assert lab.cname("mx." + ZONE) == MX2, err
    return err


def test_once_failed_etrn_notice_does_not_wait_for_a_drain(timed_run, tmp_path):
    """`once` after a failback whose ETRN fails (the backup refuses the
    connection): nothing was flushed, so the notice goes out at once, saying
    the flush FAILED, without a drain check of the queue (here a black hole
    that would hold a reading for 30 s; waiting for it used to outlast
    once's wait, and the notice was dropped)."""
    lab, key, events, notify = _once_lab(tmp_path, "k-bq-once1")
    primary, backup = SmtpSink(), SmtpSink()
    hole = net.tcp_listener()          # accepts, never says a word: ssh hangs
    lab.start()
    try:
        primary.start()
        backup.start()
        refused = "ssh://root@127.0.0.1:%d" % net.free_port()
        cfg = _config(tmp_path, lab, key, primary, backup, refused, extra=notify,
                      general={"interval": "60s"})
        _once_failover(timed_run, cfg, lab, primary)
        # The primary is back, the backup is gone: failback, ETRN refused.
        backup.stop()
        primary.start()
        cfg = _config(tmp_path, lab, key, primary, backup,
                      "ssh://root@127.0.0.1:%d" % hole.getsockname()[1], extra=notify,
                      general={"interval": "60s"})
        rc, out, err, secs = timed_run(["once"], config=cfg, timeout=90)
        assert lab.cname("mx." + ZONE) == MX1, err
        (env,) = _flush_notices(events)
        assert env["MXF_FAILED"] == "1" and env["MXF_SERVER"] == "mx2", env
        assert not env.get("MXF_QUEUE"), env        # no drain check
        assert re.search(r"queue flush at \S+ failed: connection refused", err), err
        assert "could not be read" not in err and secs < 20, (secs, err)
    finally:
        hole.close()
        primary.stop()
        backup.stop()
        lab.stop()


def test_once_sends_the_flush_notice_when_the_drain_outlasts_it(timed_run, tmp_path):
    """`once` after a failback whose ETRN is accepted, at a backup whose
    queue cannot be read in time (a black hole: every reading runs to its
    timeout): the drain check's readings are cut to its bound, and when
    once's wait for queue flushes runs out the notice still goes out,
    saying the drain was not checked, before once exits."""
    lab, key, events, notify = _once_lab(tmp_path, "k-bq-once2")
    primary, backup = SmtpSink(), SmtpSink()
    hole = net.tcp_listener()
    lab.start()
    try:
        primary.start()
        backup.start()
        refused = "ssh://root@127.0.0.1:%d" % net.free_port()
        cfg = _config(tmp_path, lab, key, primary, backup, refused, extra=notify,
                      general={"interval": "60s"})
        _once_failover(timed_run, cfg, lab, primary)
        primary.start()
        cfg = _config(tmp_path, lab, key, primary, backup,
                      "ssh://root@127.0.0.1:%d" % hole.getsockname()[1], extra=notify,
                      general={"interval": "60s"})
        rc, out, err, secs = timed_run(["once"], config=cfg, timeout=120)
        assert lab.cname("mx." + ZONE) == MX1, err
        assert any("ETRN" in c for _, c in backup.command_lines()), backup.command_lines()
        notices = _flush_notices(events)
        assert len(notices) == 1, (notices, err)
        (env,) = notices
        assert env["MXF_FAILED"] == "0" and env["MXF_SERVER"] == "mx2", env
        assert "queue drain not checked" in env["MXF_REASON"], env
        assert "250 Queuing started" in env["MXF_REASON"], env
        assert "exiting with notices or queue flushes still pending" not in err, err
        assert secs < 62, (secs, err)
    finally:
        hole.close()
        primary.stop()
        backup.stop()
        lab.stop()


class _NoServer:
    """Stands in for a server in configs of the fault tests."""

    def __init__(self, host, port):
        self.host, self.port = host, port


def _fault_config(tmp_path, queue_url):
    lab = type("L", (), {"port": 1})()
    key = type("K", (), {"path": None})()
    return _config(tmp_path, lab, key, _NoServer("127.0.0.1", 1), _NoServer("127.0.0.2", 1),
                   queue_url)


def test_queue_faults(mxf_bin, sshd, tmp_path):
    wrapper = _wrapper(tmp_path, sshd)

    # Nothing listens: ssh's refusal, exit 3.
    cfg = _fault_config(tmp_path, "ssh://root@127.0.0.1:%d" % net.free_port())
    rc, out, err = _queue(mxf_bin, wrapper, cfg)
    assert rc == 3, (out, err)
    assert "could not read the queue: ssh: connect to host 127.0.0.1 port" in out, out
    assert "Connection refused" in out

    # A server whose host key is not known: refused by host key checking.
    cfg = _fault_config(tmp_path, "ssh://root@127.0.0.1:%d" % sshd["port2"])
    rc, out, err = _queue(mxf_bin, wrapper, cfg, ["--json"])
    assert rc == 3, (out, err)
    (r,) = json.loads(out)
    assert r["ok"] is False and "Host key verification failed" in r["error"], r

    cfg = _fault_config(tmp_path, "ssh://root@127.0.0.1:%d" % sshd["port"])
    # Output that is not postqueue -j's: named, exit 3.
    _set_mode(sshd, "garbage")
    rc, out, err = _queue(mxf_bin, wrapper, cfg)
    assert rc == 3, (out, err)
    assert 'postqueue -j output, line 1: not JSON: "<html>this is not postqueue</html>"' in out, out

    # A flood (some 18 MB): read up to 4 MiB, counted as "at least", in bounded time.
    _set_mode(sshd, "flood")
    t0 = time.monotonic()
    rc, out, err = _queue(mxf_bin, wrapper, cfg, ["--json"])
    secs = time.monotonic() - t0
    assert rc == 1, (out[:500], err)
    (r,) = json.loads(out)
    assert r["ok"] is True and r["truncated"] is True, r
    assert 10000 < r["messages"] < 160000, r
    assert secs < 60, secs
    rc, out, err = _queue(mxf_bin, wrapper, cfg)
    assert "at least" in out and "counts are lower bounds" in out, out
    _set_mode(sshd, "")


def test_queue_usage_errors(run, tmp_path):
    cfg = _fault_config(tmp_path, "ssh://root@127.0.0.1:22")
    rc, out, err = run(["queue", "mx1"], config=cfg)
    assert rc == 2 and "[server mx1] has no queue" in err, err
    rc, out, err = run(["queue", "mx9"], config=cfg)
    assert rc == 2 and "no [server mx9]" in err, err
    rc, out, err = run(["queue", "a", "b"], config=cfg)
    assert rc == 2 and "at most one SERVER" in err, err
    rc, out, err = run(["queue", "--timeout", "forever"], config=cfg)
    assert rc == 2 and "--timeout" in err, err
    rc, out, err = run(["config", "check"], config=cfg)
    assert rc == 0, err
    assert "    queue: postqueue -j as root on 127.0.0.1 port 22 over ssh\n" in out, out
    text = open(cfg).read().replace("queue = ssh://root@", "queue = ssh://")
    with open(cfg, "w") as f:
        f.write(text)
    rc, out, err = run(["config", "check"], config=cfg)
    assert rc == 2 and re.search(r"mxf\.conf:\d+: queue: ssh://USER@HOST\[:PORT\] needs the USER",
                                 err), err
