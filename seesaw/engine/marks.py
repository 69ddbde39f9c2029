"""Firewall-mark allocation: a fixed range, lowest free mark first.

Two ranges are used, as in Seesaw v2: 256..8255 for fwmark vservers
(`FWM_BASE`, `FWM_SIZE`) and 65536..81535 for the per-backend IPVS services
that carry DSR/TUN healthcheck probes (`CHECK_MARK_BASE`, `CHECK_MARK_SIZE`).

A restarted engine gives each vserver the mark it had (mark_store): those
marks are `hold`-ed first, so that no other vserver takes one lowest-first,
and handed out by `get(prefer=...)`; what no vserver claimed goes back with
`release_held`.
"""

from __future__ import annotations

import heapq

FWM_BASE = 1 << 8
FWM_SIZE = 8000
CHECK_MARK_BASE = 1 << 16
CHECK_MARK_SIZE = 16000


class MarksExhausted(RuntimeError):
    """Every mark of the range is in use."""


class MarkAllocator:
    def __init__(self, base: int, size: int) -> None:
        self.base = base
        self.size = size
        self._free: list[int] = list(range(base, base + size))  # already a heap
        self._used: set[int] = set()
        self._held: set[int] = set()  # set aside for get(prefer=...) alone

    def get(self, prefer: int | None = None) -> int:
        """A mark: `prefer` if it is held for its owner (`hold`), else the lowest free one."""
        if prefer is not None and prefer in self._held:
            self._held.remove(prefer)
            self._used.add(prefer)
            return prefer
        if not self._free:
            raise MarksExhausted(
                f"all {self.size} marks from {self.base} to {self.base + self.size - 1} are in use; "
                "remove fwmark vservers or DSR/TUN healthchecks"
            )
        mark = heapq.heappop(self._free)
        self._used.add(mark)
        return mark

    def reserve(self, marks: set[int]) -> None:
        """Take these particular free marks (a warm restart keeps the marks the dataplane holds)."""
        taken = {m for m in marks if self.base <= m < self.base + self.size} - self._used
        if not taken:
            return
        self._used |= taken
        self._held -= taken
        self._free = [m for m in self._free if m not in taken]
        heapq.heapify(self._free)

    def hold(self, marks: set[int]) -> None:
        """Set these free marks aside: only `get(prefer=mark)` hands them out (until `release_held`)."""
        taken = {m for m in marks if self.base <= m < self.base + self.size} - self._used - self._held
        if not taken:
            return
        self._held |= taken
        self._free = [m for m in self._free if m not in taken]
        heapq.heapify(self._free)

    def release_held(self) -> None:
        """Make the held marks no owner claimed free again."""
        for mark in self._held:
            heapq.heappush(self._free, mark)
        self._held.clear()

    def put(self, mark: int) -> None:
        if mark not in self._used:
            raise ValueError(f"mark {mark} was not allocated from this range")
        self._used.remove(mark)
        heapq.heappush(self._free, mark)

    def in_use(self) -> int:
        return len(self._used)
