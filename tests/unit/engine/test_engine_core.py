"""The Engine core: what reaches NCC, when, and the edges Seesaw got wrong."""

from __future__ import annotations

import dataclasses
import ipaddress

import pytest
from engine_fixtures import cluster, node, settings, vserver_config

from seesaw.common.clock import FakeClock
from seesaw.config.model import (
    VIP,
    Backend,
    Healthcheck,
    HealthcheckMode,
    HealthcheckType,
    Host,
    HostStatus,
    LBMode,
    Protocol,
    VIPType,
    Vserver,
    VserverEntry,
)
from seesaw.config.model import HAState as ModelHAState
from seesaw.engine.core import BACKEND, DESTINATION, VSERVER, ConfigRefused, Engine, OverrideError
from seesaw.engine.ha_state import FailoverError
from seesaw.engine.healthchecks import PARTITION as MARKS
from seesaw.engine.overrides import Overrides
from seesaw.pb import common_pb2, ha_pb2, healthcheck_pb2, ncc_pb2

HEALTHY, UNHEALTHY = common_pb2.HEALTH_HEALTHY, common_pb2.HEALTH_UNHEALTHY


def web(n: int, checks: bool = True, backends: int = 2, **changes: object) -> Vserver:
    """A unicast TCP/80 NAT vserver on 10.1.0.<n> with backends 10.2.<n>.1..; an HTTP check if `checks`."""
    hc = Healthcheck(name="HTTP/80_0", type=HealthcheckType.HTTP, port=80)
    entry = VserverEntry(port=80, protocol=Protocol.TCP, mode=LBMode.NAT, healthchecks={hc.name: hc} if checks else {})
    bes = [
        Backend(
            host=Host(
                hostname=f"web{n}-{i}.example.com.",
                ipv4=ipaddress.IPv4Interface(f"10.2.{n}.{i}/24"),
                status=HostStatus.PRODUCTION,
            )
        )
        for i in range(1, backends + 1)
    ]
    vip = ipaddress.ip_address(f"10.1.0.{n}")
    base = Vserver(
        name=f"web{n:02d}@au-syd",
        host=Host(
            hostname=f"web{n}.example.com.", ipv4=ipaddress.IPv4Interface(f"{vip}/24"), status=HostStatus.PRODUCTION
        ),
        entries={entry.key: entry},
        backends={b.hostname: b for b in bes},
        vips={f"{vip} (Unicast)": VIP(vip, VIPType.UNICAST)},
    )
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


def engine(*vservers: Vserver, **settings_changes: object) -> Engine:
    e = Engine(settings(**settings_changes), FakeClock())
    e.load_config(cluster(*vservers))
    return e


def sync(e: Engine) -> ncc_pb2.ApplyRequest | None:
    """Take what the engine wants applied and report it applied."""
    req = e.pending_apply()
    if req is not None:
        e.apply_done(req, ncc_pb2.ApplyResponse())
    return req


def results(e: Engine, state: int, vserver: str | None = None) -> int:
    batch = healthcheck_pb2.ResultBatch()
    for check_id in e.check_configs():
        if vserver is None or any(v == vserver for v, _ in e.hc.routes(check_id)):
            batch.results.append(healthcheck_pb2.CheckResult(id=check_id, state=state))
    return e.handle_results(batch)


def partition(e: Engine, vserver: str) -> ncc_pb2.Partition:
    return e.machines[vserver].partition()


# ---------------------------------------------------------------- NCC applies


def test_nothing_goes_to_ncc_before_a_config() -> None:
    e = Engine(settings(), FakeClock())
    assert e.pending_apply() is None


def test_first_apply_is_a_full_resync_with_one_partition_per_vserver() -> None:
    e = engine(web(1), web(2), web(3, checks=False))
    req = e.pending_apply()
    assert req is not None and req.replace_all and req.has_lb
    # Unicast VIPs and filters are in place even before the backends are healthy.
    assert [p.name for p in req.partitions] == ["vserver:web01@au-syd", "vserver:web02@au-syd", "vserver:web03@au-syd"]
    assert [len(p.services) for p in req.partitions] == [0, 0, 1]
    assert req.lb.name == "eth1" and req.lb.node_ipv4 == "10.0.0.2/24" and not req.lb.up
    e.apply_done(req, ncc_pb2.ApplyResponse())
    assert e.pending_apply() is None


