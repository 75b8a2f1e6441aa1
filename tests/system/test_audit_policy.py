"""`mxfailover audit`: the policy records (SPF, DMARC, MTA-STS, TLSRPT, DANE)
and the SMTP probe of every MX address, against the audit lab's real named
(tests/lib/auditlab.py), SMTP fault servers of our own on port 25 of
loopback addresses (tests/fakes/auditsmtp.py), an HTTPS server for the
MTA-STS policy files, and a real Postfix backup MX with relay_domains and
relay_recipient_maps that must come out clean.

good.test (the clean domain):
  mx1  our well-behaved SMTP server: STARTTLS with a lab-CA certificate for
       mx1.good.test, unknown recipients refused, postmaster accepted
  mx2  real Postfix, backup MX: relay_domains = good.test,
       relay_recipient_maps = postmaster and alice only
  SPF "v=spf1 mx -all", DMARC p=reject, MTA-STS enforce naming both MX
  hosts, TLSRPT, and DANE-EE TLSA records matching both certificates.
faulty.test (every policy and SMTP mistake that fits in one domain):
  mx1  accepts any recipient, relays for anyone, refuses postmaster, no
       STARTTLS, a banner naming another host
  mx2  STARTTLS with an expired certificate
  mx3  STARTTLS with a certificate for another name; a TLSA record that
       matches nothing
  mx4  STARTTLS with a self-signed certificate
  mx5  an address where nothing listens
  SPF with too many lookups and an include whose record does not parse,
  DMARC p=none, MTA-STS enforce naming mx1 only, TLSRPT with a bad URI.
faulty2.test: two SPF records, no DMARC, a broken _mta-sts record.

The trust store of the audit is the lab CA ($MXF_CA_FILE), as for the checks.
"""

import datetime
import hashlib
import json
import os
import time

import pytest

import auditlab
import labserver
import mailservers
from auditsmtp import AuditSmtp, PolicyServer, port_open

try:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID
except ImportError:  # pragma: no cover - dev installs python3-cryptography
    x509 = None

pytestmark = pytest.mark.skipif(os.geteuid() != 0 or x509 is None,
                                reason="needs root (port 25, 53, 443) and python3-cryptography")

GOOD = auditlab.GOOD
FAULTY = "faulty.test"
FAULTY2 = "faulty2.test"

# Findings the SMTP probe and the policy stage may raise; everything else
# (MX, PTR, NS) is A1's and not judged here.
POLICY_IDS = {
    "spf-missing", "spf-multiple", "spf-syntax", "spf-too-many-lookups",
    "dmarc-missing", "dmarc-invalid", "dmarc-weak", "mta-sts-invalid",
    "mta-sts-mx-mismatch", "tlsrpt-invalid", "dane-tlsa-mismatch",
    "smtp-unreachable", "starttls-missing", "starttls-failed", "tls-weak",
    "cert-expired", "cert-expiring", "cert-name-mismatch", "cert-untrusted",
    "accepts-unknown-recipient", "postmaster-rejected", "open-relay",
    "banner-mismatch", "null-sender-rejected", "lookup-failed",
}


# ---------------------------------------------------------------- certs --

def _name(cn):
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def make_cert(directory, tag, names, ca=None, not_before=-1, not_after=30):
    """A certificate for @names (first = CN) valid from @not_before to
    @not_after days from now, signed by the lab CA @ca or self-signed.
    @return (certfile, keyfile, spki_sha256_hex)."""
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.timezone.utc)
    if ca is not None:
        with open(ca.ca_file, "rb") as f:
            ca_cert = x509.load_pem_x509_certificate(f.read())
        with open(ca.ca_key, "rb") as f:
            ca_key = serialization.load_pem_private_key(f.read(), None)
        issuer, signer = ca_cert.subject, ca_key
    else:
        issuer, signer = _name(names[0]), key
    cert = (x509.CertificateBuilder()
            .subject_name(_name(names[0])).issuer_name(issuer)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now + datetime.timedelta(days=not_before))
            .not_valid_after(now + datetime.timedelta(days=not_after))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(n) for n in names]),
                           critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .sign(signer, hashes.SHA256()))
    cf = os.path.join(directory, tag + ".crt")
    kf = os.path.join(directory, tag + ".key")
    with open(cf, "wb") as f:
        f.write(cert.public_bytes(serialization.Encoding.PEM))
        if ca is not None:
            f.write(ca_cert.public_bytes(serialization.Encoding.PEM))
    with open(kf, "wb") as f:
        f.write(key.private_bytes(serialization.Encoding.PEM,
                                  serialization.PrivateFormat.PKCS8,
                                  serialization.NoEncryption()))
    os.chmod(kf, 0o600)
    return cf, kf, spki_sha256(cert)


