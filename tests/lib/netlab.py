"""netlab -- a lab of network namespaces ("sites") for system tests that need
a network which can be cut: a monitor cut off from a far site, three
monitors at three sites, a link that comes back.

    with netlab.NetLab() as lab:
        far = lab.site("far")                  # namespace + veth pair
        srv = far.serve([sys.executable, "fakeserver.py", "smtp",
                         "--host", far.address])  # runs inside, port read back
        ... tcp://far.address:PORT is reachable from the host ...
        far.cut()                              # packets to and from it vanish
        far.restore()
    # every process is killed, every link and namespace removed

A site is a namespace joined to the host (the test's own namespace) by a
veth pair: the host end has .host_address, the site end .address, both in
one /30 of 198.18.0.0/15 (RFC 2544 benchmarking addresses, never routed
outside); the site's default route points at the host end, so a process
inside reaches the host's addresses of every site link.  The site's own
loopback is up.  Two sites can be joined directly with NetLab.join() (no
forwarding through the host is needed or set up).

cut() makes a site unreachable the way a cut WAN link is: by default
("drop") every packet is silently lost, so a connection times out; how=
"down" takes the host end of the link down instead, so connecting fails at
once (network unreachable).  restore() undoes either.

Nothing here touches an interface, route or address the lab did not make;
close() (also at interpreter exit, and from the context manager whatever
happened) kills what the lab started and removes what it made.  Every wait
is bounded.  Needs root (CAP_NET_ADMIN, CAP_SYS_ADMIN); otherwise
NetLab.site() raises OSError, which a test turns into a skip.
"""

import atexit
import os
import random
import select
import signal
import subprocess
import time

IP_TIMEOUT = 10.0


def ip(*args):
    """Run `ip ARGS...`.  @return its stdout; @raise OSError on failure."""
    p = subprocess.run(["ip"] + [str(a) for a in args], capture_output=True, text=True,
                       timeout=IP_TIMEOUT)
    if p.returncode != 0:
        raise OSError("ip %s: %s" % (" ".join(str(a) for a in args), p.stderr.strip()))
    return p.stdout


