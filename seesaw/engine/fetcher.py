"""Fetching the cluster config from config servers, as Seesaw v2's fetcher does.

For each server of [config_server] (primary, secondary, tertiary, in that
order): resolve its name, IPv6 addresses first and each family shuffled;
for each address, connect to the config server port (10255) within the
timeout, speak TLS verified against the CA file (and the server's name),
and `GET https://<server>:<port>/config/<cluster>` with `Connection:
close`. The answer must be HTTP 200 with `Content-Type:
application/x-protobuffer`, a body whose length is known (Content-Length or
chunked, so a truncated body is detected) and that `parse` accepts (a
binary `Cluster` that validates, and not older than the running one). The
first answer that passes wins; every one that does not is a `FetchFailure`
naming the URL, the address and the reason, and if none passes
`FetchError` carries them all. Redirects are not followed.

The calls block: the engine runs `fetch` in a worker thread.
"""

from __future__ import annotations

import http.client
import logging
import random
import socket
import ssl
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Generic, TypeVar

import seesaw

log = logging.getLogger(__name__)

CONTENT_TYPE = "application/x-protobuffer"
DEFAULT_PORT = 10255
DEFAULT_TIMEOUT = 20.0
MAX_BODY = 64 * 1024 * 1024  # a 10,000-vserver cluster is a few MB

T = TypeVar("T")

Resolver = Callable[[str, int], list[str]]


class Rejected(Exception):
    """What `parse` raises for a body it will not take; the text is the reason."""


@dataclass(frozen=True)
class FetchFailure:
    url: str
    address: str  # the IP tried, or "" when the name did not resolve
    reason: str

    def __str__(self) -> str:
        where = f" ({self.address})" if self.address else ""
        return f"config server {self.url}{where}: {self.reason}"


@dataclass(frozen=True)
class Fetched(Generic[T]):
    value: T
    url: str
    address: str
    failures: tuple[FetchFailure, ...] = field(default=())  # the attempts before this one

    @property
    def origin(self) -> str:
        return f"{self.url} ({self.address})"


class FetchError(Exception):
    """No config server gave a usable config; `failures` says, per attempt, why."""

    def __init__(self, failures: Sequence[FetchFailure]) -> None:
        self.failures = tuple(failures)
        super().__init__("\n".join(str(f) for f in self.failures) or "no config servers are configured")


def resolve(host: str, port: int) -> list[str]:
    """Every address of `host` (the system resolver); OSError if there is none."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    seen: list[str] = []
    for _family, _type, _proto, _name, sockaddr in infos:
        address = str(sockaddr[0])
        if address not in seen:
            seen.append(address)
    return seen


def order_addresses(addresses: Sequence[str], rng: random.Random) -> list[str]:
    """IPv6 addresses first, then IPv4, each family shuffled (as Seesaw v2)."""
    v6 = [a for a in addresses if ":" in a]
    v4 = [a for a in addresses if ":" not in a]
    rng.shuffle(v6)
    rng.shuffle(v4)
    return v6 + v4


def tls_context(ca_file: Path) -> ssl.SSLContext:
    """A client context that trusts only `ca_file` and checks the server's name; OSError/SSLError if unusable."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_verify_locations(cafile=str(ca_file))
    return context


