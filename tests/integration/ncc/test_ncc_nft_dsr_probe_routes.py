"""DSR healthcheck marks on the nftables dataplane: a marked connection from the LB to the VIP reaches
exactly the mark's backend, through the VIP (nft_probe_plan.py), with real traffic.

The lab of ncc_nft_lab.py: the LB holds the VIPs on lo (as a master does), be1 and be2 hold the DSR
VIP on lo. NftServices is driven through NCC's Reconciler with the fwmark services the engine puts
in its `healthcheck-marks` partition: one per (backend, mode), its one destination the backend.
"""

from __future__ import annotations

import ipaddress
import socket
import subprocess
from collections.abc import Iterator, Sequence

import pytest
from ncc_nft_lab import BACKENDS, DSR_VIP, Lab, lab_fixture, netns, ns

from seesaw.common.clock import FakeClock
from seesaw.ncc.dataplane import KernelState
from seesaw.ncc.kernel.nft_services import NftServices
from seesaw.ncc.model import (
    Destination,
    DestinationKey,
    Family,
    Forwarding,
    Kind,
    Partition,
    Request,
    Service,
    ServiceKey,
    Spec,
)
from seesaw.ncc.reconciler import Outcome, Reconciler
from seesaw.ncc.steps import StepResult

pytestmark = pytest.mark.netns

MARKS = {"be1": 65536, "be2": 65537}


@pytest.fixture
def lab() -> Iterator[Lab]:
    yield from lab_fixture()


class Part:
    """NftServices in the lb namespace behind NCC's Reconciler."""

    def __init__(self) -> None:
        with netns("lb"):
            self.services = NftServices()
        self.reconciler = Reconciler("nftables", "test", FakeClock())
        self.reconciler.observe(self.read())

    def read(self) -> KernelState:
        with netns("lb"):
            return self.services.read()

    def perform(self, steps) -> list[StepResult]:
        with netns("lb"):
            return self.services.apply(steps) if steps else []

    def apply(self, specs: Sequence[Spec]) -> Outcome:
        plan = self.reconciler.plan(Request((Partition.of("healthcheck-marks", specs),)))
        return self.reconciler.commit(plan, self.perform(plan.steps))

    def audit(self) -> int:
        self.reconciler.observe(self.read())
        plan = self.reconciler.plan_audit()
        results = self.perform(plan.steps)
        self.reconciler.commit_audit(plan, results)
        return sum(r.ok for r in results)

    def close(self) -> None:
        self.services.close()


@pytest.fixture
def part(lab: Lab) -> Iterator[Part]:
    # A reply to a probe comes from the VIP, which the LB holds too: the host part's accept_local
    # (host_sysctl.py) lets it in; this lab has no host part, so set it as the host part would.
    ns("lb", "sysctl", "-qw", "net.ipv4.conf.all.accept_local=1", "net.ipv4.conf.eth0.accept_local=1")
    made = Part()
    yield made
    made.close()


def marks(backends: dict[str, str] = BACKENDS, forwarding: Forwarding = Forwarding.ROUTE) -> list[Spec]:
    """The healthcheck-marks partition for `backends` (as seesaw/engine/healthchecks.py makes it)."""
    specs: list[Spec] = []
    for name, address in backends.items():
        service = Service(ServiceKey.mark(Family.INET, MARKS.get(name, 65540)), "rr")
        specs += [service, Destination(DestinationKey(service.key, ipaddress.ip_address(address), 0), forwarding, 1)]
    return specs


def probe(mark: int, address: str = DSR_VIP, timeout: float = 1.0) -> str:
    """A TCP connection from the LB to address:80 with SO_MARK `mark`, as the healthcheck dials: who answers."""
    with netns("lb"):
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    with sock:
        sock.settimeout(timeout)
        if mark:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_MARK, mark)
        try:
            sock.connect((address, 80))
            sock.sendall(b"?\n")
            return sock.recv(64).decode().strip()
        except OSError as err:
            return f"failed: {err.strerror or err}"


def rules() -> str:
    return ns("lb", "ip", "rule", "show").stdout


def test_a_mark_reaches_its_backend_through_the_vip_and_only_a_backend_with_the_vip_answers(part: Part) -> None:
    assert not part.apply(marks()).errors
    assert probe(MARKS["be1"]) == "be1"
    assert probe(MARKS["be2"]) == "be2"
    subprocess.run(["ip", "-n", "be2", "addr", "del", f"{DSR_VIP}/32", "dev", "lo"], check=True)
    assert probe(MARKS["be2"]).startswith("failed")  # be2 no longer answers for the VIP: its DSR check fails
    assert probe(0, BACKENDS["be2"]) == "be2"  # while its PLAIN check (straight to it) still passes
    assert probe(MARKS["be1"]) == "be1"
    assert probe(0).startswith("failed")  # unmarked, the VIP is the LB's own (nobody listens on it)


def test_the_local_rule_moves_behind_the_probes_and_back_when_the_last_goes(part: Part) -> None:
    assert rules().startswith("0:\tfrom all lookup local")
    assert not part.apply(marks()).errors
    shown = rules()
    assert "1:\tfrom all fwmark 0x10000 lookup 65536 proto 84" in shown
    assert "2:\tfrom all lookup local proto 84" in shown and "0:\tfrom all lookup local" not in shown
    assert (
        "default via 10.99.1.11 dev eth0 proto 84 src 10.99.1.2 onlink"
        in ns("lb", "ip", "route", "show", "table", "65536").stdout
    )
    assert not part.apply([]).errors
    assert rules().startswith("0:\tfrom all lookup local") and "proto 84" not in rules()
    assert ns("lb", "ip", "route", "show", "table", "all", "proto", "84").stdout == ""


def test_a_route_removed_behind_our_back_makes_its_destination_absent_and_the_audit_puts_it_back(part: Part) -> None:
    specs = marks()
    assert not part.apply(specs).errors
    ns("lb", "ip", "route", "del", "default", "table", str(MARKS["be2"]))
    assert probe(MARKS["be2"]) != "be2"
    state = part.read()
    absent = {spec.key for spec in specs if (spec.kind, spec.key) not in state.objects}
    be2 = DestinationKey(ServiceKey.mark(Family.INET, MARKS["be2"]), ipaddress.ip_address(BACKENDS["be2"]), 0)
    assert absent == {be2}
    assert part.audit() == 1
    assert probe(MARKS["be2"]) == "be2"
    assert (Kind.DESTINATION, be2) in part.read().objects


def test_a_restarted_ncc_adopts_the_routed_marks_without_writing(part: Part) -> None:
    specs = marks()
    assert not part.apply(specs).errors
    restarted = Part()
    try:
        assert {(s.kind, s.key) for s in specs} <= restarted.read().objects.keys()
        assert restarted.apply(specs).writes == 0
        assert probe(MARKS["be1"]) == "be1"
    finally:
        restarted.close()


def test_a_mark_that_cannot_be_routed_fails_alone_with_what_to_do(part: Part) -> None:
    far = {"be1": BACKENDS["be1"], "far": "192.0.2.77"}  # no network of the LB holds 192.0.2.77
    outcome = part.apply(marks(far))
    assert len(outcome.errors) == 1 and outcome.errors[0].kind == "destination", outcome.errors
    assert "192.0.2.77 needs it on a network this node is directly connected to" in outcome.errors[0].message
    assert probe(MARKS["be1"]) == "be1"
    tunnel = part.apply(marks({"be2": BACKENDS["be2"]}, Forwarding.TUNNEL))
    assert tunnel.errors and "tunnel (TUN) forwarding needs IPVS" in tunnel.errors[0].message
