"""A large apply goes to nftables in parts (the next rendered while the kernel takes the last).

Real tables in a namespace of their own; PART_SIZE is made tiny so that a handful of
services already takes several transactions.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Iterator
from typing import Any

import pytest
from ncc_nft_lab import own_namespace

from seesaw.ncc.kernel import nft_services
from seesaw.ncc.kernel.nft_exec import Nft
from seesaw.ncc.kernel.nft_services import NftServices
from seesaw.ncc.model import Destination, DestinationKey, Forwarding, Protocol, Service, ServiceKey, Spec, ref
from seesaw.ncc.steps import Step

pytestmark = pytest.mark.netns

NS = f"ncc-parts-{os.getpid()}"


class Counting:
    """libnftables, counting the transactions the kernel took."""

    def __init__(self) -> None:
        self.nft = Nft()
        self.scripts: list[str] = []

    def run(self, script: str) -> None:
        self.nft.run(script)
        self.scripts.append(script)

    def list(self, what: str, terse: bool = False) -> dict[str, Any] | None:
        return self.nft.list(what, terse)

    def text(self, what: str, terse: bool = False) -> str | None:
        return self.nft.text(what, terse)


def vserver(i: int, forwarding: Forwarding = Forwarding.MASQ) -> list[Spec]:
    svc = Service(ServiceKey.ip(Protocol.TCP, ipaddress.ip_address(f"192.0.2.{i}"), 80), "wrr")
    backends = [ipaddress.ip_address(f"10.0.{b}.{i}") for b in range(3)]
    return [svc, *(Destination(DestinationKey(svc.key, a, 80), forwarding, b + 1) for b, a in enumerate(backends))]


@pytest.fixture
def namespace(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(nft_services, "PART_SIZE", 10)  # about two services a transaction
    monkeypatch.setattr(nft_services, "FIRST_PART", 10)  # the first one too
    with own_namespace(NS):
        yield


def test_a_large_apply_goes_in_parts_and_reads_back_whole(namespace: None) -> None:
    specs = [spec for i in range(1, 9) for spec in vserver(i)]
    nft = Counting()
    part = NftServices(nft=nft, route=lambda address: None)
    results = part.apply([Step.add("p", spec) for spec in specs])
    assert [r.error for r in results if not r.ok] == []
    assert len(nft.scripts) >= 4
    assert sum(script.count("add chain ip seesaw rr_6") for script in nft.scripts) == 1  # made once, used by all
    assert part.apply([Step.add("p", spec) for spec in specs]) == results and len(nft.scripts) >= 4
    fresh = NftServices(route=lambda address: None)
    assert fresh.read().objects == {ref(spec): spec for spec in specs}
    part.close()
    fresh.close()


def test_a_part_the_kernel_refuses_stops_the_rest_and_the_steps_are_retried_one_by_one(namespace: None) -> None:
    """A DSR backend said to sit behind a device that does not exist: only the kernel can refuse it."""
    good = [spec for i in range(1, 7) for spec in vserver(i)]
    ghost = vserver(7, Forwarding.ROUTE)
    nft = Counting()
    part = NftServices(nft=nft, route=lambda address: "ghost0")
    results = part.apply([Step.add("p", spec) for spec in [*good, *ghost]])
    failed = [r for r in results if not r.ok]
    assert [r.step.spec for r in failed] == ghost[1:]  # the service itself is fine; its DSR destinations are not
    assert all("ghost0" in (r.error or "") for r in failed)
    fresh = NftServices(route=lambda address: "ghost0")
    assert fresh.read().objects == {ref(spec): spec for spec in [*good, ghost[0]]}
    part.close()
    fresh.close()
