"""VRRPv3 advertisements on the wire: encode and decode, nothing else.

Two formats share one header (RFC 5798 section 5.1):

    byte 0   version 3 << 4 | type 1 (advertisement)  = 0x31
    byte 1   VRID
    byte 2   priority (0 = "the master is leaving")
    byte 3   count of addresses that follow
    bytes 4-5  4 reserved bits + 12-bit max advert interval, in centiseconds
    bytes 6-7  checksum (RFC 1071) over an IP pseudo-header + the whole message
    then     count x 4 (IPv4) or count x 16 (IPv6) address bytes

* Seesaw v2 sends count 0 and no addresses (8 bytes), so a Python node can pair
  with a Go node.
* keepalived (VRRPv3) sends its virtual addresses; a node configured with the
  RFC 5798 format does the same.

Decoding accepts both, given the raw packet as the kernel delivers it (an
IPv4 raw socket includes the IP header; an IPv6 one does not, so its caller
passes the source, destination and hop limit it got as ancillary data). A
packet that is not a usable advert for us comes back as a `Drop` naming why.
"""

from __future__ import annotations

import enum
import functools
import ipaddress
import socket
import struct
import sys
from dataclasses import dataclass

PROTOCOL = 112  # IPPROTO_VRRP
VERSION_TYPE = 0x31  # VRRP version 3, type 1 (advertisement)
HEADER_LEN = 8
TTL = 255  # RFC 5798 5.1.1.3: sent with TTL / hop limit 255, anything else is dropped
GROUP_V4 = "224.0.0.18"
GROUP_V6 = "ff02::12"
MAX_INTERVAL_CS = 0x0FFF  # 12 bits: 40.95 s
MAX_ADDRESSES = 255

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

_HEADER = struct.Struct("!BBBBHH")
_IPV4_HEADER = struct.Struct("!BBHHHBBH4s4s")


class DropReason(enum.StrEnum):
    """Why a received packet was not taken as an advert (the keys of `adverts_dropped`)."""

    MALFORMED = "malformed"  # not a whole IPv4 packet carrying protocol 112
    LENGTH = "length"  # shorter than the header, or not header + count addresses
    CHECKSUM = "checksum"
    TTL = "ttl"  # TTL / hop limit other than 255: not from this link
    OWN_SOURCE = "own_source"  # our own advert coming back
    VERSION = "version"  # not VRRPv3 type 1 (e.g. VRRPv2 from an old keepalived)
    VRID = "vrid"  # another virtual router on the same link
    OVERFLOW = "overflow"  # dropped by the kernel: the receive queue was full


@dataclass(frozen=True)
class Advert:
    """The content of an advertisement, as sent or as received."""

    vrid: int
    priority: int
    interval_cs: int
    addresses: tuple[str, ...] = ()


@dataclass(frozen=True)
class Received:
    """An advert that passed every check, with the addresses it travelled between."""

    advert: Advert
    source: str
    destination: str


@dataclass(frozen=True)
class Drop:
    """A packet that was not a usable advert; `count` > 1 for drops counted in bulk."""

    reason: DropReason
    source: str = ""
    count: int = 1


def checksum(data: bytes) -> int:
    """The Internet checksum (RFC 1071): ones' complement of the ones' complement sum.

    The sum is taken in the machine's byte order (RFC 1071 section 2(B): the
    result is the same, byte-swapped) because that is what memoryview.cast gives fast.
    """
    if len(data) % 2:
        data += b"\x00"
    total = sum(memoryview(data).cast("H"))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    total = ~total & 0xFFFF
    return total if sys.byteorder == "big" else ((total & 0xFF) << 8) | (total >> 8)


def pseudo_header(source: str, destination: str, length: int) -> bytes:
    """The IPv4 {src, dst, 0, 112, len} or IPv6 {src, dst, len32, 0 0 0, 112} pseudo-header."""
    src, dst = ipaddress.ip_address(source), ipaddress.ip_address(destination)
    if src.version != dst.version:
        raise ValueError(f"source {source} and destination {destination} are not of the same address family")
    if src.version == 4:
        return src.packed + dst.packed + struct.pack("!BBH", 0, PROTOCOL, length)
    return src.packed + dst.packed + struct.pack("!I3xB", length, PROTOCOL)


