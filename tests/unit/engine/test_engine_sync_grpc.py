"""Peer sync between two real engine runtimes over real gRPC on TCP loopback:
overrides and their removal, resync after a reconnect, heartbeats and a
silent stream, the master-only rule, mutual TLS, and `config source peer`."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from pathlib import Path

import grpc
import pytest
from engine_waits import eventually
from sync_fixtures import (
    BACKEND,
    BACKUP_IP,
    DEFAULT,
    DISABLED,
    ENABLED,
    MASTER_IP,
    VSERVER,
    cluster_text,
    make_node,
    set_ha,
)

from seesaw.common.rpc import CHANNEL_OPTIONS
from seesaw.config.model import HAState
from seesaw.config.settings import Settings
from seesaw.engine import peer_sync, sync_tls
from seesaw.engine.config_loader import SourceUnavailable
from seesaw.engine.runtime import EngineRuntime
from seesaw.engine.sync_client import SyncClient
from seesaw.engine.sync_server import SyncServer, peer_address
from seesaw.lab.certs import TestCA
from seesaw.pb import sync_pb2, sync_pb2_grpc


def run(coro: object) -> None:
    asyncio.run(asyncio.wait_for(coro, 30))  # type: ignore[arg-type]


class Pair:
    """A master and a backup runtime, the master's sync server, and the backup's client."""

    def __init__(self, tmp: Path, *, master_cluster: str, backup_cluster: str, tls: bool = False) -> None:
        extra = ""
        if tls:
            ca = TestCA()
            ca.write(tmp / "ca.crt")
            ca.write_leaf(tmp / "master", "master", ips=["127.0.0.1"])
            ca.write_leaf(tmp / "backup", "backup", ips=["127.0.0.1"])
            extra = "[engine]\nsync_ca = {ca}\nsync_cert = {crt}\nsync_key = {key}\n"
        self.master = make_node(
            tmp,
            "master",
            MASTER_IP,
            BACKUP_IP,
            master_cluster,
            extra.format(ca=tmp / "ca.crt", crt=tmp / "master.crt", key=tmp / "master.key"),
        )
        self.backup = make_node(
            tmp,
            "backup",
            BACKUP_IP,
            MASTER_IP,
            backup_cluster,
            extra.format(ca=tmp / "ca.crt", crt=tmp / "backup.crt", key=tmp / "backup.key"),
        )
        self.tmp = tmp
        self.stop = asyncio.Event()
        self.server = SyncServer(
            self.master,
            tls=sync_tls.load(self.master.engine.settings, self.master.source.config_dir),
            heartbeat_interval=0.2,
        )
        self.client: SyncClient | None = None
        self.tasks: list[asyncio.Task[None]] = []

    @contextlib.asynccontextmanager
    async def running(self, *, heartbeat: float = 0.2) -> AsyncIterator[Pair]:
        self.server.sessions.heartbeat_interval = heartbeat
        (port,) = await self.server.start(["127.0.0.1:0"])
        self.target = f"127.0.0.1:{port}"
        self.tasks.append(asyncio.create_task(self.server.run(self.stop)))
        self.tasks.append(asyncio.create_task(self.backup.loader.run(self.stop)))
        try:
            yield self
        finally:
            self.stop.set()
            for task in self.tasks:
                with contextlib.suppress(asyncio.CancelledError):
                    await asyncio.wait_for(task, 5)
            await self.server.stop(0)

    def start_client(self, **kwargs: float) -> SyncClient:
        client = SyncClient(self.backup, self.backup.source.config_dir, target=self.target, **kwargs)
        self.backup.loader.peer_fetch = client.fetch_config
        self.client = client
        self.client_stop = asyncio.Event()
        self.client_task = asyncio.create_task(client.run(self.client_stop))
        return client

    async def stop_client(self) -> None:
        self.client_stop.set()
        await asyncio.wait_for(self.client_task, 5)


def override(runtime: EngineRuntime, target: int, name: str, state: int) -> None:
    runtime.engine.set_override(target, name, state)
    runtime.changed()


def test_backup_takes_the_masters_overrides_and_their_removal(tmp_path: Path) -> None:
    async def scenario() -> None:
        pair = Pair(tmp_path, master_cluster=cluster_text(1, 2), backup_cluster=cluster_text(1, 2))
        set_ha(pair.master, HAState.LEADER)
        set_ha(pair.backup, HAState.BACKUP)
        override(pair.master, VSERVER, "web1@au-syd", DISABLED)
        async with pair.running():
            client = pair.start_client()
            backup = pair.backup.engine
            # The first note (Desync) carries what the master already had.
            await eventually(lambda: backup.override_map() == {(VSERVER, "web1@au-syd"): DISABLED}, "the snapshot")
            assert client.watcher.in_sync and client.resyncs_total == 1
            assert not backup.machines["web1@au-syd"].snapshot(lambda key: 0).enabled

            override(pair.master, BACKEND, "be2-1.example.com.", ENABLED)
            override(pair.master, VSERVER, "web1@au-syd", DEFAULT)
            await eventually(
                lambda: backup.override_map() == {(BACKEND, "be2-1.example.com."): ENABLED}, "the set and the removal"
            )
            assert backup.machines["web1@au-syd"].snapshot(lambda key: 0).enabled
            saved = json.loads((tmp_path / "backup" / "run" / "engine" / "overrides.json").read_text())
            assert saved["overrides"] == [{"target": "backend", "name": "be2-1.example.com.", "state": "enabled"}]
            assert client.resyncs_total == 1  # one stream all along
            assert not [w for w in backup.warnings() if w.startswith("sync:")]
            await pair.stop_client()

    run(scenario())


def test_a_reconnect_resyncs_what_changed_meanwhile(tmp_path: Path) -> None:
    async def scenario() -> None:
        pair = Pair(tmp_path, master_cluster=cluster_text(1, 2), backup_cluster=cluster_text(1, 2))
        set_ha(pair.master, HAState.LEADER)
        set_ha(pair.backup, HAState.BACKUP)
        async with pair.running():
            pair.start_client()
            override(pair.master, VSERVER, "web1@au-syd", DISABLED)
            override(pair.master, VSERVER, "web2@au-syd", DISABLED)
            await eventually(lambda: len(pair.backup.engine.override_map()) == 2, "both overrides")
            await pair.stop_client()

            # Meanwhile: one removed and one added on the master, one set only here (not the master's).
            override(pair.master, VSERVER, "web1@au-syd", DEFAULT)
            override(pair.master, BACKEND, "be1-1.example.com.", DISABLED)
            override(pair.backup, VSERVER, "web2@au-syd", ENABLED)
            client = pair.start_client()
            want = {(VSERVER, "web2@au-syd"): DISABLED, (BACKEND, "be1-1.example.com."): DISABLED}
            await eventually(lambda: pair.backup.engine.override_map() == want, "the resync")
            assert client.resyncs_total == 1
            await pair.stop_client()

    run(scenario())


def test_heartbeats_keep_a_stream_and_a_silent_one_is_reopened(tmp_path: Path) -> None:
    async def scenario() -> None:
        pair = Pair(tmp_path, master_cluster=cluster_text(1), backup_cluster=cluster_text(1))
        set_ha(pair.master, HAState.LEADER)
        set_ha(pair.backup, HAState.BACKUP)
        async with pair.running(heartbeat=0.1):
            client = pair.start_client(silence_timeout=0.5, retry_interval=0.05)
            await eventually(lambda: client.watcher.notes_total >= 6, "heartbeats", timeout=5)
            assert client.watcher.connects_total == 1  # heartbeats every 0.1 s keep the 0.5 s silence rule quiet
            # Heartbeats every 10 s: the stream falls silent and is reopened (each time with a Desync).
            pair.server.sessions.heartbeat_interval = 10.0
            await eventually(lambda: client.watcher.connects_total >= 3, "reconnects after silence", timeout=5)
            await pair.stop_client()

    run(scenario())


def test_only_the_master_serves_and_a_stepping_down_master_ends_the_stream(tmp_path: Path) -> None:
    async def scenario() -> None:
        pair = Pair(tmp_path, master_cluster=cluster_text(1), backup_cluster=cluster_text(1))
        set_ha(pair.master, HAState.BACKUP)  # not the master yet
        set_ha(pair.backup, HAState.BACKUP)
        async with pair.running():
            client = pair.start_client(retry_interval=0.05)
            await eventually(lambda: "not the master" in client.watcher.last_error, "refused as not the master")
            await eventually(
                lambda: any("not in sync with the master" in w for w in pair.backup.engine.warnings()), "a warning"
            )
            with pytest.raises(SourceUnavailable, match="is not the master"):
                await client.fetch_config()

            set_ha(pair.master, HAState.LEADER)
            await eventually(lambda: client.watcher.in_sync, "in sync once it is the master")
            await eventually(lambda: not pair.backup.engine.sync_warning, "the warning gone")

            set_ha(pair.master, HAState.BACKUP)  # the master steps down: its stream ends
            await eventually(lambda: not client.watcher.in_sync, "the stream ended")
            await eventually(lambda: "no longer the master" in client.watcher.last_error, "the reason")

            set_ha(pair.backup, HAState.LEADER)  # this node became the master: it stops watching
            await eventually(lambda: client.watcher.state.value == "disabled", "watching stopped")
            await pair.stop_client()

    run(scenario())


def test_mutual_tls_syncs_and_refuses_a_stranger(tmp_path: Path) -> None:
    async def scenario() -> None:
        pair = Pair(tmp_path, master_cluster=cluster_text(1), backup_cluster=cluster_text(1), tls=True)
        set_ha(pair.master, HAState.LEADER)
        set_ha(pair.backup, HAState.BACKUP)
        override(pair.master, VSERVER, "web1@au-syd", DISABLED)
        async with pair.running():
            pair.start_client()
            await eventually(lambda: len(pair.backup.engine.override_map()) == 1, "the override over TLS")
            await pair.stop_client()

            # Clear text to a TLS port, and a client certificate from another CA: both refused.
            async with grpc.aio.insecure_channel(pair.target, options=CHANNEL_OPTIONS) as channel:
                with pytest.raises(grpc.aio.AioRpcError) as err:
                    await sync_pb2_grpc.SyncStub(channel).GetConfig(sync_pb2.ConfigRequest(), timeout=2)
                assert err.value.code() == grpc.StatusCode.UNAVAILABLE
            stranger = TestCA("stranger")
            cert, key = stranger.leaf("stranger", ips=["127.0.0.1"])
            ca = (tmp_path / "ca.crt").read_bytes()
            credentials = grpc.ssl_channel_credentials(root_certificates=ca, private_key=key, certificate_chain=cert)
            async with grpc.aio.secure_channel(pair.target, credentials, options=CHANNEL_OPTIONS) as channel:
                with pytest.raises(grpc.aio.AioRpcError) as err:
                    await sync_pb2_grpc.SyncStub(channel).GetConfig(sync_pb2.ConfigRequest(), timeout=2)
                assert err.value.code() == grpc.StatusCode.UNAVAILABLE

    run(scenario())


def test_a_backup_takes_its_config_from_the_master(tmp_path: Path) -> None:
    async def scenario() -> None:
        pair = Pair(
            tmp_path,
            master_cluster=cluster_text(1, 2, last_updated=200),
            backup_cluster=cluster_text(1, last_updated=100),
        )
        set_ha(pair.master, HAState.LEADER)
        set_ha(pair.backup, HAState.BACKUP)
        backup = pair.backup.engine
        cluster_pb = tmp_path / "backup" / "etc" / "cluster.pb"
        async with pair.running():
            pair.start_client()
            await eventually(lambda: pair.client is not None and pair.client.watcher.in_sync, "in sync")
            assert set(backup.machines) == {"web1@au-syd"}
            previous = pair.backup.loader.set_source("peer")
            assert previous == "disk"
            await eventually(lambda: set(backup.machines) == {"web1@au-syd", "web2@au-syd"}, "the master's config")
            assert backup.config_info.origin.startswith("peer seesaw1-1.example.com. (127.0.0.1:")
            assert "web2@au-syd" in cluster_pb.read_text()
            archived = list((tmp_path / "backup" / "etc" / "archive").iterdir())
            assert len(archived) == 1 and "web2" not in archived[0].read_text()

            # The master takes a new config: its note makes the backup follow at once.
            (tmp_path / "master" / "etc" / "cluster.pb").write_text(cluster_text(1, 2, 3, last_updated=300))
            pair.master.reload()
            await eventually(lambda: len(backup.machines) == 3, "the master's next config")
            assert backup.target is not None and backup.target.metadata.last_updated == 300
            assert (tmp_path / "backup" / "run" / "engine" / "config_source").read_text().strip() == "peer"

            # HA transitions do not reset the source (Seesaw's did).
            set_ha(pair.backup, HAState.LEADER)
            set_ha(pair.backup, HAState.BACKUP)
            assert backup.config_info.source == "peer"
            await pair.stop_client()

    run(scenario())


def test_the_master_will_not_take_config_from_its_backup(tmp_path: Path) -> None:
    async def scenario() -> None:
        pair = Pair(tmp_path, master_cluster=cluster_text(1), backup_cluster=cluster_text(1))
        set_ha(pair.backup, HAState.LEADER)
        pair.backup.loader.peer_fetch = None
        pair.backup.engine.config_info.source = "peer"
        with pytest.raises(SourceUnavailable, match="this node is the master"):
            await pair.backup.loader.check()
        status = pair.backup.engine.config_info
        assert "this node is the master" in status.last_error and pair.backup.engine.target is not None

    run(scenario())


@pytest.mark.parametrize(
    ("peer", "address"),
    [
        ("ipv4:10.0.0.3:5555", "10.0.0.3"),
        ("ipv6:[::1]:5555", "::1"),
        ("ipv6:%5B2001:db8::3%5D:5555", "2001:db8::3"),
        ("ipv6:[::ffff:10.0.0.3]:5555", "10.0.0.3"),
        ("unix:/run/x.sock", None),
    ],
)
def test_peer_addresses_from_grpc(peer: str, address: str | None) -> None:
    got = peer_address(peer)
    assert (str(got) if got is not None else None) == address


def test_only_the_configured_peer_and_loopback_are_allowed(tmp_path: Path) -> None:
    pair = Pair(tmp_path, master_cluster=cluster_text(1), backup_cluster=cluster_text(1))
    allowed = pair.server.allowed
    assert allowed(peer_address("ipv4:10.0.0.3:1")) and allowed(peer_address("ipv4:127.0.0.5:1"))
    assert not allowed(peer_address("ipv4:10.0.0.9:1")) and not allowed(None)


def test_unusable_certificates_are_named(tmp_path: Path) -> None:
    settings = Settings(cluster_name="au-syd", sync_cert="a.crt", sync_key="a.key", sync_ca="ca.crt")
    with pytest.raises(sync_tls.SyncTLSError, match=r"cannot read .*a\.crt \(\[engine\] sync_cert\)"):
        sync_tls.load(settings, tmp_path)
    for name in ("a.crt", "a.key", "ca.crt"):
        (tmp_path / name).write_text("-----BEGIN CERTIFICATE-----\n" if name != "a.key" else "not pem")
    with pytest.raises(sync_tls.SyncTLSError, match=r"a\.key \(\[engine\] sync_key\) is not a PEM file"):
        sync_tls.load(settings, tmp_path)
    assert sync_tls.load(Settings(cluster_name="au-syd"), tmp_path) is None


def test_a_node_that_cannot_listen_says_so_and_still_watches(tmp_path: Path) -> None:
    async def scenario() -> None:
        runtime = make_node(tmp_path, "node", MASTER_IP, BACKUP_IP, cluster_text(1))  # 10.0.0.2 is not this host's
        stop = asyncio.Event()
        sync = await peer_sync.start(runtime, runtime.source.config_dir, stop)
        try:
            assert sync.server is None
            assert any("no sync server: cannot listen on 10.0.0.2:10258" in w for w in runtime.engine.warnings())
            assert runtime.loader.peer_fetch == sync.client.fetch_config
        finally:
            stop.set()
            await sync.stop()

    run(scenario())
