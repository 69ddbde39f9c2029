"""Anycast end to end in one process: the engine's runtime, servicer and NCC link, the real NCC service
(sim dataplane) and a real FRR bgpd (standalone: loopback neighbours, no sessions)."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

import grpc
import pytest
from engine_waits import eventually

from seesaw.common import paths, rpc
from seesaw.common.clock import SystemClock
from seesaw.engine import service
from seesaw.engine.main import build_runtime
from seesaw.engine.ncc_link import NCCLink
from seesaw.lab import frr
from seesaw.lab.fixture_configs import CLUSTER_HEAD, engine_cfg
from seesaw.ncc.bgp import Speaker, VTYSession, running
from seesaw.ncc.runner import Runner
from seesaw.ncc.service import SERVICE_NAME as NCC_SERVICE
from seesaw.ncc.service import NCCService
from seesaw.ncc.sim import SimDataplane
from seesaw.pb import common_pb2, engine_pb2, engine_pb2_grpc, ncc_pb2_grpc

EMPTY = common_pb2.Empty()

CLUSTER_PB = (
    CLUSTER_HEAD
    + """\
bgp_local_asn: 65010
bgp_remote_asn: 65020
bgp_peer < fqdn: "router1.example.com." ipv4: "127.0.0.11/8" >
vserver <
  name: "dns@au-syd"
  rp: "ops"
  entry_address < fqdn: "dns-anycast.example.com." ipv4: "192.168.255.1/24" status: PRODUCTION >
  vserver_entry < protocol: UDP port: 53 scheduler: RR mode: DSR >
  backend < host < fqdn: "dns1.example.com." ipv4: "10.2.0.1/24" status: PRODUCTION > >
>
"""
)


@contextlib.asynccontextmanager
async def node(tmp: Path, vty: Path, anycast: bool = True) -> AsyncIterator[engine_pb2_grpc.EngineStub]:
    config_dir, run_dir = tmp / "etc", tmp / "run"
    config_dir.mkdir(parents=True, exist_ok=True)
    (config_dir / "seesaw.cfg").write_text(engine_cfg(anycast))
    (config_dir / "cluster.pb").write_text(CLUSTER_PB)
    runner = Runner(SimDataplane(), "test", SystemClock(), audit_interval=0)
    ncc = rpc.UnixServer(run_dir, "ncc")
    ncc.add(ncc_pb2_grpc.add_NCCServicer_to_server, NCCService(runner, Speaker(vty, timeout=5)), NCC_SERVICE)
    await ncc.start()
    await runner.start()
    runtime = build_runtime(argparse.Namespace(config_dir=config_dir, run_dir=run_dir, config_step_interval=60.0))
    server = rpc.UnixServer(run_dir, "engine")
    server.add(engine_pb2_grpc.add_EngineServicer_to_server, service.EngineService(runtime), service.SERVICE_NAME)
    await server.start()
    stop = asyncio.Event()
    link = asyncio.create_task(NCCLink(runtime, paths.socket_path(run_dir, "ncc"), probe_interval=0.2).run(stop))
    channel = rpc.aio_channel(paths.socket_path(run_dir, "engine"))
    try:
        yield engine_pb2_grpc.EngineStub(channel)
    finally:
        stop.set()
        await link
        await channel.close()
        await server.stop(0)
        await ncc.stop(0)


async def networks(vty: Path) -> set[str]:
    async with VTYSession(vty) as session:
        held = running.parse((await session.command("show running-config")).output)
    return {str(n) for n in held.networks}


@pytest.fixture
def bgpd(tmp_path: Path) -> frr.FRR:
    if frr.missing():
        pytest.skip(frr.missing())
    with frr.running(tmp_path / "frr", standalone=True) as daemon:
        yield daemon


def test_healthy_anycast_vip_is_advertised_and_the_neighbours_listed(tmp_path: Path, bgpd: frr.FRR) -> None:
    vty = bgpd.bgpd_vty

    async def scenario() -> None:
        async with node(tmp_path, vty) as engine:
            both = {"192.168.255.1/32", "192.168.255.254/32"}

            async def advertised() -> bool:
                return await networks(vty) == both

            await eventually(advertised, "the anycast VIP and the service address in bgpd")
            found = await engine.ListBGPNeighbors(EMPTY)
            (neighbor,) = found.neighbors
            assert (neighbor.address, neighbor.asn, neighbor.description) == (
                "127.0.0.11",
                65020,
                "router1.example.com.",
            )
            assert neighbor.state != "Established" and neighbor.uptime_s == 0

            await engine.Override(
                engine_pb2.OverrideRequest(
                    target=engine_pb2.OverrideRequest.VSERVER, name="dns@au-syd", state=common_pb2.OVERRIDE_DISABLED
                )
            )

            async def withdrawn() -> bool:
                return await networks(vty) == {"192.168.255.254/32"}

            await eventually(withdrawn, "the disabled vserver's VIP withdrawn")

    asyncio.run(asyncio.wait_for(scenario(), 60))


def test_without_bgpd_the_operator_is_told_and_without_anycast_nothing_is_asked(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with node(tmp_path / "a", tmp_path / "bgpd.vty") as engine:

            async def warned() -> bool:
                status = await engine.GetConfigStatus(EMPTY)
                return any("bgpd is not running" in w for w in status.warnings)

            await eventually(warned, "a warning that bgpd is not running")
            with pytest.raises(grpc.aio.AioRpcError) as caught:
                await engine.ListBGPNeighbors(EMPTY)
            assert caught.value.code() == grpc.StatusCode.FAILED_PRECONDITION
            assert "bgpd is not running" in (caught.value.details() or "")

        async with node(tmp_path / "b", tmp_path / "bgpd.vty", anycast=False) as engine:
            assert (await engine.ListBGPNeighbors(EMPTY)).neighbors == []
            await asyncio.sleep(0.5)
            status = await engine.GetConfigStatus(EMPTY)
            assert not [w for w in status.warnings if "NCC" in w]

    asyncio.run(asyncio.wait_for(scenario(), 60))
