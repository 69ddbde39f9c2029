"""Pure: the desired BGP state and bgpd's running config in, the changes to make out.

Rules kept here:

* Only what NCC owns (see `model`) is changed; a plan against a config that
  already holds the desired state is empty, so "nothing changed" costs no
  write to bgpd.
* NCC never creates a second `router bgp`: if bgpd runs an instance with
  another AS, nothing is changed and the problem says how to make them agree.
  It never removes a `router bgp` either.
* An instance is created only when there is something to put in it (peers or
  networks); `enabled = false` removes what NCC owns and creates nothing.
* A bgp_peer address that bgpd already has as a neighbour outside the peer
  group is the operator's: it is left alone and reported; the other peers
  and the networks still go ahead.
* Order: route maps, router ID, peer group, its members (added, changed,
  removed), the group itself when it goes, then networks (withdrawn, then
  advertised).
"""

from __future__ import annotations

from dataclasses import dataclass

from seesaw.ncc.bgp.model import (
    FAMILIES,
    PEER_GROUP,
    ROUTE_MAP_IN,
    ROUTE_MAP_OUT,
    ROUTE_MAPS,
    Change,
    ChangeOp,
    Desired,
    IPNetwork,
    Problem,
    Running,
    address_family,
    owned,
)


@dataclass(frozen=True)
class Plan:
    changes: tuple[Change, ...] = ()
    problems: tuple[Problem, ...] = ()


def _sorted_networks(networks: frozenset[IPNetwork] | set[IPNetwork]) -> list[IPNetwork]:
    return sorted(networks, key=lambda n: (n.version, n))


class _Planner:
    def __init__(self, desired: Desired, running: Running) -> None:
        self.desired = desired
        self.running = running
        self.router = f"router bgp {running.asn if running.asn is not None else desired.local_asn}"
        self.changes: list[Change] = []
        self.problems: list[Problem] = []

    def add(self, op: ChangeOp, key: str, *lines: str, family: int | None = None) -> None:
        context = (self.router,) if family is None else (self.router, f"address-family {address_family(family)}")
        self.changes.append(Change(op, key, context, lines))

    def plan(self) -> Plan:
        desired, running = self.desired, self.running
        if not desired.enabled:
            if running.asn is not None:
                self.remove_group()
                self.networks()
            return self.result()
        if running.asn is not None and running.asn != desired.local_asn:
            self.problems.append(
                Problem(
                    f"router bgp {desired.local_asn}",
                    f"bgpd runs `router bgp {running.asn}` but cluster.pb has bgp_local_asn {desired.local_asn}: "
                    f"make them agree (set bgp_local_asn, or remove the instance with `no router bgp {running.asn}` "
                    "in vtysh); nothing was changed in bgpd",
                )
            )
            return self.result()
        if running.asn is None and not desired.peers and not desired.networks:
            return self.result()
        self.router_id()
        if desired.peers:
            self.group()
        else:
            self.remove_group()
        self.networks()
        return self.result()

    def result(self) -> Plan:
        return Plan(tuple(self.changes), tuple(self.problems))

    def router_id(self) -> None:
        wanted = self.desired.router_id
        if wanted is not None and self.running.router_id != str(wanted):
            op = ChangeOp.UPDATE if self.running.router_id else ChangeOp.ADD
            self.add(op, "router-id", f"bgp router-id {wanted}")

    def group(self) -> None:
        running, desired = self.running, self.desired
        for name, entry in ROUTE_MAPS:
            if name not in running.route_maps:
                self.changes.append(Change(ChangeOp.ADD, f"route-map {name}", (f"route-map {name} {entry}",)))
        if not running.group:
            self.add(ChangeOp.ADD, f"peer-group {PEER_GROUP}", f"neighbor {PEER_GROUP} peer-group")
        if running.group_remote_as != str(desired.remote_asn):
            op = ChangeOp.UPDATE if running.group_remote_as else ChangeOp.ADD
            self.add(op, f"peer-group {PEER_GROUP} remote-as", f"neighbor {PEER_GROUP} remote-as {desired.remote_asn}")
        for family in FAMILIES:
            statements = running.group_af.get(family, frozenset())
            lines = []
            if not running.activated(family):
                lines.append(f"neighbor {PEER_GROUP} activate")
            for route_map, direction in ((ROUTE_MAP_IN, "in"), (ROUTE_MAP_OUT, "out")):
                if f"route-map {route_map} {direction}" not in statements:
                    lines.append(f"neighbor {PEER_GROUP} route-map {route_map} {direction}")
            if lines:
                self.add(ChangeOp.ADD, f"peer-group {PEER_GROUP} {address_family(family)}", *lines, family=family)
        wanted = {peer.address: peer.description for peer in desired.peers}
        for address, description in wanted.items():
            key = f"neighbor {address}"
            if address in running.others:
                self.problems.append(
                    Problem(
                        key,
                        f"bgpd already has neighbor {address} outside the peer group {PEER_GROUP}, so it is the "
                        f"operator's: remove it (`no neighbor {address}` under `{self.router}` in vtysh) for NCC to "
                        "manage it, or drop the address from bgp_peer in cluster.pb",
                    )
                )
            elif address not in running.members:
                lines = [f"neighbor {address} peer-group {PEER_GROUP}"]
                if description:
                    lines.append(f"neighbor {address} description {description}")
                self.add(ChangeOp.ADD, key, *lines)
            elif running.members[address] != description:
                line = f"neighbor {address} description {description}" if description else ""
                self.add(ChangeOp.UPDATE, key, line or f"no neighbor {address} description")
        for address in sorted(set(running.members) - set(wanted), key=lambda a: (a.version, a)):
            self.add(ChangeOp.DELETE, f"neighbor {address}", f"no neighbor {address}")

    def remove_group(self) -> None:
        for address in sorted(self.running.members, key=lambda a: (a.version, a)):
            self.add(ChangeOp.DELETE, f"neighbor {address}", f"no neighbor {address}")
        if self.running.group:
            self.add(ChangeOp.DELETE, f"peer-group {PEER_GROUP}", f"no neighbor {PEER_GROUP} peer-group")

    def networks(self) -> None:
        wanted = self.desired.networks if self.desired.enabled else frozenset()
        mine = {n for n in self.running.networks if owned(n)}
        for network in _sorted_networks(mine - wanted):
            self.add(ChangeOp.DELETE, f"network {network}", f"no network {network}", family=network.version)
        for network in _sorted_networks(wanted - self.running.networks):
            self.add(ChangeOp.ADD, f"network {network}", f"network {network}", family=network.version)


def plan(desired: Desired, running: Running) -> Plan:
    """The changes that bring bgpd's config (`running`) to `desired`, and what cannot be done."""
    return _Planner(desired, running).plan()
