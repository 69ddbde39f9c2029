"""A restarted engine adopts the dataplane until HA and the checks report (seesaw/engine/adoption.py).

The "kernel" here is what NCC's GetState would report after the first engine's full Apply; the second
engine is the same node restarted (same config, new process: new Engine, check state lost).
"""

from __future__ import annotations

import dataclasses

import pytest
from engine_fixtures import backend, cluster, settings, vserver_config, with_watermarks

from seesaw.common.clock import FakeClock
from seesaw.config.model import Vserver
from seesaw.engine.adoption import HEALTH_MARGIN, LB_HOLD
from seesaw.engine.core import Engine
from seesaw.pb import common_pb2, ha_pb2, healthcheck_pb2, ncc_pb2

LEADER = ha_pb2.HAStatus(state=common_pb2.HA_LEADER)
BACKUP = ha_pb2.HAStatus(state=common_pb2.HA_BACKUP)
LONGEST_CHECK = 10.0 + 5.0  # the fixtures' checks: Seesaw's default interval and timeout
BE1 = frozenset({"1.1.1.10", "2012::10"})  # the fixtures' backend 1, both families
BE2 = frozenset({"1.1.1.11", "2012::11"})


def report_all(e: Engine, state: int, only: frozenset[str] | None = None) -> None:
    """Every check (or those of the backend addresses `only`) reports `state`, as a healthcheck resync would."""
    batch = healthcheck_pb2.ResultBatch(full_resync=True)
    for check_id, cfg in e.check_configs().items():
        if only is None or cfg.backend in only:
            batch.results.add(id=check_id, state=state)
    e.handle_results(batch)


def running(clock: FakeClock, vs: Vserver) -> tuple[Engine, ncc_pb2.ApplyRequest]:
    """An engine that has run a while: every check healthy, this node the leader, NCC up to date."""
    e = Engine(settings(), clock)
    e.load_config(cluster(vs))
    e.adopt(None)  # a first boot: NCC holds nothing of ours
    report_all(e, common_pb2.HEALTH_HEALTHY)
    e.ha_session_opened()
    e.ha_report(LEADER)
    req = e.pending_apply()
    assert req is not None and req.replace_all
    e.apply_done(req, ncc_pb2.ApplyResponse())
    return e, req


def kernel(req: ncc_pb2.ApplyRequest) -> ncc_pb2.DataplaneState:
    """What NCC's GetState reports once `req` is in place."""
    state = ncc_pb2.DataplaneState(dataplane="sim", lb=req.lb)
    for part in req.partitions:
        for svc in part.services:
            entry = state.services.add()
            entry.service.CopyFrom(svc)
            entry.service.ClearField("destinations")
            for dest in svc.destinations:
                entry.destinations.add(destination=dest)
        state.vips.extend(part.vips)
    return state


def restarted(clock: FakeClock, vs: Vserver, state: ncc_pb2.DataplaneState | None) -> Engine:
    e = Engine(settings(), clock)
    e.load_config(cluster(vs))
    assert e.needs_adoption
    e.adopt(state)
    assert not e.needs_adoption
    return e


def destinations(req: ncc_pb2.ApplyRequest | None) -> dict[str, list[str]]:
    if req is None:
        return {}
    return {
        f"{s.address or 'fwm'}:{s.port}/{s.protocol}": sorted(d.address for d in s.destinations)
        for p in req.partitions
        for s in p.services
    }


def full(e: Engine) -> ncc_pb2.ApplyRequest:
    """Everything the engine wants NCC to hold now (as a reconnect would send it)."""
    e.ncc_connected()
    req = e.pending_apply()
    assert req is not None and req.replace_all
    e.apply_done(req, ncc_pb2.ApplyResponse())
    return req


def test_check_ids_are_the_same_in_a_restarted_engine() -> None:
    first, _ = running(FakeClock(), vserver_config())
    second = restarted(FakeClock(), vserver_config(), None)
    assert first.check_configs() and first.check_configs() == second.check_configs()


