"""VRRP adverts as a bystander on the LAN sees them, stamped by the kernel on arrival; and what their spacing says.

`AdvertWatch(ns, link)` reads every IPv4 packet of protocol 112 that reaches
`link` in namespace `ns` (an AF_PACKET socket: the bridge floods the
224.0.0.18 adverts to every port, so the client sees both nodes'), with the
kernel's receive timestamp (SO_TIMESTAMPNS), in a thread. Times are given on
time.monotonic()'s scale, so they compare with the probe's samples.

`lateness(adverts, interval)`: how late each advert of a steady master came
after the one before it: the sender's timer lateness as the wire shows it
(plus its send path and our receive path, both short next to a timer that
fires late on a busy CPU). `intrusions(adverts, master)`: how often another
node started advertising while `master` was the master (a false failover
shows as one).
"""

from __future__ import annotations

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
_SO_TIMESTAMPNS = 35  # asm-generic/socket.h (SCM_TIMESTAMPNS has the same value)


@dataclass(frozen=True)
class Advert:
    at: float  # arrival, on time.monotonic()'s scale
    source: str
    vrid: int
    priority: int
    interval_cs: int  # the advertised interval, in centiseconds


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


class AdvertWatch:
    """The adverts arriving on `link` in namespace `ns`, kept in order, until stopped. Use as a context."""

    def __init__(self, ns: str, link: str = "eth0") -> None:
        self.ns = ns
        self.link = link
        self._lock = threading.Lock()
        self._adverts: list[Advert] = []
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
            sock = socket.socket(socket.AF_PACKET, socket.SOCK_DGRAM, socket.htons(_ETH_P_IP))
        sock.setsockopt(socket.SOL_SOCKET, _SO_TIMESTAMPNS, 1)
        sock.bind((self.link, _ETH_P_IP))
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
            return [a for a in self._adverts if since <= a.at < until and source in (None, a.source)]

    def _read(self) -> None:
        assert self._sock is not None
        offset = time.time() - time.monotonic()  # the kernel stamps with the real-time clock
        while not self._stop.is_set():
            try:
                data, ancillary, _, _ = self._sock.recvmsg(2048, socket.CMSG_SPACE(16))
            except TimeoutError:
                continue
            except OSError:
                return
            at = time.monotonic()
            for level, kind, value in ancillary:
                if level == socket.SOL_SOCKET and kind == _SO_TIMESTAMPNS and len(value) >= 16:
                    seconds, nanoseconds = struct.unpack("qq", value[:16])
                    at = seconds + nanoseconds / 1e9 - offset
            advert = parse(data, at)
            if advert is not None:
                with self._lock:
                    self._adverts.append(advert)
