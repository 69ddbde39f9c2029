"""Operator overrides: vserver, backend and destination on/off switches.

An override is DEFAULT (the config decides), DISABLED or ENABLED, and is
kept by target kind and name until set back to DEFAULT. Overrides outlive
config changes (and, through `to_json`/`from_json`, engine restarts).
Nothing here does I/O.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from seesaw.pb import common_pb2, engine_pb2

Target = int  # an engine_pb2.OverrideRequest.Target value

STATE_NAMES = {
    common_pb2.OVERRIDE_DEFAULT: "default",
    common_pb2.OVERRIDE_DISABLED: "disabled",
    common_pb2.OVERRIDE_ENABLED: "enabled",
}
TARGET_NAMES = {
    engine_pb2.OverrideRequest.VSERVER: "vserver",
    engine_pb2.OverrideRequest.BACKEND: "backend",
    engine_pb2.OverrideRequest.DESTINATION: "destination",
}
_TARGETS_BY_NAME = {v: k for k, v in TARGET_NAMES.items()}
_STATES_BY_NAME = {v: k for k, v in STATE_NAMES.items()}


def destination_vserver(destination: str) -> str:
    """The vserver a destination name (`<vserver>/<ip>:<port>/<PROTO>`) belongs to."""
    return destination.split("/", 1)[0]


class Overrides:
    def __init__(self) -> None:
        self._items: dict[tuple[Target, str], int] = {}

    def set(self, target: Target, name: str, state: int) -> bool:
        """Record an override; True if anything changed."""
        if target not in TARGET_NAMES or state not in STATE_NAMES:
            raise ValueError(f"unknown override target {target} or state {state}")
        key = (target, name)
        if self._items.get(key, common_pb2.OVERRIDE_DEFAULT) == state:
            return False
        if state == common_pb2.OVERRIDE_DEFAULT:
            del self._items[key]
        else:
            self._items[key] = state
        return True

    def get(self, target: Target, name: str) -> int:
        return self._items.get((target, name), common_pb2.OVERRIDE_DEFAULT)

    def items(self) -> Iterator[tuple[Target, str, int]]:
        for (target, name), state in sorted(self._items.items()):
            yield target, name, state

    def __len__(self) -> int:
        return len(self._items)

    def to_json(self) -> dict[str, Any]:
        return {
            "version": 1,
            "overrides": [{"target": TARGET_NAMES[t], "name": n, "state": STATE_NAMES[s]} for t, n, s in self.items()],
        }

    @classmethod
    def from_json(cls, data: Any) -> Overrides:
        """Parse what `to_json` wrote; ValueError says what is wrong."""
        if not isinstance(data, dict) or not isinstance(data.get("overrides"), list):
            raise ValueError('expected an object with an "overrides" list')
        out = cls()
        for i, item in enumerate(data["overrides"]):
            try:
                target = _TARGETS_BY_NAME[item["target"]]
                state = _STATES_BY_NAME[item["state"]]
                name = item["name"]
            except (KeyError, TypeError) as exc:
                raise ValueError(f"override #{i + 1}: bad or missing {exc}") from exc
            if not isinstance(name, str) or not name:
                raise ValueError(f"override #{i + 1}: name must be a non-empty string")
            out.set(target, name, state)
        return out
