"""Fixtures for the CLI tests: a real gRPC fake engine on a Unix socket, and a way to run `seesaw` in-process."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from cli_fake_engine import EngineServer, EngineState

from seesaw.cli.main import main
from seesaw.common.clock import FakeClock

GOLDEN = Path(__file__).parent / "golden"


@dataclass
class Run:
    status: int
    out: str
    err: str


@pytest.fixture
def utc_zone(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Go prints times in the local zone; pin it to UTC as on the box the originals were captured on."""
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


@pytest.fixture
def serve_engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[[EngineState], EngineServer]]:
    """Start a fake engine with the given state; it is stopped at the end of the test."""
    servers: list[EngineServer] = []

    def start(state: EngineState) -> EngineServer:
        server = EngineServer(tmp_path_factory.mktemp("eng"), state)
        server.__enter__()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.__exit__(None, None, None)


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str]) -> Callable[..., Run]:
    """Run `seesaw <argv>` in this process (the real main()), at a given wall-clock time."""

    def run(*argv: str, now: float = 1_795_000_000.0) -> Run:
        capsys.readouterr()
        status = main(list(argv), clock=FakeClock(wall_start=now))
        captured = capsys.readouterr()
        return Run(status, captured.out, captured.err)

    return run


@pytest.fixture
def golden() -> Callable[[str], str]:
    """The expected text of golden/<name>."""

    def read(name: str) -> str:
        return (GOLDEN / name).read_text()

    return read
