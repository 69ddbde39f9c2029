"""The engine daemon (`seesaw.engine.main.serve`) killed and restarted, or stopped, against the real NCC
(sim dataplane) in the same process, with gRPC clients playing HA and the healthcheck daemon.

    killed, restarted   the new engine adopts what NCC holds: its first Apply, and everything after it
                        while HA and the healthchecks come back with the same news, writes nothing
    SIGTERM             the engine tells HA it is stopping, HA leaves the election, and the engine takes
                        the LB interface down before it goes; the vservers stay
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable
from pathlib import Path

import grpc
from engine_waits import eventually

from seesaw.common import paths, rpc
from seesaw.common.clock import SystemClock
from seesaw.engine import main
from seesaw.lab.fixture_configs import CLUSTER_HEAD, engine_cfg
from seesaw.ncc import bgp
from seesaw.ncc.model import VIPFilter
from seesaw.ncc.runner import Runner
from seesaw.ncc.service import SERVICE_NAME as NCC_SERVICE
from seesaw.ncc.service import NCCService
from seesaw.ncc.sim import SimDataplane
from seesaw.pb import common_pb2, engine_pb2_grpc, ha_pb2, healthcheck_pb2, ncc_pb2, ncc_pb2_grpc


def web_cluster(mode: str = "NAT", backends: tuple[int, ...] = (1, 2)) -> str:
    """web@au-syd, TCP/80 in `mode` with a TCP check (a DSR one in DSR mode), backends be-<n> (10.2.0.<n>)."""
    check_mode = " mode: DSR" if mode == "DSR" else ""
    return (
        CLUSTER_HEAD
        + f"""vserver <
  name: "web@au-syd"
  rp: "ops"
  entry_address < fqdn: "web.example.com." ipv4: "10.0.0.11/24" status: PRODUCTION >
  vserver_entry <
    protocol: TCP
    port: 80
    scheduler: RR
    mode: {mode}
    healthcheck < type: TCP port: 80 interval: 1 timeout: 1{check_mode} >
  >
"""
        + "".join(
            f'  backend < host < fqdn: "be-{n}.example.com." ipv4: "10.2.0.{n}/24" status: PRODUCTION > >\n'
            for n in backends
        )
        + ">\n"
    )


class ScriptedHA:
    """HA's side of the session: reports `state`, reconnects when the engine goes, obeys `stopping`."""

    def __init__(self, socket: Path, state: int) -> None:
        self.socket = socket
        self.state = state
        self.sessions = 0
        self.commands: list[ha_pb2.HACommand] = []

    async def run(self) -> None:
        while True:
            with contextlib.suppress(grpc.aio.AioRpcError):
                await self._session()
            await asyncio.sleep(0.05)

    async def _session(self) -> None:
        queue: asyncio.Queue[ha_pb2.HAReport | None] = asyncio.Queue()
        queue.put_nowait(ha_pb2.HAReport(status=ha_pb2.HAStatus(state=self.state)))

        async def reports() -> AsyncIterator[ha_pb2.HAReport]:
            while (report := await queue.get()) is not None:
                yield report

        async with rpc.aio_channel(self.socket) as channel:
            call = engine_pb2_grpc.EngineHAStub(channel).HASession(reports())
            first = True
            async for command in call:
                if first:
                    self.sessions += 1
                    first = False
                self.commands.append(command)
                if command.stopping:  # as seesaw-ha does: leave, say so, half-close
                    self.state = common_pb2.HA_SHUTDOWN
                    queue.put_nowait(ha_pb2.HAReport(status=ha_pb2.HAStatus(state=self.state)))
                    queue.put_nowait(None)


