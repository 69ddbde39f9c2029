"""The planner: desired state, what NCC applied, what the kernel holds -> ordered steps.

Pure: no I/O, no clock, no dataplane. Everything that decides what NCC writes
lives here, and these are the rules it keeps:

* A partition listed in a request replaces that partition; a partition listed
  empty is removed; `replace_all` also removes every engine partition not
  listed (never the LB interface's, which has its own switch).
* Each object belongs to one partition. A partition that claims an object
  another partition keeps is refused that object (an ObjectError naming the
  owner); within one request the first claim wins. A service refused takes its
  destinations with it. An object can move between partitions replaced in the
  same request, and a move with no change costs nothing.
* An object the engine sent in a form NCC could not accept (`Partition.held`)
  keeps its previous version, so bad input never disturbs what runs.
* Wanted and absent from the kernel: ADD. Wanted and different: UPDATE, one
  step per object, whatever changed. Wanted and identical: nothing, which is
  also how NCC adopts what it finds programmed at start.
* Only objects NCC owns (applied) are deleted, and only if still present.
  Objects the kernel holds that NCC does not own are never touched.
* Order: deletes first, dependents before what they depend on (filter,
  destination, service, vip, vlan, lb); then adds and updates the other way
  round (lb, vlan, vip, service, destination, filter). Within a kind, steps
  keep the order of the request.

`observed` is the kernel as last read (or as NCC's mirror of it); without it
the planner trusts `applied` to be what the kernel holds.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from seesaw.ncc.inventory import Inventory
from seesaw.ncc.model import LB_PARTITION, Destination, Kind, ObjectError, Ref, Request, Spec
from seesaw.ncc.steps import Step

DELETE_ORDER = (Kind.FILTER, Kind.DESTINATION, Kind.SERVICE, Kind.VIP, Kind.VLAN, Kind.LB)
ADD_ORDER = (Kind.LB, Kind.VLAN, Kind.VIP, Kind.SERVICE, Kind.DESTINATION, Kind.FILTER)

Contents = Mapping[str, Mapping[Ref, Spec] | None]
Changes = dict[str, dict[Ref, Spec] | None]


@dataclass(frozen=True)
class Plan:
    steps: tuple[Step, ...]
    errors: tuple[ObjectError, ...]
    # The new desired content of every partition the plan touches (None: removed).
    partitions: Contents
    # Objects the kernel already holds as wanted, which NCC must record as owned by
    # this partition (no step needed): adoption at start, and moves between partitions.
    adopt: tuple[tuple[str, Spec], ...] = ()

    @property
    def empty(self) -> bool:
        return not self.steps


def plan(request: Request, desired: Inventory, applied: Inventory, observed: Mapping[Ref, Spec] | None = None) -> Plan:
    """The steps that bring the kernel from `observed` to `desired` with `request` applied."""
    partitions, errors = merge(request, desired, applied)
    steps, adopt = diff(partitions, desired, applied, observed)
    return Plan(tuple(steps), tuple(errors), partitions, tuple(adopt))


def audit(desired: Inventory, applied: Inventory, observed: Mapping[Ref, Spec]) -> Plan:
    """The steps that repair every difference between what NCC owns and what the kernel holds."""
    names = dict.fromkeys([*desired.names(), *applied.names()])
    partitions = {name: desired.objects(name) or None for name in names}
    steps, adopt = diff(partitions, desired, applied, observed)
    return Plan(tuple(steps), (), partitions, tuple(adopt))


def merge(request: Request, desired: Inventory, applied: Inventory) -> tuple[Changes, list[ObjectError]]:
    """The new content of each partition the request touches, and the objects it refuses."""
    partitions: Changes = {}
    errors: list[ObjectError] = []
    listed = {p.name for p in request.partitions}
    if request.replace_all:
        for name in [*desired.names(), *applied.names()]:
            if name not in listed and name != LB_PARTITION:
                partitions[name] = None

    def keeper(item: Ref) -> str | None:
        """The partition that keeps `item` whatever this request says, if any."""
        owner = desired.owner(item)
        return owner if owner is not None and owner not in listed and owner not in partitions else None

    claimed: dict[Ref, str] = {}
    seen: set[str] = set()
    for partition in request.partitions:
        name = partition.name
        if name in seen:
            message = "listed more than once in one request; only the first was used"
            errors.append(ObjectError("partition", name or "lb", name, message))
            continue
        seen.add(name)
        content: dict[Ref, Spec] = {}
        refused_services: set[object] = set()
        for item, spec in partition.objects.items():
            if isinstance(spec, Destination) and spec.key.service in refused_services:
                continue
            holder = claimed.get(item)
            if holder is None:
                holder = keeper(item)
            if holder is not None and holder != name:
                errors.append(_conflict(item, name, holder))
                if spec.kind is Kind.SERVICE:
                    refused_services.add(spec.key)
                continue
            content[item] = spec
            claimed[item] = name
        for item, spec in _held(partition.held, desired.objects(name)):
            if item not in content and claimed.get(item, name) == name and keeper(item) is None:
                content[item] = spec
                claimed[item] = name
        partitions[name] = content or None
    return partitions, errors


def diff(
    partitions: Contents, desired: Inventory, applied: Inventory, observed: Mapping[Ref, Spec] | None
) -> tuple[list[Step], list[tuple[str, Spec]]]:
    """Steps for the partitions in `partitions`, in kernel-safe order, and the objects to adopt."""
    claimed = {item for content in partitions.values() if content for item in content}

    def wanted(item: Ref) -> bool:
        if item in claimed:
            return True
        owner = desired.owner(item)
        return owner is not None and owner not in partitions

    adds: dict[Kind, list[Step]] = {kind: [] for kind in ADD_ORDER}
    deletes: dict[Kind, list[Step]] = {kind: [] for kind in DELETE_ORDER}
    adopt: list[tuple[str, Spec]] = []
    for name, content in partitions.items():
        owned = applied.objects(name)
        for item, spec in (content or {}).items():
            current = observed.get(item) if observed is not None else applied.get(item)
            if current is None:
                adds[spec.kind].append(Step.add(name, spec))
            elif current != spec:
                adds[spec.kind].append(Step.update(name, current, spec))
            elif owned.get(item) != spec:
                adopt.append((name, spec))
        for item, old in owned.items():
            if wanted(item):
                continue
            if observed is not None:
                present = observed.get(item)
                if present is None:
                    continue  # already gone
                old = present
            deletes[old.kind].append(Step.delete(name, old))
    steps = [step for kind in DELETE_ORDER for step in deletes[kind]]
    steps.extend(step for kind in ADD_ORDER for step in adds[kind])
    return steps, adopt


def _held(held: Iterable[Ref], previous: Mapping[Ref, Spec]) -> Iterable[tuple[Ref, Spec]]:
    """The previous version of each held object; a held service keeps its destinations too."""
    for item in held:
        spec = previous.get(item)
        if spec is None:
            continue
        yield item, spec
        if spec.kind is Kind.SERVICE:
            for other, dest in previous.items():
                if isinstance(dest, Destination) and dest.key.service == spec.key:
                    yield other, dest


def _conflict(item: Ref, name: str, holder: str) -> ObjectError:
    kind, key = item
    extra = "; its destinations were not applied either" if kind is Kind.SERVICE else ""
    return ObjectError(
        str(kind),
        str(key),
        name,
        f"already belongs to partition {holder!r}{extra}. An object belongs to one partition: "
        f"remove it from {holder!r} first, or replace both partitions in one request",
    )
