"""Reading IPVS dump answers: services and destinations as NCC's model objects, with their counters.

Pure: messages in (see ipvs_codec.messages), model objects out.

What comes back equals what NCC would ask for, so a kernel that is already
right is adopted without a write: the kernel's own "hashed" flag is dropped,
the forwarding method is the low bits of the raw attribute (not a library's
default), an IPv4 address is the first 4 of 16 bytes. Counters come from
`stats64` when the kernel sends it, else from the 32-bit `stats`. Something
the model cannot hold (an SCTP service, a forwarding method NCC does not
know) raises Unrepresentable, and NCC leaves it alone.

Speed: a read of 10,000 services has 50,000 answers, all of a few shapes
(the kernel writes every IPv4 destination with the same attributes in the
same order). A `Reader` learns where each attribute of a shape sits from the
first answer of that shape, and reads the next ones from those offsets after
one struct unpack has checked every attribute header.
"""

from __future__ import annotations

import functools
import ipaddress
import struct
from dataclasses import dataclass
from typing import Any

from seesaw.ncc.kernel.ipvs_codec import (
    GENL_HDRLEN,
    IPVS_CMD_ATTR_DEST,
    IPVS_CMD_ATTR_SERVICE,
    NLA_TYPE_MASK,
    DestAttr,
    Message,
    Span,
    SvcAttr,
)
from seesaw.ncc.model import (
    FLAG_HASHED,
    Destination,
    DestinationKey,
    Family,
    Forwarding,
    IPAddress,
    Protocol,
    Service,
    ServiceKey,
    Stats,
)

IP_VS_CONN_F_FWD_MASK = 0x7
MAX_SHAPES = 32  # shapes remembered per kind; a kernel sends a handful

Path = tuple[int, ...]  # attribute types from the outermost in, e.g. (SERVICE, STATS64, 1)

S, D = IPVS_CMD_ATTR_SERVICE, IPVS_CMD_ATTR_DEST
_NESTED: frozenset[Path] = frozenset(
    {(S,), (S, SvcAttr.STATS), (S, SvcAttr.STATS64), (D,), (D, DestAttr.STATS), (D, DestAttr.STATS64)}
)
_COUNTERS = range(1, 11)  # IPVS_STATS_ATTR_CONNS .. IPVS_STATS_ATTR_OUTBPS

_NLA = struct.Struct("=HH")
_U16 = struct.Struct("=H")
_U32 = struct.Struct("=I")
_U64 = struct.Struct("=Q")
_BE16 = struct.Struct(">H")


class Unrepresentable(ValueError):
    """The kernel holds something NCC's model has no words for (an SCTP service, say); it is left alone."""


@dataclass(frozen=True, slots=True)
class ServiceEntry:
    service: Service
    stats: Stats


@dataclass(frozen=True, slots=True)
class DestinationEntry:
    destination: Destination
    stats: Stats


