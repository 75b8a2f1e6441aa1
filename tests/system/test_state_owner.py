"""Files root creates in the daemon's state directory keep that directory's
owner (state_file_own_like_dir): an administrator who runs `once` or `pin`
as root in /var/lib/mxfailover (owned by the mxfailover user the units run
as) must not leave a state file, lock or pins file that the service can
no longer open.  The directory here belongs to nobody (65534); the
service's side is played by `status` and `pin` run as nobody."""

import os
import pwd
import shutil
import subprocess
import tempfile

import pytest

import folab
import mxflab
import net

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="needs root (to create files as root)")


@pytest.fixture
def open_dir():
    """A directory nobody may read into (pytest's tmp_path is root's 0700)."""
    d = tempfile.mkdtemp(prefix="mxf-owner-")
    os.chmod(d, 0o755)
    yield d
    shutil.rmtree(d, ignore_errors=True)


def test_root_leaves_files_to_the_directory_owner(run, mxf_bin, open_dir):
    nobody = pwd.getpwnam("nobody")
    tmp_path = __import__("pathlib").Path(open_dir)
    state_dir = tmp_path / "state"
    state_dir.mkdir()
    os.chown(str(state_dir), nobody.pw_uid, nobody.pw_gid)
    os.chmod(str(state_dir), 0o750)
    mx1, mx2 = net.tcp_listener(), net.tcp_listener()
    dns_port = net.free_port(udp=True)  # nobody answers: the pass ends with exit 3
    cfg = folab.write_fo_config(
        str(tmp_path / "mxf.conf"), dns_port, None,
        folab.tcp_servers(mx1.getsockname()[1], mx2.getsockname()[1]), ["owner.test."],
        general={"state_file": str(state_dir / "state.json")})
    os.chmod(cfg, 0o644)
    try:
        rc, out, err = run(["pin", "mx2", "down", "--for", "1h"], config=cfg)
        assert rc == 0, err
        rc, out, err = run(["once"], config=cfg)
        assert rc == 3, out + err
    finally:
        mx1.close()
        mx2.close()
    for name in ("state.json", "state.json.zones", "state.json.lock", "state.json.pins",
                 "state.json.pins.lock"):
        st = os.stat(str(state_dir / name))
        assert (st.st_uid, st.st_gid) == (nobody.pw_uid, nobody.pw_gid), \
            "%s belongs to %d:%d" % (name, st.st_uid, st.st_gid)
    # The service's user reads the state and changes the pins.
    env = {"ASAN_OPTIONS": "detect_leaks=0"}  # LSan cannot ptrace after setuid

    def as_nobody():
        os.setgroups([])
        os.setgid(nobody.pw_gid)
        os.setuid(nobody.pw_uid)

    for args in (["status"], ["unpin", "mx2"]):
        p = subprocess.run([mxf_bin, "-c", cfg] + args, capture_output=True, text=True,
                           timeout=30, env=mxflab.sanitizer_env(env), preexec_fn=as_nobody,
                           cwd="/")
        assert "ermission denied" not in p.stdout + p.stderr, p.stdout + p.stderr
        assert not mxflab.sanitizer_report(p.stderr), p.stderr
    assert "mx2" not in open(str(state_dir / "state.json.pins")).read()