class ScriptedHealthcheck:
    """The healthcheck daemon's side: takes the check set, answers with a resync of healthy results (and every
    check added later with a healthy result)."""

    def __init__(self, socket: Path) -> None:
        self.socket = socket
        self.check_sets: list[set[int]] = []  # the IDs of each session's full check set
        self.resyncs = 0

    async def run(self) -> None:
        while True:
            with contextlib.suppress(grpc.aio.AioRpcError):
                await self._session()
            await asyncio.sleep(0.05)

    async def _session(self) -> None:
        async with rpc.aio_channel(self.socket) as channel:
            stub = engine_pb2_grpc.EngineHealthcheckStub(channel)
            watch = stub.WatchChecks(healthcheck_pb2.WatchChecksRequest())
            first = await watch.read()
            assert first is not grpc.aio.EOF and first.full
            ids = {c.id for c in first.upsert}
            self.check_sets.append(ids)
            resync = healthcheck_pb2.ResultBatch(full_resync=True)
            for check_id in sorted(ids):
                resync.results.add(id=check_id, state=common_pb2.HEALTH_HEALTHY)
            report = stub.ReportResults()
            await report.write(resync)
            self.resyncs += 1
            while (update := await watch.read()) is not grpc.aio.EOF:  # checks added later pass too
                if update.upsert:
                    batch = healthcheck_pb2.ResultBatch()
                    for config in update.upsert:
                        batch.results.add(id=config.id, state=common_pb2.HEALTH_HEALTHY)
                    await report.write(batch)


class Node:
    """NCC (sim) for the whole test; engines come and go on top of it."""

    def __init__(self, tmp: Path) -> None:
        self.config_dir = tmp / "etc"
        self.run_dir = tmp / "run"
        self.config_dir.mkdir()
        (self.config_dir / "seesaw.cfg").write_text(engine_cfg())
        (self.config_dir / "cluster.pb").write_text(web_cluster())
        self.engine_socket = paths.socket_path(self.run_dir, "engine")
        self.ncc: ncc_pb2_grpc.NCCStub | None = None
        self.sim: SimDataplane | None = None

    def filters(self) -> list[VIPFilter]:
        """The VIP filters the dataplane holds (GetState does not report them)."""
        assert self.sim is not None
        return [spec for spec in self.sim.read().objects.values() if isinstance(spec, VIPFilter)]

    @contextlib.asynccontextmanager
    async def running_ncc(self) -> AsyncIterator[ncc_pb2_grpc.NCCStub]:
        self.sim = SimDataplane()
        runner = Runner(self.sim, "test", SystemClock(), audit_interval=0)
        server = rpc.UnixServer(self.run_dir, "ncc")
        speaker = bgp.Speaker(self.run_dir / "no-bgpd.vty")  # as seesaw-ncc runs: no bgpd is fine without anycast
        server.add(ncc_pb2_grpc.add_NCCServicer_to_server, NCCService(runner, speaker), NCC_SERVICE)
        await server.start()
        await runner.start()
        channel = rpc.aio_channel(paths.socket_path(self.run_dir, "ncc"))
        self.ncc = ncc_pb2_grpc.NCCStub(channel)
        try:
            yield self.ncc
        finally:
            await channel.close()
            await server.stop(0)

    def start_clients(self) -> tuple[ScriptedHA, ScriptedHealthcheck, list[asyncio.Task[None]]]:
        """HA (reporting LEADER) and the healthcheck daemon, each in a task that reconnects to every engine."""
        ha = ScriptedHA(self.engine_socket, common_pb2.HA_LEADER)
        hc = ScriptedHealthcheck(self.engine_socket)
        return ha, hc, [asyncio.create_task(ha.run()), asyncio.create_task(hc.run())]

    def start_engine(self) -> tuple[asyncio.Task[int], asyncio.Event]:
        args = main.parser().parse_args(["--config-dir", str(self.config_dir), "--run-dir", str(self.run_dir)])
        stop = asyncio.Event()
        return asyncio.create_task(main.serve(args, stop)), stop

    async def engine_ha_state(self) -> int:
        try:
            async with rpc.aio_channel(self.engine_socket) as channel:
                status = await engine_pb2_grpc.EngineStub(channel).GetHAStatus(common_pb2.Empty(), timeout=1)
        except grpc.aio.AioRpcError:
            return -1
        return status.state

    async def state(self) -> ncc_pb2.DataplaneState:
        assert self.ncc is not None
        return await self.ncc.GetState(common_pb2.Empty(), timeout=2)

    async def status(self) -> ncc_pb2.StatusResponse:
        assert self.ncc is not None
        return await self.ncc.GetStatus(common_pb2.Empty(), timeout=2)

    async def serving(self) -> bool:
        """LB interface up and both backends in the dataplane."""
        state = await self.state()
        dests = [d.destination.address for s in state.services for d in s.destinations]
        return state.lb.up and sorted(dests) == ["10.2.0.1", "10.2.0.2"]


