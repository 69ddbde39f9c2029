"""The `seesaw.engine.EngineHA` servicer: the HA daemon's session.

HA opens one bidirectional stream. The engine sends the HAConfig at once
and again whenever it changes, and a failover command when the operator asks
for one. An engine without a config yet (a broken file at start) sends an
empty command instead, so HA knows it is there and keeps running the config
it has: nothing changes until the engine knows what it wants. HA sends its
status on every transition and periodically. When the stream ends, HA is
gone: the engine stops counting itself leader at once and the LB interface
goes down.

A stopping engine (SIGTERM) says so (`HACommand.stopping`) and waits until HA
has taken it: HA leaves the election at once and reports SHUTDOWN, which
takes the LB interface down. An engine that vanishes without a word (SIGKILL)
may be restarting, and HA waits for it a while (seesaw.ha.engine_link).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

import grpc

from seesaw.engine.runtime import EngineRuntime
from seesaw.pb import engine_pb2, engine_pb2_grpc, ha_pb2

log = logging.getLogger(__name__)

SERVICE_NAME = engine_pb2.DESCRIPTOR.services_by_name["EngineHA"].full_name
FAREWELL_WAIT = 1.0  # at most this long for HA to take `stopping` (it half-closes its stream)


class EngineHAService(engine_pb2_grpc.EngineHAServicer):
    def __init__(self, runtime: EngineRuntime) -> None:
        self.runtime = runtime
        self.engine = runtime.engine
        self._closing = asyncio.Event()
        self._open = 0
        self._all_ended = asyncio.Event()
        self._all_ended.set()

    async def close(self, timeout: float = FAREWELL_WAIT) -> bool:
        """Tell every HA session the engine stops for good; False if some did not end within `timeout`."""
        self._closing.set()
        self.runtime.changed()
        try:
            await asyncio.wait_for(self._all_ended.wait(), timeout)
        except TimeoutError:
            return False
        return True

    async def HASession(
        self, request_iterator: AsyncIterator[ha_pb2.HAReport], context: grpc.aio.ServicerContext
    ) -> None:
        token = self.engine.ha_session_opened()
        wake = self.runtime.subscribe()
        self._open += 1
        self._all_ended.clear()
        log.info("HA session started")
        reader = asyncio.create_task(self._read(request_iterator))
        sent: ha_pb2.HAConfig | None = None
        greeted = False
        try:
            while not reader.done():
                wake.clear()
                if self._closing.is_set():
                    log.info("telling HA the engine is stopping: it leaves the election")
                    await context.write(ha_pb2.HACommand(stopping=True))
                    # HA half-closes its stream once it has left (after its SHUTDOWN report).
                    await asyncio.wait([reader], timeout=FAREWELL_WAIT)
                    break
                if self.engine.target is not None:
                    config = self.engine.ha_config()
                    if config != sent:
                        await context.write(ha_pb2.HACommand(config=config))
                        sent = config
                        greeted = True
                if not greeted:
                    await context.write(ha_pb2.HACommand())  # here, with no config yet
                    greeted = True
                if self.engine.take_failover():
                    log.info("telling HA to fail over")
                    await context.write(ha_pb2.HACommand(failover=True))
                waiter = asyncio.ensure_future(wake.wait())
                try:
                    await asyncio.wait([reader, waiter], return_when=asyncio.FIRST_COMPLETED)
                finally:
                    waiter.cancel()
            error = None
            if reader.done():
                with contextlib.suppress(asyncio.CancelledError):
                    error = reader.exception()
            if error is not None:
                log.warning("HA session broke: %s", error)
        finally:
            reader.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await reader
            self.runtime.unsubscribe(wake)
            self.engine.ha_session_closed(token)
            log.info("HA session ended")
            self.runtime.changed()
            self._open -= 1
            if self._open == 0:
                self._all_ended.set()

    async def _read(self, request_iterator: AsyncIterator[ha_pb2.HAReport]) -> None:
        async for report in request_iterator:
            self.engine.ha_report(report.status)
            self.runtime.changed()
