"""IPVS generic netlink messages: NCC's services and destinations to request bytes, and netlink framing.

Pure: no sockets. Reading the kernel's answers about services and
destinations is ipvs_answers.py. Requests come out with sequence number 0 and no netlink
flags; the socket (ipvs_netlink.py) stamps both when it sends them, so the
bytes here are the same whatever batch a request travels in (and match the
golden vectors of Seesaw's ipvs_test.go).

The layout is the kernel's (include/uapi/linux/ip_vs.h): a command carries a
nested SERVICE attribute and, for destination commands, a nested DEST one.

    service  1 af u16 | 2 protocol u16 | 3 addr 16 bytes (IPv4 in the first 4) | 4 port be16 | 5 fwmark u32
             6 scheduler asciiz | 7 flags {u32 flags, u32 mask} | 8 timeout u32 | 9 netmask u32
             (0xffffffff for IPv4, 128 for IPv6) | 10 stats | 11 pe name | 12 stats64
    dest     1 addr 16 bytes | 2 port be16 | 3 forwarding u32 | 4 weight u32 | 5 upper threshold u32
             6 lower threshold u32 | 7 active | 8 inactive | 9 persistent conns u32 | 10 stats
             11 addr family u16 | 12 stats64
    stats    1 conns | 2 pkts in | 3 pkts out | 4 bytes in | 5 bytes out | 6 cps | 7 pps in | 8 pps out
             9 bps in | 10 bps out  (u32 but bytes u64 in `stats`; all u64 in `stats64`; 11 is padding)

A fwmark service is named by (af, fwmark) alone; an address service by
(af, protocol, addr, port).
"""

from __future__ import annotations

import enum
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from socket import htons

from seesaw.ncc.model import Destination, DestinationKey, Family, IPAddress, Service, ServiceKey

# netlink (include/uapi/linux/netlink.h)
NLMSG_NOOP = 1
NLMSG_ERROR = 2
NLMSG_DONE = 3
NLM_F_REQUEST = 0x1
NLM_F_MULTI = 0x2
NLM_F_ACK = 0x4
NLM_F_DUMP = 0x300
NLM_F_CAPPED = 0x100  # on an error: the request is echoed as its header only
NLM_F_ACK_TLVS = 0x200  # on an error: extended-ack attributes follow
NLMSGERR_ATTR_MSG = 1
NLA_F_NESTED = 0x8000
NLA_TYPE_MASK = 0x3FFF
NLMSG_HDRLEN = 16
GENL_HDRLEN = 4

# generic netlink controller (include/uapi/linux/genetlink.h)
GENL_ID_CTRL = 0x10
CTRL_CMD_GETFAMILY = 3
CTRL_ATTR_FAMILY_ID = 1
CTRL_ATTR_FAMILY_NAME = 2

IPVS_GENL_NAME = "IPVS"
IPVS_GENL_VERSION = 1
IPVS_CMD_ATTR_SERVICE = 1
IPVS_CMD_ATTR_DEST = 2
IP_VS_SCHEDNAME_MAXLEN = 16
IP_VS_CONN_F_FWD_MASK = 0x7
IPV4_NETMASK = 0xFFFFFFFF
IPV6_NETMASK = 128
FLAGS_MASK = 0xFFFFFFFF


class Command(enum.IntEnum):
    NEW_SERVICE = 1
    SET_SERVICE = 2
    DEL_SERVICE = 3
    GET_SERVICE = 4
    NEW_DEST = 5
    SET_DEST = 6
    DEL_DEST = 7
    GET_DEST = 8


class SvcAttr(enum.IntEnum):
    AF = 1
    PROTOCOL = 2
    ADDR = 3
    PORT = 4
    FWMARK = 5
    SCHED_NAME = 6
    FLAGS = 7
    TIMEOUT = 8
    NETMASK = 9
    STATS = 10
    PE_NAME = 11
    STATS64 = 12


class DestAttr(enum.IntEnum):
    ADDR = 1
    PORT = 2
    FWD_METHOD = 3
    WEIGHT = 4
    U_THRESH = 5
    L_THRESH = 6
    ACTIVE_CONNS = 7
    INACT_CONNS = 8
    PERSIST_CONNS = 9
    STATS = 10
    ADDR_FAMILY = 11
    STATS64 = 12


