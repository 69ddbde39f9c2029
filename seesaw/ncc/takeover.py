"""Whose word on the LB interface counts: HA's own takeover (NCC.Takeover) or the engine's Apply. Pure.

HA tells NCC the moment it leads (seesaw.ha.lb_takeover); the engine's Apply
follows a few milliseconds later, carrying the HA state it follows
(LBInterface.ha_since_unix_ms). The runner's express lane raises the LB
interface at once; these rules keep the engine's word last:

* a takeover older than the HA state the engine last spoke for is refused;
* an engine "down" older than the latest takeover is not carried out (the
  engine sent it before HA's report reached it); a newer one is, and since
  the express lane raised the interface behind the reconciler's back, the
  runner records that first (`pending`), so the "down" is a change;
* any engine word on the LB interface settles the takeover;
* audits repair nothing for SETTLE seconds after a takeover (they would take
  the interface down before the engine's word came), nor when one overtook
  their read (`overtaken` changed).

Times: HA's and the engine's wall-clock ms for the words, the caller's
monotonic seconds for the settle.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Generic, TypeVar

from seesaw.ncc.model import Kind
from seesaw.ncc.steps import Op, Step

SETTLE = 5.0  # seconds after a takeover that audits leave the LB interface be

S = TypeVar("S")


class TakeoverOrder(Generic[S]):
    def __init__(self, settle: float = SETTLE) -> None:
        self.settle = settle
        self.takeover_since = 0  # HA's time (ms) of the latest leadership it announced itself
        self.engine_since = 0  # ... and of the latest HA state the engine's word followed
        self.overtaken = 0  # takeovers so far: an audit whose read one overtook repairs nothing
        self.pending: S | None = None  # the last takeover's step, until the engine's word comes
        self._at = -math.inf  # monotonic time of the last takeover

    def refuses(self, since_ms: int) -> str:
        """Why a takeover HA announced for `since_ms` is refused ("" if not); an accepted one counts as the
        latest."""
        if since_ms < self.engine_since:
            return "the engine has spoken for a later HA state"
        self.takeover_since = max(self.takeover_since, since_ms)
        return ""

    def carries(self, up: bool, since_ms: int) -> bool:
        """Whether the engine's word (`up`, following the HA state of `since_ms`) is carried out."""
        self.engine_since = max(self.engine_since, since_ms)
        return up or not since_ms or since_ms >= self.takeover_since

    def took_over(self, step: S, now: float) -> None:
        """The express lane raised the LB interface (`step`) at `now`."""
        self.overtaken += 1
        self._at = now
        self.pending = step

    def settled(self) -> S | None:
        """The engine's word came: the takeover it settles, if one was pending."""
        step, self.pending = self.pending, None
        return step

    def settling(self, now: float) -> bool:
        return now - self._at < self.settle


KIT_KINDS = frozenset({Kind.LB, Kind.VLAN, Kind.VIP})  # what a takeover kit's link and frames are made from


def remakes_kit(steps: Iterable[Step]) -> bool:
    """Whether steps applied change HA's takeover kit (runner.kits): the LB interface, its VLANs or VIPs,
    or a destination coming, going or changing how it is forwarded (the kit names the DSR destinations to
    resolve; a weight alone changes nothing)."""
    return any(step.kind in KIT_KINDS or (step.kind is Kind.DESTINATION and _forwarding_moved(step)) for step in steps)


def _forwarding_moved(step: Step) -> bool:
    if step.op is not Op.UPDATE:
        return True
    old, new = step.old, step.new
    return getattr(old, "forwarding", None) != getattr(new, "forwarding", None)
