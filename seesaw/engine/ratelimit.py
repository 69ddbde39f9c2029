"""Seesaw's vserver churn limit: how much of a new config to take at once.

A config that adds or deletes many vservers is taken in steps of at most
`limit` creations or deletions (Seesaw v2: 10). Deletions go first: while
any vserver is to be deleted, no vserver is created and the vservers that
stay keep the config they run with, so a VIP moving from a deleted vserver
to a new one never exists twice. `limit` 0 means no limit. The cold load at
engine start is not limited (Seesaw limited it too, so a 35-vserver cluster
took four minutes to come up).

Nothing here does I/O; names are taken in sorted order so a step is
reproducible.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TypeVar

V = TypeVar("V")

DEFAULT_LIMIT = 10


def rate_limit(new: Mapping[str, V], old: Mapping[str, V] | None, limit: int = DEFAULT_LIMIT) -> dict[str, V]:
    """The vservers to run now, on the way from `old` to `new`."""
    if old is None or limit <= 0:
        if old is None and limit > 0:
            return {name: new[name] for name in sorted(new)[:limit]}
        return dict(new)
    deletions = sorted(name for name in old if name not in new)
    if deletions:
        delayed = set(deletions[limit:])
        return {name: vs for name, vs in old.items() if name in new or name in delayed}
    limited: dict[str, V] = {}
    added = 0
    for name in sorted(new):
        if name in old:
            limited[name] = new[name]
        elif added < limit:
            limited[name] = new[name]
            added += 1
    return limited


def pending_changes(target: Mapping[str, V], running: Mapping[str, V]) -> tuple[int, int]:
    """(creations, deletions) still to come before `running` is `target`'s set."""
    return sum(1 for n in target if n not in running), sum(1 for n in running if n not in target)