def test_unchanged_config_applies_nothing_and_one_flip_applies_one_partition() -> None:
    e = engine(web(1), web(2), web(3))
    sync(e)
    assert e.load_config(cluster(web(1), web(2), web(3))) == "No config changes found"
    assert e.pending_apply() is None

    assert results(e, HEALTHY) == 6
    req = sync(e)
    assert req is not None and not req.replace_all and not req.has_lb
    assert len(req.partitions) == 3
    # Same results again: nothing to do.
    results(e, HEALTHY)
    assert e.pending_apply() is None

    # One check flips: exactly that vserver's partition, with one destination fewer.
    check_id = next(i for i, cfg in e.check_configs().items() if cfg.target == "10.2.2.1")
    e.handle_results(healthcheck_pb2.ResultBatch(results=[healthcheck_pb2.CheckResult(id=check_id, state=UNHEALTHY)]))
    req = sync(e)
    assert req is not None and [p.name for p in req.partitions] == ["vserver:web02@au-syd"]
    [svc] = req.partitions[0].services
    assert [(d.address, d.port, d.forwarding) for d in svc.destinations] == [("10.2.2.2", 80, common_pb2.FWD_MASQ)]


def test_removed_vserver_sends_an_empty_partition() -> None:
    e = engine(web(1), web(2))
    sync(e)
    e.load_config(cluster(web(1)))
    req = sync(e)
    assert req is not None
    assert [(p.name, len(p.vips)) for p in req.partitions] == [("vserver:web02@au-syd", 0)]


def test_ncc_failure_is_reported_and_retried_never_lost() -> None:
    e = engine(web(1, checks=False), web(2, checks=False))
    sync(e)
    e.load_config(cluster(web(1, checks=False), web(2, checks=False, backends=1)))
    req = e.pending_apply()
    assert req is not None and [p.name for p in req.partitions] == ["vserver:web02@au-syd"]
    e.apply_failed(req, "NCC did not answer in time")
    assert any("NCC did not answer in time" in w for w in e.warnings())
    again = e.pending_apply()
    assert again == req
    e.apply_done(again, ncc_pb2.ApplyResponse())
    assert not any(w.startswith("NCC") for w in e.warnings())
    assert e.pending_apply() is None


def test_ncc_object_errors_are_reported_and_that_partition_offered_again() -> None:
    e = engine(web(1, checks=False))
    req = e.pending_apply()
    assert req is not None
    e.apply_done(
        req,
        ncc_pb2.ApplyResponse(
            errors=[ncc_pb2.ObjectError(kind="vip", key="10.1.0.1", partition="vserver:web01@au-syd", message="EEXIST")]
        ),
    )
    assert any("EEXIST" in w for w in e.warnings())
    again = e.pending_apply()
    assert again is not None and [p.name for p in again.partitions] == ["vserver:web01@au-syd"]


def test_reconnect_resends_everything() -> None:
    e = engine(web(1, checks=False), web(2, checks=False))
    sync(e)
    e.ncc_connected("sim")
    req = e.pending_apply()
    assert req is not None and req.replace_all and req.has_lb and len(req.partitions) == 2
    assert e.ncc.dataplane == "sim"


# ----------------------------------------------------------- Seesaw's edges


def test_vserver_without_healthchecks_is_healthy() -> None:
    e = engine(web(1, checks=False))
    snap = e.machines["web01@au-syd"].snapshot()
    assert snap is not None
    assert [(s.healthy, s.active) for s in snap.services] == [(True, True)]
    [svc] = partition(e, "web01@au-syd").services
    assert len(svc.destinations) == 2


