"""`mxfailover dns get/set/apply`: key files, a bad changes file, and
servers that are closed, silent or forge replies (our fakes), with a real
named where one is needed.

What a real primary does with our updates -- set/get, CAS, wrong secret,
key or algorithm, refusals, unsigned updates, many records and zones -- is
tested against named, knotd and pdns_server alike in test_primaries.py.
Every outcome is checked by asking the server directly with dnspython;
what mxfailover prints is only checked for the messages it owes the user.
"""

import base64
import os
import re
import select
import socket
import struct
import threading
import time

import dns.flags
import dns.message
import dns.name
import dns.opcode
import dns.rdataclass
import dns.rdatatype
import dns.rrset
import dns.tsigkeyring
import pytest

import mxflab
import net

MX1, MX2 = mxflab.MX1, mxflab.MX2

# ---- key files ----

def _random_secret(n=32):
    return base64.b64encode(os.urandom(n)).decode()


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604])
def test_key_file_readable_by_others_exits_2(run, lab, lab_keys, lab_config,
                                             tmp_path, mode):
    zone = "perm.test."
    good = lab_keys["hmac-sha256"]
    key = mxflab.write_key_file(str(tmp_path / "open.key"), good.name,
                                good.algorithm, good.secret, mode=mode)
    assert os.stat(key.path).st_mode & 0o777 == mode
    cfg = lab_config(key=key, zones=[zone])
    serial = lab.serial(zone)
    rc, out, err = run(["dns", "set", "mx." + zone, "CNAME", MX2], config=cfg)
    assert rc == 2, (out, err)
    assert lab.cname("mx." + zone) == MX1
    assert lab.serial(zone) == serial
    assert key.path in err, err
    assert re.search(r"(?i)readable|permission|mode|group|others", err), err


def test_malformed_key_file_exits_2_with_line(run, lab, lab_keys, lab_config,
                                              tmp_path):
    zone = "malformed.test."
    path = str(tmp_path / "broken.key")
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
    os.write(fd, b'key "k-hmac-sha256" {\n\talgorithm hmac-sha256;\n'
                 b'\tsecret "not base64 !!!";\n};\n')
    os.close(fd)
    cfg = lab_config(key=path, zones=[zone])
    rc, out, err = run(["dns", "set", "mx." + zone, "CNAME", MX2], config=cfg)
    assert rc == 2, (out, err)
    assert lab.cname("mx." + zone) == MX1
    assert re.search(r"^%s:\d+: " % re.escape(path), err, re.M), err


def test_missing_key_file_exits_2(run, lab, lab_config, tmp_path):
    path = str(tmp_path / "absent.key")
    cfg = lab_config(key=path, zones=["malformed.test."])
    rc, out, err = run(["dns", "set", "smtp.malformed.test.", "CNAME", MX2],
                       config=cfg)
    assert rc == 2, (out, err)
    assert path in err
    assert lab.cname("smtp.malformed.test.") == MX1


# ---- unreachable and silent servers ----

class SilentServer:
    """UDP and TCP on one loopback port: reads and accepts, never answers.
    Runs in a thread for at most @lifetime seconds."""

    def __init__(self, lifetime=60.0):
        self.port = net.free_port(udp=True)
        self.udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.udp.bind(("127.0.0.1", self.port))
        self.tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.tcp.bind(("127.0.0.1", self.port))
        self.tcp.listen(16)
        self.conns = []
        self.received = 0
        self.stop_at = time.monotonic() + lifetime
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._loop, daemon=True)
        self.thread.start()

    def _loop(self):
        socks = [self.udp, self.tcp]
        while not self.stopping.is_set() and time.monotonic() < self.stop_at:
            r, _, _ = select.select(socks + self.conns, [], [], 0.1)
            for s in r:
                try:
                    if s is self.udp:
                        s.recvfrom(65535)
                        self.received += 1
                    elif s is self.tcp:
                        c, _ = s.accept()
                        self.conns.append(c)
                    else:
                        if not s.recv(65535):
                            self.conns.remove(s)
                            s.close()
                        else:
                            self.received += 1
                except OSError:
                    pass

    def close(self):
        self.stopping.set()
        self.thread.join(5)
        for s in self.conns + [self.udp, self.tcp]:
            s.close()


def _unreachable_config(tmp_path, port, key):
    return mxflab.write_config(str(tmp_path / "u.conf"), port,
                               key_file=key.path, timeout="2s",
                               zones=["down.test."])


