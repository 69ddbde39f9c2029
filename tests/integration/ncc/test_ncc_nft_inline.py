"""Which plans NCC applies on its event loop's thread, with the real nftables dataplane (services, host, filters).

pyroute2's synchronous calls run an asyncio loop of their own and fail on a thread whose loop is
running ("This event loop is already running"); a plan that may reach pyroute2 (DSR destinations:
a route lookup; the host part) must go to a worker thread, and a NAT flip may stay on the loop.
"""

from __future__ import annotations

import asyncio
import ipaddress
import threading
from collections.abc import Iterator, Sequence

import pytest
from ncc_nft_lab import BACKENDS, DSR_VIP, NAT_VIP, Lab, ask, lab_fixture, netns

from seesaw.common.clock import FakeClock
from seesaw.ncc.kernel.composite import KernelDataplane
from seesaw.ncc.kernel.host import HostNetwork
from seesaw.ncc.kernel.nft_filters import NftFilters
from seesaw.ncc.kernel.nft_services import NftServices
from seesaw.ncc.model import Destination, DestinationKey, Forwarding, Partition, Protocol, Request, Service, ServiceKey
from seesaw.ncc.runner import Runner
from seesaw.ncc.steps import Step, StepResult

pytestmark = pytest.mark.netns


@pytest.fixture
def lab() -> Iterator[Lab]:
    yield from lab_fixture()


class Noting(KernelDataplane):
    """The nftables dataplane as seesaw-ncc builds it, noting the thread of each apply."""

    def __init__(self) -> None:
        super().__init__("nftables", [NftServices(), HostNetwork(), NftFilters()])
        self.threads: list[int] = []

    def apply(self, steps: Sequence[Step]) -> list[StepResult]:
        self.threads.append(threading.get_ident())
        return super().apply(steps)


def vserver(vip: str, forwarding: Forwarding, weights: Sequence[int]) -> Partition:
    svc = Service(ServiceKey.ip(Protocol.TCP, ipaddress.ip_address(vip), 80), "wrr")
    dests = [
        Destination(DestinationKey(svc.key, ipaddress.ip_address(address), 80), forwarding, weight)
        for address, weight in zip(BACKENDS.values(), weights, strict=False)
    ]
    return Partition.of(f"vs-{vip}", [svc, *dests])


def test_a_nat_flip_runs_on_the_loop_and_dsr_goes_to_a_worker(lab: Lab) -> None:
    async def main() -> None:
        with netns("lb"):
            dataplane = Noting()
            runner = Runner(dataplane, "test", FakeClock(), audit_interval=0)
            await runner.start()
            loop = threading.get_ident()
            try:
                nat = await runner.apply(Request((vserver(NAT_VIP, Forwarding.MASQ, (1, 1)),)))
                assert nat.errors == () and nat.writes == 3
                flip = await runner.apply(Request((vserver(NAT_VIP, Forwarding.MASQ, (3, 1)),)))
                assert flip.errors == () and flip.writes == 1
                assert dataplane.threads[-1] == loop  # the flip: inline
                dsr = await runner.apply(Request((vserver(DSR_VIP, Forwarding.ROUTE, (1, 1)),)))
                assert dsr.errors == () and dsr.writes == 3  # no "event loop is already running"
                assert dataplane.threads[-1] != loop  # a route lookup through pyroute2: in a worker
            finally:
                dataplane.close()

    asyncio.run(main())
    assert sorted(ask(NAT_VIP, 80) for _ in range(4)) == ["be1", "be1", "be1", "be2"]
    assert {ask(DSR_VIP, 80) for _ in range(4)} == {"be1", "be2"}
