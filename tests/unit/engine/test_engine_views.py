"""The Engine API's read views, on Seesaw's own example cluster."""

from __future__ import annotations

from pathlib import Path

from seesaw.common.clock import FakeClock
from seesaw.config import load_cluster_file
from seesaw.config.seesaw_cfg import load_settings
from seesaw.engine import views
from seesaw.engine.core import BACKEND, Engine
from seesaw.pb import common_pb2, healthcheck_pb2

EXAMPLE = Path(__file__).resolve().parents[2] / "data" / "compat" / "etc" / "seesaw"


def example_engine() -> Engine:
    settings = load_settings(EXAMPLE / "seesaw.cfg.example")
    engine = Engine(settings, FakeClock())
    engine.load_config(load_cluster_file(EXAMPLE / "cluster.pb.example", settings.cluster_name))
    return engine


def test_cluster_status() -> None:
    status = views.cluster_status(example_engine())
    assert (status.version, status.site, status.cluster_vip_ipv4) == (2, "au-syd", "192.168.10.1")
    assert [(n.hostname, n.ipv4, n.local, n.priority) for n in status.nodes] == [
        ("seesaw1-1.example.com.", "192.168.10.2/24", True, 255),
        ("seesaw1-2.example.com.", "192.168.10.3/24", False, 1),
    ]


def test_vlan_counts_match_the_loaders() -> None:
    engine = example_engine()
    assert engine.target is not None
    got = views.vlans(engine).vlans
    assert [v.id for v in got] == [511, 512, 513, 514, 515]
    for vlan in got:
        model = engine.target.vlans[vlan.id]
        assert vlan.hostname == model.host.hostname
        assert (vlan.backends_ipv4, vlan.backends_ipv6) == (
            model.backend_count.get(4, 0),
            model.backend_count.get(6, 0),
        )
        assert (vlan.vips_ipv4, vlan.vips_ipv6) == (model.vip_count.get(4, 0), model.vip_count.get(6, 0))
    assert [v.backends_ipv4 for v in got] != [0] * 5


def test_vservers_and_backends() -> None:
    engine = example_engine()
    listed = views.vservers(engine).vservers
    assert [v.name for v in listed] == [
        "dns.resolver@au-syd",
        "http.proxy@au-syd",
        "radius.server@au-syd",
        "syslog.server@au-syd",
        "windows.ad.dc@au-syd",
    ]
    dns = listed[0]
    assert [(s.protocol, s.port, s.mode, s.scheduler) for s in dns.services] == [
        (6, 53, "DSR", "rr"),
        (17, 53, "DSR", "rr"),
    ]
    assert dns.services[0].low_watermark > 0.29
    # Checks are visible on each destination, with the healthcheck daemon's IDs.
    dest = dns.services[0].destinations[0]
    assert dest.name == "dns.resolver@au-syd/192.168.12.1:53/TCP"
    assert dest.checks and all(c.id in engine.check_configs() for c in dest.checks)

    # A result shows up at once, message and all.
    check_id = dest.checks[0].id
    engine.handle_results(
        healthcheck_pb2.ResultBatch(
            results=[healthcheck_pb2.CheckResult(id=check_id, state=common_pb2.HEALTH_UNHEALTHY, message="timeout")]
        )
    )
    again = views.vservers(engine).vservers[0].services[0].destinations[0]
    assert [(c.state, c.message) for c in again.checks if c.id == check_id] == [
        (common_pb2.HEALTH_UNHEALTHY, "timeout")
    ]

    engine.set_override(BACKEND, "dns1-1.example.com.", common_pb2.OVERRIDE_DISABLED)
    backends = views.backends(engine).backends
    names = [b.hostname for b in backends]
    assert names == sorted(names) and "dns1-1.example.com." in names
    dns1 = next(b for b in backends if b.hostname == "dns1-1.example.com.")
    assert dns1.override == common_pb2.OVERRIDE_DISABLED
    assert [(d.name, d.enabled) for d in dns1.destinations] == [
        ("dns.resolver@au-syd/192.168.12.1:53/TCP", False),
        ("dns.resolver@au-syd/192.168.12.1:53/UDP", False),
    ]


def test_config_status() -> None:
    engine = example_engine()
    status = views.config_status(engine)
    assert status.last_update_unix == 1447906527
    assert (status.source, status.generation, status.last_error) == ("disk", 1, "")
    assert status.reloads_total == 1
