"""What NCC asks of the BGP speaker, what the speaker holds, and what it reports.

NCC owns a small, named part of bgpd's config and nothing else:

* under `router bgp <local ASN>` (the default VRF's instance): the router ID
  when one is asked for; the peer group `SEESAW` (its remote AS, its
  activation and route maps in the IPv4 and IPv6 unicast families, its
  members, one per bgp_peer address); and the `network` statements that lie
  inside Seesaw's anycast ranges;
* the route maps `SEESAW-IN` (created as `deny 10`: a load balancer learns no
  routes from its routers) and `SEESAW-OUT` (created as `permit 10`). NCC only
  creates them when missing, so an operator may refine them (communities, MED)
  and NCC keeps the refinement.

Everything else (other neighbours, other networks, redistribution, timers) is
the operator's and is never touched. Nothing here does I/O.
"""

from __future__ import annotations

import enum
import ipaddress
from dataclasses import dataclass, field
from typing import TypeAlias

from seesaw.config.model import ANYCAST_RANGES

IPAddress: TypeAlias = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork: TypeAlias = ipaddress.IPv4Network | ipaddress.IPv6Network

PEER_GROUP = "SEESAW"
ROUTE_MAP_IN = "SEESAW-IN"
ROUTE_MAP_OUT = "SEESAW-OUT"
# The entry NCC creates for each route map when it is missing.
ROUTE_MAPS = ((ROUTE_MAP_IN, "deny 10"), (ROUTE_MAP_OUT, "permit 10"))
FAMILIES = (4, 6)


def address_family(version: int) -> str:
    """The `address-family` a prefix of this IP version lives in."""
    return "ipv4 unicast" if version == 4 else "ipv6 unicast"


def owned(network: IPNetwork) -> bool:
    """Whether NCC owns a `network` statement for this prefix (it lies in an anycast range)."""
    return any(network.version == r.version and network.subnet_of(r) for r in ANYCAST_RANGES)


@dataclass(frozen=True)
class Peer:
    address: IPAddress
    description: str = ""


@dataclass(frozen=True)
class Desired:
    """The BGP state the engine asks for (`seesaw.ncc.BGPConfig`)."""

    enabled: bool
    local_asn: int = 0
    remote_asn: int = 0
    router_id: ipaddress.IPv4Address | None = None
    peers: tuple[Peer, ...] = ()  # sorted by address, one per address
    networks: frozenset[IPNetwork] = frozenset()


DISABLED = Desired(enabled=False)


@dataclass(frozen=True)
class Running:
    """The part of bgpd's running config that matters to NCC (`running.parse`)."""

    asn: int | None = None  # `router bgp N` of the default VRF; None when there is none
    router_id: str = ""
    default_ipv4_unicast: bool = True  # false after `no bgp default ipv4-unicast`
    group: bool = False  # `neighbor SEESAW peer-group`
    group_remote_as: str = ""
    # Per IP version: the peer group's statements in that unicast family, less the `neighbor SEESAW ` prefix
    # ("activate", "route-map SEESAW-IN in", ...).
    group_af: dict[int, frozenset[str]] = field(default_factory=dict)
    members: dict[IPAddress, str] = field(default_factory=dict)  # member address -> description
    others: frozenset[IPAddress] = frozenset()  # IP neighbours outside the peer group
    networks: frozenset[IPNetwork] = frozenset()
    route_maps: frozenset[str] = frozenset()

    def activated(self, version: int) -> bool:
        """Whether the peer group is active in the unicast family of this IP version."""
        statements = self.group_af.get(version, frozenset())
        if "activate" in statements:
            return True
        return version == 4 and self.default_ipv4_unicast and "no activate" not in statements


class ChangeOp(enum.IntEnum):
    """Values are those of `seesaw.ncc.PlanStep.Op`."""

    ADD = 0
    UPDATE = 1
    DELETE = 2

    def __str__(self) -> str:
        return self.name


@dataclass(frozen=True)
class Change:
    """One statement to change in bgpd: entered through `context` (each line a config
    mode to enter, outermost first), then `lines` typed in it."""

    op: ChangeOp
    key: str  # what it is about: "network 192.168.255.1/32", "neighbor 10.0.0.1", ...
    context: tuple[str, ...]
    lines: tuple[str, ...] = ()

    def detail(self) -> str:
        return "; ".join((*self.context, *self.lines))


@dataclass(frozen=True)
class Problem:
    """Why a part of the desired state cannot be applied; `key` names the part."""

    key: str
    message: str


@dataclass(frozen=True)
class MessageStats:
    """(sent, received) per BGP message type."""

    opens: tuple[int, int] = (0, 0)
    notifications: tuple[int, int] = (0, 0)
    updates: tuple[int, int] = (0, 0)
    keepalives: tuple[int, int] = (0, 0)
    route_refresh: tuple[int, int] = (0, 0)
    capability: tuple[int, int] = (0, 0)
    total: tuple[int, int] = (0, 0)


class SessionState(enum.Enum):
    UNKNOWN = "Unknown"
    IDLE = "Idle"
    CONNECT = "Connect"
    ACTIVE = "Active"
    OPEN_SENT = "OpenSent"
    OPEN_CONFIRM = "OpenConfirm"
    ESTABLISHED = "Established"

    @staticmethod
    def by_name(name: str) -> SessionState:
        """The state named `name` (any case; "Idle (Admin)" is Idle), else UNKNOWN."""
        words = name.split()
        wanted = words[0].lower() if words else ""
        for state in SessionState:
            if state.value.lower() == wanted:
                return state
        return SessionState.UNKNOWN

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True)
class Neighbor:
    address: IPAddress
    asn: int = 0
    local_asn: int = 0
    router_id: str = ""
    description: str = ""
    state: SessionState = SessionState.UNKNOWN
    uptime_s: int = 0
    peer_group: str = ""
    stats: MessageStats = MessageStats()
