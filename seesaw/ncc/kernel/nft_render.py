"""Pure: NCC's services and destinations -> the elements and chains of our nftables tables.

Our tables, and nobody else's (we never flush, list or edit another table):

    table ip seesaw / table ip6 seesaw            NAT, and the registry of every service
      map svc    ip daddr . l4proto . dport : verdict     one element per IP service: the dispatch
                                                          (goto <scheduler chain>, or accept: no NAT)
                                                          and, in its comment, scheduler/flags/timeout
      map msvc   meta mark : verdict                      the same for fwmark services
      set dest   <service key> . daddr . dport            one element per destination; its comment
      set mdest  mark . daddr . dport                     says forwarding/weight/thresholds
      map slots  <service key> . slot : daddr . dport     NAT: the destination in each slot
      map mslots mark . slot : daddr
      set traffic <service key>                           one element per IP service, counted (see below)
      chain prerouting, output (nat, dstnat): dispatch by `vmap @svc` and `vmap @msvc`
      chain count_in, count_out (filter, mangle): every original-direction packet looked up in @traffic
      chain <m><sel>_<N>: `dnat to <key> . <selector> mod N map @slots`, made when first needed

    table netdev seesaw_dsr_<dev>                 DSR, on the device the backends are on
      map svc4/svc6   ip daddr . l4proto . dport : goto <chain>
      map slots4/6    <service key> . slot : destination id (meta mark)
      map ids4/6      destination id : backend address     (shared by every service on the device)
      map ft4, fu4    flows: saddr . sport . daddr . dport : id (dynamic, TCP 15 min / UDP 5 min)
      set live4       <service key> . id of each destination the service has now
      set traffic4/6  <service key>, counted: every packet towards each DSR service
      chain ingress (device <dev>): count by `@traffic4` / `@traffic6`, dispatch by `vmap @svc4` / `vmap @svc6`
      chain d<4|6>_<proto>_<sel>_<N>: new flow -> slot -> id, remembered in the flow map; a known
                                       flow whose id is no longer live in its service is forgotten
                                       and chosen again; every packet -> `fwd to <id> map @ids
                                       device <dev>` (MACs resolved by the kernel's neighbour
                                       table; replies bypass the LB)

Selectors: `numgen inc` (rr, wrr and the connection-counting schedulers, which nftables
cannot count for), `jhash saddr` (sh, and every persistent service: source affinity),
`jhash saddr . sport` (sh/mh with the port flag). mh uses a 251-slot Maglev table.
See nft_slots.py for how weights become slots.

Counters (read back as the objects' stats, nft_stats.py): a service's packets and bytes are the
counter of its `traffic` element (client to service, before NAT: IPVS's "in" direction; for a DSR
service, of its `traffic4`/`traffic6` element on the device, as its packets never reach the nat
hooks); its connections, and each destination's, add up the counters of the slots holding that
destination: the nat hooks see only a connection's first packet, and the DSR flow map makes slots4
a per-flow lookup. They cost a sixth more kernel time on a cold apply (10,000 services: `nft -f`
1.96 s without, 2.33 s with, same run).
nft 1.0.6 cannot key a lookup by a connection's original port after NAT (`ct original proto-dst` has
no fixed size in a concatenation), so a destination has no packet or byte counts of its own. A slot
rewritten (its service's layout changed) starts again from zero, as an IPVS counter does when its
destination is deleted and added again.

What a flip costs: changing a destination's weight changes its service's slot count, so its
dispatch element (`goto <m><sel>_<N>`) is replaced. Adding an element with a `goto` makes the kernel
validate every chain reachable from each base chain that looks the map up, walking all of its
elements: with 10,000 services, replacing one dispatch element takes about 0.15 ms with no base
chain using the map, 0.7 ms with one, 1.3 ms with two (prerouting and output), against 0.2 ms for
the slot and registry elements; a regular chain both base chains jump to walks it twice all the
same (kernel 6.18). That validation is most of a flip's kernel time.

Why the flow map holds an id and not a slot: slots change meaning when a destination
is added; ids do not, so an established DSR connection keeps its backend, for as long as
that backend is a destination of its service (`live4`): a client reusing the source port
of a flow whose backend was removed reaches a live one. In netdev,
`numgen` runs per packet, so the flow map is what makes rr per connection. nft 1.0.6
cannot store a flow key wider than 16 bytes from the packet path (its register
allocator asserts), so IPv6 DSR selects by a hash of the whole 4-tuple (stable per
flow while the destinations are unchanged) instead of a flow map.

An element is (table, map, key) -> (value, comment), all as nft text, so what this
file renders and what nft_parse.py reads back compare with `==`.
"""

