"""Plan steps (what the planner asks a dataplane to do) and their results.

A step is one kernel write: add, update or delete one object. It carries the
object as the plan wants it (`new`) and as the kernel holds it (`old`), so a
dataplane never has to look anything up to apply it.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from seesaw.ncc import model
from seesaw.ncc.model import Kind, Ref, Spec, changes, describe

_set = object.__setattr__


class Op(enum.IntEnum):
    """Values are those of `seesaw.ncc.PlanStep.Op`."""

    ADD = 0
    UPDATE = 1
    DELETE = 2

    def __str__(self) -> str:
        return self.name


@dataclass(frozen=True, slots=True, init=False)
class Step:
    op: Op
    partition: str
    new: Spec | None  # ADD, UPDATE
    old: Spec | None  # UPDATE, DELETE
    ref: Ref = field(repr=False, compare=False)  # the object's (kind, key)

    # Built by hand: a plan of a large state makes one per object (see model.py's keys).
    def __init__(
        self, op: Op, partition: str, new: Spec | None = None, old: Spec | None = None, ref: Ref | None = None
    ) -> None:
        _set(self, "op", op)
        _set(self, "partition", partition)
        _set(self, "new", new)
        _set(self, "old", old)
        if ref is None:
            spec = new if new is not None else old
            assert spec is not None, "a step names an object"
            ref = model.ref(spec)
        _set(self, "ref", ref)

    @classmethod
    def add(cls, partition: str, spec: Spec, ref: Ref | None = None) -> Step:
        return cls(Op.ADD, partition, spec, None, ref)

    @classmethod
    def update(cls, partition: str, old: Spec, new: Spec, ref: Ref | None = None) -> Step:
        return cls(Op.UPDATE, partition, new, old, ref)

    @classmethod
    def delete(cls, partition: str, spec: Spec, ref: Ref | None = None) -> Step:
        return cls(Op.DELETE, partition, None, spec, ref)

    @property
    def spec(self) -> Spec:
        spec = self.new if self.new is not None else self.old
        assert spec is not None, "a step names an object"
        return spec

    @property
    def kind(self) -> Kind:
        return self.ref[0]

    @property
    def key(self) -> str:
        return str(self.spec.key)

    def detail(self) -> str:
        if self.op is Op.UPDATE and self.old is not None and self.new is not None:
            return changes(self.old, self.new)
        if self.op is Op.ADD:
            return describe(self.spec)
        return ""

    def __str__(self) -> str:
        detail = self.detail()
        return f"{self.op} {self.kind} {self.key}" + (f" ({detail})" if detail else "")


@dataclass(frozen=True, slots=True, init=False)
class StepResult:
    """The outcome of one step. `errno` lets NCC tell "already gone" from a real failure."""

    step: Step
    error: str | None
    errno: int | None

    def __init__(self, step: Step, error: str | None = None, errno: int | None = None) -> None:
        _set(self, "step", step)
        _set(self, "error", error)
        _set(self, "errno", errno)

    @property
    def ok(self) -> bool:
        return self.error is None
