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
import socket
import socketserver
import sys
import threading
import time

MAX_SECONDS = 60.0
MAX_BODY = 1 << 20

Request = collections.namedtuple("Request", "method path headers body")


def free_port(host="127.0.0.1"):
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


class HttpSink:
    def __init__(self, mode="200", failures=1, host="127.0.0.1"):
        self.mode = mode
        self.failures = failures
        self.host = host
        self.port = None
        self.requests = []
        self.lock = threading.Lock()
        self.stop_event = threading.Event()
        self.server = None
        self.thread = None

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.stop()

    def bodies(self):
        with self.lock:
            return [r.body.decode("utf-8", "replace") for r in self.requests]

    def start(self):
        if self.mode == "refuses":
            self.port = free_port(self.host)
            return
        sink = self

        class Handler(http.server.BaseHTTPRequestHandler):
            timeout = MAX_SECONDS

            def log_message(self, *args):
                pass

            def do_POST(self):
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

        class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
            allow_reuse_address = True
            daemon_threads = True

        self.server = Server((self.host, 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever,
                                       kwargs={"poll_interval": 0.1}, daemon=True)
        self.thread.start()

    def stop(self):
        self.stop_event.set()
        if self.server is None:
            return
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)
        self.server = self.thread = None


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--mode", default="200", choices=["200", "500", "404", "hangs", "refuses"])
    args = ap.parse_args()
    with HttpSink(mode=args.mode) as h:
        print(h.port, flush=True)
        t0 = time.monotonic()
        while time.monotonic() - t0 < MAX_SECONDS:
            time.sleep(0.5)
    return 0


if __name__ == "__main__":
    sys.exit(main())
