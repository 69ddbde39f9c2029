"""ICMP echo check: one echo request to the target, wait for its reply.

It uses an unprivileged ICMP datagram socket when net.ipv4.ping_group_range
allows this process's group, else a raw socket (CAP_NET_RAW). Both are
connected to the target, so the kernel drops replies from anyone else.
PLAIN mode only (the engine refuses DSR/TUN ping checks).
"""

from __future__ import annotations

import asyncio
import itertools
import os
import socket
from dataclasses import dataclass

from . import dial, icmp
from .base import CheckFailed, os_error_text

_sequence = itertools.count(1)
_IDENT = os.getpid() & 0xFFFF


def open_icmp_socket(v6: bool) -> tuple[socket.socket, bool]:
    """(socket, is_raw); CheckFailed says how to get permission when neither kind is allowed."""
    family = socket.AF_INET6 if v6 else socket.AF_INET
    proto = socket.IPPROTO_ICMPV6 if v6 else socket.IPPROTO_ICMP
    for kind in (socket.SOCK_DGRAM, socket.SOCK_RAW):
        try:
            sock = socket.socket(family, kind, proto)
        except PermissionError:
            continue
        sock.setblocking(False)
        return sock, kind == socket.SOCK_RAW
    sysctl = "net.ipv4.ping_group_range"  # it governs IPv6 ping sockets too
    raise CheckFailed(
        f"ICMP check not permitted: needs CAP_NET_RAW, or group {os.getgid()} inside {sysctl} "
        f"(e.g. sysctl -w {sysctl}='0 2147483647')"
    )


@dataclass(slots=True)
class PingChecker:
    ip: str

    def describe(self) -> str:
        return f"ICMP echo to {self.ip}"

    async def check(self) -> str:
        where = self.describe()
        v6 = dial.family_of(self.ip) == socket.AF_INET6
        sock, raw = open_icmp_socket(v6)
        seq = next(_sequence) & 0xFFFF
        loop = asyncio.get_running_loop()
        try:
            try:
                sock.connect((self.ip, 0))
                await loop.sock_sendall(sock, icmp.echo_request(_IDENT, seq, v6))
                while True:  # the run's timeout bounds the wait
                    packet = await loop.sock_recv(sock, 2048)
                    if icmp.is_echo_reply(packet, _IDENT if raw else None, seq, v6, has_ip_header=raw and not v6):
                        return f"{where}: echo reply (seq {seq})"
            except OSError as err:
                raise CheckFailed(f"{where}: {os_error_text(err)}") from None
        finally:
            dial.close(sock)
