"""Engine state -> Prometheus exposition, checked line by line."""

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from seesaw.ecu import metrics
from seesaw.ecu.engine_client import EngineSnapshot
from seesaw.pb import common_pb2, engine_pb2, ha_pb2


class _Static:
    def __init__(self, snap):
        self.snap = snap

    def collect(self):
        yield from metrics.families(self.snap)


def _snapshot() -> EngineSnapshot:
    dst = engine_pb2.Destination(
        name="web/192.168.37.71:80/TCP",
        vserver="web",
        backend="backend01.localdomain.",
        address="192.168.37.71",
        port=80,
        weight=3,
        enabled=True,
        healthy=True,
        active=True,
        stats=common_pb2.Stats(connections=42, bytes_in=1000),
        checks=[
            engine_pb2.CheckState(name="HTTP/80_0", state=common_pb2.HEALTH_HEALTHY, latency_us=1500),
        ],
    )
    svc = engine_pb2.Service(
        family=common_pb2.AF_INET,
        protocol=common_pb2.IPPROTO_TCP,
        address="192.168.37.200",
        port=80,
        healthy=True,
        active=True,
        current_watermark=1.0,
        destinations=[dst],
    )
    return EngineSnapshot(
        cluster=engine_pb2.ClusterStatus(version=2, site="au-syd"),
        ha=ha_pb2.HAStatus(
            state=common_pb2.HA_LEADER, transitions=2, adverts_sent=33, adverts_dropped={"ttl": 4}, last_takeover_ms=350
        ),
        config=engine_pb2.ConfigStatus(generation=3, reload_errors_total=1),
        vservers=engine_pb2.VserverList(vservers=[engine_pb2.Vserver(name="web", enabled=True, services=[svc])]),
    )


def _samples(snap):
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Static(snap))
    text = generate_latest(registry).decode()
    out = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            out[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return out


def test_engine_down_is_one_metric():
    samples = _samples(None)
    assert samples == {("seesaw_engine_up", ()): 0.0}


def test_full_snapshot():
    s = _samples(_snapshot())
    assert s[("seesaw_engine_up", ())] == 1.0
    assert s[("seesaw_ha_state", (("state", "leader"),))] == 1.0
    assert s[("seesaw_ha_state", (("state", "backup"),))] == 0.0
    assert s[("seesaw_ha_transitions_total", ())] == 2
    assert s[("seesaw_ha_adverts_dropped_total", (("reason", "ttl"),))] == 4
    assert s[("seesaw_ha_last_takeover_seconds", ())] == 0.35
    assert s[("seesaw_config_generation", ())] == 3
    assert s[("seesaw_config_reload_errors_total", ())] == 1
    svc = (("service", "TCP 192.168.37.200:80"), ("vserver", "web"))
    assert s[("seesaw_service_healthy", svc)] == 1.0
    dst = tuple(
        sorted(
            (
                ("vserver", "web"),
                ("service", "TCP 192.168.37.200:80"),
                ("destination", "web/192.168.37.71:80/TCP"),
                ("backend", "backend01.localdomain."),
            )
        )
    )
    assert s[("seesaw_destination_weight", dst)] == 3
    assert s[("seesaw_destination_connections_total", dst)] == 42
    check = tuple(sorted((*dst, ("check", "HTTP/80_0"))))
    assert s[("seesaw_check_latency_seconds", check)] == 0.0015


def test_service_labels():
    assert metrics.service_label(engine_pb2.Service(fwmark=65536)) == "FWM 65536"
    v6 = engine_pb2.Service(protocol=common_pb2.IPPROTO_UDP, address="2012::1", port=53)
    assert metrics.service_label(v6) == "UDP [2012::1]:53"
