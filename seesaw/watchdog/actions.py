"""What the pure supervisor asks its I/O shell to do, and how a process ended.

Actions are small immutable values; the shell (runner.py) carries them out and
feeds what happened back in as method calls on the Supervisor.
"""

from __future__ import annotations

import signal
from dataclasses import dataclass

from seesaw.watchdog.config import ServiceConfig


@dataclass(frozen=True)
class Spawn:
    """Start the service's process."""

    service: ServiceConfig


@dataclass(frozen=True)
class Kill:
    """Send `signal` to the process (`group`: to its whole process group)."""

    name: str
    pid: int
    signal: signal.Signals
    group: bool = False


@dataclass(frozen=True)
class Log:
    """A line for the watchdog's own log."""

    level: int  # a logging level
    text: str


Action = Spawn | Kill | Log


@dataclass(frozen=True)
class ExitStatus:
    """How a process ended: `code` from exit(), or the `signal` that killed it."""

    code: int | None = None
    signal: int | None = None

    @classmethod
    def from_returncode(cls, returncode: int) -> ExitStatus:
        """From subprocess' convention: negative means killed by that signal."""
        return cls(signal=-returncode) if returncode < 0 else cls(code=returncode)

    @property
    def clean(self) -> bool:
        return self.code == 0

    def __str__(self) -> str:
        if self.signal is not None:
            try:
                return f"killed by {signal.Signals(self.signal).name}"
            except ValueError:
                return f"killed by signal {self.signal}"
        return f"exit status {self.code}"
