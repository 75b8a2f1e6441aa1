#!/usr/bin/python3
"""smtpsink.py -- the lab's SMTP receiver: for the notify and ETRN tests, and
the primary a backup-MX Postfix (tests/lib/mailservers.py) relays to.

It listens on 127.0.0.1 on a free port, offers STARTTLS (when given a
certificate) and AUTH PLAIN/LOGIN, and records everything: each command line
with whether it came over TLS (so a test can assert that no secret was sent
in clear text), each AUTH exchange, each message.  ETRN gets a configurable
reply.

Use from a test:

    with SmtpSink(certfile=c, keyfile=k, mode="normal") as s:
        ... smtp://127.0.0.1:{s.port} ...
        s.messages      # [Message(mail_from, rcpts, data, tls, auth_user, raw)]
        s.commands      # [(tls, line)]
        s.etrn          # ["example.com", ...] arguments received
        s.count()       # len(s.messages)

stop() closes the listening socket (the primary is down: connection
refused); start() opens it again on the same port.

or from a shell (prints the port on the first line, serves until killed or
MAX_SECONDS):

    python3 tests/fakes/smtpsink.py --mode normal --cert c.pem --key k.pem

Modes:
  normal        banner 220, EHLO (STARTTLS when a certificate is given and
                starttls=True; AUTH after TLS, or always with auth_plain=True),
                MAIL/RCPT/DATA/RSET/NOOP/ETRN/QUIT
  refuses       nobody listens on .port (connection refused)
  hangs         accepts and never says anything
  421           banner "421 4.3.2 Service shutting down", then closes
  rejects_auth  as normal, but AUTH gets 535 5.7.8
Options: implicit_tls=True (smtps), require_tls=True (MAIL before STARTTLS
gets 530), etrn_reply="250 Queuing started" or a dict {domain: reply},
users={"user": "password"} (default: any user/password accepted).
Every loop is bounded (MAX_SECONDS, line and message limits), so a forgotten
sink never runs away.
"""

import argparse
import base64
import collections
import os
import socketserver
import ssl
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))), "lib"))

import net  # noqa: E402

MAX_SECONDS = 60.0
MAX_LINE = 4096
MAX_MESSAGE = 1 << 20

# data: the text, lines joined by "\n"; raw: the bytes as sent, line ends
# kept, dots unstuffed.
Message = collections.namedtuple("Message", "mail_from rcpts data tls auth_user raw")


class _Closed(Exception):
    pass


class _Conn:
    def __init__(self, sock, sink):
        self.sock = sock
        self.sink = sink
        self.buf = b""
        self.tls = False
        self.deadline = time.monotonic() + MAX_SECONDS
        sock.settimeout(MAX_SECONDS)

    def send(self, line):
        self.sock.sendall(line.encode() + b"\r\n")

    def readline(self):
        """The next line, decoded, without its line end."""
        return self.readline_raw().rstrip(b"\n").rstrip(b"\r").decode("utf-8", "replace")

    def readline_raw(self):
        """The next line as bytes, with its line end."""
        while b"\n" not in self.buf:
            if len(self.buf) > MAX_LINE or time.monotonic() > self.deadline:
                raise _Closed()
            try:
                data = self.sock.recv(4096)
            except (OSError, ssl.SSLError):
                raise _Closed()
            if not data:
                raise _Closed()
            self.buf += data
        line, self.buf = self.buf.split(b"\n", 1)
        return line + b"\n"

    def starttls(self):
        if self.buf:
            raise _Closed()
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.load_cert_chain(self.sink.certfile, self.sink.keyfile)
        self.sock = ctx.wrap_socket(self.sock, server_side=True)
        self.tls = True


class _Handler(socketserver.BaseRequestHandler):
    def handle(self):
        sink = self.server.owner
        with sink.lock:
            sink.connections += 1
        try:
            sink._session(self.request)
        except (_Closed, OSError, ssl.SSLError):
            pass