def run(coro: Awaitable[None]) -> None:
    asyncio.run(asyncio.wait_for(coro, 60))  # type: ignore[arg-type]


async def cancel(*tasks: asyncio.Task[object]) -> None:
    for task in tasks:
        task.cancel()
    for task in tasks:
        with contextlib.suppress(asyncio.CancelledError):
            await task


def test_a_killed_engine_comes_back_without_a_single_write(tmp_path: Path) -> None:
    async def scenario() -> None:
        node = Node(tmp_path)
        async with node.running_ncc():
            ha, hc, clients = node.start_clients()
            engine, _ = node.start_engine()
            try:
                await eventually(node.serving, "the first engine to serve")
                before, state = await node.status(), await node.state()
                assert before.writes_total > 0

                await cancel(engine)  # gone without a word, as SIGKILL leaves it
                engine, stop = node.start_engine()
                await eventually(lambda: _true(ha.sessions == 2 and hc.resyncs == 2), "HA and healthcheck back")
                await eventually(
                    lambda: _eq(node.engine_ha_state(), common_pb2.HA_LEADER), "the new engine to hear LEADER"
                )
                await asyncio.sleep(0.3)  # whatever the news caused has reached NCC by now
                after = await node.status()
                assert after.generation > before.generation  # the new engine did apply ...
                assert after.writes_total == before.writes_total  # ... and it changed nothing
                assert await node.state() == state
                assert hc.check_sets[0] == hc.check_sets[1]  # the healthcheck daemon keeps its checks
                stop.set()
                await engine
            finally:
                await cancel(engine, *clients)

    run(scenario())


def test_a_stopping_engine_takes_ha_and_the_lb_interface_down(tmp_path: Path) -> None:
    async def scenario() -> None:
        node = Node(tmp_path)
        async with node.running_ncc():
            ha, _hc, clients = node.start_clients()
            engine, stop = node.start_engine()
            try:
                await eventually(node.serving, "the engine to serve")
                stop.set()
                assert await asyncio.wait_for(engine, 10) == 0
                assert [c.stopping for c in ha.commands if c.WhichOneof("command") == "stopping"] == [True]
                state = await node.state()
                assert not state.lb.up
                assert sorted(d.destination.address for s in state.services for d in s.destinations) == [
                    "10.2.0.1",
                    "10.2.0.2",
                ]
            finally:
                await cancel(engine, *clients)

    run(scenario())


async def _true(value: bool) -> bool:
    return value


async def _eq(value: Awaitable[object], want: object) -> bool:
    return await value == want


def probe_marks(state: ncc_pb2.DataplaneState) -> dict[str, int]:
    """Backend -> the mark of the fwmark service that carries its DSR probes."""
    return {s.destinations[0].destination.address: s.service.fwmark for s in state.services if s.service.fwmark}


def test_probe_marks_handed_out_in_another_order_survive_a_restart(tmp_path: Path) -> None:
    """Marks for DSR probes go lowest-free-first in the order backends appear; a restarted engine, which sees
    them all at once, would hand them out in another order. It keeps the dataplane's instead: no write."""

    async def scenario() -> None:
        node = Node(tmp_path)
        (node.config_dir / "cluster.pb").write_text(web_cluster("DSR", (2,)))
        async with node.running_ncc():
            ha, hc, clients = node.start_clients()
            engine, _ = node.start_engine()
            try:
                await eventually(lambda: _eq(_marks(node), {"10.2.0.2": 65536}), "be-2's probe mark")
                both = web_cluster("DSR", (1, 2))
                (node.config_dir / "cluster.pb").write_text(both)
                async with rpc.aio_channel(node.engine_socket) as channel:
                    await engine_pb2_grpc.EngineStub(channel).ReloadConfig(common_pb2.Empty(), timeout=5)
                await eventually(lambda: _both_serving(node), "both backends in service")
                assert probe_marks(await node.state()) == {"10.2.0.2": 65536, "10.2.0.1": 65537}
                before, state = await node.status(), await node.state()

                await cancel(engine)  # gone without a word, as SIGKILL leaves it
                engine, stop = node.start_engine()
                await eventually(lambda: _true(ha.sessions == 2 and hc.resyncs == 2), "HA and healthcheck back")
                await eventually(
                    lambda: _eq(node.engine_ha_state(), common_pb2.HA_LEADER), "the new engine to hear LEADER"
                )
                await asyncio.sleep(0.3)  # whatever the news caused has reached NCC by now
                after = await node.status()
                assert after.generation > before.generation  # the new engine did apply ...
                assert after.writes_total == before.writes_total  # ... and it changed nothing
                assert await node.state() == state
                stop.set()
                await engine
            finally:
                await cancel(engine, *clients)

    run(scenario())


