#!/usr/bin/python3
"""fakeserver.py -- small scriptable servers that refuse, hang, drip, flood,
lie and behave, for the check engine's system tests.

Use from a test:

    with FakeServer("smtp", starttls=True, certfile=..., keyfile=...) as srv:
        run probe on f"smtp://127.0.0.1:{srv.port}"

or from a shell (prints the port on the first line, serves until killed
or for --seconds; --host and --port choose the address):

    python3 tests/fakes/fakeserver.py smtp --banner "421 4.3.2 Service shutting down"

Every server listens on 127.0.0.1 on a free port.  Every loop is bounded in
count and time (MAX_SECONDS), so a forgotten server never runs away.

Modes:
  closed        a port nobody listens on (refused); .port is still set
  silent        accepts and never speaks
  drip          sends DATA one byte every INTERVAL seconds
  flood         sends bytes without a newline until the client goes away
  garbage       sends binary junk with newlines
  reset         sends the greeting (banner=), then resets the connection (RST)
                when the client sends its first line
  smtp          an SMTP server: banner= (str, or bytes sent as they are),
                starttls=, tls_broken=, ehlo_reply=
  imap          an IMAP server: greeting=, starttls=, tls_broken=,
                bye_on=COMMAND (answer it with "* BYE" and close)
  pop3          a POP3 server: greeting=, stls=, tls_broken=,
                capa_lines=N (pad the CAPA list to N lines)
  http          an HTTP server answering every request with status= and
                extra header lines headers=[...]
  mysql         a MySQL server: err= (code, message) sends an ERR packet
Options common to all: implicit_tls=True with certfile=/keyfile= wraps the
connection in TLS before anything else (smtps, imaps, pop3s, https);
host= and port= choose the address (default 127.0.0.1, a free port), so
a test can serve a short check name's default port on its own loopback
address.
"""

import argparse
import os
import random
import socket
import socketserver
import ssl
import struct
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))), "lib"))

import net  # noqa: E402

MAX_SECONDS = 30.0


class _Conn:
    """A line-oriented connection that can be upgraded to TLS."""

    def __init__(self, sock, server):
        self.sock = sock
        self.server = server
        self.buf = b""
        self.deadline = time.monotonic() + MAX_SECONDS
        sock.settimeout(MAX_SECONDS)

    def send(self, data):
        if isinstance(data, str):
            data = data.encode()
        self.sock.sendall(data)

    def line(self):
        """One line without CRLF, or None at EOF / error / time limit."""
        while b"\n" not in self.buf:
            if time.monotonic() > self.deadline or len(self.buf) > 65536:
                return None
            try:
                chunk = self.sock.recv(4096)
            except (OSError, ssl.SSLError):
                return None
            if not chunk:
                return None
            self.buf += chunk
        line, _, self.buf = self.buf.partition(b"\n")
        self.server.log.append(line.rstrip(b"\r").decode("latin-1"))
        return line.rstrip(b"\r").decode("latin-1")

    def starttls(self):
        ctx = self.server.tls_context()
        self.sock = ctx.wrap_socket(self.sock, server_side=True)
        self.sock.settimeout(MAX_SECONDS)


class _Handler(socketserver.BaseRequestHandler):
    def handle(self):
        srv = self.server.owner
        srv.connections += 1
        conn = _Conn(self.request, srv)
        try:
            if srv.opts.get("implicit_tls"):
                conn.starttls()
            getattr(srv, "_serve_" + srv.mode)(conn)
        except (OSError, ssl.SSLError):
            pass
        finally:
            try:
                conn.sock.close()
            except OSError:
                pass


