"""The host part's rtnetlink socket: plain netlink, no library between NCC and the kernel.

Every read and write of the host part goes through one `Rtnl` (a socket in
the calling thread's network namespace): the dumps of links, addresses,
policy rules and routes that make a Snapshot (host_snapshot.read_snapshot),
the writes host_messages builds (`call`: one message, its ack), and the
takeover's fast path: one RTM_GETLINK by name, one address dump (filtered by
the kernel where it can, NETLINK_GET_STRICT_CHK, and again here), one
RTM_NEWLINK. Decoding is host_wire's: `struct` over the few fields NCC reads.

Through pyroute2 the same apply spent most of its time in the library
(a socket set-up on an event loop, every message parsed into generic
objects): 20 to 30 ms of CPU for an LB interface brought up, at the moment
a takeover's clients come over. Here it is a few milliseconds.

`wait_running` follows a link's notifications until it runs (carrier on,
activated by the kernel's linkwatch): the moment a takeover's burst is sure
to find the path forwarding (host_reannounce).
"""

from __future__ import annotations

import errno
import os
import socket
import struct
import time

from seesaw.common.rtnetlink import HEADER as _HEADER
from seesaw.common.rtnetlink import (
    IFF_RUNNING,
    IFF_UP,
    NETLINK_GET_STRICT_CHK,
    NLM_F_ACK,
    NLM_F_DUMP,
    NLM_F_DUMP_INTR,
    NLM_F_REQUEST,
    NLMSG_DONE,
    NLMSG_ERROR,
    RTM_GETADDR,
    RTM_GETLINK,
    RTM_GETROUTE,
    RTM_GETRULE,
    RTM_NEWADDR,
    RTM_NEWLINK,
    RTM_NEWROUTE,
    RTM_NEWRULE,
    SOL_NETLINK,
)
from seesaw.common.rtnetlink import IFINFO as _IFINFO
from seesaw.ncc.kernel.host_snapshot import Address, Link, Route, Rule, Snapshot
from seesaw.ncc.kernel.host_wire import (
    IFADDR,
    IFLA_IFNAME,
    RTA_TABLE,
    RTMSG,
    RULE,
    align,
    attr,
    parse_address,
    parse_link,
    parse_route,
    parse_rule,
    text,
    u32,
)

_RECEIVE = 1 << 16  # the kernel fills a dump's batches to at most 32 KiB
_ERROR = struct.Struct("=i")
DUMP_TRIES = 5


class RtnlError(OSError):
    """The kernel refused a request (errno set), or answered what this reader cannot read."""


