"""Waiting in the engine tests: until a probe holds, or fail saying what never happened."""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable, Callable


async def eventually(
    probe: Callable[[], bool | Awaitable[bool]], what: str, timeout: float = 10.0, poll: float = 0.02
) -> None:
    """Poll `probe` (plain or async) every `poll` s until it is true; AssertionError after `timeout` s."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        held = probe()
        if inspect.isawaitable(held):
            held = await held
        if held:
            return
        if loop.time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(poll)