def spki_sha256(cert):
    der = cert.public_key().public_bytes(serialization.Encoding.DER,
                                         serialization.PublicFormat.SubjectPublicKeyInfo)
    return hashlib.sha256(der).hexdigest()


def spki_of_file(path):
    with open(path, "rb") as f:
        return spki_sha256(x509.load_pem_x509_certificate(f.read()))


# ----------------------------------------------------------------- Postfix --

class BackupMX(mailservers.Postfix):
    """Real Postfix as good.test's backup MX: smtpd on port 25 of its own
    loopback address, relaying good.test for its listed recipients only."""

    def _configure(self, ports):
        super()._configure([25] + list(ports[1:]))


# ------------------------------------------------------------------- lab ----

class PolicyLab:
    def __init__(self, tmp):
        self.tmp = str(tmp)
        self.ca = labserver.CertAuthority(os.path.join(self.tmp, "ca"))
        self.addrs = auditlab.pick_block(8)
        (self.good1, self.f1, self.f2, self.f3, self.f4, self.f5,
         self.https, self.spare) = self.addrs
        self.servers = []
        self.postfix = None
        self.lab = None

    def start(self):
        d = self.tmp
        good1 = make_cert(d, "good1", ["mx1.good.test"], self.ca)
        self.servers.append(AuditSmtp(self.good1, GOOD, name="mx1.good.test",
                                      starttls=good1[:2], users=("postmaster", "alice")).start())
        self.postfix = BackupMX(ca=self.ca, hostname="mx2.good.test", relay_domain=GOOD,
                                relay_to=(self.good1, 25), main={
                                    "mynetworks": "192.0.2.1/32",
                                    "relay_recipient_maps":
                                        "inline:{ postmaster@good.test=ok, alice@good.test=ok }",
                                })
        self.postfix.open()
        self.servers.append(AuditSmtp(self.f1, FAULTY, banner_host="wrong.example",
                                      accept_any=True, relay=True, reject_postmaster=True))
        expired = make_cert(d, "expired", ["mx2.faulty.test"], self.ca, -60, -2)
        self.servers.append(AuditSmtp(self.f2, FAULTY, name="mx2.faulty.test",
                                      starttls=expired[:2]))
        other = make_cert(d, "other", ["other.example"], self.ca)
        self.servers.append(AuditSmtp(self.f3, FAULTY, name="mx3.faulty.test",
                                      starttls=other[:2]))
        selfsigned = make_cert(d, "selfsigned", ["mx4.faulty.test"])
        self.servers.append(AuditSmtp(self.f4, FAULTY, name="mx4.faulty.test",
                                      starttls=selfsigned[:2]))
        for s in self.servers[1:]:
            s.start()
        web = make_cert(d, "web", ["mta-sts.good.test", "mta-sts.faulty.test"], self.ca)
        self.web = PolicyServer(self.https, {
            "mta-sts.good.test": "version: STSv1\r\nmode: enforce\r\nmx: mx1.good.test\r\n"
                                 "mx: mx2.good.test\r\nmax_age: 86400\r\n",
            "mta-sts.faulty.test": "version: STSv1\nmode: enforce\nmx: mx1.faulty.test\n"
                                   "max_age: 86400\n",
        }, web[:2]).start()
        pf_spki = spki_of_file(self.postfix.cert_file)
        good_extra = (
            '_mta-sts TXT "v=STSv1; id=2026120201"\n'
            "mta-sts A %s\n" % self.https +
            '_smtp._tls TXT "v=TLSRPTv1; rua=mailto:tlsrpt@good.test"\n'
            "_25._tcp.mx1 TLSA 3 1 1 %s\n" % good1[2] +
            "_25._tcp.mx2 TLSA 3 1 1 %s\n" % pf_spki)
        includes = "".join("_i%d TXT \"v=spf1 a:h%d.faulty.test ~all\"\n" % (i, i)
                           for i in range(6))
        faulty = (
            "@ MX 10 mx1\n@ MX 20 mx2\n@ MX 30 mx3\n@ MX 40 mx4\n@ MX 50 mx5\n"
            "mx1 A %s\nmx2 A %s\nmx3 A %s\nmx4 A %s\nmx5 A %s\n"
            % (self.f1, self.f2, self.f3, self.f4, self.f5) +
            '@ TXT "v=spf1 mx a include:_i0.faulty.test include:_i1.faulty.test '
            'include:_i2.faulty.test include:_i3.faulty.test include:_i4.faulty.test '
            'include:_i5.faulty.test include:_broken.faulty.test -all"\n' + includes +
            '_broken TXT "v=spf1 ip4:192.0.2.300 -all"\n'
            '_dmarc TXT "v=DMARC1; p=none; rua=mailto:d@faulty.test"\n'
            '_mta-sts TXT "v=STSv1; id=1"\n'
            "mta-sts A %s\n" % self.https +
            '_smtp._tls TXT "v=TLSRPTv1; rua=ftp://reports.faulty.test/"\n'
            "_25._tcp.mx3 TLSA 3 1 1 %s\n" % ("00" * 32))
        faulty2 = (
            "@ MX 10 mx1.faulty.test.\n"
            '@ TXT "v=spf1 mx -all"\n@ TXT "v=spf1 a -all"\n'
            '_mta-sts TXT "v=STSv1; id=not-an-id!"\n')
        ptr = {self.f1: "mx1.faulty.test.", self.f2: "mx2.faulty.test.",
               self.f3: "mx3.faulty.test.", self.f4: "mx4.faulty.test.",
               self.f5: "mx5.faulty.test.", self.postfix.host: "mx2.good.test."}
        self.lab = auditlab.AuditLab(os.path.join(d, "lab"), extra={GOOD: good_extra},
                                     extra_ptr=ptr, zones={FAULTY: faulty, FAULTY2: faulty2},
                                     good_mx=[self.good1, self.postfix.host])
        self.lab.start()
        for addr in [self.good1, self.postfix.host, self.f1, self.f2, self.f3, self.f4]:
            assert port_open(addr, 25), "no SMTP server on %s:25" % addr
        assert port_open(self.https, 443)
        return self

    def stop(self):
        if self.lab is not None:
            self.lab.stop()
        for s in self.servers:
            s.close()
        if getattr(self, "web", None) is not None:
            self.web.close()
        if self.postfix is not None:
            self.postfix.close()
        auditlab.release_block(self.addrs)

    def audit(self, run, domains, extra=(), timeout=5):
        env = dict(os.environ, MXF_CA_FILE=self.ca.ca_file)
        t0 = time.monotonic()
        rc, out, err = run(["audit", "--json", "--resolver", self.lab.resolver,
                            "--timeout", "%ds" % timeout] + self.lab.allow_args + list(extra)
                           + list(domains), env=env, timeout=60)
        secs = time.monotonic() - t0
        try:
            reports = {r["domain"]: r for r in json.loads(out)}
        except ValueError:
            pytest.fail("audit printed no JSON (rc %d):\n%s\n%s" % (rc, out, err))
        return rc, reports, err, secs


