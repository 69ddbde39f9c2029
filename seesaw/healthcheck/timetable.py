"""When each check runs next: one heap of due times. Pure: times come in as arguments.

The rules:

* A new check first runs at a random point within its first interval, so
  30,000 checks loaded at once spread evenly over it (no start-up ramp).
* After that it runs every interval, keeping its phase: the next due time is
  the last one plus the interval. Whole intervals that already passed (a
  stalled loop, a run that waited for a free slot) are skipped rather than
  run back to back; the phase stays.
* A new interval re-schedules a check one new interval after its last start
  (or, if it never started, at a random point within the new interval).
* A check taken off the table is never handed out again.

The heap holds `(due, generation, check id)`, numbers only: tuples of numbers
are not tracked by Python's cyclic garbage collector, so the entry made at
every run never ages into the old generation, whose full collections (every
object of 30,000 checks traversed) would stall the loop for tens of
milliseconds. Checks are found by id through `lookup`. A check's
`generation` names its one live entry; re-scheduling or dropping it makes
older entries stale, and they are skipped when they surface (and compacted
away when they pile up).
"""

from __future__ import annotations

import heapq
import itertools
import random
from collections.abc import Callable
from typing import Generic, Protocol, TypeVar


class Timed(Protocol):
    """What the timetable reads and writes on a check (seesaw.healthcheck.check.Check is one)."""

    id: int
    interval: float
    due: float
    generation: int
    started: float


T = TypeVar("T", bound=Timed)


class Timetable(Generic[T]):
    def __init__(self, lookup: Callable[[int], T | None], rng: random.Random | None = None) -> None:
        """`lookup` finds a check by id (None: it is gone)."""
        self._lookup = lookup
        self._rng = rng or random.Random()
        self._heap: list[tuple[float, int, int]] = []
        self._generations = itertools.count(1)
        self._live = 0  # checks with a live entry

    def __len__(self) -> int:
        """Checks on the table."""
        return self._live

    def add(self, check: T, now: float) -> None:
        """A new check: its first run is somewhere within its first interval."""
        self.place(check, now + self._rng.uniform(0.0, check.interval))

    def retime(self, check: T, now: float) -> None:
        """The check's interval changed: next run one new interval after its last start."""
        if check.started:
            self.place(check, max(now, check.started + check.interval))
        else:
            self.add(check, now)

    def drop(self, check: T) -> None:
        """Take the check off the table; its entries go stale."""
        if check.generation:
            check.generation = 0
            self._live -= 1
            self._compact_if_stale()

    def next_due(self) -> float | None:
        """When the earliest check is due (None: the table is empty)."""
        heap = self._heap
        while heap and not self._is_live(heap[0]):
            heapq.heappop(heap)
        return heap[0][0] if heap else None

    def pop_due(self, now: float) -> tuple[T, float] | None:
        """The earliest check due at `now` and the time it was due; it is re-queued one interval on."""
        heap = self._heap
        lookup = self._lookup
        while heap:
            due, generation, check_id = heap[0]
            check = lookup(check_id)
            if check is None or check.generation != generation:
                heapq.heappop(heap)
                continue
            if due > now:
                return None
            check.due = next_due(due, check.interval, now)
            heapq.heapreplace(heap, (check.due, generation, check_id))
            return check, due
        return None

    def place(self, check: T, due: float) -> None:
        """Run `check` next at `due` (its earlier entry, if any, goes stale)."""
        if not check.generation:
            self._live += 1
        check.due = due
        check.generation = next(self._generations)
        heapq.heappush(self._heap, (due, check.generation, check.id))
        self._compact_if_stale()

    def _is_live(self, entry: tuple[float, int, int]) -> bool:
        check = self._lookup(entry[2])
        return check is not None and check.generation == entry[1]

    def _compact_if_stale(self) -> None:
        """Drop stale entries once they outnumber the live ones."""
        if len(self._heap) > 2 * self._live + 1024:
            self._heap = [entry for entry in self._heap if self._is_live(entry)]
            heapq.heapify(self._heap)


def next_due(due: float, interval: float, now: float) -> float:
    """The next run one interval on; whole intervals already missed are skipped, phase kept."""
    nxt = due + interval
    if nxt <= now:
        nxt += ((now - nxt) // interval + 1) * interval
    return nxt
