"""DNS_Failover compatibility (issue 4): its config.cfg, unchanged in form,
through $DNSFAILOVER_CONFIG, and `mxfailover once` doing its job against a
real named that accepts unsigned updates by address.

mx1 is 127.0.0.31, mx2 127.0.0.32, each with TCP listeners on the [PORTS]
smtp/imaps/https/mysql ports; the three SSH checks meet a stand-in `ssh`
put first on PATH that answers df, test -S and HD_fsck.sh per host.  "mx1
powered off" uses an address in a network namespace made by the test
whose packets are dropped.

DNS_Failover's config has no state_file key, so mxfailover keeps its state
in the default /var/lib/mxfailover; each pass runs in a private mount
namespace with a temporary directory bound over /var/lib, so the host's
/var/lib is never touched.
"""

import json
import os
import re
import shutil
import subprocess
import time

import pytest

import folab
import mxflab
import net

MX1_FQDN, MX2_FQDN = "mx1.example.com.", "mx2.example.com."
RECS = mxflab.MAIL_RECORDS
Z1, Z2 = "dnsf1.test.", "dnsf2.test."
Z2_RECS = ("mx", "smtp", "imap")          # mail and pop3 do not exist in zone2
LINE = re.compile(r"^\d\d\.\d\d\.\d{4} \d\d:\d\d:\d\d \[(INFO|WARNING|ERROR|DEBUG|CRITICAL)"
                  r" *\] \[[\w.]+\] .+")

FAKE_SSH = r"""#!/bin/sh
# Stand-in for ssh: answers DNS_Failover's three remote commands per host.
dir=$(dirname "$0")
while [ $# -gt 0 ] && [ "$1" != "--" ]; do shift; done
dest=$2; cmd=$3; host=${dest#*@}
echo "$host $cmd" >> "$dir/calls"
case "$host" in 198.1[89].*) exec sleep 30 ;; esac
if [ -e "$dir/down-$host" ]; then
  echo "ssh: connect to host $host port 22: Connection refused" >&2; exit 255
fi
case "$cmd" in
  "df -P"*) printf 'Filesystem 1024-blocks Used Available Capacity Mounted on\n/dev/sda3 1000 420 580 42%% /var\n' ;;
  "test -S"*) echo OK ;;
  *HD_fsck.sh*) echo 0 ;;
  *) echo "unexpected command: $cmd" >&2; exit 127 ;;
esac
"""


def can_unshare():
    if shutil.which("unshare") is None:
        return False
    p = subprocess.run(["unshare", "-m", "--propagation", "private", "true"],
                       capture_output=True, timeout=10)
    return p.returncode == 0


pytestmark = pytest.mark.skipif(not can_unshare(),
                                reason="needs `unshare -m` (root) to keep the default "
                                       "state file out of the host's /var/lib")


@pytest.fixture(scope="module")
def named(tmp_path_factory):
    d = tmp_path_factory.mktemp("named-dnsf")
    lab = mxflab.NamedLab(str(d))
    lab.add_zone(Z1, records=[(r, "CNAME", MX1_FQDN, 300) for r in RECS],
                 update_addresses=["127.0.0.1"])
    lab.add_zone(Z2, records=[(r, "CNAME", MX1_FQDN, 300) for r in Z2_RECS],
                 update_addresses=["127.0.0.1"])
    with lab.running():
        yield lab


class Site:
    """The two mail servers: four listeners each on the [PORTS] ports."""

    def __init__(self, addr1="127.0.0.31", addr2="127.0.0.32"):
        self.ports = {}
        for svc in ("smtp", "imaps", "https", "mysql", "ssh"):
            self.ports[svc] = net.free_port(addr1)
        self.srv = {}
        for name, addr in (("mx1", addr1), ("mx2", addr2)):
            self.srv[name] = {svc: folab.MailServer(addr, self.ports[svc])
                              for svc in ("smtp", "imaps", "https", "mysql")}
        for s in self.all():
            s.start()

    def all(self):
        return [s for d in self.srv.values() for s in d.values()]

    def close(self):
        for s in self.all():
            s.stop()


@pytest.fixture
def site():
    s = Site()
    yield s
    s.close()


def write_cfg(path, lab, site, logfile, mxip1="127.0.0.31", mxip2="127.0.0.32",
              partition="/var/", user="root"):
    text = """# Ini configuration file for the failover program DNS_Failover.py
[ZONES]
zone1 = {z1}
zone2 = {z2}

[MX]
mxip1 = {ip1}
mxip2 = {ip2}
mx1 = mx1.example.com
mx2 = mx2.example.com

[RECORDS]
record_mx = mx
record_smtp = smtp
record_imap = imap
record_mail = mail
record_pop3 = pop3

[PORTS]
smtp = {smtp}
imaps = {imaps}
https = {https}
mysql = {mysql}
port1 = {ssh}
port2 = {ssh}

[SETTINGS]
ttl = 60
ns = 127.0.0.1:{dns}
logfile = {log}
space_limit = 97
partition = {partition}
user = {user}

[MAIL]
sender_email = noreply@example.com
recipient_email = recipient@dnsf1.test
port = {smtp}
use_tls = false
username = user
password = pass
""".format(z1=Z1.rstrip("."), z2=Z2.rstrip("."), ip1=mxip1, ip2=mxip2, dns=lab.port,
           log=logfile, partition=partition, user=user, **site.ports)
    with open(path, "w") as f:
        f.write(text)
    return path


