"""The NCC gRPC service over a real Unix socket: a real grpc.aio server, a real client, the sim dataplane."""

import asyncio
import contextlib
import errno

import grpc
import pytest
from ncc_build import pb_lb, pb_partition, pb_service, service

from seesaw.common import paths, rpc
from seesaw.lab.ncc_service import served_ncc
from seesaw.ncc.dataplane import DataplaneError
from seesaw.ncc.model import Stats, ref
from seesaw.ncc.sim import SimDataplane
from seesaw.pb import common_pb2, ncc_pb2

EMPTY = common_pb2.Empty()


@contextlib.asynccontextmanager
async def ncc(tmp_path, sim=None, ready=True, audit_interval=0.0):
    sim = sim or SimDataplane()
    async with served_ncc(tmp_path, sim, ready=ready, audit_interval=audit_interval) as served:
        yield served.stub, served.runner, sim, served.server


def full_request(**kwargs) -> ncc_pb2.ApplyRequest:
    return ncc_pb2.ApplyRequest(
        partitions=[pb_partition("web"), pb_partition("api", "192.0.2.2")], lb=pb_lb(), has_lb=True, **kwargs
    )


def test_apply_twice_then_flip_one_backend(tmp_path):
    async def scenario():
        async with ncc(tmp_path) as (stub, _, sim, _server):
            first = await stub.Apply(full_request(replace_all=True))
            assert first.writes == 11 == sim.writes
            assert first.generation == 1 and not first.errors
            assert first.plan[0].kind == "lb" and first.plan[0].op == ncc_pb2.PlanStep.ADD
            assert first.plan[1].key == "192.0.2.1" and first.plan[1].partition == "web"
            again = await stub.Apply(full_request(replace_all=True))
            assert (again.writes, len(again.plan), again.generation) == (0, 0, 2)
            flip = ncc_pb2.ApplyRequest(partitions=[pb_partition("api", "192.0.2.2", weight=0)])
            flipped = await stub.Apply(flip)
            assert flipped.writes == 2
            assert {(s.op, s.kind, s.detail) for s in flipped.plan} == {
                (ncc_pb2.PlanStep.UPDATE, "destination", "weight=1->0")
            }

    asyncio.run(scenario())


def test_errors_are_per_object_and_the_rest_is_applied(tmp_path):
    async def scenario():
        async with ncc(tmp_path, SimDataplane(schedulers={"wrr", "wlc"})) as (stub, *_):
            bad_input = ncc_pb2.Partition(
                name="web", services=[pb_service(scheduler="bogus"), pb_service("192.0.2.3", scheduler="mh")]
            )
            reply = await stub.Apply(
                ncc_pb2.ApplyRequest(partitions=[bad_input, pb_partition("api", "192.0.2.2")], lb=pb_lb(), has_lb=True)
            )
            errors = {(e.kind, e.key, e.partition): e.message for e in reply.errors}
            assert "unknown scheduler 'bogus'" in errors[("service", "TCP 192.0.2.1:80", "web")]
            assert "ip_vs_mh" in errors[("service", "TCP 192.0.2.3:80", "web")]
            state = await stub.GetState(EMPTY)
            assert [s.service.address for s in state.services] == ["192.0.2.2"]
            assert len(state.services[0].destinations) == 2
            status = await stub.GetStatus(EMPTY)
            assert status.apply_errors_total == len(reply.errors) == 4  # 2 services, 2 destinations of the mh one

    asyncio.run(scenario())


def test_dry_run_returns_the_plan_and_writes_nothing(tmp_path):
    async def scenario():
        async with ncc(tmp_path) as (stub, _, sim, _server):
            reply = await stub.Apply(full_request(dry_run=True))
            assert len(reply.plan) == 11 and reply.writes == 0 and reply.generation == 0
            assert sim.writes == 0 and sim.batches == 0
            assert (await stub.GetStatus(EMPTY)).partitions == []
            assert (await stub.Apply(full_request())).writes == 11

    asyncio.run(scenario())


def test_get_state_reports_services_destinations_stats_vips_and_lb(tmp_path):
    async def scenario():
        async with ncc(tmp_path) as (stub, _, sim, _server):
            await stub.Apply(full_request())
            sim.set_stats(ref(service()), Stats(connections=42, packets_in=7))
            state = await stub.GetState(EMPTY)
            assert state.dataplane == "sim"
            assert [s.service.address for s in state.services] == ["192.0.2.1", "192.0.2.2"]
            assert state.services[0].stats.connections == 42
            assert state.services[1].stats.connections == 0
            assert [d.destination.address for d in state.services[0].destinations] == ["10.0.0.1", "10.0.0.2"]
            assert [v.address for v in state.vips] == ["192.0.2.1", "192.0.2.2"]
            assert state.lb.name == "eth1" and state.lb.up and state.lb.cluster_vip_ipv4 == "192.0.2.100"

    asyncio.run(scenario())


