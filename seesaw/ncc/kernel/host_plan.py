"""One step of the host part -> the kernel operations that perform it. Pure: a Step and a Snapshot in, ops out.

The rules it keeps:

* Only what differs is written. Adding or updating an LB interface, VLAN or
  VIP first compares with the snapshot, so re-applying what is there costs
  nothing, and adopting a running LB interface never flaps it.
* The LB interface (reference seesaw.md section 4.2): its link goes down only
  to change its MAC (the VMAC 00:00:5e:00:01:<vrid> when use_vmac) or because
  `up` is false; `up` brings the link up, fills table T and announces every
  address on it and its VLANs. Going down keeps global IPv6 addresses (the
  kernel drops them on down unless keep_addr_on_down: they are re-added).
  Removing it restores the MAC it had before NCC and clears NCC's record.
* Unicast VIPs go on the LB interface or the VLAN whose subnet holds them,
  with that subnet's prefix (plus `from <VIP> lookup T` on the LB interface);
  anycast and dedicated VIPs go as /32 or /128 on the dummy interface when
  there is one, else on `lo`.
* Never touched: links, addresses and rules that are not NCC's.

`takeover_ops` is the fast path of a takeover: raising an LB interface that is
already set up needs only the links and addresses to bring it up and announce
it, ahead of the full read the rest of the step is planned on.

A step that cannot be planned raises PlanError with the kernel-style errno
and a message that says what to do.
"""

from __future__ import annotations

import dataclasses
import errno
import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass

from seesaw.ncc.kernel import host_sysctl
from seesaw.ncc.kernel.host_observe import LOOPBACK, global_addresses, lb_links, vlan_links
from seesaw.ncc.kernel.host_record import LBRecord, decode_lb, decode_vlan, encode_lb, encode_vlan
from seesaw.ncc.kernel.host_routes import (
    cluster_vip_rules,
    has_rule,
    owned_rules,
    same_route,
    table_routes,
    vip_rule,
)
from seesaw.ncc.kernel.host_snapshot import IPInterface, Link, Route, Rule, Snapshot
from seesaw.ncc.model import VIP, VLAN, IPAddress, LBInterface, VIPType
from seesaw.ncc.steps import Op, Step

VMAC_PREFIX = "00:00:5e:00:01:"


class PlanError(Exception):
    def __init__(self, message: str, code: int) -> None:
        super().__init__(message)
        self.errno = code


# The operations. Each names links by name; the executor resolves indexes.


@dataclass(frozen=True)
class SetLink:
    name: str
    up: bool | None = None
    mac: str | None = None
    alias: str | None = None


@dataclass(frozen=True)
class CreateLink:
    name: str
    kind: str  # "vlan" or "dummy"
    parent: str = ""
    vlan_id: int = 0


@dataclass(frozen=True)
class DeleteLink:
    name: str


@dataclass(frozen=True)
class AddAddress:
    link: str
    interface: IPInterface


@dataclass(frozen=True)
class DeleteAddress:
    link: str
    interface: IPInterface


@dataclass(frozen=True)
class AddRule:
    rule: Rule


@dataclass(frozen=True)
class DeleteRule:
    rule: Rule


@dataclass(frozen=True)
class ReplaceRoute:
    route: Route


@dataclass(frozen=True)
class DeleteRoute:
    route: Route


@dataclass(frozen=True)
class SetSysctls:
    sysctls: tuple[host_sysctl.Sysctl, ...]


@dataclass(frozen=True)
class EnsureDummy:
    """Create the dummy interface if the kernel can, and bring it up; else anycast VIPs go on lo."""

    name: str


@dataclass(frozen=True)
class Announce:
    """Gratuitous ARP / unsolicited NA for `addresses` on `link` (`burst`: every honoured form)."""

    link: str
    addresses: tuple[IPAddress, ...]
    burst: bool = False


@dataclass(frozen=True)
class Fail:
    """The step did what it could, and still fails with this message."""

    message: str
    errno: int


HostOp = (
    SetLink
    | CreateLink
    | DeleteLink
    | AddAddress
    | DeleteAddress
    | AddRule
    | DeleteRule
    | ReplaceRoute
    | DeleteRoute
    | SetSysctls
    | EnsureDummy
    | Announce
    | Fail
)


