"""Builders for NCC tests: model objects and protobuf messages with sensible defaults."""

from __future__ import annotations

import ipaddress

from seesaw.ncc.model import (
    VIP,
    VLAN,
    Destination,
    DestinationKey,
    LBInterface,
    Partition,
    Protocol,
    Service,
    ServiceKey,
    Spec,
    VIPFilter,
    VIPType,
    VLANKey,
)
from seesaw.pb import common_pb2, ncc_pb2


def ip(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    return ipaddress.ip_address(text)


def service(address: str = "192.0.2.1", port: int = 80, protocol: Protocol = Protocol.TCP, **fields) -> Service:
    return Service(ServiceKey.ip(protocol, ip(address), port), **{"scheduler": "wrr", **fields})


def dest(svc: Service, address: str, port: int = 80, weight: int = 1, **fields) -> Destination:
    return Destination(DestinationKey(svc.key, ip(address), port), weight=weight, **fields)


def vip(address: str = "192.0.2.1", vip_type: VIPType = VIPType.UNICAST) -> VIP:
    return VIP(ip(address), vip_type)


def vip_filter(address: str = "192.0.2.1", *ports: int) -> VIPFilter:
    return VIPFilter(ip(address), frozenset((Protocol.TCP, p) for p in ports or (80,)))


def lb(name: str = "eth1", up: bool = False, **fields) -> LBInterface:
    defaults = {
        "node_interface": "eth0",
        "node_ipv4": ipaddress.IPv4Interface("192.0.2.10/24"),
        "cluster_vip_ipv4": ipaddress.IPv4Address("192.0.2.100"),
    }
    return LBInterface(name, up=up, **{**defaults, **fields})


def vlan(lb_name: str = "eth1", vlan_id: int = 100, cidr: str = "198.51.100.10/24") -> VLAN:
    return VLAN(VLANKey(lb_name, vlan_id), ipv4=ipaddress.IPv4Interface(cidr))


def partition(name: str, *specs: Spec, held: tuple = ()) -> Partition:
    return Partition.of(name, specs, held)


def web(name: str = "web", address: str = "192.0.2.1", backends: tuple[str, ...] = ("10.0.0.1", "10.0.0.2"), weight=1):
    """A typical vserver partition: VIP, one service, its destinations, the VIP's filter."""
    svc = service(address)
    return partition(name, vip(address), svc, *(dest(svc, b, weight=weight) for b in backends), vip_filter(address))


# --- protobuf ------------------------------------------------------------------------------------------------------


def pb_service(
    address: str = "192.0.2.1",
    port: int = 80,
    backends: tuple[str, ...] = ("10.0.0.1", "10.0.0.2"),
    scheduler: str = "wrr",
    weight: int = 1,
    protocol: int = common_pb2.IPPROTO_TCP,
    family: int | None = None,
    **fields,
) -> ncc_pb2.Service:
    if family is None:
        family = common_pb2.AF_INET6 if ":" in address else common_pb2.AF_INET
    return ncc_pb2.Service(
        family=family,
        protocol=protocol,
        address=address,
        port=port,
        scheduler=scheduler,
        destinations=[
            ncc_pb2.Destination(address=b, port=port, weight=weight, forwarding=common_pb2.FWD_ROUTE) for b in backends
        ],
        **fields,
    )


def pb_partition(name: str = "web", address: str = "192.0.2.1", **service_fields) -> ncc_pb2.Partition:
    return ncc_pb2.Partition(
        name=name,
        services=[pb_service(address, **service_fields)],
        vips=[ncc_pb2.VIP(address=address, type=common_pb2.VIP_UNICAST)],
        filters=[ncc_pb2.VIPFilter(address=address, ports=[ncc_pb2.Port(protocol=common_pb2.IPPROTO_TCP, port=80)])],
    )


def pb_lb(name: str = "eth1", up: bool = True, **fields) -> ncc_pb2.LBInterface:
    defaults = {
        "node_interface": "eth0",
        "dummy_interface": "dummy0",
        "node_ipv4": "192.0.2.10/24",
        "cluster_vip_ipv4": "192.0.2.100",
        "vrid": 60,
        "use_vmac": True,
        "routing_table": 2,
    }
    return ncc_pb2.LBInterface(name=name, up=up, **{**defaults, **fields})
