"""rtnetlink's wire format as the host part reads and writes it: pure bytes in, values out (and back).

Links, addresses, policy rules and routes are read from the kernel's
messages into host_snapshot's values (`parse_link`, `parse_address`,
`parse_rule`, `parse_route`); host_messages builds the writes with `message`
and `attr`. Only the fields the host part uses are decoded. Nothing here
opens a socket (host_rtnl does), so all of it is checked offline, against
pyroute2's own decoder in the unit tests.

Layouts: linux/netlink.h, linux/rtnetlink.h, linux/if_link.h,
linux/if_addr.h, linux/fib_rules.h.
"""

from __future__ import annotations

import ipaddress
import socket
import struct
import sys

from seesaw.common.rtnetlink import HEADER, IFF_RUNNING, IFF_UP, IFINFO
from seesaw.ncc.kernel.host_snapshot import Address, IPNetwork, Link, Nexthop, Route, Rule

# Link attributes (IFLA_*) and the nested link info.
IFLA_ADDRESS = 1
IFLA_IFNAME = 3
IFLA_LINK = 5
IFLA_LINKINFO = 18
IFLA_IFALIAS = 20
IFLA_INFO_KIND = 1
IFLA_INFO_DATA = 2
IFLA_VLAN_ID = 1
# Address attributes (IFA_*).
IFA_ADDRESS = 1
IFA_LOCAL = 2
IFA_BROADCAST = 4
IFA_FLAGS = 8
IFA_PROTO = 11
# Policy rule attributes (FRA_*).
FRA_DST = 1
FRA_SRC = 2
FRA_PRIORITY = 6
FRA_TABLE = 15
FRA_PROTOCOL = 21
# Route attributes (RTA_*).
RTA_DST = 1
RTA_OIF = 4
RTA_GATEWAY = 5
RTA_PRIORITY = 6
RTA_MULTIPATH = 9
RTA_TABLE = 15

IFADDR = struct.Struct("=BBBBI")  # ifaddrmsg: family, prefix length, flags, scope, index
RULE = struct.Struct("=BBBBBBBBI")  # fib_rule_hdr: family, dst_len, src_len, tos, table, res1, res2, action, flags
RTMSG = struct.Struct("=BBBBBBBBI")  # rtmsg: family, dst_len, src_len, tos, table, protocol, scope, type, flags
NEXTHOP = struct.Struct("=HBBi")  # rtnexthop: length, flags, hops, ifindex
ATTR = struct.Struct("=HH")  # rtattr: length, type
_NLA_TYPE_MASK = 0x3FFF  # without NLA_F_NESTED / NLA_F_NET_BYTEORDER


def align(length: int) -> int:
    return (length + 3) & ~3


def attrs(data: bytes, offset: int, end: int) -> dict[int, bytes]:
    """The attributes in data[offset:end] by type (the last of a type wins)."""
    found: dict[int, bytes] = {}
    while offset + ATTR.size <= end:
        length, kind = ATTR.unpack_from(data, offset)
        if length < ATTR.size or offset + length > end:
            break
        found[kind & _NLA_TYPE_MASK] = data[offset + ATTR.size : offset + length]
        offset += align(length)
    return found


def attr(kind: int, value: bytes) -> bytes:
    """One attribute, padded to 4 bytes."""
    body = ATTR.pack(ATTR.size + len(value), kind) + value
    return body + b"\0" * (align(len(body)) - len(body))


def u8(value: int) -> bytes:
    return struct.pack("=B", value)


def u16(value: int) -> bytes:
    return struct.pack("=H", value)


def u32(value: int) -> bytes:
    return struct.pack("=I", value)


def text(value: str) -> bytes:
    """A NUL-terminated string attribute's value."""
    return value.encode() + b"\0"


def message(kind: int, flags: int, body: bytes) -> bytes:
    """A whole netlink message (sequence 0: the socket numbers it when it sends)."""
    return HEADER.pack(HEADER.size + len(body), kind, flags, 0, 0) + body


def _text(value: bytes | None) -> str:
    return value.split(b"\0", 1)[0].decode(errors="replace") if value else ""


def _uint(value: bytes | None) -> int:
    """An unsigned attribute of 1, 2, 4 or 8 bytes (0 when absent)."""
    return int.from_bytes(value[:8], sys.byteorder) if value else 0


