"""`status --plugin` (issue 11, "Command line"): the daemon's real state as
the one line of the Monitoring Plugins convention that Nagios and Icinga
run -- "MXFAILOVER STATE - text | perfdata", perfdata as
'label'=value[UOM];[warn];[crit];[min];[max], exit 0 OK, 1 WARNING,
2 CRITICAL, 3 UNKNOWN -- beside `status`'s own exit codes, which stay.

A real named; TCP listeners as the mail servers and the witness.
"""

import json
import re

import pytest

import folab
import mxflab
import net

ZONE = "plugin.test."
MX1, MX2 = mxflab.MX1, mxflab.MX2

# One perfdata item (Monitoring Plugins development guidelines): a quoted
# label without '=' or "'", a number or U, a unit of s % B KB MB TB c or
# none, then warn;crit;min;max, each a range or empty.
PERF = re.compile(r"'([^'=]+)'=(U|-?[0-9]+(?:\.[0-9]+)?)(s|%|B|KB|MB|TB|c)?"
                  r";([0-9:~@.]*);([0-9:~@.]*);([0-9.]*);([0-9.]*)$")


@pytest.fixture(scope="module")
def plab(tmp_path_factory):
    lab, key = mxflab.keyed_lab(str(tmp_path_factory.mktemp("named-plugin")), "k-plugin",
                                [ZONE])
    with lab.running():
        yield lab, key


@pytest.fixture
def servers():
    socks = {"mx1": net.tcp_listener(), "mx2": net.tcp_listener(),
             "witness": net.tcp_listener()}
    yield socks
    for s in socks.values():
        s.close()


def port(sock):
    return sock.getsockname()[1]


def write_cfg(path, lab, key, servers, witness=False, failback="auto"):
    general = {}
    if witness:
        general["witness"] = "tcp://127.0.0.1:%d" % port(servers["witness"])
    for r in ("mx", "smtp"):
        lab.nsupdate("update delete %s.%s CNAME\nupdate add %s.%s 300 CNAME %s\nsend\n"
                     % (r, ZONE, r, ZONE, MX1), key=key)
    return folab.write_fo_config(
        str(path), lab.port, key.path,
        folab.tcp_servers(port(servers["mx1"]), port(servers["mx2"])), [ZONE],
        records=("mx", "smtp"), rtype=None, group={"failback": failback, "hold_down": "0"},
        general=general, dns_timeout=None)


def plugin(run, cfg):
    """@return (exit code, state word, text, {label: (value, unit, warn,
    crit, min, max)}), having checked the line's form."""
    rc, out, err = run(["status", "--plugin"], config=cfg)
    lines = out.splitlines()
    assert len(lines) == 1, out + err
    m = re.match(r"MXFAILOVER (OK|WARNING|CRITICAL|UNKNOWN) - (.*?)(?: \| (.*))?$", lines[0])
    assert m, lines[0]
    assert rc == {"OK": 0, "WARNING": 1, "CRITICAL": 2, "UNKNOWN": 3}[m.group(1)], (rc, out)
    perf = {}
    for item in (m.group(3) or "").split(" '"):
        if not item:
            continue
        item = item if item.startswith("'") else "'" + item
        p = PERF.match(item)
        assert p, "perfdata item %r of %r" % (item, lines[0])
        perf[p.group(1)] = p.groups()[1:]
    return rc, m.group(1), m.group(2), perf


def test_no_state_is_unknown(run, plab, servers, tmp_path):
    lab, key = plab
    cfg = write_cfg(tmp_path / "mxf.conf", lab, key, servers)
    rc, word, text, perf = plugin(run, cfg)
    assert (rc, word) == (3, "UNKNOWN")
    assert "no state yet" in text
    # Plain `status` keeps its own code for this.
    assert run(["status"], config=cfg)[0] == 1


def test_bad_config_is_unknown(run, tmp_path):
    cfg = tmp_path / "bad.conf"
    cfg.write_text("[general]\nintervall = 1s\n")
    rc, word, text, perf = plugin(run, str(cfg))
    assert (rc, word) == (3, "UNKNOWN")
    assert "config check" in text


def test_ok_then_failed_over_then_critical(run, plab, servers, tmp_path):
    lab, key = plab
    cfg = write_cfg(tmp_path / "mxf.conf", lab, key, servers)
    assert run(["once"], config=cfg)[0] == 0
    rc, word, text, perf = plugin(run, cfg)
    assert (rc, word) == (0, "OK"), text
    assert "group mail on mx1" in text and "2 of 2 servers up" in text, text
    assert perf["servers_up"] == ("2", None, "", "", "0", "2"), perf
    assert perf["groups_failed_over"][0] == "0" and perf["groups_all_down"][0] == "0"
    assert perf["isolated"][0] == "0"
    value, unit, warn, crit, mn, mx = perf["state_age"]
    assert unit == "s" and 0 <= int(value) <= 5 and int(crit) > 0, perf
    for label in ("mx1 tcp", "mx2 tcp"):
        value, unit = perf[label][:2]
        assert unit == "s" and 0 <= float(value) < 1.0, perf

    servers["mx1"].close()
    assert run(["once"], config=cfg)[0] == 1
    assert lab.cname("mx." + ZONE) == MX2
    rc, word, text, perf = plugin(run, cfg)
    assert (rc, word) == (1, "WARNING"), text
    assert "degraded: mx1 down; group mail FAILED OVER to mx2; 1 of 2" in text, text
    assert "1 of 2 servers up" in text, text
    assert perf["servers_up"][0] == "1" and perf["groups_failed_over"][0] == "1", perf
    assert run(["status"], config=cfg)[0] == 1   # plain status: degraded, as before

    servers["mx2"].close()
    assert run(["once"], config=cfg)[0] == 4
    rc, word, text, perf = plugin(run, cfg)
    assert (rc, word) == (2, "CRITICAL"), text
    assert "every server of group mail is down" in text, text
    assert perf["groups_all_down"][0] == "1" and perf["servers_up"][0] == "0", perf
    assert run(["status"], config=cfg)[0] == 4


