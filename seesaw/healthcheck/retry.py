"""A check's health, from the stream of its results (Seesaw v2's rule, healthcheck/core.go).

Everything that decides a transition lives in this file; it knows nothing of
time, sockets or the engine. The rules, all of them:

1. A check starts UNKNOWN.
2. A success makes it HEALTHY and resets the count of consecutive failures.
3. A failure makes it UNHEALTHY, unless it is HEALTHY now and this failure is
   at most the `retries`-th in a row: then it stays HEALTHY (a retry).
4. So from UNKNOWN the first result applies at once, whatever `retries` is,
   and one success always restores HEALTHY.
5. Only a change of state is news: `observe` returns it, or None.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from seesaw.pb import common_pb2


class Health(enum.IntEnum):
    """Values are those of seesaw.common.HealthState."""

    UNKNOWN = common_pb2.HEALTH_UNKNOWN
    UNHEALTHY = common_pb2.HEALTH_UNHEALTHY
    HEALTHY = common_pb2.HEALTH_HEALTHY


@dataclass(frozen=True, slots=True)
class Transition:
    old: Health
    new: Health


@dataclass(slots=True)
class RetryState:
    retries: int = 0
    state: Health = Health.UNKNOWN
    consecutive_failures: int = 0
    successes: int = 0
    failures: int = 0

    def observe(self, ok: bool) -> Transition | None:
        """Take one result; return the transition it causes, if any."""
        if ok:
            self.successes += 1
            self.consecutive_failures = 0
            new = Health.HEALTHY
        else:
            self.failures += 1
            self.consecutive_failures += 1
            retrying = self.state == Health.HEALTHY and self.consecutive_failures <= self.retries
            new = Health.HEALTHY if retrying else Health.UNHEALTHY
        if new == self.state:
            return None
        old, self.state = self.state, new
        return Transition(old, new)
