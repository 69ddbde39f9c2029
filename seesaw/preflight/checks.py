"""The doctor's checks: facts and config in, one Result each. Pure.

Each check recreates a trap Seesaw v2 set for a first run (reference
seesaw.md 4.8, seesaw-observed.md 5) and says, when it finds one, what is
wrong and the exact command or file edit that fixes it:

    privileges      root / CAP_NET_ADMIN
    ip_vs           IPVS loadable (P1: the original died at NCC start)
    nf_conntrack    loaded, for NAT and its sysctl (P2)
    nftables        nft, libnftables and its Python binding
    dataplane       what backend = auto|ipvs|nftables|sim means here, and why
    interfaces      [interface] node and lb exist (issue #107); the closest name when not
    node            node_ipv4 is a node of cluster.pb (issue #36) and an address of the node NIC
    cluster VIP     inside the node NIC's network (P6)
    default route   any interface name, ECMP, device-only (P4: the original's regex)
    dummy           dummy link kind for dummy0, or the lo fallback (P3)
    anycast         with anycast on (or anycast VIPs in cluster.pb), a BGP speaker NCC can drive:
                    FRR installed, bgpd enabled in /etc/frr/daemons and answering on its VTY socket
"""

from __future__ import annotations

import difflib
import ipaddress
import socket

from seesaw.config.model import Cluster, IPAddress, VIPType
from seesaw.config.settings import Settings
from seesaw.ncc.kernel.host_snapshot import Address, Snapshot
from seesaw.ncc.select import DataplaneUnavailable, choose
from seesaw.preflight.facts import BGPSpeaker, Facts, Module
from seesaw.preflight.result import Result, fail, ok, warn

MODULES_LOAD = "/etc/modules-load.d/seesaw.conf"
FRR_RESTART = "systemctl restart frr   (journalctl -u frr says why bgpd did not start)"
ANYCAST_SHOWN = 3
NFT_INSTALL = "apt-get install nftables libnftables1 python3-nftables   (in a venv: pip install pip-nftables)"


def _at_boot(module: str) -> str:
    return f"echo {module} >> {MODULES_LOAD}   (load it at every boot)"


def _not_loadable(module: Module) -> str:
    return f" (modprobe said: {module.modprobe_error})" if module.modprobe_error else ""


def privileges(facts: Facts) -> Result:
    if facts.uid == 0:
        return ok("privileges", "running as root")
    if facts.net_admin:
        return ok("privileges", f"uid {facts.uid} with CAP_NET_ADMIN")
    return fail(
        "privileges",
        f"uid {facts.uid} without CAP_NET_ADMIN: NCC cannot program the kernel, and these checks see less",
        "run as root (sudo seesaw doctor); the watchdog runs seesaw-ncc as root",
    )


def ip_vs(facts: Facts, backend: str) -> Result:
    if facts.ipvs.ok:
        how = "loaded it now with modprobe ip_vs" if facts.ipvs_module.loaded_now else "loaded"
        return ok("ip_vs", f"{how}; {facts.ipvs.detail}")
    fixes = ["modprobe ip_vs", _at_boot("ip_vs")]
    if "not found" in facts.ipvs_module.modprobe_error.lower():
        fixes.append(
            "this kernel has no ip_vs module at all: boot a kernel built with CONFIG_IP_VS (Debian's linux-image-amd64 "
            "has it), or set `backend = nftables` in [dataplane] of seesaw.cfg"
        )
    detail = f"{facts.ipvs.detail}{_not_loadable(facts.ipvs_module)}"
    if backend == "ipvs":
        return fail("ip_vs", f"{detail}; seesaw.cfg asks for backend = ipvs", *fixes)
    return warn("ip_vs", f"{detail}; the nftables dataplane can serve instead", *fixes)


def nf_conntrack(facts: Facts) -> Result:
    if facts.conntrack.present:
        how = "loaded it now with modprobe nf_conntrack" if facts.conntrack.loaded_now else "loaded"
        return ok("nf_conntrack", how)
    return warn(
        "nf_conntrack",
        "not loaded: NAT needs connection tracking, and NCC cannot set "
        f"net.netfilter.nf_conntrack_tcp_timeout_established to 900{_not_loadable(facts.conntrack)}",
        "modprobe nf_conntrack",
        _at_boot("nf_conntrack") + " -- not nf_conntrack_ipv4, which Linux 4.19 removed",
    )