@pytest.fixture(scope="module")
def plab(tmp_path_factory):
    lab = PolicyLab(tmp_path_factory.mktemp("policy"))
    try:
        lab.start()
    except BaseException:
        lab.stop()
        raise
    yield lab
    lab.stop()


def ids(report):
    return {f["id"] for f in report["findings"]}


def findings(report, fid):
    return [f for f in report["findings"] if f["id"] == fid]


def show(report):
    return "\n".join("%s %s %s: %s" % (f["severity"], f["id"], f["subject"], f["message"])
                     for f in report["findings"])


# ----------------------------------------------------------------- tests ----

def test_clean_domain_policy_and_smtp(plab, run):
    before = plab.lab.serials()
    rc, reports, err, secs = plab.audit(run, [GOOD])
    r = reports[GOOD]
    mine = [f for f in r["findings"] if f["id"] in POLICY_IDS]
    # Nothing from the policy records or the probes of mx1 (ours) and mx2
    # (real Postfix, backup MX with relay_recipient_maps), not even info.
    assert mine == [], show(r)
    assert r["checks"] > 20
    # The fake primary saw the whole conversation and never DATA.
    fake = plab.servers[0]
    verbs = [c.split(" ")[0].split(":")[0].upper() for c in fake.commands]
    for v in ("EHLO", "STARTTLS", "MAIL", "RCPT", "RSET", "QUIT"):
        assert v in verbs, fake.commands
    assert fake.data_count == 0 and "DATA" not in verbs
    assert verbs.count("EHLO") == 2  # again after STARTTLS
    rcpts = [c for c in fake.commands if c.upper().startswith("RCPT")]
    assert any("postmaster@good.test" in c for c in rcpts)
    assert any("@example.net" in c for c in rcpts)
    # Postfix refused the made-up recipient and the relay (its log says so).
    log = plab.postfix.log_tail(200)
    assert "Relay access denied" in log or "relay" in log.lower(), log
    # The policy file was fetched over HTTPS with the Host header of the domain.
    assert ("mta-sts.good.test", "/.well-known/mta-sts.txt") in plab.web.requests
    assert plab.lab.serials() == before
    assert secs < 10