class SmtpSink(net.ThreadedServer):
    handler = _Handler
    refuses = "refuses"

    def __init__(self, mode="normal", certfile=None, keyfile=None, starttls=True,
                 implicit_tls=False, require_tls=False, auth_plain=False,
                 etrn_reply="250 Queuing started", users=None,
                 host="127.0.0.1", port=None, name="sink.lab.test"):
        super().__init__(mode=mode, host=host, port=port)
        self.certfile = certfile
        self.keyfile = keyfile
        self.starttls = starttls and certfile is not None
        self.implicit_tls = implicit_tls
        self.require_tls = require_tls
        self.auth_plain = auth_plain
        self.etrn_reply = etrn_reply
        self.users = users
        self.name = name
        self.messages = []
        self.commands = []
        self.auths = []        # (tls, user, password, ok)
        self.etrn = []
        self.connections = 0
        self.lock = threading.Lock()

    # what was said
    def count(self):
        """How many messages were received."""
        with self.lock:
            return len(self.messages)

    def command_lines(self):
        with self.lock:
            return list(self.commands)

    def plain_text(self):
        """Everything the client sent outside TLS, as one string."""
        with self.lock:
            return "\n".join(line for tls, line in self.commands if not tls)

    def _record(self, conn, line):
        with self.lock:
            self.commands.append((conn.tls, line))

    def _etrn_reply(self, domain):
        r = self.etrn_reply
        if isinstance(r, dict):
            return r.get(domain.lstrip("@"), r.get("*", "458 Unable to queue messages"))
        return r

    def _session(self, sock):
        conn = _Conn(sock, self)
        if self.mode == "hangs":
            self.stop_event.wait(MAX_SECONDS)
            return
        if self.implicit_tls:
            conn.starttls()
        if self.mode == "421":
            conn.send("421 4.3.2 Service shutting down")
            return
        conn.send("220 %s ESMTP smtpsink" % self.name)
        mail_from, rcpts, auth_user = None, [], None
        for _ in range(1000):
            line = conn.readline()
            self._record(conn, line)
            verb = line.split(" ", 1)[0].upper()
            arg = line[len(verb):].strip()
            if verb in ("EHLO", "HELO"):
                ext = ["250-%s" % self.name, "250-PIPELINING", "250-8BITMIME",
                       "250-ETRN", "250-SIZE 10240000"]
                if self.starttls and not conn.tls:
                    ext.append("250-STARTTLS")
                if conn.tls or self.auth_plain:
                    ext.append("250-AUTH PLAIN LOGIN")
                ext.append("250 ENHANCEDSTATUSCODES")
                for e in ext:
                    conn.send(e)
            elif verb == "STARTTLS" and self.starttls and not conn.tls:
                conn.send("220 2.0.0 Ready to start TLS")
                conn.starttls()
            elif verb == "AUTH":
                auth_user = self._auth(conn, arg)
            elif verb == "MAIL":
                if self.require_tls and not conn.tls:
                    conn.send("530 5.7.0 Must issue a STARTTLS command first")
                    continue
                mail_from, rcpts = arg.split(":", 1)[1].strip() if ":" in arg else arg, []
                conn.send("250 2.1.0 Ok")
            elif verb == "RCPT":
                rcpts.append(arg.split(":", 1)[1].strip() if ":" in arg else arg)
                conn.send("250 2.1.5 Ok")
            elif verb == "DATA":
                if mail_from is None or not rcpts:
                    conn.send("503 5.5.1 Error: need MAIL and RCPT")
                    continue
                conn.send("354 End data with <CR><LF>.<CR><LF>")
                data = []
                raw = b""
                while True:
                    rl = conn.readline_raw()
                    dl = rl.rstrip(b"\n").rstrip(b"\r").decode("utf-8", "replace")
                    if dl == ".":
                        break
                    if dl.startswith("."):
                        dl, rl = dl[1:], rl[1:]
                    raw += rl
                    if len(raw) > MAX_MESSAGE:
                        raise _Closed()
                    data.append(dl)
                with self.lock:
                    self.messages.append(Message(mail_from, rcpts, "\n".join(data),
                                                 conn.tls, auth_user, raw))
                mail_from, rcpts = None, []
                conn.send("250 2.0.0 Ok: queued as %d" % len(self.messages))
            elif verb == "ETRN":
                with self.lock:
                    self.etrn.append(arg)
                conn.send(self._etrn_reply(arg))
            elif verb == "RSET":
                mail_from, rcpts = None, []
                conn.send("250 2.0.0 Ok")
            elif verb == "NOOP":
                conn.send("250 2.0.0 Ok")
            elif verb == "QUIT":
                conn.send("221 2.0.0 Bye")
                return
            else:
                conn.send("502 5.5.2 Error: command not recognized")

    def _auth(self, conn, arg):
        parts = arg.split()
        mech = parts[0].upper() if parts else ""
        user = password = None
        if mech == "PLAIN":
            if len(parts) > 1:
                blob = parts[1]
            else:
                conn.send("334 ")
                blob = conn.readline()
                self._record(conn, blob)
            try:
                _, user, password = base64.b64decode(blob).decode().split("\0", 2)
            except Exception:
                conn.send("501 5.5.2 Cannot decode response")
                return None
        elif mech == "LOGIN":
            if len(parts) > 1:
                user = base64.b64decode(parts[1]).decode("utf-8", "replace")
            else:
                conn.send("334 VXNlcm5hbWU6")
                ul = conn.readline()
                self._record(conn, ul)
                user = base64.b64decode(ul).decode("utf-8", "replace")
            conn.send("334 UGFzc3dvcmQ6")
            pl = conn.readline()
            self._record(conn, pl)
            password = base64.b64decode(pl).decode("utf-8", "replace")
        else:
            conn.send("504 5.5.4 Unrecognized authentication type")
            return None
        ok = self.mode != "rejects_auth" and (
            self.users is None or self.users.get(user) == password)
        with self.lock:
            self.auths.append((conn.tls, user, password, ok))
        if ok:
            conn.send("235 2.7.0 Authentication successful")
            return user
        conn.send("535 5.7.8 Error: authentication failed")
        return None


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--mode", default="normal",
                    choices=["normal", "refuses", "hangs", "421", "rejects_auth"])
    ap.add_argument("--cert")
    ap.add_argument("--key")
    ap.add_argument("--implicit-tls", action="store_true")
    ap.add_argument("--etrn-reply", default="250 Queuing started")
    args = ap.parse_args()
    return net.serve_from_shell(SmtpSink(
        mode=args.mode, certfile=args.cert, keyfile=args.key,
        implicit_tls=args.implicit_tls, etrn_reply=args.etrn_reply), MAX_SECONDS)


if __name__ == "__main__":
    sys.exit(main())