from __future__ import annotations

import errno
import functools
import operator
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from seesaw.ncc.kernel import nft_slots
from seesaw.ncc.model import (
    FLAG_ONEPACKET,
    FLAG_PERSISTENT,
    FLAG_SCHED2,
    SCHEDULERS,
    Destination,
    DestinationKey,
    Family,
    Forwarding,
    IPAddress,
    Protocol,
    Service,
    ServiceKey,
)

NAT_TABLE = "seesaw"
DSR_PREFIX = "seesaw_dsr_"
SEED = "0x5eed"
RULE_COMMENT = "seesaw"
FLOW_TIMEOUT = {Protocol.TCP: "15m", Protocol.UDP: "5m"}
FLOW_MAP = {Protocol.TCP: "ft4", Protocol.UDP: "fu4"}
FLOW_SIZE = 1048576
DSR_SETS = frozenset({"live4", "traffic4", "traffic6"})  # the sets (not maps) of a DSR table
TRAFFIC = "traffic"  # the set whose element counters count each IP service's packets and bytes

IP = {Family.INET: "ip", Family.INET6: "ip6"}
V = {Family.INET: "4", Family.INET6: "6"}

ElemKey = tuple[str, str, str]  # (table, map, key)
ElemVal = tuple[str | None, str | None]  # (value, comment)
Elements = dict[ElemKey, ElemVal]


@dataclass(frozen=True)
class Chain:
    table: str
    name: str
    header: str  # "type ... hook ...; policy accept;" for a base chain, "" otherwise
    rules: tuple[str, ...]


@dataclass(frozen=True)
class TableDef:
    """A table's fixed parts: its maps and sets (name -> declaration) and base chains."""

    ref: str  # "ip seesaw"
    sets: Mapping[str, str]
    chains: tuple[Chain, ...]
    device: str | None = None  # the device a netdev table hooks


class Refused(Exception):
    """One object the nftables dataplane cannot program; the message says what to do instead."""

    def __init__(self, message: str, errno_: int) -> None:
        super().__init__(message)
        self.errno = errno_


@dataclass
class ServiceState:
    """One service as our tables hold (or should hold) it: its spec, destinations and DSR device."""

    spec: Service
    dests: dict[DestinationKey, Destination] = field(default_factory=dict)
    device: str | None = None

    def copy(self) -> ServiceState:
        return ServiceState(self.spec, dict(self.dests), self.device)

    @property
    def forwarding(self) -> Forwarding | None:
        for dest in self.dests.values():
            return dest.forwarding
        return None


# ---------------------------------------------------------------- names and fixed parts


def nat_table(family: Family) -> str:
    return _NAT_TABLE_V4 if family is Family.INET else _NAT_TABLE_V6


_NAT_TABLE_V4, _NAT_TABLE_V6 = (f"{IP[family]} {NAT_TABLE}" for family in (Family.INET, Family.INET6))


@functools.lru_cache(maxsize=256)
def dsr_table(device: str) -> str:
    return f"netdev {DSR_PREFIX}{re.sub(r'[^A-Za-z0-9_]', '_', device)}"


