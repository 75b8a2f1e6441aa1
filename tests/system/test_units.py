"""The systemd units of contrib/: `systemd-analyze verify` finds nothing to
say about them, and `systemd-analyze security --offline=yes` rates both
services 3.0 or lower ("OK"), so the hardening cannot quietly rot.  The
units' @SBINDIR@ is replaced by the directory of the binary under test, as
meson install would with its sbindir (verify wants ExecStart= to exist)."""

import os
import re
import shutil
import json
import subprocess

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
CONTRIB = os.path.join(os.path.dirname(os.path.dirname(HERE)), "contrib")
UNITS = ["mxfailover.service", "mxfailover-once.service", "mxfailover-once.timer"]
MAX_EXPOSURE = 3.0

pytestmark = pytest.mark.skipif(shutil.which("systemd-analyze") is None,
                                reason="systemd-analyze is not installed (Debian: systemd)")


def units_in(tmp_path, sbindir):
    for u in UNITS:
        src = os.path.join(CONTRIB, u + ".in")
        if not os.path.exists(src):
            src = os.path.join(CONTRIB, u)
        with open(src) as f:
            text = f.read().replace("@SBINDIR@", sbindir)
        assert not re.search(r"@[A-Z]+@", text), "unsubstituted @VAR@ in " + u
        with open(os.path.join(str(tmp_path), u), "w") as f:
            f.write(text)
    return [os.path.join(str(tmp_path), u) for u in UNITS]


def verify(paths, cwd):
    # --man=no: the man pages are not installed where man(1) looks while
    # testing from the tree (test_package.py checks they are in the .deb).
    return subprocess.run(["systemd-analyze", "verify", "--man=no"] + paths, cwd=cwd,
                          capture_output=True, text=True, timeout=60)


def exposure(path):
    """@return (score, the whole report) of systemd-analyze security."""
    p = subprocess.run(["systemd-analyze", "security", "--offline=yes", "--no-pager", path],
                       capture_output=True, text=True, timeout=60)
    m = re.search(r"Overall exposure level for \S+: (\d+\.\d+) (\w+)", p.stdout)
    assert m, p.stdout + p.stderr
    return float(m.group(1)), m.group(2), p.stdout


def test_units_verify_clean(mxf_bin, tmp_path):
    paths = units_in(tmp_path, os.path.dirname(os.path.abspath(mxf_bin)))
    p = verify(paths, str(tmp_path))
    assert p.returncode == 0 and p.stdout.strip() == "" and p.stderr.strip() == "", \
        p.stdout + p.stderr


def test_units_verify_notices_a_broken_unit(mxf_bin, tmp_path):
    """The check above can fail: a misspelt directive is reported."""
    paths = units_in(tmp_path, os.path.dirname(os.path.abspath(mxf_bin)))
    with open(paths[0], "a") as f:
        f.write("ProtectSystm=strict\n")
    p = verify(paths, str(tmp_path))
    assert "ProtectSystm" in p.stdout + p.stderr


@pytest.mark.parametrize("unit", ["mxfailover.service", "mxfailover-once.service"])
def test_units_security_score(mxf_bin, tmp_path, unit):
    paths = units_in(tmp_path, os.path.dirname(os.path.abspath(mxf_bin)))
    score, word, report = exposure(paths[UNITS.index(unit)])
    print("%s: exposure %.1f %s" % (unit, score, word))
    assert score <= MAX_EXPOSURE, report
    assert word == "OK", report
    # What the daemon's checks need is still allowed: ssh and plugins run as
    # children (no NoExecPaths), the network families are the four it uses.
    with open(paths[UNITS.index(unit)]) as f:
        text = f.read()
    assert re.search(r"^RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX AF_NETLINK$", text, re.M)
    assert re.search(r"^User=mxfailover$", text, re.M)
    assert re.search(r"^StateDirectory=mxfailover$", text, re.M)
    assert "NoExecPaths" not in text


def test_meson_install(mxf_bin, tmp_path):
    """`meson install` of the build the binary under test comes from puts
    the binary, both man pages and everything of contrib/ in place, with
    ExecStart= naming the installed binary."""
    build = os.path.dirname(os.path.dirname(os.path.abspath(mxf_bin)))
    if not os.path.isdir(os.path.join(build, "meson-info")):
        pytest.skip("%s is not a meson build directory" % build)
    info = subprocess.run(["meson", "introspect", "--buildoptions", build],
                          capture_output=True, text=True, timeout=60)
    opts = {o["name"]: o["value"] for o in json.loads(info.stdout)}
    prefix, sbindir = opts["prefix"], opts["sbindir"]
    sysconf = os.path.join(prefix, opts["sysconfdir"])
    dest = str(tmp_path / "dest")
    p = subprocess.run(["meson", "install", "-C", build, "--destdir", dest, "--no-rebuild",
                        "--quiet"], capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stdout + p.stderr

    def at(path):
        return os.path.join(dest, path.lstrip("/"))

    sbin = os.path.join(prefix, sbindir, "mxfailover")
    assert os.access(at(sbin), os.X_OK)
    for man in ("share/man/man8/mxfailover.8", "share/man/man5/mxfailover.conf.5"):
        assert os.path.isfile(at(os.path.join(prefix, man))), man
    units = glob_one(dest, "mxfailover.service")
    unitdir = os.path.dirname(units)
    for u in UNITS:
        assert os.path.isfile(os.path.join(unitdir, u)), u
    with open(units) as f:
        assert "ExecStart=%s run\n" % sbin in f.read()
    for rel in ("tmpfiles.d/mxfailover.conf", "sysusers.d/mxfailover.conf"):
        assert glob_one(dest, rel), rel
    assert os.path.isfile(at(os.path.join(sysconf, "mxfailover", "mxfailover.conf")))
    assert os.path.isfile(at("/etc/logrotate.d/mxfailover"))
    # Nothing of the tests or fuzzers is installed.
    installed = [os.path.relpath(os.path.join(d, f), dest)
                 for d, _, fs in os.walk(dest) for f in fs]
    assert not [f for f in installed if "fuzz" in f or "test_" in f or "layer_check" in f], \
        installed


def glob_one(root, tail):
    for d, _, fs in os.walk(root):
        for f in fs:
            path = os.path.join(d, f)
            if path.endswith("/" + tail):
                return path
    return None