_NLMSGHDR = struct.Struct("=IHHII")  # len, type, flags, seq, pid
_GENLHDR = struct.Struct("=BBH")  # cmd, version, reserved
_NLA = struct.Struct("=HH")  # len, type
_NLA_U16 = struct.Struct("=HHH2x")
_NLA_U32 = struct.Struct("=HHI")
_NLA_PORT = struct.Struct("=HH2s2x")
_NLA_FLAGS = struct.Struct("=HHII")
_U16 = struct.Struct("=H")
_U32 = struct.Struct("=I")
_U64 = struct.Struct("=Q")
_I32 = struct.Struct("=i")
_BE16 = struct.Struct(">H")
_STAMP = struct.Struct("=HI")  # flags, seq: stamped at offset 6 of a request
_ACK = struct.Struct("=IHHIIi")  # an NLMSG_ERROR's netlink header and its error code
_ZERO12 = bytes(12)


# --- requests ----------------------------------------------------------------------------------------------------


def _message(msg_type: int, command: int, version: int, body: bytes) -> bytes:
    return _NLMSGHDR.pack(NLMSG_HDRLEN + GENL_HDRLEN + len(body), msg_type, 0, 0, 0) + _GENLHDR.pack(
        command, version, 0
    )


def _request(family_id: int, command: int, body: bytes) -> bytes:
    return _message(family_id, command, IPVS_GENL_VERSION, body) + body


def _nested(attr_type: int, inner: bytes) -> bytes:
    return _NLA.pack(4 + len(inner), attr_type | NLA_F_NESTED) + inner


def _string(attr_type: int, text: str) -> bytes:
    raw = text.encode("ascii") + b"\0"
    return _NLA.pack(4 + len(raw), attr_type) + raw + bytes(-len(raw) % 4)


def _address16(address: IPAddress) -> bytes:
    """An address as IPVS stores it: 16 bytes, an IPv4 address in the first 4."""
    return address.packed + _ZERO12 if address.version == 4 else address.packed


def _service_id(key: ServiceKey) -> bytes:
    """The attributes that name a service: (af, fwmark) or (af, protocol, address, port)."""
    af = _NLA_U16.pack(6, SvcAttr.AF, key.family)
    if key.fwmark or key.address is None:
        return af + _NLA_U32.pack(8, SvcAttr.FWMARK, key.fwmark)
    return (
        af
        + _NLA_U16.pack(6, SvcAttr.PROTOCOL, key.protocol)
        + _NLA.pack(20, SvcAttr.ADDR)
        + _address16(key.address)
        + _NLA_PORT.pack(6, SvcAttr.PORT, _BE16.pack(key.port))
    )


def check_scheduler(name: str) -> None:
    """Raise ValueError unless IPVS can take `name` as a scheduler name (NUL-terminated, under 16 bytes)."""
    if not name or not name.isascii() or len(name) >= IP_VS_SCHEDNAME_MAXLEN or "\0" in name:
        raise ValueError(f"scheduler name {name!r} is not 1-{IP_VS_SCHEDNAME_MAXLEN - 1} ASCII characters")


def service_request(family_id: int, command: Command, service: Service) -> bytes:
    """NEW_SERVICE or SET_SERVICE: the service with every field (the kernel requires them all)."""
    check_scheduler(service.scheduler)
    netmask = IPV4_NETMASK if service.key.family is Family.INET else IPV6_NETMASK
    inner = (
        _service_id(service.key)
        + _string(SvcAttr.SCHED_NAME, service.scheduler)
        + _NLA_FLAGS.pack(12, SvcAttr.FLAGS, service.flags, FLAGS_MASK)
        + _NLA_U32.pack(8, SvcAttr.TIMEOUT, service.timeout)
        + _NLA_U32.pack(8, SvcAttr.NETMASK, netmask)
    )
    return _request(family_id, command, _nested(IPVS_CMD_ATTR_SERVICE, inner))


def service_key_request(family_id: int, command: Command, key: ServiceKey) -> bytes:
    """DEL_SERVICE, or GET_DEST (with NLM_F_DUMP): the service named by its key alone."""
    return _request(family_id, command, _nested(IPVS_CMD_ATTR_SERVICE, _service_id(key)))


def _dest_id(key: DestinationKey) -> bytes:
    return (
        _NLA.pack(20, DestAttr.ADDR) + _address16(key.address) + _NLA_PORT.pack(6, DestAttr.PORT, _BE16.pack(key.port))
    )


