"""A cancelled Apply keeps NCC's dataplane lock until its worker thread has finished.

A thread cannot be stopped: if the runner let go of its lock when the engine gave up on an Apply, the
next call (the audit's read) would run in a second thread beside the first, inside libnftables or
netlink at the same time. The dataplane here is the sim, gated so that its apply blocks until released.
"""

import asyncio
import logging
import threading
from collections.abc import Sequence

from ncc_build import pb_lb, web

from seesaw.common.clock import FakeClock
from seesaw.ncc.dataplane import KernelState
from seesaw.ncc.model import Request
from seesaw.ncc.runner import SLOW_WAIT, DataplaneLock, Runner
from seesaw.ncc.sim import SimDataplane
from seesaw.ncc.steps import Op, Step, StepResult
from seesaw.pb import ncc_pb2


class Gated(SimDataplane):
    """The sim, whose apply waits for `release`, and which notes any call made while another runs."""

    def __init__(self) -> None:
        super().__init__()
        self.release = threading.Event()
        self.entered = threading.Event()
        self._busy = threading.Lock()
        self.overlaps = 0
        self.calls: list[str] = []

    def _enter(self, name: str) -> None:
        if not self._busy.acquire(blocking=False):
            self.overlaps += 1
            self._busy.acquire()
        self.calls.append(name)

    def apply(self, steps: Sequence[Step]) -> list[StepResult]:
        self._enter("apply")
        try:
            self.entered.set()
            self.release.wait(5.0)
            return super().apply(steps)
        finally:
            self._busy.release()

    def read(self) -> KernelState:
        self._enter("read")
        try:
            return super().read()
        finally:
            self._busy.release()


def test_a_cancelled_apply_holds_the_lock_until_its_thread_is_done():
    async def main() -> None:
        sim = Gated()
        runner = Runner(sim, "test", FakeClock(), audit_interval=0, inline_steps=0)  # every plan in a worker thread
        await runner.start()
        apply = asyncio.create_task(runner.apply(Request((web(),))))
        await asyncio.to_thread(sim.entered.wait, 5.0)
        apply.cancel()  # the engine's deadline passed
        read = asyncio.create_task(runner.read())
        await asyncio.sleep(0.1)
        assert not read.done() and sim.calls == ["read", "apply"]  # the read waits behind the running apply
        sim.release.set()
        await read
        assert apply.cancelled() and sim.calls == ["read", "apply", "read"] and sim.overlaps == 0

    asyncio.run(main())


def test_a_call_that_waited_long_for_the_dataplane_says_behind_what(caplog) -> None:
    async def scenario() -> DataplaneLock:
        lock = DataplaneLock()

        async def slow() -> None:
            async with lock.hold("audit: read of Host"):
                await asyncio.sleep(SLOW_WAIT * 1.5)

        holder = asyncio.ensure_future(slow())
        await asyncio.sleep(0)
        assert lock.holder == "audit: read of Host"
        async with lock.hold("Apply"):
            assert lock.holder == "Apply"
        await holder
        async with lock.hold("Apply"):  # no wait: nothing said
            pass
        return lock

    with caplog.at_level(logging.INFO, logger="seesaw.ncc"):
        lock = asyncio.run(scenario())
    assert lock.holder == "" and not lock.locked()
    said = [r.getMessage() for r in caplog.records if "waited" in r.getMessage()]
    assert len(said) == 1 and said[0].startswith("Apply waited") and said[0].endswith("behind audit: read of Host")


def test_writes_go_before_the_reads_waiting_for_the_dataplane() -> None:
    async def scenario() -> list[str]:
        lock = DataplaneLock()
        order: list[str] = []
        release = asyncio.Event()

        async def use(what: str, urgent: bool = False, until: asyncio.Event | None = None) -> None:
            async with lock.hold(what, urgent=urgent):
                order.append(what)
                if until is not None:
                    await until.wait()

        first = asyncio.ensure_future(use("audit read", until=release))
        await asyncio.sleep(0)
        queued = [asyncio.ensure_future(use("read 1")), asyncio.ensure_future(use("read 2"))]
        await asyncio.sleep(0)
        queued.append(asyncio.ensure_future(use("Apply", urgent=True)))
        await asyncio.sleep(0)
        release.set()
        await asyncio.gather(first, *queued)
        assert not lock.locked() and lock.holder == ""
        return order

    assert asyncio.run(scenario()) == ["audit read", "Apply", "read 1", "read 2"]


def test_views_share_a_read_and_reuse_a_fresh_one_until_something_is_written() -> None:
    class CountingReads(SimDataplane):
        reads = 0

        def read(self) -> KernelState:
            CountingReads.reads += 1
            return super().read()

    async def scenario() -> None:
        runner = Runner(CountingReads(), "test", FakeClock(), audit_interval=0)
        await runner.start()
        started = CountingReads.reads
        await asyncio.gather(runner.read(), runner.read(), runner.read())
        assert CountingReads.reads == started + 1  # together: one read
        await runner.read()
        assert CountingReads.reads == started + 1  # fresh, nothing written since: the same
        await runner.apply(Request((web(),)))
        state = await runner.read()
        assert CountingReads.reads == started + 2 and state.objects  # written since: read again

    asyncio.run(scenario())


def test_a_takeover_passes_a_read_holding_the_dataplane_and_the_audit_it_overtook_repairs_nothing() -> None:
    class SlowReads(SimDataplane):
        def __init__(self) -> None:
            super().__init__()
            self.reading = threading.Event()
            self.release = threading.Event()
            self.slow = False

        def read(self) -> KernelState:
            if self.slow:
                self.reading.set()
                self.release.wait(5.0)
            return super().read()

    async def scenario() -> None:
        sim = SlowReads()
        runner = Runner(sim, "test", FakeClock(), audit_interval=0)
        await runner.start()
        await runner.apply_pb(ncc_pb2.ApplyRequest(lb=pb_lb(up=False), has_lb=True))
        sim.slow = True
        audit = asyncio.ensure_future(runner.audit())
        await asyncio.to_thread(sim.reading.wait, 5.0)
        takeover = asyncio.ensure_future(runner.apply_pb(ncc_pb2.ApplyRequest(lb=pb_lb(up=True), has_lb=True)))
        await asyncio.sleep(0.05)
        assert [(s.op, s.old.up, s.new.up) for s in sim.expressed] == [(Op.UPDATE, False, True)]  # already
        assert not takeover.done()  # the Apply itself still waits for the read
        sim.release.set()
        assert await audit == 0  # overtaken: it read the interface down, and must not "repair" it
        outcome = await takeover
        assert outcome.writes == 1 and not outcome.errors

        sim.expressed.clear()
        await runner.apply_pb(ncc_pb2.ApplyRequest(lb=pb_lb(up=False), has_lb=True))  # nothing holds it: no lane
        await runner.apply_pb(ncc_pb2.ApplyRequest(lb=pb_lb(up=True), has_lb=True))
        assert sim.expressed == []

    asyncio.run(scenario())
