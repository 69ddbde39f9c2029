"""IPVS netlink bytes, golden: Seesaw's own vectors (ipvs/ipvs_test.go), hand-assembled ones, and pyroute2 as a
second, independent codec (it encodes and decodes offline)."""

from __future__ import annotations

import errno
import ipaddress
import struct

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pyroute2.netlink.generic.ipvs import ipvsmsg

from seesaw.ncc.kernel import ipvs_answers as answers
from seesaw.ncc.kernel import ipvs_codec as codec
from seesaw.ncc.kernel.ipvs_codec import Command
from seesaw.ncc.model import (
    FLAG_ONEPACKET,
    FLAG_PERSISTENT,
    FLAG_SCHED1,
    FLAG_SCHED2,
    Destination,
    DestinationKey,
    Family,
    Forwarding,
    Protocol,
    Service,
    ServiceKey,
    Stats,
)

FAMILY = 25  # the generic netlink family id Seesaw's vectors use (any id the kernel hands out works)


def ip(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    return ipaddress.ip_address(text)


def hexbytes(*chunks: str) -> bytes:
    return bytes.fromhex("".join(chunks).replace(" ", ""))


# --- Seesaw's vectors (ipvs/ipvs_test.go) ------------------------------------------------------------------------

# nlmIPVSAddService: testIPVSService marshalled as command 1 of family 25
GO_ADD_SERVICE = bytes(
    [
        0x68, 0x00, 0x00, 0x00, 0x19, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x01, 0x01, 0x00, 0x00, 0x54, 0x00, 0x01, 0x80, 0x06, 0x00, 0x01, 0x00, 0x02, 0x00, 0x00, 0x00,
        0x06, 0x00, 0x02, 0x00, 0x06, 0x00, 0x00, 0x00, 0x14, 0x00, 0x03, 0x00, 0x01, 0x01, 0x01, 0x01,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x06, 0x00, 0x04, 0x00,
        0x50, 0x00, 0x00, 0x00, 0x08, 0x00, 0x06, 0x00, 0x77, 0x6c, 0x63, 0x00, 0x0c, 0x00, 0x07, 0x00,
        0xf4, 0xf3, 0xf2, 0xf1, 0xff, 0xff, 0xff, 0xff, 0x08, 0x00, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x08, 0x00, 0x09, 0x00, 0xff, 0xff, 0xff, 0xff,
    ]
)  # fmt: skip

# nlmIPVSService: a kernel answer (old libnl: no NLA_F_NESTED, scheduler without its NUL) with stats
GO_SERVICE_ANSWER = bytes(
    [
        0xc4, 0x00, 0x00, 0x00, 0x16, 0x00, 0x02, 0x00, 0xb0, 0xb3, 0xc8, 0x55, 0x79, 0x02, 0x00, 0x00,
        0x01, 0x01, 0x00, 0x00, 0xb0, 0x00, 0x01, 0x00, 0x06, 0x00, 0x01, 0x00, 0x02, 0x00, 0x00, 0x00,
        0x06, 0x00, 0x02, 0x00, 0x06, 0x00, 0x00, 0x00, 0x14, 0x00, 0x03, 0x00, 0x01, 0x01, 0x01, 0x01,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x06, 0x00, 0x04, 0x00,
        0x50, 0x00, 0x00, 0x00, 0x07, 0x00, 0x06, 0x00, 0x77, 0x6c, 0x63, 0x00, 0x0c, 0x00, 0x07, 0x00,
        0xf4, 0xf3, 0xf2, 0xf1, 0xff, 0xff, 0xff, 0xff, 0x08, 0x00, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x08, 0x00, 0x09, 0x00, 0xff, 0xff, 0xff, 0xff, 0x5c, 0x00, 0x0a, 0x00, 0x08, 0x00, 0x01, 0x00,
        0x03, 0x00, 0x00, 0x00, 0x08, 0x00, 0x02, 0x00, 0x0c, 0x00, 0x00, 0x00, 0x08, 0x00, 0x03, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x0c, 0x00, 0x04, 0x00, 0x1a, 0x04, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x0c, 0x00, 0x05, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x08, 0x00, 0x06, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x08, 0x00, 0x07, 0x00, 0x01, 0x00, 0x00, 0x00, 0x08, 0x00, 0x08, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x08, 0x00, 0x09, 0x00, 0x54, 0x00, 0x00, 0x00, 0x08, 0x00, 0x0a, 0x00,
        0x00, 0x00, 0x00, 0x00,
    ]
)  # fmt: skip

# nlmIPVSAddDestination: testIPVSDestination; Seesaw sends attributes 1-9, the first six are the request's
GO_ADD_DESTINATION = bytes(
    [
        0x6c, 0x00, 0x00, 0x00, 0x19, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x01, 0x01, 0x00, 0x00, 0x58, 0x00, 0x02, 0x80, 0x14, 0x00, 0x01, 0x00, 0x20, 0x02, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xca, 0xfe, 0x06, 0x00, 0x02, 0x00,
        0x00, 0x35, 0x00, 0x00, 0x08, 0x00, 0x03, 0x00, 0xf4, 0xf3, 0xf2, 0xf1, 0x08, 0x00, 0x04, 0x00,
        0x01, 0x00, 0x00, 0x00, 0x08, 0x00, 0x05, 0x00, 0xd0, 0x07, 0x00, 0x00, 0x08, 0x00, 0x06, 0x00,
        0xe8, 0x03, 0x00, 0x00, 0x08, 0x00, 0x07, 0x00, 0x4e, 0x61, 0xbc, 0x00, 0x08, 0x00, 0x08, 0x00,
        0xb1, 0x7f, 0x39, 0x05, 0x08, 0x00, 0x09, 0x00, 0xd2, 0x04, 0x00, 0x00,
    ]
)  # fmt: skip

# nlmIPVSDestination: the kernel's answer for it, with stats
GO_DESTINATION_ANSWER = bytes(
    [
        0xc8, 0x00, 0x00, 0x00, 0x19, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x01, 0x01, 0x00, 0x00, 0xb4, 0x00, 0x02, 0x00, 0x14, 0x00, 0x01, 0x00, 0x20, 0x02, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xca, 0xfe, 0x06, 0x00, 0x02, 0x00,
        0x00, 0x35, 0x00, 0x00, 0x08, 0x00, 0x03, 0x00, 0xf4, 0xf3, 0xf2, 0xf1, 0x08, 0x00, 0x04, 0x00,
        0x01, 0x00, 0x00, 0x00, 0x08, 0x00, 0x05, 0x00, 0xd0, 0x07, 0x00, 0x00, 0x08, 0x00, 0x06, 0x00,
        0xe8, 0x03, 0x00, 0x00, 0x08, 0x00, 0x07, 0x00, 0x4e, 0x61, 0xbc, 0x00, 0x08, 0x00, 0x08, 0x00,
        0xb1, 0x7f, 0x39, 0x05, 0x08, 0x00, 0x09, 0x00, 0xd2, 0x04, 0x00, 0x00, 0x5c, 0x00, 0x0a, 0x00,
        0x08, 0x00, 0x01, 0x00, 0x03, 0x00, 0x00, 0x00, 0x08, 0x00, 0x02, 0x00, 0x0c, 0x00, 0x00, 0x00,
        0x08, 0x00, 0x03, 0x00, 0x00, 0x00, 0x00, 0x00, 0x0c, 0x00, 0x04, 0x00, 0x1a, 0x04, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x0c, 0x00, 0x05, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x08, 0x00, 0x06, 0x00, 0x00, 0x00, 0x00, 0x00, 0x08, 0x00, 0x07, 0x00, 0x01, 0x00, 0x00, 0x00,
        0x08, 0x00, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x08, 0x00, 0x09, 0x00, 0x54, 0x00, 0x00, 0x00,
        0x08, 0x00, 0x0a, 0x00, 0x00, 0x00, 0x00, 0x00,
    ]
)  # fmt: skip

# testIPVSStats, as Stats (connection counts are the destination's own attributes)
GO_STATS = dict(connections=3, packets_in=12, bytes_in=0x41A, pps_in=1, bps_in=0x54)


def only(message_bytes: bytes) -> codec.Message:
    [message] = codec.messages(message_bytes)
    return message


def test_service_request_is_seesaws_add_service_vector():
    key = ServiceKey.ip(Protocol.TCP, ip("1.1.1.1"), 0x5000)
    service = Service(key, "wlc", flags=0xF1F2F3F4, timeout=0)
    assert codec.service_request(FAMILY, Command.NEW_SERVICE, service) == GO_ADD_SERVICE


def test_destination_request_carries_seesaws_destination_attributes_then_the_family():
    key = DestinationKey(ServiceKey.ip(Protocol.UDP, ip("2002::1"), 53), ip("2002::cafe"), 53)
    dest = Destination(key, forwarding=0xF1F2F3F4, weight=1, upper_threshold=2000, lower_threshold=1000)  # type: ignore[arg-type]
    raw = codec.destination_request(FAMILY, Command.NEW_DEST, dest)
    # Seesaw's nested DEST attribute starts at byte 20; its attributes 1-6 take 60 bytes after the 4-byte header
    seesaw_dest_attrs = GO_ADD_DESTINATION[24 : 24 + 60]
    ours = raw[raw.index(b"\x02\x80") + 2 :]  # after our nested DEST header
    assert ours[:60] == seesaw_dest_attrs
    assert ours[60:] == hexbytes("0600 0b00 0a00 0000")  # IPVS_DEST_ATTR_ADDR_FAMILY = AF_INET6


def test_decodes_seesaws_service_answer():
    entry = answers.decode_service(only(GO_SERVICE_ANSWER))
    assert entry.service == Service(ServiceKey.ip(Protocol.TCP, ip("1.1.1.1"), 0x5000), "wlc", 0xF1F2F3F4, 0)
    assert entry.stats == Stats(**GO_STATS)


def test_decodes_seesaws_destination_answer_with_the_raw_forwarding_attribute():
    service = ServiceKey.ip(Protocol.UDP, ip("2002::1"), 53)
    entry = answers.decode_destination(only(GO_DESTINATION_ANSWER), service)
    # forwarding is the low 3 bits of the attribute (IP_VS_CONN_F_FWD_MASK): 0xf1f2f3f4 & 7 = 4
    assert entry.destination == Destination(
        DestinationKey(service, ip("2002::cafe"), 53), Forwarding.BYPASS, 1, 2000, 1000
    )
    assert entry.stats == Stats(
        **GO_STATS, active_connections=12345678, inactive_connections=87654321, persistent_connections=1234
    )


# --- hand-assembled vectors ----------------------------------------------------------------------------------------

HEADER = "{len} 1900 0000 00000000 00000000"  # length, family 25, no flags, seq 0, pid 0


def header(length: int, command: int) -> str:
    return HEADER.format(len=struct.pack("=I", length).hex()) + f"{command:02x}01 0000"


CASES = [
    pytest.param(
        codec.service_request(
            FAMILY, Command.NEW_SERVICE, Service(ServiceKey.mark(Family.INET6, 6), "wrr", flags=0, timeout=0)
        ),
        hexbytes(
            header(76, 1),
            "3800 0180",  # nested SERVICE
            "0600 0100 0a00 0000",  # af AF_INET6
            "0800 0500 06000000",  # fwmark 6 (no protocol, address or port)
            "0800 0600 77727200",  # "wrr\0"
            "0c00 0700 00000000 ffffffff",  # flags 0, mask all
            "0800 0800 00000000",  # timeout 0
            "0800 0900 80000000",  # netmask 128 (IPv6)
        ),
        id="fwmark-ipv6",
    ),
    pytest.param(
        codec.service_request(
            FAMILY,
            Command.SET_SERVICE,
            Service(
                ServiceKey.ip(Protocol.UDP, ip("2001:db8::1"), 53),
                "mh",
                flags=FLAG_PERSISTENT | FLAG_SCHED1 | FLAG_SCHED2,
                timeout=300,
            ),
        ),
        hexbytes(
            header(104, 2),
            "5400 0180",
            "0600 0100 0a00 0000",  # af AF_INET6
            "0600 0200 1100 0000",  # protocol UDP
            "1400 0300 20010db8 00000000 00000000 00000001",  # address
            "0600 0400 0035 0000",  # port 53, network order
            "0700 0600 6d6800 00",  # "mh\0" + one byte of padding
            "0c00 0700 19000000 ffffffff",  # persistent | mh-fallback | mh-port
            "0800 0800 2c010000",  # persistence timeout 300
            "0800 0900 80000000",
        ),
        id="ipv6-udp-mh-persistent",
    ),
    pytest.param(
        codec.service_request(
            FAMILY,
            Command.NEW_SERVICE,
            Service(ServiceKey.ip(Protocol.UDP, ip("192.0.2.53"), 53), "rr", flags=FLAG_ONEPACKET, timeout=0),
        ),
        hexbytes(
            header(104, 1),
            "5400 0180",
            "0600 0100 0200 0000",
            "0600 0200 1100 0000",
            "1400 0300 c0000235 00000000 00000000 00000000",  # IPv4 in the first 4 of 16 bytes
            "0600 0400 0035 0000",
            "0700 0600 727200 00",
            "0c00 0700 04000000 ffffffff",  # one-packet
            "0800 0800 00000000",
            "0800 0900 ffffffff",  # netmask /32
        ),
        id="ipv4-udp-ops",
    ),
    pytest.param(
        codec.service_key_request(FAMILY, Command.DEL_SERVICE, ServiceKey.ip(Protocol.TCP, ip("192.0.2.1"), 443)),
        hexbytes(
            header(68, 3),
            "3000 0180",
            "0600 0100 0200 0000",
            "0600 0200 0600 0000",
            "1400 0300 c0000201 00000000 00000000 00000000",
            "0600 0400 01bb 0000",  # 443
        ),
        id="delete-service",
    ),
    pytest.param(
        codec.destination_request(
            FAMILY,
            Command.NEW_DEST,
            Destination(
                DestinationKey(ServiceKey.ip(Protocol.TCP, ip("192.0.2.1"), 80), ip("10.0.0.1"), 8080),
                Forwarding.MASQ,
                weight=3,
                upper_threshold=100,
                lower_threshold=10,
            ),
        ),
        hexbytes(
            header(140, 5),
            "3000 0180",  # nested SERVICE: its name only
            "0600 0100 0200 0000",
            "0600 0200 0600 0000",
            "1400 0300 c0000201 00000000 00000000 00000000",
            "0600 0400 0050 0000",
            "4800 0280",  # nested DEST
            "1400 0100 0a000001 00000000 00000000 00000000",
            "0600 0200 1f90 0000",  # port 8080
            "0800 0300 00000000",  # forwarding masq (NAT)
            "0800 0400 03000000",  # weight 3
            "0800 0500 64000000",  # upper threshold 100
            "0800 0600 0a000000",  # lower threshold 10
            "0600 0b00 0200 0000",  # address family AF_INET
        ),
        id="add-nat-destination",
    ),
    pytest.param(
        codec.destination_request(
            FAMILY,
            Command.SET_DEST,
            Destination(
                DestinationKey(ServiceKey.ip(Protocol.TCP, ip("192.0.2.1"), 80), ip("10.0.0.2"), 80),
                Forwarding.TUNNEL,
                weight=0,
            ),
        ),
        hexbytes(
            header(140, 6),
            "3000 0180",
            "0600 0100 0200 0000",
            "0600 0200 0600 0000",
            "1400 0300 c0000201 00000000 00000000 00000000",
            "0600 0400 0050 0000",
            "4800 0280",
            "1400 0100 0a000002 00000000 00000000 00000000",
            "0600 0200 0050 0000",
            "0800 0300 02000000",  # tunnel
            "0800 0400 00000000",  # weight 0: drained
            "0800 0500 00000000",
            "0800 0600 00000000",
            "0600 0b00 0200 0000",
        ),
        id="update-tunnel-destination",
    ),
    pytest.param(
        codec.destination_request(
            FAMILY,
            Command.SET_DEST,
            Destination(
                DestinationKey(ServiceKey.ip(Protocol.UDP, ip("2001:db8::53"), 65535), ip("2001:db8:1::1"), 258),
                Forwarding.ROUTE,
                weight=2**32 - 1,
            ),
        ),
        hexbytes(
            header(140, 6),
            "3000 0180",
            "0600 0100 0a00 0000",  # AF_INET6
            "0600 0200 1100 0000",  # UDP
            "1400 0300 20010db8 00000000 00000000 00000053",
            "0600 0400 ffff 0000",  # port 65535
            "4800 0280",
            "1400 0100 20010db8 00010000 00000000 00000001",
            "0600 0200 0102 0000",  # port 258: big-endian
            "0800 0300 03000000",  # route (DSR)
            "0800 0400 ffffffff",
            "0800 0500 00000000",
            "0800 0600 00000000",
            "0600 0b00 0a00 0000",
        ),
        id="update-ipv6-destination",
    ),
    pytest.param(
        codec.destination_request(
            FAMILY,
            Command.SET_DEST,
            Destination(DestinationKey(ServiceKey.mark(Family.INET, 5), ip("10.0.0.5"), 0), Forwarding.ROUTE, 4),
        ),
        hexbytes(
            header(112, 6),
            "1400 0180",
            "0600 0100 0200 0000",
            "0800 0500 05000000",  # a fwmark service is named by (af, fwmark)
            "4800 0280",
            "1400 0100 0a000005 00000000 00000000 00000000",
            "0600 0200 0000 0000",
            "0800 0300 03000000",
            "0800 0400 04000000",
            "0800 0500 00000000",
            "0800 0600 00000000",
            "0600 0b00 0200 0000",
        ),
        id="update-destination-of-fwmark-service",
    ),
    pytest.param(
        codec.destination_key_request(
            FAMILY,
            Command.DEL_DEST,
            DestinationKey(ServiceKey.mark(Family.INET6, 7), ip("2001:db8::10"), 0),
        ),
        hexbytes(
            header(80, 7),
            "1400 0180",
            "0600 0100 0a00 0000",
            "0800 0500 07000000",  # fwmark 7
            "2800 0280",
            "1400 0100 20010db8 00000000 00000000 00000010",
            "0600 0200 0000 0000",
            "0600 0b00 0a00 0000",
        ),
        id="delete-destination-of-fwmark-service",
    ),
    pytest.param(
        codec.dump_destinations_request(FAMILY, ServiceKey.mark(Family.INET, 5)),
        hexbytes(header(40, 8), "1400 0180", "0600 0100 0200 0000", "0800 0500 05000000"),
        id="dump-destinations",
    ),
    pytest.param(codec.dump_services_request(FAMILY), hexbytes(header(20, 4)), id="dump-services"),
    pytest.param(
        codec.family_request("IPVS"),
        hexbytes("20000000 1000 0000 00000000 00000000", "0301 0000", "0900 0200 49505653 00 000000"),
        id="ctrl-getfamily",
    ),
]


@pytest.mark.parametrize(("ours", "golden"), CASES)
def test_request_bytes(ours, golden):
    assert ours.hex(" ", 4) == golden.hex(" ", 4)


def test_stamp_sets_flags_and_sequence_only():
    raw = bytearray(codec.dump_services_request(FAMILY))
    codec.stamp(raw, 0, codec.NLM_F_REQUEST | codec.NLM_F_DUMP, 0x01020304)
    assert bytes(raw) == hexbytes("14000000 1900 0103 04030201 00000000 0401 0000")


def test_scheduler_names_the_kernel_cannot_take_are_refused_before_sending():
    key = ServiceKey.ip(Protocol.TCP, ip("192.0.2.1"), 80)
    for name in ("", "x" * 16, "wr\0r", "wrré"):
        with pytest.raises(ValueError, match="scheduler name"):
            codec.service_request(FAMILY, Command.NEW_SERVICE, Service(key, name))


# --- pyroute2 as a second codec ------------------------------------------------------------------------------------


def pyroute2_decode(raw: bytes) -> ipvsmsg:
    message = ipvsmsg(raw)
    message.decode()
    return message


SERVICES = [
    Service(ServiceKey.ip(Protocol.TCP, ip("192.0.2.1"), 80), "wlc"),
    Service(ServiceKey.ip(Protocol.UDP, ip("2001:db8::53"), 53), "sh", FLAG_SCHED1 | FLAG_SCHED2, 0),
    Service(ServiceKey.ip(Protocol.TCP, ip("198.51.100.7"), 443), "wrr", FLAG_PERSISTENT, 3600),
    Service(ServiceKey.mark(Family.INET, 4), "lc"),
    Service(ServiceKey.mark(Family.INET6, 6), "rr", FLAG_ONEPACKET),
]


@pytest.mark.parametrize("service", SERVICES, ids=str)
def test_pyroute2_reads_our_service_requests(service):
    message = pyroute2_decode(codec.service_request(FAMILY, Command.NEW_SERVICE, service))
    assert message["cmd"] == Command.NEW_SERVICE and message["version"] == 1
    attrs = message.get("IPVS_CMD_ATTR_SERVICE")
    key = service.key
    assert attrs.get("IPVS_SVC_ATTR_AF") == key.family
    if key.fwmark:
        assert attrs.get("IPVS_SVC_ATTR_FWMARK") == key.fwmark
        assert attrs.get("IPVS_SVC_ATTR_ADDR") is None
    else:
        assert attrs.get("IPVS_SVC_ATTR_PROTOCOL") == key.protocol
        assert attrs.get("IPVS_SVC_ATTR_ADDR") == str(key.address)
        assert attrs.get("IPVS_SVC_ATTR_PORT") == key.port
    assert attrs.get("IPVS_SVC_ATTR_SCHED_NAME") == service.scheduler
    assert attrs.get("IPVS_SVC_ATTR_FLAGS") == {"flags": service.flags, "mask": 0xFFFFFFFF}
    assert attrs.get("IPVS_SVC_ATTR_TIMEOUT") == service.timeout


addresses = st.one_of(st.ip_addresses(v=4), st.ip_addresses(v=6))
u32 = st.integers(0, 2**32 - 1)


@given(
    addresses,
    st.sampled_from([Protocol.TCP, Protocol.UDP]),
    st.integers(0, 65535),
    addresses,
    st.integers(0, 65535),
    st.sampled_from(list(Forwarding)),
    u32,
    u32,
    u32,
)
def test_any_destination_of_an_address_service_reads_back_as_sent(
    vip, protocol, vport, address, port, forwarding, weight, upper, lower
):
    key = DestinationKey(ServiceKey.ip(protocol, vip, vport), address, port)
    dest = Destination(key, forwarding, weight, upper, lower)
    raw = codec.destination_request(FAMILY, Command.SET_DEST, dest)
    message = pyroute2_decode(raw)
    assert message["header"]["length"] == len(raw) and message["cmd"] == Command.SET_DEST
    service, attrs = message.get("IPVS_CMD_ATTR_SERVICE"), message.get("IPVS_CMD_ATTR_DEST")
    assert (service.get("IPVS_SVC_ATTR_AF"), service.get("IPVS_SVC_ATTR_PROTOCOL")) == (Family.of(vip), protocol)
    assert (ip(service.get("IPVS_SVC_ATTR_ADDR")), service.get("IPVS_SVC_ATTR_PORT")) == (vip, vport)
    assert (attrs.get("IPVS_DEST_ATTR_ADDR_FAMILY"), attrs.get("IPVS_DEST_ATTR_PORT")) == (Family.of(address), port)
    assert ip(attrs.get("IPVS_DEST_ATTR_ADDR")) == address
    assert attrs.get("IPVS_DEST_ATTR_FWD_METHOD") == forwarding and attrs.get("IPVS_DEST_ATTR_WEIGHT") == weight
    assert (attrs.get("IPVS_DEST_ATTR_U_THRESH"), attrs.get("IPVS_DEST_ATTR_L_THRESH")) == (upper, lower)


DESTINATIONS = [
    Destination(DestinationKey(SERVICES[0].key, ip("10.0.0.1"), 8080), Forwarding.MASQ, 3, 100, 10),
    Destination(DestinationKey(SERVICES[1].key, ip("2001:db8::1"), 53), Forwarding.ROUTE, 1),
    Destination(DestinationKey(SERVICES[3].key, ip("10.0.0.9"), 0), Forwarding.TUNNEL, 2**31 - 1),
]


@pytest.mark.parametrize("dest", DESTINATIONS, ids=str)
def test_pyroute2_reads_our_destination_requests(dest):
    message = pyroute2_decode(codec.destination_request(FAMILY, Command.NEW_DEST, dest))
    attrs = message.get("IPVS_CMD_ATTR_DEST")
    assert attrs.get("IPVS_DEST_ATTR_ADDR_FAMILY") == Family.of(dest.key.address)
    assert attrs.get("IPVS_DEST_ATTR_PORT") == dest.key.port
    assert attrs.get("IPVS_DEST_ATTR_FWD_METHOD") == dest.forwarding
    assert attrs.get("IPVS_DEST_ATTR_WEIGHT") == dest.weight
    assert attrs.get("IPVS_DEST_ATTR_U_THRESH") == dest.upper_threshold
    assert attrs.get("IPVS_DEST_ATTR_L_THRESH") == dest.lower_threshold
    service = message.get("IPVS_CMD_ATTR_SERVICE")
    assert service.get("IPVS_SVC_ATTR_AF") == dest.key.service.family
    assert service.get("IPVS_SVC_ATTR_SCHED_NAME") is None, "a destination command names its service only"


def pyroute2_answer(command: int, attr: str, attrs: list) -> bytes:
    """A dump answer as the kernel sends it, encoded by pyroute2."""
    message = ipvsmsg()
    message["cmd"] = command
    message["version"] = 1
    message["header"]["type"] = FAMILY
    message["header"]["flags"] = codec.NLM_F_MULTI
    message["attrs"] = [(attr, {"attrs": attrs})]
    message.encode()
    return bytes(message.data)


def stats_attrs(base: int) -> list:
    names = ["CONNS", "INPKTS", "OUTPKTS", "INBYTES", "OUTBYTES", "CPS", "INPPS", "OUTPPS", "INBPS", "OUTBPS"]
    return [(f"IPVS_STATS_ATTR_{name}", base + i) for i, name in enumerate(names)]


def test_decodes_a_kernel_style_service_answer_preferring_stats64_and_dropping_the_hashed_flag():
    raw = pyroute2_answer(
        Command.NEW_SERVICE,
        "IPVS_CMD_ATTR_SERVICE",
        [
            ("IPVS_SVC_ATTR_AF", 2),
            ("IPVS_SVC_ATTR_PROTOCOL", 6),
            ("IPVS_SVC_ATTR_ADDR", "192.0.2.1"),
            ("IPVS_SVC_ATTR_PORT", 80),
            ("IPVS_SVC_ATTR_SCHED_NAME", "sh"),
            ("IPVS_SVC_ATTR_FLAGS", {"flags": 0x2 | 0x1 | 0x8 | 0x10, "mask": 0xFFFFFFFF}),
            ("IPVS_SVC_ATTR_TIMEOUT", 60),
            ("IPVS_SVC_ATTR_NETMASK", "255.255.255.255"),
            ("IPVS_SVC_ATTR_STATS", {"attrs": stats_attrs(1)}),
            ("IPVS_SVC_ATTR_STATS64", {"attrs": stats_attrs(2**33)}),
        ],
    )
    entry = answers.decode_service(only(raw))
    key = ServiceKey.ip(Protocol.TCP, ip("192.0.2.1"), 80)
    assert entry.service == Service(key, "sh", FLAG_PERSISTENT | FLAG_SCHED1 | FLAG_SCHED2, 60)
    assert entry.stats == Stats(*(2**33 + i for i in range(10)))


def test_decodes_a_fwmark_service_answer_and_falls_back_to_32_bit_stats():
    raw = pyroute2_answer(
        Command.NEW_SERVICE,
        "IPVS_CMD_ATTR_SERVICE",
        [
            ("IPVS_SVC_ATTR_AF", 10),
            ("IPVS_SVC_ATTR_FWMARK", 6),
            ("IPVS_SVC_ATTR_SCHED_NAME", "rr"),
            ("IPVS_SVC_ATTR_FLAGS", {"flags": 0x2, "mask": 0xFFFFFFFF}),
            ("IPVS_SVC_ATTR_TIMEOUT", 0),
            ("IPVS_SVC_ATTR_STATS", {"attrs": stats_attrs(7)}),
        ],
    )
    entry = answers.decode_service(only(raw))
    assert entry.service == Service(ServiceKey.mark(Family.INET6, 6), "rr", 0, 0)
    assert entry.stats == Stats(*(7 + i for i in range(10)))


@pytest.mark.parametrize("method", list(Forwarding))
def test_decodes_every_forwarding_method_from_the_raw_attribute(method):
    service = ServiceKey.ip(Protocol.TCP, ip("192.0.2.1"), 80)
    raw = pyroute2_answer(
        Command.NEW_DEST,
        "IPVS_CMD_ATTR_DEST",
        [
            ("IPVS_DEST_ATTR_ADDR", "10.0.0.1"),
            ("IPVS_DEST_ATTR_PORT", 8080),
            ("IPVS_DEST_ATTR_FWD_METHOD", int(method)),
            ("IPVS_DEST_ATTR_WEIGHT", 5),
            ("IPVS_DEST_ATTR_U_THRESH", 0),
            ("IPVS_DEST_ATTR_L_THRESH", 0),
            ("IPVS_DEST_ATTR_ACTIVE_CONNS", 4),
            ("IPVS_DEST_ATTR_INACT_CONNS", 2),
            ("IPVS_DEST_ATTR_PERSIST_CONNS", 1),
            ("IPVS_DEST_ATTR_ADDR_FAMILY", 2),
        ],
    )
    entry = answers.decode_destination(only(raw), service)
    assert entry.destination == Destination(DestinationKey(service, ip("10.0.0.1"), 8080), method, 5)
    assert entry.stats == Stats(active_connections=4, inactive_connections=2, persistent_connections=1)


def test_a_destination_of_the_other_family_is_read_with_its_own_family():
    service = ServiceKey.ip(Protocol.TCP, ip("2001:db8::1"), 80)
    raw = pyroute2_answer(
        Command.NEW_DEST,
        "IPVS_CMD_ATTR_DEST",
        [
            ("IPVS_DEST_ATTR_ADDR_FAMILY", 2),
            ("IPVS_DEST_ATTR_ADDR", "10.0.0.1"),
            ("IPVS_DEST_ATTR_PORT", 80),
            ("IPVS_DEST_ATTR_FWD_METHOD", 2),
        ],
    )
    assert answers.decode_destination(only(raw), service).destination.key.address == ip("10.0.0.1")


@pytest.mark.parametrize(
    ("attrs", "words"),
    [
        (
            [
                ("IPVS_SVC_ATTR_AF", 2),
                ("IPVS_SVC_ATTR_PROTOCOL", 132),
                ("IPVS_SVC_ATTR_ADDR", "192.0.2.1"),
                ("IPVS_SVC_ATTR_PORT", 9),
            ],
            "IP protocol 132",
        ),
        ([("IPVS_SVC_ATTR_AF", 7), ("IPVS_SVC_ATTR_FWMARK", 1)], "address family 7"),
    ],
)
def test_services_the_model_cannot_hold_are_unrepresentable(attrs, words):
    raw = pyroute2_answer(Command.NEW_SERVICE, "IPVS_CMD_ATTR_SERVICE", attrs)
    with pytest.raises(answers.Unrepresentable, match=words):
        answers.decode_service(only(raw))


# --- netlink framing -------------------------------------------------------------------------------------------------


def error_message(code: int, seq: int, flags: int = 0, tlvs: bytes = b"") -> bytes:
    echoed = struct.pack("=IHHII", 40, FAMILY, 5, seq, 0)  # the request's header (NETLINK_CAP_ACK)
    body = struct.pack("=i", -code) + echoed + tlvs
    return struct.pack("=IHHII", 16 + len(body), codec.NLMSG_ERROR, flags, seq, 4242) + body


def test_messages_splits_a_datagram_and_reads_errors_and_acknowledgements():
    text = b"Scheduler not found\0"
    tlv = struct.pack("=HH", 4 + len(text), codec.NLMSGERR_ATTR_MSG) + text
    data = (
        error_message(0, 7)
        + error_message(errno.ENOENT, 8, codec.NLM_F_CAPPED | codec.NLM_F_ACK_TLVS, tlv)
        + GO_SERVICE_ANSWER
    )
    found = list(codec.messages(data))
    assert [(m.type, m.seq) for m in found] == [(codec.NLMSG_ERROR, 7), (codec.NLMSG_ERROR, 8), (0x16, 0x55C8B3B0)]
    assert codec.decode_error(found[0]) == codec.Error(0)
    assert codec.decode_error(found[1]) == codec.Error(errno.ENOENT, "Scheduler not found")
    assert answers.decode_service(found[2]).service.scheduler == "wlc"


def test_is_ack_takes_one_acknowledgement_of_that_request_and_nothing_else():
    ack = error_message(0, 7)
    buffer = bytearray(ack) + bytearray(64)  # a receive buffer holds stale bytes past the datagram
    assert codec.is_ack(buffer, len(ack), 7)
    assert not codec.is_ack(buffer, len(ack), 8)  # another request's
    assert not codec.is_ack(error_message(errno.EEXIST, 7), len(ack), 7)  # a refusal
    two = error_message(errno.ENOENT, 6) + ack
    assert not codec.is_ack(two, len(two), 6)  # more follows: read every message
    assert not codec.is_ack(ack, 12, 7)  # shorter than an acknowledgement
    assert not codec.is_ack(GO_SERVICE_ANSWER, len(GO_SERVICE_ANSWER), 0x55C8B3B0)  # an answer, not an ack


def test_a_truncated_datagram_is_an_error_not_a_guess():
    with pytest.raises(ValueError, match="truncated"):
        list(codec.messages(GO_SERVICE_ANSWER[:-8]))


def test_done_carries_the_dumps_errno():
    done = struct.pack("=IHHIIi", 20, codec.NLMSG_DONE, codec.NLM_F_MULTI, 1, 0, -errno.EINTR)
    assert codec.decode_done(only(done)) == errno.EINTR


def test_family_id_from_the_controllers_answer():
    body = struct.pack("=BBH", 1, 2, 0) + struct.pack("=HH", 9, 2) + b"IPVS\0\0\0\0" + struct.pack("=HHH2x", 6, 1, 37)
    answer = struct.pack("=IHHII", 16 + len(body), codec.GENL_ID_CTRL, 0, 1, 0) + body
    assert codec.decode_family_id(only(answer)) == 37
