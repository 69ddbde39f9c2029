"""Peer sync between two real nodes in two namespaces: overrides and their
removal (clear text and mutual TLS), refusal of a stranger, failover turning
the direction round, a backup taking its config from the master, and a
restarted backup engine resynchronised."""

from __future__ import annotations

import os
import signal
from collections.abc import Callable

import pytest
from sync_lab import LAN, cluster_pb, engine_log, ha_state, overrides, run_in, vserver_names

from seesaw.lab.node import Node

Pair = Callable[..., tuple[Node, Node]]
ROGUE_CALL = """
import grpc
from seesaw.pb import sync_pb2, sync_pb2_grpc
channel = grpc.insecure_channel("{address}:10258")
try:
    sync_pb2_grpc.SyncStub(channel).GetConfig(sync_pb2.ConfigRequest(), timeout=5)
except grpc.RpcError as err:
    print(err.code().name, err.details())
"""


def elected(a: Node, b: Node) -> tuple[Node, Node]:
    """(master, backup), once HA has elected one (whichever: preemption is off, so it depends on start order)."""
    a.wait(lambda: {ha_state(a), ha_state(b)} == {"HA_LEADER", "HA_BACKUP"}, 60, "a master and a backup")
    return (a, b) if ha_state(a) == "HA_LEADER" else (b, a)


def ok(node: Node, command: str) -> str:
    result = node.cli(command)
    assert result.returncode == 0, f"{node.netns}: {command}: {result.stderr}"
    return result.stdout


@pytest.mark.parametrize("tls", [False, True], ids=["clear", "tls"])
def test_overrides_follow_the_master_and_a_stranger_is_refused(pair: Pair, tls: bool) -> None:
    master, backup = elected(*pair(cluster_pb(1, 2), tls=tls))
    ok(master, "override vserver state disabled web1@au-syd")
    backup.wait(lambda: overrides(backup) == {"web1@au-syd": "OVERRIDE_DISABLED"}, 30, "the override on the backup")
    ok(master, "override vserver state default web1@au-syd")
    ok(master, "override vserver state enabled web2@au-syd")
    backup.wait(lambda: overrides(backup) == {"web2@au-syd": "OVERRIDE_ENABLED"}, 30, "the removal and the next one")
    mode = "mutual TLS" if tls else "clear text"
    assert f"sync: serving on {LAN[master.netns or '']}:10258, {mode}" in engine_log(master)

    answer = run_in("rogue", ROGUE_CALL.format(address=LAN[master.netns or ""])).stdout
    if tls:
        assert answer.startswith("UNAVAILABLE"), answer  # no certificate: no TLS session at all
    else:
        assert answer.startswith("PERMISSION_DENIED 10.88.0.9 is not this node's peer"), answer
        master.wait(lambda: "refused GetConfig from 10.88.0.9" in engine_log(master), 10, "the refusal logged")


def test_failover_turns_the_sync_round(pair: Pair) -> None:
    master, backup = elected(*pair(cluster_pb(1, 2)))
    ok(master, "override vserver state disabled web1@au-syd")
    backup.wait(lambda: overrides(backup) == {"web1@au-syd": "OVERRIDE_DISABLED"}, 30, "the override on the backup")
    ok(master, "failover")
    master.wait(lambda: (ha_state(backup), ha_state(master)) == ("HA_LEADER", "HA_BACKUP"), 60, "the other master")
    ok(backup, "override vserver state disabled web2@au-syd")
    want = {"web1@au-syd": "OVERRIDE_DISABLED", "web2@au-syd": "OVERRIDE_DISABLED"}
    master.wait(lambda: overrides(master) == want, 30, "the new master's override on the old one")


def test_backup_takes_the_masters_config_and_a_restarted_engine_resyncs(pair: Pair) -> None:
    master, backup = elected(*pair(cluster_pb(1, 2)))
    assert ok(backup, "config source peer") == "Config source is peer (was disk)\n"

    # The master takes a new config; the backup follows it over the sync channel.
    (master.config_dir / "cluster.pb").write_text(cluster_pb(1, 2, 3, last_updated=2000))
    ok(master, "config reload")
    names = ["web1@au-syd", "web2@au-syd", "web3@au-syd"]
    backup.wait(lambda: vserver_names(backup) == names, 30, "the master's config on the backup")
    saved = (backup.config_dir / "cluster.pb").read_text()
    assert "web3@au-syd" in saved and f"Written by seesaw-engine from peer {master.netns}.example.com." in saved
    assert len(list((backup.config_dir / "archive").iterdir())) == 1
    status = ok(backup, "config status --json")
    origin = f'"origin": "peer {master.netns}.example.com. ({LAN[master.netns or ""]}:10258'
    assert '"source": "peer"' in status and origin in status

    ok(master, "override vserver state disabled web1@au-syd")
    backup.wait(lambda: overrides(backup) == {"web1@au-syd": "OVERRIDE_DISABLED"}, 30, "the override on the backup")

    # The backup's engine dies; meanwhile the master's overrides change. The restarted engine
    # comes back with its saved overrides and source, and the resync brings it up to date.
    pid = int(backup.status()["engine"]["pid"])
    os.kill(pid, signal.SIGKILL)
    ok(master, "override vserver state default web1@au-syd")
    ok(master, "override vserver state disabled web3@au-syd")
    backup.wait(
        lambda: int(backup.status()["engine"].get("pid") or 0) not in (0, pid) and backup.all_running(),
        60,
        "a new engine",
    )
    backup.wait(lambda: overrides(backup) == {"web3@au-syd": "OVERRIDE_DISABLED"}, 60, "the resync after the restart")
    assert ok(backup, "config source") == "Config source is peer\n"
    assert vserver_names(backup) == names
