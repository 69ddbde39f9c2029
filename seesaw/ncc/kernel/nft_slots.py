"""Slot layouts: how a service's destinations fill the slots its packets are spread over.

The nftables dataplane picks a destination as `slot = <selector> mod N`, then
looks the slot up in a map. This file decides N and what each slot holds,
so that the selector reproduces the IPVS scheduler:

* rr: every destination with a non-zero weight holds one slot (IPVS rr
  ignores weights; weight 0 quiesces a destination: no new connections).
* wrr (and the connection-counting schedulers lc, wlc, sed, nq, fo, ovf,
  lblc, lblcr, dh, twos, which nftables cannot count for): weights reduced by
  their greatest common divisor become slot counts, interleaved smoothly
  (nginx's smooth weighted round robin), so `numgen inc` visits destinations
  as IPVS wrr does. Above MAX_SLOTS the weights are scaled down (largest
  remainder, at least one slot each).
* sh: the same slots, picked by a source hash; the order is irrelevant.
* mh: a Maglev lookup table of MH_SLOTS slots (IPVS's default size), filled
  by each destination's permutation, weight turns per round; a change of one
  destination moves few slots.

Pure and deterministic: destinations are ordered by address and port, and
hashes are stable across processes, so two nodes (and one node before and
after a restart) compute the same layout from the same destinations.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence
from typing import TypeVar

MAX_SLOTS = 256
MH_SLOTS = 251  # prime, as IPVS's ip_vs_mh table

T = TypeVar("T")

# Schedulers whose layout is the weighted round robin one.
WEIGHTED = frozenset({"wrr", "lc", "wlc", "sed", "nq", "fo", "ovf", "lblc", "lblcr", "dh", "twos"})


def layout(scheduler: str, members: Sequence[tuple[T, int]]) -> list[T]:
    """The slots (one member each) for `members` as (member, weight), in a stable order given by the caller."""
    if scheduler != "mh" and len({weight for _, weight in members}) == 1 and len(members) <= MAX_SLOTS:
        # equal weights (the usual case): one slot each, in order, whatever the layout
        return [member for member, weight in members if weight > 0]
    active = [(member, weight) for member, weight in members if weight > 0]
    if not active:
        return []
    if scheduler == "rr":
        return [member for member, _ in active]
    if scheduler == "mh":
        return maglev(active, MH_SLOTS)
    return smooth(active, slot_counts([weight for _, weight in active]))


def slot_counts(weights: Sequence[int], limit: int = MAX_SLOTS) -> list[int]:
    """Weights as slot counts: divided by their gcd, scaled to at most `limit` slots in all (at least 1 each)."""
    divisor = math.gcd(*weights)
    counts = [weight // divisor for weight in weights]
    total = sum(counts)
    if total <= limit:
        return counts
    if len(counts) > limit:
        raise ValueError(f"{len(counts)} destinations do not fit in {limit} slots")
    # Everyone keeps one slot; the rest is shared by largest remainder.
    spare = limit - len(counts)
    shares = [(count - 1) * spare / (total - len(counts)) for count in counts]
    extra = [math.floor(share) for share in shares]
    order = sorted(range(len(counts)), key=lambda i: (extra[i] - shares[i], i))
    for i in order[: spare - sum(extra)]:
        extra[i] += 1
    return [1 + e for e in extra]


def smooth(members: Sequence[tuple[T, int]], counts: Sequence[int]) -> list[T]:
    """`counts[i]` slots for member i, interleaved by smooth weighted round robin."""
    total = sum(counts)
    if total == len(counts):  # equal weights: one slot each, in order
        return [member for member, _ in members]
    current = [0] * len(counts)
    slots = []
    for _ in range(total):
        for i, count in enumerate(counts):
            current[i] += count
        best = max(range(len(counts)), key=lambda i: (current[i], -i))
        current[best] -= total
        slots.append(members[best][0])
    return slots


def maglev(members: Sequence[tuple[T, int]], size: int) -> list[T]:
    """A Maglev lookup table of `size` (prime) slots; each member takes `weight` turns per round (gcd-reduced)."""
    turns = slot_counts([weight for _, weight in members], limit=size)
    permutations = [_permutation(repr(member), size) for member, _ in members]
    nexts = [0] * len(members)
    table: list[int | None] = [None] * size
    filled = 0
    while filled < size:
        for i, perm in enumerate(permutations):
            for _ in range(turns[i]):
                while table[perm(nexts[i])] is not None:
                    nexts[i] += 1
                table[perm(nexts[i])] = i
                nexts[i] += 1
                filled += 1
                if filled == size:
                    break
            if filled == size:
                break
    return [members[i][0] for i in table if i is not None]


def _permutation(name: str, size: int) -> _Permutation:
    digest = hashlib.blake2b(name.encode(), digest_size=16).digest()
    offset = int.from_bytes(digest[:8], "big") % size
    skip = int.from_bytes(digest[8:], "big") % (size - 1) + 1
    return _Permutation(offset, skip, size)


class _Permutation:
    __slots__ = ("offset", "size", "skip")

    def __init__(self, offset: int, skip: int, size: int) -> None:
        self.offset, self.skip, self.size = offset, skip, size

    def __call__(self, j: int) -> int:
        return (self.offset + j * self.skip) % self.size
