"""Reconcile bench: NCC's kernel dataplanes against their raw tools, figures beside a same-run baseline.

    python bench/reconcile.py [--quick] [--services N] [--flips N] [--no-ipvs]

nftables half (here, as root, in a private network namespace made with
`unshare --net --mount`; nothing touches the host), each figure end to end inside
NCC (protobuf -> model -> plan -> nftables part -> kernel acknowledgement ->
commit, no gRPC):

    nft_cold_apply_10k  N services x 4 NAT destinations into empty tables;  baseline: one raw `nft -f` of the
                        same ruleset (what our tables hold afterwards, as `nft list` prints it); the best of
                        --cold-runs (3) of each, made in turn (every run's figure beside)
    one_flip_p99        one destination's weight changed, p99 (one transaction); baseline (the floor): the
                        same transaction (slots and dispatch: delete + add) through a bare libnftables `cmd()`
                        on a copy of the same 10k state, right after ours (p50s beside)
    noop_writes         the unchanged state applied again: kernel writes (and seconds); baseline: the writes of a
                        replay (every object again, what Seesaw's Go NCC does after an engine restart)
    nft_read_10k        a full read of our tables (what an audit costs); baseline: `nft list table`
    flip_during_audit_p99  flips (one every 20 ms) while an audit reads the whole state, p99: the audit
                        lists our tables off NCC's lock (the nft program), so a flip waits for no listing;
                        baseline: the flips' floor above

IPVS half: bench/reconcile_ipvs.py in the user-mode-linux guest (scripts/run-in-uml),
its BENCH lines relayed as they are; without --quick, also its one-flip figure in
the qemu guest (scripts/run-in-vm: a stock kernel's scheduler on a software CPU).

Each figure is one line: `BENCH <name> ours=<v> baseline=<v> ratio=<ours/baseline> unit=<u> [key=value...]`.
--quick uses 1,000 services and 50 flips (well under a minute).
"""

from __future__ import annotations

import argparse
import asyncio
import errno
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from statistics import median
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DESTINATIONS = 4
FLIP_WINDOW = 10.0  # seconds of flips at most while an audit reads
INSIDE = "--inside-netns"


def vip(i: int) -> str:
    return f"10.{100 + i // 65536}.{i // 256 % 256}.{i % 256}"


def backend(i: int, b: int) -> str:
    return f"192.168.{b}.{i % 250 + 1}"


def p99(samples: list[float]) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]


def bench_line(name: str, ours: float, baseline: float, unit: str, **extra: object) -> str:
    ratio = ours / baseline if baseline else 0.0
    extra["load"] = Path("/proc/loadavg").read_text().split()[0]  # other work on the machine, beside each figure
    fields = " ".join(f"{key}={value}" for key, value in extra.items())
    return f"BENCH {name} ours={ours:.4g} baseline={baseline:.4g} ratio={ratio:.3f} unit={unit} {fields}".rstrip()


def nft_file(script: str) -> float:
    """Wall time of one `nft -f` of `script` (a fresh process, as an operator would run it)."""
    with tempfile.NamedTemporaryFile("w", suffix=".nft") as file:
        file.write(script)
        file.flush()
        start = time.perf_counter()
        done = subprocess.run(["nft", "-f", file.name], capture_output=True, text=True)
        elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"nft -f failed: {done.stderr.strip()[:500]}")
    return elapsed


def forget_caches() -> None:
    """Clear every functools cache of the seesaw modules, so that each cold apply starts as a fresh NCC would."""
    for name, module in list(sys.modules.items()):
        if name.startswith("seesaw."):
            for value in list(vars(module).values()):
                clear = getattr(value, "cache_clear", None)
                if callable(clear):
                    clear()


def nft_text(*args: str) -> str:
    return subprocess.run(["nft", *args], check=True, capture_output=True, text=True).stdout


