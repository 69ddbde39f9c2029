"""Which objects a `show` command is about: the filters of Seesaw's cli/show.go.

Pure functions from engine replies (and the operator's argument) to the
selected objects, sorted as Seesaw sorts them. Text and JSON output are both
rendered from these selections, so `--json` shows exactly what the text shows.
Failures raise `CliError` with Seesaw's own wording.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence
from typing import NamedTuple

from seesaw.cli.errors import CliError
from seesaw.pb import engine_pb2


def vservers(all_vservers: Iterable[engine_pb2.Vserver], name: str = "") -> list[engine_pb2.Vserver]:
    """Seesaw's filterVservers: all of them, else the exact name, else every name with that prefix."""
    pool = list(all_vservers)
    if name:
        exact = [v for v in pool if v.name == name]
        pool = exact or [v for v in pool if v.name.startswith(name)]
    return sorted(pool, key=lambda v: v.name)


def all_destinations(all_vservers: Iterable[engine_pb2.Vserver]) -> list[engine_pb2.Destination]:
    return [d for v in all_vservers for s in v.services for d in s.destinations]


class Backend(NamedTuple):
    """A backend as the CLI sees it: a hostname and the destinations that use it."""

    hostname: str
    destinations: tuple[engine_pb2.Destination, ...]


def backends(all_vservers: Sequence[engine_pb2.Vserver], prefix: str = "") -> list[Backend]:
    """Backends (by hostname prefix), sorted by hostname, each with its destinations sorted by name."""
    groups: dict[str, list[engine_pb2.Destination]] = {}
    for dest in all_destinations(all_vservers):
        if dest.backend.startswith(prefix):
            groups.setdefault(dest.backend, []).append(dest)
    if not groups:
        raise CliError(f"backend '{prefix}...' not found" if prefix else "no backends found")
    return [Backend(host, tuple(sorted(dests, key=lambda d: d.name))) for host, dests in sorted(groups.items())]


def destinations(all_vservers: Sequence[engine_pb2.Vserver], prefix: str = "") -> list[engine_pb2.Destination]:
    """Destinations whose name starts with `prefix`, sorted by name."""
    found = [d for d in all_destinations(all_vservers) if d.name.startswith(prefix)]
    if not found:
        raise CliError(f"destination '{prefix}...' not found" if prefix else "no destinations found")
    return sorted(found, key=lambda d: d.name)


class Check(NamedTuple):
    """One healthcheck row: the destination it decides and its last result."""

    destination: engine_pb2.Destination
    check: engine_pb2.CheckState


def checks(all_vservers: Sequence[engine_pb2.Vserver], prefix: str = "") -> list[Check]:
    """Checks of the destinations whose name or backend hostname starts with `prefix`.

    Sorted by destination name, then check name. An empty result is not an
    error: it is reported as "No checks found" / "No matching checks".
    """
    rows = [
        Check(d, c)
        for d in all_destinations(all_vservers)
        if d.name.startswith(prefix) or d.backend.startswith(prefix)
        for c in d.checks
    ]
    return sorted(rows, key=lambda row: (row.destination.name, row.check.name, row.check.id))


def _ipv4_key(node: engine_pb2.Node) -> tuple[int, int]:
    if not node.ipv4:
        return (0, 0)
    try:
        return (1, int(ipaddress.ip_interface(node.ipv4).ip))
    except ValueError:
        return (0, 0)


def nodes(cluster: engine_pb2.ClusterStatus) -> list[engine_pb2.Node]:
    """Nodes sorted by IPv4 address (Seesaw's NodesByIPv4)."""
    return sorted(cluster.nodes, key=_ipv4_key)


def node(cluster: engine_pb2.ClusterStatus, hostname: str) -> engine_pb2.Node:
    """The node with exactly this hostname."""
    for candidate in nodes(cluster):
        if candidate.hostname == hostname:
            return candidate
    raise CliError(f"node {go_quote(hostname)} not found")


def vlans(vlan_list: engine_pb2.VLANList) -> list[engine_pb2.VLAN]:
    return sorted(vlan_list.vlans, key=lambda v: v.id)


def _contains(cidr: str, ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if not cidr:
        return False
    try:
        return ip in ipaddress.ip_interface(cidr).network
    except ValueError:
        return False


def vlan(vlan_list: engine_pb2.VLANList, key: str) -> engine_pb2.VLAN:
    """The VLAN with this ID, or the first one whose IPv4 or IPv6 subnet holds this IP."""
    if key.isascii() and key.isdigit() and int(key) <= 0xFFFF:
        vlan_id = int(key)
        for candidate in vlan_list.vlans:
            if candidate.id == vlan_id:
                return candidate
        raise CliError(f"VLAN ID {vlan_id} not found")
    ip = parse_ip(key)
    if ip is None:
        raise CliError(f"unknown value {go_quote(key)} - must be a VLAN ID or IP address")
    for candidate in vlan_list.vlans:
        if _contains(candidate.ipv4, ip) or _contains(candidate.ipv6, ip):
            return candidate
    raise CliError(f"VLAN not found for IP address {ip}")


def bgp_neighbor(neighbor_list: engine_pb2.BGPNeighborList, key: str) -> engine_pb2.BGPNeighbor:
    """The neighbor with this IP address."""
    ip = parse_ip(key)
    if ip is None:
        raise CliError(f"{go_quote(key)} is not a valid IP address")
    for candidate in neighbor_list.neighbors:
        if parse_ip(candidate.address) == ip:
            return candidate
    raise CliError("no such neighbor")


def parse_ip(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def go_quote(text: str) -> str:
    """A string quoted the way Go's %q quotes printable text."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'
