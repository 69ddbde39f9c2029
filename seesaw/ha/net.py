"""Adverts over a raw IP protocol-112 socket on the node interface.

One socket does everything (IPv4 or IPv6, by the local address):

* bound to the interface (SO_BINDTODEVICE), so adverts on other links are
  never seen; joined to 224.0.0.18 / ff02::12 on that interface when
  multicast is in use; multicast loop off, TTL / hop limit 255 for multicast
  and unicast alike (RFC 5798 5.1.1.3);
* every send pins the source to the node address (IP_PKTINFO /
  IPV6_PKTINFO), since the checksum covers it and the interface may carry
  VIPs too;
* receiving is non-blocking and bounded: `receive()` reads at most `budget`
  packets per call, so a flood cannot starve the caller's timers; what the
  kernel had to drop because the queue was full is counted (SO_RXQ_OVFL).

IPv4 raw sockets deliver the IP header (the TTL check reads it); IPv6 ones do
not, so the hop limit and destination come as ancillary data.
"""

from __future__ import annotations

import errno
import ipaddress
import logging
import socket
import struct
from dataclasses import dataclass

from seesaw.ha.packet import (
    GROUP_V4,
    GROUP_V6,
    PROTOCOL,
    TTL,
    Advert,
    Drop,
    DropReason,
    Received,
    decode_ipv4,
    decode_ipv6,
    encode,
)

log = logging.getLogger(__name__)

IP_PKTINFO = getattr(socket, "IP_PKTINFO", 8)
SO_RXQ_OVFL = getattr(socket, "SO_RXQ_OVFL", 40)
RECEIVE_BUFFER = 4 << 20  # bytes of socket queue (thousands of adverts): room for a flood while the loop is busy
SO_RCVBUFFORCE = getattr(socket, "SO_RCVBUFFORCE", 33)
MAX_PACKET = 8192  # IP header + 8 + 255 x 16 bytes fits
BUDGET = 64  # packets read per wakeup

# Errors a receive can return that say nothing about our socket: ICMP "protocol
# unreachable" from a peer whose HA is down, a peer that vanished.
_TRANSIENT = {
    errno.ECONNREFUSED,
    errno.EPROTO,
    errno.ENOPROTOOPT,
    errno.EHOSTUNREACH,
    errno.ENETUNREACH,
    errno.EHOSTDOWN,
}


class SetupError(Exception):
    """The socket could not be set up; the message says what to check."""


@dataclass(frozen=True)
class LinkConfig:
    """Where adverts go: the node interface, its address, and the destinations."""

    interface: str
    local_address: str
    destinations: tuple[str, ...]

    @property
    def version(self) -> int:
        return ipaddress.ip_address(self.local_address).version

    @property
    def group(self) -> str:
        return GROUP_V4 if self.version == 4 else GROUP_V6

    @property
    def joins_group(self) -> bool:
        return any(ipaddress.ip_address(d).is_multicast for d in self.destinations)


def interface_of(address: str) -> str:
    """The name of the interface holding `address`, for configs that do not name one."""
    from pyroute2 import IPRoute  # only needed when the config leaves the interface out

    with IPRoute() as ipr:
        for message in ipr.get_addr():
            if _strip_scope(message.get_attr("IFA_ADDRESS") or "") == _strip_scope(address):
                index = message["index"]
                links = ipr.get_links(index)
                if links:
                    return str(links[0].get_attr("IFLA_IFNAME"))
    raise SetupError(f"no interface holds the HA address {address}: add it to the node interface, or fix node_ipv4")


