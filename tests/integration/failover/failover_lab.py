"""Helpers of the failover tests (imported by conftest.py and the test modules)."""

from __future__ import annotations

import pytest

from seesaw.lab import netns, topology

ENGINE_GRACE = 2.0  # seconds seesaw-ha waits for a vanished engine in the failover lab


def require_lab() -> None:
    """Skip unless a lab can be built here (root, a namespace of our own, nftables)."""
    if reason := netns.unmet_needs():
        pytest.skip(reason)


def http_vip(topo: topology.Topology) -> tuple[str, int]:
    """The address and port the client probes: the first vserver's HTTP service (web-dsr, TCP/80)."""
    vserver = topo.vservers[0]
    (port,) = [e.port for e in vserver.entries if e.protocol == "TCP"]
    return str(vserver.vip.ip), port
