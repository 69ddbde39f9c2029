"""Two real Seesaw nodes (watchdog + five daemons, sim dataplane) in two
network namespaces on one bridge, electing a master with real HA adverts,
plus a rogue namespace on the same LAN. Imported by conftest.py and the tests.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from seesaw.lab.certs import TestCA
from seesaw.lab.node import Node

EXAMPLES = Path(__file__).resolve().parents[3] / "etc" / "seesaw"
LAN = {"lb1": "10.88.0.2", "lb2": "10.88.0.3", "rogue": "10.88.0.9"}
VIP = "10.88.0.1"


def ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True)


def in_private_netns() -> bool:
    """Only `lo` here: the harness's private namespace, never a host's network."""
    return os.geteuid() == 0 and os.listdir("/sys/class/net") == ["lo"]


def build_lan() -> None:
    for name in [*LAN, "lan"]:
        subprocess.run(["ip", "netns", "del", name], capture_output=True)
    ip("netns", "add", "lan")
    ip("-n", "lan", "link", "add", "br0", "type", "bridge")
    ip("-n", "lan", "link", "set", "br0", "up")
    for name, address in LAN.items():
        ip("netns", "add", name)
        ip("-n", name, "link", "set", "lo", "up")
        ip("-n", name, "link", "add", "eth0", "type", "veth", "peer", "name", f"v-{name}", "netns", "lan")
        ip("-n", "lan", "link", "set", f"v-{name}", "master", "br0", "up")
        ip("-n", name, "link", "set", "eth0", "up")
        ip("-n", name, "addr", "add", f"{address}/24", "dev", "eth0")
        if name != "rogue":  # the LB interface: a veth whose other end stays in the node
            ip("-n", name, "link", "add", "eth1", "type", "veth", "peer", "name", "eth1-peer")
            ip("-n", name, "link", "set", "eth1", "up")
            ip("-n", name, "link", "set", "eth1-peer", "up")


def destroy_lan() -> None:
    for name in [*LAN, "lan"]:
        subprocess.run(["ip", "netns", "del", name], capture_output=True)


def vserver(n: int) -> str:
    return f"""
vserver <
  name: "web{n}@au-syd"
  rp: "ops"
  entry_address < fqdn: "web{n}.example.com." ipv4: "10.88.0.{10 + n}/24" status: PRODUCTION >
  vserver_entry < protocol: TCP port: 80 scheduler: RR mode: NAT healthcheck < type: TCP port: 80 > >
  backend < host < fqdn: "be{n}.example.com." ipv4: "10.88.2.{n}/24" status: PRODUCTION > >
>
"""


def cluster_pb(*vservers: int, last_updated: int = 1000) -> str:
    return (
        f'seesaw_vip < fqdn: "vip.example.com." ipv4: "{VIP}/24" status: PRODUCTION >\n'
        f'node < fqdn: "lb1.example.com." ipv4: "{LAN["lb1"]}/24" status: PRODUCTION >\n'
        f'node < fqdn: "lb2.example.com." ipv4: "{LAN["lb2"]}/24" status: PRODUCTION >\n'
        + "".join(vserver(n) for n in vservers)
        + f"metadata < last_updated: {last_updated} >\n"
    )


def seesaw_cfg(name: str, tls: bool) -> str:
    peer = "lb2" if name == "lb1" else "lb1"
    engine = "[engine]\nconfig_check_interval_sec = 2\n"
    if tls:
        engine += "sync_cert = ssl/sync.crt\nsync_key = ssl/sync.key\nsync_ca = ssl/ca.crt\n"
    return f"""\
[cluster]
name = au-syd
node_ipv4 = {LAN[name]}
peer_ipv4 = {LAN[peer]}
vip_ipv4 = {VIP}

[interface]
node = eth0
lb = eth1

[dataplane]
backend = sim

[ha]
advert_interval_ms = 100

{engine}"""


def make_node(work: Path, name: str, cluster: str, ca: TestCA | None) -> Node:
    node = Node(work / name, netns=name)
    node.config_dir.mkdir(parents=True)
    shutil.copy(EXAMPLES / "watchdog.cfg", node.config_dir / "watchdog.cfg")
    (node.config_dir / "seesaw.cfg").write_text(seesaw_cfg(name, ca is not None))
    (node.config_dir / "cluster.pb").write_text(cluster)
    if ca is not None:
        ssl_dir = node.config_dir / "ssl"
        ssl_dir.mkdir()
        ca.write(ssl_dir / "ca.crt")
        ca.write_leaf(ssl_dir / "sync", f"{name}.example.com", ips=[LAN[name]])
    return node


def cli_json(node: Node, command: str) -> Any:
    result = node.cli(f"{command} --json")
    assert result.returncode == 0, f"{command}: {result.stderr}"
    return json.loads(result.stdout)


def ha_state(node: Node) -> str:
    result = node.cli("show ha --json")
    if result.returncode != 0:
        return ""
    return str(json.loads(result.stdout).get("state", ""))


def overrides(node: Node) -> dict[str, str]:
    """vserver name -> override state (OVERRIDE_DEFAULT left out), as the CLI shows them."""
    vservers = cli_json(node, "show vservers")["vservers"]
    return {v["name"]: v["override"] for v in vservers if v["override"] != "OVERRIDE_DEFAULT"}


def vserver_names(node: Node) -> list[str]:
    return sorted(v["name"] for v in cli_json(node, "show vservers")["vservers"])


def engine_log(node: Node) -> str:
    return "\n".join(p.read_text(errors="replace") for p in sorted(node.log_dir.glob("seesaw_engine.log.*")))


def run_in(netns: str, code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["ip", "netns", "exec", netns, sys.executable, "-c", code], capture_output=True, text=True, timeout=30
    )
