"""Where the runner applies a plan: a few steps on the event loop's thread, more in a worker thread.

A flipped backend's kernel round trip is shorter than the hop to a worker thread and back (milliseconds on a busy
or virtualised single CPU), so plans of at most `inline_steps` steps run inline when the dataplane says they may
(`inline_safe`); a large plan (a cold apply) goes to a worker so the loop keeps answering. The dataplane is the
sim, noting the thread of each apply.
"""

import asyncio
import threading
from collections.abc import Sequence

import pytest
from ncc_build import dest, partition, service

from seesaw.common.clock import FakeClock
from seesaw.ncc.dataplane import KernelState
from seesaw.ncc.model import Request
from seesaw.ncc.runner import INLINE_STEPS, Runner, audit_pause
from seesaw.ncc.sim import SimDataplane
from seesaw.ncc.steps import Step, StepResult


class Threads(SimDataplane):
    def __init__(self, safe: bool = True) -> None:
        super().__init__()
        self.safe = safe
        self.threads: list[int] = []

    def inline_safe(self, steps: Sequence[Step]) -> bool:
        return self.safe

    def apply(self, steps: Sequence[Step]) -> list[StepResult]:
        self.threads.append(threading.get_ident())
        return super().apply(steps)


def applied_on_the_loop(backends: int, inline_steps: int = INLINE_STEPS, safe: bool = True) -> bool:
    async def main() -> bool:
        sim = Threads(safe)
        runner = Runner(sim, "test", FakeClock(), audit_interval=0, inline_steps=inline_steps)
        await runner.start()
        svc = service()
        backends_ = (dest(svc, f"10.0.{i // 250}.{i % 250 + 1}") for i in range(backends))
        outcome = await runner.apply(Request((partition("web", svc, *backends_),)))
        assert outcome.errors == () and outcome.writes == 1 + backends
        return sim.threads == [threading.get_ident()]

    return asyncio.run(main())


def test_a_small_plan_is_applied_on_the_loop_thread():
    assert applied_on_the_loop(backends=1)
    assert applied_on_the_loop(backends=INLINE_STEPS - 1)  # the service and its destinations: the limit


def test_a_larger_plan_goes_to_a_worker_thread():
    assert not applied_on_the_loop(backends=INLINE_STEPS)
    assert not applied_on_the_loop(backends=200)


def test_inline_steps_zero_sends_every_plan_to_a_worker_thread():
    assert not applied_on_the_loop(backends=1, inline_steps=0)


def test_a_dataplane_that_is_not_inline_safe_always_gets_a_worker_thread():
    assert not applied_on_the_loop(backends=1, safe=False)  # pyroute2 runs an event loop of its own


def test_a_slow_audit_spaces_the_next_ones_out():
    assert audit_pause(10.0, 0.0) == 10.0
    assert audit_pause(10.0, 0.5) == 10.0  # fast audits keep the configured interval
    assert audit_pause(10.0, 8.0) == pytest.approx(72.0)  # 8 s of every 80 s: a tenth of the time


class TwoParts(SimDataplane):
    """The sim read in two parts; the second waits until the test lets it finish."""

    def __init__(self) -> None:
        super().__init__()
        self.first_read = threading.Event()
        self.finish_first = threading.Event()
        self.finish_second = threading.Event()

    def read_parts(self) -> list:
        def first() -> KernelState:
            self.first_read.set()
            assert self.finish_first.wait(timeout=10)
            return KernelState()

        def second() -> KernelState:
            assert self.finish_second.wait(timeout=10), "the apply never got in between the parts"
            return self.read()

        return [first, second]


def test_an_apply_goes_in_between_the_parts_of_an_audit_read_and_the_stale_read_repairs_nothing():
    async def main() -> tuple[int, int]:
        sim = TwoParts()
        runner = Runner(sim, "test", FakeClock(), audit_interval=0)
        await runner.start()
        svc = service()
        audit = asyncio.create_task(runner.audit())
        while not sim.first_read.is_set():
            await asyncio.sleep(0.01)
        apply = asyncio.create_task(runner.apply(Request((partition("web", svc, dest(svc, "10.0.0.1")),))))
        await asyncio.sleep(0.05)  # the apply waits for the lock, held by the audit's first part
        sim.finish_first.set()
        outcome = await asyncio.wait_for(apply, 5)
        sim.finish_second.set()  # only now: the apply did not wait for the whole read
        repairs = await audit
        sim.tamper_delete(next(iter(sim.read().objects)))  # drift behind NCC's back
        return repairs, outcome.writes, await runner.audit()

    repairs, writes, later = asyncio.run(main())
    assert writes == 2
    assert repairs == 0  # read before the apply's writes: nothing to repair from it
    assert later >= 1  # the next audit, undisturbed, repairs the drift (what was removed, and what went with it)
