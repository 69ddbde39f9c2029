"""Table T's routes from the main table's default, whatever the interface names (Seesaw's regex trap P4)."""

import ipaddress
import socket

from seesaw.ncc.kernel.host_routes import routes_in_place, table_routes
from seesaw.ncc.kernel.host_snapshot import MAIN_TABLE, RT_SCOPE_LINK, Link, Nexthop, Route, Snapshot
from seesaw.ncc.model import LBInterface

NODE, LB, OTHER = 2, 3, 4
ANY = ipaddress.ip_network("0.0.0.0/0")


def ip(text):
    return ipaddress.ip_address(text)


def lb_spec(**kw):
    base = dict(
        name="enp0s3",
        node_interface="br-x",
        node_ipv4=ipaddress.IPv4Interface("10.0.0.2/24"),
        cluster_vip_ipv4=ip("10.0.0.10"),
        routing_table=2,
    )
    return LBInterface(**{**base, **kw})


def snapshot(*defaults):
    links = {NODE: Link(NODE, "br-x", "bridge", True), LB: Link(LB, "enp0s3", "", True), OTHER: Link(OTHER, "wg0")}
    return Snapshot(links=links, routes=list(defaults))


def default(*hops, metric=0):
    return Route(socket.AF_INET, MAIN_TABLE, ANY, tuple(hops), metric=metric)


def test_default_via_a_bridge_named_br_x_gives_table_t_its_gateway_on_the_lb_link():
    wanted = table_routes(lb_spec(), LB, snapshot(default(Nexthop(ip("10.0.0.1"), NODE))))
    assert wanted.problem is None
    on_link, via = wanted.routes
    assert (on_link.table, on_link.dst, on_link.nexthops, on_link.scope) == (
        2,
        ipaddress.ip_network("10.0.0.0/24"),
        (Nexthop(None, LB),),
        RT_SCOPE_LINK,
    )
    assert (via.dst, via.nexthops) == (ANY, (Nexthop(ip("10.0.0.1"), LB),))


def test_ecmp_keeps_every_gateway_inside_the_node_network():
    hops = (Nexthop(ip("10.0.0.1"), NODE), Nexthop(ip("192.0.2.1"), OTHER), Nexthop(ip("10.0.0.254"), NODE))
    _, via = table_routes(lb_spec(), LB, snapshot(default(*hops))).routes
    assert via.nexthops == (Nexthop(ip("10.0.0.1"), LB), Nexthop(ip("10.0.0.254"), LB))


def test_the_lowest_metric_default_wins():
    worse = default(Nexthop(ip("10.0.0.9"), NODE), metric=200)
    better = default(Nexthop(ip("10.0.0.1"), NODE), metric=100)
    _, via = table_routes(lb_spec(), LB, snapshot(worse, better)).routes
    assert via.nexthops == (Nexthop(ip("10.0.0.1"), LB),)


def test_a_device_only_default_is_followed_as_it_is():
    _, via = table_routes(lb_spec(), LB, snapshot(default(Nexthop(None, OTHER)))).routes
    assert via.nexthops == (Nexthop(None, OTHER),)


def test_no_default_route_is_a_problem_that_names_the_fix():
    wanted = table_routes(lb_spec(), LB, snapshot())
    assert len(wanted.routes) == 1  # the node network still goes on the LB link
    assert "no IPv4 default route in the main table" in wanted.problem
    assert "ip route add default via <gateway in 10.0.0.0/24> dev br-x" in wanted.problem


def test_a_gateway_outside_the_node_network_is_a_problem():
    wanted = table_routes(lb_spec(), LB, snapshot(default(Nexthop(ip("192.0.2.1"), OTHER))))
    assert "192.0.2.1 is outside the node network 10.0.0.0/24" in wanted.problem


def test_without_a_node_ipv4_table_t_stays_empty():
    assert table_routes(lb_spec(node_ipv4=None, cluster_vip_ipv4=None), LB, snapshot()).routes == ()


def test_routes_in_place_ignores_metric_and_protocol():
    snap = snapshot(default(Nexthop(ip("10.0.0.1"), NODE)))
    wanted = table_routes(lb_spec(), LB, snap)
    assert not routes_in_place(wanted, snap, 2)
    snap.routes += [Route(r.family, r.table, r.dst, r.nexthops, 5, 4, r.scope) for r in wanted.routes]
    assert routes_in_place(wanted, snap, 2)
