"""All supervised services together: who may start, who must stop, what a reload changes.

Pure like service.py: the shell (runner.py) calls one method per event and
carries out the actions returned. The rules kept here:

* A service starts only once its dependency answers SERVING (Seesaw started
  it as soon as the dependency's process had been exec'd). A dependency that
  restarts holds back its dependents' restarts, but does not restart them.
* A service stops only once every dependent has no process left, so shutdown
  runs in reverse start order; each stop is SIGTERM, then SIGKILL to the
  process group after the service's term_timeout.
* A reload starts added services, stops removed ones (dependents first),
  restarts changed ones, and leaves the rest alone.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

from seesaw.common import paths
from seesaw.common.clock import Clock
from seesaw.watchdog.actions import Action, ExitStatus, Log
from seesaw.watchdog.config import ServiceConfig, WatchdogConfig
from seesaw.watchdog.service import Policy, Service, State


class Supervisor:
    def __init__(self, config: WatchdogConfig, clock: Clock, run_dir: Path | None = None) -> None:
        self.config = config
        self.clock = clock
        self.run_dir = run_dir
        self.policy = Policy.from_settings(config.settings)
        self.services: dict[str, Service] = {name: self._new(svc) for name, svc in config.services.items()}
        self.shutting_down = False

    # -- events --------------------------------------------------------------------------------------------

    def start(self) -> list[Action]:
        return self._advance()

    def spawned(self, name: str, pid: int) -> list[Action]:
        return self._on(name, lambda svc: svc.spawned(pid))

    def spawn_failed(self, name: str, reason: str) -> list[Action]:
        return self._on(name, lambda svc: svc.spawn_failed(reason))

    def health(self, name: str, serving: bool) -> list[Action]:
        return self._on(name, lambda svc: svc.health(serving))

    def exited(self, name: str, status: ExitStatus) -> list[Action]:
        return self._on(name, lambda svc: svc.exited(status))

    def tick(self) -> list[Action]:
        actions: list[Action] = []
        for svc in list(self.services.values()):
            actions += svc.tick()
        return actions + self._advance()

    def shutdown(self) -> list[Action]:
        """Stop everything, dependents first."""
        if self.shutting_down:
            return []
        self.shutting_down = True
        for svc in self.services.values():
            svc.wanted = False
        return [Log(logging.INFO, "Shutting down: stopping services, dependents first"), *self._advance()]

    def reload(self, config: WatchdogConfig) -> list[Action]:
        """Move to a new, already validated config."""
        if self.shutting_down:
            return [Log(logging.WARNING, "Reload ignored: shutting down")]
        actions: list[Action] = []
        self.config = config
        self.policy = Policy.from_settings(config.settings)
        for each in self.services.values():
            each.policy = self.policy
        for name, new in config.services.items():
            svc = self.services.get(name)
            if svc is None:
                self.services[name] = self._new(new)
                actions.append(Log(logging.INFO, f"Service {name} added"))
            elif svc.config == new and not svc.wanted and svc.state in (State.STARTING, State.RUNNING):
                svc.wanted = True
                actions.append(Log(logging.INFO, f"Service {name} is back in the config: keeping it"))
            elif svc.config != new or not svc.wanted:
                why = ", ".join(_changed(svc.config, new)) or "back in the config"
                svc.wanted = True
                actions += svc.restart(f"config changed ({why})", failure=False, config=new)
            else:
                svc.config = new
        for name, svc in self.services.items():
            if name not in config.services and svc.wanted:
                svc.wanted = False
                actions.append(Log(logging.INFO, f"Service {name} removed from the config: stopping it"))
        order = [*config.services, *(n for n in self.services if n not in config.services)]
        self.services = {name: self.services[name] for name in order}
        return actions + self._advance()

    # -- questions -----------------------------------------------------------------------------------------

    @property
    def ready(self) -> bool:
        """Every configured service answers SERVING."""
        return not self.shutting_down and all(self.services[name].ready for name in self.config.services)

    @property
    def finished(self) -> bool:
        """Shut down, and no process left."""
        return self.shutting_down and all(svc.state == State.STOPPED for svc in self.services.values())

    def next_deadline(self) -> float | None:
        deadlines = [d for svc in self.services.values() if (d := svc.next_deadline()) is not None]
        return min(deadlines) if deadlines else None

    def pids(self) -> dict[str, int]:
        return {name: svc.pid for name, svc in self.services.items() if svc.pid is not None}

    def summary(self) -> str:
        """One line for systemd's STATUS=."""
        if self.shutting_down:
            left = [name for name, svc in self.services.items() if svc.state != State.STOPPED]
            return f"Stopping: {', '.join(left)}" if left else "Stopped"
        total = len(self.config.services)
        serving = sum(1 for name in self.config.services if self.services[name].ready)
        notes = []
        for name, svc in self.services.items():
            if svc.state == State.WAITING and svc.waiting_for:
                notes.append(f"{name} waits for {svc.waiting_for}")
            elif svc.state == State.BACKOFF:
                notes.append(f"{name} backing off after {svc.failures} failure{'s' if svc.failures != 1 else ''}")
            elif svc.state in (State.STARTING, State.STOPPING):
                notes.append(f"{name} {svc.state.value}")
            elif svc.state == State.RUNNING and not svc.serving:
                notes.append(f"{name} not serving")
        return f"{serving}/{total} services serving" + (f"; {'; '.join(notes)}" if notes else "")

    def status(self) -> dict[str, dict[str, object]]:
        return {name: svc.status() for name, svc in self.services.items()}

    # -- the rules -----------------------------------------------------------------------------------------

    def _new(self, config: ServiceConfig) -> Service:
        socket = paths.socket_path(self.run_dir, config.name) if self.run_dir is not None else None
        return Service(config, self.policy, self.clock, socket)

    def _on(self, name: str, event: Callable[[Service], list[Action]]) -> list[Action]:
        svc = self.services.get(name)
        if svc is None:
            return []
        return event(svc) + self._advance()

    def _advance(self) -> list[Action]:
        """Start what may start, stop what may stop, forget removed services that have stopped."""
        actions: list[Action] = []
        for svc in self.services.values():
            idle = svc.state in (State.STOPPED, State.STOPPING)
            if not svc.wanted and not idle and not self._has_live_dependents(svc.name):
                actions += svc.stop()
        for svc in self.services.values():
            if svc.state != State.WAITING or not svc.wanted or self.shutting_down:
                continue
            dep = svc.config.dependency
            if dep is not None and not (dep in self.services and self.services[dep].ready):
                svc.waiting_for = dep
                continue
            actions += svc.start()
        for name in [n for n, svc in self.services.items() if n not in self.config.services]:
            if self.services[name].state == State.STOPPED:
                del self.services[name]
                actions.append(Log(logging.INFO, f"Service {name} removed"))
        return actions

    def _has_live_dependents(self, name: str) -> bool:
        return any(svc.config.dependency == name and svc.has_process for svc in self.services.values())


def _changed(old: ServiceConfig, new: ServiceConfig) -> list[str]:
    keys = ("binary", "args", "dependency", "priority", "term_timeout", "user", "health_check")
    return [key for key in keys if getattr(old, key) != getattr(new, key)]
