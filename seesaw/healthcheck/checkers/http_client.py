"""The little HTTP/1.1 client the HTTP checks need, with every read bounded.

It writes one request (`Connection: close`) and reads one response: the
status line and headers (at most MAX_HEADER_BYTES in MAX_HEADERS lines),
then at most `body_limit` bytes of body, de-chunked if need be. It never
follows redirects and never reads further, so a backend that streams
gigabytes or never closes costs one small read.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

LINE_LIMIT = 16 * 1024  # the StreamReader limit to open the connection with
MAX_HEADER_BYTES = 64 * 1024
MAX_HEADERS = 100
USER_AGENT = "seesaw-healthcheck"


class ResponseError(Exception):
    """The backend's answer is not a usable HTTP response; the message says how."""


@dataclass(frozen=True, slots=True)
class Response:
    status: int
    reason: str
    headers: tuple[tuple[str, str], ...]  # names lower-cased, in order
    body: bytes  # the first `body_limit` bytes at most

    def header(self, name: str) -> str | None:
        for key, value in self.headers:
            if key == name:
                return value
        return None


def build_request(method: str, target: str, host: str) -> bytes:
    lines = [
        f"{method} {target} HTTP/1.1",
        f"Host: {host}",
        f"User-Agent: {USER_AGENT}",
        "Accept: */*",
        "Connection: close",
    ]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


async def read_response(reader: asyncio.StreamReader, *, head: bool, body_limit: int) -> Response:
    """Read one final response (interim 1xx ones are skipped)."""
    budget = [MAX_HEADER_BYTES]
    while True:
        status, reason = _parse_status(await _read_line(reader, budget, first=True))
        headers = await _read_headers(reader, budget)
        if not 100 <= status < 200 or status == 101:
            break
    if head or status in (204, 304) or 100 <= status < 200 or body_limit <= 0:
        return Response(status, reason, headers, b"")
    resp = Response(status, reason, headers, b"")
    if "chunked" in (resp.header("transfer-encoding") or "").lower():
        body = await _read_chunked(reader, body_limit)
    else:
        length = resp.header("content-length")
        size = body_limit
        if length is not None:
            try:
                size = min(body_limit, int(length))
            except ValueError:
                raise ResponseError(f"bad Content-Length {length!r}") from None
        body = await _read_upto(reader, size)
    return Response(status, reason, headers, body)


async def _read_line(reader: asyncio.StreamReader, budget: list[int], first: bool = False) -> bytes:
    try:
        line = await reader.readuntil(b"\n")
    except asyncio.IncompleteReadError as err:
        if first and not err.partial:
            raise ResponseError("connection closed without an HTTP response") from None
        raise ResponseError(f"connection closed in the middle of the response headers: {err.partial[:64]!r}") from None
    except asyncio.LimitOverrunError:
        raise ResponseError(f"response header line longer than {LINE_LIMIT} bytes") from None
    budget[0] -= len(line)
    if budget[0] < 0:
        raise ResponseError(f"response headers larger than {MAX_HEADER_BYTES} bytes")
    return line.rstrip(b"\r\n")


def _parse_status(line: bytes) -> tuple[int, str]:
    parts = line.split(None, 2)
    if len(parts) < 2 or not parts[0].startswith(b"HTTP/") or not (parts[1].isdigit() and len(parts[1]) == 3):
        raise ResponseError(f"not an HTTP response: {line[:64]!r}")
    reason = parts[2].decode("latin-1") if len(parts) > 2 else ""
    return int(parts[1]), reason


async def _read_headers(reader: asyncio.StreamReader, budget: list[int]) -> tuple[tuple[str, str], ...]:
    headers: list[tuple[str, str]] = []
    while True:
        line = await _read_line(reader, budget)
        if not line:
            return tuple(headers)
        if len(headers) >= MAX_HEADERS:
            raise ResponseError(f"more than {MAX_HEADERS} response headers")
        name, sep, value = line.partition(b":")
        if not sep:
            raise ResponseError(f"malformed response header {line[:64]!r}")
        headers.append((name.strip().decode("latin-1").lower(), value.strip().decode("latin-1")))


async def _read_upto(reader: asyncio.StreamReader, size: int) -> bytes:
    try:
        return await reader.readexactly(size)
    except asyncio.IncompleteReadError as err:
        return err.partial


async def _read_chunked(reader: asyncio.StreamReader, limit: int) -> bytes:
    body = b""
    budget = [MAX_HEADER_BYTES]
    while len(body) < limit:
        size_line = (await _read_line(reader, budget)).split(b";", 1)[0].strip()
        try:
            size = int(size_line, 16)
        except ValueError:
            raise ResponseError(f"bad chunk size {size_line[:32]!r}") from None
        if size == 0:
            break
        want = min(size, limit - len(body))
        body += await _read_upto(reader, want)
        if want < size:
            break
        await _read_line(reader, budget)  # the CRLF after the chunk
    return body
