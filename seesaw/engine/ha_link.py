"""The `seesaw.engine.EngineHA` servicer: the HA daemon's session.

HA opens one bidirectional stream. The engine sends the HAConfig at once
and again whenever it changes, and a failover command when the operator asks
for one; HA sends its status on every transition and periodically. When the
stream ends, HA is gone: the engine stops counting itself leader at once and
the LB interface goes down.
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


class EngineHAService(engine_pb2_grpc.EngineHAServicer):
    def __init__(self, runtime: EngineRuntime) -> None:
        self.runtime = runtime
        self.engine = runtime.engine

    async def HASession(
        self, request_iterator: AsyncIterator[ha_pb2.HAReport], context: grpc.aio.ServicerContext
    ) -> None:
        token = self.engine.ha_session_opened()
        wake = self.runtime.subscribe()
        log.info("HA session started")
        reader = asyncio.create_task(self._read(request_iterator))
        sent: ha_pb2.HAConfig | None = None
        try:
            while not reader.done():
                wake.clear()
                config = self.engine.ha_config()
                if config != sent:
                    await context.write(ha_pb2.HACommand(config=config))
                    sent = config
                if self.engine.take_failover():
                    log.info("telling HA to fail over")
                    await context.write(ha_pb2.HACommand(failover=True))
                waiter = asyncio.ensure_future(wake.wait())
                try:
                    await asyncio.wait([reader, waiter], return_when=asyncio.FIRST_COMPLETED)
                finally:
                    waiter.cancel()
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

    async def _read(self, request_iterator: AsyncIterator[ha_pb2.HAReport]) -> None:
        async for report in request_iterator:
            self.engine.ha_report(report.status)
            self.runtime.changed()
