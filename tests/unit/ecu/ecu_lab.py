"""A CA with server and client certificates (cryptography), and a real engine + ECU run as processes."""

from __future__ import annotations

import asyncio
import datetime
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from seesaw.common import rpc
from seesaw.lab.fixture_configs import GRANTS_CLUSTER, NODE_CFG


def _name(cn: str, ous: tuple[str, ...] = ()) -> x509.Name:
    attrs = [x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Example")]
    attrs += [x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, ou) for ou in ous]
    if cn:
        attrs.append(x509.NameAttribute(NameOID.COMMON_NAME, cn))
    return x509.Name(attrs)


def _pem_key(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


@dataclass
class CA:
    key: ec.EllipticCurvePrivateKey
    cert: x509.Certificate

    @classmethod
    def create(cls, name: str = "Seesaw Test CA") -> CA:
        key = ec.generate_private_key(ec.SECP256R1())
        now = datetime.datetime.now(datetime.UTC)
        cert = (
            x509.CertificateBuilder()
            .subject_name(_name(name))
            .issuer_name(_name(name))
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256())
        )
        return cls(key, cert)

    def pem(self) -> bytes:
        return self.cert.public_bytes(serialization.Encoding.PEM)

    def issue(self, cn: str, ous: tuple[str, ...] = (), server: bool = False) -> tuple[bytes, bytes]:
        """(certificate PEM, key PEM) for a server (SAN localhost, 127.0.0.1) or a client."""
        import ipaddress

        key = ec.generate_private_key(ec.SECP256R1())
        now = datetime.datetime.now(datetime.UTC)
        builder = (
            x509.CertificateBuilder()
            .subject_name(_name(cn, ous))
            .issuer_name(self.cert.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
        )
        if server:
            builder = builder.add_extension(
                x509.SubjectAlternativeName(
                    [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
                ),
                critical=False,
            ).add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        else:
            builder = builder.add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
        cert = builder.sign(self.key, hashes.SHA256())
        return cert.public_bytes(serialization.Encoding.PEM), _pem_key(key)


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
        self.ca = CA.create()
        (self.ssl_dir / "ca.crt").write_bytes(self.ca.pem())
        cert, key = self.ca.issue("seesaw.example.com", server=True)
        (self.ssl_dir / "seesaw.crt").write_bytes(cert)
        (self.ssl_dir / "seesaw.key").write_bytes(key)
        self.procs: list[subprocess.Popen[bytes]] = []

    def client(self, name: str, cn: str, ous: tuple[str, ...] = (), ca: CA | None = None) -> ClientFiles:
        """Client files signed by `ca` (default: the cluster's), trusting the cluster's CA."""
        directory = self.work / "clients" / name
        directory.mkdir(parents=True)
        cert, key = (ca or self.ca).issue(cn, ous)
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
