"""HA tells NCC itself the moment it leads (seesaw/ha/lb_takeover.py, NCC.Takeover).

A real NCC service (grpc.aio over a Unix socket, the runner, a sim dataplane with the fast path) and the
real client, connected before any takeover.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from pathlib import Path

from test_ha_lb_release import held, lb, ncc

from seesaw.common import paths
from seesaw.ha.lb_takeover import LBTakeover
from seesaw.ncc.sim import SimDataplane
from seesaw.ncc.steps import Step
from seesaw.pb import ncc_pb2


class FastPath(SimDataplane):
    """The sim with a takeover fast path (what the host part does on a real kernel)."""

    def __init__(self) -> None:
        super().__init__()
        self.raised: list[Step] = []

    def express(self, steps: Sequence[Step]) -> bool:
        self.raised.extend(steps)
        return True


async def replied(takeover: LBTakeover, count: int) -> None:
    while len(takeover.replies) < count:
        await asyncio.sleep(0.01)


def test_ncc_raises_the_lb_interface_at_ha_word_and_the_engine_finds_it_done(tmp_path: Path) -> None:
    async def scenario() -> None:
        sim = FastPath()
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
                assert not takeover.replies[-1].raised and sim.raised == []

                takeover.takeover(3_000)  # LEADER since 3000
                await asyncio.wait_for(replied(takeover, 3), 5)
                assert takeover.replies[-1].raised and [s.new.up for s in sim.raised] == [True]
                up = lb(up=True)
                up.ha_since_unix_ms = 3_000
                await stub.Apply(ncc_pb2.ApplyRequest(lb=up, has_lb=True))  # the engine's Apply follows
                assert held(sim).up
            finally:
                await takeover.close()

    asyncio.run(scenario())


def test_without_ncc_the_call_fails_quietly(tmp_path: Path) -> None:
    async def scenario() -> None:
        takeover = LBTakeover(paths.socket_path(tmp_path, "ncc"), call_timeout=0.2)
        takeover.connect()
        takeover.takeover(1_000)
        await asyncio.sleep(0.5)
        assert takeover.replies == []  # the engine's Apply raises the LB interface all the same
        await takeover.close()

    asyncio.run(scenario())
