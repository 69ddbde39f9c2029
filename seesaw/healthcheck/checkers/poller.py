"""Waits for connecting sockets in one epoll set of our own, which the event loop watches as a single fd.

A TCP check is mostly a connect, and at thousands of checks per second the
way a connect is awaited shows: `loop.sock_connect` (or `add_writer` +
`remove_writer`) goes through the selector's per-fd bookkeeping and two
epoll_ctl calls per socket. Here a socket costs one epoll_ctl (EPOLLONESHOT:
it fires once; closing the socket takes it out of the set), and one wake-up
of the loop hands out every connect that finished meanwhile, with its event
mask, so a plain success needs no SO_ERROR read.

The scheduler owns one poller and closes it when it stops; it opens itself
on first use in the running loop (and again in a new loop).
"""

from __future__ import annotations

import asyncio
import select
import socket

WRITABLE = select.EPOLLOUT
_ONE_SHOT_WRITE = select.EPOLLOUT | select.EPOLLONESHOT


class ConnectPoller:
    def __init__(self) -> None:
        self._epoll: select.epoll | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._waiting: dict[int, asyncio.Future[int]] = {}

    def __len__(self) -> int:
        """Sockets waiting now."""
        return len(self._waiting)

    @property
    def is_open(self) -> bool:
        return self._epoll is not None

    async def wait_writable(self, sock: socket.socket) -> int:
        """Wait until `sock` is writable (its connect is over); the epoll event mask (WRITABLE alone: connected)."""
        loop = asyncio.get_running_loop()
        if self._loop is not loop or self._epoll is None:
            self._open(loop)
        assert self._epoll is not None
        fd = sock.fileno()
        waiter: asyncio.Future[int] = loop.create_future()
        try:
            self._epoll.register(fd, _ONE_SHOT_WRITE)
        except FileExistsError:  # waited on before (a cancelled wait) and still open: re-arm it
            self._epoll.modify(fd, _ONE_SHOT_WRITE)
        self._waiting[fd] = waiter
        try:
            return await waiter
        finally:
            if self._waiting.get(fd) is waiter:
                del self._waiting[fd]

    def close(self) -> None:
        """Stop watching; waits still pending are cancelled. The next wait opens it again."""
        epoll, loop = self._epoll, self._loop
        self._epoll = self._loop = None
        for waiter in self._waiting.values():
            waiter.cancel()
        self._waiting.clear()
        if epoll is None:
            return
        if loop is not None and not loop.is_closed():
            loop.remove_reader(epoll.fileno())
        epoll.close()

    def _open(self, loop: asyncio.AbstractEventLoop) -> None:
        self.close()
        epoll = select.epoll()
        loop.add_reader(epoll.fileno(), self._ready)
        self._epoll, self._loop = epoll, loop

    def _ready(self) -> None:
        if self._epoll is None:
            return
        waiting = self._waiting
        for fd, events in self._epoll.poll(0):
            waiter = waiting.pop(fd, None)
            if waiter is not None and not waiter.done():
                waiter.set_result(events)
