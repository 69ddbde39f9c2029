"""A real NCC gRPC service on a Unix socket in a test's run directory, and a client to it.

The servicer, the runner and a grpc.aio server as seesaw-ncc runs them, over a dataplane the test picks
(the sim by default), optionally with a BGP speaker. Used by the unit tests of NCC's service and of the
daemons that call it (HA's TakeLBDown and Takeover).
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

from seesaw.common import paths, rpc
from seesaw.common.clock import FakeClock
from seesaw.ncc import bgp
from seesaw.ncc.dataplane import Dataplane
from seesaw.ncc.runner import Runner
from seesaw.ncc.service import SERVICE_NAME, NCCService
from seesaw.ncc.sim import SimDataplane
from seesaw.pb import ncc_pb2_grpc


@dataclass
class ServedNCC:
    stub: ncc_pb2_grpc.NCCStub
    runner: Runner
    dataplane: Dataplane
    server: rpc.UnixServer


@contextlib.asynccontextmanager
async def served_ncc(
    run_dir: Path,
    dataplane: Dataplane | None = None,
    *,
    speaker: bgp.Speaker | None = None,
    ready: bool = True,
    audit_interval: float = 0.0,
) -> AsyncIterator[ServedNCC]:
    """NCC serving at <run_dir>/ncc/ncc.sock; `ready` false: not started (it answers UNAVAILABLE)."""
    dataplane = dataplane if dataplane is not None else SimDataplane()
    runner = Runner(dataplane, "chosen for the test", FakeClock(), audit_interval)
    server = rpc.UnixServer(run_dir, "ncc")
    server.add(ncc_pb2_grpc.add_NCCServicer_to_server, NCCService(runner, speaker), SERVICE_NAME)
    await server.start()
    if ready:
        await runner.start()
        await server.set_serving(True)
    channel = rpc.aio_channel(paths.socket_path(run_dir, "ncc"))
    try:
        yield ServedNCC(ncc_pb2_grpc.NCCStub(channel), runner, dataplane, server)
    finally:
        await channel.close()
        await server.stop(0)
