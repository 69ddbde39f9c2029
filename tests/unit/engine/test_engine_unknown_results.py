"""Results the engine does not take at their word.

A restarted healthcheck daemon opens with a resync in which every check is UNKNOWN (nothing has run yet).
That says nothing about the backends: the engine keeps what it knew, so SIGKILL of the healthcheck
daemon changes nothing in the dataplane (found by tests/integration/e2e/test_e2e_load.py).

A check that failed while this node's own link was down (HA's FAULT) says nothing about the backend
either: it is set aside and run again once the link is back (found by bench/failover.py: a node that
took over right after a link flap marked a healthy backend down).
"""

from __future__ import annotations

import ipaddress
import logging

import pytest
from engine_fixtures import cluster, settings

from seesaw.common.clock import FakeClock
from seesaw.config.model import (
    VIP,
    Backend,
    Healthcheck,
    HealthcheckType,
    Host,
    HostStatus,
    LBMode,
    Protocol,
    VIPType,
    Vserver,
    VserverEntry,
)
from seesaw.engine import views
from seesaw.engine.core import Engine
from seesaw.pb import common_pb2, ha_pb2, healthcheck_pb2, ncc_pb2


def web() -> Vserver:
    hc = Healthcheck(name="HTTP/80_0", type=HealthcheckType.HTTP, port=80)
    entry = VserverEntry(port=80, protocol=Protocol.TCP, mode=LBMode.NAT, healthchecks={hc.name: hc})
    backends = [
        Backend(
            host=Host(f"web-{i}.example.com.", ipaddress.IPv4Interface(f"10.2.0.{i}/24"), None, HostStatus.PRODUCTION)
        )
        for i in (1, 2)
    ]
    return Vserver(
        name="web@au-syd",
        host=Host("web.example.com.", ipaddress.IPv4Interface("10.1.0.1/24"), None, HostStatus.PRODUCTION),
        entries={entry.key: entry},
        backends={b.hostname: b for b in backends},
        vips={"10.1.0.1 (Unicast)": VIP(ipaddress.ip_address("10.1.0.1"), VIPType.UNICAST)},
    )


def report(e: Engine, state: int, started: float = 0.0, finished: float = 0.0) -> int:
    """Every check's result; the run from `started` to `finished` (wall-clock seconds) if given."""
    batch = healthcheck_pb2.ResultBatch(full_resync=True)
    batch.results.extend(
        healthcheck_pb2.CheckResult(
            id=i,
            state=state,
            checked_unix_ms=round(finished * 1000),
            latency_us=round((finished - started) * 1e6),
        )
        for i in e.check_configs()
    )
    return e.handle_results(batch)


def destinations(e: Engine) -> list[str]:
    """The destinations the vserver's service has in the dataplane (none once the service is down)."""
    services = e.machines["web@au-syd"].partition().services
    return sorted(d.address for svc in services for d in svc.destinations)


def test_unknown_results_keep_what_the_engine_knew() -> None:
    e = Engine(settings(), FakeClock())
    e.load_config(cluster(web()))
    assert report(e, common_pb2.HEALTH_HEALTHY) == 2
    first = e.pending_apply()
    assert first is not None
    e.apply_done(first, ncc_pb2.ApplyResponse())
    assert destinations(e) == ["10.2.0.1", "10.2.0.2"]

    assert report(e, common_pb2.HEALTH_UNKNOWN) == 2  # for known checks: accepted, and ignored
    assert e.pending_apply() is None
    assert destinations(e) == ["10.2.0.1", "10.2.0.2"]

    assert report(e, common_pb2.HEALTH_UNHEALTHY) == 2  # real news still counts
    assert destinations(e) == []


def ha_report(e: Engine, state: int, since: float, link_fault: str = "") -> None:
    e.ha_report(ha_pb2.HAStatus(state=state, since_unix_ms=round(since * 1000), link_fault=link_fault))


def serving() -> tuple[Engine, FakeClock]:
    clock = FakeClock()
    e = Engine(settings(), clock)
    e.load_config(cluster(web()))
    report(e, common_pb2.HEALTH_HEALTHY)
    first = e.pending_apply()
    assert first is not None
    e.apply_done(first, ncc_pb2.ApplyResponse())
    ha_report(e, common_pb2.HA_BACKUP, clock.wall())
    return e, clock


