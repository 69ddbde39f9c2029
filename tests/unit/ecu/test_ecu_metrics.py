"""Engine state -> Prometheus exposition, checked line by line and by promtool."""

import shutil
import subprocess
import urllib.error
import urllib.request

import pytest
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from seesaw.ecu import metrics
from seesaw.ecu.check_history import CheckHistory
from seesaw.ecu.engine_client import EngineSnapshot
from seesaw.pb import common_pb2, engine_pb2, ha_pb2, healthcheck_pb2, ncc_pb2


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
            state=common_pb2.HA_LEADER,
            transitions=2,
            adverts_sent=33,
            adverts_dropped={"ttl": 4},
            last_takeover_ms=350,
            checks_set_aside=5,
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
    assert s[("seesaw_checks_set_aside_total", ())] == 5
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


# -- additions: services' counters, the dataplane, HA since, check histories; promtool ----------------------------


def _full_snapshot() -> EngineSnapshot:
    snap = _snapshot()
    svc = snap.vservers.vservers[0].services[0]
    svc.stats.CopyFrom(common_pb2.Stats(connections=7, packets_in=70, bytes_out=7000))
    svc.destinations[0].stats.active_connections = 5
    svc.destinations[0].checks[0].checked_unix_ms = 1_700_000_000_000
    svc.destinations[0].checks[0].id = 11
    svc.destinations[0].checks[0].type = healthcheck_pb2.CHECK_HTTP
    view = engine_pb2.DataplaneView(
        connected=True,
        status=ncc_pb2.StatusResponse(dataplane="nftables", generation=9, writes_total=120, drift_repairs_total=2),
        state=ncc_pb2.DataplaneState(dataplane="nftables", services=[ncc_pb2.ServiceStats()]),
    )
    snap.ha.since_unix_ms = 1_700_000_000_500
    return EngineSnapshot(snap.cluster, snap.ha, snap.config, snap.vservers, view)


def test_dataplane_services_and_ha_since():
    s = _samples(_full_snapshot())
    assert s[("seesaw_ncc_up", ())] == 1.0
    assert s[("seesaw_dataplane_info", (("dataplane", "nftables"),))] == 1.0
    assert s[("seesaw_dataplane_writes_total", ())] == 120
    assert s[("seesaw_dataplane_drift_repairs_total", ())] == 2
    assert s[("seesaw_dataplane_services", ())] == 1
    assert s[("seesaw_ha_state_since_timestamp_seconds", ())] == 1_700_000_000.5
    svc = (("service", "TCP 192.168.37.200:80"), ("vserver", "web"))
    assert s[("seesaw_service_connections_total", svc)] == 7
    assert s[("seesaw_service_bytes_out_total", svc)] == 7000
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
    assert s[("seesaw_destination_active_connections", dst)] == 5


def test_ncc_unreachable_is_said_not_guessed():
    snap = _snapshot()
    down = EngineSnapshot(snap.cluster, snap.ha, snap.config, snap.vservers, engine_pb2.DataplaneView())
    s = _samples(down)
    assert s[("seesaw_ncc_up", ())] == 0.0
    assert not any(name.startswith("seesaw_dataplane_") for name, _ in s)


def _vservers(*checks: tuple[int, int, int, int]) -> engine_pb2.VserverList:
    """(id, checked_unix_ms, latency_us, state) per check, all on one destination."""
    dst = engine_pb2.Destination(
        checks=[
            engine_pb2.CheckState(id=i, type=healthcheck_pb2.CHECK_TCP, checked_unix_ms=at, latency_us=us, state=state)
            for i, at, us, state in checks
        ]
    )
    return engine_pb2.VserverList(vservers=[engine_pb2.Vserver(services=[engine_pb2.Service(destinations=[dst, dst])])])


def test_check_history_counts_each_result_once():
    history = CheckHistory()
    healthy, unhealthy = common_pb2.HEALTH_HEALTHY, common_pb2.HEALTH_UNHEALTHY
    assert history.observe(_vservers((1, 1000, 800, healthy), (2, 1000, 30_000, unhealthy), (3, 0, 0, 0))) == 2
    assert history.observe(_vservers((1, 1000, 800, healthy), (2, 1000, 30_000, unhealthy))) == 0  # nothing new
    assert history.observe(_vservers((1, 2000, 2_000_000, healthy), (2, 1000, 30_000, unhealthy))) == 1
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Families(history))
    samples = {}
    for family in text_string_to_metric_families(generate_latest(registry).decode()):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    assert samples[("seesaw_check_results_total", (("result", "healthy"), ("type", "tcp")))] == 2
    assert samples[("seesaw_check_results_total", (("result", "unhealthy"), ("type", "tcp")))] == 1
    assert samples[("seesaw_check_duration_seconds_count", (("type", "tcp"),))] == 3
    assert samples[("seesaw_check_duration_seconds_bucket", (("le", "0.001"), ("type", "tcp")))] == 1
    assert samples[("seesaw_check_duration_seconds_bucket", (("le", "0.05"), ("type", "tcp")))] == 2
    assert samples[("seesaw_check_duration_seconds_bucket", (("le", "+Inf"), ("type", "tcp")))] == 3
    assert abs(samples[("seesaw_check_duration_seconds_sum", (("type", "tcp"),))] - 2.0308) < 1e-9


class _Families:
    def __init__(self, history):
        self.history = history

    def collect(self):
        yield from self.history.families()


def promtool(text: bytes) -> subprocess.CompletedProcess[str]:
    if shutil.which("promtool") is None:
        pytest.fail("promtool is missing: install Debian's prometheus package (scripts/system-deps)")
    return subprocess.run(["promtool", "check", "metrics"], input=text.decode(), capture_output=True, text=True)


def test_promtool_accepts_the_exposition():
    history = CheckHistory()
    snap = _full_snapshot()
    history.observe(snap.vservers)
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Static(snap))
    registry.register(_Families(history))
    proc = promtool(generate_latest(registry))
    assert (proc.returncode, proc.stdout, proc.stderr) == (0, "", "")


def test_promtool_would_catch_a_bad_name():
    """The check above can fail: promtool objects to a counter without _total."""
    bad = b"# HELP seesaw_x Things\n# TYPE seesaw_x counter\nseesaw_x 1\n"
    assert promtool(bad).returncode != 0


def test_live_metrics_and_healthz(lab):
    with urllib.request.urlopen(f"http://127.0.0.1:{lab.monitor_port}/metrics", timeout=10) as reply:
        text = reply.read()
    proc = promtool(text)
    assert (proc.returncode, proc.stderr) == (0, ""), proc.stdout
    names = {family.name for family in text_string_to_metric_families(text.decode())}
    assert {"seesaw_engine_up", "seesaw_vserver_enabled", "seesaw_ncc_up", "seesaw_check_results"} <= names
    with pytest.raises(urllib.error.HTTPError) as caught:  # the lab's engine has no NCC, but it has a config
        urllib.request.urlopen(f"http://127.0.0.1:{lab.monitor_port}/nothing", timeout=10)
    assert caught.value.code == 404
    with urllib.request.urlopen(f"http://127.0.0.1:{lab.monitor_port}/healthz", timeout=10) as reply:
        assert (reply.status, reply.read()) == (200, b"ok\n")
