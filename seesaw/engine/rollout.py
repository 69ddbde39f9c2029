"""Safe rollout of a new config, as pure functions: what it changes, whether
the engine takes it, and in how many steps.

* `diff` compares the running cluster config with a candidate, vserver by
  vserver (added, removed, changed with one line per difference) and for
  everything outside the vservers; `settings_changes` does the same for
  seesaw.cfg. `seesaw config diff` shows the result.
* `deletion_problems` is the refusal rule: a config that deletes more than
  `max_delete_share` of the running vservers (and more than one) is refused
  unless forced, so a truncated or wrong file cannot empty a load balancer.
* `steps` counts the churn-limited steps (`ratelimit`) the change takes.

Nothing here does I/O.
"""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TypeVar

from seesaw.config.model import Cluster, Vserver
from seesaw.config.settings import Settings
from seesaw.engine import ratelimit

V = TypeVar("V")

# How a field or map of the model is named in a diff line.
_LABELS = {
    "entries": "entry",
    "backends": "backend",
    "healthchecks": "healthcheck",
    "vips": "VIP",
    "access_grants": "access grant",
    "nodes": "node",
    "vlans": "VLAN",
    "vip_subnets": "dedicated VIP subnet",
    "bgp_peers": "BGP peer",
    "access_groups": "access group",
    "host": "address",
    "vip": "cluster VIP",
}
# Derived counters that do not describe the config.
_IGNORED = {"backend_count", "vip_count"}


@dataclass(frozen=True)
class VserverDiff:
    name: str
    kind: str  # "added", "removed", "changed"
    details: tuple[str, ...] = ()


@dataclass(frozen=True)
class ClusterDiff:
    vservers: tuple[VserverDiff, ...]
    cluster: tuple[str, ...]  # changes outside the vservers, metadata included
    metadata_only: bool

    @property
    def changed(self) -> bool:
        return bool(self.vservers or self.cluster)

    def count(self, kind: str) -> int:
        return sum(1 for v in self.vservers if v.kind == kind)


def diff(running: Cluster | None, candidate: Cluster) -> ClusterDiff:
    """What taking `candidate` changes against `running` (None: nothing runs yet)."""
    if running is None:
        added = tuple(VserverDiff(name, "added") for name in sorted(candidate.vservers))
        return ClusterDiff(added, ("no config is running: everything is new",), False)
    vservers: list[VserverDiff] = []
    for name in sorted(running.vservers.keys() | candidate.vservers.keys()):
        old, new = running.vservers.get(name), candidate.vservers.get(name)
        if old is None:
            vservers.append(VserverDiff(name, "added"))
        elif new is None:
            vservers.append(VserverDiff(name, "removed"))
        elif old != new:
            vservers.append(VserverDiff(name, "changed", tuple(vserver_changes(old, new))))
    cluster: list[str] = []
    for f in dataclasses.fields(Cluster):
        if f.name in ("vservers", "metadata") or not f.compare:
            continue
        cluster.extend(_changes(_label(f.name), getattr(running, f.name), getattr(candidate, f.name)))
    metadata = _changes("metadata", running.metadata, candidate.metadata)
    return ClusterDiff(tuple(vservers), tuple(cluster + metadata), bool(metadata) and not vservers and not cluster)


def vserver_changes(old: Vserver, new: Vserver) -> list[str]:
    """One line per difference between two versions of a vserver."""
    out: list[str] = []
    for f in dataclasses.fields(Vserver):
        if f.compare and f.name != "name":
            out.extend(_changes(_label(f.name), getattr(old, f.name), getattr(new, f.name)))
    return out


def settings_changes(old: Settings, new: Settings) -> list[str]:
    """seesaw.cfg values that differ, one line each."""
    out: list[str] = []
    for f in dataclasses.fields(Settings):
        if f.compare:
            out.extend(_changes(f"seesaw.cfg {f.name}", getattr(old, f.name), getattr(new, f.name)))
    return out


def deletion_problems(running: Mapping[str, V] | None, candidate: Mapping[str, V], max_share: float) -> list[str]:
    """Why a config that deletes too many of the running vservers is refused (empty: it is not)."""
    if not running:
        return []
    deleted = sum(1 for name in running if name not in candidate)
    if deleted <= 1 or deleted <= max_share * len(running):
        return []
    return [
        f"this config deletes {deleted} of the {len(running)} running vservers, more than max_delete_share = "
        f"{max_share:g} ([engine] in seesaw.cfg) allows; check the config, then take it with "
        "`config reload force`, or raise max_delete_share (1 allows any) and reload"
    ]


def steps(target: Mapping[str, V], running: Mapping[str, V] | None, limit: int) -> int:
    """How many churn-limited config updates lead from `running` to `target` (0: none needed).

    The first config of an engine (`running` None) is taken whole.
    """
    if running is None:
        return 1
    goal = dict(target)
    current = dict(running)
    count = 0
    while current != goal and count <= len(goal) + len(current):
        current = ratelimit.rate_limit(goal, current, limit)
        count += 1
    return count


# ------------------------------------------------------------------------------------------------- comparing


def _label(name: str) -> str:
    return _LABELS.get(name, name.replace("_", " "))


def _changes(path: str, old: object, new: object) -> list[str]:
    """Lines naming each leaf value that differs between `old` and `new`."""
    if old == new:
        return []
    if dataclasses.is_dataclass(old) and type(old) is type(new) and not isinstance(old, type):
        out: list[str] = []
        for f in dataclasses.fields(old):
            if f.compare and f.name not in _IGNORED:
                out.extend(_changes(f"{path} {_label(f.name)}", getattr(old, f.name), getattr(new, f.name)))
        return out
    if isinstance(old, Mapping) and isinstance(new, Mapping):
        out = []
        for key in sorted(old.keys() | new.keys(), key=str):
            where = f"{path} {key}"
            if key not in new:
                out.append(f"{where} removed")
            elif key not in old:
                out.append(f"{where} added")
            else:
                out.extend(_changes(where, old[key], new[key]))
        return out
    return [f"{path}: {_show(old)} -> {_show(new)}"]


def _show(value: object) -> str:
    if value is None or value == "":
        return "(none)"
    if isinstance(value, enum.Enum):
        return value.name
    if isinstance(value, tuple | list):
        return "[" + ", ".join(_show(v) for v in value) + "]"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)
