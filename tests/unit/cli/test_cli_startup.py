"""The CLI starts fast: it imports nothing heavy (the 300 ms goal for 1,000 vservers is measured by bench/cli.py).

Locally it does not even load grpcio: its calls on the engine's Unix socket are made by seesaw.cli.h2.
"""

from __future__ import annotations

import json
import subprocess
import sys

import cli_fake_engine as fake

# Modules the one-shot CLI must never load: the daemons, the heavy libraries, the server-side gRPC extras.
FORBIDDEN = (
    "scapy",
    "pyroute2",
    "paramiko",
    "prometheus_client",
    "dns",
    "grpc_health.v1",  # (`import grpc` itself touches the empty top-level packages)
    "grpc_reflection.v1alpha",
    "seesaw.engine",
    "seesaw.ncc",
    "seesaw.ha",
    "seesaw.healthcheck",
    "seesaw.ecu",
    "seesaw.watchdog",
    "seesaw.config",
    "seesaw.common.rpc",
    "readline",
    "google.protobuf.json_format",
)

# What the one-shot CLI does not load on the engine's own socket either (the remote ways, --ecu and --ssh, use
# grpcio): grpcio and its asyncio layer, and standard modules that cost more to import than the CLI needs them.
LOCAL_FORBIDDEN = ("grpc", "asyncio", "dataclasses", "inspect", "json", "shutil")

PROBE = """
import sys
from seesaw.cli.main import main
status = main(sys.argv[1:])
sys.stdout.flush()
loaded = sorted(sys.modules)
import json
sys.stderr.write("\\n" + json.dumps(loaded))
raise SystemExit(status)
"""


def loaded_modules(*argv: str) -> tuple[int, str, list[str]]:
    proc = subprocess.run([sys.executable, "-c", PROBE, *argv], capture_output=True, text=True, timeout=60)
    return proc.returncode, proc.stdout, json.loads(proc.stderr.splitlines()[-1])


def offenders(modules: list[str]) -> list[str]:
    return [m for m in modules if any(m == f or m.startswith(f + ".") for f in FORBIDDEN)]


def test_one_shot_imports_nothing_heavy(serve_engine):
    engine = serve_engine(fake.observed())
    status, out, modules = loaded_modules("--engine", str(engine.path), "-c", "show vservers")
    assert status == 0 and out.startswith("Vserver\n")
    assert offenders(modules) == []
    assert [m for m in modules if m.split(".")[0] in LOCAL_FORBIDDEN] == []


def test_commands_without_the_engine_do_not_even_load_grpc(tmp_path):
    status, _, modules = loaded_modules("--engine", str(tmp_path / "absent"), "-c", "sh foo")
    assert status == 1
    assert "grpc" not in modules
    assert offenders(modules) == []


def test_a_thousand_vservers_print_in_full(serve_engine):
    """All 1,000 in one answer, in order (the time it takes is bench/cli.py's figure, not a test's)."""
    engine = serve_engine(fake.many_vservers(1000))
    cli = [sys.executable, "-m", "seesaw.cli", "--engine", str(engine.path), "-c", "show vservers"]
    out = subprocess.run(cli, capture_output=True, text=True, check=True, timeout=60).stdout
    assert out.count("\n") == 1001 and out.endswith("[1000] vserver-00999\n")


EXIT_PROBE = """
import atexit, sys
atexit.register(lambda: sys.stderr.write("python's shutdown ran\\n"))
from seesaw.cli.main import run
run(sys.argv[1:])
"""


def test_the_command_exits_at_once_with_its_output_whole_and_its_status(serve_engine, tmp_path):
    """`seesaw` skips Python's shutdown (its CPU would land on the node while a failover moves the VIPs) but
    loses no output, even when stdout is a file (block-buffered), and keeps the exit status."""
    engine = serve_engine(fake.many_vservers(300))
    out_file = tmp_path / "out"
    with out_file.open("w") as out:
        proc = subprocess.run(
            [sys.executable, "-c", EXIT_PROBE, "--engine", str(engine.path), "-c", "show vservers"],
            stdout=out,
            stderr=subprocess.PIPE,
            text=True,
            timeout=60,
        )
    assert proc.returncode == 0 and proc.stderr == ""
    text = out_file.read_text()
    assert text.count("\n") == 301 and text.endswith("[300] vserver-00299\n")
    failed = subprocess.run(
        [sys.executable, "-c", EXIT_PROBE, "--engine", str(tmp_path / "absent"), "-c", "show vservers"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert failed.returncode == 1 and "shutdown ran" not in failed.stderr and failed.stderr.strip() != ""


def test_seesaw_lab_exits_the_usual_way(tmp_path):
    """`seesaw lab` (its logging, its child processes) keeps Python's shutdown."""
    argv = ["lab", "status", "--dir", str(tmp_path / "no-lab")]
    proc = subprocess.run([sys.executable, "-c", EXIT_PROBE, *argv], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 1 and "no lab is up" in proc.stderr and "shutdown ran" in proc.stderr
