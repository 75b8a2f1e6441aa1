"""The dashboard in a real browser, and /metrics through promtool.

One `mxfailover run` against a real named, with fake SMTP servers (our
tests/fakes) standing in for mx1, mx2 and a witness, walks through every
state a group's banner headlines: healthy, a record changed by hand,
failed over, isolated, every server down.  In each, headless Chromium
loads the page (--dump-dom: the banner's words and the <title> as a
browser sees them) and takes a screenshot at desktop width and at a
390 px phone width; /api/status and /metrics (checked by promtool) must
say the same.  The screenshots are written to $MXF_SCREENSHOT_DIR, else
build-test/screenshots/ beside the binary under test, and their paths
printed, for people to look at.

With [quorum] (one real monitor mon-a among mon-a other-b other-c, need 2,
its views in a zone of the same named), the Monitors panel: quorum lost
while mon-a is alone (its own view fresh once published, the others never
seen); had once a fake other-b (folab.FakeMonitor, nsupdate) keeps
advancing; a switch both agree on, named in the panel; lost again with
other-b stale once it stops.  Without [quorum] there is no such panel.
"""

import html
import http.client
import json
import os
import re
import shutil
import subprocess
import sys

import pytest

import folab
import labserver
import mxflab
import net

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "fakes"))
from fakeserver import FakeServer  # noqa: E402

ZONE = "dash.test."
QZONE = "views.dash.test."     # where the [quorum] monitors publish
QMAIL = "qmail.dash.test."     # the quorum test's own records (ZONE's are failed over)
MX1, MX2 = mxflab.MX1, mxflab.MX2
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
PROMTOOL = shutil.which("promtool") or "/usr/bin/promtool"


@pytest.fixture(scope="module")
def dlab(tmp_path_factory):
    lab, key = mxflab.keyed_lab(str(tmp_path_factory.mktemp("named-dash")), "k-dash",
                               [ZONE, QZONE, QMAIL])
    with lab.running():
        yield lab, key


@pytest.fixture(scope="module")
def shots(mxf_bin):
    d = os.environ.get("MXF_SCREENSHOT_DIR") or os.path.join(
        os.path.dirname(os.path.dirname(os.path.abspath(mxf_bin))), "screenshots")
    os.makedirs(d, exist_ok=True)
    return d


def get(port, path):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        conn.request("GET", path)
        r = conn.getresponse()
        return r.status, r.read().decode()
    finally:
        conn.close()


def chromium(args, profile, timeout=90):
    """Run headless Chromium once (its own profile, bounded); @return stdout."""
    argv = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu",
            "--disable-dev-shm-usage", "--no-first-run", "--hide-scrollbars",
            "--user-data-dir=" + profile] + args
    r = subprocess.run(argv, capture_output=True, text=True, timeout=timeout,
                       env=dict(os.environ, HOME=profile))
    assert r.returncode == 0, r.stderr[-2000:]
    return r.stdout


def page_text(dom):
    """The visible words of a dumped DOM: tags dropped, entities decoded,
    white space folded."""
    dom = re.sub(r"<(style|svg)\b.*?</\1>", " ", dom, flags=re.S)
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", dom))).strip()


def phone_width(page, profile, name):
    """How wide @page lays out on a 390 px screen: in a frame 390 px wide
    (headless Chromium's own window is at least 500 px for --dump-dom), with
    a line of script of ours that writes the width into the DOM (the
    dashboard itself has no script)."""
    probe = os.path.join(profile, "width-%s.html" % name)
    with open(probe, "w") as f:
        f.write('<!DOCTYPE html><html><body style="margin:0"><iframe id="f" '
                'style="width:390px;height:900px;border:0" srcdoc="%s"></iframe><script>'
                'var f = document.getElementById("f");'
                'f.onload = function () { document.body.setAttribute("data-sw", '
                'f.contentDocument.documentElement.scrollWidth); };'
                '</script></body></html>' % html.escape(page, quote=True))
    measured = chromium(["--window-size=800,900", "--virtual-time-budget=1000",
                         "--dump-dom", "file://" + probe], profile)
    m = re.search(r'data-sw="(\d+)"', measured)
    assert m is not None, measured[:2000]
    return int(m.group(1))


