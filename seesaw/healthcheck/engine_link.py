"""The conversation with the engine, over its Unix socket.

One session = two streams on one channel:

* WatchChecks (engine -> us): the first CheckSet is the full set, later ones
  are deltas; each goes straight to the scheduler.
* ReportResults (us -> engine): one long-lived client stream. It opens with
  a full resync (every check's current state), then carries transitions in
  batches (flushed at `batch_size` results or `batch_delay` after the first),
  and repeats the full resync every `resync_interval`.

When either stream breaks, the session ends and a new one is attempted every
0.5-1 s; checks keep running meanwhile, so the resync that opens the next
session is up to date. Transitions made while disconnected are covered by it.
"""

from __future__ import annotations

import asyncio
import logging
import math
import random
from pathlib import Path

import grpc

from seesaw.common import rpc
from seesaw.pb import engine_pb2_grpc
from seesaw.pb import healthcheck_pb2 as hc_pb

from .batch import Batcher
from .check import Check
from .scheduler import Scheduler

log = logging.getLogger(__name__)


class SessionEnded(Exception):
    """The engine ended the session; the message says how."""


class EngineLink:
    def __init__(
        self,
        socket_path: Path,
        scheduler: Scheduler,
        *,
        batch_size: int = 100,
        batch_delay: float = 0.1,
        resync_interval: float = 60.0,
        retry_delay: tuple[float, float] = (0.5, 1.0),
        rng: random.Random | None = None,
    ) -> None:
        self.socket_path = socket_path
        self.scheduler = scheduler
        self.resync_interval = resync_interval
        self.retry_delay = retry_delay
        self.connected = False
        self.sessions = 0  # sessions that got their first check set
        self.batches_sent = 0
        self._batcher: Batcher[hc_pb.CheckResult] = Batcher(batch_size, batch_delay)
        self._kick = asyncio.Event()
        self._rng = rng or random.Random()

    def notify(self, check: Check) -> None:
        """The scheduler's transition callback: queue the check's new state."""
        self._batcher.add(check.id, check.result_pb(), asyncio.get_running_loop().time())
        self._kick.set()

    async def run(self) -> None:
        """Keep a session with the engine up until cancelled."""
        last_problem = ""
        while True:
            try:
                await self._session()
                problem = "the engine ended the session"
            except SessionEnded as err:
                problem = str(err)
            except grpc.aio.AioRpcError as err:
                if err.code() == grpc.StatusCode.UNIMPLEMENTED:
                    problem = f"the engine at {self.socket_path} does not serve EngineHealthcheck; is it up to date?"
                else:
                    problem = rpc.describe_rpc_error(err, "the engine", self.socket_path)
            except Exception as err:  # a bug here must not end the link for good
                log.exception("engine session failed")
                problem = f"engine session failed: {type(err).__name__}: {err}"
            if self.connected:
                log.warning("lost the engine: %s; reconnecting", problem)
            elif problem != last_problem:
                log.warning("%s; retrying every %.1f-%.1f s", problem, *self.retry_delay)
            else:
                log.debug("still no engine: %s", problem)
            last_problem = problem
            self.connected = False
            await asyncio.sleep(self._rng.uniform(*self.retry_delay))

    async def _session(self) -> None:
        async with rpc.aio_channel(self.socket_path) as channel:
            stub = engine_pb2_grpc.EngineHealthcheckStub(channel)
            watch = stub.WatchChecks(hc_pb.WatchChecksRequest())
            first = await watch.read()
            if first is grpc.aio.EOF:
                raise SessionEnded("the engine ended WatchChecks before sending the check set")
            if not first.full:
                log.warning("the engine's first check set is not marked full; taking it as the full set")
                first.full = True
            self.scheduler.apply(first)
            self.connected = True
            self.sessions += 1
            log.info("connected to the engine at %s: %d checks", self.socket_path, len(self.scheduler))
            report = stub.ReportResults()
            tasks = {
                asyncio.create_task(self._watch(watch), name="healthcheck-watch"),
                asyncio.create_task(self._report(report), name="healthcheck-report"),
            }
            try:
                done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
                for task in done:
                    task.result()
            finally:
                for task in tasks:
                    task.cancel()
                await asyncio.gather(*tasks, return_exceptions=True)
                watch.cancel()
                report.cancel()

    async def _watch(self, watch: grpc.aio.UnaryStreamCall) -> None:
        while (check_set := await watch.read()) is not grpc.aio.EOF:
            self.scheduler.apply(check_set)
            log.debug("check set: %d upserted, %d removed", len(check_set.upsert), len(check_set.remove))

    async def _report(self, report: grpc.aio.StreamUnaryCall) -> None:
        loop = asyncio.get_running_loop()
        next_resync = 0.0
        while True:
            self._kick.clear()
            now = loop.time()
            if now >= next_resync:
                self._batcher.take()  # the resync carries every check's state; later transitions follow it
                await self._write(report, await self.resync())
                next_resync = now + self.resync_interval
            elif self._batcher.ready(now):
                await self._write(report, hc_pb.ResultBatch(results=self._batcher.take()))
            else:
                wake = min(next_resync, self._batcher.deadline() or math.inf)
                try:
                    async with asyncio.timeout_at(wake):
                        await self._kick.wait()
                except TimeoutError:
                    pass

    async def resync(self, chunk: int = 2000) -> hc_pb.ResultBatch:
        """Every check's current state, as one batch marked full_resync.

        Built `chunk` checks at a time, letting probes run in between (30,000
        checks take a good part of a second to convert).
        """
        results = []
        for i, check in enumerate(self.scheduler, 1):
            results.append(check.result_pb())
            if i % chunk == 0:
                await asyncio.sleep(0)
        return hc_pb.ResultBatch(full_resync=True, results=results)

    async def _write(self, report: grpc.aio.StreamUnaryCall, batch: hc_pb.ResultBatch) -> None:
        try:
            await report.write(batch)
        except asyncio.InvalidStateError:
            raise SessionEnded("the engine closed ReportResults") from None
        self.batches_sent += 1
