"""NCC's desired-state objects: what the engine asks the kernel to hold.

Every object is an immutable value with a stable key. Two objects with the same
key and equal fields program the same thing, so "has it changed?" is `!=`, and
"is it the same object?" is a key lookup. A `Ref` (kind, key) names an object
across kinds; the planner and the dataplanes speak in refs.

    kind         key                                  lives
    lb           interface name                       the LB NIC (VMAC, cluster VIP, up/down)
    vlan         VLANKey (LB name, VLAN id)           <lb>.<id> with this node's addresses
    vip          address                              on the LB NIC/VLAN (unicast) or dummy/lo
    service      ServiceKey (af, proto, addr, port)   an IPVS virtual service, or (af, fwmark)
    destination  DestinationKey (service, addr, port) a real server of one service
    filter       address                              host filtering for one VIP

Nothing here does I/O. Conversion from and to protobuf lives in `convert.py`.
"""

from __future__ import annotations

import dataclasses
import enum
import ipaddress
from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import ClassVar, TypeAlias

IPAddress: TypeAlias = ipaddress.IPv4Address | ipaddress.IPv6Address

# The partition that holds the LB interface and its VLANs. Engine partitions
# must have a non-empty name, so this one can never collide with them.
LB_PARTITION = ""


class Kind(enum.StrEnum):  # a str subclass, so refs hash at C speed
    LB = "lb"
    VLAN = "vlan"
    VIP = "vip"
    SERVICE = "service"
    DESTINATION = "destination"
    FILTER = "filter"


class Family(enum.IntEnum):
    """Address family; values are the kernel's AF_* numbers."""

    INET = 2
    INET6 = 10

    @staticmethod
    def of(address: IPAddress) -> Family:
        return Family.INET if address.version == 4 else Family.INET6

    @property
    def label(self) -> str:
        return "IPv4" if self is Family.INET else "IPv6"


class Protocol(enum.IntEnum):
    """Transport protocol; values are IP protocol numbers (ANY for fwmark services)."""

    ANY = 0
    TCP = 6
    UDP = 17

    def __str__(self) -> str:
        return self.name


class Forwarding(enum.IntEnum):
    """IPVS forwarding method; values are IP_VS_CONN_F_* numbers."""

    MASQ = 0  # NAT
    LOCAL = 1
    TUNNEL = 2
    ROUTE = 3  # DSR
    BYPASS = 4

    def __str__(self) -> str:
        return {Forwarding.MASQ: "NAT", Forwarding.ROUTE: "DSR", Forwarding.TUNNEL: "TUN"}.get(self, self.name)


class VIPType(enum.IntEnum):
    UNICAST = 0
    ANYCAST = 1
    DEDICATED = 2

    def __str__(self) -> str:
        return self.name.capitalize()


# Schedulers the Linux IPVS code knows (one ip_vs_<name> module each).
SCHEDULERS = frozenset({"rr", "wrr", "lc", "wlc", "lblc", "lblcr", "dh", "sh", "sed", "nq", "fo", "ovf", "mh", "twos"})

# IP_VS_SVC_F_* bits.
FLAG_PERSISTENT = 0x1
FLAG_HASHED = 0x2
FLAG_ONEPACKET = 0x4
FLAG_SCHED1 = 0x8  # sh/mh: fall back to another server
FLAG_SCHED2 = 0x10  # sh/mh: hash the source port too
FLAG_SCHED3 = 0x20
SERVICE_FLAGS = FLAG_PERSISTENT | FLAG_HASHED | FLAG_ONEPACKET | FLAG_SCHED1 | FLAG_SCHED2 | FLAG_SCHED3


def format_endpoint(address: IPAddress, port: int) -> str:
    return f"[{address}]:{port}" if address.version == 6 else f"{address}:{port}"


def address_sort_key(address: IPAddress) -> tuple[int, int]:
    return (address.version, int(address))


_FAMILY_OF_VERSION = {4: Family.INET, 6: Family.INET6}  # enum member lookups are slow in Python 3.11

# Keys are hashed on every lookup of a large state, and made by the hundred thousand: they are built by hand
# (a frozen dataclass's generated __init__ is three times slower) and compute their hash once, from the
# address's integer (ipaddress hashes by formatting it in Python).
_set = object.__setattr__


