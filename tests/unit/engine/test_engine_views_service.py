"""The vserver list through the engine's real front door: the SO_PEERCRED proxy and guard, the servicer with its
kept snapshots, NCC's counters (sim dataplane), and the CLI's own gRPC client on the other end."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import socket
import threading
from collections.abc import AsyncIterator
from pathlib import Path

from seesaw.cli import client as cli_client
from seesaw.cli.client import EngineClient
from seesaw.common import paths, rpc
from seesaw.common.clock import SystemClock
from seesaw.engine import auth_server, service
from seesaw.engine.auth import RoleGroups
from seesaw.engine.auth_proxy import CallerRegistry, PeerProxy, local_caller
from seesaw.engine.main import build_runtime
from seesaw.engine.ncc_link import NCCLink
from seesaw.lab.fixture_configs import engine_cfg
from seesaw.ncc import model as ncc_model
from seesaw.ncc.runner import Runner
from seesaw.ncc.service import SERVICE_NAME as NCC_SERVICE
from seesaw.ncc.service import NCCService
from seesaw.ncc.sim import SimDataplane
from seesaw.pb import engine_pb2, engine_pb2_grpc, ncc_pb2, ncc_pb2_grpc

VSERVERS = 400  # a reply of about 85 kB: several frames and more than one default flow-control window


def cluster_text(count: int) -> str:
    """Vservers without healthchecks (their destinations count as healthy, so NCC holds their services), with
    VIPs in the LB interface's subnet."""
    parts = [
        'seesaw_vip < fqdn: "seesaw-vip.example.com." ipv4: "10.0.0.1/16" status: PRODUCTION >\n'
        'node < fqdn: "seesaw1-1.example.com." ipv4: "10.0.0.2/16" status: PRODUCTION >\n'
        'node < fqdn: "seesaw1-2.example.com." ipv4: "10.0.0.3/16" status: PRODUCTION >\n'
    ]
    for n in range(count):
        a, b = divmod(n, 250)
        parts.append(
            f"""vserver <
  name: "web{n:04d}@au-syd"
  rp: "ops"
  entry_address < fqdn: "web{n}.example.com." ipv4: "10.0.{a + 1}.{b + 1}/16" status: PRODUCTION >
  vserver_entry < protocol: TCP port: 80 scheduler: RR mode: NAT >
  backend < host < fqdn: "be{n}.example.com." ipv4: "10.2.{a}.{b + 1}/16" status: PRODUCTION > >
>
"""
        )
    return "".join(parts)


class Node:
    def __init__(self, tmp: Path) -> None:
        self.config_dir = tmp / "etc"
        self.run_dir = tmp / "run"
        self.config_dir.mkdir()
        (self.config_dir / "seesaw.cfg").write_text(engine_cfg())
        (self.config_dir / "cluster.pb").write_text(cluster_text(VSERVERS))
        self.sim = SimDataplane()
        self.counter_reads = 0

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[Node]:
        stop = asyncio.Event()
        runner = Runner(self.sim, "test", SystemClock(), audit_interval=0)
        ncc = rpc.UnixServer(self.run_dir, "ncc")
        ncc.add(ncc_pb2_grpc.add_NCCServicer_to_server, NCCService(runner), NCC_SERVICE)
        await ncc.start()
        await runner.start()
        runtime = build_runtime(
            argparse.Namespace(config_dir=self.config_dir, run_dir=self.run_dir, config_step_interval=60.0)
        )
        server = auth_server.GuardedServer(self.run_dir, runtime.engine, RoleGroups())
        self.service = service.EngineService(runtime)
        server.add(engine_pb2_grpc.add_EngineServicer_to_server, self.service, service.SERVICE_NAME)
        await server.start()
        await server.set_serving(True)
        link = NCCLink(runtime, paths.socket_path(self.run_dir, "ncc"), probe_interval=0.2)
        task = asyncio.create_task(link.run(stop))
        read = runtime.read_dataplane
        while read is None:  # the link sets it once it exists
            await asyncio.sleep(0.01)
            read = runtime.read_dataplane

        async def counted() -> ncc_pb2.DataplaneState | None:
            self.counter_reads += 1
            return await read()

        runtime.read_dataplane = counted
        try:
            yield self
        finally:
            stop.set()
            await task
            await server.stop()
            await ncc.stop(0)

    def set_connections(self, address: str, connections: int) -> None:
        for spec in self.sim.read().objects.values():
            if isinstance(spec, ncc_model.Service) and str(spec.key.address) == address:
                self.sim.set_stats(ncc_model.ref(spec), ncc_model.Stats(connections=connections))
                return
        raise AssertionError(f"NCC holds no service at {address}")


