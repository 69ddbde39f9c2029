"""The seesaw-healthcheck daemon as a real process, talking to the engine's side of the contract over its socket.

No root needed (loopback only); scripts/run-tests runs it inside a private namespace anyway.
"""

import asyncio
import signal
import socket
import sys

import pytest
from hc_lab import ContractEngine, wait_for

from seesaw.common import paths, rpc
from seesaw.pb import common_pb2
from seesaw.pb import healthcheck_pb2 as hc
from seesaw.pb import healthcheck_pb2_grpc as hc_grpc

pytestmark = pytest.mark.slow
HEALTHY, UNHEALTHY = common_pb2.HEALTH_HEALTHY, common_pb2.HEALTH_UNHEALTHY


def tcp(check_id, port, interval_ms=200):
    return hc.CheckConfig(
        id=check_id, name=f"TCP/{port}_0", type=hc.CHECK_TCP, target="127.0.0.1", port=port, backend="127.0.0.1",
        interval_ms=interval_ms, timeout_ms=500,
    )  # fmt: skip


def closed_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def start_daemon(run_dir, *flags):
    log = open(run_dir / "healthcheck.log", "wb")  # noqa: SIM115 - closed by stop_daemon
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "seesaw.healthcheck", "--run-dir", str(run_dir), "--log-level", "DEBUG", *flags,
        stdout=log, stderr=log,
    )  # fmt: skip
    proc.log = log
    sock = paths.socket_path(run_dir, "healthcheck")
    await wait_for(lambda: sock.exists(), what="healthcheck socket")
    for _ in range(100):
        if await rpc.check_health(sock, service="healthcheck"):
            return proc
        await asyncio.sleep(0.05)
    raise AssertionError("seesaw-healthcheck never answered SERVING")


async def stop_daemon(proc, run_dir):
    proc.send_signal(signal.SIGTERM)
    code = await asyncio.wait_for(proc.wait(), 10)
    proc.log.close()
    return code


async def list_checks(run_dir):
    async with rpc.aio_channel(paths.socket_path(run_dir, "healthcheck")) as channel:
        reply = await hc_grpc.HealthcheckStub(channel).ListChecks(common_pb2.Empty(), timeout=5)
    return {s.config.id: s for s in reply.checks}


class Accepting:
    """A real backend: a TCP server in this process's loop that accepts and hangs up."""

    async def __aenter__(self):
        self.server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.port = self.server.sockets[0].getsockname()[1]
        return self

    async def _handle(self, reader, writer):
        writer.close()

    async def __aexit__(self, *exc):
        self.server.close()
        await self.server.wait_closed()


def test_daemon_end_to_end(tmp_path):
    async def scenario():
        async with Accepting() as backend:
            down = closed_port()
            engine = ContractEngine(tmp_path, hc.CheckSet(full=True, upsert=[tcp(1, backend.port), tcp(2, down)]))
            await engine.start()
            proc = await start_daemon(tmp_path)
            try:
                await wait_for(lambda: engine.latest() == {1: HEALTHY, 2: UNHEALTHY}, what="transitions at the engine")
                assert engine.batches[0].full_resync

                checks = await list_checks(tmp_path)
                assert set(checks) == {1, 2}
                assert checks[1].last.state == HEALTHY and checks[1].config.port == backend.port
                assert checks[2].last.message == f"connect to 127.0.0.1:{down}: connection refused"

                await engine.deltas.put(hc.CheckSet(remove=[2], upsert=[tcp(3, backend.port)]))
                await wait_for(lambda: engine.latest().get(3) == HEALTHY, what="the new check's first result")
                assert set(await list_checks(tmp_path)) == {1, 3}

                # The engine goes away and comes back: the daemon reconnects and resyncs everything.
                await engine.stop()
                engine2 = ContractEngine(tmp_path, hc.CheckSet(full=True, upsert=[tcp(1, backend.port)]))
                await engine2.start()
                await wait_for(lambda: engine2.batches, timeout=5, what="a report after the engine restart")
                assert engine2.batches[0].full_resync
                assert {r.id: r.state for r in engine2.batches[0].results} == {1: HEALTHY}
                await engine2.stop()
            finally:
                code = await stop_daemon(proc, tmp_path)
        return code

    code = asyncio.run(scenario())
    log = (tmp_path / "healthcheck.log").read_text()
    assert code == 0, log
    assert not paths.socket_path(tmp_path, "healthcheck").exists()
    assert "UNKNOWN -> UNHEALTHY" in log and "connected to the engine" in log


def test_daemon_dry_run_reports_healthy_without_probing(tmp_path):
    async def scenario():
        down = closed_port()
        engine = ContractEngine(tmp_path, hc.CheckSet(full=True, upsert=[tcp(1, down)]))
        await engine.start()
        proc = await start_daemon(tmp_path, "--dry-run")
        try:
            await wait_for(lambda: engine.latest() == {1: HEALTHY}, what="a healthy report")
            checks = await list_checks(tmp_path)
            assert checks[1].last.message == "dry run: always healthy"
            assert checks[1].last.failures == 0
        finally:
            code = await stop_daemon(proc, tmp_path)
            await engine.stop()
        return code

    assert asyncio.run(scenario()) == 0


def test_daemon_without_engine_stays_up_and_says_why(tmp_path):
    async def scenario():
        proc = await start_daemon(tmp_path, "-dry_run")
        await asyncio.sleep(1.5)
        assert proc.returncode is None
        assert await list_checks(tmp_path) == {}
        return await stop_daemon(proc, tmp_path)

    assert asyncio.run(scenario()) == 0
    log = (tmp_path / "healthcheck.log").read_text()
    assert "Failed to connect to the engine" in log and "retrying every 0.5-1.0 s" in log
    warnings = [line for line in log.splitlines() if " W " in line and "Failed to connect to the engine" in line]
    assert len(warnings) == 1, "the same problem is a warning once, not at every retry"


def test_daemon_takes_seesaw_go_flags(tmp_path):
    """The flags an existing Seesaw watchdog.cfg may pass: mapped (-engine, -notify_interval, -retry_delay, ...)
    or accepted, ignored and logged at debug level (-channel_size, -max_failures, -fetch_interval)."""

    async def scenario():
        async with Accepting() as backend:
            elsewhere = tmp_path / "elsewhere"
            proc = await start_daemon(
                tmp_path, f"-engine={paths.socket_path(elsewhere, 'engine')}", "-notify_interval=400ms",
                "-retry_delay=400ms", "-batch_delay=10ms", "-batch_size=5", "-channel_size=1000", "-max_failures=10",
                "-fetch_interval=15s", "-log_dir=/var/log/seesaw",
            )  # fmt: skip
            try:
                await asyncio.sleep(1.5)  # no engine yet: the daemon retries every 200-400 ms
                engine = ContractEngine(elsewhere, hc.CheckSet(full=True, upsert=[tcp(1, backend.port)]))
                await engine.start()
                await wait_for(lambda: engine.latest() == {1: HEALTHY}, what="a report at the -engine socket")
                await wait_for(
                    lambda: sum(b.full_resync for b in engine.batches) >= 3, timeout=5, what="a resync every 400 ms"
                )
                await engine.stop()
            finally:
                code = await stop_daemon(proc, tmp_path)
        return code

    code = asyncio.run(scenario())
    log = (tmp_path / "healthcheck.log").read_text()
    assert code == 0, log
    assert "retrying every 0.2-0.4 s" in log, log
    for name, value in (("channel_size", "1000"), ("max_failures", "10"), ("fetch_interval", "15s")):
        assert f"-{name}={value}: ignored, " in log