def plan_step(step: Step, snapshot: Snapshot) -> list[HostOp]:
    spec = step.spec
    if isinstance(spec, LBInterface):
        if step.op is Op.DELETE:
            return remove_lb(spec, snapshot)
        return ensure_lb(spec, snapshot)
    if isinstance(spec, VLAN):
        if step.op is Op.DELETE:
            return remove_vlan(spec, snapshot)
        return ensure_vlan(spec, snapshot)
    if isinstance(spec, VIP):
        if step.op is Op.DELETE:
            return remove_vip(spec, snapshot)
        ops = remove_vip(step.old, snapshot) if isinstance(step.old, VIP) and step.old.type != spec.type else []
        return ops + add_vip(spec, snapshot)
    raise PlanError(f"the host part does not handle {step.kind} objects", errno.EINVAL)


# ----------------------------------------------------------------- LB interface


def _require_link(snapshot: Snapshot, name: str, what: str) -> Link:
    link = snapshot.link(name)
    if link is None:
        raise PlanError(
            f"no such network interface {name!r} ({what}); this host has {', '.join(snapshot.names())}: "
            "fix the name in seesaw.cfg, or run `seesaw doctor`",
            errno.ENODEV,
        )
    return link


def is_vmac(mac: str) -> bool:
    return mac.lower().startswith(VMAC_PREFIX)


def ensure_lb(lb: LBInterface, snapshot: Snapshot) -> list[HostOp]:
    link = _require_link(snapshot, lb.name, "the LB interface, [interface] lb")
    if lb.node_interface:
        if lb.node_interface == lb.name:
            raise PlanError(
                f"{lb.name} is both the node and the LB interface: the LB interface carries the VMAC and is down on "
                "the backup, so it needs a NIC of its own; set [interface] lb and node to two interfaces",
                errno.EINVAL,
            )
        _require_link(snapshot, lb.node_interface, "the node interface, [interface] node")
    record = decode_lb(link.name, link.alias)
    original = record.mac if record is not None and record.mac and is_vmac(link.mac) else link.mac
    ops: list[HostOp] = []
    is_up = link.up
    wanted_mac = lb.vmac if lb.use_vmac else original
    if link.mac != wanted_mac:
        if is_up:
            ops.append(SetLink(lb.name, up=False))
            is_up = False
        ops.append(SetLink(lb.name, mac=wanted_mac))
    alias = encode_lb(dataclasses.replace(lb, up=False), original)
    if link.alias != alias:
        ops.append(SetLink(lb.name, alias=alias))
    ops.append(SetSysctls(tuple(host_sysctl.lb_sysctls(lb.node_interface, lb.name))))
    if record is not None:
        ops.extend(_leave_previous(record, lb, link, snapshot))
    present = {a.interface for a in snapshot.addresses_of(link.index)}
    for vip in _cluster_vips(lb):
        if vip not in present:
            ops.append(AddAddress(lb.name, vip))
    if lb.cluster_vip_ipv4 is not None:
        for rule in cluster_vip_rules(lb.cluster_vip_ipv4, lb.routing_table):
            if not has_rule(snapshot, rule):
                ops.append(AddRule(rule))
    if lb.dummy_interface:
        dummy = snapshot.link(lb.dummy_interface)
        if dummy is None or not dummy.up:
            ops.append(EnsureDummy(lb.dummy_interface))
    vlans = vlan_links(snapshot, link)
    if lb.up:
        ops.extend(_bring_up(lb, link, is_up, vlans, snapshot))
    elif is_up:
        ops.extend(_take_down(lb, link, vlans, snapshot))
    return ops


