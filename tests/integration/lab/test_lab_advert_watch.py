"""The bench's advert watch (seesaw.lab.adverts) on a real link: the kernel hands it VRRP adverts and ARP only.

The client's link also carries the probe loop's traffic; the watch's socket filter keeps those packets in the
kernel, so its thread does not wake (and take the GIL from the probe's) a thousand times a second.
"""

from __future__ import annotations

import os
import socket
import struct
import time
import uuid
from collections.abc import Iterator

import pytest

from seesaw.lab import netns
from seesaw.lab.adverts import AdvertWatch, attach_filter

pytestmark = [pytest.mark.netns, pytest.mark.skipif(os.geteuid() != 0, reason="needs root in a network namespace")]

SENDER_MAC = bytes.fromhex("020000000001")


@pytest.fixture
def pair() -> Iterator[tuple[str, str]]:
    """Two namespaces joined by a veth: (sender, watcher); 10.9.0.1 on `va`, 10.9.0.2 on `vb`."""
    tag = uuid.uuid4().hex[:6]
    sender, watcher = f"wa-{tag}", f"wb-{tag}"
    netns.add(sender)
    netns.add(watcher)
    try:
        netns.run(["ip", "link", "add", "va", "netns", sender, "type", "veth", "peer", "vb", "netns", watcher])
        netns.ip(sender, "link", "set", "va", "address", SENDER_MAC.hex(":"), "up")
        netns.ip(watcher, "link", "set", "vb", "up")
        netns.ip(sender, "addr", "add", "10.9.0.1/24", "dev", "va")
        netns.ip(watcher, "addr", "add", "10.9.0.2/24", "dev", "vb")
        netns.ip(sender, "route", "add", "224.0.0.0/4", "dev", "va")
        yield sender, watcher
    finally:
        netns.delete(sender)
        netns.delete(watcher)


def send_mix(sender: str) -> None:
    """UDP datagrams, a VRRP advert (Seesaw's format: VRID 7, priority 100, 10 cs) and a gratuitous ARP."""
    with netns.inside(sender):
        udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        raw = socket.socket(socket.AF_INET, socket.SOCK_RAW, 112)
        arp = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    with udp, raw, arp:
        raw.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, 255)
        arp.bind(("va", 0))
        for _ in range(3):
            udp.sendto(b"x", ("10.9.0.2", 9999))
        raw.sendto(bytes([0x31, 7, 100, 0, 0, 10, 0, 0]), ("224.0.0.18", 0))
        address = socket.inet_aton("10.9.0.5")
        header = struct.pack("!HHBBH", 1, 0x0800, 6, 4, 1)
        arp.send(b"\xff" * 6 + SENDER_MAC + b"\x08\x06" + header + SENDER_MAC + address + b"\0" * 6 + address)
        for _ in range(3):
            udp.sendto(b"x", ("10.9.0.2", 9999))


def test_the_filter_passes_arp_and_vrrp_only(pair: tuple[str, str]):
    sender, watcher = pair
    with netns.inside(watcher):
        sock = socket.socket(socket.AF_PACKET, socket.SOCK_DGRAM, socket.htons(0x0003))
    with sock:
        attach_filter(sock)
        sock.bind(("vb", 0x0003))
        sock.settimeout(0.5)
        send_mix(sender)
        seen = []
        while True:
            try:
                data, address = sock.recvfrom(2048)
            except TimeoutError:
                break
            seen.append("arp" if address[1] == 0x0806 else f"ip proto {data[9]}")
    assert "ip proto 112" in seen and "arp" in seen
    assert "ip proto 17" not in seen, seen  # the UDP datagrams stayed in the kernel


def test_the_watch_sees_the_advert_and_the_gratuitous_arp(pair: tuple[str, str]):
    sender, watcher = pair
    with AdvertWatch(watcher, "vb") as watch:
        started = time.monotonic()
        send_mix(sender)
        deadline = time.monotonic() + 2.0
        while not (watch.adverts(started) and watch.garps(started)) and time.monotonic() < deadline:
            time.sleep(0.01)
    (advert,) = watch.adverts(started)
    assert (advert.source, advert.vrid, advert.priority, advert.interval_cs) == ("10.9.0.1", 7, 100, 10)
    (garp,) = watch.garps(started)
    assert (garp.address, garp.mac) == ("10.9.0.5", SENDER_MAC.hex(":"))
    assert watch.adverts(started, source="10.9.0.9") == [] and watch.garps(time.monotonic()) == []
