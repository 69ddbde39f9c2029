"""Real loopback servers for the healthcheck tests: HTTP(S), TCP echo, UDP echo (IPv4 and IPv6), TLS certificates,
and the engine's half of EngineHealthcheck. Fixtures over these live in conftest.py."""

from __future__ import annotations

import asyncio
import datetime
import ipaddress
import socket
import socketserver
import ssl
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path


def _has_ipv6_loopback() -> bool:
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as s:
            s.bind(("::1", 0))
        return True
    except OSError:
        return False


HAS_IPV6 = _has_ipv6_loopback()
LOOPBACKS = ["127.0.0.1"] + (["::1"] if HAS_IPV6 else [])


def _family(ip: str) -> socket.AddressFamily:
    return socket.AF_INET6 if ":" in ip else socket.AF_INET


def free_port(ip: str, kind: socket.SocketKind = socket.SOCK_STREAM) -> int:
    """A port nothing listens on (bound, then released)."""
    with socket.socket(_family(ip), kind) as s:
        s.bind((ip, 0))
        return s.getsockname()[1]


# -- TLS certificate -----------------------------------------------------------


def make_tls_files(d: Path) -> tuple[Path, Path]:
    """A self-signed certificate for localhost, 127.0.0.1 and ::1 (cert, key)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [
                    x509.DNSName("localhost"),
                    x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
                    x509.IPAddress(ipaddress.ip_address("::1")),
                ]
            ),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = d / "cert.pem", d / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return cert_path, key_path


def server_tls_context(tls_files: tuple[Path, Path]) -> ssl.SSLContext:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(*tls_files)
    return ctx


# -- HTTP ----------------------------------------------------------------------


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    seen: list[tuple[str, str, str]]  # (method, request-target, Host) per request, set per server

    def log_message(self, format, *args):  # quiet
        pass

    def _send(self, code: int, body: bytes, content_type: str = "text/plain", extra: dict | None = None) -> None:
        self.send_response(code)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def do_HEAD(self):
        self.do_GET()

    def do_GET(self):
        self.server.seen.append((self.command, self.path, self.headers.get("Host", "")))
        path = self.path.split("?")[0]
        if "://" in path:  # absolute form (proxy request)
            path = "/" + path.split("://", 1)[1].split("/", 1)[1]
        if path == "/":
            self._send(200, b"<html><body>Test Server</body></html>\n", "text/http")
        elif path == "/healthz":
            self._send(200, b"ok\n")
        elif path == "/host":
            self._send(200, self.headers.get("Host", "").encode())
        elif path == "/redirect":
            self._send(302, b"", extra={"Location": "/healthz"})
        elif path == "/chunked":
            self.send_response(200)
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for piece in (b"o", b"k", b"\n", b"and more"):
                self.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
            self.wfile.write(b"0\r\n\r\n")
        elif path == "/endless":
            self.send_response(200)
            self.end_headers()  # no length: body runs until close
            chunk = b"ok\n" + b"x" * 65533
            try:
                while not self.server.closing:
                    self.wfile.write(chunk)
                    self.server.endless_bytes += len(chunk)
            except OSError:
                pass
        elif path == "/hang":
            while not self.server.closing:
                time.sleep(0.05)
        else:
            self._send(404, b"404 page not found\n")


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, ip: str, tls: ssl.SSLContext | None) -> None:
        self.address_family = _family(ip)
        self.tls = tls
        self.seen = []
        self.closing = False
        self.endless_bytes = 0
        super().__init__((ip, 0), _Handler)

    def get_request(self):
        conn, addr = super().get_request()
        if self.tls is not None:
            conn = self.tls.wrap_socket(conn, server_side=True, do_handshake_on_connect=False)
        return conn, addr

    def handle_error(self, request, client_address):  # handshake failures are expected in tests
        pass


class HTTPServerHandle:
    def __init__(self, ip: str, tls: ssl.SSLContext | None = None) -> None:
        self.ip = ip
        self.server = _HTTPServer(ip, tls)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    @property
    def seen(self) -> list[tuple[str, str, str]]:
        return self.server.seen

    @property
    def endless_bytes(self) -> int:
        return self.server.endless_bytes

    def close(self) -> None:
        self.server.closing = True
        self.server.shutdown()
        self.server.server_close()


# -- TCP / UDP echo --------------------------------------------------------------


class _TCPEcho(socketserver.BaseRequestHandler):
    def handle(self):
        delay = self.server.delay
        while True:
            try:
                data = self.request.recv(64)
            except OSError:
                return
            if not data:
                return
            if delay:
                time.sleep(delay)
            self.request.sendall(data)


class TCPEchoServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, ip: str, delay: float = 0.0, tls: ssl.SSLContext | None = None) -> None:
        self.address_family = _family(ip)
        self.delay = delay
        self.tls = tls
        super().__init__((ip, 0), _TCPEcho)
        self.port = self.server_address[1]
        self.thread = threading.Thread(target=self.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    def get_request(self):
        conn, addr = super().get_request()
        if self.tls is not None:
            conn = self.tls.wrap_socket(conn, server_side=True, do_handshake_on_connect=False)
        return conn, addr

    def handle_error(self, request, client_address):
        pass

    def close(self) -> None:
        self.shutdown()
        self.server_close()


class UDPEchoServer:
    def __init__(self, ip: str) -> None:
        self.sock = socket.socket(_family(ip), socket.SOCK_DGRAM)
        self.sock.bind((ip, 0))
        self.sock.settimeout(0.05)
        self.port = self.sock.getsockname()[1]
        self.closing = False
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while not self.closing:
            try:
                data, addr = self.sock.recvfrom(64)  # a 64-byte buffer, as Seesaw's test server
            except TimeoutError:
                continue
            self.sock.sendto(data, addr)

    def close(self) -> None:
        self.closing = True
        self.thread.join()
        self.sock.close()


# -- the engine's side of EngineHealthcheck ------------------------------------------


class ContractEngine:
    """The engine's half of the EngineHealthcheck contract, nothing more, on <run-dir>/engine/engine.sock.

    The real engine is another package; this serves the same RPCs so the
    healthcheck side can be exercised over a real socket: WatchChecks sends
    `full_set` then whatever is put on `deltas`; ReportResults keeps every batch.
    """

    def __init__(self, run_dir, full_set):
        import grpc

        from seesaw.common import paths, rpc
        from seesaw.pb import engine_pb2_grpc

        self.path = paths.socket_path(run_dir, "engine")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.full_set = full_set
        self.deltas: asyncio.Queue = asyncio.Queue()
        self.batches: list = []
        self.watchers = 0
        self._grpc = grpc
        self._server = grpc.aio.server(options=rpc.CHANNEL_OPTIONS)
        engine_pb2_grpc.add_EngineHealthcheckServicer_to_server(self, self._server)
        self._server.add_insecure_port(f"unix:{self.path}")

    async def start(self):
        await self._server.start()

    async def stop(self):
        await self._server.stop(0)

    async def WatchChecks(self, request, context):
        self.watchers += 1
        yield self.full_set
        while True:
            yield await self.deltas.get()

    async def ReportResults(self, request_iterator, context):
        from seesaw.pb import healthcheck_pb2

        count = 0
        async for batch in request_iterator:
            self.batches.append(batch)
            count += len(batch.results)
        return healthcheck_pb2.ReportAck(accepted=count)

    def latest(self):
        """Each check's latest reported state, by id (a full resync replaces everything)."""
        states = {}
        for batch in self.batches:
            if batch.full_resync:
                states = {}
            for r in batch.results:
                states[r.id] = r.state
        return states


async def wait_for(predicate, timeout=5.0, interval=0.02):
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        if loop.time() > deadline:
            raise AssertionError(f"condition not met within {timeout} s")
        await asyncio.sleep(interval)
