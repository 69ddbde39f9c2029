"""The `seesaw.engine.Engine` gRPC servicer: the operator API the CLI and
the ECU use.

Reads are live views of the engine (`views`); writes go through the engine
and wake the links. A caller that does not show the dataplane's counters
(the CLI's text views) sends `OMIT_COUNTERS` as call metadata with
ListVservers and ListBackends, which spares asking NCC for them. Who may call what is decided before a method runs, from
the caller's kernel credentials (`auth_proxy`, `auth_guard`, `auth`).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

import grpc

import seesaw
from seesaw.common.call_metadata import OMIT_COUNTERS
from seesaw.config.errors import ConfigError
from seesaw.engine import views
from seesaw.engine.auth_guard import current_caller
from seesaw.engine.config_loader import SourceUnavailable
from seesaw.engine.config_source import SOURCES
from seesaw.engine.core import ConfigRefused, OverrideError
from seesaw.engine.ha_state import FailoverError
from seesaw.engine.ncc_link import BGPUnavailable
from seesaw.engine.overrides import STATE_NAMES, TARGET_NAMES
from seesaw.engine.runtime import EngineRuntime
from seesaw.engine.snapshots import VserverSnapshots
from seesaw.pb import common_pb2, engine_pb2, engine_pb2_grpc, ha_pb2, ncc_pb2

log = logging.getLogger(__name__)

SERVICE_NAME = engine_pb2.DESCRIPTOR.services_by_name["Engine"].full_name


class EngineService(engine_pb2_grpc.EngineServicer):
    def __init__(self, runtime: EngineRuntime) -> None:
        self.runtime = runtime
        self.engine = runtime.engine
        self.snapshots = VserverSnapshots()  # the vserver list, rebuilt per vserver only when it changed
        # NCC's dataplane view (seesaw.engine.dataplane_view), set once the NCC link exists.
        self.read_dataplane: Callable[[], Awaitable[engine_pb2.DataplaneView]] | None = None

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
        return views.vservers(self.engine, await self._counters(context), self.snapshots)

    async def ListBackends(
        self, request: common_pb2.Empty, context: grpc.aio.ServicerContext
    ) -> engine_pb2.BackendList:
        return views.backends(self.engine, await self._counters(context), self.snapshots)

    async def _counters(self, context: grpc.aio.ServicerContext) -> ncc_pb2.DataplaneState | None:
        """NCC's counters for the views, unless the caller said it does not show them."""
        if any((key, value) == OMIT_COUNTERS for key, value in context.invocation_metadata() or ()):
            return None
        return await self.runtime.dataplane_state()

    async def ListVLANs(self, request: common_pb2.Empty, context: grpc.aio.ServicerContext) -> engine_pb2.VLANList:
        return views.vlans(self.engine)

    async def ListBGPNeighbors(
        self, request: common_pb2.Empty, context: grpc.aio.ServicerContext
    ) -> engine_pb2.BGPNeighborList:
        if not self.engine.settings.anycast_enabled or self.runtime.read_bgp_neighbors is None:
            return engine_pb2.BGPNeighborList()  # as Seesaw: no BGP without anycast
        try:
            found = await self.runtime.read_bgp_neighbors()
        except BGPUnavailable as err:
            await context.abort(grpc.StatusCode.FAILED_PRECONDITION, f"no BGP neighbours: {err}")
        return engine_pb2.BGPNeighborList(
            neighbors=[
                engine_pb2.BGPNeighbor(
                    address=n.address,
                    router_id=n.router_id,
                    asn=n.asn,
                    description=n.description,
                    state=n.state,
                    uptime_s=n.uptime_s,
                )
                for n in found.neighbors
            ]
        )

    async def GetVersion(self, request: common_pb2.Empty, context: grpc.aio.ServicerContext) -> engine_pb2.Version:
        return engine_pb2.Version(
            version=seesaw.__version__, engine_version=views.ENGINE_VERSION, dataplane=self.engine.ncc.dataplane
        )

    async def ReloadConfig(
        self, request: common_pb2.Empty, context: grpc.aio.ServicerContext
    ) -> engine_pb2.ReloadReply:
        return await self.Reload(engine_pb2.ReloadRequest(), context)

    async def Reload(
        self, request: engine_pb2.ReloadRequest, context: grpc.aio.ServicerContext
    ) -> engine_pb2.ReloadReply:
        """Take the config the source offers now (`config reload [force]`)."""
        try:
            message = await self.runtime.loader.check(force=request.force)
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
        except SourceUnavailable as err:
            await context.abort(
                grpc.StatusCode.UNAVAILABLE,
                f"no config from source {self.engine.config_info.source}, the running config stays in force:\n{err}",
            )
        return engine_pb2.ReloadReply(message=message)

    async def GetConfigDiff(
        self, request: common_pb2.Empty, context: grpc.aio.ServicerContext
    ) -> engine_pb2.ConfigDiff:
        """What `config reload` would change now, changing nothing (`config diff`)."""
        try:
            candidate = await self.runtime.loader.candidate()
        except ConfigError as err:
            await context.abort(grpc.StatusCode.FAILED_PRECONDITION, f"the config does not load:\n{err}")
        except SourceUnavailable as err:
            await context.abort(
                grpc.StatusCode.UNAVAILABLE, f"no config from source {self.engine.config_info.source}:\n{err}"
            )
        return views.config_diff(self.engine, candidate)

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
        previous = self.runtime.loader.set_source(source)
        return engine_pb2.ConfigSourceReply(source=source, previous=previous)

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

    async def WhoAmI(self, request: common_pb2.Empty, context: grpc.aio.ServicerContext) -> engine_pb2.Caller:
        admitted = current_caller()
        if admitted is None:  # served without the guard (in-process tests): nobody is known
            return engine_pb2.Caller(user="", role="none", uid=-1)
        caller, decision = admitted.caller, admitted.decision
        return engine_pb2.Caller(
            user=caller.user,
            role=str(decision.role),
            groups=sorted(caller.groups),
            uid=caller.uid if caller.uid is not None else -1,
            via=caller.via,
            granted_vservers=sorted(decision.granted),
        )

    async def GetDataplane(
        self, request: common_pb2.Empty, context: grpc.aio.ServicerContext
    ) -> engine_pb2.DataplaneView:
        if self.read_dataplane is None:
            return engine_pb2.DataplaneView(connected=False, error="the engine has no NCC link")
        return await self.read_dataplane()
