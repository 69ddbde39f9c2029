"""The HA daemon's own gRPC surface on <run-dir>/ha/ha.sock: GetStatus, live."""

from __future__ import annotations

import grpc

from seesaw.ha.node import Node
from seesaw.pb import common_pb2, ha_pb2, ha_pb2_grpc

SERVICE_NAME = "seesaw.ha.HA"


class HAService(ha_pb2_grpc.HAServicer):
    def __init__(self, node: Node) -> None:
        self._node = node

    async def GetStatus(self, request: common_pb2.Empty, context: grpc.aio.ServicerContext) -> ha_pb2.HAStatus:
        return self._node.status()
