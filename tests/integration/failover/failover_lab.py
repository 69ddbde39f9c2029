"""Helpers of the failover tests (imported by conftest.py and the test modules)."""

from __future__ import annotations

import os
import shutil

import pytest

from seesaw.lab import netns, topology

ENGINE_GRACE = 2.0  # seconds seesaw-ha waits for a vanished engine in the failover lab


def require_lab() -> None:
    if os.geteuid() != 0:
        pytest.skip("needs root for network namespaces (scripts/run-tests integration)")
    if not netns.isolated():
        pytest.skip("run under unshare --net --mount (scripts/run-tests integration): this would touch the host")
    if shutil.which("nft") is None:
        pytest.skip("nftables is not installed (scripts/system-deps installs it)")


def http_vip(topo: topology.Topology) -> tuple[str, int]:
    """The address and port the client probes: the first vserver's HTTP service (web-dsr, TCP/80)."""
    vserver = topo.vservers[0]
    (port,) = [e.port for e in vserver.entries if e.protocol == "TCP"]
    return str(vserver.vip.ip), port