def browse(port, name, shots, profile, expect_banner, expect_title):
    """Load the dashboard in Chromium: the banner and title as expected,
    one screenshot at 1280 px and one at a 390 px phone width.
    @return the dumped DOM."""
    url = "http://127.0.0.1:%d/" % port
    dom = chromium(["--dump-dom", url], profile)
    title = re.search(r"<title>(.*?)</title>", dom, re.S)
    assert title is not None, dom[:2000]
    assert html.unescape(title.group(1)) == expect_title + " - mxfailover", title.group(1)
    banner = re.search(r'<div class="banner [^"]*" id="banner-mail">(.*?)</div>', dom, re.S)
    assert banner is not None, dom[:3000]
    text = page_text(banner.group(1))
    assert expect_banner in text, text
    paths = []
    for label, size in (("desktop", "1280,1400"), ("phone", "390,2400")):
        path = os.path.join(shots, "dashboard-%s-%s.png" % (name, label))
        if os.path.exists(path):
            os.unlink(path)
        # The page refreshes itself every 2 s here; a shot that a refresh
        # interrupted leaves no file, so try again (bounded).
        for _ in range(3):
            chromium(["--screenshot=" + path, "--window-size=" + size, url], profile)
            if os.path.exists(path):
                break
        assert os.path.getsize(path) > 10000, path
        paths.append(path)
    # Nothing runs off a 390 px phone.
    code, page = get(port, "/")
    assert code == 200
    width = phone_width(page, profile, name)
    assert width <= 390, "page is %d px wide on a 390 px phone" % width
    if name == "healthy":
        # The measure can fail: without the narrow-screen rules the tables
        # run off the screen.
        wide = phone_width(re.sub(r"@media \(max-width:640px\)\{.*?\}\}", "", page),
                           profile, name + "-nomedia")
        assert wide > 390, wide
    print("\n%s: banner \"%s\"; %d px wide on a 390 px phone; screenshots %s"
          % (name, text, width, " ".join(paths)))
    return dom


def promtool_ok(metrics, tmp_path):
    """`promtool check metrics` on @metrics: no error, no lint complaint."""
    r = subprocess.run([PROMTOOL, "check", "metrics"], input=metrics, capture_output=True,
                       text=True, timeout=30)
    assert r.returncode == 0 and not r.stdout.strip() and not r.stderr.strip(), \
        (r.returncode, r.stdout, r.stderr, metrics)


def sample(metrics, name, labels=""):
    """The value of one sample, or None when it is not there."""
    m = re.search(r"^%s%s (\S+)$" % (re.escape(name), re.escape(labels)), metrics, re.M)
    return None if m is None else float(m.group(1))