def test_backend_override_takes_effect_both_ways() -> None:
    e = engine(web(1), web(2))
    results(e, HEALTHY)
    sync(e)
    e.set_override(BACKEND, "web1-1.example.com.", common_pb2.OVERRIDE_DISABLED)
    [svc] = partition(e, "web01@au-syd").services
    assert [d.address for d in svc.destinations] == ["10.2.1.2"]
    req = sync(e)
    assert req is not None and [p.name for p in req.partitions] == ["vserver:web01@au-syd"]
    # Its checks are gone from the healthcheck daemon's set, the other vserver's stay.
    assert sorted(c.target for c in e.check_configs().values()) == ["10.2.1.2", "10.2.2.1", "10.2.2.2"]
    e.set_override(BACKEND, "web1-1.example.com.", common_pb2.OVERRIDE_DEFAULT)
    results(e, HEALTHY)
    [svc] = partition(e, "web01@au-syd").services
    assert len(svc.destinations) == 2

    # A backend the config disables comes in with an enable override (once healthy).
    cfg = web(3)
    be = cfg.backends["web3-1.example.com."]
    cfg = dataclasses.replace(cfg, backends={**cfg.backends, be.hostname: dataclasses.replace(be, enabled=False)})
    e.load_config(cluster(web(1), web(2), cfg))
    results(e, HEALTHY)
    [svc] = partition(e, "web03@au-syd").services
    assert [d.address for d in svc.destinations] == ["10.2.3.2"]
    e.set_override(BACKEND, "web3-1.example.com.", common_pb2.OVERRIDE_ENABLED)
    results(e, HEALTHY)
    [svc] = partition(e, "web03@au-syd").services
    assert [d.address for d in svc.destinations] == ["10.2.3.1", "10.2.3.2"]
    snap = e.machines["web03@au-syd"].snapshot()
    assert snap is not None
    dest = snap.services[0].destinations[0]
    assert (dest.enabled, dest.override) == (True, common_pb2.OVERRIDE_ENABLED)


def test_destination_override_beats_backend_override() -> None:
    e = engine(web(1, checks=False))
    name = "web01@au-syd/10.2.1.1:80/TCP"
    e.set_override(DESTINATION, name, common_pb2.OVERRIDE_DISABLED)
    [svc] = partition(e, "web01@au-syd").services
    assert [d.address for d in svc.destinations] == ["10.2.1.2"]
    e.set_override(BACKEND, "web1-1.example.com.", common_pb2.OVERRIDE_ENABLED)
    [svc] = partition(e, "web01@au-syd").services
    assert [d.address for d in svc.destinations] == ["10.2.1.2"]
    e.set_override(DESTINATION, name, common_pb2.OVERRIDE_DEFAULT)
    [svc] = partition(e, "web01@au-syd").services
    assert len(svc.destinations) == 2


def test_vserver_override_and_unknown_names() -> None:
    e = engine(web(1, checks=False))
    assert "disabled" in e.set_override(VSERVER, "web01@au-syd", common_pb2.OVERRIDE_DISABLED)
    assert partition(e, "web01@au-syd") == ncc_pb2.Partition(name="vserver:web01@au-syd")
    with pytest.raises(OverrideError, match="not found"):
        e.set_override(VSERVER, "nope@au-syd", common_pb2.OVERRIDE_DISABLED)
    with pytest.raises(OverrideError, match="show backends"):
        e.set_override(BACKEND, "nope.example.com.", common_pb2.OVERRIDE_DISABLED)
    # Overrides outlive config changes and come back from their JSON form.
    e.load_config(cluster(web(1, checks=False, backends=1)))
    assert not e.machines["web01@au-syd"].enabled
    restored = Engine(settings(), FakeClock())
    restored.restore_overrides(Overrides.from_json(e.overrides.to_json()))
    restored.load_config(cluster(web(1, checks=False)))
    assert not restored.machines["web01@au-syd"].enabled


