"""The engine socket's front door: learns each caller from the kernel, then
hands the connection to the engine's gRPC server.

gRPC Python does not tell a servicer the SO_PEERCRED of a Unix-socket peer,
so the engine does not let gRPC accept on `<run-dir>/engine/engine.sock`
itself. This proxy accepts there, reads the peer's credentials
(`seesaw.common.peercred`), opens its own connection to the gRPC server's
private socket (in a 0700 directory only the engine's uid can enter), bound
to a fresh name of its own, and copies bytes both ways. The gRPC server sees
that name as the call's peer (`context.peer()`), and the `CallerRegistry`
maps it back to the caller for as long as the connection lives. A
connection that did not come through the proxy has no entry and is refused.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import os
import socket
from collections.abc import Callable
from pathlib import Path

from seesaw.common import peercred
from seesaw.engine.auth import Caller

log = logging.getLogger(__name__)

CHUNK = 256 * 1024


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
        self._server: asyncio.AbstractServer | None = None
        self._connections: set[asyncio.Task[None]] = set()
        self._writers: set[asyncio.StreamWriter] = set()

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
        self._server = await asyncio.start_unix_server(self._accepted, path=str(self.front), limit=CHUNK)
        os.chmod(self.front, 0o666)
        log.info("serving on %s (callers identified by SO_PEERCRED)", self.front)

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            self._server = None
        # End every connection by closing both of its ends: the copies see end of file and return. (Cancelling
        # the connection tasks instead would make asyncio's stream server log each one as an error.)
        for writer in list(self._writers):
            writer.close()
        if self._connections:
            await asyncio.wait(list(self._connections), timeout=5)
        with contextlib.suppress(FileNotFoundError):
            self.front.unlink()

    async def _accepted(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._connections.add(task)
        self._writers.add(writer)
        try:
            await self._serve(reader, writer)
        finally:
            self._connections.discard(task)
            self._writers.discard(writer)
            writer.close()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        sock: socket.socket = writer.get_extra_info("socket")
        try:
            caller = self.identify(peercred.peer_credentials(sock))
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
        try:
            up_reader, up_writer = await asyncio.open_unix_connection(sock=upstream, limit=CHUNK)
            self._writers.add(up_writer)
            try:
                await asyncio.gather(_pipe(reader, up_writer), _pipe(up_reader, writer))
            finally:
                self._writers.discard(up_writer)
                up_writer.close()
        finally:
            self.registry.remove(peer)


async def _pipe(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
    """Copy until end of file, then pass the end of file on."""
    try:
        while data := await source.read(CHUNK):
            sink.write(data)
            await sink.drain()
        if sink.can_write_eof():
            sink.write_eof()
    except (ConnectionError, OSError):
        sink.close()
