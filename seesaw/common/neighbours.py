"""Asking the kernel to resolve neighbours now, on one link: RTM_NEWNEIGH with NTF_USE, as if a packet waited.

A new master reaches its DSR backends through its LB interface, whose
neighbour entries went when the link went down: without this, the first
client packet of each flow waits for an ARP exchange. HA (a takeover kit,
seesaw/ha/lb_takeover.py) and NCC (its own takeover, seesaw/ncc/kernel/
host_reannounce.py) call it the moment the link runs: an ARP sent before
the far end forwards is lost, and asked again only a second later.
"""

from __future__ import annotations

import ipaddress
import socket
import struct
from collections.abc import Sequence

from seesaw.common.rtnetlink import (
    ACK_TIMEOUT,
    NDA_DST,
    NDMSG,
    NLM_F_ACK,
    NLM_F_CREATE,
    NLM_F_REQUEST,
    NLMSG_ERROR,
    NTF_USE,
    RTM_NEWNEIGH,
)
from seesaw.common.rtnetlink import HEADER as _HEADER


def neighbour_requests(index: int, addresses: Sequence[str]) -> bytes:
    """One RTM_NEWNEIGH with NTF_USE per address: the kernel resolves each on link `index` (ARP or ND), as
    if a packet were waiting for it, and makes the entry if there is none."""
    messages = []
    for sequence, text in enumerate(addresses, start=1):
        address = ipaddress.ip_address(text)
        family = socket.AF_INET if address.version == 4 else socket.AF_INET6
        attr = struct.pack("=HH", 4 + len(address.packed), NDA_DST) + address.packed
        body = NDMSG.pack(family, index, 0, NTF_USE, 0) + attr
        flags = NLM_F_REQUEST | NLM_F_CREATE | NLM_F_ACK
        messages.append(_HEADER.pack(_HEADER.size + len(body), RTM_NEWNEIGH, flags, sequence, 0) + body)
    return b"".join(messages)


def resolve_neighbours(index: int, addresses: Sequence[str], timeout: float = ACK_TIMEOUT) -> int:
    """Have the kernel resolve `addresses` on link `index` now; how many it refused (read from its answers)."""
    if not addresses:
        return 0
    refused = 0
    with socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, socket.NETLINK_ROUTE) as sock:
        sock.settimeout(timeout)
        sock.bind((0, 0))
        sock.send(neighbour_requests(index, addresses))
        answered = 0
        while answered < len(addresses):
            data = sock.recv(1 << 16)
            offset = 0
            while offset + _HEADER.size + 4 <= len(data):
                length, kind, _, _, _ = _HEADER.unpack_from(data, offset)
                if length < _HEADER.size:
                    break
                if kind == NLMSG_ERROR:
                    answered += 1
                    (code,) = struct.unpack_from("=i", data, offset + _HEADER.size)
                    refused += code != 0
                offset += (length + 3) & ~3
    return refused