class AdvertSocket:
    """A raw VRRP socket for one `LinkConfig`. Open with `open()`; close when done."""

    def __init__(self, config: LinkConfig, sock: socket.socket, ifindex: int) -> None:
        self.config = config
        self._sock = sock
        self._ifindex = ifindex
        self._overflow_seen = 0
        self._send_errors: dict[str, str] = {}  # destination -> the error last logged for it

    @classmethod
    def open(cls, config: LinkConfig) -> AdvertSocket:
        for destination in config.destinations:
            if ipaddress.ip_address(destination).version != config.version:
                raise SetupError(
                    f"HA destination {destination} and local address {config.local_address} differ in address family"
                )
        try:
            ifindex = socket.if_nametoindex(config.interface)
        except OSError:
            raise SetupError(
                f"HA interface {config.interface!r} does not exist: check node_interface in seesaw.cfg"
            ) from None
        family = socket.AF_INET if config.version == 4 else socket.AF_INET6
        try:
            sock = socket.socket(family, socket.SOCK_RAW, PROTOCOL)
        except PermissionError:
            raise SetupError("a raw protocol-112 socket needs root or CAP_NET_RAW: run seesaw-ha as root") from None
        try:
            sock.setblocking(False)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, config.interface.encode())
            _set_receive_buffer(sock)
            sock.setsockopt(socket.SOL_SOCKET, SO_RXQ_OVFL, 1)
            if config.version == 4:
                _setup_ipv4(sock, config, ifindex)
            else:
                _setup_ipv6(sock, config, ifindex)
        except OSError as err:
            sock.close()
            raise SetupError(f"cannot set up the HA socket on {config.interface}: {err}") from err
        log.info(
            "adverts on %s (index %d) from %s to %s", config.interface, ifindex, config.local_address,
            ", ".join(config.destinations),
        )  # fmt: skip
        return cls(config, sock, ifindex)

    def fileno(self) -> int:
        return self._sock.fileno()

    def close(self) -> None:
        self._sock.close()

    def send(self, advert: Advert) -> int:
        """Send `advert` to every destination; return how many sends succeeded (failures are logged)."""
        sent = 0
        local = self.config.local_address
        for destination in self.config.destinations:
            payload = encode(advert, local, destination)
            try:
                if self.config.version == 4:
                    pktinfo = struct.pack("i4s4s", self._ifindex, ipaddress.IPv4Address(local).packed, bytes(4))
                    self._sock.sendmsg([payload], [(socket.IPPROTO_IP, IP_PKTINFO, pktinfo)], 0, (destination, 0))
                else:
                    pktinfo = struct.pack("16si", ipaddress.IPv6Address(_strip_scope(local)).packed, self._ifindex)
                    address = (destination, 0, 0, self._ifindex)
                    self._sock.sendmsg([payload], [(socket.IPPROTO_IPV6, socket.IPV6_PKTINFO, pktinfo)], 0, address)
                sent += 1
                if self._send_errors.pop(destination, None) is not None:
                    log.info("adverts to %s on %s go out again", destination, self.config.interface)
            except OSError as err:
                # Once per distinct error: a link that is down would otherwise log every interval.
                if self._send_errors.get(destination) != str(err):
                    self._send_errors[destination] = str(err)
                    log.warning(
                        "cannot send adverts to %s on %s: %s (is the link up?)", destination, self.config.interface, err
                    )
        return sent

    def receive(self, vrid: int, budget: int = BUDGET) -> list[Received | Drop]:
        """Read and decode up to `budget` queued packets (never blocks)."""
        results: list[Received | Drop] = []
        ancillary = socket.CMSG_SPACE(4) + socket.CMSG_SPACE(20) + socket.CMSG_SPACE(4)
        for _ in range(budget):
            try:
                data, ancdata, _flags, address = self._sock.recvmsg(MAX_PACKET, ancillary)
            except BlockingIOError:
                break
            except OSError as err:
                if err.errno in _TRANSIENT:
                    continue
                log.warning("receiving on %s failed: %s", self.config.interface, err)
                break
            hop_limit, destination = -1, ""
            for level, kind, value in ancdata:
                if level == socket.SOL_SOCKET and kind == SO_RXQ_OVFL and len(value) >= 4:
                    self._count_overflow(struct.unpack("I", value[:4])[0], results)
                elif level == socket.IPPROTO_IPV6 and kind == socket.IPV6_HOPLIMIT and len(value) >= 4:
                    hop_limit = struct.unpack("i", value[:4])[0]
                elif level == socket.IPPROTO_IPV6 and kind == socket.IPV6_PKTINFO and len(value) >= 16:
                    destination = str(ipaddress.IPv6Address(value[:16]))
            local = self.config.local_address
            if self.config.version == 4:
                results.append(decode_ipv4(data, local, vrid))
            else:
                source = _strip_scope(address[0])
                results.append(decode_ipv6(data, source, destination or self.config.group, hop_limit, local, vrid))
        return results

    def _count_overflow(self, total: int, results: list[Received | Drop]) -> None:
        """SO_RXQ_OVFL carries the socket's running count of packets the kernel dropped."""
        missed = (total - self._overflow_seen) & 0xFFFFFFFF
        self._overflow_seen = total
        if missed:
            results.append(Drop(DropReason.OVERFLOW, count=missed))


def _set_receive_buffer(sock: socket.socket) -> None:
    """A deep queue, beyond net.core.rmem_max when we may (CAP_NET_ADMIN), so a flood is counted, not missed."""
    try:
        sock.setsockopt(socket.SOL_SOCKET, SO_RCVBUFFORCE, RECEIVE_BUFFER)
    except PermissionError:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, RECEIVE_BUFFER)


def _setup_ipv4(sock: socket.socket, config: LinkConfig, ifindex: int) -> None:
    local = ipaddress.IPv4Address(config.local_address).packed
    sock.setsockopt(socket.IPPROTO_IP, socket.IP_TTL, TTL)
    sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, TTL)
    sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_LOOP, 0)
    sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, struct.pack("4s4si", bytes(4), local, ifindex))
    if config.joins_group:
        group = ipaddress.IPv4Address(config.group).packed
        sock.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP, struct.pack("4s4si", group, local, ifindex))


def _setup_ipv6(sock: socket.socket, config: LinkConfig, ifindex: int) -> None:
    sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_RECVHOPLIMIT, 1)
    sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_RECVPKTINFO, 1)
    sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_UNICAST_HOPS, TTL)
    sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_HOPS, TTL)
    sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_LOOP, 0)
    sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_IF, ifindex)
    if config.joins_group:
        group = ipaddress.IPv6Address(config.group).packed
        sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_JOIN_GROUP, struct.pack("16si", group, ifindex))


def _strip_scope(address: str) -> str:
    return address.split("%", 1)[0]
