"""The backup's side of peer sync: watch the master, take its overrides,
and fetch its config for `config source peer`.

While this node is the backup (HA state BACKUP) and a peer is configured,
`run` keeps one Watch stream open to the peer's sync port. Every stream
starts with a DESYNC carrying the master's whole override set: this node's
overrides become exactly that set (removals included, each change logged),
so a reconnect is a resync. Then OVERRIDE notes are applied as they come
and CONFIG_UPDATE notes make a `peer` source check at once. A stream that
fails is retried every 5 s; one that stays silent for three heartbeats is
dropped and reopened. Why this node is not in sync shows in its warnings.
The timing rules are `sync_state.SyncWatcher`'s.

`fetch_config` asks the master for its running cluster config (a binary
`Cluster`, validated here as a config server's would be).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from pathlib import Path

import grpc

from seesaw.common.rpc import CHANNEL_OPTIONS
from seesaw.config.model import HAState
from seesaw.engine import sync_state, sync_tls
from seesaw.engine.config_loader import PeerConfig, SourceUnavailable
from seesaw.engine.runtime import EngineRuntime
from seesaw.engine.sync_state import ConfigUpdate, Desync, Heartbeat, Note, OverrideChange, SyncWatcher
from seesaw.engine.sync_tls import SyncTLS, SyncTLSError
from seesaw.pb import sync_pb2, sync_pb2_grpc

log = logging.getLogger(__name__)

CALL_TIMEOUT = 10.0


def from_pb(note: sync_pb2.Note) -> list[Note]:
    """The state machine's notes for one wire note (an OVERRIDE may carry several)."""
    if note.type == sync_pb2.Note.HEARTBEAT:
        return [Heartbeat()]
    if note.type == sync_pb2.Note.DESYNC:
        return [Desync()]
    if note.type == sync_pb2.Note.CONFIG_UPDATE:
        return [ConfigUpdate(note.config.generation, note.config.last_updated)]
    return [OverrideChange(o.target, o.name, o.state) for o in note.overrides]


def describe(err: grpc.RpcError) -> str:
    """One short phrase for a failed call to the peer."""
    call = err if isinstance(err, grpc.Call | grpc.aio.AioRpcError) else None
    code = call.code() if call is not None else None
    details = (call.details() if call is not None else "") or ""
    if code == grpc.StatusCode.UNAVAILABLE:
        return f"unreachable ({details or 'unavailable'})"
    if code == grpc.StatusCode.DEADLINE_EXCEEDED:
        return "no answer in time"
    return f"{details or (code.name if code is not None else str(err))}"


