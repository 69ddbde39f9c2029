"""Healthcheck daemon figures (issue 4): sustained check rate, memory per check, start-time error.

    python bench/healthcheck.py [--quick] [--checks 30000] [--rate 5000]

The bench runs on one core: it pins itself to one CPU and the backend (an
accept-and-close TCP server, another process) to the others, so the figures
are those of one core however many the machine has. Only loopback is used.
A loopback connect also costs the backend's half of the handshake in the
kernel, on our core: the figures are lower than against remote backends.

* tcp_checks_per_s: the highest configured check rate (checks / interval)
  the scheduler sustains with TCP connect checks: over the window, at least
  98 % of the runs due were started and finished, none skipped, none failed,
  and the start error p99 stayed under 50 ms. Rates are tried on a ladder of
  x1.2 steps through `--rate`; a rate gets a second try if the first misses
  (a shared machine has hiccups), and the climb stops at the first rate that
  misses twice. Baseline: a bare asyncio loop of sock_connect + close at
  saturation (64 connects in flight) against the same server, measured in
  the same run before and after the ladder (mean). An info line also gives a
  bare loop with the daemon's own connect path (dial.connect with its epoll
  poller): the scheduler's own overhead is the gap to that one.
* rss_per_check: resident memory added by loading `--checks` HTTP checks
  (parsed from the wire as the engine sends them, distinct targets) into a
  scheduler, per check; goal at most 2 KiB. Baseline: the least any
  scheduler must hold for them, the same CheckSet parsed from the same wire
  and kept, with a dict from check id to its CheckConfig (each check must be
  found by id for updates and removals): the configs alone, no state, no
  timers. Each figure is taken in a fresh interpreter (this script run with
  --rss-of), so neither reuses memory the other freed. An info line gives
  the figure for the TCP checks of the start-error run after every one of
  them ran.
* start_error_p99: `--checks` TCP checks at `--rate` (interval = checks /
  rate: 30,000 checks every 6 s is 5,000 checks/s), how late each run starts
  against its due time, measured when the probe starts (p50/p99/max), with
  the rate achieved and the share of the core used. Baseline: a bare
  asyncio loop on the same core firing `--checks` call_at timers at the same
  rate (the same even spread over the interval, each re-armed one interval
  on), each doing nothing but noting how late it fired, over the same
  window: the lateness this loop on this machine gives for free. Every BENCH
  line ends with the goal as an extra field.

--quick keeps the whole run under a minute.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import socket
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from seesaw.healthcheck.checkers import ConnectPoller, dial
from seesaw.healthcheck.engine_link import EngineLink
from seesaw.healthcheck.scheduler import Scheduler
from seesaw.pb import healthcheck_pb2 as hc

SERVER = """
import socket
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", 0))
s.listen(4096)
print(s.getsockname()[1], flush=True)
while True:
    c, _ = s.accept()
    c.close()