@functools.lru_cache(maxsize=2)
def nat_tabledef(family: Family) -> TableDef:
    ip = IP[family]
    ref = nat_table(family)
    dispatch = (f"{ip} daddr . meta l4proto . th dport vmap @svc", "meta mark vmap @msvc")
    # Every packet towards a service, before NAT changes its address (one element per IP service).
    count = (f"ct direction original {ip} daddr . meta l4proto . th dport @{TRAFFIC}",)
    return TableDef(
        ref,
        {
            "svc": f"map svc {{ typeof {ip} daddr . meta l4proto . th dport : verdict; }}",
            "msvc": "map msvc { typeof meta mark : verdict; }",
            "dest": f"set dest {{ typeof {ip} daddr . meta l4proto . th dport . {ip} daddr . th dport; }}",
            "mdest": f"set mdest {{ typeof meta mark . {ip} daddr . th dport; }}",
            # The value says `tcp dport` only for its type: nft 1.0.6 cannot read back a
            # `th dport` in a map value that feeds dnat ("conflicting protocols").
            # Counted: the nat hooks see a connection's first packet only, so a slot's counter is the
            # connections its destination was chosen for.
            "slots": f"map slots {{ typeof {ip} daddr . meta l4proto . th dport . numgen inc mod 1 : "
            f"{ip} daddr . tcp dport; counter; }}",
            "mslots": f"map mslots {{ typeof meta mark . numgen inc mod 1 : {ip} daddr; counter; }}",
            TRAFFIC: f"set {TRAFFIC} {{ typeof {ip} daddr . meta l4proto . th dport; counter; }}",
        },
        (
            Chain(ref, "prerouting", "type nat hook prerouting priority dstnat; policy accept;", dispatch),
            Chain(ref, "output", "type nat hook output priority -100; policy accept;", dispatch),
            Chain(ref, "count_in", "type filter hook prerouting priority mangle; policy accept;", count),
            Chain(ref, "count_out", "type filter hook output priority mangle; policy accept;", count),
        ),
    )


@functools.lru_cache(maxsize=256)
def dsr_tabledef(device: str) -> TableDef:
    ref = dsr_table(device)
    sets = {}
    for family in Family:
        ip, v = IP[family], V[family]
        sets[f"svc{v}"] = f"map svc{v} {{ typeof {ip} daddr . meta l4proto . th dport : verdict; }}"
        # IPv4 slots are counted: a slot is looked up once per new flow (pinned), or per packet for
        # one-packet scheduling, where IPVS counts every packet as a connection too. IPv6 DSR picks a
        # slot for every packet (no flow map): its counts would not be connections.
        counted = " counter;" if family is Family.INET else ""
        sets[f"slots{v}"] = (
            f"map slots{v} {{ typeof {ip} daddr . meta l4proto . th dport . numgen inc mod 1 : meta mark;{counted} }}"
        )
        sets[f"ids{v}"] = f"map ids{v} {{ typeof meta mark : {ip} daddr; }}"
        sets[f"{TRAFFIC}{v}"] = f"set {TRAFFIC}{v} {{ typeof {ip} daddr . meta l4proto . th dport; counter; }}"
    sets["live4"] = "set live4 { typeof ip daddr . meta l4proto . th dport . meta mark; }"
    for protocol, name in FLOW_MAP.items():
        sets[name] = (
            f"map {name} {{ typeof ip saddr . th sport . ip daddr . th dport : meta mark; size {FLOW_SIZE}; "
            f"flags dynamic,timeout; timeout {FLOW_TIMEOUT[protocol]}; }}"
        )
    header = f'type filter hook ingress device "{device}" priority 0; policy accept;'
    counts = tuple(f"{IP[f]} daddr . meta l4proto . th dport @{TRAFFIC}{V[f]}" for f in Family)
    rules = counts + tuple(f"{IP[f]} daddr . meta l4proto . th dport vmap @svc{V[f]}" for f in Family)
    return TableDef(ref, sets, (Chain(ref, "ingress", header, rules),), device)


# ---------------------------------------------------------------- keys and comments


def service_key_text(key: ServiceKey) -> str:
    if key.fwmark or key.address is None:
        return str(key.fwmark)
    return f"{address_text(key.address)} . {int(key.protocol)} . {key.port}"


