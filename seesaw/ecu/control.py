"""The `SeesawECU` servicer: the engine's operator API, for remote users.

Each call is made to the engine over its Unix socket *for* the user the
client certificate names: the ECU sends the user, its groups (the subject's
OUs) and how it arrived as delegation metadata, and the engine decides from
its own rules (`seesaw.engine.auth`) and audits every write. The ECU adds
no rules of its own; a refusal or an error comes back with the engine's
code and words.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import grpc

from seesaw.common import peercred, rpc
from seesaw.pb import common_pb2, ecu_pb2, ecu_pb2_grpc, engine_pb2, engine_pb2_grpc, ha_pb2

from .identity import NotAuthenticated, RemoteUser, remote_user

log = logging.getLogger(__name__)

SERVICE_NAME = ecu_pb2.DESCRIPTOR.services_by_name["SeesawECU"].full_name
CALL_TIMEOUT = 20.0

Context = grpc.aio.ServicerContext


class ControlService(ecu_pb2_grpc.SeesawECUServicer):
    def __init__(self, engine_socket: Path, call_timeout: float = CALL_TIMEOUT) -> None:
        self.engine_socket = engine_socket
        self.call_timeout = call_timeout
        self._channel: grpc.aio.Channel | None = None
        self._engine: engine_pb2_grpc.EngineStub | None = None

    def _stub(self) -> engine_pb2_grpc.EngineStub:
        if self._engine is None:
            self._channel = rpc.aio_channel(self.engine_socket)
            self._engine = engine_pb2_grpc.EngineStub(self._channel)
        return self._engine

    async def close(self) -> None:
        if self._channel is not None:
            await self._channel.close()
        self._channel = None
        self._engine = None

    async def _user(self, context: Context) -> RemoteUser:
        try:
            return remote_user(context.auth_context(), context.peer())
        except NotAuthenticated as err:
            await context.abort(grpc.StatusCode.UNAUTHENTICATED, str(err))
            raise  # abort raised already

    async def _forward(self, method: str, request: Any, context: Context) -> Any:
        user = await self._user(context)
        metadata = (
            (peercred.DELEGATE_USER, user.user),
            (peercred.DELEGATE_GROUPS, ",".join(user.groups)),
            (peercred.DELEGATE_VIA, user.via()),
        )
        try:
            return await getattr(self._stub(), method)(request, metadata=metadata, timeout=self.call_timeout)
        except grpc.aio.AioRpcError as err:
            code = err.code()
            if code in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED) and _transport(err):
                details = f"the engine on this node did not answer: {rpc.describe_rpc_error(err, 'engine')}"
            else:
                details = err.details() or code.name
            if code != grpc.StatusCode.PERMISSION_DENIED:
                log.info("%s for %s: %s %s", method, user.user, code.name, details.splitlines()[0] if details else "")
            await context.abort(code, details)

    # -- the API ---------------------------------------------------------------------------------------------------

    async def WhoAmI(self, request: common_pb2.Empty, context: Context) -> ecu_pb2.WhoAmIReply:
        caller: engine_pb2.Caller = await self._forward("WhoAmI", request, context)
        return ecu_pb2.WhoAmIReply(
            user=caller.user,
            role=caller.role,
            groups=caller.groups,
            via=caller.via,
            granted_vservers=caller.granted_vservers,
        )

    async def GetClusterStatus(self, request: common_pb2.Empty, context: Context) -> engine_pb2.ClusterStatus:
        reply: engine_pb2.ClusterStatus = await self._forward("GetClusterStatus", request, context)
        return reply

    async def GetHAStatus(self, request: common_pb2.Empty, context: Context) -> ha_pb2.HAStatus:
        reply: ha_pb2.HAStatus = await self._forward("GetHAStatus", request, context)
        return reply

    async def GetConfigStatus(self, request: common_pb2.Empty, context: Context) -> engine_pb2.ConfigStatus:
        reply: engine_pb2.ConfigStatus = await self._forward("GetConfigStatus", request, context)
        return reply

    async def ListVservers(self, request: common_pb2.Empty, context: Context) -> engine_pb2.VserverList:
        reply: engine_pb2.VserverList = await self._forward("ListVservers", request, context)
        return reply

    async def ListBackends(self, request: common_pb2.Empty, context: Context) -> engine_pb2.BackendList:
        reply: engine_pb2.BackendList = await self._forward("ListBackends", request, context)
        return reply

    async def ListVLANs(self, request: common_pb2.Empty, context: Context) -> engine_pb2.VLANList:
        reply: engine_pb2.VLANList = await self._forward("ListVLANs", request, context)
        return reply

    async def ListBGPNeighbors(self, request: common_pb2.Empty, context: Context) -> engine_pb2.BGPNeighborList:
        reply: engine_pb2.BGPNeighborList = await self._forward("ListBGPNeighbors", request, context)
        return reply

    async def GetVersion(self, request: common_pb2.Empty, context: Context) -> engine_pb2.Version:
        reply: engine_pb2.Version = await self._forward("GetVersion", request, context)
        return reply

    async def GetConfigDiff(self, request: common_pb2.Empty, context: Context) -> engine_pb2.ConfigDiff:
        reply: engine_pb2.ConfigDiff = await self._forward("GetConfigDiff", request, context)
        return reply

    async def GetDataplane(self, request: common_pb2.Empty, context: Context) -> engine_pb2.DataplaneView:
        reply: engine_pb2.DataplaneView = await self._forward("GetDataplane", request, context)
        return reply

    async def ReloadConfig(self, request: common_pb2.Empty, context: Context) -> engine_pb2.ReloadReply:
        reply: engine_pb2.ReloadReply = await self._forward("ReloadConfig", request, context)
        return reply

    async def Reload(self, request: engine_pb2.ReloadRequest, context: Context) -> engine_pb2.ReloadReply:
        reply: engine_pb2.ReloadReply = await self._forward("Reload", request, context)
        return reply

    async def SetConfigSource(
        self, request: engine_pb2.ConfigSourceRequest, context: Context
    ) -> engine_pb2.ConfigSourceReply:
        reply: engine_pb2.ConfigSourceReply = await self._forward("SetConfigSource", request, context)
        return reply

    async def Override(self, request: engine_pb2.OverrideRequest, context: Context) -> engine_pb2.OverrideReply:
        reply: engine_pb2.OverrideReply = await self._forward("Override", request, context)
        return reply

    async def Failover(self, request: common_pb2.Empty, context: Context) -> engine_pb2.FailoverReply:
        reply: engine_pb2.FailoverReply = await self._forward("Failover", request, context)
        return reply


def _transport(err: grpc.aio.AioRpcError) -> bool:
    """True if the engine was not reached (as opposed to the engine answering UNAVAILABLE itself)."""
    details = err.details() or ""
    return err.code() == grpc.StatusCode.DEADLINE_EXCEEDED or any(
        words in details for words in ("failed to connect", "Socket closed", "Connection refused", "No such file")
    )
