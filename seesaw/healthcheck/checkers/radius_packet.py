"""RADIUS packets (RFC 2865): encode, decode, hide passwords, check authenticators.

Pure bytes. A packet is a 20-byte header (code, identifier, length, 16-byte
authenticator) and attributes (type, length, value). The client picks a
random Request Authenticator; the server's Response Authenticator is
MD5(code | id | length | request authenticator | attributes | secret).
"""

from __future__ import annotations

import hashlib
import struct
from dataclasses import dataclass, field

HEADER_SIZE = 20
MAX_SIZE = 4096
MAX_PASSWORD = 128

ACCESS_REQUEST = 1
ACCESS_ACCEPT = 2
ACCESS_REJECT = 3
ACCOUNTING_REQUEST = 4
ACCOUNTING_RESPONSE = 5
ACCESS_CHALLENGE = 11

CODE_NAMES = {
    ACCESS_REQUEST: "Access-Request",
    ACCESS_ACCEPT: "Access-Accept",
    ACCESS_REJECT: "Access-Reject",
    ACCOUNTING_REQUEST: "Accounting-Request",
    ACCOUNTING_RESPONSE: "Accounting-Response",
    ACCESS_CHALLENGE: "Access-Challenge",
    12: "Status-Server",
    13: "Status-Client",
}

USER_NAME = 1
USER_PASSWORD = 2
NAS_IP_ADDRESS = 4
NAS_PORT = 5
SERVICE_TYPE = 6
NAS_IDENTIFIER = 32
NAS_PORT_TYPE = 61

SERVICE_LOGIN = 1
PORT_TYPE_VIRTUAL = 5


class PacketError(ValueError):
    """Bytes that are not a RADIUS packet."""


def code_name(code: int) -> str:
    return CODE_NAMES.get(code, f"code {code}")


@dataclass(slots=True)
class Packet:
    code: int
    identifier: int
    authenticator: bytes
    attributes: list[tuple[int, bytes]] = field(default_factory=list)
    length: int = 0  # as decoded; `encode` computes its own

    def encode(self) -> bytes:
        body = b"".join(struct.pack("!BB", kind, len(value) + 2) + value for kind, value in self.attributes)
        return struct.pack("!BBH", self.code, self.identifier, HEADER_SIZE + len(body)) + self.authenticator + body

    def attribute(self, kind: int) -> bytes | None:
        for got, value in self.attributes:
            if got == kind:
                return value
        return None


def decode(data: bytes) -> Packet:
    if len(data) < HEADER_SIZE:
        raise PacketError(f"{len(data)} bytes is shorter than a RADIUS header")
    code, identifier, length = struct.unpack("!BBH", data[:4])
    if not HEADER_SIZE <= length <= MAX_SIZE or length > len(data):
        raise PacketError(f"invalid length {length} for a {len(data)}-byte datagram")
    attributes: list[tuple[int, bytes]] = []
    offset = HEADER_SIZE
    while offset + 2 <= length:
        kind, size = data[offset], data[offset + 1]
        if size < 2 or offset + size > length:
            raise PacketError(f"invalid attribute length {size} at offset {offset}")
        attributes.append((kind, data[offset + 2 : offset + size]))
        offset += size
    return Packet(code, identifier, data[4:HEADER_SIZE], attributes, length)


def hide_password(password: bytes, secret: bytes, authenticator: bytes) -> bytes:
    """User-Password hiding (RFC 2865 section 5.2): pad to 16, chain MD5 blocks, at most 128 bytes."""
    size = min((len(password) + 15) & ~15, MAX_PASSWORD)
    padded = password[:size].ljust(size, b"\0")
    out = bytearray()
    previous = authenticator
    for i in range(0, size, 16):
        digest = hashlib.md5(secret + previous).digest()
        block = bytes(a ^ b for a, b in zip(padded[i : i + 16], digest, strict=True))
        out += block
        previous = block
    return bytes(out)


def response_authenticator(packet: Packet, request_authenticator: bytes, secret: bytes) -> bytes:
    """What the server's authenticator must be for `packet`, answering a request with `request_authenticator`."""
    body = b"".join(struct.pack("!BB", kind, len(value) + 2) + value for kind, value in packet.attributes)
    length = packet.length or HEADER_SIZE + len(body)
    header = struct.pack("!BBH", packet.code, packet.identifier, length)
    return hashlib.md5(header + request_authenticator + body + secret).digest()
