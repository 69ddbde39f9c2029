"""The host network as rtnetlink reports it: links, addresses, policy rules, routes.

`read_snapshot` dumps them through pyroute2 (never parsing `ip` output) into
small immutable values; everything that interprets them (host_observe.py,
host_plan.py) is pure and works on these values alone.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from seesaw.common.rtnetlink import IFF_RUNNING as IFF_RUNNING  # rtnetlink's, read here and by the host part
from seesaw.common.rtnetlink import IFF_UP as IFF_UP
from seesaw.ncc.model import IPAddress

MAIN_TABLE = 254
LOCAL_TABLE = 255
RT_SCOPE_UNIVERSE = 0
RT_SCOPE_LINK = 253
RT_SCOPE_HOST = 254

IPInterface = ipaddress.IPv4Interface | ipaddress.IPv6Interface
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True)
class Link:
    index: int
    name: str
    kind: str = ""  # IFLA_INFO_KIND: "vlan", "dummy", "veth"...; "" for plain devices
    up: bool = False  # administratively up (IFF_UP)
    running: bool = False  # IFF_RUNNING: can send now
    mac: str = ""
    parent: int = 0  # IFLA_LINK (a VLAN's lower device)
    vlan_id: int = 0
    alias: str = ""


@dataclass(frozen=True)
class Address:
    index: int  # the link's
    interface: IPInterface
    scope: int = RT_SCOPE_UNIVERSE
    proto: int = 0  # IFA_PROTO: who added it (0 when unknown or the kernel predates 6.0)


@dataclass(frozen=True)
class Rule:
    family: int
    table: int
    priority: int = 0
    src: IPNetwork | None = None
    dst: IPNetwork | None = None
    proto: int = 0


@dataclass(frozen=True)
class Nexthop:
    gateway: IPAddress | None
    oif: int


@dataclass(frozen=True)
class Route:
    family: int
    table: int
    dst: IPNetwork
    nexthops: tuple[Nexthop, ...] = ()
    metric: int = 0
    proto: int = 0
    scope: int = RT_SCOPE_UNIVERSE


@dataclass
class Snapshot:
    links: dict[int, Link] = field(default_factory=dict)
    addresses: list[Address] = field(default_factory=list)
    rules: list[Rule] = field(default_factory=list)
    routes: list[Route] = field(default_factory=list)  # the main table's defaults and NCC's tables

    def link(self, name: str) -> Link | None:
        for link in self.links.values():
            if link.name == name:
                return link
        return None

    def names(self) -> list[str]:
        return sorted(link.name for link in self.links.values())

    def addresses_of(self, index: int) -> list[Address]:
        return [a for a in self.addresses if a.index == index]

    def defaults(self, family: int = socket.AF_INET) -> list[Route]:
        """The main table's default routes of `family`, best (lowest metric) first."""
        found = [r for r in self.routes if r.family == family and r.table == MAIN_TABLE and r.dst.prefixlen == 0]
        return sorted(found, key=lambda r: r.metric)

    def table_routes(self, table: int) -> list[Route]:
        return [r for r in self.routes if r.table == table]


def read_snapshot(
    ipr: Any, tables: frozenset[int] | Callable[[Snapshot], frozenset[int]] = frozenset(), detail: bool = True
) -> Snapshot:
    """Dump the host network through `ipr` (a pyroute2 IPRoute); links only unless `detail`.

    `tables` are the routing tables whose routes are read beside the main table's defaults, or a function
    of the links that says which (so the links are dumped once).
    """
    snapshot = Snapshot({m["index"]: _link(m) for m in ipr.get_links()})
    if not detail:
        return snapshot
    if callable(tables):
        tables = tables(snapshot)
    read_addresses(ipr, snapshot)
    snapshot.rules = [_rule(m) for m in ipr.get_rules(family=socket.AF_INET)]
    wanted = {MAIN_TABLE, *tables}
    for message in ipr.get_routes(family=socket.AF_INET):
        route = _route(message)
        if route.table in wanted and (route.table != MAIN_TABLE or route.dst.prefixlen == 0):
            snapshot.routes.append(route)
    return snapshot


def read_addresses(ipr: Any, snapshot: Snapshot) -> Snapshot:
    """Fill in `snapshot`'s addresses (a links-only snapshot becomes links and addresses)."""
    snapshot.addresses = [a for a in (_address(m) for m in ipr.get_addr()) if a is not None]
    return snapshot


def _link(m: Any) -> Link:
    info = m.get("IFLA_LINKINFO")
    kind = info.get("IFLA_INFO_KIND") if info is not None else None
    vlan_id = 0
    if kind == "vlan" and info is not None:
        data = info.get("IFLA_INFO_DATA")
        vlan_id = (data.get("IFLA_VLAN_ID") if data is not None else 0) or 0
    return Link(
        index=m["index"],
        name=m.get("IFLA_IFNAME") or "",
        kind=kind or "",
        up=bool(m["flags"] & IFF_UP),
        running=bool(m["flags"] & IFF_RUNNING),
        mac=(m.get("IFLA_ADDRESS") or "").lower(),
        parent=m.get("IFLA_LINK") or 0,
        vlan_id=vlan_id,
        alias=m.get("IFLA_IFALIAS") or "",
    )


def _address(m: Any) -> Address | None:
    text = m.get("IFA_LOCAL") or m.get("IFA_ADDRESS")
    if not text:
        return None
    interface = ipaddress.ip_interface(f"{text.split('%')[0]}/{m['prefixlen']}")
    return Address(m["index"], interface, m["scope"], m.get("IFA_PROTO") or 0)


def _network(text: str | None, length: int) -> IPNetwork | None:
    if not text or (not length and text in ("0.0.0.0", "::")):
        return None
    return ipaddress.ip_network(f"{text}/{length}", strict=False)


def _rule(m: Any) -> Rule:
    return Rule(
        family=m["family"],
        table=m.get("FRA_TABLE") or m["table"],
        priority=m.get("FRA_PRIORITY") or 0,
        src=_network(m.get("FRA_SRC"), m["src_len"]),
        dst=_network(m.get("FRA_DST"), m["dst_len"]),
        proto=m.get("FRA_PROTOCOL") or 0,
    )


def _route(m: Any) -> Route:
    family = m["family"]
    dst = m.get("RTA_DST") or ("0.0.0.0" if family == socket.AF_INET else "::")
    nexthops: list[Nexthop] = []
    multipath = m.get("RTA_MULTIPATH")
    if multipath:
        for hop in multipath:
            nexthops.append(Nexthop(_gateway(hop.get("RTA_GATEWAY")), hop["oif"]))
    else:
        nexthops.append(Nexthop(_gateway(m.get("RTA_GATEWAY")), m.get("RTA_OIF") or 0))
    return Route(
        family=family,
        table=m.get("RTA_TABLE") or m["table"],
        dst=ipaddress.ip_network(f"{dst}/{m['dst_len']}", strict=False),
        nexthops=tuple(nexthops),
        metric=m.get("RTA_PRIORITY") or 0,
        proto=m["proto"],
        scope=m["scope"],
    )


def _gateway(text: str | None) -> IPAddress | None:
    return ipaddress.ip_address(text) if text else None
