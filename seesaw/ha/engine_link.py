"""HA's conversation with the engine: one `EngineHA.HASession` stream at a time.

* Connect to <run-dir>/engine/engine.sock, retrying every 0.5 s (Seesaw
  waited 5 s and so lost its first election at boot).
* Reports go up on every transition at once and every second otherwise;
  the first one opens the stream so the engine sees HA at once.
* Commands come down: `config` is applied in place (enabled=false =>
  DISABLED), `failover` makes a leader step down with a priority-0 advert,
  `stopping` says the engine stops for good.
* The engine is only the brain: the kernel keeps forwarding without it. When
  the stream breaks without a word (the engine was killed and is being
  restarted), HA keeps its role and keeps advertising for a grace period
  while it reconnects (engine_grace); only if the engine is not back by then
  does HA leave the election, a leader with a priority-0 advert so the peer
  takes over at once, and has NCC take the LB interface down (lb_release):
  the engine that would have is gone. An engine that says it is stopping,
  or ends the session itself, makes HA leave at once (that engine takes the
  LB interface down itself).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import grpc

from seesaw.common import rpc
from seesaw.common.clock import Clock, SystemClock
from seesaw.ha.engine_grace import DEFAULT_GRACE, EngineGrace
from seesaw.ha.lb_release import CHANNEL_OPTIONS, LBRelease
from seesaw.ha.node import Node
from seesaw.pb import common_pb2, engine_pb2_grpc, ha_pb2

log = logging.getLogger(__name__)

RETRY_DELAY = 0.5
REPORT_INTERVAL = 1.0
FAREWELL_WAIT = 1.0  # at most this long for the engine to take the last report on shutdown


class EngineLink:
    def __init__(
        self,
        node: Node,
        socket_path: Path,
        retry_delay: float = RETRY_DELAY,
        report_interval: float = REPORT_INTERVAL,
        grace: float = DEFAULT_GRACE,
        clock: Clock | None = None,
        release: LBRelease | None = None,
    ) -> None:
        self._node = node
        self._release = release
        self._released = False  # the LB interface was handed to NCC to take down since the engine was last here
        self._path = socket_path
        self._retry_delay = retry_delay
        self._report_interval = report_interval
        self._clock = clock or SystemClock()
        self._grace = EngineGrace(self._clock, grace)
        self._timer: asyncio.TimerHandle | None = None
        self._complained = False
        self._connected = False  # the current session got a command: the engine is there
        self._queue: asyncio.Queue[ha_pb2.HAReport | None] = asyncio.Queue()

    async def run(self, stop: asyncio.Event) -> None:
        """Hold a session with the engine until `stop`; without one, keep the role for the grace period at most."""
        try:
            while not stop.is_set():
                self._connected = False
                ended = False
                try:
                    ended = await self._session(stop)
                except grpc.aio.AioRpcError as err:
                    if self._connected:
                        self._complain(f"lost the engine at {self._path} ({err.details()})")
                    else:
                        self._complain(rpc.describe_rpc_error(err, "the engine", self._path))
                if stop.is_set():
                    break
                if ended:
                    if self._grace.stopped():
                        self._leave()
                elif self._grace.lost():
                    self._leave()
                elif self._timer is None and self._grace.deadline is not None:
                    log.warning(
                        "keeping %s for up to %.1f s while the engine comes back (the dataplane keeps forwarding)",
                        common_pb2.HaState.Name(self._node.state).removeprefix("HA_"),
                        self._grace.grace,
                    )
                    self._arm_timer()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), self._retry_delay)
        finally:
            self._cancel_timer()

    async def _session(self, stop: asyncio.Event) -> bool:
        """One session; True if the engine ended it (it is stopping for good), False if `stop` did."""
        queue: asyncio.Queue[ha_pb2.HAReport | None] = asyncio.Queue()
        self._queue = queue

        def report() -> None:
            queue.put_nowait(ha_pb2.HAReport(status=self._node.status()))

        async def reports() -> AsyncIterator[ha_pb2.HAReport]:
            while (item := await queue.get()) is not None:
                yield item

        self._node.on_report = report
        report()
        async with grpc.aio.insecure_channel(rpc.target(self._path), options=CHANNEL_OPTIONS) as channel:
            call = engine_pb2_grpc.EngineHAStub(channel).HASession(reports())
            reader = asyncio.create_task(self._read(call))
            ticker = asyncio.create_task(self._tick(report))
            stopper = asyncio.create_task(stop.wait())
            try:
                await asyncio.wait({reader, stopper}, return_when=asyncio.FIRST_COMPLETED)
                if reader.done():
                    reader.result()  # raises what broke the stream
                    self._complain(f"the engine at {self._path} is stopping: leaving the election")
                    return True
                self._node.stop()  # queues the SHUTDOWN report
                queue.put_nowait(None)
                # The engine ends its side once it has read our half-closed stream to the end: only
                # then has the SHUTDOWN report surely arrived (handing it to gRPC is not enough).
                await asyncio.wait({reader}, timeout=FAREWELL_WAIT)
                return False
            finally:
                self._node.on_report = lambda: None
                for task in (reader, ticker, stopper):
                    task.cancel()
                call.cancel()

    async def _read(self, call: grpc.aio.StreamStreamCall) -> None:
        first = True
        async for command in call:
            if first:
                first = False
                self._connected = True
                waited = self._grace.deadline is not None
                self._grace.connected()
                self._cancel_timer()
                if self._release is not None:
                    self._release.cancel()  # the engine speaks for the LB interface again
                self._released = False
                if waited:
                    log.info("the engine is back at %s within the grace period", self._path)
                elif self._complained:
                    log.info("connected to the engine at %s", self._path)
                self._complained = False
            self._obey(command)

    def _obey(self, command: ha_pb2.HACommand) -> None:
        kind = command.WhichOneof("command")
        if kind == "config":
            self._node.apply(command.config)
        elif kind == "failover" and command.failover:
            self._node.failover()
        elif kind == "stopping" and command.stopping:
            self._grace.stopped()
            self._node.stop()  # a leader's priority-0 advert; queues the SHUTDOWN report
            self._queue.put_nowait(None)  # half-close: the engine waits for it before it goes

    async def _tick(self, report: Callable[[], None]) -> None:
        while True:
            await asyncio.sleep(self._report_interval)
            self._node.retry()
            report()

    # -- the grace period --------------------------------------------------

    def _arm_timer(self) -> None:
        self._cancel_timer()
        deadline = self._grace.deadline
        if deadline is not None:
            delay = max(0.0, deadline - self._clock.monotonic())
            self._timer = asyncio.get_running_loop().call_later(delay, self._on_grace_timer)

    def _on_grace_timer(self) -> None:
        self._timer = None
        if self._grace.expired():
            log.warning(
                "the engine at %s did not come back within %.1f s: leaving the election", self._path, self._grace.grace
            )
            self._leave()
        elif self._grace.deadline is not None:
            self._arm_timer()  # fired early

    def _cancel_timer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _leave(self) -> None:
        self._cancel_timer()
        self._node.stop()  # a leader's priority-0 advert first: the peer takes over at once
        if self._grace.abandoned and self._release is not None and not self._released:
            self._released = True
            self._release.release(f"seesaw-ha left the election: the engine at {self._path} is gone")

    def _complain(self, message: str) -> None:
        if self._complained:
            log.debug("%s", message)
            return
        self._complained = True
        log.warning("%s; retrying every %.1f s", message, self._retry_delay)