def test_faulty_domain_every_planted_mistake(plab, run):
    rc, reports, err, secs = plab.audit(run, [FAULTY, FAULTY2, auditlab.LONE])
    assert rc == 1
    f, f2, lone = reports[FAULTY], reports[FAULTY2], reports[auditlab.LONE]
    expected = {
        "accepts-unknown-recipient", "open-relay", "postmaster-rejected",
        "starttls-missing", "banner-mismatch", "cert-expired", "cert-name-mismatch",
        "cert-untrusted", "smtp-unreachable", "dane-tlsa-mismatch",
        "spf-too-many-lookups", "spf-syntax", "dmarc-weak", "mta-sts-mx-mismatch",
        "tlsrpt-invalid",
    }
    assert expected <= ids(f), "missing %s in:\n%s" % (expected - ids(f), show(f))
    assert {"spf-multiple", "dmarc-missing", "mta-sts-invalid"} <= ids(f2), show(f2)
    assert "spf-missing" in ids(lone), show(lone)

    def one(fid, subject_part):
        got = [x for x in findings(f, fid) if subject_part in x["subject"]]
        assert got, "%s on %s not found:\n%s" % (fid, subject_part, show(f))
        return got[0]

    # Each finding is about the right host, with the right severity.
    assert one("open-relay", "mx1.faulty.test")["severity"] == "error"
    one("accepts-unknown-recipient", "mx1.faulty.test")
    one("postmaster-rejected", "mx1.faulty.test")
    assert one("banner-mismatch", "mx1.faulty.test")["severity"] == "info"
    assert "wrong.example" in one("banner-mismatch", "mx1")["message"]
    # MTA-STS enforce makes certificate and STARTTLS findings errors.
    assert one("starttls-missing", "mx1.faulty.test")["severity"] == "error"
    assert one("cert-expired", "mx2.faulty.test")["severity"] == "error"
    assert one("cert-name-mismatch", "mx3.faulty.test")["severity"] == "error"
    assert one("cert-untrusted", "mx4.faulty.test")["severity"] == "error"
    one("smtp-unreachable", "mx5.faulty.test")
    one("dane-tlsa-mismatch", "mx3.faulty.test")
    # Only the faulty certificates are reported, each on its own host.
    assert not [x for x in findings(f, "cert-expired") if "mx2" not in x["subject"]]
    assert not [x for x in findings(f, "cert-untrusted") if "mx4" not in x["subject"]]
    assert not [x for x in findings(f, "cert-name-mismatch") if "mx3" not in x["subject"]]
    mism = {x["subject"] for x in findings(f, "mta-sts-mx-mismatch")}
    assert mism == {"mx2.faulty.test", "mx3.faulty.test", "mx4.faulty.test",
                    "mx5.faulty.test"}, show(f)
    assert "_broken.faulty.test" in one("spf-syntax", "_broken")["subject"]
    assert "192.0.2.300" in one("spf-syntax", "_broken")["message"]
    assert "ftp" in one("tlsrpt-invalid", "_smtp._tls")["message"]
    # None of the fault servers was sent DATA.
    assert all(s.data_count == 0 for s in plab.servers)


def test_no_smtp_skips_probes_keeps_policy(plab, run):
    n_before = [len(s.commands) for s in plab.servers]
    rc, reports, err, secs = plab.audit(run, [FAULTY], extra=["--no-smtp"])
    f = reports[FAULTY]
    smtp_ids = {"accepts-unknown-recipient", "open-relay", "postmaster-rejected",
                "starttls-missing", "cert-expired", "smtp-unreachable", "banner-mismatch"}
    assert not (smtp_ids & ids(f)), show(f)
    assert {"spf-too-many-lookups", "dmarc-weak", "mta-sts-mx-mismatch"} <= ids(f), show(f)
    assert [len(s.commands) for s in plab.servers] == n_before
