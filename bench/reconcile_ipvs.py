"""IPVS half of the reconcile bench: NCC's ipvs dataplane against ipvsadm, on the real `ip_vs` module.

    scripts/run-in-uml -- .venv/bin/python bench/reconcile_ipvs.py [--quick] [--services N] [--flips N]

Needs a kernel with IPVS (the UML guest has it). Everything happens in two
network namespaces the bench makes and removes: the baseline's and NCC's, so
both start from an empty IPVS table and nothing outside them is touched.

Figures, each end to end inside NCC (protobuf -> model -> plan -> kernel
dataplane of the IPVS part -> kernel acknowledgement -> commit, no gRPC) beside a baseline measured in the
same run:

    ipvs_cold_apply_10k  N services x 4 destinations into an empty kernel;   baseline: `ipvsadm -R` of the same set
    ipvs_one_flip_p99    one destination's weight changed, p99;             baseline: the floor, the flip's SET_DEST
                         pre-encoded, sent again on a bare netlink socket in NCC's namespace and its ack read
                         (p99, each right after ours, so both see the same host noise); fields: `ipvsadm -e`
                         of the same change (ipvsadm_p99_ms), one no-op syscall (syscall_p99_ms), the host's
                         load average (load)
    ipvs_noop_writes     the unchanged state applied again (writes, time);  baseline: the writes of a replay (flush and
                         re-add everything, what Seesaw's Go NCC does after an engine restart)
    ipvs_read_10k        a full read of the kernel (what an audit costs);   baseline: `ipvsadm -Ln`

Each figure is one line: `BENCH <name> ours=<v> baseline=<v> ratio=<ours/baseline> unit=<u> [key=value...]`.
--quick uses 1,000 services and fewer flips (well under a minute in the guest).
--only-flips --tag qemu measures the flip and its floor alone (no ipvsadm), named ipvs_one_flip_p99_qemu: the
same figure in the qemu guest (scripts/run-in-vm), on a stock kernel's scheduler but a software CPU.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import socket
import subprocess
import sys
import time

from pyroute2 import IPRoute
from pyroute2 import netns as pyroute2_netns

from seesaw.common.clock import SystemClock
from seesaw.ncc.kernel import ipvs_codec as codec
from seesaw.ncc.kernel.composite import KernelDataplane
from seesaw.ncc.kernel.ipvs import IPVSServices
from seesaw.ncc.kernel.ipvs_netlink import NETLINK_GENERIC
from seesaw.ncc.kernel.ipvs_netlink import in_netns as netlink_in_netns
from seesaw.ncc.model import Destination
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


class Floor:
    """The floor under a flip in this kernel: one pre-encoded IPVS request and its ack on a bare netlink socket.

    `round_trip` sends the same SET_DEST a flip just made (the kernel does the whole update again, and
    NCC's view of the kernel stays true) and reads the ack; `syscall` times one no-op system call.
    """

    def __init__(self, netns: str) -> None:
        with netlink_in_netns(netns):
            self._sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_GENERIC)
        self._sock.bind((0, 0))
        self._buffer = bytearray(1 << 16)
        self._seq = 0
        self.family = codec.decode_family_id(self._answer(bytearray(codec.family_request(codec.IPVS_GENL_NAME))))

    def encode(self, destination: Destination) -> bytearray:
        """SET_DEST of `destination`, stamped to ask for an ack (done before the clock starts)."""
        request = bytearray(codec.destination_request(self.family, codec.Command.SET_DEST, destination))
        self._seq += 1
        codec.stamp(request, 0, codec.NLM_F_REQUEST | codec.NLM_F_ACK, self._seq)
        return request

    def round_trip(self, request: bytearray) -> float:
        start = time.perf_counter()
        self._sock.send(request)
        count = self._sock.recv_into(self._buffer)
        elapsed = time.perf_counter() - start
        answer = next(codec.messages(memoryview(self._buffer)[:count]))
        error = codec.decode_error(answer)
        if answer.type != codec.NLMSG_ERROR or error.code:
            raise SystemExit(f"the floor's SET_DEST was refused: {error}")
        return elapsed

    @staticmethod
    def syscall() -> float:
        start = time.perf_counter()
        os.getppid()
        return time.perf_counter() - start

    def close(self) -> None:
        self._sock.close()

    def _answer(self, request: bytearray) -> codec.Message:
        codec.stamp(request, 0, codec.NLM_F_REQUEST, 0)
        self._sock.send(request)
        return next(codec.messages(self._buffer[: self._sock.recv_into(self._buffer)]))


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


async def measure(services: int, flips: int, baseline_ns: str, ours_ns: str, only_flips: bool, tag: str) -> list[str]:
    lines = []

    # cold apply
    baseline_cold = 0.0 if only_flips else in_netns(baseline_ns, "ipvsadm", "-R", stdin=ipvsadm_script(services))
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
    if not only_flips:
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

    # one destination flipped; after each, the floor: the same request on a bare socket, and a no-op syscall
    floor = Floor(ours_ns)
    samples, floors, syscalls = [], [], []
    batches = part.batches
    for n in range(flips):
        i = n * 7919 % services
        message = ncc_pb2.ApplyRequest(partitions=[vserver(i, weight=2 + n % 2)])
        start = time.perf_counter()
        outcome = await runner.apply_pb(message)
        samples.append(time.perf_counter() - start)
        if outcome.errors or outcome.writes != 1 or not isinstance(outcome.steps[0].new, Destination):
            raise SystemExit(f"flip {n}: {outcome.writes} writes, errors {outcome.errors[:3]}, not 1 destination")
        floors.append(floor.round_trip(floor.encode(outcome.steps[0].new)))
        syscalls.append(floor.syscall())
    floor.close()
    datagrams = part.batches - batches
    if datagrams != flips:
        raise SystemExit(f"{flips} flips took {datagrams} datagrams, not one each")
    extra: dict[str, object] = {}
    if not only_flips:
        baseline_flips = [
            in_netns(baseline_ns, "ipvsadm", "-e", "-t", f"{vip(i)}:80", "-r", f"{backend(i, 0)}:80", "-g", "-w", "2")
            for i in range(min(flips, 20))
        ]
        extra["ipvsadm_p99_ms"] = f"{p99(baseline_flips) * 1000:.2f}"
    ordered = sorted(samples)
    lines.append(
        bench_line(
            "ipvs_one_flip_p99" + (f"_{tag}" if tag else ""),
            p99(samples) * 1000,
            p99(floors) * 1000,
            "ms",
            writes_per_flip=1,
            datagrams_per_flip=1,
            median_ms=f"{ordered[len(ordered) // 2] * 1000:.2f}",
            max_ms=f"{ordered[-1] * 1000:.2f}",
            floor_median_ms=f"{sorted(floors)[len(floors) // 2] * 1000:.3f}",
            syscall_p99_ms=f"{p99(syscalls) * 1000:.3f}",
            **extra,
            flips=len(samples),
            services=services,
            kernel=platform.release(),
            load=os.environ.get("BENCH_HOST_LOAD", "?"),  # the host's: the guest sees only its own
        )
    )
    if only_flips:
        part.close()
        return lines

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
    parser.add_argument("--only-flips", action="store_true", help="only the one-flip figure and its floor")
    parser.add_argument("--tag", default="", help="appended to the flip figure's name (the guest: qemu)")
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
        lines = asyncio.run(measure(services, flips, *names, args.only_flips, args.tag))
    finally:
        for name in names:
            pyroute2_netns.remove(name)
    for line in lines:
        print(line, flush=True)


if __name__ == "__main__":
    main()
