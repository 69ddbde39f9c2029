"""Fixtures of the end-to-end tests: the two-node lab (seesaw.lab) with real daemons, and client load through it.

Run under `unshare --net --mount --propagation private -- python -m seesaw.lab.isolate ...`
(scripts/run-tests does): the lab's namespaces are then private to the run.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from e2e_lab import running_lab

from seesaw.lab import topology
from seesaw.lab.lab import Lab
from seesaw.lab.traffic import Load


@pytest.fixture(scope="module")
def pair_lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    """The two-node lab, up once for the module (tests leave it serving)."""
    with running_lab(tmp_path_factory.mktemp("pair"), topology.pair("e2e-")) as lab:
        yield lab


@pytest.fixture
def load(pair_lab: Lab) -> Iterator[Callable[[], dict[str, Load]]]:
    """Start a client loop per service of the lab (requests back to back from the client); stopped afterwards."""
    started: list[Load] = []

    def start() -> dict[str, Load]:
        loops = {s.label: Load(pair_lab.client(s.request(timeout=1.0))) for s in pair_lab.services}
        for loop in loops.values():
            started.append(loop.__enter__())
        for loop in loops.values():
            loop.wait_requests(5)
        return loops

    yield start
    for loop in started:
        loop.stop()
