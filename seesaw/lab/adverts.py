"""VRRP adverts and gratuitous ARPs as a bystander on the LAN sees them, stamped by the kernel on arrival; and
what their spacing says.

`AdvertWatch(ns, link)` reads every IPv4 packet of protocol 112 and every
gratuitous ARP (sender address = target address) that reaches `link` in
namespace `ns` (an AF_PACKET socket: the bridge floods the 224.0.0.18
adverts and the broadcast ARPs to every port, so the client sees both
nodes'), with the kernel's receive timestamp (SO_TIMESTAMPNS), in a thread.
Times are given on time.monotonic()'s scale, so they compare with the probe's
samples.

`lateness(adverts, interval)`: how late each advert of a steady master came
after the one before it: the sender's timer lateness as the wire shows it
(plus its send path and our receive path, both short next to a timer that
fires late on a busy CPU). `intrusions(adverts, master)`: how often another
node started advertising while `master` was the master (a false failover
shows as one). `takeover_path(...)`: a takeover as the wire shows it: the
old master's last advert, the new one's first, its first gratuitous ARP.
"""

from __future__ import annotations

import bisect
import ctypes
import ipaddress
import itertools
import socket
import struct
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass

from seesaw.lab import netns

VRRP_PROTOCOL = 112
_ETH_P_IP = 0x0800
_ETH_P_ARP = 0x0806
_ETH_P_ALL = 0x0003
_STAMP_DISORDER = 0.01  # s: how far out of order two packets' kernel stamps may come, and then some
_SO_TIMESTAMPNS = 35  # asm-generic/socket.h (SCM_TIMESTAMPNS has the same value)


@dataclass(frozen=True)
class Advert:
    at: float  # arrival, on time.monotonic()'s scale
    source: str
    vrid: int
    priority: int
    interval_cs: int  # the advertised interval, in centiseconds


@dataclass(frozen=True)
class Garp:
    at: float  # arrival, on time.monotonic()'s scale
    mac: str  # the sender's hardware address, as the ARP says it (lower case)
    address: str  # the address announced


@dataclass(frozen=True)
class TakeoverPath:
    """A takeover on the wire (seconds on time.monotonic()'s scale; None: not seen)."""

    last_old: float | None  # the old master's last advert before the fault
    first_new: float | None  # the new master's first advert after it: its HA is LEADER
    garp: float | None  # the new master's first gratuitous ARP after it: the clients are called over

    @property
    def timer(self) -> float | None:
        """From the old master's last word to the new one's first: the master-down timer as it ran."""
        return None if self.last_old is None or self.first_new is None else self.first_new - self.last_old

    @property
    def announce(self) -> float | None:
        """From the new master's first advert to its first gratuitous ARP: LEADER to the clients called."""
        return None if self.first_new is None or self.garp is None else self.garp - self.first_new


def parse_garp(packet: bytes, at: float) -> Garp | None:
    """The gratuitous ARP in `packet` (the ARP header on: Ethernet/IPv4, sender address = target address)."""
    if len(packet) < 28 or packet[0:2] != b"\x00\x01" or packet[2:4] != b"\x08\x00" or packet[4:6] != b"\x06\x04":
        return None
    sender, target = packet[14:18], packet[24:28]
    if sender != target:
        return None
    return Garp(at, packet[8:14].hex(":"), str(ipaddress.IPv4Address(sender)))


def takeover_path(
    adverts: Sequence[Advert], garps: Sequence[Garp], fault: float, old: str, new: str, new_mac: str
) -> TakeoverPath:
    """The takeover from `old` to `new` (node addresses; `new_mac` its LB interface's) after `fault`."""
    before = [a.at for a in adverts if a.source == old and a.at <= fault and a.priority]
    after = [a.at for a in adverts if a.source == new and a.at > fault and a.priority]
    called = [g.at for g in garps if g.mac == new_mac.lower() and g.at > fault]
    return TakeoverPath(max(before, default=None), min(after, default=None), min(called, default=None))


def parse(packet: bytes, at: float) -> Advert | None:
    """The advert in IPv4 `packet` (the IP header on), or None if it is not a VRRP packet."""
    if len(packet) < 20 or packet[0] >> 4 != 4 or packet[9] != VRRP_PROTOCOL:
        return None
    header = (packet[0] & 0x0F) * 4
    body = packet[header:]
    if len(body) < 8:
        return None
    source = str(ipaddress.IPv4Address(packet[12:16]))
    interval = struct.unpack("!H", body[4:6])[0] & 0x0FFF
    return Advert(at, source, body[1], body[2], interval)


def lateness(adverts: Sequence[Advert], interval: float) -> list[float]:
    """Seconds each advert came later than `interval` after the one before it (0 if not late).

    Only a steady master counts: two adverts in a row from the same sender, neither of priority 0. A gap with
    another sender's advert inside (a takeover, two masters for a moment) is no timer's lateness.
    """
    ordered = sorted(adverts, key=lambda a: a.at)
    return [
        max(0.0, after.at - before.at - interval)
        for before, after in itertools.pairwise(ordered)
        if before.source == after.source and before.priority and after.priority
    ]