@functools.lru_cache(maxsize=1 << 17)
def address_text(address: IPAddress) -> str:
    """str(address), cached: formatting addresses is the costly part of rendering a large state,
    and backends recur across services."""
    return str(address)


def service_comment(spec: Service) -> str:
    return f"{spec.scheduler} flags={spec.flags:#x} timeout={spec.timeout}"


def destination_comment(spec: Destination) -> str:
    forwarding = _FORWARDING_NAMES[spec.forwarding]  # an enum's .name is a Python-level property
    return f"{forwarding} weight={spec.weight} upper={spec.upper_threshold} lower={spec.lower_threshold}"


_FORWARDING_NAMES = [f.name for f in sorted(Forwarding)]  # by value (0..4)

# Enum members are slow attribute lookups in Python 3.11: the per-destination paths use these.
_MASQ, _ROUTE = Forwarding.MASQ, Forwarding.ROUTE
_INET = Family.INET
_NO_VALUE: ElemVal = (None, None)
_L4 = frozenset({6, 17})  # TCP, UDP: the protocols a service can name
_FAMILY_OF_VERSION = {4: Family.INET, 6: Family.INET6}


def parse_service_comment(key: ServiceKey, comment: str | None) -> Service | None:
    """The service a registry comment describes, or None if the comment is not ours."""
    fields = _service_fields(comment) if comment else None
    return None if fields is None else Service(key, *fields)


def parse_destination_comment(key: DestinationKey, comment: str | None) -> Destination | None:
    fields = _destination_fields(comment) if comment else None
    return None if fields is None else Destination(key, *fields)


# A large state repeats a handful of comments (same scheduler, same weights): each is parsed once.


@functools.lru_cache(maxsize=4096)
def _service_fields(comment: str) -> tuple[str, int, int] | None:
    fields = _fields(comment)
    if fields is None or fields[0] not in SCHEDULERS:
        return None
    try:
        return fields[0], int(fields[1]["flags"], 16), int(fields[1]["timeout"])
    except (KeyError, ValueError):
        return None


@functools.lru_cache(maxsize=4096)
def _destination_fields(comment: str) -> tuple[Forwarding, int, int, int] | None:
    fields = _fields(comment)
    if fields is None or fields[0] not in Forwarding.__members__:
        return None
    try:
        values = [int(fields[1][name]) for name in ("weight", "upper", "lower")]
    except (KeyError, ValueError):
        return None
    return Forwarding[fields[0]], values[0], values[1], values[2]


def _fields(comment: str) -> tuple[str, dict[str, str]] | None:
    head, *rest = comment.split() or [""]
    if not head:
        return None
    pairs = dict(item.partition("=")[::2] for item in rest)
    return head, pairs


# ---------------------------------------------------------------- validation


def check_service(spec: Service) -> None:
    """Refused if the nftables dataplane cannot program `spec` at all."""
    key = spec.key
    if spec.scheduler not in SCHEDULERS:
        raise Refused(
            f"scheduler {spec.scheduler!r} is unknown (IPVS has no module ip_vs_{spec.scheduler}); "
            f"use one of {', '.join(sorted(SCHEDULERS))}",
            errno.ENOENT,
        )
    if key.fwmark:
        return
    if key.protocol not in _L4:
        raise Refused(f"protocol {key.protocol} needs a fwmark service in the nftables dataplane", errno.EINVAL)
    if key.port == 0:
        raise Refused(
            "a port-0 (every port) service needs IPVS; in the nftables dataplane use a fwmark service",
            errno.EOPNOTSUPP,
        )