def nftables(facts: Facts, backend: str) -> Result:
    missing = []
    if facts.nft_binary is None:
        missing.append("the nft command is not installed")
    if not facts.nftables.ok:
        missing.append(facts.nftables.detail)
    if not missing:
        return ok("nftables", f"{facts.nft_binary}; {facts.nftables.detail}")
    status = fail if backend == "nftables" else warn
    use = "the nftables dataplane and VIP filtering need it"
    return status("nftables", f"{'; '.join(missing)}: {use}", NFT_INSTALL)


def dataplane(facts: Facts, backend: str, source: str) -> Result:
    probes = {"ipvs": lambda: facts.ipvs, "nftables": lambda: facts.nftables}
    try:
        choice = choose(backend, source, probes=probes, net_admin=lambda: facts.uid == 0 or facts.net_admin)
    except DataplaneUnavailable as err:
        return fail("dataplane", str(err).replace("\n", " "))
    return ok("dataplane", f"{choice.backend}: {choice.reason}")


def _ifname_fix(key: str) -> str:
    return f"set `{key} = <name>` in [interface] of seesaw.cfg to one of the interfaces above"


def interfaces(facts: Facts, settings: Settings) -> Result:
    names = facts.snapshot.names()
    problems: list[str] = []
    fixes: list[str] = []
    for key, name in (("node", settings.node_interface), ("lb", settings.lb_interface)):
        if facts.snapshot.link(name) is not None:
            continue
        close = difflib.get_close_matches(name, names, n=1, cutoff=0.3)
        hint = f" (did you mean {close[0]}?)" if close else ""
        problems.append(f"[interface] {key} = {name} does not exist here{hint}")
        fixes.append(f"set `{key} = {close[0] if close else '<name>'}` in [interface] of seesaw.cfg")
    if problems:
        return fail("interfaces", f"{'; '.join(problems)}; this host has {', '.join(names) or 'none'}", *fixes)
    if settings.node_interface == settings.lb_interface:
        return fail(
            "interfaces",
            f"node and lb are both {settings.lb_interface}: "
            "the LB interface carries the VMAC and is down on the backup",
            "give the LB its own NIC: set `lb = <another interface>` in [interface] of seesaw.cfg",
        )
    return ok("interfaces", f"node {settings.node_interface} and lb {settings.lb_interface} exist")


def _address_on(snapshot: Snapshot, name: str, ip: IPAddress) -> Address | None:
    link = snapshot.link(name)
    if link is None:
        return None
    for address in snapshot.addresses_of(link.index):
        if address.interface.ip == ip:
            return address
    return None


def node(facts: Facts, settings: Settings, cluster: Cluster) -> Result:
    ip = settings.node_ipv4 or settings.node_ipv6
    if ip is None:
        return fail(
            "node",
            "seesaw.cfg names no node address: NCC and HA cannot tell which cluster.pb node this is",
            "set `node_ipv4 = <this node's address>` in [cluster] of seesaw.cfg",
        )
    known = [n for n in cluster.nodes.values() if any(a.ip == ip for a in n.host.addresses())]
    if not known:
        listed = ", ".join(str(a.ip) for n in cluster.nodes.values() for a in n.host.addresses()) or "none"
        return fail(
            "node",
            f"{ip} is not among cluster.pb's nodes ({listed}): this node would never lead or serve (Seesaw issue #36)",
            f'add `node {{ fqdn: "<this host>" ipv{ip.version}: "{ip}/<len>" status: PRODUCTION }}` to cluster.pb, '
            f"or fix node_ipv{ip.version} in seesaw.cfg",
        )
    if _address_on(facts.snapshot, settings.node_interface, ip) is None:
        link = facts.snapshot.link(settings.node_interface)
        has = (
            ", ".join(str(a.interface) for a in facts.snapshot.addresses_of(link.index) if a.scope == 0)
            if link is not None
            else ""
        )
        return fail(
            "node",
            f"{ip} ({known[0].hostname} in cluster.pb) is not an address of {settings.node_interface}"
            f" (it has {has or 'none'})",
            f"ip addr add {ip}/<len> dev {settings.node_interface}   (and in the network configuration), "
            "or fix node_ipv4 / [interface] node in seesaw.cfg",
        )
    return ok("node", f"{ip} is {known[0].hostname} in cluster.pb, on {settings.node_interface}")


