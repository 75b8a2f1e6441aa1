"""The Debian package (debian/, `./dev package`): built once per session
into dist/ unless one is there ($MXF_DEB names another), extracted with
`dpkg -x` into a scratch root.  Its files, units, sample configuration and
maintainer scripts are where Debian wants them, the extracted binary runs
and accepts the sample configuration, the sysusers and tmpfiles entries
create the mxfailover user and its directories in the scratch root, the
packaged units verify and rate OK, and lintian finds no error."""

import glob
import os
import re
import shutil
import subprocess

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
TOOLS = ["dpkg-deb", "dpkg-buildpackage", "lintian", "systemd-analyze"]

pytestmark = pytest.mark.skipif(
    any(shutil.which(t) is None for t in TOOLS),
    reason="needs %s (Debian: dpkg-dev debhelper lintian systemd; ./dev deps)" % ", ".join(TOOLS))

FILES = {
    "usr/sbin/mxfailover": 0o755,
    "usr/share/man/man8/mxfailover.8.gz": 0o644,
    "usr/share/man/man5/mxfailover.conf.5.gz": 0o644,
    "lib/systemd/system/mxfailover.service": 0o644,
    "lib/systemd/system/mxfailover-once.service": 0o644,
    "lib/systemd/system/mxfailover-once.timer": 0o644,
    "usr/lib/tmpfiles.d/mxfailover.conf": 0o644,
    "usr/lib/sysusers.d/mxfailover.conf": 0o644,
    "etc/mxfailover/mxfailover.conf": 0o644,
    "etc/logrotate.d/mxfailover": 0o644,
    "usr/share/doc/mxfailover/copyright": 0o644,
}


def sh(args, timeout=120, **kw):
    return subprocess.run(args, capture_output=True, text=True, timeout=timeout, **kw)


@pytest.fixture(scope="module")
def deb():
    """The .deb under test: $MXF_DEB, else dist/'s, else built now (about
    two minutes on two cores)."""
    if os.environ.get("MXF_DEB"):
        return os.environ["MXF_DEB"]
    found = sorted(glob.glob(os.path.join(ROOT, "dist", "mxfailover_*.deb")))
    if not found:
        p = sh([os.path.join(ROOT, "dev"), "package"], timeout=900, cwd=ROOT)
        assert p.returncode == 0, p.stdout[-3000:] + p.stderr[-3000:]
        found = sorted(glob.glob(os.path.join(ROOT, "dist", "mxfailover_*.deb")))
    assert found, "no dist/mxfailover_*.deb after ./dev package"
    return found[-1]


@pytest.fixture(scope="module")
def root(deb, tmp_path_factory):
    r = str(tmp_path_factory.mktemp("pkgroot"))
    p = sh(["dpkg", "-x", deb, r])
    assert p.returncode == 0, p.stderr
    return r


@pytest.fixture(scope="module")
def control(deb, tmp_path_factory):
    d = str(tmp_path_factory.mktemp("pkgcontrol"))
    p = sh(["dpkg-deb", "-e", deb, d])
    assert p.returncode == 0, p.stderr
    return d


def read(path):
    with open(path) as f:
        return f.read()


def test_package_files(root):
    for rel, mode in FILES.items():
        path = os.path.join(root, rel)
        assert os.path.isfile(path), "missing from the package: /" + rel
        assert os.stat(path).st_mode & 0o7777 == mode, "/%s mode %o" % (
            rel, os.stat(path).st_mode & 0o7777)
    unit = read(os.path.join(root, "lib/systemd/system/mxfailover.service"))
    assert re.search(r"^ExecStart=/usr/sbin/mxfailover run$", unit, re.M), unit
    assert re.search(r"^Type=notify$", unit, re.M) and re.search(r"^WatchdogSec=", unit, re.M)
    once = read(os.path.join(root, "lib/systemd/system/mxfailover-once.service"))
    assert re.search(r"^ExecStart=/usr/sbin/mxfailover once$", once, re.M), once
    assert "OnUnitActiveSec=" in read(os.path.join(root, "lib/systemd/system/mxfailover-once.timer"))
    assert "/var/log/mxfailover/*.log" in read(os.path.join(root, "etc/logrotate.d/mxfailover"))


