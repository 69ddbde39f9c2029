"""The lab's processes, known by pid and start time, so a later `seesaw lab down` finds exactly them.

A pid alone could name another process once ours is gone; the start time
(field 22 of /proc/<pid>/stat) pins it. Processes are started in their own
session, so they outlive the command that started them.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

_children: dict[int, subprocess.Popen[bytes]] = {}  # started by this process: reaped through their Popen


@dataclass(frozen=True)
class Proc:
    pid: int
    start: int  # clock ticks after boot, from /proc/<pid>/stat

    def to_json(self) -> dict[str, int]:
        return {"pid": self.pid, "start": self.start}

    @classmethod
    def from_json(cls, data: Mapping[str, int]) -> Proc:
        return cls(int(data["pid"]), int(data["start"]))


def _stat(pid: int) -> tuple[str, int] | None:
    """(state letter, start time) of `pid`, or None if there is no such process."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = text.rsplit(")", 1)[1].split()  # after the command name, which may hold spaces
    return fields[0], int(fields[19])


def spawn(argv: Sequence[str], log: Path, env: Mapping[str, str] | None = None) -> Proc:
    """Start `argv` in a session of its own, stdout and stderr appended to `log`."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("ab") as out:
        child = subprocess.Popen(
            list(argv),
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            env=dict(env) if env is not None else None,
            start_new_session=True,
        )
    _children[child.pid] = child
    stat = _stat(child.pid)
    return Proc(child.pid, stat[1] if stat else 0)


def _reap(pid: int) -> None:
    child = _children.get(pid)
    if child is not None and child.poll() is not None:
        del _children[pid]


def alive(proc: Proc) -> bool:
    """Whether `proc` still runs (a zombie does not)."""
    _reap(proc.pid)
    stat = _stat(proc.pid)
    return stat is not None and stat[1] == proc.start and stat[0] not in ("Z", "X")


def signal_proc(proc: Proc, sig: int) -> bool:
    """Send `sig` to `proc` if it is still the process we started; whether it was sent."""
    if not alive(proc):
        return False
    try:
        os.kill(proc.pid, sig)
    except ProcessLookupError:
        return False
    return True


def stop(proc: Proc, timeout: float = 15.0) -> bool:
    """SIGTERM, then SIGKILL after `timeout`; True if it had to be killed."""
    if not signal_proc(proc, signal.SIGTERM):
        return False
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not alive(proc):
            return False
        time.sleep(0.05)
    signal_proc(proc, signal.SIGKILL)
    while alive(proc):
        time.sleep(0.05)
    return True
