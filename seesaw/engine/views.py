"""The operator's read views of a running `Engine`, as engine.proto messages.

Everything here is live (built on request from the state machines), not a
periodic snapshot: the CLI sees a flip the moment the engine does. The CLI
formats these exactly like Seesaw v2, so every field it prints is filled:
destination names, service mode and scheduler, watermarks, warnings. The
vserver list comes from `VserverSnapshots`, which rebuilds only the vservers
that changed since the last call (the daemon keeps one for its lifetime).
"""

from __future__ import annotations

from seesaw.config.model import IPAddress
from seesaw.engine import rollout
from seesaw.engine.config_source import LoadedConfig
from seesaw.engine.core import BACKEND, Engine
from seesaw.engine.ha_state import cluster_vip_ipv4, cluster_vip_ipv6
from seesaw.engine.snapshots import VserverSnapshots
from seesaw.engine.validation import config_problems
from seesaw.pb import engine_pb2, ha_pb2, ncc_pb2

ENGINE_VERSION = 2  # the engine protocol version, as Seesaw v2 reports it


def cluster_status(engine: Engine) -> engine_pb2.ClusterStatus:
    target = engine.target
    out = engine_pb2.ClusterStatus(
        version=ENGINE_VERSION,
        site=target.site if target is not None else engine.settings.cluster_name,
        cluster_vip_ipv4=str(cluster_vip_ipv4(target, engine.settings) or ""),
        cluster_vip_ipv6=str(cluster_vip_ipv6(target, engine.settings) or ""),
    )
    if target is None:
        return out
    me = engine.this_node()
    nodes = sorted(target.nodes.values(), key=lambda n: n.host.ipv4.ip.packed if n.host.ipv4 else b"\xff" * 5)
    for node in nodes:
        local = me is not None and node.hostname == me.hostname
        state = engine.ha.state if local else node.state
        out.nodes.append(
            engine_pb2.Node(
                hostname=node.hostname,
                ipv4=str(node.host.ipv4) if node.host.ipv4 else "",
                ipv6=str(node.host.ipv6) if node.host.ipv6 else "",
                priority=node.priority,
                state=int(state),
                anycast_enabled=node.anycast_enabled,
                bgp_enabled=node.bgp_enabled,
                vservers_enabled=node.vservers_enabled,
                local=local,
            )
        )
    return out


def ha_status(engine: Engine) -> ha_pb2.HAStatus:
    status = engine.ha.status()
    status.checks_set_aside = engine.link_faults.set_aside
    return status


def vservers(
    engine: Engine, state: ncc_pb2.DataplaneState | None = None, snapshots: VserverSnapshots | None = None
) -> engine_pb2.VserverList:
    """Every vserver; with `state` (NCC's GetState), services and destinations carry their counters.

    Without `snapshots` (kept between calls) every vserver is built afresh.
    """
    out = (snapshots or VserverSnapshots()).vserver_list(engine)
    if state is not None:
        attach_stats(out, state)
    return out


def attach_stats(vserver_list: engine_pb2.VserverList, state: ncc_pb2.DataplaneState) -> None:
    """Copy the dataplane's counters onto the matching services and destinations."""
    if not state.services:
        return
    by_service: dict[tuple[int, int, str, int, int], ncc_pb2.ServiceStats] = {}
    for entry in state.services:
        svc = entry.service
        address = "" if svc.fwmark else svc.address
        by_service[(svc.family, svc.protocol, address, svc.port, svc.fwmark)] = entry
    for vs in vserver_list.vservers:
        for svc in vs.services:
            address = "" if svc.fwmark else svc.address
            entry = by_service.get((svc.family, svc.protocol, address, svc.port, svc.fwmark))
            if entry is None:
                continue
            svc.stats.CopyFrom(entry.stats)
            dests = {(d.destination.address, d.destination.port): d.stats for d in entry.destinations}
            for dest in svc.destinations:
                stats = dests.get((dest.address, dest.port))
                if stats is not None:
                    dest.stats.CopyFrom(stats)


def backends(
    engine: Engine, state: ncc_pb2.DataplaneState | None = None, snapshots: VserverSnapshots | None = None
) -> engine_pb2.BackendList:
    """Every backend of every vserver, with the destinations it serves."""
    found: dict[str, engine_pb2.Backend] = {}
    for vs in vservers(engine, state, snapshots).vservers:
        machine = engine.machines[vs.name]
        assert machine.config is not None
        for backend in machine.config.backends.values():
            if backend.hostname in found:
                continue
            found[backend.hostname] = engine_pb2.Backend(
                hostname=backend.hostname,
                ipv4=str(backend.host.ipv4) if backend.host.ipv4 else "",
                ipv6=str(backend.host.ipv6) if backend.host.ipv6 else "",
                weight=max(backend.weight, 0),
                enabled=backend.enabled,
                in_service=backend.in_service,
                override=engine.overrides.get(BACKEND, backend.hostname),
            )
        for svc in vs.services:
            for dest in svc.destinations:
                if dest.backend in found:
                    found[dest.backend].destinations.append(dest)
    out = engine_pb2.BackendList()
    for hostname in sorted(found):
        backend_pb = found[hostname]
        dests = sorted(backend_pb.destinations, key=lambda d: d.name)
        del backend_pb.destinations[:]
        backend_pb.destinations.extend(dests)
        out.backends.append(backend_pb)
    return out