@pytest.mark.skipif(not os.access(CHROMIUM, os.X_OK), reason="chromium is not installed")
def test_dashboard_states_in_a_browser(mxf_bin, dlab, tmp_path, shots):
    lab, key = dlab
    ca = labserver.CertAuthority(str(tmp_path / "ca"))
    cert, certkey = ca.issue(str(tmp_path / "ca"), ips=("127.0.0.1",), days=20)
    mx1 = FakeServer("smtp").start()
    web1 = FakeServer("http", implicit_tls=True, certfile=cert, keyfile=certkey).start()
    mx2 = FakeServer("smtp").start()
    wit = FakeServer("smtp").start()
    http_port = net.free_port()
    servers = [
        ("mx1", "127.0.0.1", MX1, ["smtp://127.0.0.1:%d" % mx1.port,
                                   "https://127.0.0.1:%d/?cert_days=30" % web1.port]),
        ("mx2", "127.0.0.1", MX2, ["smtp://127.0.0.1:%d" % mx2.port]),
    ]
    cfg = folab.write_fo_config(
        str(tmp_path / "mxf.conf"), lab.port, key.path, servers, [ZONE],
        records=("mx", "smtp"),
        general={"status_listen": "127.0.0.1:%d" % http_port,
                 "witness": "smtp://127.0.0.1:%d" % wit.port},
        dns={"verify_interval": "2s"})      # the hand change below is found within it
    daemon = folab.Daemon(mxf_bin, cfg, str(tmp_path / "d.log"),
                          env={"MXF_CA_FILE": ca.ca_file}).start()
    profile = str(tmp_path / "chromium")
    os.makedirs(profile)

    def status():
        try:
            code, body = get(http_port, "/api/status")
        except OSError:
            return None
        return json.loads(body) if code == 200 else None

    def verdict(want, timeout=20, also=lambda d: True):
        def ok():
            d = status()
            return d if d and d["groups"]["mail"]["verdict"] == want and also(d) else None
        d = net.wait_until(ok, timeout, "verdict %s" % want)
        assert d, (status(), daemon.log()[-3000:])
        return d

    try:
        # -- healthy ---------------------------------------------------------
        d = verdict("ok")
        assert d["verdict"] == "ok"
        https = d["servers"]["mx1"]["checks"][1]
        assert https["last"] == "warning" and 18 <= https["cert_days_left"] <= 20, https
        assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$", https["cert_expiry_time"] or ""), https
        assert d["witnesses"]["smtp://127.0.0.1:%d" % wit.port]["up"] is True
        dom = browse(http_port, "healthy", shots, profile,
                     "mail: on the preferred server mx1", "OK")
        body = page_text(dom)
        assert "days left" in body and "24 h ago" in body and "Witnesses" in body, body
        assert "<script" not in dom
        # Without [quorum], no Monitors panel and no quorum anywhere.
        assert "Monitors" not in body and "quorum" not in dom.lower(), body
        assert d["quorum"] is None
        code, metrics = get(http_port, "/metrics")
        assert code == 200
        promtool_ok(metrics, tmp_path)
        check = '{server="mx1",check="https://127.0.0.1:%d/?cert_days=30"}' % web1.port
        assert sample(metrics, "mxfailover_check_success", check) == 1
        assert sample(metrics, "mxfailover_check_warning", check) == 1
        assert sample(metrics, "mxfailover_check_cert_expiry_timestamp_seconds", check) > 0
        assert sample(metrics, "mxfailover_check_duration_seconds", check) is not None
        assert sample(metrics, "mxfailover_server_up", '{server="mx1"}') == 1
        assert sample(metrics, "mxfailover_group_all_down", '{group="mail"}') == 0
        assert sample(metrics, "mxfailover_group_failed_over", '{group="mail"}') == 0
        assert sample(metrics, "mxfailover_witness_up",
                      '{witness="smtp://127.0.0.1:%d"}' % wit.port) == 1
        assert "mxfailover_quorum" not in metrics
        assert sample(metrics, "mxfailover_build_info") is None  # it has a label
        assert re.search(r'^mxfailover_build_info\{version="[^"]+"\} 1$', metrics, re.M)
        assert " -1\n" not in metrics

        # -- a record changed by hand -----------------------------------------
        r = lab.nsupdate("update delete smtp.%s CNAME\nupdate add smtp.%s 300 CNAME "
                         "elsewhere.example.net.\nsend\n" % (ZONE, ZONE), key=key)
        assert r.returncode == 0, r.stderr
        d = verdict("hand_changed")
        rec = d["groups"]["mail"]["zones"][ZONE]["records"]["smtp"]
        assert rec["hand_changed"] is True and rec["values"] == ["elsewhere.example.net."], rec
        dom = browse(http_port, "hand-changed", shots, profile,
                     "mail: a record CHANGED BY HAND otherwise on the preferred server mx1 "
                     "changed by hand: smtp.%s" % ZONE, "record changed by hand")
        assert "elsewhere.example.net." in page_text(dom)
        metrics = get(http_port, "/metrics")[1]
        promtool_ok(metrics, tmp_path)
        assert sample(metrics, "mxfailover_record_changed_by_hand",
                      '{group="mail",zone="%s",record="smtp.%s"}' % (ZONE, ZONE)) == 1
        # Handed back: pointed at the group's current server again.
        r = lab.nsupdate("update delete smtp.%s CNAME\nupdate add smtp.%s 300 CNAME %s\n"
                         "send\n" % (ZONE, ZONE, MX1), key=key)
        assert r.returncode == 0, r.stderr
        verdict("ok")

        # -- failed over ------------------------------------------------------
        mx1.stop()
        d = verdict("failed_over")
        assert lab.cname("mx." + ZONE) == MX2
        sw = [e for e in d["events"] if e["event"] == "switched"]
        assert sw and sorted(sw[-1]["records"]) == ["mx.%s" % ZONE, "smtp.%s" % ZONE], sw
        assert re.match(r"^\d{4}-.*Z$", sw[-1]["at_time"]), sw
        dom = browse(http_port, "failed-over", shots, profile, "mail: FAILED OVER to mx2",
                     "FAILED OVER")
        assert "mx1 down since" in page_text(dom)
        metrics = get(http_port, "/metrics")[1]
        promtool_ok(metrics, tmp_path)
        assert sample(metrics, "mxfailover_group_failed_over", '{group="mail"}') == 1
        assert sample(metrics, "mxfailover_server_up", '{server="mx1"}') == 0
        assert sample(metrics, "mxfailover_switches_total", '{group="mail"}') >= 1
        assert sample(metrics, "mxfailover_last_switch_timestamp_seconds",
                      '{group="mail"}') > 0

        # -- isolated -----------------------------------------------------------
        wit.stop()
        # The round that finds isolation records its event when it ends.
        d = verdict("isolated", also=lambda d: d["isolation"]["since_time"])
        iso = d["isolation"]
        assert iso["isolated"] is True
        assert iso["witnesses_failed"] == ["smtp://127.0.0.1:%d" % wit.port], iso
        assert iso["since_time"], iso
        dom = browse(http_port, "isolated", shots, profile,
                     "every witness fails (smtp://127.0.0.1:%d)" % wit.port, "ISOLATED")
        metrics = get(http_port, "/metrics")[1]
        promtool_ok(metrics, tmp_path)
        assert sample(metrics, "mxfailover_isolated") == 1
        assert sample(metrics, "mxfailover_witness_up",
                      '{witness="smtp://127.0.0.1:%d"}' % wit.port) == 0
        wit.start()
        verdict("failed_over")

        # -- every server down -----------------------------------------------------
        mx2.stop()
        verdict("all_down")
        dom = browse(http_port, "all-down", shots, profile, "mail: EVERY SERVER DOWN",
                     "EVERY SERVER DOWN")
        assert "the records stay on mx2" in page_text(dom)
        metrics = get(http_port, "/metrics")[1]
        promtool_ok(metrics, tmp_path)
        assert sample(metrics, "mxfailover_group_all_down", '{group="mail"}') == 1
    finally:
        rc, err = daemon.finish()
        for s in (mx1, mx2, web1, wit):
            s.stop()
    assert rc == 0, err
    assert not mxflab.sanitizer_report(err), err
    # The strip and the witnesses are in the state file for the next start.
    with open(str(tmp_path / "state.json")) as f:
        saved = json.load(f)
    assert saved["history"]["slot_ms"] == 600000
    # A slot keeps the worst mark of its 10 minutes: down, for both.
    assert saved["history"]["servers"]["mx1"][-1][1] == "down", saved["history"]
    assert saved["history"]["servers"]["mx2"][-1][1] == "down", saved["history"]
    assert saved["witnesses"]["smtp://127.0.0.1:%d" % wit.port]["up"] is True


