"""Two engines of one cluster in one process, for the peer sync and config source tests.

Each node is a real `EngineRuntime` built by the daemon's own `build_runtime`
from a config dir of its own; HA state is set as HA's reports would set it.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from seesaw.engine.main import build_runtime
from seesaw.engine.runtime import EngineRuntime
from seesaw.pb import common_pb2, engine_pb2, ha_pb2

MASTER_IP, BACKUP_IP = "10.0.0.2", "10.0.0.3"
VSERVER = engine_pb2.OverrideRequest.VSERVER
BACKEND = engine_pb2.OverrideRequest.BACKEND
DISABLED, ENABLED, DEFAULT = common_pb2.OVERRIDE_DISABLED, common_pb2.OVERRIDE_ENABLED, common_pb2.OVERRIDE_DEFAULT


def seesaw_cfg(node: str, peer: str, extra: str = "") -> str:
    return f"""\
[cluster]
name = au-syd
node_ipv4 = {node}
peer_ipv4 = {peer}
vip_ipv4 = 10.0.0.1

[interface]
node = eth0
lb = eth1
{extra}
"""


def vserver_text(n: int) -> str:
    return f"""
vserver <
  name: "web{n}@au-syd"
  rp: "ops"
  entry_address < fqdn: "web{n}.example.com." ipv4: "10.0.0.{10 + n}/24" status: PRODUCTION >
  vserver_entry < protocol: TCP port: 80 scheduler: RR mode: NAT healthcheck < type: TCP port: 80 > >
  backend < host < fqdn: "be{n}-1.example.com." ipv4: "10.2.{n}.1/24" status: PRODUCTION > >
>
"""


def cluster_text(*vservers: int, last_updated: int | None = None) -> str:
    head = """\
seesaw_vip < fqdn: "seesaw-vip.example.com." ipv4: "10.0.0.1/24" status: PRODUCTION >
node < fqdn: "seesaw1-1.example.com." ipv4: "10.0.0.2/24" status: PRODUCTION >
node < fqdn: "seesaw1-2.example.com." ipv4: "10.0.0.3/24" status: PRODUCTION >
"""
    meta = f"metadata < last_updated: {last_updated} >\n" if last_updated is not None else ""
    return head + "".join(vserver_text(n) for n in vservers) + meta


def make_node(tmp: Path, name: str, node: str, peer: str, cluster: str, extra_cfg: str = "") -> EngineRuntime:
    config_dir = tmp / name / "etc"
    config_dir.mkdir(parents=True, exist_ok=True)
    (config_dir / "seesaw.cfg").write_text(seesaw_cfg(node, peer, extra_cfg))
    (config_dir / "cluster.pb").write_text(cluster)
    args = argparse.Namespace(config_dir=config_dir, run_dir=tmp / name / "run", config_step_interval=60.0)
    return build_runtime(args)


def set_ha(runtime: EngineRuntime, state: int) -> None:
    runtime.engine.ha_report(ha_pb2.HAStatus(state=state))  # type: ignore[arg-type]
    runtime.changed()
