"""The nftables dataplane lab: client, lb, be1, be2 on one bridge (lab-facts.md §1), real traffic.

    client 10.99.0.10 (+ .21-.28 as extra sources)      lb 10.99.0.2 and 10.99.1.2, ip_forward on
    be1 10.99.1.11, be2 10.99.1.12: default route via the LB (NAT replies go back through it);
        the DSR VIP on lo with arp_ignore/arp_announce, and replies from it go straight to the
        client subnet (policy route), so DSR replies bypass the LB

Backends run `backend_server` below: over TCP each line gets the backend's name
back (one connection can ask many times), over UDP each datagram does.

The parts act in the caller's network namespace: tests enter `lb` with `netns()`
(setns for the calling thread; sockets opened inside stay there).
"""

from __future__ import annotations

import contextlib
import socket
import struct
import subprocess
import sys
import time
from collections.abc import Callable, Iterator

import pytest
from pyroute2 import netns as pyroute2_netns

from seesaw.lab.netns import unmet_needs
from seesaw.ncc.kernel.nft_services import NftServices

NAT_VIP = "10.99.0.200"
DSR_VIP = "10.99.0.201"
MARK_VIP = "10.99.0.202"
BACKENDS = {"be1": "10.99.1.11", "be2": "10.99.1.12"}
CLIENT = "10.99.0.10"
SOURCES = [f"10.99.0.{n}" for n in range(21, 29)]
NODES = {
    "client": "02:99:00:00:00:01",
    "lb": "02:99:00:00:00:02",
    "be1": "02:99:00:00:00:03",
    "be2": "02:99:00:00:00:04",
}
PORTS = (80, 81, 8080)

BACKEND_SERVER = r"""
import socket, sys, threading
name, ports = sys.argv[1], [int(p) for p in sys.argv[2:]]
def serve_tcp(port):
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("0.0.0.0", port)); srv.listen(128)
    while True:
        conn, _ = srv.accept()
        threading.Thread(target=talk, args=(conn,), daemon=True).start()
def talk(conn):
    with conn, conn.makefile("rb") as lines:
        for _ in lines:
            conn.sendall(name.encode() + b"\n")
def serve_udp(port):
    srv = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    srv.bind(("0.0.0.0", port))
    while True:
        _, peer = srv.recvfrom(2048)
        srv.sendto(name.encode(), peer)
for port in ports:
    threading.Thread(target=serve_tcp, args=(port,), daemon=True).start()
    threading.Thread(target=serve_udp, args=(port,), daemon=True).start()
threading.Event().wait()
"""


def run(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(args), check=check, capture_output=True, text=True)


