"""rtnetlink messages for the host part's writes, as the bytes the kernel reads (host_wire's layouts).

Pure: every function returns a whole netlink message, its header's type and
flags set (the socket numbers it when it sends, host_rtnl.Rtnl.call); nothing
here opens a socket. The unit tests read them back with pyroute2's decoder,
an independent reading of the same layouts. Everything NCC adds carries its
protocol number (`PROTO`, IFA_PROTO / FRA_PROTOCOL / rtm_protocol), so `ip`
shows whose it is and NCC recognises its own addresses on shared links (lo).
"""

from __future__ import annotations

import ipaddress
import socket

from seesaw.common.rtnetlink import (
    IFINFO,
    NLM_F_ACK,
    NLM_F_CREATE,
    NLM_F_EXCL,
    NLM_F_REPLACE,
    NLM_F_REQUEST,
    RTM_DELADDR,
    RTM_DELLINK,
    RTM_DELROUTE,
    RTM_DELRULE,
    RTM_NEWADDR,
    RTM_NEWLINK,
    RTM_NEWROUTE,
    RTM_NEWRULE,
)
from seesaw.ncc.kernel.host_snapshot import IFF_UP, RT_SCOPE_HOST, RT_SCOPE_UNIVERSE, IPInterface, Route, Rule
from seesaw.ncc.kernel.host_wire import (
    FRA_DST,
    FRA_PRIORITY,
    FRA_PROTOCOL,
    FRA_SRC,
    FRA_TABLE,
    IFA_ADDRESS,
    IFA_BROADCAST,
    IFA_FLAGS,
    IFA_LOCAL,
    IFA_PROTO,
    IFADDR,
    IFLA_ADDRESS,
    IFLA_IFALIAS,
    IFLA_IFNAME,
    IFLA_INFO_DATA,
    IFLA_INFO_KIND,
    IFLA_LINK,
    IFLA_LINKINFO,
    IFLA_VLAN_ID,
    NEXTHOP,
    RTA_DST,
    RTA_GATEWAY,
    RTA_MULTIPATH,
    RTA_OIF,
    RTA_TABLE,
    RTMSG,
    RULE,
    attr,
    message,
    text,
    u8,
    u16,
    u32,
)

PROTO = 83  # "S": Seesaw's routes, rules and addresses (rtm_protocol / FRA_PROTOCOL / IFA_PROTO)
RTN_UNICAST = 1
FR_ACT_TO_TBL = 1
RT_TABLE_COMPAT = 252  # rtm_table of a table above 255 (the number itself goes in RTA_TABLE)
IFA_F_NODAD = 0x02
IFA_F_NOPREFIXROUTE = 0x200
ADD = NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL
REPLACE = NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_REPLACE
CHANGE = NLM_F_REQUEST | NLM_F_ACK
_LINK_INDEX_NONE = 0


def _family(address: ipaddress.IPv4Address | ipaddress.IPv6Address | IPInterface) -> int:
    return socket.AF_INET if address.version == 4 else socket.AF_INET6


def link_set(index: int, *, up: bool | None = None, mac: str | None = None, alias: str | None = None) -> bytes:
    """Change one link: admin state, MAC, alias (only what is given)."""
    change, flags = (IFF_UP, IFF_UP if up else 0) if up is not None else (0, 0)
    body = IFINFO.pack(socket.AF_UNSPEC, 0, index, flags, change)
    if mac is not None:
        body += attr(IFLA_ADDRESS, bytes.fromhex(mac.replace(":", "")))
    if alias is not None:
        body += attr(IFLA_IFALIAS, text(alias))
    return message(RTM_NEWLINK, CHANGE, body)


def link_add(name: str, kind: str, *, parent: int = _LINK_INDEX_NONE, vlan_id: int = 0) -> bytes:
    """Create a link of `kind` ("dummy", or "vlan" on `parent` with `vlan_id`)."""
    info = attr(IFLA_INFO_KIND, text(kind))
    if kind == "vlan":
        info += attr(IFLA_INFO_DATA, attr(IFLA_VLAN_ID, u16(vlan_id)))
    body = IFINFO.pack(socket.AF_UNSPEC, 0, 0, 0, 0) + attr(IFLA_IFNAME, text(name)) + attr(IFLA_LINKINFO, info)
    if parent:
        body += attr(IFLA_LINK, u32(parent))
    return message(RTM_NEWLINK, ADD, body)


