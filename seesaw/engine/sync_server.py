"""The master's side of peer sync: the `seesaw.sync.Sync` service on TCP.

It listens on this node's addresses (node_ipv4, node_ipv6) at [engine]
sync_port (10258), with mutual TLS when `sync_tls` has certificates. Only
the configured peer (peer_ipv4, peer_ipv6) and loopback may call: anyone
else is refused with PERMISSION_DENIED and one log line, whatever the
method. Only the master serves: a node that is not LEADER answers
FAILED_PRECONDITION, and a Watch stream ends when this node stops being
the master (the backup then watches the new master).

`run` is the publisher: on every engine change it turns what changed
(overrides set or removed, a new config generation) into notes for the
sessions (`sync_state.SyncSessions`), and it sends the heartbeats. A
session's first note, and the note after an overflow, is a DESYNC carrying
every override, so a backup that (re)connects is resynchronised.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
import urllib.parse
from collections.abc import AsyncIterator, Sequence

import grpc

from seesaw.common.rpc import CHANNEL_OPTIONS
from seesaw.config.model import HAState
from seesaw.engine import sync_state
from seesaw.engine.runtime import EngineRuntime
from seesaw.engine.sync_state import ConfigUpdate, Desync, Heartbeat, Note, OverrideChange, SyncSessions
from seesaw.engine.sync_tls import SyncTLS
from seesaw.pb import sync_pb2, sync_pb2_grpc

log = logging.getLogger(__name__)

SERVICE_NAME = sync_pb2.DESCRIPTOR.services_by_name["Sync"].full_name


def peer_address(peer: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """The IP of a gRPC peer string ("ipv4:10.0.0.3:5555", "ipv6:[::1]:5555"), or None if it has none."""
    peer = urllib.parse.unquote(peer)
    family, _, rest = peer.partition(":")
    if family == "ipv4":
        host = rest.rsplit(":", 1)[0]
    elif family == "ipv6":
        host = rest.rsplit(":", 1)[0].strip("[]")
    else:
        return None
    try:
        ip = ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return None
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    return ip


class SyncServer:
    def __init__(
        self,
        runtime: EngineRuntime,
        *,
        tls: SyncTLS | None = None,
        heartbeat_interval: float = sync_state.HEARTBEAT_INTERVAL,
    ) -> None:
        self.runtime = runtime
        self.engine = runtime.engine
        self.tls = tls
        self.sessions = SyncSessions(self.engine.clock, heartbeat_interval=heartbeat_interval)
        self._wakers: dict[int, asyncio.Event] = {}
        self._server: grpc.aio.Server | None = None
        self.ports: list[int] = []

    # ----------------------------------------------------------------- policy

    def allowed(self, ip: ipaddress.IPv4Address | ipaddress.IPv6Address | None) -> bool:
        if ip is None:
            return False
        settings = self.engine.settings
        return ip.is_loopback or ip in (settings.peer_ipv4, settings.peer_ipv6)

    def is_master(self) -> bool:
        return self.engine.ha.state == HAState.LEADER

    async def admit(self, context: grpc.aio.ServicerContext, method: str) -> str:
        """The caller's address if it may call; otherwise PERMISSION_DENIED (and a log line)."""
        peer = context.peer()
        ip = peer_address(peer)
        if not self.allowed(ip):
            settings = self.engine.settings
            configured = " or ".join(str(p) for p in (settings.peer_ipv4, settings.peer_ipv6) if p) or "none"
            log.warning("sync: refused %s from %s: not the configured peer (%s)", method, ip or peer, configured)
            await context.abort(
                grpc.StatusCode.PERMISSION_DENIED,
                f"{ip or peer} is not this node's peer: only {configured} (peer_ipv4/peer_ipv6 in seesaw.cfg) "
                "may use the sync port",
            )
        return str(ip)

    async def require_master(self, context: grpc.aio.ServicerContext) -> None:
        if not self.is_master():
            await context.abort(
                grpc.StatusCode.FAILED_PRECONDITION,
                f"this node is not the master (it is {self.engine.ha.state.name}); sync with the master",
            )

    # ---------------------------------------------------------------- serving

    async def start(self, addresses: Sequence[str]) -> list[int]:
        """Listen on `addresses` ("host:port"); returns the ports bound (one per address)."""
        server = grpc.aio.server(options=CHANNEL_OPTIONS)
        sync_pb2_grpc.add_SyncServicer_to_server(SyncService(self), server)
        ports = []
        for address in addresses:
            if self.tls is not None:
                port = server.add_secure_port(address, self.tls.server_credentials())
            else:
                port = server.add_insecure_port(address)
            ports.append(port)
        await server.start()
        self._server = server
        self.ports = ports
        mode = "mutual TLS" if self.tls is not None else "clear text (no sync_cert in seesaw.cfg)"
        log.info("sync: serving on %s, %s", ", ".join(addresses), mode)
        return ports

    async def stop(self, grace: float = 0.5) -> None:
        if self._server is not None:
            await self._server.stop(grace)
            self._server = None

    def open_session(self, peer: str) -> tuple[int, asyncio.Event]:
        session_id = self.sessions.open(peer)
        event = asyncio.Event()
        event.set()
        self._wakers[session_id] = event
        log.info("sync: session %d opened by %s", session_id, peer)
        return session_id, event

    def close_session(self, session_id: int) -> None:
        peer = self.sessions.peers().get(session_id, "?")
        self.sessions.close(session_id)
        self._wakers.pop(session_id, None)
        log.info("sync: session %d with %s closed", session_id, peer)

    def to_pb(self, note: Note, session_id: int) -> sync_pb2.Note:
        out = sync_pb2.Note(session=session_id)
        if isinstance(note, Heartbeat):
            out.type = sync_pb2.Note.HEARTBEAT
        elif isinstance(note, Desync):
            out.type = sync_pb2.Note.DESYNC
            for (target, name), state in sorted(self.engine.override_map().items()):
                out.overrides.append(_override(target, name, state))
            out.config.CopyFrom(self.config_version())
        elif isinstance(note, OverrideChange):
            out.type = sync_pb2.Note.OVERRIDE
            out.overrides.append(_override(note.target, note.name, note.state))
        else:
            out.type = sync_pb2.Note.CONFIG_UPDATE
            out.config.generation = note.generation
            out.config.last_updated = note.last_updated
        return out

    def config_version(self) -> sync_pb2.ConfigVersion:
        target = self.engine.target
        return sync_pb2.ConfigVersion(
            generation=self.engine.config_info.generation,
            last_updated=target.metadata.last_updated if target is not None else 0,
        )

    def _wake_sessions(self) -> None:
        for event in self._wakers.values():
            event.set()

    async def run(self, stop: asyncio.Event) -> None:
        """Publish changes and heartbeats to the sessions until `stop`."""
        wake = self.runtime.subscribe()
        overrides = self.engine.override_map()
        generation = self.engine.config_info.generation
        try:
            while not stop.is_set():
                wait = max(self.sessions.next_heartbeat() - self.engine.clock.monotonic(), 0.0)
                waiter = asyncio.ensure_future(wake.wait())
                stopper = asyncio.ensure_future(stop.wait())
                try:
                    await asyncio.wait([waiter, stopper], timeout=wait, return_when=asyncio.FIRST_COMPLETED)
                finally:
                    waiter.cancel()
                    stopper.cancel()
                wake.clear()
                now = self.engine.override_map()
                for change in sync_state.override_changes(overrides, now):
                    self._notify(change)
                overrides = now
                if self.engine.config_info.generation != generation:
                    generation = self.engine.config_info.generation
                    version = self.config_version()
                    self._notify(ConfigUpdate(version.generation, version.last_updated))
                self.sessions.tick()
                self._wake_sessions()  # also lets a writer see that this node stopped being the master
        finally:
            self.runtime.unsubscribe(wake)

    def _notify(self, note: Note) -> None:
        for session_id in self.sessions.notify(note):
            log.warning(
                "sync: session %d with %s fell %d notes behind: it is resynchronised",
                session_id,
                self.sessions.peers().get(session_id, "?"),
                self.sessions.queue_size,
            )


