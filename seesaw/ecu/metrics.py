"""Turn an engine snapshot into Prometheus metric families. Pure: no I/O."""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric

from seesaw.pb import common_pb2, engine_pb2

from .engine_client import EngineSnapshot

HA_STATES = {v: k.removeprefix("HA_").lower() for k, v in common_pb2.HaState.items()}
PROTOCOLS = {common_pb2.IPPROTO_TCP: "TCP", common_pb2.IPPROTO_UDP: "UDP", common_pb2.IPPROTO_ANY: "ANY"}


def service_label(svc: engine_pb2.Service) -> str:
    """`TCP 192.0.2.1:80`, `FWM 256`: how ipvsadm names a service."""
    if svc.fwmark:
        return f"FWM {svc.fwmark}"
    address = f"[{svc.address}]" if ":" in svc.address else svc.address
    return f"{PROTOCOLS.get(svc.protocol, '?')} {address}:{svc.port}"


def families(snap: EngineSnapshot | None, error: str = "") -> Iterator[Metric]:
    up = GaugeMetricFamily("seesaw_engine_up", "1 if the engine answered the last scrape", labels=[])
    up.add_metric([], 1.0 if snap is not None else 0.0)
    yield up
    if snap is None:
        return

    info = GaugeMetricFamily("seesaw_cluster_info", "The cluster this node belongs to", labels=["site"])
    info.add_metric([snap.cluster.site], 1.0)
    yield info

    ha_state = GaugeMetricFamily("seesaw_ha_state", "1 for this node's current HA state", labels=["state"])
    for value, name in sorted(HA_STATES.items()):
        ha_state.add_metric([name], 1.0 if snap.ha.state == value else 0.0)
    yield ha_state
    yield CounterMetricFamily("seesaw_ha_transitions", "HA state transitions", value=snap.ha.transitions)
    yield CounterMetricFamily("seesaw_ha_adverts_sent", "VRRP adverts sent", value=snap.ha.adverts_sent)
    yield CounterMetricFamily("seesaw_ha_adverts_received", "VRRP adverts received", value=snap.ha.adverts_received)
    dropped = CounterMetricFamily("seesaw_ha_adverts_dropped", "VRRP adverts dropped, by reason", labels=["reason"])
    for reason, count in sorted(snap.ha.adverts_dropped.items()):
        dropped.add_metric([reason], count)
    yield dropped
    yield CounterMetricFamily(
        "seesaw_checks_set_aside",
        "Check failures taken while this node's own link was down: not taken as the backends' (rechecked)",
        value=snap.ha.checks_set_aside,
    )
    yield GaugeMetricFamily(
        "seesaw_ha_last_takeover_seconds",
        "Measured duration of this node's last takeover",
        value=snap.ha.last_takeover_ms / 1000.0,
    )
    yield GaugeMetricFamily(
        "seesaw_ha_state_since_timestamp_seconds",
        "When this node entered its current HA state (for a leader: when it took over)",
        value=snap.ha.since_unix_ms / 1000.0,
    )

    yield GaugeMetricFamily("seesaw_config_generation", "Applied config generation", value=snap.config.generation)
    yield GaugeMetricFamily(
        "seesaw_config_last_update_timestamp_seconds",
        "cluster.pb metadata.last_updated",
        value=snap.config.last_update_unix,
    )
    yield CounterMetricFamily("seesaw_config_reloads", "Config reloads", value=snap.config.reloads_total)
    yield CounterMetricFamily(
        "seesaw_config_reload_errors", "Config reloads refused", value=snap.config.reload_errors_total
    )
    yield GaugeMetricFamily("seesaw_config_warnings", "Config warnings", value=len(snap.config.warnings))

    yield from _dataplane_families(snap.dataplane)
    yield from _vserver_families(snap.vservers)


def _dataplane_families(view: engine_pb2.DataplaneView | None) -> Iterator[Metric]:
    up = GaugeMetricFamily("seesaw_ncc_up", "1 if the engine reached NCC for this scrape", labels=[])
    up.add_metric([], 1.0 if view is not None and view.connected else 0.0)
    yield up
    if view is None or not view.connected:
        return
    status = view.status
    info = GaugeMetricFamily("seesaw_dataplane_info", "The dataplane NCC programs", labels=["dataplane"])
    info.add_metric([status.dataplane or view.state.dataplane], 1.0)
    yield info
    yield GaugeMetricFamily("seesaw_ncc_generation", "Applies NCC has taken since it started", value=status.generation)
    yield CounterMetricFamily("seesaw_dataplane_writes", "Kernel writes NCC made", value=status.writes_total)
    yield CounterMetricFamily(
        "seesaw_dataplane_drift_repairs",
        "Changes made behind NCC's back that it repaired",
        value=status.drift_repairs_total,
    )
    yield CounterMetricFamily("seesaw_dataplane_apply_errors", "Applies NCC failed", value=status.apply_errors_total)
    yield GaugeMetricFamily("seesaw_dataplane_services", "Services programmed", value=len(view.state.services))
    yield GaugeMetricFamily("seesaw_dataplane_vips", "VIPs held", value=len(view.state.vips))