def monitors_panel(dom):
    """The Monitors panel of a dumped DOM: its visible text, and each row of
    its table as text keyed by the row's first word (the monitor's id, or
    "decision")."""
    def words(h):      # page_text, without the space a tag left before , or )
        return re.sub(r"\s+([,)])", r"\1", page_text(h))

    m = re.search(r'<h2 id="monitors">Monitors</h2>(.*?)(?=<h2|$)', dom, re.S)
    assert m is not None, dom[:3000]
    table = re.search(r'<table class="rows" id="quorum-monitors">(.*?)</table>', m.group(1), re.S)
    assert table is not None, m.group(1)
    rows = {}
    for tr in re.findall(r"<tr\b[^>]*>(.*?)</tr>", table.group(1), re.S):
        text = words(tr)
        if "<th" not in tr:
            rows[text.split()[0]] = text
    return words(m.group(1)), rows


@pytest.mark.skipif(not os.access(CHROMIUM, os.X_OK), reason="chromium is not installed")
def test_dashboard_quorum_monitors_in_a_browser(mxf_bin, dlab, tmp_path, shots):
    lab, key = dlab
    mx1 = FakeServer("smtp").start()
    mx2 = FakeServer("smtp").start()
    http_port = net.free_port()
    servers = [("mx1", "127.0.0.1", MX1, ["smtp://127.0.0.1:%d" % mx1.port]),
               ("mx2", "127.0.0.1", MX2, ["smtp://127.0.0.1:%d" % mx2.port])]
    cfg = folab.write_fo_config(
        str(tmp_path / "mxf.conf"), lab.port, key.path, servers, [QMAIL],
        records=("mx", "smtp"),
        general={"status_listen": "127.0.0.1:%d" % http_port},
        extra="[quorum]\nid = mon-a\nmonitors = mon-a other-b other-c\nneed = 2\n"
              "zone = %s\nheartbeat = 1s\nstale = 3s\n" % QZONE.rstrip("."))
    other = folab.FakeMonitor(lab, key, QZONE, "other-b", {"mx1": "up", "mx2": "down"})
    daemon = folab.Daemon(mxf_bin, cfg, str(tmp_path / "d.log")).start()
    profile = str(tmp_path / "chromium")
    os.makedirs(profile)

    def status():
        try:
            code, body = get(http_port, "/api/status")
        except OSError:
            return None
        return json.loads(body) if code == 200 else None

    def monitor(d, mid):
        return next(m for m in d["quorum"]["monitors"] if m["id"] == mid)

    def wait(what, pred, timeout=30):
        def ok():
            d = status()
            return d if d and d.get("quorum") and pred(d) else None
        d = net.wait_until(ok, timeout)
        assert d, (what, status(), daemon.log()[-3000:])
        return d

    try:
        # -- mon-a alone: its own view fresh, quorum lost ----------------------
        d = wait("mon-a published, quorum lost", lambda d: monitor(d, "mon-a")["fresh"] and
                 d["groups"]["mail"]["verdict"] == "quorum_lost")
        assert d["verdict"] == "quorum_lost"
        q = d["quorum"]
        assert (q["id"], q["need"], q["zone"], q["have"], q["fresh"]) == \
            ("mon-a", 2, QZONE, False, 1), q
        assert [m["id"] for m in q["monitors"]] == ["mon-a", "other-b", "other-c"]
        assert monitor(d, "other-b")["seen"] is False and monitor(d, "other-b")["age_ms"] is None
        # Its view is a real record in the zone.
        txt = lab.rrset_values("mon-a._mxfailover." + QZONE, "TXT")
        assert txt and '"mxf1"' in txt[0] and '"mx1=up"' in txt[0], txt
        dom = browse(http_port, "quorum-lost", shots, profile,
                     "mail: QUORUM LOST: no DNS changes quorum lost: 1 of 3 monitors fresh, "
                     "need 2: nothing switches", "QUORUM LOST")
        text, rows = monitors_panel(dom)
        banner = re.search(r'<div class="banner v-quorum_lost" id="banner-quorum">(.*?)</div>',
                           dom, re.S)
        assert banner is not None, text
        assert page_text(banner.group(1)) == (
            "quorum lost: 1 of 3 monitors fresh, need 2: nothing switches "
            "not fresh: other-b (never seen), other-c (never seen)"), page_text(banner.group(1))
        assert "this monitor: mon-a" in text and "3 monitors, need 2" in text, text
        assert re.match(r"mon-a \(this monitor\) fresh, published \d+s ago \d+ up up$",
                        rows["mon-a"]), rows
        assert rows["other-b"] == "other-b never seen - -", rows
        assert rows["other-c"] == "other-c never seen - -", rows
        assert rows["decision"] == "decision need 2 of 3: 1 fresh unknown unknown", rows
        assert "mail no switch since this monitor started" in text, text
        assert 'class="self" aria-current="true"' in dom
        metrics = get(http_port, "/metrics")[1]
        promtool_ok(metrics, tmp_path)
        assert sample(metrics, "mxfailover_quorum_have") == 0
        assert sample(metrics, "mxfailover_quorum_fresh_monitors") == 1
        assert sample(metrics, "mxfailover_quorum_need") == 2
        assert sample(metrics, "mxfailover_quorum_monitor_fresh", '{monitor="other-b"}') == 0

        # -- other-b advancing: quorum had ---------------------------------------
        other.start()
        d = wait("other-b fresh", lambda d: d["quorum"]["have"] and
                 d["groups"]["mail"]["verdict"] == "ok")
        assert d["verdict"] == "ok" and d["quorum"]["fresh"] == 2, d["quorum"]
        assert monitor(d, "other-b")["views"] == {"mx1": "up", "mx2": "down"}
        # mon-a sees mx2 up, other-b down: no agreement on mx2.
        assert d["quorum"]["decision"] == {"mx1": "up", "mx2": "unknown"}, d["quorum"]
        dom = browse(http_port, "quorum-had", shots, profile,
                     "mail: on the preferred server mx1", "OK")
        text, rows = monitors_panel(dom)
        assert "banner-quorum" not in dom
        assert "quorum 2 of 3 monitors fresh, need 2" in text, text
        assert re.match(r"other-b fresh, advanced \d+s ago \d+ up down$", rows["other-b"]), rows
        assert rows["decision"] == "decision need 2 of 3: 2 fresh up unknown", rows
        metrics = get(http_port, "/metrics")[1]
        promtool_ok(metrics, tmp_path)
        assert sample(metrics, "mxfailover_quorum_have") == 1
        assert sample(metrics, "mxfailover_quorum_fresh_monitors") == 2
        assert sample(metrics, "mxfailover_quorum_monitor_fresh", '{monitor="other-b"}') == 1
        assert sample(metrics, "mxfailover_quorum_view",
                      '{monitor="other-b",server="mx2",state="down"}') == 1
        assert sample(metrics, "mxfailover_quorum_view",
                      '{monitor="other-b",server="mx2",state="up"}') == 0
        assert sample(metrics, "mxfailover_quorum_decision",
                      '{server="mx1",state="up"}') == 1

        # -- mx1 dies for both: a switch they agree on ---------------------------
        other.publish({"mx1": "down", "mx2": "up"})
        mx1.stop()
        d = wait("the switch to mx2", lambda d: d["groups"]["mail"]["verdict"] == "failed_over"
                 and d["quorum"]["last_switch"].get("mail"))
        sw = d["quorum"]["last_switch"]["mail"]
        assert sw["to"] == "mx2" and sw["agreed"] == ["mon-a", "other-b"], sw
        assert lab.cname("mx." + QMAIL) == MX2
        dom = browse(http_port, "quorum-switched", shots, profile, "mail: FAILED OVER to mx2",
                     "FAILED OVER")
        text, rows = monitors_panel(dom)
        assert re.search(r"mail mx2 \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC mon-a, other-b", text), text
        assert rows["decision"] == "decision need 2 of 3: 2 fresh down up", rows

        # -- other-b stops: stale, quorum lost again -----------------------------
        other.stop()
        d = wait("other-b stale", lambda d: not d["quorum"]["have"] and
                 monitor(d, "other-b")["seen"] and not monitor(d, "other-b")["fresh"])
        assert d["verdict"] == "quorum_lost"
        code, page = get(http_port, "/")
        text, rows = monitors_panel(page)
        assert re.match(r"other-b stale, advanced \d+s ago \d+ down up$", rows["other-b"]), rows
        assert "not fresh: other-b (stale), other-c (never seen)" in text, text
        assert any(e["event"] == "quorum_lost" for e in d["events"]), d["events"]
    finally:
        other.stop()
        rc, err = daemon.finish()
        mx1.stop()
        mx2.stop()
    assert rc == 0, err
    assert not mxflab.sanitizer_report(err), err