def parse_link(data: bytes, offset: int, end: int) -> Link:
    """The Link in the RTM_NEWLINK body at data[offset:end]."""
    _, _, index, flags, _ = IFINFO.unpack_from(data, offset)
    found = attrs(data, offset + IFINFO.size, end)
    kind, vlan_id = "", 0
    info = found.get(IFLA_LINKINFO)
    if info is not None:
        nested = attrs(info, 0, len(info))
        kind = _text(nested.get(IFLA_INFO_KIND))
        info_data = nested.get(IFLA_INFO_DATA)
        if kind == "vlan" and info_data is not None:
            vlan_id = _uint(attrs(info_data, 0, len(info_data)).get(IFLA_VLAN_ID))
    mac = found.get(IFLA_ADDRESS, b"")
    return Link(
        index=index,
        name=_text(found.get(IFLA_IFNAME)),
        kind=kind,
        up=bool(flags & IFF_UP),
        running=bool(flags & IFF_RUNNING),
        mac=mac.hex(":") if mac else "",
        parent=_uint(found.get(IFLA_LINK)),
        vlan_id=vlan_id,
        alias=_text(found.get(IFLA_IFALIAS)),
    )


def parse_address(data: bytes, offset: int, end: int) -> Address | None:
    """The Address in the RTM_NEWADDR body at data[offset:end]; None if it has none."""
    family, prefix, _, scope, index = IFADDR.unpack_from(data, offset)
    found = attrs(data, offset + IFADDR.size, end)
    raw = found.get(IFA_LOCAL) or found.get(IFA_ADDRESS)
    if family not in (socket.AF_INET, socket.AF_INET6) or raw is None:
        return None
    address = ipaddress.ip_address(raw)
    return Address(index, ipaddress.ip_interface(f"{address}/{prefix}"), scope, _uint(found.get(IFA_PROTO)))


def _network(raw: bytes | None, length: int) -> IPNetwork | None:
    """A rule's source or destination; None for "all" (no address, or the unspecified one with length 0)."""
    if not raw:
        return None
    address = ipaddress.ip_address(raw)
    if not length and address.is_unspecified:
        return None
    return ipaddress.ip_network(f"{address}/{length}", strict=False)


def parse_rule(data: bytes, offset: int, end: int) -> Rule:
    """The Rule in the RTM_NEWRULE body at data[offset:end]."""
    family, dst_len, src_len, _, table, _, _, _, _ = RULE.unpack_from(data, offset)
    found = attrs(data, offset + RULE.size, end)
    return Rule(
        family=family,
        table=_uint(found.get(FRA_TABLE)) or table,
        priority=_uint(found.get(FRA_PRIORITY)),
        src=_network(found.get(FRA_SRC), src_len),
        dst=_network(found.get(FRA_DST), dst_len),
        proto=_uint(found.get(FRA_PROTOCOL)),
    )


def _gateway(raw: bytes | None) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    return ipaddress.ip_address(raw) if raw else None


def parse_route(data: bytes, offset: int, end: int) -> Route:
    """The Route in the RTM_NEWROUTE body at data[offset:end] (each nexthop of a multipath route)."""
    family, dst_len, _, _, table, proto, scope, _, _ = RTMSG.unpack_from(data, offset)
    found = attrs(data, offset + RTMSG.size, end)
    nexthops: list[Nexthop] = []
    multipath = found.get(RTA_MULTIPATH)
    if multipath:
        at = 0
        while at + NEXTHOP.size <= len(multipath):
            length, _, _, oif = NEXTHOP.unpack_from(multipath, at)
            if length < NEXTHOP.size or at + length > len(multipath):
                break
            hop = attrs(multipath, at + NEXTHOP.size, at + length)
            nexthops.append(Nexthop(_gateway(hop.get(RTA_GATEWAY)), oif))
            at += align(length)
    else:
        nexthops.append(Nexthop(_gateway(found.get(RTA_GATEWAY)), _uint(found.get(RTA_OIF))))
    raw = found.get(RTA_DST)
    unspecified = "0.0.0.0" if family == socket.AF_INET else "::"
    dst = ipaddress.ip_address(raw) if raw else ipaddress.ip_address(unspecified)
    return Route(
        family=family,
        table=_uint(found.get(RTA_TABLE)) or table,
        dst=ipaddress.ip_network(f"{dst}/{dst_len}", strict=False),
        nexthops=tuple(nexthops),
        metric=_uint(found.get(RTA_PRIORITY)),
        proto=proto,
        scope=scope,
    )
