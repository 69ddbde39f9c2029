"""Pure: what this node advertises by BGP, as NCC's `BGPConfig`, and the service
anycast VIPs it holds for that.

Rules kept here (Seesaw v2's, with the BGP half it left to the operator):

* Nothing is advertised unless seesaw.cfg has `anycast_enabled = true`; then
  NCC is told `enabled = false`, which withdraws whatever an earlier run
  advertised and leaves a node without bgpd alone.
* An anycast VIP (one in the anycast ranges) is advertised while its vserver
  holds it, i.e. while all its services are healthy; it is withdrawn when one
  fails, or when the vserver is disabled or removed.
* The service anycast addresses (Seesaw's 192.168.255.254 and
  2015:cafe:ffff::254, plus seesaw.cfg [extra_service_anycast]) are always
  held and advertised, each only when the cluster VIP has an address of its
  family, as Seesaw's initAnycast.
* The node's cluster.pb status gates both: a node that is not serving
  advertises nothing; a BUILDING node still peers (Seesaw computed these
  flags and then ignored them).
* Neighbours are cluster.pb's bgp_peer entries, one per address, described by
  hostname, with `bgp_remote_asn`; the local AS is `bgp_local_asn` (Seesaw
  hard-coded 64512 and ignored the rest), the router ID this node's IPv4.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

from seesaw.config.model import Cluster, IPAddress, VIPType
from seesaw.config.settings import Settings
from seesaw.engine.ha_state import cluster_vip_ipv4, cluster_vip_ipv6, this_node
from seesaw.engine.vserver import VserverMachine, is_anycast
from seesaw.pb import ncc_pb2

PARTITION = "anycast:service"

SERVICE_ANYCAST: tuple[IPAddress, ...] = (
    ipaddress.IPv4Address("192.168.255.254"),
    ipaddress.IPv6Address("2015:cafe:ffff::254"),
)


def _sorted(addresses: Iterable[IPAddress]) -> list[IPAddress]:
    return sorted(set(addresses), key=lambda a: (a.version, a))


def _advertising(cluster: Cluster | None, settings: Settings) -> bool:
    node = this_node(cluster, settings)
    return settings.anycast_enabled and node is not None and node.anycast_enabled


def service_addresses(cluster: Cluster | None, settings: Settings) -> list[IPAddress]:
    """The service anycast addresses this node holds and advertises (none unless anycast is on)."""
    if not _advertising(cluster, settings):
        return []
    families = {4: cluster_vip_ipv4(cluster, settings), 6: cluster_vip_ipv6(cluster, settings)}
    wanted = (*SERVICE_ANYCAST, *settings.extra_service_anycast)
    return _sorted(ip for ip in wanted if families[ip.version] is not None)


def service_partition(cluster: Cluster | None, settings: Settings) -> ncc_pb2.Partition:
    """The NCC partition that holds the service anycast VIPs (on the dummy interface)."""
    part = ncc_pb2.Partition(name=PARTITION)
    for ip in service_addresses(cluster, settings):
        part.vips.append(ncc_pb2.VIP(address=str(ip), type=int(VIPType.ANYCAST)))
    return part


def advertised(cluster: Cluster | None, settings: Settings, machines: Iterable[VserverMachine]) -> list[IPAddress]:
    """The anycast addresses to advertise now: the anycast VIPs vservers hold, and the service addresses."""
    if not _advertising(cluster, settings):
        return []
    held = [ip for machine in machines for ip in machine.interface_vips() if is_anycast(ip)]
    return _sorted([*held, *service_addresses(cluster, settings)])


def bgp_config(cluster: Cluster | None, settings: Settings, machines: Iterable[VserverMachine]) -> ncc_pb2.BGPConfig:
    """What NCC should make bgpd hold."""
    if not settings.anycast_enabled or cluster is None:
        return ncc_pb2.BGPConfig(enabled=False)
    node = this_node(cluster, settings)
    router_id = node.host.ipv4.ip if node is not None and node.host.ipv4 is not None else settings.node_ipv4
    config = ncc_pb2.BGPConfig(
        enabled=True,
        local_asn=cluster.bgp_local_asn,
        remote_asn=cluster.bgp_remote_asn,
        router_id=str(router_id) if router_id is not None else "",
    )
    if node is not None and node.bgp_enabled:
        for hostname in sorted(cluster.bgp_peers):
            for address in cluster.bgp_peers[hostname].addresses():
                config.peers.append(ncc_pb2.BGPPeer(address=str(address.ip), description=hostname))
    config.networks.extend(f"{ip}/{ip.max_prefixlen}" for ip in advertised(cluster, settings, machines))
    return config
