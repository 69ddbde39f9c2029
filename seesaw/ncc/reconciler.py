"""NCC's core: what the engine wants, what NCC owns, and NCC's mirror of the kernel.

Sans-IO. The shell (runner.py) reads the dataplane and performs steps; this
class turns requests into plans and step results into state:

    observe(kernel state)       at start, and before every audit
    restore(partitions)         at start: the desired state kept before a restart
    plan(request) -> Plan       then the shell applies plan.steps (unless dry run)
    commit(plan, results)       -> Outcome for the caller
    plan_audit() -> Plan        repairs for drift made behind NCC's back
    commit_audit(plan, results) -> the repairs that failed

It keeps three things. `desired`: the engine's partitions, as accepted.
`applied`: the objects NCC programmed or adopted, by partition; only these
are ever deleted. `mirror`: what the kernel holds, NCC's or not, as last read
and kept current by every step since; plans are made against it, so an
unchanged request costs no kernel read and no write.

And one shortcut, `accepted`: the fingerprint (the engine's bytes, see
model.Partition) of every partition that is settled: accepted whole, owned
whole, and held by the kernel exactly as asked, as far as NCC knows. The
shell converts a partition sent again with the same bytes to an `unchanged`
one, which costs no conversion and no planning. Whatever could unsettle a
partition forgets its fingerprint: a new request for it, a step of it that
failed, the kernel dropping one of its objects, and every `observe`, which
keeps only the fingerprints the fresh kernel state still bears out. Drift is
the audit's to find, as before: Apply never reads the kernel.

Nothing is flushed at start: `restore` takes back the desired state NCC kept
before a restart (see journal.py), and plans adopt every desired object the
kernel already holds as asked (no write), so restarting NCC never drops an
established flow.
"""

from __future__ import annotations

import errno
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from seesaw.common.clock import Clock
from seesaw.ncc import planner
from seesaw.ncc.dataplane import KernelState
from seesaw.ncc.inventory import Inventory
from seesaw.ncc.model import (
    LB_PARTITION,
    VLAN,
    Destination,
    Forwarding,
    Kind,
    ObjectError,
    Partition,
    Ref,
    Request,
    Spec,
)
from seesaw.ncc.planner import Plan
from seesaw.ncc.steps import Op, Step, StepResult

# A delete the kernel answers with one of these found nothing to delete: done.
GONE = frozenset({errno.ENOENT, errno.ENODEV, errno.EADDRNOTAVAIL, errno.ESRCH})

RESET = Request((Partition(LB_PARTITION),), replace_all=True)


@dataclass(frozen=True)
class Outcome:
    """What one Apply (or Reset) did."""

    steps: tuple[Step, ...]
    errors: tuple[ObjectError, ...]
    writes: int
    generation: int
    dry_run: bool = False


@dataclass(frozen=True)
class Status:
    dataplane: str
    dataplane_reason: str
    generation: int
    writes_total: int
    drift_repairs_total: int
    apply_errors_total: int
    partitions: tuple[str, ...]
    audits: int
    last_audit: float | None  # wall-clock seconds


