"""Helpers of the end-to-end tests (imported by conftest.py and the test modules): a whole lab, up and torn down."""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from seesaw.lab import netns, topology
from seesaw.lab.lab import Lab


def require_lab() -> None:
    if os.geteuid() != 0:
        pytest.skip("needs root for network namespaces (scripts/run-tests integration)")
    if not netns.isolated():
        pytest.skip("run under unshare --net --mount (scripts/run-tests integration): this would touch the host")
    if shutil.which("nft") is None:
        pytest.skip("nftables is not installed (scripts/system-deps installs it)")


@contextlib.contextmanager
def running_lab(lab_dir: Path, topo: topology.Topology) -> Iterator[Lab]:
    """The lab of `topo`, up and serving; taken down afterwards."""
    require_lab()
    lab = Lab(lab_dir, topo)
    lab.up()
    try:
        yield lab
    finally:
        lab.down()
