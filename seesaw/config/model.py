"""The cluster configuration as the engine uses it.

This is what `cluster.pb` becomes once parsed and validated (see
`seesaw.config.cluster`): plain immutable values, keyed the way Seesaw v2 keys
them, with every default and derived field (node priorities, VIP types,
generated healthcheck names, backend enablement) already resolved. Two
configs are equal exactly when they would program the same thing, so the
engine can diff them with `==`.

Nothing here does I/O.
"""

from __future__ import annotations

import enum
import ipaddress
from dataclasses import dataclass, field

from seesaw.pb import common_pb2

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPInterface = ipaddress.IPv4Interface | ipaddress.IPv6Interface
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

# Hard-coded in Seesaw v2 (common/seesaw/util.go): VIPs inside these ranges
# are anycast.
ANYCAST_RANGES: tuple[IPNetwork, ...] = (
    ipaddress.ip_network("192.168.255.0/24"),
    ipaddress.ip_network("2015:cafe:ffff::/64"),
)


class HostStatus(enum.IntEnum):
    """`Host.Status` of cluster.pb."""

    UNSET = 0
    PRODUCTION = 1
    TESTING = 2
    BUILDING = 3
    STANDBY = 4
    FAILURE = 5
    DISABLED = 6
    PROPOSED = 7


class HAState(enum.IntEnum):
    """Node HA state; values are those of `seesaw.common.HaState`."""

    UNKNOWN = common_pb2.HA_UNKNOWN
    BACKUP = common_pb2.HA_BACKUP
    DISABLED = common_pb2.HA_DISABLED
    ERROR = common_pb2.HA_ERROR
    LEADER = common_pb2.HA_LEADER
    SHUTDOWN = common_pb2.HA_SHUTDOWN


class Protocol(enum.IntEnum):
    """Transport protocol; values are IP protocol numbers."""

    TCP = 6
    UDP = 17

    def __str__(self) -> str:
        return self.name


class Scheduler(enum.Enum):
    """IPVS scheduler; values are the kernel's scheduler names."""

    RR = "rr"
    WRR = "wrr"
    LC = "lc"
    WLC = "wlc"
    SH = "sh"
    MH = "mh"


class LBMode(enum.Enum):
    """Forwarding mode of a vserver entry."""

    DSR = "DSR"
    NAT = "NAT"
    TUN = "TUN"


class HealthcheckType(enum.IntEnum):
    """`Healthcheck.Type` of cluster.pb."""

    ICMP_PING = 1
    UDP = 2
    TCP = 3
    HTTP = 4
    HTTPS = 5
    DNS = 6
    TCP_TLS = 7
    RADIUS = 8
    GRPC = 100

    @property
    def display_name(self) -> str:
        """Name used in generated check names: HTTPS shows as HTTP and
        TCP_TLS as TCP, as in Seesaw v2 (`HTTP/16767_0`)."""
        return {HealthcheckType.HTTPS: "HTTP", HealthcheckType.TCP_TLS: "TCP"}.get(self, self.name)


class HealthcheckMode(enum.IntEnum):
    """`Healthcheck.Mode` of cluster.pb: how the probe reaches the backend."""

    PLAIN = 1
    DSR = 2
    TUN = 3


class VIPType(enum.IntEnum):
    """Values are those of `seesaw.common.VIPType`."""

    UNICAST = common_pb2.VIP_UNICAST
    ANYCAST = common_pb2.VIP_ANYCAST
    DEDICATED = common_pb2.VIP_DEDICATED

    def __str__(self) -> str:
        return self.name.capitalize()


class AccessRole(enum.IntEnum):
    ADMIN = 1
    OPS = 2


class AccessType(enum.IntEnum):
    USER = 1
    GROUP = 2


@dataclass(frozen=True)
class Host:
    """A named host with optional IPv4/IPv6 addresses (with prefix)."""

    hostname: str
    ipv4: ipaddress.IPv4Interface | None = None
    ipv6: ipaddress.IPv6Interface | None = None
    status: HostStatus = HostStatus.UNSET

    def addresses(self) -> list[IPInterface]:
        return [a for a in (self.ipv4, self.ipv6) if a is not None]


@dataclass(frozen=True)
class Node:
    """A Seesaw node of the cluster, with its derived HA settings."""

    host: Host
    priority: int  # 1..255; the node with the lowest IPv4 gets 255
    state: HAState  # UNKNOWN, or DISABLED when HA is off for this node
    anycast_enabled: bool
    bgp_enabled: bool
    vservers_enabled: bool

    @property
    def hostname(self) -> str:
        return self.host.hostname


