"""Asking a lab node's daemons directly over their Unix sockets: HA state, failover, reload, NCC's dataplane and writes.

The printed views (`show ha`, `show vservers`) go through the real CLI;
these are the facts the lab waits on and asserts, read without parsing text.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import grpc

from seesaw.common import paths
from seesaw.pb import common_pb2, engine_pb2_grpc, ncc_pb2_grpc

TIMEOUT = 3.0


@dataclass(frozen=True)
class NCCStatus:
    dataplane: str
    reason: str
    writes: int
    apply_errors: int


def _channel(run_dir: Path, component: str) -> grpc.Channel:
    return grpc.insecure_channel(f"unix:{paths.socket_path(run_dir, component)}")


def ha_state(run_dir: Path) -> str | None:
    """The node's HA state as the engine reports it (LEADER, BACKUP, ...), or None if it does not answer."""
    with _channel(run_dir, "engine") as channel:
        try:
            status = engine_pb2_grpc.EngineStub(channel).GetHAStatus(common_pb2.Empty(), timeout=TIMEOUT)
        except grpc.RpcError:
            return None
    return common_pb2.HaState.Name(status.state).removeprefix("HA_")


def unhealthy_destinations(run_dir: Path) -> list[str] | None:
    """The destinations the node's engine does not see healthy (none when its view of the backends is whole),
    or None if it does not answer."""
    with _channel(run_dir, "engine") as channel:
        try:
            listing = engine_pb2_grpc.EngineStub(channel).ListVservers(common_pb2.Empty(), timeout=TIMEOUT)
        except grpc.RpcError:
            return None
    return [d.name for v in listing.vservers for s in v.services for d in s.destinations if not d.healthy]


def failover(run_dir: Path) -> str:
    """Ask the node (the master) to hand over; the engine's reply."""
    with _channel(run_dir, "engine") as channel:
        reply = engine_pb2_grpc.EngineStub(channel).Failover(common_pb2.Empty(), timeout=TIMEOUT)
    return str(reply.message)


def reload(run_dir: Path) -> str:
    """`config reload` on the node: the engine's reply (grpc.RpcError when it refuses)."""
    with _channel(run_dir, "engine") as channel:
        reply = engine_pb2_grpc.EngineStub(channel).ReloadConfig(common_pb2.Empty(), timeout=TIMEOUT)
    return str(reply.message)


def ncc_status(run_dir: Path) -> NCCStatus | None:
    """What NCC says about its dataplane, or None if it does not answer."""
    with _channel(run_dir, "ncc") as channel:
        try:
            status = ncc_pb2_grpc.NCCStub(channel).GetStatus(common_pb2.Empty(), timeout=TIMEOUT)
        except grpc.RpcError:
            return None
    return NCCStatus(status.dataplane, status.dataplane_reason, status.writes_total, status.apply_errors_total)
