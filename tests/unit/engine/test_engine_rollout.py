"""Safe rollout: the config diff, the deletion refusal (and forcing past it),
and the churn-limited steps, on real configs parsed from text."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from sync_fixtures import BACKUP_IP, MASTER_IP, cluster_text, make_node, vserver_text

from seesaw.common.clock import FakeClock
from seesaw.config.cluster import parse_cluster_text
from seesaw.config.model import Cluster
from seesaw.config.settings import Settings
from seesaw.engine import rollout, views
from seesaw.engine.config_source import LoadedConfig
from seesaw.engine.core import ConfigRefused, Engine
from seesaw.pb import engine_pb2


def cluster(*vservers: int, last_updated: int = 1, extra: str = "") -> Cluster:
    return parse_cluster_text(cluster_text(*vservers, last_updated=last_updated) + extra, "cluster.pb", "au-syd")


def test_diff_names_added_removed_and_each_change_of_a_vserver() -> None:
    old = cluster(1, 2, 3)
    web3 = (
        vserver_text(3).replace("scheduler: RR", "scheduler: WRR").replace("PRODUCTION > >", "PRODUCTION > weight: 5 >")
    )
    text = cluster_text(1, 4, last_updated=1) + web3
    new = parse_cluster_text(text, "cluster.pb", "au-syd")
    found = rollout.diff(old, new)
    assert [(v.name, v.kind) for v in found.vservers] == [
        ("web2@au-syd", "removed"),
        ("web3@au-syd", "changed"),
        ("web4@au-syd", "added"),
    ]
    assert found.vservers[1].details == (
        "entry 80/TCP scheduler: RR -> WRR",
        "backend be3-1.example.com. weight: 1 -> 5",
    )
    assert found.cluster == () and not found.metadata_only and found.changed
    assert (found.count("added"), found.count("removed"), found.count("changed")) == (1, 1, 1)


def test_diff_outside_the_vservers_and_metadata_only() -> None:
    old = cluster(1, last_updated=10)
    assert not rollout.diff(old, cluster(1, last_updated=10)).changed
    meta = rollout.diff(old, cluster(1, last_updated=20))
    assert meta.metadata_only and meta.cluster == ("metadata last updated: 10 -> 20",)
    vlan = rollout.diff(
        old, cluster(1, last_updated=10, extra='vlan < vlan_id: 12 host < fqdn: "v." ipv4: "10.12.0.2/24" > >\n')
    )
    assert vlan.cluster == ("VLAN 12 added",) and not vlan.metadata_only
    first = rollout.diff(None, old)
    assert [(v.name, v.kind) for v in first.vservers] == [("web1@au-syd", "added")]


def test_settings_changes_name_the_key() -> None:
    old = Settings(cluster_name="au-syd")
    new = dataclasses.replace(old, vrid=61, max_delete_share=0.25)
    assert rollout.settings_changes(old, new) == [
        "seesaw.cfg vrid: 60 -> 61",
        "seesaw.cfg max_delete_share: 0.5 -> 0.25",
    ]


@pytest.mark.parametrize(
    ("running", "kept", "share", "refused"),
    [
        (10, 5, 0.5, False),  # deletes 5 of 10: exactly the share
        (10, 4, 0.5, True),  # deletes 6 of 10
        (2, 1, 0.0, False),  # deleting one is always allowed
        (2, 0, 0.5, True),
        (10, 0, 1.0, False),  # 1 allows any
        (0, 0, 0.5, False),  # nothing runs: nothing to protect
    ],
)
def test_deletion_share(running: int, kept: int, share: float, refused: bool) -> None:
    old = {f"vs{i}": i for i in range(running)}
    new = {f"vs{i}": i for i in range(kept)} | {"other": 0}
    problems = rollout.deletion_problems(old, new, share)
    assert bool(problems) is refused
    if refused:
        assert f"deletes {running - kept} of the {running} running vservers" in problems[0]
        assert "config reload force" in problems[0]


def names(prefix: str, count: int) -> dict[str, int]:
    return {f"{prefix}{i:02d}": i for i in range(count)}


@pytest.mark.parametrize(
    ("running", "target", "limit", "steps"),
    [
        (names("old", 0), names("new", 35), 10, 4),  # 35 new vservers, ten per step
        (names("vs", 5), names("vs", 5), 10, 0),  # nothing to do
        (names("old", 30), {}, 10, 3),  # deletions, ten per step
        (names("vs", 5), {**names("vs", 5), "vs00": 99}, 10, 1),  # a change to a running vserver
        (names("old", 0), names("new", 35), 0, 1),  # no limit: one step
    ],
)
def test_steps_follow_the_churn_limit(running: dict[str, int], target: dict[str, int], limit: int, steps: int) -> None:
    assert rollout.steps(target, running, limit) == steps
    assert rollout.steps(target, None, limit) == 1  # a cold load is taken whole


def test_steps_with_deletions_and_creations_delete_first() -> None:
    old = {f"old{i:02d}": i for i in range(15)}
    new = {f"new{i:02d}": i for i in range(15)}
    assert rollout.steps(new, old, 10) == 4  # 10 + 5 deletions, then 10 + 5 creations


def test_the_engine_refuses_a_mass_deletion_unless_forced() -> None:
    engine = Engine(Settings(cluster_name="au-syd", node_ipv4=None), FakeClock())
    engine.load_config(cluster(1, 2, 3, 4))
    with pytest.raises(ConfigRefused) as err:
        engine.load_config(cluster(1))
    assert "deletes 3 of the 4 running vservers" in err.value.problems[0]
    assert engine.target is not None and len(engine.target.vservers) == 4
    engine.load_config(cluster(1), force=True)
    assert engine.target is not None and list(engine.target.vservers) == ["web1@au-syd"]


def test_config_diff_view_counts_steps_and_refusals(tmp_path: Path) -> None:
    runtime = make_node(tmp_path, "node", MASTER_IP, BACKUP_IP, cluster_text(*range(1, 5)))
    (tmp_path / "node" / "etc" / "cluster.pb").write_text(cluster_text(1, *range(10, 35)))
    candidate = runtime.source.read()
    diff = views.config_diff(runtime.engine, candidate)
    assert diff.changed and diff.source == "disk" and diff.origin.endswith("cluster.pb")
    kinds = [v.kind for v in diff.vservers]
    assert kinds.count(engine_pb2.VserverChange.ADDED) == 25 and kinds.count(engine_pb2.VserverChange.REMOVED) == 3
    assert diff.refusals and "deletes 3 of the 4" in diff.refusals[0]
    assert (diff.steps, diff.step_limit) == (4, 10)  # 3 deletions, then 25 creations in three steps
    assert runtime.engine.target is not None
    same = views.config_diff(runtime.engine, LoadedConfig(runtime.engine.settings, runtime.engine.target))
    assert not same.changed and same.steps == 0 and not same.refusals


def test_a_vserver_added_by_text_is_named(tmp_path: Path) -> None:
    old = cluster(1)
    new = parse_cluster_text(cluster_text(1, last_updated=1) + vserver_text(7), "cluster.pb", "au-syd")
    assert [v.name for v in rollout.diff(old, new).vservers] == ["web7@au-syd"]
