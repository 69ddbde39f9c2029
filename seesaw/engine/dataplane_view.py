"""`GetDataplane`: what NCC has programmed and its counters, read live through the NCC link."""

from __future__ import annotations

import grpc

from seesaw.common import rpc
from seesaw.engine.ncc_link import NCCLink
from seesaw.pb import common_pb2, engine_pb2

TIMEOUT = 5.0


async def read(link: NCCLink, timeout: float = TIMEOUT) -> engine_pb2.DataplaneView:
    """NCC's GetState and GetStatus; with `connected` false and the reason when NCC cannot answer."""
    stub = link.stub
    if stub is None:
        reason = link.engine.ncc.error or "the engine is not connected to NCC yet"
        return engine_pb2.DataplaneView(connected=False, error=f"{reason}; is seesaw-ncc running?")
    try:
        state = await stub.GetState(common_pb2.Empty(), timeout=timeout)
        status = await stub.GetStatus(common_pb2.Empty(), timeout=timeout)
    except grpc.aio.AioRpcError as err:
        return engine_pb2.DataplaneView(connected=False, error=rpc.describe_rpc_error(err, "NCC", link.socket_path))
    return engine_pb2.DataplaneView(connected=True, state=state, status=status)
