"""One check as the daemon holds it: config, checker, health and last result.

Kept small (__slots__, no per-check task or timer): the daemon is sized for
30,000 of these. The config is kept serialized (a parsed CheckConfig costs
three times the memory and would pin the whole CheckSet it arrived in); the
checker built from it holds what a run needs. `result_pb` / `status_pb` are
what the engine and `ListChecks` see.
"""

from __future__ import annotations

import asyncio

from seesaw.pb import healthcheck_pb2 as hc_pb

from .checkers import Checker, Result
from .retry import RetryState, Transition

DEFAULT_INTERVAL_S = 10.0  # cluster.pb's defaults, for a config that arrives without them
DEFAULT_TIMEOUT_S = 5.0


def wire_of(config: hc_pb.CheckConfig) -> bytes:
    """The config's canonical bytes: equal bytes, equal config."""
    return config.SerializeToString(deterministic=True)


class Check:
    __slots__ = (
        "checked",
        "checker",
        "due",
        "generation",
        "health",
        "id",
        "interval",
        "latency",
        "message",
        "running",
        "started",
        "timeout",
        "wire",
        "worker",
    )

    def __init__(self, config: hc_pb.CheckConfig, wire: bytes, checker: Checker) -> None:
        self.id = int(config.id)
        self.health = RetryState()
        self.configure(config, wire, checker)
        self.message = ""
        self.latency = 0.0
        self.checked = 0.0  # wall-clock seconds of the last result; 0 = never ran
        self.started = 0.0  # loop time the last run started; 0 = never
        self.due = 0.0  # loop time of the next run
        self.generation = 0  # which timetable entry is current; 0 = not on the timetable
        self.running = False  # handed to a worker, not finished
        self.worker: asyncio.Task[None] | None = None  # the worker while its probe is in flight

    def configure(self, config: hc_pb.CheckConfig, wire: bytes, checker: Checker) -> None:
        """Take a (new) config; health and counters stay."""
        self.wire = wire
        self.checker = checker
        self.interval = config.interval_ms / 1000.0 if config.interval_ms else DEFAULT_INTERVAL_S
        self.timeout = config.timeout_ms / 1000.0 if config.timeout_ms else DEFAULT_TIMEOUT_S
        self.health.retries = config.retries

    @property
    def config(self) -> hc_pb.CheckConfig:
        return hc_pb.CheckConfig.FromString(self.wire)

    def record(self, result: Result, wall: float) -> Transition | None:
        self.message = result.message
        self.latency = result.latency
        self.checked = wall
        return self.health.observe(result.ok)

    def result_pb(self) -> hc_pb.CheckResult:
        h = self.health
        return hc_pb.CheckResult(
            id=self.id,
            state=int(h.state),
            message=self.message,
            latency_us=int(self.latency * 1e6),
            checked_unix_ms=int(self.checked * 1000),
            successes=h.successes,
            failures=h.failures,
            consecutive_failures=h.consecutive_failures,
        )

    def status_pb(self) -> hc_pb.CheckStatus:
        return hc_pb.CheckStatus(config=self.config, last=self.result_pb())
