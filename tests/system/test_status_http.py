"""The daemon's status endpoint ([general] status_listen): dashboard,
/api/status and /metrics, against a running `mxfailover run` with a real
named and TCP/SMTP listeners standing in for the mail servers."""

import http.client
import json
import socket
import subprocess
import threading

import pytest

import folab
import mxflab
import net

MX1, MX2 = mxflab.MX1, mxflab.MX2
ZONE = "status.test."


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
                                [ZONE])
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
        st, ctype, metrics = get(http_port, "/metrics")
        assert st == 200 and ctype.startswith("text/plain")
        assert 'mxfailover_server_up{server="mx1"} 1' in metrics
        # Unknown is no sample (never -1): mx3 is 0 once its verdict is in.
        assert 'mxfailover_server_up{server="mx3"} 0' in metrics or \
               'mxfailover_server_up{server="mx3"}' not in metrics
        assert " -1\n" not in metrics
        assert "mxfailover_isolated 0" in metrics

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
