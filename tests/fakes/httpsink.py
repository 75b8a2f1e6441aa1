#!/usr/bin/python3
"""httpsink.py -- a scriptable HTTP receiver for the webhook tests.

Listens on 127.0.0.1 on a free port and records every request (method,
path, headers, body).

    with HttpSink(mode="200") as h:
        ... webhook = http://127.0.0.1:{h.port}/hook ...
        h.requests   # [Request(method, path, headers, body)]
        h.bodies()   # the POST bodies, decoded

Modes:
  200        every request gets 200 OK
  500        the first `failures` requests (default 1) get 500, then 200
  404        every request gets 404
  hangs      the request is read and never answered (until stop or
             MAX_SECONDS)
  refuses    nobody listens on .port

From a shell: python3 tests/fakes/httpsink.py --mode 500 (prints the port).
Bodies are limited to 1 MiB; every wait is bounded.
"""

import argparse
import collections
import http.server
import os
import sys
import threading

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))), "lib"))

import net  # noqa: E402

MAX_SECONDS = 60.0
MAX_BODY = 1 << 20

Request = collections.namedtuple("Request", "method path headers body")


class _Handler(http.server.BaseHTTPRequestHandler):
    timeout = MAX_SECONDS

    def log_message(self, *args):
        pass

    def do_POST(self):
        sink = self.server.owner
        n = int(self.headers.get("Content-Length") or 0)
        if n > MAX_BODY:
            self.send_error(413)
            return
        body = self.rfile.read(n)
        with sink.lock:
            sink.requests.append(Request("POST", self.path,
                                         dict(self.headers), body))
            count = len(sink.requests)
        if sink.mode == "hangs":
            sink.stop_event.wait(MAX_SECONDS)
            return
        if sink.mode == "404":
            status = 404
        elif sink.mode == "500" and count <= sink.failures:
            status = 500
        else:
            status = 200
        out = b'{"ok": %s}\n' % (b"true" if status == 200 else b"false")
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)

    do_PUT = do_POST


class HttpSink(net.ThreadedServer):
    handler = _Handler
    server_base = http.server.ThreadingHTTPServer
    refuses = "refuses"

    def __init__(self, mode="200", failures=1, host="127.0.0.1"):
        super().__init__(mode=mode, host=host)
        self.failures = failures
        self.requests = []
        self.lock = threading.Lock()

    def bodies(self):
        with self.lock:
            return [r.body.decode("utf-8", "replace") for r in self.requests]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--mode", default="200", choices=["200", "500", "404", "hangs", "refuses"])
    args = ap.parse_args()
    return net.serve_from_shell(HttpSink(mode=args.mode), MAX_SECONDS)


if __name__ == "__main__":
    sys.exit(main())
