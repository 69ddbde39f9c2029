"""The operator's vserver list, kept ready between calls.

Building one vserver's snapshot takes about 0.1 ms, so 1,000 of them took
longer than the rest of `seesaw -c "show vservers"`; between two calls almost
nothing changes. Each vserver's snapshot is therefore kept with the version of
its machine (`VserverMachine.version`) it was built at.

* Same version: the snapshot stands. Results that came in since (a check's
  `status` replaced without a health transition) are written into their
  places (`vserver.fill_result`); so are check IDs that changed, which the
  healthcheck manager's `version` tells (IDs are kept while a check exists,
  so this is rare and touches few).
* Otherwise (config, override, health transition, a new machine of that
  name) it is built again.

The list is kept serialised: each vserver's bytes once per change, the whole
`VserverList` (the concatenation of its elements, as protobuf lays out a
repeated field) once per change of any vserver. Pure: no I/O, no clock.
"""

from __future__ import annotations

import itertools

from seesaw.engine.checks import CheckKey, CheckStatus
from seesaw.engine.core import Engine
from seesaw.engine.vserver import Check, CheckResultSlot, VserverMachine, fill_result
from seesaw.pb import engine_pb2


class _Slot:
    """A check's place in a kept snapshot, and the result written there."""

    __slots__ = ("check", "state", "status")

    def __init__(self, check: Check, state: engine_pb2.CheckState) -> None:
        self.check = check
        self.state = state  # a message inside the kept snapshot
        self.status: CheckStatus = check.status  # the result written into `state`


class _Entry:
    __slots__ = ("data", "ids_version", "machine", "revision", "slots", "snapshot", "version")

    def __init__(
        self,
        machine: VserverMachine,
        ids_version: int,
        snapshot: engine_pb2.Vserver,
        results: list[CheckResultSlot],
        revision: int,
    ) -> None:
        self.machine = machine
        self.version = machine.version
        self.ids_version = ids_version
        self.snapshot = snapshot
        self.slots = [_Slot(check, state) for check, state in results]
        self.revision = revision
        self.data = _element(snapshot)


def _element(snapshot: engine_pb2.Vserver) -> bytes:
    """The snapshot as one element of `VserverList.vservers`, field tag and length included."""
    return engine_pb2.VserverList(vservers=[snapshot]).SerializeToString()


class VserverSnapshots:
    """Every vserver's snapshot of one engine, rebuilt only when that vserver changed."""

    def __init__(self) -> None:
        self._entries: dict[str, _Entry] = {}
        self._revisions = itertools.count(1)
        self._list_key: tuple[int, ...] | None = None
        self._list_data = b""
        self.builds = 0  # snapshots built afresh so far
        self.patches = 0  # kept snapshots that took newer check results

    def serialized(self, engine: Engine) -> bytes:
        """The engine's `VserverList` (vservers by name), serialised."""
        entries: list[_Entry] = []
        for name in sorted(engine.machines):
            entry = self._refresh(engine, engine.machines[name])
            if entry is not None:
                entries.append(entry)
        if len(self._entries) != len(entries):
            kept = {id(entry) for entry in entries}
            self._entries = {name: e for name, e in self._entries.items() if id(e) in kept}
        key = tuple(entry.revision for entry in entries)
        if key != self._list_key:
            self._list_data = b"".join(entry.data for entry in entries)
            self._list_key = key
        return self._list_data

    def vserver_list(self, engine: Engine) -> engine_pb2.VserverList:
        """The engine's `VserverList`, a message of the caller's own (changing it changes nothing kept)."""
        return engine_pb2.VserverList.FromString(self.serialized(engine))

    def _refresh(self, engine: Engine, machine: VserverMachine) -> _Entry | None:
        entry = self._entries.get(machine.name)
        if entry is None or entry.machine is not machine or entry.version != machine.version:
            return self._build(engine, machine)
        changed = False
        if entry.ids_version != engine.hc.version:
            entry.ids_version = engine.hc.version
            for slot in entry.slots:
                check_id = engine.check_id(machine.name, slot.check.key)
                if slot.state.id != check_id:
                    slot.state.id = check_id
                    changed = True
        for slot in entry.slots:
            status = slot.check.status
            if status is not slot.status:
                fill_result(slot.state, status)
                slot.status = status
                changed = True
        if changed:
            self.patches += 1
            entry.data = _element(entry.snapshot)
            entry.revision = next(self._revisions)
        return entry

    def _build(self, engine: Engine, machine: VserverMachine) -> _Entry | None:
        name = machine.name

        def check_id(key: CheckKey) -> int:
            return engine.check_id(name, key)

        results: list[CheckResultSlot] = []
        snapshot = machine.snapshot(check_id, results)
        if snapshot is None:
            self._entries.pop(name, None)
            return None
        self.builds += 1
        entry = self._entries[name] = _Entry(machine, engine.hc.version, snapshot, results, next(self._revisions))
        return entry