def link_delete(index: int) -> bytes:
    return message(RTM_DELLINK, CHANGE, IFINFO.pack(socket.AF_UNSPEC, 0, index, 0, 0))


def address(index: int, interface: IPInterface, *, delete: bool = False, host_route: bool = True) -> bytes:
    """Add (replacing: idempotent) or delete `interface` on link `index`.

    IPv4 gets its broadcast address; IPv6 skips duplicate address detection.
    `host_route=False` adds no prefix route (for /32 and /128 VIPs it makes none anyway).
    """
    packed = interface.ip.packed
    attrs = attr(IFA_LOCAL, packed) + attr(IFA_ADDRESS, packed)
    flags = 0
    if interface.version == 4:
        if interface.network.prefixlen < 31 and not delete:
            attrs += attr(IFA_BROADCAST, interface.network.broadcast_address.packed)
    else:
        attrs = attr(IFA_ADDRESS, packed)
        flags |= IFA_F_NODAD
    if not host_route:
        flags |= IFA_F_NOPREFIXROUTE
    header_flags = 0
    if not delete:
        header_flags = flags & 0xFF
        attrs += attr(IFA_FLAGS, u32(flags)) + attr(IFA_PROTO, u8(PROTO))
    body = IFADDR.pack(_family(interface), interface.network.prefixlen, header_flags, RT_SCOPE_UNIVERSE, index)
    return message(RTM_DELADDR if delete else RTM_NEWADDR, CHANGE if delete else REPLACE, body + attrs)


def rule(spec: Rule, *, delete: bool = False) -> bytes:
    """Add (failing with EEXIST on an identical rule) or delete a `lookup <table>` policy rule."""
    src_len = spec.src.prefixlen if spec.src is not None else 0
    dst_len = spec.dst.prefixlen if spec.dst is not None else 0
    table = spec.table if spec.table < 256 else 0
    body = RULE.pack(spec.family, dst_len, src_len, 0, table, 0, 0, FR_ACT_TO_TBL, 0)
    body += attr(FRA_TABLE, u32(spec.table)) + attr(FRA_PRIORITY, u32(spec.priority))
    if spec.src is not None:
        body += attr(FRA_SRC, spec.src.network_address.packed)
    if spec.dst is not None:
        body += attr(FRA_DST, spec.dst.network_address.packed)
    if not delete:
        body += attr(FRA_PROTOCOL, u8(spec.proto or PROTO))
    return message(RTM_DELRULE if delete else RTM_NEWRULE, CHANGE if delete else ADD, body)


def route(spec: Route, *, delete: bool = False) -> bytes:
    """Replace (idempotent) or delete a unicast route, with one nexthop or several (ECMP)."""
    table = spec.table if spec.table < 256 else RT_TABLE_COMPAT
    scope = spec.scope if spec.scope != RT_SCOPE_HOST else RT_SCOPE_UNIVERSE
    body = RTMSG.pack(spec.family, spec.dst.prefixlen, 0, 0, table, spec.proto or PROTO, scope, RTN_UNICAST, 0)
    body += attr(RTA_TABLE, u32(spec.table))
    if spec.dst.prefixlen:
        body += attr(RTA_DST, spec.dst.network_address.packed)
    if len(spec.nexthops) == 1:
        (hop,) = spec.nexthops
        if hop.gateway is not None:
            body += attr(RTA_GATEWAY, hop.gateway.packed)
        body += attr(RTA_OIF, u32(hop.oif))
    elif spec.nexthops:
        hops = b""
        for hop in spec.nexthops:
            gateway = attr(RTA_GATEWAY, hop.gateway.packed) if hop.gateway is not None else b""
            hops += NEXTHOP.pack(NEXTHOP.size + len(gateway), 0, 0, hop.oif) + gateway
        body += attr(RTA_MULTIPATH, hops)
    return message(RTM_DELROUTE if delete else RTM_NEWROUTE, CHANGE if delete else REPLACE, body)
