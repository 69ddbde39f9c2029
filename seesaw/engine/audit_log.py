"""The audit log: one line per write, to the `seesaw.audit` logger and appended to a file that is rotated by size.

    audit.log      the current file (mode 0600)
    audit.log.1    the previous one, .2 the one before, ... up to `keep`

A line that would take the file past `max_bytes` first rotates it: each
audit.log.N becomes audit.log.N+1 (the one past `keep` is dropped), audit.log
becomes audit.log.1, and the line starts a new audit.log. A line is never
split, and a file holds at least one line however long. With keep = 0 the
full file is dropped. The limits are read at each write (`limits`), so a
changed seesaw.cfg ([ecu] audit_log_max_mb, audit_log_keep) applies at once.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from seesaw.config.settings import Settings

log = logging.getLogger(__name__)
audit_log = logging.getLogger("seesaw.audit")

MIB = 1024 * 1024


@dataclass(frozen=True)
class AuditLimits:
    max_bytes: int = Settings.audit_log_max_mb * MIB
    keep: int = Settings.audit_log_keep

    @classmethod
    def from_settings(cls, settings: Settings) -> AuditLimits:
        return cls(settings.audit_log_max_mb * MIB, settings.audit_log_keep)


def rotated(path: Path, n: int) -> Path:
    """The n-th rotated file: audit.log.n."""
    return path.with_name(f"{path.name}.{n}")


class AuditLog:
    """Audit lines go to the `seesaw.audit` logger and, if a path is given, are appended to that file."""

    def __init__(self, path: Path | None = None, limits: Callable[[], AuditLimits] = AuditLimits) -> None:
        self.path = path
        self.limits = limits

    def write(self, line: str) -> None:
        audit_log.info("%s", line)
        if self.path is None:
            return
        data = (line + "\n").encode()
        try:
            self._rotate_for(len(data))
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            with open(fd, "ab") as f:
                f.write(data)
        except OSError as err:
            log.error("cannot append to the audit log %s: %s; check the space and permissions there", self.path, err)

    def _rotate_for(self, size: int) -> None:
        assert self.path is not None
        try:
            current = self.path.stat().st_size
        except FileNotFoundError:
            return
        limits = self.limits()
        if current == 0 or current + size <= limits.max_bytes:
            return
        if limits.keep <= 0:
            self.path.unlink()
            return
        n = limits.keep
        while rotated(self.path, n).exists():  # the oldest kept, and any beyond a lowered `keep`
            rotated(self.path, n).unlink()
            n += 1
        for n in range(limits.keep - 1, 0, -1):
            older = rotated(self.path, n)
            if older.exists():
                older.rename(rotated(self.path, n + 1))
        self.path.rename(rotated(self.path, 1))