class Reconciler:
    def __init__(self, dataplane: str, reason: str, clock: Clock) -> None:
        self.dataplane = dataplane
        self.reason = reason
        self.clock = clock
        self.desired = Inventory()
        self.applied = Inventory()
        self.mirror: dict[Ref, Spec] = {}
        self.accepted: dict[str, bytes] = {}
        self.generation = 0
        self.writes_total = 0
        self.drift_repairs_total = 0
        self.apply_errors_total = 0
        self.audits = 0
        self.last_audit: float | None = None

    def observe(self, state: KernelState) -> None:
        """Take what the dataplane holds as the truth; forget owning what is gone."""
        self.mirror = dict(state.objects)
        gone = [item for _, item, _ in self.applied.items() if item not in self.mirror]
        for item in gone:
            self.applied.discard(item)
        self.accepted = {name: fingerprint for name, fingerprint in self.accepted.items() if self._settled(name)}

    def restore(self, partitions: Iterable[Partition]) -> None:
        """Take back the desired state saved before a restart (after `observe`), owning what the kernel holds of it.

        Nothing is written: the next audit repairs any difference, and the
        engine's next full resync removes what it no longer wants.
        """
        for partition in partitions:
            self.desired.replace(partition.name, partition.objects)
            for item in partition.objects:
                current = self.mirror.get(item)
                if current is not None:
                    self.applied.put(partition.name, current)

    def plan(self, request: Request) -> Plan:
        return planner.plan(request, self.desired, self.applied, self.mirror)

    def dry_run(self, plan: Plan, input_errors: Sequence[ObjectError] = ()) -> Outcome:
        """The outcome of a dry run: the plan and its errors, nothing written, nothing kept."""
        return Outcome(plan.steps, (*input_errors, *plan.errors), 0, self.generation, dry_run=True)

    def commit(self, plan: Plan, results: Sequence[StepResult], input_errors: Sequence[ObjectError] = ()) -> Outcome:
        """Record an applied plan: the engine's new partitions, and what each step did to the kernel."""
        for name, content in plan.partitions.items():
            self.desired.replace(name, content)
            self.accepted.pop(name, None)
        writes, step_errors = self._record(results)
        self._adopt(plan)
        errors = (*input_errors, *plan.errors, *step_errors)
        self._accept(plan, errors)
        self.generation += 1
        self.writes_total += writes
        self.apply_errors_total += len(errors)
        return Outcome(plan.steps, errors, writes, self.generation)

    def record_express(self, step: Step) -> None:
        """The runner's express lane raised the LB interface ahead of the engine's Apply, and the engine's
        word is "down": the kernel holds `step.new`, so that "down" is a change to carry out."""
        assert step.new is not None
        self.mirror[step.ref] = step.new
        self.applied.put(step.partition, step.new, step.ref)
        self.writes_total += 1

    def dsr_destinations(self) -> tuple[str, ...]:
        """The addresses of the DSR destinations NCC programmed (IPv4 first): a new master reaches them
        through its LB interface, whose neighbour entries went when it went down (runner.kits)."""
        found = {
            str(spec.key.address)
            for _, _, spec in self.applied.items()
            if isinstance(spec, Destination) and spec.forwarding is Forwarding.ROUTE
        }
        return tuple(sorted(found, key=lambda text: (":" in text, text)))

    def plan_audit(self) -> Plan:
        return planner.audit(self.desired, self.applied, self.mirror)

    def commit_audit(self, plan: Plan, results: Sequence[StepResult]) -> list[ObjectError]:
        """Record an audit's repairs; returns those the kernel refused."""
        writes, errors = self._record(results)
        self._adopt(plan)
        self.audits += 1
        self.last_audit = self.clock.wall()
        self.writes_total += writes
        self.drift_repairs_total += writes
        self.apply_errors_total += len(errors)
        return errors

    def status(self) -> Status:
        return Status(
            dataplane=self.dataplane,
            dataplane_reason=self.reason,
            generation=self.generation,
            writes_total=self.writes_total,
            drift_repairs_total=self.drift_repairs_total,
            apply_errors_total=self.apply_errors_total,
            partitions=tuple(sorted(name for name in self.desired.names() if name != LB_PARTITION)),
            audits=self.audits,
            last_audit=self.last_audit,
        )

    def _record(self, results: Sequence[StepResult]) -> tuple[int, list[ObjectError]]:
        writes = 0
        errors: list[ObjectError] = []
        parents: set[Ref] = set()  # services and LB interfaces deleted
        failed_dest_deletes: list[StepResult] = []
        mirror, put = self.mirror, self.applied.put
        delete = Op.DELETE  # enum members are slow attribute lookups
        for result in results:
            step = result.step
            op = step.op
            if result.error is not None:
                if op is not delete or result.errno not in GONE:
                    self.accepted.pop(step.partition, None)
                    if op is delete and step.ref[0] is Kind.DESTINATION:
                        failed_dest_deletes.append(result)
                    else:
                        errors.append(_error(result))
                    continue
            else:
                writes += 1
            if op is delete:
                self._forget(step.ref)
                if step.ref[0] in (Kind.SERVICE, Kind.LB):
                    parents.add(step.ref)
            else:
                new = step.new
                assert new is not None
                mirror[step.ref] = new
                put(step.partition, new, step.ref)
        if parents:
            self._forget_children(parents)
        for result in failed_dest_deletes:
            if result.step.ref in self.mirror:
                errors.append(_error(result))
        return writes, errors

    def _forget_children(self, parents: set[Ref]) -> None:
        """The kernel takes a service's destinations, and an LB interface's VLANs, along with it."""
        children = [item for item, spec in self.mirror.items() if _parent(spec) in parents]
        for item in children:
            self._forget(item)

    def _forget(self, item: Ref) -> None:
        self.mirror.pop(item, None)
        self.applied.discard(item)
        owner = self.desired.owner(item)
        if owner is not None:
            self.accepted.pop(owner, None)

    def _accept(self, plan: Plan, errors: Sequence[ObjectError]) -> None:
        """Remember the fingerprint of every partition the plan settled (no error of its own)."""
        if not plan.fingerprints:
            return
        troubled = {error.partition for error in errors}
        for name, fingerprint in plan.fingerprints.items():
            if name not in troubled and plan.partitions.get(name) is not None and self._settled(name):
                self.accepted[name] = fingerprint

    def _settled(self, name: str) -> bool:
        """Whether NCC owns every object of partition `name`, nothing else in it, and the kernel holds each as asked."""
        content = self.desired.objects(name)
        owned = self.applied.objects(name)
        if not content or len(owned) != len(content):
            return False
        mirror = self.mirror
        for item, spec in content.items():
            mine, held = owned.get(item), mirror.get(item)
            if (mine is not spec and mine != spec) or (held is not spec and held != spec):
                return False
        return True

    def _adopt(self, plan: Plan) -> None:
        """Own every desired object the kernel already holds as asked (no step was needed)."""
        for name, spec in plan.adopt:
            self.applied.put(name, spec)


def _parent(spec: Spec) -> Ref | None:
    if isinstance(spec, Destination):
        return (Kind.SERVICE, spec.key.service)
    if isinstance(spec, VLAN):
        return (Kind.LB, spec.key.lb)
    return None


def _error(result: StepResult) -> ObjectError:
    step = result.step
    return ObjectError(str(step.kind), step.key, step.partition, result.error or "failed")
