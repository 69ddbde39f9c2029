"""Policy routing for the LB interface: the rules and the routes of table T.

Traffic to and from the cluster VIP, and from each unicast VIP on the LB
interface, looks up table T (the `[interface] routing_table`, 2 by default),
which sends it out of the LB interface: the node network on the link, and the
default route through the main table's gateway. So replies from VIPs leave
through the LB NIC (Seesaw's arp-flux fix, PR #50).

Seesaw v2 found the gateway by matching `ip route show default` against
`^default via (\\d+\\.\\d+\\.\\d+\\.\\d+) dev ([a-z]+[0-9]+) `, which fails for
`enp0s3`, `br-x`, `bond0.100`, device-only and ECMP defaults. Here the main
table's default routes come from netlink, whatever the interface names:
the lowest-metric default wins; its gateways inside the node network become
table T's nexthops (several: ECMP); a device-only default is copied as it is.

IPv4 only, as in Seesaw: IPv6 VIPs rely on neighbour discovery. Pure.
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass

from seesaw.ncc.kernel.host_messages import PROTO
from seesaw.ncc.kernel.host_snapshot import RT_SCOPE_LINK, RT_SCOPE_UNIVERSE, Nexthop, Route, Rule, Snapshot
from seesaw.ncc.model import LBInterface

RULE_PRIORITY = 32765  # just before the main table, where `ip rule add` puts a rule on a plain host
DEFAULT_V4 = ipaddress.IPv4Network("0.0.0.0/0")


@dataclass(frozen=True)
class TableRoutes:
    """The routes table T should hold while the LB interface is up, or why it cannot."""

    routes: tuple[Route, ...]
    problem: str | None = None


def host_network(address: ipaddress.IPv4Address) -> ipaddress.IPv4Network:
    return ipaddress.IPv4Network(f"{address}/32")


def cluster_vip_rules(vip: ipaddress.IPv4Address, table: int) -> tuple[Rule, Rule]:
    """`to <VIP> lookup T` and `from <VIP> lookup T`."""
    net = host_network(vip)
    return (
        Rule(socket.AF_INET, table, RULE_PRIORITY, dst=net, proto=PROTO),
        Rule(socket.AF_INET, table, RULE_PRIORITY, src=net, proto=PROTO),
    )


def vip_rule(vip: ipaddress.IPv4Address, table: int) -> Rule:
    """`from <VIP> lookup T`, for a unicast VIP on the LB interface itself."""
    return Rule(socket.AF_INET, table, RULE_PRIORITY, src=host_network(vip), proto=PROTO)


def has_rule(snapshot: Snapshot, wanted: Rule) -> bool:
    return any(
        r.family == wanted.family and r.table == wanted.table and r.src == wanted.src and r.dst == wanted.dst
        for r in snapshot.rules
    )


def owned_rules(snapshot: Snapshot, table: int) -> list[Rule]:
    """The rules NCC added that look up `table`."""
    return [r for r in snapshot.rules if r.table == table and r.proto == PROTO]


def table_routes(lb: LBInterface, lb_index: int, snapshot: Snapshot) -> TableRoutes:
    """What table T holds while `lb` is up: its node network on the LB link, and a default route."""
    if lb.node_ipv4 is None:
        return TableRoutes(())
    table = lb.routing_table
    network = lb.node_ipv4.network
    on_link = Route(socket.AF_INET, table, network, (Nexthop(None, lb_index),), proto=PROTO, scope=RT_SCOPE_LINK)
    defaults = snapshot.defaults(socket.AF_INET)
    if not defaults:
        return TableRoutes(
            (on_link,),
            f"no IPv4 default route in the main table, so replies from VIPs cannot leave through {lb.name}: "
            f"add one, e.g. `ip route add default via <gateway in {network}> dev {lb.node_interface or '<node NIC>'}` "
            "(and make it permanent in the network configuration); run `seesaw doctor`",
        )
    best = defaults[0]
    gateways = [hop.gateway for hop in best.nexthops if hop.gateway is not None]
    if not gateways:  # device-only default (a tunnel, PPP): follow it as it is
        default = Route(socket.AF_INET, table, DEFAULT_V4, best.nexthops, proto=PROTO, scope=RT_SCOPE_LINK)
        return TableRoutes((on_link, default))
    inside = [gw for gw in gateways if gw in network]
    if not inside:
        shown = ", ".join(str(gw) for gw in gateways)
        return TableRoutes(
            (on_link,),
            f"the default gateway {shown} is outside the node network {network}, so {lb.name} cannot reach it: "
            f"route the node's default through a gateway in {network}; run `seesaw doctor`",
        )
    hops = tuple(Nexthop(gw, lb_index) for gw in inside)
    return TableRoutes((on_link, Route(socket.AF_INET, table, DEFAULT_V4, hops, proto=PROTO, scope=RT_SCOPE_UNIVERSE)))


def same_route(a: Route, b: Route) -> bool:
    """Whether two routes send the same destination the same way (metric and protocol aside)."""
    return a.table == b.table and a.dst == b.dst and set(a.nexthops) == set(b.nexthops)


def routes_in_place(wanted: TableRoutes, snapshot: Snapshot, table: int) -> bool:
    present = snapshot.table_routes(table)
    return all(any(same_route(w, p) for p in present) for w in wanted.routes)
