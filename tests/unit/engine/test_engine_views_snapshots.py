"""The kept vserver list (`VserverSnapshots`): always what a fresh build gives, and rebuilt only where changed."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from seesaw.common.clock import FakeClock
from seesaw.config import load_cluster_file
from seesaw.config.model import Cluster
from seesaw.config.seesaw_cfg import load_settings
from seesaw.engine import views
from seesaw.engine.checks import CheckKey
from seesaw.engine.core import BACKEND, DESTINATION, VSERVER, Engine
from seesaw.engine.snapshots import VserverSnapshots
from seesaw.pb import common_pb2, engine_pb2, healthcheck_pb2, ncc_pb2

EXAMPLE = Path(__file__).resolve().parents[2] / "data" / "compat" / "etc" / "seesaw"
SETTINGS = load_settings(EXAMPLE / "seesaw.cfg.example")
CLUSTER = load_cluster_file(EXAMPLE / "cluster.pb.example", SETTINGS.cluster_name)
STATES = (common_pb2.HEALTH_HEALTHY, common_pb2.HEALTH_UNHEALTHY)
OVERRIDES = (common_pb2.OVERRIDE_DEFAULT, common_pb2.OVERRIDE_DISABLED, common_pb2.OVERRIDE_ENABLED)


def example_engine() -> Engine:
    engine = Engine(SETTINGS, FakeClock())
    engine.load_config(CLUSTER)
    return engine


def fresh(engine: Engine) -> engine_pb2.VserverList:
    """The list as a snapshot of every machine, built now, with nothing kept."""
    out = engine_pb2.VserverList()
    for name in sorted(engine.machines):
        snap = engine.machines[name].snapshot(lambda key, vserver=name: engine.check_id(vserver, key))
        if snap is not None:
            out.vservers.append(snap)
    return out


def report(engine: Engine, check_id: int, state: int, message: str = "", latency_us: int = 0) -> None:
    result = healthcheck_pb2.CheckResult(
        id=check_id, state=state, message=message, latency_us=latency_us, checked_unix_ms=1_700_000_000_000
    )
    engine.handle_results(healthcheck_pb2.ResultBatch(results=[result]))


def all_healthy(engine: Engine) -> None:
    for check_id in sorted(engine.check_configs()):
        report(engine, check_id, common_pb2.HEALTH_HEALTHY, "ok")


def destination_names(engine: Engine) -> list[str]:
    return sorted(d.name for m in engine.machines.values() for d in m.destinations())


def backend_names(engine: Engine) -> list[str]:
    return sorted({d.backend.hostname for m in engine.machines.values() for d in m.destinations()})


def without(cluster: Cluster, name: str) -> Cluster:
    return dataclasses.replace(cluster, vservers={k: v for k, v in cluster.vservers.items() if k != name})


def reweighted(cluster: Cluster, name: str) -> Cluster:
    """`name` with every backend's weight doubled (a change applied in place, keeping check state)."""
    vserver = cluster.vservers[name]
    backends = {k: dataclasses.replace(b, weight=b.weight * 2 + 1) for k, b in vserver.backends.items()}
    vservers = dict(cluster.vservers)
    vservers[name] = dataclasses.replace(vserver, backends=backends)
    return dataclasses.replace(cluster, vservers=vservers)


def test_the_kept_list_is_the_fresh_list_and_is_built_once() -> None:
    engine = example_engine()
    all_healthy(engine)
    kept = VserverSnapshots()
    first = kept.serialized(engine)
    assert engine_pb2.VserverList.FromString(first) == fresh(engine)
    assert kept.builds == len(engine.machines) == 5
    # Nothing changed: nothing is built, and the very same bytes come back.
    assert kept.serialized(engine) is first
    assert kept.builds == 5 and kept.patches == 0


def test_a_result_without_a_transition_is_written_in_place() -> None:
    engine = example_engine()
    all_healthy(engine)
    kept = VserverSnapshots()
    kept.serialized(engine)
    check_id = min(engine.check_configs())
    owners = {vserver for vserver, _ in engine.hc.routes(check_id)}
    report(engine, check_id, common_pb2.HEALTH_HEALTHY, "still fine", latency_us=1234)
    listed = kept.vserver_list(engine)
    assert listed == fresh(engine)
    assert (kept.builds, kept.patches) == (5, len(owners))
    seen = [
        (c.message, c.latency_us)
        for v in listed.vservers
        for s in v.services
        for d in s.destinations
        for c in d.checks
        if c.id == check_id
    ]
    assert seen and set(seen) == {("still fine", 1234)}


