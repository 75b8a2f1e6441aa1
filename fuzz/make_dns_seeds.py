#!/usr/bin/python3
"""make_dns_seeds.py -- capture the DNS seed corpora of the fuzz targets
from a real named: fuzz/corpus/{tsig_verify,update_reply,dns_view}/.

Starts one named on loopback (tests/lib/mxflab.py) with zone example.com.,
updatable with the fuzz key (the key the targets have built in: FUZZ_KEY_*
here and in fuzz/fuzz_tsig_verify.c), sends UPDATEs and queries with the
message ID the targets' fixed requests use, and stores the raw replies:

  update_reply/  every reply, as it came (the target checks it against its
                 fixed UPDATE and query requests);
  dns_view/      the replies to queries;
  tsig_verify/   each reply to a signed UPDATE, prefixed by 8 bytes (the
                 time of receipt, big-endian seconds) and the 32-byte MAC
                 of the request, which fuzz_tsig_verify reads from there.

Run it again only to refresh the corpora:  fuzz/make_dns_seeds.py
"""

import os
import socket
import struct
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "lib"))

import dns.flags  # noqa: E402
import dns.message  # noqa: E402
import dns.name  # noqa: E402
import dns.rcode  # noqa: E402
import dns.tsig  # noqa: E402
import dns.tsigkeyring  # noqa: E402
import dns.update  # noqa: E402

import mxflab  # noqa: E402

# As in fuzz/fuzz_tsig_verify.c and fuzz/fuzz_update_reply.c.
FUZZ_KEY_NAME = "mxf-fuzz"
FUZZ_KEY_SECRET = "bXhmYWlsb3ZlciBmdXp6IGtleSwgbm90IGEgc2VjcmV0"
FUZZ_ID = 0x4D58
ZONE = "example.com."
CORPUS = os.path.join(ROOT, "fuzz", "corpus")


def exchange(port, wire):
    """Send @wire over UDP to named; @return (reply bytes, time received)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(5)
        s.sendto(wire, ("127.0.0.1", port))
        data, _ = s.recvfrom(65535)
        return data, int(time.time())


def save(sub, name, data):
    d = os.path.join(CORPUS, sub)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def update(port, name, key_name, secret, build):
    """One UPDATE signed by @key_name/@secret (None: unsigned)."""
    kw = {}
    if key_name:
        kw = dict(keyring=dns.tsigkeyring.from_text({key_name: secret}),
                  keyname=key_name, keyalgorithm=dns.tsig.HMAC_SHA256)
    u = dns.update.UpdateMessage(ZONE, **kw)
    u.id = FUZZ_ID
    build(u)
    wire = u.to_wire()
    reply, now = exchange(port, wire)
    save("update_reply", name, reply)
    if key_name:
        mac = u.mac if len(u.mac) == 32 else b"\0" * 32
        save("tsig_verify", name, struct.pack(">Q", now) + mac + reply)
    print("update %-16s %d bytes, rcode %s" % (name, len(reply),
                                               dns.rcode.to_text(reply[3] & 15)))


def query(port, name, qname, qtype):
    q = dns.message.make_query(qname, qtype)
    q.id = FUZZ_ID
    q.flags &= ~dns.flags.RD
    reply, _ = exchange(port, q.to_wire())
    save("dns_view", name, reply)
    save("update_reply", "query-" + name, reply)
    print("query  %-16s %d bytes, rcode %s" % (name, len(reply),
                                               dns.rcode.to_text(reply[3] & 15)))


def main():
    with tempfile.TemporaryDirectory(prefix="mxf-seeds-") as tmp:
        lab = mxflab.NamedLab(tmp)
        key = mxflab.write_key_file(os.path.join(tmp, "keys", "fuzz.key"), FUZZ_KEY_NAME,
                                    "hmac-sha256", FUZZ_KEY_SECRET)
        lab.keys[key.name] = key
        lab.add_zone("example.com", update_keys=[key],
                     records=mxflab.mail_records([("@", "AAAA", "2001:db8::25", 300),
                                                  ("txt", "TXT", '"v=spf1 mx -all"', 300)]))
        lab.add_zone("example.net", update_addresses=["127.0.0.1"])
        with lab.running():
            port = lab.port
            update(port, "switch", FUZZ_KEY_NAME, FUZZ_KEY_SECRET, lambda u: (
                u.present("mx", "CNAME", mxflab.MX1), u.replace("mx", 300, "CNAME", mxflab.MX2)))
            update(port, "prereq-failed", FUZZ_KEY_NAME, FUZZ_KEY_SECRET, lambda u: (
                u.present("mx", "CNAME", mxflab.MX1), u.replace("mx", 300, "CNAME", mxflab.MX1)))
            update(port, "nxrrset", FUZZ_KEY_NAME, FUZZ_KEY_SECRET, lambda u: (
                u.absent("smtp", "CNAME"), u.replace("smtp", 300, "CNAME", mxflab.MX2)))
            update(port, "mx-record", FUZZ_KEY_NAME, FUZZ_KEY_SECRET, lambda u: (
                u.replace("@", 300, "MX", "10 mx2.example.com.")))
            # Signed with a key named knows by name, but with another secret:
            # BADSIG, unsigned reply.  An unknown key: BADKEY.
            update(port, "badsig", FUZZ_KEY_NAME, "b3RoZXIgc2VjcmV0IG90aGVyIHNlY3JldA==",
                   lambda u: u.replace("mx", 300, "CNAME", mxflab.MX1))
            update(port, "badkey", "unknown-key", FUZZ_KEY_SECRET,
                   lambda u: u.replace("mx", 300, "CNAME", mxflab.MX1))
            update(port, "unsigned-refused", None, None,
                   lambda u: u.replace("mx", 300, "CNAME", mxflab.MX1))
            query(port, "cname", "mx.example.com.", "CNAME")
            query(port, "cname-as-a", "smtp.example.com.", "A")
            query(port, "mx", "example.com.", "MX")
            query(port, "aaaa", "example.com.", "AAAA")
            query(port, "a", "mx1.example.com.", "A")
            query(port, "txt", "txt.example.com.", "TXT")
            query(port, "nxdomain", "nothere.example.com.", "CNAME")
            query(port, "refused", "mx.example.org.", "CNAME")
    return 0


if __name__ == "__main__":
    sys.exit(main())
