"""A takeover as the client's link shows it (seesaw.lab.adverts): gratuitous ARPs parsed, the path's parts."""

from __future__ import annotations

import ipaddress
import struct

import pytest

from seesaw.lab.adverts import Advert, Garp, parse_garp, takeover_path

NEW_MAC = "02:00:00:00:00:22"


def arp(sender: str, target: str, mac: str = NEW_MAC, op: int = 1) -> bytes:
    sha = bytes.fromhex(mac.replace(":", ""))
    spa, tpa = ipaddress.IPv4Address(sender).packed, ipaddress.IPv4Address(target).packed
    return struct.pack("!HHBBH", 1, 0x0800, 6, 4, op) + sha + spa + b"\0" * 6 + tpa


def test_only_gratuitous_arps_are_taken():
    assert parse_garp(arp("10.99.0.1", "10.99.0.1"), 5.0) == Garp(5.0, NEW_MAC, "10.99.0.1")
    assert parse_garp(arp("10.99.0.1", "10.99.0.1", op=2), 5.0) == Garp(5.0, NEW_MAC, "10.99.0.1")  # a reply form
    assert parse_garp(arp("10.99.0.10", "10.99.0.1"), 5.0) is None  # a client asking for the VIP
    assert parse_garp(arp("10.99.0.1", "10.99.0.1")[:20], 5.0) is None
    ipv6_ptype = bytearray(arp("10.99.0.1", "10.99.0.1"))
    ipv6_ptype[2:4] = b"\x86\xdd"
    assert parse_garp(bytes(ipv6_ptype), 5.0) is None


def test_the_path_is_the_old_masters_last_advert_the_new_ones_first_and_its_first_garp():
    old, new = "10.99.1.2", "10.99.1.3"
    adverts = [
        Advert(9.80, old, 60, 255, 10),
        Advert(9.90, old, 60, 255, 10),
        Advert(10.05, old, 60, 0, 10),  # a goodbye after the fault does not count as the old master's word
        Advert(10.30, new, 60, 1, 10),
        Advert(10.40, new, 60, 1, 10),
    ]
    garps = [
        Garp(9.0, NEW_MAC, "10.99.0.1"),  # an earlier takeover's
        Garp(10.29, "02:00:00:00:00:11", "10.99.0.1"),  # the old master's
        Garp(10.304, NEW_MAC, "10.99.0.1"),
        Garp(10.32, NEW_MAC, "10.99.0.1"),
    ]
    path = takeover_path(adverts, garps, 10.0, old, new, NEW_MAC.upper())
    assert (path.last_old, path.first_new, path.garp) == (9.90, 10.30, 10.304)
    assert path.timer == pytest.approx(0.40) and path.announce == pytest.approx(0.004)
    missing = takeover_path(adverts[:2], [], 10.0, old, new, NEW_MAC)
    assert (missing.first_new, missing.timer, missing.announce) == (None, None, None)
