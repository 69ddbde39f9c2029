"""The nftables dataplane with real traffic: NAT rr/wrr/sh, DSR, fwmark, VIP filters, audit and restart.

Each test builds the namespace lab of ncc_nft_lab.py and drives NftServices and
NftFilters in the `lb` namespace through NCC's own Reconciler, as seesaw-ncc does.
"""

from __future__ import annotations

import collections
import ipaddress
import itertools
from collections.abc import Iterator, Sequence

import pytest
from ncc_nft_lab import (
    BACKENDS,
    DSR_VIP,
    MARK_VIP,
    NAT_VIP,
    SOURCES,
    Lab,
    ask,
    ask_udp,
    connect,
    lab_fixture,
    line,
    netns,
    nft,
    ping,
)

from seesaw.common.clock import FakeClock
from seesaw.ncc.dataplane import KernelState
from seesaw.ncc.kernel.nft_filters import NftFilters
from seesaw.ncc.kernel.nft_services import NftServices
from seesaw.ncc.model import (
    FLAG_PERSISTENT,
    Destination,
    DestinationKey,
    Family,
    Forwarding,
    Kind,
    Partition,
    Protocol,
    Request,
    Service,
    ServiceKey,
    Spec,
    VIPFilter,
)
from seesaw.ncc.reconciler import Outcome, Reconciler
from seesaw.ncc.steps import Step, StepResult

pytestmark = pytest.mark.netns


@pytest.fixture
def lab() -> Iterator[Lab]:
    yield from lab_fixture()


class Parts:
    """NftServices and NftFilters in the lb namespace, behind NCC's Reconciler (as seesaw-ncc drives them)."""

    def __init__(self) -> None:
        with netns("lb"):
            self.services = NftServices()
            self.filters = NftFilters()
        self.reconciler = Reconciler("nftables", "test", FakeClock())
        self.reconciler.observe(self.read())

    def read(self) -> KernelState:
        with netns("lb"):
            state = self.services.read()
            state.objects.update(self.filters.read().objects)
        return state

    def perform(self, steps: Sequence[Step]) -> list[StepResult]:
        results = []
        with netns("lb"):
            services = [s for s in steps if s.kind is not Kind.FILTER]
            filters = [s for s in steps if s.kind is Kind.FILTER]
            results += self.services.apply(services) if services else []
            results += self.filters.apply(filters) if filters else []
        return results

    def apply(self, name: str, specs: Sequence[Spec]) -> Outcome:
        plan = self.reconciler.plan(Request((Partition.of(name, specs),)))
        return self.reconciler.commit(plan, self.perform(plan.steps))

    def audit(self) -> int:
        self.reconciler.observe(self.read())
        plan = self.reconciler.plan_audit()
        results = self.perform(plan.steps)
        self.reconciler.commit_audit(plan, results)
        return sum(r.ok for r in results)

    def close(self) -> None:
        self.services.close()
        self.filters.close()


@pytest.fixture
def parts(lab: Lab) -> Iterator[Parts]:
    made = Parts()
    yield made
    made.close()


