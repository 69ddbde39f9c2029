"""Reading our nftables tables back: nft's text listing, parsed, says exactly what its JSON listing says.

The services part reads its tables as text (nft prints and NCC parses a large table faster
that way); the JSON parser is the reference. Both listings come from the same real tables,
programmed by NftServices in a namespace of their own.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Iterator

import pytest
from ncc_nft_lab import own_namespace

from seesaw.ncc.kernel.nft_exec import Nft
from seesaw.ncc.kernel.nft_parse import parse, parse_text
from seesaw.ncc.kernel.nft_services import NftServices
from seesaw.ncc.model import (
    FLAG_SCHED2,
    Destination,
    DestinationKey,
    Family,
    Forwarding,
    Kind,
    Protocol,
    Service,
    ServiceKey,
    ref,
)
from seesaw.ncc.steps import Step

pytestmark = pytest.mark.netns

NS = f"ncc-listing-{os.getpid()}"


def ip(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    return ipaddress.ip_address(text)


def dest(svc: Service, address: str, port: int, forwarding: Forwarding = Forwarding.MASQ, weight: int = 1):
    return Destination(DestinationKey(svc.key, ip(address), port), forwarding, weight)


WEB = Service(ServiceKey.ip(Protocol.TCP, ip("192.0.2.1"), 80), "wrr")
DNS6 = Service(ServiceKey.ip(Protocol.UDP, ip("2001:db8::1"), 53), "sh", FLAG_SCHED2)
MAGLEV = Service(ServiceKey.ip(Protocol.TCP, ip("192.0.2.3"), 443), "mh")
MARK = Service(ServiceKey.mark(Family.INET, 300), "wlc")
MARK6 = Service(ServiceKey.mark(Family.INET6, 301), "rr")
DSR = Service(ServiceKey.ip(Protocol.TCP, ip("192.0.2.2"), 443), "rr")
SPECS = [
    WEB,
    dest(WEB, "10.0.0.1", 8080, weight=3),
    dest(WEB, "10.0.0.2", 8080, weight=0),
    DNS6,
    dest(DNS6, "2001:db8:1::1", 53),
    MAGLEV,
    dest(MAGLEV, "10.0.0.1", 443),
    dest(MAGLEV, "10.0.0.2", 443, weight=2),
    MARK,
    dest(MARK, "10.0.0.3", 0),
    MARK6,
    dest(MARK6, "2001:db8:1::3", 0),
    DSR,
    dest(DSR, "10.0.0.4", 443, Forwarding.ROUTE),
    dest(DSR, "10.0.0.5", 443, Forwarding.ROUTE, weight=2),
]
DSR_TABLE = "netdev seesaw_dsr_lo"


@pytest.fixture
def programmed() -> Iterator[None]:
    """SPECS in our tables, in a namespace of their own (DSR on its `lo`)."""
    with own_namespace(NS):
        part = NftServices(route=lambda address: "lo")
        results = part.apply([Step.add("p", spec) for spec in SPECS])
        part.close()
        assert [r.error for r in results if not r.ok] == []
        yield


def test_text_and_json_listings_of_the_nat_tables_say_the_same(programmed: None) -> None:
    nft = Nft()
    for table in ("ip seesaw", "ip6 seesaw"):
        text = parse_text(table, nft.text(f"table {table}"))
        json = parse(nft.list(f"table {table}"))
        assert text.elements == json.elements and text.elements
        assert text.sets == json.sets
        assert text.chains == json.chains


def test_text_and_json_listings_of_the_dsr_maps_say_the_same(programmed: None) -> None:
    nft = Nft()
    for name in ("svc4", "slots4", "ids4"):
        text = parse_text(DSR_TABLE, nft.text(f"map {DSR_TABLE} {name}"))
        json = parse(nft.list(f"map {DSR_TABLE} {name}"))
        assert text.elements == json.elements and text.elements


def test_a_foreign_comment_with_commas_and_colons_does_not_confuse_the_reader(programmed: None) -> None:
    nft = Nft()
    nft.run('add element ip seesaw svc { 198.51.100.1 . 6 . 80 comment "a, b : c" : accept }')
    text = parse_text("ip seesaw", nft.text("table ip seesaw"))
    assert text.elements == parse(nft.list("table ip seesaw")).elements
    assert text.elements[("ip seesaw", "svc", "198.51.100.1 . 6 . 80")] == ("accept", "a, b : c")


def test_a_fresh_part_reads_back_exactly_what_was_programmed(programmed: None) -> None:
    part = NftServices(route=lambda address: "lo")
    state = part.read()
    part.close()
    assert state.objects == {ref(spec): spec for spec in SPECS}
    assert {item[0] for item in state.objects} == {Kind.SERVICE, Kind.DESTINATION}