"""
P99_GOAL_S = 0.050
SUSTAINED_SHARE = 0.98
BARE_CONCURRENCY = 64
LADDER_STEP = 1.2
LADDER_INTERVAL_S = 2.0


def rss_bytes() -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError("no VmRSS in /proc/self/status")


def listen_drops() -> int:
    """Connection attempts the kernel dropped at full accept queues (this network namespace), so far."""
    with open("/proc/net/netstat") as f:
        lines = [line.split() for line in f if line.startswith("TcpExt:")]
    counters = dict(zip(lines[0][1:], lines[1][1:], strict=True))
    return int(counters.get("ListenDrops", 0))


def load_average() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def pin(server_pid: int) -> tuple[int | None, str]:
    """The bench on one CPU, the server on the others: (our CPU, what was done)."""
    cpus = sorted(os.sched_getaffinity(0))
    if len(cpus) < 2:
        return None, f"one CPU only ({cpus}): bench and server share it"
    ours, rest = cpus[0], set(cpus[1:])
    os.sched_setaffinity(0, {ours})
    os.sched_setaffinity(server_pid, rest)
    return ours, f"bench on CPU {ours}, server on CPUs {sorted(rest)}"


def cpu_ticks(cpu: int | None) -> tuple[int, int]:
    """(idle, all) clock ticks of `cpu` (or of all CPUs) so far, from /proc/stat."""
    name = "cpu" if cpu is None else f"cpu{cpu}"
    with open("/proc/stat") as f:
        for line in f:
            fields = line.split()
            if fields[0] == name:
                ticks = [int(x) for x in fields[1:]]
                return ticks[3] + ticks[4], sum(ticks[:8])
    raise RuntimeError(f"no {name} in /proc/stat")


def check_set(n: int, port: int, interval_ms: int, kind: int = hc.CHECK_TCP, spread_targets: bool = False) -> bytes:
    """A full CheckSet as the engine would send it, serialized."""
    http = kind == hc.CHECK_HTTP
    configs = []
    for i in range(n):
        target = f"10.{i // 65536 % 256}.{i // 256 % 256}.{i % 256}" if spread_targets else "127.0.0.1"
        configs.append(
            hc.CheckConfig(
                id=(0xBEEF << 48) + i,
                name="HTTP/80_0" if http else "TCP/80_0",
                type=kind,
                target=target,
                port=port,
                interval_ms=interval_ms,
                timeout_ms=5000,
                send="/healthz" if http else "",
                receive="ok" if http else "",
                code=200 if http else 0,
                method="GET" if http else "",
                tls_verify=True,
                backend=target,
            )
        )
    return hc.CheckSet(full=True, upsert=configs).SerializeToString()


async def memory(n: int) -> dict[str, float]:
    """Bytes per check of a scheduler holding `n` checks, seconds to apply the full set and to build a resync."""
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
    return {"per_check": per_check, "apply_s": apply_s, "resync_s": resync_s}


def memory_floor(n: int) -> dict[str, float]:
    """Bytes per check of the least a scheduler must hold: the parsed CheckSet, its configs found by id."""
    wire = check_set(n, 80, 3_600_000, hc.CHECK_HTTP, spread_targets=True)
    gc.collect()
    before = rss_bytes()
    held = hc.CheckSet.FromString(wire)
    by_id = {config.id: config for config in held.upsert}
    gc.collect()
    per_check = (rss_bytes() - before) / n
    assert len(by_id) == n
    return {"per_check": per_check}


def rss_in_fresh_interpreter(what: str, n: int) -> subprocess.Popen[str]:
    """This script run with --rss-of `what`: prints the figures as JSON."""
    cmd = [sys.executable, __file__, "--rss-of", what, "--checks", str(n)]
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)


def rss_result(proc: subprocess.Popen[str]) -> dict[str, float]:
    out, _ = proc.communicate()
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(map(str, proc.args))} failed with status {proc.returncode}")
    result: dict[str, float] = json.loads(out)
    return result


async def bare_timers(n: int, rate: float, warmup: float, window: float) -> list[float]:
    """How late `n` call_at timers fire at `rate` in all (spread and re-armed as the timetable does), over `window`."""
    loop = asyncio.get_running_loop()
    interval = n / rate
    lateness: list[float] = []
    measure_from = loop.time() + warmup
    stop_at = measure_from + window

    def fire(due: float) -> None:
        now = loop.time()
        if now >= measure_from:
            lateness.append(now - due)
        if now < stop_at:
            loop.call_at(due + interval, fire, due + interval)

    start = loop.time()
    for i in range(n):
        due = start + interval * i / n
        loop.call_at(due, fire, due)
    await asyncio.sleep(warmup + window)
    return lateness


def quantile(values: list[float], q: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, int(q * len(s)))] if s else 0.0


async def bare_loop(port: int, seconds: float, own_connect: bool) -> float:
    """Connects per second of a bare loop: loop.sock_connect, or (own_connect) dial.connect with a poller."""
    loop = asyncio.get_running_loop()
    poller = ConnectPoller()
    count = 0
    stop_at = loop.time() + seconds

    async def worker() -> None:
        nonlocal count
        while loop.time() < stop_at:
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.setblocking(False)
            try:
                if own_connect:
                    await dial.connect(sock, "127.0.0.1", port, poller)
                else:
                    await loop.sock_connect(sock, ("127.0.0.1", port))
            finally:
                sock.close()
            count += 1

    t0 = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(BARE_CONCURRENCY)))
    elapsed = time.perf_counter() - t0
    poller.close()
    return count / elapsed


@dataclass
class Run:
    """What the scheduler did over a measured window at a configured rate."""

    rate: float
    window: float
    started: int
    finished: int
    skipped: int
    failed: int
    lateness: list[float]
    cpu: float  # share of the core used by this process
    others: float  # share of the core taken by everything else (other processes; the kernel's network work)
    backend_drops: int  # connects the backend's full accept queue dropped (it was starved of CPU)
    rss_per_check: float

    def quantile(self, q: float) -> float:
        return quantile(self.lateness, q)

    @property
    def sustained(self) -> bool:
        due = self.rate * self.window
        return (
            self.started >= SUSTAINED_SHARE * due
            and self.finished >= SUSTAINED_SHARE * due
            and self.skipped == 0
            and self.failed == 0
            and self.quantile(0.99) < P99_GOAL_S
        )

    def describe(self) -> str:
        verdict = "sustained" if self.sustained else "missed"
        return (
            f"{self.rate:.0f}/s {verdict} (started {self.started / self.window:.0f}/s, "
            f"p99 {self.quantile(0.99) * 1000:.1f} ms, skipped {self.skipped}, failed {self.failed}, "
            f"core: ours {self.cpu:.2f}, others {self.others:.2f}; "
            f"{self.started / self.window / max(self.cpu, 1e-9):.0f} runs per second of our CPU"
            + (f"; the backend dropped {self.backend_drops} connects" if self.backend_drops else "")
            + ")"
        )


async def run_at_rate(port: int, n: int, rate: float, warmup: float, window: float, cpu_no: int | None) -> Run:
    """`n` TCP checks at `rate` checks/s in all (interval n / rate); the window after `warmup`."""
    sched = Scheduler()
    wire = check_set(n, port, round(n / rate * 1000))
    gc.collect()
    rss0 = rss_bytes()
    sched.apply(hc.CheckSet.FromString(wire))
    sched.start()
    await asyncio.sleep(warmup)
    lateness: list[float] = []
    stats = sched.stats
    stats.lateness.clear()
    started0, skipped0 = stats.started, stats.skipped
    done0 = sum(c.health.successes for c in sched)
    failed0 = sum(c.health.failures for c in sched)
    t0, cpu0, (idle0, all0), drops0 = time.perf_counter(), time.process_time(), cpu_ticks(cpu_no), listen_drops()
    end = t0 + window
    while (left := end - time.perf_counter()) > 0:
        await asyncio.sleep(min(0.25, left))
        lateness.extend(stats.lateness)  # drained often: the deque keeps the last 20,000 only
        stats.lateness.clear()
    elapsed, cpu, (idle1, all1) = time.perf_counter() - t0, time.process_time() - cpu0, cpu_ticks(cpu_no)
    ours = cpu / elapsed
    others = max(0.0, 1.0 - (idle1 - idle0) / max(1, all1 - all0) - ours) if cpu_no is not None else 0.0
    started, skipped = stats.started - started0, stats.skipped - skipped0
    failed = sum(c.health.failures for c in sched) - failed0
    finished = sum(c.health.successes for c in sched) - done0 + failed
    rss_per_check = (rss_bytes() - rss0) / n
    await sched.stop()
    drops = listen_drops() - drops0
    return Run(rate, elapsed, started, finished, skipped, failed, lateness, ours, others, drops, rss_per_check)


def ladder(port: int, around: float, window: float, cpu_no: int | None, max_runs: int) -> tuple[Run | None, list[Run]]:
    """The highest sustained rate on the x1.2 ladder through `around`, and every run tried.

    The climb starts three steps below `around`; a rate that misses gets a
    second try, and the climb ends at the first rate that misses twice. If
    the first rate misses twice, the ladder goes down (one try a step).
    At most `max_runs` runs in all (the time budget).
    """
    tried: list[Run] = []

    def attempt(step: int, tries: int) -> Run:
        rate = around * LADDER_STEP**step
        for _ in range(tries):
            tried.append(asyncio.run(run_at_rate(port, round(rate * LADDER_INTERVAL_S), rate, 0.5, window, cpu_no)))
            if tried[-1].sustained:
                break
        return tried[-1]

    step = -3
    run = attempt(step, 2)
    best = None
    while run.sustained and len(tried) < max_runs:
        best = run
        step += 1
        run = attempt(step, 2)
    while best is None and len(tried) < max_runs:
        step -= 1
        run = attempt(step, 1)
        best = run if run.sustained else None
    return best, tried


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="short runs (under a minute in all)")
    p.add_argument("--checks", type=int, default=30_000, help="checks loaded (default: %(default)s)")
    p.add_argument("--rate", type=float, default=5000.0, help="checks per second to hold (default: %(default)s)")
    p.add_argument("--rss-of", choices=("scheduler", "protos"), help=argparse.SUPPRESS)  # one memory figure, as JSON
    args = p.parse_args()
    if args.rss_of:
        figures = asyncio.run(memory(args.checks)) if args.rss_of == "scheduler" else memory_floor(args.checks)
        print(json.dumps(figures))
        return
    window = 2.0 if args.quick else 5.0
    bare_rounds = 1 if args.quick else 2
    start_window = args.checks / args.rate * (1.0 if args.quick else 3.0)

    server = subprocess.Popen([sys.executable, "-c", SERVER], stdout=subprocess.PIPE, text=True)
    try:
        assert server.stdout is not None
        port = int(server.stdout.readline())
        cpu_no, pinning = pin(server.pid)
        load_before = load_average()
        mem = rss_result(rss_in_fresh_interpreter("scheduler", args.checks))  # one at a time: apply_s is timed
        mem_floor = rss_result(rss_in_fresh_interpreter("protos", args.checks))
        baselines = [asyncio.run(bare_loop(port, window, False)) for _ in range(bare_rounds)]
        floors = [asyncio.run(bare_loop(port, window, True)) for _ in range(bare_rounds)]
        best, tried = ladder(port, args.rate, window, cpu_no, 7 if args.quick else 16)
        floors += [asyncio.run(bare_loop(port, window, True)) for _ in range(bare_rounds)]
        baselines += [asyncio.run(bare_loop(port, window, False)) for _ in range(bare_rounds)]
        timing = asyncio.run(run_at_rate(port, args.checks, args.rate, 0.5, start_window, cpu_no))
        timers = asyncio.run(bare_timers(args.checks, args.rate, 0.5, start_window))
        load_after = load_average()
    finally:
        server.kill()
        server.wait()

    baseline, floor = statistics.mean(baselines), statistics.mean(floors)
    ours = best.rate if best is not None else 0.0
    print(f"info: {pinning}; load average {load_before} before, {load_after} after")
    applied = f"{args.checks} HTTP checks applied in {mem['apply_s'] * 1000:.0f} ms"
    print(f"info: {applied}; a full resync of them built in {mem['resync_s'] * 1000:.0f} ms")
    for run in tried:
        print(f"info: ladder: {run.describe()}")
    print(f"info: bare loops: sock_connect {baseline:.0f}/s, the daemon's connect path {floor:.0f}/s")
    print(f"info: start-error run: {timing.describe()}")
    print(
        f"info: bare call_at timers: {len(timers) / start_window:.0f} fired/s, late p50 "
        f"{quantile(timers, 0.5) * 1000:.1f} ms, p99 {quantile(timers, 0.99) * 1000:.1f} ms, "
        f"max {max(timers, default=0.0) * 1000:.1f} ms"
    )
    print(f"info: {args.checks} TCP checks, after each ran: {timing.rss_per_check:.0f} bytes of RSS per check")
    print(
        f"BENCH tcp_checks_per_s ours={ours:.0f} baseline={baseline:.0f} ratio={ours / baseline:.2f} "
        f"unit=checks/s goal={args.rate:.0f} load={load_after.split()[0]}"
    )
    per_check, per_check_floor = mem["per_check"], mem_floor["per_check"]
    print(
        f"BENCH rss_per_check ours={per_check:.0f} baseline={per_check_floor:.0f} "
        f"ratio={per_check / per_check_floor:.2f} unit=bytes goal=2048 checks={args.checks}"
    )
    p99, timers_p99 = timing.quantile(0.99) * 1000, quantile(timers, 0.99) * 1000
    print(
        f"BENCH start_error_p99 ours={p99:.1f} baseline={timers_p99:.1f} ratio={p99 / max(timers_p99, 0.001):.2f} "
        f"unit=ms p50={timing.quantile(0.5) * 1000:.1f} max={max(timing.lateness, default=0.0) * 1000:.1f} "
        f"rate={timing.started / timing.window:.0f} configured={args.rate:.0f} checks={args.checks} "
        f"runs={timing.started} skipped={timing.skipped} cpu={timing.cpu:.2f} goal={P99_GOAL_S * 1000:.0f} "
        f"load={load_after.split()[0]}"
    )


if __name__ == "__main__":
    main()
