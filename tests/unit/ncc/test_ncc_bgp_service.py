"""NCC's gRPC service with BGP: a real grpc.aio server over a Unix socket, the sim dataplane, a real bgpd."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

import grpc
import pytest

from seesaw.lab import frr
from seesaw.lab.ncc_service import served_ncc
from seesaw.ncc.bgp import Speaker, running
from seesaw.ncc.bgp.client import VTYSession
from seesaw.pb import common_pb2, ncc_pb2, ncc_pb2_grpc

EMPTY = common_pb2.Empty()
ANYCAST = ncc_pb2.Partition(name="vserver:web", vips=[ncc_pb2.VIP(address="192.168.255.1", type=2)])


def bgp_config(**changes: object) -> ncc_pb2.BGPConfig:
    config = ncc_pb2.BGPConfig(
        enabled=True,
        local_asn=64512,
        remote_asn=64513,
        router_id="10.0.0.2",
        peers=[ncc_pb2.BGPPeer(address="127.0.0.11", description="router1.example.com.")],
        networks=["192.168.255.1/32"],
    )
    for name, value in changes.items():
        if isinstance(value, list):
            del getattr(config, name)[:]
            getattr(config, name).extend(value)
        else:
            setattr(config, name, value)
    return config


@contextlib.asynccontextmanager
async def ncc(run_dir: Path, vty: Path) -> AsyncIterator[ncc_pb2_grpc.NCCStub]:
    async with served_ncc(run_dir, speaker=Speaker(vty, timeout=5)) as served:
        yield served.stub


async def held(vty: Path) -> running.Running:
    async with VTYSession(vty) as session:
        return running.parse((await session.command("show running-config")).output)


def test_apply_advertises_after_the_partitions_and_reset_withdraws(tmp_path: Path) -> None:
    async def scenario(vty: Path) -> None:
        async with ncc(tmp_path / "run", vty) as stub:
            request = ncc_pb2.ApplyRequest(partitions=[ANYCAST], bgp=bgp_config(), has_bgp=True)
            reply = await stub.Apply(request)
            assert not reply.errors
            kinds = [step.kind for step in reply.plan]
            assert kinds[0] == "vip" and kinds[-1] == "bgp" and set(kinds) == {"vip", "bgp"}
            assert reply.writes == 1 + kinds.count("bgp")
            network = next(s for s in reply.plan if s.key == "network 192.168.255.1/32")
            assert network.op == ncc_pb2.PlanStep.ADD
            assert network.detail == "router bgp 64512; address-family ipv4 unicast; network 192.168.255.1/32"
            assert (await stub.Apply(request)).writes == 0

            neighbors = await stub.ListBGPNeighbors(EMPTY)
            assert [(n.address, n.asn, n.description, n.peer_group) for n in neighbors.neighbors] == [
                ("127.0.0.11", 64513, "router1.example.com.", "SEESAW")
            ]

            dry = await stub.Apply(ncc_pb2.ApplyRequest(bgp=bgp_config(networks=[]), has_bgp=True, dry_run=True))
            assert [(s.op, s.key) for s in dry.plan] == [(ncc_pb2.PlanStep.DELETE, "network 192.168.255.1/32")]
            assert len((await held(vty)).networks) == 1

            reset = await stub.Reset(EMPTY)
            assert {(s.kind, s.op) for s in reset.plan} == {("vip", ncc_pb2.PlanStep.DELETE), ("bgp", 2)}
            after = await held(vty)
            assert not after.networks and not after.members and not after.group

    if frr.missing():
        pytest.skip(frr.missing())
    with frr.running(tmp_path / "frr", standalone=True) as bgpd:
        asyncio.run(scenario(bgpd.bgpd_vty))


def test_bad_parts_are_object_errors_and_the_rest_applies(tmp_path: Path) -> None:
    async def scenario(vty: Path) -> None:
        async with ncc(tmp_path / "run", vty) as stub:
            config = bgp_config(remote_asn=0, networks=["192.168.255.1/32", "10.1.0.0/16", "bogus"])
            reply = await stub.Apply(ncc_pb2.ApplyRequest(bgp=config, has_bgp=True))
            errors = {(e.kind, e.key): e.message for e in reply.errors}
            assert "set bgp_remote_asn in cluster.pb" in errors[("bgp", "neighbor 127.0.0.11")]
            assert "outside the anycast ranges" in errors[("bgp", "network 10.1.0.0/16")]
            assert errors[("bgp", "network bogus")] == "not a prefix"
            state = await held(vty)
            assert [str(n) for n in state.networks] == ["192.168.255.1/32"] and not state.members
            refused = await stub.Apply(ncc_pb2.ApplyRequest(bgp=bgp_config(local_asn=0), has_bgp=True))
            assert [(e.kind, e.key) for e in refused.errors] == [("bgp", "router bgp")]
            assert refused.writes == 0

    if frr.missing():
        pytest.skip(frr.missing())
    with frr.running(tmp_path / "frr", standalone=True) as bgpd:
        asyncio.run(scenario(bgpd.bgpd_vty))


def test_without_bgpd(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with ncc(tmp_path / "run", tmp_path / "bgpd.vty") as stub:
            reply = await stub.Apply(ncc_pb2.ApplyRequest(partitions=[ANYCAST], bgp=bgp_config(), has_bgp=True))
            assert [(e.kind, e.key) for e in reply.errors] == [("bgp", "bgpd")]
            assert reply.writes == 1  # the VIP went on regardless
            off = await stub.Apply(ncc_pb2.ApplyRequest(bgp=ncc_pb2.BGPConfig(enabled=False), has_bgp=True))
            assert not off.errors
            with pytest.raises(grpc.aio.AioRpcError) as caught:
                await stub.ListBGPNeighbors(EMPTY)
            assert caught.value.code() == grpc.StatusCode.FAILED_PRECONDITION
            assert "bgpd is not running" in (caught.value.details() or "")

    asyncio.run(scenario())