def test_manual_failback_stays_warning_while_all_up(run, plab, servers, tmp_path):
    """Every server is up again, but the group still runs on its backup
    (failback = manual): plain status says 0, the plugin says WARNING."""
    lab, key = plab
    cfg = write_cfg(tmp_path / "mxf.conf", lab, key, servers, failback="manual")
    assert run(["once"], config=cfg)[0] == 0
    rc, out, err = run(["unpin", "mx1"], config=cfg)
    assert rc == 0 and "mx1 is not pinned" in out, out + err
    assert run(["pin", "mx1", "down"], config=cfg)[0] == 0
    run(["once"], config=cfg)
    assert lab.cname("mx." + ZONE) == MX2
    rc, out, err = run(["unpin", "mx1"], config=cfg)
    assert rc == 0 and "server mx1 unpinned" in out, out + err
    assert run(["once"], config=cfg)[0] == 0
    assert lab.cname("mx." + ZONE) == MX2
    assert run(["status"], config=cfg)[0] == 0
    rc, word, text, perf = plugin(run, cfg)
    assert (rc, word) == (1, "WARNING"), text
    assert "FAILED OVER to mx2 (mx1 up)" in text and "2 of 2 servers up" in text, text


def test_isolated_is_warning_and_stale_is_critical(run, plab, servers, tmp_path):
    lab, key = plab
    cfg = write_cfg(tmp_path / "mxf.conf", lab, key, servers, witness=True)
    assert run(["once"], config=cfg)[0] == 0
    servers["witness"].close()
    run(["once"], config=cfg)
    rc, word, text, perf = plugin(run, cfg)
    assert (rc, word) == (1, "WARNING"), text
    assert "isolated" in text and perf["isolated"][0] == "1", (text, perf)

    path = tmp_path / "state.json"
    j = json.loads(path.read_text())
    j["saved_ms"] -= 3600 * 1000
    path.write_text(json.dumps(j))
    rc, word, text, perf = plugin(run, cfg)
    assert (rc, word) == (2, "CRITICAL"), text
    assert "is the daemon running?; last known: group mail on mx1" in text, text
    assert 3599 <= int(perf["state_age"][0]) <= 3700, perf
    assert run(["status"], config=cfg)[0] == 6


def test_plugin_and_json_exclude_each_other(run, tmp_path):
    rc, out, err = run(["status", "--plugin", "--json"])
    assert rc == 2 and "choose one" in err


def test_record_changed_by_hand_is_not_ok(run, plab, servers, tmp_path):
    """Every server up, but a record someone repointed by hand is left
    alone: failover no longer protects it, so neither `status` nor the
    plugin says all is well."""
    lab, key = plab
    cfg = write_cfg(tmp_path / "mxf.conf", lab, key, servers)
    assert run(["once"], config=cfg)[0] == 0
    assert plugin(run, cfg)[3]["records_changed_by_hand"] == ("0", None, "0", "", "0", "2")
    lab.nsupdate("update delete mx.%s CNAME\nupdate add mx.%s 300 CNAME elsewhere.example.org.\n"
                 "send\n" % (ZONE, ZONE), key=key)
    run(["once"], config=cfg)
    rc, out, err = run(["status"], config=cfg)
    assert rc == 1, out + err
    assert "group mail: mx.%s changed by hand, left alone" % ZONE in out, out
    rc, word, text, perf = plugin(run, cfg)
    assert (rc, word) == (1, "WARNING"), text
    assert "mx.%s changed by hand" % ZONE in text, text
    assert perf["records_changed_by_hand"][0] == "1", perf


def test_running_daemon_then_stopped(mxf_bin, run, plab, servers, tmp_path):
    """With `run` writing the state every round the plugin says OK; once the
    daemon is gone the state ages past 3 x max(fall, rise) x interval and the
    plugin says CRITICAL, naming the likely cause."""
    lab, key = plab
    cfg = write_cfg(tmp_path / "mxf.conf", lab, key, servers)
    d = folab.Daemon(mxf_bin, cfg, str(tmp_path / "d.log")).start()
    try:
        got = net.wait_until(lambda: (lambda r: r if r[0] == 0 else None)(plugin(run, cfg)),
                             15, "the plugin to say OK")
        rc, word, text, perf = got
        assert "group mail on mx1; 2 of 2 servers up" in text, text
        assert perf["mx1 tcp"][0] != "U" and perf["mx2 tcp"][0] != "U", perf
    finally:
        rc_d, log = d.finish()
    assert rc_d == 0, log
    rc, word, text, perf = net.wait_until(
        lambda: (lambda r: r if r[0] == 2 else None)(plugin(run, cfg)), 10,
        "the plugin to call the stopped daemon's state stale")
    assert word == "CRITICAL" and "is the daemon running?" in text, text
