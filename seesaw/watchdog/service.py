"""One supervised service as a pure state machine: events in, actions out.

Everything that decides what happens to one service lives here; which
service may start or stop *now* (dependencies) is supervisor.py's business.
This file never touches a process or a socket and reads time only from the
injected clock.

States:

    WAITING   no process; waiting to be started (the supervisor starts it once
              its dependency is SERVING)
    STARTING  process spawned, not yet answering grpc.health.v1 SERVING
    RUNNING   has answered SERVING (`serving` says whether it still does)
    BACKOFF   no process; will be WAITING again at `deadline`
    STOPPING  SIGTERM sent; SIGKILL to its process group at `deadline`
    STOPPED   no process, and none wanted

Restart rule (unlike Seesaw's 2 s + failures x 5 s that never decays): a
failure (non-zero exit, death by signal, failed exec, start timeout) doubles
the delay from `restart_delay` up to `max_backoff`; a clean exit (status 0)
is restarted after `restart_delay` and is not a failure; SERVING for
`healthy_after` forgives earlier failures.
"""

from __future__ import annotations

import enum
import logging
import signal
from dataclasses import dataclass
from pathlib import Path

from seesaw.common.clock import Clock
from seesaw.watchdog.actions import Action, ExitStatus, Kill, Log, Spawn
from seesaw.watchdog.config import ServiceConfig, Settings
from seesaw.watchdog.duration import format_duration


class State(enum.StrEnum):
    WAITING = "waiting"
    STARTING = "starting"
    RUNNING = "running"
    BACKOFF = "backoff"
    STOPPING = "stopping"
    STOPPED = "stopped"


HAS_PROCESS = frozenset({State.STARTING, State.RUNNING, State.STOPPING})


@dataclass(frozen=True)
class Policy:
    """Timing rules shared by every service (from watchdog.cfg's [default])."""

    restart_delay: float = Settings.restart_delay
    max_backoff: float = Settings.max_backoff
    healthy_after: float = Settings.healthy_after
    start_timeout: float = Settings.start_timeout
    unhealthy_timeout: float = Settings.unhealthy_timeout

    @classmethod
    def from_settings(cls, settings: Settings) -> Policy:
        return cls(
            restart_delay=settings.restart_delay,
            max_backoff=settings.max_backoff,
            healthy_after=settings.healthy_after,
            start_timeout=settings.start_timeout,
            unhealthy_timeout=settings.unhealthy_timeout,
        )

    def delay(self, failures: int) -> float:
        """How long to wait before a restart after `failures` failures in a row."""
        if failures <= 0:
            return self.restart_delay
        return min(self.max_backoff, self.restart_delay * 2.0 ** (failures - 1))