async def measure_nft(services: int, flips: int, cold_runs: int) -> list[str]:
    import nftables  # type: ignore[import-untyped]

    from seesaw.common.clock import SystemClock
    from seesaw.ncc.dataplane import DataplaneError, KernelState
    from seesaw.ncc.kernel.nft_exec import Nft
    from seesaw.ncc.kernel.nft_parse import parse_text
    from seesaw.ncc.kernel.nft_services import NftServices
    from seesaw.ncc.model import IPAddress
    from seesaw.ncc.runner import Runner
    from seesaw.ncc.steps import Step, StepResult
    from seesaw.pb import common_pb2, ncc_pb2

    class ServicesOnly:
        """A Dataplane of the nftables services part alone (this bench programs services and destinations)."""

        name = "nftables"

        def __init__(self, part: NftServices) -> None:
            self.part = part

        def read(self) -> KernelState:
            return self.part.read()

        def apply(self, steps: Sequence[Step]) -> list[StepResult]:
            return self.part.apply(steps)

        def inline_safe(self, steps: Sequence[Step]) -> bool:
            return self.part.inline_safe(steps)

        def prepare_read(self) -> Callable[[], KernelState] | None:
            return self.part.prepare_read()

        def send_gratuitous_arp(self, interface: str, address: IPAddress) -> None:
            raise DataplaneError("this bench has no host-network part", errno.EOPNOTSUPP)

        def close(self) -> None:
            self.part.close()

    def vserver(i: int, weight: int = 1) -> ncc_pb2.Partition:
        destinations = [
            ncc_pb2.Destination(
                address=backend(i, b), port=80, weight=weight if b == 0 else 1, forwarding=common_pb2.FWD_MASQ
            )
            for b in range(DESTINATIONS)
        ]
        service = ncc_pb2.Service(
            family=common_pb2.AF_INET,
            protocol=common_pb2.IPPROTO_TCP,
            address=vip(i),
            port=80,
            scheduler="wrr",
            destinations=destinations,
        )
        return ncc_pb2.Partition(name=f"vs{i}", services=[service])

    class Recorder:
        """libnftables, keeping each script it ran (the flips are replayed as the baseline)."""

        def __init__(self, nft: Nft) -> None:
            self.nft = nft
            self.scripts: list[str] = []

        def run(self, script: str) -> None:
            self.nft.run(script)
            self.scripts.append(script)

        def list(self, what: str, terse: bool = False) -> dict[str, Any] | None:
            return self.nft.list(what, terse)

        def text(self, what: str, terse: bool = False) -> str | None:
            return self.nft.text(what, terse)

    lines = []
    full = ncc_pb2.ApplyRequest(partitions=[vserver(i) for i in range(services)], replace_all=True)
    objects = services * (1 + DESTINATIONS)

    # cold apply into empty tables, then the same ruleset through one raw `nft -f`; `cold_runs` times, in
    # turn (the machine is shared: the best of each is what this machine allows), the last run's state kept
    colds: list[float] = []
    baselines: list[float] = []
    part: NftServices | None = None
    for run in range(cold_runs):
        if part is not None:
            part.close()
            nft_text("delete", "table", "ip", "seesaw")
            nft_text("delete", "table", "ip", "baseline")
        forget_caches()
        nft = Nft()
        recorder = Recorder(nft)
        part = NftServices(nft=recorder)
        runner = Runner(ServicesOnly(part), "bench", SystemClock(), audit_interval=0)
        await runner.start()
        before = nft.transactions
        start = time.perf_counter()
        outcome = await runner.apply_pb(full)
        colds.append(time.perf_counter() - start)
        if outcome.errors or outcome.writes != objects:
            raise SystemExit(f"cold apply {run}: {outcome.writes} writes of {objects}, errors {outcome.errors[:3]}")
        transactions = nft.transactions - before
        ruleset = nft_text("list", "table", "ip", "seesaw")
        nft_text("add", "table", "ip", "baseline")
        baselines.append(nft_file(ruleset.replace("table ip seesaw", "table ip baseline", 1)))
    assert part is not None
    lines.append(
        bench_line(
            "nft_cold_apply_10k",
            min(colds),
            min(baselines),
            "s",
            services=services,
            destinations=services * DESTINATIONS,
            elements=len(parse_text("ip seesaw", ruleset).elements),
            transactions=transactions,
            runs=cold_runs,
            ours_each="/".join(f"{t:.2f}" for t in colds),
            baseline_each="/".join(f"{t:.2f}" for t in baselines),
        )
    )

    # re-applying the unchanged state
    before = nft.transactions
    start = time.perf_counter()
    outcome = await runner.apply_pb(full)
    noop = time.perf_counter() - start
    if nft.transactions != before:
        raise SystemExit("re-applying the unchanged state wrote to the kernel")
    lines.append(bench_line("noop_writes", outcome.writes, objects, "count", seconds=f"{noop:.4f}", dataplane="nft"))

    # one destination flipped (its weight: its slots, and the service's slot count, change)
    samples, writes, floor = [], [], []
    raw = nftables.Nftables()  # the floor: the same transaction through a bare libnftables cmd()
    recorder.scripts.clear()
    for n in range(flips):
        i = n * 7919 % services
        message = ncc_pb2.ApplyRequest(partitions=[vserver(i, weight=2 + n % 2)])
        before = nft.transactions
        start = time.perf_counter()
        outcome = await runner.apply_pb(message)
        samples.append(time.perf_counter() - start)
        writes.append(nft.transactions - before)
        if outcome.errors or outcome.writes != 1:
            raise SystemExit(f"flip {n}: {outcome.writes} writes, errors {outcome.errors[:3]}")
        # ... replayed at once on the baseline's copy (the same 10k state), so both see the same load
        script = recorder.scripts[-1].replace("ip seesaw", "ip baseline")
        start = time.perf_counter()
        rc, _, error = raw.cmd(script)
        floor.append(time.perf_counter() - start)
        if rc != 0:
            raise SystemExit(f"flip {n} replayed by libnftables failed: {error.strip()[:300]}")
    if set(writes) != {1}:
        raise SystemExit(f"a flip cost {sorted(set(writes))} transactions, not 1")
    lines.append(
        bench_line(
            "one_flip_p99",
            p99(samples) * 1000,
            p99(floor) * 1000,
            "ms",
            transactions=1,
            dataplane="nft",
            p50=f"{median(samples) * 1000:.3g}",
            floor_p50=f"{median(floor) * 1000:.3g}",
        )
    )

    # a full read (an audit's cost), as the daemon makes it
    start = time.perf_counter()
    state = await runner.read()
    read = time.perf_counter() - start
    if len(state.objects) != objects:
        raise SystemExit(f"read {len(state.objects)} objects, applied {objects}")
    start = time.perf_counter()
    nft_text("-j", "list", "table", "ip", "seesaw")
    baseline_read = time.perf_counter() - start
    lines.append(bench_line("nft_read_10k", read, baseline_read, "s", objects=objects))

    # flips while an audit reads the whole state (what a flip meets once an audit interval): the audit lists
    # our tables off NCC's lock, so a flip waits for no listing; baseline: the flips' floor above
    during: list[float] = []
    audit = asyncio.ensure_future(runner.audit())
    started = time.perf_counter()
    n = 0
    while not audit.done() and time.perf_counter() - started < FLIP_WINDOW:  # (a listing a flip interrupted
        i = (n * 104_729 + 1) % services  # starts again: one every 20 ms would keep it going for ever)
        message = ncc_pb2.ApplyRequest(partitions=[vserver(i, weight=4 + n % 2)])
        start = time.perf_counter()
        outcome = await runner.apply_pb(message)
        during.append(time.perf_counter() - start)
        if outcome.errors:
            raise SystemExit(f"flip during the audit: errors {outcome.errors[:3]}")
        n += 1
        await asyncio.sleep(0.02)
    await audit
    if not during:
        raise SystemExit("the audit was over before a flip was made")
    lines.append(
        bench_line(
            "flip_during_audit_p99",
            p99(during) * 1000,
            p99(floor) * 1000,
            "ms",
            flips=len(during),
            audit_s=f"{time.perf_counter() - started:.2f}",
            max=f"{max(during) * 1000:.1f}",
            dataplane="nft",
        )
    )
    part.close()
    return lines


