"""What a client's probe samples say about one failover, and percentiles over trials. Pure: no I/O, no clock.

A trial has a fault instant (the SIGKILL, the link going down, the failover
command, or the old master's priority-0 advert) and the MAC of the node that
should take over. From the samples sent in the trial's window:

* takeover: from the fault to the end of the first request that went to the
  new node's MAC and succeeded, with every later request of the window
  succeeding too: the client is served by the new node, for good.
* outage: how long the client got no answer: from the start of the first
  failed request to the end of the first success after the last failure
  (0 when nothing failed). A crashed node whose kernel keeps forwarding
  serves until the takeover, so its outage can be 0 while its takeover is not.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol


class Sent(Protocol):
    """A probe sample as far as this module reads it (seesaw.lab.probe.Sample)."""

    @property
    def start(self) -> float: ...
    @property
    def end(self) -> float: ...
    @property
    def mac(self) -> str | None: ...
    @property
    def ok(self) -> bool: ...


@dataclass(frozen=True)
class Trial:
    takeover: float | None  # seconds from the fault; None: the new node never served for good in the window
    outage: float  # seconds without an answer
    failed: int  # failed requests in the window
    sent: int  # requests in the window

    def describe(self) -> str:
        took = "never" if self.takeover is None else f"{self.takeover * 1000:.0f} ms"
        return f"takeover {took}, outage {self.outage * 1000:.0f} ms, {self.failed}/{self.sent} requests failed"


def trial(samples: Sequence[Sent], fault: float, new_mac: str, until: float = math.inf) -> Trial:
    """The trial of the samples sent in [fault, until) (any order)."""
    window = sorted((s for s in samples if fault <= s.start < until), key=lambda s: s.start)
    failures = [i for i, s in enumerate(window) if not s.ok]
    takeover = None
    for i in range(len(window) - 1, -1, -1):  # the earliest request from which on all went well via the new node
        sample = window[i]
        if not sample.ok:
            break
        if sample.mac == new_mac:
            takeover = sample.end - fault
    outage = 0.0
    if failures:
        recovered = [s.end for s in window[failures[-1] + 1 :] if s.ok]
        end = recovered[0] if recovered else window[-1].end
        outage = end - window[failures[0]].start
    return Trial(takeover, outage, len(failures), len(window))


def percentile(values: Sequence[float], q: float) -> float:
    """The nearest-rank percentile `q` (0..100) of `values` (p99 of 20 values is the largest)."""
    if not values:
        raise ValueError("no values to take a percentile of")
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]
