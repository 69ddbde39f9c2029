"""The HTTPS side of the config server: `GET /config/<cluster>`.

The URL layout and content type are what the engine's fetcher (and Seesaw
v2's) expects: `https://<server>:10255/config/<cluster>` answers 200 with
`Content-Type: application/x-protobuffer`, a `Content-Length`, and the
binary `Cluster` message. An unknown cluster is 404, a config that does not
check is 503 (the nodes keep what they run), any other method is 405, any
other path 404; errors are short plain text. The connection is closed
after each answer, as the fetcher asks. One log line per request.
"""

from __future__ import annotations

import logging
import socket
import ssl
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import seesaw
from seesaw.configserver.store import BadConfig, ConfigStore, NotFound

log = logging.getLogger(__name__)

CONTENT_TYPE = "application/x-protobuffer"
PREFIX = "/config/"


class ConfigHandler(BaseHTTPRequestHandler):
    server: ConfigHTTPServer
    server_version = f"seesaw-config-server/{seesaw.__version__}"
    protocol_version = "HTTP/1.1"
    timeout = 10

    def do_GET(self) -> None:
        path = self.path.split("?", 1)[0]
        if not path.startswith(PREFIX) or "/" in path[len(PREFIX) :]:
            self._text(HTTPStatus.NOT_FOUND, f"no such path {path}: ask for {PREFIX}<cluster>")
            return
        cluster = path[len(PREFIX) :]
        try:
            body = self.server.store.get(cluster)
        except NotFound as err:
            self._text(HTTPStatus.NOT_FOUND, str(err))
            return
        except BadConfig as err:
            log.error("%s", err)
            self._text(HTTPStatus.SERVICE_UNAVAILABLE, f"the config of {cluster} does not check; see the server log")
            return
        self.send_response(HTTPStatus.OK)
        self.send_header("Content-Type", CONTENT_TYPE)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body)
        self.close_connection = True

    def _not_allowed(self) -> None:
        self._text(HTTPStatus.METHOD_NOT_ALLOWED, "GET only", {"Allow": "GET"})

    do_POST = do_PUT = do_DELETE = do_PATCH = _not_allowed

    def _text(self, status: HTTPStatus, text: str, headers: dict[str, str] | None = None) -> None:
        body = (text + "\n").encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)
        self.close_connection = True

    def log_message(self, format: str, *args: object) -> None:
        log.info("%s %s", self.address_string(), format % args)


class ConfigHTTPServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], store: ConfigStore, context: ssl.SSLContext) -> None:
        self.address_family = socket.AF_INET6 if ":" in address[0] else socket.AF_INET
        self.store = store
        self.context = context
        super().__init__(address, ConfigHandler)

    def get_request(self) -> tuple[socket.socket, tuple[str, int]]:
        sock, address = super().get_request()
        return self.context.wrap_socket(sock, server_side=True, do_handshake_on_connect=False), address

    def finish_request(self, request: socket.socket | tuple[bytes, socket.socket], client_address: object) -> None:
        try:
            if isinstance(request, ssl.SSLSocket):
                request.settimeout(ConfigHandler.timeout)
                request.do_handshake()
        except (ssl.SSLError, OSError) as err:
            log.warning("%s: TLS handshake failed: %s", client_address, err)
            return
        super().finish_request(request, client_address)  # type: ignore[arg-type]


def server_context(cert: Path, key: Path) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(str(cert), str(key))
    return context
