"""UDP check: send one datagram, expect one back that starts with `receive`.

An empty `receive` accepts any reply, even an empty one; no reply is a
timeout; an ICMP port unreachable fails at once. One datagram is read, at
most 64 KiB.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from . import dial
from .base import CheckFailed, show_bytes

MAX_DATAGRAM = 65535


@dataclass(slots=True)
class UDPChecker:
    ip: str
    port: int
    mark: int = 0
    send: bytes = b""
    receive: bytes = b""

    def describe(self) -> str:
        return f"UDP {dial.host_port(self.ip, self.port)}"

    async def check(self) -> str:
        where = self.describe()
        sock = dial.connect_udp(self.ip, self.port, self.mark)
        try:
            await dial.send_datagram(sock, self.send)
            try:
                reply = await asyncio.get_running_loop().sock_recv(sock, MAX_DATAGRAM)
            except ConnectionRefusedError:
                raise CheckFailed(f"{where}: port unreachable (ICMP), nothing listens there") from None
        finally:
            dial.close(sock)
        if not reply.startswith(self.receive):
            raise CheckFailed(f"{where}: got {show_bytes(reply)}, expected {show_bytes(self.receive)}")
        return f"{where}: got {show_bytes(reply)}"
