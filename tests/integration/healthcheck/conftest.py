"""Fixtures of the healthcheck integration lab (see hc_lab.py)."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from hc_lab import build_lab, isolated, start_backend_servers, tear_down_lab

PORTS = {"tcp": 7007, "udp": 7053, "http": 7080}


@pytest.fixture
def lab() -> Iterator[dict[str, int]]:
    """The backend namespace with echo/HTTP servers on the VIP; yields their ports."""
    if os.geteuid() != 0:
        pytest.skip("needs root for network namespaces (scripts/run-tests integration)")
    if not isolated():
        pytest.skip("run under unshare --net --mount (scripts/run-tests integration): this would touch the host")
    build_lab()
    servers = None
    try:
        servers = start_backend_servers(PORTS["tcp"], PORTS["udp"], PORTS["http"])
        yield PORTS
    finally:
        if servers is not None:
            servers.kill()
            servers.wait()
        tear_down_lab()