def test_invalid_check_definitions_are_refused_with_the_config() -> None:
    e = engine(web(1, checks=False))
    sync(e)
    bad = Healthcheck(name="DNS/53_0", type=HealthcheckType.DNS, port=53, send="example.com")
    entry = VserverEntry(port=53, protocol=Protocol.UDP, healthchecks={bad.name: bad})
    broken = web(2, entries={entry.key: entry})
    with pytest.raises(ConfigRefused) as err:
        e.load_config(cluster(web(1, checks=False), broken), path="/etc/seesaw/cluster.pb")
    assert "web02@au-syd" in str(err.value) and "method" in str(err.value)
    assert list(e.machines) == ["web01@au-syd"]
    assert e.config_info.last_error and e.config_info.reload_errors_total == 1
    assert any(w.startswith("config: the last config was refused (the running config stays") for w in e.warnings())
    assert e.pending_apply() is None


def test_vip_equal_to_cluster_vip_is_refused() -> None:
    e = Engine(settings(), FakeClock())
    clash = web(1)
    clash = dataclasses.replace(
        clash, host=dataclasses.replace(clash.host, ipv4=ipaddress.IPv4Interface("10.0.0.1/24"))
    )
    with pytest.raises(ConfigRefused, match="cluster VIP"):
        e.load_config(cluster(clash))


# ------------------------------------------------------------------------- HA


def report(state: int) -> ha_pb2.HAStatus:
    return ha_pb2.HAStatus(state=state, transitions=1, adverts_sent=3)


def test_lb_follows_leadership_and_drops_when_ha_goes() -> None:
    e = engine(web(1, checks=False))
    sync(e)
    token = e.ha_session_opened()
    e.ha_report(report(common_pb2.HA_LEADER))
    req = sync(e)
    assert req is not None and req.has_lb and req.lb.up and not req.partitions
    e.ha_session_closed(token)
    req = sync(e)
    assert req is not None and req.has_lb and not req.lb.up
    assert e.ha.status().state == common_pb2.HA_UNKNOWN


def test_the_lb_interface_says_since_when_ha_is_in_the_state_it_follows() -> None:
    """NCC weighs HA's own takeover call against it (seesaw.ha.lb_takeover)."""
    e = engine(web(1, checks=False))
    sync(e)
    token = e.ha_session_opened()
    e.ha_report(ha_pb2.HAStatus(state=common_pb2.HA_LEADER, since_unix_ms=1_700_000_123_456))
    req = sync(e)
    assert req is not None and req.lb.up and req.lb.ha_since_unix_ms == 1_700_000_123_456
    e.ha_session_closed(token)  # the engine's own UNKNOWN: its own time
    req = sync(e)
    assert req is not None and not req.lb.up and req.lb.ha_since_unix_ms == int(e.ha.since * 1000)


def test_silent_ha_times_out() -> None:
    clock = FakeClock()
    e = Engine(settings(), clock)
    e.load_config(cluster(web(1, checks=False)))
    e.ha_session_opened()
    e.ha_report(report(common_pb2.HA_LEADER))
    clock.advance(29)
    e.ha_tick()
    assert e.ha.lb_up
    clock.advance(2)
    e.ha_tick()
    assert not e.ha.lb_up


def test_failover_only_on_the_leader() -> None:
    e = engine(web(1, checks=False))
    e.ha_session_opened()
    e.ha_report(report(common_pb2.HA_BACKUP))
    with pytest.raises(FailoverError, match=r"not the master.*run failover on seesaw1-2\.example\.com\."):
        e.request_failover()
    e.ha_report(report(common_pb2.HA_LEADER))
    e.request_failover()
    with pytest.raises(FailoverError, match="already pending"):
        e.request_failover()
    assert e.take_failover() is True
    assert e.take_failover() is False


