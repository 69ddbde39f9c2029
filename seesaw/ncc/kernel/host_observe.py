"""What the host network holds, as NCC objects (LB interface, VLANs, VIPs). Pure: a Snapshot in, specs out.

This is what makes adoption work: after a restart NCC reads these, finds
them equal to what the engine asks for, and writes nothing. So every fact an
object stands for is checked against the kernel, and a fact that does not
hold shows up as a difference the planner repairs:

* The LB interface is the link whose alias holds an LB record (host_record.py).
  `use_vmac` holds only if the link has the VMAC; a cluster VIP only if its
  address (with the node network's prefix) and, for IPv4, both policy rules
  are there; `up` only if the link is up and table T holds its routes.
* A VLAN is a `vlan` link `<lb>.<id>` on the LB interface; its addresses count
  only if recorded in its alias and present.
* A VIP is a global address: on the LB interface (not a cluster VIP or node
  address; an IPv4 one only with its `from <VIP>` rule) or a VLAN (not its host
  address): unicast. On the dummy interface, or on `lo` when NCC put it there
  (IFA_PROTO): anycast when inside Seesaw's anycast ranges, else dedicated.
"""

from __future__ import annotations

import dataclasses
import ipaddress

from seesaw.config.model import ANYCAST_RANGES
from seesaw.ncc.kernel.host_messages import PROTO
from seesaw.ncc.kernel.host_record import LBRecord, decode_lb, decode_vlan
from seesaw.ncc.kernel.host_routes import cluster_vip_rules, has_rule, routes_in_place, table_routes, vip_rule
from seesaw.ncc.kernel.host_snapshot import RT_SCOPE_UNIVERSE, Address, Link, Snapshot
from seesaw.ncc.model import VIP, VLAN, IPAddress, LBInterface, Ref, Spec, VIPType, VLANKey, ref

LOOPBACK = "lo"


def is_anycast(address: IPAddress) -> bool:
    return any(address in net for net in ANYCAST_RANGES)


def shared_vip_type(address: IPAddress) -> VIPType:
    """The type of a VIP found on the dummy interface or lo."""
    return VIPType.ANYCAST if is_anycast(address) else VIPType.DEDICATED


def lb_links(snapshot: Snapshot) -> list[tuple[Link, LBRecord]]:
    found = []
    for link in snapshot.links.values():
        record = decode_lb(link.name, link.alias)
        if record is not None:
            found.append((link, record))
    return found


def vlan_links(snapshot: Snapshot, lb: Link) -> list[Link]:
    """The 802.1Q links `<lb>.<id>` on `lb`."""
    return [
        link
        for link in snapshot.links.values()
        if link.kind == "vlan" and link.parent == lb.index and link.name == f"{lb.name}.{link.vlan_id}"
    ]


def global_addresses(snapshot: Snapshot, link: Link) -> list[Address]:
    return [a for a in snapshot.addresses_of(link.index) if a.scope == RT_SCOPE_UNIVERSE]


def observe(snapshot: Snapshot) -> dict[Ref, Spec]:
    """Every LB interface, VLAN and VIP the host holds, as NCC would have asked for it."""
    objects: dict[Ref, Spec] = {}

    def put(spec: Spec) -> None:
        objects[ref(spec)] = spec

    for link, record in lb_links(snapshot):
        lb = observe_lb(snapshot, link, record)
        put(lb)
        own = {ip for ip in (record.lb.cluster_vip_ipv4, record.lb.cluster_vip_ipv6) if ip is not None}
        own |= {i.ip for i in (record.lb.node_ipv4, record.lb.node_ipv6) if i is not None}
        for address in global_addresses(snapshot, link):
            ip = address.interface.ip
            if ip in own:
                continue
            if ip.version == 4 and not has_rule(snapshot, vip_rule(ip, record.lb.routing_table)):  # type: ignore[arg-type]
                continue
            put(VIP(ip, VIPType.UNICAST))
        for vlan_link in vlan_links(snapshot, link):
            vlan = observe_vlan(snapshot, vlan_link, record.lb.name)
            put(vlan)
            hosts = {i.ip for i in (vlan.ipv4, vlan.ipv6) if i is not None}
            for address in global_addresses(snapshot, vlan_link):
                if address.interface.ip not in hosts:
                    put(VIP(address.interface.ip, VIPType.UNICAST))
        dummy = snapshot.link(record.lb.dummy_interface) if record.lb.dummy_interface else None
        if dummy is not None:
            for address in global_addresses(snapshot, dummy):
                put(VIP(address.interface.ip, shared_vip_type(address.interface.ip)))
    loopback = snapshot.link(LOOPBACK)
    if loopback is not None:
        for address in global_addresses(snapshot, loopback):
            if address.proto == PROTO:
                put(VIP(address.interface.ip, shared_vip_type(address.interface.ip)))
    return objects


def observe_lb(snapshot: Snapshot, link: Link, record: LBRecord) -> LBInterface:
    """The LB interface as recorded, minus every recorded fact the kernel does not bear out."""
    want = record.lb
    present = {a.interface for a in snapshot.addresses_of(link.index)}
    vip4 = want.cluster_vip_ipv4
    if vip4 is not None:
        prefix = want.node_ipv4.network.prefixlen if want.node_ipv4 is not None else 32
        rules_ok = all(has_rule(snapshot, r) for r in cluster_vip_rules(vip4, want.routing_table))
        if ipaddress.IPv4Interface(f"{vip4}/{prefix}") not in present or not rules_ok:
            vip4 = None
    vip6 = want.cluster_vip_ipv6
    if vip6 is not None:
        prefix = want.node_ipv6.network.prefixlen if want.node_ipv6 is not None else 128
        if ipaddress.IPv6Interface(f"{vip6}/{prefix}") not in present:
            vip6 = None
    up = link.up
    if up:
        wanted = table_routes(want, link.index, snapshot)
        up = wanted.problem is None and routes_in_place(wanted, snapshot, want.routing_table)
    return dataclasses.replace(
        want,
        cluster_vip_ipv4=vip4,
        cluster_vip_ipv6=vip6,
        use_vmac=want.use_vmac and link.mac == want.vmac,
        up=up,
    )


def observe_vlan(snapshot: Snapshot, link: Link, lb: str) -> VLAN:
    record = decode_vlan(link.alias)
    present = {a.interface for a in snapshot.addresses_of(link.index)}
    ipv4 = record.ipv4 if record is not None and record.ipv4 in present else None
    ipv6 = record.ipv6 if record is not None and record.ipv6 in present else None
    return VLAN(VLANKey(lb, link.vlan_id), ipv4, ipv6)
