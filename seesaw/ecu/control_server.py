"""The ECU's public gRPC port: TLS with client certificates required.

Files, as Seesaw v2 laid them out (`--ssl-dir`, default <config-dir>/ssl):

    ca.crt       the CA that signs client certificates (and the server's)
    seesaw.crt   this node's server certificate (PEM; may carry the chain)
    seesaw.key   its private key

A client without a certificate signed by ca.crt is turned away in the TLS
handshake. The port also serves `grpc.health.v1` and server reflection
(behind the same TLS).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from seesaw.common import rpc
from seesaw.pb import ecu_pb2_grpc

from .control import SERVICE_NAME, ControlService

log = logging.getLogger(__name__)

CA_FILE = "ca.crt"
CERT_FILE = "seesaw.crt"
KEY_FILE = "seesaw.key"


class TLSFilesMissing(Exception):
    """The TLS files cannot be read; the text says which and how to make them."""


@dataclass(frozen=True)
class TLSFiles:
    ca: bytes
    cert: bytes
    key: bytes

    @classmethod
    def load(cls, ssl_dir: Path) -> TLSFiles:
        contents: list[bytes] = []
        for name in (CA_FILE, CERT_FILE, KEY_FILE):
            path = ssl_dir / name
            try:
                contents.append(path.read_bytes())
            except OSError as err:
                raise TLSFilesMissing(
                    f"cannot read {path}: {err.strerror or err}; the control API needs {CA_FILE}, {CERT_FILE} and "
                    f"{KEY_FILE} in {ssl_dir} (README, 'The ECU API', shows how to make them)"
                ) from None
        return cls(*contents)

    def credentials(self) -> grpc.ServerCredentials:
        return grpc.ssl_server_credentials([(self.key, self.cert)], root_certificates=self.ca, require_client_auth=True)


class ControlServer:
    def __init__(self, address: str, port: int, tls: TLSFiles, engine_socket: Path) -> None:
        self.service = ControlService(engine_socket)
        self.server = grpc.aio.server(options=rpc.CHANNEL_OPTIONS)
        ecu_pb2_grpc.add_SeesawECUServicer_to_server(self.service, self.server)
        self.health = health.aio.HealthServicer()
        health_pb2_grpc.add_HealthServicer_to_server(self.health, self.server)
        reflection.enable_server_reflection((SERVICE_NAME, health.SERVICE_NAME, reflection.SERVICE_NAME), self.server)
        host = f"[{address}]" if ":" in address else address or "[::]"
        self.port = self.server.add_secure_port(f"{host}:{port}", tls.credentials())
        if self.port == 0:
            raise OSError(f"cannot listen on {host}:{port} for the control API; is the port in use?")

    async def start(self) -> None:
        await self.server.start()
        await self.set_serving(True)
        log.info("control API (TLS, client certificates) on port %d", self.port)

    async def set_serving(self, serving: bool) -> None:
        status = health_pb2.HealthCheckResponse.SERVING if serving else health_pb2.HealthCheckResponse.NOT_SERVING
        for name in ("", SERVICE_NAME):
            await self.health.set(name, status)

    async def stop(self, grace: float = 1.0) -> None:
        await self.set_serving(False)
        await self.server.stop(grace)
        await self.service.close()
