"""HA tells NCC itself the moment it leads (seesaw/ha/lb_takeover.py, NCC.Takeover).

A real NCC service (grpc.aio over a Unix socket, the runner, a sim dataplane with the fast path) and the
real client, connected before any takeover.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import pytest
from test_ha_lb_release import held, lb, ncc

from seesaw.common import paths
from seesaw.ha.lb_takeover import LBTakeover
from seesaw.ncc.sim import SimDataplane
from seesaw.pb import ncc_pb2


async def replied(takeover: LBTakeover, count: int) -> None:
    while len(takeover.replies) < count:
        await asyncio.sleep(0.01)


def test_ncc_raises_the_lb_interface_at_ha_word_and_the_engine_finds_it_done(tmp_path: Path) -> None:
    async def scenario() -> None:
        sim = SimDataplane()
        async with ncc(tmp_path, sim) as stub:
            takeover = LBTakeover(paths.socket_path(tmp_path, "ncc"))
            takeover.connect()
            try:
                takeover.takeover(1_000)  # before the engine set any LB interface up: nothing to raise
                await asyncio.wait_for(replied(takeover, 1), 5)
                assert not takeover.replies[-1].raised and "no LB interface" in takeover.replies[-1].reason

                down = lb(up=False)
                down.ha_since_unix_ms = 2_000  # BACKUP since 2000
                await stub.Apply(ncc_pb2.ApplyRequest(lb=down, has_lb=True))
                takeover.takeover(1_500)  # older than the engine's word: refused
                await asyncio.wait_for(replied(takeover, 2), 5)
                assert not takeover.replies[-1].raised and sim.expressed == []

                takeover.takeover(3_000)  # LEADER since 3000
                await asyncio.wait_for(replied(takeover, 3), 5)
                assert takeover.replies[-1].raised and [s.new.up for s in sim.expressed] == [True] and held(sim).up
                up = lb(up=True)
                up.ha_since_unix_ms = 3_000
                await stub.Apply(ncc_pb2.ApplyRequest(lb=up, has_lb=True))  # the engine's Apply follows
                assert held(sim).up
            finally:
                await takeover.close()

    asyncio.run(scenario())


def test_without_ncc_the_call_fails_quietly(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    async def scenario() -> None:
        takeover = LBTakeover(paths.socket_path(tmp_path, "ncc"), call_timeout=0.2)
        takeover.connect()
        takeover.takeover(1_000)
        for _ in range(100):
            if "the engine's Apply raises the LB interface" in caplog.text:
                break
            await asyncio.sleep(0.02)
        assert takeover.replies == []
        await takeover.close()

    with caplog.at_level(logging.INFO, logger="seesaw.ha.lb_takeover"):
        asyncio.run(scenario())
    (said,) = [r.getMessage() for r in caplog.records if "did not take the takeover call" in r.getMessage()]
    assert "the engine's Apply raises the LB interface" in said
