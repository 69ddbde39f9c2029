"""The client's probe loop: a fresh TCP connection and HTTP request every ~10 ms, each stamped with its times and
the MAC the client was sending to.

`Probe(ns, address, port)` runs in a thread of its own that stays in network
namespace `ns` for its whole life, with an asyncio loop that starts one
request every `every` seconds whether or not the previous ones have ended
(so a dead path shows as consecutive failures at the full rate, not as one
long timeout), each bounded by `timeout`. Before sending, a sample reads the
client's neighbour entry for the address (/proc/thread-self/net/arp, so the
namespace of this thread): which node the request went to. Every request
takes the next source port of `traffic.source_port()`, so each is a new flow.

What the samples mean around a fault is computed by `outage.py` (pure).
"""

from __future__ import annotations

import asyncio
import bisect
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from seesaw.lab import netns, traffic

EVERY = 0.01  # seconds between request starts
TIMEOUT = 0.2  # seconds a request may take
_ATF_COM = 0x2  # /proc/net/arp flag: the entry is complete


@dataclass(frozen=True)
class Sample:
    """One request of the loop."""

    start: float  # time.monotonic() when it was sent
    end: float  # when it was answered, failed or timed out
    mac: str | None  # the client's neighbour entry for the address when it was sent (None: none complete)
    backend: str | None  # the first line of the answer (which backend or node answered); None: it failed
    error: str = ""

    @property
    def ok(self) -> bool:
        return self.backend is not None


def neighbour(address: str, arp_table: Path = Path("/proc/thread-self/net/arp")) -> str | None:
    """The MAC of this thread's namespace's complete neighbour entry for IPv4 `address`, if there is one."""
    with arp_table.open() as table:
        next(table, None)  # header
        for line in table:
            fields = line.split()
            if len(fields) >= 4 and fields[0] == address and int(fields[2], 16) & _ATF_COM:
                return fields[3]
    return None


async def http_get(address: str, port: int, sport: int) -> str:
    """GET / over a new connection from source port `sport`; the first line of the body. OSError on any failure."""
    reader, writer = await asyncio.open_connection(address, port, local_addr=("0.0.0.0", sport))
    try:
        writer.write(f"GET / HTTP/1.0\r\nHost: {address}\r\n\r\n".encode())
        data = await reader.read()
    finally:
        writer.close()
    head, _, body = data.partition(b"\r\n\r\n")
    status = head.split(b"\r\n", 1)[0].split()
    if len(status) < 2 or status[1] != b"200":
        raise OSError(f"HTTP answer {head[:60]!r}")
    return body.decode(errors="replace").split("\n", 1)[0].strip()


class Probe:
    """Requests to `address:port` from namespace `ns`, one every `every` s, until stopped. Use as a context."""

    def __init__(self, ns: str, address: str, port: int, every: float = EVERY, timeout: float = TIMEOUT) -> None:
        self.ns = ns
        self.address = address
        self.port = port
        self.every = every
        self.timeout = timeout
        self._lock = threading.Lock()
        self._samples: list[Sample] = []
        self._ends: list[float] = []  # each sample's end, in step with _samples: sorted (one thread appends)
        self._stop = threading.Event()
        self._started = threading.Event()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._main, name=f"probe-{ns}", daemon=True)

    def __enter__(self) -> Probe:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> None:
        self._thread.start()
        self._started.wait(10.0)
        if self._error is not None:
            raise self._error

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(10.0)

    # ---------------------------------------------------------------- reading

    def samples(self, since: float = 0.0, until: float = float("inf")) -> list[Sample]:
        """The requests sent in [since, until), in the order they were sent.

        Only the samples that ended at `since` or later are looked at (one sent then ended after it): a bench
        polls this every few ms over a list of 100,000s, and its thread shares the GIL with the probe's.
        """
        with self._lock:
            first = bisect.bisect_left(self._ends, since)
            found = [s for s in self._samples[first:] if since <= s.start < until]
        return sorted(found, key=lambda s: s.start)

    def wait(self, predicate: Callable[[Sample], bool], timeout: float, what: str) -> Sample:
        """Block until a sample (sent from now on) satisfies `predicate(sample)`; it. TimeoutError names `what`."""
        since = time.monotonic()
        deadline = since + timeout
        while time.monotonic() < deadline:
            for sample in self.samples(since):
                if predicate(sample):
                    return sample
            time.sleep(self.every)
        recent = self.samples(since)[-5:]
        raise TimeoutError(f"the client's probe loop saw no {what} in {timeout:.1f} s (last samples: {recent})")

    def wait_count(self, count: int, timeout: float = 10.0) -> None:
        """Block until `count` requests sent from now on have ended (the loop really runs)."""
        since = time.monotonic()
        deadline = since + timeout
        while len(self.samples(since)) < count:
            if time.monotonic() > deadline:
                raise TimeoutError(f"the probe loop finished fewer than {count} requests in {timeout:.0f} s")
            time.sleep(self.every)

    # ------------------------------------------------------------- the thread

    def _main(self) -> None:
        try:
            with netns.inside(self.ns):
                asyncio.run(self._loop())
        except BaseException as err:  # reported to start(), or seen as a loop that stopped
            self._error = err
            self._started.set()

    async def _loop(self) -> None:
        loop = asyncio.get_running_loop()
        pending: set[asyncio.Task[None]] = set()
        self._started.set()
        next_at = loop.time()
        while not self._stop.is_set():
            task = loop.create_task(self._one())
            pending.add(task)
            task.add_done_callback(pending.discard)
            next_at += self.every
            await asyncio.sleep(max(0.0, next_at - loop.time()))
            next_at = max(next_at, loop.time() - self.every)  # after a stall, no burst of catch-up requests
        if pending:
            await asyncio.wait(pending)

    async def _one(self) -> None:
        mac = neighbour(self.address)
        start = time.monotonic()
        try:
            backend: str | None = await asyncio.wait_for(
                http_get(self.address, self.port, traffic.source_port()), self.timeout
            )
            error = ""
        except OSError as err:  # TimeoutError included
            backend, error = None, str(err) or type(err).__name__
        sample = Sample(start, time.monotonic(), mac, backend, error)
        with self._lock:
            self._samples.append(sample)
            self._ends.append(sample.end)