class Reader:
    """Reads service and destination answers, remembering the shapes it has seen."""

    def __init__(self) -> None:
        self._services = _Shapes(_SERVICE_FIELDS)
        self._destinations = _Shapes(_DEST_FIELDS)

    def service(self, message: Message) -> ServiceEntry:
        """A service of a GET_SERVICE dump."""
        fields = self._services.read(message.payload)
        af = fields.get("af", 0)
        family = _FAMILIES.get(af)
        if family is None:
            raise Unrepresentable(f"a service of address family {af}")
        fwmark = fields.get("fwmark", 0)
        if fwmark:
            key = ServiceKey.mark(family, fwmark)
        else:
            if "protocol" not in fields or "address" not in fields or "port" not in fields:
                raise ValueError("IPVS answered with a service that has neither a fwmark nor protocol, address, port")
            number = fields["protocol"]
            ip = _address(fields["address"], family)
            port = int.from_bytes(fields["port"], "big")
            protocol = _PROTOCOLS.get(number)
            if protocol is None:
                raise Unrepresentable(f"a service of IP protocol {number} at {ip}:{port}")
            key = ServiceKey(family, protocol, ip, port)
        scheduler = fields.get("scheduler", b"").split(b"\0", 1)[0].decode("ascii", "replace")
        service = Service(key, scheduler, fields.get("flags", 0) & ~FLAG_HASHED, fields.get("timeout", 0))
        return ServiceEntry(service, _stats(fields, 0, 0, 0))

    def destination(self, message: Message, service: ServiceKey) -> DestinationEntry:
        """A destination of a GET_DEST dump of `service`."""
        fields = self._destinations.read(message.payload)
        if "address" not in fields or "port" not in fields:
            raise ValueError("IPVS answered with a destination without address or port")
        ip = _address(fields["address"], fields.get("family") or service.family)
        port = int.from_bytes(fields["port"], "big")
        method = fields.get("forwarding", 0) & IP_VS_CONN_F_FWD_MASK
        try:
            forwarding = _FORWARDING[method]
        except KeyError:
            raise Unrepresentable(f"destination {ip}:{port} of {service} with forwarding {method}") from None
        destination = Destination(
            DestinationKey(service, ip, port),
            forwarding,
            fields.get("weight", 0),
            fields.get("upper", 0),
            fields.get("lower", 0),
        )
        stats = _stats(fields, fields.get("active", 0), fields.get("inactive", 0), fields.get("persistent", 0))
        return DestinationEntry(destination, stats)


def decode_service(message: Message) -> ServiceEntry:
    return Reader().service(message)


def decode_destination(message: Message, service: ServiceKey) -> DestinationEntry:
    return Reader().destination(message, service)


# What a reader takes from each kind of answer: name -> (where, how). "u16"/"u32": an integer; "raw": the bytes.
# Counters are "stats64.N" (preferred) or "stats.N", u64 or u32 as the attribute's size says.
_Fields = dict[str, tuple[Path, str]]
_SERVICE_FIELDS: _Fields = {
    "af": ((S, SvcAttr.AF), "u16"),
    "protocol": ((S, SvcAttr.PROTOCOL), "u16"),
    "address": ((S, SvcAttr.ADDR), "raw"),
    "port": ((S, SvcAttr.PORT), "raw"),
    "fwmark": ((S, SvcAttr.FWMARK), "u32"),
    "scheduler": ((S, SvcAttr.SCHED_NAME), "raw"),
    "flags": ((S, SvcAttr.FLAGS), "u32"),  # the flags; the mask after them is not read
    "timeout": ((S, SvcAttr.TIMEOUT), "u32"),
}
_DEST_FIELDS: _Fields = {
    "address": ((D, DestAttr.ADDR), "raw"),
    "port": ((D, DestAttr.PORT), "raw"),
    "forwarding": ((D, DestAttr.FWD_METHOD), "u32"),
    "weight": ((D, DestAttr.WEIGHT), "u32"),
    "upper": ((D, DestAttr.U_THRESH), "u32"),
    "lower": ((D, DestAttr.L_THRESH), "u32"),
    "active": ((D, DestAttr.ACTIVE_CONNS), "u32"),
    "inactive": ((D, DestAttr.INACT_CONNS), "u32"),
    "persistent": ((D, DestAttr.PERSIST_CONNS), "u32"),
    "family": ((D, DestAttr.ADDR_FAMILY), "u16"),
}
_STATS_GROUPS = {S: (SvcAttr.STATS64, SvcAttr.STATS), D: (DestAttr.STATS64, DestAttr.STATS)}
_FORWARDING = {int(f): f for f in Forwarding}
_FAMILIES = {int(f): f for f in Family}
_PROTOCOLS = {int(Protocol.TCP): Protocol.TCP, int(Protocol.UDP): Protocol.UDP}
_STATS_NAMES = tuple(f"stats.{counter}" for counter in _COUNTERS)
_CODE = {"u16": "H", "u32": "I"}


