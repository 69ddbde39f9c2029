"""The asyncio shell around bgpd: apply the desired BGP state, read the neighbours, audit.

One operation at a time (a lock), each in its own short VTY session:
read `show running-config`, plan (`plan.py`), type the changes
(`execute.py`), then read the config back and report any change bgpd took
but does not show. The last desired state is kept, and the audit re-applies
it when bgpd's config drifted (a restarted bgpd has forgotten everything NCC
typed into it).

With `enabled = false` and no bgpd to talk to, there is nothing to withdraw:
that is success, so a node without FRR and without anycast never sees an error.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from seesaw.ncc.bgp import neighbors as neighbor_reports
from seesaw.ncc.bgp import running
from seesaw.ncc.bgp.client import DEFAULT_TIMEOUT, VTYSession, VTYUnavailable
from seesaw.ncc.bgp.execute import execute
from seesaw.ncc.bgp.model import DISABLED, Change, Desired, Neighbor, Problem
from seesaw.ncc.bgp.plan import plan

log = logging.getLogger("seesaw.ncc.bgp")

DEFAULT_VTY = Path("/run/frr/bgpd.vty")


@dataclass
class Outcome:
    changes: list[Change] = field(default_factory=list)  # planned (dry run) or made
    problems: list[Problem] = field(default_factory=list)
    writes: int = 0


class Speaker:
    def __init__(self, vty_path: Path = DEFAULT_VTY, timeout: float = DEFAULT_TIMEOUT) -> None:
        self.vty_path = vty_path
        self.timeout = timeout
        self.desired: Desired | None = None  # the last state asked for; None: never asked, never touched
        self.writes_total = 0
        self.repairs_total = 0
        self._lock = asyncio.Lock()
        self._unreachable = ""  # the last "cannot reach bgpd" reason the audit logged

    async def apply(self, desired: Desired, problems: Sequence[Problem] = (), dry_run: bool = False) -> Outcome:
        async with self._lock:
            if not dry_run:
                self.desired = desired
            outcome = await self._apply(desired, dry_run)
        outcome.problems[:0] = problems
        if outcome.writes:
            log.info("bgpd: %s", "; ".join(f"{c.op} {c.key}" for c in outcome.changes))
        for problem in outcome.problems:
            log.warning("bgpd: %s: %s", problem.key, problem.message)
        return outcome

    async def reset(self) -> Outcome:
        """Withdraw and remove what NCC owns (a clean suite stop); nothing if NCC never drove bgpd."""
        if self.desired is None:
            return Outcome()
        return await self.apply(DISABLED)

    async def neighbors(self) -> list[Neighbor]:
        """bgpd's neighbours; VTYUnavailable when bgpd cannot be reached or read."""
        async with VTYSession(self.vty_path, self.timeout) as session:
            reply = await session.command("show bgp neighbors json")
            if reply.ok:
                try:
                    return neighbor_reports.from_json(reply.output)
                except neighbor_reports.NeighborReportError as err:
                    log.debug("bgpd's JSON neighbour report did not read (%s): reading the text one", err)
            reply = await session.command("show ip bgp neighbors")  # Quagga has no JSON
            if not reply.ok:
                raise VTYUnavailable(f"bgpd at {self.vty_path} did not list its neighbours: {reply.describe()}")
            return neighbor_reports.from_text(reply.output)

    async def audit(self) -> int:
        """Re-apply the last desired state if bgpd drifted from it; the number of repairs."""
        async with self._lock:
            desired = self.desired
            if desired is None:
                return 0
            outcome = await self._apply(desired, dry_run=False)
        reachable = [p for p in outcome.problems if p.key != "bgpd"]
        unreachable = next((p.message for p in outcome.problems if p.key == "bgpd"), "")
        if unreachable != self._unreachable:
            if unreachable:
                log.warning("bgpd audit: %s", unreachable)
            else:
                log.info("bgpd audit: bgpd at %s answers again", self.vty_path)
            self._unreachable = unreachable
        if outcome.writes:
            self.repairs_total += outcome.writes
            log.warning(
                "bgpd audit: bgpd had lost or changed %d of NCC's statements (restarted?), repaired: %s",
                outcome.writes,
                "; ".join(f"{c.op} {c.key}" for c in outcome.changes),
            )
        for problem in reachable:
            log.warning("bgpd audit: %s: %s", problem.key, problem.message)
        return outcome.writes

    async def run_audits(self, stop: asyncio.Event, interval: float) -> None:
        if interval <= 0:
            return
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), interval)
            if not stop.is_set():
                await self.audit()

    async def _apply(self, desired: Desired, dry_run: bool) -> Outcome:
        try:
            async with VTYSession(self.vty_path, self.timeout) as session:
                return await self._session(session, desired, dry_run)
        except VTYUnavailable as err:
            if err.absent and not desired.enabled:
                return Outcome()  # no bgpd: nothing is advertised, as asked
            return Outcome(problems=[Problem("bgpd", str(err))])

    async def _session(self, session: VTYSession, desired: Desired, dry_run: bool) -> Outcome:
        before = await self._running(session)
        planned = plan(desired, before)
        if dry_run or not planned.changes:
            return Outcome(list(planned.changes), list(planned.problems))
        result = await execute(session, planned.changes)
        self.writes_total += len(result.done)
        problems = [*planned.problems, *result.problems]
        after = plan(desired, await self._running(session))
        done = set(result.done)
        for change in after.changes:
            if change in done:
                problems.append(
                    Problem(change.key, f"bgpd took `{change.detail()}` but its running config does not show it")
                )
        return Outcome(result.done, problems, len(result.done))

    @staticmethod
    async def _running(session: VTYSession) -> running.Running:
        reply = await session.command("show running-config")
        if not reply.ok:
            raise VTYUnavailable(f"bgpd did not show its running config: {reply.describe()}")
        return running.parse(reply.output)
