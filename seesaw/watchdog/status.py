"""`<run-dir>/watchdog/status.json`: what the watchdog is doing, for operators and tests.

Rewritten atomically (temporary file + rename) whenever anything in it
changes, so a reader never sees half a file.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

from seesaw.common import paths


def status_path(run_dir: Path) -> Path:
    return paths.state_dir(run_dir, "watchdog") / "status.json"


class StatusFile:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._last: dict[str, object] | None = None

    def update(self, content: dict[str, object]) -> bool:
        """Write `content` (plus the time) if it differs from the last write; True if written."""
        if content == self._last:
            return False
        self.path.parent.mkdir(parents=True, exist_ok=True)
        temp = self.path.with_name(f".{self.path.name}.{os.getpid()}")
        temp.write_text(json.dumps({**content, "updated": round(time.time(), 3)}, indent=2, sort_keys=True) + "\n")
        os.chmod(temp, 0o644)
        temp.replace(self.path)
        self._last = content
        return True


def read_status(run_dir: Path) -> dict[str, object]:
    """The last status written under `run_dir` (for tests and tools)."""
    data: dict[str, object] = json.loads(status_path(run_dir).read_text())
    return data
