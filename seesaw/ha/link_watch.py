"""Whether the node interface can carry adverts, from rtnetlink link events.

keepalived leaves the election (its FAULT state) while its interface is
down; so does HA (seesaw.ha.machine's LinkDown/LinkUp). This file watches
one interface in the network namespace the process runs in:

* `health(flags)` (pure): None while the interface is administratively up
  and has its carrier (IFF_UP and IFF_LOWER_UP), else why not.
* `decode_links(data)` (pure): the RTM_NEWLINK / RTM_DELLINK messages of
  one netlink read, as (index, flags, deleted). Only the fixed ifinfomsg
  header is read: the flags are all we need.
* `LinkWatch` (the socket): a NETLINK_ROUTE socket subscribed to the link
  group, non-blocking, for the event loop's reader; `request()` asks the
  kernel for the interface's current state, whose answer arrives like any
  event, so nothing is missed between asking and subscribing.

Netlink, not /sys: /sys shows the namespace it was mounted in, not the one
the process runs in.
"""

from __future__ import annotations

import errno
import socket
import struct
from dataclasses import dataclass

NETLINK_ROUTE = 0
RTMGRP_LINK = 0x1
RTM_NEWLINK = 16
RTM_DELLINK = 17
RTM_GETLINK = 18
NLMSG_ERROR = 2
NLMSG_DONE = 3
NLM_F_REQUEST = 0x1
IFF_UP = 0x1
IFF_LOWER_UP = 0x10000
RECEIVE_BUFFER = 1 << 20  # bytes: a burst of link events from many interfaces while the loop is busy

_NLMSGHDR = struct.Struct("=IHHII")  # length, type, flags, sequence, port id
_IFINFOMSG = struct.Struct("=BxHiII")  # family, pad, device type, index, flags, change mask


@dataclass(frozen=True)
class LinkEvent:
    index: int
    flags: int
    deleted: bool = False


def health(flags: int | None, name: str) -> str | None:
    """None if interface `name` with `flags` (None: it does not exist) can carry adverts, else why not."""
    if flags is None:
        return f"the node interface {name} does not exist"
    if not flags & IFF_UP:
        return f"the node interface {name} is down (ip link set {name} up)"
    if not flags & IFF_LOWER_UP:
        return f"the node interface {name} has no carrier (check its cable and switch port)"
    return None


def decode_links(data: bytes) -> list[LinkEvent]:
    """The link messages in one netlink read (others, and truncated ones, are skipped)."""
    events: list[LinkEvent] = []
    offset = 0
    while offset + _NLMSGHDR.size <= len(data):
        length, kind, _flags, _seq, _port = _NLMSGHDR.unpack_from(data, offset)
        if length < _NLMSGHDR.size or offset + length > len(data):
            break
        body = offset + _NLMSGHDR.size
        if kind in (RTM_NEWLINK, RTM_DELLINK) and length >= _NLMSGHDR.size + _IFINFOMSG.size:
            _family, _type, index, flags, _change = _IFINFOMSG.unpack_from(data, body)
            events.append(LinkEvent(index, flags, kind == RTM_DELLINK))
        offset += (length + 3) & ~3
    return events


def get_link_request(index: int, sequence: int = 1) -> bytes:
    """RTM_GETLINK for one interface."""
    body = _IFINFOMSG.pack(socket.AF_UNSPEC, 0, index, 0, 0)
    return _NLMSGHDR.pack(_NLMSGHDR.size + len(body), RTM_GETLINK, NLM_F_REQUEST, sequence, 0) + body


class LinkWatch:
    """Link events of this network namespace on a non-blocking socket. Close when done."""

    def __init__(self) -> None:
        self._sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW | socket.SOCK_NONBLOCK, NETLINK_ROUTE)
        try:
            self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, RECEIVE_BUFFER)
            self._sock.bind((0, RTMGRP_LINK))
        except OSError:
            self._sock.close()
            raise
        self._sequence = 0
        self.overflowed = False  # the kernel dropped events: ask again (`request`)

    def fileno(self) -> int:
        return self._sock.fileno()

    def close(self) -> None:
        self._sock.close()

    def request(self, index: int) -> None:
        """Ask for interface `index`'s state; the answer comes through `read` (nothing, if it is gone)."""
        self._sequence += 1
        self._sock.send(get_link_request(index, self._sequence))

    def read(self, budget: int = 64) -> list[LinkEvent]:
        """The link events queued now (never blocks)."""
        events: list[LinkEvent] = []
        for _ in range(budget):
            try:
                data = self._sock.recv(65536)
            except BlockingIOError:
                break
            except OSError as err:
                if err.errno == errno.ENOBUFS:  # events were lost: the caller asks for the state again
                    self.overflowed = True
                    continue
                raise
            events.extend(decode_links(data))
        return events


def interface_index(name: str) -> int | None:
    """The index of interface `name` in this namespace, or None."""
    try:
        return socket.if_nametoindex(name)
    except OSError:
        return None