def takeover_ops(step: Step, snapshot: Snapshot, raised: bool = False) -> list[HostOp] | None:
    """A takeover's first moves, from links and addresses alone: link up and the announcement burst.

    Only for a step that raises an LB interface NCC already set up exactly as asked (the same spec but for
    `up`, its record on the link, the right MAC, the link down); None otherwise. The step itself runs
    after, as usual (routes, VLANs, checks), and finds the link up: the clients move to this node without
    waiting for the rest to be read and planned. `raised`: HA has just set the link up itself (its takeover
    kit): the link may be up, and then the burst is what is left.
    """
    spec, old = step.spec, step.old
    if step.op is not Op.UPDATE or not isinstance(spec, LBInterface) or not isinstance(old, LBInterface):
        return None
    if old.up or not spec.up or dataclasses.replace(old, up=True) != spec or spec.node_interface == spec.name:
        return None
    link = snapshot.link(spec.name)
    record = decode_lb(link.name, link.alias) if link is not None else None
    if link is None or (link.up and not raised) or record is None or record.lb != dataclasses.replace(spec, up=False):
        return None
    if link.mac != (spec.vmac if spec.use_vmac else (record.mac or link.mac)):
        return None
    addresses = [vip.ip for vip in _cluster_vips(spec)]
    addresses += [a.interface.ip for a in global_addresses(snapshot, link) if a.interface.ip not in addresses]
    ops: list[HostOp] = [] if link.up else [SetLink(spec.name, up=True)]
    if addresses:
        ops.append(Announce(spec.name, tuple(addresses), burst=True))
    return ops


def _cluster_vips(lb: LBInterface) -> list[IPInterface]:
    """The cluster VIPs as addresses of the LB interface, with the node network's prefix."""
    out: list[IPInterface] = []
    if lb.cluster_vip_ipv4 is not None:
        prefix = lb.node_ipv4.network.prefixlen if lb.node_ipv4 is not None else 32
        out.append(ipaddress.IPv4Interface(f"{lb.cluster_vip_ipv4}/{prefix}"))
    if lb.cluster_vip_ipv6 is not None:
        prefix = lb.node_ipv6.network.prefixlen if lb.node_ipv6 is not None else 128
        out.append(ipaddress.IPv6Interface(f"{lb.cluster_vip_ipv6}/{prefix}"))
    return out


def _leave_previous(record: LBRecord, lb: LBInterface, link: Link, snapshot: Snapshot) -> list[HostOp]:
    """Undo what the recorded (previous) LB interface set up that the new one does not want."""
    ops: list[HostOp] = []
    old = record.lb
    wanted = set(_cluster_vips(lb))
    present = {a.interface for a in snapshot.addresses_of(link.index)}
    for vip in _cluster_vips(old):
        if vip not in wanted and vip in present:
            ops.append(DeleteAddress(lb.name, vip))
    keep = set(cluster_vip_rules(lb.cluster_vip_ipv4, lb.routing_table)) if lb.cluster_vip_ipv4 else set()
    if old.cluster_vip_ipv4 is not None:
        for rule in cluster_vip_rules(old.cluster_vip_ipv4, old.routing_table):
            if rule not in keep and has_rule(snapshot, rule):
                ops.append(DeleteRule(rule))
    if old.routing_table != lb.routing_table:
        # unicast VIP rules move to the new table; the old table's routes go
        cluster = set(cluster_vip_rules(old.cluster_vip_ipv4, old.routing_table)) if old.cluster_vip_ipv4 else set()
        for rule in owned_rules(snapshot, old.routing_table):
            if _bare(rule) in {_bare(r) for r in cluster}:
                continue
            ops.append(DeleteRule(rule))
            ops.append(AddRule(dataclasses.replace(rule, table=lb.routing_table)))
        ops.extend(DeleteRoute(route) for route in snapshot.table_routes(old.routing_table))
    return ops


def _bare(rule: Rule) -> Rule:
    return dataclasses.replace(rule, priority=0, proto=0)


def _bring_up(lb: LBInterface, link: Link, is_up: bool, vlans: Sequence[Link], snapshot: Snapshot) -> list[HostOp]:
    ops: list[HostOp] = []
    if not is_up:
        ops.append(SetLink(lb.name, up=True))
    ops.extend(SetLink(v.name, up=True) for v in vlans if not v.up)
    wanted = table_routes(lb, link.index, snapshot)
    present = snapshot.table_routes(lb.routing_table) if is_up else []
    for route in wanted.routes:
        if not any(same_route(route, p) for p in present):
            ops.append(ReplaceRoute(route))
    addresses = [vip.ip for vip in _cluster_vips(lb)]
    addresses += [a.interface.ip for a in global_addresses(snapshot, link) if a.interface.ip not in addresses]
    if addresses:
        ops.append(Announce(lb.name, tuple(addresses), burst=True))
    for vlan in vlans:
        found = tuple(a.interface.ip for a in global_addresses(snapshot, vlan))
        if found:
            ops.append(Announce(vlan.name, found, burst=True))
    if wanted.problem is not None:
        ops.append(Fail(wanted.problem, errno.ENETUNREACH))
    return ops


