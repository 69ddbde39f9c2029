"""Objects grouped by partition, with an index from each object to its owner.

NCC keeps two of these: what the engine wants (desired) and what NCC has
programmed and therefore owns (applied). Every object belongs to at most one
partition. Lookups by ref and by partition are O(1), so replacing one
partition costs the size of that partition, not of the whole state.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from seesaw.ncc.model import Ref, Spec, ref

_EMPTY: Mapping[Ref, Spec] = {}


class Inventory:
    def __init__(self) -> None:
        self._partitions: dict[str, dict[Ref, Spec]] = {}
        self._owner: dict[Ref, str] = {}

    def __len__(self) -> int:
        return len(self._owner)

    def __contains__(self, item: Ref) -> bool:
        return item in self._owner

    def names(self) -> list[str]:
        return list(self._partitions)

    def objects(self, name: str) -> Mapping[Ref, Spec]:
        return self._partitions.get(name, _EMPTY)

    def owner(self, item: Ref) -> str | None:
        return self._owner.get(item)

    @property
    def owners(self) -> Mapping[Ref, str]:
        """Every object's partition (read only: for bulk lookups without a call per object)."""
        return self._owner

    def get(self, item: Ref) -> Spec | None:
        name = self._owner.get(item)
        return None if name is None else self._partitions[name][item]

    def items(self) -> Iterator[tuple[str, Ref, Spec]]:
        for name, objects in self._partitions.items():
            for item, spec in objects.items():
                yield name, item, spec

    def snapshot(self) -> dict[str, tuple[Spec, ...]]:
        """Every partition's objects as they are now, unaffected by later changes."""
        return {name: tuple(objects.values()) for name, objects in self._partitions.items()}

    def replace(self, name: str, objects: Mapping[Ref, Spec] | None) -> None:
        """Make partition `name` hold exactly `objects` (None or empty removes it).

        An object another partition held moves to this one.
        """
        for item in self._partitions.pop(name, _EMPTY):
            if self._owner.get(item) == name:
                del self._owner[item]
        if not objects:
            return
        content = dict(objects)
        for item in content:
            previous = self._owner.get(item)
            if previous is not None and previous != name:
                self._drop(previous, item)
            self._owner[item] = name
        self._partitions[name] = content

    def put(self, name: str, spec: Spec, item: Ref | None = None) -> None:
        """Record `spec` (whose ref is `item`, when the caller has it) as owned by partition `name`.

        It moves if another partition owned it.
        """
        if item is None:
            item = ref(spec)
        previous = self._owner.get(item)
        if previous is not None and previous != name:
            self._drop(previous, item)
        self._owner[item] = name
        self._partitions.setdefault(name, {})[item] = spec

    def discard(self, item: Ref) -> None:
        name = self._owner.pop(item, None)
        if name is not None:
            self._drop(name, item)

    def _drop(self, name: str, item: Ref) -> None:
        objects = self._partitions[name]
        del objects[item]
        if not objects:
            del self._partitions[name]
