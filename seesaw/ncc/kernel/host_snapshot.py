"""The host network as rtnetlink reports it: links, addresses, policy rules, routes.

`read_snapshot` dumps them through a plain rtnetlink socket (host_rtnl; never
parsing `ip` output) into small immutable values; everything that interprets them (host_observe.py,
host_plan.py) is pure and works on these values alone.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

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


class Dumps(Protocol):
    """What reads the kernel's tables (host_rtnl.Rtnl)."""

    def links(self) -> list[Link]: ...
    def addresses(self, index: int = 0) -> list[Address]: ...
    def rules(self, family: int) -> list[Rule]: ...
    def routes(self, family: int, table: int) -> list[Route]: ...


def read_snapshot(
    rtnl: Dumps, tables: frozenset[int] | Callable[[Snapshot], frozenset[int]] = frozenset(), detail: bool = True
) -> Snapshot:
    """Dump the host network through `rtnl`; links only unless `detail`.

    `tables` are the routing tables whose routes are read beside the main table's defaults, or a function
    of the links that says which (so the links are dumped once). IPv4 rules and routes.
    """
    snapshot = Snapshot({link.index: link for link in rtnl.links()})
    if not detail:
        return snapshot
    if callable(tables):
        tables = tables(snapshot)
    snapshot.addresses = rtnl.addresses()
    snapshot.rules = rtnl.rules(socket.AF_INET)
    for table in sorted({MAIN_TABLE, *tables}):
        for route in rtnl.routes(socket.AF_INET, table):
            if table != MAIN_TABLE or route.dst.prefixlen == 0:
                snapshot.routes.append(route)
    return snapshot