def nft_half(args: argparse.Namespace) -> int:
    """Run the nftables half in a private network namespace; relay its lines."""
    command = [sys.executable, "-m", "seesaw.lab.isolate", sys.executable, __file__, INSIDE]
    command += ["--services", str(args.services), "--flips", str(args.flips), "--cold-runs", str(args.cold_runs)]
    done = subprocess.run(["unshare", "--net", "--mount", "--propagation", "private", "--", *command], cwd=ROOT)
    return done.returncode


def ipvs_half(args: argparse.Namespace) -> int:
    """Run bench/reconcile_ipvs.py in the UML guest and, unless --quick, its flip figure in the qemu guest too."""
    bench = ROOT / "bench" / "reconcile_ipvs.py"
    sizes = ["--services", str(args.services), "--flips", str(args.flips)]
    guests: list[tuple[str, list[str]]] = [("run-in-uml", [])]
    if not args.quick:  # the qemu guest's software CPU takes minutes over a cold apply: the full run only
        guests.append(("run-in-vm", ["--only-flips", "--tag", "qemu"]))
    status = 0
    for name, options in guests:
        runner = ROOT / "scripts" / name
        if not runner.exists() or not bench.exists():
            print(f"# IPVS half skipped: {runner.name if not runner.exists() else bench.name} is missing", flush=True)
            continue
        load = Path("/proc/loadavg").read_text().split()[0]  # the guest sees only its own
        env = {**os.environ, "BENCH_HOST_LOAD": load}
        command = [str(runner), "--", sys.executable, str(bench), *sizes, *options]
        done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, env=env)
        for line in done.stdout.splitlines():
            if line.startswith("BENCH "):
                print(line, flush=True)
        if done.returncode != 0:
            print(f"# IPVS half in {name} failed (exit {done.returncode}): {done.stderr.strip()[-500:]}", flush=True)
            status = status or done.returncode
    return status


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1,000 services and 50 flips")
    parser.add_argument("--services", type=int, help="services (default 10,000; 1,000 with --quick)")
    parser.add_argument("--flips", type=int, help="flips for the p99 (default 300; 50 with --quick)")
    parser.add_argument("--no-ipvs", action="store_true", help="skip the IPVS half (the UML guest)")
    parser.add_argument(
        "--cold-runs", type=int, help="cold applies, each with its baseline, best kept (default 3; 1 with --quick)"
    )
    parser.add_argument(INSIDE, action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    args.services = args.services or (1_000 if args.quick else 10_000)
    args.flips = args.flips or (50 if args.quick else 300)
    args.cold_runs = args.cold_runs or (1 if args.quick else 3)
    if args.inside_netns:
        for line in asyncio.run(measure_nft(args.services, args.flips, args.cold_runs)):
            print(line, flush=True)
        return
    if os.geteuid() != 0:
        sys.exit("the bench needs root (a private network namespace for nftables, a UML guest for IPVS)")
    status = nft_half(args)
    if not args.no_ipvs:
        status = ipvs_half(args) or status
    sys.exit(status)


if __name__ == "__main__":
    main()