async def _marks(node: Node) -> dict[str, int]:
    return probe_marks(await node.state())


async def _both_serving(node: Node) -> bool:
    state = await node.state()
    vip = [s for s in state.services if not s.service.fwmark]
    return len(vip) == 1 and sorted(d.destination.address for d in vip[0].destinations) == ["10.2.0.1", "10.2.0.2"]


def fwm_cluster(names: tuple[str, ...]) -> str:
    """fwmark vservers (use_fwm) named <name>@au-syd, VIP 10.0.0.<20+i>, one backend each."""
    out = CLUSTER_HEAD
    for name in names:
        i = ord(name[0]) - ord("a")
        out += f"""vserver <
  name: "{name}@au-syd"
  rp: "ops"
  entry_address < fqdn: "{name}.example.com." ipv4: "10.0.0.{20 + i}/24" status: PRODUCTION >
  use_fwm: true
  vserver_entry <
    protocol: TCP port: 80 scheduler: RR mode: NAT
    healthcheck < type: TCP port: 80 interval: 1 timeout: 1 >
  >
  backend < host < fqdn: "be-1.example.com." ipv4: "10.2.0.1/24" status: PRODUCTION > >
>
"""
    return out


def test_an_fwmark_vserver_keeps_its_mark_when_the_engine_restarts_after_another_went(tmp_path: Path) -> None:
    """Marks go lowest-first in config order: without marks.json, c (the third of a, b, c) would take b's mark
    once b is gone and the engine restarts, and NCC would replace c's service (its connections with it)."""

    async def marks(node: Node) -> dict[str, int]:
        state = await node.state()
        by_vip = {f"10.0.0.{20 + i}": name for i, name in enumerate("abcd")}
        found = {}
        for entry in state.services:
            dests = [d.destination.address for d in entry.destinations]
            if entry.service.fwmark and dests:
                found[entry.service.fwmark] = dests
        filters = {str(f.address): f.fwmark for f in node.filters()}
        # a vserver's mark: its VIP filter's, once the service of that mark serves its backend
        return {by_vip[address]: mark for address, mark in filters.items() if mark in found}

    async def scenario() -> None:
        node = Node(tmp_path)
        (node.config_dir / "cluster.pb").write_text(fwm_cluster(("a", "b", "c")))
        async with node.running_ncc():
            _ha, _hc, clients = node.start_clients()
            engine, _ = node.start_engine()
            try:
                await eventually(lambda: _len_is(marks(node), 3), "three fwmark services")
                before = await marks(node)
                assert sorted(before.values()) == [256, 257, 258]

                await cancel(engine)
                (node.config_dir / "cluster.pb").write_text(fwm_cluster(("a", "c")))  # b removed meanwhile
                engine, stop = node.start_engine()
                await eventually(lambda: _len_is(marks(node), 2), "b's service gone")
                await asyncio.sleep(0.3)
                assert await marks(node) == {"a": before["a"], "c": before["c"]}

                (node.config_dir / "cluster.pb").write_text(fwm_cluster(("a", "c", "d")))  # a newcomer
                stop.set()
                await engine
                engine, stop = node.start_engine()
                await eventually(lambda: _len_is(marks(node), 3), "d's service")
                after = await marks(node)
                assert (after["a"], after["c"]) == (before["a"], before["c"]) and after["d"] == before["b"]
                stop.set()
                await engine
            finally:
                await cancel(engine, *clients)

    run(scenario())


async def _len_is(value: Awaitable[dict[str, int]], length: int) -> bool:
    try:
        return len(await value) == length
    except grpc.aio.AioRpcError:
        return False
