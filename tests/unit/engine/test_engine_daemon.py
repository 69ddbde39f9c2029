"""The engine's servicers and NCC link, end to end in one process: a real
gRPC engine server on a Unix socket, the real NCC (sim dataplane) on another,
and gRPC clients playing HA, healthcheck and the CLI."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import sys
import time
from collections.abc import AsyncIterator, Awaitable
from pathlib import Path

import grpc
import pytest
from engine_waits import eventually

from seesaw.common import paths, rpc
from seesaw.common.clock import SystemClock
from seesaw.engine import ha_link, healthcheck_link, service
from seesaw.engine.main import build_runtime
from seesaw.engine.ncc_link import NCCLink
from seesaw.engine.runtime import EngineRuntime
from seesaw.lab.fixture_configs import CLUSTER_HEAD, engine_cfg
from seesaw.ncc import model as ncc_model
from seesaw.ncc.runner import READ_REUSE, Runner
from seesaw.ncc.service import SERVICE_NAME as NCC_SERVICE
from seesaw.ncc.service import NCCService
from seesaw.ncc.sim import SimDataplane
from seesaw.pb import (
    common_pb2,
    engine_pb2,
    engine_pb2_grpc,
    ha_pb2,
    healthcheck_pb2,
    ncc_pb2,
    ncc_pb2_grpc,
)


def vserver_text(n: int, check: str = "TCP") -> str:
    return f"""
vserver <
  name: "web{n}@au-syd"
  rp: "ops"
  entry_address < fqdn: "web{n}.example.com." ipv4: "10.0.0.{10 + n}/24" status: PRODUCTION >
  vserver_entry <
    protocol: TCP
    port: 80
    scheduler: RR
    mode: NAT
    healthcheck < type: {check} port: 80 interval: 1 timeout: 1 >
  >
  backend < host < fqdn: "be{n}-1.example.com." ipv4: "10.2.{n}.1/24" status: PRODUCTION > >
  backend < host < fqdn: "be{n}-2.example.com." ipv4: "10.2.{n}.2/24" status: PRODUCTION > >