class ConfigFetcher:
    def __init__(
        self,
        servers: Sequence[str],
        cluster: str,
        ca_file: Path,
        *,
        port: int = DEFAULT_PORT,
        timeout: float = DEFAULT_TIMEOUT,
        resolver: Resolver = resolve,
        rng: random.Random | None = None,
    ) -> None:
        self.servers = tuple(servers)
        self.cluster = cluster
        self.ca_file = ca_file
        self.port = port
        self.timeout = timeout
        self.resolver = resolver
        self.rng = rng or random.Random()

    def url(self, server: str) -> str:
        host = f"[{server}]" if ":" in server else server
        return f"https://{host}:{self.port}/config/{self.cluster}"

    def fetch(self, parse: Callable[[bytes, str], T]) -> Fetched[T]:
        """The first config a server sends that `parse` accepts; FetchError with every failure otherwise.

        `parse(body, origin)` returns the parsed config or raises Rejected (or ValueError) saying why not.
        """
        try:
            context = tls_context(self.ca_file)
        except (OSError, ssl.SSLError) as err:
            reason = getattr(err, "strerror", None) or str(err)
            raise FetchError(
                [
                    FetchFailure(
                        self.url(s),
                        "",
                        f"cannot load the CA certificate {self.ca_file}: {reason}; put the CA that signed the config "
                        "servers' certificates there, or set ca_cert in [config_server] of seesaw.cfg",
                    )
                    for s in self.servers
                ]
            ) from None
        failures: list[FetchFailure] = []
        for server in self.servers:
            url = self.url(server)
            try:
                addresses = order_addresses(self.resolver(server, self.port), self.rng)
            except OSError as err:
                failures.append(FetchFailure(url, "", f"cannot resolve {server}: {err.strerror or err}"))
                continue
            for address in addresses:
                try:
                    body = self._get(context, server, address)
                    value = parse(body, f"{url} ({address})")
                except _Failed as err:
                    failures.append(FetchFailure(url, address, str(err)))
                    continue
                except (Rejected, ValueError) as err:
                    failures.append(FetchFailure(url, address, f"config refused: {err}"))
                    continue
                return Fetched(value, url, address, tuple(failures))
        raise FetchError(failures)

    def _get(self, context: ssl.SSLContext, server: str, address: str) -> bytes:
        try:
            sock = socket.create_connection((address, self.port), timeout=self.timeout)
        except OSError as err:
            raise _Failed(_os_reason(err, self.timeout)) from None
        try:
            try:
                tls = context.wrap_socket(sock, server_hostname=server)
            except ssl.SSLCertVerificationError as err:
                raise _Failed(f"TLS certificate not trusted: {err.verify_message or err.reason}") from None
            except (ssl.SSLError, OSError) as err:
                raise _Failed(f"TLS handshake failed: {_os_reason(err, self.timeout)}") from None
            conn = http.client.HTTPConnection(server, self.port, timeout=self.timeout)
            conn.sock = tls
            try:
                return self._request(conn)
            finally:
                conn.close()
        finally:
            sock.close()

    def _request(self, conn: http.client.HTTPConnection) -> bytes:
        headers = {"Connection": "close", "Accept": CONTENT_TYPE, "User-Agent": f"seesaw-engine/{seesaw.__version__}"}
        try:
            conn.request("GET", f"/config/{self.cluster}", headers=headers)
            response = conn.getresponse()
            if response.status != http.client.OK:
                note = " (redirects are not followed)" if 300 <= response.status < 400 else ""
                raise _Failed(f"HTTP status {response.status} {response.reason}{note}")
            content_type = response.getheader("Content-Type", "")
            if content_type != CONTENT_TYPE:
                raise _Failed(f"Content-Type is {content_type!r}, not {CONTENT_TYPE!r}")
            return _read_body(response)
        except http.client.IncompleteRead as err:
            expected = f" of {len(err.partial) + err.expected}" if err.expected is not None else ""
            raise _Failed(f"body truncated: got {len(err.partial)}{expected} bytes") from None
        except (http.client.HTTPException, ssl.SSLError, OSError) as err:
            raise _Failed(_os_reason(err, self.timeout)) from None


class _Failed(Exception):
    """One attempt failed; the text is the reason."""


def _read_body(response: http.client.HTTPResponse) -> bytes:
    length = response.getheader("Content-Length")
    if length is not None:
        if not length.isdigit():
            raise _Failed(f"bad Content-Length {length!r}")
        if int(length) > MAX_BODY:
            raise _Failed(f"body of {int(length)} bytes is larger than the {MAX_BODY}-byte limit")
        body = response.read()  # raises IncompleteRead if the connection closes early
        if len(body) != int(length):
            raise _Failed(f"body truncated: got {len(body)} of {length} bytes")
        return body
    if not response.chunked:
        raise _Failed("no Content-Length and no chunked encoding: a truncated body could not be detected")
    parts: list[bytes] = []
    size = 0
    while chunk := response.read(65536):
        size += len(chunk)
        if size > MAX_BODY:
            raise _Failed(f"body is larger than the {MAX_BODY}-byte limit")
        parts.append(chunk)
    return b"".join(parts)


def _os_reason(err: BaseException, timeout: float) -> str:
    if isinstance(err, TimeoutError | socket.timeout):
        return f"no answer within {timeout:g} s"
    if isinstance(err, ConnectionRefusedError):
        return "connection refused (is the config server running on that port?)"
    if isinstance(err, ssl.SSLError):
        return err.reason or str(err)
    if isinstance(err, OSError) and err.strerror:
        return err.strerror.lower()
    return str(err) or type(err).__name__
