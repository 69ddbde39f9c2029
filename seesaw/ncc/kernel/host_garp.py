"""Gratuitous ARP and unsolicited neighbour adverts, in the forms the kernel honours.

Measured (reference lab-facts.md section 4): a neighbour table takes a
gratuitous ARP *request* (opcode 1, sender IP = target IP, target MAC zero) at
once, even inside `locktime`; an ARP *reply* counts as gratuitous only when
target MAC == sender MAC. Seesaw v2 sent a reply to ff:ff:ff:ff:ff:ff, which a
kernel ignores inside locktime, and nothing at all for IPv6. Here: the request
form for one announcement, request + reply (tha == sha) for a burst, and an
unsolicited neighbour advert (override flag, target link-layer option) to
ff02::1 for IPv6 addresses.

The frame builders are pure bytes; `send_frames` sends them on an AF_PACKET
socket bound to the interface (`open_sender`; host_reannounce repeats a
takeover's burst on one).
"""

from __future__ import annotations

import errno
import ipaddress
import socket
import struct

from seesaw.common.packet_socket import bound_packet_socket, close_later
from seesaw.ncc.dataplane import DataplaneError
from seesaw.ncc.model import IPAddress

BROADCAST = b"\xff" * 6
ETH_P_ARP = 0x0806
ETH_P_IPV6 = 0x86DD
ARP_REQUEST = 1
ARP_REPLY = 2
ALL_NODES = ipaddress.IPv6Address("ff02::1")
ALL_NODES_MAC = bytes.fromhex("333300000001")
ICMPV6 = 58
NEIGHBOUR_ADVERT = 136
NA_OVERRIDE = 0x20000000
OPTION_TARGET_LINK_ADDRESS = 2


def mac_bytes(mac: str) -> bytes:
    """ "aa:bb:cc:dd:ee:ff" -> 6 bytes."""
    raw = bytes.fromhex(mac.replace(":", "").replace("-", ""))
    if len(raw) != 6:
        raise ValueError(f"not an Ethernet address: {mac!r}")
    return raw


def arp_frame(mac: str, address: ipaddress.IPv4Address, op: int = ARP_REQUEST) -> bytes:
    """A broadcast gratuitous ARP for `address` at `mac`: a request (tha zero) or a reply (tha == sha)."""
    sha = mac_bytes(mac)
    spa = address.packed
    tha = b"\x00" * 6 if op == ARP_REQUEST else sha
    ether = BROADCAST + sha + struct.pack("!H", ETH_P_ARP)
    arp = struct.pack("!HHBBH", 1, 0x0800, 6, 4, op) + sha + spa + tha + spa
    return ether + arp


def checksum(data: bytes) -> int:
    """The Internet checksum (RFC 1071)."""
    if len(data) % 2:
        data += b"\x00"
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def neighbour_advert_frame(mac: str, address: ipaddress.IPv6Address) -> bytes:
    """An unsolicited neighbour advert (RFC 4861 7.2.6) for `address` at `mac`, to all nodes."""
    lladdr = mac_bytes(mac)
    option = struct.pack("!BB", OPTION_TARGET_LINK_ADDRESS, 1) + lladdr
    body = struct.pack("!I", NA_OVERRIDE) + address.packed + option
    pseudo = address.packed + ALL_NODES.packed + struct.pack("!I3xB", 4 + len(body), ICMPV6)
    icmp = struct.pack("!BBH", NEIGHBOUR_ADVERT, 0, 0) + body
    icmp = icmp[:2] + struct.pack("!H", checksum(pseudo + icmp)) + icmp[4:]
    ipv6 = struct.pack("!IHBB", 6 << 28, len(icmp), ICMPV6, 255) + address.packed + ALL_NODES.packed
    ether = ALL_NODES_MAC + lladdr + struct.pack("!H", ETH_P_IPV6)
    return ether + ipv6 + icmp


def announcement(mac: str, address: IPAddress, burst: bool = False) -> list[bytes]:
    """The frames that announce `address` at `mac`: one, or every honoured form for a burst."""
    if isinstance(address, ipaddress.IPv6Address):
        return [neighbour_advert_frame(mac, address)]
    frames = [arp_frame(mac, address, ARP_REQUEST)]
    if burst:
        frames.append(arp_frame(mac, address, ARP_REPLY))
    return frames


def open_sender(interface: str) -> socket.socket:
    """An AF_PACKET socket bound to `interface`, in the calling thread's network namespace; DataplaneError if not."""
    try:
        return bound_packet_socket(interface)
    except OSError as err:
        raise send_error(interface, err) from err


def send_frames(interface: str, frames: list[bytes]) -> None:
    """Send raw Ethernet frames on `interface`; DataplaneError says why not. The socket is closed in the
    background (its close waits for the kernel: packet_socket.close_later)."""
    sock = open_sender(interface)
    try:
        for frame in frames:
            sock.send(frame)
    except OSError as err:
        raise send_error(interface, err) from err
    finally:
        close_later(sock)


def send_error(interface: str, err: OSError) -> DataplaneError:
    """What a failed bind or send on `interface` means, as a DataplaneError."""
    code = err.errno or errno.EIO
    if code == errno.ENODEV:
        return DataplaneError(f"no such network interface {interface!r}", code)
    if code == errno.ENETDOWN:
        return DataplaneError(f"interface {interface!r} is down", code)
    return DataplaneError(f"cannot send on {interface!r}: {err.strerror or err}", code)
