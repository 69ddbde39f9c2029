"""One flipped destination through NCC's runtime on the real `ip_vs` module (UML guest): issue 3's flip path.

A weight change in a state of many services costs exactly one write in one datagram, never reads the kernel back,
and is applied on the event loop's own thread (a worker-thread hop costs milliseconds on a busy single CPU); a
large plan still goes to a worker thread, so the loop keeps answering while it runs.
"""

from __future__ import annotations

import asyncio
import subprocess
import threading
from collections.abc import Sequence

from seesaw.common.clock import FakeClock
from seesaw.ncc.dataplane import KernelState
from seesaw.ncc.kernel.composite import KernelDataplane
from seesaw.ncc.kernel.ipvs import IPVSServices
from seesaw.ncc.runner import Runner
from seesaw.ncc.steps import Step, StepResult
from seesaw.pb import common_pb2, ncc_pb2

SERVICES = 300


class Watched(IPVSServices):
    """The real IPVS part, noting which thread each apply ran on and how often the kernel was read."""

    def __init__(self, netns: str) -> None:
        super().__init__(netns=netns)
        self.reads = 0
        self.apply_threads: list[int] = []

    def read(self) -> KernelState:
        self.reads += 1
        return super().read()

    def apply(self, steps: Sequence[Step]) -> list[StepResult]:
        self.apply_threads.append(threading.get_ident())
        return super().apply(steps)


def vserver(i: int, weight: int = 1) -> ncc_pb2.Partition:
    destinations = [
        ncc_pb2.Destination(address=f"10.1.{b}.{i % 250 + 1}", port=80, weight=weight if b == 0 else 1)
        for b in range(4)
    ]
    service = ncc_pb2.Service(
        family=common_pb2.AF_INET,
        protocol=common_pb2.IPPROTO_TCP,
        address=f"192.0.{2 + i // 250}.{i % 250 + 1}",
        port=80,
        scheduler="wrr",
        destinations=destinations,
    )
    return ncc_pb2.Partition(name=f"vs{i}", services=[service])


def weight_in_kernel(netns: str, i: int) -> str:
    done = subprocess.run(
        ["ip", "netns", "exec", netns, "ipvsadm", "-Ln", "-t", f"192.0.{2 + i // 250}.{i % 250 + 1}:80"],
        capture_output=True,
        text=True,
        check=True,
    )
    line = next(line for line in done.stdout.splitlines() if f"10.1.0.{i % 250 + 1}:80" in line)
    return line.split()[3]


def test_a_flip_is_one_write_in_one_datagram_on_the_loop_thread_with_no_read_back(netns):
    async def main() -> None:
        part = Watched(netns)
        runner = Runner(KernelDataplane("ipvs", [part]), "test", FakeClock(), audit_interval=0)
        await runner.start()
        loop_thread = threading.get_ident()
        full = ncc_pb2.ApplyRequest(partitions=[vserver(i) for i in range(SERVICES)], replace_all=True)
        outcome = await runner.apply_pb(full)
        assert outcome.errors == () and outcome.writes == SERVICES * 5
        assert part.apply_threads[-1] != loop_thread  # a large plan leaves the loop free

        reads, batches, writes = part.reads, part.batches, part.writes
        for n, i in enumerate((7, 123, 299, 7)):
            outcome = await runner.apply_pb(ncc_pb2.ApplyRequest(partitions=[vserver(i, weight=2 + n % 2)]))
            assert outcome.errors == () and outcome.writes == 1
            assert part.apply_threads[-1] == loop_thread
            assert weight_in_kernel(netns, i) == str(2 + n % 2)
        assert (part.reads, part.batches - batches, part.writes - writes) == (reads, 4, 4)

        # the same flip again is settled: no write, no datagram
        outcome = await runner.apply_pb(ncc_pb2.ApplyRequest(partitions=[vserver(7, weight=3)]))
        assert outcome.writes == 0 and part.batches - batches == 4
        part.close()

    asyncio.run(main())
