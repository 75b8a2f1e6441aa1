"""System tests of `mxfailover probe`'s ssh-disk, ssh-socket and ssh-fsck
checks: once with a stand-in ssh client that answers by the remote command,
once with the system ssh client against a real OpenSSH server
(tests/lib/mailservers.py's Sshd).  Split from test_probe.py.
"""

import json
import os
import subprocess

import pytest

from mxflab import assert_down


# ------------------------------------------------------------------- ssh --

FAKE_SSH = """#!/bin/sh
# A stand-in for ssh: records its argv, answers by the remote command.
printf '%s\\n' "$@" > "$(dirname "$0")/argv"
for last; do :; done
case "$last" in
  "df -P '/var/full'") printf 'Filesystem 1024-blocks Used Available Capacity Mounted on\\n/dev/sda1 1000 970 30 97%% /var\\n' ;;
  "df -P '/var'") printf 'Filesystem 1024-blocks Used Available Capacity Mounted on\\n/dev/sda1 1000 420 580 42%% /var\\n' ;;
  "df -P '/odd'") echo 'df: something odd' ;;
  "test -S '/run/dovecot/auth' && echo OK") echo OK ;;
  "test -S '/run/none' && echo OK") exit 1 ;;
  "fsck -n '/dev/sdb1'") echo 'fsck from util-linux'; exit 4 ;;
  "/opt/clean_fsck.sh") echo 0 ;;
  "/opt/damaged_fsck.sh") echo 2 ;;
  *) echo 'Host key verification failed.' >&2; exit 255 ;;
esac
"""


def test_ssh_checks_with_a_stand_in_client(timed_run, tmp_path):
    bindir = tmp_path / "bin"
    bindir.mkdir()
    ssh = bindir / "ssh"
    ssh.write_text(FAKE_SSH)
    ssh.chmod(0o755)
    env = dict(os.environ, PATH=f"{bindir}:{os.environ.get('PATH', '')}")
    urls = ["ssh-disk://monitor@127.0.0.1/var?limit=95", "ssh-disk://127.0.0.1:2222/var/full?limit=95",
            "ssh-disk://127.0.0.1/odd", "ssh-socket://127.0.0.1/run/dovecot/auth",
            "ssh-socket://127.0.0.1/run/none", "ssh-fsck://127.0.0.1/dev/sdb1",
            "ssh-disk://127.0.0.1/unknown",
            # DNS_Failover's HD_fsck.sh convention: prints 0 when clean.
            "ssh-fsck://root@127.0.0.1/?script=/opt/clean_fsck.sh",
            "ssh-fsck://root@127.0.0.1/?script=/opt/damaged_fsck.sh"]
    rc, out, err, secs = timed_run(["probe", "--json"] + urls, env=env)
    res = json.loads(out)
    assert [r["state"] for r in res] == ["up", "down", "down", "up", "down", "down", "down",
                                         "up", "down"], res
    assert '"2"' in res[8]["reason"], res[8]
    assert "42%" in res[0]["reason"] and "97%" in res[1]["reason"]
    assert "unexpected df output" in res[2]["reason"]
    assert "no socket" in res[4]["reason"]
    assert "exit status 4" in res[5]["reason"]
    assert res[6]["reason"] == "ssh: Host key verification failed."
    argv = (bindir / "argv").read_text().splitlines()
    assert "BatchMode=yes" in argv and "StrictHostKeyChecking=yes" in argv


# ------------------------------------------------------- ssh, real sshd --
#
# A real OpenSSH server on 127.0.0.1 with its own host key, and a client key
# whose authorized_keys line forces one command, as a monitoring key on a
# mail server would.  The probe runs the system ssh client unchanged, with
# host key checking on.  ssh reads ~/.ssh/known_hosts and ~/.ssh/id_ed25519
# from the home directory of the passwd entry, not from $HOME, so the probe
# runs in a private mount namespace (unshare -m) where that directory is a
# bind mount of the test's own: nothing outside the test is read or changed.

FORCED_COMMAND = """#!/bin/sh
# The forced command of the monitoring key: log, then run only what the
# ssh-* checks send.
printf '%s\\n' "$SSH_ORIGINAL_COMMAND" >> "{log}"
case "$SSH_ORIGINAL_COMMAND" in
  "df -P '"*"'" | "test -S '"*"' && echo OK") exec /bin/sh -c "$SSH_ORIGINAL_COMMAND" ;;
  *) echo "refused by the forced command" >&2; exit 1 ;;
esac
"""


