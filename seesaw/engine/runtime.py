"""The engine daemon's shared heart: one `Engine`, and the asyncio plumbing
around it.

Every link (NCC, HA sessions, healthcheck streams) subscribes for a wake-up;
whoever changes the engine calls `changed()`, which also persists the
overrides when they changed. The timers (HA expiry, churn-limited config
steps, the end of a warm restart's holds) live here too; taking config from
its source is the `loader`'s job (`config_loader`). Everything runs on one
event loop, so the engine is never touched by two coroutines at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from pathlib import Path

from seesaw.engine import mark_store, override_store
from seesaw.engine.config_loader import ConfigLoader
from seesaw.engine.config_source import DiskConfigSource
from seesaw.engine.core import Engine
from seesaw.pb import ncc_pb2

log = logging.getLogger(__name__)

DEFAULT_STEP_INTERVAL = 60.0  # Seesaw's config check interval


class EngineRuntime:
    def __init__(
        self,
        engine: Engine,
        source: DiskConfigSource,
        overrides_path: Path | None = None,
        *,
        step_interval: float = DEFAULT_STEP_INTERVAL,
        tick_interval: float = 1.0,
        source_path: Path | None = None,
        marks_path: Path | None = None,
    ) -> None:
        self.engine = engine
        self.source = source
        self.loader = ConfigLoader(engine, source, self.changed, state_path=source_path)
        self.overrides_path = overrides_path
        self.step_interval = step_interval
        self.tick_interval = tick_interval
        self._events: set[asyncio.Event] = set()
        self._saved_overrides = engine.overrides_version
        self.marks_path = marks_path
        self._saved_marks: dict[str, dict[int, int]] = {}
        # Reads NCC's dataplane state (counters) for the views; set by the NCC link.
        self.read_dataplane: Callable[[], Awaitable[ncc_pb2.DataplaneState | None]] | None = None
        # Reads the BGP speaker's neighbours through NCC (raises BGPUnavailable); set by the NCC link.
        self.read_bgp_neighbors: Callable[[], Awaitable[ncc_pb2.BGPNeighborList]] | None = None

    async def dataplane_state(self) -> ncc_pb2.DataplaneState | None:
        """NCC's view of the dataplane, or None if NCC cannot tell right now."""
        return await self.read_dataplane() if self.read_dataplane is not None else None

    # ---------------------------------------------------------------- wake-ups

    def subscribe(self) -> asyncio.Event:
        event = asyncio.Event()
        event.set()  # a new subscriber looks at the state once
        self._events.add(event)
        return event

    def unsubscribe(self, event: asyncio.Event) -> None:
        self._events.discard(event)

    def changed(self) -> None:
        """The engine changed: persist overrides if needed, wake every link."""
        if self.overrides_path is not None and self.engine.overrides_version != self._saved_overrides:
            try:
                override_store.save(self.overrides_path, self.engine.overrides)
                self._saved_overrides = self.engine.overrides_version
            except OSError as err:
                log.error(
                    "cannot save overrides to %s: %s; they hold until the engine restarts", self.overrides_path, err
                )
        self._save_marks()
        for event in self._events:
            event.set()

    def _save_marks(self) -> None:
        if self.marks_path is None or self.engine.keeps_marks:
            return  # the marks restored at start wait for the first config: the file stays as it is until then
        marks = self.engine.vserver_marks()
        if marks == self._saved_marks:
            return
        try:
            mark_store.save(self.marks_path, marks)
            self._saved_marks = marks
        except OSError as err:
            log.error(
                "cannot save the fwmark vservers' marks to %s: %s; make %s writable (the engine tries again at "
                "its next change), or an engine restart may number them afresh and replace their services",
                self.marks_path,
                err,
                self.marks_path.parent,
            )

    def restore_marks(self) -> None:
        """The fwmark vservers' marks from before a restart, for the first config to give back (mark_store)."""
        if self.marks_path is None:
            return
        try:
            marks = mark_store.load(self.marks_path)
        except mark_store.MarkStoreError as err:
            log.error("%s", err)
            return
        if marks:
            log.info("kept the marks of %d fwmark vservers from %s", len(marks), self.marks_path)
        self.engine.keep_vserver_marks(marks)
        self._saved_marks = marks

    # ------------------------------------------------------------------ config

    def restore_overrides(self) -> None:
        if self.overrides_path is None:
            return
        try:
            overrides = override_store.load(self.overrides_path)
        except override_store.OverrideStoreError as err:
            log.error("%s", err)
            return
        if len(overrides):
            log.info("restored %d overrides from %s", len(overrides), self.overrides_path)
        self.engine.restore_overrides(overrides)
        self._saved_overrides = self.engine.overrides_version

    def reload(self, *, force: bool = False) -> str:
        """Re-read the config files (whatever the source); raise ConfigError/ConfigRefused
        (logged, kept in config status) and keep the running config if they are bad."""
        return self.loader.reload_disk(force=force)

    # ------------------------------------------------------------------ timers

    async def run_timers(self, stop: asyncio.Event) -> None:
        """Expire a silent HA and a warm restart's holds, take churn-limited config steps, until `stop`."""
        loop = asyncio.get_running_loop()
        next_step = loop.time() + self.step_interval
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self.tick_interval)
            state = self.engine.ha.state
            self.engine.ha_tick()
            changed = state != self.engine.ha.state
            changed |= self.engine.adoption_tick()
            if loop.time() >= next_step:
                next_step = loop.time() + self.step_interval
                if self.engine.config_step():
                    log.info(
                        "config: took the next churn-limited step; %d creations, %d deletions still waiting",
                        *self.engine.config_pending(),
                    )
                    changed = True
            if changed:
                self.changed()
