"""TCP and TCP_TLS checks: connect (and handshake); optionally send, then expect a prefix.

With neither `send` nor `receive` a completed connect (and TLS handshake) is
success. Otherwise `send` is written and exactly len(`receive`) bytes are
read: the reply must start with `receive` (Seesaw's rule). Nothing beyond
that many bytes is read.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from . import dial, tls
from .base import CheckFailed, show_bytes
from .poller import ConnectPoller


@dataclass(slots=True)
class TCPChecker:
    ip: str
    port: int
    mark: int = 0
    send: bytes = b""
    receive: bytes = b""
    use_tls: bool = False
    tls_verify: bool = True
    server_name: str = ""  # TLS name (SNI, verification) from host_header; the target IP when empty
    poller: ConnectPoller | None = field(default=None, compare=False, repr=False)  # the scheduler's, if any

    def describe(self) -> str:
        return f"{'TCP_TLS' if self.use_tls else 'TCP'} {dial.host_port(self.ip, self.port)}"

    async def check(self) -> str:
        where = self.describe()
        sock = await dial.connect_tcp(self.ip, self.port, self.mark, self.poller)
        if not (self.use_tls or self.send or self.receive):
            sock.close()
            return f"{where}: connected"
        ctx = tls.client_context(self.tls_verify) if self.use_tls else None
        name = tls.server_name(self.server_name or self.ip)
        async with dial.stream(sock, where, tls=ctx, server_hostname=name) as (reader, writer):
            if self.send:
                writer.write(self.send)
                await writer.drain()
            if not self.receive:
                return f"{where}: {'handshake done' if not self.send else 'sent'}"
            got = await dial.read_prefix(reader, len(self.receive))
        if got != self.receive:
            if len(got) < len(self.receive):
                closed = f"connection closed after {len(got)} bytes {show_bytes(got)}"
                raise CheckFailed(f"{where}: {closed}, expected {show_bytes(self.receive)}")
            raise CheckFailed(f"{where}: got {show_bytes(got)}, expected {show_bytes(self.receive)}")
        return f"{where}: got {show_bytes(got)}"