@dataclass(frozen=True, slots=True, init=False)
class ServiceKey:
    """(family, protocol, address, port), or (family, fwmark) when fwmark is non-zero."""

    family: Family
    protocol: Protocol
    address: IPAddress | None
    port: int
    fwmark: int
    _hash: int = field(repr=False, compare=False)

    def __init__(
        self,
        family: Family,
        protocol: Protocol = Protocol.ANY,
        address: IPAddress | None = None,
        port: int = 0,
        fwmark: int = 0,
    ) -> None:
        _set(self, "family", family)
        _set(self, "protocol", protocol)
        _set(self, "address", address)
        _set(self, "port", port)
        _set(self, "fwmark", fwmark)
        _set(self, "_hash", hash((family, protocol, None if address is None else int(address), port, fwmark)))

    def __hash__(self) -> int:
        return self._hash

    @classmethod
    def ip(cls, protocol: Protocol, address: IPAddress, port: int) -> ServiceKey:
        return cls(_FAMILY_OF_VERSION[address.version], protocol, address, port)

    @classmethod
    def mark(cls, family: Family, fwmark: int) -> ServiceKey:
        return cls(family, Protocol.ANY, None, 0, fwmark)

    def __str__(self) -> str:
        if self.fwmark or self.address is None:
            return f"FWM {self.fwmark} ({self.family.label})"
        return f"{self.protocol} {format_endpoint(self.address, self.port)}"

    def sort_key(self) -> tuple[int, int, int, int, int]:
        address = int(self.address) if self.address is not None else 0
        return (int(self.family), self.fwmark, int(self.protocol), address, self.port)


@dataclass(frozen=True, slots=True, init=False)
class DestinationKey:
    service: ServiceKey
    address: IPAddress
    port: int
    _hash: int = field(repr=False, compare=False)
    order: tuple[int, int, int] = field(repr=False, compare=False)  # by address, then port

    def __init__(self, service: ServiceKey, address: IPAddress, port: int) -> None:
        _set(self, "service", service)
        _set(self, "address", address)
        _set(self, "port", port)
        number = int(address)
        _set(self, "_hash", hash((service._hash, number, port)))
        _set(self, "order", (address.version, number, port))

    def __hash__(self) -> int:
        return self._hash

    def __str__(self) -> str:
        return f"{self.service} -> {format_endpoint(self.address, self.port)}"


@dataclass(frozen=True, slots=True)
class VLANKey:
    lb: str
    id: int

    def __str__(self) -> str:
        return f"{self.lb}.{self.id}"


@dataclass(frozen=True, slots=True)
class LBInterface:
    """The load-balancing NIC and everything NCC sets up around it."""

    kind: ClassVar[Kind] = Kind.LB
    name: str
    node_interface: str = ""
    dummy_interface: str = ""
    node_ipv4: ipaddress.IPv4Interface | None = None
    node_ipv6: ipaddress.IPv6Interface | None = None
    cluster_vip_ipv4: ipaddress.IPv4Address | None = None
    cluster_vip_ipv6: ipaddress.IPv6Address | None = None
    vrid: int = 60
    use_vmac: bool = True
    routing_table: int = 2
    up: bool = False

    @property
    def key(self) -> str:
        return self.name

    @property
    def vmac(self) -> str:
        """The VRRP virtual MAC, 00:00:5e:00:01:<vrid>."""
        return f"00:00:5e:00:01:{self.vrid:02x}"


@dataclass(frozen=True, slots=True)
class VLAN:
    """An 802.1Q sub-interface of the LB NIC with this node's addresses on it."""

    kind: ClassVar[Kind] = Kind.VLAN
    key: VLANKey
    ipv4: ipaddress.IPv4Interface | None = None
    ipv6: ipaddress.IPv6Interface | None = None


@dataclass(frozen=True, slots=True)
class VIP:
    kind: ClassVar[Kind] = Kind.VIP
    address: IPAddress
    type: VIPType = VIPType.UNICAST

    @property
    def key(self) -> IPAddress:
        return self.address


# Services and destinations are the bulk of a large state: built by hand too (see the keys above).


@dataclass(frozen=True, slots=True, init=False)
class Service:
    """An IPVS virtual service (its destinations are objects of their own)."""

    kind: ClassVar[Kind] = Kind.SERVICE
    key: ServiceKey
    scheduler: str
    flags: int
    timeout: int

    def __init__(self, key: ServiceKey, scheduler: str = "wlc", flags: int = 0, timeout: int = 0) -> None:
        _set(self, "key", key)
        _set(self, "scheduler", scheduler)
        _set(self, "flags", flags)
        _set(self, "timeout", timeout)