class SyncClient:
    def __init__(
        self,
        runtime: EngineRuntime,
        config_dir: Path,
        *,
        retry_interval: float = sync_state.RETRY_INTERVAL,
        silence_timeout: float = sync_state.SILENCE_HEARTBEATS * sync_state.HEARTBEAT_INTERVAL,
        target: str | None = None,
    ) -> None:
        self.runtime = runtime
        self.engine = runtime.engine
        self.config_dir = config_dir
        self.watcher = SyncWatcher(self.engine.clock, retry_interval=retry_interval, silence_timeout=silence_timeout)
        self._target = target  # tests name the master directly; otherwise peer_ipv4/peer_ipv6 and sync_port
        self._config_generation: int | None = None
        self.resyncs_total = 0
        self.server_problem = ""  # why this node runs no sync server (peer_sync), shown with the client's

    # ----------------------------------------------------------------- peer

    def target(self) -> str | None:
        """`host:port` of the peer's sync port, or None if no peer is configured."""
        if self._target is not None:
            return self._target
        settings = self.engine.settings
        if settings.peer_ipv4 is not None:
            return f"{settings.peer_ipv4}:{settings.sync_port}"
        if settings.peer_ipv6 is not None:
            return f"[{settings.peer_ipv6}]:{settings.sync_port}"
        return None

    def channel(self, target: str) -> grpc.aio.Channel:
        """A channel to the peer; SyncTLSError if the configured certificates cannot be used."""
        tls: SyncTLS | None = sync_tls.load(self.engine.settings, self.config_dir)
        options = [*CHANNEL_OPTIONS, ("grpc.enable_retries", 0)]
        if tls is None:
            return grpc.aio.insecure_channel(target, options=options)
        return grpc.aio.secure_channel(target, tls.channel_credentials(), options=options)

    async def fetch_config(self) -> PeerConfig:
        """The master's running cluster config; SourceUnavailable (one line per reason) if it cannot be had."""
        target = self.target()
        if target is None:
            raise SourceUnavailable(
                ["config source is peer, but no peer is configured: set peer_ipv4 in [cluster] of seesaw.cfg"]
            )
        try:
            channel = self.channel(target)
        except SyncTLSError as err:
            raise SourceUnavailable([f"peer {target}: {err}"]) from None
        try:
            reply = await sync_pb2_grpc.SyncStub(channel).GetConfig(sync_pb2.ConfigRequest(), timeout=CALL_TIMEOUT)
        except grpc.RpcError as err:
            raise SourceUnavailable([f"peer {target}: {describe(err)}"]) from None
        finally:
            await channel.close()
        name = reply.hostname or target
        origin = f"peer {name} ({target}, config generation {reply.version.generation}"
        origin += f", from {reply.origin})" if reply.origin else ")"
        return PeerConfig(reply.cluster, origin)

    # ---------------------------------------------------------------- watching

    def should_watch(self) -> bool:
        return self.engine.ha.state == HAState.BACKUP and self.target() is not None

    async def run(self, stop: asyncio.Event) -> None:
        """Watch the master while this node is the backup, until `stop`."""
        wake = self.runtime.subscribe()
        stream: asyncio.Task[None] | None = None
        try:
            while not stop.is_set():
                enabled = self.should_watch()
                if self.watcher.set_enabled(enabled):
                    if enabled:
                        log.info("sync: this node is the backup: watching the master at %s", self.target())
                    else:
                        log.info("sync: not the backup any more: stopped watching the peer")
                if stream is not None and (not enabled or self.watcher.silent()):
                    silent = enabled
                    stream.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await stream
                    stream = None
                    if silent:
                        reason = f"no note from the master for {self.watcher.silence_timeout:g} s"
                        log.warning("sync: %s: reconnecting", reason)
                        self.watcher.ended(reason)
                if stream is not None and stream.done():
                    stream = None
                if stream is None and self.watcher.due():
                    self.watcher.connecting()
                    stream = asyncio.create_task(self._stream())
                self._show_status()
                await self._wait(wake, stop, stream)
        finally:
            self.runtime.unsubscribe(wake)
            if stream is not None:
                stream.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await stream

    async def _wait(self, wake: asyncio.Event, stop: asyncio.Event, stream: asyncio.Task[None] | None) -> None:
        deadline = self.watcher.next_deadline()
        timeout = None if deadline is None else max(deadline - self.engine.clock.monotonic(), 0.0) + 0.01
        waiters = [asyncio.ensure_future(wake.wait()), asyncio.ensure_future(stop.wait())]
        try:
            await asyncio.wait(
                [*waiters, *([stream] if stream is not None else [])],
                timeout=timeout,
                return_when=asyncio.FIRST_COMPLETED,
            )
        finally:
            for waiter in waiters:
                waiter.cancel()
        wake.clear()

    async def _stream(self) -> None:
        target = self.target()
        if target is None:
            self.watcher.ended("no peer is configured")
            return
        try:
            channel = self.channel(target)
        except SyncTLSError as err:
            log.error("sync: %s", err)
            self.watcher.ended(str(err))
            return
        error = "the master ended the stream"
        try:
            me = self.engine.settings.node_ipv4 or self.engine.settings.node_ipv6 or ""
            call = sync_pb2_grpc.SyncStub(channel).Watch(sync_pb2.WatchRequest(node=str(me)))
            async for wire in call:
                for note in from_pb(wire):
                    self.watcher.received(note)
                    self._apply(note, wire, target)
        except grpc.RpcError as err:
            error = describe(err)
        finally:
            await channel.close()
        if self.watcher.in_sync or self.watcher.last_error != error:
            retry = self.watcher.retry_interval
            log.warning("sync: the stream from the master at %s ended: %s; retrying in %g s", target, error, retry)
        self.watcher.ended(error)
        self.runtime.changed()

    def _apply(self, note: Note, wire: sync_pb2.Note, target: str) -> None:
        if isinstance(note, Heartbeat):
            return
        if isinstance(note, Desync):
            snapshot = {(o.target, o.name): o.state for o in wire.overrides if o.state}
            changes = sync_state.override_changes(self.engine.override_map(), snapshot)
            applied = sum(1 for c in changes if self.engine.sync_override(c.target, c.name, c.state))
            self.resyncs_total += 1
            log.info(
                "sync: in sync with the master at %s (session %d): %d overrides, %d changed here",
                target,
                wire.session,
                len(snapshot),
                applied,
            )
            self._config_announced(wire.config.generation)
        elif isinstance(note, OverrideChange):
            self.engine.sync_override(note.target, note.name, note.state)
        elif isinstance(note, ConfigUpdate):
            log.info("sync: the master runs config generation %d", note.generation)
            self._config_announced(note.generation)
        self.runtime.changed()

    def _config_announced(self, generation: int) -> None:
        known = self._config_generation
        self._config_generation = generation
        if self.runtime.loader.source == "peer" and generation != known:
            self.runtime.loader.request_check()

    def _show_status(self) -> None:
        warning = self.server_problem
        watching = self.watcher.state is not sync_state.WatchState.DISABLED
        if watching and not self.watcher.in_sync and self.watcher.last_error:
            warning = "; ".join(
                w
                for w in (
                    warning,
                    f"this backup is not in sync with the master at {self.target()}: {self.watcher.last_error} "
                    f"(retrying every {self.watcher.retry_interval:g} s)",
                )
                if w
            )
        if warning != self.engine.sync_warning:
            self.engine.sync_warning = warning
            self.runtime.changed()
