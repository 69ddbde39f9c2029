"""Fixtures of the ECU integration tests: test users, a real engine, a real sshd (see ecu_node.py)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import ecu_node
import pytest


@pytest.fixture
def node() -> Iterator[tuple[Path, ecu_node.Engine]]:
    """Test users and groups, and an engine running as root; yields (work dir, engine)."""
    if os.geteuid() != 0:
        pytest.skip("needs root to switch users and mount (scripts/run-tests integration)")
    if not ecu_node.private_mounts() or sorted(os.listdir("/sys/class/net")) != ["lo"]:
        pytest.skip("run under unshare --net --mount (scripts/run-tests integration): this would touch the host")
    with ecu_node.workdir() as work, ecu_node.users_added(work), ecu_node.engine(work) as engine:
        yield work, engine
