"""The CLI's own unary gRPC calls (seesaw.cli.h2): against a real gRPC server, and against a peer scripted
frame by frame for what a gRPC server does not easily do (padding, CONTINUATION, RST_STREAM, GOAWAY)."""

from __future__ import annotations

import signal
import socket
import struct
import threading
import time
from collections.abc import Callable, Iterator
from concurrent import futures
from pathlib import Path
from typing import Any

import grpc
import pytest

from seesaw.cli import h2, hpack
from seesaw.cli.client import EngineClient
from seesaw.cli.errors import CliError, RpcFailure

MESSAGE = "nö: 100% sure\nsecond line"  # non-ASCII, a '%' and a newline: percent-encoded on the wire


class EchoService(grpc.GenericRpcHandler):
    """Raw bytes in and out (no (de)serializers): Echo, Big (N bytes back), Fail, Slow, Deadline."""

    def __init__(self) -> None:
        self.seen_timeouts: list[float] = []

    def service(self, details: grpc.HandlerCallDetails) -> grpc.RpcMethodHandler | None:
        behaviours: dict[str, Callable[[bytes, grpc.ServicerContext], bytes]] = {
            "/test.Echo/Echo": lambda request, context: request,
            "/test.Echo/Big": lambda request, context: bytes(range(256)) * (int(request) // 256),
            "/test.Echo/Fail": self._fail,
            "/test.Echo/Slow": self._slow,
            "/test.Echo/Deadline": self._deadline,
        }
        behaviour = behaviours.get(details.method)  # type: ignore[attr-defined]
        return grpc.unary_unary_rpc_method_handler(behaviour) if behaviour else None

    @staticmethod
    def _fail(request: bytes, context: grpc.ServicerContext) -> bytes:
        context.abort(grpc.StatusCode.FAILED_PRECONDITION, MESSAGE)
        raise AssertionError("abort returns not")

    @staticmethod
    def _slow(request: bytes, context: grpc.ServicerContext) -> bytes:
        time.sleep(3.0)  # far beyond the deadlines the tests give it, even on a loaded machine
        return request

    def _deadline(self, request: bytes, context: grpc.ServicerContext) -> bytes:
        self.seen_timeouts.append(context.time_remaining() or 0.0)
        return b""


@pytest.fixture
def echo(tmp_path: Path) -> Iterator[tuple[Path, EchoService, grpc.Server]]:
    path = tmp_path / "echo.sock"
    service = EchoService()
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
    server.add_generic_rpc_handlers([service])
    server.add_insecure_port(f"unix:{path}")
    server.start()
    yield path, service, server
    server.stop(None)


def channel(path: Path) -> h2.UnaryChannel:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.connect(str(path))
    return h2.UnaryChannel(sock)


def test_many_calls_on_one_connection(echo: tuple[Path, EchoService, grpc.Server]) -> None:
    conn = channel(echo[0])
    for n in range(40):
        assert conn.call("/test.Echo/Echo", b"x" * n, timeout=5) == b"x" * n
    assert conn.usable()
    conn.close()
    assert not conn.usable()


def test_replies_beyond_every_default_window_and_frame_size(echo: tuple[Path, EchoService, grpc.Server]) -> None:
    conn = channel(echo[0])
    size = 3 * 1024 * 1024
    assert conn.call("/test.Echo/Big", str(size).encode(), timeout=10) == bytes(range(256)) * (size // 256)
    assert conn.call("/test.Echo/Big", b"1024", timeout=10) == bytes(range(256)) * 4  # and the next call too


def test_a_request_larger_than_the_servers_window_waits_for_it(echo: tuple[Path, EchoService, grpc.Server]) -> None:
    request = bytes(range(256)) * 4096  # 1 MiB: 16 times gRPC's initial 64 KiB window
    assert channel(echo[0]).call("/test.Echo/Echo", request, timeout=10) == request


def test_the_servers_status_and_message(echo: tuple[Path, EchoService, grpc.Server]) -> None:
    conn = channel(echo[0])
    with pytest.raises(RpcFailure) as failed:
        conn.call("/test.Echo/Fail", b"", timeout=5)
    assert (failed.value.code, failed.value.details, failed.value.transport) == ("FAILED_PRECONDITION", MESSAGE, False)
    with pytest.raises(RpcFailure) as failed:
        conn.call("/test.Echo/Nothing", b"", timeout=5)
    assert (failed.value.code, failed.value.transport) == ("UNIMPLEMENTED", False)
    assert conn.call("/test.Echo/Echo", b"still fine", timeout=5) == b"still fine"


def test_the_deadline_goes_to_the_server_and_is_kept(echo: tuple[Path, EchoService, grpc.Server]) -> None:
    path, service, _ = echo
    conn = channel(path)
    conn.call("/test.Echo/Deadline", b"", timeout=7)
    assert 5 < service.seen_timeouts[0] <= 7
    started = time.monotonic()
    with pytest.raises(RpcFailure) as failed:
        conn.call("/test.Echo/Slow", b"", timeout=0.2)
    assert failed.value.code == "DEADLINE_EXCEEDED"
    assert time.monotonic() - started < 2.0  # well before the server answers (3 s)
    # Two ways to get here, both right: the client's own deadline fired first and left the reply half read (the
    # connection is not used again), or the server's DEADLINE_EXCEEDED status arrived whole (it stays usable).
    if conn.usable():
        assert conn.call("/test.Echo/Echo", b"still fine", timeout=5) == b"still fine"


def test_a_server_that_went_away(echo: tuple[Path, EchoService, grpc.Server]) -> None:
    path, _, server = echo
    conn = channel(path)
    assert conn.call("/test.Echo/Echo", b"a", timeout=5) == b"a"
    server.stop(None).wait()
    deadline = time.monotonic() + 5
    while conn.usable() and time.monotonic() < deadline:
        time.sleep(0.02)
    assert not conn.usable()
    with pytest.raises(RpcFailure) as failed:
        conn.call("/test.Echo/Echo", b"a", timeout=5)
    assert (failed.value.code, failed.value.transport) == ("UNAVAILABLE", True)


# -- a peer scripted frame by frame ------------------------------------------------------------------------------


def frame(kind: int, flags: int, stream: int, payload: bytes = b"") -> bytes:
    return h2.frame(kind, flags, stream, payload)


def grpc_body(message: bytes) -> bytes:
    return b"\x00" + struct.pack(">I", len(message)) + message


RESPONSE_HEADERS = hpack.encode([(":status", "200"), ("content-type", "application/grpc")])
OK_TRAILERS = hpack.encode([("grpc-status", "0")])


class ScriptedPeer:
    """Accepts one connection, reads the client's request, answers with `script`, and records what it read."""

    def __init__(self, path: Path, script: Callable[[int], bytes], hang_up: bool = False) -> None:
        self.hang_up = hang_up  # close the connection once the answer is sent
        self.listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.listener.bind(str(path))
        self.listener.listen(1)
        self.script = script
        self.frames: list[tuple[int, int, int, bytes]] = []
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        conn, _ = self.listener.accept()
        with conn:
            reader = conn.makefile("rb")
            assert reader.read(len(h2.PREFACE)) == h2.PREFACE
            answered = False
            while True:
                header = reader.read(9)
                if len(header) < 9:
                    return
                word, flags, stream = h2.FRAME_HEADER.unpack(header)
                payload = reader.read(word >> 8)
                self.frames.append((word & 0xFF, flags, stream, payload))
                if word & 0xFF == h2.DATA and flags & h2.END_STREAM and not answered:
                    conn.sendall(self.script(stream))
                    answered = True
                    if self.hang_up:
                        return

    def close(self) -> None:
        self.listener.close()
        self.thread.join(5)


@pytest.fixture
def scripted(tmp_path: Path) -> Iterator[Callable[..., tuple[h2.UnaryChannel, ScriptedPeer]]]:
    started: list[tuple[h2.UnaryChannel, ScriptedPeer]] = []

    def start(script: Callable[[int], bytes], hang_up: bool = False) -> tuple[h2.UnaryChannel, ScriptedPeer]:
        path = tmp_path / f"peer{len(started)}.sock"
        peer = ScriptedPeer(path, script, hang_up)
        started.append((channel(path), peer))
        return started[-1]

    yield start
    for conn, peer in started:
        conn.close()
        peer.close()


def test_padding_continuation_ping_and_unknown_frames(scripted: Any) -> None:
    def script(stream: int) -> bytes:
        half = len(RESPONSE_HEADERS) // 2
        padded_data = bytes([3]) + grpc_body(b"hello") + b"\0\0\0"
        return b"".join(
            [
                frame(h2.SETTINGS, 0, 0, struct.pack(">HI", h2.MAX_FRAME_SIZE, 32768)),
                frame(h2.PING, 0, 0, b"12345678"),
                frame(0x42, 0, 0, b"an extension frame"),
                frame(h2.HEADERS, 0, stream, RESPONSE_HEADERS[:half]),
                frame(h2.CONTINUATION, h2.END_HEADERS, stream, RESPONSE_HEADERS[half:]),
                frame(h2.DATA, h2.PADDED, stream, padded_data),
                frame(h2.HEADERS, h2.END_STREAM | h2.END_HEADERS | h2.PADDED, stream, b"\x02" + OK_TRAILERS + b"\0\0"),
            ]
        )

    conn, peer = scripted(script)
    assert conn.call("/test.Echo/Echo", b"hi", timeout=5) == b"hello"
    assert conn.usable()
    conn.close()
    peer.thread.join(5)
    acks = {(kind, flags, payload) for kind, flags, _, payload in peer.frames if flags & h2.ACK and kind != h2.DATA}
    assert (h2.PING, h2.ACK, b"12345678") in acks and (h2.SETTINGS, h2.ACK, b"") in acks
    headers = next(payload for kind, _, _, payload in peer.frames if kind == h2.HEADERS)
    sent = dict(hpack.Decoder().decode(headers))
    assert sent[":path"] == "/test.Echo/Echo" and sent["te"] == "trailers" and sent["grpc-timeout"] == "5000m"


def test_trailers_only_failure(scripted: Any) -> None:
    block = hpack.encode(
        [(":status", "200"), ("grpc-status", "7"), ("grpc-message", "uid 1000 may not: 50%25 of %E2%9C%93")]
    )
    conn, _ = scripted(lambda stream: frame(h2.HEADERS, h2.END_STREAM | h2.END_HEADERS, stream, block))
    with pytest.raises(RpcFailure) as failed:
        conn.call("/x/Y", b"", timeout=5)
    assert (failed.value.code, failed.value.details) == ("PERMISSION_DENIED", "uid 1000 may not: 50% of ✓")


@pytest.mark.parametrize(
    ("answer", "code", "transport"),
    [
        (lambda s: frame(h2.RST_STREAM, 0, s, struct.pack(">I", h2.CANCEL)), "CANCELLED", False),
        (lambda s: frame(h2.RST_STREAM, 0, s, struct.pack(">I", 2)), "INTERNAL", False),
        (lambda s: frame(h2.GOAWAY, 0, 0, struct.pack(">II", 0, 0)), "UNAVAILABLE", True),
        (lambda s: frame(h2.HEADERS, 5, s, hpack.encode([(":status", "503")])), "UNAVAILABLE", False),
        (lambda s: frame(h2.HEADERS, 5, s, hpack.encode([(":status", "404")])), "UNIMPLEMENTED", False),
        (lambda s: frame(h2.HEADERS, 4, s, RESPONSE_HEADERS) + frame(h2.DATA, 1, s, b"\0\0"), "INTERNAL", False),
        (lambda s: frame(h2.HEADERS, 4, s, b"\xff\xff\xff\xff\xff\xff"), "INTERNAL", True),
        (lambda s: b"", "DEADLINE_EXCEEDED", False),
    ],
)
def test_calls_that_go_wrong(answer: Callable[[int], bytes], code: str, transport: bool, scripted: Any) -> None:
    conn, _ = scripted(answer)
    with pytest.raises(RpcFailure) as failed:
        conn.call("/x/Y", b"", timeout=0.5)
    assert (failed.value.code, failed.value.transport) == (code, transport)


def test_not_http2_at_all(scripted: Any) -> None:
    conn, _ = scripted(lambda s: b"HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n", hang_up=True)
    with pytest.raises(RpcFailure) as failed:
        conn.call("/x/Y", b"", timeout=5)
    assert (failed.value.code, failed.value.details, failed.value.transport) == ("UNAVAILABLE", "Socket closed", True)


class Interrupted(BaseException):
    """Stands for the KeyboardInterrupt of a Ctrl-C (which pytest would take as its own)."""


def test_an_interrupted_call_leaves_no_half_used_connection(echo: tuple[Path, EchoService, grpc.Server]) -> None:
    conn = channel(echo[0])
    assert conn.call("/test.Echo/Echo", b"a", timeout=5) == b"a"

    def interrupt(signum: int, frame: object) -> None:
        raise Interrupted

    previous = signal.signal(signal.SIGALRM, interrupt)
    signal.setitimer(signal.ITIMER_REAL, 0.2)
    try:
        with pytest.raises(Interrupted):
            conn.call("/test.Echo/Slow", b"", timeout=5)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    assert not conn.usable()


class Garbage(grpc.GenericRpcHandler):
    """Answers every method with bytes that are no protobuf message."""

    def service(self, details: grpc.HandlerCallDetails) -> grpc.RpcMethodHandler:
        return grpc.unary_unary_rpc_method_handler(lambda request, context: b"\xff\xff\xff")


def test_a_reply_that_does_not_decode_is_one_line(tmp_path: Path) -> None:
    path = tmp_path / "engine.sock"
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
    server.add_generic_rpc_handlers([Garbage()])
    server.add_insecure_port(f"unix:{path}")
    server.start()
    try:
        with EngineClient(path) as client, pytest.raises(CliError) as failed:
            client.ha_status()
    finally:
        server.stop(None)
    assert str(failed.value).startswith("the reply is not a HAStatus: ")
