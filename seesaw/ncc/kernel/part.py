"""A part of a kernel dataplane: the objects of some kinds, on one kernel API.

A kernel dataplane is assembled from parts (see composite.py):

    services      IPVS (ipvs.py) or nftables (nft_services.py)   SERVICE, DESTINATION
    host network  pyroute2 + /proc/sys (host.py)                  LB, VLAN, VIP
    filters       nftables (nft_filters.py), when nftables exists FILTER

Each part reads and writes only its own kinds; the composite routes every
step to the part that owns its kind, in plan order, batching consecutive
steps of one part into one `apply` call.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from seesaw.ncc.dataplane import KernelState
from seesaw.ncc.model import IPAddress, Kind
from seesaw.ncc.steps import Step, StepResult


class Part(Protocol):
    kinds: frozenset[Kind]

    def read(self) -> KernelState:
        """What the kernel holds now for this part's kinds (NCC's objects or not), with counters."""
        ...

    def apply(self, steps: Sequence[Step]) -> list[StepResult]:
        """Perform `steps` (all of this part's kinds), one result per step, in order.

        A step the kernel rejects fails alone with a message that names the
        object and says what to do; the others still happen.
        """
        ...

    def close(self) -> None:
        """Release sockets and handles; never change kernel state."""
        ...


class Announcer(Protocol):
    """The part that can announce addresses (gratuitous ARP / unsolicited NA)."""

    def send_gratuitous_arp(self, interface: str, address: IPAddress) -> None: ...
