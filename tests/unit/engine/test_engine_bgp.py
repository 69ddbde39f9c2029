"""What the engine asks NCC's BGP speaker for: peers from cluster.pb, anycast VIPs while healthy, withdrawals."""

from __future__ import annotations

import dataclasses
import ipaddress

from engine_fixtures import cluster, node, settings, vserver_config

from seesaw.common.clock import FakeClock
from seesaw.config.model import Host, Node
from seesaw.engine import anycast
from seesaw.engine.core import VSERVER, Engine
from seesaw.pb import common_pb2, healthcheck_pb2, ncc_pb2

HEALTHY, UNHEALTHY = common_pb2.HEALTH_HEALTHY, common_pb2.HEALTH_UNHEALTHY
PEERS = {
    "router2.example.com.": Host(
        "router2.example.com.",
        ipv4=ipaddress.IPv4Interface("10.0.0.252/24"),
        ipv6=ipaddress.IPv6Interface("2001:db8::2/64"),
    ),
    "router1.example.com.": Host("router1.example.com.", ipv4=ipaddress.IPv4Interface("10.0.0.253/24")),
}


def serving(me: Node | None = None, *, anycast_on: bool = True, bgp_on: bool = True) -> tuple[Node, Node]:
    me = me or node()
    return (
        dataclasses.replace(me, anycast_enabled=anycast_on, bgp_enabled=bgp_on),
        node("10.0.0.3", "seesaw1-2.example.com.", 1),
    )


def anycast_engine(nodes: tuple[Node, ...] | None = None, **settings_changes: object) -> Engine:
    e = Engine(settings(anycast_enabled=True, **settings_changes), FakeClock())
    e.load_config(cluster(vserver_config(), nodes=nodes or serving(), bgp_remote_asn=64513, bgp_peers=PEERS))
    return e


def sync(e: Engine) -> ncc_pb2.ApplyRequest | None:
    req = e.pending_apply()
    if req is not None:
        e.apply_done(req, ncc_pb2.ApplyResponse())
    return req


def all_checks(e: Engine, state: int) -> None:
    batch = healthcheck_pb2.ResultBatch(
        results=[healthcheck_pb2.CheckResult(id=i, state=state) for i in e.check_configs()]
    )
    e.handle_results(batch)


def one_check(e: Engine, state: int, target: str) -> None:
    check_id = next(i for i, cfg in e.check_configs().items() if cfg.target == target and cfg.port == 1)
    e.handle_results(healthcheck_pb2.ResultBatch(results=[healthcheck_pb2.CheckResult(id=check_id, state=state)]))


def test_anycast_off_tells_ncc_to_advertise_nothing_once() -> None:
    e = Engine(settings(), FakeClock())
    e.load_config(cluster(vserver_config(), nodes=serving(), bgp_remote_asn=64513, bgp_peers=PEERS))
    req = sync(e)
    assert req is not None and req.has_bgp
    assert req.bgp == ncc_pb2.BGPConfig(enabled=False)
    assert anycast.PARTITION not in [p.name for p in req.partitions]
    all_checks(e, HEALTHY)
    req = sync(e)
    assert req is not None and not req.has_bgp  # the anycast VIP is held, but nothing is advertised
    assert e.pending_apply() is None


def test_peers_asns_router_id_and_the_service_address_from_the_start() -> None:
    e = anycast_engine()
    req = sync(e)
    assert req is not None and req.replace_all and req.has_bgp
    assert req.bgp == ncc_pb2.BGPConfig(
        enabled=True,
        local_asn=64512,
        remote_asn=64513,
        router_id="10.0.0.2",
        peers=[
            ncc_pb2.BGPPeer(address="10.0.0.253", description="router1.example.com."),
            ncc_pb2.BGPPeer(address="10.0.0.252", description="router2.example.com."),
            ncc_pb2.BGPPeer(address="2001:db8::2", description="router2.example.com."),
        ],
        networks=["192.168.255.254/32"],  # the cluster VIP is IPv4 only: no IPv6 service address
    )
    (service,) = [p for p in req.partitions if p.name == anycast.PARTITION]
    assert [(v.address, v.type) for v in service.vips] == [("192.168.255.254", common_pb2.VIP_ANYCAST)]
    assert e.pending_apply() is None


