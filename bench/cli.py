"""The CLI end to end: `seesaw -c "show vservers"` against a real engine holding 1,000 vservers.

    python bench/cli.py [--quick] [--vservers 1000] [--runs 15]

* show_vservers_1000: wall time of the whole `seesaw -c "show vservers"`
  process (interpreter start, imports, connecting through the engine's
  SO_PEERCRED front door, ListVservers, formatting, exit), best and median
  of --runs; the engine and NCC (sim dataplane) are real daemons with 1,000
  vservers of 2 backends each loaded from cluster.pb. The text view shows
  no counters, so the CLI asks for none and the engine does not ask NCC. Baseline: `python -c pass` in the same run, the
  floor no Python CLI can go under. Goal: under 300 ms. Also shown:
  `show_ha`, the same CLI with a tiny answer, which splits the figure into
  the CLI's own start (imports, connecting) and the 1,000 vservers' share
  (the engine building them, the wire, the CLI formatting them).

The seesaw package's bytecode is compiled first, as installing it does (pip
compiles at install time): with PYTHONDONTWRITEBYTECODE set, as in some
development shells, every run would otherwise compile the CLI's sources.

Nothing leaves the machine: the daemons use a temporary run directory and
the sim dataplane. --quick takes 5 runs of each instead of 15. The load
average at the start and the end goes to stderr: on a shared machine it says
how much the figures are stretched.
"""

from __future__ import annotations

import argparse
import asyncio
import compileall
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import seesaw
from seesaw.common import rpc

GOAL_MS = 300.0

SEESAW_CFG = """\
[cluster]
name = bench
node_ipv4 = 10.0.0.2
peer_ipv4 = 10.0.0.3
vip_ipv4 = 10.0.0.1

[engine]
max_vserver_changes = 0

[dataplane]
backend = sim
"""


def cluster(count: int) -> str:
    head = """\
seesaw_vip < fqdn: "seesaw-vip.example.com." ipv4: "10.0.0.1/24" status: PRODUCTION >
node < fqdn: "seesaw1-1.example.com." ipv4: "10.0.0.2/24" status: PRODUCTION >
node < fqdn: "seesaw1-2.example.com." ipv4: "10.0.0.3/24" status: PRODUCTION >
dedicated_vip_subnet: "10.8.0.0/13"
"""
    parts = [head]
    for n in range(count):
        a, b = divmod(n, 250)
        parts.append(
            f"""vserver <
  name: "vserver-{n:05d}@bench"
  rp: "bench"
  entry_address < fqdn: "vs{n}.example.com." ipv4: "10.{10 + a}.{b}.1/16" status: PRODUCTION >
  vserver_entry <
    protocol: TCP port: 80 scheduler: RR mode: NAT
    healthcheck < type: TCP port: 80 interval: 10 timeout: 2 >
  >
  backend < host < fqdn: "be{n}-1.example.com." ipv4: "10.200.{a}.{b + 1}/16" status: PRODUCTION > >
  backend < host < fqdn: "be{n}-2.example.com." ipv4: "10.201.{a}.{b + 1}/16" status: PRODUCTION > >
>
"""
        )
    return "".join(parts)


def timed(argv: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    return (time.perf_counter() - start) * 1000


def wait_healthy(path: Path, procs: list[subprocess.Popen[bytes]], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not asyncio.run(rpc.check_health(path)):
        if any(p.poll() is not None for p in procs) or time.monotonic() > deadline:
            raise SystemExit(f"bench: a daemon did not start (see {path.parent.parent.parent}/*.log)")
        time.sleep(0.05)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--vservers", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=None, help="runs of each command (default 15; 5 with --quick)")
    parser.add_argument("--quick", action="store_true", help="5 runs of each command")
    args = parser.parse_args()
    args.runs = args.runs or (5 if args.quick else 15)
    load_before = os.getloadavg()
    compileall.compile_dir(Path(seesaw.__file__).parent, quiet=1)

    with tempfile.TemporaryDirectory(prefix="seesaw-bench-cli-") as tmp:
        work = Path(tmp)
        config_dir, run_dir = work / "etc", work / "run"
        config_dir.mkdir()
        (config_dir / "seesaw.cfg").write_text(SEESAW_CFG)
        (config_dir / "cluster.pb").write_text(cluster(args.vservers))
        dirs = ["--config-dir", str(config_dir), "--run-dir", str(run_dir)]
        procs: list[subprocess.Popen[bytes]] = []
        try:
            for name, extra in (("ncc", ["--dataplane", "sim"]), ("engine", [])):
                with (work / f"{name}.log").open("ab") as log:
                    procs.append(
                        subprocess.Popen(
                            [sys.executable, "-m", f"seesaw.{name}", *dirs, *extra], stdout=log, stderr=log
                        )
                    )
                wait_healthy(run_dir / name / f"{name}.sock", procs)
            cli = [sys.executable, "-m", "seesaw.cli", "--run-dir", str(run_dir), "-c", "show vservers"]
            out = subprocess.run(cli, capture_output=True, text=True, check=True).stdout
            listed = out.count("\n") - 1
            if listed != args.vservers:
                raise SystemExit(f"bench: the CLI listed {listed} vservers, expected {args.vservers}:\n{out[:500]}")
            small = [*cli[:-1], "show ha"]
            timed(cli)  # warm the page cache (and the engine's kept snapshots)
            ours, floor, ha = [], [], []
            for _ in range(args.runs):  # interleaved, so that a busy moment hits all alike
                floor.append(timed([sys.executable, "-c", "pass"]))
                ours.append(timed(cli))
                ha.append(timed(small))
        finally:
            for proc in reversed(procs):
                proc.terminate()
            for proc in procs:
                proc.wait(15)
    load_after = os.getloadavg()
    sys.stderr.write(
        "load average (1, 5, 15 min): "
        f"{' '.join(f'{x:.2f}' for x in load_before)} before, {' '.join(f'{x:.2f}' for x in load_after)} after\n"
    )
    best, median = min(ours), statistics.median(ours)
    floor_best = min(floor)
    print(
        f"BENCH show_vservers_{args.vservers} ours={best:.1f} median={median:.1f} baseline={floor_best:.1f} "
        f"ratio={best / floor_best:.2f} show_ha={min(ha):.1f} goal={GOAL_MS:.0f} "
        f"met={'yes' if median < GOAL_MS else 'no'} unit=ms"
    )


if __name__ == "__main__":
    main()
