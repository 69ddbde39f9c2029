"""nftables DSR flow maps follow the destinations: a flow pinned to a backend that left its service is
chosen again (the `live4` set, nft_render.py), and a backend no service uses loses its id at once.

The lab of ncc_nft_lab.py, NftServices applied directly (as NCC's runner does) in the lb namespace;
UDP from fixed client source ports, so the same flows come back after the change.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterator

import pytest
from ncc_nft_lab import BACKENDS, DSR_VIP, Lab, lab_fixture, netns, nft, services_part

from seesaw.ncc.kernel.nft_services import NftServices
from seesaw.ncc.model import Destination, DestinationKey, Forwarding, Protocol, Service, ServiceKey
from seesaw.ncc.steps import Step

pytestmark = pytest.mark.netns

PORTS = range(20000, 20012)


@pytest.fixture
def lab() -> Iterator[Lab]:
    yield from lab_fixture()


@pytest.fixture
def part(lab: Lab) -> Iterator[NftServices]:
    yield from services_part()


def apply(part: NftServices, *steps: Step) -> None:
    with netns("lb"):
        results = part.apply(list(steps))
    assert all(r.ok for r in results), [r.error for r in results if not r.ok]


def service(protocol: Protocol, port: int = 80) -> Service:
    return Service(ServiceKey.ip(protocol, ipaddress.ip_address(DSR_VIP), port), "rr")


def dsr(svc: Service, name: str) -> Destination:
    return Destination(DestinationKey(svc.key, ipaddress.ip_address(BACKENDS[name]), svc.key.port), Forwarding.ROUTE)


def from_ports(ports: range = PORTS) -> dict[int, str]:
    """Source port -> the backend answering a datagram from it to the DSR VIP ("-": nobody)."""
    out = {}
    for port in ports:
        with netns("client"):
            sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        with sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.settimeout(0.5)
            sock.bind(("10.99.0.10", port))
            sock.sendto(b"?", (DSR_VIP, 80))
            try:
                out[port] = sock.recv(64).decode()
            except TimeoutError:
                out[port] = "-"
    return out


def test_a_reused_flow_of_a_removed_backend_goes_to_a_live_one(part: NftServices) -> None:
    udp = service(Protocol.UDP)
    apply(part, Step.add("p", udp), Step.add("p", dsr(udp, "be1")), Step.add("p", dsr(udp, "be2")))
    first = from_ports()
    assert set(first.values()) == {"be1", "be2"}
    assert from_ports() == first  # pinned: the same flows, the same backends
    apply(part, Step.delete("p", dsr(udp, "be1")))
    assert set(from_ports().values()) == {"be2"}
    apply(part, Step.add("p", dsr(udp, "be1")))
    again = from_ports()
    assert again == {port: "be2" for port in PORTS}  # re-added: the flows already on be2 stay there
    assert set(from_ports(range(21000, 21008)).values()) == {"be1", "be2"}  # new flows spread again


def test_a_backend_dropped_by_every_service_in_one_apply_loses_its_id(part: NftServices) -> None:
    tcp, udp = service(Protocol.TCP), service(Protocol.UDP)
    specs = [tcp, dsr(tcp, "be1"), dsr(tcp, "be2"), udp, dsr(udp, "be1"), dsr(udp, "be2")]
    apply(part, *(Step.add("p", s) for s in specs))
    ids = nft("lb", "list", "map", "netdev", "seesaw_dsr_eth0", "ids4")
    assert BACKENDS["be1"] in ids and BACKENDS["be2"] in ids
    apply(part, Step.delete("p", dsr(tcp, "be1")), Step.delete("p", dsr(udp, "be1")))  # as a reload does
    ids = nft("lb", "list", "map", "netdev", "seesaw_dsr_eth0", "ids4")
    assert BACKENDS["be1"] not in ids and BACKENDS["be2"] in ids
    assert set(from_ports().values()) == {"be2"}
