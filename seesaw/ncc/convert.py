"""Protobuf (seesaw.ncc) to NCC's model and back, checking what the engine sent.

Each object is checked on its own. A bad one becomes an ObjectError naming
the field and is left out; where its key is still known it is *held*, so the
planner keeps its previous version (bad input never disturbs what runs). A
service that fails takes its destinations with it. An LB interface that fails
leaves the LB partition out of the request altogether, and so does a
partition without a name. The rest of the request still applies.
"""

from __future__ import annotations

import functools
import ipaddress
import socket
from collections.abc import Callable, Iterable, Mapping
from typing import TypeVar

from seesaw.ncc.dataplane import KernelState
from seesaw.ncc.model import (
    LB_PARTITION,
    SCHEDULERS,
    SERVICE_FLAGS,
    VIP,
    VLAN,
    Destination,
    DestinationKey,
    Family,
    Forwarding,
    IPAddress,
    Kind,
    LBInterface,
    ObjectError,
    Partition,
    Protocol,
    Ref,
    Request,
    Service,
    ServiceKey,
    Spec,
    Stats,
    VIPFilter,
    VIPType,
    VLANKey,
    address_sort_key,
    ref,
)
from seesaw.ncc.steps import Step
from seesaw.pb import common_pb2, ncc_pb2

_FORWARDING = {int(f): f for f in Forwarding}
_FAMILY_OF_VERSION = {4: Family.INET, 6: Family.INET6}
_DESTINATION = Kind.DESTINATION  # an enum member is a slow attribute lookup in Python 3.11; hot loops bind it once
MAX_WEIGHT = 2**31 - 1  # IPVS weights are signed 32-bit
IFNAMSIZ = 16


class Invalid(ValueError):
    """One field of one object is wrong; the message says which and how to fix it."""


# --- protobuf -> model -------------------------------------------------------------------------------------------


def request_from_pb(
    message: ncc_pb2.ApplyRequest, accepted: Mapping[str, bytes] | None = None
) -> tuple[Request, list[ObjectError]]:
    """The request `message` asks for, and what was wrong with it.

    With `accepted` (partition name -> the bytes of the message NCC last accepted
    for it whole), each partition carries its own bytes as its fingerprint, and a
    partition sent again byte for byte is listed `unchanged` without being converted.
    """
    errors: list[ObjectError] = []
    partitions = []
    for raw in message.partitions:
        if not raw.name:
            errors.append(ObjectError("partition", "", "", "has no name; give every partition a unique name"))
            continue
        fingerprint = b""
        if accepted is not None:
            fingerprint = raw.SerializeToString(deterministic=True)
            if accepted.get(raw.name) == fingerprint:
                partitions.append(Partition(raw.name, unchanged=True))
                continue
        partition, partition_errors = partition_from_pb(raw, fingerprint)
        partitions.append(partition)
        errors.extend(partition_errors)
    if message.has_lb:
        lb, lb_errors = lb_partition_from_pb(message.lb)
        errors.extend(lb_errors)
        if lb is not None:
            partitions.append(lb)
    return Request(tuple(partitions), message.replace_all), errors


def partition_from_pb(message: ncc_pb2.Partition, fingerprint: bytes = b"") -> tuple[Partition, list[ObjectError]]:
    builder = _Builder(message.name)
    for raw_service in message.services:
        builder.service(raw_service)
    for raw_vip in message.vips:
        builder.simple(Kind.VIP, vip_from_pb, raw_vip, _vip_label(raw_vip.address))
    for raw_filter in message.filters:
        builder.simple(Kind.FILTER, filter_from_pb, raw_filter, _vip_label(raw_filter.address))
    return builder.partition(fingerprint), builder.errors


def lb_partition_from_pb(message: ncc_pb2.LBInterface) -> tuple[Partition | None, list[ObjectError]]:
    """The LB partition; None (with an error) when the LB interface itself is unusable.

    An LBInterface with no name asks for the LB interface to be released.
    """
    if not message.name:
        return Partition(LB_PARTITION), []
    try:
        lb = lb_from_pb(message)
    except Invalid as err:
        text = f"{err}; the LB interface was left as it was"
        return None, [ObjectError(str(Kind.LB), message.name, LB_PARTITION, text)]
    builder = _Builder(LB_PARTITION)
    builder.keep(lb)
    for raw in message.vlans:
        try:
            builder.keep(vlan_from_pb(lb.name, raw))
        except Invalid as err:
            key = VLANKey(lb.name, raw.id)
            builder.fail(Kind.VLAN, str(key), str(err), (Kind.VLAN, key))
    return builder.partition(), builder.errors