# NEW_DEST / SET_DEST of an address service, packed in one go (a flipped backend's request): netlink and generic
# headers; SERVICE {af, protocol, addr, port}; DEST {addr, port, forwarding, weight, thresholds, family}. A "16s"
# pads an IPv4 address with zeros, a port is packed as htons() of it (big-endian bytes on any host). The attribute
# types are plain ints here: reading an enum member costs more than the rest of the packing.
_DEST_OF_ADDRESS_SERVICE = struct.Struct(
    "=IHHII BBH" + " HH HHH2x HHH2x HH16s HHH2x" + " HH HH16s HHH2x" + " HHI" * 4 + " HHH2x"
)
_DEST_REQUEST_LEN = _DEST_OF_ADDRESS_SERVICE.size  # 140
_SERVICE_NEST_LEN, _DEST_NEST_LEN = 4 + 8 + 8 + 20 + 8, 4 + 20 + 8 + 4 * 8 + 8
_SERVICE_NEST, _DEST_NEST = IPVS_CMD_ATTR_SERVICE | NLA_F_NESTED, IPVS_CMD_ATTR_DEST | NLA_F_NESTED
_SVC_AF, _SVC_PROTOCOL, _SVC_ADDR, _SVC_PORT = (
    int(a) for a in (SvcAttr.AF, SvcAttr.PROTOCOL, SvcAttr.ADDR, SvcAttr.PORT)
)
_DEST_ADDR, _DEST_PORT, _DEST_FWD, _DEST_WEIGHT = (
    int(a) for a in (DestAttr.ADDR, DestAttr.PORT, DestAttr.FWD_METHOD, DestAttr.WEIGHT)
)
_DEST_U, _DEST_L, _DEST_AF = (int(a) for a in (DestAttr.U_THRESH, DestAttr.L_THRESH, DestAttr.ADDR_FAMILY))
_AF_INET, _AF_INET6 = int(Family.INET), int(Family.INET6)


def destination_request(family_id: int, command: Command, dest: Destination) -> bytes:
    """NEW_DEST or SET_DEST: the service's name and the destination with every field.

    The destination's address family is sent, so the kernel refuses a NAT or
    DSR destination of the other family (EINVAL) instead of reading an IPv4
    address as an IPv6 one.
    """
    key = dest.key
    service = key.service
    if service.address is not None and not service.fwmark:
        address = key.address
        return _DEST_OF_ADDRESS_SERVICE.pack(
            _DEST_REQUEST_LEN, family_id, 0, 0, 0, command, IPVS_GENL_VERSION, 0,
            _SERVICE_NEST_LEN, _SERVICE_NEST,
            6, _SVC_AF, service.family,
            6, _SVC_PROTOCOL, service.protocol,
            20, _SVC_ADDR, service.address.packed,
            6, _SVC_PORT, htons(service.port),
            _DEST_NEST_LEN, _DEST_NEST,
            20, _DEST_ADDR, address.packed,
            6, _DEST_PORT, htons(key.port),
            8, _DEST_FWD, dest.forwarding,
            8, _DEST_WEIGHT, dest.weight,
            8, _DEST_U, dest.upper_threshold,
            8, _DEST_L, dest.lower_threshold,
            6, _DEST_AF, _AF_INET if address.version == 4 else _AF_INET6,
        )  # fmt: skip
    inner = (
        _dest_id(dest.key)
        + _NLA_U32.pack(8, DestAttr.FWD_METHOD, dest.forwarding)
        + _NLA_U32.pack(8, DestAttr.WEIGHT, dest.weight)
        + _NLA_U32.pack(8, DestAttr.U_THRESH, dest.upper_threshold)
        + _NLA_U32.pack(8, DestAttr.L_THRESH, dest.lower_threshold)
        + _NLA_U16.pack(6, DestAttr.ADDR_FAMILY, Family.of(dest.key.address))
    )
    service = _nested(IPVS_CMD_ATTR_SERVICE, _service_id(dest.key.service))
    return _request(family_id, command, service + _nested(IPVS_CMD_ATTR_DEST, inner))


def destination_key_request(family_id: int, command: Command, key: DestinationKey) -> bytes:
    """DEL_DEST: the service's name and the destination's address and port."""
    inner = _dest_id(key) + _NLA_U16.pack(6, DestAttr.ADDR_FAMILY, Family.of(key.address))
    service = _nested(IPVS_CMD_ATTR_SERVICE, _service_id(key.service))
    return _request(family_id, command, service + _nested(IPVS_CMD_ATTR_DEST, inner))


def dump_services_request(family_id: int) -> bytes:
    """GET_SERVICE (send with NLM_F_DUMP): every service of this network namespace."""
    return _request(family_id, Command.GET_SERVICE, b"")


