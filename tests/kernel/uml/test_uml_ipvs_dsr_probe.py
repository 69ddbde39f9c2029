"""DSR healthchecks through the VIP on IPVS (inside scripts/run-in-uml): Seesaw's own way, with the real checker.

Namespaces made by hand (there is no lab in the guest): `lb` with an IPVS fwmark service per backend (one
DR destination, as the engine's `healthcheck-marks` partition asks), `be1` holding the VIP on lo and `be2`
without it, all on one bridge. The real HTTP checker (seesaw.healthcheck.checkers) runs in `lb` with a
CheckConfig as the engine writes it: target the VIP, the backend's mark. IPVS's local-out hook forwards
the marked probe to that one backend, so the DSR check passes on be1 only, while PLAIN checks (straight to
the backend) pass on both. Both ways the LB can hold the VIP are covered: not at all (a backup node), and
on its LB interface (a master), where the probe still must leave from the node's own address.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import subprocess
import threading
import uuid
from collections.abc import Iterator

import pytest
from pyroute2 import netns as pyroute2_netns

from seesaw.healthcheck.checkers.base import run_check
from seesaw.healthcheck.checkers.factory import build
from seesaw.ncc.kernel.ipvs import IPVSServices
from seesaw.ncc.model import Destination, DestinationKey, Family, Service, ServiceKey
from seesaw.ncc.steps import Step
from seesaw.pb import healthcheck_pb2 as hc_pb

VIP = "10.99.1.200"
NODE = "10.99.1.2"
BACKENDS = {"be1": "10.99.1.11", "be2": "10.99.1.12"}
MARKS = {"be1": 65536, "be2": 65537}


def sh(*args: str) -> None:
    subprocess.run(list(args), check=True, capture_output=True, text=True)


PEERS: dict[str, list[tuple[str, str]]] = {}  # backend -> (client address, address it was reached at)


def serve_http(ns: str, name: str) -> socket.socket:
    """An HTTP server on port 80 in `ns` answering `name` to anything (on every address: the VIP too).

    It notes who asked at which address in PEERS.
    """
    pyroute2_netns.pushns(ns)
    try:
        server = socket.create_server(("0.0.0.0", 80), reuse_port=True)
    finally:
        pyroute2_netns.popns()

    def loop() -> None:
        while True:
            try:
                conn, _ = server.accept()
            except OSError:
                return
            with conn:
                PEERS.setdefault(name, []).append((conn.getpeername()[0], conn.getsockname()[0]))
                conn.recv(4096)
                body = name.encode()
                conn.sendall(b"HTTP/1.0 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body))

    threading.Thread(target=loop, daemon=True).start()
    return server


@pytest.fixture
def site() -> Iterator[dict[str, str]]:
    """lb, be1 (VIP on lo), be2 (no VIP) on a bridge; IPVS fwmark services on lb. Namespace names by role."""
    tag = uuid.uuid4().hex[:6]
    names = {role: f"{role}-{tag}" for role in ("lan", "lb", "be1", "be2")}
    servers: list[socket.socket] = []
    try:
        for ns in names.values():
            sh("ip", "netns", "add", ns)
            sh("ip", "-n", ns, "link", "set", "lo", "up")
        sh("ip", "-n", names["lan"], "link", "add", "br0", "type", "bridge")
        sh("ip", "-n", names["lan"], "link", "set", "br0", "up")
        addresses = {"lb": NODE, **BACKENDS}
        for role, address in addresses.items():
            ns = names[role]
            sh(
                "ip",
                "-n",
                ns,
                "link",
                "add",
                "eth0",
                "type",
                "veth",
                "peer",
                "name",
                f"v-{role}",
                "netns",
                names["lan"],
            )
            sh("ip", "-n", names["lan"], "link", "set", f"v-{role}", "master", "br0", "up")
            sh("ip", "-n", ns, "addr", "add", f"{address}/24", "dev", "eth0")
            sh("ip", "-n", ns, "link", "set", "eth0", "up")
        sh("ip", "-n", names["be1"], "addr", "add", f"{VIP}/32", "dev", "lo")
        for role in BACKENDS:
            for conf in ("all", "eth0"):
                sh("ip", "netns", "exec", names[role], "sysctl", "-qw", f"net.ipv4.conf.{conf}.arp_ignore=1")
                sh("ip", "netns", "exec", names[role], "sysctl", "-qw", f"net.ipv4.conf.{conf}.arp_announce=2")
            servers.append(serve_http(names[role], role))
        # The LB's sysctls as NCC's host part sets them (host_sysctl.py): replies from a VIP held here come in.
        sh("ip", "netns", "exec", names["lb"], "sysctl", "-qw", "net.ipv4.conf.all.accept_local=1")
        sh("ip", "netns", "exec", names["lb"], "sysctl", "-qw", "net.ipv4.conf.eth0.accept_local=1")
        ipvs = IPVSServices(netns=names["lb"])  # the healthcheck-marks partition, through NCC's IPVS part
        try:
            steps = []
            for role, mark in MARKS.items():
                service = Service(ServiceKey.mark(Family.INET, mark), "rr")
                key = DestinationKey(service.key, ipaddress.ip_address(BACKENDS[role]), 0)
                steps += [Step.add("healthcheck-marks", service), Step.add("healthcheck-marks", Destination(key))]
            results = ipvs.apply(steps)
            assert all(r.ok for r in results), [r.error for r in results]
        finally:
            ipvs.close()
        yield names
    finally:
        for server in servers:
            server.close()
        for ns in names.values():
            subprocess.run(["ip", "netns", "del", ns], check=False, capture_output=True)


def check(ns: str, target: str, mode: int, mark: int = 0) -> tuple[bool, str]:
    """One run of the real HTTP checker in namespace `ns`, configured as the engine configures it."""
    config = hc_pb.CheckConfig(
        id=1, type=hc_pb.CHECK_HTTP, mode=mode, target=target, port=80, mark=mark, send="/", code=200, method="GET"
    )
    pyroute2_netns.pushns(ns)
    try:
        result = asyncio.run(run_check(build(config), 3.0))
    finally:
        pyroute2_netns.popns()
    return result.ok, result.message


def dsr(ns: str, backend: str) -> tuple[bool, str]:
    return check(ns, VIP, hc_pb.MODE_DSR, MARKS[backend])


def plain(ns: str, backend: str) -> tuple[bool, str]:
    return check(ns, BACKENDS[backend], hc_pb.MODE_PLAIN)


def test_without_the_vip_on_the_lb_only_the_backend_holding_it_passes_its_dsr_check(site: dict[str, str]) -> None:
    lb = site["lb"]
    PEERS.clear()
    assert dsr(lb, "be1")[0], dsr(lb, "be1")
    assert PEERS == {"be1": [(NODE, VIP)]}  # reached through the VIP, from the node's address
    ok, message = dsr(lb, "be2")
    assert not ok and "timed out" in message, message
    assert plain(lb, "be1")[0] and plain(lb, "be2")[0]


def test_with_the_vip_on_the_lb_the_probe_still_reaches_only_its_backend(site: dict[str, str]) -> None:
    lb = site["lb"]
    sh("ip", "-n", lb, "addr", "add", f"{VIP}/24", "dev", "eth0")  # a master holds its VIPs
    PEERS.clear()
    assert dsr(lb, "be1")[0], dsr(lb, "be1")
    assert PEERS == {"be1": [(NODE, VIP)]}
    ok, message = dsr(lb, "be2")
    assert not ok, message
    assert plain(lb, "be2")[0]