_Message = TypeVar("_Message", ncc_pb2.VIP, ncc_pb2.VIPFilter)


class _Builder:
    """Collects one partition's objects, errors and held refs."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.objects: dict[Ref, Spec] = {}
        self.held: set[Ref] = set()
        self.errors: list[ObjectError] = []

    def partition(self, fingerprint: bytes = b"") -> Partition:
        return Partition(self.name, self.objects, frozenset(self.held), fingerprint)

    def keep(self, spec: Spec) -> bool:
        item = ref(spec)
        if item in self.objects:
            self.fail(spec.kind, str(spec.key), "listed twice; the first one was used")
            return False
        self.objects[item] = spec
        return True

    def fail(self, kind: Kind, label: str, message: str, held: Ref | None = None) -> None:
        self.errors.append(ObjectError(str(kind), label, self.name, message))
        if held is not None:
            self.held.add(held)

    def simple(self, kind: Kind, convert: Callable[[_Message], Spec], message: _Message, label: str) -> None:
        try:
            spec = convert(message)
        except Invalid as err:
            self.fail(kind, label, str(err))
            return
        self.keep(spec)

    def service(self, message: ncc_pb2.Service) -> None:
        try:
            key = service_key_from_pb(message)
        except Invalid as err:
            self.fail(Kind.SERVICE, _service_label(message), f"{err}; its destinations were not applied either")
            return
        try:
            spec = service_from_pb(key, message)
        except Invalid as err:
            note = "; it and its destinations keep their previous state"
            self.fail(Kind.SERVICE, str(key), f"{err}{note}", (Kind.SERVICE, key))
            return
        if not self.keep(spec):
            return
        objects = self.objects
        for raw in message.destinations:  # the bulk of a large state: kept lean
            try:
                dest = destination_from_pb(key, raw)
            except Invalid as err:
                label = f"{key} -> {_endpoint_label(raw.address, raw.port)}"
                self.fail(Kind.DESTINATION, label, str(err), _destination_ref(key, raw))
                continue
            item = (_DESTINATION, dest.key)
            if item in objects:
                self.fail(Kind.DESTINATION, str(dest.key), "listed twice; the first one was used")
                continue
            objects[item] = dest


def _destination_ref(service: ServiceKey, message: ncc_pb2.Destination) -> Ref | None:
    try:
        return (Kind.DESTINATION, DestinationKey(service, parse_address(message.address), _port(message.port)))
    except Invalid:
        return None


def service_key_from_pb(message: ncc_pb2.Service) -> ServiceKey:
    family = _family(message.family)
    if message.fwmark:
        if message.address:
            raise Invalid(f"a fwmark service has no address, but {message.address!r} was given; send one or the other")
        return ServiceKey.mark(family, message.fwmark)
    protocol = _protocol(message.protocol)
    address = parse_address(message.address)
    if _FAMILY_OF_VERSION[address.version] is not family:
        raise Invalid(f"address {address} is {Family.of(address).label} but the service family is {family.label}")
    return ServiceKey(family, protocol, address, _port(message.port))


def service_from_pb(key: ServiceKey, message: ncc_pb2.Service) -> Service:
    if not message.scheduler:
        raise Invalid(f"no scheduler; set one of {', '.join(sorted(SCHEDULERS))}")
    if message.scheduler not in SCHEDULERS:
        raise Invalid(f"unknown scheduler {message.scheduler!r}; use one of {', '.join(sorted(SCHEDULERS))}")
    if message.flags & ~SERVICE_FLAGS:
        raise Invalid(f"unknown flag bits {message.flags & ~SERVICE_FLAGS:#x} (known: {SERVICE_FLAGS:#x})")
    return Service(key, message.scheduler, message.flags, message.timeout)


def destination_from_pb(service: ServiceKey, message: ncc_pb2.Destination) -> Destination:
    address = parse_address(message.address)
    if _FAMILY_OF_VERSION[address.version] is not service.family:
        raise Invalid(
            f"an {Family.of(address).label} destination cannot serve an {service.family.label} service; "
            "list it under a service of its own family"
        )
    forwarding = _FORWARDING.get(message.forwarding)
    if forwarding is None:
        raise Invalid(f"unknown forwarding method {message.forwarding}")
    weight = message.weight
    if weight > MAX_WEIGHT:
        raise Invalid(f"weight {weight} is above the kernel's maximum {MAX_WEIGHT}")
    port = message.port
    if port > 65535:
        raise Invalid(f"port {port} is above 65535")
    return Destination(
        DestinationKey(service, address, port), forwarding, weight, message.upper_threshold, message.lower_threshold
    )


def vip_from_pb(message: ncc_pb2.VIP) -> VIP:
    try:
        vip_type = VIPType(message.type)
    except ValueError:
        raise Invalid(f"unknown VIP type {message.type}") from None
    return VIP(parse_address(message.address), vip_type)


def filter_from_pb(message: ncc_pb2.VIPFilter) -> VIPFilter:
    ports = frozenset((_protocol(p.protocol), _port(p.port)) for p in message.ports)
    return VIPFilter(parse_address(message.address), ports, message.fwmark, message.nat)


def lb_from_pb(message: ncc_pb2.LBInterface) -> LBInterface:
    node_ipv4 = _cidr(message.node_ipv4, ipaddress.IPv4Interface, "node_ipv4")
    node_ipv6 = _cidr(message.node_ipv6, ipaddress.IPv6Interface, "node_ipv6")
    vip4 = _optional_address(message.cluster_vip_ipv4, ipaddress.IPv4Address, "cluster_vip_ipv4")
    vip6 = _optional_address(message.cluster_vip_ipv6, ipaddress.IPv6Address, "cluster_vip_ipv6")
    _check_cluster_vip(vip4, node_ipv4)
    _check_cluster_vip(vip6, node_ipv6)
    if not 1 <= message.vrid <= 255:
        raise Invalid(f"vrid {message.vrid} is outside 1..255; set [cluster] vrid in seesaw.cfg")
    if not 1 <= message.routing_table <= 250:
        raise Invalid(f"routing table {message.routing_table} is outside 1..250; set [interface] routing_table")
    return LBInterface(
        name=_ifname(message.name, "name"),
        node_interface=_ifname(message.node_interface, "node_interface", optional=True),
        dummy_interface=_ifname(message.dummy_interface, "dummy_interface", optional=True),
        node_ipv4=node_ipv4,
        node_ipv6=node_ipv6,
        cluster_vip_ipv4=vip4,
        cluster_vip_ipv6=vip6,
        vrid=message.vrid,
        use_vmac=message.use_vmac,
        routing_table=message.routing_table,
        up=message.up,
    )


def _check_cluster_vip(
    vip: ipaddress.IPv4Address | ipaddress.IPv6Address | None,
    node: ipaddress.IPv4Interface | ipaddress.IPv6Interface | None,
) -> None:
    if vip is not None and node is not None and vip not in node.network:
        raise Invalid(
            f"node network {node.network} does not contain the cluster VIP {vip}; "
            "put the cluster VIP in the node's subnet (seesaw.cfg [cluster] vip_ipv4/vip_ipv6)"
        )


def vlan_from_pb(lb: str, message: ncc_pb2.VLAN) -> VLAN:
    if not 1 <= message.id <= 4094:
        raise Invalid(f"VLAN id {message.id} is outside 1..4094")
    if len(f"{lb}.{message.id}") >= IFNAMSIZ:
        raise Invalid(f"interface name {lb}.{message.id} is longer than the kernel's {IFNAMSIZ - 1} characters")
    return VLAN(
        VLANKey(lb, message.id),
        _cidr(message.ipv4, ipaddress.IPv4Interface, "ipv4"),
        _cidr(message.ipv6, ipaddress.IPv6Interface, "ipv6"),
    )


def arp_targets(message: ncc_pb2.ARPRequest) -> tuple[list[tuple[str, IPAddress]], list[str]]:
    """(interface, address) pairs to announce, and what was wrong with the rest."""
    targets: list[tuple[str, IPAddress]] = []
    errors: list[str] = []
    for interface, addresses in sorted(message.interfaces.items()):
        for text in addresses.addresses:
            try:
                targets.append((_ifname(interface, "interface"), parse_address(text)))
            except Invalid as err:
                errors.append(f"{interface} {text}: {err}")
    return targets, errors


@functools.lru_cache(maxsize=65536)
def parse_address(text: str) -> IPAddress:
    """An IP address; cached, because a large state names the same backends many times.

    IPv4 through the C library first: `inet_pton` takes exactly the dotted quads ipaddress takes (four
    decimal octets, no leading zeros) in a quarter of the time (a cold apply of 10,000 services parses
    50,000 addresses); anything else (IPv6, errors) goes through ipaddress."""
    try:
        return _IPV4(_PTON(_AF_INET, text))
    except (OSError, ValueError):  # ValueError: an embedded NUL
        pass
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        raise Invalid(f"bad IP address {text!r}") from None


_PTON = socket.inet_pton
_AF_INET = socket.AF_INET
_IPV4 = ipaddress.IPv4Address


_Address = TypeVar("_Address", ipaddress.IPv4Address, ipaddress.IPv6Address)
_Interface = TypeVar("_Interface", ipaddress.IPv4Interface, ipaddress.IPv6Interface)
_VERSION: dict[type, int] = {
    ipaddress.IPv4Address: 4,
    ipaddress.IPv6Address: 6,
    ipaddress.IPv4Interface: 4,
    ipaddress.IPv6Interface: 6,
}


def _optional_address(text: str, cls: type[_Address], field: str) -> _Address | None:
    if not text:
        return None
    try:
        return cls(text)
    except ValueError:
        raise Invalid(f"{field} {text!r} is not an IPv{_VERSION[cls]} address") from None


def _cidr(text: str, cls: type[_Interface], field: str) -> _Interface | None:
    if not text:
        return None
    try:
        value = cls(text)
    except ValueError:
        value = None
    if value is None or "/" not in text:
        version = _VERSION[cls]
        example = "192.0.2.10/24" if version == 4 else "2001:db8::10/64"
        raise Invalid(f"{field} {text!r} is not an IPv{version} address with a prefix length (e.g. {example})")
    return value


def _ifname(name: str, field: str, optional: bool = False) -> str:
    if not name and optional:
        return name
    if not name or len(name) >= IFNAMSIZ or "/" in name or ":" in name or any(c.isspace() for c in name):
        raise Invalid(f"{field} {name!r} is not a valid interface name (1-15 characters, no '/', ':' or spaces)")
    return name


def _family(value: int) -> Family:
    family = _FAMILIES.get(value)
    if family is None:
        raise Invalid("family must be AF_INET or AF_INET6")
    return family


def _protocol(value: int) -> Protocol:
    protocol = _PROTOCOLS.get(value)
    if protocol is None:
        raise Invalid(f"protocol {value} is neither TCP nor UDP")
    return protocol


# By number: calling an enum class with a value is slow in Python 3.11.
_FAMILIES = {int(f): f for f in Family}
_PROTOCOLS = {int(p): p for p in (Protocol.TCP, Protocol.UDP)}


def _port(value: int) -> int:
    if value > 65535:
        raise Invalid(f"port {value} is above 65535")
    return value


def _endpoint_label(address: str, port: int) -> str:
    return f"[{address}]:{port}" if ":" in address else f"{address}:{port}"


def _vip_label(address: str) -> str:
    return address or "(no address)"


def _service_label(message: ncc_pb2.Service) -> str:
    if message.fwmark:
        return f"FWM {message.fwmark}"
    protocol = Protocol(message.protocol).name if message.protocol in (6, 17) else f"proto {message.protocol}"
    return f"{protocol} {_endpoint_label(message.address, message.port)}"


# --- model -> protobuf -------------------------------------------------------------------------------------------


def step_to_pb(step: Step) -> ncc_pb2.PlanStep:
    return ncc_pb2.PlanStep(
        op=int(step.op), kind=str(step.kind), key=step.key, partition=step.partition, detail=step.detail()
    )


def error_to_pb(error: ObjectError) -> ncc_pb2.ObjectError:
    return ncc_pb2.ObjectError(kind=error.kind, key=error.key, partition=error.partition, message=error.message)


def service_to_pb(service: Service) -> ncc_pb2.Service:
    key = service.key
    return ncc_pb2.Service(
        family=int(key.family),
        protocol=int(key.protocol),
        address=str(key.address) if key.address is not None else "",
        port=key.port,
        fwmark=key.fwmark,
        scheduler=service.scheduler,
        flags=service.flags,
        timeout=service.timeout,
    )


def destination_to_pb(dest: Destination) -> ncc_pb2.Destination:
    return ncc_pb2.Destination(
        address=str(dest.key.address),
        port=dest.key.port,
        forwarding=int(dest.forwarding),
        weight=dest.weight,
        upper_threshold=dest.upper_threshold,
        lower_threshold=dest.lower_threshold,
    )


def vip_to_pb(vip: VIP) -> ncc_pb2.VIP:
    return ncc_pb2.VIP(address=str(vip.address), type=int(vip.type))


def lb_to_pb(lb: LBInterface, vlans: Iterable[VLAN] = ()) -> ncc_pb2.LBInterface:
    return ncc_pb2.LBInterface(
        name=lb.name,
        node_interface=lb.node_interface,
        dummy_interface=lb.dummy_interface,
        node_ipv4=_text(lb.node_ipv4),
        node_ipv6=_text(lb.node_ipv6),
        cluster_vip_ipv4=_text(lb.cluster_vip_ipv4),
        cluster_vip_ipv6=_text(lb.cluster_vip_ipv6),
        vrid=lb.vrid,
        use_vmac=lb.use_vmac,
        routing_table=lb.routing_table,
        up=lb.up,
        vlans=[
            ncc_pb2.VLAN(id=v.key.id, ipv4=_text(v.ipv4), ipv6=_text(v.ipv6))
            for v in sorted(vlans, key=lambda v: v.key.id)
        ],
    )


def filter_to_pb(spec: VIPFilter) -> ncc_pb2.VIPFilter:
    return ncc_pb2.VIPFilter(
        address=str(spec.address),
        ports=[ncc_pb2.Port(protocol=int(protocol), port=port) for protocol, port in sorted(spec.ports)],
        fwmark=spec.fwmark,
        nat=spec.nat,
    )


def request_to_pb(partitions: Mapping[str, Iterable[Spec]]) -> ncc_pb2.ApplyRequest:
    """The request that would ask for exactly `partitions` (the LB one included): request_from_pb's inverse."""
    message = ncc_pb2.ApplyRequest(replace_all=True)
    for name, specs in partitions.items():
        if name == LB_PARTITION:
            lbs = [s for s in specs if isinstance(s, LBInterface)]
            vlans = [s for s in specs if isinstance(s, VLAN)]
            message.has_lb = True
            if lbs:
                message.lb.CopyFrom(lb_to_pb(lbs[0], vlans))
        else:
            message.partitions.append(partition_to_pb(name, specs))
    return message


