"""The DNS client against a misbehaving path to a real named.

A scriptable proxy sits between mxfailover and named on loopback and loses,
forges, truncates or corrupts replies.  Outcomes are checked by asking named
directly; the proxy counts what crossed it.
"""

import os
import socket
import threading

import pytest

import mxflab
import net

MX1, MX2 = mxflab.MX1, mxflab.MX2
ZONE = "faults.test."


class Proxy:
    """UDP and TCP on one free port, forwarding to named.  @mangle(reply,
    query, n) returns the bytes to send back (None to drop); n counts the
    UDP replies of that opcode so far, starting at 1."""

    def __init__(self, upstream_port, mangle=None):
        self.upstream = ("127.0.0.1", upstream_port)
        self.mangle = mangle or (lambda reply, query, n: reply)
        self.udp, self.tcp, self.port = net.udp_and_tcp(backlog=8)
        self.counts = {}      # opcode -> UDP queries seen
        self.tcp_queries = 0
        self.stop = threading.Event()
        self.threads = [threading.Thread(target=self._udp_loop, daemon=True),
                        threading.Thread(target=self._tcp_loop, daemon=True)]
        for t in self.threads:
            t.start()

    @staticmethod
    def opcode(msg):
        return (msg[2] >> 3) & 0xF if len(msg) >= 3 else -1

    def _udp_loop(self):
        up = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        up.settimeout(3)
        while not self.stop.is_set():
            try:
                query, client = self.udp.recvfrom(65535)
            except socket.timeout:
                continue
            op = self.opcode(query)
            self.counts[op] = self.counts.get(op, 0) + 1
            up.sendto(query, self.upstream)
            try:
                reply, _ = up.recvfrom(65535)
            except socket.timeout:
                continue
            out = self.mangle(reply, query, self.counts[op])
            for piece in (out if isinstance(out, list) else [out]):
                if piece is not None:
                    self.udp.sendto(piece, client)
        up.close()

    def _tcp_loop(self):
        while not self.stop.is_set():
            try:
                conn, _ = self.tcp.accept()
            except socket.timeout:
                continue
            with conn:
                conn.settimeout(5)
                try:
                    query = net.recv_dns_tcp(conn)
                    self.tcp_queries += 1
                    conn.sendall(net.dns_tcp_frame(
                        net.dns_tcp_exchange(self.upstream, query)))
                except OSError:
                    pass

    def close(self):
        self.stop.set()
        for t in self.threads:
            t.join(timeout=2)
        self.udp.close()
        self.tcp.close()


@pytest.fixture(scope="module")
def flab(tmp_path_factory):
    lab, key = mxflab.keyed_lab(str(tmp_path_factory.mktemp("named-faults")), "k-faults",
                                [ZONE])
    with lab.running():
        yield lab, key


def config_for(tmp_path, port, key, timeout="4s"):
    return mxflab.write_config(str(tmp_path / "mxf.conf"), port,
                               key_file=key.path, timeout=timeout,
                               zones=[ZONE])


def reset(lab, name, value=MX1):
    lab.nsupdate("update delete %s CNAME\nupdate add %s 300 CNAME %s\nsend\n"
                 % (name, name, value), key=lab.keys["k-faults"])
    assert lab.cname(name) == value


def test_lost_update_reply_is_not_a_conflict(run, flab, tmp_path):
    """The first reply to the UPDATE is lost; the client sends the update
    again and named, which applied the first copy, answers NXRRSET.  The
    records hold our value, so this is success, not "changed by hand"."""
    lab, key = flab
    name = "mx." + ZONE
    reset(lab, name)
    proxy = Proxy(lab.port, lambda r, q, n: None
                  if Proxy.opcode(q) == 5 and n == 1 else r)
    try:
        rc, out, err = run(["dns", "set", name, "CNAME", MX2],
                           config=config_for(tmp_path, proxy.port, key))
    finally:
        proxy.close()
    assert proxy.counts.get(5, 0) >= 2, "the update was not sent again"
    assert rc == 0, (out, err)
    assert lab.cname(name) == MX2
    assert "verified" in out


def test_real_conflict_still_reported(run, flab, tmp_path):
    """With the same lost-reply path, a record changed by someone else
    between our read and our update is a conflict and stays untouched."""
    lab, key = flab
    name = "smtp." + ZONE
    reset(lab, name, "elsewhere.example.com.")
    rc, out, err = run(["dns", "set", "--expect", MX1, name, "CNAME", MX2],
                       config=config_for(tmp_path, lab.port, key))
    assert rc == 3, (out, err)
    assert lab.cname(name) == "elsewhere.example.com."
    assert "elsewhere.example.com." in err


def test_forged_id_reply_is_ignored(run, flab, tmp_path):
    """A reply with another ID arrives first; the real one follows."""
    lab, key = flab
    name = "imap." + ZONE
    reset(lab, name)

    def forge(reply, query, n):
        forged = bytes([reply[0] ^ 0xFF, reply[1]]) + reply[2:]
        return [forged, reply]

    proxy = Proxy(lab.port, forge)
    try:
        rc, out, err = run(["dns", "set", name, "CNAME", MX2],
                           config=config_for(tmp_path, proxy.port, key))
    finally:
        proxy.close()
    assert rc == 0, (out, err)
    assert lab.cname(name) == MX2


def test_garbage_replies_fail_cleanly(timed_run, flab, tmp_path):
    """Only garbage comes back: exit 3 within the deadline, nothing changed."""
    lab, key = flab
    name = "mail." + ZONE
    reset(lab, name)
    proxy = Proxy(lab.port, lambda r, q, n: os.urandom(len(r)))
    try:
        rc, out, err, secs = timed_run(
            ["dns", "set", name, "CNAME", MX2],
            config=config_for(tmp_path, proxy.port, key, timeout="2s"))
    finally:
        proxy.close()
    assert rc == 3, (out, err)
    assert secs < 10, secs
    assert lab.cname(name) == MX1


def test_truncated_reply_retried_over_tcp(run, flab, tmp_path):
    """Every UDP reply comes back with TC set and no records: the client
    must ask again over TCP, and the result is right."""
    lab, key = flab
    name = "pop3." + ZONE
    reset(lab, name)

    def truncate(reply, query, n):
        flags = bytearray(reply[:12])
        flags[2] |= 0x02                      # TC
        flags[6:12] = b"\0" * 6               # no answer/authority/additional
        question_end = 12
        while reply[question_end] != 0:
            question_end += reply[question_end] + 1
        return bytes(flags) + reply[12:question_end + 5]

    proxy = Proxy(lab.port, truncate)
    try:
        rc, out, err = run(["dns", "get", name, "CNAME"],
                           config=config_for(tmp_path, proxy.port, key))
    finally:
        proxy.close()
    assert rc == 0, (out, err)
    assert MX1 in out
    assert proxy.tcp_queries >= 1


def test_mis_signed_reply_is_refused(run, flab, tmp_path):
    """A reply whose TSIG MAC was altered on the way is never believed."""
    lab, key = flab
    name = "mx." + ZONE

    def corrupt(reply, query, n):
        b = bytearray(reply)
        b[-12] ^= 0x55                         # inside the MAC or its tail
        return bytes(b)

    proxy = Proxy(lab.port, corrupt)
    try:
        rc, out, err = run(["dns", "get", name, "CNAME"],
                           config=config_for(tmp_path, proxy.port, key))
    finally:
        proxy.close()
    assert rc == 3, (out, err)
    assert "signature" in err.lower() or "tsig" in err.lower(), err
