"""Firewall-mark allocation: a fixed range, lowest free mark first.

Two ranges are used, as in Seesaw v2: 256..8255 for fwmark vservers
(`FWM_BASE`, `FWM_SIZE`) and 65536..81535 for the per-backend IPVS services
that carry DSR/TUN healthcheck probes (`CHECK_MARK_BASE`, `CHECK_MARK_SIZE`).
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

    def get(self) -> int:
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
        self._free = [m for m in self._free if m not in taken]
        heapq.heapify(self._free)

    def put(self, mark: int) -> None:
        if mark not in self._used:
            raise ValueError(f"mark {mark} was not allocated from this range")
        self._used.remove(mark)
        heapq.heappush(self._free, mark)

    def in_use(self) -> int:
        return len(self._used)
