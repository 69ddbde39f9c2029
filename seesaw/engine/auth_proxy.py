"""The engine socket's front door: learns each caller from the kernel, then
hands the connection to the engine's gRPC server.

gRPC Python does not tell a servicer the SO_PEERCRED of a Unix-socket peer,
so the engine does not let gRPC accept on `<run-dir>/engine/engine.sock`
itself. This proxy accepts there, reads the peer's credentials
(`seesaw.common.peercred`), opens its own connection to the gRPC server's
private socket (in a 0700 directory only the engine's uid can enter), bound
to a fresh name of its own, and moves bytes both ways. The gRPC server sees
that name as the call's peer (`context.peer()`), and the `CallerRegistry`
maps it back to the caller for as long as the connection lives. A
connection that did not come through the proxy has no entry and is refused.

The bytes never enter Python: each direction is spliced (splice(2)) from one
socket into a pipe and from the pipe into the other socket, so a large reply
(1,000 vservers are 400 kB) costs the engine a few system calls, not copies.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import itertools
import logging
import os
import socket
from collections.abc import Callable
from pathlib import Path

from seesaw.common import peercred
from seesaw.engine.auth import Caller

log = logging.getLogger(__name__)

CHUNK = 1 << 20  # the most one splice moves
PIPE_SIZE = 1 << 20  # asked for each direction's pipe (the kernel may give less: /proc/sys/fs/pipe-max-size)
SPLICE_FLAGS = os.SPLICE_F_MOVE | os.SPLICE_F_NONBLOCK
BACKLOG = 128


class CallerRegistry:
    """gRPC peer string (`unix:<bound name>`) -> the caller behind that proxied connection."""

    def __init__(self) -> None:
        self._callers: dict[str, Caller] = {}

    def add(self, peer: str, caller: Caller) -> None:
        self._callers[peer] = caller

    def remove(self, peer: str) -> None:
        self._callers.pop(peer, None)

    def get(self, peer: str) -> Caller | None:
        return self._callers.get(peer)

    def __len__(self) -> int:
        return len(self._callers)


def local_caller(cred: peercred.PeerCred, own_uid: int) -> Caller:
    """A local process as the kernel describes it; trusted if it is root or runs as the engine does."""
    return Caller(
        user=peercred.user_name(cred.uid),
        groups=peercred.group_names(cred.all_gids()),
        uid=cred.uid,
        pid=cred.pid,
        trusted=cred.uid in (0, own_uid),
    )


class PeerProxy:
    def __init__(
        self,
        front: Path,
        backend: Path,
        peers_dir: Path,
        registry: CallerRegistry,
        identify: Callable[[peercred.PeerCred], Caller],
    ) -> None:
        self.front = front
        self.backend = backend
        self.peers_dir = peers_dir
        self.registry = registry
        self.identify = identify
        self._names = itertools.count(1)
        self._listener: socket.socket | None = None
        self._accepting: asyncio.Task[None] | None = None
        self._connections: set[asyncio.Task[None]] = set()
        self._sockets: set[socket.socket] = set()

    async def start(self) -> None:
        """Listen on the front socket: everyone may connect; the engine decides per call what they may do."""
        self.peers_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        for stale in self.peers_dir.iterdir():  # left by an engine that was killed between bind and unlink
            with contextlib.suppress(OSError):
                stale.unlink()
        self.front.parent.mkdir(parents=True, exist_ok=True)
        os.chmod(self.front.parent, 0o755)
        if self.front.exists() or self.front.is_symlink():
            self.front.unlink()
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        listener.bind(str(self.front))
        os.chmod(self.front, 0o666)
        listener.listen(BACKLOG)
        listener.setblocking(False)
        self._listener = listener
        self._accepting = asyncio.create_task(self._accept(listener))
        log.info("serving on %s (callers identified by SO_PEERCRED)", self.front)

    async def stop(self) -> None:
        if self._accepting is not None:
            self._accepting.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._accepting
            self._accepting = None
        if self._listener is not None:
            self._listener.close()
            self._listener = None
        # End every connection by shutting both of its sockets down: each direction sees end of file and returns.
        for sock in list(self._sockets):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
        if self._connections:
            await asyncio.wait(list(self._connections), timeout=5)
        with contextlib.suppress(FileNotFoundError):
            self.front.unlink()

    async def _accept(self, listener: socket.socket) -> None:
        loop = asyncio.get_running_loop()
        while True:
            try:
                conn, _ = await loop.sock_accept(listener)
            except OSError as err:  # out of descriptors, say: keep serving the connections there are
                log.error("cannot accept a connection on %s: %s", self.front, err)
                await asyncio.sleep(0.1)
                continue
            task = asyncio.create_task(self._connection(conn))
            self._connections.add(task)
            task.add_done_callback(self._connections.discard)

    async def _connection(self, conn: socket.socket) -> None:
        conn.setblocking(False)
        self._sockets.add(conn)
        try:
            await self._serve(conn)
        except Exception:  # one caller's connection failing must not take the front door down
            log.exception("a connection through %s failed", self.front)
        finally:
            self._sockets.discard(conn)
            conn.close()

    async def _serve(self, conn: socket.socket) -> None:
        try:
            caller = self.identify(peercred.peer_credentials(conn))
        except OSError as err:
            log.warning("cannot read the credentials of a caller: %s; closing its connection", err)
            return
        upstream = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        name = self.peers_dir / str(next(self._names))
        peer = f"unix:{name}"
        try:
            upstream.bind(str(name))
            upstream.setblocking(False)
            await asyncio.get_running_loop().sock_connect(upstream, str(self.backend))
        except OSError as err:
            upstream.close()
            log.error("cannot reach the engine's gRPC server at %s: %s", self.backend, err)
            return
        finally:
            with contextlib.suppress(FileNotFoundError):
                name.unlink()  # the peer keeps its name; the file is not needed any more
        self.registry.add(peer, caller)
        self._sockets.add(upstream)
        try:
            await asyncio.gather(_splice(conn, upstream), _splice(upstream, conn))
        finally:
            self._sockets.discard(upstream)
            upstream.close()
            self.registry.remove(peer)


async def _splice(source: socket.socket, sink: socket.socket) -> None:
    """Move bytes from `source` to `sink` through a pipe, in the kernel, until end of file; then pass the end of
    file on. A failure on either side shuts `sink` down, which ends the other direction too."""
    read_end, write_end = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
    with contextlib.suppress(OSError):
        fcntl.fcntl(write_end, fcntl.F_SETPIPE_SZ, PIPE_SIZE)
    capacity = fcntl.fcntl(write_end, fcntl.F_GETPIPE_SZ)
    pending = 0  # bytes in the pipe
    ended = False  # the source's end of file was read
    try:
        while True:
            moved = False
            if not ended and pending < capacity:
                try:
                    count = os.splice(source.fileno(), write_end, min(CHUNK, capacity - pending), flags=SPLICE_FLAGS)
                except BlockingIOError:
                    pass
                else:
                    ended = count == 0
                    pending += count
                    moved = True
            if pending:
                try:
                    count = os.splice(read_end, sink.fileno(), pending, flags=SPLICE_FLAGS)
                except BlockingIOError:
                    pass
                else:
                    pending -= count
                    moved = True
            if ended and not pending:
                sink.shutdown(socket.SHUT_WR)
                return
            if not moved:
                # Stuck on the sink (the pipe holds bytes it does not take yet), or waiting for the source.
                await _ready(sink.fileno(), write=True) if pending else await _ready(source.fileno(), write=False)
    except OSError:
        with contextlib.suppress(OSError):
            sink.shutdown(socket.SHUT_RDWR)
    finally:
        os.close(read_end)
        os.close(write_end)


async def _ready(fd: int, write: bool) -> None:
    """Until `fd` is readable (or writable)."""
    loop = asyncio.get_running_loop()
    ready = loop.create_future()

    def wake() -> None:
        if not ready.done():
            ready.set_result(None)

    (loop.add_writer if write else loop.add_reader)(fd, wake)
    try:
        await ready
    finally:
        (loop.remove_writer if write else loop.remove_reader)(fd)
