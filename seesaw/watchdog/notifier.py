"""sd_notify from a thread of its own, so a slow or stuck receiver never freezes the watchdog.

A datagram to $NOTIFY_SOCKET blocks once the receiver's queue is full
(net.unix.max_dgram_qlen, 10 by default); the watchdog's event loop must keep
supervising regardless. Messages are sent in order by one daemon thread, which
cannot hold up the exit of the process.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable

from seesaw.common import sdnotify


class Notifier:
    def __init__(self, send: Callable[[str], bool] = sdnotify.notify) -> None:
        self._send = send
        self._queue: queue.SimpleQueue[str | threading.Event] = queue.SimpleQueue()
        threading.Thread(target=self._run, name="sd_notify", daemon=True).start()

    def __call__(self, state: str) -> None:
        """Queue `state` (e.g. "READY=1") for systemd; returns at once."""
        self._queue.put(state)

    def flush(self, timeout: float) -> bool:
        """Wait up to `timeout` s until everything queued so far is sent; False if the receiver is stuck."""
        sent = threading.Event()
        self._queue.put(sent)
        return sent.wait(timeout)

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            if isinstance(item, threading.Event):
                item.set()
            else:
                self._send(item)
