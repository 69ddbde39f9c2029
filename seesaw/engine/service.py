"""The `seesaw.engine.Engine` gRPC servicer: the operator API the CLI and
the ECU use.

Reads are live views of the engine (`views`); writes go through the engine
and wake the links. Who may call is decided by the socket: the engine
socket's directory is root-only (mode 0770), so every caller is trusted.
"""

from __future__ import annotations

import logging

import grpc

import seesaw
from seesaw.config.errors import ConfigError
from seesaw.engine import views
from seesaw.engine.config_source import AVAILABLE, SOURCES
from seesaw.engine.core import ConfigRefused, OverrideError
from seesaw.engine.ha_state import FailoverError
from seesaw.engine.overrides import STATE_NAMES, TARGET_NAMES
from seesaw.engine.runtime import EngineRuntime
from seesaw.pb import common_pb2, engine_pb2, engine_pb2_grpc, ha_pb2

log = logging.getLogger(__name__)

SERVICE_NAME = engine_pb2.DESCRIPTOR.services_by_name["Engine"].full_name


class EngineService(engine_pb2_grpc.EngineServicer):
    def __init__(self, runtime: EngineRuntime) -> None:
        self.runtime = runtime
        self.engine = runtime.engine

    async def GetClusterStatus(
        self, request: common_pb2.Empty, context: grpc.aio.ServicerContext
    ) -> engine_pb2.ClusterStatus:
        return views.cluster_status(self.engine)

    async def GetHAStatus(self, request: common_pb2.Empty, context: grpc.aio.ServicerContext) -> ha_pb2.HAStatus:
        return views.ha_status(self.engine)

    async def GetConfigStatus(
        self, request: common_pb2.Empty, context: grpc.aio.ServicerContext
    ) -> engine_pb2.ConfigStatus:
        return views.config_status(self.engine)

    async def ListVservers(
        self, request: common_pb2.Empty, context: grpc.aio.ServicerContext
    ) -> engine_pb2.VserverList:
        return views.vservers(self.engine, await self.runtime.dataplane_state())

    async def ListBackends(
        self, request: common_pb2.Empty, context: grpc.aio.ServicerContext
    ) -> engine_pb2.BackendList:
        return views.backends(self.engine, await self.runtime.dataplane_state())

    async def ListVLANs(self, request: common_pb2.Empty, context: grpc.aio.ServicerContext) -> engine_pb2.VLANList:
        return views.vlans(self.engine)

    async def ListBGPNeighbors(
        self, request: common_pb2.Empty, context: grpc.aio.ServicerContext
    ) -> engine_pb2.BGPNeighborList:
        return engine_pb2.BGPNeighborList()  # no BGP speaker is driven yet

    async def GetVersion(self, request: common_pb2.Empty, context: grpc.aio.ServicerContext) -> engine_pb2.Version:
        return engine_pb2.Version(
            version=seesaw.__version__, engine_version=views.ENGINE_VERSION, dataplane=self.engine.ncc.dataplane
        )

    async def ReloadConfig(
        self, request: common_pb2.Empty, context: grpc.aio.ServicerContext
    ) -> engine_pb2.ReloadReply:
        try:
            message = self.runtime.reload()
        except ConfigError as err:
            await context.abort(
                grpc.StatusCode.FAILED_PRECONDITION,
                f"config refused, the running config stays in force:\n{err}",
            )
        except ConfigRefused as err:
            await context.abort(
                grpc.StatusCode.FAILED_PRECONDITION,
                "config refused, the running config stays in force:\n" + "\n".join(err.problems),
            )
        return engine_pb2.ReloadReply(message=message)

    async def SetConfigSource(
        self, request: engine_pb2.ConfigSourceRequest, context: grpc.aio.ServicerContext
    ) -> engine_pb2.ConfigSourceReply:
        current = self.engine.config_info.source
        source = request.source.strip().lower()
        if not source:
            return engine_pb2.ConfigSourceReply(source=current, previous=current)
        if source not in SOURCES:
            await context.abort(
                grpc.StatusCode.INVALID_ARGUMENT,
                f"unknown config source {request.source!r}; choose one of {', '.join(SOURCES)}",
            )
        if source not in AVAILABLE:
            await context.abort(
                grpc.StatusCode.UNIMPLEMENTED,
                f"config source {source!r} is not available yet; only 'disk' "
                f"({self.runtime.source.cluster_path}) is supported",
            )
        self.engine.config_info.source = source
        return engine_pb2.ConfigSourceReply(source=source, previous=current)

    async def Override(
        self, request: engine_pb2.OverrideRequest, context: grpc.aio.ServicerContext
    ) -> engine_pb2.OverrideReply:
        if request.target not in TARGET_NAMES or request.state not in STATE_NAMES:
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, "unknown override target or state")
        if not request.name:
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, f"name the {TARGET_NAMES[request.target]}")
        try:
            message = self.engine.set_override(request.target, request.name, request.state)
        except OverrideError as err:
            await context.abort(grpc.StatusCode.NOT_FOUND, str(err))
        self.runtime.changed()
        return engine_pb2.OverrideReply(message=message)

    async def Failover(self, request: common_pb2.Empty, context: grpc.aio.ServicerContext) -> engine_pb2.FailoverReply:
        try:
            self.engine.request_failover()
        except FailoverError as err:
            await context.abort(grpc.StatusCode.FAILED_PRECONDITION, str(err))
        if self.engine.ha.sessions == 0:
            self.engine.take_failover()
            await context.abort(
                grpc.StatusCode.FAILED_PRECONDITION,
                'HA is not connected to the engine; is seesaw-ha running? (seesaw -c "show ha")',
            )
        log.info("failover requested: asking HA to give up mastership")
        self.runtime.changed()
        return engine_pb2.FailoverReply(message="This node will hand over to its peer.")
