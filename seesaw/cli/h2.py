"""Unary gRPC calls over HTTP/2 on a connected stream socket, without grpcio.

`seesaw -c ...` makes one call to the engine on its Unix socket. Loading
grpcio for it (its C core, its asyncio layer) and setting up a channel took
as long as everything else the CLI does together, so the CLI speaks the few
parts of gRPC over HTTP/2 (gRPC's PROTOCOL-HTTP2.md, RFC 9113) that a unary
call needs, blocking, one call at a time:

* the client preface and SETTINGS (no push, the largest windows and frames,
  so that a reply of any size arrives without waiting for WINDOW_UPDATEs);
* per call a new stream: HEADERS (HPACK, `seesaw.cli.hpack`) and the request
  as one length-prefixed message in DATA, within the server's flow-control
  windows; then the reply's HEADERS, DATA and trailers (grpc-status,
  percent-encoded grpc-message), or a trailers-only reply, or RST_STREAM;
* SETTINGS, PING, WINDOW_UPDATE and GOAWAY from the server at any time.

A call fails with `RpcFailure`: the server's status and message, or, with
`transport` set, what broke on the way (the connection, the deadline, the
protocol). A connection that broke is not used again (`usable`).
"""

from __future__ import annotations

import select
import socket
import struct
import time
from collections.abc import Sequence

from seesaw.cli import hpack
from seesaw.cli.errors import RpcFailure

PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"

# Frame types and flags (RFC 9113 §6).
DATA, HEADERS, PRIORITY, RST_STREAM, SETTINGS, PUSH_PROMISE, PING, GOAWAY, WINDOW_UPDATE, CONTINUATION = range(10)
END_STREAM = 0x1
ACK = 0x1
END_HEADERS = 0x4
PADDED = 0x8
PRIORITY_FLAG = 0x20

# Settings (§6.5.2).
HEADER_TABLE_SIZE, ENABLE_PUSH, MAX_CONCURRENT_STREAMS, INITIAL_WINDOW_SIZE, MAX_FRAME_SIZE = 1, 2, 3, 4, 5

DEFAULT_WINDOW = 65_535
DEFAULT_MAX_FRAME = 16_384
MAX_WINDOW = 2**31 - 1
MAX_FRAME = 2**24 - 1  # the largest frame we accept (and ask for)
IDLE_READ_GRACE = 0.5  # how long `usable` waits for the rest of a header block it found begun
FRAME_HEADER = struct.Struct(">I B I")  # 24-bit length (in the top of the first word), type, flags, stream

# gRPC status codes by number, as grpc.StatusCode names them.
STATUS_NAMES = (
    "OK",
    "CANCELLED",
    "UNKNOWN",
    "INVALID_ARGUMENT",
    "DEADLINE_EXCEEDED",
    "NOT_FOUND",
    "ALREADY_EXISTS",
    "PERMISSION_DENIED",
    "RESOURCE_EXHAUSTED",
    "FAILED_PRECONDITION",
    "ABORTED",
    "OUT_OF_RANGE",
    "UNIMPLEMENTED",
    "INTERNAL",
    "UNAVAILABLE",
    "DATA_LOSS",
    "UNAUTHENTICATED",
)

# A reply whose HTTP status is not 200: the gRPC status it stands for (gRPC's http-grpc-status-mapping.md).
HTTP_STATUS = {
    "400": "INTERNAL",
    "401": "UNAUTHENTICATED",
    "403": "PERMISSION_DENIED",
    "404": "UNIMPLEMENTED",
    "429": "UNAVAILABLE",
    "502": "UNAVAILABLE",
    "503": "UNAVAILABLE",
    "504": "UNAVAILABLE",
}

# RST_STREAM and GOAWAY error codes (§7), for messages.
H2_ERRORS = (
    "NO_ERROR",
    "PROTOCOL_ERROR",
    "INTERNAL_ERROR",
    "FLOW_CONTROL_ERROR",
    "SETTINGS_TIMEOUT",
    "STREAM_CLOSED",
    "FRAME_SIZE_ERROR",
    "REFUSED_STREAM",
    "CANCEL",
    "COMPRESSION_ERROR",
    "CONNECT_ERROR",
    "ENHANCE_YOUR_CALM",
    "INADEQUATE_SECURITY",
    "HTTP_1_1_REQUIRED",
)
REFUSED_STREAM, CANCEL = 7, 8


