"""The client's side of the lab: requests through a VIP, their distribution, and a load loop.

A request opens a fresh connection (a new flow, so the scheduler picks
again) from the client's namespace and returns the name of the backend that
answered; any failure raises OSError (or a dnspython timeout, wrapped as
OSError). `Load` runs requests back to back in a thread and keeps every
outcome with its time, so tests can count the failures of a window.

Source ports: `request()` takes them one after the other from one shared
counter (wrapping within 20000-59999), so a run never reuses a 4-tuple of an
earlier request: a reused one would follow whatever the dataplane remembers
about that old flow (DSR flow maps pin a flow to its backend for minutes),
and what is measured here is how new flows are served.
"""

from __future__ import annotations

import collections
import itertools
import random
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from seesaw.lab import netns

Request = Callable[[], str]


_PORTS = (20000, 60000)
_next_port = itertools.count(random.randrange(*_PORTS))
_port_lock = threading.Lock()


def source_port() -> int:
    """The next source port of the shared sequence."""
    with _port_lock:
        return _PORTS[0] + (next(_next_port) - _PORTS[0]) % (_PORTS[1] - _PORTS[0])


def http_get(address: str, port: int, timeout: float = 1.0, path: str = "/", sport: int = 0) -> str:
    """GET `path` over a new connection (from source port `sport`, 0: any); the body's first line (the backend)."""
    with socket.create_connection((address, port), timeout, ("", sport) if sport else None) as conn:
        conn.sendall(f"GET {path} HTTP/1.0\r\nHost: {address}\r\n\r\n".encode())
        data = b""
        while chunk := conn.recv(4096):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    status = head.split(b"\r\n", 1)[0].split()
    if len(status) < 2 or status[1] != b"200":
        raise OSError(f"HTTP answer {head[:60]!r}")
    return body.decode(errors="replace").strip()


def dns_txt(address: str, port: int = 53, timeout: float = 1.0, name: str = "who.lab.seesaw.", sport: int = 0) -> str:
    """A TXT query over UDP (from source port `sport`, 0: any); the text of the answer (the backend's name)."""
    import dns.exception
    import dns.message
    import dns.query
    import dns.rdatatype

    query = dns.message.make_query(name, dns.rdatatype.TXT)
    try:
        answer = dns.query.udp(query, address, timeout=timeout, port=port, source_port=sport)
    except dns.exception.Timeout as err:
        raise OSError(f"DNS query to {address}:{port} timed out") from err
    for rrset in answer.answer:
        for rdata in rrset:
            return b"".join(rdata.strings).decode()
    raise OSError(f"DNS answer from {address}:{port} without TXT")


def request(kind: str, address: str, port: int, timeout: float = 1.0) -> Request:
    """A request of `kind` (http or dns) to `address:port`, made from whatever namespace calls it."""
    if kind == "http":
        return lambda: http_get(address, port, timeout, sport=source_port())
    if kind == "dns":
        return lambda: dns_txt(address, port, timeout, sport=source_port())
    raise ValueError(f"unknown request kind {kind!r}: use http or dns")


def in_namespace(ns: str, req: Request) -> Request:
    """`req`, made from network namespace `ns`."""

    def run() -> str:
        with netns.inside(ns):
            return req()

    return run


@dataclass
class Tally:
    """Where requests went: backend name -> count, and the failures with their reasons."""

    backends: collections.Counter[str] = field(default_factory=collections.Counter)
    failures: list[str] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(self.backends.values()) + len(self.failures)

    def lines(self) -> list[str]:
        """One line per backend (count and share), then the failures."""
        out = []
        for name, count in sorted(self.backends.items()):
            out.append(f"  {name:<12} {count:>5}  {100 * count / max(self.total, 1):5.1f}%")
        if self.failures:
            reasons = collections.Counter(self.failures)
            shown = "; ".join(f"{n} x {r}" for r, n in reasons.most_common(3))
            out.append(f"  {'failed':<12} {len(self.failures):>5}  ({shown})")
        return out


def tally(req: Request, count: int) -> Tally:
    """`count` requests one after the other."""
    result = Tally()
    for _ in range(count):
        try:
            result.backends[req()] += 1
        except OSError as err:
            result.failures.append(str(err) or type(err).__name__)
    return result


@dataclass(frozen=True)
class Outcome:
    start: float  # time.monotonic() when the request was sent
    end: float
    backend: str | None  # None: it failed
    error: str = ""


class Load:
    """Requests back to back (one every `pace` seconds at most) in a thread, until stopped."""

    def __init__(self, req: Request, pace: float = 0.02) -> None:
        self._req = req
        self._pace = pace
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._outcomes: list[Outcome] = []
        self._thread = threading.Thread(target=self._loop, name="lab-load", daemon=True)

    def __enter__(self) -> Load:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()

    def _loop(self) -> None:
        while not self._stop.is_set():
            start = time.monotonic()
            try:
                backend = self._req()
                outcome = Outcome(start, time.monotonic(), backend)
            except OSError as err:
                outcome = Outcome(start, time.monotonic(), None, str(err) or type(err).__name__)
            with self._lock:
                self._outcomes.append(outcome)
            self._stop.wait(max(0.0, self._pace - (time.monotonic() - start)))

    def outcomes(self, since: float = 0.0, until: float = float("inf")) -> list[Outcome]:
        """The requests sent in [since, until)."""
        with self._lock:
            return [o for o in self._outcomes if since <= o.start < until]

    def failures(self, since: float = 0.0, until: float = float("inf")) -> list[Outcome]:
        return [o for o in self.outcomes(since, until) if o.backend is None]

    def wait_requests(self, count: int, timeout: float = 30.0) -> None:
        """Block until `count` more requests have completed (the loop is really running)."""
        with self._lock:
            target = len(self._outcomes) + count
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if len(self._outcomes) >= target:
                    return
            time.sleep(0.01)
        raise TimeoutError(f"the load loop did not complete {count} requests in {timeout:.0f} s")
