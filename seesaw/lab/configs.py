"""A topology -> each LB node's config files: cluster.pb, seesaw.cfg, watchdog.cfg. Pure text.

The files are ordinary Seesaw files (`seesaw config check` accepts them);
`write(topo, node, dir)` puts them in a node's config dir; `cluster_pb(topo,
backends)` with other backends is how a running lab's config is changed.
"""

from __future__ import annotations

import ipaddress
from pathlib import Path

from seesaw.lab.topology import Check, Entry, Host, Topology, VServer

WATCHDOG_CFG = """\
# watchdog.cfg of a lab node (written by seesaw.lab.configs).
[default]
restart_delay = 200ms
max_backoff = 5s

[ncc]
binary = seesaw-ncc
priority = -10

[engine]
binary = seesaw-engine
dependency = ncc
priority = -10
term_timeout = 10s

[ha]
binary = seesaw-ha
dependency = engine
priority = -15
{ha_args}
[healthcheck]
binary = seesaw-healthcheck
dependency = engine

[ecu]
binary = seesaw-ecu
dependency = engine
"""


def watchdog_cfg(topo: Topology) -> str:
    """A lab node's watchdog.cfg: the five daemons, seesaw-ha with the topology's engine grace if it sets one."""
    ha_args = f"args = --engine-grace={topo.engine_grace:g}\n" if topo.engine_grace else ""
    return WATCHDOG_CFG.format(ha_args=ha_args)


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _host(fqdn: str, ipv4: ipaddress.IPv4Interface, indent: str) -> list[str]:
    return [
        f"{indent}fqdn: {_quote(fqdn)}",
        f"{indent}ipv4: {_quote(str(ipv4))}",
        f"{indent}status: PRODUCTION",
    ]


def _check(check: Check, indent: str) -> list[str]:
    lines = [
        f"{indent}type: {check.type}",
        f"{indent}interval: {check.interval}",
        f"{indent}timeout: {check.timeout}",
        f"{indent}port: {check.port}",
    ]
    if check.send:
        lines.append(f"{indent}send: {_quote(check.send)}")
    if check.method:
        lines.append(f"{indent}method: {_quote(check.method)}")
    lines += [f"{indent}mode: {check.mode}", f"{indent}retries: 0"]
    return lines


def _entry(entry: Entry, mode: str, indent: str) -> list[str]:
    inner = indent + "  "
    lines = [
        f"{indent}vserver_entry: <",
        f"{inner}protocol: {entry.protocol}",
        f"{inner}port: {entry.port}",
        f"{inner}scheduler: {entry.scheduler}",
        f"{inner}mode: {mode}",
    ]
    if entry.check is not None:
        lines += [f"{inner}healthcheck: <", *_check(entry.check, inner + "  "), f"{inner}>"]
    return [*lines, f"{indent}>"]


def backend_block(host: Host, prefixlen: int) -> str:
    """A cluster.pb `backend` of a vserver, for `host`."""
    address = ipaddress.IPv4Interface(f"{host.ip.ip}/{prefixlen}")
    return "\n".join(
        ["  backend: <", "    host: <", *_host(host.fqdn, address, "      "), "    >", "    weight: 1", "  >"]
    )


def _vserver(vserver: VServer, backends: tuple[Host, ...]) -> list[str]:
    lines = [
        "vserver: <",
        f"  name: {_quote(vserver.name)}",
        "  entry_address: <",
        *_host(vserver.fqdn, vserver.vip, "    "),
        "  >",
        f"  rp: {_quote('lab@seesaw')}",
    ]
    for entry in vserver.entries:
        lines += _entry(entry, vserver.mode, "  ")
    lines += [backend_block(b, vserver.vip.network.prefixlen) for b in backends]
    return [*lines, ">"]


def cluster_pb(topo: Topology, backends: tuple[Host, ...] | None = None) -> str:
    """The cluster's cluster.pb (the same on every node); `backends` defaults to all of the lab's."""
    chosen = topo.backends if backends is None else backends
    lines = [
        f"# cluster.pb of the {topo.name} lab (written by seesaw.lab.configs).",
        "seesaw_vip: <",
        *_host(topo.cluster_fqdn, topo.cluster_vip, "  "),
        ">",
    ]
    for node in topo.lbs:
        lines += ["node: <", *_host(node.fqdn, node.ip, "  "), ">"]
    for vserver in topo.vservers:
        lines += _vserver(vserver, chosen)
    return "\n".join(lines) + "\n"


def seesaw_cfg(topo: Topology, node: Host, dataplane: str = "auto") -> str:
    """One node's seesaw.cfg: its address, its peer, the cluster VIP, its interfaces, the dataplane."""
    peers = [n for n in topo.lbs if n.name != node.name]
    lines = [
        f"# seesaw.cfg of {node.name} in the {topo.name} lab (written by seesaw.lab.configs).",
        "[cluster]",
        f"name = {topo.name}-lab",
        f"node_ipv4 = {node.ip.ip}",
    ]
    if peers:
        lines.append(f"peer_ipv4 = {peers[0].ip.ip}")
    lines += [
        f"vip_ipv4 = {topo.cluster_vip.ip}",
        f"use_vmac = {'true' if topo.use_vmac else 'false'}",
        "",
        "[interface]",
        "node = eth0",
        "lb = eth1",
        "",
        "[dataplane]",
        f"backend = {dataplane}",
        "",
        "[ha]",
        f"advert_interval_ms = {topo.advert_interval_ms}",
    ]
    if topo.advert_format != "seesaw":
        lines.append(f"format = {topo.advert_format}")
    if topo.realtime_priority:
        lines.append(f"realtime_priority = {topo.realtime_priority}")
    if topo.ha_priorities != "seesaw":
        lines.append(f"priorities = {topo.ha_priorities}")
    return "\n".join(lines) + "\n"


def write(topo: Topology, node: Host, config_dir: Path, dataplane: str = "auto") -> None:
    """Write `node`'s three config files into `config_dir` (made if missing)."""
    config_dir.mkdir(parents=True, exist_ok=True)
    (config_dir / "cluster.pb").write_text(cluster_pb(topo))
    (config_dir / "seesaw.cfg").write_text(seesaw_cfg(topo, node, dataplane))
    (config_dir / "watchdog.cfg").write_text(watchdog_cfg(topo))