def dump_destinations_request(family_id: int, key: ServiceKey) -> bytes:
    """GET_DEST (send with NLM_F_DUMP): every destination of one service."""
    return service_key_request(family_id, Command.GET_DEST, key)


def family_request(name: str) -> bytes:
    """CTRL_CMD_GETFAMILY: the id of generic netlink family `name`."""
    body = _string(CTRL_ATTR_FAMILY_NAME, name)
    return _message(GENL_ID_CTRL, CTRL_CMD_GETFAMILY, 1, body) + body


# NLMSG_NOOP: sent last in a batch with NLM_F_ACK, its acknowledgement says the kernel read the batch.
NOOP = _NLMSGHDR.pack(NLMSG_HDRLEN, NLMSG_NOOP, 0, 0, 0)


def stamp(buffer: bytearray, offset: int, flags: int, seq: int) -> None:
    """Set the netlink flags and sequence number of the request at `offset` of `buffer`."""
    _STAMP.pack_into(buffer, offset + 6, flags, seq)


# --- answers -----------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Message:
    """One netlink message of a received datagram; `payload` follows the 16-byte netlink header."""

    type: int
    flags: int
    seq: int
    payload: memoryview


def messages(data: bytes | memoryview) -> Iterator[Message]:
    """The netlink messages in one received datagram."""
    view = memoryview(data)
    offset = 0
    while offset + NLMSG_HDRLEN <= len(view):
        length, msg_type, flags, seq, _ = _NLMSGHDR.unpack_from(view, offset)
        if length < NLMSG_HDRLEN or offset + length > len(view):
            raise ValueError(f"truncated netlink message at byte {offset} (length {length}, {len(view)} received)")
        yield Message(msg_type, flags, seq, view[offset + NLMSG_HDRLEN : offset + length])
        offset += (length + 3) & ~3


@dataclass(frozen=True, slots=True)
class Error:
    """An NLMSG_ERROR: `code` is a positive errno (0 is an acknowledgement); `detail` the kernel's extended ack."""

    code: int
    detail: str = ""


def is_ack(data: bytes | bytearray | memoryview, count: int, seq: int) -> bool:
    """Whether the first `count` bytes of `data` are one acknowledgement of request `seq` and nothing else.

    What a batch that nothing refused gets back: checked in place, with no Message made and no bytes copied.
    """
    if count < _ACK.size:
        return False
    length, msg_type, _, answered, _, error = _ACK.unpack_from(data, 0)
    return msg_type == NLMSG_ERROR and answered == seq and error == 0 and count <= (length + 3) & ~3


def decode_error(message: Message) -> Error:
    payload = message.payload
    (error,) = _I32.unpack_from(payload, 0)
    detail = ""
    if message.flags & NLM_F_ACK_TLVS:
        if message.flags & NLM_F_CAPPED:
            echoed = NLMSG_HDRLEN
        else:
            (echoed,) = _U32.unpack_from(payload, 4)
        tlvs = attributes(payload, 4 + ((echoed + 3) & ~3), len(payload))
        if NLMSGERR_ATTR_MSG in tlvs:
            detail = asciiz(payload, *tlvs[NLMSGERR_ATTR_MSG])
    return Error(-error, detail)


def decode_done(message: Message) -> int:
    """The errno an NLMSG_DONE ends a dump with (0: complete)."""
    if len(message.payload) < 4:
        return 0
    return -_I32.unpack_from(message.payload, 0)[0]


def decode_family_id(message: Message) -> int:
    attrs = attributes(message.payload, GENL_HDRLEN, len(message.payload))
    if CTRL_ATTR_FAMILY_ID not in attrs:
        raise ValueError("the generic netlink controller answered without a family id")
    return _U16.unpack_from(message.payload, attrs[CTRL_ATTR_FAMILY_ID][0])[0]


Span = tuple[int, int]  # (offset, length) of an attribute's payload


def attributes(buf: memoryview, start: int, end: int) -> dict[int, Span]:
    """The attributes between `start` and `end` of `buf`, by type (the nested and byte-order flags dropped)."""
    found: dict[int, Span] = {}
    offset = start
    while offset + 4 <= end:
        length, attr_type = _NLA.unpack_from(buf, offset)
        if length < 4 or offset + length > end:
            break
        found[attr_type & NLA_TYPE_MASK] = (offset + 4, length - 4)
        offset += (length + 3) & ~3
    return found


def asciiz(buf: memoryview, offset: int, length: int) -> str:
    """A string attribute, with or without its terminating NUL."""
    return bytes(buf[offset : offset + length]).split(b"\0", 1)[0].decode("ascii", "replace")
