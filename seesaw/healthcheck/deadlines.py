"""When each run in flight must end: one heap of deadlines for all of them. Pure.

A run is named by its check's id and the time it started; it is live while
the check is still running that run. Entries are numbers only, out of the
garbage collector's sight (see timetable.py). Most runs end long before
their deadline, so most entries go stale: they are dropped when they reach
the top, and compacted away when they pile up behind a long-lived one. So
one timer, set for the earliest live deadline, serves every run, where a
timer per run would cost a loop timer handle (created, pushed, cancelled)
per probe.
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Callable
from typing import Generic, Protocol, TypeVar


class Running(Protocol):
    """What the heap reads on a check (seesaw.healthcheck.check.Check is one)."""

    id: int
    running: bool
    started: float


T = TypeVar("T", bound=Running)


class Deadlines(Generic[T]):
    def __init__(self, lookup: Callable[[int], T | None]) -> None:
        """`lookup` finds a check by id (None: it is gone)."""
        self._lookup = lookup
        self._heap: list[tuple[float, int, int, float]] = []  # (deadline, order, check id, started)
        self._order = itertools.count()
        self._pushed_since_compaction = 0

    def __len__(self) -> int:
        """Entries held, stale ones included."""
        return len(self._heap)

    def add(self, check: T, deadline: float) -> None:
        """The run `check` just started (at `check.started`) must end by `deadline`."""
        heapq.heappush(self._heap, (deadline, next(self._order), check.id, check.started))
        self._pushed_since_compaction += 1
        if self._pushed_since_compaction > 1024 and len(self._heap) > 2048:
            self._compact()

    def next(self) -> float | None:
        """The earliest deadline of a run still going (None: none)."""
        heap = self._heap
        while heap and self._live(heap[0]) is None:
            heapq.heappop(heap)
        return heap[0][0] if heap else None

    def expired(self, now: float) -> list[T]:
        """Runs still going whose deadline is at or before `now`; they leave the heap."""
        heap = self._heap
        out = []
        while heap and heap[0][0] <= now:
            check = self._live(heapq.heappop(heap))
            if check is not None:
                out.append(check)
        return out

    def _live(self, entry: tuple[float, int, int, float]) -> T | None:
        """The check whose run `entry` names, if that run is still going."""
        check = self._lookup(entry[2])
        return check if check is not None and check.running and check.started == entry[3] else None

    def _compact(self) -> None:
        self._heap = [entry for entry in self._heap if self._live(entry) is not None]
        heapq.heapify(self._heap)
        self._pushed_since_compaction = 0
