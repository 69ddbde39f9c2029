"""The healthcheck integration lab: a backend namespace behind a veth, and the engine's half of the contract.

Run under `unshare --net --mount --propagation private -- python -m seesaw.lab.isolate ...`
(scripts/run-tests does): namespace names are private to the run and nothing
reaches the host's network.

    [test netns] hc0 10.98.0.1/24 ==veth== hc1 10.98.0.2/24 [netns "be"], VIP 10.99.0.1 on be's lo

The test netns has no route to the VIP: only packets marked MARK are routed
to it (ip rule fwmark MARK -> table 100 -> 10.99.0.1 via 10.98.0.2), the way
IPVS forwards a DSR healthcheck's marked packets to one backend.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import grpc

from seesaw.common import paths, rpc
from seesaw.pb import engine_pb2_grpc
from seesaw.pb import healthcheck_pb2 as hc

LOCAL, BACKEND, VIP, NOBODY = "10.98.0.1", "10.98.0.2", "10.99.0.1", "10.98.0.3"
MARK = 65536
TABLE = "100"

BACKEND_SERVER = """
import asyncio, sys
async def main(host, tcp_port, udp_port, http_port):
    async def echo(reader, writer):
        while data := await reader.read(64):
            writer.write(data)
            await writer.drain()
        writer.close()
    async def http(reader, writer):
        await reader.readuntil(b"\\r\\n\\r\\n")
        writer.write(b"HTTP/1.1 200 OK\\r\\nContent-Length: 3\\r\\nConnection: close\\r\\n\\r\\nok\\n")
        await writer.drain()
        writer.close()
    class Udp(asyncio.DatagramProtocol):
        def connection_made(self, transport):
            self.transport = transport
        def datagram_received(self, data, addr):
            self.transport.sendto(data, addr)
    loop = asyncio.get_running_loop()
    await asyncio.start_server(echo, host, tcp_port)
    await asyncio.start_server(http, host, http_port)
    await loop.create_datagram_endpoint(Udp, local_addr=(host, udp_port))
    print("ready", flush=True)
    await asyncio.Event().wait()
asyncio.run(main(sys.argv[1], *map(int, sys.argv[2:])))
"""


def isolated() -> bool:
    """True inside a fresh network namespace (only `lo`): never build the lab on a host's network."""
    return sorted(os.listdir("/sys/class/net")) == ["lo"]


def ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True)


def build_lab() -> None:
    ip("netns", "add", "be")
    ip("-n", "be", "link", "set", "lo", "up")
    ip("link", "add", "hc0", "type", "veth", "peer", "name", "hc1", "netns", "be")
    ip("addr", "add", f"{LOCAL}/24", "dev", "hc0")
    ip("link", "set", "hc0", "up")
    ip("-n", "be", "addr", "add", f"{BACKEND}/24", "dev", "hc1")
    ip("-n", "be", "addr", "add", f"{VIP}/32", "dev", "lo")
    ip("-n", "be", "link", "set", "hc1", "up")
    ip("rule", "add", "fwmark", str(MARK), "lookup", TABLE)
    ip("route", "add", f"{VIP}/32", "via", BACKEND, "dev", "hc0", "table", TABLE)


def tear_down_lab() -> None:
    subprocess.run(["ip", "rule", "del", "fwmark", str(MARK), "lookup", TABLE], capture_output=True)
    subprocess.run(["ip", "link", "del", "hc0"], capture_output=True)
    subprocess.run(["ip", "netns", "del", "be"], capture_output=True)


def start_backend_servers(tcp_port: int, udp_port: int, http_port: int) -> subprocess.Popen:
    """TCP echo, UDP echo and an HTTP server on the VIP inside netns "be" (a real process)."""
    proc = subprocess.Popen(
        ["ip", "netns", "exec", "be", sys.executable, "-c", BACKEND_SERVER, VIP, str(tcp_port), str(udp_port),
         str(http_port)],
        stdout=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    if proc.stdout is None or proc.stdout.readline().strip() != "ready":
        proc.kill()
        raise RuntimeError("backend servers did not start")
    return proc


class ContractEngine:
    """The engine's half of EngineHealthcheck on <run-dir>/engine/engine.sock (the real engine is another package).

    WatchChecks sends `full_set`, then whatever is put on `deltas`;
    ReportResults keeps every batch it gets.
    """

    def __init__(self, run_dir: Path, full_set: hc.CheckSet) -> None:
        self.path = paths.socket_path(run_dir, "engine")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.full_set = full_set
        self.deltas: asyncio.Queue[hc.CheckSet] = asyncio.Queue()
        self.batches: list[hc.ResultBatch] = []
        self._server = grpc.aio.server(options=rpc.CHANNEL_OPTIONS)
        engine_pb2_grpc.add_EngineHealthcheckServicer_to_server(self, self._server)
        self._server.add_insecure_port(f"unix:{self.path}")

    async def start(self) -> None:
        await self._server.start()

    async def stop(self) -> None:
        await self._server.stop(0)

    async def WatchChecks(self, request, context):
        yield self.full_set
        while True:
            yield await self.deltas.get()

    async def ReportResults(self, request_iterator, context):
        count = 0
        async for batch in request_iterator:
            self.batches.append(batch)
            count += len(batch.results)
        return hc.ReportAck(accepted=count)

    def latest(self) -> dict[int, int]:
        """Each check's latest reported state by id (a full resync starts afresh)."""
        states: dict[int, int] = {}
        for batch in self.batches:
            if batch.full_resync:
                states = {}
            for result in batch.results:
                states[result.id] = result.state
        return states


async def wait_for(predicate, timeout: float = 10.0, what: str = "condition") -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        if loop.time() > deadline:
            raise AssertionError(f"{what} not met within {timeout} s")
        await asyncio.sleep(0.05)
