"""Helpers of the end-to-end tests (imported by conftest.py and the test modules): a whole lab, up and torn down."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import pytest

from seesaw.lab import netns, topology
from seesaw.lab.lab import Lab


def require_lab() -> None:
    """Skip unless a lab can be built here (root, a namespace of our own, nftables)."""
    if reason := netns.unmet_needs():
        pytest.skip(reason)


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
