"""HA has NCC take the LB interface down without the engine (seesaw/ha/lb_release.py, NCC.TakeLBDown).

A real NCC service (grpc.aio over a Unix socket, the runner, the sim dataplane) and the real client.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from seesaw.common import paths
from seesaw.ha.lb_release import LBRelease
from seesaw.lab.ncc_service import served_ncc
from seesaw.ncc.model import Kind, LBInterface
from seesaw.ncc.sim import SimDataplane
from seesaw.pb import ncc_pb2, ncc_pb2_grpc


def lb(up: bool = True) -> ncc_pb2.LBInterface:
    return ncc_pb2.LBInterface(
        name="eth1",
        node_interface="eth0",
        dummy_interface="dummy0",
        node_ipv4="192.0.2.10/24",
        cluster_vip_ipv4="192.0.2.100",
        vrid=60,
        use_vmac=False,
        routing_table=2,
        up=up,
        vlans=[ncc_pb2.VLAN(id=7, ipv4="198.51.100.10/24")],
    )


def held(sim: SimDataplane) -> LBInterface:
    (found,) = [s for s in sim.read().objects.values() if isinstance(s, LBInterface)]
    return found


@contextlib.asynccontextmanager
async def ncc(run_dir: Path, sim: SimDataplane) -> AsyncIterator[ncc_pb2_grpc.NCCStub]:
    async with served_ncc(run_dir, sim) as served:
        yield served.stub


def test_the_lb_interface_goes_down_and_nothing_else_changes(tmp_path: Path) -> None:
    async def scenario() -> None:
        sim = SimDataplane()
        async with ncc(tmp_path, sim) as stub:
            vip = ncc_pb2.Partition(name="web", vips=[ncc_pb2.VIP(address="192.0.2.1")])
            applied = await stub.Apply(ncc_pb2.ApplyRequest(partitions=[vip], lb=lb(), has_lb=True))
            assert not applied.errors and held(sim).up
            before = {k: v for k, v in sim.read().objects.items() if k[0] != Kind.LB}

            release = LBRelease(paths.socket_path(tmp_path, "ncc"))
            release.release("the engine is gone")
            await asyncio.wait_for(release.done.wait(), 5)
            assert not held(sim).up
            assert {k: v for k, v in sim.read().objects.items() if k[0] != Kind.LB} == before  # VLAN, VIP kept

            writes = sim.writes
            release.release("again")  # nothing up: nothing to do
            await asyncio.wait_for(release.done.wait(), 5)
            assert sim.writes == writes
            # the engine, back, is obeyed as before
            back = await stub.Apply(ncc_pb2.ApplyRequest(lb=lb(up=True), has_lb=True))
            assert not back.errors and held(sim).up

    asyncio.run(scenario())


def test_an_ncc_not_there_yet_is_asked_again_until_it_is(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    async def scenario() -> None:
        sim = SimDataplane()
        release = LBRelease(paths.socket_path(tmp_path, "ncc"), retry_delay=0.05)
        release.release("the engine is gone")
        await asyncio.sleep(0.3)
        assert release.pending and not release.done.is_set()
        async with ncc(tmp_path, sim) as stub:
            await stub.Apply(ncc_pb2.ApplyRequest(lb=lb(), has_lb=True))
            await asyncio.wait_for(release.done.wait(), 5)
            assert not held(sim).up and not release.pending
        complaints = [r for r in caplog.records if "cannot have NCC take the LB interface down" in r.getMessage()]
        assert len(complaints) == 1  # said once, not on every retry

    asyncio.run(scenario())


def test_cancelled_when_the_engine_is_back(tmp_path: Path) -> None:
    async def scenario() -> None:
        sim = SimDataplane()
        release = LBRelease(paths.socket_path(tmp_path, "ncc"), retry_delay=0.05)
        release.release("the engine is gone")
        await asyncio.sleep(0.1)
        release.cancel()  # the engine came back before NCC answered
        assert not release.pending
        async with ncc(tmp_path, sim) as stub:
            await stub.Apply(ncc_pb2.ApplyRequest(lb=lb(), has_lb=True))
            await asyncio.sleep(0.3)
            assert held(sim).up and not release.done.is_set()
        await release.close()

    asyncio.run(scenario())