def test_the_list_through_the_front_door_with_and_without_counters(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with Node(tmp_path).running() as node:
            deadline = asyncio.get_running_loop().time() + 20
            while len(node.sim.read().objects) < 2 * VSERVERS:  # every service and destination applied
                assert asyncio.get_running_loop().time() < deadline, "NCC never got the services"
                await asyncio.sleep(0.05)
            node.set_connections("10.0.1.1", 42)
            client = EngineClient(paths.socket_path(node.run_dir, "engine"))
            try:
                full = await asyncio.to_thread(client.vservers)
                assert node.counter_reads == 1
                assert len(full.vservers) == VSERVERS and full.ByteSize() > 65_535
                first = full.vservers[0]
                assert (first.name, first.services[0].address) == ("web0000@au-syd", "10.0.1.1")
                assert first.services[0].stats.connections == 42

                bare = await asyncio.to_thread(client.vservers, False)
                assert node.counter_reads == 1, "no counters asked for: NCC is not asked"
                assert bare.vservers[0].services[0].stats.connections == 0
                without_counters = engine_pb2.VserverList()
                without_counters.CopyFrom(full)
                for vs in without_counters.vservers:
                    for svc in vs.services:
                        svc.ClearField("stats")
                        for dest in svc.destinations:
                            dest.ClearField("stats")
                assert bare == without_counters
                # Every snapshot was built for the first call; the second one built none.
                assert node.service.snapshots.builds == VSERVERS
            finally:
                client.close()

    asyncio.run(asyncio.wait_for(scenario(), 60))


def test_the_cli_and_the_engine_agree_on_the_metadata() -> None:
    assert cli_client.OMIT_COUNTERS == service.OMIT_COUNTERS


def test_the_front_door_moves_bytes_both_ways_and_passes_end_of_file_on(tmp_path: Path) -> None:
    """Megabytes each way through the splicing proxy, the client's end of file reaching the server and the
    server's reaching the client; stopping the proxy ends a connection that is still open."""
    payload = os.urandom(5 * 1024 * 1024)

    async def echo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
        writer.write(b"end of file seen")  # only after the client's end of file came through
        await writer.drain()
        writer.close()

    def client(path: Path) -> bytes:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.connect(str(path))
            sender = threading.Thread(target=lambda: (sock.sendall(payload), sock.shutdown(socket.SHUT_WR)))
            sender.start()
            received = bytearray()
            while chunk := sock.recv(1 << 20):
                received += chunk
            sender.join()
            return bytes(received)

    def idle_client(path: Path, connected: threading.Event) -> bytes:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.connect(str(path))
            connected.set()
            return sock.recv(10)  # b"" once the proxy stops

    async def scenario() -> None:
        backend = tmp_path / "backend.sock"
        server = await asyncio.start_unix_server(echo, path=str(backend))
        registry = CallerRegistry()
        proxy = PeerProxy(
            tmp_path / "front.sock", backend, tmp_path / "peers", registry, lambda cred: local_caller(cred, 0)
        )
        await proxy.start()
        try:
            assert await asyncio.to_thread(client, tmp_path / "front.sock") == payload + b"end of file seen"
            connected = threading.Event()
            idle = asyncio.create_task(asyncio.to_thread(idle_client, tmp_path / "front.sock", connected))
            await asyncio.to_thread(connected.wait, 5)
            while not len(registry):
                await asyncio.sleep(0.01)
            caller = registry.get(f"unix:{tmp_path / 'peers' / '2'}")  # the proxy's second connection upstream
            assert caller is not None and caller.uid == os.geteuid()
            await asyncio.wait_for(proxy.stop(), 5)
            assert await asyncio.wait_for(idle, 5) == b""
            assert len(registry) == 0
        finally:
            server.close()

    asyncio.run(asyncio.wait_for(scenario(), 60))
