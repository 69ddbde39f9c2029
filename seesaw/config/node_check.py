"""Rules that need both files: does this node's seesaw.cfg fit cluster.pb?

Seesaw v2 found these at runtime, usually as an engine that would not start
("node X not configured", upstream issue #36; "Node network does not contain
cluster VIP"). Each problem is placed in the file where the fix belongs:

* node_ipv4 / node_ipv6 (seesaw.cfg) must be a `node` of cluster.pb (E), and
  the cluster VIP must lie in that node's network (E).
* vip_ipv4 / vip_ipv6 (seesaw.cfg) and `seesaw_vip` (cluster.pb) must agree
  (E when both are set and differ; W when only one of them is set).
* peer_ipv4 / peer_ipv6 and [ha] unicast peers should be other nodes (W: only
  peer sync and VRRP adverts use them).
* this node being disabled in cluster.pb (W), and anycast VIPs in cluster.pb
  while seesaw.cfg has anycast_enabled = false (W: nothing advertises them).
"""

from __future__ import annotations

import ipaddress

from seesaw.config import model
from seesaw.config.cluster import ParsedCluster
from seesaw.config.errors import Problem, Severity
from seesaw.config.seesaw_cfg import ParsedSettings

_W = Severity.WARNING


def check_node(cfg: ParsedSettings, cluster: ParsedCluster) -> list[Problem]:
    """Every cross-file problem of one node's seesaw.cfg against cluster.pb."""
    problems: list[Problem] = []
    settings, nodes = cfg.settings, list(cluster.cluster.nodes.values())
    this = _this_node(cfg, nodes, problems)
    _cluster_vip(cfg, cluster, this, problems)
    for family in (4, 6):
        peer = getattr(settings, f"peer_ipv{family}")
        if peer is not None and _node_with(nodes, peer) is None:
            problems.append(
                cfg.problem(
                    f"cluster.peer_ipv{family}",
                    f"peer {peer} is not among cluster.pb's nodes ({_addresses(nodes, family)}): "
                    "config sync with the peer will not work; set it to the other node's address",
                    _W,
                )
            )
    for peer_text in settings.unicast_peers:
        if _node_with(nodes, ipaddress.ip_address(peer_text)) is None:
            problems.append(
                cfg.problem(
                    "ha.unicast_peers",
                    f"{peer_text} is not among cluster.pb's nodes: adverts sent there reach no Seesaw node",
                    _W,
                )
            )
    if this is not None and this.state is model.HAState.DISABLED:
        index = list(cluster.cluster.nodes).index(this.hostname)
        problems.append(
            cluster.problem(
                f"node[{index}].status",
                f"this node ({this.hostname}) is disabled here (its status differs from seesaw_vip's, or HA is "
                "off): it will neither lead nor serve vservers",
                _W,
            )
        )
    if not settings.anycast_enabled:
        problems += _unadvertised_anycast(cfg, cluster)
    return problems


def _node_with(nodes: list[model.Node], ip: model.IPAddress) -> model.Node | None:
    for node in nodes:
        if any(a.ip == ip for a in node.host.addresses()):
            return node
    return None


def _addresses(nodes: list[model.Node], family: int) -> str:
    found = [str(a.ip) for n in nodes for a in n.host.addresses() if a.version == family]
    return ", ".join(found) if found else f"none has an IPv{family} address"


def _this_node(cfg: ParsedSettings, nodes: list[model.Node], problems: list[Problem]) -> model.Node | None:
    this: model.Node | None = None
    for family in (4, 6):
        ip = getattr(cfg.settings, f"node_ipv{family}")
        if ip is None:
            continue
        node = _node_with(nodes, ip)
        if node is None:
            problems.append(
                cfg.problem(
                    f"cluster.node_ipv{family}",
                    f"node {ip} is not among cluster.pb's nodes ({_addresses(nodes, family)}): "
                    f'add it as `node {{ fqdn: "..." ipv{family}: "{ip}/<len>" status: PRODUCTION }}` '
                    f"or fix node_ipv{family} in seesaw.cfg",
                )
            )
        elif this is not None and node is not this:
            problems.append(
                cfg.problem(
                    f"cluster.node_ipv{family}",
                    f"{ip} belongs to node {node.hostname} in cluster.pb, but node_ipv4 is {this.hostname}'s: "
                    "both must name the same node",
                )
            )
        else:
            this = node
    return this


def _cluster_vip(cfg: ParsedSettings, cluster: ParsedCluster, this: model.Node | None, problems: list[Problem]) -> None:
    for family in (4, 6):
        in_cfg: model.IPAddress | None = getattr(cfg.settings, f"vip_ipv{family}")
        pb_iface = getattr(cluster.cluster.vip, f"ipv{family}")
        in_pb = pb_iface.ip if pb_iface is not None else None
        key = f"cluster.vip_ipv{family}"
        if in_cfg is not None and in_pb is not None and in_cfg != in_pb:
            problems.append(
                cfg.problem(key, f"{in_cfg} differs from cluster.pb's seesaw_vip {in_pb}: make them the same")
            )
        elif in_cfg is not None and in_pb is None:
            problems.append(
                cluster.problem(
                    f"seesaw_vip.ipv{family}",
                    f"is not set, but seesaw.cfg has vip_ipv{family} = {in_cfg}: "
                    f'add `ipv{family}: "{in_cfg}/<len>"` to seesaw_vip',
                    _W,
                )
            )
        elif in_cfg is None and in_pb is not None:
            problems.append(
                cfg.problem(
                    key,
                    f"is not set, but cluster.pb's seesaw_vip is {in_pb}: set vip_ipv{family} = {in_pb} "
                    "so that the leader brings the cluster VIP up",
                    _W,
                )
            )
        if this is None or in_cfg is None:
            continue
        own = getattr(this.host, f"ipv{family}")
        if own is not None and in_cfg not in own.network:
            problems.append(
                cfg.problem(
                    key,
                    f"{in_cfg} is outside this node's network {own.network} (node {this.hostname} in cluster.pb): "
                    "the cluster VIP must be an address of the node's own subnet",
                )
            )


def _unadvertised_anycast(cfg: ParsedSettings, cluster: ParsedCluster) -> list[Problem]:
    problems = []
    seen: set[str] = set()
    for index, vs in enumerate(cluster.proto.vserver):
        vserver = cluster.cluster.vservers.get(vs.name)
        if vserver is None or vs.name in seen:
            continue
        seen.add(vs.name)
        for vip in vserver.vips.values():
            if vip.type is model.VIPType.ANYCAST:
                problems.append(
                    cluster.problem(
                        f"vserver[{index}].entry_address.ipv{vip.ip.version}",
                        f"anycast VIP {vip.ip} is never advertised: seesaw.cfg ({cfg.path}) has anycast_enabled = "
                        "false; enable anycast there, or use a unicast VIP",
                        _W,
                    )
                )
    return problems