def encode(advert: Advert, source: str, destination: str) -> bytes:
    """The VRRP message (what goes after the IP header) from `source` to `destination`."""
    if not 0 <= advert.priority <= 255 or not 1 <= advert.vrid <= 255:
        raise ValueError(f"VRID {advert.vrid} must be 1..255 and priority {advert.priority} 0..255")
    if not 0 <= advert.interval_cs <= MAX_INTERVAL_CS:
        raise ValueError(f"advert interval {advert.interval_cs} cs does not fit 12 bits (max {MAX_INTERVAL_CS})")
    if len(advert.addresses) > MAX_ADDRESSES:
        raise ValueError(f"{len(advert.addresses)} addresses do not fit one advert (max {MAX_ADDRESSES})")
    version = ipaddress.ip_address(source).version
    body = b""
    for text in advert.addresses:
        address = ipaddress.ip_address(text)
        if address.version != version:
            raise ValueError(f"address {text} is not IPv{version} like the advert's source {source}")
        body += address.packed
    count = len(advert.addresses)
    unsummed = _HEADER.pack(VERSION_TYPE, advert.vrid, advert.priority, count, advert.interval_cs, 0) + body
    total = checksum(pseudo_header(source, destination, len(unsummed)) + unsummed)
    return unsummed[:6] + struct.pack("!H", total) + unsummed[8:]


def encode_ipv4_packet(advert: Advert, source: str, destination: str, ttl: int = TTL, ident: int = 0) -> bytes:
    """A whole IPv4 packet (DF set, no options), as a raw socket would deliver it."""
    payload = encode(advert, source, destination)
    src, dst = ipaddress.IPv4Address(source).packed, ipaddress.IPv4Address(destination).packed
    fields = [0x45, 0, 20 + len(payload), ident, 0x4000, ttl, PROTOCOL, 0, src, dst]
    header = _IPV4_HEADER.pack(*fields)
    fields[7] = checksum(header)
    return _IPV4_HEADER.pack(*fields) + payload


def decode_ipv4(packet: bytes, local_address: str, vrid: int) -> Received | Drop:
    """Check and decode an IPv4 packet, IP header included, received by `local_address` for `vrid`."""
    if len(packet) < 20 or packet[0] >> 4 != 4:
        return Drop(DropReason.MALFORMED)
    header_len = (packet[0] & 0x0F) * 4
    total_len = (packet[2] << 8) | packet[3]
    if header_len < 20 or total_len < header_len or total_len > len(packet) or packet[9] != PROTOCOL:
        return Drop(DropReason.MALFORMED)
    return _decode(packet[header_len:total_len], packet[12:16], packet[16:20], packet[8], local_address, vrid)


def decode_ipv6(
    payload: bytes, source: str, destination: str, hop_limit: int, local_address: str, vrid: int
) -> Received | Drop:
    """Check and decode the VRRP message of an IPv6 packet (header fields from ancillary data)."""
    try:
        src, dst = _packed(source), _packed(destination)
    except ValueError:
        return Drop(DropReason.MALFORMED, source)
    if len(src) != 16 or len(dst) != 16:
        return Drop(DropReason.MALFORMED, source)
    return _decode(payload, src, dst, hop_limit, local_address, vrid)


def _decode(payload: bytes, src: bytes, dst: bytes, ttl: int, local_address: str, vrid: int) -> Received | Drop:
    """The checks shared by both families, on packed addresses (this runs for every packet of a flood)."""
    family = socket.AF_INET if len(src) == 4 else socket.AF_INET6
    source = socket.inet_ntop(family, src)
    if src == _packed(local_address):
        return Drop(DropReason.OWN_SOURCE, source)
    if ttl != TTL:
        return Drop(DropReason.TTL, source)
    if len(payload) < HEADER_LEN:
        return Drop(DropReason.LENGTH, source)
    version_type, advert_vrid, priority, count, interval, _ = _HEADER.unpack_from(payload)
    if version_type != VERSION_TYPE:
        return Drop(DropReason.VERSION, source)
    if len(payload) != HEADER_LEN + count * len(src):
        return Drop(DropReason.LENGTH, source)
    if len(src) == 4:
        pseudo = src + dst + struct.pack("!BBH", 0, PROTOCOL, len(payload))
    else:
        pseudo = src + dst + struct.pack("!I3xB", len(payload), PROTOCOL)
    if checksum(pseudo + payload) != 0:
        return Drop(DropReason.CHECKSUM, source)
    if advert_vrid != vrid:
        return Drop(DropReason.VRID, source)
    step = len(src)
    addresses = (
        tuple(socket.inet_ntop(family, payload[i : i + step]) for i in range(HEADER_LEN, len(payload), step))
        if count
        else ()
    )
    advert = Advert(vrid=advert_vrid, priority=priority, interval_cs=interval & MAX_INTERVAL_CS, addresses=addresses)
    return Received(advert, source, socket.inet_ntop(family, dst))


@functools.lru_cache(maxsize=64)
def _packed(address: str) -> bytes:
    """The packed form of an address (cached: the same few addresses come up on every packet)."""
    return ipaddress.ip_address(address.split("%", 1)[0]).packed
