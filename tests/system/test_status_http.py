"""The daemon's status endpoint ([general] status_listen): dashboard,
/api/status and /metrics, against a running `mxfailover run` with a real
named and TCP/SMTP listeners standing in for the mail servers; with
[quorum], the monitors' views there (quorum lost alone, had once a fake
second monitor keeps publishing), promtool taking the quorum families."""

import http.client
import json
import re
import socket
import subprocess
import threading

import pytest

import folab
import mxflab
import net

MX1, MX2 = mxflab.MX1, mxflab.MX2
ZONE = "status.test."
QZONE = "views.status.test."    # the [quorum] views' zone
QMAIL = "qmail.status.test."    # the quorum test's records (ZONE's have failed over)
PROMTOOL = "promtool"


class HostileSmtp:
    """Answers every connection with a 421 banner carrying HTML."""

    def __init__(self):
        self.sock = net.tcp_listener()
        self.port = self.sock.getsockname()[1]
        self.sock.settimeout(0.2)
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._loop, daemon=True)
        self.thread.start()

    def _loop(self):
        while not self.stop.is_set():
            try:
                c, _ = self.sock.accept()
            except socket.timeout:
                continue
            with c:
                try:
                    c.sendall(b"421 <script>alert(1)</script> & go away\r\n")
                except OSError:
                    pass

    def close(self):
        self.stop.set()
        self.thread.join(timeout=2)
        self.sock.close()


@pytest.fixture(scope="module")
def slab(tmp_path_factory):
    lab, key = mxflab.keyed_lab(str(tmp_path_factory.mktemp("named-status")), "k-status",
                                [ZONE, QZONE, QMAIL])
    with lab.running():
        yield lab, key


def get(port, path, method="GET"):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        conn.request(method, path)
        r = conn.getresponse()
        return r.status, r.getheader("Content-Type"), r.read().decode()
    finally:
        conn.close()


def test_status_endpoint(mxf_bin, slab, tmp_path):
    lab, key = slab
    mx1, mx2 = net.tcp_listener(), net.tcp_listener()
    bad = HostileSmtp()
    http_port = net.free_port(udp=True)
    servers = folab.tcp_servers(mx1.getsockname()[1], mx2.getsockname()[1]) + [
        ("mx3", "127.0.0.1", "mx3.example.com", ["smtp://127.0.0.1:%d" % bad.port])]
    cfg = folab.write_fo_config(
        str(tmp_path / "mxf.conf"), lab.port, key.path, servers, [ZONE],
        records=("mx", "smtp"), rtype=None, group={"failback": None, "hold_down": "0"},
        dns_timeout=None, general={"status_listen": "127.0.0.1:%d" % http_port})
    daemon = folab.Daemon(mxf_bin, cfg, str(tmp_path / "d.log")).start()
    try:
        def live():
            try:
                st, ctype, body = get(http_port, "/api/status")
            except OSError:
                return None
            if st != 200:
                return None
            d = json.loads(body)
            return d if d.get("daemon", {}).get("rounds", 0) >= 1 else None

        d = net.wait_until(live, 20, "an /api/status answer")
        assert d is not None, "no /api/status answer"
        assert d["live"] is True
        assert d["quorum"] is None     # no [quorum]
        st, ctype, metrics = get(http_port, "/metrics")
        assert st == 200 and ctype.startswith("text/plain")
        assert 'mxfailover_server_up{server="mx1"} 1' in metrics
        # Unknown is no sample (never -1): mx3 is 0 once its verdict is in.
        assert 'mxfailover_server_up{server="mx3"} 0' in metrics or \
               'mxfailover_server_up{server="mx3"}' not in metrics
        assert " -1\n" not in metrics
        assert "mxfailover_isolated 0" in metrics
        assert "mxfailover_quorum" not in metrics

        # mx1 dies: the records move, and the endpoint says so.
        mx1.close()
        net.wait_until(lambda: lab.cname("mx." + ZONE) == MX2, 20, "failover")
        def moved():
            m = get(http_port, "/metrics")[2]
            return ('mxfailover_group_active{group="mail",server="mx2"} 1' in m and
                    'mxfailover_server_up{server="mx1"} 0' in m) and m
        metrics = net.wait_until(moved, 10, "the metrics to show the failover")
        assert metrics, get(http_port, "/metrics")[2]
        assert 'mxfailover_dns_updates_total{result="ok"} 1' in metrics
        # Prometheus's own linter takes it (HELP, TYPE, names, units).
        r = subprocess.run(["promtool", "check", "metrics"], input=metrics,
                           capture_output=True, text=True, timeout=30)
        assert r.returncode == 0 and not (r.stdout + r.stderr).strip(), r.stdout + r.stderr

        st, ctype, html = get(http_port, "/")
        assert st == 200 and ctype.startswith("text/html")
        assert "mx1" in html and MX2 in html
        # A hostile banner is shown escaped, never as markup.
        assert "<script>" not in html
        assert "&lt;script&gt;" in html
        assert "Monitors" not in html and "quorum" not in html.lower()

        assert get(http_port, "/nope")[0] == 404
        assert get(http_port, "/metrics", method="POST")[0] == 405
        assert get(http_port, "/metrics", method="HEAD")[0] == 200
    finally:
        rc, err = daemon.finish()
        bad.close()
        mx2.close()
    assert rc == 0, err
    assert not mxflab.sanitizer_report(err), err
    assert "status on http://127.0.0.1:%d/" % http_port in err


