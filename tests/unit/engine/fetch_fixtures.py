"""Config servers on loopback addresses for the fetch tests: the real
`seesaw-config-server` (honest) and a liar whose answer the test chooses.

Every server of a test listens on the same port (the fetcher has one port)
at its own 127.0.0.x address; names resolve through a dict, so certificates
are checked against real host names.
"""

from __future__ import annotations

import socket
import ssl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from seesaw.configserver import ConfigHTTPServer, ConfigStore, server_context
from seesaw.lab.certs import TestCA

NAMES = {"cfg1.test": "127.0.0.2", "cfg2.test": "127.0.0.3", "cfg3.test": "127.0.0.4"}


def resolver(host: str, port: int) -> list[str]:
    if host not in NAMES:
        raise OSError(-2, "Name or service not known")
    return [NAMES[host]]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.2", 0))
        return int(sock.getsockname()[1])


@dataclass
class Lie:
    """What the lying server answers."""

    status: int = 200
    content_type: str = "application/x-protobuffer"
    body: bytes = b""
    declared_length: int | None = None  # Content-Length sent (None: the body's length)
    send_length: bool = True


class _LiarHandler(BaseHTTPRequestHandler):
    server: _LiarServer
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        lie = self.server.lie
        self.send_response(lie.status)
        self.send_header("Content-Type", lie.content_type)
        if lie.send_length:
            length = lie.declared_length if lie.declared_length is not None else len(lie.body)
            self.send_header("Content-Length", str(length))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(lie.body)
        self.close_connection = True

    def log_message(self, format: str, *args: object) -> None:
        pass


class _LiarServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], lie: Lie, context: ssl.SSLContext) -> None:
        self.lie = lie
        self.context = context
        super().__init__(address, _LiarHandler)

    def get_request(self) -> tuple[socket.socket, tuple[str, int]]:
        sock, address = super().get_request()
        return self.context.wrap_socket(sock, server_side=True), address


class Lab:
    """A CA, a directory of cluster configs, and servers started on demand."""

    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.ca = TestCA()
        self.ca_file = self.ca.write(tmp / "ca.crt")
        self.configs = tmp / "configs"
        self.configs.mkdir()
        self.port = free_port()
        self._servers: list[ThreadingHTTPServer] = []

    def context(self, name: str, ca: TestCA | None = None, dns: str | None = None) -> ssl.SSLContext:
        leaf = (ca or self.ca).write_leaf(self.tmp / f"{name}-{id(ca)}", name, dns=[dns or name])
        return server_context(leaf.cert, leaf.key)

    def _run(self, server: ThreadingHTTPServer) -> None:
        self._servers.append(server)
        threading.Thread(target=server.serve_forever, daemon=True).start()

    def honest(self, name: str, *, ca: TestCA | None = None, dns: str | None = None) -> None:
        self._run(ConfigHTTPServer((NAMES[name], self.port), ConfigStore(self.configs), self.context(name, ca, dns)))

    def liar(self, name: str, lie: Lie) -> None:
        self._run(_LiarServer((NAMES[name], self.port), lie, self.context(name)))

    def close(self) -> None:
        for server in self._servers:
            server.shutdown()
            server.server_close()


@contextmanager
def lab(tmp: Path) -> Iterator[Lab]:
    made = Lab(tmp)
    try:
        yield made
    finally:
        made.close()
