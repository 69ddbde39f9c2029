"""The seesaw-ncc process: picks its dataplane from seesaw.cfg or --dataplane, serves, stops cleanly."""

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from ncc_build import pb_partition

from seesaw.common import paths, rpc
from seesaw.ncc import journal
from seesaw.pb import common_pb2, ncc_pb2, ncc_pb2_grpc

ROOT = Path(__file__).resolve().parents[3]
EXAMPLE_CFG = ROOT / "tests" / "data" / "compat" / "etc" / "seesaw" / "seesaw.cfg.example"


def write_config(config_dir: Path, extra: str) -> None:
    config_dir.mkdir()
    (config_dir / "seesaw.cfg").write_text(EXAMPLE_CFG.read_text() + "\n" + extra)


def start(config_dir: Path, run_dir: Path, *flags: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "seesaw.ncc", "--config-dir", str(config_dir), "--run-dir", str(run_dir), *flags],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )


def wait_serving(sock: Path, proc: subprocess.Popen, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.communicate()[1]
        if asyncio.run(rpc.check_health(sock, timeout=0.5)):
            return
        time.sleep(0.05)
    raise AssertionError("seesaw-ncc never became SERVING")


def test_runs_the_dataplane_seesaw_cfg_names_and_stops_on_sigterm(tmp_path):
    config_dir, run_dir = tmp_path / "etc", tmp_path / "run"
    write_config(config_dir, "[dataplane]\nbackend = sim\n")
    proc = start(config_dir, run_dir, "--audit-interval", "0.2")
    sock = paths.socket_path(run_dir, "ncc")
    try:
        wait_serving(sock, proc)

        async def talk():
            async with rpc.aio_channel(sock) as channel:
                stub = ncc_pb2_grpc.NCCStub(channel)
                reply = await stub.Apply(ncc_pb2.ApplyRequest(partitions=[pb_partition("web", "192.168.255.1")]))
                status = await stub.GetStatus(common_pb2.Empty())
                return reply, status

        reply, status = asyncio.run(talk())
        # No LB interface yet, so the sim refuses the unicast VIP; the service, destinations and filter go in.
        assert reply.writes == 4
        assert [(e.kind, e.key) for e in reply.errors] == [("vip", "192.168.255.1")]
        assert status.dataplane == "sim"
        assert "[dataplane] backend in" in status.dataplane_reason
        assert list(status.partitions) == ["web"]
    finally:
        proc.send_signal(signal.SIGTERM)
        _, stderr = proc.communicate(timeout=15)
    assert proc.returncode == 0, stderr
    assert "dataplane sim: selected by [dataplane] backend in" in stderr
    assert not sock.exists()
    # What the engine asked for is kept for the next start.
    partitions, _ = journal.load(run_dir / "ncc" / journal.FILENAME)
    assert [p.name for p in partitions] == ["web"]


def test_the_flag_overrides_seesaw_cfg(tmp_path):
    config_dir, run_dir = tmp_path / "etc", tmp_path / "run"
    write_config(config_dir, "[dataplane]\nbackend = ipvs\n")
    proc = start(config_dir, run_dir, "--dataplane", "sim")
    try:
        wait_serving(paths.socket_path(run_dir, "ncc"), proc)
    finally:
        proc.send_signal(signal.SIGINT)
        _, stderr = proc.communicate(timeout=15)
    assert proc.returncode == 0
    assert "selected by --dataplane" in stderr


def test_a_bad_seesaw_cfg_is_refused_with_its_location(tmp_path):
    config_dir, run_dir = tmp_path / "etc", tmp_path / "run"
    write_config(config_dir, "[dataplane]\nbackend = lvs\n")
    proc = start(config_dir, run_dir)
    _, stderr = proc.communicate(timeout=15)
    assert proc.returncode == 2
    line = len(EXAMPLE_CFG.read_text().splitlines()) + 3
    assert f"seesaw.cfg:{line}:" in stderr
    assert "fix it or pass --dataplane" in stderr
    assert not paths.socket_path(run_dir, "ncc").exists()