def check_destination(state: ServiceState, spec: Destination, device: str | None) -> None:
    """Refused if `spec` cannot join `state` (whose other destinations are already accepted)."""
    service = state.spec.key
    key = spec.key
    forwarding = spec.forwarding
    if _FAMILY_OF_VERSION[key.address.version] is not service.family:
        raise Refused(
            f"an IPv{key.address.version} destination cannot serve an {service.family.label} service", errno.EINVAL
        )
    if forwarding is not _MASQ and forwarding is not _ROUTE:
        if forwarding is Forwarding.TUNNEL:
            raise Refused(
                "tunnel (TUN) forwarding needs IPVS and an ipip/ip6tnl device, which the nftables dataplane does not "
                "have; use DSR or NAT for this vserver, or run on a kernel with ip_vs",
                errno.EOPNOTSUPP,
            )
        raise Refused(f"{forwarding} forwarding is IPVS-only; use NAT or DSR", errno.EOPNOTSUPP)
    if len(state.dests) >= nft_slots.MAX_SLOTS and (
        sum(1 for k, d in state.dests.items() if d.weight > 0 and k != key) + (spec.weight > 0) > nft_slots.MAX_SLOTS
    ):
        raise Refused(f"more than {nft_slots.MAX_SLOTS} active destinations in one service", errno.E2BIG)
    other = _other_forwarding(state, key)
    if other is not None and forwarding is not other:
        raise Refused(
            f"the other destinations of this service use {other}; in the nftables dataplane all "
            "destinations of one service use one forwarding method",
            errno.EINVAL,
        )
    if forwarding is _MASQ:
        if state.spec.flags & FLAG_ONEPACKET:
            raise Refused(
                "one-packet scheduling with NAT needs IPVS (nftables NAT is per connection); use DSR, "
                "or drop one-packet",
                errno.EOPNOTSUPP,
            )
        if service.fwmark and key.port:
            raise Refused(
                "a NAT destination of a fwmark service keeps the client's port here: give port 0", errno.EINVAL
            )
        if not service.fwmark and not key.port:
            raise Refused("a NAT destination needs the backend's port (0 was given)", errno.EINVAL)
        return
    if service.fwmark:
        # Routed by policy routing, not by our tables (nft_probe_plan.py): one backend per mark.
        if any(k != key for k in state.dests):
            raise Refused(
                "DSR for a fwmark service with more than one destination needs IPVS: the nftables dataplane routes "
                "a mark to one backend (as for a DSR healthcheck); use NAT for this fwmark vserver, or a kernel "
                "with ip_vs",
                errno.EOPNOTSUPP,
            )
        return
    if key.port != service.port:
        raise Refused(f"DSR cannot change the port: give the service's port {service.port}", errno.EINVAL)
    if device is None:
        raise Refused(
            f"DSR needs {key.address} on a directly connected network (no route to it, or only via a gateway): "
            "put the backend on the LB interface's network, or use NAT",
            errno.EHOSTUNREACH,
        )
    if state.device is not None and device != state.device and any(k != key for k in state.dests):
        raise Refused(
            f"{key.address} is reached through {device}, the other destinations through {state.device}: "
            "the DSR destinations of one service share one network",
            errno.EINVAL,
        )


def _other_forwarding(state: ServiceState, key: DestinationKey) -> Forwarding | None:
    """The forwarding method of the destinations of `state` other than `key` (they all share one)."""
    dests = state.dests
    if key not in dests:  # a hash lookup: comparing keys one by one is what costs
        for dest in dests.values():
            return dest.forwarding
        return None
    for k, dest in dests.items():
        if k != key:
            return dest.forwarding
    return None


# ---------------------------------------------------------------- one service


def selector_kind(spec: Service) -> str:
    """rr (numgen), sh (source hash) or shp (source address and port hash)."""
    if spec.flags & FLAG_PERSISTENT:
        return "sh"
    if spec.scheduler in ("sh", "mh"):
        return "shp" if spec.flags & FLAG_SCHED2 else "sh"
    return "rr"


def selector(kind: str, family: Family, n: int) -> str:
    ip = IP[family]
    if kind == "rr":
        return f"numgen inc mod {n}"
    if kind == "fh":
        return f"jhash {ip} saddr . th sport . {ip} daddr . th dport mod {n} seed {SEED}"
    source = f"{ip} saddr . th sport" if kind == "shp" else f"{ip} saddr"
    return f"jhash {source} mod {n} seed {SEED}"