class Rtnl:
    """One rtnetlink socket, in the calling thread's network namespace. Use as a context."""

    def __init__(self, groups: int = 0) -> None:
        """`groups`: the notifications to receive too (RTMGRP_LINK: links' changes), for `wait_running`."""
        self._sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW | socket.SOCK_CLOEXEC, socket.NETLINK_ROUTE)
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
        link = self.link(name)
        if link is None:
            raise RtnlError(errno.ENODEV, f"no such network interface {name!r}")
        return Snapshot(links={link.index: link}, addresses=self.addresses(link.index))

    def link(self, name: str) -> Link | None:
        """Link `name` as the kernel has it now; None if there is none."""
        request = _IFINFO.pack(socket.AF_UNSPEC, 0, 0, 0, 0) + attr(IFLA_IFNAME, text(name))
        try:
            answer = self._request(RTM_GETLINK, NLM_F_REQUEST, request)
        except RtnlError as err:
            if err.errno == errno.ENODEV:
                return None
            raise
        links = [parse_link(data, offset, end) for kind, data, offset, end in answer if kind == RTM_NEWLINK]
        if len(links) != 1:
            raise RtnlError(errno.EPROTO, f"asked for link {name}, the kernel answered {len(links)} links")
        return links[0]

    def links(self) -> list[Link]:
        """Every link of the namespace."""
        request = _IFINFO.pack(socket.AF_UNSPEC, 0, 0, 0, 0)
        answer = self._request(RTM_GETLINK, NLM_F_REQUEST | NLM_F_DUMP, request)
        return [parse_link(data, offset, end) for kind, data, offset, end in answer if kind == RTM_NEWLINK]

    def addresses(self, index: int = 0) -> list[Address]:
        """The addresses of link `index` (0: of every link), IPv4 and IPv6."""
        request = IFADDR.pack(socket.AF_UNSPEC, 0, 0, 0, index)
        found = []
        for kind, data, offset, end in self._request(RTM_GETADDR, NLM_F_REQUEST | NLM_F_DUMP, request):
            if kind == RTM_NEWADDR:
                address = parse_address(data, offset, end)
                if address is not None and index in (0, address.index):
                    found.append(address)
        return found

    def rules(self, family: int) -> list[Rule]:
        """The policy rules of `family`."""
        request = RULE.pack(family, 0, 0, 0, 0, 0, 0, 0, 0)
        answer = self._request(RTM_GETRULE, NLM_F_REQUEST | NLM_F_DUMP, request)
        return [parse_rule(data, offset, end) for kind, data, offset, end in answer if kind == RTM_NEWRULE]

    def routes(self, family: int, table: int) -> list[Route]:
        """The routes of `family` in routing table `table` (the kernel filters where it can; so do we)."""
        request = RTMSG.pack(family, 0, 0, 0, table if table < 256 else 0, 0, 0, 0, 0) + attr(RTA_TABLE, u32(table))
        try:
            answer = self._request(RTM_GETROUTE, NLM_F_REQUEST | NLM_F_DUMP, request)
        except RtnlError as err:
            if err.errno == errno.ENOENT:
                return []  # no such table (yet): the kernel makes one with its first route
            raise
        found = []
        for kind, data, offset, end in answer:
            if kind == RTM_NEWROUTE:
                route = parse_route(data, offset, end)
                if route.table == table and route.family == family:
                    found.append(route)
        return found

    def call(self, message: bytes) -> None:
        """Send one request `message` (host_messages; it asks for an ack) and wait for the kernel's answer;
        RtnlError with the kernel's errno if it refused."""
        length, kind, flags, _, _ = _HEADER.unpack_from(message)
        if length != len(message):
            raise RtnlError(errno.EINVAL, f"a netlink message of {len(message)} bytes says it has {length}")
        self._request(kind, flags | NLM_F_ACK, message[_HEADER.size :])

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
                data = self._sock.recv(_RECEIVE)
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
                offset += align(length)
        return False

    def _request(self, kind: int, flags: int, body: bytes) -> list[tuple[int, bytes, int, int]]:
        """Send one request; its answer's messages as (type, buffer, body offset, body end), until done.

        A dump the kernel marks interrupted (a change landed while it ran: NLM_F_DUMP_INTR) is asked again.
        """
        for _ in range(DUMP_TRIES):
            out, interrupted = self._once(kind, flags, body)
            if not interrupted:
                return out
        raise RtnlError(
            errno.EINTR, f"the kernel's answer to a dump kept changing while it was read ({DUMP_TRIES} tries)"
        )

    def _once(self, kind: int, flags: int, body: bytes) -> tuple[list[tuple[int, bytes, int, int]], bool]:
        self._sequence += 1
        sequence = self._sequence
        self._sock.send(_HEADER.pack(_HEADER.size + len(body), kind, flags, sequence, 0) + body)
        dump = flags & NLM_F_DUMP == NLM_F_DUMP
        out: list[tuple[int, bytes, int, int]] = []
        interrupted = False
        while True:
            data = self._sock.recv(_RECEIVE)
            offset = 0
            while offset + _HEADER.size <= len(data):
                length, answer, answer_flags, seq, _ = _HEADER.unpack_from(data, offset)
                if length < _HEADER.size:
                    raise RtnlError(errno.EPROTO, "a netlink message shorter than its header")
                body_at, end = offset + _HEADER.size, offset + length
                offset += align(length)
                if seq != sequence:
                    continue  # a notification, or an answer to an earlier request that gave up
                interrupted = interrupted or bool(answer_flags & NLM_F_DUMP_INTR)
                if answer in (NLMSG_ERROR, NLMSG_DONE):
                    (code,) = _ERROR.unpack_from(data, body_at) if end - body_at >= _ERROR.size else (0,)
                    if code < 0:
                        raise RtnlError(-code, os.strerror(-code))
                    return out, interrupted  # the ack, or the dump's end
                out.append((answer, data, body_at, end))
                if not dump and not flags & NLM_F_ACK:
                    return out, False
