"""Healthcheck results over time, for counters and latency histograms. Pure: vserver lists in, metrics out.

The engine keeps each check's latest result (state, latency, when it ran).
The ECU looks at them on every scrape and every few seconds in between
(`seesaw-ecu --check-sample-interval`); a result it has not seen before
(a new `checked_unix_ms` for that check id) is counted once, by check type
and outcome, and its latency goes into the type's histogram. A check that
runs more often than it is looked at contributes its latest result per look:
the histogram is of sampled results, and says so in its help text.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterator
from dataclasses import dataclass, field

from prometheus_client.core import CounterMetricFamily, HistogramMetricFamily, Metric

from seesaw.pb import common_pb2, engine_pb2, healthcheck_pb2

# Seconds: from a loopback TCP connect to a slow HTTPS check timing out.
BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
OUTCOMES = {
    common_pb2.HEALTH_HEALTHY: "healthy",
    common_pb2.HEALTH_UNHEALTHY: "unhealthy",
    common_pb2.HEALTH_UNKNOWN: "unknown",
}


def check_type(value: int) -> str:
    try:
        return healthcheck_pb2.CheckType.Name(value).removeprefix("CHECK_").lower()  # type: ignore[arg-type]
    except ValueError:
        return str(value)


@dataclass
class _Histogram:
    counts: list[int] = field(default_factory=lambda: [0] * (len(BUCKETS) + 1))  # the last one is +Inf
    total: float = 0.0

    def observe(self, seconds: float) -> None:
        self.counts[bisect.bisect_left(BUCKETS, seconds)] += 1
        self.total += seconds

    def cumulative(self) -> list[tuple[str, float]]:
        out: list[tuple[str, float]] = []
        running = 0
        for bound, count in zip((*map(str, BUCKETS), "+Inf"), self.counts, strict=True):
            running += count
            out.append((bound, float(running)))
        return out


class CheckHistory:
    def __init__(self) -> None:
        self._seen: dict[int, int] = {}  # check id -> checked_unix_ms of the last result counted
        self._results: dict[tuple[str, str], int] = {}  # (type, outcome) -> results
        self._latency: dict[str, _Histogram] = {}  # type -> histogram

    def observe(self, vservers: engine_pb2.VserverList) -> int:
        """Count the results not seen before; return how many there were."""
        current: dict[int, int] = {}
        new = 0
        for vs in vservers.vservers:
            for svc in vs.services:
                for dst in svc.destinations:
                    for check in dst.checks:
                        if check.id in current or not check.checked_unix_ms:
                            continue
                        current[check.id] = check.checked_unix_ms
                        if self._seen.get(check.id) == check.checked_unix_ms:
                            continue
                        kind = check_type(check.type)
                        key = (kind, OUTCOMES.get(check.state, "unknown"))
                        self._results[key] = self._results.get(key, 0) + 1
                        self._latency.setdefault(kind, _Histogram()).observe(check.latency_us / 1e6)
                        new += 1
        self._seen = current  # checks that went away are forgotten
        return new

    def families(self) -> Iterator[Metric]:
        results = CounterMetricFamily(
            "seesaw_check_results", "Healthcheck results seen, by check type and outcome", labels=["type", "result"]
        )
        for (kind, outcome), count in sorted(self._results.items()):
            results.add_metric([kind, outcome], count)
        yield results
        latency = HistogramMetricFamily(
            "seesaw_check_duration_seconds",
            "Latency of the healthcheck results seen (sampled: one per check per look), by check type",
            labels=["type"],
        )
        for kind, histogram in sorted(self._latency.items()):
            latency.add_metric([kind], histogram.cumulative(), sum_value=histogram.total)
        yield latency