class Site:
    """One namespace of a NetLab, reached from the host through a veth
    pair.  Made by NetLab.site(); do not construct directly."""

    def __init__(self, lab, name, index):
        self.lab = lab
        self.name = name
        self.ns = "%s-%s" % (lab.tag, name)
        self.host_if = "%sh%d" % (lab.tag, index)   # our end
        self.site_if = "%ss%d" % (lab.tag, index)   # the end inside the namespace
        base = 4 * index
        self.host_address = "198.18.%d.%d" % (lab.octet, base + 1)
        self.address = "198.18.%d.%d" % (lab.octet, base + 2)
        self.cut_how = None
        ip("netns", "add", self.ns)
        lab.made_ns.append(self.ns)
        ip("link", "add", self.host_if, "type", "veth", "peer", "name", self.site_if)
        lab.made_links.append(self.host_if)
        ip("link", "set", self.site_if, "netns", self.ns)
        ip("addr", "add", self.host_address + "/30", "dev", self.host_if)
        ip("link", "set", self.host_if, "up")
        ip("-n", self.ns, "link", "set", "lo", "up")
        ip("-n", self.ns, "addr", "add", self.address + "/30", "dev", self.site_if)
        ip("-n", self.ns, "link", "set", self.site_if, "up")
        ip("-n", self.ns, "route", "add", "default", "via", self.host_address)

    def __repr__(self):
        return "Site(%s %s)" % (self.ns, self.address)

    def ip(self, *args):
        """`ip -n NS ARGS...` inside the site."""
        return ip("-n", self.ns, *args)

    def argv(self, argv):
        """@argv to be run inside the site."""
        return ["ip", "netns", "exec", self.ns] + list(argv)

    def run(self, argv, **popen_kw):
        """Start @argv inside the site, in its own session; it is killed at
        the lab's close() if still running.  @return the Popen."""
        popen_kw.setdefault("stdin", subprocess.DEVNULL)
        p = subprocess.Popen(self.argv(argv), start_new_session=True, **popen_kw)
        self.lab.procs.append(p)
        return p

    def call(self, argv, timeout=30.0, env=None):
        """Run @argv inside the site to its end (with @env, default ours).
        @return the CompletedProcess (text output captured)."""
        return subprocess.run(self.argv(argv), capture_output=True, text=True,
                              timeout=timeout, stdin=subprocess.DEVNULL, env=env)

    def serve(self, argv, timeout=10.0):
        """Start a server inside the site that prints its port (or any word)
        on its first line, as tests/fakes/fakeserver.py does from a shell.
        @return (the Popen, that first line stripped); @raise OSError when
        nothing is printed within @timeout or the process ends first."""
        p = self.run(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        end = time.monotonic() + timeout
        line = b""
        while not line.endswith(b"\n"):
            left = end - time.monotonic()
            if left <= 0 or p.poll() is not None:
                raise OSError("%s: no first line from %s" % (self.ns, " ".join(argv)))
            r, _, _ = select.select([p.stdout], [], [], min(left, 0.5))
            if r:
                b = os.read(p.stdout.fileno(), 1)
                if not b:
                    raise OSError("%s: %s closed its output" % (self.ns, " ".join(argv)))
                line += b
        return p, line.decode().strip()

    def cut(self, how="drop"):
        """Cut the site off from the host.  @how "drop": every packet from
        the site to the host is lost (a blackhole route inside the site for
        the host end; a connection from the host times out, nothing is
        refused); "down": the host end of the link goes down (connecting
        fails at once).  Cutting a site already cut changes nothing."""
        if self.cut_how is not None:
            return
        if how == "drop":
            self.ip("route", "add", "blackhole", self.host_address + "/32")
        elif how == "down":
            ip("link", "set", self.host_if, "down")
        else:
            raise ValueError("cut how: drop or down, not %r" % (how,))
        self.cut_how = how

    def restore(self):
        """Undo cut(): the link carries packets again."""
        if self.cut_how == "drop":
            self.ip("route", "del", "blackhole", self.host_address + "/32")
        elif self.cut_how == "down":
            ip("link", "set", self.host_if, "up")
        self.cut_how = None

    @property
    def is_cut(self):
        return self.cut_how is not None


class NetLab:
    """A set of sites (namespaces) made for one test, removed by close()."""

    def __init__(self, tag=None):
        self.tag = tag or "mxnl%04x" % random.randrange(0x10000)
        self.octet = random.randrange(256)
        self.sites = {}
        self.procs = []
        self.made_ns = []
        self.made_links = []
        self.joins = 0
        atexit.register(self.close)

    def site(self, name):
        """Make (or return) the site @name: a namespace with a veth pair to
        the host, addresses as the module says.  At most 63 sites; @name
        is short (it is part of the namespace's name).  @raise OSError when
        it cannot be made (everything made so far is removed at close())."""
        if name in self.sites:
            return self.sites[name]
        if len(self.sites) >= 63:
            raise OSError("netlab: at most 63 sites")
        s = Site(self, name, len(self.sites))
        self.sites[name] = s
        return s

    def join(self, a, b):
        """A direct link between sites @a and @b, in a /30 of its own (a
        second octet range, 198.19.OCTET.X).  @return (@a's address on it,
        @b's address on it)."""
        n = self.joins
        if n >= 63:
            raise OSError("netlab: at most 63 joins")
        self.joins += 1
        ia, ib = "%sj%da" % (self.tag, n), "%sj%db" % (self.tag, n)
        aa = "198.19.%d.%d" % (self.octet, 4 * n + 1)
        ab = "198.19.%d.%d" % (self.octet, 4 * n + 2)
        ip("link", "add", ia, "type", "veth", "peer", "name", ib)
        self.made_links.append(ia)
        ip("link", "set", ia, "netns", a.ns)
        ip("link", "set", ib, "netns", b.ns)
        a.ip("addr", "add", aa + "/30", "dev", ia)
        b.ip("addr", "add", ab + "/30", "dev", ib)
        a.ip("link", "set", ia, "up")
        b.ip("link", "set", ib, "up")
        return aa, ab

    def close(self):
        """Kill every process started in a site, remove every link and
        namespace made.  Safe to call more than once."""
        for p in self.procs:
            if p.poll() is None:
                try:
                    os.killpg(p.pid, signal.SIGKILL)
                except OSError:
                    pass
            try:
                p.wait(5)
            except subprocess.TimeoutExpired:
                pass
            if p.stdout is not None:
                p.stdout.close()
        self.procs = []
        for link in self.made_links:
            # A link moved into a namespace goes with it; this is for the
            # host ends (and links a failed set-up left behind).
            subprocess.run(["ip", "link", "del", link], capture_output=True,
                           timeout=IP_TIMEOUT)
        self.made_links = []
        for ns in self.made_ns:
            # Any process still inside (it should not be) is killed first.
            r = subprocess.run(["ip", "netns", "pids", ns], capture_output=True, text=True,
                               timeout=IP_TIMEOUT)
            for pid in r.stdout.split():
                try:
                    os.kill(int(pid), signal.SIGKILL)
                except (OSError, ValueError):
                    pass
            subprocess.run(["ip", "netns", "del", ns], capture_output=True, timeout=IP_TIMEOUT)
        self.made_ns = []
        self.sites = {}

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