def _take_down(lb: LBInterface, link: Link, vlans: Sequence[Link], snapshot: Snapshot) -> list[HostOp]:
    """Link down, then put back the global IPv6 addresses the kernel may drop with it."""
    keep = [
        AddAddress(each.name, a.interface)
        for each in (link, *vlans)
        for a in global_addresses(snapshot, each)
        if a.interface.version == 6
    ]
    return [SetLink(lb.name, up=False), *keep]


def remove_lb(lb: LBInterface, snapshot: Snapshot) -> list[HostOp]:
    link = snapshot.link(lb.name)
    if link is None:
        return []
    record = decode_lb(link.name, link.alias)
    known = record.lb if record is not None else lb
    ops: list[HostOp] = []
    present = {a.interface for a in snapshot.addresses_of(link.index)}
    for vip in {*_cluster_vips(known), *_cluster_vips(lb)}:
        if vip in present:
            ops.append(DeleteAddress(lb.name, vip))
    for table in sorted({known.routing_table, lb.routing_table}):
        ops.extend(DeleteRule(rule) for rule in owned_rules(snapshot, table))
        ops.extend(DeleteRoute(route) for route in snapshot.table_routes(table))
    if link.up:
        ops.append(SetLink(lb.name, up=False))
    if record is not None and record.mac and link.mac != record.mac:
        ops.append(SetLink(lb.name, mac=record.mac))
    if link.alias:
        ops.append(SetLink(lb.name, alias=""))
    return ops


# ------------------------------------------------------------------------ VLANs


def ensure_vlan(vlan: VLAN, snapshot: Snapshot) -> list[HostOp]:
    lb = snapshot.link(vlan.key.lb)
    if lb is None:
        raise PlanError(f"no such network interface {vlan.key.lb!r} to put VLAN {vlan.key.id} on", errno.ENODEV)
    name = str(vlan.key)
    alias = encode_vlan(vlan.ipv4, vlan.ipv6)
    link = snapshot.link(name)
    ops: list[HostOp] = []
    present: set[IPInterface] = set()
    if link is None:
        # the kernel ignores an alias given at creation: it is set on its own
        ops += [CreateLink(name, "vlan", parent=lb.name, vlan_id=vlan.key.id), SetLink(name, alias=alias)]
    else:
        if link.kind != "vlan" or link.vlan_id != vlan.key.id or link.parent != lb.index:
            raise PlanError(
                f"interface {name} exists but is not VLAN {vlan.key.id} on {lb.name}: remove or rename it",
                errno.EEXIST,
            )
        present = {a.interface for a in snapshot.addresses_of(link.index)}
        record = decode_vlan(link.alias)
        if record is not None:
            for old in (record.ipv4, record.ipv6):
                if old is not None and old not in (vlan.ipv4, vlan.ipv6) and old in present:
                    ops.append(DeleteAddress(name, old))
        if link.alias != alias:
            ops.append(SetLink(name, alias=alias))
    ops.append(SetSysctls(tuple(host_sysctl.interface_sysctls(name, keep_ipv6_on_down=True))))
    for host in (vlan.ipv4, vlan.ipv6):
        if host is not None and host not in present:
            ops.append(AddAddress(name, host))
    if link is None or link.up != lb.up:
        ops.append(SetLink(name, up=lb.up))
    return ops


def remove_vlan(vlan: VLAN, snapshot: Snapshot) -> list[HostOp]:
    link = snapshot.link(str(vlan.key))
    return [DeleteLink(link.name)] if link is not None and link.kind == "vlan" else []


# ------------------------------------------------------------------------- VIPs