class Service:
    """The state of one service; each method takes an event and returns the actions it causes."""

    def __init__(self, config: ServiceConfig, policy: Policy, clock: Clock, socket: Path | None = None) -> None:
        self.config = config
        self.policy = policy
        self.clock = clock
        self.socket = socket  # only for messages
        self.state = State.WAITING
        self.since = clock.monotonic()  # when `state` was entered
        self.since_wall = clock.wall()
        self.deadline: float | None = None
        self.pid: int | None = None
        self.wanted = True  # False: stop it when its turn comes, and never start it again
        self.starts = 0
        self.failures = 0  # in a row; drives the backoff
        self.total_failures = 0
        self.last_exit: str | None = None  # how the last process ended
        self.last_exit_wall: float | None = None
        self.serving = False
        self.serving_since: float | None = None
        self.unserving_since: float | None = None
        self.waiting_for: str | None = None  # set by the supervisor while a dependency holds us back
        self._restart_after_stop = False
        self._stop_is_failure = False
        self._pending: ServiceConfig | None = None
        self._killed = False

    @property
    def name(self) -> str:
        return self.config.name

    @property
    def has_process(self) -> bool:
        return self.state in HAS_PROCESS

    @property
    def ready(self) -> bool:
        """Dependents may start: it answers SERVING (or it runs and has no health check)."""
        return self.state == State.RUNNING and self.serving

    # -- events --------------------------------------------------------------------------------------------

    def start(self) -> list[Action]:
        """The supervisor lets a WAITING service go."""
        if self.state != State.WAITING or not self.wanted:
            return []
        self.starts += 1
        self.serving = False
        self.serving_since = self.unserving_since = None
        self.waiting_for = None
        self._enter(State.STARTING, None)
        verb = "Starting" if self.starts == 1 else "Restarting"
        return [Log(logging.INFO, f"{verb} service {self.name}"), Spawn(self.config)]

    def spawned(self, pid: int) -> list[Action]:
        if self.state != State.STARTING:
            return []
        self.pid = pid
        actions: list[Action] = []
        if not self.config.health_check:
            actions += self._now_serving()
        else:
            self.deadline = self.clock.monotonic() + self.policy.start_timeout
        if not self.wanted or self._restart_after_stop:
            actions += self._terminate()
        return actions

    def spawn_failed(self, reason: str) -> list[Action]:
        if self.state != State.STARTING:
            return []
        self.last_exit = f"failed to start: {reason}"
        self.last_exit_wall = self.clock.wall()
        return [Log(logging.ERROR, f"Service {self.name} failed to start: {reason}"), *self._after_exit(failed=True)]

    def health(self, serving: bool) -> list[Action]:
        """A health probe's answer: True if the service answered SERVING."""
        if self.state == State.STARTING and serving and self.pid is not None:
            took = self.clock.monotonic() - self.since
            note = Log(logging.INFO, f"Service {self.name} is SERVING ({format_duration(took)} after start)")
            return [note, *self._now_serving()]
        if self.state != State.RUNNING or serving == self.serving:
            return []
        now = self.clock.monotonic()
        self.serving = serving
        if serving:
            self.serving_since, self.unserving_since = now, None
            return [Log(logging.INFO, f"Service {self.name} is SERVING again")]
        self.serving_since, self.unserving_since = None, now
        return [Log(logging.WARNING, f"Service {self.name} (pid {self.pid}) stopped answering SERVING")]

    def exited(self, status: ExitStatus) -> list[Action]:
        if not self.has_process:
            return []
        self.last_exit = str(status)
        self.last_exit_wall = self.clock.wall()
        if self.state == State.STOPPING and self._restart_after_stop:
            failed = self._stop_is_failure
            note = Log(logging.INFO, f"Service {self.name} stopped ({status})")
            return [note, *self._after_exit(failed, at_once=not failed)]
        if self.state == State.STOPPING or not self.wanted:
            self.pid = None
            self._enter(State.STOPPED, None)
            return [Log(logging.INFO, f"Service {self.name} stopped ({status})")]
        self._forgive_if_healthy()
        level = logging.INFO if status.clean else logging.WARNING
        what = "exited normally" if status.clean else f"exited unexpectedly: {status}"
        return [Log(level, f"Service {self.name} {what}"), *self._after_exit(failed=not status.clean)]

    def stop(self) -> list[Action]:
        """Stop for good (its dependents have stopped): SIGTERM now, SIGKILL after term_timeout."""
        self.wanted = False
        self._restart_after_stop = False
        self.waiting_for = None
        if self.state in (State.WAITING, State.BACKOFF):
            self._enter(State.STOPPED, None)
            return []
        if self.state in (State.STARTING, State.RUNNING):
            return self._terminate()
        return []

    def restart(self, reason: str, failure: bool, config: ServiceConfig | None = None) -> list[Action]:
        """Stop the process (if any) and start again, with `config` if given; `failure` counts for backoff."""
        if config is not None:
            self._pending = config
        if not self.has_process:
            self._apply_pending()
            self._enter(State.WAITING if self.wanted else State.STOPPED, None)
            return [Log(logging.INFO, f"Service {self.name}: {reason}")]
        self._restart_after_stop = True
        self._stop_is_failure = failure
        level = logging.ERROR if failure else logging.INFO
        actions: list[Action] = [Log(level, f"Service {self.name}: {reason}; restarting it")]
        if self.state == State.STOPPING or self.pid is None:
            return actions  # already going (or spawned() will see the flag)
        return actions + self._terminate()

    def tick(self) -> list[Action]:
        """Time has passed: act on whichever deadline is due."""
        now = self.clock.monotonic()
        if self.state == State.BACKOFF and self.deadline is not None and now >= self.deadline:
            self._enter(State.WAITING, None)
            return []
        if self.state == State.STARTING and self.deadline is not None and now >= self.deadline:
            where = f" on {self.socket}" if self.socket else ""
            return self.restart(
                f"process {self.pid} is alive but did not answer grpc.health.v1 SERVING{where} within "
                f"{format_duration(self.policy.start_timeout)} (raise start_timeout in [default] if it needs longer, "
                f"or set health_check = no for a binary without a health service; see its log seesaw_{self.name}.log)",
                failure=True,
            )
        if self.state == State.RUNNING:
            return self._tick_running(now)
        if self.state == State.STOPPING and not self._killed and self.deadline is not None and now >= self.deadline:
            self._killed = True
            self.deadline = None
            if self.pid is None:
                return []
            return [
                Log(
                    logging.WARNING,
                    f"Service {self.name} (pid {self.pid}) still running {format_duration(self.config.term_timeout)} "
                    "after SIGTERM; sending SIGKILL to its process group",
                ),
                Kill(self.name, self.pid, signal.SIGKILL, group=True),
            ]
        return []

    def next_deadline(self) -> float | None:
        """The earliest time tick() may have something to do."""
        if self.state == State.RUNNING:
            return self._running_deadline()
        return self.deadline

    # -- helpers -------------------------------------------------------------------------------------------

    def _enter(self, state: State, deadline: float | None) -> None:
        self.state = state
        self.since = self.clock.monotonic()
        self.since_wall = self.clock.wall()
        self.deadline = deadline

    def _now_serving(self) -> list[Action]:
        now = self.clock.monotonic()
        self.state = State.RUNNING  # `since` stays the start time
        self.deadline = None
        self.serving = True
        self.serving_since, self.unserving_since = now, None
        return []

    def _terminate(self) -> list[Action]:
        if self.pid is None:
            return []
        self._killed = False
        self._enter(State.STOPPING, self.clock.monotonic() + self.config.term_timeout)
        return [
            Log(logging.INFO, f"Stopping service {self.name} (pid {self.pid})"),
            Kill(self.name, self.pid, signal.SIGTERM),
        ]

    def _after_exit(self, failed: bool, at_once: bool = False) -> list[Action]:
        self.pid = None
        self.serving = False
        self._restart_after_stop = False
        self._stop_is_failure = False
        self._apply_pending()
        if not self.wanted:
            self._enter(State.STOPPED, None)
            return []
        if at_once:  # a restart we asked for, not a failure: no delay
            self._enter(State.WAITING, None)
            return []
        if failed:
            self.failures += 1
            self.total_failures += 1
            delay = self.policy.delay(self.failures)
            note = f"has failed {self.failures} time{'s' if self.failures > 1 else ''} in a row - delaying"
        else:
            delay = self.policy.restart_delay
            note = "delaying"
        self._enter(State.BACKOFF, self.clock.monotonic() + delay)
        return [Log(logging.INFO, f"Service {self.name} {note} {format_duration(delay)} before restart")]

    def _apply_pending(self) -> None:
        if self._pending is not None:
            self.config = self._pending
            self._pending = None

    def _forgive_if_healthy(self) -> None:
        now = self.clock.monotonic()
        if self.failures and self.serving_since is not None and now - self.serving_since >= self.policy.healthy_after:
            self.failures = 0

    def _running_deadline(self) -> float | None:
        if self.serving and self.failures and self.serving_since is not None:
            return self.serving_since + self.policy.healthy_after
        if not self.serving and self.unserving_since is not None and self.policy.unhealthy_timeout > 0:
            return self.unserving_since + self.policy.unhealthy_timeout
        return None

    def _tick_running(self, now: float) -> list[Action]:
        due = self._running_deadline()
        if due is None or now < due:
            return []
        if self.serving:
            self._forgive_if_healthy()
            return [
                Log(
                    logging.INFO,
                    f"Service {self.name} has been SERVING for {format_duration(self.policy.healthy_after)}; "
                    "failure count reset",
                )
            ]
        return self.restart(
            f"process {self.pid} has not answered SERVING for {format_duration(self.policy.unhealthy_timeout)}",
            failure=True,
        )

    # -- reporting -----------------------------------------------------------------------------------------

    def status(self) -> dict[str, object]:
        """What status.json shows; stable while nothing happens (no "time left" fields)."""
        restart_at = None
        if self.state == State.BACKOFF and self.deadline is not None:
            restart_at = round(self.since_wall + (self.deadline - self.since), 3)
        return {
            "state": self.state.value,
            "pid": self.pid,
            "serving": self.serving if self.has_process else False,
            "since": round(self.since_wall, 3),
            "starts": self.starts,
            "restarts": max(0, self.starts - 1),
            "failures": self.failures,
            "total_failures": self.total_failures,
            "last_exit": self.last_exit,
            "last_exit_time": round(self.last_exit_wall, 3) if self.last_exit_wall is not None else None,
            "restart_at": restart_at,
            "waiting_for": self.waiting_for,
            "binary": self.config.binary,
        }