@pytest.mark.parametrize("args", [
    ["dns", "set", "mx.down.test.", "CNAME", MX2],
    ["dns", "get", "mx.down.test.", "CNAME"],
])
def test_closed_port_exits_3_quickly(timed_run, lab_keys, tmp_path, args):
    port = net.free_port(udp=True)   # nobody listens there
    cfg = _unreachable_config(tmp_path, port, lab_keys["hmac-sha256"])
    rc, out, err, secs = timed_run(args, config=cfg, timeout=60)
    assert rc == 3, (out, err)
    assert secs < 15, "took %.1f s" % secs
    assert "127.0.0.1" in err, err


@pytest.mark.parametrize("args", [
    ["dns", "set", "mx.down.test.", "CNAME", MX2],
    ["dns", "get", "mx.down.test.", "CNAME"],
])
def test_silent_server_exits_3_in_bounded_time(timed_run, lab_keys, tmp_path,
                                               args):
    srv = SilentServer()
    try:
        cfg = _unreachable_config(tmp_path, srv.port, lab_keys["hmac-sha256"])
        rc, out, err, secs = timed_run(args, config=cfg, timeout=60)
    finally:
        srv.close()
    assert rc == 3, (out, err)
    assert secs < 15, "took %.1f s" % secs
    assert srv.received >= 1, "mxfailover never sent anything"
    assert re.search(r"(?i)time|answer|respon", err), err


class ForgingServer:
    """A loopback DNS responder (UDP and TCP on one port) that answers every
    message with NOERROR, authoritative, and a CNAME to mx1 for queries --
    either unsigned (@mode "unsigned") or signed with a secret that is not
    the client's ("badsig").  It records whether each message it received
    carried a TSIG record.  Lives at most @lifetime seconds."""

    def __init__(self, mode, key, lifetime=60.0):
        self.mode = mode
        self.key = key
        self.wrong = dns.tsigkeyring.from_text(
            {key.name: (key.algorithm, _random_secret())})
        self.port = net.free_port(udp=True)
        self.udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.udp.bind(("127.0.0.1", self.port))
        self.tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.tcp.bind(("127.0.0.1", self.port))
        self.tcp.listen(8)
        self.signed = []        # per message received: carried a TSIG?
        self.opcodes = []
        self.updated = False
        self.stop_at = time.monotonic() + lifetime
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._loop, daemon=True)
        self.thread.start()

    def _answer(self, wire):
        if self.mode.startswith("update-"):
            return self._answer_update_forger(wire)
        return self._answer_forger(wire)

    def _answer_update_forger(self, wire):
        """Queries get true, correctly signed answers (the fake knows the
        real key): mx1 before an UPDATE, mx2 after it.  The UPDATE itself
        gets a forged NOERROR (unsigned, or signed with another secret)."""
        kr = dns.tsigkeyring.from_text(
            {self.key.name: (self.key.algorithm, self.key.secret)})
        q = dns.message.from_wire(wire, keyring=kr)
        self.signed.append(q.had_tsig)
        self.opcodes.append(q.opcode())
        if q.opcode() == dns.opcode.UPDATE:
            self.updated = True
            r = dns.message.make_response(q)
            if self.mode == "update-unsigned":
                r.tsig = None   # make_response signed it: undo
            else:
                r.use_tsig(self.wrong, keyname=self.key.name,
                           algorithm=self.key.algorithm)
            return r.to_wire()
        r = dns.message.make_response(q)
        r.flags |= dns.flags.AA
        qname = q.question[0].name
        if q.question[0].rdtype in (dns.rdatatype.CNAME, dns.rdatatype.ANY):
            r.answer.append(dns.rrset.from_text(
                qname, 300, "IN", "CNAME", MX2 if self.updated else MX1))
        elif q.question[0].rdtype == dns.rdatatype.SOA:
            r.answer.append(dns.rrset.from_text(
                "down.test.", 300, "IN", "SOA",
                "ns.down.test. h.down.test. 1 3600 600 86400 300"))
        return r.to_wire()

    def _answer_forger(self, wire):
        qid, flags = struct.unpack("!HH", wire[:4])
        qname, used = dns.name.from_wire(wire, 12)
        off = 12 + used
        qtype, _ = struct.unpack("!HH", wire[off:off + 4])
        opcode = (flags >> 11) & 0xF
        # TSIG is type 250 class ANY in the additional section.
        self.signed.append(b"\x00\xfa\x00\xff" in wire[off:])
        self.opcodes.append(opcode)
        r = dns.message.Message(id=qid)
        r.flags = dns.flags.QR | dns.flags.AA | (flags & dns.flags.RD)
        r.set_opcode(opcode)
        if opcode == dns.opcode.QUERY:
            r.question.append(dns.rrset.RRset(qname, dns.rdataclass.IN, qtype))
            if qtype in (dns.rdatatype.CNAME, dns.rdatatype.ANY):
                r.answer.append(dns.rrset.from_text(qname, 300, "IN", "CNAME",
                                                    MX1))
        if self.mode == "badsig":
            r.use_tsig(self.wrong, keyname=self.key.name,
                       algorithm=self.key.algorithm)
        return r.to_wire()

    def _loop(self):
        conns = []
        while not self.stopping.is_set() and time.monotonic() < self.stop_at:
            r, _, _ = select.select([self.udp, self.tcp] + conns, [], [], 0.1)
            for s in r:
                try:
                    if s is self.udp:
                        wire, peer = s.recvfrom(65535)
                        s.sendto(self._answer(wire), peer)
                    elif s is self.tcp:
                        conns.append(s.accept()[0])
                    else:
                        s.settimeout(2)
                        hdr = s.recv(2)
                        if len(hdr) < 2:
                            conns.remove(s)
                            s.close()
                            continue
                        n = int.from_bytes(hdr, "big")
                        wire = b""
                        while len(wire) < n:
                            chunk = s.recv(n - len(wire))
                            if not chunk:
                                break
                            wire += chunk
                        out = self._answer(wire)
                        s.sendall(len(out).to_bytes(2, "big") + out)
                except Exception:   # a fake must never die on odd input
                    pass
        for c in conns:
            c.close()

    def close(self):
        self.stopping.set()
        self.thread.join(5)
        self.udp.close()
        self.tcp.close()


