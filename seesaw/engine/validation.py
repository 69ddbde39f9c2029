"""What the engine refuses in a cluster config, on top of the loader's checks.

A config with any of these problems is refused whole (the running config
stays in force), each problem named with its vserver and what to change:

* a healthcheck no checker can run (see `checks.healthcheck_problems`);
* an fwmark vserver whose entries disagree on mode, scheduler or
  persistence (they share one IPVS service; Seesaw took whichever entry its
  map yielded first);
* a vserver VIP equal to the cluster VIP (Seesaw died adding it, issue #46)
  or used by two vservers.
"""

from __future__ import annotations

from seesaw.config.model import Cluster, IPAddress
from seesaw.config.settings import Settings
from seesaw.engine.checks import healthcheck_problems
from seesaw.engine.ha_state import cluster_vip_ipv4, cluster_vip_ipv6


def config_problems(cluster: Cluster, settings: Settings) -> list[str]:
    problems: list[str] = []
    cluster_vips = {ip for ip in (cluster_vip_ipv4(cluster, settings), cluster_vip_ipv6(cluster, settings)) if ip}
    owners: dict[IPAddress, str] = {}
    for name in sorted(cluster.vservers):
        vs = cluster.vservers[name]
        for hc in vs.healthchecks.values():
            problems.extend(f"vserver {name}: {p}" for p in healthcheck_problems(hc))
        for entry in vs.entries.values():
            for hc in entry.healthchecks.values():
                problems.extend(f"vserver {name} entry {entry.key}: {p}" for p in healthcheck_problems(hc))
        if vs.use_fwm and len(vs.entries) > 1:
            shapes = {(e.mode, e.scheduler, e.persistence) for e in vs.entries.values()}
            if len(shapes) > 1:
                problems.append(
                    f"vserver {name}: use_fwm entries must all have the same mode, scheduler and persistence "
                    f"(they share one IPVS service); found {len(shapes)} different combinations"
                )
        for addr in vs.host.addresses():
            if addr.ip in cluster_vips:
                problems.append(
                    f"vserver {name}: VIP {addr.ip} is the cluster VIP (seesaw_vip); give the vserver its own address"
                )
            other = owners.setdefault(addr.ip, name)
            if other != name:
                problems.append(f"vserver {name}: VIP {addr.ip} is already used by vserver {other}")
    return problems