def test_failures_while_our_link_is_down_are_set_aside_and_rechecked_when_it_is_back() -> None:
    e, clock = serving()
    down = clock.wall()
    ha_report(e, common_pb2.HA_ERROR, down, link_fault="the node interface eth0 has no carrier")
    clock.advance(1)
    assert report(e, common_pb2.HEALTH_UNHEALTHY, down + 0.5, clock.wall()) == 2
    assert destinations(e) == ["10.2.0.1", "10.2.0.2"]  # kept: the failure was ours
    assert e.link_faults.set_aside == 2 and views.ha_status(e).checks_set_aside == 2  # /metrics shows it
    assert e.hc.take_rechecks() == []  # not yet: a recheck now would fail the same way

    clock.advance(1)
    version = e.hc.version
    ha_report(e, common_pb2.HA_BACKUP, clock.wall())  # the link is back
    assert e.hc.version > version  # the healthcheck link wakes up and sends the rechecks
    assert e.hc.take_rechecks() == sorted(e.check_configs())

    clock.advance(0.2)  # the rechecks, run after the fault: their word counts
    report(e, common_pb2.HEALTH_UNHEALTHY, clock.wall() - 0.1, clock.wall())
    assert destinations(e) == []


def test_a_failure_that_began_during_the_fault_and_ended_after_it_is_rechecked_at_once() -> None:
    e, clock = serving()
    down = clock.wall()
    ha_report(e, common_pb2.HA_ERROR, down, link_fault="no carrier")
    clock.advance(0.7)
    ha_report(e, common_pb2.HA_BACKUP, clock.wall())
    clock.advance(0.5)  # a 1 s timeout that started 0.2 s into the fault
    report(e, common_pb2.HEALTH_UNHEALTHY, down + 0.2, down + 1.2)
    assert destinations(e) == ["10.2.0.1", "10.2.0.2"]
    assert e.hc.take_rechecks() == sorted(e.check_configs())


def test_failures_before_or_after_a_fault_count() -> None:
    e, clock = serving()
    before = clock.wall()
    clock.advance(2)
    ha_report(e, common_pb2.HA_ERROR, clock.wall(), link_fault="no carrier")
    clock.advance(1)
    ha_report(e, common_pb2.HA_BACKUP, clock.wall())
    report(e, common_pb2.HEALTH_UNHEALTHY, before - 1, before)  # finished before the fault began
    assert destinations(e) == []
    assert e.link_faults.set_aside == 0 and e.hc.take_rechecks() == []


def test_a_node_that_never_had_a_fault_takes_every_failure() -> None:
    e, clock = serving()
    report(e, common_pb2.HEALTH_UNHEALTHY, clock.wall() - 1, clock.wall())
    assert destinations(e) == []


def test_an_ha_that_goes_away_during_a_fault_ends_it() -> None:
    """Nobody says the link is down any more: failures count again, and those set aside are rechecked."""
    e, clock = serving()
    token = e.ha_session_opened()
    ha_report(e, common_pb2.HA_ERROR, clock.wall(), link_fault="no carrier")
    clock.advance(1)
    report(e, common_pb2.HEALTH_UNHEALTHY, clock.wall() - 0.5, clock.wall())
    assert destinations(e) == ["10.2.0.1", "10.2.0.2"]
    e.ha_session_closed(token)
    assert not e.link_faults.ongoing
    assert e.hc.take_rechecks() == sorted(e.check_configs())
    clock.advance(1)
    report(e, common_pb2.HEALTH_UNHEALTHY, clock.wall() - 0.5, clock.wall())
    assert destinations(e) == []


def test_a_fault_that_fails_every_check_is_told_once(caplog: pytest.LogCaptureFixture) -> None:
    e, clock = serving()
    down = clock.wall()
    ha_report(e, common_pb2.HA_ERROR, down, link_fault="no carrier")
    clock.advance(1)
    with caplog.at_level(logging.INFO, logger="seesaw.engine.core"):
        report(e, common_pb2.HEALTH_UNHEALTHY, down + 0.5, clock.wall())
        report(e, common_pb2.HEALTH_UNHEALTHY, down + 0.6, clock.wall())
    said = [r.getMessage() for r in caplog.records if "set aside" in r.getMessage()]
    assert len(said) == 1 and said[0].endswith("so are the other checks that failed then"), said
    assert e.link_faults.set_aside == 4
