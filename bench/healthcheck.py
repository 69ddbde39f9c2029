"""Healthcheck daemon figures: probe throughput, memory per check, start-time accuracy.

    python bench/healthcheck.py [--quick] [--checks 30000]

* tcp_checks_per_s: TCP connect checks completed per second by the scheduler
  (timer heap, bounded pool, run_check with its timeout and bookkeeping), at
  saturation against a local accept-and-close server in another process;
  baseline = a bare asyncio loop doing sock_connect + close with the same
  concurrency against the same server, in the same run. Rounds alternate
  (baseline, ours, ours, baseline, ...) and medians are reported, because
  the kernel's loopback handshake dominates and a shared machine is noisy.
* rss_per_check: resident memory added by loading `--checks` checks (parsed
  from the wire as the engine sends them) into a scheduler, divided by their
  number; the goal is at most 2 KiB.
* start_error_p99: with `--checks` checks probing the local server, how late
  each run starts against its due time (p50/p99/max). The interval is
  Seesaw's 10 s, stretched if need be so that the probe rate stays at half
  the throughput just measured: past saturation every scheduler is late, and
  the figure would measure the machine, not the scheduling.

Only loopback is used. --quick keeps the whole run under a minute.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import math
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

from seesaw.healthcheck.engine_link import EngineLink
from seesaw.healthcheck.scheduler import Scheduler
from seesaw.pb import healthcheck_pb2 as hc

SERVER = """
import socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", 0))
s.listen(4096)
print(s.getsockname()[1], flush=True)
while True:
    c, _ = s.accept()
    c.close()
"""


def rss_bytes() -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError("no VmRSS in /proc/self/status")


def check_set(n: int, port: int, interval_ms: int, kind: int = hc.CHECK_TCP, spread_targets: bool = False) -> bytes:
    """A full CheckSet as the engine would send it, serialized."""
    configs = []
    for i in range(n):
        target = f"10.{i // 65536 % 256}.{i // 256 % 256}.{i % 256}" if spread_targets else "127.0.0.1"
        configs.append(
            hc.CheckConfig(
                id=(0xBEEF << 48) + i,
                name="HTTP/80_0" if kind == hc.CHECK_HTTP else "TCP/80_0",
                type=kind,
                target=target,
                port=port,
                interval_ms=interval_ms,
                timeout_ms=5000,
                send="/healthz" if kind == hc.CHECK_HTTP else "",
                receive="ok" if kind == hc.CHECK_HTTP else "",
                code=200 if kind == hc.CHECK_HTTP else 0,
                method="GET" if kind == hc.CHECK_HTTP else "",
                tls_verify=True,
                backend=target,
            )
        )
    return hc.CheckSet(full=True, upsert=configs).SerializeToString()


async def memory(n: int) -> tuple[float, float, float]:
    """(bytes per check, seconds to apply the full set, seconds to build a full resync)."""
    wire = check_set(n, 80, 3_600_000, hc.CHECK_HTTP, spread_targets=True)
    gc.collect()
    before = rss_bytes()
    sched = Scheduler()  # not started: memory only
    t0 = time.perf_counter()
    sched.apply(hc.CheckSet.FromString(wire))
    apply_s = time.perf_counter() - t0
    gc.collect()
    per_check = (rss_bytes() - before) / n
    link = EngineLink(Path("/nonexistent"), sched)
    t0 = time.perf_counter()
    await link.resync()
    resync_s = time.perf_counter() - t0
    return per_check, apply_s, resync_s


async def ours_throughput(port: int, seconds: float, concurrency: int) -> float:
    sched = Scheduler(max_concurrent=concurrency)
    sched.apply(hc.CheckSet.FromString(check_set(4000, port, 50)))  # demand: 80,000 runs/s
    sched.start()
    await asyncio.sleep(1.0)  # past the jittered first starts
    done0 = sum(c.health.successes + c.health.failures for c in sched)
    t0 = time.perf_counter()
    await asyncio.sleep(seconds)
    done = sum(c.health.successes + c.health.failures for c in sched) - done0
    elapsed = time.perf_counter() - t0
    failures = sum(c.health.failures for c in sched)
    await sched.stop()
    if failures:
        print(f"note: {failures} failed probes during the throughput run", file=sys.stderr)
    return done / elapsed


async def baseline_throughput(port: int, seconds: float, concurrency: int) -> float:
    loop = asyncio.get_running_loop()
    count = 0
    stop_at = loop.time() + seconds

    async def worker() -> None:
        nonlocal count
        while loop.time() < stop_at:
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.setblocking(False)
            try:
                await loop.sock_connect(sock, ("127.0.0.1", port))
            finally:
                sock.close()
            count += 1

    t0 = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return count / (time.perf_counter() - t0)


async def start_error(port: int, n: int, interval_s: int, seconds: float) -> tuple[float, float, float, int]:
    """(p50, p99, max) lateness in ms of every run started within `seconds`, and the number of runs."""
    sched = Scheduler()
    sched.apply(hc.CheckSet.FromString(check_set(n, port, interval_s * 1000)))
    sched.start()
    await asyncio.sleep(seconds)
    await sched.stop()
    lateness = sorted(sched.stats.lateness)
    if not lateness:
        return 0.0, 0.0, 0.0, 0
    pick = lambda q: lateness[min(len(lateness) - 1, int(q * len(lateness)))] * 1000  # noqa: E731
    return pick(0.5), pick(0.99), lateness[-1] * 1000, sched.stats.started


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="short runs (under a minute in all)")
    p.add_argument("--checks", type=int, default=30_000)
    p.add_argument("--concurrency", type=int, default=200)
    args = p.parse_args()
    window = 2.0 if args.quick else 5.0
    rounds = 2 if args.quick else 4
    lateness_window = 10.0 if args.quick else 30.0

    server = subprocess.Popen([sys.executable, "-c", SERVER], stdout=subprocess.PIPE, text=True)
    try:
        port = int(server.stdout.readline())
        per_check, apply_s, resync_s = asyncio.run(memory(args.checks))
        baselines, ourses = [], []
        for i in range(rounds):
            pair = [
                lambda: baselines.append(asyncio.run(baseline_throughput(port, window, args.concurrency))),
                lambda: ourses.append(asyncio.run(ours_throughput(port, window, args.concurrency))),
            ]
            for run in pair if i % 2 == 0 else reversed(pair):
                run()
        baseline, ours = statistics.median(baselines), statistics.median(ourses)
        interval_s = max(10, math.ceil(args.checks / (0.5 * ours)))
        p50, p99, worst, runs = asyncio.run(start_error(port, args.checks, interval_s, lateness_window))
    finally:
        server.kill()
        server.wait()

    print(
        f"info: {args.checks} checks applied in {apply_s * 1000:.0f} ms; full resync built in {resync_s * 1000:.0f} ms"
    )
    print(f"BENCH tcp_checks_per_s ours={ours:.0f} baseline={baseline:.0f} ratio={ours / baseline:.2f} unit=checks/s")
    print(f"BENCH rss_per_check ours={per_check:.0f} goal=2048 ratio={per_check / 2048:.2f} unit=bytes")
    print(
        f"BENCH start_error_p99 ours={p99:.1f} p50={p50:.1f} max={worst:.1f} runs={runs} checks={args.checks} unit=ms"
    )


if __name__ == "__main__":
    main()