# The IPVS counters a service's and a destination's stats carry: field -> help.
STATS_COUNTERS = {
    "connections": "Connections",
    "packets_in": "Packets in",
    "packets_out": "Packets out",
    "bytes_in": "Bytes in",
    "bytes_out": "Bytes out",
}


def _stats_counters(kind: str, labels: list[str]) -> dict[str, CounterMetricFamily]:
    """One counter family per stats field, `seesaw_<kind>_<field>`."""
    return {
        field: CounterMetricFamily(f"seesaw_{kind}_{field}", text, labels=labels)
        for field, text in STATS_COUNTERS.items()
    }


def _vserver_families(vservers: engine_pb2.VserverList) -> Iterator[Metric]:
    vs_enabled = GaugeMetricFamily("seesaw_vserver_enabled", "1 if the vserver is enabled", labels=["vserver"])
    svc_labels = ["vserver", "service"]
    svc_healthy = GaugeMetricFamily("seesaw_service_healthy", "1 if the service is healthy", labels=svc_labels)
    svc_active = GaugeMetricFamily("seesaw_service_active", "1 if the service is programmed", labels=svc_labels)
    svc_watermark = GaugeMetricFamily(
        "seesaw_service_healthy_ratio", "Healthy share of the service's backends", labels=svc_labels
    )
    svc_counters = _stats_counters("service", svc_labels)
    svc_enabled = GaugeMetricFamily("seesaw_service_enabled", "1 if the service is enabled", labels=svc_labels)
    dst_labels = ["vserver", "service", "destination", "backend"]
    dst_healthy = GaugeMetricFamily("seesaw_destination_healthy", "1 if the destination is healthy", labels=dst_labels)
    dst_active = GaugeMetricFamily("seesaw_destination_active", "1 if the destination is programmed", labels=dst_labels)
    dst_weight = GaugeMetricFamily("seesaw_destination_weight", "Configured weight", labels=dst_labels)
    dst_enabled = GaugeMetricFamily("seesaw_destination_enabled", "1 if the destination is enabled", labels=dst_labels)
    dst_conns = {
        "active_connections": GaugeMetricFamily(
            "seesaw_destination_active_connections", "Established connections now", labels=dst_labels
        ),
        "inactive_connections": GaugeMetricFamily(
            "seesaw_destination_inactive_connections", "Other connections now", labels=dst_labels
        ),
    }
    counters = _stats_counters("destination", dst_labels)
    check_up = GaugeMetricFamily(
        "seesaw_check_healthy", "1 if the check's last result was healthy", labels=[*dst_labels, "check"]
    )
    check_latency = GaugeMetricFamily(
        "seesaw_check_latency_seconds", "Latency of the check's last probe", labels=[*dst_labels, "check"]
    )
    for vs in vservers.vservers:
        vs_enabled.add_metric([vs.name], 1.0 if vs.enabled else 0.0)
        for svc in vs.services:
            sl = [vs.name, service_label(svc)]
            svc_healthy.add_metric(sl, 1.0 if svc.healthy else 0.0)
            svc_active.add_metric(sl, 1.0 if svc.active else 0.0)
            svc_watermark.add_metric(sl, svc.current_watermark)
            svc_enabled.add_metric(sl, 1.0 if svc.enabled else 0.0)
            for field, family in svc_counters.items():
                family.add_metric(sl, getattr(svc.stats, field))
            for dst in svc.destinations:
                dl = [*sl, dst.name, dst.backend]
                dst_healthy.add_metric(dl, 1.0 if dst.healthy else 0.0)
                dst_active.add_metric(dl, 1.0 if dst.active else 0.0)
                dst_weight.add_metric(dl, dst.weight)
                dst_enabled.add_metric(dl, 1.0 if dst.enabled else 0.0)
                for field, gauge in dst_conns.items():
                    gauge.add_metric(dl, getattr(dst.stats, field))
                for field, family in counters.items():
                    family.add_metric(dl, getattr(dst.stats, field))
                for check in dst.checks:
                    cl = [*dl, check.name]
                    check_up.add_metric(cl, 1.0 if check.state == common_pb2.HEALTH_HEALTHY else 0.0)
                    check_latency.add_metric(cl, check.latency_us / 1e6)
    yield vs_enabled
    yield svc_healthy
    yield svc_active
    yield svc_watermark
    yield svc_enabled
    yield from svc_counters.values()
    yield dst_healthy
    yield dst_active
    yield dst_enabled
    yield dst_weight
    yield from counters.values()
    yield from dst_conns.values()
    yield check_up
    yield check_latency
