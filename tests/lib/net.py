"""net -- the few loopback helpers every part of the Python lab shares.

  free_port     a port free on a loopback address now (TCP, or TCP and UDP)
  wait_until    a bounded poll, returning the value or raising on timeout
  tcp_listener  a listening TCP socket: a server that is "up" for tcp://
  port_open     whether a TCP connection is accepted now
  udp_and_tcp   a UDP and a TCP socket on one port (a DNS server's pair)
  recv_exact, recv_dns_tcp, dns_tcp_frame, dns_tcp_exchange
                DNS over TCP: reading, framing, one query to a server
  ThreadedServer  a socketserver on its own thread (the fakes' base class)
  serve_from_shell  run such a fake from a shell, printing its port

tests/lib (mxflab, folab, mailservers), tests/fakes, tests/system and
bench/ import these from here; there is no other copy.  Python standard
library only.  Every loop here is bounded in count and time.
"""

import random
import socket
import socketserver
import threading
import time


def free_port(host="127.0.0.1", udp=False, tries=50):
    """A port the kernel picked as free for TCP on @host right now; with
    @udp, one that could also be bound for UDP (named, a DNS proxy).

    There is a window between this check and the caller's bind, which
    callers cover by retrying their start a bounded number of times.
    @raise OSError when no port qualified in @tries attempts."""
    for _ in range(tries):
        t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM) if udp else None
        try:
            try:
                t.bind((host, 0))
            except OSError:
                continue
            port = t.getsockname()[1]
            if u is not None:
                try:
                    u.bind((host, port))
                except OSError:
                    continue
            return port
        finally:
            t.close()
            if u is not None:
                u.close()
    raise OSError("no port free for %s on %s"
                  % ("both UDP and TCP" if udp else "TCP", host))


def nsupdate_ports(n, tries=500):
    """@n UDP ports on 127.0.0.1, free now and below the ephemeral range:
    one fixed source port (`local 127.0.0.1 PORT`) per nsupdate process of
    the benchmarks' floors.  Left to itself nsupdate binds
    each update's socket to a random port of that range with SO_REUSEPORT,
    so two of the 8 processes sometimes share a port, both connected to
    named: the reply reaches the other process, the sender waits out -u and
    resends, and the resent CAS update answers NXRRSET."""
    with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
        low = int(f.read().split()[0])
    base = random.randrange(10000, max(10001, low - tries - n))
    ports = []
    for port in range(base, min(base + tries, low)):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            s.bind(("127.0.0.1", port))
            ports.append(port)
        except OSError:
            continue
        finally:
            s.close()
        if len(ports) == n:
            return ports
    raise OSError("no %d free UDP ports from %d" % (n, base))


def wait_until(pred, timeout, what=None, step=0.05, error=AssertionError):
    """Call @pred every @step seconds until it returns a true value, which is
    returned, or until @timeout seconds pass.  Then, without @what, @return
    the last (false) value; with @what, @raise @error("timed out after N s
    waiting for WHAT").  @pred is called at least once, and once more after
    the deadline; an exception from @pred passes through."""
    deadline = time.monotonic() + timeout
    while True:
        v = pred()
        if v or time.monotonic() >= deadline:
            break
        time.sleep(step)
    if v or what is None:
        return v
    raise error("timed out after %.1f s waiting for %s" % (timeout, what))


def tcp_listener(port=0, host="127.0.0.1", backlog=64):
    """A listening TCP socket on @host (a free port unless @port): a mail
    server that is up as far as a tcp:// check can tell; close() it to make
    that server "die"."""
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((host, port))
    s.listen(backlog)
    return s


def port_open(host, port, timeout=0.5):
    """Whether a TCP connection to @host:@port is accepted now."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def udp_and_tcp(host="127.0.0.1", port=None, timeout=0.2, backlog=32):
    """A UDP socket and a listening TCP socket on the same port of @host (a
    port free for both unless @port), each with @timeout: a DNS server's
    pair.  @return (udp, tcp, port)."""
    port = port or free_port(host, udp=True)
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    u.bind((host, port))
    u.settimeout(timeout)
    try:
        t = tcp_listener(port, host, backlog)
    except OSError:
        u.close()
        raise
    t.settimeout(timeout)
    return u, t, port


class Closed(OSError):
    """The peer closed the connection before all that was awaited came."""


def recv_exact(sock, n):
    """Exactly @n bytes from @sock (its timeout applies).
    @raise Closed (an OSError) when the peer closes first."""
    buf = b""
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            raise Closed("closed after %d of %d bytes" % (len(buf), n))
        buf += chunk
    return buf


def recv_dns_tcp(sock):
    """One DNS message over TCP (RFC 1035 4.2.2: a two-byte length, then
    the message), without its length.  @raise OSError when cut short."""
    return recv_exact(sock, int.from_bytes(recv_exact(sock, 2), "big"))


def dns_tcp_frame(msg):
    """@msg with the two-byte length DNS over TCP puts in front."""
    return len(msg).to_bytes(2, "big") + msg


def dns_tcp_exchange(addr, msg, timeout=5):
    """Send the DNS message @msg to @addr over a new TCP connection and
    @return the reply message.  @raise OSError."""
    with socket.create_connection(addr, timeout=timeout) as up:
        up.sendall(dns_tcp_frame(msg))
        return recv_dns_tcp(up)


class ThreadedServer:
    """A socketserver on its own thread: the life cycle the fakes of
    tests/fakes (fakeserver, smtpsink, httpsink) share.

    A subclass sets `handler` (a socketserver request handler class; it
    finds this object as self.server.owner) and may set `server_base`
    (default socketserver.ThreadingTCPServer) and `refuses` (the mode in
    which nobody listens: start() only picks a port, connections are
    refused).  start() listens on @host:@port (a free port unless @port;
    kept, so a start() after stop() listens on the same port again);
    stop() sets stop_event (a handler that hangs waits on it), closes the
    listener and joins the thread (bounded).  A context manager."""

    handler = None
    server_base = socketserver.ThreadingTCPServer
    refuses = None
    poll_interval = 0.1

    def __init__(self, mode=None, host="127.0.0.1", port=None):
        self.mode = mode
        self.host = host
        self.port = port
        self.stop_event = threading.Event()
        self.server = None
        self.thread = None

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.stop()

    def start(self):
        if self.refuses is not None and self.mode == self.refuses:
            if self.port is None:
                self.port = free_port(self.host)
            return self
        self.stop_event.clear()
        cls = type("Server", (self.server_base,),
                   {"allow_reuse_address": True, "daemon_threads": True})
        self.server = cls((self.host, self.port or 0), self.handler)
        self.server.owner = self
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever,
                                       kwargs={"poll_interval": self.poll_interval},
                                       daemon=True)
        self.thread.start()
        return self

    def stop(self):
        self.stop_event.set()
        if self.server is None:
            return
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)
        self.server = self.thread = None


def serve_from_shell(server, seconds):
    """For a fake run from a shell: start @server, print its port on the
    first line, serve for @seconds (or until killed)."""
    with server:
        print(server.port, flush=True)
        t0 = time.monotonic()
        while time.monotonic() - t0 < seconds:
            time.sleep(0.5)
    return 0