@pytest.fixture(scope="module")
def real_sshd(tmp_path_factory):
    import pwd

    import mailservers

    if not os.access(mailservers.SSHD, os.X_OK):
        pytest.skip("openssh-server is not installed (no %s)" % mailservers.SSHD)
    if os.geteuid() != 0:
        pytest.skip("needs root: sshd's privilege separation and a private mount namespace")
    if subprocess.run(["unshare", "-m", "true"], capture_output=True, timeout=10).returncode != 0:
        pytest.skip("unshare -m (a private mount namespace) is not available")
    d = tmp_path_factory.mktemp("sshd")
    sshd = mailservers.Sshd(d, FORCED_COMMAND)
    try:
        sshd.open()
    except mailservers.ServerExited as e:
        sshd.close()
        pytest.skip("sshd exited at start: %s" % str(e)[-500:])
    except mailservers.LabError as e:
        sshd.close()
        pytest.fail("sshd did not listen within 10 s: %s" % str(e)[-500:])
    try:
        # port: the right key.  port2: no key known.  localhost:port: another key.
        yield {"dir": d, "home": str(sshd.home), "port": sshd.port, "port2": sshd.port2,
               "pw_dir": pwd.getpwuid(os.getuid()).pw_dir}
    finally:
        sshd.close()


def _probe_with_ssh_home(mxf_bin, sshd, urls, timeout=90):
    import mxflab
    import time

    script = 'mount --bind "$1" "$2" && shift 2 && exec "$@"'
    argv = ["unshare", "-m", "sh", "-c", script, "sh", sshd["home"], sshd["pw_dir"],
            # A real ssh handshake per URL, all at once, under ASan on a busy
            # 2-core machine: give them room; this test is about verdicts.
            mxf_bin, "probe", "--json", "--timeout", "30s"] + list(urls)
    t0 = time.monotonic()
    p = subprocess.run(argv, capture_output=True, text=True, timeout=timeout,
                       env=mxflab.sanitizer_env(None), stdin=subprocess.DEVNULL)
    mark = mxflab.sanitizer_report(p.stderr)
    assert mark is None, p.stderr
    assert p.stdout.strip(), p.stderr
    return p.returncode, json.loads(p.stdout), time.monotonic() - t0


def _df_percent(path):
    out = subprocess.run(["df", "-P", str(path)], capture_output=True, text=True,
                         check=True, timeout=10).stdout.splitlines()
    return int(out[1].split()[4].rstrip("%"))


def test_real_sshd_disk_socket_and_host_keys(mxf_bin, real_sshd, tmp_path):
    import socket

    port, port2 = real_sshd["port"], real_sshd["port2"]
    disk = tmp_path / "spool"
    disk.mkdir()
    pct = _df_percent(disk)
    sockdir = tmp_path / "run"
    sockdir.mkdir()
    us = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    us.bind(str(sockdir / "auth.sock"))
    us.listen(1)
    target = f"root@127.0.0.1:{port}"
    urls = [f"ssh-disk://{target}{disk}?limit={min(pct + 1, 100)}",
            f"ssh-disk://{target}{disk}?limit={max(pct, 1)}",
            f"ssh-socket://{target}{sockdir}/auth.sock",
            f"ssh-socket://{target}{sockdir}/none.sock",
            f"ssh-socket://root@127.0.0.1:{port2}{sockdir}/auth.sock",
            f"ssh-socket://root@localhost:{port}{sockdir}/auth.sock"]
    try:
        rc, res, secs = _probe_with_ssh_home(mxf_bin, real_sshd, urls)
    finally:
        us.close()
    assert rc == 1
    # df of a real file system: up below the limit, down at it.
    if pct < 100:
        assert res[0]["state"] == "up", res[0]
        assert f"is {pct}% full (limit {pct + 1}%)" in res[0]["reason"], res[0]
    if pct >= 1:
        assert res[1]["state"] == "down", res[1]
        assert f"is {pct}% full (limit {pct}%)" in res[1]["reason"], res[1]
    assert res[2]["state"] == "up" and res[2]["reason"] == f"socket {sockdir}/auth.sock exists", res[2]
    assert res[3]["state"] == "down" and res[3]["reason"] == f"no socket at {sockdir}/none.sock", res[3]
    # No key known for that host:port: ssh refuses, the check says why.
    assert_down(res[4], "exec", f"ssh: No ED25519 host key is known for [127.0.0.1]:{port2}")
    assert res[4]["reason"].endswith("(Host key verification failed.)"), res[4]
    # A different key known for it: the warning banner is skipped for the line that matters.
    assert_down(res[5], "exec", f"ssh: Host key for [localhost]:{port} has changed")
    # The forced command saw exactly the fixed commands of the checks that logged in.
    commands = (real_sshd["dir"] / "commands").read_text().splitlines()
    assert f"df -P '{disk}'" in commands
    assert f"test -S '{sockdir}/auth.sock' && echo OK" in commands
    assert f"test -S '{sockdir}/none.sock' && echo OK" in commands
    # Two df runs, unless both limits made one URL (an empty or full disk).
    assert len(commands) == (4 if urls[0] != urls[1] else 3), commands
    assert secs < 20
