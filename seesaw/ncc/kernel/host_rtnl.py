"""A takeover's few rtnetlink calls on a plain socket: one link and its addresses read, the link set up.

The takeover's fast path (host.py) reads one link and its addresses, sets
the link up and announces, before anything else. Through pyroute2 that is
a socket set-up and two dumps parsed into generic message objects: 5 to
25 ms on a busy machine, all of it before the clients are called over.
Here it is one netlink socket, one RTM_GETLINK by name, one address dump
(filtered by the kernel where it can, NETLINK_GET_STRICT_CHK, and again
here) and one RTM_NEWLINK, with the few fields the fast path reads unpacked
by `struct`: well under a millisecond.

`wait_running` follows a link's notifications until it runs (carrier on,
activated by the kernel's linkwatch): the moment a takeover's burst is sure
to find the path forwarding (host_reannounce).

Only what takeover_ops (host_plan) reads is filled in: the link's index,
name, flags, MAC and alias, and its addresses. Everything else keeps going
through pyroute2 (host_snapshot, host_messages). The socket acts in the
calling thread's network namespace, as the rest of the part.
"""

from __future__ import annotations

import errno
import ipaddress
import os
import socket
import struct
import time

from seesaw.common.rtnetlink import HEADER as _HEADER
from seesaw.common.rtnetlink import (
    IFF_RUNNING,
    IFF_UP,
    NLM_F_ACK,
    NLM_F_DUMP,
    NLM_F_REQUEST,
    NLMSG_DONE,
    NLMSG_ERROR,
    RTM_GETADDR,
    RTM_GETLINK,
    RTM_NEWADDR,
    RTM_NEWLINK,
)
from seesaw.common.rtnetlink import IFINFO as _IFINFO
from seesaw.ncc.kernel.host_snapshot import Address, Link, Snapshot

NETLINK_ROUTE = 0
SOL_NETLINK = 270
NETLINK_GET_STRICT_CHK = 12

IFLA_ADDRESS = 1
IFLA_IFNAME = 3
IFLA_IFALIAS = 20
IFA_ADDRESS = 1
IFA_LOCAL = 2
IFA_PROTO = 11

_IFADDR = struct.Struct("=BBBBI")  # ifaddrmsg: family, prefix length, flags, scope, index
_ATTR = struct.Struct("=HH")  # rtattr: length, type
_ERROR = struct.Struct("=i")


class RtnlError(OSError):
    """The kernel refused a request (errno set), or answered what this reader cannot read."""


def _align(length: int) -> int:
    return (length + 3) & ~3


def _attrs(data: bytes, offset: int, end: int) -> dict[int, bytes]:
    """The attributes in data[offset:end] by type (the last of a type wins)."""
    found: dict[int, bytes] = {}
    while offset + _ATTR.size <= end:
        length, kind = _ATTR.unpack_from(data, offset)
        if length < _ATTR.size:
            break
        found[kind & 0x3FFF] = data[offset + _ATTR.size : offset + length]
        offset += _align(length)
    return found


def _attr(kind: int, value: bytes) -> bytes:
    body = _ATTR.pack(_ATTR.size + len(value), kind) + value
    return body + b"\0" * (_align(len(body)) - len(body))


def _text(value: bytes | None) -> str:
    return value.split(b"\0", 1)[0].decode(errors="replace") if value else ""


def parse_link(data: bytes, offset: int, end: int) -> Link:
    """The Link in the RTM_NEWLINK body at data[offset:end] (what the fast path reads of it)."""
    _, _, index, flags, _ = _IFINFO.unpack_from(data, offset)
    attrs = _attrs(data, offset + _IFINFO.size, end)
    mac = attrs.get(IFLA_ADDRESS, b"")
    return Link(
        index=index,
        name=_text(attrs.get(IFLA_IFNAME)),
        up=bool(flags & IFF_UP),
        running=bool(flags & IFF_RUNNING),
        mac=mac.hex(":") if mac else "",
        alias=_text(attrs.get(IFLA_IFALIAS)),
    )


def parse_address(data: bytes, offset: int, end: int) -> Address | None:
    """The Address in the RTM_NEWADDR body at data[offset:end]; None if it has none."""
    family, prefix, _, scope, index = _IFADDR.unpack_from(data, offset)
    attrs = _attrs(data, offset + _IFADDR.size, end)
    raw = attrs.get(IFA_LOCAL) or attrs.get(IFA_ADDRESS)
    if family not in (socket.AF_INET, socket.AF_INET6) or raw is None:
        return None
    address = ipaddress.ip_address(raw)
    proto = attrs.get(IFA_PROTO, b"\0")[0]
    return Address(index, ipaddress.ip_interface(f"{address}/{prefix}"), scope, proto)


