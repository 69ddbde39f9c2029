"""The system calls of a takeover kit, made by HA itself: a link set up, frames sent on it, again once it runs.

NCC makes the kit while this node is backup (the LB interface's name and
index, the gratuitous ARP burst as whole frames; seesaw/ncc/runner.py
`kits`); HA carries it out the moment it leads, in its own realtime process,
as keepalived does: one RTM_NEWLINK on a plain rtnetlink socket and a few
sends on an AF_PACKET socket opened ahead (FrameSender: closing one waits
for the kernel's RCU grace period, 5 to 16 ms, which once held up the burst
that counts), well under a millisecond, with no hop to another process
first. Nothing here decides anything: NCC did, against the
kernel as it found it; the link's name is checked against its index, so a
link made again meanwhile (a new index) is left alone.

A link just set up can send at once, but the far end may not forward yet (a
bridge or switch port starts forwarding when the carrier comes back, in the
same kernel run, linkwatch, that marks our link running). So the burst goes
again the moment the link runs: `watch_links` subscribes to link changes
before the link is set up, and `runs` reads a notification (or the link's
flags) for it. NCC's own repeats follow as well (seesaw/ncc/kernel/
host_reannounce.py).
"""

from __future__ import annotations

import errno
import fcntl
import os
import socket
import struct
from collections.abc import Sequence

from seesaw.common.packet_socket import bound_packet_socket, close_later
from seesaw.common.rtnetlink import (
    ACK_TIMEOUT,
    IFF_RUNNING,
    IFF_UP,
    NLM_F_ACK,
    NLM_F_REQUEST,
    NLMSG_ERROR,
    RTM_NEWLINK,
    RTMGRP_LINK,
)
from seesaw.common.rtnetlink import HEADER as _HEADER
from seesaw.common.rtnetlink import IFINFO as _IFINFO

SIOCGIFFLAGS = 0x8913


def set_link_up(interface: str, index: int) -> None:
    """Set link `index` up, if it is still named `interface`; OSError (with the errno) if not or if refused."""
    try:
        current = socket.if_nametoindex(interface)
    except OSError as err:
        raise OSError(errno.ENODEV, f"no link named {interface!r} any more") from err
    if current != index:
        raise OSError(errno.ENODEV, f"{interface!r} is link {current} now, not {index}")
    body = _IFINFO.pack(socket.AF_UNSPEC, 0, index, IFF_UP, IFF_UP)
    message = _HEADER.pack(_HEADER.size + len(body), RTM_NEWLINK, NLM_F_REQUEST | NLM_F_ACK, 1, 0) + body
    with socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, socket.NETLINK_ROUTE) as sock:
        sock.settimeout(ACK_TIMEOUT)
        sock.bind((0, 0))
        sock.send(message)
        reply = sock.recv(1 << 12)
    _check_ack(reply)


def _check_ack(reply: bytes) -> None:
    if len(reply) < _HEADER.size + 4:
        raise OSError(errno.EIO, "short rtnetlink reply")
    _, kind, _, _, _ = _HEADER.unpack_from(reply)
    if kind != NLMSG_ERROR:
        raise OSError(errno.EIO, f"unexpected rtnetlink reply type {kind}")
    (code,) = struct.unpack_from("=i", reply, _HEADER.size)
    if code:
        raise OSError(-code, os.strerror(-code))


class FrameSender:
    """Whole Ethernet frames sent on an interface through an AF_PACKET socket kept open (`prepare` opens it
    ahead): a takeover's bursts must not wait for a socket's close, which waits for an RCU grace period
    in the kernel (5 to 16 ms on a busy machine, between the link going up and the burst that counts).

    A socket that fails to send (the interface was made again: a new index) is dropped and the send
    tried once on a fresh one; sockets dropped are closed in a thread of their own."""

    def __init__(self) -> None:
        self._sockets: dict[str, socket.socket] = {}

    def prepare(self, interface: str) -> None:
        """Open the socket for `interface` now, if there is none (the link may be down: binding works), and
        drop those of other interfaces (the LB interface was renamed)."""
        for other in [name for name in self._sockets if name != interface]:
            self.drop(other)
        if interface not in self._sockets:
            self._sockets[interface] = bound_packet_socket(interface)

    def send(self, interface: str, frames: Sequence[bytes]) -> None:
        """Send `frames` on `interface`; OSError if it cannot (ENETDOWN: the link is down)."""
        sock = self._sockets.get(interface)
        if sock is not None:
            try:
                for frame in frames:
                    sock.send(frame)
                return
            except OSError as err:
                if err.errno == errno.ENETDOWN:
                    raise
                self.drop(interface)
        self.prepare(interface)
        for frame in frames:
            self._sockets[interface].send(frame)

    def drop(self, interface: str) -> None:
        """Forget `interface`'s socket (closed in the background)."""
        sock = self._sockets.pop(interface, None)
        if sock is not None:
            close_later(sock)

    def close(self) -> None:
        for interface in list(self._sockets):
            self.drop(interface)


def watch_links() -> socket.socket:
    """A non-blocking rtnetlink socket told of every link change in this network namespace (RTMGRP_LINK)."""
    sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, socket.NETLINK_ROUTE)
    try:
        sock.bind((0, RTMGRP_LINK))
        sock.setblocking(False)
    except OSError:
        sock.close()
        raise
    return sock


def runs(interface: str) -> bool:
    """Whether `interface` runs now (IFF_RUNNING: carrier on, activated by the kernel)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        request = struct.pack("16sH14x", interface.encode()[:15], 0)
        reply = fcntl.ioctl(sock.fileno(), SIOCGIFFLAGS, request)
    (flags,) = struct.unpack_from("H", reply, 16)
    return bool(flags & IFF_RUNNING)


def running_in(data: bytes, index: int) -> bool:
    """Whether rtnetlink notifications `data` say link `index` runs."""
    offset = 0
    while offset + _HEADER.size <= len(data):
        length, kind, _, _, _ = _HEADER.unpack_from(data, offset)
        if length < _HEADER.size:
            break
        if kind == RTM_NEWLINK and offset + _HEADER.size + _IFINFO.size <= len(data):
            _, _, link, flags, _ = _IFINFO.unpack_from(data, offset + _HEADER.size)
            if link == index and flags & IFF_RUNNING:
                return True
        offset += (length + 3) & ~3
    return False
