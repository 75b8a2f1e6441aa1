"""MX groups switch by reordering preferences (issue 10), end to end with
`mxfailover run` against a real named: after failover the new active server
holds the lowest preference and the dead one is still in the set behind
it; failback restores the group's order; a host outside the group keeps
its value; the order survives a restart; a set changed by hand into an
order mxfailover does not write is left alone and reported.

The MX set is read from named with dnspython over UDP and TCP.  Every
daemon is stopped at teardown; every wait is bounded.
"""

import os
import time

import pytest

import folab
import mxflab
import net

MX1, MX2, MX3 = folab.MX1, folab.MX2, "mx3.example.com."
BACKUP = "backup.example.org."
ZONES = ["order", "restart", "hand", "plan"]
START = ["10 " + MX1, "20 " + MX2, "30 " + MX3, "40 " + BACKUP]


def zname(short):
    return "%s.fo-mx.test." % short


def mx_records():
    recs = [("@", "MX", v, 300) for v in START]
    return recs + [("www", "A", "192.0.2.80", 300)]


@pytest.fixture(scope="module")
def named(tmp_path_factory):
    lab = mxflab.NamedLab(str(tmp_path_factory.mktemp("named-fo-mx")))
    key = lab.add_key("k-fo-mx", "hmac-sha256")
    for z in ZONES:
        lab.add_zone(zname(z), records=mx_records(), update_keys=[key])
    with lab.running():
        yield lab, key


@pytest.fixture
def mx():
    servers = {"mx1": folab.MailServer("127.0.0.21"), "mx2": folab.MailServer("127.0.0.22"),
               "mx3": folab.MailServer("127.0.0.23")}
    for s in servers.values():
        s.start()
    yield servers
    for s in servers.values():
        s.stop()


@pytest.fixture
def cfg(named, mx, tmp_path):
    lab, key = named

    def _cfg(zones, name="mxf.conf", **kw):
        servers = [("mx1", "127.0.0.21", MX1, [mx["mx1"].url]),
                   ("mx2", "127.0.0.22", MX2, [mx["mx2"].url]),
                   ("mx3", "127.0.0.23", MX3, [mx["mx3"].url])]
        return folab.write_fo_config(str(tmp_path / name), lab.port, key.path, servers,
                                     [zname(z) for z in zones], records=("@",), rtype="MX",
                                     **kw)

    return _cfg


@pytest.fixture
def daemon(mxf_bin, tmp_path):
    started = []

    def _start(config, name="daemon.log"):
        d = folab.Daemon(mxf_bin, config, str(tmp_path / name)).start()
        started.append(d)
        return d

    yield _start
    for d in started:
        d.stop(timeout=5)
    for d in started:
        mark = mxflab.sanitizer_report(d.log())
        assert mark is None, "sanitizer report (%s):\n%s" % (mark, d.log()[-4000:])


def mx_set(lab, short, tcp=False):
    """{target: preference} of the zone's apex MX set, as named serves it."""
    r = lab.query(zname(short), "MX", tcp=tcp)
    out = {}
    for rrset in r.answer:
        for rd in rrset:
            out[rd.exchange.to_text()] = rd.preference
    return out


def expect(*order):
    """The set with the group's hosts in @order at 10, 20, 30, the backup at 40."""
    d = {host: 10 * (i + 1) for i, host in enumerate(order)}
    d[BACKUP] = 40
    return d


def wait_set(lab, short, want, timeout):
    return net.wait_until(lambda: mx_set(lab, short) == want, timeout, step=0.05)


def lowest(s):
    return min(s, key=s.get)


def test_mx_reorder_failover_and_failback(named, mx, cfg, daemon):
    lab, _ = named
    c = cfg(["order"])
    serial = lab.serial(zname("order"))
    d = daemon(c)
    time.sleep(1.5)
    assert mx_set(lab, "order") == expect(MX1, MX2, MX3)
    assert lab.serial(zname("order")) == serial              # nothing at start-up

    mx["mx1"].stop()
    assert wait_set(lab, "order", expect(MX2, MX1, MX3), 6), (mx_set(lab, "order"), d.log())
    # Every host is still there, each once; UDP and TCP agree.
    for tcp in (False, True):
        s = mx_set(lab, "order", tcp=tcp)
        assert sorted(s) == sorted([MX1, MX2, MX3, BACKUP]), s
        assert lowest(s) == MX2 and len(set(s.values())) == 4, s
    assert lab.serial(zname("order")) == serial + 1          # one UPDATE

    # mx2 dies too: mx3 first, then mx1 and mx2 in group order.
    mx["mx2"].stop()
    assert wait_set(lab, "order", expect(MX3, MX1, MX2), 6), (mx_set(lab, "order"), d.log())

    # Both back: the group's order, the outside backup never touched.
    mx["mx1"].start()
    mx["mx2"].start()
    assert wait_set(lab, "order", expect(MX1, MX2, MX3), 6), (mx_set(lab, "order"), d.log())
    time.sleep(1.2)
    assert lab.serial(zname("order")) == serial + 3
    assert mx_set(lab, "order", tcp=True) == expect(MX1, MX2, MX3)
    assert d.stop() == 0
    log = d.log()
    assert "switched back" in log and "changed by hand" not in log, log


