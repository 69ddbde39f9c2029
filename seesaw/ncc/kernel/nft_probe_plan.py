"""Pure: the DSR healthcheck marks of the nftables dataplane -> policy routing, and what of it is in place.

A DSR (or TUN) healthcheck connects from the LB itself to VIP:port with SO_MARK set to a mark
the engine gives each (backend, mode), and NCC is asked for a fwmark service of that mark with
the backend as its one destination. IPVS forwards such locally generated packets from its
local-out hook. nftables cannot: its DSR tables run in the netdev ingress hook, which a locally
generated packet never passes, and only netdev can forward to a MAC. So each mark is routed:

    ip rule add pref 1 fwmark M lookup M proto 84
    ip route replace default via <backend> dev <its network's interface> onlink src <our address there> \
table M proto 84

The destination stays the VIP while the frame goes to the backend's MAC: exactly DSR, so the check
passes only on a backend that answers for the VIP. The source is this node's own address on the
backend's network, so the backend's reply (from the VIP) comes straight back (the host part's
accept_local lets a VIP held here be a source).

The node holding the VIP would deliver the probe to itself, because the kernel's `local` rule (pref
0) comes before any rule that could be added: while a probe is routed, the local rule is moved to
pref 2, behind the probe rules (the new one is added before the old one goes, so there is never a
moment without one; Cilium moves it the same way). It returns to pref 0 once no probe is left in
its family. Rules and routes of other protocols are never touched.

Rules it keeps:

* Only fwmark services with one DSR destination of weight > 0 are routed (a healthcheck mark has
  exactly one): nft_render.py refuses a second destination, and TUN (no ipip here);
  nft_probe_routes.py refuses marks below FIRST_MARK (table M is the mark, and tables 253..255
  are the kernel's) and backends on no network of this node's.
* `plan` writes only what differs from what is held; `in_place` names the probes whose rule,
  route and local-rule order are all there, which is what the services part reports as present.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from seesaw.ncc.kernel.nft_render import ServiceState
from seesaw.ncc.model import Family, Forwarding, IPAddress

PROBE_PROTO = 84  # rtm_protocol / FRA_PROTOCOL of everything this file makes ("T"; the host part's is 83)
KERNEL_PROTO = 2  # RTPROT_KERNEL: the local rule as the kernel made it
PROBE_PRIORITY = 1
LOCAL_PRIORITY = 2
LOCAL_TABLE = 255
FIRST_MARK = 256  # table M is mark M: below 256 are the kernel's tables (253 default, 254 main, 255 local)

Probe = tuple[Family, int]  # (family, mark)
IPInterface = ipaddress.IPv4Interface | ipaddress.IPv6Interface


@dataclass(frozen=True)
class Rule:
    """A policy rule as the kernel holds it, reduced to what this file looks at."""

    family: Family
    priority: int
    table: int
    fwmark: int | None = None  # with a full mask; None: no fwmark selector
    proto: int = 0
    plain: bool = True  # no selector but the fwmark (from all), and the action is a table lookup


@dataclass(frozen=True)
class Target:
    """Where a probe goes: the backend as next hop, out of `oif`, from `source`."""

    gateway: IPAddress
    oif: int
    source: IPAddress | None = None


@dataclass
class Held:
    """The rules of both families, and the default routes of PROBE_PROTO by (family, table)."""

    rules: list[Rule] = field(default_factory=list)
    routes: dict[Probe, Target] = field(default_factory=dict)


@dataclass(frozen=True)
class LinkAddress:
    """One address of a link, in the order the kernel lists links."""

    index: int
    name: str
    interface: IPInterface
    lb: bool = False  # the LB interface (it holds the VIPs, and is down on a backup)


# The operations, each for one probe (None: for every probe of its family).


@dataclass(frozen=True)
class AddRule:
    rule: Rule
    probe: Probe | None = None


@dataclass(frozen=True)
class DeleteRule:
    rule: Rule
    probe: Probe | None = None


@dataclass(frozen=True)
class ReplaceRoute:
    family: Family
    table: int
    target: Target
    probe: Probe | None = None


@dataclass(frozen=True)
class DeleteRoute:
    family: Family
    table: int
    target: Target
    probe: Probe | None = None


Op = AddRule | DeleteRule | ReplaceRoute | DeleteRoute


def wanted(services: Iterable[ServiceState]) -> dict[Probe, IPAddress]:
    """The probes the services ask for: each fwmark service's one DSR destination of weight > 0."""
    out: dict[Probe, IPAddress] = {}
    for state in services:
        key = state.spec.key
        if not key.fwmark or len(state.dests) != 1:
            continue
        (dest,) = state.dests.values()
        if dest.forwarding is Forwarding.ROUTE and dest.weight > 0:
            out[(key.family, key.fwmark)] = dest.key.address
    return out