def cluster_vip(facts: Facts, settings: Settings, cluster: Cluster) -> Result:
    vip = settings.vip_ipv4 or (cluster.vip.ipv4.ip if cluster.vip.ipv4 is not None else None)
    if vip is None:
        return warn(
            "cluster VIP",
            "no IPv4 cluster VIP: the leader brings none up",
            "set `vip_ipv4 = <address in the node network>` in [cluster] of seesaw.cfg (and seesaw_vip in cluster.pb)",
        )
    node_ip = settings.node_ipv4
    found = _address_on(facts.snapshot, settings.node_interface, node_ip) if node_ip is not None else None
    if found is None:
        return warn("cluster VIP", f"{vip}: the node network is unknown (see the node check)")
    network = found.interface.network
    if vip not in network:
        return fail(
            "cluster VIP",
            f"{vip} is outside the node network {network} ({settings.node_interface} has {found.interface}): "
            "the LB interface takes the cluster VIP with the node network's prefix",
            f"pick a cluster VIP inside {network}: `vip_ipv4` in [cluster] of seesaw.cfg and seesaw_vip in cluster.pb",
        )
    if vip == found.interface.ip:
        return fail(
            "cluster VIP",
            f"{vip} is the node's own address",
            f"pick a free address inside {network} for the cluster VIP",
        )
    return ok("cluster VIP", f"{vip} is inside the node network {network}")


def default_route(facts: Facts, settings: Settings) -> Result:
    defaults = facts.snapshot.defaults(socket.AF_INET)
    if not defaults:
        return fail(
            "default route",
            "no IPv4 default route: the leader cannot route VIP replies out of the LB interface "
            "(Seesaw v2 died with 'Default route not found' on becoming master)",
            f"ip route add default via <gateway> dev {settings.node_interface}   "
            "(and make it permanent in the network configuration)",
        )
    best = defaults[0]
    names = {link.index: link.name for link in facts.snapshot.links.values()}
    hops = [
        f"via {h.gateway} dev {names.get(h.oif, h.oif)}" if h.gateway else f"dev {names.get(h.oif, h.oif)}"
        for h in best.nexthops
    ]
    shown = " and ".join(hops) + (" (ECMP)" if len(hops) > 1 else "")
    gateways = [h.gateway for h in best.nexthops if h.gateway is not None]
    node_net = _node_network(facts, settings)
    if gateways and node_net is not None and not any(gw in node_net for gw in gateways):
        return warn(
            "default route",
            f"{shown}: no gateway inside the node network {node_net}, so VIP replies cannot leave through "
            f"{settings.lb_interface}",
            f"route the default through a gateway in {node_net}",
        )
    if not gateways:
        return ok("default route", f"{shown} (device only: table {settings.routing_table} follows it as it is)")
    return ok("default route", shown)


def _node_network(facts: Facts, settings: Settings) -> ipaddress.IPv4Network | ipaddress.IPv6Network | None:
    if settings.node_ipv4 is None:
        return None
    found = _address_on(facts.snapshot, settings.node_interface, settings.node_ipv4)
    return found.interface.network if found is not None else None


def dummy(facts: Facts, settings: Settings) -> Result:
    name = settings.dummy_interface
    link = facts.snapshot.link(name)
    if link is not None:
        if link.kind != "dummy":
            return warn(
                "dummy",
                f"{name} exists but is a {link.kind or 'plain'} link: anycast and dedicated VIPs would go on it",
                "rename that interface, or set `dummy = <name>` in [interface] of seesaw.cfg",
            )
        return ok("dummy", f"{name} exists: anycast and dedicated VIPs go on it")
    if facts.dummy.present:
        how = "modprobe dummy loaded the module now; " if facts.dummy.loaded_now else ""
        return ok("dummy", f"{how}{name} is missing and NCC creates it (Seesaw v2 required it to exist)")
    return warn(
        "dummy",
        f"the kernel has no dummy link kind{_not_loadable(facts.dummy)}: anycast and dedicated VIPs go on lo instead "
        "(NCC's arp_ignore=1 keeps the LB from answering ARP for them)",
        "modprobe dummy",
        _at_boot("dummy"),
    )