def test_package_binary_runs(root):
    binary = os.path.join(root, "usr/sbin/mxfailover")
    p = sh([binary, "--version"], timeout=30)
    assert p.returncode == 0, p.stderr
    assert re.search(r"\b0\.1\.0\b", p.stdout + p.stderr), p.stdout + p.stderr
    conf = os.path.join(root, "etc/mxfailover/mxfailover.conf")
    p = sh([binary, "-c", conf, "config", "check"], timeout=30)
    assert p.returncode == 0, p.stdout + p.stderr
    assert "configuration OK" in p.stdout, p.stdout


def test_package_maintainer_scripts(control):
    conffiles = read(os.path.join(control, "conffiles")).split()
    assert "/etc/mxfailover/mxfailover.conf" in conffiles
    assert "/etc/logrotate.d/mxfailover" in conffiles
    postinst = read(os.path.join(control, "postinst"))
    # The user before the directories it owns.
    users, dirs = postinst.find("systemd-sysusers"), postinst.find("systemd-tmpfiles")
    assert 0 <= users < dirs, postinst
    # Nothing starts or is enabled on install (dh_installsystemd --no-enable
    # --no-start): the sample names no real server.  The enabling snippet
    # lacks the "debian-installed" guard of the --no-enable one.
    assert "deb-systemd-invoke" not in postinst, postinst
    for unit in ("mxfailover.service", "mxfailover-once.timer"):
        assert "deb-systemd-helper debian-installed '%s'" % unit in postinst, postinst
    fields = read(os.path.join(control, "control"))
    assert re.search(r"^Depends:.*libsystemd0", fields, re.M), fields


def test_package_user_and_directories(root, tmp_path):
    """sysusers then tmpfiles, as postinst runs them, in a scratch root."""
    scratch = str(tmp_path / "sys")
    os.makedirs(os.path.join(scratch, "etc"))
    p = sh(["systemd-sysusers", "--root=" + scratch,
            os.path.join(root, "usr/lib/sysusers.d/mxfailover.conf")])
    assert p.returncode == 0, p.stderr
    pw = [l.split(":") for l in read(os.path.join(scratch, "etc/passwd")).splitlines()]
    user = [e for e in pw if e[0] == "mxfailover"]
    assert user and user[0][5] == "/var/lib/mxfailover" and user[0][6] == "/usr/sbin/nologin"
    p = sh(["systemd-tmpfiles", "--root=" + scratch, "--create",
            os.path.join(root, "usr/lib/tmpfiles.d/mxfailover.conf")])
    assert p.returncode == 0, p.stderr
    for d in ("var/lib/mxfailover", "var/log/mxfailover"):
        st = os.stat(os.path.join(scratch, d))
        assert st.st_uid == int(user[0][2]) and st.st_mode & 0o777 == 0o750, d


def test_package_units_verify_and_score(root, tmp_path):
    """The packaged units, with ExecStart= pointing into the scratch root
    (verify wants the program to exist; the host has none installed)."""
    binary = os.path.join(root, "usr/sbin/mxfailover")
    paths = []
    for u in ("mxfailover.service", "mxfailover-once.service", "mxfailover-once.timer"):
        text = read(os.path.join(root, "lib/systemd/system", u))
        dst = str(tmp_path / u)
        with open(dst, "w") as f:
            f.write(text.replace("/usr/sbin/mxfailover", binary))
        paths.append(dst)
    p = sh(["systemd-analyze", "verify", "--man=no"] + paths, cwd=str(tmp_path))
    assert p.returncode == 0 and not (p.stdout + p.stderr).strip(), p.stdout + p.stderr
    for path in paths[:2]:
        p = sh(["systemd-analyze", "security", "--offline=yes", "--no-pager", path])
        m = re.search(r"Overall exposure level for \S+: (\d+\.\d+) (\w+)", p.stdout)
        assert m and float(m.group(1)) <= 3.0 and m.group(2) == "OK", p.stdout + p.stderr


def test_package_lintian(deb):
    p = sh(["lintian", "--fail-on", "error", "--no-tag-display-limit", deb], timeout=300)
    errors = [l for l in p.stdout.splitlines() if l.startswith("E:")]
    print(p.stdout)
    assert not errors and p.returncode == 0, p.stdout + p.stderr