@pytest.fixture
def env(tmp_path):
    bindir = tmp_path / "bin"
    bindir.mkdir()
    ssh = bindir / "ssh"
    ssh.write_text(FAKE_SSH)
    ssh.chmod(0o755)
    varlib = tmp_path / "varlib"
    varlib.mkdir()
    return {"bindir": bindir, "varlib": varlib, "log": tmp_path / "bind.log",
            "cfg": tmp_path / "config.cfg"}


def once(mxf_bin, env, timeout=60):
    """`mxfailover once` with DNSFAILOVER_CONFIG, the stand-in ssh first on
    PATH, and /var/lib replaced by a temporary directory.
    @return (rc, stdout, stderr, seconds)."""
    e = mxflab.sanitizer_env(dict(os.environ, DNSFAILOVER_CONFIG=str(env["cfg"]),
                                  PATH="%s:%s" % (env["bindir"], os.environ.get("PATH", ""))))
    e.pop("MXFAILOVER_CONFIG", None)
    argv = ["unshare", "-m", "--propagation", "private", "sh", "-c",
            'mount --bind "$0" /var/lib && exec "$@"', str(env["varlib"]), mxf_bin, "once"]
    t0 = time.monotonic()
    p = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, env=e,
                       stdin=subprocess.DEVNULL)
    secs = time.monotonic() - t0
    mark = mxflab.sanitizer_report(p.stderr)
    assert mark is None, p.stderr
    return p.returncode, p.stdout, p.stderr, secs


def z1(lab):
    return {r: lab.cname(r + "." + Z1) for r in RECS}


def z2(lab):
    return {r: lab.cname(r + "." + Z2) for r in RECS}


def expect(target):
    return ({r: target for r in RECS},
            {r: (target if r in Z2_RECS else None) for r in RECS})


def log_text(env):
    try:
        return env["log"].read_text()
    except FileNotFoundError:
        return ""


def test_dnsfailover_all_healthy_mx1_dies_mx1_returns(named, site, env, mxf_bin):
    lab = named
    write_cfg(env["cfg"], lab, site, env["log"])
    s1, s2 = lab.serial(Z1), lab.serial(Z2)
    rc, out, err, secs = once(mxf_bin, env)
    assert rc == 0, err + log_text(env)
    assert (z1(lab), z2(lab)) == expect(MX1_FQDN)
    assert (lab.serial(Z1), lab.serial(Z2)) == (s1, s2)
    calls = (env["bindir"] / "calls").read_text()
    for host in ("127.0.0.31", "127.0.0.32"):
        assert "%s df -P '/var/'" % host in calls, calls
        assert "%s test -S '/var/run/mysqld/mysqld.sock'" % host in calls, calls
        assert "%s /usr/local/bin/HD_fsck.sh" % host in calls, calls

    # mx1 dies: its IMAPS port closes (any check failing is enough).
    site.srv["mx1"]["imaps"].stop()
    rc, out, err, secs = once(mxf_bin, env)
    assert rc == 1, err + log_text(env)
    assert (z1(lab), z2(lab)) == expect(MX2_FQDN)
    assert (lab.serial(Z1), lab.serial(Z2)) == (s1 + 1, s2 + 1)
    log = log_text(env)
    lines = [l for l in log.splitlines() if l.strip()]
    assert lines, "nothing logged to the DNS_Failover logfile"
    bad = [l for l in lines if not LINE.match(l)]
    assert not bad, bad
    assert "mx2" in log

    # mx1 is back.
    site.srv["mx1"]["imaps"].start()
    rc, out, err, secs = once(mxf_bin, env)
    assert rc == 0, err + log_text(env)
    assert (z1(lab), z2(lab)) == expect(MX1_FQDN)
    assert (lab.serial(Z1), lab.serial(Z2)) == (s1 + 2, s2 + 2)

    # mx1's SSH fails (the disk/socket/fsck checks cannot run): it is failed.
    (env["bindir"] / "down-127.0.0.31").write_text("")
    rc, out, err, secs = once(mxf_bin, env)
    assert rc == 1, err + log_text(env)
    assert (z1(lab), z2(lab)) == expect(MX2_FQDN)
    (env["bindir"] / "down-127.0.0.31").unlink()
    rc, out, err, secs = once(mxf_bin, env)
    assert rc == 0
    assert (z1(lab), z2(lab)) == expect(MX1_FQDN)


