"""protobuf <-> the BGP model: `seesaw.ncc.BGPConfig` in (checked part by part), neighbours and plans out.

A bad part (a peer whose address does not parse, a network outside the
anycast ranges) is left out with a problem naming it; the rest goes ahead.
"""

from __future__ import annotations

import ipaddress

from seesaw.ncc.bgp.model import (
    DISABLED,
    Change,
    Desired,
    IPNetwork,
    Neighbor,
    Peer,
    Problem,
    owned,
)
from seesaw.pb import ncc_pb2

KIND = "bgp"  # ObjectError and PlanStep kind
MAX_ASN = 2**32 - 1


def desired_from_pb(config: ncc_pb2.BGPConfig) -> tuple[Desired | None, list[Problem]]:
    """The desired state (None: leave bgpd as it is) and the problems found in `config`."""
    if not config.enabled:
        return DISABLED, []
    if not 1 <= config.local_asn <= MAX_ASN:
        message = f"local AS {config.local_asn} is not a valid AS number: set bgp_local_asn in cluster.pb"
        return None, [Problem("router bgp", message)]
    problems: list[Problem] = []
    router_id = None
    if config.router_id:
        try:
            router_id = ipaddress.IPv4Address(config.router_id)
        except ValueError:
            problems.append(Problem("router-id", f"{config.router_id!r} is not an IPv4 address; bgpd picks its own"))
    peers = _peers(config, problems)
    networks: set[IPNetwork] = set()
    for text in config.networks:
        try:
            network = ipaddress.ip_network(text)
        except ValueError:
            problems.append(Problem(f"network {text}", "not a prefix"))
            continue
        if not owned(network):
            problems.append(Problem(f"network {text}", "outside the anycast ranges, so NCC does not advertise it"))
            continue
        networks.add(network)
    desired = Desired(
        enabled=True,
        local_asn=config.local_asn,
        remote_asn=config.remote_asn if peers else 0,
        router_id=router_id,
        peers=peers,
        networks=frozenset(networks),
    )
    return desired, problems


def _peers(config: ncc_pb2.BGPConfig, problems: list[Problem]) -> tuple[Peer, ...]:
    if not config.peers:
        return ()
    if not 1 <= config.remote_asn <= MAX_ASN:
        problems.extend(
            Problem(
                f"neighbor {peer.address}",
                f"remote AS {config.remote_asn} is not a valid AS number: set bgp_remote_asn in cluster.pb",
            )
            for peer in config.peers
        )
        return ()
    peers: dict[ipaddress.IPv4Address | ipaddress.IPv6Address, Peer] = {}
    for peer in config.peers:
        try:
            address = ipaddress.ip_address(peer.address)
        except ValueError:
            problems.append(Problem(f"neighbor {peer.address}", "not an IP address"))
            continue
        if "\n" in peer.description or "\x00" in peer.description:
            problems.append(Problem(f"neighbor {peer.address}", "the description must be one line"))
            continue
        peers.setdefault(address, Peer(address, peer.description.strip()))
    return tuple(peers[a] for a in sorted(peers, key=lambda a: (a.version, a)))


def problem_to_pb(problem: Problem) -> ncc_pb2.ObjectError:
    return ncc_pb2.ObjectError(kind=KIND, key=problem.key, message=problem.message)


def change_to_pb(change: Change) -> ncc_pb2.PlanStep:
    return ncc_pb2.PlanStep(op=int(change.op), kind=KIND, key=change.key, detail=change.detail())


def neighbor_to_pb(neighbor: Neighbor) -> ncc_pb2.BGPNeighbor:
    stats = neighbor.stats
    return ncc_pb2.BGPNeighbor(
        address=str(neighbor.address),
        asn=neighbor.asn,
        local_asn=neighbor.local_asn,
        router_id=neighbor.router_id,
        description=neighbor.description,
        state=str(neighbor.state),
        uptime_s=neighbor.uptime_s,
        peer_group=neighbor.peer_group,
        updates_sent=stats.updates[0],
        updates_received=stats.updates[1],
        messages_sent=stats.total[0],
        messages_received=stats.total[1],
    )