def test_ha_config_from_cluster_and_settings() -> None:
    e = engine(web(1), unicast_peers=("10.0.0.3",), preempt=True)
    cfg = e.ha_config()
    assert cfg.enabled and cfg.priority == 255 and cfg.vrid == 60
    assert (cfg.local_address, cfg.remote_address, cfg.interface) == ("10.0.0.2", "10.0.0.3", "eth0")
    assert cfg.preempt and cfg.advert_interval_ms == 500 and cfg.format == ha_pb2.HAConfig.SEESAW
    disabled = dataclasses.replace(node(), state=ModelHAState.DISABLED)
    e.load_config(cluster(web(1), nodes=(disabled,)))
    assert not e.ha_config().enabled
    assert e.ha.status().state == common_pb2.HA_DISABLED
    assert Engine(settings(), FakeClock()).ha_config().enabled is False


def test_node_missing_from_cluster_runs_nothing_and_says_why() -> None:
    e = engine(web(1), node_ipv4=ipaddress.IPv4Address("10.0.0.9"))
    assert e.machines == {}
    assert any("10.0.0.9" in w and "node" in w for w in e.warnings())


# ---------------------------------------------------------------- churn limit


def test_cold_load_is_not_limited_later_ones_are() -> None:
    e = engine(*(web(n, checks=False) for n in range(1, 16)))
    assert len(e.machines) == 15
    e.load_config(cluster(*(web(n, checks=False) for n in range(1, 31))))
    assert len(e.machines) == 25
    assert e.config_pending() == (5, 0)
    assert any("churn limit" in w for w in e.warnings())
    assert e.config_step() is True
    assert len(e.machines) == 30 and e.config_pending() == (0, 0)
    assert e.config_step() is False


def test_dsr_checks_program_the_marks_partition() -> None:
    e = engine(vserver_config(name="dns@au-syd"))
    req = e.pending_apply()
    assert req is not None
    assert MARKS not in [p.name for p in req.partitions]  # the fixture's checks are PLAIN
    dsr_cfg = dataclasses.replace(
        web(1),
        entries={
            "80/TCP": VserverEntry(
                port=80,
                protocol=Protocol.TCP,
                healthchecks={
                    "HTTP/80_0": Healthcheck(
                        name="HTTP/80_0", type=HealthcheckType.HTTP, port=80, mode=HealthcheckMode.DSR
                    )
                },
            )
        },
    )
    e2 = engine(dsr_cfg)
    req = e2.pending_apply()
    assert req is not None
    marks = [p for p in req.partitions if p.name == MARKS]
    assert len(marks) == 1 and len(marks[0].services) == 2


def test_config_deleting_most_vservers_is_refused() -> None:
    e = engine(*(web(n, checks=False) for n in range(1, 7)))
    with pytest.raises(ConfigRefused, match=r"deletes 4 of the 6 running vservers.*max_delete_share"):
        e.load_config(cluster(web(1, checks=False), web(2, checks=False)))
    assert len(e.machines) == 6
    e.load_config(cluster(*(web(n, checks=False) for n in range(1, 4))))  # half may go
    assert len(e.machines) == 3
    e.load_config(cluster(web(1, checks=False), web(2, checks=False)), settings=settings(max_delete_share=1.0))
    assert len(e.machines) == 2


def test_missing_daemons_are_reported() -> None:
    e = engine(web(1))
    warnings = e.warnings()
    assert any(w.startswith("HA: seesaw-ha is not connected") for w in warnings)
    assert any(w.startswith("healthcheck: seesaw-healthcheck is not connected") for w in warnings)
    e.ha_session_opened()
    e.healthcheck_sessions += 1
    assert not any(w.startswith(("HA:", "healthcheck:")) for w in e.warnings())


def test_ha_disabled_ignores_reports_until_enabled() -> None:
    disabled = dataclasses.replace(node(), state=ModelHAState.DISABLED)
    e = Engine(settings(), FakeClock())
    e.load_config(cluster(web(1), nodes=(disabled,)))
    e.ha_session_opened()
    e.ha_report(report(common_pb2.HA_LEADER))
    assert e.ha.state == ModelHAState.DISABLED and not e.lb_interface().up
    e.load_config(cluster(web(1), nodes=(node(),)))
    assert e.ha.state == ModelHAState.UNKNOWN
    e.ha_report(report(common_pb2.HA_LEADER))
    assert e.lb_interface().up
