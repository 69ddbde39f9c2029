"""The one interface between NCC and a kernel dataplane.

Three implementations: `ipvs` (pyroute2, generic netlink), `nftables`
(libnftables, one atomic transaction per apply) and `sim` (an in-memory
kernel model, see sim.py). NCC's planner and service know only this protocol;
`select.py` picks the implementation.

A dataplane is driven from one thread at a time (NCC serialises every call),
and its calls may block: NCC runs them off the event loop.

* `read()` says what is programmed now, NCC's or not, with counters.
* `apply(steps)` performs the steps in order, batched however the kernel
  likes, and returns one result per step. A step the kernel rejects fails
  alone with a message an operator can act on; the others still happen
  (a transactional dataplane retries a failed batch step by step to find the
  culprit). LB interface, VLAN, VIP and filter changes are steps like any
  other.
* `send_gratuitous_arp(interface, address)` announces one address.
* `close()` releases sockets and handles; it never changes kernel state.
* optionally, `inline_safe(steps)`: whether `apply(steps)` is quick and
  runs no event loop of its own, so NCC may call it on its event loop's
  thread and spare a small plan the hop to a worker thread and back.
  pyroute2's synchronous API runs an asyncio loop inside every call, which
  fails on a thread whose loop is running: a dataplane that may reach
  pyroute2 for these steps says False (and one without the method is never
  called inline).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

from seesaw.ncc.model import IPAddress, Ref, Spec, Stats
from seesaw.ncc.steps import Step, StepResult


@dataclass
class KernelState:
    """Everything a dataplane holds: objects by ref, and counters for services and destinations."""

    objects: dict[Ref, Spec] = field(default_factory=dict)
    stats: dict[Ref, Stats] = field(default_factory=dict)

    def add(self, part: KernelState) -> None:
        """Take in what one part of a dataplane holds."""
        self.objects.update(part.objects)
        self.stats.update(part.stats)


@dataclass(frozen=True)
class TakeoverKit:
    """A takeover's first moves, ready ahead: set link `index` (`interface`) up and send `frames` on it.

    Made by the part that owns the LB interface while it is down, as set up; carried out by seesaw-ha
    itself the moment it leads (see runner.py, the takeover kit).
    """

    interface: str
    index: int
    frames: tuple[bytes, ...]
    neighbours: tuple[str, ...] = ()  # DSR destinations to resolve again once the link runs (the runner's)


class DataplaneError(Exception):
    """A kernel refused an operation. `errno` is the kernel's error number when there is one."""

    def __init__(self, message: str, errno: int | None = None) -> None:
        super().__init__(message)
        self.errno = errno


# Optional, for the part that owns the LB interface (runner.py's takeover): `express(steps, raised=False,
# neighbours=())`, a takeover's first moves ahead of the steps' apply (`raised`: HA set the link up already;
# only the burst and its repeats; `neighbours`: addresses to resolve on a link it raises, once it runs),
# True if it raised (or announced) an LB interface; `takeover_kit(lb)`, those moves for
# LB interface `lb` (as applied, down) made ready for HA to carry out itself, or None.


class StaleRead(DataplaneError):
    """A read made beside an apply (off the dataplane's lock) may be older than the kernel: not taken in."""


class Dataplane(Protocol):
    name: str

    def read(self) -> KernelState: ...

    # Optional: `read_parts() -> list[Callable[[], KernelState]]`, the read split into independent pieces
    # (composite.py's parts); the runner's audit then lets an Apply in between them.

    def apply(self, steps: Sequence[Step]) -> list[StepResult]: ...

    def send_gratuitous_arp(self, interface: str, address: IPAddress) -> None: ...

    def close(self) -> None: ...