class _Shape:
    """One shape of answer: a struct that checks its attribute headers, and one that reads every wanted field."""

    def __init__(self, buf: memoryview, wanted: _Fields) -> None:
        spans, header_offsets = _walk(buf)
        self.size = len(buf)
        self.check = _header_struct(header_offsets)
        self.headers = self.check.unpack_from(buf)
        fields: list[tuple[int, str, str]] = []  # (offset, struct code, name)
        for name, (path, kind) in wanted.items():
            span = spans.get(path)
            if span is None:
                continue
            offset, length = span
            if kind == "raw":
                fields.append((offset, f"{length}s", name))
            elif length >= struct.calcsize(_CODE[kind]):
                fields.append((offset, _CODE[kind], name))
        top = next(iter(wanted.values()))[0][0]
        for group in _STATS_GROUPS[top]:
            if (top, group) in spans:
                for counter in _COUNTERS:
                    span = spans.get((top, group, counter))
                    if span is not None and span[1] in (4, 8):
                        fields.append((span[0], "Q" if span[1] == 8 else "I", _STATS_NAMES[counter - 1]))
                break
        fields.sort()
        parts, position = ["="], 0
        for offset, code, _ in fields:
            parts.append(f"{offset - position}x{code}")
            position = offset + struct.calcsize("=" + code)
        self.values = struct.Struct("".join(parts))
        self.names = tuple(name for _, _, name in fields)

    def matches(self, buf: memoryview) -> bool:
        return len(buf) == self.size and self.check.unpack_from(buf) == self.headers

    def read(self, buf: memoryview) -> dict[str, Any]:
        return dict(zip(self.names, self.values.unpack_from(buf), strict=True))


class _Shapes:
    """The shapes of one kind of answer seen so far."""

    def __init__(self, wanted: _Fields) -> None:
        self._wanted = wanted
        self._known: list[_Shape] = []

    def read(self, buf: memoryview) -> dict[str, Any]:
        for shape in self._known:
            if shape.matches(buf):
                return shape.read(buf)
        shape = _Shape(buf, self._wanted)
        if len(self._known) < MAX_SHAPES:
            self._known.append(shape)
        return shape.read(buf)


def _walk(buf: memoryview) -> tuple[dict[Path, Span], list[int]]:
    """Every attribute of a generic netlink message (into the nested ones NCC reads), and each header's offset."""
    spans: dict[Path, Span] = {}
    header_offsets: list[int] = []
    stack: list[tuple[Path, int, int]] = [((), GENL_HDRLEN, len(buf))]
    while stack:
        parent, offset, end = stack.pop()
        while offset + 4 <= end:
            length, attr_type = _NLA.unpack_from(buf, offset)
            if length < 4 or offset + length > end:
                break
            header_offsets.append(offset)
            path = (*parent, attr_type & NLA_TYPE_MASK)
            spans[path] = (offset + 4, length - 4)
            if path in _NESTED:
                stack.append((path, offset + 4, offset + length))
            offset += (length + 3) & ~3
    return spans, header_offsets


def _header_struct(offsets: list[int]) -> struct.Struct:
    """A struct that reads the (length, type) header at each of `offsets` and skips the rest."""
    parts, position = ["="], 0
    for offset in sorted(offsets):
        parts.append(f"{offset - position}xHH")
        position = offset + 4
    return struct.Struct("".join(parts))


def _address(raw: bytes, family: int) -> IPAddress:
    size = 4 if family == Family.INET else 16
    if len(raw) < size:
        raise ValueError(f"an address attribute of {len(raw)} bytes for address family {family}")
    return _ip(raw[:size])


@functools.lru_cache(maxsize=65536)
def _ip(raw: bytes) -> IPAddress:
    """An address from its 4 or 16 bytes; cached, as a large table names the same backends many times."""
    return ipaddress.IPv4Address(raw) if len(raw) == 4 else ipaddress.IPv6Address(raw)


def _stats(fields: dict[str, Any], active: int, inactive: int, persistent: int) -> Stats:
    get = fields.get
    return Stats(*[get(name, 0) for name in _STATS_NAMES], active, inactive, persistent)