@pytest.mark.parametrize("mode", ["unsigned", "badsig"])
@pytest.mark.parametrize("args", [
    ["dns", "get", "mx.down.test.", "CNAME"],
    ["dns", "set", "mx.down.test.", "CNAME", MX2],
    ["dns", "set", "--expect", MX1, "mx.down.test.", "CNAME", MX2],
])
def test_forged_reply_is_refused(timed_run, lab_keys, tmp_path, mode, args):
    """With a key configured, a reply that is unsigned or carries a wrong
    signature is not believed: exit 3; and every message mxfailover sent
    was signed."""
    key = lab_keys["hmac-sha256"]
    srv = ForgingServer(mode, key)
    try:
        cfg = _unreachable_config(tmp_path, srv.port, key)
        rc, out, err, secs = timed_run(args, config=cfg, timeout=60)
    finally:
        srv.close()
    assert srv.signed, "mxfailover sent nothing"
    assert all(srv.signed), "an unsigned message was sent with a key set"
    assert rc == 3, (out, err)
    assert secs < 15
    assert re.search(r"(?i)sign|tsig", err), err


@pytest.mark.parametrize("mode", ["update-unsigned", "update-badsig"])
def test_forged_update_reply_is_not_success(timed_run, lab_keys, tmp_path,
                                            mode):
    """Every read is answered truly and signed correctly, and the read-back
    even shows the new value; only the UPDATE's reply is forged.  Success
    may not be claimed on a reply whose signature does not verify."""
    key = lab_keys["hmac-sha256"]
    srv = ForgingServer(mode, key)
    try:
        cfg = _unreachable_config(tmp_path, srv.port, key)
        rc, out, err, secs = timed_run(
            ["dns", "set", "mx.down.test.", "CNAME", MX2], config=cfg,
            timeout=60)
    finally:
        srv.close()
    assert srv.updated, "no UPDATE reached the fake: %s" % err
    assert all(srv.signed), "an unsigned message was sent with a key set"
    assert rc == 3, (out, err)
    assert secs < 15
    assert re.search(r"(?i)sign|tsig", err), err


# ---- a bad changes file ----

def test_apply_bad_line_exits_2_with_line(run, lab, lab_keys, lab_config,
                                          tmp_path):
    zone = "get.test."
    cfg = lab_config(key=lab_keys["hmac-sha256"], zones=[zone])
    f = tmp_path / "changes"
    f.write_text("mx.%s CNAME %s\nthis is not a record\n" % (zone, MX2))
    serial = lab.serial(zone)
    rc, out, err = run(["dns", "apply", str(f)], config=cfg)
    assert rc == 2, (out, err)
    assert re.search(r"%s:2:" % re.escape(str(f)), err), err
    assert lab.serial(zone) == serial
    assert lab.cname("mx." + zone) == MX1


