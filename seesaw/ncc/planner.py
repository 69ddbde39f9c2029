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
* A partition listed `unchanged` (sent again byte for byte, see model.py)
  keeps its content and costs nothing, unless another partition of the
  request claims one of its objects: then it is planned with the content it
  has, as if sent in full, so the first claim still wins.
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
from dataclasses import dataclass, field

from seesaw.ncc.inventory import Inventory
from seesaw.ncc.model import LB_PARTITION, Destination, Kind, ObjectError, Ref, Request, Spec
from seesaw.ncc.steps import Op, Step

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
    # The fingerprint of each partition the request sent in full (see model.Partition).
    fingerprints: Mapping[str, bytes] = field(default_factory=dict)

    @property
    def empty(self) -> bool:
        return not self.steps


def plan(request: Request, desired: Inventory, applied: Inventory, observed: Mapping[Ref, Spec] | None = None) -> Plan:
    """The steps that bring the kernel from `observed` to `desired` with `request` applied."""
    partitions, errors = merge(request, desired, applied)
    steps, adopt = diff(partitions, desired, applied, observed)
    fingerprints = {p.name: p.fingerprint for p in request.partitions if p.fingerprint}
    return Plan(tuple(steps), tuple(errors), partitions, tuple(adopt), fingerprints)


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
        # by name: the steps' order must not depend on the order partitions were last replaced in
        for name in sorted({*desired.names(), *applied.names()} - listed - {LB_PARTITION}):
            partitions[name] = None
    owners = desired.owners
    contested = _contested(request, owners)

    claimed: dict[Ref, str] = {}
    seen: set[str] = set()
    for partition in request.partitions:
        name = partition.name
        if name in seen:
            message = "listed more than once in one request; only the first was used"
            errors.append(ObjectError("partition", name or "lb", name, message))
            continue
        seen.add(name)
        objects = partition.objects
        if partition.unchanged:
            if name not in contested:
                continue  # it keeps what it has
            objects = desired.objects(name)
        refused: set[Ref] = set()
        refused_services: set[object] = set()
        for item, spec in objects.items():
            if refused_services and isinstance(spec, Destination) and spec.key.service in refused_services:
                refused.add(item)
                continue
            holder = claimed.get(item)
            if holder is None and _kept(item, owners, listed, partitions):
                holder = owners[item]
            if holder is not None and holder != name:
                errors.append(_conflict(item, name, holder))
                refused.add(item)
                if item[0] is Kind.SERVICE:
                    refused_services.add(spec.key)
                continue
            claimed[item] = name
        content: dict[Ref, Spec] = (
            {item: spec for item, spec in objects.items() if item not in refused} if refused else dict(objects)
        )
        for item, spec in _held(partition.held, desired.objects(name)):
            if item not in content and claimed.get(item, name) == name and not _kept(item, owners, listed, partitions):
                content[item] = spec
                claimed[item] = name
        partitions[name] = content or None
    return partitions, errors


def _contested(request: Request, owners: Mapping[Ref, str]) -> set[str]:
    """The partitions listed unchanged that another partition of the request claims an object of."""
    unchanged = {p.name for p in request.partitions if p.unchanged}
    if not unchanged:
        return set()
    contested = set()
    for partition in request.partitions:
        for item in partition.objects:
            owner = owners.get(item)
            if owner is not None and owner != partition.name and owner in unchanged:
                contested.add(owner)
    return contested


def _kept(item: Ref, owners: Mapping[Ref, str], listed: set[str], partitions: Changes) -> bool:
    """Whether a partition the request leaves alone keeps `item`, whatever the request says."""
    owner = owners.get(item)
    return owner is not None and owner not in listed and owner not in partitions


def diff(
    partitions: Contents, desired: Inventory, applied: Inventory, observed: Mapping[Ref, Spec] | None
) -> tuple[list[Step], list[tuple[str, Spec]]]:
    """Steps for the partitions in `partitions`, in kernel-safe order, and the objects to adopt."""
    owners = desired.owners
    claimed: set[Ref] | None = None  # made when first needed: a cold apply owns nothing to delete

    def wanted(item: Ref) -> bool:
        nonlocal claimed
        if claimed is None:
            claimed = {item for content in partitions.values() if content for item in content}
        if item in claimed:
            return True
        owner = owners.get(item)
        return owner is not None and owner not in partitions

    current_of = observed.get if observed is not None else applied.get
    add, update, delete = Op.ADD, Op.UPDATE, Op.DELETE  # enum members are slow attribute lookups
    adds: dict[Kind, list[Step]] = {kind: [] for kind in ADD_ORDER}
    deletes: dict[Kind, list[Step]] = {kind: [] for kind in DELETE_ORDER}
    adopt: list[tuple[str, Spec]] = []
    for name, content in partitions.items():
        owned = applied.objects(name)
        if content:
            for item, spec in content.items():
                current = current_of(item)
                if current is None:
                    adds[item[0]].append(Step(add, name, spec, None, item))
                elif current is not spec and current != spec:
                    adds[item[0]].append(Step(update, name, spec, current, item))
                else:
                    mine = owned.get(item)
                    if mine is not spec and mine != spec:
                        adopt.append((name, spec))
        for item, old in owned.items():
            if (content and item in content) or wanted(item):
                continue
            if observed is not None:
                present = observed.get(item)
                if present is None:
                    continue  # already gone
                old = present
            deletes[item[0]].append(Step(delete, name, None, old, item))
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
