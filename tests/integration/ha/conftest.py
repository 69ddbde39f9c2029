"""Fixtures of the HA lab: two LB namespaces and a rogue one on a bridge, seesaw-ha processes, scripted engines.

Run under `unshare --net --mount --propagation private -- python -m seesaw.lab.isolate ...`
(scripts/run-tests does): namespace names are then private to the run and
nothing can reach the host's network.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from ha_lab import NODES, HAProcess, ScriptedEngine, ip

from seesaw.lab.netns import unmet_needs


@pytest.fixture
def lan() -> Iterator[dict[str, str]]:
    if reason := unmet_needs(nftables=False):
        pytest.skip(reason)
    for name in [*NODES, "lan"]:  # left over by an interrupted run
        subprocess.run(["ip", "netns", "del", name], capture_output=True)
    ip("netns", "add", "lan")
    ip("-n", "lan", "link", "add", "br0", "type", "bridge")
    ip("-n", "lan", "link", "set", "br0", "up")
    for name, address in NODES.items():
        ip("netns", "add", name)
        ip("-n", name, "link", "set", "lo", "up")
        ip("-n", name, "link", "add", "eth0", "type", "veth", "peer", "name", f"v-{name}", "netns", "lan")
        ip("-n", "lan", "link", "set", f"v-{name}", "master", "br0", "up")
        ip("-n", name, "link", "set", "eth0", "up")
        ip("-n", name, "addr", "add", f"{address}/24", "dev", "eth0")
    try:
        yield NODES
    finally:
        for name in [*NODES, "lan"]:
            subprocess.run(["ip", "netns", "del", name], capture_output=True)


@pytest.fixture
def ha(tmp_path: Path) -> Iterator[Callable[..., HAProcess]]:
    """Start `seesaw-ha` processes; all are stopped (and their logs shown on failure) afterwards."""
    started: list[HAProcess] = []

    def start(netns: str, *args: str, name: str | None = None) -> HAProcess:
        process = HAProcess(netns, tmp_path / (name or netns), list(args))
        started.append(process)
        process.wait_ready()
        return process

    yield start
    for process in started:  # all of them first: a failure below must not leave one running
        process.stop()
    for process in started:
        sys.stderr.write(f"--- {process.netns} log ---\n{process.log()}")


@pytest.fixture
def engines(tmp_path: Path) -> Iterator[Callable[[str], ScriptedEngine]]:
    made: list[ScriptedEngine] = []

    def make(name: str) -> ScriptedEngine:
        engine = ScriptedEngine(tmp_path / name)
        made.append(engine)
        return engine

    yield make
    for engine in made:
        engine.stop()
