"""Runner.takeover: HA's own word that it leads (seesaw.ha.lb_takeover), weighed against the engine's."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator

import pytest
from ncc_build import pb_lb, pb_service

from seesaw.common.clock import FakeClock
from seesaw.ncc.dataplane import TakeoverKit
from seesaw.ncc.model import LBInterface
from seesaw.ncc.runner import Runner
from seesaw.ncc.sim import SIM_LINK_INDEX, SimDataplane
from seesaw.pb import common_pb2, ncc_pb2


def lb(up: bool, since: int) -> ncc_pb2.ApplyRequest:
    message = pb_lb(up=up)
    message.ha_since_unix_ms = since
    return ncc_pb2.ApplyRequest(lb=message, has_lb=True)


async def standing_by() -> tuple[Runner, SimDataplane]:
    sim = SimDataplane()
    runner = Runner(sim, "test", FakeClock(), audit_interval=0)
    await runner.start()
    assert await runner.takeover(500) == "no LB interface set up yet"
    await runner.apply_pb(lb(up=False, since=1000))  # BACKUP since 1000
    return runner, sim


def test_a_takeover_raises_the_lb_interface_as_the_engine_set_it_up() -> None:
    async def scenario() -> None:
        runner, sim = await standing_by()
        assert await runner.takeover(2000) == ""
        (step,) = sim.expressed
        assert (step.old.up, step.new.up, step.new.name) == (False, True, "eth1")
        (held,) = [s for s in sim.read().objects.values() if isinstance(s, LBInterface)]
        assert held.up  # the fast path raised it
        outcome = await runner.apply_pb(lb(up=True, since=2000))  # the engine's Apply follows: its step does
        assert not outcome.errors and [s.new.up for s in outcome.steps] == [True]  # the rest, finds it up
        assert await runner.takeover(2000) == "the LB interface is up already"

    asyncio.run(scenario())


def test_a_takeover_without_a_kit_has_the_dataplane_resolve_the_dsr_neighbours() -> None:
    async def scenario() -> None:
        runner, sim = await standing_by()
        dsr = ncc_pb2.Partition(name="dsr", services=[pb_service("192.0.2.1", backends=("10.0.0.9", "10.0.0.8"))])
        await runner.apply_pb(ncc_pb2.ApplyRequest(partitions=[dsr]))
        assert await runner.takeover(2000) == ""
        assert sim.resolving == ("10.0.0.8", "10.0.0.9")

    asyncio.run(scenario())


def test_a_takeover_older_than_the_engines_word_is_refused() -> None:
    async def scenario() -> None:
        runner, sim = await standing_by()
        assert await runner.takeover(900) == "the engine has spoken for a later HA state"
        assert sim.expressed == []

    asyncio.run(scenario())


def test_an_engines_down_older_than_the_takeover_does_not_undo_it(caplog: pytest.LogCaptureFixture) -> None:
    async def scenario() -> None:
        runner, _ = await standing_by()
        await runner.apply_pb(lb(up=True, since=1500))  # LEADER since 1500 ...
        await runner.apply_pb(lb(up=False, since=1600))  # ... BACKUP since 1600
        assert await runner.takeover(1700) == ""  # LEADER again since 1700, said by HA first
        with caplog.at_level(logging.WARNING, logger="seesaw.ncc"):
            late = await runner.apply_pb(lb(up=False, since=1650))  # an engine's word from before it
        assert late.writes == 0 and any("older than HA's takeover" in r.getMessage() for r in caplog.records)
        later = await runner.apply_pb(lb(up=False, since=1800))  # HA gave up since: the engine's word counts
        assert later.writes == 1  # down again: the kernel's interface is up since the takeover

    asyncio.run(scenario())


def test_audits_leave_the_lb_interface_be_while_the_engines_apply_is_due() -> None:
    async def scenario() -> None:
        runner, _ = await standing_by()
        assert await runner.takeover(2000) == ""
        assert await runner.audit() == 0

    asyncio.run(scenario())


async def next_kit(kits: AsyncIterator[tuple[int, TakeoverKit | None]]) -> tuple[int, TakeoverKit | None]:
    return await asyncio.wait_for(anext(kits), 1)


def test_a_takeover_kit_is_offered_while_the_lb_interface_is_down_as_set_up() -> None:
    async def scenario() -> None:
        sim = SimDataplane(kits=True)
        runner = Runner(sim, "test", FakeClock(), audit_interval=0)
        await runner.start()
        kits = runner.kits()
        assert (await next_kit(kits))[1] is None  # no LB interface yet
        await runner.apply_pb(lb(up=False, since=1000))  # BACKUP: the LB interface set up, down
        serial, kit = await next_kit(kits)
        assert kit is not None and (kit.interface, kit.index) == ("eth1", SIM_LINK_INDEX)
        assert kit.frames == (b"announce 192.0.2.100",)
        vip = ncc_pb2.Partition(name="web", vips=[ncc_pb2.VIP(address="192.0.2.1", type=common_pb2.VIP_UNICAST)])
        await runner.apply_pb(ncc_pb2.ApplyRequest(partitions=[vip]))  # a unicast VIP: announced too
        serial, kit = await next_kit(kits)
        assert kit is not None and kit.frames == (b"announce 192.0.2.100", b"announce 192.0.2.1")

        assert kit.neighbours == ()
        dsr = ncc_pb2.Partition(name="dsr", services=[pb_service("192.0.2.1", backends=("10.0.0.9", "10.0.0.8"))])
        await runner.apply_pb(ncc_pb2.ApplyRequest(partitions=[vip, dsr]))  # DSR destinations: resolved on takeover
        serial, kit = await next_kit(kits)
        assert kit is not None and kit.neighbours == ("10.0.0.8", "10.0.0.9")

        assert await runner.takeover(2000, raised_kit=serial) == ""  # HA carried it out: NCC records it
        assert [s.new.up for s in sim.expressed] == [True]
        assert sim.resolving == ()  # HA resolved the DSR neighbours itself
        assert (await next_kit(kits))[1] is None  # up: withdrawn
        await runner.apply_pb(lb(up=True, since=2000))
        await runner.apply_pb(lb(up=False, since=3000))  # BACKUP again: a new kit
        later, kit = await next_kit(kits)
        assert kit is not None and later > serial

    asyncio.run(scenario())


def test_no_kit_from_a_dataplane_that_makes_none() -> None:
    async def scenario() -> None:
        runner, _ = await standing_by()  # the sim without kits
        kits = runner.kits()
        assert (await next_kit(kits))[1] is None
        with pytest.raises(TimeoutError):
            await next_kit(kits)  # nothing changes: nothing offered

    asyncio.run(scenario())
