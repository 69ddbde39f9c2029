"""The asyncio shell around the Supervisor: processes, health probes, timers, systemd.

One loop takes one event at a time from a queue (a process exited, a probe
answered, a signal asked for a stop or a reload), hands it to the pure
Supervisor, and carries out the actions it returns. Timers are the
Supervisor's deadlines: the loop wakes at the earliest and calls tick().
After every event it rewrites status.json if anything changed and tells
systemd (READY=1 once every service is SERVING, STATUS=..., STOPPING=1).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
from collections import deque
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from seesaw.common import paths, rpc, sdnotify
from seesaw.common.clock import Clock, SystemClock
from seesaw.watchdog import process
from seesaw.watchdog.actions import Action, ExitStatus, Kill, Log, Spawn
from seesaw.watchdog.config import ConfigError, WatchdogConfig, load, resolve_log_dir
from seesaw.watchdog.notifier import Notifier
from seesaw.watchdog.service import State
from seesaw.watchdog.status import StatusFile, status_path
from seesaw.watchdog.supervisor import Supervisor

log = logging.getLogger("seesaw.watchdog")

PROBE_INTERVAL_STARTING = 0.1  # seconds between health probes until the first SERVING
PROBE_INTERVAL_RUNNING = 1.0
PROBE_TIMEOUT = 1.0


@dataclass(frozen=True)
class _Exited:
    name: str
    pid: int
    returncode: int


@dataclass(frozen=True)
class _Probed:
    name: str
    pid: int
    serving: bool


@dataclass(frozen=True)
class _Shutdown:
    pass


@dataclass(frozen=True)
class _Reload:
    pass


_Event = _Exited | _Probed | _Shutdown | _Reload


class Runner:
    """Runs the services of one watchdog.cfg until asked to stop."""

    def __init__(
        self,
        config: WatchdogConfig,
        dirs: process.Dirs,
        log_dir_flag: Path | None = None,
        clock: Clock | None = None,
        notify: Callable[[str], bool] = sdnotify.notify,
    ) -> None:
        self.config = config
        self.dirs = dirs
        self.log_dir_flag = log_dir_flag  # --log-dir, which a reload does not override
        self.clock = clock or SystemClock()
        self.notify = Notifier(notify)
        self.supervisor = Supervisor(config, self.clock, dirs.run_dir)
        self.status = StatusFile(status_path(dirs.run_dir))
        self._queue: asyncio.Queue[_Event] = asyncio.Queue()
        self._procs: dict[str, asyncio.subprocess.Process] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._ready_sent = False
        self._last_summary = ""

    # -- requests from signal handlers ---------------------------------------------------------------------

    def request_stop(self) -> None:
        self._queue.put_nowait(_Shutdown())

    def request_reload(self) -> None:
        self._queue.put_nowait(_Reload())

    # -- the loop ------------------------------------------------------------------------------------------

    async def run(self, stop: asyncio.Event | None = None) -> int:
        """Supervise until stopped (request_stop or `stop` set); 0 once every service has stopped."""
        log.info("Seesaw watchdog starting: %s, services %s", self.config.path, ", ".join(self.config.services))
        if stop is not None:
            self._spawn_task(self._forward_stop(stop))
        self._start_keepalive()
        try:
            await self._execute(self.supervisor.start())
            self._report()
            while not self.supervisor.finished:
                await self._step()
        finally:
            await self._cleanup()
        log.info("Seesaw watchdog stopped")
        if not await asyncio.to_thread(self.notify.flush, 2.0):
            log.warning("systemd did not take our last notifications within 2s")
        return 0

    async def _step(self) -> None:
        deadline = self.supervisor.next_deadline()
        timeout = None if deadline is None else max(0.0, deadline - self.clock.monotonic())
        try:
            event = await asyncio.wait_for(self._queue.get(), timeout)
        except TimeoutError:
            pass  # a deadline is due
        else:
            await self._handle(event)
        await self._execute(self.supervisor.tick())
        self._report()

    async def _handle(self, event: _Event) -> None:
        sup = self.supervisor
        if isinstance(event, _Exited):
            self._procs.pop(event.name, None)
            if sup.pids().get(event.name) == event.pid:
                await self._execute(sup.exited(event.name, ExitStatus.from_returncode(event.returncode)))
        elif isinstance(event, _Probed):
            if sup.pids().get(event.name) == event.pid:
                await self._execute(sup.health(event.name, event.serving))
        elif isinstance(event, _Shutdown):
            if not sup.shutting_down:
                self.notify("STOPPING=1")
            await self._execute(sup.shutdown())
        else:
            await self._reload()

    async def _reload(self) -> None:
        log.info("SIGHUP: reloading %s", self.config.path)
        try:
            config = load(self.config.path)
        except ConfigError as exc:
            log.error("Reload refused, nothing changed (the running services keep the previous config): %s", exc)
            return
        for warning in config.warnings:
            log.warning("%s", warning)
        if self._ready_sent:
            self.notify("RELOADING=1")
        self.config = config
        self.dirs = replace(self.dirs, log_dir=resolve_log_dir(self.log_dir_flag, config.settings))
        await self._execute(self.supervisor.reload(config))
        if self._ready_sent:
            self.notify("READY=1")

    async def _execute(self, actions: list[Action]) -> None:
        """Carry out actions; what they cause (a failed spawn) is fed back at once."""
        todo = deque(actions)
        while todo:
            action = todo.popleft()
            if isinstance(action, Log):
                log.log(action.level, "%s", action.text)
            elif isinstance(action, Kill):
                self._kill(action)
            elif isinstance(action, Spawn):
                todo.extend(await self._spawn(action))

    async def _spawn(self, action: Spawn) -> list[Action]:
        name = action.service.name
        try:
            proc = await process.spawn(action.service, self.dirs, self.config.path)
        except process.SpawnError as exc:
            return self.supervisor.spawn_failed(name, str(exc))
        self._procs[name] = proc
        self._spawn_task(self._wait(name, proc))
        if action.service.health_check:
            self._spawn_task(self._probe(name, proc))
        return self.supervisor.spawned(name, proc.pid)

    def _kill(self, action: Kill) -> None:
        try:
            if action.group:
                os.killpg(action.pid, action.signal)
            else:
                os.kill(action.pid, action.signal)
        except ProcessLookupError:
            pass
        except PermissionError as exc:
            log.error("Cannot signal service %s (pid %d): %s", action.name, action.pid, exc.strerror)

    # -- helpers running beside the loop -------------------------------------------------------------------

    def _spawn_task(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _forward_stop(self, stop: asyncio.Event) -> None:
        await stop.wait()
        self.request_stop()

    async def _wait(self, name: str, proc: asyncio.subprocess.Process) -> None:
        returncode = await proc.wait()
        self._queue.put_nowait(_Exited(name, proc.pid, returncode))

    async def _probe(self, name: str, proc: asyncio.subprocess.Process) -> None:
        """Ask the service's socket for grpc.health.v1 while this process lives."""
        socket = paths.socket_path(self.dirs.run_dir, name)
        while proc.returncode is None:
            svc = self.supervisor.services.get(name)
            if svc is None or svc.pid != proc.pid:
                return
            starting = svc.state == State.STARTING
            await asyncio.sleep(PROBE_INTERVAL_STARTING if starting else PROBE_INTERVAL_RUNNING)
            if proc.returncode is not None:
                return
            try:
                serving = await rpc.check_health(socket, timeout=PROBE_TIMEOUT)
            except Exception as exc:  # a probe must never take the loop down
                log.debug("health probe of %s failed: %s", name, exc)
                serving = False
            self._queue.put_nowait(_Probed(name, proc.pid, serving))

    def _start_keepalive(self) -> None:
        usec = os.environ.get("WATCHDOG_USEC")
        owner = os.environ.get("WATCHDOG_PID")
        if not usec or (owner and owner != str(os.getpid())):
            return
        try:
            interval = int(usec) / 2e6
        except ValueError:
            log.warning("Ignoring WATCHDOG_USEC=%r: not a number", usec)
            return
        self._spawn_task(self._keepalive(interval))

    async def _keepalive(self, interval: float) -> None:
        while True:
            self.notify("WATCHDOG=1")
            await asyncio.sleep(interval)

    def _report(self) -> None:
        sup = self.supervisor
        self.status.update(
            {
                "watchdog": {
                    "pid": os.getpid(),
                    "config": str(self.config.path),
                    "log_dir": str(self.dirs.log_dir),
                    "ready": sup.ready,
                    "shutting_down": sup.shutting_down,
                },
                "services": sup.status(),
            }
        )
        summary = sup.summary()
        if sup.ready and not self._ready_sent:
            self._ready_sent = True
            log.info("All services are SERVING")
            self.notify(f"READY=1\nSTATUS={summary}")
            self._last_summary = summary
        elif summary != self._last_summary:
            self._last_summary = summary
            self.notify(f"STATUS={summary}")

    async def _cleanup(self) -> None:
        """On the way out: make sure no child outlives us (normally none is left)."""
        for name, proc in list(self._procs.items()):
            if proc.returncode is None:
                log.error("Service %s (pid %d) still running as the watchdog exits: killing it", name, proc.pid)
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(proc.wait(), 5)
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._report()
