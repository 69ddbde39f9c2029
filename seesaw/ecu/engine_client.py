"""A synchronous reader of the engine's live state, for scrapes and probes."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import grpc

from seesaw.common import rpc
from seesaw.common.call_metadata import OMIT_COUNTERS
from seesaw.pb import common_pb2, engine_pb2, engine_pb2_grpc, ha_pb2


@dataclass(frozen=True)
class EngineSnapshot:
    cluster: engine_pb2.ClusterStatus
    ha: ha_pb2.HAStatus
    config: engine_pb2.ConfigStatus
    vservers: engine_pb2.VserverList
    dataplane: engine_pb2.DataplaneView | None = None  # None: the engine could not say (an older engine)


class EngineUnavailable(Exception):
    """The engine could not be read; the message says why."""


class EngineReader:
    def __init__(self, socket: Path, timeout: float = 5.0) -> None:
        self.socket = socket
        self.timeout = timeout
        self._channel: grpc.Channel | None = None

    def _stub(self) -> engine_pb2_grpc.EngineStub:
        if self._channel is None:
            self._channel = rpc.sync_channel(self.socket)
        return engine_pb2_grpc.EngineStub(self._channel)

    def snapshot(self) -> EngineSnapshot:
        stub = self._stub()
        empty = common_pb2.Empty()
        try:
            cluster = stub.GetClusterStatus(empty, timeout=self.timeout)
            ha = stub.GetHAStatus(empty, timeout=self.timeout)
            config = stub.GetConfigStatus(empty, timeout=self.timeout)
            vservers = stub.ListVservers(empty, timeout=self.timeout)
        except grpc.RpcError as err:
            raise EngineUnavailable(rpc.describe_rpc_error(err, "engine", self.socket)) from err
        try:
            dataplane = stub.GetDataplane(empty, timeout=self.timeout)
        except grpc.RpcError:
            dataplane = None
        return EngineSnapshot(cluster, ha, config, vservers, dataplane)

    def vservers(self, counters: bool = True) -> engine_pb2.VserverList:
        """The vservers; without `counters`, NCC is not asked for them (no read of the whole dataplane)."""
        metadata = () if counters else (OMIT_COUNTERS,)
        try:
            reply: engine_pb2.VserverList = self._stub().ListVservers(
                common_pb2.Empty(), timeout=self.timeout, metadata=metadata
            )
        except grpc.RpcError as err:
            raise EngineUnavailable(rpc.describe_rpc_error(err, "engine", self.socket)) from err
        return reply

    def config(self) -> engine_pb2.ConfigStatus:
        try:
            reply: engine_pb2.ConfigStatus = self._stub().GetConfigStatus(common_pb2.Empty(), timeout=self.timeout)
        except grpc.RpcError as err:
            raise EngineUnavailable(rpc.describe_rpc_error(err, "engine", self.socket)) from err
        return reply

    def close(self) -> None:
        if self._channel is not None:
            self._channel.close()
            self._channel = None
