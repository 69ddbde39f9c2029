"""What goes wrong in a config file, said so that an operator can fix it.

Every problem names the file, the line and column (1-based; 0 when the input
has no lines, as with a binary `Cluster` from a config server), the field
(`vserver[2].vserver_entry[0].healthcheck[1].interval`, or `cluster.vrid` in
seesaw.cfg) and a reason that says what to do next. A `ConfigError` carries
every error found, so one run of `seesaw config check` shows them all.
Warnings use the same shape but never refuse a config.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass


class Severity(enum.Enum):
    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True)
class Problem:
    path: str
    line: int
    col: int
    field: str
    reason: str
    severity: Severity = Severity.ERROR

    @property
    def is_error(self) -> bool:
        return self.severity is Severity.ERROR

    def location(self) -> str:
        """`path:line:col`, or just `path` when the position is unknown."""
        if self.line <= 0:
            return self.path
        return f"{self.path}:{self.line}:{max(self.col, 1)}"

    def __str__(self) -> str:
        reason = self.reason if self.is_error else f"warning: {self.reason}"
        if self.field:
            return f"{self.location()}: {self.field}: {reason}"
        return f"{self.location()}: {reason}"


def quote(text: str) -> str:
    """A value as it would be written in the config file: `"text"` with escapes."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def sort_key(problem: Problem) -> tuple[str, int, int, str, str]:
    """File order: by path, then position, then field."""
    return (problem.path, problem.line, problem.col, problem.field, problem.reason)


class ConfigError(Exception):
    """A config was refused. `problems` holds every error (and any warnings
    found on the way); `str()` is one problem per line."""

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems: list[Problem] = sorted(problems, key=sort_key)
        super().__init__("\n".join(str(p) for p in self.problems))

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.is_error]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if not p.is_error]
