#!/usr/bin/python3
"""auditsmtp.py -- fault servers for `mxfailover audit`'s SMTP probe and
MTA-STS fetch: an SMTP server on port 25 of a loopback address with the
mistakes a real MX host makes, and an HTTPS server for
mta-sts.DOMAIN/.well-known/mta-sts.txt.

    with AuditSmtp("127.40.1.10", "faulty.test", accept_any=True,
                   relay=True) as s:
        ... s.commands  # every command line received, in order

SMTP faults (keyword arguments):
  banner_host     the name in the 220 banner (default: the MX name given as
                  @name, else "mx.DOMAIN")
  starttls        (certfile, keyfile) to offer STARTTLS with, or None
  accept_any      RCPT for any local part of @domain is accepted (backscatter)
  users           local parts of @domain that exist (default: postmaster)
  reject_postmaster  postmaster@@domain is refused
  relay           RCPT for any other domain is accepted (open relay)
Everything else is refused as Postfix does.  DATA is answered "554" and
counted: the audit must never send it.

Every loop is bounded: a connection lasts at most MAX_SECONDS, at most
MAX_LINES lines; the servers stop on close().
"""

import http.server
import socket
import socketserver
import ssl
import threading

MAX_SECONDS = 20.0
MAX_LINES = 200


class _Threaded(socketserver.ThreadingMixIn, socketserver.TCPServer):
    daemon_threads = True
    allow_reuse_address = True


class _SmtpHandler(socketserver.StreamRequestHandler):
    timeout = MAX_SECONDS

    def _send(self, text):
        self.wfile.write((text + "\r\n").encode())
        self.wfile.flush()

    def handle(self):
        srv = self.server.owner
        f = self.rfile
        self._send("220 %s ESMTP audit fake" % srv.banner_host)
        tls = False
        for _ in range(MAX_LINES):
            try:
                raw = f.readline(1024)
            except (OSError, ssl.SSLError):
                return
            if not raw:
                return
            line = raw.decode("latin-1").rstrip("\r\n")
            with srv.lock:
                srv.commands.append(line)
            verb = line.split(" ", 1)[0].upper()
            if verb == "EHLO":
                ext = ["250-%s" % srv.banner_host, "250-PIPELINING"]
                if srv.starttls and not tls:
                    ext.append("250-STARTTLS")
                ext.append("250 8BITMIME")
                for e in ext:
                    self._send(e)
            elif verb == "HELO":
                self._send("250 %s" % srv.banner_host)
            elif verb == "STARTTLS" and srv.starttls and not tls:
                self._send("220 2.0.0 Ready to start TLS")
                ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
                ctx.load_cert_chain(*srv.starttls)
                try:
                    conn = ctx.wrap_socket(self.connection, server_side=True)
                except (OSError, ssl.SSLError):
                    return
                conn.settimeout(MAX_SECONDS)
                self.connection = conn
                f = conn.makefile("rb")
                self.wfile = conn.makefile("wb")
                tls = True
            elif verb == "MAIL":
                self._send("250 2.1.0 Ok")
            elif verb == "RCPT":
                self._send(srv.rcpt_reply(line))
            elif verb == "RSET":
                self._send("250 2.0.0 Ok")
            elif verb == "NOOP":
                self._send("250 2.0.0 Ok")
            elif verb == "DATA":
                with srv.lock:
                    srv.data_count += 1
                self._send("554 5.5.1 Error: no valid recipients")
            elif verb == "QUIT":
                self._send("221 2.0.0 Bye")
                return
            else:
                self._send("502 5.5.2 Error: command not recognized")


class AuditSmtp:
    """One SMTP fault server on @addr:@port (see the module's text)."""

    def __init__(self, addr, domain, name=None, banner_host=None, starttls=None,
                 accept_any=False, users=("postmaster",), reject_postmaster=False,
                 relay=False, port=25):
        self.addr, self.port, self.domain = addr, port, domain.lower()
        self.banner_host = banner_host or name or ("mx." + domain)
        self.starttls = starttls
        self.accept_any = accept_any
        self.users = set(u.lower() for u in users)
        self.reject_postmaster = reject_postmaster
        self.relay = relay
        self.commands = []
        self.data_count = 0
        self.lock = threading.Lock()
        self.server = None
        self.thread = None

    def rcpt_reply(self, line):
        start, end = line.find("<"), line.find(">")
        if start < 0 or end < start:
            return "501 5.1.3 Bad recipient address syntax"
        address = line[start + 1:end].lower()
        local, _, dom = address.rpartition("@")
        if dom != self.domain:
            return ("250 2.1.5 Ok" if self.relay
                    else "554 5.7.1 <%s>: Relay access denied" % address)
        if local == "postmaster" and self.reject_postmaster:
            return "550 5.1.1 <%s>: Recipient address rejected" % address
        if self.accept_any or local == "postmaster":
            return "250 2.1.5 Ok"
        if local in self.users:
            return "250 2.1.5 Ok"
        return "550 5.1.1 <%s>: Recipient address rejected: User unknown" % address

    def start(self):
        self.server = _Threaded((self.addr, self.port), _SmtpHandler)
        self.server.owner = self
        self.thread = threading.Thread(target=self.server.serve_forever,
                                       kwargs={"poll_interval": 0.1}, daemon=True)
        self.thread.start()
        return self

    def close(self):
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.thread.join(5)
            self.server = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.close()


class _PolicyHandler(http.server.BaseHTTPRequestHandler):
    timeout = MAX_SECONDS

    def log_message(self, fmt, *args):
        pass

    def do_GET(self):
        srv = self.server.owner
        host = (self.headers.get("Host") or "").split(":")[0].lower()
        with srv.lock:
            srv.requests.append((host, self.path))
        body = srv.policies.get(host)
        if self.path != "/.well-known/mta-sts.txt" or body is None:
            self.send_response(404)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", "10")
            self.end_headers()
            self.wfile.write(b"not found\n")
            return
        data = body.encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


class _ThreadedHttp(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True


class PolicyServer:
    """HTTPS on @addr:@port serving {host: policy text} @policies at
    /.well-known/mta-sts.txt with the certificate (certfile, keyfile)."""

    def __init__(self, addr, policies, cert, port=443):
        self.addr, self.port = addr, port
        self.policies = {h.lower(): b for h, b in policies.items()}
        self.cert = cert
        self.requests = []
        self.lock = threading.Lock()
        self.server = None
        self.thread = None

    def start(self):
        self.server = _ThreadedHttp((self.addr, self.port), _PolicyHandler)
        self.server.owner = self
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(*self.cert)
        self.server.socket = ctx.wrap_socket(self.server.socket, server_side=True)
        self.thread = threading.Thread(target=self.server.serve_forever,
                                       kwargs={"poll_interval": 0.1}, daemon=True)
        self.thread.start()
        return self

    def close(self):
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.thread.join(5)
            self.server = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.close()


def port_open(addr, port, timeout=0.5):
    try:
        with socket.create_connection((addr, port), timeout=timeout):
            return True
    except OSError:
        return False
