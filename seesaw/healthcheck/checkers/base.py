"""What every checker is: a coroutine that proves a backend answers, or says why not.

A checker raises `CheckFailed` with a message an operator can act on
("connect to 10.0.0.1:80: connection refused") and returns a success
message otherwise. `attempt` turns any error into a failed outcome;
`run_check` also bounds the run with a timeout, cancels the checker when the
time is up (the checker's `finally` blocks close its sockets, so nothing
lingers) and measures the latency. The scheduler uses `attempt` and keeps the
deadlines of all runs in one heap (see seesaw.healthcheck.deadlines).
"""

from __future__ import annotations

import asyncio
import errno
import time
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class Result:
    """The outcome of one check run. `latency` is in seconds."""

    ok: bool
    message: str
    latency: float


class CheckFailed(Exception):
    """The backend did not pass: the message says what was seen."""


class Checker(Protocol):
    def describe(self) -> str:
        """One line naming what is checked, e.g. "HTTP GET http://10.0.0.1:80/healthz"."""
        ...

    async def check(self) -> str:
        """Run once; return a success message or raise CheckFailed / OSError."""
        ...


class BrokenChecker:
    """Stands for a check whose config cannot be run: every run fails with the reason."""

    def __init__(self, name: str, reason: str) -> None:
        self.name = name
        self.reason = reason

    def describe(self) -> str:
        return self.name

    async def check(self) -> str:
        raise CheckFailed(self.reason)


def show_bytes(data: bytes, limit: int = 64) -> str:
    """Bytes as an operator reads them in a message: b'ok\\n', cut after `limit`."""
    text = repr(data[:limit])
    return text + "..." if len(data) > limit else text


def os_error_text(err: OSError) -> str:
    """Say 'connection refused', not '[Errno 111] Connection refused'."""
    if isinstance(err, ConnectionRefusedError):
        return "connection refused"
    if err.errno == errno.EHOSTUNREACH:
        return "no route to host"
    if err.errno == errno.ENETUNREACH:
        return "network unreachable"
    if err.errno is not None and err.strerror:
        return err.strerror[0].lower() + err.strerror[1:]
    return str(err) or type(err).__name__


async def attempt(checker: Checker) -> tuple[bool, str]:
    """Run `checker` once, unbounded: (passed, message). Never raises, except CancelledError.

    The scheduler bounds runs itself (one deadline heap for all of them);
    `run_check` bounds a single run with its own timer.
    """
    try:
        return True, await checker.check()
    except CheckFailed as err:
        return False, str(err)
    except OSError as err:
        return False, f"{checker.describe()}: {os_error_text(err)}"
    except Exception as err:  # a checker bug must fail the check, not the daemon
        return False, f"{checker.describe()}: internal error {type(err).__name__}: {err}"


def timed_out(checker: Checker, timeout: float) -> str:
    return f"{checker.describe()}: timed out after {timeout:.1f} s"


async def run_check(checker: Checker, timeout: float) -> Result:
    """Run `checker` once, bounded by `timeout` seconds; never raises (except CancelledError)."""
    start = time.monotonic()
    deadline = asyncio.timeout(timeout)
    try:
        async with deadline:
            ok, message = await attempt(checker)
    except TimeoutError:
        return Result(False, timed_out(checker, timeout), time.monotonic() - start)
    return Result(ok, message, time.monotonic() - start)
