"""Asking the kernel to resolve neighbours (seesaw.common.neighbours): the messages, and a real kernel's answer."""

import ipaddress
import socket
import struct

from seesaw.common import neighbours
from seesaw.common.rtnetlink import HEADER


def test_neighbour_requests_ask_the_kernel_to_resolve_each_address_on_the_link():
    data = neighbours.neighbour_requests(7, ["10.99.1.11", "2001:db8::11"])
    found = []
    offset = 0
    while offset < len(data):
        length, kind, flags, sequence, _ = HEADER.unpack_from(data, offset)
        family, index, state, ntf, _ = struct.unpack_from("=BxxxiHBB", data, offset + HEADER.size)
        attr_len, attr_type = struct.unpack_from("=HH", data, offset + HEADER.size + 12)
        address = data[offset + HEADER.size + 16 : offset + HEADER.size + 12 + attr_len]
        found.append((kind, flags & 0x405, sequence, family, index, state, ntf, attr_type, address))
        offset += length
    v4, v6 = (ipaddress.ip_address(a).packed for a in ("10.99.1.11", "2001:db8::11"))
    assert found == [
        (28, 0x405, 1, socket.AF_INET, 7, 0, 1, 1, v4),  # RTM_NEWNEIGH, request|ack|create, NTF_USE, NDA_DST
        (28, 0x405, 2, socket.AF_INET6, 7, 0, 1, 1, v6),
    ]
    assert neighbours.neighbour_requests(7, []) == b""