class Rtnl:
    """One rtnetlink socket, in the calling thread's network namespace. Use as a context."""

    def __init__(self, groups: int = 0) -> None:
        """`groups`: the notifications to receive too (RTMGRP_LINK: links' changes), for `wait_running`."""
        self._sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW | socket.SOCK_CLOEXEC, NETLINK_ROUTE)
        try:
            self._sock.setsockopt(SOL_NETLINK, NETLINK_GET_STRICT_CHK, 1)
        except OSError:
            pass  # an older kernel: dumps come whole and are filtered here
        try:
            self._sock.bind((0, groups))
        except OSError:
            self._sock.close()
            raise
        self._sequence = 0

    def __enter__(self) -> Rtnl:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._sock.close()

    def link_snapshot(self, name: str) -> Snapshot:
        """A Snapshot of link `name` and its addresses alone; RtnlError(ENODEV) if there is no such link."""
        request = _IFINFO.pack(socket.AF_UNSPEC, 0, 0, 0, 0) + _attr(IFLA_IFNAME, name.encode() + b"\0")
        links = [
            parse_link(data, offset, end)
            for kind, data, offset, end in self._request(RTM_GETLINK, NLM_F_REQUEST, request)
            if kind == RTM_NEWLINK
        ]
        if len(links) != 1:
            raise RtnlError(errno.EPROTO, f"asked for link {name}, the kernel answered {len(links)} links")
        link = links[0]
        request = _IFADDR.pack(socket.AF_UNSPEC, 0, 0, 0, link.index)
        addresses = []
        for kind, data, offset, end in self._request(RTM_GETADDR, NLM_F_REQUEST | NLM_F_DUMP, request):
            if kind == RTM_NEWADDR:
                address = parse_address(data, offset, end)
                if address is not None and address.index == link.index:
                    addresses.append(address)
        return Snapshot(links={link.index: link}, addresses=addresses)

    def set_up(self, index: int, up: bool = True) -> None:
        """Set link `index` up (or down); RtnlError with the kernel's errno if refused."""
        request = _IFINFO.pack(socket.AF_UNSPEC, 0, index, IFF_UP if up else 0, IFF_UP)
        list(self._request(RTM_NEWLINK, NLM_F_REQUEST | NLM_F_ACK, request))

    def wait_running(self, name: str, timeout: float) -> bool:
        """Whether link `name` runs (IFF_RUNNING: carrier, activated) now or within `timeout` seconds.

        Needs a socket made with RTMGRP_LINK: the link is read after the subscription, so a change between
        the read and the wait is not missed.
        """
        deadline = time.monotonic() + timeout
        link = next(iter(self.link_snapshot(name).links.values()))
        if link.running:
            return True
        while (left := deadline - time.monotonic()) > 0:
            self._sock.settimeout(left)
            try:
                data = self._sock.recv(1 << 16)
            except TimeoutError:
                return False
            finally:
                self._sock.settimeout(None)
            offset = 0
            while offset + _HEADER.size <= len(data):
                length, kind, _, _, _ = _HEADER.unpack_from(data, offset)
                if length < _HEADER.size:
                    break
                if kind == RTM_NEWLINK:
                    _, _, index, flags, _ = _IFINFO.unpack_from(data, offset + _HEADER.size)
                    if index == link.index and flags & IFF_RUNNING:
                        return True
                offset += _align(length)
        return False

    def _request(self, kind: int, flags: int, body: bytes) -> list[tuple[int, bytes, int, int]]:
        """Send one request; its answer's messages as (type, buffer, body offset, body end), until done."""
        self._sequence += 1
        sequence = self._sequence
        self._sock.send(_HEADER.pack(_HEADER.size + len(body), kind, flags, sequence, 0) + body)
        dump = flags & NLM_F_DUMP == NLM_F_DUMP
        out: list[tuple[int, bytes, int, int]] = []
        while True:
            data = self._sock.recv(1 << 16)
            offset = 0
            while offset + _HEADER.size <= len(data):
                length, answer, _, seq, _ = _HEADER.unpack_from(data, offset)
                if length < _HEADER.size:
                    raise RtnlError(errno.EPROTO, "a netlink message shorter than its header")
                body, end = offset + _HEADER.size, offset + length
                offset += _align(length)
                if seq != sequence:
                    continue  # an answer to an earlier request that gave up
                if answer == NLMSG_ERROR:
                    (code,) = _ERROR.unpack_from(data, body)
                    if code:
                        raise RtnlError(-code, os.strerror(-code))
                    return out  # the ack
                if answer == NLMSG_DONE:
                    return out
                out.append((answer, data, body, end))
                if not dump and not flags & NLM_F_ACK:
                    return out