def test_a_transition_or_an_override_rebuilds_only_that_vserver() -> None:
    engine = example_engine()
    all_healthy(engine)
    kept = VserverSnapshots()
    kept.serialized(engine)
    name = "dns.resolver@au-syd"
    check_id = engine.check_id(name, next(iter(engine.machines[name].checks)))
    report(engine, check_id, common_pb2.HEALTH_UNHEALTHY, "timeout")
    assert kept.vserver_list(engine) == fresh(engine)
    rebuilt = kept.builds - 5
    assert 1 <= rebuilt <= len({v for v, _ in engine.hc.routes(check_id)})
    engine.set_override(VSERVER, name, common_pb2.OVERRIDE_DISABLED)
    before = kept.builds
    listed = kept.vserver_list(engine)
    assert listed == fresh(engine)
    assert kept.builds == before + 1
    assert [v.enabled for v in listed.vservers if v.name == name] == [False]


class Renumbering(Engine):
    """An engine whose healthcheck manager hands out other IDs for the same checks (as one that lost its IDs)."""

    offset = 0

    def check_id(self, vserver: str, key: CheckKey) -> int:
        return super().check_id(vserver, key) + self.offset


def test_new_check_ids_are_written_in_place() -> None:
    engine = Renumbering(SETTINGS, FakeClock())
    engine.load_config(CLUSTER)
    kept = VserverSnapshots()
    kept.serialized(engine)
    engine.offset = 1000
    engine.hc.version += 1  # what a rebuild that changed the checker configs does
    listed = kept.vserver_list(engine)
    assert listed == fresh(engine)
    assert kept.builds == 5
    assert all(c.id > 1000 for v in listed.vservers for s in v.services for d in s.destinations for c in d.checks)


def test_config_changes_new_and_removed_vservers() -> None:
    engine = example_engine()
    all_healthy(engine)
    kept = VserverSnapshots()
    kept.serialized(engine)
    engine.load_config(reweighted(CLUSTER, "http.proxy@au-syd"))
    assert kept.vserver_list(engine) == fresh(engine)
    engine.load_config(without(CLUSTER, "radius.server@au-syd"), force=True)
    listed = kept.vserver_list(engine)
    assert listed == fresh(engine)
    assert "radius.server@au-syd" not in [v.name for v in listed.vservers]
    engine.load_config(CLUSTER)  # back, as a new machine of the same name
    assert kept.vserver_list(engine) == fresh(engine)


def test_the_reply_is_the_callers_own() -> None:
    engine = example_engine()
    all_healthy(engine)
    kept = VserverSnapshots()
    listed = views.vservers(engine, None, kept)
    service = listed.vservers[0].services[0]
    state = ncc_pb2.DataplaneState()
    entry = state.services.add()
    entry.service.CopyFrom(
        ncc_pb2.Service(family=service.family, protocol=service.protocol, address=service.address, port=service.port)
    )
    entry.stats.connections = 42
    with_stats = views.vservers(engine, state, kept)
    assert with_stats.vservers[0].services[0].stats.connections == 42
    assert views.vservers(engine, None, kept).vservers[0].services[0].stats.connections == 0


# Events a running engine takes, as data: (kind, index, state, text).
EVENTS = st.tuples(
    st.sampled_from(("result", "result", "result", "vserver", "backend", "destination", "reweigh", "drop", "restore")),
    st.integers(min_value=0, max_value=10_000),
    st.integers(min_value=0, max_value=2),
    st.sampled_from(("", "ok", "timeout", "refused")),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(EVENTS, min_size=1, max_size=25))
def test_any_sequence_of_events_keeps_the_list_equal_to_a_fresh_one(events: list[tuple[str, int, int, str]]) -> None:
    engine = example_engine()
    kept = VserverSnapshots()
    names = sorted(CLUSTER.vservers)
    for kind, index, state, text in events:
        if kind == "result":
            ids = sorted(engine.check_configs())
            if ids:
                report(engine, ids[index % len(ids)], STATES[state % 2], text, latency_us=index)
        elif kind == "vserver":
            running = sorted(engine.machines)
            engine.set_override(VSERVER, running[index % len(running)], OVERRIDES[state])
        elif kind == "backend":
            known = backend_names(engine)
            if known:
                engine.set_override(BACKEND, known[index % len(known)], OVERRIDES[state])
        elif kind == "destination":
            known = destination_names(engine)
            if known:
                engine.set_override(DESTINATION, known[index % len(known)], OVERRIDES[state])
        elif kind == "reweigh":
            engine.load_config(reweighted(CLUSTER, names[index % len(names)]))
        elif kind == "drop":
            engine.load_config(without(CLUSTER, names[index % len(names)]), force=True)
        else:
            engine.load_config(CLUSTER)
        assert kept.vserver_list(engine) == fresh(engine), (kind, index, state, text)