def _the_lb(snapshot: Snapshot) -> tuple[Link, LBRecord] | None:
    found = lb_links(snapshot)
    return found[0] if found else None


def anycast_home(snapshot: Snapshot) -> str:
    """Where anycast and dedicated VIPs live: the LB interface's dummy interface if it exists, else lo."""
    lb = _the_lb(snapshot)
    name = lb[1].lb.dummy_interface if lb is not None else ""
    return name if name and snapshot.link(name) is not None else LOOPBACK


def unicast_home(vip: IPAddress, snapshot: Snapshot) -> tuple[str, IPInterface, Rule | None]:
    """The interface whose subnet holds a unicast VIP, the VIP with that prefix, and its source rule."""
    found = _the_lb(snapshot)
    if found is None:
        raise PlanError(
            f"no LB interface is set up, so unicast VIP {vip} has nowhere to go: the engine sets it up first",
            errno.ENODEV,
        )
    link, record = found
    lb = record.lb
    if vip in (lb.cluster_vip_ipv4, lb.cluster_vip_ipv6):
        raise PlanError(
            f"address already in use as the cluster VIP of {lb.name}: give the vserver an address of its own",
            errno.EEXIST,
        )
    candidates: list[tuple[str, IPInterface | None]] = [(lb.name, lb.node_ipv4), (lb.name, lb.node_ipv6)]
    for vlan_link in sorted(vlan_links(snapshot, link), key=lambda v: v.vlan_id):
        record_vlan = decode_vlan(vlan_link.alias)
        if record_vlan is not None:
            candidates += [(vlan_link.name, record_vlan.ipv4), (vlan_link.name, record_vlan.ipv6)]
    for name, host in candidates:
        if host is not None and host.version == vip.version and vip in host.network:
            interface = ipaddress.ip_interface(f"{vip}/{host.network.prefixlen}")
            on_lb = name == lb.name and isinstance(vip, ipaddress.IPv4Address)
            return name, interface, vip_rule(vip, lb.routing_table) if on_lb else None  # type: ignore[arg-type]
    subnets = ", ".join(f"{n} {h.network}" for n, h in candidates if h is not None) or "none"
    raise PlanError(
        f"no subnet of the LB interface or its VLANs holds unicast VIP {vip} (subnets: {subnets}): "
        "use an address in one of them, or add a VLAN for its subnet to cluster.pb",
        errno.EADDRNOTAVAIL,
    )


def _host_interface(vip: IPAddress) -> IPInterface:
    return ipaddress.ip_interface(f"{vip}/{vip.max_prefixlen}")


def add_vip(vip: VIP, snapshot: Snapshot) -> list[HostOp]:
    if vip.type is VIPType.UNICAST:
        name, interface, rule = unicast_home(vip.address, snapshot)
        ops: list[HostOp] = [AddAddress(name, interface)]
        if rule is not None:
            ops.append(AddRule(rule))
        link = snapshot.link(name)
        if link is not None and link.up:
            ops.append(Announce(name, (vip.address,)))
        return ops
    return [AddAddress(anycast_home(snapshot), _host_interface(vip.address))]


def remove_vip(vip: VIP | None, snapshot: Snapshot) -> list[HostOp]:
    """Remove a VIP from wherever it is (LB interface, VLAN, dummy, lo), with its rule."""
    if vip is None:
        return []
    places: list[Link] = []
    found = _the_lb(snapshot)
    if found is not None:
        link, record = found
        places += [link, *vlan_links(snapshot, link)]
        dummy = snapshot.link(record.lb.dummy_interface) if record.lb.dummy_interface else None
        if dummy is not None:
            places.append(dummy)
    loopback = snapshot.link(LOOPBACK)
    if loopback is not None:
        places.append(loopback)
    ops: list[HostOp] = []
    for place in places:
        for address in global_addresses(snapshot, place):
            if address.interface.ip == vip.address:
                ops.append(DeleteAddress(place.name, address.interface))
    if found is not None and isinstance(vip.address, ipaddress.IPv4Address):
        rule = vip_rule(vip.address, found[1].lb.routing_table)
        if has_rule(snapshot, rule):
            ops.append(DeleteRule(rule))
    return ops
