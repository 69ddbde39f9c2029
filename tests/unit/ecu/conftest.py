"""The ECU lab (a real engine and ECU, TLS files from a test CA), shared by the tests of one module."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from ecu_lab import Lab


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    lab = Lab(tmp_path_factory.mktemp("ecu"))
    lab.start()
    yield lab
    lab.stop()