def test_the_first_apply_after_a_restart_is_what_ran_before() -> None:
    clock = FakeClock()
    _, before = running(clock, vserver_config())
    assert destinations(before) and before.lb.up
    e = restarted(clock, vserver_config(), kernel(before))
    first = e.pending_apply()
    assert first == before  # NCC diffs it against what it holds: zero writes
    e.apply_done(first, ncc_pb2.ApplyResponse())
    # HA and the healthcheck daemon come back with the same news: nothing to apply.
    e.ha_session_opened()
    e.ha_report(LEADER)
    report_all(e, common_pb2.HEALTH_HEALTHY)
    assert e.adoption is None and e.pending_apply() is None


def test_a_config_loaded_after_the_adoption_is_adopted_too() -> None:
    clock = FakeClock()
    _, before = running(clock, vserver_config())
    e = Engine(settings(), clock)
    e.adopt(kernel(before))  # the config comes later (e.g. from a config server)
    assert e.pending_apply() is None
    e.load_config(cluster(vserver_config()))
    assert e.pending_apply() == before


def test_without_the_dataplane_state_the_engine_applies_its_own_view() -> None:
    clock = FakeClock()
    running(clock, vserver_config())
    e = restarted(clock, vserver_config(), None)
    req = e.pending_apply()
    assert req is not None and destinations(req) == {} and not req.lb.up
    assert e.adoption is None


def test_a_real_failure_counts_at_once_during_the_hold() -> None:
    clock = FakeClock()
    _, before = running(clock, vserver_config())
    e = restarted(clock, vserver_config(), kernel(before))
    e.apply_done(e.pending_apply(), ncc_pb2.ApplyResponse())  # type: ignore[arg-type]
    report_all(e, common_pb2.HEALTH_UNHEALTHY, only=BE1)
    change = e.pending_apply()
    assert change is not None and not change.replace_all
    assert all(not BE1 & set(dests) for dests in destinations(change).values())
    assert e.adoption is not None and e.adoption.health_held  # the other backend's checks are still to come


def test_unknown_results_keep_the_hold_until_it_times_out() -> None:
    clock = FakeClock()
    _, before = running(clock, vserver_config())
    e = restarted(clock, vserver_config(), kernel(before))
    e.apply_done(e.pending_apply(), ncc_pb2.ApplyResponse())  # type: ignore[arg-type]
    e.ha_session_opened()
    e.ha_report(LEADER)
    report_all(e, common_pb2.HEALTH_UNKNOWN)  # a healthcheck daemon that has not run them yet
    assert e.pending_apply() is None
    held = sum(len(dests) for dests in destinations(before).values())
    assert held == 8 and any(f"adoption: {held} destinations are kept" in w for w in e.warnings())

    clock.advance(LONGEST_CHECK + HEALTH_MARGIN - 0.1)
    assert not e.adoption_tick() and e.pending_apply() is None
    clock.advance(0.1)
    assert e.adoption_tick()
    assert e.adoption is None
    change = e.pending_apply()
    assert change is not None and change.partitions
    assert destinations(change) == {}  # the checks never ran: as on a fresh start, nothing is healthy
    assert not any(w.startswith("adoption") for w in e.warnings())


def test_the_hold_ends_once_every_adopted_destination_has_reported() -> None:
    clock = FakeClock()
    _, before = running(clock, vserver_config())
    e = restarted(clock, vserver_config(), kernel(before))
    report_all(e, common_pb2.HEALTH_HEALTHY, only=BE1)
    assert e.adoption is not None and e.adoption.health_held
    report_all(e, common_pb2.HEALTH_HEALTHY, only=BE2)
    assert e.adoption is not None and not e.adoption.health_held  # the LB hold is still on: no HA report yet
    e.ha_session_opened()
    e.ha_report(LEADER)
    assert e.adoption is None
    assert e.pending_apply() == before


