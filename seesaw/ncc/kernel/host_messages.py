"""rtnetlink messages for the host part's writes, built as pyroute2 message objects.

Pure: every function returns a message with its header type and flags set,
ready to send; nothing here opens a socket (pyroute2 encodes offline, which is
how the unit tests check these messages). Everything NCC adds carries its
protocol number (`PROTO`, IFA_PROTO / FRA_PROTOCOL / rtm_protocol), so `ip`
shows whose it is and NCC recognises its own addresses on shared links (lo).
"""

from __future__ import annotations

import ipaddress
import socket

from pyroute2.netlink import NLM_F_ACK, NLM_F_CREATE, NLM_F_EXCL, NLM_F_REPLACE, NLM_F_REQUEST, nlmsg
from pyroute2.netlink.rtnl import (
    RTM_DELADDR,
    RTM_DELLINK,
    RTM_DELROUTE,
    RTM_DELRULE,
    RTM_NEWADDR,
    RTM_NEWLINK,
    RTM_NEWROUTE,
    RTM_NEWRULE,
)
from pyroute2.netlink.rtnl.fibmsg import FR_ACT_TO_TBL, fibmsg
from pyroute2.netlink.rtnl.ifaddrmsg import IFA_F_NODAD, IFA_F_NOPREFIXROUTE, ifaddrmsg
from pyroute2.netlink.rtnl.ifinfmsg import ifinfmsg
from pyroute2.netlink.rtnl.rtmsg import rtmsg

from seesaw.ncc.kernel.host_snapshot import IFF_UP, RT_SCOPE_HOST, RT_SCOPE_UNIVERSE, IPInterface, Route, Rule

PROTO = 83  # "S": Seesaw's routes, rules and addresses (rtm_protocol / FRA_PROTOCOL / IFA_PROTO)
RTN_UNICAST = 1
ADD = NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL
REPLACE = NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_REPLACE
CHANGE = NLM_F_REQUEST | NLM_F_ACK
_LINK_INDEX_NONE = 0


def _finish(message: nlmsg, msg_type: int, flags: int) -> nlmsg:
    message["header"]["type"] = msg_type
    message["header"]["flags"] = flags
    return message


def _family(address: ipaddress.IPv4Address | ipaddress.IPv6Address | IPInterface) -> int:
    return socket.AF_INET if address.version == 4 else socket.AF_INET6


def link_set(index: int, *, up: bool | None = None, mac: str | None = None, alias: str | None = None) -> nlmsg:
    """Change one link: admin state, MAC, alias (only what is given)."""
    message = ifinfmsg()
    message["family"] = socket.AF_UNSPEC
    message["index"] = index
    if up is not None:
        message["change"] = IFF_UP
        message["flags"] = IFF_UP if up else 0
    attrs = []
    if mac is not None:
        attrs.append(("IFLA_ADDRESS", mac))
    if alias is not None:
        attrs.append(("IFLA_IFALIAS", alias))
    message["attrs"] = attrs
    return _finish(message, RTM_NEWLINK, CHANGE)


def link_add(name: str, kind: str, *, parent: int = _LINK_INDEX_NONE, vlan_id: int = 0) -> nlmsg:
    """Create a link of `kind` ("dummy", or "vlan" on `parent` with `vlan_id`)."""
    message = ifinfmsg()
    message["family"] = socket.AF_UNSPEC
    info: dict[str, object] = {"attrs": [("IFLA_INFO_KIND", kind)]}
    if kind == "vlan":
        info["attrs"] = [("IFLA_INFO_KIND", kind), ("IFLA_INFO_DATA", {"attrs": [("IFLA_VLAN_ID", vlan_id)]})]
    attrs: list[tuple[str, object]] = [("IFLA_IFNAME", name), ("IFLA_LINKINFO", info)]
    if parent:
        attrs.append(("IFLA_LINK", parent))
    message["attrs"] = attrs
    return _finish(message, RTM_NEWLINK, ADD)


def link_delete(index: int) -> nlmsg:
    message = ifinfmsg()
    message["family"] = socket.AF_UNSPEC
    message["index"] = index
    return _finish(message, RTM_DELLINK, CHANGE)


