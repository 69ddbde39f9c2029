"""Fixtures of the sync lab: the LAN, and two nodes started (and stopped) on it.

Run under `unshare --net --mount --propagation private -- python -m seesaw.lab.isolate ...`
(scripts/run-tests does): nothing is built next to a host's real links.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sync_lab import build_lan, destroy_lan, in_private_netns, make_node

from seesaw.lab.certs import TestCA
from seesaw.lab.node import Node


@pytest.fixture
def lan() -> Iterator[None]:
    if not in_private_netns():
        pytest.skip("needs root inside a private network namespace (run via scripts/run-tests integration)")
    build_lan()
    try:
        yield
    finally:
        destroy_lan()


@pytest.fixture
def pair(lan: None, tmp_path: Path) -> Iterator[Callable[..., tuple[Node, Node]]]:
    """start(cluster, tls=False) -> (lb1, lb2), both running; both stopped (logs shown) afterwards."""
    started: list[Node] = []

    def start(cluster: str, *, tls: bool = False) -> tuple[Node, Node]:
        ca = TestCA() if tls else None
        nodes = (make_node(tmp_path, "lb1", cluster, ca), make_node(tmp_path, "lb2", cluster, ca))
        for node in nodes:
            node.start()
            started.append(node)
        for node in nodes:
            node.wait(node.all_running, 60, f"{node.netns}: every service running")
        return nodes

    yield start
    for node in started:
        node.stop()
    for node in started:
        sys.stderr.write(f"--- {node.netns} ---\n{node.logs(6000)}\n")