def test_mx_order_survives_restart(named, mx, cfg, daemon):
    """Failed over, the daemon restarts (state file kept, then lost): the
    set is recognised as ours and failback still restores the order."""
    lab, _ = named
    c = cfg(["restart"])
    d = daemon(c)
    time.sleep(1.2)
    mx["mx1"].stop()
    assert wait_set(lab, "restart", expect(MX2, MX1, MX3), 6), d.log()
    d.kill9()
    serial = lab.serial(zname("restart"))
    d2 = daemon(c, name="daemon2.log")
    time.sleep(2.5)
    assert mx_set(lab, "restart") == expect(MX2, MX1, MX3)
    assert lab.serial(zname("restart")) == serial
    assert d2.stop() == 0
    assert "changed by hand" not in d2.log(), d2.log()
    # Without any state: the order is derived from the group's servers line.
    os.unlink(os.path.join(os.path.dirname(c), "state.json"))
    mx["mx1"].start()
    d3 = daemon(c, name="daemon3.log")
    assert wait_set(lab, "restart", expect(MX1, MX2, MX3), 8), d3.log()
    assert d3.stop() == 0
    assert "changed by hand" not in d3.log(), d3.log()


def test_mx_hand_changed_order_left_alone(named, mx, cfg, daemon):
    """An operator writes the old duplicate layout (10 mx2, 20 mx2): not an
    order mxfailover writes, so it is left alone and reported once; handed
    back in one of its orders, the group switches it again."""
    lab, key = named
    z = zname("hand")
    c = cfg(["hand"])
    d = daemon(c)
    time.sleep(1.2)
    r = lab.nsupdate("zone %s\nupdate delete %s MX\nupdate add %s 300 MX 10 %s\n"
                     "update add %s 300 MX 20 %s\nsend\n" % (z, z, z, MX2, z, MX2), key=key)
    assert r.returncode == 0, r.stderr
    serial = lab.serial(z)
    mx["mx1"].stop()
    assert net.wait_until(lambda: "changed by hand" in d.log(), 6), d.log()
    time.sleep(1.5)
    assert lab.rrset_values(z, "MX") == ["10 " + MX2, "20 " + MX2]
    assert lab.serial(z) == serial                          # left alone
    assert d.log().count("warning: changed by hand:") == 1, d.log()
    assert "not an MX set group mail writes" in d.log()
    assert d.stop() == 0
    # Handed back to what mxfailover last wrote there (mx1's order), the
    # daemon started again with mx1 still down: it switches the set.
    r = lab.nsupdate("zone %s\nupdate delete %s MX\n%s\nsend\n"
                     % (z, z, "\n".join("update add %s 300 MX %d %s" % (z, p, h)
                                        for h, p in expect(MX1, MX2, MX3).items())), key=key)
    assert r.returncode == 0, r.stderr
    d = daemon(c, name="daemon2.log")
    assert wait_set(lab, "hand", expect(MX2, MX1, MX3), 8), (mx_set(lab, "hand"), d.log())
    mx["mx1"].start()
    assert wait_set(lab, "hand", expect(MX1, MX2, MX3), 8), (mx_set(lab, "hand"), d.log())
    assert d.stop() == 0
    assert "changed by hand" not in d.log(), d.log()


def test_mx_plan_shows_the_reorder(named, mx, cfg, run):
    """`plan` names the whole set before and after, and changes nothing."""
    lab, _ = named
    c = cfg(["plan"], general={"fall": "1", "rise": "1"})
    mx["mx1"].stop()
    serial = lab.serial(zname("plan"))
    rc, out, err = run(["plan"], config=c)
    assert "group mail (MX, failback auto): change" in out, out + err
    # Both sets in preference order: the order mail tries them in.
    assert ("change %s MX 10 %s, 20 %s, 30 %s, 40 %s -> 10 %s, 20 %s, 30 %s, 40 %s"
            % (zname("plan"), MX1, MX2, MX3, BACKUP, MX2, MX1, MX3, BACKUP)) in out, out
    assert lab.serial(zname("plan")) == serial