class FakeServer(net.ThreadedServer):
    """A fake server on 127.0.0.1; a context manager; .port is its port,
    .log the lines clients sent, .connections how many connected."""

    handler = _Handler
    refuses = "closed"
    poll_interval = 0.05

    def __init__(self, mode, **opts):
        super().__init__(mode=mode, host=opts.get("host", "127.0.0.1"),
                         port=int(opts.get("port", 0)) or None)
        self.opts = opts
        self.log = []
        self.connections = 0
        self._ctx = None

    def tls_context(self):
        if self._ctx is None:
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.load_cert_chain(self.opts["certfile"], self.opts["keyfile"])
            self._ctx = ctx
        return self._ctx

    # -- fault modes ---------------------------------------------------
    def _serve_silent(self, conn):
        end = time.monotonic() + MAX_SECONDS
        while time.monotonic() < end:
            try:
                if not conn.sock.recv(4096):
                    return
            except OSError:
                return

    def _serve_drip(self, conn):
        data = self.opts.get("data", "220 mx.example.test ESMTP slowly\r\n").encode()
        interval = float(self.opts.get("interval", 0.5))
        for i in range(min(len(data), int(MAX_SECONDS / interval))):
            conn.send(data[i:i + 1])
            time.sleep(interval)
        self._serve_silent(conn)

    def _serve_flood(self, conn):
        chunk = self.opts.get("byte", "A").encode() * 65536
        end = time.monotonic() + MAX_SECONDS
        sent = 0
        limit = int(self.opts.get("limit", 1 << 30))
        while time.monotonic() < end and sent < limit:
            conn.send(chunk)
            sent += len(chunk)

    def _serve_garbage(self, conn):
        rnd = random.Random(42)
        junk = bytes(rnd.randrange(256) for _ in range(200)).replace(b"\n", b"") + b"\r\n"
        conn.send(junk)
        self._serve_silent(conn)

    def _serve_reset(self, conn):
        conn.send(self.opts.get("banner", "220 mx.example.test ESMTP\r\n"))
        conn.line()
        # SO_LINGER with a zero timeout turns close() into a RST.
        conn.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        conn.sock.close()

    # -- protocol modes --------------------------------------------------
    def _tls_step(self, conn):
        """After the go-ahead: break the handshake or upgrade."""
        if self.opts.get("tls_broken"):
            conn.send(b"this is not a TLS server hello\r\n")
            time.sleep(0.2)
            return False
        conn.starttls()
        return True

    def _serve_smtp(self, conn):
        banner = self.opts.get("banner", "220 mx.example.test ESMTP fake")
        # bytes: sent as they are (invalid UTF-8 included); str: UTF-8.
        conn.send(banner + (b"\r\n" if isinstance(banner, bytes) else "\r\n"))
        tls = bool(self.opts.get("implicit_tls"))
        for _ in range(100):
            line = conn.line()
            if line is None:
                return
            cmd = line.split(" ")[0].upper()
            if cmd in ("EHLO", "HELO"):
                reply = self.opts.get("ehlo_reply")
                if reply:
                    conn.send(reply + "\r\n")
                    continue
                lines = ["mx.example.test greets " + line[5:], "PIPELINING", "SIZE 10240000"]
                if self.opts.get("starttls") and not tls:
                    lines.append("STARTTLS")
                lines.append("8BITMIME")
                out = "".join(f"250-{l}\r\n" for l in lines[:-1]) + f"250 {lines[-1]}\r\n"
                conn.send(out)
            elif cmd == "STARTTLS":
                conn.send("220 2.0.0 Ready to start TLS\r\n")
                if not self._tls_step(conn):
                    return
                tls = True
            elif cmd == "QUIT":
                conn.send("221 2.0.0 Bye\r\n")
                return
            else:
                conn.send("502 5.5.2 Error: command not recognized\r\n")

    def _serve_imap(self, conn):
        caps = "IMAP4rev1 LITERAL+ SASL-IR"
        tls = bool(self.opts.get("implicit_tls"))
        if self.opts.get("starttls") and not tls:
            caps += " STARTTLS"
        conn.send(self.opts.get("greeting", f"* OK [CAPABILITY {caps}] fake ready") + "\r\n")
        for _ in range(100):
            line = conn.line()
            if line is None:
                return
            parts = line.split(" ")
            tag, cmd = parts[0], (parts[1].upper() if len(parts) > 1 else "")
            if cmd == self.opts.get("bye_on"):
                conn.send("* BYE Server shutting down\r\n")
                return
            if cmd == "CAPABILITY":
                conn.send(f"* CAPABILITY {caps}\r\n{tag} OK Pre-login capabilities listed\r\n")
            elif cmd == "STARTTLS":
                conn.send(f"{tag} OK Begin TLS negotiation now.\r\n")
                if not self._tls_step(conn):
                    return
                tls = True
                caps = caps.replace(" STARTTLS", "")
            elif cmd == "LOGOUT":
                conn.send(f"* BYE Logging out\r\n{tag} OK Logout completed.\r\n")
                return
            else:
                conn.send(f"{tag} BAD Error in IMAP command\r\n")

    def _serve_pop3(self, conn):
        tls = bool(self.opts.get("implicit_tls"))
        conn.send(self.opts.get("greeting", "+OK fake POP3 ready") + "\r\n")
        for _ in range(100):
            line = conn.line()
            if line is None:
                return
            cmd = line.split(" ")[0].upper()
            if cmd == "CAPA":
                caps = ["TOP", "UIDL", "USER"]
                caps += ["X-PAD-%d" % i for i in range(int(self.opts.get("capa_lines", 0)))]
                if self.opts.get("stls") and not tls:
                    caps.append("STLS")
                conn.send("+OK\r\n" + "".join(c + "\r\n" for c in caps) + ".\r\n")
            elif cmd == "STLS":
                conn.send("+OK Begin TLS negotiation\r\n")
                if not self._tls_step(conn):
                    return
                tls = True
            elif cmd == "QUIT":
                conn.send("+OK Logging out\r\n")
                return
            else:
                conn.send("-ERR Unknown command\r\n")

    def _serve_http(self, conn):
        for _ in range(100):
            line = conn.line()
            if line is None or line == "":
                break
        status = self.opts.get("status", "200 OK")
        body = b"fake\n"
        extra = "".join(h + "\r\n" for h in self.opts.get("headers", []))
        conn.send(f"HTTP/1.1 {status}\r\n{extra}Content-Length: {len(body)}\r\n"
                  "Connection: close\r\n\r\n".encode() + body)

    def _serve_mysql(self, conn):
        err = self.opts.get("err")
        if err:
            code, msg = err
            payload = b"\xff" + struct.pack("<H", code) + b"#HY000" + msg.encode()
        else:
            version = self.opts.get("version", "10.11.6-MariaDB-fake")
            payload = (b"\x0a" + version.encode() + b"\0" + struct.pack("<I", 7) +
                       b"abcdefgh\0" + struct.pack("<H", 0xf7fe) + b"\x21" +
                       struct.pack("<H", 2) + struct.pack("<H", 0x81bf) + b"\x15" +
                       b"\0" * 10 + b"ijklmnopqrst\0" + b"mysql_native_password\0")
        conn.send(struct.pack("<I", len(payload))[:3] + b"\0" + payload)
        self._serve_silent(conn)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("mode")
    ap.add_argument("--banner")
    ap.add_argument("--status")
    ap.add_argument("--starttls", action="store_true")
    ap.add_argument("--seconds", type=float, default=MAX_SECONDS)
    ap.add_argument("--host")
    ap.add_argument("--port", type=int)
    a = ap.parse_args()
    opts = {k: v for k, v in vars(a).items() if v not in (None, False) and k not in ("mode", "seconds")}
    net.serve_from_shell(FakeServer(a.mode, **opts), min(a.seconds, 3600))


if __name__ == "__main__":
    main()
