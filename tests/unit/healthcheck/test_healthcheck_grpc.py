"""gRPC health checker against a real grpc.aio server with the standard health servicer."""

import asyncio

import grpc
import pytest
from grpc_health.v1 import health, health_pb2, health_pb2_grpc

from seesaw.healthcheck.checkers import run_check
from seesaw.healthcheck.checkers.grpc_health import GRPCHealthChecker


async def _with_server(ip, scenario):
    server = grpc.aio.server()
    servicer = health.aio.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(servicer, server)
    port = server.add_insecure_port(f"[{ip}]:0" if ":" in ip else f"{ip}:0")
    await servicer.set("", health_pb2.HealthCheckResponse.SERVING)
    await servicer.set("web", health_pb2.HealthCheckResponse.SERVING)
    await servicer.set("db", health_pb2.HealthCheckResponse.NOT_SERVING)
    await server.start()
    try:
        return await scenario(port)
    finally:
        await server.stop(0)


@pytest.mark.parametrize(
    ("service", "expected", "message"),
    [
        ("", True, "SERVING"),
        ("web", True, "SERVING"),
        ("db", False, "NOT_SERVING"),
        ("nosuch", False, "service unknown to the server (NOT_FOUND)"),
    ],
)
def test_grpc_health(loopback, service, expected, message):
    async def scenario(port):
        return await run_check(GRPCHealthChecker(loopback, port, service, timeout=1.0), 2.0)

    result = asyncio.run(_with_server(loopback, scenario))
    assert result.ok is expected, result
    assert result.message.endswith(f": {message}")


def test_grpc_no_server(loopback):
    async def scenario(port):
        return port

    port = asyncio.run(_with_server(loopback, scenario))  # a port that just stopped serving
    result = asyncio.run(run_check(GRPCHealthChecker(loopback, port, "", timeout=1.0), 2.0))
    assert not result.ok
    assert "UNAVAILABLE" in result.message