@functools.lru_cache(maxsize=4096)
def nat_chain(family: Family, mark: bool, kind: str, n: int) -> Chain:
    ip = IP[family]
    name = f"{'m' if mark else ''}{kind}_{n}"
    if mark:
        rules: tuple[str, ...] = (f"dnat {ip} to meta mark . {selector(kind, family, n)} map @mslots",)
    else:
        # One rule per protocol: a dnat to address . port needs the protocol known, and nft
        # would otherwise assume the one of the map's value type (tcp) for both.
        chosen = f"{ip} daddr . meta l4proto . th dport . {selector(kind, family, n)} map @slots"
        rules = tuple(f"meta l4proto {proto} dnat {ip} to {chosen}" for proto in ("tcp", "udp"))
    return Chain(nat_table(family), name, "", rules)


@functools.lru_cache(maxsize=4096)
def dsr_chain(device: str, family: Family, protocol: Protocol, kind: str, n: int, one_packet: bool) -> Chain:
    ip, v = IP[family], V[family]
    pinned = is_pinned(family, one_packet)
    if family is Family.INET6 and kind == "rr" and not one_packet:
        kind = "fh"  # no flow map for IPv6 (see above): hash the whole flow instead
    name = f"d{v}_{protocol.name.lower()}_{kind}_{n}" + ("_1p" if family is Family.INET and one_packet else "")
    service = f"{ip} daddr . meta l4proto . th dport"
    choose = f"meta mark set {service} . {selector(kind, family, n)} map @slots{v}"
    forward = (f'fwd {ip} to meta mark map @ids{v} device "{device}"', "meta mark set 0")
    if not pinned:
        rules: tuple[str, ...] = (choose, *forward)
    else:
        flows = FLOW_MAP[protocol]
        flow = "ip saddr . th sport . ip daddr . th dport"
        rules = (
            f"meta mark set {flow} map @{flows}",  # a known flow: its destination id (else the mark stays 0)
            # ... unless that destination left the service: forget the flow, choose again
            f"meta mark != 0 {service} . meta mark != @live4 delete @{flows} {{ {flow} : meta mark }} meta mark set 0",
            f"meta mark 0 {choose}",
            f"update @{flows} {{ {flow} : meta mark }}",  # a new flow is remembered; a known one lives on
            *forward,
        )
    return Chain(dsr_table(device), name, "", rules)


def is_pinned(family: Family, one_packet: bool) -> bool:
    """Whether a DSR service's flows are pinned in a flow map (IPv4, not one-packet)."""
    return family is Family.INET and not one_packet


def ordered(state: ServiceState) -> list[Destination]:
    """The destinations by address and port (how slots are laid out, the same on every node)."""
    return sorted(state.dests.values(), key=_destination_order)


_destination_order = operator.attrgetter("key.order")


def render(state: ServiceState, ids: Callable[[str, IPAddress], int]) -> tuple[Elements, list[Chain]]:
    """Every element `state` needs in our tables, and the scheduler chain it jumps to (if any).

    `ids(device, address)` is the DSR destination id of a backend on a device.
    """
    spec = state.spec
    key = spec.key
    family = key.family
    mark = bool(key.fwmark)
    table = _NAT_TABLE_V4 if family is _INET else _NAT_TABLE_V6
    skey = service_key_text(key)
    out: Elements = {}
    chains: list[Chain] = []
    dests = ordered(state)
    forwarding = state.forwarding
    registry = "mdest" if mark else "dest"
    targets: dict[int, str] = {}  # NAT target of each destination, by id(): hashing keys costs more
    for dest in dests:
        dkey = dest.key
        address, port = address_text(dkey.address), dkey.port
        targets[id(dest)] = address if mark else f"{address} . {port}"
        out[(table, registry, f"{skey} . {address} . {port}")] = (None, destination_comment(dest))
    kind = selector_kind(spec)
    slots = nft_slots.layout(spec.scheduler, [(d, d.weight) for d in dests])
    dispatch = "accept"
    if slots and forwarding is _MASQ:
        chain = nat_chain(family, mark, kind, len(slots))
        chains.append(chain)
        dispatch = f"goto {chain.name}"
        slot_map = "mslots" if mark else "slots"
        for i, dest in enumerate(slots):
            out[(table, slot_map, f"{skey} . {i}")] = (targets[id(dest)], None)
    elif slots and forwarding is _ROUTE and state.device is not None:
        device = state.device
        chain = dsr_chain(device, family, key.protocol, kind, len(slots), bool(spec.flags & FLAG_ONEPACKET))
        chains.append(chain)
        dsr, v = dsr_table(device), V[family]
        out[(dsr, f"svc{v}", skey)] = (f"goto {chain.name}", None)
        out[(dsr, f"{TRAFFIC}{v}", skey)] = _NO_VALUE
        for i, dest in enumerate(slots):
            out[(dsr, f"slots{v}", f"{skey} . {i}")] = (str(ids(device, dest.key.address)), None)
        if is_pinned(family, bool(spec.flags & FLAG_ONEPACKET)):
            for dest in dests:  # quiesced ones too: their flows carry on (see dsr_backends)
                out[(dsr, "live4", f"{skey} . {ids(device, dest.key.address)}")] = (None, None)
    out[(table, "msvc" if mark else "svc", skey)] = (dispatch, service_comment(spec))
    if not mark:
        out[(table, TRAFFIC, skey)] = _NO_VALUE
    return out, chains


