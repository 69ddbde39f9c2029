"""How long HA keeps its place in the election without the engine (pure).

Rules this file keeps:

* The kernel keeps forwarding while the engine is away; the engine is only
  the brain. So when a session with the engine breaks without a word (the
  engine was SIGKILLed or crashed, and the watchdog restarts it), HA keeps its
  role, a leader keeps advertising, for `grace` seconds while it reconnects.
  An engine back in time finds nothing changed.
* Once `grace` has passed without the engine, HA leaves the election (a
  leader with a priority-0 advert, so the peer takes over at once).
* An engine that says it is stopping (`HACommand.stopping`), or that ends the
  session itself, is gone for good: HA leaves at once, as it does with a
  grace of 0.
* A new session (the engine's first command) ends the wait.
* Leaving because a connected engine vanished (the grace ran out, or a
  grace of 0) is `abandoned`: nothing else will take this node's LB
  interface down, so HA must have NCC do it (seesaw.ha.lb_release). An
  engine that stopped, or one never seen, leaves nothing to take down.

Events in (`connected`, `lost`, `stopped`), decisions and the one deadline
out; time comes from the injected clock. The shell is seesaw.ha.engine_link.
"""

from __future__ import annotations

import enum

from seesaw.common.clock import Clock

DEFAULT_GRACE = 10.0  # seconds: longer than a watchdog restart of the engine


class Presence(enum.Enum):
    NEVER = "never connected"
    CONNECTED = "connected"
    WAITING = "waiting for the engine to come back"
    GONE = "gone"


class EngineGrace:
    def __init__(self, clock: Clock, grace: float = DEFAULT_GRACE) -> None:
        self._clock = clock
        self.grace = grace
        self.presence = Presence.NEVER
        self.abandoned = False  # left because a connected engine vanished (not because it stopped)
        self._deadline: float | None = None

    @property
    def deadline(self) -> float | None:
        """Monotonic time at which HA leaves the election unless the engine is back; None if not waiting."""
        return self._deadline

    def connected(self) -> None:
        """A session with the engine works (its first command arrived)."""
        self.presence = Presence.CONNECTED
        self.abandoned = False
        self._deadline = None

    def lost(self) -> bool:
        """The session broke without a word; True if HA must leave the election now."""
        if self.presence == Presence.WAITING:
            return False  # a failed reconnect: the clock started when the session broke
        if self.presence != Presence.CONNECTED or self.grace <= 0:
            return self._gone(abandoned=self.presence == Presence.CONNECTED)
        self.presence = Presence.WAITING
        self._deadline = self._clock.monotonic() + self.grace
        return False

    def stopped(self) -> bool:
        """The engine said it stops for good (or ended the session itself); True: leave the election now."""
        return self._gone()

    def expired(self) -> bool:
        """True once, when the grace has run out: leave the election now."""
        if self._deadline is None or self._clock.monotonic() < self._deadline:
            return False
        return self._gone(abandoned=True)

    def _gone(self, abandoned: bool = False) -> bool:
        self.presence = Presence.GONE
        self.abandoned = self.abandoned or abandoned  # until the engine is back
        self._deadline = None
        return True
