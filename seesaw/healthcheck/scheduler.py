"""Runs every check on time: one timer heap, one dispatcher, a bounded pool of probes.

* A new check first runs at a random point within its first interval (so
  30,000 checks loaded at once spread evenly; no start-up ramp), then every
  interval, keeping its phase. A run still going when the next is due makes
  that next one skip (counted in `stats.skipped`).
* Each run is bounded by the check's timeout; on timeout the probe is
  cancelled and its sockets closed (see checkers.run_check).
* At most `max_concurrent` probes run at once; due checks wait for a slot,
  which shows up as start lateness in `stats`.
* Config changes apply in place: a check keeps its health and counters;
  a new interval re-schedules it (one new interval after its last start);
  removed checks are cancelled at once.
* Transitions (retry.py decides them) go to `on_transition`.

No task or timer exists per check: a check costs its `Check` object, its
checker and one heap entry.
"""

from __future__ import annotations

import asyncio
import collections
import heapq
import itertools
import logging
import random
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from functools import partial

from seesaw.common.clock import Clock, SystemClock
from seesaw.pb import healthcheck_pb2 as hc_pb

from . import checkers
from .check import Check, wire_of
from .checkers import Result

log = logging.getLogger(__name__)

DEFAULT_MAX_CONCURRENT = 1000
DRY_RUN_MESSAGE = "dry run: always healthy"


@dataclass
class SchedulerStats:
    started: int = 0
    skipped: int = 0  # runs not started because the previous run of that check was still going
    lateness: collections.deque[float] = field(default_factory=lambda: collections.deque(maxlen=20_000))


class Scheduler:
    def __init__(
        self,
        on_transition: Callable[[Check], None] | None = None,
        *,
        max_concurrent: int = DEFAULT_MAX_CONCURRENT,
        dry_run: bool = False,
        clock: Clock | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self.on_transition = on_transition
        self.max_concurrent = max_concurrent
        self.dry_run = dry_run
        self.stats = SchedulerStats()
        self._clock = clock or SystemClock()
        self._rng = rng or random.Random()
        self._checks: dict[int, Check] = {}
        self._heap: list[tuple[float, int, int]] = []  # (due, generation, check id)
        self._generations = itertools.count(1)
        self._running: set[asyncio.Task[None]] = set()
        self._wake = asyncio.Event()
        self._dispatcher: asyncio.Task[None] | None = None

    # -- the check set -----------------------------------------------------

    def __len__(self) -> int:
        return len(self._checks)

    def __iter__(self) -> Iterator[Check]:
        return iter(list(self._checks.values()))

    def get(self, check_id: int) -> Check | None:
        return self._checks.get(check_id)

    @property
    def running(self) -> int:
        return len(self._running)

    def apply(self, check_set: hc_pb.CheckSet) -> None:
        """Take a full set (replaces everything) or a delta (upserts, removals)."""
        if check_set.full:
            keep = {c.id for c in check_set.upsert}
            self.remove(i for i in list(self._checks) if i not in keep)
        else:
            self.remove(check_set.remove)
        self.upsert(check_set.upsert)

    def upsert(self, configs: Iterable[hc_pb.CheckConfig]) -> None:
        added: list[Check] = []
        retimed: list[Check] = []
        for config in configs:
            check = self._checks.get(config.id)
            wire = wire_of(config)
            if check is None:
                check = Check(config, wire, checkers.build(config))
                self._checks[check.id] = check
                added.append(check)
            elif check.wire != wire:
                old_interval = check.interval
                check.configure(config, wire, checkers.build(config))
                if check.interval != old_interval:
                    retimed.append(check)
        # Times are taken after building: loading 30,000 checks takes a while, and
        # spreading their first runs from before that would make them late at once.
        now = asyncio.get_running_loop().time()
        for check in added:
            self._schedule(check, now + self._rng.uniform(0.0, check.interval))
        for check in retimed:
            if check.started:
                self._schedule(check, max(now, check.started + check.interval))
            else:
                self._schedule(check, now + self._rng.uniform(0.0, check.interval))
        self._compact_if_stale()
        self._wake.set()

    def remove(self, ids: Iterable[int]) -> None:
        for check_id in ids:
            check = self._checks.pop(check_id, None)
            if check is not None and check.task is not None:
                check.task.cancel()
        self._compact_if_stale()

    def _schedule(self, check: Check, due: float) -> None:
        check.due = due
        check.generation = next(self._generations)
        heapq.heappush(self._heap, (due, check.generation, check.id))

    def _compact_if_stale(self) -> None:
        """Drop heap entries of removed or re-scheduled checks once they outnumber the live ones."""
        if len(self._heap) > 2 * len(self._checks) + 1024:
            self._heap = [(c.due, c.generation, c.id) for c in self._checks.values()]
            heapq.heapify(self._heap)

    # -- running -----------------------------------------------------------

    def start(self) -> None:
        if self._dispatcher is None:
            self._dispatcher = asyncio.get_running_loop().create_task(self._dispatch(), name="healthcheck-scheduler")

    async def stop(self) -> None:
        """Stop dispatching and cancel every probe in flight; returns when they are gone."""
        tasks = list(self._running)
        if self._dispatcher is not None:
            tasks.append(self._dispatcher)
            self._dispatcher = None
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def _dispatch(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            self._wake.clear()
            now = loop.time()
            heap = self._heap
            while heap and heap[0][0] <= now and len(self._running) < self.max_concurrent:
                due, generation, check_id = heapq.heappop(heap)
                check = self._checks.get(check_id)
                if check is None or check.generation != generation:
                    continue  # removed or re-scheduled since
                check.due = _next_due(due, check.interval, now)
                heapq.heappush(heap, (check.due, generation, check_id))
                if check.task is not None:
                    self.stats.skipped += 1
                    continue
                self._launch(check, due, now, loop)
            timer = None
            if heap and len(self._running) < self.max_concurrent:
                timer = loop.call_at(heap[0][0], self._wake.set)
            await self._wake.wait()
            if timer is not None:
                timer.cancel()

    def _launch(self, check: Check, due: float, now: float, loop: asyncio.AbstractEventLoop) -> None:
        check.started = now
        self.stats.started += 1
        self.stats.lateness.append(now - due)
        task = loop.create_task(self._probe(check))
        check.task = task
        self._running.add(task)
        task.add_done_callback(partial(self._finished, check))

    def _finished(self, check: Check, task: asyncio.Task[None]) -> None:
        if len(self._running) >= self.max_concurrent:
            self._wake.set()  # a slot frees up for due checks that waited
        self._running.discard(task)
        if check.task is task:
            check.task = None

    async def _probe(self, check: Check) -> None:
        if self.dry_run:
            result = Result(True, DRY_RUN_MESSAGE, 0.0)
        else:
            result = await checkers.run_check(check.checker, check.timeout)
        if self._checks.get(check.id) is not check:
            return  # removed while running
        transition = check.record(result, self._clock.wall())
        if transition is not None:
            config = check.config
            log.info(
                "check %d (%s %s): %s -> %s: %s",
                check.id,
                config.name,
                config.backend or config.target,
                transition.old.name,
                transition.new.name,
                result.message,
            )
            if self.on_transition is not None:
                self.on_transition(check)


def _next_due(due: float, interval: float, now: float) -> float:
    """The next run one interval on; whole intervals missed (a stalled loop) are skipped, phase kept."""
    nxt = due + interval
    if nxt <= now:
        nxt += ((now - nxt) // interval + 1) * interval
    return nxt