def test_the_anycast_vip_is_advertised_while_all_its_services_are_healthy() -> None:
    e = anycast_engine()
    sync(e)
    all_checks(e, HEALTHY)
    req = sync(e)
    assert req is not None and req.has_bgp
    assert list(req.bgp.networks) == ["192.168.255.1/32", "192.168.255.254/32"]
    assert "192.168.255.1" in [v.address for p in req.partitions for v in p.vips]

    one_check(e, UNHEALTHY, "1.1.1.10")  # one backend of one service: that service stays up (watermark 0)
    one_check(e, UNHEALTHY, "1.1.1.11")  # its other backend: the UDP service goes down, so the anycast VIP does
    req = sync(e)
    assert req is not None and list(req.bgp.networks) == ["192.168.255.254/32"]

    one_check(e, HEALTHY, "1.1.1.10")
    req = sync(e)
    assert req is not None and list(req.bgp.networks) == ["192.168.255.1/32", "192.168.255.254/32"]

    e.set_override(VSERVER, "dns.resolver@au-syd", common_pb2.OVERRIDE_DISABLED)
    req = sync(e)
    assert req is not None and list(req.bgp.networks) == ["192.168.255.254/32"]


def test_a_building_node_peers_but_advertises_nothing_and_a_drained_one_does_neither() -> None:
    building = anycast_engine(serving(anycast_on=False, bgp_on=True))
    all_checks(building, HEALTHY)
    req = sync(building)
    assert req is not None and len(req.bgp.peers) == 3 and not req.bgp.networks
    assert anycast.PARTITION not in [p.name for p in req.partitions]

    drained = anycast_engine(serving(anycast_on=False, bgp_on=False))
    req = sync(drained)
    assert req is not None and req.bgp.enabled and not req.bgp.peers and not req.bgp.networks


def test_extra_service_anycast_per_cluster_vip_family() -> None:
    extra = (ipaddress.ip_address("192.168.255.200"), ipaddress.ip_address("2015:cafe:ffff::200"))
    e = anycast_engine(extra_service_anycast=extra, vip_ipv6=ipaddress.IPv6Address("2015:cafe::1"))
    req = sync(e)
    assert req is not None
    assert list(req.bgp.networks) == [
        "192.168.255.200/32",
        "192.168.255.254/32",
        "2015:cafe:ffff::200/128",
        "2015:cafe:ffff::254/128",
    ]


def test_a_bgp_error_or_a_failed_apply_offers_the_bgp_config_again() -> None:
    e = anycast_engine()
    req = e.pending_apply()
    assert req is not None
    e.apply_done(req, ncc_pb2.ApplyResponse(errors=[ncc_pb2.ObjectError(kind="bgp", key="bgpd", message="down")]))
    again = e.pending_apply()
    assert again is not None and again.has_bgp and not again.partitions and not again.has_lb
    assert "NCC: -: bgp bgpd: down" in e.warnings()
    e.apply_failed(again, "NCC went away")
    last = sync(e)
    assert last is not None and last.has_bgp
    assert e.pending_apply() is None


def test_turning_anycast_off_withdraws() -> None:
    e = anycast_engine()
    all_checks(e, HEALTHY)
    sync(e)
    e.load_config(e.target, settings=settings(anycast_enabled=False))  # type: ignore[arg-type]
    req = sync(e)
    assert req is not None and req.bgp == ncc_pb2.BGPConfig(enabled=False)
    service = [p for p in req.partitions if p.name == anycast.PARTITION]
    assert service and not service[0].vips  # the service anycast address leaves the dummy interface
