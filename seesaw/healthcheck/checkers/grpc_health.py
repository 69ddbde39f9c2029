"""gRPC health check: `grpc.health.v1.Health/Check` over plaintext HTTP/2.

`send` names the service to ask about ("" asks about the server as a
whole). SERVING passes; NOT_SERVING, UNKNOWN, an unknown service
(NOT_FOUND) or any RPC error fails. gRPC opens its own sockets, so a
DSR/TUN mark cannot be set: such checks are refused when built.
"""

from __future__ import annotations

from dataclasses import dataclass

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from . import dial
from .base import CheckFailed

CHANNEL_OPTIONS = [("grpc.enable_http_proxy", 0), ("grpc.enable_retries", 0), ("grpc.max_receive_message_length", 4096)]


@dataclass(slots=True)
class GRPCHealthChecker:
    ip: str
    port: int
    service: str = ""
    timeout: float = 5.0  # the RPC deadline; the run's own timeout bounds everything else

    def describe(self) -> str:
        name = repr(self.service) if self.service else "the server"
        return f"gRPC health of {name} at {dial.host_port(self.ip, self.port)}"

    async def check(self) -> str:
        where = self.describe()
        scheme = "ipv6" if ":" in self.ip else "ipv4"
        async with grpc.aio.insecure_channel(
            f"{scheme}:{dial.host_port(self.ip, self.port)}", options=CHANNEL_OPTIONS
        ) as ch:
            stub = health_pb2_grpc.HealthStub(ch)
            try:
                reply = await stub.Check(health_pb2.HealthCheckRequest(service=self.service), timeout=self.timeout)
            except grpc.aio.AioRpcError as err:
                if err.code() == grpc.StatusCode.NOT_FOUND:
                    raise CheckFailed(f"{where}: service unknown to the server (NOT_FOUND)") from None
                if err.code() == grpc.StatusCode.UNIMPLEMENTED:
                    raise CheckFailed(f"{where}: the server does not implement grpc.health.v1") from None
                raise CheckFailed(f"{where}: {err.code().name}: {err.details()}") from None
        status = health_pb2.HealthCheckResponse.ServingStatus.Name(reply.status)
        if reply.status != health_pb2.HealthCheckResponse.SERVING:
            raise CheckFailed(f"{where}: {status}")
        return f"{where}: {status}"