>
"""


def cluster_text(*vservers: int, check: str = "TCP") -> str:
    return CLUSTER_HEAD + "".join(vserver_text(n, check) for n in vservers)


class Harness:
    def __init__(self, tmp: Path) -> None:
        self.config_dir = tmp / "etc"
        self.run_dir = tmp / "run"
        self.config_dir.mkdir(exist_ok=True)
        self.sim = SimDataplane()
        self.stop = asyncio.Event()
        self.runtime: EngineRuntime | None = None
        self.ncc_link: NCCLink | None = None

    def write(self, cluster: str) -> None:
        (self.config_dir / "seesaw.cfg").write_text(engine_cfg())
        (self.config_dir / "cluster.pb").write_text(cluster)

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[Harness]:
        runner = Runner(self.sim, "test", SystemClock(), audit_interval=0)
        ncc = rpc.UnixServer(self.run_dir, "ncc")
        ncc.add(ncc_pb2_grpc.add_NCCServicer_to_server, NCCService(runner), NCC_SERVICE)
        await ncc.start()
        await runner.start()
        args = argparse.Namespace(config_dir=self.config_dir, run_dir=self.run_dir, config_step_interval=60.0)
        self.runtime = runtime = build_runtime(args)
        server = rpc.UnixServer(self.run_dir, "engine")
        server.add(engine_pb2_grpc.add_EngineServicer_to_server, service.EngineService(runtime), service.SERVICE_NAME)
        server.add(
            engine_pb2_grpc.add_EngineHAServicer_to_server, ha_link.EngineHAService(runtime), ha_link.SERVICE_NAME
        )
        server.add(
            engine_pb2_grpc.add_EngineHealthcheckServicer_to_server,
            healthcheck_link.EngineHealthcheckService(runtime),
            healthcheck_link.SERVICE_NAME,
        )
        await server.start()
        await server.set_serving(True)
        self.ncc_link = NCCLink(runtime, paths.socket_path(self.run_dir, "ncc"), probe_interval=0.2)
        link = asyncio.create_task(self.ncc_link.run(self.stop))
        self.channel = rpc.aio_channel(paths.socket_path(self.run_dir, "engine"))
        self.engine = engine_pb2_grpc.EngineStub(self.channel)
        self.ha = engine_pb2_grpc.EngineHAStub(self.channel)
        self.hc = engine_pb2_grpc.EngineHealthcheckStub(self.channel)
        self.ncc = ncc_pb2_grpc.NCCStub(rpc.aio_channel(paths.socket_path(self.run_dir, "ncc")))
        try:
            yield self
        finally:
            self.stop.set()
            await link
            await self.channel.close()
            await server.stop(0)
            await ncc.stop(0)

    async def state(self) -> ncc_pb2.DataplaneState:
        return await self.ncc.GetState(common_pb2.Empty(), timeout=2)

    async def destinations(self) -> dict[str, list[str]]:
        state = await self.state()
        return {
            f"{s.service.address}:{s.service.port}": [d.destination.address for d in s.destinations]
            for s in state.services
        }

    async def applied_partitions(self) -> list[str]:
        status = await self.ncc.GetStatus(common_pb2.Empty(), timeout=2)
        return sorted(status.partitions)


def run(coro: Awaitable[None]) -> None:
    asyncio.run(asyncio.wait_for(coro, 30))  # type: ignore[arg-type]


def test_config_results_and_ha_reach_ncc(tmp_path: Path) -> None:
    async def scenario() -> None:
        h = Harness(tmp_path)
        h.write(cluster_text(1, 2, 3))
        async with h.running():
            assert h.ncc_link is not None
            # Config load: one partition per vserver, VIPs in place, no backend healthy yet.
            await eventually(
                lambda: _eq(
                    h.applied_partitions(), ["vserver:web1@au-syd", "vserver:web2@au-syd", "vserver:web3@au-syd"]
                ),
                "one partition per vserver",
            )
            state = await h.state()
            assert sorted(v.address for v in state.vips) == ["10.0.0.11", "10.0.0.12", "10.0.0.13"]
            assert not state.lb.up

            # The healthcheck daemon connects: it gets the full check set.
            watch = h.hc.WatchChecks(healthcheck_pb2.WatchChecksRequest())
            first = await watch.read()
            assert first.full and len(first.upsert) == 6
            by_target = {c.target: c.id for c in first.upsert}

            queue: asyncio.Queue[healthcheck_pb2.ResultBatch | None] = asyncio.Queue()

            async def batches() -> AsyncIterator[healthcheck_pb2.ResultBatch]:
                while (batch := await queue.get()) is not None:
                    yield batch

            report = asyncio.ensure_future(h.hc.ReportResults(batches()))
            await queue.put(
                healthcheck_pb2.ResultBatch(
                    full_resync=True,
                    results=[
                        healthcheck_pb2.CheckResult(id=i, state=common_pb2.HEALTH_HEALTHY) for i in by_target.values()
                    ],
                )
            )
            await eventually(
                lambda: _eq(
                    h.destinations(),
                    {
                        "10.0.0.11:80": ["10.2.1.1", "10.2.1.2"],
                        "10.0.0.12:80": ["10.2.2.1", "10.2.2.2"],
                        "10.0.0.13:80": ["10.2.3.1", "10.2.3.2"],
                    },
                ),
                "every destination up",
            )

            # The views carry the dataplane's counters.
            for spec in h.sim.read().objects.values():
                if isinstance(spec, ncc_model.Service) and str(spec.key.address) == "10.0.0.11":
                    h.sim.set_stats(ncc_model.ref(spec), ncc_model.Stats(connections=42, bytes_in=1000))
                if isinstance(spec, ncc_model.Destination) and str(spec.key.address) == "10.2.1.2":
                    h.sim.set_stats(ncc_model.ref(spec), ncc_model.Stats(connections=7))
            await asyncio.sleep(READ_REUSE)  # NCC answers a view's read with one this recent
            vservers = await h.engine.ListVservers(common_pb2.Empty(), timeout=2)
            web1 = next(v for v in vservers.vservers if v.name == "web1@au-syd")
            assert (web1.services[0].stats.connections, web1.services[0].stats.bytes_in) == (42, 1000)
            assert [d.stats.connections for d in web1.services[0].destinations] == [0, 7]
            backends = await h.engine.ListBackends(common_pb2.Empty(), timeout=2)
            be = next(b for b in backends.backends if b.hostname == "be1-2.example.com.")
            assert [(d.name, d.stats.connections) for d in be.destinations] == [("web1@au-syd/10.2.1.2:80/TCP", 7)]

            # One result flips one destination: exactly that vserver's partition is applied.
            applies = h.ncc_link.applies
            await queue.put(
                healthcheck_pb2.ResultBatch(
                    results=[healthcheck_pb2.CheckResult(id=by_target["10.2.2.1"], state=common_pb2.HEALTH_UNHEALTHY)]
                )
            )
            await eventually(lambda: _eq(_dests_of(h, "10.0.0.12:80"), ["10.2.2.2"]), "10.2.2.1 out of web2")
            assert h.ncc_link.applies == applies + 1
            assert h.ncc_link.last_request is not None
            assert [p.name for p in h.ncc_link.last_request.partitions] == ["vserver:web2@au-syd"]

            # The CLI's view is live.
            vservers = await h.engine.ListVservers(common_pb2.Empty(), timeout=2)
            web2 = next(v for v in vservers.vservers if v.name == "web2@au-syd")
            assert [(d.name, d.healthy, d.active) for d in web2.services[0].destinations] == [
                ("web2@au-syd/10.2.2.1:80/TCP", False, False),
                ("web2@au-syd/10.2.2.2:80/TCP", True, True),
            ]
            await queue.put(None)
            ack = await report
            assert ack.accepted == 7

            # HA: LEADER brings the LB interface up; the end of the session takes it down.
            ha_queue: asyncio.Queue[ha_pb2.HAReport | None] = asyncio.Queue()

            async def reports() -> AsyncIterator[ha_pb2.HAReport]:
                while (r := await ha_queue.get()) is not None:
                    yield r

            session = h.ha.HASession(reports())
            command = await session.read()
            assert command.config.enabled and command.config.priority == 255
            assert (command.config.local_address, command.config.remote_address) == ("10.0.0.2", "224.0.0.18")
            await ha_queue.put(ha_pb2.HAReport(status=ha_pb2.HAStatus(state=common_pb2.HA_LEADER)))
            await eventually(lambda: _lb_up(h, True), "LB interface up")
            status = await h.engine.GetHAStatus(common_pb2.Empty(), timeout=2)
            assert status.state == common_pb2.HA_LEADER

            # Failover goes to HA over the same session.
            reply = await h.engine.Failover(common_pb2.Empty(), timeout=2)
            assert "hand over to its peer" in reply.message
            command = await session.read()
            assert command.failover is True

            # A failure taken while our own link is down is set aside, and rechecked once the link is back.
            down_ms = int(time.time() * 1000)
            fault = ha_pb2.HAStatus(state=common_pb2.HA_ERROR, since_unix_ms=down_ms, link_fault="no carrier")
            await ha_queue.put(ha_pb2.HAReport(status=fault))
            await eventually(lambda: _lb_up(h, False), "LB interface down in FAULT")
            queue = asyncio.Queue()  # batches() reads this one now
            report = asyncio.ensure_future(h.hc.ReportResults(batches()))
            failed = healthcheck_pb2.CheckResult(
                id=by_target["10.2.3.1"],
                state=common_pb2.HEALTH_UNHEALTHY,
                checked_unix_ms=down_ms + 300,
                latency_us=200_000,
                message="connect: no route to host",
            )
            await queue.put(healthcheck_pb2.ResultBatch(results=[failed]))
            await queue.put(None)
            assert (await report).accepted == 1
            assert await _dests_of(h, "10.0.0.13:80") == ["10.2.3.1", "10.2.3.2"]  # kept
            back = ha_pb2.HAStatus(state=common_pb2.HA_BACKUP, since_unix_ms=down_ms + 500)
            await ha_queue.put(ha_pb2.HAReport(status=back))
            recheck = await asyncio.wait_for(watch.read(), 2)
            assert list(recheck.recheck) == [by_target["10.2.3.1"]] and not recheck.upsert and not recheck.remove

            await ha_queue.put(None)
            await eventually(lambda: _lb_up(h, False), "LB interface down")
            with pytest.raises(grpc.aio.AioRpcError) as err:
                await h.engine.Failover(common_pb2.Empty(), timeout=2)
            assert err.value.code() == grpc.StatusCode.FAILED_PRECONDITION
            assert "run failover on seesaw1-2.example.com." in (err.value.details() or "")
            watch.cancel()

    run(scenario())


def test_bad_config_is_refused_and_the_running_one_stays(tmp_path: Path) -> None:
    async def scenario() -> None:
        h = Harness(tmp_path)
        h.write("seesaw_vip < fqdn: broken")
        async with h.running():
            status = await h.engine.GetConfigStatus(common_pb2.Empty(), timeout=2)
            assert status.last_error and "cluster.pb" in status.last_error
            assert (await h.engine.ListVservers(common_pb2.Empty(), timeout=2)).vservers == []

            h.write(cluster_text(1))
            reply = await h.engine.ReloadConfig(common_pb2.Empty(), timeout=5)
            assert "1 vservers" in reply.message
            await eventually(lambda: _eq(h.applied_partitions(), ["vserver:web1@au-syd"]), "web1 applied")

            # A DNS check without a query type is refused with the file, nothing changes.
            h.write(cluster_text(1, 2, check="DNS"))
            with pytest.raises(grpc.aio.AioRpcError) as err:
                await h.engine.ReloadConfig(common_pb2.Empty(), timeout=5)
            assert err.value.code() == grpc.StatusCode.FAILED_PRECONDITION
            assert "running config stays in force" in (err.value.details() or "")
            status = await h.engine.GetConfigStatus(common_pb2.Empty(), timeout=2)
            assert status.last_error and status.reload_errors_total == 2 and status.generation == 1
            names = [v.name for v in (await h.engine.ListVservers(common_pb2.Empty(), timeout=2)).vservers]
            assert names == ["web1@au-syd"]

            source = await h.engine.SetConfigSource(engine_pb2.ConfigSourceRequest(), timeout=2)
            assert source.source == "disk"
            with pytest.raises(grpc.aio.AioRpcError) as err:
                await h.engine.SetConfigSource(engine_pb2.ConfigSourceRequest(source="floppy"), timeout=2)
            assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
            assert "choose one of disk, peer, server" in (err.value.details() or "")

    run(scenario())


def test_overrides_persist_across_restarts(tmp_path: Path) -> None:
    async def first() -> None:
        h = Harness(tmp_path)
        h.write(cluster_text(1, 2))
        async with h.running():
            await h.engine.Override(
                engine_pb2.OverrideRequest(
                    target=engine_pb2.OverrideRequest.VSERVER, name="web2@au-syd", state=common_pb2.OVERRIDE_DISABLED
                ),
                timeout=2,
            )
            with pytest.raises(grpc.aio.AioRpcError) as err:
                await h.engine.Override(
                    engine_pb2.OverrideRequest(
                        target=engine_pb2.OverrideRequest.VSERVER, name="nope", state=common_pb2.OVERRIDE_DISABLED
                    ),
                    timeout=2,
                )
            assert err.value.code() == grpc.StatusCode.NOT_FOUND
            await eventually(lambda: _eq(h.applied_partitions(), ["vserver:web1@au-syd"]), "web2 withdrawn")

    run(first())
    saved = json.loads((tmp_path / "run" / "engine" / "overrides.json").read_text())
    assert saved["overrides"] == [{"target": "vserver", "name": "web2@au-syd", "state": "disabled"}]

    async def second() -> None:
        h = Harness(tmp_path)
        async with h.running():
            vservers = (await h.engine.ListVservers(common_pb2.Empty(), timeout=2)).vservers
            assert [(v.name, v.enabled, v.override) for v in vservers] == [
                ("web1@au-syd", True, common_pb2.OVERRIDE_DEFAULT),
                ("web2@au-syd", False, common_pb2.OVERRIDE_DISABLED),
            ]

    # The second engine starts from the same files (written by the first harness).
    run(second())


async def _eq(value: Awaitable[object], want: object) -> bool:
    return await value == want


async def _dests_of(h: Harness, service: str) -> list[str]:
    return (await h.destinations()).get(service, [])


async def _lb_up(h: Harness, up: bool) -> bool:
    state = await h.state()
    return state.lb.name == "eth1" and state.lb.up is up


def test_failover_on_the_backup_names_the_master(tmp_path: Path) -> None:
    """`seesaw failover` on the backup: one line saying where to run it, exit status 1, nothing asked of HA."""

    async def scenario() -> None:
        h = Harness(tmp_path)
        h.write(cluster_text(1))
        async with h.running():
            ha_queue: asyncio.Queue[ha_pb2.HAReport | None] = asyncio.Queue()

            async def reports() -> AsyncIterator[ha_pb2.HAReport]:
                while (r := await ha_queue.get()) is not None:
                    yield r

            session = h.ha.HASession(reports())
            await session.read()  # the HA config
            await ha_queue.put(ha_pb2.HAReport(status=ha_pb2.HAStatus(state=common_pb2.HA_BACKUP)))
            await eventually(lambda: _eq(_ha_state(h), common_pb2.HA_BACKUP), "the engine to take the BACKUP report")
            cli = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "seesaw.cli",
                "--engine",
                str(paths.socket_path(h.run_dir, "engine")),
                "-c",
                "failover",
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
            )
            out, err = await asyncio.wait_for(cli.communicate(), 60)
            assert (cli.returncode, out.decode(), err.decode()) == (
                1,
                "",
                "This node is not the master (it is BACKUP); run failover on seesaw1-2.example.com.\n",
            )
            # HA was asked for nothing: the next command it gets is whatever comes after this one.
            reply = await h.engine.GetHAStatus(common_pb2.Empty(), timeout=2)
            assert reply.state == common_pb2.HA_BACKUP
            await ha_queue.put(ha_pb2.HAReport(status=ha_pb2.HAStatus(state=common_pb2.HA_LEADER)))
            await eventually(lambda: _lb_up(h, True), "LB interface up")
            assert "hand over to its peer" in (await h.engine.Failover(common_pb2.Empty(), timeout=2)).message
            assert (await session.read()).failover is True  # the first failover HA hears of is the master's
            await ha_queue.put(None)

    run(scenario())


async def _ha_state(h: Harness) -> int:
    return (await h.engine.GetHAStatus(common_pb2.Empty(), timeout=2)).state
