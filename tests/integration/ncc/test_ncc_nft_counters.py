"""nftables counters with real traffic: connections, packets and bytes read back as the objects' stats.

The namespace lab of ncc_nft_lab.py; NftServices in the `lb` namespace, read as
NCC reads it (what GetState, the CLI and /metrics show).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator

import pytest
from ncc_nft_lab import BACKENDS, DSR_VIP, NAT_VIP, Lab, ask, connect, lab_fixture, line, netns, services_part

from seesaw.ncc.dataplane import KernelState
from seesaw.ncc.kernel.nft_services import NftServices
from seesaw.ncc.model import Destination, DestinationKey, Forwarding, Kind, Protocol, Service, ServiceKey, Stats
from seesaw.ncc.steps import Step

pytestmark = pytest.mark.netns


@pytest.fixture
def lab() -> Iterator[Lab]:
    yield from lab_fixture()


@pytest.fixture
def part(lab: Lab) -> Iterator[NftServices]:
    yield from services_part()


def program(part: NftServices, vip: str, forwarding: Forwarding, weights: tuple[int, ...] = (1, 1)) -> Service:
    svc = Service(ServiceKey.ip(Protocol.TCP, ipaddress.ip_address(vip), 80), "wrr")
    steps = [Step.add("p", svc)]
    for address, weight in zip(BACKENDS.values(), weights, strict=False):
        dest = Destination(DestinationKey(svc.key, ipaddress.ip_address(address), 80), forwarding, weight)
        steps.append(Step.add("p", dest))
    with netns("lb"):
        results = part.apply(steps)
    assert all(r.ok for r in results), [r.error for r in results if not r.ok]
    return svc


def read(part: NftServices) -> KernelState:
    with netns("lb"):
        return part.read()


def stats_of(state: KernelState, svc: Service) -> tuple[Stats, dict[str, int]]:
    """The service's stats, and each destination's connections by backend name."""
    names = {ipaddress.ip_address(a): n for n, a in BACKENDS.items()}
    dests = {
        names[k[1].address]: s.connections
        for k, s in state.stats.items()
        if k[0] is Kind.DESTINATION and k[1].service == svc.key
    }
    return state.stats[(Kind.SERVICE, svc.key)], dests


def test_nat_counters_rise_with_requests_through_the_vip(part: NftServices) -> None:
    svc = program(part, NAT_VIP, Forwarding.MASQ, (3, 1))
    before, _ = stats_of(read(part), svc)
    assert before == Stats()
    answers = [ask(NAT_VIP, 80) for _ in range(8)]
    assert sorted(answers) == ["be1"] * 6 + ["be2"] * 2
    service, dests = stats_of(read(part), svc)
    assert service.connections == 8
    assert dests == {"be1": 6, "be2": 2}  # where each connection went, as the replies say
    # each request is a whole TCP conversation from the client: at least SYN, ACK, request, FIN
    assert service.packets_in >= 8 * 4
    assert service.bytes_in >= service.packets_in * 40  # an IPv4 header and a TCP header each, at least
    with connect(NAT_VIP, 80) as conn:
        line(conn)
        after, _ = stats_of(read(part), svc)
        assert line(conn) in ("be1", "be2")  # an established connection: more packets, no new connection
        later, _ = stats_of(read(part), svc)
    assert after.connections == later.connections == 9
    assert later.packets_in > after.packets_in and later.bytes_in > after.bytes_in


def test_counters_survive_a_read_back_by_a_new_ncc(part: NftServices) -> None:
    svc = program(part, NAT_VIP, Forwarding.MASQ)
    for _ in range(4):
        ask(NAT_VIP, 80)
    with netns("lb"):
        restarted = NftServices()
    try:
        service, dests = stats_of(read(restarted), svc)
    finally:
        restarted.close()
    assert service.connections == 4 and dests == {"be1": 2, "be2": 2}


def test_dsr_counts_connections_per_destination_and_the_services_packets(part: NftServices) -> None:
    svc = program(part, DSR_VIP, Forwarding.ROUTE)
    answers = [ask(DSR_VIP, 80) for _ in range(6)]
    service, dests = stats_of(read(part), svc)
    assert service.connections == 6
    assert dests == {name: answers.count(name) for name in ("be1", "be2")}
    assert service.packets_in >= 6 * 4 and service.bytes_in >= service.packets_in * 40  # counted on the device