def test_dnsfailover_mx1_powered_off(named, site, env, mxf_bin):
    lab = named
    try:
        dead = folab.DeadHost()
    except OSError as e:
        pytest.skip("cannot make a network namespace to drop mx1's packets: %s" % e)
    try:
        write_cfg(env["cfg"], lab, site, env["log"], mxip1=dead.address)
        assert (z1(lab), z2(lab)) == expect(MX1_FQDN)
        rc, out, err, secs = once(mxf_bin, env)
        assert (z1(lab), z2(lab)) == expect(MX2_FQDN), err + log_text(env)
        assert rc == 1, err + log_text(env)
        # Every check of mx1 times out (default timeout 5 s), concurrently:
        # about one timeout for the pass, not minutes.
        assert secs < 9.0, secs
        log = log_text(env)
        assert dead.address in log, log
    finally:
        dead.close()
    # mx1 back on its usual address: back to mx1.
    write_cfg(env["cfg"], lab, site, env["log"])
    rc, out, err, secs = once(mxf_bin, env)
    assert rc == 0, err + log_text(env)
    assert (z1(lab), z2(lab)) == expect(MX1_FQDN)


# Issue 9 point 11: the SSH checks made from [SETTINGS] are validated like
# native check URLs, each error at the line of its key, before anything runs.
@pytest.mark.parametrize("key,value,why", [
    ("partition", "/var/my data", "space in URL"),
    ("partition", "/var;reboot", "unsafe on a remote command line"),
    ("user", "-oProxyCommand=x", "bad user name '-oProxyCommand=x'"),
], ids=["partition-with-space", "partition-shell", "user-option"])
def test_dnsfailover_bad_ssh_settings_refused(named, site, env, mxf_bin, key, value, why):
    lab = named
    write_cfg(env["cfg"], lab, site, env["log"], **{key: value})
    text = env["cfg"].read_text()
    line = text.splitlines().index("%s = %s" % (key, value)) + 1
    s1, s2 = lab.serial(Z1), lab.serial(Z2)
    rc, out, err = mxflab.run_mxf(mxf_bin, ["config", "check"], config=str(env["cfg"]),
                                  timeout=30)[:3]
    assert rc == 2, "config check accepted %s = %s:\n%s%s" % (key, value, out, err)
    want = "%s:%d: [SETTINGS] %s: '%s'" % (env["cfg"], line, key, value)
    msgs = [l for l in err.splitlines() if l.startswith(want)]
    assert msgs and why in msgs[0], err
    assert len(msgs) == 1, err            # once, not once per server or check
    # `once` refuses it too: no check runs (the stand-in ssh is never
    # called), DNS is untouched.
    rc, out, err, secs = once(mxf_bin, env)
    assert rc == 2, err + log_text(env)
    assert want in err, err
    assert not (env["bindir"] / "calls").exists()
    assert (lab.serial(Z1), lab.serial(Z2)) == (s1, s2)


def _events(env):
    path = env["varlib"] / "mxfailover" / "state.json"
    with open(path) as f:
        return json.load(f)["events"]


def test_dnsfailover_missing_zone1_record_reported_once(named, site, env, mxf_bin):
    """A record of zone1 that does not exist is reported (DNS_Failover
    switches all of zone1's): one warning and one record_missing event for
    the streak, over several `once` passes; the others still switch."""
    lab = named
    owner = "mail." + Z1
    r = lab.nsupdate("update delete %s CNAME\nsend\n" % owner)
    assert r.returncode == 0, r.stderr
    try:
        assert lab.cname(owner) is None
        write_cfg(env["cfg"], lab, site, env["log"])
        for _ in range(3):
            rc, out, err, secs = once(mxf_bin, env)
            assert rc == 0, err + log_text(env)
        log = log_text(env)
        warned = [l for l in log.splitlines() if "does not exist" in l]
        assert len(warned) == 1, log
        assert LINE.match(warned[0]) and "WARNING" in warned[0], warned
        assert owner in warned[0] and Z1 in warned[0], warned
        missing = [e for e in _events(env) if e["event"] == "record_missing"]
        assert len(missing) == 1, _events(env)
        assert missing[0]["zone"] == Z1 and missing[0]["record"] == "mail", missing
        # zone2 lacks mail and pop3 by design: never reported.
        assert Z2 not in " ".join(e["detail"] for e in missing)
        # mx1 fails: the records that exist switch, the missing one is not
        # created, and is not reported again.
        site.srv["mx1"]["imaps"].stop()
        rc, out, err, secs = once(mxf_bin, env)
        assert rc == 1, err + log_text(env)
        want1, want2 = expect(MX2_FQDN)
        want1["mail"] = None
        assert (z1(lab), z2(lab)) == (want1, want2)
        assert [e["event"] for e in _events(env)].count("record_missing") == 1
        site.srv["mx1"]["imaps"].start()
        rc, out, err, secs = once(mxf_bin, env)
        assert rc == 0, err + log_text(env)
    finally:
        lab.nsupdate("update delete %s CNAME\nupdate add %s 300 CNAME %s\nsend\n"
                     % (owner, owner, MX1_FQDN))
    # Back: the streak is over; nothing new is said while it exists.
    rc, out, err, secs = once(mxf_bin, env)
    assert rc == 0, err + log_text(env)
    assert [e["event"] for e in _events(env)].count("record_missing") == 1
    assert (z1(lab), z2(lab)) == expect(MX1_FQDN)