def dsr_backends(state: ServiceState) -> set[tuple[str, IPAddress]]:
    """The (device, backend) pairs whose ids `state` needs: every DSR destination, quiesced ones too,
    because connections already pinned to a quiesced destination keep going to it."""
    if state.device is None or state.forwarding is not Forwarding.ROUTE:
        return set()
    return {(state.device, d.key.address) for d in state.dests.values()}


# ---------------------------------------------------------------- scripts


def element_text(key: str, value: ElemVal) -> str:
    data, comment = value
    text = key if comment is None else f'{key} comment "{comment}"'
    return text if data is None else f"{text} : {data}"


def table_script(table: TableDef, present_sets: Iterable[str] = ()) -> list[str]:
    """Commands that create `table` and whatever of its maps is missing (idempotent `add`)."""
    family, name = table.ref.split()
    have = set(present_sets)
    lines = [f"add table {table.ref}"]
    for set_name, declaration in table.sets.items():
        if set_name not in have:
            kind, body = declaration.split(f" {set_name} ", 1)
            lines.append(f"add {kind} {family} {name} {set_name} {body}")
    return lines


def chain_script(chain: Chain, exists: bool) -> list[str]:
    """Commands that (re)make `chain` with exactly its rules."""
    family, name = chain.table.split()
    header = f" {{ {chain.header} }}" if chain.header else ""
    lines = [f"add chain {family} {name} {chain.name}{header}"]
    if exists:
        lines.append(f"flush chain {family} {name} {chain.name}")
    lines.extend(f'add rule {family} {name} {chain.name} {rule} comment "{RULE_COMMENT}"' for rule in chain.rules)
    return lines


def elements_script(deletes: Mapping[ElemKey, ElemVal], adds: Mapping[ElemKey, ElemVal]) -> list[str]:
    """`delete element` then `add element` commands, one per map (an update is a delete and an add)."""
    lines = []
    for verb, items, show in (("delete", deletes, False), ("add", adds, True)):
        groups: dict[tuple[str, str], list[str]] = {}
        for (table, name, key), (data, comment) in items.items():
            texts = groups.get((table, name))
            if texts is None:
                texts = groups[(table, name)] = []
            if show and comment is not None:
                key = f'{key} comment "{comment}"'
            texts.append(key if not show or data is None else f"{key} : {data}")
        for (table, name), texts in groups.items():
            lines.append(f"{verb} element {table} {name} {{ {', '.join(texts)} }}")
    return lines


def order_chains(chains: Sequence[Chain]) -> list[Chain]:
    """Chains without duplicates, in first-seen order."""
    seen: dict[tuple[str, str], Chain] = {}
    for chain in chains:
        seen.setdefault((chain.table, chain.name), chain)
    return list(seen.values())