def promtool_check(metrics):
    r = subprocess.run([PROMTOOL, "check", "metrics"], input=metrics, capture_output=True,
                       text=True, timeout=30)
    assert r.returncode == 0 and not (r.stdout + r.stderr).strip(), r.stdout + r.stderr + metrics


def test_status_endpoint_quorum(mxf_bin, slab, tmp_path):
    """One real monitor mon-a of mon-a other-b other-c, need 2: alone it has
    lost quorum (and says so in the verdict, as `status` does); a fake
    other-b advancing gives it quorum; every answer shows the views."""
    lab, key = slab
    mx1, mx2 = net.tcp_listener(), net.tcp_listener()
    http_port = net.free_port(udp=True)
    cfg = folab.write_fo_config(
        str(tmp_path / "mxf.conf"), lab.port, key.path,
        folab.tcp_servers(mx1.getsockname()[1], mx2.getsockname()[1]), [QMAIL],
        records=("mx", "smtp"), rtype=None, group={"failback": None, "hold_down": "0"},
        dns_timeout=None, general={"status_listen": "127.0.0.1:%d" % http_port},
        extra="[quorum]\nid = mon-a\nmonitors = mon-a other-b other-c\nneed = 2\n"
              "zone = %s\nheartbeat = 1s\nstale = 3s\n" % QZONE)
    other = folab.FakeMonitor(lab, key, QZONE, "other-b", {"mx1": "up", "mx2": "up",
                                                           "mx9": "down"})
    daemon = folab.Daemon(mxf_bin, cfg, str(tmp_path / "d.log")).start()

    def status(pred):
        def ok():
            try:
                st, _, body = get(http_port, "/api/status")
            except OSError:
                return None
            d = json.loads(body) if st == 200 else {}
            return d if d.get("quorum") and pred(d) else None
        d = net.wait_until(ok, 30)
        assert d, daemon.log()[-3000:]
        return d

    def mon(d, mid):
        return {m["id"]: m for m in d["quorum"]["monitors"]}[mid]

    try:
        d = status(lambda d: mon(d, "mon-a")["fresh"])
        q = d["quorum"]
        assert d["verdict"] == "quorum_lost", d["verdict"]
        assert d["groups"]["mail"]["verdict"] == "quorum_lost"
        assert set(q) == {"id", "need", "zone", "have", "fresh", "monitors", "decision",
                          "last_switch"}, q
        assert (q["id"], q["need"], q["zone"], q["have"], q["fresh"]) == \
            ("mon-a", 2, QZONE, False, 1), q
        a = mon(d, "mon-a")
        assert a["self"] is True and a["seq"] >= 1 and re.match(r"^[0-9a-f]{16}$", a["boot"]), a
        assert isinstance(a["age_ms"], int) and isinstance(a["at"], int), a
        assert a["views"] == {"mx1": "up", "mx2": "up"}, a
        b = mon(d, "other-b")
        assert (b["self"], b["fresh"], b["seen"], b["age_ms"], b["at"]) == \
            (False, False, False, None, None), b
        assert q["decision"] == {"mx1": "unknown", "mx2": "unknown"}
        assert q["last_switch"] == {}
        metrics = get(http_port, "/metrics")[2]
        promtool_check(metrics)
        for line in ("mxfailover_quorum_have 0", "mxfailover_quorum_fresh_monitors 1",
                     "mxfailover_quorum_need 2", "mxfailover_quorum_monitors 3",
                     'mxfailover_quorum_monitor_fresh{monitor="mon-a"} 1',
                     'mxfailover_quorum_monitor_fresh{monitor="other-b"} 0',
                     'mxfailover_quorum_view{monitor="mon-a",server="mx1",state="up"} 1',
                     'mxfailover_quorum_view{monitor="mon-a",server="mx1",state="down"} 0',
                     'mxfailover_quorum_view{monitor="other-c",server="mx2",state="unknown"} 1',
                     'mxfailover_quorum_decision{server="mx1",state="unknown"} 1'):
            assert "\n" + line + "\n" in metrics, (line, metrics)
        html = get(http_port, "/")[2]
        assert "<title>QUORUM LOST - mxfailover</title>" in html
        assert "quorum lost: 1 of 3 monitors fresh, need 2: nothing switches" in html

        # other-b's first sighting is not fresh; its next seq is.
        other.publish()
        d = status(lambda d: mon(d, "other-b")["seen"])
        assert not mon(d, "other-b")["fresh"] and not d["quorum"]["have"], mon(d, "other-b")
        other.start()
        d = status(lambda d: d["quorum"]["have"])
        assert d["verdict"] == "ok" and d["quorum"]["fresh"] == 2, d
        b = mon(d, "other-b")
        assert b["fresh"] and b["seq"] >= 2 and b["boot"] == "00000000000000bb", b
        # A server other-b has and this config has not is left out.
        assert b["views"] == {"mx1": "up", "mx2": "up"}, b
        assert d["quorum"]["decision"] == {"mx1": "up", "mx2": "up"}
        metrics = get(http_port, "/metrics")[2]
        promtool_check(metrics)
        for line in ("mxfailover_quorum_have 1", "mxfailover_quorum_fresh_monitors 2",
                     'mxfailover_quorum_monitor_fresh{monitor="other-b"} 1',
                     'mxfailover_quorum_view{monitor="other-b",server="mx2",state="up"} 1',
                     'mxfailover_quorum_decision{server="mx2",state="up"} 1'):
            assert "\n" + line + "\n" in metrics, (line, metrics)
        assert "mx9" not in metrics
        # `mxfailover status` agrees with the endpoint.
        rc, out, err, _ = mxflab.run_mxf(mxf_bin, ["status"], config=cfg)
        assert "2 of 3 monitors fresh, need 2" in out, (rc, out, err)
    finally:
        other.stop()
        rc, err = daemon.finish()
        mx1.close()
        mx2.close()
    assert rc == 0, err
    assert not mxflab.sanitizer_report(err), err


def test_status_listen_busy_port_exits_2(mxf_bin, slab, tmp_path):
    lab, key = slab
    busy = net.tcp_listener()
    cfg = tmp_path / "mxf.conf"
    cfg.write_text(mxflab.write_config(str(tmp_path / "base.conf"), lab.port,
                                       key_file=key.path, zones=[ZONE]) and
                   open(tmp_path / "base.conf").read().replace(
                       "[general]\n", "[general]\nstatus_listen = 127.0.0.1:%d\n"
                       % busy.getsockname()[1], 1))
    try:
        r = subprocess.run([mxf_bin, "-c", str(cfg), "run"], capture_output=True, text=True,
                           timeout=30, env=mxflab.sanitizer_env())
    finally:
        busy.close()
    assert r.returncode == 2, r.stderr
    assert "cannot listen" in r.stderr
    assert not mxflab.sanitizer_report(r.stderr), r.stderr