@dataclass(frozen=True)
class VLAN:
    vlan_id: int
    host: Host
    backend_count: dict[int, int] = field(default_factory=dict, compare=False)  # by IP version
    vip_count: dict[int, int] = field(default_factory=dict, compare=False)


@dataclass(frozen=True)
class VIP:
    """One virtual IP of a vserver (one per address family)."""

    ip: IPAddress
    type: VIPType

    def __str__(self) -> str:
        return f"{self.ip} ({self.type})"


@dataclass(frozen=True)
class Healthcheck:
    """A healthcheck definition, named `<TYPE>/<port>_<n>` as in Seesaw v2."""

    name: str
    type: HealthcheckType
    mode: HealthcheckMode = HealthcheckMode.PLAIN
    port: int = 0
    interval: float = 10.0  # seconds
    timeout: float = 5.0  # seconds
    retries: int = 0
    send: str = ""
    receive: str = ""
    code: int = 0
    method: str = ""
    proxy: bool = False
    tls_verify: bool = True
    host_header: str = ""


@dataclass(frozen=True)
class Backend:
    host: Host
    weight: int = 1
    enabled: bool = True  # status PRODUCTION or TESTING
    in_service: bool = True  # status not PROPOSED or BUILDING; counts in watermarks

    @property
    def hostname(self) -> str:
        return self.host.hostname


@dataclass(frozen=True)
class VserverEntry:
    """One port/protocol of a vserver."""

    port: int
    protocol: Protocol
    scheduler: Scheduler = Scheduler.WLC
    mode: LBMode = LBMode.DSR
    persistence: int = 0
    one_packet: bool = False
    high_watermark: float = 0.0
    low_watermark: float = 0.0
    lthreshold: int = 0
    uthreshold: int = 0
    quiescent: bool = False
    healthchecks: dict[str, Healthcheck] = field(default_factory=dict)

    @property
    def key(self) -> str:
        """Seesaw's entry key, e.g. `80/TCP`."""
        return f"{self.port}/{self.protocol}"


@dataclass(frozen=True)
class AccessGrant:
    grantee: str
    role: AccessRole
    type: AccessType

    @property
    def key(self) -> str:
        """`user:<name>` or `group:<name>`, as Seesaw keys grants."""
        return f"{self.type.name.lower()}:{self.grantee}"


@dataclass(frozen=True)
class Vserver:
    name: str
    host: Host  # entry_address
    rp: str = ""
    enabled: bool = True  # entry_address status PRODUCTION or TESTING
    use_fwm: bool = False
    entries: dict[str, VserverEntry] = field(default_factory=dict)  # by entry key
    backends: dict[str, Backend] = field(default_factory=dict)  # by hostname
    healthchecks: dict[str, Healthcheck] = field(default_factory=dict)  # vserver-level, by name
    vips: dict[str, VIP] = field(default_factory=dict)  # by str(VIP)
    access_grants: dict[str, AccessGrant] = field(default_factory=dict)  # by grant key
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True)
class Metadata:
    last_updated: int = 0  # unix seconds
    attributes: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Cluster:
    """A whole cluster.pb, resolved."""

    site: str
    vip: Host  # the cluster VIP (seesaw_vip)
    nodes: dict[str, Node] = field(default_factory=dict)  # by hostname
    vservers: dict[str, Vserver] = field(default_factory=dict)  # by name
    vlans: dict[int, VLAN] = field(default_factory=dict)  # by VLAN ID
    vip_subnets: dict[str, IPNetwork] = field(default_factory=dict)  # by CIDR string
    bgp_local_asn: int = 64512
    bgp_remote_asn: int = 0
    bgp_peers: dict[str, Host] = field(default_factory=dict)  # by hostname
    access_groups: dict[str, tuple[str, ...]] = field(default_factory=dict)  # name -> members
    metadata: Metadata = field(default_factory=Metadata)
    warnings: tuple[str, ...] = ()  # "<vserver>: <message>" from misconfigured_vserver
    vmac: str = "00:00:5E:00:01:01"

    def node_by_ip(self, ip: IPAddress) -> Node | None:
        for node in self.nodes.values():
            for addr in node.host.addresses():
                if addr.ip == ip:
                    return node
        return None