def partition_to_pb(name: str, specs: Iterable[Spec]) -> ncc_pb2.Partition:
    message = ncc_pb2.Partition(name=name)
    services: dict[ServiceKey, ncc_pb2.Service] = {}
    destinations: list[Destination] = []
    for spec in specs:
        if isinstance(spec, Service):
            services[spec.key] = message.services.add()
            services[spec.key].CopyFrom(service_to_pb(spec))
        elif isinstance(spec, Destination):
            destinations.append(spec)
        elif isinstance(spec, VIP):
            message.vips.append(vip_to_pb(spec))
        elif isinstance(spec, VIPFilter):
            message.filters.append(filter_to_pb(spec))
    for dest in destinations:
        if dest.key.service in services:
            services[dest.key.service].destinations.append(destination_to_pb(dest))
    return message


def stats_to_pb(stats: Stats | None) -> common_pb2.Stats:
    if stats is None:
        return common_pb2.Stats()
    return common_pb2.Stats(**{name: getattr(stats, name) for name in Stats.__dataclass_fields__})


def state_to_pb(dataplane: str, state: KernelState) -> ncc_pb2.DataplaneState:
    """What a dataplane holds, as GetState reports it: services with their destinations and counters."""
    services: list[Service] = []
    destinations: dict[ServiceKey, list[Destination]] = {}
    vips: list[VIP] = []
    lbs: list[LBInterface] = []
    vlans: list[VLAN] = []
    for spec in state.objects.values():
        if isinstance(spec, Service):
            services.append(spec)
        elif isinstance(spec, Destination):
            destinations.setdefault(spec.key.service, []).append(spec)
        elif isinstance(spec, VIP):
            vips.append(spec)
        elif isinstance(spec, LBInterface):
            lbs.append(spec)
        elif isinstance(spec, VLAN):
            vlans.append(spec)
    reply = ncc_pb2.DataplaneState(dataplane=dataplane)
    for service in sorted(services, key=lambda s: s.key.sort_key()):
        entry = reply.services.add(service=service_to_pb(service), stats=stats_to_pb(state.stats.get(ref(service))))
        dests = sorted(destinations.get(service.key, []), key=lambda d: (address_sort_key(d.key.address), d.key.port))
        for dest in dests:
            entry.destinations.add(destination=destination_to_pb(dest), stats=stats_to_pb(state.stats.get(ref(dest))))
    reply.vips.extend(vip_to_pb(v) for v in sorted(vips, key=lambda v: address_sort_key(v.address)))
    if lbs:
        reply.lb.CopyFrom(lb_to_pb(lbs[0], [v for v in vlans if v.key.lb == lbs[0].name]))
    return reply


def _text(value: object) -> str:
    return "" if value is None else str(value)