def locate(backend: IPAddress, addresses: Sequence[LinkAddress], node: Iterable[IPInterface] = ()) -> Target | None:
    """The interface and source a probe to `backend` leaves by: None if no network of ours holds it.

    The node's own address (the LB record's node4/node6) first, then any other link's but the LB
    interface's (its first addresses may be VIPs, and on a backup it is down).
    """
    nodes = set(node)
    candidates = [
        a
        for a in addresses
        if not a.lb and a.interface.version == backend.version and backend in a.interface.network
        if a.interface.ip != backend
    ]
    candidates.sort(key=lambda a: a.interface not in nodes)  # stable: otherwise in the kernel's order
    if not candidates:
        return None
    chosen = candidates[0]
    return Target(backend, chosen.index, chosen.interface.ip)


def local_rule(family: Family, priority: int, proto: int) -> Rule:
    return Rule(family, priority, LOCAL_TABLE, None, proto)


def probe_rule(family: Family, mark: int) -> Rule:
    return Rule(family, PROBE_PRIORITY, mark, mark, PROBE_PROTO)


def plan(targets: Mapping[Probe, Target], held: Held) -> list[Op]:
    """The operations that make the kernel route exactly `targets` (and put the local rule back when none)."""
    ops: list[Op] = []
    for family in Family:
        mine = {mark: target for (f, mark), target in targets.items() if f is family}
        rules = [r for r in held.rules if r.family is family]
        before, behind = _local_rules(rules)
        routed = _probe_rules(rules)
        if mine:
            if before:
                if not behind:
                    ops.append(AddRule(local_rule(family, LOCAL_PRIORITY, PROBE_PROTO)))
                ops.extend(DeleteRule(r) for r in before)
            for mark, target in sorted(mine.items()):
                if held.routes.get((family, mark)) != target:
                    ops.append(ReplaceRoute(family, mark, target, (family, mark)))
                if mark not in routed:
                    ops.append(AddRule(probe_rule(family, mark), (family, mark)))
        for mark, rule in sorted(routed.items()):
            if mark not in mine:
                ops.append(DeleteRule(rule, (family, mark)))
        for (f, table), target in sorted(held.routes.items(), key=lambda item: item[0][1]):
            if f is family and table not in mine:
                ops.append(DeleteRoute(family, table, target, (family, table)))
        moved = [r for r in behind if r.proto == PROBE_PROTO and r.priority == LOCAL_PRIORITY]
        if not mine and moved:
            if not before:
                ops.append(AddRule(local_rule(family, 0, KERNEL_PROTO)))
            ops.extend(DeleteRule(r) for r in moved)
    return ops


def in_place(held: Held) -> dict[Probe, IPAddress]:
    """The probes routed now (rule, route, and no local rule before them): probe -> backend."""
    out: dict[Probe, IPAddress] = {}
    for family in Family:
        rules = [r for r in held.rules if r.family is family]
        before, _ = _local_rules(rules)
        if before:
            continue
        for mark in _probe_rules(rules):
            target = held.routes.get((family, mark))
            if target is not None:
                out[(family, mark)] = target.gateway
    return out


def _local_rules(rules: Sequence[Rule]) -> tuple[list[Rule], list[Rule]]:
    """The plain `lookup local` rules at or before the probe rules, and those behind them."""
    local = [r for r in rules if r.plain and r.fwmark is None and r.table == LOCAL_TABLE]
    return [r for r in local if r.priority <= PROBE_PRIORITY], [r for r in local if r.priority > PROBE_PRIORITY]


def _probe_rules(rules: Sequence[Rule]) -> dict[int, Rule]:
    return {
        r.fwmark: r
        for r in rules
        if r.proto == PROBE_PROTO and r.plain and r.fwmark is not None and r.table == r.fwmark
        if r.priority == PROBE_PRIORITY
    }
