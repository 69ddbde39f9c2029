"""Runs every check on time: the timetable (timetable.py) and a pool of worker tasks.

* When a check falls due it goes to an idle worker, or to a new one while
  there are fewer than `max_concurrent`; a worker that finishes a probe takes
  the next due check itself. No task or timer exists per check or per run:
  a check costs its `Check` object, its checker and one heap entry, and the
  pool only grows to the number of probes that were ever in flight at once.
* One timer (for the earliest due check, at most every TICK_S) wakes the
  pool, and only while some worker is idle or can be started; when all
  `max_concurrent` are busy, due checks wait for a worker, which shows up as
  start lateness in `stats`.
* A run still going when the next one is due makes that next one skip
  (counted in `stats.skipped`).
* Each run is bounded by the check's timeout: one deadline heap and one
  timer serve all runs (deadlines.py); on timeout the worker's probe is
  cancelled (its sockets close in the checker's `finally` blocks) and the run
  fails with "timed out".
* TCP-based checkers wait for their connects in the scheduler's one epoll
  set (checkers/poller.py), closed when the scheduler stops.
* Config changes apply in place: a check keeps its health and counters; a
  new interval re-schedules it; a removed check's probe in flight is
  cancelled at once.
* Transitions (retry.py decides them) go to `on_transition`; so does the
  next result of a check the engine asked to `recheck`, changed or not.
* `stats.lateness` holds how late recent runs started against their due
  time, measured when the probe starts.
"""

from __future__ import annotations

import asyncio
import collections
import logging
import math
import random
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

from seesaw.common.clock import Clock, SystemClock
from seesaw.pb import healthcheck_pb2 as hc_pb

from . import checkers
from .check import Check, wire_of
from .checkers import Result
from .deadlines import Deadlines
from .timetable import Timetable

log = logging.getLogger(__name__)

DEFAULT_MAX_CONCURRENT = 1000
TICK_S = 0.005  # due checks are handed out in batches at most this often (fewer loop wake-ups, at most 5 ms late)
DRY_RUN_MESSAGE = "dry run: always healthy"
_DRY_RUN_RESULT = Result(True, DRY_RUN_MESSAGE, 0.0)
_REMOVED, _TIMED_OUT = "removed", "timed out"  # why a worker's probe was cancelled

