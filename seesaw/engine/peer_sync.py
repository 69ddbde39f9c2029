"""Peer sync in the engine daemon: the sync server on this node's addresses,
the client that watches the master, and the `peer` config source.

Both run on every node; which one acts follows HA (the master serves, the
backup watches). The listen addresses and certificates are read once at
start: changing node_ipv4/node_ipv6, sync_port or the sync_* certificate
keys of seesaw.cfg takes an engine restart (the peer address is re-read on
every call). A node with no usable settings, or whose address cannot be
bound, runs without a sync server and says so in the log and its warnings.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field
from pathlib import Path

from seesaw.engine import sync_tls
from seesaw.engine.runtime import EngineRuntime
from seesaw.engine.sync_client import SyncClient
from seesaw.engine.sync_server import SyncServer

log = logging.getLogger(__name__)


@dataclass
class PeerSync:
    client: SyncClient
    server: SyncServer | None
    tasks: list[asyncio.Task[None]] = field(default_factory=list)

    async def stop(self) -> None:
        for task in self.tasks:
            task.cancel()
        for task in self.tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self.server is not None:
            await self.server.stop()


def listen_addresses(runtime: EngineRuntime) -> list[str]:
    settings = runtime.engine.settings
    out = []
    if settings.node_ipv4 is not None:
        out.append(f"{settings.node_ipv4}:{settings.sync_port}")
    if settings.node_ipv6 is not None:
        out.append(f"[{settings.node_ipv6}]:{settings.sync_port}")
    return out


async def start(runtime: EngineRuntime, config_dir: Path, stop: asyncio.Event) -> PeerSync:
    """Start the sync server and client; the `peer` config source asks the client."""
    client = SyncClient(runtime, config_dir)
    runtime.loader.peer_fetch = client.fetch_config
    server: SyncServer | None = None
    addresses = listen_addresses(runtime)
    problem = ""
    try:
        tls = sync_tls.load(runtime.engine.settings, config_dir)
    except sync_tls.SyncTLSError as err:
        tls, problem = None, f"no sync server: {err}"
    if not problem and not addresses:
        problem = "no sync server: seesaw.cfg gives no node_ipv4 or node_ipv6 to listen on"
    if not problem:
        server = SyncServer(runtime, tls=tls)
        try:
            await server.start(addresses)
        except RuntimeError as err:  # grpc: the address cannot be bound
            server = None
            problem = (
                f"no sync server: cannot listen on {', '.join(addresses)} ({err}); is node_ipv4 an address of "
                "this host? Fix seesaw.cfg and restart the engine"
            )
    if problem:
        log.error("sync: %s", problem)
        client.server_problem = runtime.engine.sync_warning = problem
    sync = PeerSync(client, server)
    sync.tasks.append(asyncio.create_task(client.run(stop)))
    if server is not None:
        sync.tasks.append(asyncio.create_task(server.run(stop)))
    return sync
