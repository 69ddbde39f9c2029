"""NCC figures on the sim dataplane: cold apply of N services x 4 destinations, a no-op, one flip.

    python bench/bench_ncc.py [--services 10000]

Each figure is end to end inside NCC (protobuf -> model -> plan -> dataplane ->
commit), without gRPC. The baseline, measured in the same run, is the cost of
just building the protobuf request: what any NCC must pay to receive it.
"""

from __future__ import annotations

import argparse
import asyncio
import time

from seesaw.common.clock import SystemClock
from seesaw.ncc.runner import Runner
from seesaw.ncc.sim import SimDataplane
from seesaw.pb import common_pb2, ncc_pb2


def vserver(i: int, weight: int = 1) -> ncc_pb2.Partition:
    address = f"10.{100 + i // 65536}.{i // 256 % 256}.{i % 256}"
    return ncc_pb2.Partition(
        name=f"vs{i}",
        services=[
            ncc_pb2.Service(
                family=common_pb2.AF_INET,
                protocol=common_pb2.IPPROTO_TCP,
                address=address,
                port=80,
                scheduler="wrr",
                destinations=[
                    ncc_pb2.Destination(address=f"192.168.{b}.{i % 250 + 1}", port=80, weight=weight) for b in range(4)
                ],
            )
        ],
        vips=[ncc_pb2.VIP(address=address, type=common_pb2.VIP_ANYCAST)],
    )


async def run(services: int) -> None:
    runner = Runner(SimDataplane(), "bench", SystemClock(), audit_interval=0)
    await runner.start()

    t0 = time.perf_counter()
    full = ncc_pb2.ApplyRequest(partitions=[vserver(i) for i in range(services)], replace_all=True)
    baseline = time.perf_counter() - t0

    async def apply(message: ncc_pb2.ApplyRequest) -> tuple[float, int]:
        start = time.perf_counter()
        outcome = await runner.apply_pb(message)
        assert not outcome.errors, outcome.errors[:3]
        return time.perf_counter() - start, outcome.writes

    cold, cold_writes = await apply(full)
    noop, noop_writes = await apply(full)
    flips = []
    for n in range(50):
        elapsed, writes = await apply(ncc_pb2.ApplyRequest(partitions=[vserver(n, weight=2 + n % 2)]))
        assert writes == 4
        flips.append(elapsed)
    flips.sort()
    start = time.perf_counter()
    repairs = await runner.audit()
    audit = time.perf_counter() - start

    print(f"services={services} destinations={services * 4}")
    print(f"build request (baseline)   {baseline * 1000:9.1f} ms")
    print(f"cold apply                 {cold * 1000:9.1f} ms  writes={cold_writes}  ({cold / baseline:.1f}x baseline)")
    print(f"no-op full resync          {noop * 1000:9.1f} ms  writes={noop_writes}  ({noop / baseline:.1f}x baseline)")
    print(f"one-vserver flip (median)  {flips[len(flips) // 2] * 1000:9.2f} ms  p90 {flips[44] * 1000:.2f} ms")
    print(f"audit (read + plan)        {audit * 1000:9.1f} ms  repairs={repairs}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--services", type=int, default=10_000)
    asyncio.run(run(parser.parse_args().services))


if __name__ == "__main__":
    main()