def frame(kind: int, flags: int, stream: int, payload: bytes = b"") -> bytes:
    return FRAME_HEADER.pack(len(payload) << 8 | kind, flags, stream) + payload


def _settings(values: dict[int, int]) -> bytes:
    return frame(SETTINGS, 0, 0, b"".join(struct.pack(">HI", key, value) for key, value in values.items()))


def _window_update(stream: int, increment: int) -> bytes:
    return frame(WINDOW_UPDATE, 0, stream, struct.pack(">I", increment))


def grpc_timeout(seconds: float) -> str:
    """The grpc-timeout header: at most 8 digits and a unit."""
    millis = max(1, round(seconds * 1000))
    return f"{millis}m" if millis < 100_000_000 else f"{min(round(seconds), 99_999_999)}S"


def percent_decode(text: str) -> str:
    """grpc-message's encoding: UTF-8, with %XX for bytes outside printable ASCII (and for '%')."""
    if "%" not in text:
        return text
    raw = text.encode("utf-8", "surrogateescape")
    out = bytearray()
    i = 0
    while i < len(raw):
        hex_digits = raw[i + 1 : i + 3]
        if raw[i] == 0x25 and len(hex_digits) == 2 and all(c in b"0123456789abcdefABCDEF" for c in hex_digits):
            out.append(int(hex_digits, 16))
            i += 3
        else:
            out.append(raw[i])
            i += 1
    return out.decode("utf-8", "replace")


def _error_name(code: int) -> str:
    return H2_ERRORS[code] if code < len(H2_ERRORS) else f"error {code:#x}"


class _ProtocolError(Exception):
    """The server broke HTTP/2 or gRPC framing: the connection cannot be used any more."""


class _Stream:
    __slots__ = ("data", "ended", "headers", "id", "refused", "reset", "send_window", "trailers")

    def __init__(self, stream_id: int, send_window: int) -> None:
        self.id = stream_id
        self.send_window = send_window
        self.headers: hpack.HeaderList | None = None
        self.trailers: hpack.HeaderList | None = None
        self.data = bytearray()
        self.reset: int | None = None
        self.refused = False  # a GOAWAY said the server will not process it
        self.ended = False


