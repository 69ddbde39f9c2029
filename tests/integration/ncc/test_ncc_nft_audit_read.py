"""The audit's and the views' reads of the nftables services part, made off NCC's dataplane lock
(NftServices.prepare_read, peek).

Real tables in a namespace of their own: the read lists them through the `nft` program (a process of its
own, so libnftables' one lock in NCC's process is not held for the seconds a large listing takes), reads back
what the library read does, and is not taken in when an apply changed the tables meanwhile.
"""

from __future__ import annotations

import ipaddress
import logging
import os
import threading
import time
from collections.abc import Iterator

import pytest
from ncc_nft_lab import netns, own_namespace

from seesaw.ncc.dataplane import StaleRead
from seesaw.ncc.kernel import nft_command, nft_services
from seesaw.ncc.kernel.nft_exec import NftError
from seesaw.ncc.kernel.nft_services import NftServices
from seesaw.ncc.model import Destination, DestinationKey, Forwarding, Protocol, Service, ServiceKey, Spec
from seesaw.ncc.steps import Step

pytestmark = pytest.mark.netns

NS = f"ncc-audit-read-{os.getpid()}"
SLOW_LISTING = 1.0  # seconds each `nft list` is made to take in the test of an apply beside it


def vserver(i: int, weight: int = 1) -> list[Spec]:
    svc = Service(ServiceKey.ip(Protocol.TCP, ipaddress.ip_address(f"192.0.2.{i}"), 80), "wrr")
    backends = [ipaddress.ip_address(f"10.0.{b}.{i}") for b in range(2)]
    return [svc, *(Destination(DestinationKey(svc.key, a, 80), Forwarding.MASQ, weight) for a in backends)]


@pytest.fixture
def part() -> Iterator[NftServices]:
    with own_namespace(NS):
        made = NftServices(route=lambda address: None)
        made.apply([Step.add("p", spec) for i in range(1, 9) for spec in vserver(i)])
        try:
            yield made
        finally:
            made.close()


def flip(part: NftServices, i: int) -> None:
    old, new = vserver(i)[1], vserver(i, weight=5)[1]
    assert [r.error for r in part.apply([Step.update("p", old, new)])] == [None]


def test_the_read_off_the_lock_says_what_the_librarys_read_says(part: NftServices) -> None:
    take_in = part.prepare_read()
    assert take_in is not None
    off_lock = take_in()
    under_lock = part.read()
    assert off_lock.objects == under_lock.objects and len(off_lock.objects) == 8 * 3
    assert off_lock.stats.keys() == under_lock.stats.keys()


def test_a_read_an_apply_overtook_is_not_taken_in(part: NftServices) -> None:
    take_in = part.prepare_read()
    assert take_in is not None
    flip(part, 3)
    with pytest.raises(StaleRead):
        take_in()
    fresh = part.prepare_read()
    assert fresh is not None
    (dest,) = [s for s in fresh().objects.values() if isinstance(s, Destination) and s.weight == 5]
    assert dest.key.service.address == ipaddress.ip_address("192.0.2.3")


def test_an_apply_goes_on_beside_a_slow_listing(part: NftServices, monkeypatch: pytest.MonkeyPatch) -> None:
    real = nft_command.NftCommand._list
    listed: list[str] = []

    def slow(self: nft_command.NftCommand, what: str, terse: bool, json_output: bool) -> str | None:
        listed.append(what)
        time.sleep(SLOW_LISTING)
        return real(self, what, terse, json_output)

    monkeypatch.setattr(nft_command.NftCommand, "_list", slow)
    prepared: list[object] = []

    def audit() -> None:
        with netns(NS):
            prepared.append(part.prepare_read())

    reading = threading.Thread(target=audit)
    reading.start()
    time.sleep(0.2)  # the listing is under way
    started = time.monotonic()
    flip(part, 5)  # through libnftables in this process: not held up by the listing's process
    took = time.monotonic() - started
    reading.join()
    assert listed == ["tables", "table ip seesaw"]  # the read went through the program
    assert took < SLOW_LISTING / 2, f"the apply waited {took:.2f} s"
    (take_in,) = prepared
    with pytest.raises(StaleRead):
        take_in()  # type: ignore[operator]


def test_without_the_nft_program_the_audit_reads_under_the_lock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(nft_services, "nft_program", lambda: None)
    with own_namespace(NS):
        made = NftServices(route=lambda address: None)
        assert made.prepare_read() is None and made.peek() is None
        made.close()


def test_a_views_read_off_the_lock_says_what_the_librarys_read_says_and_takes_nothing_in(
    part: NftServices,
) -> None:
    viewed = part.peek()
    assert viewed is not None
    assert viewed.objects == part.read().objects
    before = part._ledger
    flip(part, 2)  # the part's ledger is its own: a view's read leaves it alone
    assert part.peek() is not None and part._ledger is before


def test_a_failing_nft_program_sends_the_reads_back_under_the_lock_and_says_what_to_check(
    part: NftServices, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(self: nft_command.NftCommand, what: str, terse: bool, json_output: bool) -> str | None:
        raise NftError(f"nft list {what}: Error: Could not process rule: Operation not supported")

    monkeypatch.setattr(nft_command.NftCommand, "_list", broken)
    with caplog.at_level(logging.WARNING, logger="seesaw.ncc"):
        assert part.prepare_read() is None and part.peek() is None  # the runner reads under the lock
    (said,) = [r.getMessage() for r in caplog.records]
    assert "`nft list tables`" in said and "apt-get install nftables" in said
    assert len(part.read().objects) == 8 * 3  # the library's read still works
