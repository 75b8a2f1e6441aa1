"""Text from the network in check reasons (issue 9, point 7a): a banner
with invalid UTF-8, control bytes and 4-byte characters long enough that
every cut (the SMTP reply description, the check reason, the server's
"label: reason (N failed rounds)") falls inside one of them.  The daemon
must keep saving its state file, answer /api/status with valid JSON and
accept a SIGHUP reload: before the fix a torn character made jansson
refuse the string, so none of the three worked again.  A real named;
fake SMTP servers (tests/fakes/fakeserver.py) as the broken mail servers."""

import http.client
import json
import os
import signal

import pytest

import folab
import mxflab
import net
from fakeserver import FakeServer

ZONE = "text.test."
EMOJI = "\U0001F600".encode()  # 4 bytes: 3 of 4 cut positions are inside it
# Invalid UTF-8 first (a stray byte, an overlong '/', a surrogate, ESC,
# a C1 CSI), then enough 4-byte characters to reach past every limit.
BANNER = (b"421 4.3.2 \xff\xc0\xaf\xed\xa0\x80\x1b[31m\xc2\x9b " + EMOJI * 100)


@pytest.fixture(scope="module")
def tlab(tmp_path_factory):
    lab, key = mxflab.keyed_lab(str(tmp_path_factory.mktemp("named-text")), "k-text", [ZONE])
    with lab.running():
        yield lab, key


def get(port, path):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        conn.request("GET", path)
        r = conn.getresponse()
        return r.status, r.read()
    finally:
        conn.close()


def read_state(path):
    """The state file as JSON (strict UTF-8), or None while there is none."""
    try:
        with open(path, "rb") as f:
            return json.loads(f.read().decode("utf-8"))
    except (OSError, ValueError):
        return None


def test_torn_utf8_reason_keeps_state_status_and_reload(mxf_bin, tlab, tmp_path):
    lab, key = tlab
    mx1, mx2 = net.tcp_listener(), net.tcp_listener()
    bad = [FakeServer("smtp", banner=BANNER).__enter__() for _ in range(4)]
    http_port = net.free_port(udp=True)
    servers = folab.tcp_servers(mx1.getsockname()[1], mx2.getsockname()[1])
    # Labels one byte apart: the cut at 255 bytes of "label: reason" lands
    # on every byte position of a 4-byte character across the four.
    ids = []
    for i, srv in enumerate(bad):
        sid = "mx%d" % (i + 3)
        ids.append(sid)
        url = "smtp://127.0.0.1:%d/?helo=%s.example" % (srv.port, "h" * (40 + i))
        servers.append((sid, "127.0.0.1", "%s.example.com." % sid, [url]))
    state_path = str(tmp_path / "state.json")
    cfg = folab.write_fo_config(
        str(tmp_path / "mxf.conf"), lab.port, key.path, servers, [ZONE],
        records=("mx", "smtp"), rtype=None, group={"failback": None, "hold_down": "0"},
        dns_timeout=None, general={"status_listen": "127.0.0.1:%d" % http_port,
                                   "state_file": state_path})
    d = folab.Daemon(mxf_bin, cfg, str(tmp_path / "d.log")).start()
    try:
        def all_down_saved():
            st = read_state(state_path)
            if st is None:
                return None
            sv = st.get("servers", {})
            ok = all(sv.get(s, {}).get("state") == "down" for s in ids)
            return st if ok else None

        st = net.wait_until(all_down_saved, 20, "the state file to show mx3..mx6 down")
        assert st, "state file never saved with the servers down:\n" + d.log()
        for s in ids:
            reason = st["servers"][s]["reason"]
            assert EMOJI.decode() in reason, reason
            assert len(reason.encode()) <= 255, reason
        saved = st.get("saved_ms", 0)
        # And it goes on being saved, round after round.
        net.wait_until(lambda: (read_state(state_path) or {}).get("saved_ms", 0) > saved, 10,
                       "the state file to be saved again")
        assert read_state(state_path)["saved_ms"] > saved, d.log()

        code, body = get(http_port, "/api/status")
        assert code == 200, body
        status = json.loads(body.decode("utf-8"))
        assert status.get("live") is True, status
        assert EMOJI.decode() in body.decode("utf-8")

        d.signal(signal.SIGHUP)
        net.wait_until(lambda: "configuration reloaded" in d.log() or
                       "reload refused" in d.log(), 10, "the reload")
        assert "configuration reloaded" in d.log(), d.log()
        assert "reload refused" not in d.log(), d.log()
        code, body = get(http_port, "/api/status")
        assert code == 200, body
        json.loads(body.decode("utf-8"))
        assert d.alive(), "the daemon died"
    finally:
        rc, text = d.finish()
        for srv in bad:
            srv.__exit__(None, None, None)
        mx1.close()
        mx2.close()
    assert rc == 0, text
    assert not mxflab.sanitizer_report(text), text
    # The log carries the reasons too: valid UTF-8 throughout.
    with open(str(tmp_path / "d.log"), "rb") as f:
        f.read().decode("utf-8")
    assert os.path.exists(state_path)
