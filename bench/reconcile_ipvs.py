"""IPVS half of the reconcile bench: NCC's ipvs dataplane against ipvsadm, on the real `ip_vs` module.

    scripts/run-in-uml -- .venv/bin/python bench/reconcile_ipvs.py [--quick] [--services N] [--flips N]

Needs a kernel with IPVS (the UML guest has it). Everything happens in two
network namespaces the bench makes and removes: the baseline's and NCC's, so
both start from an empty IPVS table and nothing outside them is touched.

Figures, each end to end inside NCC (protobuf -> model -> plan -> kernel
dataplane of the IPVS part -> kernel acknowledgement -> commit, no gRPC) beside a baseline measured in the
same run:

    ipvs_cold_apply_10k  N services x 4 destinations into an empty kernel;   baseline: `ipvsadm -R` of the same set
    ipvs_one_flip_p99    one destination's weight changed, p99;             baseline: `ipvsadm -e` of the same change
    ipvs_noop_writes     the unchanged state applied again (writes, time);  baseline: the writes of a replay (flush and
                         re-add everything, what Seesaw's Go NCC does after an engine restart)
    ipvs_read_10k        a full read of the kernel (what an audit costs);   baseline: `ipvsadm -Ln`

Each figure is one line: `BENCH <name> ours=<v> baseline=<v> ratio=<ours/baseline> unit=<u> [key=value...]`.
--quick uses 1,000 services and fewer flips (well under a minute in the guest).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import time

from pyroute2 import IPRoute
from pyroute2 import netns as pyroute2_netns

from seesaw.common.clock import SystemClock
from seesaw.ncc.kernel.composite import KernelDataplane
from seesaw.ncc.kernel.ipvs import IPVSServices
from seesaw.ncc.runner import Runner
from seesaw.pb import common_pb2, ncc_pb2

DESTINATIONS = 4


def vip(i: int) -> str:
    return f"10.{100 + i // 65536}.{i // 256 % 256}.{i % 256}"


def backend(i: int, b: int) -> str:
    return f"192.168.{b}.{i % 250 + 1}"


def vserver(i: int, weight: int = 1) -> ncc_pb2.Partition:
    destinations = [
        ncc_pb2.Destination(
            address=backend(i, b), port=80, weight=weight if b == 0 else 1, forwarding=common_pb2.FWD_ROUTE
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


def ipvsadm_script(services: int) -> str:
    lines = []
    for i in range(services):
        lines.append(f"-A -t {vip(i)}:80 -s wrr")
        lines.extend(f"-a -t {vip(i)}:80 -r {backend(i, b)}:80 -g -w 1" for b in range(DESTINATIONS))
    return "\n".join(lines) + "\n"


def in_netns(name: str, *command: str, stdin: str | None = None) -> float:
    """Run `command` in netns `name`; its wall time in seconds."""
    start = time.perf_counter()
    done = subprocess.run(["ip", "netns", "exec", name, *command], input=stdin, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed in netns {name}: {done.stderr.strip()}")
    return elapsed


def p99(samples: list[float]) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]


def bench_line(name: str, ours: float, baseline: float, unit: str, **extra: object) -> str:
    ratio = ours / baseline if baseline else 0.0
    fields = " ".join(f"{key}={value}" for key, value in extra.items())
    figures = f"ours={_number(ours)} baseline={_number(baseline)} ratio={ratio:.3f}"
    return f"BENCH {name} {figures} unit={unit} {fields}".rstrip()


def _number(value: float) -> str:
    return str(value) if isinstance(value, int) else f"{value:.4g}"


async def measure(services: int, flips: int, baseline_ns: str, ours_ns: str) -> list[str]:
    lines = []

    # cold apply
    baseline_cold = in_netns(baseline_ns, "ipvsadm", "-R", stdin=ipvsadm_script(services))
    full = ncc_pb2.ApplyRequest(partitions=[vserver(i) for i in range(services)], replace_all=True)
    part = IPVSServices(netns=ours_ns)
    runner = Runner(KernelDataplane("ipvs", [part]), "bench", SystemClock(), audit_interval=0)
    await runner.start()
    start = time.perf_counter()
    outcome = await runner.apply_pb(full)
    cold = time.perf_counter() - start
    objects = services * (1 + DESTINATIONS)
    if outcome.errors or outcome.writes != objects:
        raise SystemExit(f"cold apply: {outcome.writes} writes of {objects}, errors {outcome.errors[:3]}")
    lines.append(
        bench_line(
            "ipvs_cold_apply_10k",
            cold,
            baseline_cold,
            "s",
            services=services,
            destinations=services * DESTINATIONS,
            datagrams=part.batches,
        )
    )

    # re-applying the unchanged state
    start = time.perf_counter()
    outcome = await runner.apply_pb(full)
    noop = time.perf_counter() - start
    lines.append(bench_line("ipvs_noop_writes", outcome.writes, objects, "writes", seconds=f"{noop:.4f}"))

    # one destination flipped
    samples, writes = [], []
    for n in range(flips):
        i = n * 7919 % services
        message = ncc_pb2.ApplyRequest(partitions=[vserver(i, weight=2 + n % 2)])
        start = time.perf_counter()
        outcome = await runner.apply_pb(message)
        samples.append(time.perf_counter() - start)
        writes.append(outcome.writes)
    if set(writes) != {1}:
        raise SystemExit(f"a flip cost {sorted(set(writes))} writes, not 1")
    baseline_flips = [
        in_netns(baseline_ns, "ipvsadm", "-e", "-t", f"{vip(i)}:80", "-r", f"{backend(i, 0)}:80", "-g", "-w", "2")
        for i in range(min(flips, 20))
    ]
    ordered = sorted(samples)
    lines.append(
        bench_line(
            "ipvs_one_flip_p99",
            p99(samples) * 1000,
            p99(baseline_flips) * 1000,
            "ms",
            writes_per_flip=1,
            median_ms=f"{ordered[len(ordered) // 2] * 1000:.2f}",
            max_ms=f"{ordered[-1] * 1000:.2f}",
            flips=len(samples),
        )
    )

    # a full read (an audit's cost)
    start = time.perf_counter()
    state = part.read()
    read = time.perf_counter() - start
    baseline_read = in_netns(baseline_ns, "ipvsadm", "-Ln")
    if len(state.objects) != objects:
        raise SystemExit(f"read {len(state.objects)} objects, applied {objects}")
    lines.append(bench_line("ipvs_read_10k", read, baseline_read, "s", objects=objects))
    part.close()
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1,000 services and 50 flips")
    parser.add_argument("--services", type=int, help="services (default 10,000; 1,000 with --quick)")
    parser.add_argument("--flips", type=int, help="flips for the p99 (default 300; 50 with --quick)")
    args = parser.parse_args()
    services = args.services or (1_000 if args.quick else 10_000)
    flips = args.flips or (50 if args.quick else 300)
    if not os.path.exists("/proc/net/ip_vs") and subprocess.run(["modprobe", "ip_vs"], check=False).returncode:
        sys.exit(
            "this kernel has no IPVS; run the bench in the UML guest: "
            "scripts/run-in-uml -- .venv/bin/python bench/reconcile_ipvs.py --quick"
        )
    names = (f"bench-ipvsadm-{os.getpid()}", f"bench-ncc-{os.getpid()}")
    for name in names:
        pyroute2_netns.create(name)
        with IPRoute(netns=name) as ipr:  # IPVS refuses destinations while lo is down
            ipr.link("set", index=ipr.link_lookup(ifname="lo")[0], state="up")
    try:
        lines = asyncio.run(measure(services, flips, *names))
    finally:
        for name in names:
            pyroute2_netns.remove(name)
    for line in lines:
        print(line, flush=True)


if __name__ == "__main__":
    main()
