"""The CLI starts fast: it imports nothing heavy, and 1,000 vservers print in well under the 300 ms goal.

Locally it does not even load grpcio: its calls on the engine's Unix socket are made by seesaw.cli.h2.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time

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


def best_of(runs: int, argv: list[str]) -> float:
    best = float("inf")
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(argv, stdout=subprocess.DEVNULL, check=True, timeout=60)
        best = min(best, time.perf_counter() - start)
    return best


def test_a_thousand_vservers_start_fast(serve_engine):
    engine = serve_engine(fake.many_vservers(1000))
    cli = [sys.executable, "-m", "seesaw.cli", "--engine", str(engine.path), "-c", "show vservers"]
    out = subprocess.run(cli, capture_output=True, text=True, check=True, timeout=60).stdout
    assert out.count("\n") == 1001 and out.endswith("[1000] vserver-00999\n")
    # The floor: starting Python and importing the generated engine messages (protobuf), measured alongside.
    floor = best_of(5, [sys.executable, "-c", "import seesaw.pb.engine_pb2"])
    took = best_of(5, cli)
    # The goal is < 300 ms on an idle machine (about 100 ms measured there, of which ~70 ms is the floor; 1.5 to
    # 1.9 floors on a loaded one, which stretches both alike). The bound is relative: a heavy import (scapy alone
    # takes 650 ms) or a slow path would break it; grpcio is kept out by the test above.
    assert took < 2.5 * floor, f"seesaw -c 'show vservers' took {took:.3f} s against a floor of {floor:.3f} s"
    assert took < 1.0, f"seesaw -c 'show vservers' with 1,000 vservers took {took:.3f} s"