def intrusions(adverts: Sequence[Advert], master: str) -> int:
    """How many times another node than `master` started advertising (runs of its adverts among the master's)."""
    count, inside = 0, False
    for advert in sorted(adverts, key=lambda a: a.at):
        foreign = advert.source != master
        count += foreign and not inside
        inside = foreign
    return count


# A classic BPF program for a SOCK_DGRAM packet socket (it sees the packet from the network header): ARP, or
# IPv4 of protocol 112. The client's link also carries its probe loop (~1,000 packets/s), which the watch's
# thread would otherwise wake for, taking the GIL from the probe's thread each time.
_BPF = (
    (0x20, 0, 0, 0xFFFFF000),  # ld  skb->protocol (SKF_AD_OFF + SKF_AD_PROTOCOL)
    (0x15, 3, 0, _ETH_P_ARP),  # jeq ARP -> accept
    (0x15, 0, 3, _ETH_P_IP),  # jeq IPv4, else -> drop
    (0x30, 0, 0, 9),  # ldb [9]: the IPv4 header's protocol
    (0x15, 0, 1, VRRP_PROTOCOL),  # jeq 112 -> accept, else -> drop
    (0x06, 0, 0, 0xFFFF),  # accept
    (0x06, 0, 0, 0),  # drop
)
_SO_ATTACH_FILTER = 26


def attach_filter(sock: socket.socket) -> None:
    """Have the kernel pass `sock` only gratuitous-ARP candidates and VRRP adverts (_BPF)."""
    program = ctypes.create_string_buffer(b"".join(struct.pack("=HBBI", *op) for op in _BPF))
    fprog = struct.pack("@HP", len(_BPF), ctypes.addressof(program))
    sock.setsockopt(socket.SOL_SOCKET, _SO_ATTACH_FILTER, fprog)  # the kernel copies the program


class AdvertWatch:
    """The adverts arriving on `link` in namespace `ns`, kept in order, until stopped. Use as a context."""

    def __init__(self, ns: str, link: str = "eth0") -> None:
        self.ns = ns
        self.link = link
        self._lock = threading.Lock()
        self._adverts: list[Advert] = []
        self._garps: list[Garp] = []
        self._advert_times: list[float] = []  # their arrival times, in step (in arrival order: sorted but for
        # stamps taken on two CPUs a few microseconds apart, _STAMP_DISORDER)
        self._garp_times: list[float] = []
        self._stop = threading.Event()
        self._sock: socket.socket | None = None
        self._thread = threading.Thread(target=self._read, name=f"adverts-{ns}", daemon=True)

    def __enter__(self) -> AdvertWatch:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> None:
        with netns.inside(self.ns):
            sock = socket.socket(socket.AF_PACKET, socket.SOCK_DGRAM, socket.htons(_ETH_P_ALL))
        sock.setsockopt(socket.SOL_SOCKET, _SO_TIMESTAMPNS, 1)
        attach_filter(sock)
        sock.bind((self.link, _ETH_P_ALL))
        sock.settimeout(0.1)
        self._sock = sock
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(5.0)
        if self._sock is not None:
            self._sock.close()

    def adverts(self, since: float = 0.0, until: float = float("inf"), source: str | None = None) -> list[Advert]:
        """The adverts that arrived in [since, until) (from `source` only, if given)."""
        with self._lock:
            first = bisect.bisect_left(self._advert_times, since - _STAMP_DISORDER)  # a bench polls this
            return [a for a in self._adverts[first:] if since <= a.at < until and source in (None, a.source)]

    def garps(self, since: float = 0.0, until: float = float("inf")) -> list[Garp]:
        """The gratuitous ARPs that arrived in [since, until)."""
        with self._lock:
            first = bisect.bisect_left(self._garp_times, since - _STAMP_DISORDER)
            return [g for g in self._garps[first:] if since <= g.at < until]

    def path(self, fault: float, old: str, new: str, new_mac: str) -> TakeoverPath:
        """The takeover from node address `old` to `new` after `fault`, as seen so far (takeover_path)."""
        with self._lock:
            return takeover_path(self._adverts, self._garps, fault, old, new, new_mac)

    def _read(self) -> None:
        assert self._sock is not None
        offset = time.time() - time.monotonic()  # the kernel stamps with the real-time clock
        while not self._stop.is_set():
            try:
                data, ancillary, _, address = self._sock.recvmsg(2048, socket.CMSG_SPACE(16))
            except TimeoutError:
                continue
            except OSError:
                return
            at = time.monotonic()
            for level, kind, value in ancillary:
                if level == socket.SOL_SOCKET and kind == _SO_TIMESTAMPNS and len(value) >= 16:
                    seconds, nanoseconds = struct.unpack("qq", value[:16])
                    at = seconds + nanoseconds / 1e9 - offset
            protocol = address[1] if len(address) > 1 else _ETH_P_IP
            if protocol == _ETH_P_ARP:
                garp = parse_garp(data, at)
                if garp is not None:
                    with self._lock:
                        self._garps.append(garp)
                        self._garp_times.append(garp.at)
            elif protocol == _ETH_P_IP:
                advert = parse(data, at)
                if advert is not None:
                    with self._lock:
                        self._adverts.append(advert)
                        self._advert_times.append(advert.at)
