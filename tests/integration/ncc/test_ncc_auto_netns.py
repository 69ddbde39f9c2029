"""seesaw-ncc with `--dataplane auto` in a private network namespace: it picks a kernel dataplane or
refuses to start, saying what to install, and never falls back to `sim`."""

import asyncio
import os
import signal
import subprocess
import sys
import time

import pytest

from seesaw.common import paths, rpc
from seesaw.ncc.select import IMPLEMENTATIONS, KERNEL_BACKENDS, PROBES
from seesaw.pb import common_pb2, ncc_pb2_grpc

pytestmark = [pytest.mark.netns, pytest.mark.skipif(os.geteuid() != 0, reason="needs root in a network namespace")]


def usable_kernel_dataplanes() -> list[str]:
    return [name for name in KERNEL_BACKENDS if name in IMPLEMENTATIONS and PROBES[name]().ok]


def test_auto_never_falls_back_to_sim(tmp_path):
    run_dir = tmp_path / "run"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "seesaw.ncc",
            "--config-dir",
            str(tmp_path),
            "--run-dir",
            str(run_dir),
            "--dataplane",
            "auto",
        ],
        stderr=subprocess.PIPE,
        text=True,
    )
    sock = paths.socket_path(run_dir, "ncc")
    usable = usable_kernel_dataplanes()
    if not usable:
        _, stderr = proc.communicate(timeout=30)
        assert proc.returncode == 2
        assert "no kernel dataplane is usable for backend = auto" in stderr
        assert "modprobe ip_vs" in stderr and "apt-get install nftables libnftables1" in stderr
        assert not sock.exists()
        return
    try:
        deadline = time.monotonic() + 30
        while not asyncio.run(rpc.check_health(sock)):
            assert proc.poll() is None and time.monotonic() < deadline
            time.sleep(0.05)

        async def status():
            async with rpc.aio_channel(sock) as channel:
                return await ncc_pb2_grpc.NCCStub(channel).GetStatus(common_pb2.Empty())

        reply = asyncio.run(status())
        assert reply.dataplane == usable[0]
        assert reply.dataplane_reason.startswith("auto")
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=30)
