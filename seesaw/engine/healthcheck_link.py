"""The `seesaw.engine.EngineHealthcheck` servicer: the healthcheck daemon's
two streams.

WatchChecks sends the full check set first, then only what changed (new or
changed checkers, removed IDs) whenever the vservers' checks change, and
the checks the engine wants run again at once (rechecks).
ReportResults takes batches of results and routes each to the vserver
checks sharing that checker.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

import grpc

from seesaw.engine.healthchecks import checkset_delta
from seesaw.engine.runtime import EngineRuntime
from seesaw.pb import engine_pb2, engine_pb2_grpc, healthcheck_pb2

log = logging.getLogger(__name__)

SERVICE_NAME = engine_pb2.DESCRIPTOR.services_by_name["EngineHealthcheck"].full_name


class EngineHealthcheckService(engine_pb2_grpc.EngineHealthcheckServicer):
    def __init__(self, runtime: EngineRuntime) -> None:
        self.runtime = runtime
        self.engine = runtime.engine
        self.watchers = 0

    async def WatchChecks(
        self, request: healthcheck_pb2.WatchChecksRequest, context: grpc.aio.ServicerContext
    ) -> AsyncIterator[healthcheck_pb2.CheckSet]:
        wake = self.runtime.subscribe()
        self.watchers += 1
        self.engine.healthcheck_sessions += 1
        try:
            sent = dict(self.engine.check_configs())
            version = self.engine.hc.version
            log.info("healthcheck session started: sending %d checks", len(sent))
            yield healthcheck_pb2.CheckSet(full=True, upsert=list(sent.values()))
            while True:
                await wake.wait()
                wake.clear()
                if self.engine.hc.version == version:
                    continue
                version = self.engine.hc.version
                current = dict(self.engine.check_configs())
                delta = checkset_delta(sent, current)
                sent = current
                delta.recheck.extend(self.engine.hc.take_rechecks())
                if delta.upsert or delta.remove or delta.recheck:
                    yield delta
        finally:
            self.watchers -= 1
            self.engine.healthcheck_sessions -= 1
            self.runtime.unsubscribe(wake)
            log.info("healthcheck session ended")

    async def ReportResults(
        self, request_iterator: AsyncIterator[healthcheck_pb2.ResultBatch], context: grpc.aio.ServicerContext
    ) -> healthcheck_pb2.ReportAck:
        accepted = 0
        async for batch in request_iterator:
            accepted += self.engine.handle_results(batch)
            self.runtime.changed()
        return healthcheck_pb2.ReportAck(accepted=accepted)
