"""libnftables is never entered by two threads at once, whatever NCC's parts and threads do.

Two parts with contexts of their own (the services part, the filters part) are hammered from two threads
in a namespace of their own, each applying, changing and reading back its objects, while every entry into
the library (commands and option switches) is counted on the way in and out: at most one at a time, and
every apply and read-back right. Without nft_exec's lock the two threads overlap in the library at once
(the binding lets go of the GIL while libnftables runs).
"""

from __future__ import annotations

import ipaddress
import os
import threading
from collections.abc import Callable, Iterator
from typing import Any

import nftables  # type: ignore[import-untyped]
import pytest
from ncc_nft_lab import netns, own_namespace

from seesaw.ncc.kernel.nft_filters import NftFilters
from seesaw.ncc.kernel.nft_services import NftServices
from seesaw.ncc.model import Destination, DestinationKey, Forwarding, Protocol, Service, ServiceKey, VIPFilter, ref
from seesaw.ncc.steps import Step

pytestmark = pytest.mark.netns

NS = f"ncc-lock-{os.getpid()}"
ROUNDS = 40


class Overlap:
    """Counts the threads inside libnftables; `most` is the largest number seen at once."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.inside = 0
        self.most = 0
        self.calls = 0

    def wrap(self, method: Callable[..., Any]) -> Callable[..., Any]:
        def counted(*args: Any, **kwargs: Any) -> Any:
            with self._lock:
                self.inside += 1
                self.calls += 1
                self.most = max(self.most, self.inside)
            try:
                return method(*args, **kwargs)
            finally:
                with self._lock:
                    self.inside -= 1

        return counted


@pytest.fixture
def overlap(monkeypatch: pytest.MonkeyPatch) -> Iterator[Overlap]:
    seen = Overlap()
    for name in ("cmd", "set_json_output", "set_terse_output"):
        monkeypatch.setattr(nftables.Nftables, name, seen.wrap(getattr(nftables.Nftables, name)))
    with own_namespace(NS):
        yield seen


def services(i: int) -> list[Service | Destination]:
    svc = Service(ServiceKey.ip(Protocol.TCP, ipaddress.ip_address(f"192.0.2.{i}"), 80), "wrr")
    backends = [ipaddress.ip_address(f"10.0.{b}.{i}") for b in range(2)]
    return [svc, *(Destination(DestinationKey(svc.key, a, 80), Forwarding.MASQ, b + 1) for b, a in enumerate(backends))]


def test_two_parts_from_two_threads_never_overlap_in_libnftables(overlap: Overlap) -> None:
    service_part = NftServices(route=lambda address: None)
    filter_part = NftFilters()
    errors: list[str] = []
    start = threading.Barrier(2)

    def hammer_services() -> None:
        start.wait()
        for round_ in range(ROUNDS):
            specs = services(1 + round_ % 5)
            results = service_part.apply([Step.add("p", spec) for spec in specs])
            errors.extend(r.error for r in results if not r.ok)
            found = service_part.read().objects
            if ref(specs[0]) not in found:
                errors.append(f"round {round_}: service {specs[0].key} not read back")

    def hammer_filters() -> None:
        previous: VIPFilter | None = None
        start.wait()
        for round_ in range(ROUNDS):
            port = 1000 + round_
            wanted = VIPFilter(ipaddress.ip_address("192.0.2.200"), frozenset({(Protocol.TCP, port)}))
            step = Step.add("f", wanted) if previous is None else Step.update("f", previous, wanted)
            results = filter_part.apply([step])
            errors.extend(r.error for r in results if not r.ok)
            if filter_part.read().objects.get(ref(wanted)) != wanted:
                errors.append(f"round {round_}: filter for port {port} not read back")
            previous = wanted

    def guarded(body: Callable[[], None]) -> Callable[[], None]:
        def run_body() -> None:
            with netns(NS):  # a thread starts in the process's namespace: enter the test's
                try:
                    body()
                except Exception as err:  # reported by the test
                    errors.append(f"{body.__name__}: {err!r}")

        return run_body

    threads = [threading.Thread(target=guarded(f)) for f in (hammer_services, hammer_filters)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert errors == []
    assert overlap.calls > 4 * ROUNDS and overlap.most == 1
