"""An audit reads a part that can read off the dataplane's lock (`prepare_read`) beside Applies.

The dataplane is the sim, with the services part's way of reading: the expensive part of the read (held
here until the test lets it go) runs without the lock, and only taking it in needs the lock; taking in a
read an Apply overtook raises StaleRead, and that audit round repairs nothing.
"""

import asyncio
import threading
from collections.abc import Callable

from ncc_build import pb_service

from seesaw.common.clock import FakeClock
from seesaw.ncc.dataplane import KernelState, StaleRead
from seesaw.ncc.model import Kind
from seesaw.ncc.runner import OVERTAKEN_AUDITS, Runner
from seesaw.ncc.sim import SimDataplane
from seesaw.ncc.steps import Step, StepResult
from seesaw.pb import ncc_pb2


class OffLock(SimDataplane):
    def __init__(self) -> None:
        super().__init__()
        self.release = threading.Event()
        self.preparing = threading.Event()
        self.applies = 0
        self.prepared = 0

    def read_parts(self) -> list[Callable[[], KernelState]]:
        return [self.read]

    def apply(self, steps: list[Step]) -> list[StepResult]:
        self.applies += 1
        return super().apply(steps)

    def prepare_read(self) -> Callable[[], KernelState]:
        self.prepared += 1
        applies, state = self.applies, self.read()
        self.preparing.set()
        self.release.wait(5)

        def take_in() -> KernelState:
            if self.applies != applies:
                raise StaleRead("changed while it was read")
            return state

        return take_in


def web(weight: int = 1) -> ncc_pb2.ApplyRequest:
    return ncc_pb2.ApplyRequest(partitions=[ncc_pb2.Partition(name="web", services=[pb_service(weight=weight)])])


async def serving(sim: OffLock, drift: bool = False) -> Runner:
    """A started runner on `sim` with the web partition applied; with `drift`, one destination deleted behind
    its back (for an audit to find)."""
    runner = Runner(sim, "test", FakeClock(), audit_interval=0)
    await runner.start()
    await runner.apply_pb(web())
    if drift:
        (dest, *_) = [item for item in sim.read().objects if item[0] is Kind.DESTINATION]
        sim.tamper_delete(dest)
    return runner


def test_an_apply_goes_on_while_an_audit_reads_and_the_overtaken_read_repairs_nothing():
    async def scenario() -> None:
        sim = OffLock()
        runner = await serving(sim, drift=True)

        audit = asyncio.ensure_future(runner.audit())
        await asyncio.to_thread(sim.preparing.wait, 5)  # the audit's read is under way, off the lock
        outcome = await asyncio.wait_for(runner.apply_pb(web(weight=2)), 1)  # not behind the read
        assert outcome.writes == 1 and not audit.done()  # the other destination: the drifted one is gone
        sim.release.set()
        assert await audit == 0  # overtaken: not taken in, nothing repaired this round

        sim.release.set()
        assert await runner.audit() == 1  # the next round reads again and repairs the drift

    asyncio.run(scenario())


def test_after_rounds_overtaken_in_a_row_an_audit_reads_the_whole_under_the_lock():
    async def scenario() -> None:
        sim = OffLock()
        runner = await serving(sim, drift=True)
        for round_ in range(OVERTAKEN_AUDITS):  # a backend changes during every read
            sim.release.clear()
            sim.preparing.clear()
            audit = asyncio.ensure_future(runner.audit())
            await asyncio.to_thread(sim.preparing.wait, 5)
            await runner.apply_pb(web(weight=2 + round_ % 2))
            sim.release.set()
            assert await audit == 0
        assert (sim.prepared, runner.overtaken_audits) == (OVERTAKEN_AUDITS, OVERTAKEN_AUDITS)
        assert await runner.audit() == 1  # the whole read, under the lock: the drift is found and repaired
        assert (sim.prepared, runner.overtaken_audits) == (OVERTAKEN_AUDITS, 0)
        await runner.audit()
        assert sim.prepared == OVERTAKEN_AUDITS + 1  # and off the lock again

    asyncio.run(scenario())


class Peeking(OffLock):
    """A part that also reads for views off the lock (NftServices.peek); the peek waits for `release`."""

    def peek(self) -> KernelState:
        state = self.read()
        self.preparing.set()
        self.release.wait(5)
        return state


def test_a_views_read_of_a_part_that_peeks_holds_no_lock():
    async def scenario() -> None:
        sim = Peeking()
        runner = await serving(sim)
        view = asyncio.ensure_future(runner.read())
        await asyncio.to_thread(sim.preparing.wait, 5)  # the view's read is under way
        outcome = await asyncio.wait_for(runner.apply_pb(web(weight=2)), 1)  # not behind it
        assert outcome.writes == 2 and not view.done()
        sim.release.set()
        assert len((await view).objects) == 3  # the service and its two destinations

    asyncio.run(scenario())
