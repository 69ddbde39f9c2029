"""Which device the DSR table goes on (nft_services.RouteLookup) on a Seesaw node: node and LB interface on one network.

The kernel's route to a backend on the node network picks the node interface, but VIP traffic
arrives on the LB interface: the DSR table must be there, on the master (LB interface up) and
on the backup (down) alike. Found by the tutorial deployment (tests/integration/e2e), whose DSR
requests were refused while the table sat on eth0.
"""

from __future__ import annotations

import ipaddress
import os
import subprocess
import uuid
from collections.abc import Iterator

import pytest

from seesaw.lab import netns
from seesaw.ncc.kernel.host_record import encode_lb
from seesaw.ncc.kernel.nft_services import RouteLookup
from seesaw.ncc.model import LBInterface

pytestmark = pytest.mark.netns


@pytest.fixture
def node() -> Iterator[str]:
    if os.geteuid() != 0 or not netns.isolated():
        pytest.skip("needs root inside a private network namespace (scripts/run-tests integration)")
    name = f"dsrdev-{uuid.uuid4().hex[:6]}"
    netns.add(name)
    lb = LBInterface("eth1", node_interface="eth0", node_ipv4=ipaddress.IPv4Interface("10.0.0.2/24"))
    for command in (
        "link add eth0 type veth peer name p0",
        "link add eth1 type veth peer name p1",
        "link set p0 up",
        "link set p1 up",
        "link set eth0 up",
        "addr add 10.0.0.2/24 dev eth0",
        "route add 10.5.0.0/24 dev eth0",
        "route add 10.6.0.0/24 via 10.0.0.254",
        "addr add 10.0.0.10/24 dev eth1",
    ):
        netns.ip(name, *command.split())
    netns.ip(name, "link", "set", "eth1", "alias", encode_lb(lb, "02:00:00:00:00:01"))
    yield name
    subprocess.run(["ip", "netns", "del", name], check=False)


def lookup(ns: str, address: str) -> str | None:
    with netns.inside(ns):
        route = RouteLookup()
        try:
            return route(ipaddress.ip_address(address))
        finally:
            route.close()


def test_backend_on_the_node_network_gets_the_lb_interface_up_or_down(node):
    assert lookup(node, "10.0.0.50") == "eth1"  # backup: eth1 down, the only route is eth0's
    netns.ip(node, "link", "set", "eth1", "up")
    routes = netns.ip(node, "route", "get", "10.0.0.50").stdout
    assert "dev eth0" in routes  # the kernel's own choice, which the DSR table must not follow
    assert lookup(node, "10.0.0.50") == "eth1"  # master


def test_other_backends_keep_the_kernels_choice(node):
    assert lookup(node, "10.5.0.7") == "eth0"  # directly reachable, not on the node network
    assert lookup(node, "10.6.0.7") is None  # behind a router: not for DSR


def test_without_an_lb_interface_nothing_changes(node):
    netns.ip(node, "link", "set", "eth1", "alias", "something else")
    assert lookup(node, "10.0.0.50") == "eth0"