def vlans(engine: Engine) -> engine_pb2.VLANList:
    out = engine_pb2.VLANList()
    target = engine.target
    if target is None:
        return out
    backend_ips: set[IPAddress] = set()
    vip_ips: set[IPAddress] = set()
    for vs in target.vservers.values():
        vip_ips.update(vip.ip for vip in vs.vips.values())
        for backend in vs.backends.values():
            backend_ips.update(a.ip for a in backend.host.addresses())
    for vlan_id in sorted(target.vlans):
        host = target.vlans[vlan_id].host
        counts = {"backends": {4: 0, 6: 0}, "vips": {4: 0, 6: 0}}
        for addr in host.addresses():
            counts["backends"][addr.version] = sum(1 for ip in backend_ips if ip in addr.network)
            counts["vips"][addr.version] = sum(1 for ip in vip_ips if ip in addr.network)
        out.vlans.append(
            engine_pb2.VLAN(
                id=vlan_id,
                hostname=host.hostname,
                ipv4=str(host.ipv4) if host.ipv4 else "",
                ipv6=str(host.ipv6) if host.ipv6 else "",
                backends_ipv4=counts["backends"][4],
                backends_ipv6=counts["backends"][6],
                vips_ipv4=counts["vips"][4],
                vips_ipv6=counts["vips"][6],
            )
        )
    return out


def config_status(engine: Engine) -> engine_pb2.ConfigStatus:
    info = engine.config_info
    out = engine_pb2.ConfigStatus(
        source=info.source,
        generation=info.generation,
        loaded_unix_ms=info.loaded_unix_ms,
        last_error=info.last_error,
        last_error_unix_ms=info.last_error_unix_ms,
        path=info.path,
        reloads_total=info.reloads_total,
        reload_errors_total=info.reload_errors_total,
        warnings=engine.warnings(),
        origin=info.origin,
        last_check_unix_ms=info.last_check_unix_ms,
    )
    if engine.target is not None:
        meta = engine.target.metadata
        out.last_update_unix = meta.last_updated
        out.attributes.extend(engine_pb2.Attribute(name=n, value=v) for n, v in meta.attributes)
    return out


_CHANGE_KINDS = {
    "added": engine_pb2.VserverChange.ADDED,
    "removed": engine_pb2.VserverChange.REMOVED,
    "changed": engine_pb2.VserverChange.CHANGED,
}


def config_diff(engine: Engine, candidate: LoadedConfig) -> engine_pb2.ConfigDiff:
    """What taking `candidate` would change, whether a reload would refuse it, and in how many steps."""
    running = engine.target
    found = rollout.diff(running, candidate.cluster)
    settings_lines = rollout.settings_changes(engine.settings, candidate.settings) if engine.settings_loaded else []
    out = engine_pb2.ConfigDiff(
        source=engine.config_info.source,
        origin=candidate.origin,
        changed=found.changed or bool(settings_lines),
        metadata_only=found.metadata_only and not settings_lines,
        running_last_updated=running.metadata.last_updated if running is not None else 0,
        candidate_last_updated=candidate.cluster.metadata.last_updated,
        cluster=[*found.cluster, *settings_lines],
        step_limit=candidate.settings.max_vserver_changes,
    )
    for change in found.vservers:
        out.vservers.append(
            engine_pb2.VserverChange(name=change.name, kind=_CHANGE_KINDS[change.kind], details=change.details)
        )
    out.refusals.extend(config_problems(candidate.cluster, candidate.settings))
    running_vservers = running.vservers if running is not None else None
    out.refusals.extend(
        rollout.deletion_problems(running_vservers, candidate.cluster.vservers, candidate.settings.max_delete_share)
    )
    if (
        engine.config_info.source == "server"
        and running is not None
        and candidate.cluster.metadata.last_updated < running.metadata.last_updated
    ):
        out.refusals.append(
            f"it is older than the running config (metadata.last_updated {candidate.cluster.metadata.last_updated} "
            f"< {running.metadata.last_updated}): a config from a server never goes backwards"
        )
    now = engine.cluster.vservers if engine.cluster is not None else None
    out.steps = (
        rollout.steps(candidate.cluster.vservers, now, candidate.settings.max_vserver_changes) if out.changed else 0
    )
    return out