def test_a_destination_the_dataplane_lacks_waits_for_its_checks() -> None:
    clock = FakeClock()
    vs = vserver_config()
    e1, _ = running(clock, vs)
    report_all(e1, common_pb2.HEALTH_UNHEALTHY, only=BE2)
    before = full(e1)
    assert all(set(dests) <= BE1 for dests in destinations(before).values())
    e = restarted(clock, vs, kernel(before))
    assert e.pending_apply() == before
    report_all(e, common_pb2.HEALTH_HEALTHY, only=BE2)  # it came back meanwhile
    assert all(len(dests) == 2 for dests in destinations(full(e)).values())


def test_an_adopted_service_is_judged_by_its_low_watermark() -> None:
    # Two backends, low 0.4, high 0.8: one healthy keeps a healthy service up (0.5 >= 0.4) but would not
    # bring an unhealthy one up (0.5 < 0.8). The kernel holds the service: it is the healthy one.
    clock = FakeClock()
    vs = with_watermarks(vserver_config(), 0.4, 0.8)
    e1, _ = running(clock, vs)
    report_all(e1, common_pb2.HEALTH_UNHEALTHY, only=BE2)
    before = full(e1)
    assert len(destinations(before)) == 4 and all(set(d) <= BE1 for d in destinations(before).values())
    e = restarted(clock, vs, kernel(before))
    first = e.pending_apply()
    assert first == before
    e.apply_done(first, ncc_pb2.ApplyResponse())
    report_all(e, common_pb2.HEALTH_HEALTHY, only=BE1)
    report_all(e, common_pb2.HEALTH_UNHEALTHY, only=BE2)
    assert e.adoption is not None and not e.adoption.health_held
    assert e.pending_apply() is None  # real results, same view: the services stay up

    cold = restarted(clock, vs, None)  # the same results without adoption: the services never come up
    report_all(cold, common_pb2.HEALTH_HEALTHY, only=BE1)
    report_all(cold, common_pb2.HEALTH_UNHEALTHY, only=BE2)
    assert destinations(cold.pending_apply()) == {}


def test_the_lb_interface_is_held_until_ha_reports() -> None:
    clock = FakeClock()
    _, before = running(clock, vserver_config())
    e = restarted(clock, vserver_config(), kernel(before))
    assert e.lb_interface().up
    assert any("LB interface is kept" in w for w in e.warnings())
    e.ha_session_opened()
    assert e.lb_interface().up
    e.ha_report(BACKUP)  # the peer took over meanwhile
    assert not e.lb_interface().up
    assert not any("LB interface is kept" in w for w in e.warnings())


@pytest.mark.parametrize("end", ["timeout", "session closed"])
def test_the_lb_hold_ends_without_ha(end: str) -> None:
    clock = FakeClock()
    _, before = running(clock, vserver_config())
    e = restarted(clock, vserver_config(), kernel(before))
    if end == "timeout":
        clock.advance(LB_HOLD - 0.1)
        assert not e.adoption_tick() and e.lb_interface().up
        clock.advance(0.1)
        assert e.adoption_tick()
    else:
        token = e.ha_session_opened()  # HA connected, then died before its first report
        e.ha_session_closed(token)
    assert not e.lb_interface().up


def test_the_lb_interface_is_not_held_once_ha_has_spoken() -> None:
    clock = FakeClock()
    _, before = running(clock, vserver_config())
    e = Engine(settings(), clock)
    e.load_config(cluster(vserver_config()))
    e.ha_session_opened()
    e.ha_report(BACKUP)  # HA was quicker than NCC's state
    e.adopt(kernel(before))
    assert not e.lb_interface().up


def test_an_lb_interface_of_another_name_is_not_held() -> None:
    clock = FakeClock()
    _, before = running(clock, vserver_config())
    state = kernel(before)
    state.lb.name = "eth7"
    e = restarted(clock, vserver_config(), state)
    assert not e.lb_interface().up


def test_a_disabled_backend_is_not_adopted() -> None:
    clock = FakeClock()
    _, before = running(clock, vserver_config())
    vs = vserver_config()
    b2 = backend(2, enabled=False)
    vs = dataclasses.replace(vs, backends={**vs.backends, b2.hostname: b2})
    e = restarted(clock, vs, kernel(before))
    assert all(set(dests) <= BE1 for dests in destinations(e.pending_apply()).values())