def _anycast_vips(cluster: Cluster | None) -> list[str]:
    if cluster is None:
        return []
    found = {str(vip.ip) for vs in cluster.vservers.values() for vip in vs.vips.values() if vip.type is VIPType.ANYCAST}
    return sorted(found)


def _listed(vips: list[str]) -> str:
    more = f" and {len(vips) - ANYCAST_SHOWN} more" if len(vips) > ANYCAST_SHOWN else ""
    return f"{', '.join(vips[:ANYCAST_SHOWN])}{more}"


def _speaker_problem(speaker: BGPSpeaker) -> tuple[str, list[str]]:
    """Why NCC cannot drive bgpd, and the fixes, most basic first."""
    daemons = speaker.daemons
    if not speaker.installed:
        return "FRR's bgpd is not installed", [
            "apt-get install frr",
            f"set `bgpd=yes` in {daemons}",
            FRR_RESTART,
        ]
    if speaker.enabled is None:
        return f"FRR is installed but has no {daemons}", [
            "apt-get install --reinstall frr",
            f"set `bgpd=yes` in {daemons}",
            FRR_RESTART,
        ]
    if not speaker.enabled:
        return f"bgpd is not enabled in {daemons} (FRR starts it only with bgpd=yes)", [
            f"sed -i 's/^bgpd=.*/bgpd=yes/' {daemons}",
            FRR_RESTART,
        ]
    return f"bgpd is enabled but does not answer: {speaker.error}", [
        FRR_RESTART,
        "if bgpd's VTY socket is elsewhere, give seesaw-ncc --bgpd-vty <path> (args in [ncc] of watchdog.cfg)",
    ]


def anycast(speaker: BGPSpeaker, settings: Settings, cluster: Cluster | None) -> Result:
    """Anycast VIPs are advertised by FRR's bgpd, which NCC drives over its VTY socket: is it there when needed?"""
    vips = _anycast_vips(cluster)
    if not settings.anycast_enabled:
        if not vips:
            return ok("anycast", "off (anycast_enabled = false in [cluster] of seesaw.cfg): no BGP speaker needed")
        fixes = ["set `anycast_enabled = true` in [cluster] of seesaw.cfg"]
        if not speaker.usable:
            fixes += _speaker_problem(speaker)[1]
        return warn(
            "anycast",
            f"cluster.pb has anycast VIPs ({_listed(vips)}) but anycast_enabled = false in [cluster] of seesaw.cfg: "
            "they are never advertised, so no traffic reaches them",
            *fixes,
        )
    ip = settings.node_ipv4 or settings.node_ipv6
    node_entry = cluster.node_by_ip(ip) if cluster is not None and ip is not None else None
    if node_entry is not None and not node_entry.anycast_enabled:
        return ok("anycast", f"{node_entry.hostname} has anycast disabled in cluster.pb: no BGP speaker needed")
    if speaker.usable:
        return ok("anycast", f"bgpd answers at {speaker.vty}: NCC can advertise the anycast VIPs")
    why, fixes = _speaker_problem(speaker)
    what = f"the anycast VIPs ({_listed(vips)}) and" if vips else "the"
    return fail(
        "anycast",
        f"anycast_enabled = true in seesaw.cfg but no BGP speaker is usable: {why}; "
        f"{what} service anycast addresses are never advertised",
        *fixes,
    )


def kernel(facts: Facts, backend: str, source: str) -> list[Result]:
    """The checks that need no config."""
    results = [privileges(facts)]
    if backend != "sim":
        results += [ip_vs(facts, backend), nf_conntrack(facts), nftables(facts, backend)]
    results.append(dataplane(facts, backend, source))
    return results


def host(facts: Facts, settings: Settings, cluster: Cluster | None) -> list[Result]:
    """The checks of this host against seesaw.cfg (and cluster.pb when it loaded)."""
    if facts.snapshot_error:
        return [fail("interfaces", facts.snapshot_error, "run as root in the node's network namespace")]
    results = [interfaces(facts, settings)]
    if cluster is not None:
        results += [node(facts, settings, cluster), cluster_vip(facts, settings, cluster)]
    results += [default_route(facts, settings), dummy(facts, settings)]
    if facts.bgp is not None:
        results.append(anycast(facts.bgp, settings, cluster))
    return results
