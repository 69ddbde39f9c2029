"""KernelDataplane: one Dataplane made of parts, each owning some kinds of object.

    KernelDataplane("ipvs", [IPVSServices(), HostNetwork(), NftFilters()])

* `apply` keeps the plan's order: it walks the steps, cuts them into runs of
  consecutive steps owned by one part, and hands each run to its part in one
  `apply` call (so a part batches its kernel writes). A part that fails as a
  whole fails only its own run; the other parts' steps still happen. A step
  of a kind no part owns fails alone, saying which part is missing.
* `read` merges every part's objects and counters.
* `inline_safe(steps)` (see dataplane.py): True if every part the steps go to
  says so for its own steps; a part without the method never is.
* `send_gratuitous_arp` goes to the part that owns the LB interface (the host part).
* `express(steps, raised)`: a takeover's first moves (LB interface up, the burst), to the part that owns
  the LB interface if it has them; the runner's express lane (runner.py). `takeover_kit(lb)`: the same
  moves made ready for HA (dataplane.TakeoverKit), from that part too.
* `close` closes every part.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import cast

from seesaw.ncc.dataplane import DataplaneError, KernelState, TakeoverKit
from seesaw.ncc.kernel.part import Announcer, Part
from seesaw.ncc.model import IPAddress, Kind, LBInterface
from seesaw.ncc.steps import Step, StepResult

log = logging.getLogger("seesaw.ncc")

_MISSING = {
    Kind.FILTER: "VIP filtering needs nftables, which is not usable here: install nftables, libnftables1 and "
    "its Python binding (apt-get install nftables libnftables1 python3-nftables, or pip install pip-nftables)",
}


class KernelDataplane:
    def __init__(self, name: str, parts: Sequence[Part]) -> None:
        self.name = name
        self.parts = tuple(parts)
        self._owner: dict[Kind, Part] = {}
        for part in self.parts:
            for kind in part.kinds:
                if kind in self._owner:
                    raise ValueError(f"two parts of the {name} dataplane own {kind} objects")
                self._owner[kind] = part
        host = self._owner.get(Kind.LB)  # the part that holds the interfaces announces on them
        announces = callable(getattr(host, "send_gratuitous_arp", None))
        self._announcer: Announcer | None = cast(Announcer, host) if announces else None

    def read_parts(self) -> list[Callable[[], KernelState]]:
        """Each part's read on its own: the runner's audit reads them one at a time, an Apply may come between."""
        return [part.read for part in self.parts]

    def read(self) -> KernelState:
        state = KernelState()
        for read in self.read_parts():
            state.add(read())
        return state

    def apply(self, steps: Sequence[Step]) -> list[StepResult]:
        results: list[StepResult] = []
        start = 0
        while start < len(steps):
            part = self._owner.get(steps[start].kind)
            end = start + 1
            while end < len(steps) and self._owner.get(steps[end].kind) is part:
                end += 1
            run = steps[start:end]
            results.extend(self._run(part, run))
            start = end
        return results

    def inline_safe(self, steps: Sequence[Step]) -> bool:
        runs: dict[int, tuple[Part | None, list[Step]]] = {}
        for step in steps:
            part = self._owner.get(step.kind)
            runs.setdefault(id(part), (part, []))[1].append(step)
        for part, run in runs.values():
            check = getattr(part, "inline_safe", None)
            if not callable(check) or not check(run):
                return False
        return True

    def send_gratuitous_arp(self, interface: str, address: IPAddress) -> None:
        if self._announcer is None:
            raise DataplaneError(f"the {self.name} dataplane has no part that announces addresses")
        self._announcer.send_gratuitous_arp(interface, address)

    def express(self, steps: Sequence[Step], raised: bool = False, neighbours: Sequence[str] = ()) -> bool:
        """The LB interface part's takeover fast path, ahead of the steps' own apply (best effort); True if
        it raised (`raised`: announced) the LB interface. `neighbours`: to resolve on it once it runs."""
        express = getattr(self._owner.get(Kind.LB), "express", None)
        return bool(express(steps, raised, neighbours)) if callable(express) else False

    def takeover_kit(self, lb: LBInterface) -> TakeoverKit | None:
        """The LB interface part's takeover kit for `lb`, if it makes them."""
        kit = getattr(self._owner.get(Kind.LB), "takeover_kit", None)
        return cast(TakeoverKit | None, kit(lb)) if callable(kit) else None

    def close(self) -> None:
        for part in self.parts:
            try:
                part.close()
            except Exception:  # one part failing to close must not keep the others open
                log.exception("closing a part of the %s dataplane failed", self.name)

    def _run(self, part: Part | None, run: Sequence[Step]) -> list[StepResult]:
        if part is None:
            kind = run[0].kind
            why = _MISSING.get(kind, f"this build has no part for {kind} objects")
            return [StepResult(step, f"not applied by the {self.name} dataplane: {why}") for step in run]
        try:
            results = part.apply(run)
        except DataplaneError as err:
            log.error("a part of the %s dataplane failed: %s", self.name, err)
            return [StepResult(step, f"not applied: {err}", err.errno) for step in run]
        if len(results) != len(run):
            raise AssertionError(f"{type(part).__name__} returned {len(results)} results for {len(run)} steps")
        return results