class UnaryChannel:
    """One HTTP/2 connection on `sock`, carrying unary gRPC calls one after the other."""

    def __init__(self, sock: socket.socket, authority: str = "localhost", user_agent: str = "seesaw-cli") -> None:
        self._sock = sock
        self.authority = authority
        self.user_agent = user_agent
        self._in = bytearray()  # received, not parsed yet
        self._out = bytearray(
            PREFACE + _settings({ENABLE_PUSH: 0, INITIAL_WINDOW_SIZE: MAX_WINDOW, MAX_FRAME_SIZE: MAX_FRAME})
        )
        self._out += _window_update(0, MAX_WINDOW - DEFAULT_WINDOW)
        self._decoder = hpack.Decoder()
        self._next_stream = 1
        self._send_window = DEFAULT_WINDOW  # the server's connection-level window for what we send
        self._initial_window = DEFAULT_WINDOW  # the server's window for each new stream
        self._max_frame = DEFAULT_MAX_FRAME  # the largest frame the server takes
        self._received = 0  # DATA received since we last gave the connection window back
        self._broken = ""  # why this connection cannot be used any more
        self._last_stream: int | None = None  # from a GOAWAY: streams above it are not processed
        self._deadline = 0.0  # when what is being sent or awaited must be done (time.monotonic)

    # -- public ---------------------------------------------------------------------------------------------------

    def call(self, path: str, request: bytes, timeout: float, metadata: Sequence[tuple[str, str]] = ()) -> bytes:
        """Call `path` (/package.Service/Method) with a serialised request; the serialised reply, or RpcFailure."""
        if not self.usable():
            raise RpcFailure("UNAVAILABLE", self._broken or "the server is closing the connection", transport=True)
        stream = _Stream(self._next_stream, self._initial_window)
        self._next_stream += 2
        self._deadline = time.monotonic() + timeout
        try:
            self._send_request(stream, path, request, timeout, list(metadata))
            while not stream.ended:
                self._read_frame(stream)
        except TimeoutError:
            self._break("deadline passed")
            raise RpcFailure("DEADLINE_EXCEEDED", "Deadline Exceeded") from None
        except (_ProtocolError, hpack.HPACKError) as err:
            self._break(f"protocol error: {err}")
            raise RpcFailure("INTERNAL", f"HTTP/2 protocol error from the server: {err}", transport=True) from None
        except OSError as err:
            self._break(err.strerror or str(err))
            raise RpcFailure("UNAVAILABLE", err.strerror or str(err), transport=True) from None
        except BaseException:  # Ctrl-C in the shell: the call may be half sent or half read
            self._break("interrupted")
            raise
        return self._reply(stream)

    def usable(self) -> bool:
        """Whether a call can start here: not broken, not closed by the server (frames already sent are read)."""
        if self._broken or self._last_stream is not None:
            return False
        try:
            waiting = select.poll()
            waiting.register(self._sock, select.POLLIN)
            while waiting.poll(0):
                self._deadline = time.monotonic() + IDLE_READ_GRACE
                if not self._receive():  # readable: does not block
                    self._break("Socket closed")
                    return False
                while self._complete_frame():
                    self._read_frame(None)
        except (OSError, TimeoutError, _ProtocolError, hpack.HPACKError) as err:
            self._break(str(err) or "Socket closed")
            return False
        return not self._broken and self._last_stream is None

    def close(self) -> None:
        self._break("closed")

    # -- sending --------------------------------------------------------------------------------------------------

    def _send_request(
        self, stream: _Stream, path: str, request: bytes, timeout: float, metadata: hpack.HeaderList
    ) -> None:
        headers = [
            (":method", "POST"),
            (":scheme", "http"),
            (":path", path),
            (":authority", self.authority),
            ("te", "trailers"),
            ("content-type", "application/grpc"),
            ("grpc-accept-encoding", "identity"),
            ("user-agent", self.user_agent),
            ("grpc-timeout", grpc_timeout(timeout)),
            *metadata,
        ]
        block = hpack.encode(headers)
        if len(block) > self._max_frame:
            raise _ProtocolError("request headers larger than the server's frame size")
        if self._received:  # give back what the last replies took from the connection window
            self._out += _window_update(0, self._received)
            self._received = 0
        self._out += frame(HEADERS, END_HEADERS, stream.id, block)
        body = b"\x00" + struct.pack(">I", len(request)) + request
        sent = 0
        while sent < len(body) and not stream.ended:
            size = min(len(body) - sent, stream.send_window, self._send_window, self._max_frame)
            if size <= 0:  # wait for the server to open its window
                self._flush()
                self._read_frame(stream)
                continue
            last = sent + size == len(body)
            self._out += frame(DATA, END_STREAM if last else 0, stream.id, body[sent : sent + size])
            sent += size
            stream.send_window -= size
            self._send_window -= size
        self._flush()

    def _flush(self) -> None:
        if self._out:
            self._sock.settimeout(self._remaining())
            self._sock.sendall(self._out)
            self._out.clear()

    def _remaining(self) -> float:
        """Seconds left until the deadline; TimeoutError once it has passed."""
        remaining = self._deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError
        return remaining

    # -- receiving ------------------------------------------------------------------------------------------------

    def _receive(self) -> bool:
        """Read what the socket has (waiting until the deadline); False at end of file."""
        self._sock.settimeout(self._remaining())
        chunk = self._sock.recv(1 << 20)
        if not chunk:
            return False
        self._in += chunk
        return True

    def _complete_frame(self) -> bool:
        if len(self._in) < 9:
            return False
        return len(self._in) >= 9 + (int.from_bytes(self._in[:3], "big"))

    def _next_frame(self) -> tuple[int, int, int, bytes]:
        while not self._complete_frame():
            if not self._receive():
                raise ConnectionResetError(0, "Socket closed")
        word, flags, stream_id = FRAME_HEADER.unpack_from(self._in)
        length, kind = word >> 8, word & 0xFF
        if length > MAX_FRAME:
            raise _ProtocolError(f"frame of {length} bytes")
        payload = bytes(self._in[9 : 9 + length])
        del self._in[: 9 + length]
        return kind, flags, stream_id & 0x7FFFFFFF, payload

    def _read_frame(self, stream: _Stream | None) -> None:
        """Read and act on one frame (a HEADERS frame with its CONTINUATIONs) of `stream` or the connection."""
        kind, flags, stream_id, payload = self._next_frame()
        ours = stream is not None and stream_id == stream.id
        if kind == DATA:
            self._received += len(payload)
            if ours:
                assert stream is not None
                stream.data += _unpad(flags, payload)
                stream.ended = bool(flags & END_STREAM)
        elif kind == HEADERS:
            block = _unpad(flags, payload)
            if flags & PRIORITY_FLAG:
                block = block[5:]
            while not flags & END_HEADERS:
                kind, flags, more_id, more = self._next_frame()
                if kind != CONTINUATION or more_id != stream_id:
                    raise _ProtocolError("a header block was interrupted")
                block += more
            headers = self._decoder.decode(block)  # always: the dynamic table must follow every block
            if ours:
                assert stream is not None
                if stream.headers is None:
                    stream.headers = headers
                else:
                    stream.trailers = headers
                stream.ended = bool(flags & END_STREAM)
        elif kind == RST_STREAM:
            if ours and len(payload) == 4:
                assert stream is not None
                stream.reset = int.from_bytes(payload, "big")
                stream.ended = True
        elif kind == SETTINGS:
            if not flags & ACK:
                self._apply_settings(payload, stream)
                self._out += frame(SETTINGS, ACK, 0)
                self._flush()
        elif kind == PING:
            if not flags & ACK:
                self._out += frame(PING, ACK, 0, payload)
                self._flush()
        elif kind == GOAWAY:
            if len(payload) < 8:
                raise _ProtocolError("short GOAWAY")
            self._last_stream = int.from_bytes(payload[:4], "big") & 0x7FFFFFFF
            if stream is not None and stream.id > self._last_stream:
                stream.refused = True
                stream.ended = True
        elif kind == WINDOW_UPDATE:
            increment = int.from_bytes(payload[:4], "big") & 0x7FFFFFFF
            if stream_id == 0:
                self._send_window += increment
            elif ours:
                assert stream is not None
                stream.send_window += increment
        elif kind == PUSH_PROMISE:
            raise _ProtocolError("PUSH_PROMISE although push is disabled")
        # PRIORITY and unknown frame types are ignored, as §5.5 says.

    def _apply_settings(self, payload: bytes, stream: _Stream | None) -> None:
        if len(payload) % 6:
            raise _ProtocolError("SETTINGS frame of a wrong length")
        for offset in range(0, len(payload), 6):
            key, value = struct.unpack_from(">HI", payload, offset)
            if key == INITIAL_WINDOW_SIZE:
                if stream is not None:
                    stream.send_window += value - self._initial_window
                self._initial_window = value
            elif key == MAX_FRAME_SIZE:
                self._max_frame = value

    def _break(self, why: str) -> None:
        if not self._broken:
            self._broken = why
            self._sock.close()

    # -- the reply ------------------------------------------------------------------------------------------------

    def _reply(self, stream: _Stream) -> bytes:
        if stream.refused:
            raise RpcFailure("UNAVAILABLE", "the server is closing the connection (GOAWAY)", transport=True)
        headers = dict(stream.headers or ())
        trailers = dict(stream.trailers or ()) if stream.trailers is not None else headers
        if stream.reset is not None and "grpc-status" not in trailers:
            code = (
                "CANCELLED"
                if stream.reset == CANCEL
                else "UNAVAILABLE"
                if stream.reset == REFUSED_STREAM
                else "INTERNAL"
            )
            raise RpcFailure(code, f"the server reset the call ({_error_name(stream.reset)})")
        http_status = headers.get(":status", "")
        if http_status != "200":
            raise RpcFailure(HTTP_STATUS.get(http_status, "UNKNOWN"), f"HTTP status {http_status or 'missing'}")
        if "grpc-status" not in trailers:
            raise RpcFailure("INTERNAL", "the reply ended without a gRPC status")
        status = trailers["grpc-status"]
        code = STATUS_NAMES[int(status)] if status.isdigit() and int(status) < len(STATUS_NAMES) else "UNKNOWN"
        if code != "OK":
            raise RpcFailure(code, percent_decode(trailers.get("grpc-message", "")))
        data = stream.data
        if len(data) < 5:
            raise RpcFailure("INTERNAL", "the reply carries no message")
        compressed, length = data[0], int.from_bytes(data[1:5], "big")
        if compressed:
            raise RpcFailure("INTERNAL", "the reply is compressed, which was not asked for")
        if len(data) != 5 + length:
            raise RpcFailure("INTERNAL", "the reply is not one whole message")
        return bytes(data[5:])


def _unpad(flags: int, payload: bytes) -> bytes:
    if not flags & PADDED:
        return payload
    if not payload or payload[0] >= len(payload):
        raise _ProtocolError("bad padding")
    return payload[1 : len(payload) - payload[0]]
