"""ICMP echo messages: build a request, recognise its reply (RFC 792, RFC 4443).

Pure bytes in, bytes out. Replies read from a raw IPv4 socket carry the IP
header; those from ICMP datagram ("ping") sockets and from IPv6 sockets do
not, and on datagram sockets the kernel rewrites the identifier, so matching
there is on the sequence number only.
"""

from __future__ import annotations

import struct

ECHO_REQUEST_V4, ECHO_REPLY_V4 = 8, 0
ECHO_REQUEST_V6, ECHO_REPLY_V6 = 128, 129
PAYLOAD = (b"Healthcheck" * 6)[:56]  # 8-byte header + 56 = a 64-byte message, as Seesaw sends


def checksum(data: bytes) -> int:
    """The Internet checksum (RFC 1071)."""
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def echo_request(ident: int, seq: int, v6: bool) -> bytes:
    """An echo request; for IPv6 the kernel fills in the checksum (it covers a pseudo-header)."""
    kind = ECHO_REQUEST_V6 if v6 else ECHO_REQUEST_V4
    header = struct.pack("!BBHHH", kind, 0, 0, ident & 0xFFFF, seq & 0xFFFF)
    if v6:
        return header + PAYLOAD
    return struct.pack("!BBHHH", kind, 0, checksum(header + PAYLOAD), ident & 0xFFFF, seq & 0xFFFF) + PAYLOAD


def is_echo_reply(packet: bytes, ident: int | None, seq: int, v6: bool, has_ip_header: bool) -> bool:
    """True if `packet` answers our request `seq` (and `ident`, unless None)."""
    if has_ip_header:
        if len(packet) < 20 or packet[0] >> 4 != 4:
            return False
        packet = packet[(packet[0] & 0x0F) * 4 :]
    if len(packet) < 8:
        return False
    kind, code, _, got_ident, got_seq = struct.unpack("!BBHHH", packet[:8])
    if kind != (ECHO_REPLY_V6 if v6 else ECHO_REPLY_V4) or code != 0 or got_seq != seq & 0xFFFF:
        return False
    if ident is not None and got_ident != ident & 0xFFFF:
        return False
    return v6 or checksum(packet) == 0