@dataclass(frozen=True, slots=True, init=False)
class Destination:
    kind: ClassVar[Kind] = Kind.DESTINATION
    key: DestinationKey
    forwarding: Forwarding
    weight: int
    upper_threshold: int
    lower_threshold: int

    def __init__(
        self,
        key: DestinationKey,
        forwarding: Forwarding = Forwarding.ROUTE,
        weight: int = 1,
        upper_threshold: int = 0,
        lower_threshold: int = 0,
    ) -> None:
        _set(self, "key", key)
        _set(self, "forwarding", forwarding)
        _set(self, "weight", weight)
        _set(self, "upper_threshold", upper_threshold)
        _set(self, "lower_threshold", lower_threshold)


@dataclass(frozen=True, slots=True)
class VIPFilter:
    """Host filtering for one VIP: accept `ports` (and ICMP), reject the rest."""

    kind: ClassVar[Kind] = Kind.FILTER
    address: IPAddress
    ports: frozenset[tuple[Protocol, int]] = frozenset()
    fwmark: int = 0
    nat: bool = False

    @property
    def key(self) -> IPAddress:
        return self.address


Spec: TypeAlias = LBInterface | VLAN | VIP | Service | Destination | VIPFilter
Ref: TypeAlias = tuple[Kind, Hashable]


def ref(spec: Spec) -> Ref:
    return (spec.kind, spec.key)


def describe(spec: Spec) -> str:
    """The fields of `spec` other than its key, e.g. "weight=1 forwarding=DSR"."""
    return " ".join(f"{f.name}={_show(getattr(spec, f.name))}" for f in _value_fields(spec))


def changes(old: Spec, new: Spec) -> str:
    """What differs between two versions of one object, e.g. "weight=1->2"."""
    parts = []
    for f in _value_fields(new):
        before, after = getattr(old, f.name), getattr(new, f.name)
        if before != after:
            parts.append(f"{f.name}={_show(before)}->{_show(after)}")
    return " ".join(parts)


_KEY_FIELDS = frozenset({"key", "name", "address"})


def _value_fields(spec: Spec) -> list[dataclasses.Field[object]]:
    return [f for f in dataclasses.fields(spec) if f.name not in _KEY_FIELDS]


def _show(value: object) -> str:
    if value is None:
        return "-"
    if isinstance(value, enum.Enum):
        return str(value)
    if isinstance(value, frozenset):
        return ",".join(f"{p}/{port}" for p, port in sorted(value)) or "-"
    return str(value)


@dataclass(frozen=True, slots=True, init=False)
class Partition:
    """One independently replaceable slice of the desired state.

    `held` names objects the engine sent but NCC could not accept (a bad
    field): the partition keeps their previous version, so bad input never
    disturbs what is already running.

    `fingerprint` is the engine's message for it, serialized: NCC remembers it
    for a partition it accepted whole and holds as asked. A later request that
    sends the same bytes lists the partition `unchanged` (no objects): it then
    stands for the content NCC already has, with nothing to convert or plan.
    """

    name: str
    objects: Mapping[Ref, Spec]
    held: frozenset[Ref]
    fingerprint: bytes = field(compare=False, repr=False)
    unchanged: bool

    def __init__(
        self,
        name: str,
        objects: Mapping[Ref, Spec] | None = None,
        held: frozenset[Ref] = frozenset(),
        fingerprint: bytes = b"",
        unchanged: bool = False,
    ) -> None:
        _set(self, "name", name)
        _set(self, "objects", {} if objects is None else objects)
        _set(self, "held", held)
        _set(self, "fingerprint", fingerprint)
        _set(self, "unchanged", unchanged)

    @classmethod
    def of(cls, name: str, specs: Iterable[Spec], held: Iterable[Ref] = ()) -> Partition:
        return cls(name, {ref(s): s for s in specs}, frozenset(held))


@dataclass(frozen=True, slots=True)
class Request:
    """What one Apply asks for: partitions to replace (empty content removes one)."""

    partitions: tuple[Partition, ...] = ()
    replace_all: bool = False  # also remove every engine partition not listed (never the LB one)


@dataclass(frozen=True, slots=True)
class ObjectError:
    """Why one object was not applied; everything else in the request still was."""

    kind: str
    key: str
    partition: str
    message: str

    def __str__(self) -> str:
        where = f" (partition {self.partition!r})" if self.partition else ""
        return f"{self.kind} {self.key}{where}: {self.message}"


@dataclass(frozen=True, slots=True)
class Stats:
    """Counters as IPVS reports them (zeros where a dataplane has none)."""

    connections: int = 0
    packets_in: int = 0
    packets_out: int = 0
    bytes_in: int = 0
    bytes_out: int = 0
    cps: int = 0
    pps_in: int = 0
    pps_out: int = 0
    bps_in: int = 0
    bps_out: int = 0
    active_connections: int = 0
    inactive_connections: int = 0
    persistent_connections: int = 0