def test_status_reports_dataplane_generation_writes_repairs_and_partitions(tmp_path):
    async def scenario():
        async with ncc(tmp_path) as (stub, runner, sim, _server):
            await stub.Apply(full_request())
            sim.tamper_delete(ref(service()))
            assert await runner.audit() == 3
            status = await stub.GetStatus(EMPTY)
            assert status.dataplane == "sim" and status.dataplane_reason == "chosen for the test"
            assert status.generation == 1
            assert status.writes_total == 14 == sim.writes
            assert status.drift_repairs_total == 3
            assert list(status.partitions) == ["api", "web"]

    asyncio.run(scenario())


def test_periodic_audit_repairs_drift(tmp_path):
    async def scenario():
        async with ncc(tmp_path, audit_interval=0.02) as (stub, runner, sim, _server):
            await stub.Apply(full_request())
            stop = asyncio.Event()
            audits = asyncio.create_task(runner.run_audits(stop))
            sim.tamper_delete(ref(service("192.0.2.2")))
            for _ in range(200):
                if ref(service("192.0.2.2")) in sim.read().objects:
                    break
                await asyncio.sleep(0.01)
            stop.set()
            await audits
            assert ref(service("192.0.2.2")) in sim.read().objects
            assert (await stub.GetStatus(EMPTY)).drift_repairs_total == 3

    asyncio.run(scenario())


def test_gratuitous_arp_is_sent_where_possible(tmp_path):
    async def scenario():
        async with ncc(tmp_path) as (stub, _, sim, _server):
            await stub.Apply(full_request())
            request = ncc_pb2.ARPRequest(
                interfaces={
                    "eth1": ncc_pb2.AddressList(addresses=["192.0.2.1", "192.0.2.2", "not-an-ip"]),
                    "eth9": ncc_pb2.AddressList(addresses=["192.0.2.3"]),
                }
            )
            assert await stub.SendGratuitousARP(request) == EMPTY
            assert [(i, str(a)) for i, a in sim.garps] == [("eth1", "192.0.2.1"), ("eth1", "192.0.2.2")]

    asyncio.run(scenario())


def test_reset_removes_everything_ncc_programmed(tmp_path):
    async def scenario():
        async with ncc(tmp_path) as (stub, _, sim, _server):
            await stub.Apply(full_request())
            reply = await stub.Reset(EMPTY)
            assert reply.writes == 11 and not reply.errors
            assert sim.read().objects == {}
            assert (await stub.GetStatus(EMPTY)).partitions == []

    asyncio.run(scenario())


def test_concurrent_applies_are_serialised(tmp_path):
    async def scenario():
        async with ncc(tmp_path) as (stub, _, sim, _server):
            await stub.Apply(ncc_pb2.ApplyRequest(lb=pb_lb(), has_lb=True))
            replies = await asyncio.gather(
                *(
                    stub.Apply(ncc_pb2.ApplyRequest(partitions=[pb_partition(f"v{i}", f"192.0.2.{i + 1}")]))
                    for i in range(20)
                )
            )
            assert sorted(r.generation for r in replies) == list(range(2, 22))
            assert all(r.writes == 5 and not r.errors for r in replies)
            assert sim.batches == 21
            assert len((await stub.GetStatus(EMPTY)).partitions) == 20

    asyncio.run(scenario())


def test_not_serving_and_unavailable_until_the_dataplane_is_read(tmp_path):
    async def scenario():
        async with ncc(tmp_path, ready=False) as (stub, runner, _sim, server):
            sock = paths.socket_path(tmp_path, "ncc")
            assert not await rpc.check_health(sock)
            with pytest.raises(grpc.aio.AioRpcError) as err:
                await stub.Apply(full_request())
            assert err.value.code() == grpc.StatusCode.UNAVAILABLE
            assert "still reading the dataplane" in err.value.details()
            await runner.start()
            await server.set_serving(True)
            assert await rpc.check_health(sock, service="ncc")
            assert (await stub.Apply(full_request())).writes == 11

    asyncio.run(scenario())


def test_a_failing_dataplane_fails_every_step_and_nothing_is_recorded(tmp_path):
    async def scenario():
        async with ncc(tmp_path) as (stub, runner, sim, _server):
            await stub.Apply(full_request())
            sim.failure = DataplaneError("netlink socket closed", errno.EBADF)
            reply = await stub.Apply(ncc_pb2.ApplyRequest(partitions=[pb_partition("web", weight=9)]))
            assert reply.writes == 0
            assert [e.message for e in reply.errors] == [
                "not applied: the sim dataplane failed (netlink socket closed)"
            ] * 2
            with pytest.raises(grpc.aio.AioRpcError) as err:
                await stub.GetState(EMPTY)
            assert err.value.code() == grpc.StatusCode.UNAVAILABLE
            assert "reading the sim dataplane failed: netlink socket closed" in err.value.details()
            sim.failure = None
            assert await runner.audit() == 2  # the weights NCC could not write are repaired
            assert {d.destination.weight for d in (await stub.GetState(EMPTY)).services[0].destinations} == {9}

    asyncio.run(scenario())