def ip(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    return ipaddress.ip_address(text)


def service(vip: str, scheduler: str = "rr", port: int = 80, protocol: Protocol = Protocol.TCP, **kw: int) -> Service:
    return Service(ServiceKey.ip(protocol, ip(vip), port), scheduler, **kw)


def dests(svc: Service, forwarding: Forwarding, weights: Sequence[int] = (1, 1)) -> list[Destination]:
    port = svc.key.port
    return [
        Destination(DestinationKey(svc.key, ip(address), port), forwarding, weight)
        for address, weight in zip(BACKENDS.values(), weights, strict=False)
    ]


def nat(scheduler: str = "rr", weights: Sequence[int] = (1, 1), **kw: int) -> list[Spec]:
    svc = service(NAT_VIP, scheduler, **kw)
    return [svc, *dests(svc, Forwarding.MASQ, weights)]


def test_nat_round_robin_alternates(parts: Parts) -> None:
    outcome = parts.apply("web", nat("rr"))
    assert not outcome.errors and outcome.writes == 3
    answers = [ask(NAT_VIP, 80) for _ in range(8)]
    assert answers[:2] in (["be1", "be2"], ["be2", "be1"])
    assert all(a != b for a, b in itertools.pairwise(answers)), answers


def test_nat_weighted_round_robin_follows_weights(parts: Parts) -> None:
    assert not parts.apply("web", nat("wrr", (3, 1))).errors
    counts = collections.Counter(ask(NAT_VIP, 80) for _ in range(40))
    assert counts == {"be1": 30, "be2": 10}


def test_nat_udp(parts: Parts) -> None:
    svc = service(NAT_VIP, "rr", 8080, Protocol.UDP)
    assert not parts.apply("dns", [svc, *dests(svc, Forwarding.MASQ)]).errors
    assert {ask_udp(NAT_VIP, 8080) for _ in range(6)} == {"be1", "be2"}


def test_nat_source_hash_keeps_each_client_on_one_backend(parts: Parts) -> None:
    assert not parts.apply("web", nat("sh")).errors
    seen = {source: {ask(NAT_VIP, 80, source) for _ in range(4)} for source in SOURCES}
    assert all(len(backends) == 1 for backends in seen.values()), seen
    assert set().union(*seen.values()) == {"be1", "be2"}


def test_persistence_keeps_a_client_on_one_backend(parts: Parts) -> None:
    assert not parts.apply("web", nat("rr", flags=FLAG_PERSISTENT, timeout=300)).errors
    for source in SOURCES[:4]:
        assert len({ask(NAT_VIP, 80, source) for _ in range(4)}) == 1


def test_dsr_keeps_a_flow_on_one_backend_and_replies_bypass_the_lb(parts: Parts) -> None:
    probe = (
        f"table ip probe {{ chain forw {{ type filter hook forward priority 0; ip saddr {DSR_VIP} counter; }}; "
        f"chain out {{ type filter hook postrouting priority 0; ip saddr {DSR_VIP} counter; }}; }}"
    )
    nft("lb", probe)
    svc = service(DSR_VIP, "rr")
    assert not parts.apply("dsr", [svc, *dests(svc, Forwarding.ROUTE)]).errors
    assert [ask(DSR_VIP, 80) for _ in range(4)] in (["be1", "be2"] * 2, ["be2", "be1"] * 2)
    with connect(DSR_VIP, 80) as conn:
        first = line(conn)
        assert all(line(conn) == first for _ in range(10))
    counters = nft("lb", "list", "table", "ip", "probe")
    assert counters.count("counter packets 0 bytes 0") == 2, counters  # no reply passed through the LB
    assert nft("lb", "list", "map", "netdev", "seesaw_dsr_eth0", "ft4").count(f"{DSR_VIP} . 80 expires") == 5


def test_dsr_flow_survives_a_destination_added(parts: Parts) -> None:
    svc = service(DSR_VIP, "rr")
    one, two = dests(svc, Forwarding.ROUTE)
    assert not parts.apply("dsr", [svc, one]).errors
    with connect(DSR_VIP, 80) as conn:
        assert line(conn) == "be1"
        assert not parts.apply("dsr", [svc, one, two]).errors  # slots are re-laid, ids stay
        assert all(line(conn) == "be1" for _ in range(5))
    assert {ask(DSR_VIP, 80) for _ in range(4)} == {"be1", "be2"}


def test_fwmark_service_with_a_marking_filter(parts: Parts) -> None:
    svc = Service(ServiceKey.mark(Family.INET, 300), "rr")
    backends = [Destination(DestinationKey(svc.key, ip(a), 0), Forwarding.MASQ) for a in BACKENDS.values()]
    marks = VIPFilter(ip(MARK_VIP), frozenset({(Protocol.TCP, 80), (Protocol.TCP, 8080)}), fwmark=300, nat=True)
    assert not parts.apply("fwm", [svc, *backends, marks]).errors
    assert {ask(MARK_VIP, 80) for _ in range(4)} == {"be1", "be2"}
    assert {ask(MARK_VIP, 8080) for _ in range(4)} == {"be1", "be2"}


def test_filter_rejects_other_ports_and_keeps_the_service(parts: Parts) -> None:
    svc = service(MARK_VIP, "rr")
    allow = VIPFilter(ip(MARK_VIP), frozenset({(Protocol.TCP, 80)}))
    assert not parts.apply("web", [svc, *dests(svc, Forwarding.MASQ), allow]).errors
    assert ask(MARK_VIP, 80) in ("be1", "be2")
    with pytest.raises(ConnectionRefusedError):
        ask(MARK_VIP, 22)  # rejected (ICMP port unreachable), not silently dropped
    assert ping(MARK_VIP)  # ICMP to the VIP is let through


def test_audit_repairs_an_element_removed_behind_our_back(parts: Parts) -> None:
    assert not parts.apply("web", nat("rr")).errors
    assert parts.audit() == 0
    nft("lb", "delete", "element", "ip", "seesaw", "slots", "{", f"{NAT_VIP} . tcp . 80 . 1", "}")
    assert f"{NAT_VIP} . tcp . 80 . 1 " not in nft("lb", "list", "map", "ip", "seesaw", "slots")
    assert parts.audit() == 1
    assert f"{NAT_VIP} . tcp . 80 . 1 " in nft("lb", "list", "map", "ip", "seesaw", "slots")
    assert parts.reconciler.drift_repairs_total == 1
    assert {ask(NAT_VIP, 80) for _ in range(4)} == {"be1", "be2"}


def test_restart_adopts_without_writing_and_keeps_connections(parts: Parts) -> None:
    web = nat("rr")
    svc = service(DSR_VIP, "rr")
    dsr = [svc, *dests(svc, Forwarding.ROUTE)]
    allow = VIPFilter(ip(NAT_VIP), frozenset({(Protocol.TCP, 80)}))
    assert not parts.apply("web", [*web, allow]).errors
    assert not parts.apply("dsr", dsr).errors
    nat_conn, dsr_conn = connect(NAT_VIP, 80), connect(DSR_VIP, 80)
    with nat_conn, dsr_conn:
        before = line(nat_conn), line(dsr_conn)
        parts.close()
        restarted = Parts()  # a new NCC: new libnftables contexts, nothing in memory
        try:
            assert restarted.read().objects == parts.read().objects
            assert restarted.apply("web", [*web, allow]).writes == 0
            assert restarted.apply("dsr", dsr).writes == 0
            assert restarted.audit() == 0
        finally:
            restarted.close()
        assert (line(nat_conn), line(dsr_conn)) == before


def test_refused_objects_fail_alone(parts: Parts) -> None:
    good = nat("rr")
    unknown = service("10.99.0.203", "nope")
    tun_svc = service("10.99.0.204", "rr")
    tunnel = Destination(DestinationKey(tun_svc.key, ip("10.99.1.11"), 80), Forwarding.TUNNEL)
    v6 = Destination(DestinationKey(tun_svc.key, ip("fd00::11"), 80), Forwarding.MASQ)
    outcome = parts.apply("mixed", [*good, unknown, tun_svc, tunnel, v6])
    messages = {e.key: e.message for e in outcome.errors}
    assert "scheduler 'nope' is unknown" in messages[str(unknown.key)]
    assert "tunnel (TUN) forwarding needs IPVS" in messages[str(tunnel.key)]
    assert "cannot serve an IPv4 service" in messages[str(v6.key)]
    assert len(outcome.errors) == 3
    assert {ask(NAT_VIP, 80) for _ in range(4)} == {"be1", "be2"}


def test_a_transaction_the_kernel_refuses_is_retried_step_by_step(lab: Lab) -> None:
    """A DSR backend said to sit behind a device that does not exist: only the kernel can refuse it."""
    devices = {ip(BACKENDS["be1"]): "eth0", ip(BACKENDS["be2"]): "ghost0"}
    with netns("lb"):
        part = NftServices(route=devices.get)
        good = service(DSR_VIP, "rr")
        bad = service(NAT_VIP, "rr")
        one = dests(good, Forwarding.ROUTE)[0]
        ghost = dests(bad, Forwarding.ROUTE)[1]
        results = part.apply([Step.add("x", spec) for spec in (good, one, bad, ghost)])
        part.close()
    assert [r.ok for r in results] == [True, True, True, False]
    assert "ghost0" in (results[3].error or "") and results[3].errno is not None
    assert ask(DSR_VIP, 80) == "be1"