def _override(target: int, name: str, state: int) -> sync_pb2.Override:
    return sync_pb2.Override(target=target, name=name, state=state)  # type: ignore[arg-type]


class SyncService(sync_pb2_grpc.SyncServicer):
    def __init__(self, server: SyncServer) -> None:
        self.server = server

    async def Watch(
        self, request: sync_pb2.WatchRequest, context: grpc.aio.ServicerContext
    ) -> AsyncIterator[sync_pb2.Note]:
        peer = await self.server.admit(context, "Watch")
        await self.server.require_master(context)
        session_id, event = self.server.open_session(request.node or peer)
        try:
            while True:
                event.clear()
                if not self.server.is_master():
                    log.info("sync: this node is no longer the master: ending session %d", session_id)
                    await context.abort(
                        grpc.StatusCode.FAILED_PRECONDITION,
                        f"this node is no longer the master (it is {self.server.engine.ha.state.name})",
                    )
                notes = self.server.sessions.take(session_id)
                for note in notes:
                    yield self.server.to_pb(note, session_id)
                if not notes:
                    await event.wait()
        finally:
            with contextlib.suppress(Exception):
                self.server.close_session(session_id)

    async def GetConfig(
        self, request: sync_pb2.ConfigRequest, context: grpc.aio.ServicerContext
    ) -> sync_pb2.ConfigReply:
        peer = await self.server.admit(context, "GetConfig")
        await self.server.require_master(context)
        loaded = self.server.runtime.loader.running
        if loaded is None or loaded.proto is None:
            await context.abort(
                grpc.StatusCode.FAILED_PRECONDITION, "the master runs no config yet; fix its config first"
            )
        assert loaded is not None and loaded.proto is not None
        me = self.server.engine.this_node()
        log.info("sync: sent the running config to %s", peer)
        return sync_pb2.ConfigReply(
            cluster=loaded.proto.SerializeToString(),
            version=self.server.config_version(),
            origin=loaded.origin,
            hostname=me.hostname if me is not None else "",
        )
