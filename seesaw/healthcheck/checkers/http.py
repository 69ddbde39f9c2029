"""HTTP and HTTPS checks: one request, judged by status code and body prefix.

From the check config: `method` (GET), `send` = the request path or URL
(`/`), `code` = the status wanted (0 accepts any), `receive` = what the body
must start with, `host_header` (else target:port), `tls_verify` (HTTPS only),
`proxy` = send the URL in absolute form, as to a forward proxy. Redirects are
not followed: a 3xx is judged like any other status.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urlsplit

from . import dial, tls
from .base import CheckFailed, show_bytes
from .http_client import LINE_LIMIT, ResponseError, build_request, read_response
from .poller import ConnectPoller


@dataclass(slots=True)
class HTTPChecker:
    ip: str
    port: int
    mark: int = 0
    secure: bool = False
    tls_verify: bool = True
    method: str = "GET"
    request: str = "/"
    receive: bytes = b""
    code: int = 200
    proxy: bool = False
    host_header: str = ""
    poller: ConnectPoller | None = field(default=None, compare=False, repr=False)  # the scheduler's, if any

    def _plan(self) -> tuple[str, str, str]:
        """(scheme, Host header, request-target)."""
        url = urlsplit(self.request or "/")
        scheme = url.scheme or ("https" if self.secure else "http")
        if url.netloc:
            path = url.path or "/"
            if url.query:
                path += "?" + url.query
        else:
            path = self.request if self.request.startswith("/") else "/" + self.request
        host = self.host_header or url.netloc or dial.host_port(self.ip, self.port)
        return scheme, host, (f"{scheme}://{host}{path}" if self.proxy else path)

    def describe(self) -> str:
        scheme, host, target = self._plan()
        url = target if self.proxy else f"{scheme}://{dial.host_port(self.ip, self.port)}{target}"
        extra = " via proxy" if self.proxy else ""
        if self.host_header and not self.proxy:
            extra += f" (Host: {host})"
        return f"{self.method} {url}{extra}"

    async def check(self) -> str:
        where = self.describe()
        _, host, target = self._plan()
        ctx = tls.client_context(self.tls_verify) if self.secure else None
        sock = await dial.connect_tcp(self.ip, self.port, self.mark, self.poller)
        name = tls.server_name(host)
        async with dial.stream(sock, where, limit=LINE_LIMIT, tls=ctx, server_hostname=name) as (reader, writer):
            writer.write(build_request(self.method, target, host))
            await writer.drain()
            try:
                resp = await read_response(reader, head=self.method.upper() == "HEAD", body_limit=len(self.receive))
            except ResponseError as err:
                raise CheckFailed(f"{where}: {err}") from None
        status = f"HTTP {resp.status}"
        if self.code and resp.status != self.code:
            location = resp.header("location") if 300 <= resp.status < 400 else None
            hint = f" (redirect to {location}; redirects are not followed)" if location else ""
            raise CheckFailed(f"{where}: {status}, expected {self.code}{hint}")
        if self.receive and resp.body != self.receive:
            raise CheckFailed(
                f"{where}: {status} body starts {show_bytes(resp.body)}, expected {show_bytes(self.receive)}"
            )
        return f"{where}: {status} {resp.reason}".rstrip()
