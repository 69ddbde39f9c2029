"""A real engine + ECU run as processes, with TLS files from a test CA (seesaw.lab.certs)."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from seesaw.common import rpc
from seesaw.lab.certs import TestCA
from seesaw.lab.fixture_configs import GRANTS_CLUSTER, NODE_CFG


@dataclass
class ClientFiles:
    ca: Path
    cert: Path
    key: Path

    def flags(self) -> list[str]:
        return ["--ca", str(self.ca), "--cert", str(self.cert), "--key", str(self.key)]

    def read(self) -> tuple[bytes, bytes, bytes]:
        return self.ca.read_bytes(), self.cert.read_bytes(), self.key.read_bytes()


class Lab:
    """An engine and an ECU (real processes) on one config and run dir; TLS files from one CA."""

    def __init__(self, work: Path) -> None:
        self.work = work
        self.config_dir = work / "etc"
        self.run_dir = work / "run"
        self.ssl_dir = self.config_dir / "ssl"
        self.ssl_dir.mkdir(parents=True)
        (self.config_dir / "seesaw.cfg").write_text(NODE_CFG)
        (self.config_dir / "cluster.pb").write_text(GRANTS_CLUSTER)
        self.ca = TestCA("Seesaw Test CA")
        (self.ssl_dir / "ca.crt").write_bytes(self.ca.pem())
        cert, key = self.ca.leaf("seesaw.example.com", dns=["localhost"], ips=["127.0.0.1"])
        (self.ssl_dir / "seesaw.crt").write_bytes(cert)
        (self.ssl_dir / "seesaw.key").write_bytes(key)
        self.procs: list[subprocess.Popen[bytes]] = []

    def client(self, name: str, cn: str, ous: tuple[str, ...] = (), ca: TestCA | None = None) -> ClientFiles:
        """Client files signed by `ca` (default: the cluster's), trusting the cluster's CA."""
        directory = self.work / "clients" / name
        directory.mkdir(parents=True)
        cert, key = (ca or self.ca).leaf(cn, ous=ous)
        files = ClientFiles(directory / "ca.crt", directory / "client.crt", directory / "client.key")
        files.ca.write_bytes(self.ca.pem())
        files.cert.write_bytes(cert)
        files.key.write_bytes(key)
        return files

    def _start(self, module: str, *args: str) -> None:
        log = (self.work / f"{module.rsplit('.', 1)[-1]}.log").open("ab")
        cmd = [sys.executable, "-m", module, "--config-dir", str(self.config_dir), "--run-dir", str(self.run_dir)]
        self.procs.append(subprocess.Popen([*cmd, *args], stdout=log, stderr=log))

    def start(self) -> None:
        self._start("seesaw.engine")
        self._start("seesaw.ecu", "--control-address", "127.0.0.1:0", "--monitor-address", "127.0.0.1:0")
        port_file = self.run_dir / "ecu" / "control.port"
        deadline = time.monotonic() + 30
        while not port_file.exists() or not port_file.read_text().strip():
            for proc in self.procs:
                assert proc.poll() is None, (self.work / "ecu.log").read_text() + (self.work / "engine.log").read_text()
            assert time.monotonic() < deadline, "the ECU did not start"
            time.sleep(0.05)
        engine = self.run_dir / "engine" / "engine.sock"
        while not asyncio.run(rpc.check_health(engine)):
            assert time.monotonic() < deadline, "the engine did not start"
            time.sleep(0.05)
        self.port = int(port_file.read_text())
        self.monitor_port = int((self.run_dir / "ecu" / "monitor.port").read_text())
        self.target = f"127.0.0.1:{self.port}"

    def stop(self) -> None:
        for proc in reversed(self.procs):
            proc.terminate()
        for proc in self.procs:
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()

    def audit_lines(self) -> list[str]:
        path = self.run_dir / "engine" / "audit.log"
        return path.read_text().splitlines() if path.exists() else []
