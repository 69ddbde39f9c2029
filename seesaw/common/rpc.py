"""gRPC over Unix sockets: the one way components talk to each other.

Servers bind `<run-dir>/<component>/<component>.sock` and always serve
`grpc.health.v1` (the watchdog starts a dependent only once its dependency
answers SERVING) and server reflection.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from seesaw.common import paths

log = logging.getLogger(__name__)

# Generous message size: a 10,000-vserver state is a few MB.
CHANNEL_OPTIONS: list[tuple[str, Any]] = [
    ("grpc.max_send_message_length", 256 * 1024 * 1024),
    ("grpc.max_receive_message_length", 256 * 1024 * 1024),
    ("grpc.enable_http_proxy", 0),
]

AddServicer = Callable[[Any, grpc.aio.Server], None]


class UnixServer:
    """An asyncio gRPC server on a component's Unix socket, with health."""

    def __init__(self, run_dir: Path, component: str, dir_mode: int = 0o770) -> None:
        # Server-side modules load here, not at import: clients (the CLI) stay light.
        from grpc_health.v1 import health
        from grpc_reflection.v1alpha import reflection

        self._reflection = reflection
        self.component = component
        self.path = paths.socket_path(run_dir, component)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        os.chmod(self.path.parent, dir_mode)
        self.server = grpc.aio.server(options=CHANNEL_OPTIONS)
        self.health = health.aio.HealthServicer()
        health_pb2_grpc.add_HealthServicer_to_server(self.health, self.server)
        self._service_names: list[str] = [health.SERVICE_NAME, reflection.SERVICE_NAME]

    def add(self, add_fn: AddServicer, servicer: Any, service_name: str) -> None:
        add_fn(servicer, self.server)
        self._service_names.append(service_name)

    async def start(self) -> None:
        self._reflection.enable_server_reflection(self._service_names, self.server)
        if self.path.exists() or self.path.is_symlink():
            self.path.unlink()
        self.server.add_insecure_port(f"unix:{self.path}")
        await self.set_serving(False)  # until the daemon says it is ready
        await self.server.start()
        log.info("serving on %s", self.path)

    async def set_serving(self, serving: bool) -> None:
        status = health_pb2.HealthCheckResponse.SERVING if serving else health_pb2.HealthCheckResponse.NOT_SERVING
        for name in ("", self.component):
            await self.health.set(name, status)

    async def stop(self, grace: float = 1.0) -> None:
        await self.set_serving(False)
        await self.server.stop(grace)
        try:
            self.path.unlink()
        except FileNotFoundError:
            pass


def target(path: Path) -> str:
    return f"unix:{path}"


def aio_channel(path: Path) -> grpc.aio.Channel:
    return grpc.aio.insecure_channel(target(path), options=CHANNEL_OPTIONS)


def sync_channel(path: Path) -> grpc.Channel:
    return grpc.insecure_channel(target(path), options=CHANNEL_OPTIONS)


async def check_health(path: Path, timeout: float = 1.0, service: str = "") -> bool:
    """True if the server on `path` answers SERVING within `timeout`."""
    if not path.exists():
        return False
    async with aio_channel(path) as channel:
        stub = health_pb2_grpc.HealthStub(channel)
        try:
            reply = await stub.Check(health_pb2.HealthCheckRequest(service=service), timeout=timeout)
        except grpc.aio.AioRpcError:
            return False
    return bool(reply.status == health_pb2.HealthCheckResponse.SERVING)


def describe_rpc_error(err: grpc.RpcError, what: str, path: Path | None = None) -> str:
    """One line an operator can act on, for a failed call to `what`."""
    code = err.code() if hasattr(err, "code") else None
    details = err.details() if hasattr(err, "details") else str(err)
    if code == grpc.StatusCode.UNAVAILABLE:
        where = f" at {path}" if path else ""
        return f"Failed to connect to {what}{where}: {details}. Is seesaw running? (systemctl status seesaw)"
    if code == grpc.StatusCode.DEADLINE_EXCEEDED:
        return f"{what} did not answer in time"
    if code == grpc.StatusCode.PERMISSION_DENIED:
        return f"Permission denied by {what}: {details}"
    return f"{details}"