def address(index: int, interface: IPInterface, *, delete: bool = False, host_route: bool = True) -> nlmsg:
    """Add (replacing: idempotent) or delete `interface` on link `index`.

    IPv4 gets its broadcast address; IPv6 skips duplicate address detection.
    `host_route=False` adds no prefix route (for /32 and /128 VIPs it makes none anyway).
    """
    message = ifaddrmsg()
    message["family"] = _family(interface)
    message["prefixlen"] = interface.network.prefixlen
    message["index"] = index
    message["scope"] = RT_SCOPE_UNIVERSE
    ip = str(interface.ip)
    attrs: list[tuple[str, object]] = [("IFA_LOCAL", ip), ("IFA_ADDRESS", ip)]
    flags = 0
    if interface.version == 4:
        if interface.network.prefixlen < 31 and not delete:
            attrs.append(("IFA_BROADCAST", str(interface.network.broadcast_address)))
    else:
        attrs = [("IFA_ADDRESS", ip)]
        flags |= IFA_F_NODAD
    if not host_route:
        flags |= IFA_F_NOPREFIXROUTE
    if not delete:
        message["flags"] = flags & 0xFF
        attrs.append(("IFA_FLAGS", flags))
        attrs.append(("IFA_PROTO", PROTO))
    message["attrs"] = attrs
    return _finish(message, RTM_DELADDR if delete else RTM_NEWADDR, CHANGE if delete else REPLACE)


def rule(spec: Rule, *, delete: bool = False) -> nlmsg:
    """Add (failing with EEXIST on an identical rule) or delete a `lookup <table>` policy rule."""
    message = fibmsg()
    message["family"] = spec.family
    message["action"] = FR_ACT_TO_TBL
    message["table"] = spec.table if spec.table < 256 else 0
    attrs: list[tuple[str, object]] = [("FRA_TABLE", spec.table), ("FRA_PRIORITY", spec.priority)]
    if spec.src is not None:
        message["src_len"] = spec.src.prefixlen
        attrs.append(("FRA_SRC", str(spec.src.network_address)))
    if spec.dst is not None:
        message["dst_len"] = spec.dst.prefixlen
        attrs.append(("FRA_DST", str(spec.dst.network_address)))
    if not delete:
        attrs.append(("FRA_PROTOCOL", spec.proto or PROTO))
    message["attrs"] = attrs
    return _finish(message, RTM_DELRULE if delete else RTM_NEWRULE, CHANGE if delete else ADD)


def route(spec: Route, *, delete: bool = False) -> nlmsg:
    """Replace (idempotent) or delete a unicast route, with one nexthop or several (ECMP)."""
    message = rtmsg()
    message["family"] = spec.family
    message["dst_len"] = spec.dst.prefixlen
    message["table"] = spec.table if spec.table < 256 else 252
    message["proto"] = spec.proto or PROTO
    message["scope"] = spec.scope if spec.scope != RT_SCOPE_HOST else RT_SCOPE_UNIVERSE
    message["type"] = RTN_UNICAST
    attrs: list[tuple[str, object]] = [("RTA_TABLE", spec.table)]
    if spec.dst.prefixlen:
        attrs.append(("RTA_DST", str(spec.dst.network_address)))
    if len(spec.nexthops) == 1:
        (hop,) = spec.nexthops
        if hop.gateway is not None:
            attrs.append(("RTA_GATEWAY", str(hop.gateway)))
        attrs.append(("RTA_OIF", hop.oif))
    elif spec.nexthops:
        hops = []
        for hop in spec.nexthops:
            hop_attrs = [("RTA_GATEWAY", str(hop.gateway))] if hop.gateway is not None else []
            hops.append({"oif": hop.oif, "hops": 0, "flags": 0, "attrs": hop_attrs})
        attrs.append(("RTA_MULTIPATH", hops))
    message["attrs"] = attrs
    return _finish(message, RTM_DELROUTE if delete else RTM_NEWROUTE, CHANGE if delete else REPLACE)
