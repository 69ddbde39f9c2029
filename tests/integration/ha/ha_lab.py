"""Helpers of the HA lab: seesaw-ha processes in namespaces, polling, and a scripted engine.

Imported by conftest.py (fixtures) and the test modules.
"""

from __future__ import annotations

import queue
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from concurrent import futures
from pathlib import Path

import grpc
import pytest

from seesaw.pb import common_pb2, engine_pb2_grpc, ha_pb2, ha_pb2_grpc

PYTHON = sys.executable
NODES = {"lb1": "10.99.0.2", "lb2": "10.99.0.3", "rogue": "10.99.0.9"}


def ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True)


class HAProcess:
    """One `seesaw-ha` running in a namespace, with its own run dir."""

    def __init__(self, netns: str, run_dir: Path, args: list[str]) -> None:
        self.netns = netns
        self.run_dir = run_dir
        run_dir.mkdir(parents=True, exist_ok=True)
        self.log_path = run_dir / "ha.log"
        self._log = open(self.log_path, "wb")  # noqa: SIM115 - closed in stop()
        cmd = ["ip", "netns", "exec", netns, PYTHON, "-m", "seesaw.ha", "--run-dir", str(run_dir), *args]
        self.proc = subprocess.Popen(cmd, stdout=self._log, stderr=subprocess.STDOUT)
        self._channel = grpc.insecure_channel(f"unix:{run_dir / 'ha' / 'ha.sock'}")
        self._stub = ha_pb2_grpc.HAStub(self._channel)

    def status(self) -> ha_pb2.HAStatus:
        return self._stub.GetStatus(common_pb2.Empty(), timeout=2)

    def state(self) -> int:
        try:
            return self.status().state
        except grpc.RpcError:
            return -1

    def wait_ready(self, timeout: float = 15.0) -> None:
        wait_for(lambda: self.state() != -1, timeout, f"{self.netns}: GetStatus never answered\n{self.log()}")

    def signal(self, sig: int) -> None:
        self.proc.send_signal(sig)

    def stop(self) -> int | None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self._channel.close()
        self._log.close()
        return self.proc.returncode

    def log(self) -> str:
        if not self._log.closed:
            self._log.flush()
        return self.log_path.read_text(errors="replace")


def wait_for(condition: Callable[[], bool], timeout: float, message: str = "", step: float = 0.005) -> float:
    """Poll `condition`; return the seconds it took; fail with `message` after `timeout`."""
    start = time.monotonic()
    while not condition():
        if time.monotonic() - start > timeout:
            pytest.fail(message or "condition not met in time")
        time.sleep(step)
    return time.monotonic() - start


def flags(address: str, priority: int, *extra: str, interval_ms: int = 100, vrid: int = 60) -> list[str]:
    return [
        "--test-mode", "--local-addr", address, "--interface", "eth0", "--priority", str(priority),
        "--vrid", str(vrid), "--advert-interval-ms", str(interval_ms), *extra,
    ]  # fmt: skip


class ScriptedEngine(engine_pb2_grpc.EngineHAServicer):
    """The engine's side of `EngineHA.HASession`, on a real Unix-socket gRPC server, driven by the test.

    The engine daemon is built elsewhere; this speaks the same contract so HA's side can be tested alone.
    """

    def __init__(self, run_dir: Path) -> None:
        self.path = run_dir / "engine" / "engine.sock"
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.reports: list[ha_pb2.HAStatus] = []
        self.sessions = 0
        self.sessions_ended = 0  # by HA half-closing its side
        self._commands: queue.Queue[ha_pb2.HACommand] = queue.Queue()
        self._server = grpc.server(futures.ThreadPoolExecutor(8))
        engine_pb2_grpc.add_EngineHAServicer_to_server(self, self._server)
        self._server.add_insecure_port(f"unix:{self.path}")
        self._server.start()

    def send(self, command: ha_pb2.HACommand) -> None:
        self._commands.put(command)

    def configure(self, **fields: object) -> None:
        self.send(ha_pb2.HACommand(config=ha_pb2.HAConfig(**fields)))

    def failover(self) -> None:
        self.send(ha_pb2.HACommand(failover=True))

    def last_state(self) -> int:
        return self.reports[-1].state if self.reports else -1

    def stop(self) -> None:
        self._server.stop(0).wait()

    def HASession(self, request_iterator, context):
        self.sessions += 1
        reader = threading.Thread(target=self._collect, args=(request_iterator,), daemon=True)
        reader.start()
        while context.is_active() and reader.is_alive():  # like the engine: done when HA half-closes
            try:
                command = self._commands.get(timeout=0.05)
            except queue.Empty:
                continue
            yield command
        if not reader.is_alive():
            self.sessions_ended += 1

    def _collect(self, request_iterator) -> None:
        try:
            for report in request_iterator:
                self.reports.append(report.status)
        except grpc.RpcError:
            pass