Job = tuple[Check, float]  # a check handed to a worker, and the time it was due


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
        self._checks: dict[int, Check] = {}
        self._table: Timetable[Check] = Timetable(self._checks.get, rng)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._workers: set[asyncio.Task[None]] = set()
        self._idle: list[asyncio.Future[Job]] = []  # parked workers, most recently parked last
        self._busy = 0  # workers holding a check
        self._interrupted: dict[asyncio.Task[None], str] = {}  # workers whose probe we cancelled, and why
        self._report_next: set[int] = set()  # checks whose next result is reported even without a transition
        self._timer: asyncio.TimerHandle | None = None  # for the earliest due check
        self._timer_at = math.inf
        self._last_tick = -math.inf
        self._deadlines: Deadlines[Check] = Deadlines(self._checks.get)
        self._deadline_timer: asyncio.TimerHandle | None = None  # for the earliest deadline of a run in flight
        self._deadline_at = math.inf
        self._poller = checkers.ConnectPoller()  # where TCP-based checkers wait for their connects

    # -- the check set -----------------------------------------------------

    def __len__(self) -> int:
        return len(self._checks)

    def __iter__(self) -> Iterator[Check]:
        return iter(list(self._checks.values()))

    def get(self, check_id: int) -> Check | None:
        return self._checks.get(check_id)

    @property
    def running(self) -> int:
        """Probes in flight."""
        return self._busy

    @property
    def workers(self) -> int:
        """Worker tasks in the pool (busy or idle)."""
        return len(self._workers)

    def apply(self, check_set: hc_pb.CheckSet) -> None:
        """Take a full set (replaces everything) or a delta (upserts, removals)."""
        if check_set.full:
            keep = {c.id for c in check_set.upsert}
            self.remove(i for i in list(self._checks) if i not in keep)
        else:
            self.remove(check_set.remove)
        self.upsert(check_set.upsert)
        if check_set.recheck:
            self.recheck(check_set.recheck)

    def upsert(self, configs: Iterable[hc_pb.CheckConfig]) -> None:
        added: list[Check] = []
        retimed: list[Check] = []
        for config in configs:
            check = self._checks.get(config.id)
            wire = wire_of(config)
            if check is None:
                check = Check(config, wire, checkers.build(config, self._poller))
                self._checks[check.id] = check
                added.append(check)
            elif check.wire != wire:
                old_interval = check.interval
                check.configure(config, wire, checkers.build(config, self._poller))
                if check.interval != old_interval:
                    retimed.append(check)
        # Times are taken after building: loading 30,000 checks takes a while, and
        # spreading their first runs from before that would make them late at once.
        now = asyncio.get_running_loop().time()
        for check in added:
            self._table.add(check, now)
        for check in retimed:
            self._table.retime(check, now)
        self._arm()

    def recheck(self, ids: Iterable[int]) -> None:
        """Run these checks now (a run in flight counts) and report their next result even if their state
        stays: the engine set aside a failure it could not trust (this node's own link was down)."""
        now = asyncio.get_running_loop().time()
        for check_id in ids:
            check = self._checks.get(check_id)
            if check is None:
                continue
            self._report_next.add(check_id)
            if not check.running:
                self._table.place(check, now)
        self._arm()

    def remove(self, ids: Iterable[int]) -> None:
        for check_id in ids:
            self._report_next.discard(check_id)
            check = self._checks.pop(check_id, None)
            if check is None:
                continue
            self._table.drop(check)
            if check.worker is not None:
                self._interrupt(check.worker, _REMOVED)

    # -- running -----------------------------------------------------------

    def start(self) -> None:
        if self._loop is None:
            self._loop = asyncio.get_running_loop()
            self._arm()

    async def stop(self) -> None:
        """Stop starting runs and cancel every probe in flight; returns when the workers are gone."""
        self._loop = None
        for timer in (self._timer, self._deadline_timer):
            if timer is not None:
                timer.cancel()
        self._timer, self._timer_at = None, math.inf
        self._deadline_timer, self._deadline_at = None, math.inf
        workers = list(self._workers)
        for task in workers:
            task.cancel()
        await asyncio.gather(*workers, return_exceptions=True)
        self._idle.clear()
        self._interrupted.clear()
        self._busy = 0  # a check handed to a worker that was cancelled before it woke is free again
        for check in self._checks.values():
            check.running = False
        self._poller.close()

    def _arm(self) -> None:
        """Have the timer fire when the earliest check is due, if a worker could take it then."""
        if self._loop is None or self._busy >= self.max_concurrent:
            return  # not started; or every worker is busy and takes due checks when it finishes
        due = self._table.next_due()
        if due is None:
            return
        at = max(due, self._last_tick + TICK_S)
        if at >= self._timer_at:
            return
        if self._timer is not None:
            self._timer.cancel()
        self._timer_at = at
        self._timer = self._loop.call_at(at, self._on_timer)

    def _on_timer(self) -> None:
        self._timer, self._timer_at = None, math.inf
        loop = self._loop
        if loop is None:
            return
        now = self._last_tick = loop.time()
        while (job := self._claim(now)) is not None:
            if self._idle:
                self._idle.pop().set_result(job)
            else:
                task = loop.create_task(self._work(job), name="healthcheck-worker")
                self._workers.add(task)
                task.add_done_callback(self._workers.discard)
        self._arm()

    def _claim(self, now: float) -> Job | None:
        """The next check due at `now` for a worker to run, if there is a free slot."""
        while self._busy < self.max_concurrent:
            job = self._table.pop_due(now)
            if job is None:
                return None
            check = job[0]
            if check.running:
                self.stats.skipped += 1
                continue
            check.running = True
            self._busy += 1
            return job
        return None

    async def _work(self, job: Job) -> None:
        """One worker: run the job, then the next due check, or wait to be handed one."""
        me = asyncio.current_task()
        assert me is not None
        loop = asyncio.get_running_loop()
        while True:
            await self._run(job[0], job[1], me, loop)
            next_job = self._claim(loop.time())
            if next_job is None:
                parked: asyncio.Future[Job] = loop.create_future()
                self._idle.append(parked)
                self._arm()
                next_job = await parked
            job = next_job

    async def _run(self, check: Check, due: float, me: asyncio.Task[None], loop: asyncio.AbstractEventLoop) -> None:
        result: Result | None = None
        now = 0.0
        try:
            if self._checks.get(check.id) is not check:
                return  # removed after it was handed out
            now = loop.time()
            stats = self.stats
            stats.started += 1
            stats.lateness.append(now - due)
            check.started = now
            if self.dry_run:
                result = _DRY_RUN_RESULT
            else:
                check.worker = me
                deadline = now + check.timeout
                self._deadlines.add(check, deadline)
                if deadline < self._deadline_at:
                    self._arm_deadline(deadline)
                ok, message = await checkers.attempt(check.checker)
                result = Result(ok, message, loop.time() - now)
        except asyncio.CancelledError:
            why = self._interrupted.pop(me, None)
            if why is None or me.cancelling() > 1:
                raise  # stopping
            me.uncancel()  # this worker goes on
            if why == _TIMED_OUT:
                result = Result(False, checkers.timed_out(check.checker, check.timeout), loop.time() - now)
        finally:
            check.worker = None
            check.running = False
            self._busy -= 1
        if result is not None and self._checks.get(check.id) is check:
            self._record(check, result)

    def _interrupt(self, worker: asyncio.Task[None], why: str) -> None:
        """Cancel the probe `worker` runs (once: a second cancel would read as a stop)."""
        if worker not in self._interrupted:
            self._interrupted[worker] = why
            worker.cancel()

    def _arm_deadline(self, at: float) -> None:
        if self._deadline_timer is not None:
            self._deadline_timer.cancel()
        self._deadline_at = at
        self._deadline_timer = asyncio.get_running_loop().call_at(at, self._on_deadline)

    def _on_deadline(self) -> None:
        self._deadline_timer, self._deadline_at = None, math.inf
        now = asyncio.get_running_loop().time()
        for check in self._deadlines.expired(now):
            if check.worker is not None:
                self._interrupt(check.worker, _TIMED_OUT)
        nxt = self._deadlines.next()
        if nxt is not None:
            self._arm_deadline(nxt)

    def _record(self, check: Check, result: Result) -> None:
        transition = check.record(result, self._clock.wall())
        asked = bool(self._report_next) and check.id in self._report_next
        if asked:
            self._report_next.discard(check.id)
        if transition is None and not asked:
            return
        # the config is parsed from its wire form just for this line
        if transition is not None and log.isEnabledFor(logging.INFO):
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
            try:
                self.on_transition(check)
            except Exception:  # a bug there must not stop this worker
                log.exception("reporting the transition of check %d failed", check.id)