def _counter_delta(lab, before):
    after = lab.counters()
    return lambda k: after.get(k, 0) - before.get(k, 0)


def test_apply_expect_lines_replace_the_read(run, lab, lab_keys, lab_config, tmp_path):
    """An `expect NAME TYPE VALUE` line gives the compare-and-swap its old
    values, so with a TTL and a configured zone nothing is read before the
    update: one UPDATE, one check, no QUERY; the record switched."""
    zone = "perm.test."
    key = lab_keys["hmac-sha256"]
    cfg = lab_config(key=key, zones=[zone])
    lab.nsupdate("update add exp.%s 300 CNAME %s\nsend\n" % (zone, MX1), key=key)
    f = tmp_path / "changes"
    f.write_text("exp.%s CNAME %s 300\nexpect exp.%s CNAME %s\n" % (zone, MX2, zone, MX1))
    try:
        before = lab.counters()
        rc, out, err = run(["dns", "apply", str(f)], config=cfg)
        delta = _counter_delta(lab, before)
        assert rc == 0, (out, err)
        assert lab.cname("exp." + zone) == MX2
        assert delta("opcode:UPDATE") == 2, delta("opcode:UPDATE")
        assert delta("opcode:QUERY") == 0, delta("opcode:QUERY")
    finally:
        lab.nsupdate("update delete exp.%s CNAME\nsend\n" % zone, key=key)


def test_apply_expect_mismatch_changes_nothing(run, lab, lab_keys, lab_config, tmp_path):
    """The record no longer holds the expected value: the prerequisite
    fails, nothing changes, the message says what it holds and what was
    expected; a second RRset of the same zone is not half-applied."""
    zone = "perm.test."
    key = lab_keys["hmac-sha256"]
    cfg = lab_config(key=key, zones=[zone])
    lab.nsupdate("update add exq.%s 300 CNAME %s\nsend\n" % (zone, MX1), key=key)
    f = tmp_path / "changes"
    f.write_text("expect exq.%s CNAME %s\nexq.%s CNAME %s 300\n"
                 "exr.%s A 192.0.2.7\n" % (zone, MX2, zone, MX2, zone))
    serial = lab.serial(zone)
    try:
        rc, out, err = run(["dns", "apply", str(f)], config=cfg)
        assert rc != 0, (out, err)
        assert lab.cname("exq." + zone) == MX1
        assert lab.rrset_values("exr." + zone, "A") == []
        assert lab.serial(zone) == serial
        assert "expected %s" % MX2 in err and "holds %s" % MX1 in err, err
    finally:
        lab.nsupdate("update delete exq.%s CNAME\nsend\n" % zone, key=key)


def test_apply_expect_without_a_change_is_refused(run, lab, lab_keys, lab_config, tmp_path):
    zone = "get.test."
    cfg = lab_config(key=lab_keys["hmac-sha256"], zones=[zone])
    f = tmp_path / "changes"
    f.write_text("# nothing but an expectation\n\nexpect mx.%s CNAME %s\n" % (zone, MX1))
    serial = lab.serial(zone)
    rc, out, err = run(["dns", "apply", str(f)], config=cfg)
    assert rc == 2, (out, err)
    assert "%s:3: expect mx.%s CNAME" % (f, zone) in err, err
    assert lab.serial(zone) == serial


def test_apply_merges_the_lines_of_one_rrset(run, lab, lab_keys, lab_config, tmp_path):
    """Lines of one NAME TYPE make one RRset wherever they are in the file
    and however the name is spelt (case, trailing dot): one UPDATE, both
    values, the other name untouched by the merge."""
    zone = "perm.test."
    cfg = lab_config(key=lab_keys["hmac-sha256"], zones=[zone])
    f = tmp_path / "changes"
    f.write_text("multi.perm.test. A 192.0.2.1\n"
                 "other.perm.test. A 192.0.2.9\n"
                 "MULTI.Perm.Test A 192.0.2.2\n")
    serial = lab.serial(zone)
    try:
        rc, out, err = run(["dns", "apply", str(f)], config=cfg)
        assert rc == 0, (out, err)
        assert sorted(lab.rrset_values("multi." + zone, "A")) == ["192.0.2.1", "192.0.2.2"]
        assert lab.rrset_values("other." + zone, "A") == ["192.0.2.9"]
        assert lab.serial(zone) == serial + 1
    finally:
        lab.nsupdate("update delete multi.%s A\nupdate delete other.%s A\nsend\n"
                     % (zone, zone), key=lab_keys["hmac-sha256"])
