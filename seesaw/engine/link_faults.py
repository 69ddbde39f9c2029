"""When this node's own link was down, and which check failures that makes worthless.

HA reports a FAULT while the node interface has no carrier (HAStatus.link_fault).
A check that ran meanwhile failed because of us, not the backend: taken at its
word, it marks healthy backends down, and a node that takes over soon after its
link came back (within one check interval: 10 s by default) would serve with
them down. So the engine sets such a failure aside, keeps what it knew, and
asks the healthcheck daemon to run the check again at once, after the fault
(the daemon reports that run's result whatever it is):

* a failure whose run overlapped a fault span (started before the fault ended
  and finished after it began) is set aside;
* set aside while the fault lasts: rechecked when it ends; after: at once.

Pure: spans in wall-clock seconds (the healthcheck daemon stamps its results
with the wall clock), from HA's transition times.
"""

from __future__ import annotations

import collections

KEEP = 8  # fault spans remembered: a check's run is bounded by its timeout, so only recent ones matter


class LinkFaults:
    def __init__(self, keep: int = KEEP) -> None:
        self._spans: collections.deque[tuple[float, float]] = collections.deque(maxlen=keep)
        self._since: float | None = None  # start of the fault going on, if one is
        self.set_aside = 0  # failures set aside, in all

    @property
    def ongoing(self) -> bool:
        return self._since is not None

    def update(self, fault: str, at: float) -> bool:
        """HA's latest word on the link (`fault`: why it is down, empty when up) as of `at`; True when a fault
        has just ended."""
        if fault and self._since is None:
            self._since = at
        elif not fault and self._since is not None:
            self._spans.append((self._since, max(at, self._since)))
            self._since = None
            return True
        return False

    def overlaps(self, started: float, finished: float) -> bool:
        """Whether a check run from `started` to `finished` overlapped a fault of this node's link."""
        return self.span(started, finished) is not None

    def span(self, started: float, finished: float) -> float | None:
        """When the fault that a check run from `started` to `finished` overlapped began (None: none did)."""
        if self._since is not None and finished >= self._since:
            return self._since
        return next((start for start, end in self._spans if started <= end and finished >= start), None)
