"""When to send results to the engine: at `max_items`, or `max_delay` after the first.

Pure: time comes in as an argument. Results are keyed by check id and a newer
result for the same check replaces the older one (the engine wants each
check's current state, not its history), keeping the first one's place.
"""

from __future__ import annotations

from typing import Generic, TypeVar

T = TypeVar("T")


class Batcher(Generic[T]):
    def __init__(self, max_items: int = 100, max_delay: float = 0.1) -> None:
        self.max_items = max_items
        self.max_delay = max_delay
        self._items: dict[int, T] = {}
        self._deadline: float | None = None

    def __len__(self) -> int:
        return len(self._items)

    def add(self, key: int, item: T, now: float) -> bool:
        """Queue `item`; True when the batch is full and should go now."""
        if not self._items:
            self._deadline = now + self.max_delay
        self._items[key] = item
        return len(self._items) >= self.max_items

    def deadline(self) -> float | None:
        """When the pending batch must go at the latest (None: nothing pending)."""
        return self._deadline

    def ready(self, now: float) -> bool:
        return bool(self._items) and (len(self._items) >= self.max_items or now >= (self._deadline or now))

    def take(self) -> list[T]:
        """Everything pending, oldest first; the batcher is empty afterwards."""
        items = list(self._items.values())
        self._items.clear()
        self._deadline = None
        return items
