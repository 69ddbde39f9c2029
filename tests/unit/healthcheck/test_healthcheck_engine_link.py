"""The engine link and ListChecks over real Unix-socket gRPC, with real checks against loopback servers."""

import asyncio

from hc_servers import ContractEngine, TCPEchoServer, free_port, wait_for

from seesaw.common import paths, rpc
from seesaw.common.rpc import UnixServer
from seesaw.healthcheck.engine_link import EngineLink
from seesaw.healthcheck.scheduler import Scheduler
from seesaw.healthcheck.service import SERVICE_NAME, HealthcheckService
from seesaw.pb import common_pb2
from seesaw.pb import healthcheck_pb2 as hc
from seesaw.pb import healthcheck_pb2_grpc as hc_grpc

HEALTHY, UNHEALTHY, UNKNOWN = common_pb2.HEALTH_HEALTHY, common_pb2.HEALTH_UNHEALTHY, common_pb2.HEALTH_UNKNOWN


def tcp(check_id, port, interval_ms=100):
    return hc.CheckConfig(
        id=check_id, name=f"TCP/{port}_0", type=hc.CHECK_TCP, target="127.0.0.1", port=port,
        interval_ms=interval_ms, timeout_ms=500,
    )  # fmt: skip


def make_link(tmp_path, **kw):
    sched = Scheduler()
    link = EngineLink(paths.socket_path(tmp_path, "engine"), sched, batch_delay=0.05, retry_delay=(0.1, 0.2), **kw)
    sched.on_transition = link.notify
    return sched, link


def test_session_full_set_transitions_deltas_and_resync_after_engine_restart(tmp_path):
    echo = TCPEchoServer("127.0.0.1")
    closed = free_port("127.0.0.1")

    async def scenario():
        engine = ContractEngine(tmp_path, hc.CheckSet(full=True, upsert=[tcp(1, echo.port), tcp(2, closed)]))
        await engine.start()
        sched, link = make_link(tmp_path)
        sched.start()
        link_task = asyncio.create_task(link.run())
        try:
            await wait_for(lambda: engine.latest() == {1: HEALTHY, 2: UNHEALTHY})
            first = engine.batches[0]
            assert first.full_resync and {r.id for r in first.results} == {1, 2}
            assert all(r.state == UNKNOWN for r in first.results), "nothing has run when the session opens"
            assert any(not b.full_resync for b in engine.batches), "transitions travel as ordinary batches"

            await engine.deltas.put(hc.CheckSet(upsert=[tcp(3, echo.port)], remove=[2]))
            await wait_for(lambda: engine.latest().get(3) == HEALTHY)
            assert sched.get(2) is None

            # The engine restarts: a new session, whose first batch is a full resync of current state.
            await engine.stop()
            engine2 = ContractEngine(tmp_path, hc.CheckSet(full=True, upsert=[tcp(1, echo.port), tcp(3, echo.port)]))
            await engine2.start()
            await wait_for(lambda: engine2.batches, timeout=3.0)
            resync = engine2.batches[0]
            assert resync.full_resync
            assert {r.id: r.state for r in resync.results} == {1: HEALTHY, 3: HEALTHY}
            assert link.sessions == 2
            await engine2.stop()
        finally:
            link_task.cancel()
            await asyncio.gather(link_task, return_exceptions=True)
            await sched.stop()

    try:
        asyncio.run(scenario())
    finally:
        echo.close()


def test_periodic_resync(tmp_path):
    echo = TCPEchoServer("127.0.0.1")

    async def scenario():
        engine = ContractEngine(tmp_path, hc.CheckSet(full=True, upsert=[tcp(1, echo.port, interval_ms=200)]))
        await engine.start()
        sched, link = make_link(tmp_path, resync_interval=0.3)
        sched.start()
        task = asyncio.create_task(link.run())
        await asyncio.sleep(1.0)
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await sched.stop()
        await engine.stop()
        return engine

    try:
        engine = asyncio.run(scenario())
    finally:
        echo.close()
    resyncs = [b for b in engine.batches if b.full_resync]
    assert 3 <= len(resyncs) <= 5, len(resyncs)
    assert engine.latest() == {1: HEALTHY}


def test_no_engine_keeps_retrying_then_connects(tmp_path):
    echo = TCPEchoServer("127.0.0.1")

    async def scenario():
        sched, link = make_link(tmp_path)
        sched.start()
        task = asyncio.create_task(link.run())
        await asyncio.sleep(0.5)
        assert not link.connected and link.sessions == 0
        engine = ContractEngine(tmp_path, hc.CheckSet(full=True, upsert=[tcp(1, echo.port)]))
        await engine.start()
        await wait_for(lambda: engine.latest() == {1: HEALTHY}, timeout=3.0)
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await sched.stop()
        await engine.stop()

    try:
        asyncio.run(scenario())
    finally:
        echo.close()


def test_list_checks(tmp_path):
    echo = TCPEchoServer("127.0.0.1")

    async def scenario():
        sched = Scheduler()
        server = UnixServer(tmp_path, "healthcheck")
        server.add(hc_grpc.add_HealthcheckServicer_to_server, HealthcheckService(sched), SERVICE_NAME)
        await server.start()
        await server.set_serving(True)
        sched.start()
        sched.apply(hc.CheckSet(full=True, upsert=[tcp(2, echo.port), tcp(1, free_port("127.0.0.1"))]))
        await wait_for(lambda: all(c.health.successes + c.health.failures for c in sched))
        async with rpc.aio_channel(paths.socket_path(tmp_path, "healthcheck")) as channel:
            reply = await hc_grpc.HealthcheckStub(channel).ListChecks(common_pb2.Empty())
        await sched.stop()
        await server.stop(0)
        return reply

    try:
        reply = asyncio.run(scenario())
    finally:
        echo.close()
    assert [s.config.id for s in reply.checks] == [1, 2]
    down, up = reply.checks
    assert down.last.state == UNHEALTHY and "connection refused" in down.last.message and down.last.failures >= 1
    assert up.last.state == HEALTHY and up.last.successes >= 1 and up.last.checked_unix_ms > 0
    assert up.config.port == echo.port