def ns(name: str, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return run("ip", "netns", "exec", name, *args, check=check)


@contextlib.contextmanager
def netns(name: str) -> Iterator[None]:
    """Run the block in namespace `name` (this thread only)."""
    pyroute2_netns.pushns(name)
    try:
        yield
    finally:
        pyroute2_netns.popns()


def wait_for(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


class Lab:
    def __init__(self) -> None:
        self.servers: list[subprocess.Popen[bytes]] = []

    def build(self) -> None:
        for name in [*NODES, "lan"]:
            run("ip", "netns", "del", name, check=False)
        run("ip", "netns", "add", "lan")
        run("ip", "-n", "lan", "link", "add", "br0", "type", "bridge")
        run("ip", "-n", "lan", "link", "set", "br0", "up")
        for name, mac in NODES.items():
            run("ip", "netns", "add", name)
            run("ip", "-n", name, "link", "set", "lo", "up")
            run("ip", "-n", name, "link", "add", "eth0", "type", "veth", "peer", "name", f"v-{name}", "netns", "lan")
            run("ip", "-n", name, "link", "set", "eth0", "address", mac)
            run("ip", "-n", "lan", "link", "set", f"v-{name}", "master", "br0", "up")
            run("ip", "-n", name, "link", "set", "eth0", "up")
        run("ip", "-n", "client", "addr", "add", f"{CLIENT}/24", "dev", "eth0")
        for source in SOURCES:
            run("ip", "-n", "client", "addr", "add", f"{source}/24", "dev", "eth0")
        run("ip", "-n", "client", "route", "add", "10.99.1.0/24", "via", "10.99.0.2")
        run("ip", "-n", "lb", "addr", "add", "10.99.0.2/24", "dev", "eth0")
        run("ip", "-n", "lb", "addr", "add", "10.99.1.2/24", "dev", "eth0")
        for vip in (NAT_VIP, DSR_VIP, MARK_VIP):
            run("ip", "-n", "lb", "addr", "add", f"{vip}/32", "dev", "lo")
        ns("lb", "sysctl", "-qw", "net.ipv4.ip_forward=1", "net.ipv4.conf.all.send_redirects=0",
           "net.ipv4.conf.eth0.send_redirects=0")  # fmt: skip
        for name, address in BACKENDS.items():
            run("ip", "-n", name, "addr", "add", f"{address}/24", "dev", "eth0")
            run("ip", "-n", name, "route", "add", "default", "via", "10.99.1.2")
            run("ip", "-n", name, "addr", "add", f"{DSR_VIP}/32", "dev", "lo")
            run("ip", "-n", name, "rule", "add", "from", DSR_VIP, "table", "100")
            run("ip", "-n", name, "route", "add", "10.99.0.0/24", "dev", "eth0", "table", "100")
            for conf in ("all", "eth0"):
                ns(name, "sysctl", "-qw", f"net.ipv4.conf.{conf}.arp_ignore=1", f"net.ipv4.conf.{conf}.arp_announce=2")
            cmd = ["ip", "netns", "exec", name, "timeout", "600", sys.executable, "-c", BACKEND_SERVER, name]
            self.servers.append(subprocess.Popen([*cmd, *map(str, PORTS)]))
        for address in BACKENDS.values():
            wait_for(lambda a=address: self._listening(a), 10, f"the backend server on {address}")

    def _listening(self, address: str) -> bool:
        try:
            return ask(address, 80, timeout=0.5) != ""
        except OSError:
            return False

    def teardown(self) -> None:
        for server in self.servers:
            server.terminate()
        for server in self.servers:
            try:
                server.wait(timeout=5)
            except subprocess.TimeoutExpired:
                server.kill()
        for name in [*NODES, "lan"]:
            run("ip", "netns", "del", name, check=False)


def connect(address: str, port: int, source: str | None = None, timeout: float = 2.0) -> socket.socket:
    """A TCP connection from the client namespace."""
    with netns("client"):
        return socket.create_connection((address, port), timeout, (source, 0) if source else None)


def line(conn: socket.socket) -> str:
    """Ask once over an open connection: the name of the backend that answers."""
    conn.sendall(b"?\n")
    data = b""
    while not data.endswith(b"\n"):
        chunk = conn.recv(64)
        if not chunk:
            raise ConnectionError("the connection was closed")
        data += chunk
    return data.decode().strip()


def ask(address: str, port: int, source: str | None = None, timeout: float = 2.0) -> str:
    """One new TCP connection from the client: the backend's name."""
    with connect(address, port, source, timeout) as conn:
        return line(conn)


def ask_udp(address: str, port: int, timeout: float = 2.0) -> str:
    with netns("client"):
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    with sock:
        sock.settimeout(timeout)
        sock.sendto(b"?", (address, port))
        return sock.recv(64).decode()


def ping(address: str, timeout: float = 2.0) -> bool:
    """One ICMP echo from the client namespace (raw socket): True if it was answered."""
    with netns("client"):
        sock = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
    with sock:
        sock.settimeout(timeout)
        header = struct.pack("!BBHHH", 8, 0, 0, 0x5EED, 1) + b"seesaw"
        checksum = _checksum(header)
        sock.sendto(header[:2] + struct.pack("!H", checksum) + header[4:], (address, 0))
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                data, peer = sock.recvfrom(1024)
            except TimeoutError:
                return False
            icmp = data[(data[0] & 0x0F) * 4 :]
            if peer[0] == address and icmp[0] == 0 and icmp[4:6] == b"\x5e\xed":
                return True
    return False


def _checksum(data: bytes) -> int:
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    total = (total >> 16) + (total & 0xFFFF)
    total += total >> 16
    return ~total & 0xFFFF


def nft(name: str, *args: str) -> str:
    return ns(name, "nft", *args).stdout


def require_lab() -> None:
    """Skip unless namespaces with nftables can be made here (root, a namespace of our own, nft)."""
    if reason := unmet_needs():
        pytest.skip(reason)


@contextlib.contextmanager
def own_namespace(name: str) -> Iterator[None]:
    """A fresh namespace `name` (no lab in it), this thread inside for the block; removed afterwards."""
    require_lab()
    pyroute2_netns.create(name)
    try:
        with netns(name):
            yield
    finally:
        pyroute2_netns.remove(name)


def services_part() -> Iterator[NftServices]:
    """NftServices made in the lab's `lb` namespace, closed afterwards (tests wrap this in a fixture)."""
    with netns("lb"):
        made = NftServices()
    yield made
    made.close()


def lab_fixture() -> Iterator[Lab]:
    """The lab, built and torn down (tests wrap this in a fixture of their own)."""
    require_lab()
    built = Lab()
    try:
        built.build()
        yield built
    finally:
        built.teardown()
