"""A restarted healthcheck daemon opens with a resync in which every check is UNKNOWN (nothing has run yet).

That says nothing about the backends: the engine keeps what it knew, so SIGKILL of the healthcheck
daemon changes nothing in the dataplane (found by tests/integration/e2e/test_e2e_load.py).
"""

from __future__ import annotations

import ipaddress

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
from seesaw.engine.core import Engine
from seesaw.pb import common_pb2, healthcheck_pb2, ncc_pb2


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


def report(e: Engine, state: int) -> int:
    batch = healthcheck_pb2.ResultBatch(full_resync=True)
    batch.results.extend(healthcheck_pb2.CheckResult(id=i, state=state) for i in e.check_configs())
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
